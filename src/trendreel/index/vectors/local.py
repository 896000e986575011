"""The embedded vector store: a float32 matrix file + SQLite metadata, HNSW (usearch) once it is large.

Folder layout (`local:///folder`):

    meta.sqlite      ids, kind, article, category, date, lang, payload -> slot (row of the matrix)
    vectors.f32      row `slot` = that record's float32 vector; rows of deleted records are reused
    hnsw.usearch     the ANN graph over int8 codes of the rows (only past `ann_threshold` vectors)
    lock             held while the store is open: one process at a time

Why it is crash-safe: a record exists once its SQLite row is committed, and its vector row is written
and fsynced before that commit. New records take free or new rows, so a crash before the commit leaves
only unused bytes. Re-upserting an existing id writes its row in place before the commit; a crash
there leaves the new vector under the old metadata until the caller's retry (upserts are idempotent).
The HNSW file is a cache: written to a temporary file and renamed, it records the write epoch it
covers; on open, rows written after that epoch are re-added, and an unreadable file is rebuilt.

Search is exact (numpy over the matrix, or over the filtered rows) below `ann_threshold` live
vectors. Above it the store also keeps int8 codes of the rows in memory (each row scaled so its
largest component is 127: cosine does not change with scale), and:

- no filter, or a filter keeping more than PREFILTER_FRACTION of the rows: HNSW finds
  `max(CANDIDATES, 25*limit)` candidates (divided by the fraction a filter keeps), the filter drops
  the rest and exact float32 scores re-rank them;
- a filter keeping fewer (but more than `exact_max`): the filter picks the rows first, an exact int8
  scan of just those rows (usearch's SIMD kernels, 4x less memory to read than float32) finds the
  best RERANK, and their float32 scores re-rank them;
- a filter keeping at most `exact_max` rows: exact float32 search of those rows.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np

from trendreel.errors import ConfigError, StorageError
from trendreel.index.vectors.base import (
    KINDS,
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

log = logging.getLogger(__name__)

FORMAT = "1"
# Exact search costs ~8 CPU ms at 100k x 512 and grows linearly; the graph search that reaches recall 0.95
# at 1M costs ~20 CPU ms at 100k and ~38 at 1M: the graph pays off past ~200k.
ANN_THRESHOLD = 200_000
EXACT_MAX = 50_000  # a filter that keeps at most this many rows is searched exactly (gather + matmul)
# HNSW candidates re-ranked exactly (bench/bench_vectors.py, clustered vectors): see docs/vector-stores.md.
CANDIDATES = 1000
PREFILTER_FRACTION = 0.3  # filters keeping at most this share of the rows scan their int8 codes instead of HNSW
RERANK = 200  # int8 scan hits re-ranked with float32 scores
_NO_DATE = np.iinfo(np.int64).min  # never inside a since/until range
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}
# HNSW parameters measured in bench/bench_vectors.py: int8 codes (the float32 matrix re-ranks),
# 16 links per node, 64 candidates while building (128 built 1.5x slower for +0.01 recall at 100k:
# a wider search pays for it more cheaply).
_HNSW = {"metric": "cos", "dtype": "i8", "connectivity": 16, "expansion_add": 64}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vec (
    slot INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    article_id TEXT NOT NULL,
    category TEXT,
    published_us INTEGER,
    lang TEXT,
    payload TEXT NOT NULL,
    epoch INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS vec_article ON vec (article_id);
CREATE INDEX IF NOT EXISTS vec_epoch ON vec (epoch);
"""
_COLS = "slot, id, kind, article_id, category, published_us, lang, payload"


def quantize(rows: np.ndarray) -> np.ndarray:
    """int8 codes of float rows, each row scaled so its largest component is +-127 (cosine keeps)."""
    rows = np.atleast_2d(rows)
    peak = np.abs(rows).max(axis=1, keepdims=True)
    peak[peak == 0] = 1.0
    return np.rint(rows * (127.0 / peak)).astype(np.int8)


class _MemoryMatrix:
    """Rows in a growing numpy array (memory:// stores)."""

    def __init__(self, dim: int):
        self.dim = dim
        self._data = np.zeros((0, dim), dtype=np.float32)

    def write(self, slots: np.ndarray, rows: np.ndarray) -> None:
        need = int(slots.max()) + 1
        if need > self._data.shape[0]:
            grown = np.zeros((max(need, 2 * self._data.shape[0], 1024), self.dim), dtype=np.float32)
            grown[: self._data.shape[0]] = self._data
            self._data = grown
        self._data[slots] = rows

    def sync(self) -> None:
        pass

    def view(self, n_slots: int) -> np.ndarray:
        return self._data[:n_slots]

    def close(self) -> None:
        pass


class _FileMatrix:
    """Rows in a flat float32 file, read through a memory map, written with pwrite."""

    def __init__(self, path: Path, dim: int):
        self.dim = dim
        self.path = path
        self._row_bytes = dim * 4
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._map: np.ndarray | None = None
        self._map_rows = -1

    def write(self, slots: np.ndarray, rows: np.ndarray) -> None:
        order = np.argsort(slots, kind="stable")
        slots, rows = slots[order], np.ascontiguousarray(rows[order])
        # Contiguous runs of slots (the usual bulk append) become one write each.
        breaks = np.flatnonzero(np.diff(slots) != 1) + 1
        for start, end in zip(np.r_[0, breaks], np.r_[breaks, len(slots)]):
            buf = rows[start:end].tobytes()
            offset = int(slots[start]) * self._row_bytes
            while buf:
                written = os.pwrite(self._fd, buf, offset)
                buf, offset = buf[written:], offset + written

    def sync(self) -> None:
        os.fsync(self._fd)

    def view(self, n_slots: int) -> np.ndarray:
        if n_slots == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._map_rows != n_slots:
            self._map = np.memmap(self.path, dtype=np.float32, mode="r", shape=(n_slots, self.dim))
            self._map_rows = n_slots
        return self._map

    def close(self) -> None:
        self._map = None
        os.close(self._fd)


class LocalVectorStore:
    """Embedded, in-process vector store (see the module docstring for the layout)."""

    def __init__(self, url: str, dim: int, folder: Path | None, *,
                 ann_threshold: int = ANN_THRESHOLD, exact_max: int = EXACT_MAX):
        if dim < 1:
            raise ConfigError(f"vector dim must be positive, not {dim}")
        self.url = url
        self.dim = dim
        self.folder = folder
        self.ann_threshold = ann_threshold
        self.exact_max = exact_max
        self._lock = threading.RLock()
        self._lock_fd: int | None = None
        self._closed = False
        with self._errors("open"):
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                self._take_lock(folder / "lock")
                self._db = sqlite3.connect(folder / "meta.sqlite", check_same_thread=False, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
            else:
                self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            self._db.executescript(_SCHEMA)
            self._check_info()
            self._matrix = _FileMatrix(folder / "vectors.f32", dim) if folder is not None else _MemoryMatrix(dim)
            self._load_columns()
            self._ann = None
            self._codes: np.ndarray | None = None  # int8 codes per slot, kept while the graph is
            self._ann_epoch = 0  # the write epoch the ANN file on disk covers
            self._ann_unsaved = 0
            if self._n_alive >= self.ann_threshold:
                self._open_ann()

    # ---- opening -------------------------------------------------------------------------------

    def _take_lock(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StorageError(
                f"vector store {self.url} is open in another process; the local store serves one "
                "process at a time (use a Qdrant server, qdrant://host:port/collection, for several)") from None
        self._lock_fd = fd

    def _check_info(self) -> None:
        info = dict(self._db.execute("SELECT key, value FROM info").fetchall())
        if not info:
            self._db.executemany("INSERT INTO info VALUES (?, ?)",
                                 [("format", FORMAT), ("dim", str(self.dim)), ("epoch", "0"), ("ann_epoch", "0")])
            info = {"format": FORMAT, "dim": str(self.dim), "epoch": "0", "ann_epoch": "0"}
        if info.get("format") != FORMAT:
            raise ConfigError(f"vector store {self.url} has format {info.get('format')!r}, this version reads {FORMAT!r}")
        if int(info["dim"]) != self.dim:
            raise ConfigError(
                f"vector store {self.url} holds {info['dim']}-d vectors but {self.dim}-d were asked for; "
                "use the embedding model it was built with, or point the vector store URL to a new folder and re-index")
        self._epoch = int(info["epoch"])
        self._saved_ann_epoch = int(info["ann_epoch"])

    def _load_columns(self) -> None:
        """Per-slot numpy columns that filters are evaluated on (ids and payloads stay in SQLite)."""
        rows = self._db.execute("SELECT slot, kind, category, published_us FROM vec").fetchall()
        top = max((r[0] for r in rows), default=-1) + 1
        self._n_slots = top
        cap = max(1024, top)
        self._alive = np.zeros(cap, dtype=bool)
        self._kind = np.full(cap, -1, dtype=np.int16)
        self._cat = np.full(cap, -1, dtype=np.int32)
        self._date = np.full(cap, _NO_DATE, dtype=np.int64)
        self._cat_code: dict[str, int] = {}
        if rows:
            slots = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            self._alive[slots] = True
            self._kind[slots] = [_KIND_CODE.get(r[1], -1) for r in rows]
            self._cat[slots] = [self._code(r[2]) for r in rows]
            self._date[slots] = [_NO_DATE if r[3] is None else r[3] for r in rows]
        self._free = sorted(set(range(top)) - set(np.flatnonzero(self._alive[:top]).tolist()), reverse=True)
        self._n_alive = len(rows)

    def _code(self, category: str | None) -> int:
        if category is None:
            return -1
        return self._cat_code.setdefault(category, len(self._cat_code))

    def _grow(self, need: int) -> None:
        cap = self._alive.shape[0]
        if need <= cap:
            return
        cap = max(need, 2 * cap)
        for name, fill in (("_alive", False), ("_kind", -1), ("_cat", -1), ("_date", _NO_DATE)):
            old = getattr(self, name)
            new = np.full(cap, fill, dtype=old.dtype)
            new[: old.shape[0]] = old
            setattr(self, name, new)

    # ---- ANN -----------------------------------------------------------------------------------

    def _ann_path(self) -> Path | None:
        return self.folder / "hnsw.usearch" if self.folder is not None else None

    def _new_ann(self):
        from usearch.index import Index

        return Index(ndim=self.dim, **_HNSW)

    def _open_ann(self) -> None:
        """Load the saved graph and bring it up to date, or build it from the matrix."""
        path = self._ann_path()
        if path is not None and path.exists():
            try:
                ann = self._new_ann()
                ann.load(str(path))
                if ann.ndim != self.dim:
                    raise ValueError(f"graph has {ann.ndim} dims")
            except Exception as exc:  # a truncated or foreign file: the matrix is the truth
                log.warning("vector index %s unreadable (%s); rebuilding it", path, exc)
            else:
                self._ann = ann
                self._fill_codes()
                self._catch_up_ann()
                return
        self._build_ann()

    def _fill_codes(self) -> None:
        """int8 codes of every row, from the matrix (in parts: no float copy of the whole matrix)."""
        matrix = self._matrix.view(self._n_slots)
        self._codes = np.zeros((self._alive.shape[0], self.dim), dtype=np.int8)
        for start in range(0, self._n_slots, 50_000):
            end = min(start + 50_000, self._n_slots)
            self._codes[start:end] = quantize(matrix[start:end])

    def _set_codes(self, slots: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if self._codes.shape[0] < self._n_slots:
            grown = np.zeros((max(self._n_slots, 2 * self._codes.shape[0]), self.dim), dtype=np.int8)
            grown[: self._codes.shape[0]] = self._codes
            self._codes = grown
        codes = quantize(rows)
        self._codes[slots] = codes
        return codes

    def _catch_up_ann(self) -> None:
        """Re-add rows written after the saved graph's epoch and drop rows deleted since."""
        changed = [r[0] for r in self._db.execute("SELECT slot FROM vec WHERE epoch > ?", (self._saved_ann_epoch,))]
        dead = np.flatnonzero(~self._alive[: self._n_slots]).astype(np.uint64)
        if len(dead):
            present = dead[np.asarray(self._ann.contains(dead), dtype=bool)]
            for key in present:
                self._ann.remove(int(key))
        if changed:
            self._ann_put(np.asarray(changed, dtype=np.int64))
        self._ann_epoch = self._saved_ann_epoch
        self._ann_unsaved = len(changed) + len(dead)

    def _build_ann(self) -> None:
        log.info("building the HNSW index of %s over %d vectors", self.url, self._n_alive)
        self._ann = self._new_ann()
        self._fill_codes()
        slots = np.flatnonzero(self._alive[: self._n_slots])
        for start in range(0, len(slots), 50_000):
            part = slots[start : start + 50_000]
            self._ann.add(part.astype(np.uint64), self._codes[part], threads=0)
        self._ann_epoch = -1  # nothing saved yet
        self._ann_unsaved = len(slots)
        self._save_ann()

    def _ann_put(self, slots: np.ndarray) -> None:
        keys = slots.astype(np.uint64)
        present = keys[np.asarray(self._ann.contains(keys), dtype=bool)]
        for key in present:  # an updated vector: usearch keeps one vector per key
            self._ann.remove(int(key))
        self._ann.add(keys, self._set_codes(slots, self._matrix.view(self._n_slots)[slots]), threads=0)

    def _save_ann(self) -> None:
        path = self._ann_path()
        if path is None or self._ann is None or self._ann_unsaved == 0:
            return
        tmp = path.with_suffix(".tmp")
        self._ann.save(str(tmp))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        self._db.execute("UPDATE info SET value = ? WHERE key = 'ann_epoch'", (str(self._epoch),))
        self._saved_ann_epoch = self._epoch
        self._ann_unsaved = 0

    def _after_write(self, changed: int) -> None:
        if self._ann is None:
            if self._n_alive >= self.ann_threshold:
                self._build_ann()
            return
        self._ann_unsaved += changed
        if self._ann_unsaved >= max(20_000, self._n_alive // 5):
            self._save_ann()

    # ---- writes --------------------------------------------------------------------------------

    def upsert(self, records: Sequence[VectorRecord]) -> None:
        """Insert or replace by id; the whole batch commits at once."""
        records = dedupe_last(records)
        if not records:
            return
        vectors = np.stack([check_record(r, self.dim) for r in records])
        with self._lock, self._errors("write to"):
            self._check_open()
            ids = [r.id for r in records]
            existing = dict(self._select_in("SELECT id, slot FROM vec WHERE id IN ({})", ids))
            free = list(self._free)
            next_slot = self._n_slots
            slots = np.empty(len(records), dtype=np.int64)
            for i, rec in enumerate(records):
                if rec.id in existing:
                    slots[i] = existing[rec.id]
                elif free:
                    slots[i] = free.pop()
                else:
                    slots[i], next_slot = next_slot, next_slot + 1
            self._matrix.write(slots, vectors)
            self._matrix.sync()
            epoch = self._epoch + 1
            rows = [(int(s), r.id, r.kind, r.article_id, r.category,
                     None if r.published_at is None else to_us(r.published_at), r.lang,
                     json.dumps(r.payload, ensure_ascii=False, default=str), epoch)
                    for s, r in zip(slots, records)]
            with self._transaction():
                self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                self._db.execute("UPDATE info SET value = ? WHERE key = 'epoch'", (str(epoch),))
            # Committed: now the in-memory view follows.
            self._epoch = epoch
            self._free = free
            self._n_slots = next_slot
            self._grow(next_slot)
            self._n_alive += len(records) - len(existing)
            self._alive[slots] = True
            self._kind[slots] = [_KIND_CODE[r.kind] for r in records]
            self._cat[slots] = [self._code(r.category) for r in records]
            self._date[slots] = [_NO_DATE if row[5] is None else row[5] for row in rows]
            if self._ann is not None:
                self._ann_put(slots)
            self._after_write(len(records))

    def delete(self, ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return 0
        with self._lock, self._errors("delete from"):
            self._check_open()
            slots = [s for (s,) in self._select_in("SELECT slot FROM vec WHERE id IN ({})", ids)]
            return self._drop_slots(slots)

    def delete_article(self, article_id: str) -> int:
        with self._lock, self._errors("delete from"):
            self._check_open()
            slots = [s for (s,) in self._db.execute("SELECT slot FROM vec WHERE article_id = ?", (article_id,))]
            return self._drop_slots(slots)

    def _drop_slots(self, slots: list[int]) -> int:
        if not slots:
            return 0
        epoch = self._epoch + 1
        with self._transaction():
            for start in range(0, len(slots), 500):
                part = slots[start : start + 500]
                self._db.execute(f"DELETE FROM vec WHERE slot IN ({','.join('?' * len(part))})", part)
            self._db.execute("UPDATE info SET value = ? WHERE key = 'epoch'", (str(epoch),))
        self._epoch = epoch
        arr = np.asarray(slots, dtype=np.int64)
        self._alive[arr] = False
        self._n_alive -= len(slots)
        # Reuse low rows first so the matrix stays dense.
        self._free = sorted(set(self._free) | set(slots), reverse=True)
        if self._ann is not None:
            for key in slots:
                self._ann.remove(int(key))
            self._after_write(len(slots))
        return len(slots)

    # ---- reads ---------------------------------------------------------------------------------

    def search(self, vector: np.ndarray, *, limit: int = 10, filter: SearchFilter | None = None) -> list[SearchHit]:
        """The `limit` nearest records by cosine similarity that pass the filter, closest first."""
        query = check_vector(vector, self.dim, "query vector")
        limit = check_limit(limit)
        check_filter(filter)
        with self._lock, self._errors("search"):
            self._check_open()
            cand = self._candidates(filter)
            n_match = int(cand.sum()) if cand.dtype == bool else len(cand)
            if n_match == 0:
                return []
            if self._ann is not None and n_match > self.exact_max:
                if n_match <= PREFILTER_FRACTION * self._n_alive:
                    return self._hits(*self._search_codes(query, limit, cand))
                found = self._search_ann(query, limit, cand, n_match)
                if found is not None:
                    return self._hits(*found)
            return self._hits(*self._search_exact(query, limit, cand, n_match))

    def _candidates(self, flt: SearchFilter | None) -> np.ndarray:
        """A boolean mask over slots, or (article filter) the few matching slots."""
        n = self._n_slots
        if flt is not None and flt.article_id is not None:
            slots = np.asarray([s for (s,) in self._db.execute(
                "SELECT slot FROM vec WHERE article_id = ?", (flt.article_id,))], dtype=np.int64)
            if len(slots):
                slots = slots[self._column_mask(flt, slots)]
            return np.sort(slots)
        mask = self._alive[:n].copy()
        if flt is not None:
            mask &= self._column_mask(flt, slice(0, n))
        return mask

    def _column_mask(self, flt: SearchFilter, where) -> np.ndarray:
        size = len(where) if isinstance(where, np.ndarray) else where.stop - where.start
        mask = np.ones(size, dtype=bool)
        if flt.kinds is not None:
            mask &= np.isin(self._kind[where], [_KIND_CODE[k] for k in flt.kinds])
        if flt.category is not None:
            code = self._cat_code.get(flt.category)
            if code is None:
                return np.zeros(size, dtype=bool)
            mask &= self._cat[where] == code
        if flt.since is not None or flt.until is not None:
            dates = self._date[where]
            mask &= dates != _NO_DATE
            if flt.since is not None:
                mask &= dates >= to_us(flt.since)
            if flt.until is not None:
                mask &= dates < to_us(flt.until)
        return mask

    def _search_exact(self, query, limit, cand, n_match):
        matrix = self._matrix.view(self._n_slots)
        if cand.dtype == bool and n_match > 0.3 * self._n_slots:
            # Scoring every row is cheaper than gathering most of them.
            scores = matrix @ query
            scores[~cand] = -np.inf
            slots = np.arange(self._n_slots)
        else:
            slots = np.flatnonzero(cand) if cand.dtype == bool else cand
            scores = matrix[slots] @ query
        k = min(limit, n_match)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return slots[top], scores[top]

    def _search_codes(self, query, limit, cand):
        """Exact int8 scan of the filtered rows, its best RERANK re-ranked with float32 scores."""
        from usearch.index import search as scan

        slots = np.flatnonzero(cand) if cand.dtype == bool else cand
        count = min(len(slots), max(RERANK, 20 * limit))
        found = scan(self._codes[slots], quantize(query)[0], count, "cos", exact=True, threads=0)
        best = np.sort(slots[np.asarray(found.keys, dtype=np.int64)])  # ascending: one pass over the file
        scores = self._matrix.view(self._n_slots)[best] @ query
        top = np.argsort(-scores, kind="stable")[:limit]
        return best[top], scores[top]

    def _search_ann(self, query, limit, mask, n_match):
        """HNSW candidates, filtered and re-ranked exactly; None when too few pass the filter."""
        fraction = n_match / max(self._n_alive, 1)
        count = max(CANDIDATES, 25 * limit)
        if fraction < 1:
            count = math.ceil(count / fraction)
        count = min(count, 4096, self._n_alive)
        self._ann.expansion_search = max(64, 2 * count)
        keys = np.asarray(self._ann.search(quantize(query)[0], count).keys, dtype=np.int64)
        keys = keys[(keys >= 0) & (keys < self._n_slots)]
        keys = keys[mask[keys]]
        if len(keys) < min(limit, n_match):
            return None
        scores = self._matrix.view(self._n_slots)[keys] @ query
        top = np.argsort(-scores, kind="stable")[:limit]
        return keys[top], scores[top]

    def _hits(self, slots: np.ndarray, scores: np.ndarray) -> list[SearchHit]:
        slot_list = [int(s) for s in slots]
        rows = {r[0]: r for r in self._select_in(f"SELECT {_COLS} FROM vec WHERE slot IN ({{}})", slot_list)}
        hits = []
        for slot, score in zip(slot_list, scores):
            r = rows.get(slot)
            if r is not None:
                hits.append(SearchHit(id=r[1], score=float(score), kind=r[2], article_id=r[3], category=r[4],
                                      published_at=from_us(r[5]), lang=r[6], payload=json.loads(r[7])))
        return hits

    def get(self, id: str) -> VectorRecord | None:
        with self._lock, self._errors("read from"):
            self._check_open()
            r = self._db.execute(f"SELECT {_COLS} FROM vec WHERE id = ?", (id,)).fetchone()
            if r is None:
                return None
            vector = np.array(self._matrix.view(self._n_slots)[r[0]], dtype=np.float32)
            return VectorRecord(id=r[1], vector=vector, kind=r[2], article_id=r[3], category=r[4],
                                published_at=from_us(r[5]), lang=r[6], payload=json.loads(r[7]))

    def get_many(self, ids: Sequence[str]) -> dict[str, VectorRecord]:
        """The records of the ids that exist, by id: one query per 500 ids, one gather from the matrix."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        with self._lock, self._errors("read from"):
            self._check_open()
            rows = sorted(self._select_in(f"SELECT {_COLS} FROM vec WHERE id IN ({{}})", ids))
            if not rows:
                return {}
            slots = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vectors = np.array(self._matrix.view(self._n_slots)[slots], dtype=np.float32)
            return {r[1]: VectorRecord(id=r[1], vector=vectors[i], kind=r[2], article_id=r[3], category=r[4],
                                       published_at=from_us(r[5]), lang=r[6], payload=json.loads(r[7]))
                    for i, r in enumerate(rows)}

    def count(self, filter: SearchFilter | None = None) -> int:
        check_filter(filter)
        with self._lock, self._errors("count in"):
            self._check_open()
            if filter is None:
                return self._n_alive
            cand = self._candidates(filter)
            return int(cand.sum()) if cand.dtype == bool else len(cand)

    def close(self) -> None:
        """Save the HNSW graph if it changed and release the folder; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                with self._errors("close"):
                    self._save_ann()
            finally:
                self._matrix.close()
                self._db.close()
                if self._lock_fd is not None:
                    os.close(self._lock_fd)  # releases the flock
                    self._lock_fd = None

    def __enter__(self) -> "LocalVectorStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- helpers -------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"vector store {self.url} is closed")

    def _select_in(self, sql: str, values: list) -> list[tuple]:
        out: list[tuple] = []
        for start in range(0, len(values), 500):
            part = values[start : start + 500]
            out.extend(self._db.execute(sql.format(",".join("?" * len(part))), part).fetchall())
        return out

    @contextmanager
    def _transaction(self):
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def _errors(self, action: str):
        """SQLite and file-system failures become a StorageError naming the store."""
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"cannot {action} vector store {self.url}: {exc}") from exc


# ---- opening by URL (the registry's `local` and `memory` vector stores) --------------------------

def open_local(url: str, *, dim: int) -> "LocalVectorStore":
    """local:///absolute/folder: the embedded default."""
    return LocalVectorStore(url, dim, folder_of(url), **_local_options(url, urlparse(url).query))


def open_memory(url: str, *, dim: int) -> "LocalVectorStore":
    """memory://: the embedded store without a folder (tests)."""
    return LocalVectorStore(url, dim, None, **_local_options(url, urlparse(url).query))


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
