"""File store: raw article files, media and renders, behind one small interface.

`open_file_store(url)` picks the backend by URL scheme: file:// (local folder, the default),
s3:// (any S3-compatible server) and memory:// (tests). All three go through obstore, so keys,
atomic writes and prefix deletes behave the same everywhere.
"""

from trendreel.files.layout import article_prefix, fanout
from trendreel.files.store import FileStore, StoredFile, open_file_store

__all__ = ["FileStore", "StoredFile", "open_file_store", "article_prefix", "fanout"]
