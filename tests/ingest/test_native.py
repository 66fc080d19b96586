"""The native batch decoder keeps valid spans and names the problem with each bad one."""

from __future__ import annotations

import orjson

from ingest.native import decode


def test_an_unknown_kind_rejects_only_that_span() -> None:
    body = {
        "traces": [
            {
                "trace_id": "a" * 32,
                "user_id": "u1",
                "spans": [
                    {"span_id": "b" * 16, "name": "x", "start_time": 5, "kind": "WIZARD"},
                    {"span_id": "c" * 16, "name": "y", "start_time": 5, "kind": "LLM"},
                ],
            }
        ]
    }
    decoded = decode(orjson.dumps(body))
    assert [s["span_id"] for s in decoded.spans] == ["c" * 16]
    assert decoded.spans[0]["user_id"] == "u1"
    [rejected] = decoded.rejected
    assert (rejected.index, rejected.span_id) == (0, "b" * 16)
    assert "kind must be one of" in rejected.error
