"""A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions and speech protocols with scripted answers.

Each request takes the next step of the script: `Reply(content)` answers a chat.completion whose
message is `content`; `Fail(status)` answers an error body with that HTTP status; `Stall(seconds)`
waits before answering the following step; `Respond(fn)` answers `fn(request body)` as the content.
When the script runs out, the last step repeats.

POST /v1/audio/speech (the OpenAI audio API: JSON {model, input, voice, response_format, speed})
answers a real WAV file: a 220-330 Hz tone burst per word of `input` (0.2 s each at speed 1.0, shorter
when faster) between 0.3 s of silence, mono 24 kHz, 16-bit PCM or, with a `Speak(float32=True)`
step, 32-bit float as some servers send. Any step other than Fail or Stall answers with speech.
Every request path, body and Authorization header is recorded for the test to inspect.
"""

from __future__ import annotations

import io
import json
import struct
import threading
import time
import wave
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

SPEECH_RATE = 24000  # Hz, what OpenAI's speech API sends
WORD_S = 0.2
EDGE_SILENCE_S = 0.3


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
class Speak:
    float32: bool = False  # answer IEEE-float samples instead of 16-bit PCM


@dataclass
class Stall:
    seconds: float
    then: Reply | Fail | Speak


def speech_samples(text: str, speed: float = 1.0) -> np.ndarray:
    """A tone burst per word with short gaps, silence at both ends; floats in -0.5..0.5."""
    word = int(WORD_S / speed * SPEECH_RATE)
    gap = np.zeros(int(0.05 / speed * SPEECH_RATE))
    edge = np.zeros(int(EDGE_SILENCE_S * SPEECH_RATE))
    parts = [edge]
    for i, _ in enumerate(text.split()):
        t = np.arange(word) / SPEECH_RATE
        parts += [0.5 * np.sin(2 * np.pi * (220 + 10 * (i % 12)) * t), gap]
    parts.append(edge)
    return np.concatenate(parts)


def wav_bytes(samples: np.ndarray, *, float32: bool = False) -> bytes:
    """A WAV file of mono samples: 16-bit PCM through the wave module, or IEEE float (format 3) by hand."""
    if not float32:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SPEECH_RATE)
            w.writeframes((samples * 32767).astype("<i2").tobytes())
        return buf.getvalue()
    data = samples.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, SPEECH_RATE, SPEECH_RATE * 4, 4, 32)
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data)


class ChatServer:
    def __init__(self, script: list | None = None, *, model: str = "scripted"):
        self.script = list(script or [])
        self.model = model
        self.requests: list[dict] = []
        self.paths: list[str] = []
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

            def _send_audio(self, audio: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "audio/wav")
                self.send_header("Content-Length", str(len(audio)))
                self.end_headers()
                try:
                    self.wfile.write(audio)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.paths.append(self.path)
                server.auth_headers.append(self.headers.get("Authorization"))
                if self.path not in ("/v1/chat/completions", "/v1/audio/speech"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                step = server._next()
                if isinstance(step, Stall):
                    time.sleep(step.seconds)
                    step = step.then
                if isinstance(step, Fail):
                    return self._send(step.status, {"error": {"message": step.message}})
                if self.path == "/v1/audio/speech":
                    return self._speech(body, step if isinstance(step, Speak) else Speak())
                if isinstance(step, Respond):
                    step = Reply(step.answer(body))
                return self._send(200, server.completion(step))

            def _speech(self, body: dict, step: Speak) -> None:
                missing = [k for k in ("model", "input", "voice") if not body.get(k)]
                if missing:
                    return self._send(400, {"error": {"message": f"missing {', '.join(missing)}"}})
                if body.get("response_format", "mp3") != "wav":
                    return self._send(400, {"error": {"message": "this server only makes wav"}})
                samples = speech_samples(body["input"], float(body.get("speed") or 1.0))
                return self._send_audio(wav_bytes(samples, float32=step.float32))

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
