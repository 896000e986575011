"""Small facts about stored media files, shared by everything that stores them (crawl, import)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import urlparse

EXT_BY_MIME = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
               "video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov"}


def extension_for(mime: str | None, name: str) -> str:
    """File extension for a media type, else the one in the URL or file name, else 'bin'."""
    if mime in EXT_BY_MIME:
        return EXT_BY_MIME[mime]
    guessed = mimetypes.guess_extension(mime or "") if mime else None
    if guessed:
        return guessed.lstrip(".")
    suffix = Path(urlparse(name).path).suffix.lstrip(".").lower()
    return suffix or "bin"


def image_size(path: Path) -> tuple[int | None, int | None]:
    """(width, height), or (None, None) when Pillow cannot read it: a size is nice to have."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            return im.size
    except Exception:  # noqa: BLE001
        return None, None
