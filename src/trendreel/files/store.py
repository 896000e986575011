"""One FileStore class over obstore's LocalStore, S3Store and MemoryStore."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import LocalStore, MemoryStore, S3Store

from trendreel.errors import ConfigError, FileMissing, StorageError
from trendreel.registry import default_registry

# An unreachable S3 endpoint must fail within seconds, not after obstore's default 10 retries
# over up to 3 minutes. Five quick retries still ride out a server restart or a 503 SlowDown.
S3_CLIENT_OPTIONS = {"connect_timeout": "5s", "timeout": "300s"}
S3_RETRY_CONFIG = {
    "max_retries": 5,
    "retry_timeout": timedelta(seconds=30),
    "backoff": {"init_backoff": timedelta(milliseconds=100), "max_backoff": timedelta(seconds=5), "base": 2},
}


def _reason(exc: Exception) -> str:
    """The first line of an obstore error (the rest is a Rust debug dump)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# OS errors of a store that has no room or may not be written, as obstore and Python word them.
_NO_ROOM = ("no space left", "os error 28", "file too large", "os error 27", "quota exceeded", "os error 122")
_NOT_WRITABLE = ("read-only file system", "os error 30", "permission denied", "os error 13")


def _write_failed(url: str, key: str, exc: Exception) -> StorageError:
    """The error of a failed write, naming what to fix when the store is full or not writable."""
    reason = _reason(exc)
    low = reason.lower()
    if any(s in low for s in _NO_ROOM):
        return StorageError(f"the file store {url} (files_url) is full: cannot write {key}: {reason}",
                            hint="free space where files_url points (`trendreel gc` removes old files), or set files_url "
                                 "to a store with room; then run the same command again")
    if any(s in low for s in _NOT_WRITABLE):
        return StorageError(f"the file store {url} (files_url) is not writable: cannot write {key}: {reason}",
                            hint="make the folder of files_url writable, or set files_url to one that is")
    return StorageError(f"cannot write {key} to {url}: {reason}")


@dataclass(frozen=True)
class StoredFile:
    key: str
    bytes: int
    sha256: str


class FileStore:
    """Keys are '/'-separated relative paths; values are bytes. Writes are atomic."""

    def __init__(self, url: str, store, local_root: Path | None = None):
        self.url = url
        self._store = store
        self._local_root = local_root

    def put(self, key: str, data: bytes) -> StoredFile:
        try:
            obstore.put(self._store, key, data)
        except Exception as exc:  # obstore raises its own tree; users need the key and the store
            raise _write_failed(self.url, key, exc) from exc
        return StoredFile(key=key, bytes=len(data), sha256=hashlib.sha256(data).hexdigest())

    async def put_async(self, key: str, data: bytes) -> StoredFile:
        """Like put, but the write runs on obstore's own threads while the event loop goes on."""
        try:
            await obstore.put_async(self._store, key, data)
        except Exception as exc:
            raise _write_failed(self.url, key, exc) from exc
        return StoredFile(key=key, bytes=len(data), sha256=hashlib.sha256(data).hexdigest())

    def put_file(self, key: str, path: Path) -> StoredFile:
        """Store a local file without reading it whole into memory (multipart on S3)."""
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        try:
            obstore.put(self._store, key, Path(path))
        except Exception as exc:
            raise _write_failed(self.url, key, exc) from exc
        return StoredFile(key=key, bytes=Path(path).stat().st_size, sha256=digest.hexdigest())

    def get(self, key: str) -> bytes:
        try:
            return bytes(obstore.get(self._store, key).bytes())
        except (NotFoundError, FileNotFoundError) as exc:
            raise FileMissing(f"{key} is not in the file store {self.url}") from exc
        except Exception as exc:
            raise StorageError(f"cannot read {key} from {self.url}: {_reason(exc)}") from exc

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of a stored file (for HTTP range requests)."""
        try:
            return bytes(obstore.get_range(self._store, key, start=start, end=end))
        except (NotFoundError, FileNotFoundError) as exc:
            raise FileMissing(f"{key} is not in the file store {self.url}") from exc
        except Exception as exc:
            raise StorageError(f"cannot read {key} from {self.url}: {_reason(exc)}") from exc

    def size(self, key: str) -> int | None:
        try:
            return int(obstore.head(self._store, key)["size"])
        except (NotFoundError, FileNotFoundError):
            return None
        except Exception as exc:
            raise StorageError(f"cannot read {key} from {self.url}: {_reason(exc)}") from exc

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def list(self, prefix: str = "") -> Iterator[str]:
        try:
            for batch in obstore.list(self._store, prefix=prefix or None):
                for meta in batch:
                    yield meta["path"]
        except (NotFoundError, FileNotFoundError):
            return
        except Exception as exc:
            raise StorageError(f"cannot list {prefix or '(all)'} in {self.url}: {_reason(exc)}") from exc

    def delete(self, key: str) -> None:
        try:
            obstore.delete(self._store, key)
        except (NotFoundError, FileNotFoundError):
            pass
        except Exception as exc:
            raise StorageError(f"cannot delete {key} from {self.url}: {_reason(exc)}") from exc

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under prefix (one article's folder); returns how many."""
        if not prefix or not prefix.endswith("/"):
            raise ValueError("delete_prefix needs a folder prefix ending in '/'")
        keys = list(self.list(prefix))
        if keys:
            try:
                obstore.delete(self._store, keys)
            except Exception as exc:
                raise StorageError(f"cannot delete {prefix} from {self.url}: {_reason(exc)}") from exc
        if self._local_root is not None:
            self._remove_empty_dirs(prefix)
        return len(keys)

    def _remove_empty_dirs(self, prefix: str) -> None:
        """A local folder keeps empty directories after its files go; drop the purged folder's.

        Only directories under (and including) the prefix are removed, never the shared fan-out
        levels above it, so a writer creating a sibling article is not raced.
        """
        top = self._local_root / prefix.strip("/")
        if not top.is_dir() or top.is_symlink():
            return
        for dirpath, _dirnames, _filenames in os.walk(top, topdown=False):
            try:
                os.rmdir(dirpath)
            except OSError:  # not empty: something was written meanwhile; keep it
                pass

    def local_path(self, key: str) -> Path | None:
        """A real path for tools such as ffmpeg, when the store is a local folder."""
        return self._local_root / key if self._local_root else None


def open_file_store(url: str, s3_settings=None, *, registry=None) -> FileStore:
    """The file store `url` names, by its scheme: file:///abs/path, s3://bucket[/prefix] or memory://
    (or a scheme a plugin registered)."""
    scheme = urlparse(url).scheme
    reg = registry or default_registry()
    if not scheme or not reg.knows("file_store", scheme):
        raise ConfigError(f"files_url {url!r}: use {_USAGE} (known schemes: {', '.join(reg.names('file_store'))})")
    return reg.create("file_store", scheme, url, s3_settings)


_USAGE = "file:///path, s3://bucket/prefix or memory://"


def open_local(url: str, s3_settings=None) -> FileStore:
    """file:///absolute/folder: the embedded default."""
    parsed = urlparse(url)
    if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
        raise ConfigError(f"files_url {url!r}: a local folder is file:///absolute/path (three slashes)")
    root = Path(unquote(parsed.path))  # Path.as_uri() writes spaces as %20
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"files_url {url!r}: cannot make the folder {root}: {exc.strerror or exc}",
                           hint="make its parent folder writable, or set files_url to a folder you may write") from exc
    return FileStore(url, LocalStore(prefix=root, mkdir=True), local_root=root)


def open_memory(url: str, s3_settings=None) -> FileStore:
    """memory://: gone with the process (tests)."""
    return FileStore(url, MemoryStore())


def open_s3(url: str, s3_settings=None) -> FileStore:
    """s3://bucket[/prefix] on any S3-compatible server ([s3] settings: endpoint, keys, region)."""
    parsed = urlparse(url)
    if not parsed.netloc:
        raise ConfigError(f"files_url {url!r} needs a bucket: s3://BUCKET[/prefix]")
    kwargs = {"client_options": dict(S3_CLIENT_OPTIONS), "retry_config": S3_RETRY_CONFIG}
    if s3_settings is not None:
        if s3_settings.endpoint:
            kwargs["endpoint"] = s3_settings.endpoint
        kwargs["region"] = s3_settings.region
        if s3_settings.access_key_id:
            kwargs["access_key_id"] = s3_settings.access_key_id
            kwargs["secret_access_key"] = s3_settings.secret_access_key
        if s3_settings.allow_http:
            kwargs["client_options"]["allow_http"] = True
    prefix = parsed.path.strip("/") or None
    store = S3Store(parsed.netloc, prefix=prefix, virtual_hosted_style_request=False, **kwargs)
    return FileStore(url, store)
