"""The exportProject mutation writes only below the operator's AGENTTRACE_EXPORT_URL."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.settings import Settings
from exports.errors import InvalidDestination
from exports.location import under_export_root
from graph.mutations.export_mutations import ExportMutationMixin
from resolvers.projects import ProjectData
from tests.exports.conftest import SOURCE_PROJECT

ROOT = "s3://exports-bucket/agenttrace"


@pytest.mark.parametrize(
    "name",
    [
        "../escape",
        "a/../../escape",
        "..",
        "/etc/passwd",
        "//host/share",
        "file:///etc/passwd",
        "s3://other-bucket/x",
        "memory://x",
        "C:\\temp",
        "a\\..\\b",
        "~/x",
        "a//b",
        ".hidden",
        "a/%2e%2e/b",
        "",
    ],
)
def test_names_outside_the_root_are_refused(name: str) -> None:
    with pytest.raises(InvalidDestination):
        under_export_root(ROOT, name)


def test_a_plain_relative_name_lands_under_the_root() -> None:
    assert under_export_root(ROOT + "/", "team-a/2026-01.v1") == ROOT + "/team-a/2026-01.v1"


def test_without_a_root_the_mutation_is_off() -> None:
    with pytest.raises(InvalidDestination, match="AGENTTRACE_EXPORT_URL"):
        under_export_root(None, "fine")


@strawberry.type
class _Query:
    ok: bool = True


class _Viewer:
    principal = "user:export-test"

    def can(self, *args: Any) -> bool:
        return True


class _Loader:
    def __init__(self, project: ProjectData | None) -> None:
        self._project = project

    async def load(self, key: uuid.UUID) -> ProjectData | None:
        return self._project


class _Context:
    """What the mutation uses of graph.context.Context: a caller who manages the project."""

    def __init__(
        self,
        export_url: str | None,
        engine: AsyncEngine | None = None,
        project: ProjectData | None = None,
    ) -> None:
        self.settings = Settings(export_url=export_url)
        self.engine = self.write_engine = engine
        self.loaders = SimpleNamespace(project_by_id=_Loader(project))

    async def viewer(self) -> _Viewer:
        return _Viewer()

    async def project_for(self, project: uuid.UUID, permission: Any) -> uuid.UUID:
        return project  # the caller manages it


_PROJECT = base64.b64encode(f"Project:{uuid.uuid4()}".encode()).decode()
_SCHEMA = strawberry.Schema(query=_Query, mutation=ExportMutationMixin)
_MUTATION = """
mutation ($id: ID!, $name: String!) {
  exportProject(projectId: $id, name: $name) { name spanCount }
}
"""


@pytest.mark.parametrize("name", ["../x", "/abs/path", "gs://elsewhere/x", "a/../../b"])
async def test_the_mutation_refuses_a_name_outside_the_root(name: str) -> None:
    result = await _SCHEMA.execute(
        _MUTATION, variable_values={"id": _PROJECT, "name": name}, context_value=_Context(ROOT)
    )
    assert result.errors is not None
    assert len(result.errors) == 1
    error = result.errors[0]
    assert "relative path of plain names" in error.message
    assert (error.extensions or {}).get("code") == "INVALID_ARGUMENT"


async def test_the_mutation_exports_under_the_root_and_audits_it(
    source: AsyncEngine, source_project: uuid.UUID, tmp_path: Path
) -> None:
    project = ProjectData(id=source_project, name=SOURCE_PROJECT, created_at=datetime.now(UTC))
    result = await _SCHEMA.execute(
        """
        mutation ($id: ID!) {
          exportProject(projectId: $id, name: "team/2026-01", format: PARQUET,
                        since: "2025-12-27T00:00:00Z") {
            name format traceCount spanCount annotationCount
          }
        }
        """,
        variable_values={"id": base64.b64encode(f"Project:{source_project}".encode()).decode()},
        context_value=_Context(f"file://{tmp_path}", source, project),
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    summary = result.data["exportProject"]
    assert summary["name"] == "team/2026-01"
    assert summary["format"] == "PARQUET"
    assert summary["spanCount"] > 100
    assert (tmp_path / "team" / "2026-01" / "manifest.json").exists()
    async with source.connect() as conn:
        audited = await conn.scalar(
            text(
                "SELECT details->>'name' FROM audit_log"
                " WHERE action = 'project.exported' AND project_id = :p"
            ),
            {"p": source_project},
        )
    assert audited == "team/2026-01"
