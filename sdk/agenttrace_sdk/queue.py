"""The bounded queue between the caller's threads and the exporter thread.

``put`` is O(1) and never blocks: when the queue is full the item is dropped and counted.
The worker is woken when a batch's worth is waiting; otherwise its timer picks items up.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class BoundedQueue(Generic[T]):
    def __init__(self, max_size: int, wake_at: int) -> None:
        self.max_size = max_size
        self.wake_at = wake_at
        self.dropped = 0
        self.condition = threading.Condition(threading.Lock())
        self._items: deque[T] = deque()

    def put(self, item: T) -> bool:
        """False (and counted in ``dropped``, which only grows) when the queue is full."""
        with self.condition:
            if len(self._items) >= self.max_size:
                self.dropped += 1
                return False
            self._items.append(item)
            if len(self._items) == self.wake_at:
                self.condition.notify()
            return True

    def take(self, limit: int) -> list[T]:
        """Up to ``limit`` items, oldest first."""
        with self.condition:
            count = min(limit, len(self._items))
            return [self._items.popleft() for _ in range(count)]

    def __len__(self) -> int:
        return len(self._items)
