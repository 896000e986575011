"""Vector stores chosen by URL: local:///folder (embedded default), memory://, qdrant://host:port/collection.

    store = open_vector_store("local:///data/vectors", dim=512)
    store.upsert([VectorRecord(id="a1:text", vector=v, kind="article", article_id="a1")])
    hits = store.search(v, limit=10, filter=SearchFilter(kinds=["article"], category="tech"))
"""

from __future__ import annotations

from urllib.parse import urlparse

from trendreel.errors import ConfigError
from trendreel.registry import default_registry
from trendreel.index.vectors.base import (
    KINDS,
    MODALITY,
    SearchFilter,
    SearchHit,
    VectorRecord,
    VectorStore,
)

__all__ = ["KINDS", "MODALITY", "SearchFilter", "SearchHit", "VectorRecord", "VectorStore", "open_vector_store"]

_USAGE = ("use local:///absolute/folder, memory://, qdrant://host:port/collection "
          "(qdrants:// for TLS) or qdrant+local:///absolute/folder")


def open_vector_store(url: str, *, dim: int, registry=None) -> VectorStore:
    """Open (creating when new) the vector store named by `url` for `dim`-d vectors, by the URL's scheme."""
    scheme = urlparse(url).scheme
    reg = registry or default_registry()
    if not scheme or not reg.knows("vector_store", scheme):
        raise ConfigError(f"vector store URL {url!r}: {_USAGE}")
    return reg.create("vector_store", scheme, url, dim=dim)
