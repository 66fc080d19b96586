"""Run by tests/sdk/test_python39.py with a Python 3.9 interpreter (the SDK's floor) and
only the standard library: the SDK imported from sdk/, spans sent to the ``agenttrace
serve`` in ``AGENTTRACE_ENDPOINT``. Nested sync, async, generator and threaded spans and a
recorded exception, in one trace whose id it prints. Written in Python 3.9 syntax."""

import asyncio
import contextlib
import sys

import agenttrace_sdk as at
from agenttrace_sdk.integrations import anthropic, openai  # import without their clients

assert sys.version_info[:2] == (3, 9), sys.version


@at.span(kind="TOOL")
def lookup(city):
    return {"city": city, "sky": "clear"}


@at.span(kind="LLM")
async def think(step):
    await asyncio.sleep(0.01)
    at.current_span().set_model("fake-gpt").set_tokens(input=10, output=step)
    return f"thought {step}"


@at.span(kind="RETRIEVER")
def documents():
    yield "doc one"
    yield "doc two"


@at.span()
def fails():
    raise KeyError("missing")


@at.trace(name="py39 agent", kind="AGENT")
def agent():
    thoughts = asyncio.run(gather())
    with at.ContextThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(lookup, ["Paris", "Oslo"]))
    docs = list(documents())
    with contextlib.suppress(KeyError):
        fails()
    assert len(thoughts) == len(found) == len(docs) == 2
    return at.current_span().trace_id


async def gather():
    return await asyncio.gather(think(1), think(2))


def main():
    assert anthropic.instrument(object()) is not None
    assert openai.instrument(object()) is not None
    at.init(schedule_delay_s=0.1)
    trace_id = agent()
    assert at.shutdown(30)
    print(trace_id)


if __name__ == "__main__":
    main()
