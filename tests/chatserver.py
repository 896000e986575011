"""A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions protocol with scripted answers.

Each request takes the next step of the script: `Reply(content)` answers a chat.completion whose
message is `content`; `Fail(status)` answers an error body with that HTTP status; `Stall(seconds)`
waits before answering the following step; `Respond(fn)` answers `fn(request body)` as the content.
When the script runs out, the last step repeats.
Every request body and Authorization header is recorded for the test to inspect.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    content: str
    finish_reason: str = "stop"


@dataclass
class Fail:
    status: int
    message: str = "scripted failure"


@dataclass
class Respond:
    answer: object  # callable: request body (dict) -> message content (str)


@dataclass
class Stall:
    seconds: float
    then: Reply | Fail


class ChatServer:
    def __init__(self, script: list | None = None, *, model: str = "scripted"):
        self.script = list(script or [])
        self.model = model
        self.requests: list[dict] = []
        self.auth_headers: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, obj: dict) -> None:
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.auth_headers.append(self.headers.get("Authorization"))
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                step = server._next()
                if isinstance(step, Stall):
                    time.sleep(step.seconds)
                    step = step.then
                if isinstance(step, Fail):
                    return self._send(step.status, {"error": {"message": step.message}})
                if isinstance(step, Respond):
                    step = Reply(step.answer(body))
                return self._send(200, server.completion(step))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _next(self):
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def completion(self, step: Reply) -> dict:
        return {"id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
                "model": self.model,
                "choices": [{"index": 0, "finish_reason": step.finish_reason,
                             "message": {"role": "assistant", "content": step.content}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}

    def __enter__(self) -> "ChatServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
