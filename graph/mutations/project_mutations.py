"""Creating, renaming and deleting projects."""

from __future__ import annotations

import uuid

import strawberry
from strawberry import relay

from access.permissions import Permission
from access.viewer import Viewer
from agenttrace.errors import Conflict, InvalidArgument, NotFound
from cache.keys import project_stats_key
from graph.context import Info
from graph.ids import node_id_of, parse_uuid
from graph.permissions import CanCreateProjects, CanDeleteProject, CanManageProject
from graph.types.ApiKey import ApiKey
from graph.types.CreateProjectPayload import CreateProjectPayload
from graph.types.Project import Project
from storage import audit
from storage.projects import (
    ALL_SCOPES,
    ProjectExists,
    create_project,
    delete_project,
    rename_project,
)

MAX_PROJECT_NAME_CHARS = 100


def _project_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidArgument("name must not be empty")
    if len(name) > MAX_PROJECT_NAME_CHARS:
        raise InvalidArgument(f"name is longer than {MAX_PROJECT_NAME_CHARS} characters")
    if "\x00" in name:
        raise InvalidArgument("name must not contain the NUL character")
    return name


async def _own_project(info: Info, id: relay.GlobalID, permission: Permission) -> uuid.UUID:
    project_id = parse_uuid(node_id_of(id, "Project", "id"), "project")
    return await info.context.project_for(project_id, permission)


def _organization_for(viewer: Viewer, organization_id: strawberry.ID | None) -> uuid.UUID:
    """The organisation a new project goes to: the one named, if the caller may create
    projects there, else the caller's only such organisation."""
    allowed = [
        org
        for org in viewer.organizations
        if viewer.can_in_organization(Permission.CREATE_PROJECTS, org)
    ]
    if organization_id is not None:
        wanted = parse_uuid(str(organization_id), "organization")
        if wanted not in allowed:
            raise NotFound("no such organization, or you may not create projects there")
        return wanted
    if len(allowed) == 1:
        return allowed[0]
    raise InvalidArgument("you may create projects in several organizations: pass organizationId")


async def _project(info: Info, project_id: uuid.UUID) -> Project:
    found = await info.context.loaders.project_by_id.load(project_id)
    if found is None:
        raise NotFound("no such project")
    return Project(data=found)


@strawberry.type
class ProjectMutationMixin:
    @strawberry.mutation(
        permission_classes=[CanCreateProjects],
        description="A new project in an organisation (default: the caller's only one) with"
        " its first API key (all scopes); the key's secret is in the answer, this once.",
    )
    async def create_project(
        self, info: Info, name: str, organization_id: strawberry.ID | None = None
    ) -> CreateProjectPayload:
        viewer = await info.context.viewer()
        organization = _organization_for(viewer, organization_id)
        try:
            created = await create_project(
                info.context.write_engine,
                _project_name(name),
                ALL_SCOPES,
                organization_id=organization,
                created_by=viewer.user_id,
            )
        except ProjectExists as exc:
            raise Conflict(f"{exc}; choose another name") from None
        except LookupError:
            raise NotFound("no such organization") from None
        await audit.record(
            info.context.write_engine,
            viewer.principal,
            "project.created",
            organization_id=organization,
            project_id=created.id,
            target=f"project:{created.id}",
            details={"name": created.name, "api_key": str(created.key_id)},
        )
        info.context.auth.forget_users()  # members of the organisation now see it
        info.context.refresh_loaders()
        key = await info.context.loaders.api_key_by_id.load((created.id, created.key_id))
        if key is None:  # deleted in the instant since; the caller may try again
            raise NotFound("the new project is gone")
        return CreateProjectPayload(
            project=await _project(info, created.id),
            api_key=ApiKey(data=key),
            secret=created.api_key,
        )

    @strawberry.mutation(
        permission_classes=[CanManageProject], description="Renames this API key's project."
    )
    async def rename_project(self, info: Info, id: relay.GlobalID, name: str) -> Project:
        project_id = await _own_project(info, id, Permission.MANAGE_PROJECT)
        try:
            renamed = await rename_project(
                info.context.write_engine, project_id, _project_name(name)
            )
        except ProjectExists as exc:
            raise Conflict(f"{exc}; choose another name") from None
        if not renamed:
            raise NotFound("no such project")
        await audit.record(
            info.context.write_engine,
            (await info.context.viewer()).principal,
            "project.renamed",
            project_id=project_id,
            target=f"project:{project_id}",
            details={"name": name.strip()},
        )
        info.context.refresh_loaders()
        return await _project(info, project_id)

    @strawberry.mutation(
        permission_classes=[CanDeleteProject],
        description="Deletes the project with all its traces, spans, annotations and API keys"
        " (the caller's own key too). Returns the deleted project's id.",
    )
    async def delete_project(self, info: Info, id: relay.GlobalID) -> relay.GlobalID:
        project_id = await _own_project(info, id, Permission.DELETE_PROJECT)
        viewer = await info.context.viewer()
        deleted = await delete_project(info.context.write_engine, project_id)
        if deleted is None:
            raise NotFound("no such project")
        await audit.record(
            info.context.write_engine,
            viewer.principal,
            "project.deleted",
            organization_id=deleted,
            project_id=project_id,
            target=f"project:{project_id}",
        )
        info.context.auth.forget_project(project_id)
        # Its cached traces need no invalidation: no key can read them any more.
        await info.context.cache.invalidate([project_stats_key(project_id)])
        info.context.refresh_loaders()
        return id
