"""Any server that speaks the OpenAI HTTP API: vLLM, llama.cpp server, Ollama, TEI, a speech server, OpenAI itself.

One client, three endpoints:
- `chat(request)`: POST {base_url}/chat/completions, the chat.completion answer as a dict;
- `embeddings(model, inputs)`: POST {base_url}/embeddings, one vector per input in input order
  (matched by `data[i].index`, base64 answers read too);
- `speech(model, voice, text)`: POST {base_url}/audio/speech with {model, input, voice,
  response_format, speed}, the audio file's bytes.

A server that cannot be reached, or answers 429 or 5xx, is asked again with exponential backoff (a
Retry-After header is honoured, up to 30 s) up to `retries` times. A request that runs past
`timeout_s` is asked again only where that is cheap (embeddings); a generation (chat, speech) would
take as long again. Any other answer fails at once. Connecting must succeed within 10 s.

Every error names the URL and the caller's setting to fix (`SettingNames`), and is raised as the
caller's own error class (LlmError for stories, EmbeddingServerError for the index, RenderError for
narration), so each stage keeps its error types. Outages (server down, 5xx after the retries, a
timeout) carry `retryable = True`. The API key goes only into the Authorization header, never into
logs, messages or repr.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Self

import httpx
import numpy as np

from trendreel.errors import ConfigError, TrendreelError
from trendreel.logs import get_logger

__all__ = ["OpenAIClient", "OpenAIServerError", "SettingNames"]

log = get_logger(__name__)

MAX_RETRY_AFTER_S = 30.0
CONNECT_TIMEOUT_S = 10.0


class OpenAIServerError(TrendreelError):
    """The server failed or refused (the default error class, when the caller names none)."""


@dataclass(frozen=True)
class SettingNames:
    """How the caller calls its settings, so that each error says exactly what to change."""

    user: str = "this client"  # who needs the server, e.g. "story.backend = openai"
    base_url: str = "base_url"
    api_key: str = "api_key"
    model: str = "the model"
    slow: str = "raise timeout_s"  # what to do when an answer takes too long


@dataclass(frozen=True)
class _Endpoint:
    path: str
    server: str  # how messages call the server
    event: str  # log event prefix
    retry_slow: bool  # a request that timed out is sent again
    rejected: str  # why such a server answers 4xx, as a hint


CHAT = _Endpoint("chat/completions", "the language model server", "llm", False,
                 "a server without JSON-schema output, or a prompt longer than its context, answers like this")
EMBEDDINGS = _Endpoint("embeddings", "the embeddings server", "embeddings", True,
                       "texts longer than the model's limit must be chunked first")
SPEECH = _Endpoint("audio/speech", "the speech server", "speech", False,
                   "a voice, model or response_format the server does not offer, or a text too long, answers like this")


class OpenAIClient:
    """One connection pool to an OpenAI-compatible server; errors are raised as `error`."""

    def __init__(self, base_url: str | None, *, api_key: str | None = None, timeout_s: float = 60.0, retries: int = 2,
                 backoff_s: float = 0.5, names: SettingNames = SettingNames(),
                 error: type[Exception] = OpenAIServerError, config_error: type[Exception] = ConfigError,
                 transport: httpx.BaseTransport | None = None):
        """error: raised for failures of the server; config_error: for a base_url that is not an http(s) URL;
        transport: an httpx transport (tests)."""
        if not base_url or not str(base_url).startswith(("http://", "https://")):
            raise config_error(f"{names.user} needs {names.base_url}, an http(s) URL such as "
                               f"http://gpu-1:8000/v1 (got {base_url!r})")
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.base_url = str(base_url).rstrip("/")
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.names = names
        self.error = error
        self._api_key = api_key or None
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        # Connecting must fail fast; generating may take up to timeout_s.
        timeout = httpx.Timeout(self.timeout_s, connect=min(CONNECT_TIMEOUT_S, self.timeout_s))
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    # -- the endpoints ---------------------------------------------------------------------------

    def chat(self, request: dict) -> dict:
        """A chat.completion dict with at least one choice."""
        resp = self._post(CHAT, request)
        url = self.url(CHAT.path)
        try:
            body = resp.json()
        except ValueError as exc:
            raise self.error(f"{CHAT.server} at {url} answered with something that is not JSON: "
                             f"{self._snippet(resp)}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("choices"), list) or not body["choices"]:
            raise self.error(f"{CHAT.server} at {url} answered without choices; is it an OpenAI-compatible chat "
                             f"completions endpoint? {self._snippet(resp)}")
        return body

    def embeddings(self, model: str | None, inputs: list[str]) -> list[np.ndarray]:
        """One float32 vector per input, in input order (all of the same length)."""
        payload: dict = {"input": list(inputs)}
        if model:
            payload["model"] = model
        resp = self._post(EMBEDDINGS, payload)
        url, n = self.url(EMBEDDINGS.path), len(inputs)
        try:
            data = resp.json()["data"]
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
            raise self.error(f"{EMBEDDINGS.server} at {url} sent an answer that is not an OpenAI embeddings "
                             f"response ({type(exc).__name__}: {exc}): {self._snippet(resp)}") from exc
        if len(data) != n or any(r is None for r in rows):
            raise self.error(f"{EMBEDDINGS.server} at {url} returned {len(data)} vectors for {n} texts")
        lengths = {r.shape[0] for r in rows}
        if len(lengths) > 1 or 0 in lengths:
            raise self.error(f"{EMBEDDINGS.server} at {url} returned vectors of differing or zero lengths "
                             f"{sorted(lengths)}")
        return rows

    def speech(self, model: str, voice: str, text: str, response_format: str = "wav", speed: float = 1.0) -> bytes:
        """The audio file the server made of `text` (in `response_format`)."""
        payload = {"model": model, "input": text, "voice": voice, "response_format": response_format, "speed": speed}
        resp = self._post(SPEECH, payload, accept="audio/*, application/octet-stream")
        if resp.headers.get("content-type", "").startswith("application/json") or not resp.content:
            raise self.error(f"{SPEECH.server} at {self.url(SPEECH.path)} answered without audio; is it an "
                             f"OpenAI-compatible audio/speech endpoint? {self._snippet(resp)}")
        return resp.content

    # -- HTTP ------------------------------------------------------------------------------------

    def _post(self, endpoint: _Endpoint, payload: dict, *, accept: str | None = None) -> httpx.Response:
        """The answer to one POST, after the retries; any answer but 2xx is raised as `error`."""
        url = self.url(endpoint.path)
        headers = {"Accept": accept} if accept else None
        attempt = 0
        while True:
            try:
                resp = self._client.post(url, json=payload, headers=headers)
            except httpx.TimeoutException as exc:
                slow = not isinstance(exc, httpx.ConnectTimeout)
                if slow and not endpoint.retry_slow:
                    raise self._outage(f"{endpoint.server} at {url} did not answer within {self.timeout_s:g} s; "
                                       f"{self.names.slow}") from exc
                error: Exception | httpx.Response = exc
            except httpx.TransportError as exc:
                error = exc
            else:
                if resp.status_code != 429 and resp.status_code < 500:
                    return self._checked(endpoint, url, resp)
                error = resp
            if attempt >= self.retries:
                raise self._failure(endpoint, url, error, attempt + 1) from (error if isinstance(error, Exception) else None)
            wait = _retry_after(error, default=self.backoff_s * 2**attempt)
            log.warning(f"{endpoint.event}.retrying", url=url, attempt=attempt + 1, reason=self._reason(error),
                        wait_s=round(wait, 2))
            time.sleep(wait)
            attempt += 1

    def _checked(self, endpoint: _Endpoint, url: str, resp: httpx.Response) -> httpx.Response:
        status, names = resp.status_code, self.names
        if status in (401, 403):
            raise self.error(f"{endpoint.server} at {url} refused the request (HTTP {status}): {self._snippet(resp)}; "
                             f"set {names.api_key}")
        if status == 404:
            raise self.error(f"{endpoint.server} at {url} answered HTTP 404: {self._snippet(resp)}; check that "
                             f"{names.base_url} ends in /v1 and {names.model} is a model the server serves")
        if status >= 400:
            raise self.error(f"{endpoint.server} at {url} rejected the request (HTTP {status}): "
                             f"{self._snippet(resp)}; {endpoint.rejected}")
        return resp

    def _failure(self, endpoint: _Endpoint, url: str, error, tries: int) -> Exception:
        if isinstance(error, httpx.Response):
            return self._outage(f"{endpoint.server} at {url} answered HTTP {error.status_code} after {tries} tries: "
                                f"{self._snippet(error)}")
        if isinstance(error, httpx.TimeoutException) and not isinstance(error, httpx.ConnectTimeout):
            return self._outage(f"{endpoint.server} at {url} did not answer within {self.timeout_s:g} s "
                                f"(after {tries} tries); {self.names.slow}")
        return self._outage(f"cannot reach {endpoint.server} at {url}: {self._reason(error)} (after {tries} tries); "
                            f"start the server or fix {self.names.base_url}")

    def _outage(self, message: str) -> Exception:
        err = self.error(message)
        err.retryable = True  # the server may be back later: a workflow may try the stage again
        return err

    def _reason(self, error) -> str:
        if isinstance(error, httpx.Response):
            return f"HTTP {error.status_code}"
        return self._scrub(str(error)) or type(error).__name__

    def _snippet(self, resp: httpx.Response, limit: int = 300) -> str:
        """The server's own words (its error message when it sent one), shortened, key removed."""
        try:
            body = resp.json()
            msg = body.get("error", body) if isinstance(body, dict) else body
            if isinstance(msg, dict):
                msg = msg.get("message", msg)
            text = str(msg)
        except ValueError:
            binary = resp.headers.get("content-type", "").startswith(("audio/", "application/octet-stream"))
            text = "" if binary else resp.text
        return self._scrub(" ".join(text.split())[:limit]) or "(empty body)"

    def _scrub(self, text: str) -> str:
        """Never echo the API key, even if a server or library put it in a message."""
        return text.replace(self._api_key, "***") if self._api_key else text

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:  # no key here
        return f"<OpenAIClient base_url={self.base_url!r}>"


def _retry_after(error, *, default: float) -> float:
    if isinstance(error, httpx.Response) and error.headers.get("Retry-After"):
        try:
            return min(max(float(error.headers["Retry-After"]), 0.0), MAX_RETRY_AFTER_S)
        except ValueError:
            pass
    return default
