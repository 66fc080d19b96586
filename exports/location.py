"""Where an export's files live: a local directory or any fsspec URL.

``file://``, ``memory://`` and plain paths work out of the box; ``s3://`` needs
``pip install s3fs`` and ``gs://`` ``pip install gcsfs`` (not dependencies of AgentTrace:
most installations never use them).
"""

from __future__ import annotations

import hashlib
import re
from types import TracebackType
from typing import IO, Any

import fsspec

from exports.errors import ExportNotFound, InvalidDestination

_EXTRAS = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
}


class Location:
    """A directory of export files, local or remote."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except ImportError as exc:
            scheme = url.partition("://")[0]
            extra = _EXTRAS.get(scheme)
            hint = f" (pip install {extra})" if extra and extra not in str(exc) else ""
            raise InvalidDestination(f"cannot open {url}: {exc}{hint}") from None
        except ValueError as exc:  # an unknown protocol
            raise InvalidDestination(f"cannot open {url}: {exc}") from None

    def path(self, name: str) -> str:
        return f"{self.root.rstrip('/')}/{name}"

    def exists(self, name: str) -> bool:
        return bool(self.fs.exists(self.path(name)))

    def make(self) -> None:
        try:
            self.fs.makedirs(self.root, exist_ok=True)
        except OSError as exc:
            raise InvalidDestination(f"cannot write to {self.url}: {exc}") from None

    def create(self, name: str) -> HashingWriter:
        """A new file, hashed as it is written."""
        try:
            return HashingWriter(self.fs.open(self.path(name), "wb"))
        except OSError as exc:
            raise InvalidDestination(f"cannot write {self.path(name)}: {exc}") from None

    def open(self, name: str) -> IO[bytes]:
        """An existing file; ExportNotFound when there is none."""
        try:
            handle: IO[bytes] = self.fs.open(self.path(name), "rb")
        except FileNotFoundError:
            raise ExportNotFound(f"{self.path(name)} does not exist") from None
        return handle

    def sha256(self, name: str, chunk_bytes: int = 1 << 20) -> tuple[str, int]:
        """The file's SHA-256 (hex) and size, read in chunks."""
        digest, size = hashlib.sha256(), 0
        with self.open(name) as handle:
            while chunk := handle.read(chunk_bytes):
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size


class HashingWriter:
    """A binary file that keeps the SHA-256 and size of what went through it (pyarrow's
    ParquetWriter and the JSONL writer both write through one)."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._digest = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._digest.update(data)
        self.size += len(data)
        self._raw.write(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._raw.flush()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
            self.closed = True

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def __enter__(self) -> HashingWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def under_export_root(root: str | None, name: str) -> str:
    """The URL of export ``name`` under the server's ``AGENTTRACE_EXPORT_URL``.

    ``name`` is one or more plain segments (letters, digits, ``.``, ``_``, ``-``; no
    segment starting with a dot) joined by ``/``: no ``..``, no absolute path, no scheme,
    no ``~`` or ``%``, so a GraphQL caller can only ever write below the root. Raises
    InvalidDestination otherwise, or when the server has no export root."""
    if not root:
        raise InvalidDestination(
            "exports are not enabled on this server (the operator sets AGENTTRACE_EXPORT_URL)"
        )
    segments = name.split("/")
    if not name or any(not _SEGMENT.fullmatch(s) or ".." in s for s in segments):
        raise InvalidDestination(
            f"export name {name!r:.100} must be a relative path of plain names (letters,"
            " digits, '.', '_', '-'; no '..', no leading '/', no scheme)"
        )
    return f"{root.rstrip('/')}/{'/'.join(segments)}"
