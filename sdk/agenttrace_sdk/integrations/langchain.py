"""LangChain and LangGraph runs as AgentTrace spans, through a callback handler.

    from agenttrace_sdk.integrations.langchain import AgentTraceCallbackHandler

    handler = AgentTraceCallbackHandler()
    graph.invoke(inputs, config={"callbacks": [handler]})

Chains become CHAIN spans (AGENT for a LangGraph graph or an agent executor), chat models
and LLMs LLM spans (model, messages, output, token usage), tools TOOL spans, retrievers
RETRIEVER spans (the documents as output). A run's parent span is its parent run's, so
LangGraph nodes nest under their graph; a top-level run nests under the AgentTrace span
current where it was invoked. Runs LangGraph hides (``langsmith:hidden``: channel writes,
routing) get no span; their children go to the nearest visible ancestor. An error ends
its run's span as ERROR with type, message and stack; LangGraph's control-flow exceptions
(interrupts, ``Command`` to a parent graph) are kept as an event, not as an error.

One handler may serve many invocations at once, from several threads or asyncio tasks
(LangChain runs a sync handler's callbacks in a worker thread for async invocations, with
the caller's context): its run map is guarded by a lock. Requires ``langchain-core``
(``pip install "agenttrace-stack-sdk[langchain]"``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult

from agenttrace_sdk.capture import to_jsonable
from agenttrace_sdk.spans import Span, start_span

__all__ = ["AgentTraceCallbackHandler"]

HIDDEN_TAG = "langsmith:hidden"
# Chains whose runs are agents: LangGraph's default graph name and the classic executor.
AGENT_CHAINS = frozenset({"LangGraph", "AgentExecutor"})
# LangGraph raises these to interrupt a run or hand a Command to a parent graph.
CONTROL_FLOW = frozenset({"GraphBubbleUp", "GraphInterrupt", "NodeInterrupt", "ParentCommand"})


class AgentTraceCallbackHandler(BaseCallbackHandler):
    """Maps LangChain runs to AgentTrace spans (see the module's docstring).

    ``parent``: the span top-level runs nest under, instead of the span current where they
    are invoked. ``capture=False`` keeps inputs and outputs off these spans."""

    raise_error = False  # a tracing failure must never break the traced run

    def __init__(self, *, parent: Span | None = None, capture: bool | None = None) -> None:
        super().__init__()
        self._parent = parent
        self._capture = capture
        self._lock = threading.Lock()
        self._spans: dict[UUID, Span] = {}
        self._hidden: dict[UUID, UUID | None] = {}  # hidden run -> its parent run

    # Bookkeeping.
    def _parent_span(self, parent_run_id: UUID | None) -> Span | None:
        run = parent_run_id
        with self._lock:
            for _ in range(1000):  # hidden runs chain; the bound only guards a cycle
                if run is None:
                    break
                found = self._spans.get(run)
                if found is not None:
                    return found
                if run not in self._hidden:
                    break  # a parent this handler never saw: nest as a top-level run
                run = self._hidden[run]
        return self._parent  # None: start_span takes the current span

    def _start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str,
        kind: str,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
    ) -> Span | None:
        if tags and HIDDEN_TAG in tags:
            with self._lock:
                self._hidden[run_id] = parent_run_id
            return None
        parent = self._parent_span(parent_run_id)
        span = start_span(name, kind, parent=parent, capture=self._capture)
        span.set_attribute("langchain.run_id", str(run_id))
        visible_tags = [t for t in tags or () if not t.startswith(("seq:step:", "graph:step:"))]
        if visible_tags:
            span.set_attribute("langchain.tags", visible_tags)
        node = (metadata or {}).get("langgraph_node")
        if node is not None:
            span.set_attribute("langgraph.node", node)
            step = (metadata or {}).get("langgraph_step")
            if step is not None:
                span.set_attribute("langgraph.step", step)
            if node == name and parent is not None and parent.kind == "CHAIN":
                parent.kind = "AGENT"  # a node's parent run is a (sub)graph
        with self._lock:
            self._spans[run_id] = span
        return span

    def _pop(self, run_id: UUID) -> Span | None:
        with self._lock:
            self._hidden.pop(run_id, None)
            return self._spans.pop(run_id, None)

    def _get(self, run_id: UUID) -> Span | None:
        with self._lock:
            return self._spans.get(run_id)

    def _end(self, run_id: UUID, output: Any = None, *, has_output: bool = True) -> None:
        span = self._pop(run_id)
        if span is None:
            return
        if has_output and span.capture and span.recording:
            span.set_output(output)
        span.end()

    def _error(self, run_id: UUID, error: BaseException) -> None:
        span = self._pop(run_id)
        if span is None:
            return
        if {k.__name__ for k in type(error).__mro__} & CONTROL_FLOW:
            span.add_event("langgraph.control_flow", {"type": type(error).__name__})
        else:
            span.record_exception(error)
        span.end()

    # Chains.
    def on_chain_start(
        self,
        serialized: dict[str, Any],
        inputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = _run_name(serialized, kwargs, "chain")
        ids: Any = (serialized or {}).get("id")
        agent = name in AGENT_CHAINS or (
            isinstance(ids, list) and bool(ids) and str(ids[-1]) in AGENT_CHAINS
        )
        span = self._start(
            run_id, parent_run_id, name, "AGENT" if agent else "CHAIN", tags, metadata
        )
        if span is not None and span.capture and span.recording:
            span.set_input(_value(inputs))

    def on_chain_end(
        self,
        outputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._end(run_id, _value(outputs))

    def on_chain_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._error(run_id, error)

    def on_agent_action(
        self,
        action: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        span = self._get(run_id)
        if span is not None:
            tool_input = getattr(action, "tool_input", None)
            span.add_event(
                "agent_action", {"tool": getattr(action, "tool", None), "input": tool_input}
            )

    def on_agent_finish(
        self,
        finish: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        span = self._get(run_id)
        if span is not None:
            span.add_event("agent_finish", {"output": getattr(finish, "return_values", None)})

    # Chat models and LLMs.
    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        span = self._start_llm(serialized, run_id, parent_run_id, tags, metadata, kwargs)
        if span is not None and span.capture and span.recording:
            batches = [[_message(m) for m in batch] for batch in messages]
            span.set_input(batches[0] if len(batches) == 1 else batches)

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        span = self._start_llm(serialized, run_id, parent_run_id, tags, metadata, kwargs)
        if span is not None and span.capture and span.recording:
            span.set_input(prompts[0] if len(prompts) == 1 else prompts)

    def _start_llm(
        self,
        serialized: dict[str, Any],
        run_id: UUID,
        parent_run_id: UUID | None,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        kwargs: dict[str, Any],
    ) -> Span | None:
        span = self._start(
            run_id, parent_run_id, _run_name(serialized, kwargs, "llm"), "LLM", tags, metadata
        )
        if span is None:
            return None
        params = kwargs.get("invocation_params") or {}
        model = (
            params.get("model")
            or params.get("model_name")
            or params.get("model_id")
            or (metadata or {}).get("ls_model_name")
        )
        if model:
            span.set_model(str(model))
        provider = (metadata or {}).get("ls_provider")
        if provider:
            span.set_attribute("llm.provider", provider)
        settings = {
            k: params[k]
            for k in ("temperature", "max_tokens", "top_p", "stop")
            if params.get(k) is not None
        }
        if settings:
            span.set_attribute("llm.parameters", settings)
        return span

    def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: Any = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        span = self._get(run_id)
        if span is not None and "llm.first_token_unix_nano" not in span.attributes:
            span.add_event("first_token")
            span.set_attribute("llm.first_token_unix_nano", span.events[-1]["time_unix_nano"])

    def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        span = self._pop(run_id)
        if span is None:
            return
        try:
            _record_result(span, response)
        finally:
            span.end()

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self._error(run_id, error)

    # Tools.
    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        span = self._start(
            run_id, parent_run_id, _run_name(serialized, kwargs, "tool"), "TOOL", tags, metadata
        )
        if span is not None and span.capture and span.recording:
            span.set_input(inputs if inputs is not None else input_str)

    def on_tool_end(
        self,
        output: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(output, BaseMessage):
            output = _message(output)
        self._end(run_id, output)

    def on_tool_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._error(run_id, error)

    # Retrievers.
    def on_retriever_start(
        self,
        serialized: dict[str, Any],
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = _run_name(serialized, kwargs, "retriever")
        span = self._start(run_id, parent_run_id, name, "RETRIEVER", tags, metadata)
        if span is not None and span.capture and span.recording:
            span.set_input(query)

    def on_retriever_end(
        self,
        documents: Sequence[Document],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._end(run_id, [_document(d) for d in documents])

    def on_retriever_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._error(run_id, error)


def _run_name(serialized: dict[str, Any] | None, kwargs: dict[str, Any], default: str) -> str:
    """The run's name as LangChain shows it: ``run_name``, else the serialized name or class."""
    name = kwargs.get("name")
    if name:
        return str(name)
    if serialized:
        if serialized.get("name"):
            return str(serialized["name"])
        ids = serialized.get("id")
        if isinstance(ids, list) and ids:
            return str(ids[-1])
    return default


def _message(message: BaseMessage) -> dict[str, Any]:
    """A message as ``{"role", "content"}`` plus its tool calls, name and call id if any."""
    out: dict[str, Any] = {"role": message.type, "content": to_jsonable(message.content)}
    if message.name:
        out["name"] = message.name
    tool_calls = getattr(message, "tool_calls", None)
    if tool_calls:
        out["tool_calls"] = to_jsonable(tool_calls)
    tool_call_id = getattr(message, "tool_call_id", None)
    if tool_call_id:
        out["tool_call_id"] = tool_call_id
    return out


def _document(document: Document) -> dict[str, Any]:
    out: dict[str, Any] = {
        "page_content": document.page_content,
        "metadata": to_jsonable(document.metadata),
    }
    if document.id is not None:
        out["id"] = document.id
    return out


def _value(value: Any) -> Any:
    """Chain inputs and outputs, with messages (LangGraph state) in their short form."""
    if isinstance(value, BaseMessage):
        return _message(value)
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and any(isinstance(v, BaseMessage) for v in value):
        return [_value(v) for v in value]
    return value


def _record_result(span: Span, response: LLMResult) -> None:
    """Output, model and token usage: ``usage_metadata`` on the messages, else the
    provider's ``llm_output`` (``token_usage`` or ``usage``)."""
    outputs: list[Any] = []
    usage = {"input": 0, "output": 0, "total": 0}
    found_usage = False
    model: str | None = None
    for generations in response.generations:
        for generation in generations:
            message = getattr(generation, "message", None)
            if isinstance(message, BaseMessage):
                outputs.append(_message(message))
                metadata = getattr(message, "usage_metadata", None)
                if metadata:
                    found_usage = True
                    usage["input"] += int(metadata.get("input_tokens") or 0)
                    usage["output"] += int(metadata.get("output_tokens") or 0)
                    usage["total"] += int(metadata.get("total_tokens") or 0)
                response_metadata = message.response_metadata or {}
                model = (
                    model or response_metadata.get("model_name") or response_metadata.get("model")
                )
            else:
                outputs.append(generation.text)
    llm_output = response.llm_output or {}
    if not found_usage:
        token_usage = llm_output.get("token_usage") or llm_output.get("usage") or {}
        if isinstance(token_usage, dict) and token_usage:
            found_usage = True
            usage["input"] = int(
                token_usage.get("prompt_tokens") or token_usage.get("input_tokens") or 0
            )
            usage["output"] = int(
                token_usage.get("completion_tokens") or token_usage.get("output_tokens") or 0
            )
            usage["total"] = int(token_usage.get("total_tokens") or 0)
    model = model or llm_output.get("model_name") or llm_output.get("model")
    if model:
        span.set_model(str(model))
    if found_usage:
        span.set_tokens(input=usage["input"], output=usage["output"], total=usage["total"] or None)
    if span.capture and span.recording:
        span.set_output(outputs[0] if len(outputs) == 1 else outputs)
