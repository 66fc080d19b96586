"""Issue 9 through a real ``agenttrace serve``: the storage worker prices model calls from
the bundled table or the project's own prices, keeps a client's cost, flags unknown
models, estimates tokens a stream did not report, and masks what the project's rules
match before anything is stored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.e2e.helpers import Api, served
from tests.payloads import native_batch, new_span_id, new_trace_id

EMAIL = "ada.lovelace@example.com"
OPENAI_KEY = "sk-proj-Zx81mQw2Lp9Rt6Yv3Nb7Kc5Hd4Jf0Gs"
CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with served(tmp_path_factory.mktemp("costs-serve"), name="costs-serve") as server:
        yield server.api


def _graphql(api: Api, query: str, **variables: Any) -> dict[str, Any]:
    response = api.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=api.auth
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _project_id(api: Api) -> str:
    projects = _graphql(api, "{ projects { id name } }")["projects"]
    assert len(projects) == 1
    project_id: str = projects[0]["id"]
    return project_id


def _spans(api: Api, trace_id: str, count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    api.wait_for_trace(trace_id, count)
    query = """
      query ($project: ID!, $trace: String!) {
        node(id: $project) { ... on Project { trace(traceId: $trace) {
          cost totalTokens
          spans { name kind cost costSource totalTokens inputTokens outputTokens tokensEstimated }
        } } }
      }"""
    project = _graphql(api, query, project=_project_id(api), trace=trace_id)["node"]
    trace = project["trace"]
    return trace, {span["name"]: span for span in trace["spans"]}


def _span(name: str, parent: str | None, kind: str, **fields: Any) -> dict[str, Any]:
    t0 = time.time_ns()
    return {
        "span_id": fields.pop("span_id", new_span_id()),
        "parent_span_id": parent,
        "name": name,
        "kind": kind,
        "start_time": t0,
        "end_time": t0 + 50_000_000,
        **fields,
    }


def test_model_calls_are_priced_once_and_unknown_models_are_flagged(serve: Api) -> None:
    project = _project_id(serve)
    _graphql(
        serve,
        """mutation ($p: ID!) { setModelPrice(projectId: $p, price: {
              model: "acme-finetune-v2", input: 4.0, output: 16.0, effectiveFrom: "2020-01-01"
           }) { model } }""",
        p=project,
    )
    root = new_span_id()
    trace_id = new_trace_id()
    spans = [
        _span("agent", None, "AGENT", span_id=root),
        _span("openai", root, "LLM", model="gpt-4o", input_tokens=1000, output_tokens=200),
        _span(
            "anthropic",
            root,
            "LLM",
            model="claude-3-5-haiku-20241022",
            input_tokens=2000,
            output_tokens=500,
            attributes={"llm.usage.cache_read_input_tokens": 10_000},
        ),
        _span("client-priced", root, "LLM", model="gpt-4o", input_tokens=10, cost=0.25),
        _span("mystery", root, "LLM", model="mystery-model-9", input_tokens=100, output_tokens=1),
        _span(
            "own-price",
            root,
            "LLM",
            model="acme-finetune-v2",
            input_tokens=1000,
            output_tokens=1000,
        ),
        _span("tool", root, "TOOL", input={"q": "weather"}),
    ]
    response = serve.post(
        "/api/v1/traces", orjson.dumps(native_batch(trace_id, spans)), "application/json"
    )
    assert response.status_code == 200, response.text

    trace, by_name = _spans(serve, trace_id, len(spans))

    openai = (1000 * 2.50 + 200 * 10.00) / 1e6
    anthropic = (2000 * 0.80 + 10_000 * 0.08 + 500 * 4.00) / 1e6
    own = (1000 * 4.0 + 1000 * 16.0) / 1e6
    assert by_name["openai"]["cost"] == pytest.approx(openai)
    assert by_name["anthropic"]["cost"] == pytest.approx(anthropic)
    assert by_name["own-price"]["cost"] == pytest.approx(own)
    assert by_name["openai"]["costSource"] == by_name["anthropic"]["costSource"] == "BUNDLED_PRICE"
    assert by_name["own-price"]["costSource"] == "PROJECT_PRICE"
    assert (by_name["client-priced"]["cost"], by_name["client-priced"]["costSource"]) == (
        0.25,
        "CLIENT",
    )
    assert (by_name["mystery"]["cost"], by_name["mystery"]["costSource"]) == (None, "UNKNOWN_MODEL")
    # Parents are never priced, and the trace adds each model call once.
    assert (by_name["agent"]["cost"], by_name["agent"]["costSource"]) == (None, None)
    assert (by_name["tool"]["cost"], by_name["tool"]["costSource"]) == (None, None)
    assert trace["cost"] == pytest.approx(openai + anthropic + 0.25 + own)


def test_a_stream_without_usage_gets_estimated_tokens_and_a_price(serve: Api) -> None:
    trace_id = new_trace_id()
    messages = [{"role": "user", "content": "Write a haiku about distributed tracing. " * 20}]
    streamed = _span("streamed", None, "LLM", model="gpt-4o-mini", input=messages)
    streamed["output"] = {"role": "assistant", "content": "Spans drift like leaves " * 10}
    response = serve.post(
        "/api/v1/traces", orjson.dumps(native_batch(trace_id, [streamed])), "application/json"
    )
    assert response.status_code == 200, response.text

    _, by_name = _spans(serve, trace_id, 1)

    span = by_name["streamed"]
    assert span["tokensEstimated"] is True
    assert 150 < span["inputTokens"] < 250  # ~9 tokens a sentence, 20 sentences, plus the role
    assert 40 < span["outputTokens"] < 70
    assert span["costSource"] == "BUNDLED_PRICE"
    expected = (span["inputTokens"] * 0.15 + span["outputTokens"] * 0.60) / 1e6
    assert span["cost"] == pytest.approx(expected)


def test_masking_rules_remove_secrets_before_they_are_stored(serve: Api) -> None:
    project = _project_id(serve)
    rules = _graphql(
        serve,
        """mutation ($p: ID!) { setMaskingRules(projectId: $p, rules: [
              {type: EMAIL}, {type: API_KEY}, {type: CARD_NUMBER},
              {type: KEY, match: "*password*"}
           ]) { type match } }""",
        p=project,
    )["setMaskingRules"]
    assert [rule["type"] for rule in rules] == ["EMAIL", "API_KEY", "CARD_NUMBER", "KEY"]
    # Every storage worker picks rules up within its policy cache's 10 s; wait it out.
    time.sleep(11)

    trace_id = new_trace_id()
    span = _span(
        f"signup {EMAIL}",
        None,
        "TOOL",
        input={"email": EMAIL, "note": f"card {CARD}", "db_password": "hunter2"},
        output=f"created; key {OPENAI_KEY}",
        attributes={"user.contact": EMAIL, "safe": "kept as it is"},
        metadata={"owner": EMAIL},
    )
    response = serve.post(
        "/api/v1/traces", orjson.dumps(native_batch(trace_id, [span])), "application/json"
    )
    assert response.status_code == 200, response.text

    stored = serve.wait_for_trace(trace_id, 1)
    text = orjson.dumps(stored).decode()
    for secret in (EMAIL, OPENAI_KEY, CARD, "hunter2"):
        assert secret not in text
    span_json = stored["spans"][0]
    assert span_json["name"] == "signup [MASKED:EMAIL]"
    assert span_json["input"] == {
        "email": "[MASKED:EMAIL]",
        "note": "card [MASKED:CARD_NUMBER]",
        "db_password": "[MASKED]",
    }
    assert span_json["output"] == "created; key [MASKED:API_KEY]"
    assert span_json["attributes"]["safe"] == "kept as it is"


def test_a_bad_masking_rule_is_refused_naming_it(serve: Api) -> None:
    response = serve.http.post(
        "/graphql",
        json={
            "query": 'mutation ($p: ID!) { setMaskingRules(projectId: $p, rules: [{type: REGEX, match: "(x"}]) { type } }',
            "variables": {"p": _project_id(serve)},
        },
        headers=serve.auth,
    )
    errors = response.json()["errors"]
    assert "rule 1: not a regular expression" in errors[0]["message"]
    assert errors[0]["extensions"]["code"] == "INVALID_ARGUMENT"
