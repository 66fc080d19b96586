"""Encoded batches waiting for the server: in memory (bounded by spans) or in a spool
directory (bounded by bytes), sent oldest first and removed once the server took them.

The spool writes each batch as one file (written aside, then renamed into place, so a
crash never leaves half a batch). Two processes sharing a spool may both send a file;
the server's upsert stores a span once however often it arrives.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import deque
from pathlib import Path

Batch = tuple[str, bytes, int]  # key, gzipped body, span count
SUFFIX = ".batch.gz"


class MemoryBacklog:
    def __init__(self, max_spans: int) -> None:
        self.max_spans = max_spans
        self.spans = 0
        self._batches: deque[Batch] = deque()
        self._keys = itertools.count()

    def put(self, body: bytes, spans: int) -> bool:
        if self.spans + spans > self.max_spans and self._batches:
            return False
        self._batches.append((str(next(self._keys)), body, spans))
        self.spans += spans
        return True

    def oldest(self) -> Batch | None:
        return self._batches[0] if self._batches else None

    def remove(self, key: str) -> None:
        if self._batches and self._batches[0][0] == key:
            self.spans -= self._batches.popleft()[2]

    def __len__(self) -> int:
        return len(self._batches)


class DiskSpool:
    def __init__(self, directory: str, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._seq = itertools.count()
        # Names in send order. The directory is listed again only when this runs out, which
        # also picks up files other processes (or an earlier run) left.
        self._names: deque[str] = deque(self._listing())
        self._bytes = sum(self._size(name) for name in self._names)

    def _listing(self) -> list[str]:
        try:
            return sorted(p.name for p in self.directory.iterdir() if p.name.endswith(SUFFIX))
        except OSError:
            return []

    def _size(self, name: str) -> int:
        try:
            return (self.directory / name).stat().st_size
        except OSError:
            return 0

    def put(self, body: bytes, spans: int) -> bool:
        """False when the spool is full or cannot be written."""
        if self._bytes + len(body) > self.max_bytes:
            return False
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._seq):08d}-{spans}{SUFFIX}"
        aside = self.directory / f".{name}.tmp"
        try:
            aside.write_bytes(body)
            os.replace(aside, self.directory / name)
        except OSError:
            return False
        self._bytes += len(body)
        self._names.append(name)
        return True

    def oldest(self) -> Batch | None:
        if not self._names:
            self._names.extend(self._listing())
        while self._names:
            name = self._names[0]
            try:
                body = (self.directory / name).read_bytes()
            except OSError:  # sent and removed by another process sharing the spool
                self._names.popleft()
                continue
            try:
                spans = int(name[: -len(SUFFIX)].rsplit("-", 1)[1])
            except (IndexError, ValueError):
                spans = 0
            return name, body, spans
        return None

    def remove(self, key: str) -> None:
        if self._names and self._names[0] == key:
            self._names.popleft()
        path = self.directory / key
        try:
            size = path.stat().st_size
            path.unlink()
        except OSError:
            return
        self._bytes = max(0, self._bytes - size)

    def __len__(self) -> int:
        return len(self._names)
