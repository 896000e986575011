"""The embedded vector store: a float32 matrix file + SQLite metadata, an IVF partition once it is large.

Folder layout (`local:///folder`):

    meta.sqlite      ids, kind, article, category, date, lang, payload -> slot (row of the matrix)
    vectors.f32      row `slot` = that record's float32 vector; rows of deleted records are reused
    ivf.npz          the partition: k-means centroids and each slot's list (only past `ann_threshold` vectors)
    lock             held while the store is open: one process at a time

Why it is crash-safe: a record exists once its SQLite row is committed, and its vector row is written
and fsynced before that commit. New records take free or new rows, so a crash before the commit leaves
only unused bytes. Re-upserting an existing id writes its row in place before the commit; a crash
there leaves the new vector under the old metadata until the caller's retry (upserts are idempotent).
The partition file is a cache: written to a temporary file, fsynced and renamed, it records the write
epoch it covers; on open, rows written after that epoch are assigned again, and an unreadable file is
trained again from the matrix. (A `hnsw.usearch` graph left by an older version is deleted on open.)

Search is exact (numpy over the matrix, or over the filtered rows) below `ann_threshold` live
vectors. Above it the store partitions the rows into lists by their nearest k-means centroid (IVF)
and keeps int8 codes of every row in memory, list by list (each row scaled so its largest component
is 127: cosine does not change with scale), and:

- no filter, or a filter keeping more than PREFILTER_FRACTION of the rows: the query picks the
  `nprobe` lists whose centroids are closest (divided by the fraction a filter keeps), an exact int8
  scan of those lists (each list one contiguous block) finds the best RERANK that pass the filter,
  and their float32 scores re-rank them;
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
# Exact search costs ~8 CPU ms at 100k x 512 and grows linearly; scanning the probed lists that reach
# recall 0.95 costs about a quarter of an exact int8 scan: the partition pays off past ~200k.
ANN_THRESHOLD = 200_000
EXACT_MAX = 50_000  # a filter that keeps at most this many rows is searched exactly (gather + matmul)
# Filters keeping at most this share of the rows scan their rows' int8 codes; a broader one scans the lists
# (nprobe / fraction of them): at half the rows both read about the same number of codes.
PREFILTER_FRACTION = 0.5
RERANK = 200  # int8 scan hits re-ranked with float32 scores
# IVF, measured in bench/bench_vectors.py (clustered vectors, see docs/vector-stores.md): 1024 lists, the
# 288 closest probed (over a quarter of the rows) for recall@10 >= 0.95 at 200k and 1M.
NLIST = 1024
LIST_ROWS = 128  # smaller stores get fewer lists: at least this many rows per list when trained
NPROBE = 288
TRAIN_ROWS_PER_LIST = 64  # k-means sample: 64 rows per centroid (64k rows for 1024 lists)
KMEANS_ROUNDS = 8
RETRAIN_GROWTH = 4  # train again once the store holds 4x the rows it was trained on: lists stay balanced
_NO_DATE = np.iinfo(np.int64).min  # never inside a since/until range
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}

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


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (rows / norms).astype(np.float32)


def kmeans(rows: np.ndarray, k: int, rng: np.random.Generator, rounds: int = KMEANS_ROUNDS) -> np.ndarray:
    """Spherical k-means (cosine): k unit centroids of `rows`, Lloyd's rounds from k random rows."""
    rows = _unit(rows)
    centroids = rows[rng.choice(len(rows), k, replace=False)]
    for _ in range(rounds):
        nearest = np.concatenate([np.argmax(rows[i : i + 16_384] @ centroids.T, axis=1)
                                  for i in range(0, len(rows), 16_384)])
        counts = np.bincount(nearest, minlength=k)
        filled = counts > 0
        sums = np.empty_like(centroids)
        # Sorted by list, each filled list is one run of rows: reduceat sums the runs.
        starts = (np.cumsum(counts) - counts)[filled]
        sums[filled] = np.add.reduceat(rows[np.argsort(nearest, kind="stable")], starts, axis=0)
        sums[~filled] = rows[rng.choice(len(rows), int((~filled).sum()))]  # an empty list restarts at a row
        centroids = _unit(sums)
    return centroids


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The concatenation of arange(lo[i], hi[i]) for every i."""
    lengths = hi - lo
    return np.repeat(lo - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))


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
                 ann_threshold: int = ANN_THRESHOLD, exact_max: int = EXACT_MAX, nprobe: int = NPROBE):
        if dim < 1:
            raise ConfigError(f"vector dim must be positive, not {dim}")
        self.url = url
        self.dim = dim
        self.folder = folder
        self.ann_threshold = ann_threshold
        self.exact_max = exact_max
        if nprobe < 1:
            raise ConfigError(f"vector store {url!r}: nprobe must be positive, not {nprobe}")
        self.nprobe = nprobe
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
            self._codes: np.ndarray | None = None  # int8 codes by position (see _layout), once partitioned
            self._buffer: np.ndarray | None = None
            self._centroids: np.ndarray | None = None  # (lists, dim) unit rows, once the store is partitioned
            self._trained_at = 0  # live rows when the centroids were trained
            self._ivf_unsaved = 0  # changes since the partition file was written
            if self.folder is not None and (self.folder / "hnsw.usearch").exists():
                (self.folder / "hnsw.usearch").unlink()  # the graph an older version kept: IVF replaced it
            if self._n_alive >= max(self.ann_threshold, 1):
                self._open_ivf()

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
                                 [("format", FORMAT), ("dim", str(self.dim)), ("epoch", "0")])
            info = {"format": FORMAT, "dim": str(self.dim), "epoch": "0"}
        if info.get("format") != FORMAT:
            raise ConfigError(f"vector store {self.url} has format {info.get('format')!r}, this version reads {FORMAT!r}")
        if int(info["dim"]) != self.dim:
            raise ConfigError(
                f"vector store {self.url} holds {info['dim']}-d vectors but {self.dim}-d were asked for; "
                "use the embedding model it was built with, or point the vector store URL to a new folder and re-index")
        self._epoch = int(info["epoch"])

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
        self._list = np.full(cap, -1, dtype=np.int32)  # IVF list of each live slot, once partitioned
        self._pos = np.full(cap, -1, dtype=np.int64)  # where its int8 code sits in self._codes
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
        for name, fill in (("_alive", False), ("_kind", -1), ("_cat", -1), ("_date", _NO_DATE), ("_list", -1),
                           ("_pos", -1)):
            old = getattr(self, name)
            new = np.full(cap, fill, dtype=old.dtype)
            new[: old.shape[0]] = old
            setattr(self, name, new)

    # ---- IVF partition -------------------------------------------------------------------------

    def _ivf_path(self) -> Path | None:
        return self.folder / "ivf.npz" if self.folder is not None else None

    def _open_ivf(self) -> None:
        """Load the saved partition and bring it up to date, or train it from the matrix."""
        path = self._ivf_path()
        if path is not None and path.exists():
            try:
                epoch = self._load_ivf(path)
            except Exception as exc:  # a truncated or foreign file: the matrix is the truth
                log.warning("vector index %s unreadable (%s); training it again", path, exc)
            else:
                # Rows written after the file, and any live row it does not cover, take their nearest list.
                changed = {r[0] for r in self._db.execute("SELECT slot FROM vec WHERE epoch > ?", (epoch,))}
                live = self._alive[: self._n_slots]
                changed.update(np.flatnonzero(live & (self._list[: self._n_slots] < 0)).tolist())
                slots = np.asarray(sorted(changed), dtype=np.int64)
                self._assign(slots, self._matrix.view(self._n_slots)[slots])
                self._ivf_unsaved = len(slots)
                if self._n_alive >= RETRAIN_GROWTH * self._trained_at:
                    self._train_ivf()
                else:
                    self._layout()
                return
        self._train_ivf()

    def _load_ivf(self, path: Path) -> int:
        """Centroids and per-slot lists from the file; returns the write epoch it covers."""
        with np.load(path, allow_pickle=False) as saved:
            centroids = np.asarray(saved["centroids"], dtype=np.float32)
            lists = np.asarray(saved["lists"])
            epoch, trained_at = int(saved["epoch"]), int(saved["trained_at"])
        if centroids.ndim != 2 or centroids.shape[1] != self.dim or not len(centroids):
            raise ValueError(f"centroids of shape {centroids.shape}")
        if not np.isfinite(centroids).all():
            raise ValueError("centroids that are not finite")
        if lists.ndim != 1 or lists.dtype != np.int32:
            raise ValueError(f"list ids of shape {lists.shape}, type {lists.dtype}")
        if len(lists) and not -1 <= lists.min() <= lists.max() < len(centroids):
            raise ValueError("list ids out of range")
        if epoch > self._epoch:
            raise ValueError(f"it covers write {epoch} but the store is at {self._epoch}")
        n = min(len(lists), self._n_slots)
        self._list[:] = -1
        self._list[:n] = lists[:n]
        self._centroids, self._trained_at = centroids, max(trained_at, 1)
        return epoch

    def _train_ivf(self) -> None:
        """k-means on a sample of the live rows, then every live row joins its nearest centroid's list."""
        slots = np.flatnonzero(self._alive[: self._n_slots])
        n_lists = max(1, min(NLIST, len(slots) // LIST_ROWS))
        log.info("partitioning vector store %s: %d vectors into %d lists", self.url, len(slots), n_lists)
        rng = np.random.default_rng(len(slots))
        matrix = self._matrix.view(self._n_slots)
        sample = np.sort(rng.choice(slots, min(len(slots), TRAIN_ROWS_PER_LIST * n_lists), replace=False))
        self._centroids = kmeans(np.array(matrix[sample]), n_lists, rng)
        self._trained_at = len(slots)
        self._list[:] = -1
        for start in range(0, len(slots), 50_000):
            part = slots[start : start + 50_000]
            self._assign(part, matrix[part])
        self._layout()
        self._ivf_unsaved = len(slots) + 1
        self._save_ivf()

    def _assign(self, slots: np.ndarray, rows: np.ndarray) -> None:
        """Each row's list: the centroid with the highest dot product (cosine: centroids are unit)."""
        for start in range(0, len(slots), 16_384):
            scores = rows[start : start + 16_384] @ self._centroids.T
            self._list[slots[start : start + 16_384]] = np.argmax(scores, axis=1)

    def _layout(self) -> None:
        """int8 codes of the live rows in list order, so that a probed list is one contiguous block.

        Writes after the layout append their codes at the tail (and leave the old position stale) until
        the next layout; codes come from the current layout, or from the matrix when there is none."""
        live = np.flatnonzero(self._alive[: self._n_slots])
        ordered = live[np.argsort(self._list[live], kind="stable")]
        place = np.empty(self._n_slots, dtype=np.int64)
        place[ordered] = np.arange(len(ordered))
        codes = np.empty((max(1024, len(ordered) + len(ordered) // 8), self.dim), dtype=np.int8)
        matrix = self._matrix.view(self._n_slots) if self._codes is None else None
        for start in range(0, len(live), 50_000):  # in slot order: one pass over the matrix file
            part = live[start : start + 50_000]
            codes[place[part]] = quantize(matrix[part]) if matrix is not None else self._codes[self._pos[part]]
        self._pos[:] = -1
        self._pos[ordered] = np.arange(len(ordered))
        self._slot_at = np.full(len(codes), -1, dtype=np.int64)
        self._slot_at[: len(ordered)] = ordered
        self._starts = np.searchsorted(self._list[ordered], np.arange(len(self._centroids) + 1))
        self._codes, self._used, self._loose = codes, len(ordered), 0

    def _put_codes(self, slots: np.ndarray, rows: np.ndarray) -> None:
        """New codes go to the tail; the positions they replace go stale until the next layout."""
        old = self._pos[slots]
        old = old[old >= 0]
        self._slot_at[old] = -1
        end = self._used + len(slots)
        if end > len(self._codes):
            cap = max(end, len(self._codes) * 3 // 2)
            codes = np.empty((cap, self.dim), dtype=np.int8)
            codes[: self._used] = self._codes[: self._used]
            slot_at = np.full(cap, -1, dtype=np.int64)
            slot_at[: self._used] = self._slot_at[: self._used]
            self._codes, self._slot_at = codes, slot_at
        self._codes[self._used : end] = quantize(rows)
        self._slot_at[self._used : end] = slots
        self._pos[slots] = np.arange(self._used, end)
        self._used = end
        self._loose += len(slots) + len(old)

    def _drop_codes(self, slots: np.ndarray) -> None:
        old = self._pos[slots]
        self._slot_at[old[old >= 0]] = -1
        self._pos[slots] = -1
        self._list[slots] = -1
        self._loose += len(slots)

    def _save_ivf(self) -> None:
        path = self._ivf_path()
        if path is None or self._centroids is None or self._ivf_unsaved == 0:
            return
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, centroids=self._centroids, lists=self._list[: self._n_slots],
                     epoch=np.int64(self._epoch), trained_at=np.int64(self._trained_at))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        self._ivf_unsaved = 0

    def _after_write(self, changed: int) -> None:
        if self._centroids is None:
            if self._n_alive >= max(self.ann_threshold, 1):
                self._train_ivf()
            return
        self._ivf_unsaved += changed
        if self._n_alive >= RETRAIN_GROWTH * self._trained_at:
            self._train_ivf()
        elif self._loose > max(20_000, self._n_alive // 10):
            self._layout()
        if self._ivf_unsaved >= max(20_000, self._n_alive // 5):
            self._save_ivf()

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
            if self._centroids is not None:
                self._assign(slots, vectors)
                self._put_codes(slots, vectors)
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
        if self._centroids is not None:
            self._drop_codes(arr)
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
            if self._centroids is not None and n_match > self.exact_max:
                if n_match <= PREFILTER_FRACTION * self._n_alive:
                    return self._hits(*self._search_codes(query, limit, cand))
                found = self._search_ivf(query, limit, cand, n_match)
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
        found = scan(self._codes[self._pos[slots]], quantize(query)[0], count, "cos", exact=True, threads=0)
        best = np.sort(slots[np.asarray(found.keys, dtype=np.int64)])  # ascending: one pass over the file
        scores = self._matrix.view(self._n_slots)[best] @ query
        top = np.argsort(-scores, kind="stable")[:limit]
        return best[top], scores[top]

    def _search_ivf(self, query, limit, cand, n_match):
        """Exact int8 scan of the lists closest to the query, the best RERANK that pass the filter
        re-ranked with float32 scores; None when too few rows there pass the filter."""
        from usearch.index import search as scan

        if cand.dtype != bool:
            mask = np.zeros(self._n_slots, dtype=bool)
            mask[cand] = True
        else:
            mask = cand
        n_lists = len(self._centroids)
        nprobe = min(n_lists, math.ceil(self.nprobe * self._n_alive / n_match))
        if nprobe < n_lists:
            # einsum, not BLAS: a threaded BLAS product wakes threads that then spin against the scan's.
            closeness = np.einsum("ij,j->i", self._centroids, query)
            probe = np.sort(np.argpartition(-closeness, nprobe - 1)[:nprobe])
        else:
            probe = np.arange(n_lists)
        lo, hi = self._starts[probe], self._starts[probe + 1]
        # Rows written since the last layout sit in the tail: those in the probed lists join the scan.
        probed = np.zeros(n_lists, dtype=bool)
        probed[probe] = True
        tail = np.arange(self._starts[-1], self._used)
        tail_slots = self._slot_at[tail]
        tail = tail[(tail_slots >= 0) & probed[self._list[tail_slots]]]
        positions = np.concatenate([_ranges(lo, hi), tail])
        total = len(positions)
        codes = self._scan_buffer(total)
        at = 0
        for a, b in zip(lo.tolist(), hi.tolist()):  # slice copies: far faster than a gather by index
            codes[at : at + b - a] = self._codes[a:b]
            at += b - a
        codes[at:total] = self._codes[tail]
        slots = self._slot_at[positions]
        ok = slots >= 0  # stale positions (rows rewritten or deleted since the layout) are -1
        ok[ok] = mask[slots[ok]]
        n_ok = int(ok.sum())
        if n_ok < min(limit, n_match):
            return None
        count = min(total, math.ceil(max(RERANK, 20 * limit) * total / n_ok))
        found = scan(codes[:total], quantize(query)[0], count, "cos", exact=True, threads=0)
        idx = np.asarray(found.keys, dtype=np.int64)
        idx = idx[ok[idx]]
        if len(idx) < min(limit, n_match):
            return None
        best = np.sort(slots[idx])
        scores = self._matrix.view(self._n_slots)[best] @ query
        top = np.argsort(-scores, kind="stable")[:limit]
        return best[top], scores[top]

    def _scan_buffer(self, rows: int) -> np.ndarray:
        """One reused buffer for the probed codes (a fresh one per query pays its page faults)."""
        if self._buffer is None or len(self._buffer) < rows:
            self._buffer = np.empty((max(rows, 1024), self.dim), dtype=np.int8)
        return self._buffer

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
        """Save the partition if it changed and release the folder; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                with self._errors("close"):
                    self._save_ivf()
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
    """?ann_threshold=N&exact_max=N tune when the embedded store partitions and when a filter is searched
    exactly; ?nprobe=N is how many lists an unfiltered search scans (recall against speed)."""
    options = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key not in ("ann_threshold", "exact_max", "nprobe"):
            raise ConfigError(
                f"vector store URL {url!r}: unknown option {key!r} (known: ann_threshold, exact_max, nprobe)")
        try:
            options[key] = int(values[-1])
        except ValueError:
            raise ConfigError(f"vector store URL {url!r}: {key} must be an integer") from None
    return options
