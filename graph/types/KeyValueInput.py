from __future__ import annotations

import strawberry

from resolvers.filters import KeyValue


@strawberry.input(description="A metadata or attribute key and the value it must have (as text).")
class KeyValueInput:
    key: str
    value: str

    def to_pair(self) -> KeyValue:
        return KeyValue(self.key, self.value)
