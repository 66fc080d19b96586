"""Who may read through REST (an API key with the read scope, or a person whose role
allows reading), which project a request reads, and the engine REST reads with."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from access.authenticator import Authenticator
from access.permissions import Permission
from access.viewer import Viewer
from agenttrace.errors import InvalidArgument, NotFound

ProjectParam = Annotated[
    str | None,
    Query(
        description="The project to read (its id). Needed only by callers that can see"
        " several projects (people); an API key reads its own project."
    ),
]


async def reader(request: Request) -> tuple[AsyncEngine, Viewer]:
    """The query engine and the caller; Unauthorized or Forbidden if it may not read."""
    auth: Authenticator = request.app.state.auth
    engine: AsyncEngine = request.app.state.query_engine
    return engine, await auth.require(request, Permission.READ_TRACES)


def read_project(viewer: Viewer, project: str | None) -> uuid.UUID:
    """The project the request reads: the one asked for if the caller may read it (another
    project's id is answered as a missing one), else the caller's only project."""
    if project is not None:
        try:
            project_id = uuid.UUID(project)
        except ValueError:
            raise InvalidArgument(f"project {project!r} is not a project id") from None
        if not viewer.can(Permission.READ_TRACES, project_id):
            raise NotFound("no such project")
        return project_id
    readable = [p for p in viewer.project_ids if viewer.can(Permission.READ_TRACES, p)]
    if len(readable) == 1:
        return readable[0]
    if not readable:
        raise NotFound("no project to read")
    raise InvalidArgument("you can read several projects: say which with ?project=<id>")
