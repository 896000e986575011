"""VectorStore on Qdrant: one collection, one named vector per modality, payload filters.

Collection layout (created on first open):

    vectors   "text" (article, chunk, video_text, article_repr), "image", "video": cosine, `dim` each;
              a point carries only the vector of its kind's modality
    point id  uuid5(NAMESPACE, our id); our id is in the payload as `tr_id`
    payload   tr_id, kind, article_id, category, lang, published_us (int, microseconds since the
              epoch: the range filter), published_at (ISO text, for people), extra (our payload dict)
    indexes   keyword: kind, article_id, category; integer: published_us (server mode only; the
              client's local mode scans)

A search without a kind filter, or with kinds of several modalities, queries each modality's vector
and merges the hits by score.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Sequence
from contextlib import contextmanager
from urllib.parse import urlparse

import numpy as np

from trendreel.errors import ConfigError, StorageError
from trendreel.index.vectors.base import (
    KINDS,
    MODALITY,
    SearchFilter,
    SearchHit,
    VectorRecord,
    check_filter,
    check_limit,
    check_record,
    check_vector,
    dedupe_last,
    folder_of,
    from_us,
    to_us,
)

# Fixed forever: point ids of existing collections depend on it.
NAMESPACE = uuid.UUID("6f1d3c52-8a4e-5b0e-9d57-2f4f1f0e7a11")
VECTOR_NAMES = ("text", "image", "video")
API_KEY_ENV = "TRENDREEL_QDRANT_API_KEY"
_KEYWORD_FIELDS = ("kind", "article_id", "category")
_BATCH = 256


def point_id(record_id: str) -> str:
    """The Qdrant point id of one of our ids."""
    return str(uuid.uuid5(NAMESPACE, record_id))


class QdrantVectorStore:
    """A Qdrant collection behind the VectorStore contract (server, or the client's local mode)."""

    def __init__(self, url: str, dim: int, client, collection: str, *, local: bool):
        if dim < 1:
            raise ConfigError(f"vector dim must be positive, not {dim}")
        from qdrant_client import models

        self.url = url
        self.dim = dim
        self._m = models
        self._client = client
        self._collection = collection
        self._local = local
        with self._errors("open"):
            if self._client.collection_exists(collection):
                self._check_collection()
            else:
                self._create_collection()

    def _create_collection(self) -> None:
        m = self._m
        self._client.create_collection(
            self._collection,
            vectors_config={name: m.VectorParams(size=self.dim, distance=m.Distance.COSINE) for name in VECTOR_NAMES})
        if not self._local:  # local mode has no payload indexes (and warns about them)
            for name in _KEYWORD_FIELDS:
                self._client.create_payload_index(self._collection, name, m.PayloadSchemaType.KEYWORD)
            self._client.create_payload_index(self._collection, "published_us", m.PayloadSchemaType.INTEGER)

    def _check_collection(self) -> None:
        vectors = self._client.get_collection(self._collection).config.params.vectors
        if not isinstance(vectors, dict) or not set(VECTOR_NAMES) <= set(vectors):
            raise ConfigError(
                f"Qdrant collection {self._collection!r} ({self.url}) was not made by trendreel: it lacks the "
                f"named vectors {', '.join(VECTOR_NAMES)}; choose another collection name in the URL")
        for name in VECTOR_NAMES:
            size = vectors[name].size
            if size != self.dim:
                raise ConfigError(
                    f"Qdrant collection {self._collection!r} holds {size}-d {name!r} vectors but {self.dim}-d were "
                    "asked for; use the embedding model it was built with, or a new collection name and re-index")

    # ---- writes --------------------------------------------------------------------------------

    def upsert(self, records: Sequence[VectorRecord]) -> None:
        records = dedupe_last(records)
        points = []
        for rec in records:
            vec = check_record(rec, self.dim)
            points.append(self._m.PointStruct(id=point_id(rec.id), vector={MODALITY[rec.kind]: vec.tolist()},
                                              payload=_payload(rec)))
        with self._errors("write to"):
            for start in range(0, len(points), _BATCH):
                self._client.upsert(self._collection, points[start : start + _BATCH], wait=True)

    def delete(self, ids: Sequence[str]) -> int:
        pids = list(dict.fromkeys(point_id(i) for i in ids))
        if not pids:
            return 0
        with self._errors("delete from"):
            found = [p.id for p in self._client.retrieve(self._collection, pids, with_payload=False)]
            if found:
                self._client.delete(self._collection, self._m.PointIdsList(points=found), wait=True)
            return len(found)

    def delete_article(self, article_id: str) -> int:
        flt = self._filter(SearchFilter(article_id=article_id), None)
        with self._errors("delete from"):
            n = self._client.count(self._collection, count_filter=flt, exact=True).count
            if n:
                self._client.delete(self._collection, self._m.FilterSelector(filter=flt), wait=True)
            return n

    # ---- reads ---------------------------------------------------------------------------------

    def search(self, vector: np.ndarray, *, limit: int = 10, filter: SearchFilter | None = None) -> list[SearchHit]:
        query = check_vector(vector, self.dim, "query vector")
        limit = check_limit(limit)
        check_filter(filter)
        kinds = filter.kinds if filter is not None and filter.kinds is not None else list(KINDS)
        names = sorted({MODALITY[k] for k in kinds}, key=VECTOR_NAMES.index)
        hits: list[SearchHit] = []
        with self._errors("search"):
            for name in names:
                res = self._client.query_points(
                    self._collection, query=query.tolist(), using=name, query_filter=self._filter(filter, name),
                    limit=limit, with_payload=True)
                hits.extend(_hit(p.payload, p.score) for p in res.points)
        hits.sort(key=lambda h: -h.score)
        return hits[:limit]

    def get(self, id: str) -> VectorRecord | None:
        with self._errors("read from"):
            found = self._client.retrieve(self._collection, [point_id(id)], with_payload=True, with_vectors=True)
        return _record(found[0]) if found else None

    def get_many(self, ids: Sequence[str]) -> dict[str, VectorRecord]:
        """The records of the ids that exist, by id (retrieved in batches)."""
        pids = list(dict.fromkeys(point_id(i) for i in ids))
        out: dict[str, VectorRecord] = {}
        with self._errors("read from"):
            for start in range(0, len(pids), _BATCH):
                found = self._client.retrieve(self._collection, pids[start : start + _BATCH], with_payload=True,
                                              with_vectors=True)
                out.update((r.id, r) for r in map(_record, found))
        return out

    def count(self, filter: SearchFilter | None = None) -> int:
        check_filter(filter)
        with self._errors("count in"):
            return self._client.count(self._collection, count_filter=self._filter(filter, None), exact=True).count

    def close(self) -> None:
        with self._errors("close"):
            self._client.close()

    def __enter__(self) -> "QdrantVectorStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- helpers -------------------------------------------------------------------------------

    def _filter(self, flt: SearchFilter | None, modality: str | None):
        """A Qdrant filter for our filter, restricted to the kinds of one modality when given."""
        m = self._m
        must = []
        kinds = flt.kinds if flt is not None and flt.kinds is not None else None
        if modality is not None:
            kinds = [k for k in (kinds or KINDS) if MODALITY[k] == modality]
            if kinds == [k for k in KINDS if MODALITY[k] == modality]:
                kinds = None  # the named vector already limits the search to this modality
        if kinds is not None:
            must.append(m.FieldCondition(key="kind", match=m.MatchAny(any=list(kinds))))
        if flt is not None:
            if flt.category is not None:
                must.append(m.FieldCondition(key="category", match=m.MatchValue(value=flt.category)))
            if flt.article_id is not None:
                must.append(m.FieldCondition(key="article_id", match=m.MatchValue(value=flt.article_id)))
            if flt.since is not None or flt.until is not None:
                rng = m.Range(gte=None if flt.since is None else to_us(flt.since),
                              lt=None if flt.until is None else to_us(flt.until))
                must.append(m.FieldCondition(key="published_us", range=rng))
        return m.Filter(must=must) if must else None

    @contextmanager
    def _errors(self, action: str):
        """Qdrant client and transport failures become a StorageError naming the store."""
        try:
            yield
        except (ConfigError, StorageError):
            raise
        except Exception as exc:  # qdrant-client raises httpx, grpc, its own and plain errors
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StorageError(f"cannot {action} vector store {self.url}: {reason}") from exc


def _payload(rec: VectorRecord) -> dict:
    return {
        "tr_id": rec.id,
        "kind": rec.kind,
        "article_id": rec.article_id,
        "category": rec.category,
        "lang": rec.lang,
        "published_us": None if rec.published_at is None else to_us(rec.published_at),
        "published_at": None if rec.published_at is None else rec.published_at.isoformat(),
        "extra": rec.payload,
    }


def _record(point) -> VectorRecord:
    """A retrieved point (payload and vectors) as our record."""
    name = MODALITY[point.payload["kind"]]
    vectors = point.vector if isinstance(point.vector, dict) else {name: point.vector}
    hit = _hit(point.payload, 0.0)
    return VectorRecord(id=hit.id, vector=np.asarray(vectors[name], dtype=np.float32), kind=hit.kind,
                        article_id=hit.article_id, category=hit.category, published_at=hit.published_at,
                        lang=hit.lang, payload=hit.payload)


def _hit(payload: dict, score: float) -> SearchHit:
    return SearchHit(id=payload["tr_id"], score=float(score), kind=payload["kind"], article_id=payload["article_id"],
                     category=payload.get("category"), published_at=from_us(payload.get("published_us")),
                     lang=payload.get("lang"), payload=payload.get("extra") or {})


def open_qdrant(url: str, dim: int, *, host: str | None, port: int | None, collection: str,
                https: bool = False, path: str | None = None) -> QdrantVectorStore:
    """A server client (host/port, API key from TRENDREEL_QDRANT_API_KEY) or a local-mode client (path)."""
    try:
        from qdrant_client import QdrantClient
    except ImportError as exc:
        raise ConfigError(f"vector store {url} needs the qdrant-client package: pip install qdrant-client") from exc
    try:
        if path is not None:
            client = QdrantClient(path=path)
        else:
            client = QdrantClient(host=host, port=port or 6333, https=https,
                                  api_key=os.environ.get(API_KEY_ENV) or None, timeout=30)
    except Exception as exc:  # local mode refuses a folder another client holds
        raise StorageError(f"cannot open vector store {url}: {exc}") from exc
    return QdrantVectorStore(url, dim, client, collection, local=path is not None)


# ---- opening by URL (the registry's `qdrant`, `qdrants` and `qdrant+local` vector stores) -------

_COLLECTION = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def open_qdrant_local(url: str, *, dim: int) -> QdrantVectorStore:
    """qdrant+local:///absolute/folder: qdrant-client's local mode (no server)."""
    folder = folder_of(url)
    folder.mkdir(parents=True, exist_ok=True)
    return open_qdrant(url, dim, host=None, port=None, collection="trendreel", path=str(folder))


def open_qdrant_server(url: str, *, dim: int) -> QdrantVectorStore:
    """qdrant://host:port/collection (qdrants:// for TLS): a Qdrant server."""
    parsed = urlparse(url)
    collection = parsed.path.strip("/")
    if not parsed.hostname or not _COLLECTION.match(collection):
        raise ConfigError(f"vector store URL {url!r} needs a host and a collection name "
                          "(letters, digits, - and _): qdrant://host:6333/collection")
    try:
        port = parsed.port
    except ValueError:
        raise ConfigError(f"vector store URL {url!r} has a bad port") from None
    return open_qdrant(url, dim, host=parsed.hostname, port=port, collection=collection,
                       https=parsed.scheme == "qdrants")
