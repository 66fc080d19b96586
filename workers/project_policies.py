"""What a project asks of the storage worker before its spans are stored: its masking
rules and its own model prices, read per project at most every ``ttl_s`` seconds (one
query each for all the projects of a batch not fresh in memory), so an edit through
GraphQL applies to spans stored from a few seconds later, on every worker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from masking.apply import MASKED_VALUE, masked
from masking.rules import CompiledRules, compile_rules
from pricing.price_table import PriceTable
from storage.masking_rules import project_masking_rules
from storage.model_prices import project_prices
from workers.span_costs import priced, with_estimated_tokens
from workers.span_rows import SpanRow, bound_indexed_text


@dataclass(frozen=True, slots=True)
class ProjectPolicy:
    prices: PriceTable
    masking: CompiledRules

    def apply(self, row: SpanRow) -> SpanRow:
        """The row as it is to be stored: masked first (so nothing masked is ever
        counted or kept), then its tokens estimated if it reported none, then priced."""
        if not self.masking.empty:
            row = _masked_row(row, self.masking)
        return priced(with_estimated_tokens(row), self.prices)


COLUMN_SOURCES: dict[str, tuple[str, ...]] = {
    "input": ("input.value", "traceloop.entity.input", "gen_ai.prompt", "llm.input_messages"),
    "output": (
        "output.value",
        "traceloop.entity.output",
        "gen_ai.completion",
        "llm.output_messages",
    ),
    "user_id": ("user.id", "enduser.id"),
    "session_id": ("session.id",),
    "tags": ("tag.tags",),
    "environment": ("deployment.environment", "deployment.environment.name"),
}
"""The attributes ingest moves into each column (ingest/conventions.py) and no longer
keeps in ``attributes``: a KEY rule naming one of them, or the column, masks the column."""


def _masked_text(value: str | None, rules: CompiledRules) -> str | None:
    return None if value is None else rules.mask_text(value)


def _masked_row(row: SpanRow, rules: CompiledRules) -> SpanRow:
    hidden = {
        column
        for column, sources in COLUMN_SOURCES.items()
        if rules.key_matches(column) or any(rules.key_matches(key) for key in sources)
    }

    def column(name: str, value: Any) -> Any:
        if name in hidden and value not in (None, [], {}):
            return [MASKED_VALUE] if name == "tags" else MASKED_VALUE
        return masked(value, rules)

    masked_row = replace(
        row,
        name=rules.mask_text(row.name),
        status_message=_masked_text(row.status_message, rules),
        model=_masked_text(row.model, rules),
        input=column("input", row.input),
        output=column("output", row.output),
        attributes=masked(row.attributes, rules),
        resource=masked(row.resource, rules),
        events=masked(row.events, rules),
        error=masked(row.error, rules),
        metadata=column("metadata", row.metadata),
        user_id=column("user_id", row.user_id),
        session_id=column("session_id", row.session_id),
        environment=column("environment", row.environment),
        tags=column("tags", row.tags),
    )
    # A mask can lengthen indexed text (a short match, a long replacement).
    return bound_indexed_text(masked_row)


class ProjectPolicies:
    def __init__(
        self,
        engine: AsyncEngine,
        ttl_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._clock = clock
        self._policies: dict[uuid.UUID, tuple[float, ProjectPolicy]] = {}

    async def of(self, projects: set[uuid.UUID]) -> dict[uuid.UUID, ProjectPolicy]:
        """Each project's policy, read again where older than ``ttl_s``."""
        now = self._clock()
        stale = {p for p in projects if p not in self._policies or self._policies[p][0] <= now}
        if stale:
            prices = await project_prices(self._engine, stale)
            rules = await project_masking_rules(self._engine, stale)
            for project in stale:
                policy = ProjectPolicy(PriceTable(prices[project]), compile_rules(rules[project]))
                self._policies[project] = (now + self._ttl_s, policy)
        return {project: self._policies[project][1] for project in projects}
