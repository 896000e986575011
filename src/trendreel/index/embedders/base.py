"""The text-embedder contract: one method to write, `embed_batch`; `embed` batches around it.

TrendreelError
└── EmbeddingError              an embedder could not produce vectors (message says what to fix)
    ├── EmbeddingServerError    the embeddings server is down, refused us, or answered badly
    └── EmbeddingDimMismatch    vectors came back with another length than the one configured
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from trendreel.errors import TrendreelError

# What an empty or blank text is embedded as. Any fixed text works: blank input has no meaning to
# find, but it still gets a valid unit vector (the same one each time), so row i stays text i.
EMPTY_TEXT_PLACEHOLDER = "."


class EmbeddingError(TrendreelError):
    """An embedder could not produce vectors."""


class EmbeddingServerError(EmbeddingError):
    """The embeddings server is unreachable, refused the request, or answered with something unusable."""


class EmbeddingDimMismatch(EmbeddingError):
    """Vectors came back with a different length than the configured `dim`."""


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length as float32 (all-zero rows stay zero)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2:
        raise ValueError(f"expected a 2-D array of vectors, got shape {v.shape}")
    norms = np.sqrt(np.einsum("ij,ij->i", v, v))
    norms[norms == 0] = 1.0
    return v / norms[:, None]


class TextEmbedder(ABC):
    """Turns texts into unit-length float32 vectors of `dim` numbers; similar meaning, nearby vectors."""

    name: str
    dim: int

    @abstractmethod
    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed one batch of non-empty texts: (len(texts), dim) float32, L2-normalised rows."""

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed any number of texts in batches; [] gives (0, dim); blank texts get a fixed placeholder."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts; wrap a single text in a list")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        items = [t if t and not t.isspace() else EMPTY_TEXT_PLACEHOLDER for t in texts]
        out = np.empty((len(items), self.dim), dtype=np.float32)
        for start in range(0, len(items), batch_size):
            batch = items[start:start + batch_size]
            vectors = np.asarray(self.embed_batch(batch), dtype=np.float32)
            if vectors.shape != (len(batch), self.dim):
                raise EmbeddingDimMismatch(
                    f"embedder {self.name!r} returned vectors of shape {vectors.shape} for a batch of "
                    f"{len(batch)} texts; expected ({len(batch)}, {self.dim})"
                )
            out[start:start + len(batch)] = vectors
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} dim={self.dim}>"


class HashEmbedder(TextEmbedder):
    """Deterministic character n-gram hashing: no model, instant; for tests of code that needs an embedder.

    Texts sharing many character 3-grams land near each other; there is no cross-lingual meaning.
    """

    name = "hash"

    def __init__(self, dim: int = 512, *, ngram: int = 3):
        if dim < 1:
            raise ValueError("dim must be at least 1")
        self.dim = int(dim)
        self.ngram = int(ngram)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed each text as a signed bag of hashed character n-grams."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            s = re.sub(r"\s+", " ", text.lower()).strip()
            s = f" {s} "
            for i in range(max(1, len(s) - self.ngram + 1)):
                h = int.from_bytes(hashlib.blake2b(s[i:i + self.ngram].encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return l2_normalize(out)
