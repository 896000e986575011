"""The file store, for real, on all three backends: a local folder, memory, and a local S3 server.

One suite, parametrised over file://, memory:// and s3:// (moto's S3 server on 127.0.0.1, started
once per session by tests/s3server.py). The S3 cases carry the `s3` marker.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
import time
import uuid
from pathlib import Path

import obstore
import pytest

from trendreel.errors import ConfigError, FileMissing, StorageError
from trendreel.files import FileStore, open_file_store
from trendreel.files.layout import article_file, article_prefix, fanout, media_file
from trendreel.settings import S3Settings

try:
    from tests.s3server import free_port, s3_server  # noqa: F401  (s3_server is a fixture)
except ModuleNotFoundError:  # pytest run without the repository root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.s3server import free_port, s3_server  # noqa: F401


BACKENDS = [
    pytest.param("file", id="file"),
    pytest.param("memory", id="memory"),
    pytest.param("s3", id="s3", marks=pytest.mark.s3),
]


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path) -> FileStore:
    kind = request.param
    if kind == "file":
        return open_file_store((tmp_path / "files").as_uri())
    if kind == "memory":
        return open_file_store("memory://")
    server = request.getfixturevalue("s3_server")
    # Every test gets its own prefix in the session's bucket, so tests cannot see each other.
    return open_file_store(server.url(f"t-{uuid.uuid4().hex[:10]}"), server.settings())


def _is_s3(store: FileStore) -> bool:
    return store.url.startswith("s3://")


# --- basic operations -------------------------------------------------------------------------


def test_put_get_size_exists(store):
    data = b"hello \x00 world \xff" * 100
    stored = store.put("a/b/c.bin", data)
    assert stored.key == "a/b/c.bin"
    assert stored.bytes == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.get("a/b/c.bin") == data
    assert store.size("a/b/c.bin") == len(data)
    assert store.exists("a/b/c.bin")
    assert not store.exists("a/b/other.bin")
    assert store.size("a/b/other.bin") is None


def test_empty_file(store):
    store.put("empty.txt", b"")
    assert store.get("empty.txt") == b""
    assert store.size("empty.txt") == 0
    assert store.exists("empty.txt")


def test_list(store):
    keys = {"x/1.txt", "x/2.txt", "x/sub/3.txt", "y/4.txt"}
    for k in keys:
        store.put(k, k.encode())
    assert set(store.list()) == keys
    assert set(store.list("x/")) == {"x/1.txt", "x/2.txt", "x/sub/3.txt"}
    assert set(store.list("x/sub/")) == {"x/sub/3.txt"}
    assert list(store.list("nothing/here/")) == []


def test_get_range(store):
    data = bytes(range(256)) * 40
    store.put("r.bin", data)
    assert store.get_range("r.bin", 0, 10) == data[:10]
    assert store.get_range("r.bin", 1000, 1500) == data[1000:1500]
    assert store.get_range("r.bin", len(data) - 5, len(data)) == data[-5:]


def test_delete(store):
    store.put("d/one.txt", b"1")
    store.put("d/two.txt", b"2")
    store.delete("d/one.txt")
    assert not store.exists("d/one.txt")
    assert store.get("d/two.txt") == b"2"
    store.delete("d/one.txt")  # deleting a missing key is not an error
    store.delete("never/was.txt")


# --- missing keys -------------------------------------------------------------------------------


def test_missing_key_is_file_missing(store):
    with pytest.raises(FileMissing, match="nope/missing.txt"):
        store.get("nope/missing.txt")
    with pytest.raises(FileMissing):
        store.get_range("nope/missing.txt", 0, 10)
    assert issubclass(FileMissing, StorageError)


# --- prefix delete: one article's folder, nothing else -----------------------------------------


def test_delete_prefix_spares_siblings_with_a_shared_name_prefix(store):
    for name in ("abc", "abcd", "ab"):
        store.put(f"t/{name}/article.txt", name.encode())
        store.put(f"t/{name}/images/01.jpg", b"jpg")
    assert store.delete_prefix("t/abc/") == 2
    assert set(store.list("t/")) == {
        "t/abcd/article.txt", "t/abcd/images/01.jpg", "t/ab/article.txt", "t/ab/images/01.jpg",
    }
    assert store.delete_prefix("t/abc/") == 0  # again: nothing left, no error


def test_delete_prefix_of_articles_in_the_layout(store):
    ids = ["abc", "abcd", "abc_1"]
    for aid in ids:
        store.put(article_file(aid, "article.txt"), aid.encode())
        store.put(article_file(aid, "meta.json"), b"{}")
        store.put(media_file(aid, "image", 1, "jpg"), b"img")
        store.put(media_file(aid, "video", 1, "mp4"), b"vid")
    assert store.delete_prefix(article_prefix("abc")) == 4
    assert list(store.list(article_prefix("abc"))) == []
    for aid in ("abcd", "abc_1"):
        assert len(list(store.list(article_prefix(aid)))) == 4
        assert store.get(article_file(aid, "article.txt")) == aid.encode()


def test_delete_prefix_needs_a_folder_prefix(store):
    store.put("keep/me.txt", b"1")
    for bad in ("", "keep", "keep/me.txt"):
        with pytest.raises(ValueError):
            store.delete_prefix(bad)
    assert store.exists("keep/me.txt")


def test_delete_prefix_removes_the_local_folder(tmp_path):
    store = open_file_store((tmp_path / "files").as_uri())
    prefix = article_prefix("a1")
    store.put(prefix + "article.txt", b"t")
    store.put(media_file("a1", "image", 2, "png"), b"p")
    store.put(article_file("a2", "article.txt"), b"t")
    store.delete_prefix(prefix)
    assert not (tmp_path / "files" / prefix).exists()  # no empty folders left to hold inodes
    assert store.local_path(article_file("a2", "article.txt")).read_bytes() == b"t"


def test_delete_prefix_many_keys(store):
    """More keys than one S3 list page or bulk delete request holds (1,000)."""
    n = 1100
    for i in range(n):
        store.put(f"many/{i:05d}.txt", b"x")
    store.put("many-not/keep.txt", b"k")
    assert len(list(store.list("many/"))) == n
    assert store.delete_prefix("many/") == n
    assert list(store.list("many/")) == []
    assert store.exists("many-not/keep.txt")


# --- large files --------------------------------------------------------------------------------


def test_put_file_12_mb(store, tmp_path):
    src = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    with open(src, "wb") as fh:
        for i in range(12):
            fh.write(bytes([i]) + block[1:])
    want = src.read_bytes()
    key = media_file("bigone", "video", 1, "mp4")
    stored = store.put_file(key, src)
    assert stored.bytes == 12 * (1 << 20)
    assert stored.sha256 == hashlib.sha256(want).hexdigest()
    assert store.size(key) == len(want)
    assert store.get(key) == want
    assert store.get_range(key, 5 * (1 << 20), 5 * (1 << 20) + 100) == want[5 * (1 << 20):5 * (1 << 20) + 100]
    if _is_s3(store):
        # A multipart upload's ETag is "<md5 of part md5s>-<number of parts>".
        etag = obstore.head(store._store, key)["e_tag"]
        assert re.search(r"-\d+\"?$", etag), f"expected a multipart ETag, got {etag}"


def test_put_file_missing_source(store, tmp_path):
    with pytest.raises(OSError):
        store.put_file("k.bin", tmp_path / "does-not-exist.bin")


# --- atomic overwrite ---------------------------------------------------------------------------


def test_overwrite_is_atomic(store):
    key = "atomic/value.bin"
    a = b"A" * (2 << 20)
    b = b"B" * (3 << 20)
    store.put(key, a)
    seen: list[bytes] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader():
        deadline = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                seen.append(store.get(key))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(10):
            store.put(key, b if i % 2 == 0 else a)
    finally:
        stop.set()
        t.join(timeout=60)
    assert not errors, errors
    assert seen, "the reader never got a value"
    for value in seen:  # never a torn or half-written file
        assert value in (a, b)
    assert store.get(key) == a
    assert store.size(key) == len(a)


def test_overwrite_leaves_no_temp_files(tmp_path):
    store = open_file_store((tmp_path / "files").as_uri())
    for i in range(5):
        store.put("k/v.txt", str(i).encode())
    assert sorted(p.name for p in (tmp_path / "files" / "k").iterdir()) == ["v.txt"]
    assert list(store.list()) == ["k/v.txt"]


# --- layout -------------------------------------------------------------------------------------


def test_layout_keys(store):
    aid = "0190a1b2c3d4-article"
    h = hashlib.sha256(aid.encode()).hexdigest()
    assert fanout(aid) == f"{h[0:2]}/{h[2:4]}"
    assert re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{2}", fanout(aid))
    prefix = article_prefix(aid)
    assert prefix == f"articles/{h[0:2]}/{h[2:4]}/{aid}/"
    keys = [
        article_file(aid, "article.html"),
        article_file(aid, "article.txt"),
        article_file(aid, "meta.json"),
        media_file(aid, "image", 1, ".JPG"),
        media_file(aid, "image", 2, "webp"),
        media_file(aid, "video", 1, "mp4"),
        media_file(aid, "video", 12, "weird ext!"),
    ]
    assert keys[3] == prefix + "images/01.jpg"
    assert keys[5] == prefix + "videos/01.mp4"
    assert keys[6] == prefix + "videos/12.bin"
    for k in keys:
        store.put(k, k.encode())
    assert sorted(store.list(prefix)) == sorted(keys)
    assert store.get(keys[2]) == keys[2].encode()


@pytest.mark.parametrize("bad", ["../x", "a/b", "", "..", "a b", "x" * 65, "ä", "a\x00b", "a\nb"])
def test_layout_refuses_unsafe_ids(bad):
    with pytest.raises(ValueError):
        article_prefix(bad)
    with pytest.raises(ValueError):
        article_file(bad, "article.txt")
    with pytest.raises(ValueError):
        media_file(bad, "image", 1, "jpg")


def test_layout_refuses_unknown_names():
    with pytest.raises(ValueError):
        article_file("ok", "../../etc/passwd")
    with pytest.raises(ValueError):
        media_file("ok", "document", 1, "pdf")


def test_store_refuses_path_traversal(store):
    with pytest.raises(StorageError):
        store.put("../escape.txt", b"x")
    with pytest.raises(StorageError):
        store.put("a/../../escape.txt", b"x")


# --- local paths --------------------------------------------------------------------------------


def test_local_path(store):
    store.put("lp/file.txt", b"here")
    path = store.local_path("lp/file.txt")
    if store.url.startswith("file://"):
        assert path is not None and path.read_bytes() == b"here"
    else:
        assert path is None


def test_file_url_with_spaces(tmp_path):
    root = tmp_path / "with space"
    store = open_file_store(root.as_uri())
    store.put("k.txt", b"1")
    assert (root / "k.txt").read_bytes() == b"1"


# --- configuration errors -----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://x", "s3://", "s3:///prefix", "http://example.org/x", "", "files", "file://relative/x"])
def test_bad_urls_are_config_errors(url):
    with pytest.raises(ConfigError):
        open_file_store(url)


@pytest.mark.s3
def test_down_s3_endpoint_is_a_clear_storage_error():
    port = free_port()  # nothing listens here
    settings = S3Settings(endpoint=f"http://127.0.0.1:{port}", allow_http=True, access_key_id="x", secret_access_key="y")
    store = open_file_store("s3://bucket/prefix", settings)
    for op in (lambda: store.put("k.txt", b"1"), lambda: store.get("k.txt"), lambda: store.size("k.txt"),
               lambda: list(store.list("a/")), lambda: store.delete_prefix("a/")):
        started = time.monotonic()
        with pytest.raises(StorageError) as info:
            op()
        assert time.monotonic() - started < 20, "an unreachable endpoint must fail fast, not hang"
        assert not isinstance(info.value, FileMissing)
        message = str(info.value)
        assert "s3://bucket/prefix" in message and f"127.0.0.1:{port}" in message
        assert "\n" not in message  # one readable line, not a debug dump


@pytest.mark.s3
def test_s3_missing_bucket_is_a_storage_error(s3_server):
    if s3_server.backend == "weed":
        pytest.skip("SeaweedFS creates a missing bucket on the first write")
    store = open_file_store(f"s3://no-such-bucket-{uuid.uuid4().hex[:6]}/p", s3_server.settings())
    with pytest.raises(StorageError):
        store.put("k.txt", b"1")


@pytest.mark.s3
def test_s3_keys_are_the_layout_keys_under_the_url_prefix(s3_server):
    """The same key strings land in the bucket under the URL's prefix, nothing else added."""
    store = open_file_store(s3_server.url("root/sub"), s3_server.settings())
    key = article_file("keyprobe", "article.txt")
    store.put(key, b"t")
    whole_bucket = open_file_store(s3_server.url(), s3_server.settings())
    assert f"root/sub/{key}" in set(whole_bucket.list("root/sub/"))
    assert list(store.list()) == [key]
