"""Chat completions from any OpenAI-compatible server: vLLM, llama.cpp server, Ollama, OpenAI itself.

POST {base_url}/chat/completions. A server that cannot be reached, or answers 429 or 5xx, is asked
again with exponential backoff up to `llm.max_retries` times; a request that runs past
`llm.timeout_s` is not repeated (it would take as long again). Every error names the URL and the
setting to fix. The API key goes only into the Authorization header, never into logs or messages.
"""

from __future__ import annotations

import time

import httpx

from trendreel.errors import ConfigError, LlmError
from trendreel.logs import get_logger
from trendreel.settings import LlmSettings

log = get_logger(__name__)

_MAX_RETRY_AFTER_S = 30.0


class OpenAIChat:
    """A ChatBackend over HTTP."""

    name = "openai"

    def __init__(self, settings: LlmSettings, *, home=None, backoff_s: float = 0.5,
                 transport: httpx.BaseTransport | None = None):
        # `home` is part of the chat model factory's signature (a local model keeps files there); unused here.
        base = (settings.base_url or "").rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigError("story.backend = openai needs llm.base_url, an http(s) URL such as "
                              f"http://gpu-1:8000/v1 (got {settings.base_url!r})")
        self.url = f"{base}/chat/completions"
        self.model = settings.model
        self.timeout_s = settings.timeout_s
        self.retries = settings.max_retries
        self.backoff_s = backoff_s
        self._api_key = settings.api_key
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        # Connecting must fail fast; generating may take up to timeout_s.
        timeout = httpx.Timeout(settings.timeout_s, connect=min(10.0, settings.timeout_s))
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def complete(self, request: dict) -> dict:
        attempt = 0
        while True:
            try:
                resp = self._client.post(self.url, json=request)
            except httpx.TimeoutException as exc:
                if not isinstance(exc, httpx.ConnectTimeout):
                    raise LlmError(f"the language model server at {self.url} did not answer within "
                                   f"{self.timeout_s:g} s; raise llm.timeout_s or lower llm.max_tokens") from exc
                error: Exception | httpx.Response = exc
            except httpx.TransportError as exc:
                error = exc
            else:
                if resp.status_code != 429 and resp.status_code < 500:
                    return self._answer(resp)
                error = resp
            if attempt >= self.retries:
                raise self._failure(error, attempt + 1)
            wait = _retry_after(error, default=self.backoff_s * 2**attempt)
            log.warning("llm.retrying", url=self.url, attempt=attempt + 1, reason=self._reason(error), wait_s=round(wait, 2))
            time.sleep(wait)
            attempt += 1

    def _answer(self, resp: httpx.Response) -> dict:
        status = resp.status_code
        if status in (401, 403):
            raise LlmError(f"the language model server at {self.url} refused the request (HTTP {status}): "
                           f"{self._snippet(resp)}; set llm.api_key")
        if status == 404:
            raise LlmError(f"the language model server at {self.url} answered HTTP 404: {self._snippet(resp)}; "
                           f"check that llm.base_url ends in /v1 and llm.model is a model the server serves")
        if status >= 400:
            raise LlmError(f"the language model server at {self.url} rejected the request (HTTP {status}): "
                           f"{self._snippet(resp)}; a server without JSON-schema output, or a prompt longer than "
                           f"its context, answers like this")
        try:
            body = resp.json()
        except ValueError as exc:
            raise LlmError(f"the language model server at {self.url} answered with something that is not JSON: "
                           f"{self._snippet(resp)}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("choices"), list) or not body["choices"]:
            raise LlmError(f"the language model server at {self.url} answered without choices; is it an "
                           f"OpenAI-compatible chat completions endpoint? {self._snippet(resp)}")
        return body

    def _failure(self, error, tries: int) -> LlmError:
        if isinstance(error, httpx.Response):
            return LlmError(f"the language model server at {self.url} answered HTTP {error.status_code} after "
                            f"{tries} tries: {self._snippet(error)}")
        return LlmError(f"cannot reach the language model server at {self.url}: {self._reason(error)} "
                        f"(after {tries} tries); start the server or fix llm.base_url")

    def _reason(self, error) -> str:
        if isinstance(error, httpx.Response):
            return f"HTTP {error.status_code}"
        return self._scrub(str(error)) or type(error).__name__

    def _snippet(self, resp: httpx.Response, limit: int = 300) -> str:
        try:
            body = resp.json()
            msg = body.get("error", body) if isinstance(body, dict) else body
            if isinstance(msg, dict):
                msg = msg.get("message", msg)
            text = str(msg)
        except ValueError:
            text = resp.text
        return self._scrub(" ".join(text.split())[:limit]) or "(empty body)"

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:  # no key here
        return f"<OpenAIChat url={self.url!r} model={self.model!r}>"


def _retry_after(error, *, default: float) -> float:
    if isinstance(error, httpx.Response) and error.headers.get("Retry-After"):
        try:
            return min(max(float(error.headers["Retry-After"]), 0.0), _MAX_RETRY_AFTER_S)
        except ValueError:
            pass
    return default
