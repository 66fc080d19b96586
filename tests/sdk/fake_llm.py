"""A fake OpenAI- and Anthropic-compatible HTTP server on loopback, for the client
integrations' tests: ``/v1/chat/completions``, ``/v1/responses`` and ``/v1/messages``, as
JSON or as SSE streams with usage. A model named ``fail-500`` or ``fail-400`` gets that
error. Every request body is kept in ``requests``. With ``tool_arguments`` (tool name ->
arguments), a non-streaming chat completion offered one of those tools calls it once (until
the conversation holds a tool result), as an agent framework's model would."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = ["Hel", "lo"]


class FakeLLM:
    def __init__(self, tool_arguments: dict[str, dict[str, Any]] | None = None) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.tool_arguments = tool_arguments or {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append((self.path, body))
                model = str(body.get("model", ""))
                if model.startswith("fail-"):
                    status = int(model.split("-")[1])
                    self.send_json(status, fake.error(self.path, status))
                elif self.path == "/v1/chat/completions":
                    if body.get("stream"):
                        usage = (body.get("stream_options") or {}).get("include_usage", False)
                        self.send_sse([(None, e) for e in fake.chat_chunks(model, usage)], True)
                    else:
                        self.send_json(200, fake.chat_completion(model, fake.tool_call(body)))
                elif self.path == "/v1/responses":
                    if body.get("stream"):
                        self.send_sse([(e["type"], e) for e in fake.response_events(model)])
                    else:
                        self.send_json(200, fake.response(model))
                elif self.path == "/v1/messages":
                    if body.get("stream"):
                        self.send_sse([(e["type"], e) for e in fake.message_events(model)])
                    else:
                        self.send_json(200, fake.message(model))
                else:
                    self.send_json(404, {"error": {"message": "not found"}})

            def send_json(self, status: int, value: Any) -> None:
                data = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def send_sse(self, events: list[tuple[str | None, Any]], done: bool = False) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.close_connection = True
                try:
                    for name, data in events:
                        prefix = f"event: {name}\n" if name else ""
                        self.wfile.write(f"{prefix}data: {json.dumps(data)}\n\n".encode())
                        self.wfile.flush()
                    if done:
                        self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client closed the stream early

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    @staticmethod
    def error(path: str, status: int) -> dict[str, Any]:
        message = f"fake error {status}"
        if path == "/v1/messages":
            return {"type": "error", "error": {"type": "api_error", "message": message}}
        return {"error": {"message": message, "type": "server_error", "code": None}}

    # OpenAI chat completions
    def tool_call(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The call this request's model makes: the first offered tool we have arguments
        for, unless a tool already answered in this conversation."""
        if any(m.get("role") == "tool" for m in body.get("messages", [])):
            return None
        for offered in body.get("tools") or []:
            name = offered.get("function", {}).get("name")
            if name in self.tool_arguments:
                arguments = json.dumps(self.tool_arguments[name])
                return {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
        return None

    @staticmethod
    def chat_completion(model: str, tool_call: dict[str, Any] | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(REPLY)}
        if tool_call is not None:
            message = {"role": "assistant", "content": None, "tool_calls": [tool_call]}
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": f"{model}-2025",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "stop" if tool_call is None else "tool_calls",
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13},
        }

    @staticmethod
    def chat_chunks(model: str, usage: bool) -> list[dict[str, Any]]:
        def chunk(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
            value: dict[str, Any] = {
                "id": "chatcmpl-2",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": f"{model}-2025",
                "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
            }
            if usage:
                value["usage"] = None
            return value

        chunks = [chunk({"role": "assistant", "content": ""})]
        chunks += [chunk({"content": part}) for part in REPLY]
        chunks.append(chunk({}, "stop"))
        if usage:
            last = chunk({})
            last["choices"] = []
            last["usage"] = {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}
            chunks.append(last)
        return chunks

    # OpenAI responses
    @staticmethod
    def response(model: str) -> dict[str, Any]:
        return {
            "id": "resp_1",
            "object": "response",
            "created_at": 1,
            "model": f"{model}-2025",
            "status": "completed",
            "output": [
                {
                    "type": "message",
                    "id": "msg_1",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": "".join(REPLY), "annotations": []}],
                }
            ],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": 7,
                "output_tokens": 2,
                "total_tokens": 9,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        }

    @classmethod
    def response_events(cls, model: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [
            {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
             "content_index": 0, "delta": part, "sequence_number": i, "logprobs": []}
            for i, part in enumerate(REPLY)
        ]  # fmt: skip
        events.append(
            {"type": "response.completed", "response": cls.response(model), "sequence_number": 9}
        )
        return events

    # Anthropic messages
    @staticmethod
    def message(model: str) -> dict[str, Any]:
        return {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": f"{model}-2025",
            "content": [{"type": "text", "text": "".join(REPLY)}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 12, "output_tokens": 3},
        }

    @staticmethod
    def message_events(model: str) -> list[dict[str, Any]]:
        start = {
            "id": "msg_2",
            "type": "message",
            "role": "assistant",
            "model": f"{model}-2025",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 12, "output_tokens": 1},
        }
        events: list[dict[str, Any]] = [
            {"type": "message_start", "message": start},
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ]
        events += [
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}
            for p in REPLY
        ]
        events += [
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 3},
            },
            {"type": "message_stop"},
        ]
        return events
