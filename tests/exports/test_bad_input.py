"""An import of a damaged, incomplete or foreign export, or one whose traces the project
already holds, is refused with a clear error and stores nothing."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.errors import UserError
from exports.errors import ExportNotFound, InvalidDestination, InvalidExport, TracesAlreadyExist
from exports.export import export_project
from exports.import_ import import_project
from tests.exports.conftest import SOURCE_PROJECT
from tests.exports.seeding import project_id


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exports") / "good"


@pytest.fixture
async def good_export(source: AsyncEngine, exported: Path) -> Path:
    if not (exported / "manifest.json").exists():
        await export_project(
            source, project=SOURCE_PROJECT, destination=str(exported), data_format="jsonl"
        )
    return exported


async def _stored(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM traces), (SELECT count(*) FROM spans),"
                    " (SELECT count(*) FROM annotations)"
                )
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _without_manifest(path: Path) -> None:
    (path / "manifest.json").unlink()


def _flip_a_byte(path: Path) -> None:
    spans = path / "spans.jsonl"
    data = bytearray(spans.read_bytes())
    data[len(data) // 2] ^= 0x01
    spans.write_bytes(bytes(data))


def _unknown_format(path: Path) -> None:
    manifest = orjson.loads((path / "manifest.json").read_bytes())
    (path / "manifest.json").write_bytes(orjson.dumps(manifest | {"data_format": "csv"}))


def _rewritten_spans(path: Path, change: Callable[[list[bytes]], list[bytes]]) -> None:
    """Changes the spans file's lines and the manifest's checksum to match: the manifest
    alone no longer tells that something is wrong."""
    spans = path / "spans.jsonl"
    spans.write_bytes(b"".join(change(spans.read_bytes().splitlines(keepends=True))))
    manifest = orjson.loads((path / "manifest.json").read_bytes())
    entry = manifest["files"]["spans"]
    entry["sha256"] = hashlib.sha256(spans.read_bytes()).hexdigest()
    entry["bytes"] = spans.stat().st_size
    (path / "manifest.json").write_bytes(orjson.dumps(manifest))


def _a_row_missing(path: Path) -> None:
    _rewritten_spans(path, lambda lines: lines[:-1])


def _a_column_missing(path: Path) -> None:
    def drop_name(lines: list[bytes]) -> list[bytes]:
        row = orjson.loads(lines[-1])
        del row["name"]
        return [*lines[:-1], orjson.dumps(row) + b"\n"]

    _rewritten_spans(path, drop_name)


def _a_bad_span_id(path: Path) -> None:
    def bad_id(lines: list[bytes]) -> list[bytes]:
        row = orjson.loads(lines[0])
        row["span_id"] = "not-hex"
        return [orjson.dumps(row) + b"\n", *lines[1:]]

    _rewritten_spans(path, bad_id)


@pytest.mark.parametrize(
    ("damage", "error", "message"),
    [
        (_without_manifest, ExportNotFound, "manifest.json is missing"),
        (_flip_a_byte, InvalidExport, "spans.jsonl does not match manifest.json"),
        (_unknown_format, InvalidExport, "unknown data format 'csv'"),
        (_a_row_missing, InvalidExport, "rows, the manifest says"),
        (_a_column_missing, InvalidExport, r"a row lacks the columns \['name'\]"),
        (_a_bad_span_id, InvalidExport, "column span_id: cannot read 'not-hex'"),
    ],
)
async def test_a_damaged_export_is_refused_and_stores_nothing(
    good_export: Path,
    empty: AsyncEngine,
    tmp_path: Path,
    damage: Callable[[Path], None],
    error: type[UserError],
    message: str,
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(good_export, copy)
    damage(copy)
    before = await _stored(empty)
    with pytest.raises(error, match=message):
        await import_project(empty, project="damaged", source=str(copy))
    assert await _stored(empty) == before
    assert await project_id(empty, "damaged") is None  # not even the project


async def test_traces_the_project_already_holds_are_refused_without_merge(
    good_export: Path, empty: AsyncEngine
) -> None:
    await import_project(empty, project="holder", source=str(good_export))
    before = await _stored(empty)
    with pytest.raises(TracesAlreadyExist, match="pass --merge"):
        await import_project(empty, project="holder", source=str(good_export))
    assert await _stored(empty) == before
    await import_project(empty, project="holder", source=str(good_export), merge=True)
    assert await _stored(empty) == before  # the upsert is idempotent


async def test_an_export_never_overwrites_another(source: AsyncEngine, good_export: Path) -> None:
    with pytest.raises(InvalidDestination, match="already holds an export"):
        await export_project(
            source, project=SOURCE_PROJECT, destination=str(good_export), data_format="parquet"
        )


async def test_an_unknown_project_or_scheme_is_named(source: AsyncEngine) -> None:
    with pytest.raises(ExportNotFound, match="no project named 'nope'"):
        await export_project(
            source, project="nope", destination=f"memory://{uuid.uuid4().hex}", data_format="jsonl"
        )
    with pytest.raises(InvalidDestination, match="cannot open"):
        await export_project(
            source, project=SOURCE_PROJECT, destination="nosuchscheme://x", data_format="jsonl"
        )
