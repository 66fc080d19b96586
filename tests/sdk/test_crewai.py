"""The CrewAI integration against a real ``agenttrace serve``: crews run by
tests/sdk/crewai_app.py in the CrewAI environment (.venv-crewai, made by
``scripts/bootstrap.sh dev``), their model a fake OpenAI-compatible server on loopback,
arrive as crew > task > agent > LLM / tool span trees with models and token counts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import Api
from tests.processes import wait_until
from tests.sdk.conftest import Serve, spans_by_name
from tests.sdk.fake_llm import FakeLLM

ROOT = Path(__file__).resolve().parents[2]
CREWAI_PYTHON = ROOT / ".venv-crewai" / "bin" / "python"


def children(trace: dict[str, Any], parent_id: str | None) -> list[str]:
    return sorted(s["name"] for s in trace["spans"] if s["parent_span_id"] == parent_id)


def kids(trace: dict[str, Any], parent: dict[str, Any]) -> list[dict[str, Any]]:
    found = [s for s in trace["spans"] if s["parent_span_id"] == parent["span_id"]]
    return sorted(found, key=lambda s: s["start_time"])


@pytest.fixture(scope="module")
def crews(serve: Serve, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Runs the CrewAI application once; its printed ids, and the server's API."""
    assert CREWAI_PYTHON.exists(), "no .venv-crewai: run scripts/bootstrap.sh dev"
    assert serve.api is not None
    home = tmp_path_factory.mktemp("crewai-home")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),  # CrewAI keeps its settings and storage under the home directory
        "CREWAI_STORAGE_DIR": str(home / "storage"),
        "CREWAI_DISABLE_TELEMETRY": "true",
        "CREWAI_TRACING_ENABLED": "false",
        "OTEL_SDK_DISABLED": "true",
        "AGENTTRACE_API_KEY": serve.api.api_key,
        "AGENTTRACE_ENDPOINT": serve.base_url,
    }
    with FakeLLM(
        tool_arguments={"weather": {"city": "Paris"}, "explode": {"reason": "boom"}}
    ) as fake:
        env["FAKE_LLM_URL"] = f"{fake.base_url}/v1"
        done = subprocess.run(
            [str(CREWAI_PYTHON), str(ROOT / "tests" / "sdk" / "crewai_app.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    ids: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {"ids": ids, "api": serve.api}


def trace_with_root(api: Api, root_name: str, span_count: int) -> dict[str, Any]:
    """The trace whose root span is ``root_name``, once it has ``span_count`` spans."""
    found: dict[str, Any] = {}

    def ready() -> bool:
        for trace_id in api.trace_ids():
            trace = api.trace(trace_id)
            roots = [s for s in (trace or {}).get("spans", []) if s["parent_span_id"] is None]
            if trace and [r["name"] for r in roots] == [root_name]:
                found.update(trace)
                return len(trace["spans"]) >= span_count
        return False

    wait_until(ready, 60, lambda: f"no complete trace rooted at {root_name!r}: {found}")
    return found


def test_a_crew_run_inside_a_span_arrives_as_crew_task_agent_llm_and_tool_spans(
    crews: dict[str, Any],
) -> None:
    ids, api = crews["ids"], crews["api"]
    assert ids["delivered"] == "True"
    # handle_request > crew > task > agent > LLM (tool call), tool, LLM (answer)
    trace = api.wait_for_trace(ids["weather"], 7)
    spans = spans_by_name(trace)
    assert children(trace, None) == ["handle_request"]
    assert children(trace, spans["handle_request"]["span_id"]) == ["weather crew"]
    crew = spans["weather crew"]
    assert crew["kind"] == "AGENT"
    assert crew["input"] == {"city": "Paris"}
    assert crew["output"] == "Hello"
    assert children(trace, crew["span_id"]) == ["weather crew task"]
    task = spans["weather crew task"]
    assert task["kind"] == "CHAIN"
    assert task["input"] == "What is the weather in Paris?"
    assert children(trace, task["span_id"]) == ["forecaster"]
    agent = spans["forecaster"]
    assert agent["kind"] == "AGENT"

    first_llm, tool, second_llm = kids(trace, agent)
    assert [first_llm["kind"], tool["kind"], second_llm["kind"]] == ["LLM", "TOOL", "LLM"]
    for llm in (first_llm, second_llm):
        assert llm["model"] == "gpt-4o-mini"
        assert (llm["input_tokens"], llm["output_tokens"], llm["total_tokens"]) == (11, 2, 13)
        assert llm["input"][0]["role"] == "system"
    assert second_llm["output"] == "Hello"
    assert tool["name"] == "weather"
    assert tool["input"] == {"city": "Paris"}
    assert tool["output"] == "sunny in Paris"
    assert tool["attributes"]["crewai.tool.from_cache"] is False

    assert all(s["status"] == "OK" and s["end_time"] is not None for s in trace["spans"])
    assert trace["total_tokens"] == 26
    # Parents enclose their children in time (times come from CrewAI's events).
    for span in trace["spans"]:
        for child in kids(trace, span):
            assert span["start_time"] <= child["start_time"] <= child["end_time"]
            assert child["end_time"] <= span["end_time"]


def test_a_failing_tool_is_an_error_span_and_the_crew_still_answers(
    crews: dict[str, Any],
) -> None:
    trace = trace_with_root(crews["api"], "explode crew", 6)
    spans = spans_by_name(trace)
    tool = spans["explode"]
    assert tool["kind"] == "TOOL"
    assert tool["status"] == "ERROR"
    assert "tool failed: boom" in tool["status_message"]
    assert tool["input"] == {"reason": "boom"}
    assert spans["explode crew"]["status"] == "OK"
    assert spans["explode crew"]["output"] == "Hello"


def test_a_failing_model_fails_its_llm_agent_task_and_crew_spans(
    crews: dict[str, Any],
) -> None:
    assert crews["ids"]["failing_error"]  # the kickoff raised to the application
    trace = trace_with_root(crews["api"], "failing crew", 4)
    spans = spans_by_name(trace)
    llm = spans["fail-500"]
    assert llm["kind"] == "LLM"
    assert llm["model"] == "fail-500"
    for name in ("fail-500", "forecaster", "failing crew task", "failing crew"):
        assert spans[name]["status"] == "ERROR", name
        assert spans[name]["status_message"], name
    assert trace["status"] == "ERROR"


def test_spans_come_out_the_same_whatever_order_the_bus_handles_the_events_in() -> None:
    done = subprocess.run(
        [str(CREWAI_PYTHON), str(ROOT / "tests" / "sdk" / "crewai_order.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # CrewAI's internal executor flow is hidden: the LLM call and the tool nest in the task.
    expected = {
        "crew": {"parent": None, "status": "OK", "ms": [0, 9]},
        "task": {"parent": "crew", "status": "OK", "ms": [1, 8]},
        "m": {"parent": "task", "status": "OK", "ms": [3, 4]},
        "tool": {"parent": "task", "status": "ERROR", "ms": [5, 6]},
    }
    assert len(result["orders"]) == 200
    for tree in result["orders"]:
        assert len({span.pop("trace") for span in tree.values()}) == 1
        assert tree == expected
    # A task whose crew started before instrument() is sent, at the flush, as a root.
    orphan = result["orphan"]
    assert {name: span["parent"] for name, span in orphan.items()} == {
        "task": None,
        "m": "task",
        "tool": "task",
    }
