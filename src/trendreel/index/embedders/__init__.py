"""Text embedders: pick one by name with `load_text_embedder`; every one is a `TextEmbedder`.

    >>> emb = load_text_embedder("usem")
    >>> emb.embed(["서울 아파트값 상승", "Seoul apartment prices rise"]).shape
    (2, 512)
"""

from __future__ import annotations

from trendreel.errors import ConfigError
from trendreel.registry import default_registry

from .base import (
    EMPTY_TEXT_PLACEHOLDER,
    EmbeddingDimMismatch,
    EmbeddingError,
    EmbeddingServerError,
    HashEmbedder,
    TextEmbedder,
    l2_normalize,
)

__all__ = [
    "EMPTY_TEXT_PLACEHOLDER",
    "EmbeddingDimMismatch",
    "EmbeddingError",
    "EmbeddingServerError",
    "HashEmbedder",
    "TextEmbedder",
    "l2_normalize",
    "load_text_embedder",
]


def load_text_embedder(name: str = "usem", *, registry=None, **options) -> TextEmbedder:
    """The text embedder registered under `name` (registry kind text_embedder) built with its options;
    an unknown name or option -> ConfigError."""
    reg = registry or default_registry()
    try:
        return reg.create("text_embedder", name, **options)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise ConfigError(f"text embedder {name!r}: {exc} (index.text_embedder_options)") from exc
        raise
