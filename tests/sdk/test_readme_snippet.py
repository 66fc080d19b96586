"""The README's SDK snippet, run as written (with a real key and port) against serve."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.processes import wait_until
from tests.sdk.conftest import Serve, spans_by_name

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_snippet_sends_an_agent_trace(serve: Serve) -> None:
    api = serve.api
    assert api is not None
    text = README.read_text()
    start = text.index("```python\n   import agenttrace_sdk as at")
    block = text[start:].split("\n", 1)[1].split("   ```", 1)[0]
    snippet = "\n".join(line.removeprefix("   ") for line in block.splitlines())
    snippet = snippet.replace(
        'at.init(api_key="at_...")',
        f'at.init(api_key="{api.api_key}", endpoint="{serve.base_url}")',
    )
    done = subprocess.run(
        [sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr

    def answers() -> list[dict[str, str]]:
        response = api.http.get("/api/v1/traces", params={"name": "answer"}, headers=api.auth)
        items: list[dict[str, str]] = response.json()["items"]
        return items

    wait_until(lambda: bool(answers()), 30, lambda: "the README's trace did not arrive")
    trace = api.trace(answers()[0]["trace_id"])
    assert trace is not None
    spans = spans_by_name(trace)
    assert spans["answer"]["kind"] == "AGENT"
    assert (spans["llm"]["model"], spans["llm"]["input_tokens"]) == ("gpt-4o", 12)
    assert spans["llm"]["parent_span_id"] == spans["answer"]["span_id"]
