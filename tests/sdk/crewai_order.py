"""Run by tests/sdk/test_crewai.py in .venv-crewai: CrewAI's bus runs handlers on a thread
pool, so the integration may see a kickoff's events in any order. This feeds the events of
one kickoff (crew > task > CrewAI's internal executor flow > LLM call and tool use) to the
integration in many random orders and prints, per order, the span tree it produced (as
parent names), then the tree for a scope whose parent started before instrumentation."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from agenttrace_sdk import spans as spans_module
from agenttrace_sdk.integrations.crewai import CrewAIInstrumentation
from agenttrace_sdk.spans import Runtime, Span, SpanSink
from crewai.events.event_bus import crewai_event_bus
from crewai.events.types.crew_events import CrewKickoffCompletedEvent, CrewKickoffStartedEvent
from crewai.events.types.flow_events import FlowFinishedEvent, FlowStartedEvent
from crewai.events.types.llm_events import (
    LLMCallCompletedEvent,
    LLMCallStartedEvent,
    LLMCallType,
)
from crewai.events.types.task_events import TaskCompletedEvent, TaskStartedEvent
from crewai.events.types.tool_usage_events import ToolUsageErrorEvent, ToolUsageStartedEvent
from crewai.tasks.task_output import TaskOutput


class Recorder(SpanSink):
    def __init__(self) -> None:
        self.ended: list[Span] = []

    def on_end(self, span: Span) -> None:
        self.ended.append(span)


def kickoff_events() -> list[tuple[Any, Any]]:
    """(source, event) pairs of one kickoff, ids and times as CrewAI's bus would set them."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    user = object()  # a source of the application's own
    internal = crewai_event_bus  # a source from inside CrewAI: its executor flow is hidden

    def at(ms: int) -> datetime:
        return t0 + timedelta(milliseconds=ms)

    crew = CrewKickoffStartedEvent(crew_name="crew", inputs={"q": 1}, timestamp=at(0))
    task = TaskStartedEvent(context=None, task=None, task_name="task", timestamp=at(1))
    flow = FlowStartedEvent(flow_name="AgentExecutor", inputs=None, timestamp=at(2))
    llm = LLMCallStartedEvent(call_id="1", model="m", messages=[], timestamp=at(3))
    tool = ToolUsageStartedEvent(tool_name="tool", tool_args={}, timestamp=at(5))
    task.parent_event_id = crew.event_id
    flow.parent_event_id = task.event_id
    llm.parent_event_id = tool.parent_event_id = flow.event_id
    ends = [
        LLMCallCompletedEvent(
            call_id="1",
            model="m",
            response="r",
            call_type=LLMCallType.LLM_CALL,
            usage={"prompt_tokens": 3, "completion_tokens": 1},
            timestamp=at(4),
        ),
        ToolUsageErrorEvent(tool_name="tool", tool_args={}, error="boom", timestamp=at(6)),
        FlowFinishedEvent(flow_name="AgentExecutor", result=None, state={}, timestamp=at(7)),
        TaskCompletedEvent(
            output=TaskOutput(description="d", raw="done", agent="a"), timestamp=at(8)
        ),
        CrewKickoffCompletedEvent(crew_name="crew", output="done", timestamp=at(9)),
    ]
    for end, start in zip(ends, [llm, tool, flow, task, crew], strict=True):
        end.started_event_id = start.event_id
    starts = [(user, crew), (user, task), (internal, flow), (user, llm), (user, tool)]
    return starts + [(user, end) for end in ends]


def tree(spans: list[Span]) -> dict[str, Any]:
    names = {s.span_id: s.name for s in spans}
    return {
        s.name: {
            "parent": names.get(s.parent_span_id or ""),
            "trace": s.trace_id,
            "status": s.status,
            "ms": [(s.start_ns // 1_000_000) % 1000, ((s.end_ns or 0) // 1_000_000) % 1000],
        }
        for s in spans
    }


def run(events: list[tuple[Any, Any]]) -> dict[str, Any]:
    recorder = Recorder()
    previous = spans_module.install(Runtime(recorder))
    try:
        instrumentation = CrewAIInstrumentation()
        for source, event in events:
            instrumentation.handle(source, event)
        instrumentation.resolve_orphans()  # what a flush does once the bus is idle
    finally:
        spans_module.install(previous)
    return tree(recorder.ended)


def main() -> None:
    rng = random.Random(7)
    events = kickoff_events()
    orders = []
    for _ in range(200):
        shuffled = events[:]
        rng.shuffle(shuffled)
        orders.append(run(shuffled))
    # A task whose crew started before instrument(): only its own events are seen.
    orphan = run([e for e in events if e[1].type not in ("crew_kickoff_started",)])
    print(json.dumps({"orders": orders, "orphan": orphan}))


if __name__ == "__main__":
    main()
