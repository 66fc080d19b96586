"""Model prices: which price applies to a model name at a moment.

A ``PriceTable`` holds entries, each for one model (``gpt-4o``), matched by that exact
name or by a regular expression over the whole name (dated snapshots such as
``gpt-4o-2024-08-06``), in force from its effective date until the next entry of the
same model. The bundled table (``model_prices.json``) is the default; a project's own
entries (``project_model_prices``) are looked up before it, so a project can price a
fine-tuned or self-hosted model, or correct a price before the next release.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any

PER_TOKENS = 1_000_000
"""Prices are in USD per this many tokens, as providers list them."""


class InvalidPrice(ValueError):
    """A price entry that cannot be used; the message names the field."""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per 1,000,000 tokens of one model, from ``effective_from`` (UTC midnight)."""

    model: str
    input: float
    output: float
    effective_from: date
    pattern: str | None = None
    """A regular expression the whole model name must match (beside the exact name)."""
    provider: str | None = None
    cached_input: float | None = None
    """Prompt tokens read from the provider's cache; None: billed as input."""
    cache_write: float | None = None
    """Prompt tokens written to the provider's cache; None: billed as input."""
    reasoning: float | None = None
    """Reasoning tokens (part of the output tokens); None: billed as output."""
    _compiled: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise InvalidPrice("model must be a non-empty name")
        for name in ("input", "output", "cached_input", "cache_write", "reasoning"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and 0 <= value < 1e6):
                raise InvalidPrice(f"{name} must be a number of USD per 1M tokens, 0 or more")
        if self.pattern is not None:
            try:
                compiled = re.compile(self.pattern, re.IGNORECASE)
            except re.error as exc:
                raise InvalidPrice(f"pattern is not a regular expression: {exc}") from None
            object.__setattr__(self, "_compiled", compiled)

    def matches(self, name: str) -> bool:
        if name == self.model.lower():
            return True
        return self._compiled is not None and self._compiled.fullmatch(name) is not None

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> ModelPrice:
        try:
            effective = date.fromisoformat(str(entry["effective_from"]))
            return cls(
                model=str(entry["model"]),
                pattern=entry.get("pattern"),
                provider=entry.get("provider"),
                input=float(entry["input"]),
                output=float(entry["output"]),
                cached_input=_optional_float(entry.get("cached_input")),
                cache_write=_optional_float(entry.get("cache_write")),
                reasoning=_optional_float(entry.get("reasoning")),
                effective_from=effective,
            )
        except KeyError as exc:
            raise InvalidPrice(f"a price entry needs {exc.args[0]}") from None
        except (TypeError, ValueError) as exc:
            if isinstance(exc, InvalidPrice):
                raise
            raise InvalidPrice(f"a price entry has a bad value: {exc}") from None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def normalised_name(model: str) -> str:
    """Lower case, without a router's provider prefix (``openai/gpt-4o``, as LiteLLM and
    OpenRouter name models)."""
    name = model.strip().lower()
    return name.rsplit("/", 1)[1] if "/" in name and not name.startswith("models/") else name


class PriceTable:
    """Entries looked up in order: an exact name before a pattern; among one model's
    entries, the latest in force at the moment asked about (the earliest before that)."""

    def __init__(self, entries: Iterable[ModelPrice]) -> None:
        by_model: dict[str, list[ModelPrice]] = {}
        for entry in entries:
            by_model.setdefault(entry.model.lower(), []).append(entry)
        self._by_model = {
            model: sorted(versions, key=lambda e: e.effective_from)
            for model, versions in by_model.items()
        }

    def __len__(self) -> int:
        return sum(len(versions) for versions in self._by_model.values())

    def entries(self) -> list[ModelPrice]:
        return [entry for versions in self._by_model.values() for entry in versions]

    def lookup(self, model: str, at: datetime) -> ModelPrice | None:
        name = normalised_name(model)
        versions = self._by_model.get(name) or next(
            (
                versions
                for versions in self._by_model.values()
                if any(entry.matches(name) for entry in versions)
            ),
            None,
        )
        if not versions:
            return None
        day = at.astimezone(UTC).date()
        in_force = [entry for entry in versions if entry.effective_from <= day]
        return in_force[-1] if in_force else versions[0]


@cache
def bundled_prices() -> PriceTable:
    """The table shipped with AgentTrace (pricing/model_prices.json), read once."""
    text = resources.files("pricing").joinpath("model_prices.json").read_text(encoding="utf-8")
    return PriceTable(ModelPrice.from_json(entry) for entry in json.loads(text)["prices"])
