"""CrewAI: crews, tasks, agents, LLM calls and tool uses as AgentTrace spans, read from
CrewAI's event bus.

    import agenttrace_sdk as at
    from agenttrace_sdk.integrations.crewai import instrument

    at.init()
    instrument()
    crew.kickoff(inputs={"city": "Paris"})

Every scope CrewAI opens and closes on its bus becomes a span: a crew kickoff (AGENT, its
inputs and final output), a task (CHAIN, its description and output), an agent's execution
of a task (AGENT), an LLM call (LLM: model, messages, response, token usage, finish
reason), a tool use (TOOL: arguments, output, ``crewai.tool.from_cache``), knowledge and
memory queries (RETRIEVER), guardrails (GUARDRAIL), evaluations (EVALUATOR), user-defined
flows and their methods (CHAIN), and whatever scope a newer CrewAI adds (SPAN). The
executor flow CrewAI runs inside each agent gets no span; its children go to the agent. A
failure (``*_failed``, ``*_error``) ends its span as ERROR with the type and message CrewAI
reports. A kickoff nests under the AgentTrace span current where it was called.

CrewAI runs its bus handlers on a thread pool, so a child's start can be handled before its
parent's, and an end before its start: spans are assembled order-free from the events' own
ids and timestamps (start and end times are when CrewAI emitted the events, not when they
were handled). ``agenttrace_sdk.flush()`` and ``shutdown()`` (and the exit hook) first wait
for the bus's pending handlers, so a kickoff's spans are all ended before they are sent.
Call ``instrument()`` before the kickoff: a scope whose parent scope started earlier is
held until the next flush, then sent under the span current where it ran.
Requires ``crewai`` (``pip install "agenttrace-stack-sdk[crewai]"``).
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any

import crewai.events.types as event_types
from crewai.events.base_events import BaseEvent
from crewai.events.event_bus import crewai_event_bus
from crewai.events.event_context import SCOPE_ENDING_EVENTS, SCOPE_STARTING_EVENTS

from agenttrace_sdk import client
from agenttrace_sdk import spans as spans_module
from agenttrace_sdk.spans import Span, start_span

__all__ = ["CrewAIInstrumentation", "instrument", "uninstrument"]

# Span kind per scope-starting event type; any other scope is a SPAN.
KINDS = {
    "crew_kickoff_started": "AGENT",
    "crew_train_started": "AGENT",
    "crew_test_started": "EVALUATOR",
    "flow_started": "CHAIN",
    "method_execution_started": "CHAIN",
    "task_started": "CHAIN",
    "agent_execution_started": "AGENT",
    "lite_agent_execution_started": "AGENT",
    "a2a_delegation_started": "AGENT",
    "a2a_parallel_delegation_started": "AGENT",
    "a2a_conversation_started": "AGENT",
    "a2a_server_task_started": "AGENT",
    "agent_evaluation_started": "EVALUATOR",
    "llm_call_started": "LLM",
    "llm_guardrail_started": "GUARDRAIL",
    "tool_usage_started": "TOOL",
    "mcp_tool_execution_started": "TOOL",
    "knowledge_query_started": "RETRIEVER",
    "knowledge_search_query_started": "RETRIEVER",
    "memory_retrieval_started": "RETRIEVER",
    "memory_query_started": "RETRIEVER",
}
# The event field that names the span, per scope-starting event type.
NAME_FIELDS = {
    "crew_kickoff_started": "crew_name",
    "crew_train_started": "crew_name",
    "crew_test_started": "crew_name",
    "flow_started": "flow_name",
    "method_execution_started": "method_name",
    "task_started": "task_name",
    "agent_execution_started": "agent_role",
    "agent_evaluation_started": "agent_role",
    "llm_call_started": "model",
    "tool_usage_started": "tool_name",
    "mcp_tool_execution_started": "tool_name",
}
# Fields holding a scope's input (on its start event), in order of preference.
INPUT_FIELDS = ("inputs", "task_prompt", "messages", "tool_args", "query", "arguments")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Ended scopes kept so that late children still find their parent span.
KEEP_ENDED = 10_000


class _Scope:
    """One CrewAI scope: its start event, and its span once its parent's is known."""

    __slots__ = ("anchor", "base", "end", "event", "hidden", "resolved", "span")

    def __init__(self, event: Any, hidden: bool, base: Span | None) -> None:
        self.event = event
        self.hidden = hidden
        self.base = base  # the AgentTrace span current where CrewAI emitted the event
        self.resolved = False
        self.anchor: Span | None = None  # where this scope's children attach
        self.span: Span | None = None
        self.end: Any = None  # the ending event, once seen


class CrewAIInstrumentation:
    """The bus handlers and the state that turns CrewAI's events into spans. ``capture``
    False keeps inputs and outputs off these spans."""

    def __init__(self, capture: bool | None = None) -> None:
        self.capture = capture
        self.event_classes = scope_event_classes()
        self._lock = threading.Lock()
        self._scopes: dict[str, _Scope] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._waiting: dict[str, list[_Scope]] = {}  # parent event id -> its early children
        self._early_ends: OrderedDict[str, Any] = OrderedDict()  # start id -> ending event

    def handle(self, source: Any, event: Any) -> None:
        """The bus handler for every scope event. Never raises into CrewAI."""
        try:
            if event.type in SCOPE_STARTING_EVENTS:
                self._on_start(source, event)
            elif event.type in SCOPE_ENDING_EVENTS and event.started_event_id:
                self._on_end(event)
        except Exception:  # noqa: BLE001  tracing must never break the crew
            client.log.debug("agenttrace: CrewAI event %s not traced", event.type, exc_info=True)

    # Assembly: every method below runs under the lock.
    def _on_start(self, source: Any, event: Any) -> None:
        # The bus runs handlers in a copy of the emitting context: this is the caller's span.
        scope = _Scope(event, _is_internal(source, event), spans_module._CURRENT.get())
        with self._lock:
            self._scopes[event.event_id] = scope
            scope.end = self._early_ends.pop(event.event_id, None)
            parent = self._scopes.get(event.parent_event_id or "")
            if event.parent_event_id is None:
                self._resolve(scope, None)
            elif parent is not None and parent.resolved:
                self._resolve(scope, parent)
            else:
                self._waiting.setdefault(event.parent_event_id, []).append(scope)
            if scope.end is not None:
                self._ended_scope(scope)

    def _on_end(self, event: Any) -> None:
        with self._lock:
            scope = self._scopes.get(event.started_event_id)
            if scope is None:  # its start is still being handled on another thread
                self._early_ends[event.started_event_id] = event
                while len(self._early_ends) > KEEP_ENDED:
                    self._early_ends.popitem(last=False)
                return
            scope.end = event
            self._ended_scope(scope)

    def _ended_scope(self, scope: _Scope) -> None:
        if scope.span is not None:
            self._close(scope)
        # An unresolved scope keeps waiting for its parent's start, however late that is
        # handled; a parent that never comes is resolved by resolve_orphans().
        self._retire(scope.event.event_id)

    def resolve_orphans(self) -> None:
        """Opens (and, when ended, closes) the spans of scopes whose parent scope started
        before ``instrument()`` and so is never seen: each becomes a child of the span
        current where CrewAI emitted it. Runs when the SDK flushes, once the bus has no
        pending handlers."""
        with self._lock:
            orphaned = [p for p in self._waiting if p not in self._scopes]
            for parent_id in orphaned:
                for scope in self._waiting.pop(parent_id, []):
                    self._resolve(scope, None)

    def _resolve(self, scope: _Scope, parent: _Scope | None) -> None:
        """Opens the spans of ``scope`` and of every descendant that waited for it."""
        pending = [(scope, parent)]
        while pending:
            current, above = pending.pop()
            current.resolved = True
            current.anchor = current.base if above is None else above.anchor
            if not current.hidden:
                current.span = self._open(current.event, current.anchor)
                current.anchor = current.span
                if current.end is not None:
                    self._close(current)
            for child in self._waiting.pop(current.event.event_id, []):
                pending.append((child, current))

    def _retire(self, event_id: str) -> None:
        self._ended[event_id] = None
        while len(self._ended) > KEEP_ENDED:
            old, _ = self._ended.popitem(last=False)
            self._scopes.pop(old, None)

    # Spans.
    def _open(self, event: Any, parent: Span | None) -> Span:
        kind = KINDS.get(event.type, "SPAN")
        name = _name(event)
        start_ns = _ns(event)
        if parent is not None:
            span = start_span(name, kind, parent=parent, capture=self.capture, start_ns=start_ns)
        else:  # a new trace (or a child of the current OpenTelemetry span)
            token = spans_module._CURRENT.set(None)
            try:
                span = start_span(name, kind, capture=self.capture, start_ns=start_ns)
            finally:
                spans_module._CURRENT.reset(token)
        span.set_attribute("crewai.event_type", event.type)
        for field in ("agent_role", "task_name"):
            value = getattr(event, field, None)
            if value and value != name:
                span.set_attribute(f"crewai.{field}", value)
        if event.type == "llm_call_started":
            span.set_model(event.model)
        if span.capture and span.recording:
            _set_input(span, event)
        return span

    def _close(self, scope: _Scope) -> None:
        span, event = scope.span, scope.end
        if span is None or event is None or span.ended:
            return
        kind = event.type
        if kind.endswith(("_failed", "_error", "_canceled")):
            _record_failure(span, event)
        elif kind.endswith("_paused"):
            span.add_event("paused")
        elif span.capture and span.recording:
            _set_output(span, event)
        if kind == "llm_call_completed":
            _set_usage(span, event)
            if getattr(event, "finish_reason", None):
                span.set_attribute("llm.finish_reason", event.finish_reason)
        elif kind == "tool_usage_finished":
            span.set_attribute("crewai.tool.from_cache", bool(getattr(event, "from_cache", False)))
        elif kind == "crew_kickoff_completed" and getattr(event, "total_tokens", 0):
            span.set_attribute("crewai.total_tokens", event.total_tokens)
        span.end(_ns(event))


def _is_internal(source: Any, event: Any) -> bool:
    """The flow CrewAI itself runs inside an agent (its executor): plumbing, not the user's."""
    if event.type not in ("flow_started", "method_execution_started"):
        return False
    return type(source).__module__.startswith("crewai.")


def _name(event: Any) -> str:
    value = getattr(event, NAME_FIELDS.get(event.type, ""), None)
    if not value and event.type == "task_started":
        task = getattr(event, "task", None)
        value = getattr(task, "name", None) or getattr(task, "description", None)
    if not value and event.type == "agent_execution_started":
        value = getattr(getattr(event, "agent", None), "role", None)
    if not value and event.type == "lite_agent_execution_started":
        value = (getattr(event, "agent_info", None) or {}).get("role")
    if not value:
        value = event.type.removesuffix("_started")
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"


def _ns(event: Any) -> int:
    """The event's time in Unix nanoseconds, exactly (a float timestamp loses microseconds)."""
    moment: datetime = event.timestamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _text(value: Any) -> Any:
    """A CrewOutput or TaskOutput as its text; anything else as is."""
    raw = getattr(value, "raw", None)
    return raw if isinstance(raw, str) else value


def _set_input(span: Span, event: Any) -> None:
    if event.type == "task_started":
        task = getattr(event, "task", None)
        description = getattr(task, "description", None)
        context = getattr(event, "context", None)
        span.set_input({"description": description, "context": context} if context else description)
        return
    for field in INPUT_FIELDS:
        value = getattr(event, field, None)
        if value is not None:
            span.set_input(value)
            return


def _set_output(span: Span, event: Any) -> None:
    for field in ("output", "response", "result"):
        value = getattr(event, field, None)
        if value is not None:
            span.set_output(_text(value))
            return


def _set_usage(span: Span, event: Any) -> None:
    usage = getattr(event, "usage", None)
    if not isinstance(usage, dict):
        return
    span.set_tokens(
        input=usage.get("prompt_tokens", usage.get("input_tokens")),
        output=usage.get("completion_tokens", usage.get("output_tokens")),
        total=usage.get("total_tokens"),
    )


def _record_failure(span: Span, event: Any) -> None:
    error = getattr(event, "error", None)
    if isinstance(error, BaseException):
        span.record_exception(error)
        return
    error_type = getattr(event, "error_type", None)
    if isinstance(error_type, type):
        type_name = f"{error_type.__module__}.{error_type.__qualname__}"
    else:
        type_name = str(error_type or f"crewai.{event.type}")
    span.record_error(type_name, str(error) if error is not None else event.type)


def scope_event_classes() -> list[type[BaseEvent]]:
    """Every event class of this CrewAI that opens or closes a scope (the bus dispatches on
    the exact class, so each is registered)."""
    for module in pkgutil.iter_modules(event_types.__path__):
        importlib.import_module(f"{event_types.__name__}.{module.name}")
    scope_types = SCOPE_STARTING_EVENTS | SCOPE_ENDING_EVENTS
    found: list[type[BaseEvent]] = []
    pending: list[type[BaseEvent]] = [BaseEvent]
    while pending:
        for cls in pending.pop().__subclasses__():
            pending.append(cls)
            field = cls.model_fields.get("type")
            if field is not None and field.default in scope_types and cls not in found:
                found.append(cls)
    return found


_installed: CrewAIInstrumentation | None = None
_install_lock = threading.Lock()


def instrument(*, capture: bool | None = None) -> CrewAIInstrumentation:
    """Starts tracing CrewAI in this process (a second call returns the first one's
    instrumentation). Call it after ``agenttrace_sdk.init()``, or any time before a kickoff."""
    global _installed
    with _install_lock:
        if _installed is None:
            installed = CrewAIInstrumentation(capture)
            for cls in installed.event_classes:
                crewai_event_bus.register_handler(cls, installed.handle)
            client.register_drain(_drain_bus)
            _installed = installed
        return _installed


def uninstrument() -> None:
    """Stops tracing CrewAI; spans already open stay open."""
    global _installed
    with _install_lock:
        if _installed is not None:
            for cls in _installed.event_classes:
                crewai_event_bus.off(cls, _installed.handle)
            _installed = None


def _drain_bus(timeout_s: float) -> None:
    crewai_event_bus.flush(timeout=timeout_s)
    installed = _installed
    if installed is not None:
        installed.resolve_orphans()
