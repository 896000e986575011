"""Any server that speaks the OpenAI embeddings API (vLLM, TEI, llama.cpp server, Ollama, OpenAI itself).

POST {base_url}/embeddings with {"model": ..., "input": [...]}; the answer's `data[i].embedding` is
matched back to its text by `data[i].index`. Network errors, 429 and 5xx are retried with exponential
backoff (honouring Retry-After); everything else fails at once with a message that says what to fix.
The API key is sent only in the Authorization header and is never logged or put in an error message.
"""

from __future__ import annotations

import base64
import logging
import os
import time
from typing import Self

import httpx
import numpy as np

from .base import EmbeddingDimMismatch, EmbeddingServerError, TextEmbedder, l2_normalize

log = logging.getLogger(__name__)

API_KEY_ENV = "TRENDREEL_EMBED_API_KEY"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
_MAX_RETRY_AFTER_S = 30.0
_PROBE_TEXT = "dimension probe"


class OpenAIEmbedder(TextEmbedder):
    """Embeddings from an OpenAI-compatible HTTP server, e.g. a GPU box running vLLM or TEI."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        model: str | None = None,
        api_key: str | None = None,
        dim: int | None = None,
        timeout_s: float = 60.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        prefix: str = "",
        transport: httpx.BaseTransport | None = None,
    ):
        """dim: expected vector length (asked of the server once if not given); prefix: put before every
        text (some models want one, e.g. "query: " for E5); transport: for tests."""
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise EmbeddingServerError(
                f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL}, got {base_url!r}"
            )
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/embeddings"
        self.model = model
        self.name = f"openai:{model}" if model else "openai"
        self.retries = int(retries)
        self.timeout_s = float(timeout_s)
        self.backoff_s = float(backoff_s)
        self.prefix = prefix
        self._dim = int(dim) if dim is not None else None
        self._api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        self._client = httpx.Client(timeout=timeout_s, headers=headers, transport=transport)

    # -- the contract ----------------------------------------------------------------------------

    @property
    def dim(self) -> int:  # type: ignore[override]
        """Vector length; when not configured, learnt from the server with one small request."""
        if self._dim is None:
            self._dim = self._request([_PROBE_TEXT]).shape[1]
        return self._dim

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """One POST for the batch; rows in input order, unit length."""
        vectors = self._request(list(texts))
        if self._dim is None:
            self._dim = vectors.shape[1]
        elif vectors.shape[1] != self._dim:
            raise EmbeddingDimMismatch(
                f"the embeddings server at {self.url} returned vectors of {vectors.shape[1]} numbers, "
                f"but dim is set to {self._dim}; set dim={vectors.shape[1]} (and re-index) "
                f"or serve the model you meant"
            )
        return l2_normalize(vectors)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- HTTP ------------------------------------------------------------------------------------

    def _request(self, texts: list[str]) -> np.ndarray:
        payload: dict = {"input": [self.prefix + t for t in texts] if self.prefix else texts}
        if self.model:
            payload["model"] = self.model
        attempt = 0
        while True:
            delay = self.backoff_s * (2**attempt)
            try:
                resp = self._client.post(self.url, json=payload)
            except httpx.TransportError as exc:
                if attempt < self.retries:
                    log.warning("embeddings server unreachable, retrying url=%s attempt=%d error=%s",
                                self.url, attempt + 1, type(exc).__name__)
                    time.sleep(delay)
                    attempt += 1
                    continue
                if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
                    raise EmbeddingServerError(
                        f"the embeddings server at {self.url} did not answer within {self.timeout_s:g} s "
                        f"(after {attempt + 1} tries); raise timeout_s or send smaller batches"
                    ) from exc
                raise EmbeddingServerError(
                    f"cannot reach the embeddings server at {self.url}: {self._scrub(str(exc)) or type(exc).__name__} "
                    f"(after {attempt + 1} tries); start the server or fix base_url"
                ) from exc
            status = resp.status_code
            if status == 429 or status >= 500:
                if attempt < self.retries:
                    wait = _retry_after(resp, default=delay)
                    log.warning("embeddings server busy, retrying url=%s status=%d attempt=%d wait_s=%.2f",
                                self.url, status, attempt + 1, wait)
                    time.sleep(wait)
                    attempt += 1
                    continue
                raise EmbeddingServerError(
                    f"the embeddings server at {self.url} answered HTTP {status} after {attempt + 1} tries: "
                    f"{self._body_snippet(resp)}"
                )
            if status in (401, 403):
                raise EmbeddingServerError(
                    f"the embeddings server at {self.url} refused the request (HTTP {status}): "
                    f"{self._body_snippet(resp)}; set the API key (option api_key or {API_KEY_ENV})"
                )
            if status == 404:
                raise EmbeddingServerError(
                    f"the embeddings server at {self.url} answered HTTP 404: {self._body_snippet(resp)}; "
                    f"check that base_url ends in /v1 and that the model name is one the server serves"
                )
            if status >= 400:
                raise EmbeddingServerError(
                    f"the embeddings server at {self.url} rejected the request (HTTP {status}): "
                    f"{self._body_snippet(resp)}; texts longer than the model's limit must be chunked first"
                )
            return self._parse(resp, len(texts))

    def _parse(self, resp: httpx.Response, n: int) -> np.ndarray:
        try:
            body = resp.json()
            data = body["data"]
            rows: list = [None] * n
            for pos, item in enumerate(data):
                index = int(item.get("index", pos))
                if not 0 <= index < n or rows[index] is not None:
                    raise IndexError(f"index {index} is out of range or repeated")
                emb = item["embedding"]
                if isinstance(emb, str):  # encoding_format=base64: little-endian float32
                    emb = np.frombuffer(base64.b64decode(emb), dtype="<f4")
                rows[index] = np.asarray(emb, dtype=np.float32)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise EmbeddingServerError(
                f"the embeddings server at {self.url} sent an answer that is not an OpenAI embeddings "
                f"response ({type(exc).__name__}: {exc}): {self._body_snippet(resp)}"
            ) from exc
        if len(data) != n or any(r is None for r in rows):
            raise EmbeddingServerError(
                f"the embeddings server at {self.url} returned {len(data)} vectors for {n} texts"
            )
        lengths = {r.shape[0] for r in rows}
        if len(lengths) != 1 or 0 in lengths:
            raise EmbeddingServerError(
                f"the embeddings server at {self.url} returned vectors of differing or zero lengths {sorted(lengths)}"
            )
        return np.stack(rows)

    def _body_snippet(self, resp: httpx.Response, limit: int = 300) -> str:
        try:
            body = resp.json()
            msg = body.get("error", body) if isinstance(body, dict) else body
            if isinstance(msg, dict):
                msg = msg.get("message", msg)
            text = str(msg)
        except ValueError:
            text = resp.text
        text = " ".join(text.split())
        return self._scrub(text[:limit]) or "(empty body)"

    def _scrub(self, text: str) -> str:
        """Never echo the API key, even if a server or library put it in a message."""
        if self._api_key and self._api_key in text:
            text = text.replace(self._api_key, "***")
        return text

    def __repr__(self) -> str:  # no key here either
        return f"<OpenAIEmbedder url={self.url!r} model={self.model!r} dim={self._dim}>"


def _retry_after(resp: httpx.Response, *, default: float) -> float:
    value = resp.headers.get("Retry-After")
    if value:
        try:
            return min(max(float(value), 0.0), _MAX_RETRY_AFTER_S)
        except ValueError:
            pass
    return default
