from __future__ import annotations

import strawberry

from resolvers.filters import TextMatch


@strawberry.input(description="An exact name, or a case-insensitive substring of it.")
class TextMatchInput:
    equals: str | None = None
    contains: str | None = None

    def to_match(self) -> TextMatch:
        return TextMatch(self.equals, self.contains)
