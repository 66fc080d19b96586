"""Realistic agent traces for the dashboard's browser tests, sent the way real clients send
them: the native JSON API (as our SDK does) and OTLP/HTTP protobuf (as an OpenInference
or OTel GenAI instrumented app does).

Every trace has a unique name so the tests can find it on a page and filter by it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.e2e.helpers import Api
from tests.payloads import native_batch, new_span_id, new_trace_id, otlp_request, otlp_span

MS = 1_000_000
"""Nanoseconds in a millisecond."""

SYSTEM_PROMPT = "You are a support agent for an online shop. Be brief and friendly."
USER_QUESTION = "Where is my order #4521? It was due on Monday."
ASSISTANT_PLAN = "Let me look up order #4521 for you."
ASSISTANT_ANSWER = (
    "Your order #4521 shipped yesterday with UPS (tracking 1Z999AA10123456784) and should "
    "arrive on Thursday."
)


@dataclass
class SeededTrace:
    trace_id: str
    name: str
    span_names: list[str]
    status: str = "OK"


@dataclass
class Seeded:
    """What the session's seed put on the server."""

    support: SeededTrace
    """An agent with two LLM calls (chat messages in and out) and a tool call."""
    refund: SeededTrace
    """A failed agent: a tool span with an error and a stack."""
    turns: list[SeededTrace] = field(default_factory=list)
    """Two turns of one conversation (one session id)."""
    rag: SeededTrace | None = None
    """An OpenInference RAG pipeline sent through OTLP."""
    session_id: str = "trip-planning-7d2e"

    @property
    def all(self) -> list[SeededTrace]:
        return [self.support, self.refund, *self.turns, *([self.rag] if self.rag else [])]


def _llm(
    parent: str,
    name: str,
    start: int,
    duration_ms: int,
    model: str,
    messages: list[dict[str, Any]],
    answer: str,
    tokens: tuple[int, int],
    cost: float,
) -> dict[str, Any]:
    return {
        "span_id": new_span_id(),
        "parent_span_id": parent,
        "name": name,
        "kind": "LLM",
        "status": "OK",
        "start_time": start,
        "end_time": start + duration_ms * MS,
        "model": model,
        "input_tokens": tokens[0],
        "output_tokens": tokens[1],
        "cost": cost,
        "input": messages,
        "output": {"role": "assistant", "content": answer},
        "attributes": {"llm.temperature": 0.2, "llm.provider": model.split("-")[0]},
    }


def support_trace(t0: int) -> tuple[dict[str, Any], SeededTrace]:
    trace_id = new_trace_id()
    root = new_span_id()
    history = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": USER_QUESTION},
    ]
    spans = [
        {
            "span_id": root,
            "name": "support-agent",
            "kind": "AGENT",
            "status": "OK",
            "start_time": t0,
            "end_time": t0 + 4200 * MS,
            "input": {"question": USER_QUESTION},
            "output": ASSISTANT_ANSWER,
        },
        _llm(
            root,
            "plan gpt-4o",
            t0 + 40 * MS,
            1150,
            "gpt-4o",
            history,
            ASSISTANT_PLAN,
            (412, 38),
            0.00141,
        ),
        {
            "span_id": new_span_id(),
            "parent_span_id": root,
            "name": "lookup_order",
            "kind": "TOOL",
            "status": "OK",
            "start_time": t0 + 1250 * MS,
            "end_time": t0 + 1730 * MS,
            "input": {"order_id": "4521"},
            "output": {"status": "shipped", "carrier": "UPS", "eta": "Thursday"},
            "attributes": {"tool.name": "lookup_order"},
        },
        _llm(
            root,
            "answer gpt-4o",
            t0 + 1800 * MS,
            2300,
            "gpt-4o",
            [
                *history,
                {"role": "assistant", "content": ASSISTANT_PLAN},
                {"role": "tool", "content": '{"status": "shipped", "carrier": "UPS"}'},
            ],
            ASSISTANT_ANSWER,
            (655, 61),
            0.00225,
        ),
    ]
    body = native_batch(
        trace_id,
        spans,
        user_id="alice@example.com",
        session_id="checkout-4521",
        environment="production",
        tags=["checkout", "support"],
        metadata={"app_version": "2.3.1"},
    )
    return body, SeededTrace(trace_id, "support-agent", [s["name"] for s in spans])


def refund_trace(t0: int) -> tuple[dict[str, Any], SeededTrace]:
    trace_id = new_trace_id()
    root = new_span_id()
    spans = [
        {
            "span_id": root,
            "name": "refund-agent",
            "kind": "AGENT",
            "status": "ERROR",
            "status_message": "refund failed",
            "start_time": t0,
            "end_time": t0 + 2600 * MS,
            "input": {"question": "Please refund order #3310, the mug arrived broken."},
        },
        _llm(
            root,
            "decide claude-3-5-sonnet",
            t0 + 30 * MS,
            1400,
            "claude-3-5-sonnet",
            [{"role": "user", "content": "Please refund order #3310, the mug arrived broken."}],
            "I will issue a refund of 14.90 EUR for order #3310.",
            (230, 24),
            0.00105,
        ),
        {
            "span_id": new_span_id(),
            "parent_span_id": root,
            "name": "issue_refund",
            "kind": "TOOL",
            "status": "ERROR",
            "status_message": "card_declined",
            "start_time": t0 + 1500 * MS,
            "end_time": t0 + 2550 * MS,
            "input": {"order_id": "3310", "amount": 14.9, "currency": "EUR"},
            "error": {
                "type": "PaymentDeclined",
                "message": "card_declined: the issuing bank refused the refund",
                "stack": (
                    "Traceback (most recent call last):\n"
                    '  File "agent/tools.py", line 88, in issue_refund\n'
                    "    gateway.refund(order_id, amount)\n"
                    "PaymentDeclined: card_declined: the issuing bank refused the refund"
                ),
            },
        },
    ]
    body = native_batch(
        trace_id,
        spans,
        user_id="bob@example.com",
        session_id="refund-3310",
        environment="production",
        tags=["refunds"],
    )
    return body, SeededTrace(trace_id, "refund-agent", [s["name"] for s in spans], "ERROR")


def conversation_turns(t0: int, session_id: str) -> list[tuple[dict[str, Any], SeededTrace]]:
    """Two turns of one chat (same session and user), a minute apart."""
    questions = [
        ("trip-planner turn 1", "Plan three days in Lisbon in May.", "Day 1: Alfama..."),
        ("trip-planner turn 2", "Add a day trip to Sintra.", "Day 4: Sintra, Pena Palace..."),
    ]
    turns = []
    for i, (name, question, answer) in enumerate(questions):
        trace_id = new_trace_id()
        root = new_span_id()
        start = t0 + i * 60_000 * MS
        spans = [
            {
                "span_id": root,
                "name": name,
                "kind": "AGENT",
                "status": "OK",
                "start_time": start,
                "end_time": start + 1900 * MS,
                "input": question,
                "output": answer,
            },
            _llm(
                root,
                "chat gpt-4o-mini",
                start + 20 * MS,
                1800,
                "gpt-4o-mini",
                [{"role": "user", "content": question}],
                answer,
                (120 + 40 * i, 300),
                0.0002,
            ),
        ]
        body = native_batch(
            trace_id, spans, user_id="carol@example.com", session_id=session_id, tags=["chat"]
        )
        turns.append((body, SeededTrace(trace_id, name, [s["name"] for s in spans])))
    return turns


def otlp_trace_spans(
    trace_id: str, name: str, t0: int, *, root: str | None = None, children: bool = True
) -> tuple[list[Span], str]:
    """An OpenInference RAG pipeline: a CHAIN root, a retriever, and an LLM call with
    chat messages in ``input.value``/``output.value``. Returns the spans and the root id;
    with ``root`` given, only children of that existing root."""
    spans: list[Span] = []
    root_id = root or new_span_id()
    if root is None:
        spans.append(
            otlp_span(
                trace_id,
                root_id,
                name=name,
                start_ns=t0,
                end_ns=t0 + 1500 * MS,
                attributes={
                    "openinference.span.kind": "CHAIN",
                    "session.id": "rag-session-1",
                    "user.id": "dave@example.com",
                    "input.value": "How do I reset my password?",
                },
            )
        )
    if children:
        messages = [
            {"role": "system", "content": "Answer from the help centre articles."},
            {"role": "user", "content": "How do I reset my password?"},
        ]
        spans += [
            otlp_span(
                trace_id,
                new_span_id(),
                parent=root_id,
                name="vector_search",
                start_ns=t0 + 10 * MS,
                end_ns=t0 + 180 * MS,
                attributes={
                    "openinference.span.kind": "RETRIEVER",
                    "input.value": "reset password",
                },
            ),
            otlp_span(
                trace_id,
                new_span_id(),
                parent=root_id,
                name="generate answer",
                start_ns=t0 + 200 * MS,
                end_ns=t0 + 1450 * MS,
                attributes={
                    "openinference.span.kind": "LLM",
                    "llm.model_name": "gpt-4o-mini",
                    "llm.token_count.prompt": 380,
                    "llm.token_count.completion": 52,
                    "input.value": json.dumps(messages),
                    "input.mime_type": "application/json",
                    "output.value": json.dumps(
                        {"role": "assistant", "content": "Open Settings, then Security."}
                    ),
                    "output.mime_type": "application/json",
                },
            ),
        ]
    return spans, root_id


def send_native(api: Api, body: dict[str, Any]) -> None:
    response = api.post("/api/v1/traces", json.dumps(body).encode(), "application/json")
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == [], response.text


def send_otlp(api: Api, spans: list[Span]) -> None:
    body = otlp_request(spans).SerializeToString()
    response = api.post("/v1/traces", body, "application/x-protobuf")
    assert response.status_code == 200, response.text


def seed(api: Api) -> Seeded:
    """Sends the seed traces (started over the last few minutes) and waits until each
    is stored with all its spans."""
    now = time.time_ns()
    support_body, support = support_trace(now - 9 * 60_000 * MS)
    refund_body, refund = refund_trace(now - 7 * 60_000 * MS)
    seeded = Seeded(support=support, refund=refund)
    turn_bodies = conversation_turns(now - 6 * 60_000 * MS, seeded.session_id)
    for body in (support_body, refund_body, *(b for b, _ in turn_bodies)):
        send_native(api, body)
    seeded.turns = [t for _, t in turn_bodies]
    rag_id = new_trace_id()
    rag_spans, _ = otlp_trace_spans(rag_id, "rag-pipeline", now - 3 * 60_000 * MS)
    send_otlp(api, rag_spans)
    seeded.rag = SeededTrace(rag_id, "rag-pipeline", [s.name for s in rag_spans])
    for trace in seeded.all:
        api.wait_for_trace(trace.trace_id, len(trace.span_names))
    return seeded
