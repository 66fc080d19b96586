"""A CrewAI application traced by the SDK, run by tests/sdk/test_crewai.py in the separate
CrewAI environment (.venv-crewai: CrewAI pins versions of pydantic and openai that differ
from the server's). Its model is the fake OpenAI-compatible server at ``FAKE_LLM_URL``;
its spans go to the ``agenttrace serve`` in ``AGENTTRACE_ENDPOINT``.

It runs three crews and prints one JSON line with the trace id of each:
- ``weather``: inside an ``@at.trace`` span, an agent that calls a tool, then answers;
- ``explode``: a crew on its own (its own trace) whose tool raises; the agent still answers;
- ``failing``: a crew whose model answers 500, so the kickoff fails.
"""

from __future__ import annotations

import json
import os
from typing import Any

import agenttrace_sdk as at
from agenttrace_sdk.integrations.crewai import instrument
from crewai import LLM, Agent, Crew, Task
from crewai.tools import tool


@tool("weather")
def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@tool("explode")
def explode(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"tool failed: {reason}")


def crew(name: str, model: str, tools: list[Any]) -> Crew:
    llm = LLM(model=f"openai/{model}", base_url=os.environ["FAKE_LLM_URL"], api_key="fake")
    agent = Agent(
        role="forecaster",
        goal="Tell the weather",
        backstory="A meteorologist.",
        llm=llm,
        tools=tools,
        max_retry_limit=0,
    )
    task = Task(
        name=f"{name} task",
        description="What is the weather in Paris?",
        expected_output="One sentence.",
        agent=agent,
    )
    return Crew(name=name, agents=[agent], tasks=[task])


@at.trace(name="handle_request", kind="AGENT")
def handle_request() -> str:
    result = crew("weather crew", "gpt-4o-mini", [weather]).kickoff(inputs={"city": "Paris"})
    return at.current_span().trace_id if result.raw else ""


def main() -> None:
    at.init(schedule_delay_s=0.1)
    instrument()
    ids = {"weather": handle_request()}

    crew("explode crew", "gpt-4o-mini", [explode]).kickoff()
    try:
        crew("failing crew", "fail-500", []).kickoff()
    except Exception as exc:  # noqa: BLE001  the failure is what this crew is for
        ids["failing_error"] = type(exc).__name__
    # shutdown() first waits for CrewAI's pending event handlers, then sends every span.
    ids["delivered"] = str(at.shutdown(30))
    print(json.dumps(ids), flush=True)


if __name__ == "__main__":
    main()
