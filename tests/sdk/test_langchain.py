"""The LangChain callback handler against a real ``agenttrace serve``: a chain (retriever,
chat model, tool) and a LangGraph graph arrive as span trees, read back through REST."""

from __future__ import annotations

import operator
import subprocess
import sys
from typing import Annotated, Any, TypedDict
from uuid import uuid4

import agenttrace_sdk as at
import pytest
from agenttrace_sdk.integrations.langchain import AgentTraceCallbackHandler
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolCall, ToolMessage
from langchain_core.outputs import Generation, LLMResult
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langgraph.errors import GraphInterrupt
from langgraph.graph import END, START, StateGraph

from tests.e2e.helpers import Api
from tests.sdk.conftest import RecordingSink, spans_by_name

USAGE = {"input_tokens": 12, "output_tokens": 7, "total_tokens": 19}


@tool
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


@tool
def explode(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"tool failed: {reason}")


class Docs(BaseRetriever):
    """Two fixed documents, whatever the query."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(page_content=f"{query}: one", metadata={"source": "a.md"}, id="doc-1"),
            Document(page_content=f"{query}: two", metadata={"source": "b.md"}, id="doc-2"),
        ]


def fake_model(*replies: AIMessage) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(replies))


def tool_call(tool_name: str, args: dict[str, Any]) -> AIMessage:
    """The model's reply: one call of ``tool_name``, with token usage and a model name."""
    return AIMessage(
        content="",
        tool_calls=[{"name": tool_name, "args": args, "id": "call-1"}],
        usage_metadata=dict(USAGE),
        response_metadata={"model_name": "fake-gpt"},
    )


def children(trace: dict[str, Any], parent_id: str) -> list[str]:
    return sorted(s["name"] for s in trace["spans"] if s["parent_span_id"] == parent_id)


def test_a_chain_with_a_retriever_a_model_and_a_tool_nests_under_the_current_span(
    sdk: Api,
) -> None:
    model = fake_model(tool_call("add", {"a": 2, "b": 3}))

    def to_messages(docs: list[Document]) -> list[HumanMessage]:
        return [HumanMessage("Sum these. " + " ".join(d.page_content for d in docs))]

    def run_tool(message: AIMessage) -> ToolMessage:
        result: ToolMessage = add.invoke(message.tool_calls[0])
        return result

    chain = (Docs() | RunnableLambda(to_messages) | model | RunnableLambda(run_tool)).with_config(
        run_name="rag"
    )
    handler = AgentTraceCallbackHandler()
    with at.span("request", kind="AGENT") as root:
        result = chain.invoke("numbers", config={"callbacks": [handler]})
    assert result.content == "5"
    assert at.flush(30)

    trace = sdk.wait_for_trace(root.trace_id, 7)
    spans = spans_by_name(trace)
    assert children(trace, root.span_id) == ["rag"]
    rag = spans["rag"]
    assert rag["kind"] == "CHAIN"
    assert children(trace, rag["span_id"]) == [
        "Docs",
        "GenericFakeChatModel",
        "run_tool",
        "to_messages",
    ]
    assert children(trace, spans["run_tool"]["span_id"]) == ["add"]

    retriever = spans["Docs"]
    assert retriever["kind"] == "RETRIEVER"
    assert retriever["input"] == "numbers"
    assert retriever["output"] == [
        {"page_content": "numbers: one", "metadata": {"source": "a.md"}, "id": "doc-1"},
        {"page_content": "numbers: two", "metadata": {"source": "b.md"}, "id": "doc-2"},
    ]
    llm = spans["GenericFakeChatModel"]
    assert llm["kind"] == "LLM"
    assert llm["model"] == "fake-gpt"
    assert (llm["input_tokens"], llm["output_tokens"], llm["total_tokens"]) == (12, 7, 19)
    assert llm["input"] == [{"role": "human", "content": "Sum these. numbers: one numbers: two"}]
    assert llm["output"]["tool_calls"][0]["name"] == "add"
    add_span = spans["add"]
    assert add_span["kind"] == "TOOL"
    assert add_span["input"] == {"a": 2, "b": 3}
    assert add_span["output"] == {
        "role": "tool",
        "content": "5",
        "name": "add",
        "tool_call_id": "call-1",
    }
    assert all(s["status"] == "OK" for s in trace["spans"])
    assert trace["total_tokens"] == 19


class State(TypedDict):
    messages: Annotated[list[AnyMessage], operator.add]


def build_graph(model: GenericFakeChatModel, tools: dict[str, Any], *, run_async: bool) -> Any:
    """START -> agent (the model) -> tools (the tool the model called) -> END."""

    def last_call(state: State) -> ToolCall:
        last = state["messages"][-1]
        assert isinstance(last, AIMessage)
        return last.tool_calls[0]

    def agent(state: State) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    def act(state: State) -> dict[str, Any]:
        call = last_call(state)
        return {"messages": [tools[call["name"]].invoke(call)]}

    async def agent_async(state: State) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    async def act_async(state: State) -> dict[str, Any]:
        call = last_call(state)
        return {"messages": [await tools[call["name"]].ainvoke(call)]}

    graph = StateGraph(State)
    if run_async:
        graph.add_node("agent", agent_async)
        graph.add_node("tools", act_async)
    else:
        graph.add_node("agent", agent)
        graph.add_node("tools", act)
    graph.add_edge(START, "agent")
    graph.add_edge("agent", "tools")
    graph.add_edge("tools", END)
    return graph.compile()


async def test_a_langgraph_graph_run_async_nests_nodes_model_and_tool(sdk: Api) -> None:
    app = build_graph(fake_model(tool_call("add", {"a": 2, "b": 3})), {"add": add}, run_async=True)
    handler = AgentTraceCallbackHandler()
    with at.span("request", kind="AGENT") as root:
        state = await app.ainvoke(
            {"messages": [HumanMessage("2 + 3?")]}, config={"callbacks": [handler]}
        )
    assert state["messages"][-1].content == "5"
    assert at.flush(30)

    trace = sdk.wait_for_trace(root.trace_id, 6)
    spans = spans_by_name(trace)
    assert len(trace["spans"]) == 6, sorted(spans)
    graph = spans["LangGraph"]
    assert graph["parent_span_id"] == root.span_id
    assert graph["kind"] == "AGENT"
    assert children(trace, graph["span_id"]) == ["agent", "tools"]
    assert (spans["agent"]["kind"], spans["tools"]["kind"]) == ("CHAIN", "CHAIN")
    assert children(trace, spans["agent"]["span_id"]) == ["GenericFakeChatModel"]
    assert children(trace, spans["tools"]["span_id"]) == ["add"]
    llm = spans["GenericFakeChatModel"]
    assert (llm["kind"], llm["model"], llm["total_tokens"]) == ("LLM", "fake-gpt", 19)
    assert llm["attributes"]["langgraph.node"] == "agent"
    assert spans["add"]["kind"] == "TOOL"
    assert spans["add"]["output"]["content"] == "5"
    assert graph["output"]["messages"][-1] == {
        "role": "tool",
        "content": "5",
        "name": "add",
        "tool_call_id": "call-1",
    }
    assert trace["status"] == "OK"


def test_an_exception_in_a_tool_is_recorded_on_every_run_it_crosses_and_reraised(
    sdk: Api,
) -> None:
    app = build_graph(
        fake_model(tool_call("explode", {"reason": "boom"})), {"explode": explode}, run_async=False
    )
    handler = AgentTraceCallbackHandler()
    with pytest.raises(ValueError, match="tool failed: boom"), at.span("request") as root:
        app.invoke({"messages": [HumanMessage("boom")]}, config={"callbacks": [handler]})
    assert at.flush(30)
    assert not handler._spans  # every run's span ended

    trace = sdk.wait_for_trace(root.trace_id, 6)
    spans = spans_by_name(trace)
    failed = spans["explode"]
    assert failed["kind"] == "TOOL"
    assert failed["status"] == "ERROR"
    assert failed["error"]["type"] == "ValueError"
    assert failed["error"]["message"] == "tool failed: boom"
    assert 'raise ValueError(f"tool failed: {reason}")' in failed["error"]["stack"]
    for name in ("tools", "LangGraph", "request"):
        assert spans[name]["status"] == "ERROR", name
    assert spans["agent"]["status"] == "OK"
    assert trace["status"] == "ERROR"


def test_runs_from_many_threads_with_one_handler_each_get_their_own_tree(
    recorded: RecordingSink,
) -> None:
    def work(n: int) -> int:
        result: int = add.invoke({"a": n, "b": 1})
        return result

    handler = AgentTraceCallbackHandler()
    chain = RunnableLambda(work).with_config(run_name="work")
    # batch runs each input in a thread pool: callbacks arrive from several threads at once.
    results = chain.batch(list(range(20)), config={"callbacks": [handler], "max_concurrency": 8})
    assert results == [n + 1 for n in range(20)]
    assert not handler._spans
    roots = [s for s in recorded.ended if s.name == "work"]
    tools = [s for s in recorded.ended if s.name == "add"]
    assert (len(roots), len(tools)) == (20, 20)
    assert len({s.trace_id for s in roots}) == 20
    by_id = {s.span_id: s for s in roots}
    for tool_span in tools:
        parent = by_id[tool_span.parent_span_id or ""]
        assert parent.trace_id == tool_span.trace_id
        assert tool_span.input == {"a": parent.input, "b": 1}
        assert tool_span.output == parent.output == parent.input + 1


def test_a_completion_llm_takes_model_and_tokens_from_llm_output(recorded: RecordingSink) -> None:
    handler = AgentTraceCallbackHandler()
    run_id = uuid4()
    handler.on_llm_start(
        {"id": ["langchain", "llms", "OpenAI"]},
        ["Say hi"],
        run_id=run_id,
        invocation_params={"model_name": "gpt-3.5-turbo-instruct", "temperature": 0.2},
    )
    handler.on_llm_end(
        LLMResult(
            generations=[[Generation(text="hi")]],
            llm_output={
                "token_usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
                "model_name": "gpt-3.5-turbo-instruct-0914",
            },
        ),
        run_id=run_id,
    )
    (span,) = recorded.ended
    assert (span.name, span.kind, span.model) == ("OpenAI", "LLM", "gpt-3.5-turbo-instruct-0914")
    assert (span.input_tokens, span.output_tokens, span.total_tokens) == (3, 1, 4)
    assert (span.input, span.output) == ("Say hi", "hi")
    assert span.attributes["llm.parameters"] == {"temperature": 0.2}


def test_hidden_runs_are_skipped_and_an_interrupt_is_not_an_error(
    recorded: RecordingSink,
) -> None:
    with at.span("outer") as outer:
        pass
    handler = AgentTraceCallbackHandler(parent=outer)
    graph, hidden, tool_run = uuid4(), uuid4(), uuid4()
    handler.on_chain_start({}, {"q": 1}, run_id=graph, name="my-graph")
    handler.on_chain_start(
        {}, {}, run_id=hidden, parent_run_id=graph, tags=["langsmith:hidden"], name="ChannelWrite"
    )
    handler.on_tool_start(
        {"name": "lookup"}, "x", run_id=tool_run, parent_run_id=hidden, inputs={"key": "x"}
    )
    handler.on_tool_end("found", run_id=tool_run, parent_run_id=hidden)
    handler.on_chain_end({}, run_id=hidden, parent_run_id=graph)
    handler.on_chain_error(GraphInterrupt(), run_id=graph)
    spans = recorded.by_name()
    assert sorted(spans) == ["lookup", "my-graph", "outer"]
    assert spans["my-graph"].parent_span_id == outer.span_id
    assert spans["lookup"].parent_span_id == spans["my-graph"].span_id
    assert (spans["lookup"].input, spans["lookup"].output) == ({"key": "x"}, "found")
    assert spans["my-graph"].status == "OK"
    assert spans["my-graph"].error is None
    assert [e["name"] for e in spans["my-graph"].events] == ["langgraph.control_flow"]
    assert not handler._spans
    assert not handler._hidden


def test_the_module_imports_without_the_other_integrations_or_langgraph() -> None:
    code = (
        "import sys\n"
        "for name in ('openai', 'anthropic', 'langgraph'):\n"
        "    sys.modules[name] = None  # an import of any of them now fails\n"
        "from agenttrace_sdk.integrations.langchain import AgentTraceCallbackHandler\n"
        "AgentTraceCallbackHandler()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
