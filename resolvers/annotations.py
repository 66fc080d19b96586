"""Annotations: scores, labels and comments on traces and spans. Checking the values,
writing them, and reading them back in batches. Every statement is scoped by project id."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.errors import InvalidArgument
from resolvers.reading import reading
from resolvers.records import TraceKey

MAX_NAME_CHARS = 200
MAX_LABEL_CHARS = 200
MAX_COMMENT_CHARS = 10_000

ANNOTATION_COLUMNS = """id, project_id, trace_id, span_id, name, score, label, comment, source,
    created_at, updated_at"""
_ALIASED_COLUMNS = ", ".join(f"a.{column.strip()}" for column in ANNOTATION_COLUMNS.split(","))

AnnotationKey = tuple[uuid.UUID, uuid.UUID]
"""(project id, annotation id)"""
AnnotationTarget = tuple[uuid.UUID, uuid.UUID, int | None]
"""(project id, trace id, span id); no span id means the trace itself."""


class AnnotationSource(StrEnum):
    HUMAN = "HUMAN"
    CODE = "CODE"
    LLM = "LLM"


@dataclass(frozen=True, slots=True)
class AnnotationValues:
    """What an annotation says: checked by ``annotation_values``."""

    name: str
    score: float | None
    label: str | None
    comment: str | None
    source: AnnotationSource


@dataclass(frozen=True, slots=True)
class AnnotationData:
    id: uuid.UUID
    project_id: uuid.UUID
    trace_id: uuid.UUID
    span_id: int | None
    name: str
    score: float | None
    label: str | None
    comment: str | None
    source: str
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> AnnotationKey:
        return (self.project_id, self.id)

    @property
    def target(self) -> AnnotationTarget:
        return (self.project_id, self.trace_id, self.span_id)

    @property
    def trace_key(self) -> TraceKey:
        return (self.project_id, self.trace_id)

    @classmethod
    def from_row(cls, row: RowMapping) -> AnnotationData:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


def _text(field: str, value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise InvalidArgument(f"{field} is longer than {limit:,} characters ({len(value):,})")
    if "\x00" in value:
        raise InvalidArgument(f"{field} must not contain the NUL character")
    return value


def annotation_values(
    name: str,
    score: float | None = None,
    label: str | None = None,
    comment: str | None = None,
    source: AnnotationSource = AnnotationSource.HUMAN,
) -> AnnotationValues:
    """The values, checked. Raises InvalidArgument naming the field at fault."""
    name = name.strip()
    if not name:
        raise InvalidArgument("name must not be empty")
    _text("name", name, MAX_NAME_CHARS)
    if score is not None and not math.isfinite(score):
        raise InvalidArgument(f"score must be a finite number, got {score}")
    label = _text("label", label, MAX_LABEL_CHARS)
    comment = _text("comment", comment, MAX_COMMENT_CHARS)
    if score is None and label is None and comment is None:
        raise InvalidArgument("an annotation needs at least one of score, label or comment")
    return AnnotationValues(name, score, label, comment, AnnotationSource(source))


def _value_params(values: AnnotationValues) -> dict[str, object]:
    return {
        "name": values.name,
        "score": values.score,
        "label": values.label,
        "comment": values.comment,
        "source": values.source.value,
    }


async def create_annotation(
    engine: AsyncEngine, target: AnnotationTarget, values: AnnotationValues
) -> AnnotationData | None:
    """Annotates the trace (or span) ``target``; None if it does not exist."""
    project_id, trace_id, span_id = target
    exists = (
        "SELECT 1 FROM traces WHERE project_id = :p AND trace_id = :t"
        if span_id is None
        else "SELECT 1 FROM spans WHERE project_id = :p AND trace_id = :t AND span_id = :s"
    )
    params = {"id": uuid.uuid4(), "p": project_id, "t": trace_id, "s": span_id}
    try:
        async with engine.begin() as conn:
            row = (
                (
                    await conn.execute(
                        text(
                            "INSERT INTO annotations (id, project_id, trace_id, span_id, name,"
                            " score, label, comment, source)"
                            " SELECT :id, :p, :t, :s, :name, :score, :label, :comment, :source"
                            f" WHERE EXISTS ({exists}) RETURNING {ANNOTATION_COLUMNS}"
                        ),
                        params | _value_params(values),
                    )
                )
                .mappings()
                .first()
            )
    except IntegrityError:  # the target was deleted between the check and the insert
        return None
    return None if row is None else AnnotationData.from_row(row)


async def update_annotation(
    engine: AsyncEngine, key: AnnotationKey, values: AnnotationValues
) -> AnnotationData | None:
    """Replaces the annotation's values; None if it does not exist."""
    async with engine.begin() as conn:
        row = (
            (
                await conn.execute(
                    text(
                        "UPDATE annotations SET name = :name, score = :score, label = :label,"
                        " comment = :comment, source = :source, updated_at = now()"
                        f" WHERE project_id = :p AND id = :id RETURNING {ANNOTATION_COLUMNS}"
                    ),
                    {"p": key[0], "id": key[1]} | _value_params(values),
                )
            )
            .mappings()
            .first()
        )
    return None if row is None else AnnotationData.from_row(row)


async def delete_annotation(engine: AsyncEngine, key: AnnotationKey) -> bool:
    """Whether there was such an annotation to delete."""
    async with engine.begin() as conn:
        deleted = await conn.scalar(
            text("DELETE FROM annotations WHERE project_id = :p AND id = :id RETURNING id"),
            {"p": key[0], "id": key[1]},
        )
    return deleted is not None


async def annotations_by_keys(
    engine: AsyncEngine, keys: Sequence[AnnotationKey]
) -> dict[AnnotationKey, AnnotationData]:
    """The annotations that exist among ``keys`` (one statement for any number)."""
    async with reading(engine) as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT {ANNOTATION_COLUMNS} FROM annotations WHERE (project_id, id) IN"
                    " (SELECT * FROM unnest(CAST(:p AS uuid[]), CAST(:id AS uuid[])))"
                ),
                {"p": [k[0] for k in keys], "id": [k[1] for k in keys]},
            )
        ).mappings()
        found = [AnnotationData.from_row(row) for row in rows]
    return {a.key: a for a in found}


async def annotations_of_targets(
    engine: AsyncEngine, targets: Sequence[AnnotationTarget]
) -> dict[AnnotationTarget, list[AnnotationData]]:
    """The annotations on each trace or span, oldest first (one statement for any number
    of targets). A trace's own annotations do not include its spans'."""
    result: dict[AnnotationTarget, list[AnnotationData]] = {t: [] for t in targets}
    async with reading(engine) as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT {_ALIASED_COLUMNS} FROM annotations a JOIN (SELECT DISTINCT *"
                    " FROM unnest(CAST(:p AS uuid[]), CAST(:t AS uuid[]), CAST(:s AS bigint[])))"
                    " AS k(project_id, trace_id, span_id)"
                    " ON a.project_id = k.project_id AND a.trace_id = k.trace_id"
                    " AND a.span_id IS NOT DISTINCT FROM k.span_id"
                    " ORDER BY a.created_at, a.id"
                ),
                {
                    "p": [t[0] for t in targets],
                    "t": [t[1] for t in targets],
                    "s": [t[2] for t in targets],
                },
            )
        ).mappings()
        for row in rows:
            annotation = AnnotationData.from_row(row)
            result.setdefault(annotation.target, []).append(annotation)
    return result
