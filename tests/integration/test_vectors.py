"""Every VectorStore backend passes the same contract: the embedded store, memory://, and Qdrant
through the real qdrant-client in its local mode."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from trendreel.errors import ConfigError, StorageError
from trendreel.index.vectors import SearchFilter, VectorRecord, VectorStore, open_vector_store

# qdrant-client warns when it cannot ask an (unreachable) server for its version.
pytestmark = pytest.mark.filterwarnings("ignore:Failed to obtain server version")

DIM = 16
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def unit(seed: int, dim: int = DIM) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def rec(i: int, *, kind="article", article=None, category="tech", day=0, lang="ko", payload=None, vector=None):
    return VectorRecord(id=f"r{i}", vector=unit(i) if vector is None else vector, kind=kind,
                        article_id=article or f"a{i}", category=category,
                        published_at=None if day is None else T0 + timedelta(days=day), lang=lang,
                        payload=payload if payload is not None else {"n": i})


BACKENDS = ["local", "memory", pytest.param("qdrant+local", marks=pytest.mark.filterwarnings("ignore"))]


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    if request.param == "memory":
        return "memory://"
    pytest.importorskip("qdrant_client") if request.param == "qdrant+local" else None
    return f"{request.param}://{tmp_path / 'vectors'}"


@pytest.fixture
def store(url):
    s = open_vector_store(url, dim=DIM)
    yield s
    s.close()


@pytest.fixture
def filled(store):
    """40 records: kinds and categories cycle, one per day, four per article, a few undated."""
    kinds = ["article", "chunk", "image", "video", "video_text"]
    cats = ["tech", "sports", None, "economy"]
    store.upsert([rec(i, kind=kinds[i % 5], category=cats[i % 4], article=f"a{i // 4}",
                      day=None if i % 13 == 12 else i) for i in range(40)])
    return store


def exact_ids(store: VectorStore, query: np.ndarray, ids: list[str]) -> list[str]:
    vecs = {i: store.get(i).vector for i in ids}
    return sorted(ids, key=lambda i: -float(vecs[i] @ query))


def test_protocol_and_roundtrip(store):
    assert isinstance(store, VectorStore) and store.dim == DIM
    r = rec(1, payload={"title": "한국어 제목", "chunk": 3})
    store.upsert([r])
    got = store.get("r1")
    assert got.id == "r1" and got.kind == "article" and got.article_id == "a1" and got.category == "tech"
    assert got.published_at == r.published_at and got.published_at.tzinfo is not None
    assert got.lang == "ko" and got.payload == {"title": "한국어 제목", "chunk": 3}
    np.testing.assert_allclose(got.vector, r.vector, atol=1e-6)
    assert got.vector.dtype == np.float32 and got.vector.shape == (DIM,)
    assert store.get("nope") is None
    assert store.count() == 1


def test_search_ordering_and_scores(filled):
    q = unit(7)
    hits = filled.search(q, limit=5)
    assert [h.id for h in hits][0] == "r7"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    all_ids = [f"r{i}" for i in range(40)]
    assert [h.id for h in hits] == exact_ids(filled, q, all_ids)[:5]
    h = hits[0]
    assert h.kind == "image" and h.article_id == "a1" and h.category == "economy" and h.payload == {"n": 7}


def test_idempotent_upsert_updates(store):
    store.upsert([rec(1)])
    store.upsert([rec(1, category="sports", payload={"title": "new"}, vector=unit(99))])
    assert store.count() == 1
    got = store.get("r1")
    assert got.category == "sports" and got.payload == {"title": "new"}
    np.testing.assert_allclose(got.vector, unit(99), atol=1e-6)
    assert store.search(unit(99), limit=1)[0].id == "r1"
    assert store.count(SearchFilter(category="tech")) == 0
    # The same id twice in one batch: the last one wins.
    store.upsert([rec(2, payload={"v": 1}), rec(2, payload={"v": 2})])
    assert store.count() == 2 and store.get("r2").payload == {"v": 2}


@pytest.mark.parametrize("flt, expect", [
    (SearchFilter(kinds=["image"]), lambda i, k, c, a, d: k == "image"),
    (SearchFilter(kinds=["article", "video"]), lambda i, k, c, a, d: k in ("article", "video")),
    (SearchFilter(category="sports"), lambda i, k, c, a, d: c == "sports"),
    (SearchFilter(category="nothing"), lambda i, k, c, a, d: False),
    (SearchFilter(article_id="a3"), lambda i, k, c, a, d: a == "a3"),
    (SearchFilter(since=T0 + timedelta(days=10)), lambda i, k, c, a, d: d is not None and d >= 10),
    (SearchFilter(until=T0 + timedelta(days=10)), lambda i, k, c, a, d: d is not None and d < 10),
    (SearchFilter(since=T0 + timedelta(days=5), until=T0 + timedelta(days=30)),
     lambda i, k, c, a, d: d is not None and 5 <= d < 30),
    (SearchFilter(kinds=["article", "chunk", "image"], category="tech", since=T0 + timedelta(days=2),
                  until=T0 + timedelta(days=35)),
     lambda i, k, c, a, d: k in ("article", "chunk", "image") and c == "tech" and d is not None and 2 <= d < 35),
    (SearchFilter(kinds=["chunk"], article_id="a1"), lambda i, k, c, a, d: k == "chunk" and a == "a1"),
])
def test_filters(filled, flt, expect):
    kinds = ["article", "chunk", "image", "video", "video_text"]
    cats = ["tech", "sports", None, "economy"]
    want = [f"r{i}" for i in range(40)
            if expect(i, kinds[i % 5], cats[i % 4], f"a{i // 4}", None if i % 13 == 12 else i)]
    assert filled.count(flt) == len(want)
    q = unit(1234)
    hits = filled.search(q, limit=100, filter=flt)
    assert sorted(h.id for h in hits) == sorted(want)
    assert [h.id for h in hits] == exact_ids(filled, q, want)
    assert filled.search(q, limit=3, filter=flt) == hits[:3] or [h.id for h in filled.search(q, limit=3, filter=flt)] == [h.id for h in hits[:3]]


def test_date_edges(store):
    t = T0 + timedelta(hours=5)
    store.upsert([rec(1, day=None), VectorRecord(id="edge", vector=unit(2), kind="article", article_id="x",
                                                 published_at=t)])
    just = timedelta(microseconds=1)
    assert store.count(SearchFilter(since=t)) == 1  # since is inclusive
    assert store.count(SearchFilter(since=t + just)) == 0
    assert store.count(SearchFilter(until=t)) == 0  # until is exclusive
    assert store.count(SearchFilter(until=t + just)) == 1
    assert store.count(SearchFilter(since=t, until=t)) == 0
    # Another time zone names the same instant.
    kst = timezone(timedelta(hours=9))
    assert store.count(SearchFilter(since=t.astimezone(kst), until=(t + just).astimezone(kst))) == 1
    assert store.get("edge").published_at == t
    assert store.get("r1").published_at is None
    with pytest.raises(ValueError, match="timezone"):
        store.count(SearchFilter(since=datetime(2026, 1, 1)))


def test_delete_and_delete_article(filled):
    assert filled.delete(["r0", "r1", "missing", "r1"]) == 2
    assert filled.get("r0") is None and filled.count() == 38
    assert all(h.id not in ("r0", "r1") for h in filled.search(unit(0), limit=40))
    assert filled.delete([]) == 0
    assert filled.delete_article("a2") == 4
    assert filled.delete_article("a2") == 0
    assert filled.count() == 34 and filled.count(SearchFilter(article_id="a2")) == 0
    assert filled.search(unit(9), limit=5, filter=SearchFilter(article_id="a2")) == []
    # A deleted id can come back.
    filled.upsert([rec(0)])
    assert filled.count() == 35 and filled.search(unit(0), limit=1)[0].id == "r0"


def test_empty_store_and_limits(store):
    assert store.search(unit(1)) == []
    assert store.count() == 0 and store.count(SearchFilter(kinds=["image"])) == 0
    assert store.delete(["x"]) == 0 and store.delete_article("x") == 0
    store.upsert([rec(i) for i in range(3)])
    assert len(store.search(unit(1), limit=50)) == 3
    with pytest.raises(ValueError):
        store.search(unit(1), limit=0)
    with pytest.raises(ValueError, match="unknown kind"):
        store.search(unit(1), filter=SearchFilter(kinds=["photo"]))
    with pytest.raises(ValueError, match="unknown kind"):
        store.upsert([rec(9, kind="photo")])


def test_wrong_vector_length_is_config_error(store):
    with pytest.raises(ConfigError, match="16-d"):
        store.upsert([rec(1, vector=unit(1, dim=8))])
    with pytest.raises(ConfigError):
        store.search(unit(1, dim=32))
    assert store.count() == 0


@pytest.mark.parametrize("scheme", ["local", pytest.param("qdrant+local", marks=pytest.mark.filterwarnings("ignore"))])
def test_reopen_keeps_data_and_dim_mismatch(tmp_path, scheme):
    url = f"{scheme}://{tmp_path / 'v'}"
    s = open_vector_store(url, dim=DIM)
    s.upsert([rec(i, article=f"a{i % 3}") for i in range(20)])
    s.delete(["r5"])
    s.close()
    s = open_vector_store(url, dim=DIM)
    assert s.count() == 19 and s.get("r5") is None and s.get("r6").payload == {"n": 6}
    assert s.search(unit(6), limit=1)[0].id == "r6"
    s.upsert([rec(100)])
    assert s.count() == 20
    s.close()
    with pytest.raises(ConfigError, match="16-d"):
        open_vector_store(url, dim=32)


@pytest.mark.parametrize("bad", ["", "sqlite-vec:///x", "local://relative/folder", "local:relative",
                                 "qdrant://", "qdrant://host:6333/", "qdrant://host:6333/bad name",
                                 "qdrant://host:notaport/c", "memory://?ann_threshold=x", "memory://?color=red"])
def test_bad_url_is_config_error(bad):
    with pytest.raises(ConfigError):
        open_vector_store(bad, dim=DIM)


@pytest.mark.filterwarnings("ignore:Failed to obtain server version")
def test_unreachable_qdrant_server_is_storage_error():
    pytest.importorskip("qdrant_client")
    with pytest.raises(StorageError, match="127.0.0.1:1"):
        open_vector_store("qdrant://127.0.0.1:1/trendreel", dim=DIM)


def test_local_store_is_one_process_at_a_time(tmp_path):
    url = f"local://{tmp_path / 'v'}"
    s = open_vector_store(url, dim=DIM)
    try:
        with pytest.raises(StorageError, match="another process"):
            open_vector_store(url, dim=DIM)
    finally:
        s.close()
    open_vector_store(url, dim=DIM).close()


def _clustered(n: int, seed: int, dim: int = DIM) -> np.ndarray:
    centres = np.random.default_rng(0).standard_normal((20, dim)).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(0, 20, n)] + 0.4 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


CATS = ["tech", "sports", "economy", "life"]


def _records(x: np.ndarray, start: int = 0) -> list[VectorRecord]:
    return [VectorRecord(id=f"r{i}", vector=x[i - start], kind="article" if i % 2 else "chunk", article_id=f"a{i}",
                         category=CATS[i % 4], published_at=T0 + timedelta(hours=i))
            for i in range(start, start + len(x))]


def _exact(x: np.ndarray, q: np.ndarray, keep: np.ndarray | None = None, k: int = 10) -> list[str]:
    rows = np.arange(len(x)) if keep is None else keep
    return [f"r{i}" for i in rows[np.argsort(-(x[rows] @ q), kind="stable")[:k]]]


def _recall(s, x, queries, flt=None, keep=None) -> float:
    found = []
    for q in queries:
        hits = s.search(q, limit=10, filter=flt)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        found.append(len(set(_exact(x, q, keep)) & {h.id for h in hits}) / 10)
    return float(np.mean(found))


def test_local_partition_matches_exact_search(tmp_path):
    """Past the threshold the store partitions its rows into lists; probing every list gives the exact
    search's hits, and probing a few still honours filters and scores."""
    x = _clustered(2000, 1)
    s = open_vector_store(f"local://{tmp_path / 'v'}?ann_threshold=500&exact_max=50", dim=DIM)
    s.upsert(_records(x))
    assert s._centroids is not None and len(s._centroids) == 2000 // 128  # noqa: SLF001 - the path under test
    assert (tmp_path / "v" / "ivf.npz").exists()
    queries = _clustered(30, 2)
    for q in queries:  # 15 lists, nprobe 256: every list is scanned
        assert [h.id for h in s.search(q, limit=10)] == _exact(x, q)
    s.close()
    s = open_vector_store(f"local://{tmp_path / 'v'}?ann_threshold=500&exact_max=50&nprobe=3", dim=DIM)
    flt = SearchFilter(since=T0 + timedelta(hours=400))  # 80 % of the rows: the lists, then the filter
    hits = s.search(queries[0], limit=10, filter=flt)
    assert len(hits) == 10 and all(int(h.id[1:]) >= 400 for h in hits)
    np.testing.assert_allclose([h.score for h in hits], [float(x[int(h.id[1:])] @ queries[0]) for h in hits],
                               atol=1e-5)
    # 3 of 15 lists (a fifth of the rows) still find most neighbours of clustered queries.
    assert _recall(s, x, queries) >= 0.8
    assert _recall(s, x, queries, flt, np.arange(400, 2000)) >= 0.8
    s.close()


def test_local_partition_sees_deletes_updates_and_reopens(tmp_path):
    url = f"local://{tmp_path / 'v'}?ann_threshold=500&exact_max=0"
    x = _clustered(2000, 3)
    s = open_vector_store(url, dim=DIM)
    s.upsert(_records(x))
    s.delete(["r1", "r2"])
    assert all(h.id not in ("r1", "r2") for h in s.search(x[1], limit=20))
    s.upsert([VectorRecord(id="r3", vector=-x[3], kind="article", article_id="a3", category="sports")])
    assert s.search(-x[3], limit=1)[0].id == "r3" and all(h.id != "r3" for h in s.search(x[3], limit=5))
    s.upsert(_records(x[1:2], start=1))  # a deleted id comes back (into a freed slot)
    assert s.search(x[1], limit=1)[0].id == "r1"
    s.close()
    s = open_vector_store(url, dim=DIM)
    assert s.count() == 1999 and s.get("r2") is None
    assert s.search(-x[3], limit=1)[0].id == "r3" and s.search(x[1], limit=1)[0].id == "r1"
    assert all(h.id != "r2" for h in s.search(x[2], limit=20))
    s.close()


def test_local_partition_catches_up_after_a_crash(tmp_path):
    """A partition file older than the store (the process died before writing it again) is brought up to
    date on open: rows written after it take their nearest list."""
    folder = tmp_path / "v"
    url = f"local://{folder}?ann_threshold=500&exact_max=0&nprobe=2"
    x = _clustered(2000, 5)
    s = open_vector_store(url, dim=DIM)
    s.upsert(_records(x))
    s.close()
    saved = (folder / "ivf.npz").read_bytes()
    s = open_vector_store(url, dim=DIM)
    moved = np.asarray([-x[i] for i in range(10)])
    s.upsert(_records(moved))  # ten rows point elsewhere now
    s.delete(["r20"])
    s.upsert(_records(_clustered(5, 6), start=2000))
    s.close()
    (folder / "ivf.npz").write_bytes(saved)  # as if the last write of the file never happened
    s = open_vector_store(url, dim=DIM)
    for i in range(10):
        slot = s._db.execute("SELECT slot FROM vec WHERE id = ?", (f"r{i}",)).fetchone()[0]  # noqa: SLF001
        assert s._list[slot] == int(np.argmax(s._centroids @ -x[i]))  # noqa: SLF001 - its nearest list now
        assert s.search(-x[i], limit=1)[0].id == f"r{i}"
    assert s.search(x[20], limit=1)[0].id != "r20" and s.count() == 2004
    assert s.search(_clustered(5, 6)[4], limit=1)[0].id == "r2004"
    s.close()


def test_local_partition_file_unreadable_or_from_an_older_version(tmp_path):
    """A truncated partition file is trained again from the matrix; the HNSW graph file an older version
    kept is deleted and the store opens as before."""
    folder = tmp_path / "v"
    url = f"local://{folder}?ann_threshold=500&exact_max=0"
    x = _clustered(1500, 7)
    s = open_vector_store(url, dim=DIM)
    s.upsert(_records(x))
    s.close()
    (folder / "ivf.npz").write_bytes((folder / "ivf.npz").read_bytes()[:100])
    (folder / "hnsw.usearch").write_bytes(b"a graph an older version saved")
    s = open_vector_store(url, dim=DIM)
    assert not (folder / "hnsw.usearch").exists()
    assert s._centroids is not None and s.search(x[7], limit=1)[0].id == "r7"  # noqa: SLF001
    s.close()
    with np.load(folder / "ivf.npz") as saved:  # written again, whole
        assert saved["centroids"].shape == (1500 // 128, DIM) and len(saved["lists"]) == 1500


def test_local_partition_is_trained_again_as_the_store_grows(tmp_path):
    s = open_vector_store("memory://?ann_threshold=500&exact_max=0", dim=DIM)
    x = _clustered(2600, 8)
    s.upsert(_records(x[:600]))
    assert s._trained_at == 600 and len(s._centroids) == 600 // 128  # noqa: SLF001
    for start in range(600, 2600, 200):
        s.upsert(_records(x[start : start + 200], start=start))
    assert s._trained_at == 2400 and len(s._centroids) == 2400 // 128  # noqa: SLF001 - 4x the rows: trained again
    sizes = np.bincount(s._list[: s._n_slots], minlength=len(s._centroids))  # noqa: SLF001
    assert sizes.sum() == 2600 and sizes.min() > 0
    for q in _clustered(10, 9):
        assert [h.id for h in s.search(q, limit=10)] == _exact(x, q)
    s.close()


@pytest.mark.parametrize("flt, keeps", [
    (SearchFilter(kinds=["article"], category="sports"), lambda i: i % 2 == 1 and i % 4 == 1),  # 25%: int8 scan
    (SearchFilter(since=T0 + timedelta(hours=600)), lambda i: i >= 600),  # 80%: the lists, then the filter
    # 50 rows: exact
    (SearchFilter(category="life", since=T0 + timedelta(hours=2800)), lambda i: i % 4 == 3 and i >= 2800),
])
def test_local_filters_of_every_width_find_the_exact_neighbours(tmp_path, flt, keeps):
    """Past the threshold a filter is searched by an int8 scan of its rows, through the lists, or exactly,
    depending on how many rows it keeps; each way must give the exact search's hits, closest first."""
    x = _clustered(3000, 3)
    s = open_vector_store("memory://?ann_threshold=1000&exact_max=60", dim=DIM)
    s.upsert(_records(x))
    assert s._centroids is not None  # noqa: SLF001 - the test is about the paths past the threshold
    want_ids = np.array([i for i in range(3000) if keeps(i)])
    assert s.count(flt) == len(want_ids)
    recall = []
    for q in _clustered(20, 4):
        hits = s.search(q, limit=10, filter=flt)
        assert len(hits) == 10 and {h.id for h in hits} <= {f"r{i}" for i in want_ids}
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        np.testing.assert_allclose([h.score for h in hits], [float(x[int(h.id[1:])] @ q) for h in hits], atol=1e-5)
        recall.append(len(set(_exact(x, q, want_ids)) & {h.id for h in hits}) / 10)
    assert np.mean(recall) >= 0.95
    s.close()


def test_local_survives_a_kill_mid_write(tmp_path):
    """A process killed while writing leaves a store that opens with every committed record."""
    folder = tmp_path / "v"
    script = textwrap.dedent(f"""
        import os, numpy as np
        from trendreel.index.vectors import open_vector_store, VectorRecord
        s = open_vector_store("local://{folder}", dim={DIM})
        rng = np.random.default_rng(0)
        for batch in range(1000):
            v = rng.standard_normal((50, {DIM})).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            s.upsert([VectorRecord(id=f"b{{batch}}-{{i}}", vector=v[i], kind="chunk", article_id=f"a{{batch}}")
                      for i in range(50)])
            if batch == 5:
                print("ready", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=os.environ.copy())
    assert proc.stdout.readline().strip() == b"ready"
    proc.kill()
    proc.wait()
    s = open_vector_store(f"local://{folder}", dim=DIM)
    n = s.count()
    assert n >= 300 and n % 50 == 0  # whole batches only
    last = (n // 50) - 1
    assert s.get(f"b{last}-49") is not None and s.get(f"b{last + 1}-0") is None
    s.upsert([VectorRecord(id="after", vector=unit(1), kind="article", article_id="z")])
    assert s.search(unit(1), limit=1)[0].id == "after"
    s.close()
