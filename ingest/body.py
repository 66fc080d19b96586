"""Reads a request body within the size limit, and decompresses gzip within it too
(a small gzip body must not expand into gigabytes)."""

from __future__ import annotations

import zlib

from starlette.requests import Request

from ingest.errors import BodyTooLarge, MalformedBody, UnsupportedMediaType


async def read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(f"body of {declared} bytes exceeds the limit of {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"body exceeds the limit of {max_bytes} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise UnsupportedMediaType(f"content-encoding '{encoding}' is not supported (use gzip)")
    inflater = zlib.decompressobj(wbits=31)
    try:
        inflated = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise MalformedBody(f"body is not valid gzip: {exc}") from None
    if len(inflated) > max_bytes or inflater.unconsumed_tail:
        raise BodyTooLarge(f"decompressed body exceeds the limit of {max_bytes} bytes")
    return inflated


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()
