"""Vector stores chosen by URL: local:///folder (embedded default), memory://, qdrant://host:port/collection.

    store = open_vector_store("local:///data/vectors", dim=512)
    store.upsert([VectorRecord(id="a1:text", vector=v, kind="article", article_id="a1")])
    hits = store.search(v, limit=10, filter=SearchFilter(kinds=["article"], category="tech"))
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from trendreel.errors import ConfigError
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
_COLLECTION = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def open_vector_store(url: str, *, dim: int) -> VectorStore:
    """Open (creating when new) the vector store named by `url` for `dim`-d vectors."""
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme == "memory":
        from trendreel.index.vectors.local import LocalVectorStore

        return LocalVectorStore(url, dim, None, **_local_options(url, parsed.query))
    if scheme in ("local", "qdrant+local"):
        if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
            raise ConfigError(f"vector store URL {url!r}: a folder is {scheme}:///absolute/path (three slashes)")
        folder = Path(unquote(parsed.path))
        if scheme == "local":
            from trendreel.index.vectors.local import LocalVectorStore

            return LocalVectorStore(url, dim, folder, **_local_options(url, parsed.query))
        from trendreel.index.vectors.qdrant import open_qdrant

        folder.mkdir(parents=True, exist_ok=True)
        return open_qdrant(url, dim, host=None, port=None, collection="trendreel", path=str(folder))
    if scheme in ("qdrant", "qdrants"):
        collection = parsed.path.strip("/")
        if not parsed.hostname or not _COLLECTION.match(collection):
            raise ConfigError(f"vector store URL {url!r} needs a host and a collection name "
                              "(letters, digits, - and _): qdrant://host:6333/collection")
        try:
            port = parsed.port
        except ValueError:
            raise ConfigError(f"vector store URL {url!r} has a bad port") from None
        from trendreel.index.vectors.qdrant import open_qdrant

        return open_qdrant(url, dim, host=parsed.hostname, port=port, collection=collection,
                           https=scheme == "qdrants")
    raise ConfigError(f"vector store URL {url!r}: {_USAGE}")


def _local_options(url: str, query: str) -> dict:
    """?ann_threshold=N&exact_max=N tune when the embedded store switches to HNSW."""
    options = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key not in ("ann_threshold", "exact_max"):
            raise ConfigError(f"vector store URL {url!r}: unknown option {key!r} (known: ann_threshold, exact_max)")
        try:
            options[key] = int(values[-1])
        except ValueError:
            raise ConfigError(f"vector store URL {url!r}: {key} must be an integer") from None
    return options
