from __future__ import annotations

from enum import StrEnum

import strawberry


@strawberry.enum(description="What a span did (OpenInference kinds).")
class SpanKind(StrEnum):
    AGENT = "AGENT"
    LLM = "LLM"
    TOOL = "TOOL"
    CHAIN = "CHAIN"
    RETRIEVER = "RETRIEVER"
    EMBEDDING = "EMBEDDING"
    RERANKER = "RERANKER"
    GUARDRAIL = "GUARDRAIL"
    EVALUATOR = "EVALUATOR"
    SPAN = "SPAN"
