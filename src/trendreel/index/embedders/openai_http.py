"""Any server that speaks the OpenAI embeddings API (vLLM, TEI, llama.cpp server, Ollama, OpenAI itself).

POST {base_url}/embeddings with {"model": ..., "input": [...]} through `trendreel.adapters.openai_http`:
the answer's `data[i].embedding` is matched back to its text by `data[i].index`; network errors,
timeouts, 429 and 5xx are retried with exponential backoff (honouring Retry-After); everything else
fails at once with a message that says what to fix. The API key is sent only in the Authorization
header and is never logged or put in an error message. Here: the vectors' length and unit scaling.
"""

from __future__ import annotations

import os
from typing import Self

import httpx
import numpy as np

from trendreel.adapters.openai_http import OpenAIClient, SettingNames

from .base import EmbeddingDimMismatch, EmbeddingServerError, TextEmbedder, l2_normalize

API_KEY_ENV = "TRENDREEL_EMBED_API_KEY"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
_PROBE_TEXT = "dimension probe"
EMBEDDER_OPTIONS = SettingNames(user="the openai embedder", base_url="base_url",
                                api_key=f"the API key (option api_key or {API_KEY_ENV})", model="the model name",
                                slow="raise timeout_s or send smaller batches")


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
        self._api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
        self.client = OpenAIClient(base_url, api_key=self._api_key, timeout_s=timeout_s, retries=retries,
                                   backoff_s=backoff_s, names=EMBEDDER_OPTIONS, error=EmbeddingServerError,
                                   config_error=EmbeddingServerError, transport=transport)
        self.base_url = self.client.base_url
        self.url = self.client.url("embeddings")
        self.model = model
        self.name = f"openai:{model}" if model else "openai"
        self.retries = int(retries)
        self.timeout_s = float(timeout_s)
        self.backoff_s = float(backoff_s)
        self.prefix = prefix
        self._dim = int(dim) if dim is not None else None

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
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- HTTP ------------------------------------------------------------------------------------

    def _request(self, texts: list[str]) -> np.ndarray:
        inputs = [self.prefix + t for t in texts] if self.prefix else texts
        return np.stack(self.client.embeddings(self.model, inputs))

    def __repr__(self) -> str:  # no key here either
        return f"<OpenAIEmbedder url={self.url!r} model={self.model!r} dim={self._dim}>"

