"""What an export or import tells about its progress (the command line draws it as a
tqdm bar; the tests count pages with it)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def started(self, traces: int, spans: int) -> None:
        """The totals to expect, known before the first page."""

    def page(self, table: str, rows: int) -> None:
        """One page of ``rows`` rows of ``table`` ("traces", "spans", "annotations") was
        written (export) or stored (import)."""


class Silent:
    def started(self, traces: int, spans: int) -> None:
        pass

    def page(self, table: str, rows: int) -> None:
        pass
