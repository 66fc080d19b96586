"""AgentTrace Python SDK: trace LLM agents with decorators and context managers.

    import agenttrace_sdk as at

    at.init(api_key="at_...")          # or AGENTTRACE_API_KEY / AGENTTRACE_ENDPOINT

    @at.trace(kind="AGENT")
    def answer(question: str) -> str:
        with at.span("search", kind="TOOL") as s:
            s.set_output(search(question))
        at.current_span().set_model("gpt-4o").set_tokens(input=120, output=30)
        ...

See sdk/README.md for the API, the settings and the delivery guarantees.
"""

from agenttrace_sdk.client import flush, init, shutdown, stats
from agenttrace_sdk.config import Config
from agenttrace_sdk.decorators import SpanScope, span, trace
from agenttrace_sdk.otel import otel_context
from agenttrace_sdk.spans import (
    KINDS,
    Span,
    current_span,
    start_span,
    update_current_trace,
    use_span,
)
from agenttrace_sdk.stats import Stats
from agenttrace_sdk.threads import ContextThreadPoolExecutor, wrap
from agenttrace_sdk.version import __version__

__all__ = [
    "KINDS",
    "Config",
    "ContextThreadPoolExecutor",
    "Span",
    "SpanScope",
    "Stats",
    "__version__",
    "current_span",
    "flush",
    "init",
    "otel_context",
    "shutdown",
    "span",
    "start_span",
    "stats",
    "trace",
    "update_current_trace",
    "use_span",
    "wrap",
]
