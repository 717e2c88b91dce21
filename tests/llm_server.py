"""A real HTTP endpoint that speaks the OpenAI chat-completions protocol, for the tests
and for the documented study (docs/evaluate.md): it answers from the replies recorded in
``tests/data/llm_cassette.json``.

The cassette names models; each has the options it prefers (the first of them that the
briefing lists as available is its choice, else the first available), and a script of
reply kinds, one per try of a decision (the try is the number of the model's own answers
in the conversation; the last kind repeats). The kinds' texts are the recorded replies,
with the chosen option and the rationale put in. The server runs on 127.0.0.1 on a free
port, in a thread, and stops when its ``with`` block ends.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CASSETTE = Path(__file__).parent / "data" / "llm_cassette.json"
AVAILABLE = "Your options now (id: what it is):"
UNAVAILABLE = "Not available now:"


def _options(prompt: str, heading: str) -> list[str]:
    if heading not in prompt:
        return []
    out = []
    for line in prompt.split(heading, 1)[1].splitlines()[1:]:
        if not line.startswith("- "):
            break
        out.append(line[2:].split(":", 1)[0])
    return out


class Endpoint:
    """The server's state: the cassette and every request it received."""

    def __init__(self, cassette: dict[str, Any]) -> None:
        self.cassette = cassette
        self.requests: list[dict[str, Any]] = []
        self.seen: dict[str, int] = {}  # conversation -> times asked (a retry after an error)
        self.lock = threading.Lock()
        self.url = ""

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
        model = self.cassette["models"].get(body.get("model"))
        if model is None:
            return 404, {"error": {"message": f"model '{body.get('model')}' not found"}}, 0
        if "status" in model:
            return model["status"], {"error": {"message": model.get("message", "refused")}}, 0
        conversation = body["messages"]
        prompt = next(m["content"] for m in conversation if m["role"] == "user")
        said = json.dumps(conversation, sort_keys=True)
        with self.lock:
            again = self.seen.get(said, 0)
            self.seen[said] = again + 1
        tries = sum(1 for m in conversation if m["role"] == "assistant") + again
        script = model["script"]
        kind = script[min(tries, len(script) - 1)]
        available = _options(prompt, AVAILABLE)
        closed = _options(prompt, UNAVAILABLE)
        option = next(
            (o for o in model.get("prefer", []) if o in available),
            available[0] if available else "",
        )
        if kind == "http500":
            return 500, {"error": {"message": "the model crashed"}}, 0
        delay = float(model.get("delay", 0)) if kind == "slow" else 0.0
        if kind == "unavailable":
            option = closed[0] if closed else "launch_everything"
        template = self.cassette["replies"]["json" if kind == "slow" else kind]
        system = next((m["content"] for m in conversation if m["role"] == "system"), "")
        recipient = (
            system.split("write to, by id: ", 1)[-1].split(" ", 1)[0]
            if "write to, by id: " in system
            else ""
        )
        text = (
            template.replace("{option}", option)
            .replace("{to}", recipient)
            .replace("{rationale}", model.get("rationale", ""))
        )
        words = sum(len(m["content"]) for m in conversation)
        return (
            200,
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "model": body["model"],
                "created": 0,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text},
                    }
                ],
                "usage": {
                    "prompt_tokens": words // 4,
                    "completion_tokens": len(text) // 4,
                    "total_tokens": words // 4 + len(text) // 4,
                },
            },
            delay,
        )


def _handler(endpoint: Endpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            with endpoint.lock:
                endpoint.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
            if not self.path.endswith("/chat/completions"):
                status, doc, delay = 404, {"error": {"message": "no such path"}}, 0.0
            else:
                status, doc, delay = endpoint.answer(body)
            if delay:
                time.sleep(delay)
            data = json.dumps(doc).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                pass

    return Handler


@contextmanager
def serve(cassette: Path = CASSETTE) -> Iterator[Endpoint]:
    """The endpoint, listening on 127.0.0.1 (a free port) until the block ends; its
    ``url`` is the base URL a client is given (``http://127.0.0.1:PORT/v1``)."""
    endpoint = Endpoint(json.loads(cassette.read_text()))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(endpoint))
    server.daemon_threads = True
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
