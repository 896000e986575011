"""Key layout of the file store; see docs/storage.md for why it looks like this.

articles/<h0h1>/<h2h3>/<article_id>/{article.html, article.txt, meta.json, images/NN.ext, videos/NN.ext}
videos/<yyyy>/<mm>/<dd>/<video_id>/{video.mp4, thumb.jpg, subtitles.srt}
Keys are built from ids only, never from page content.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SAFE_EXT = re.compile(r"^[a-z0-9]{1,5}$")


def fanout(entity_id: str) -> str:
    """Two-level 256x256 fan-out from the sha256 of the id: 'ab/cd'."""
    h = hashlib.sha256(entity_id.encode()).hexdigest()
    return f"{h[0:2]}/{h[2:4]}"


def _check_id(entity_id: str) -> str:
    if not _SAFE_ID.match(entity_id):
        raise ValueError(f"unsafe id for a file key: {entity_id!r}")
    return entity_id


def article_prefix(article_id: str) -> str:
    return f"articles/{fanout(_check_id(article_id))}/{article_id}/"


def article_file(article_id: str, name: str) -> str:
    """Key of one of the article's fixed files (article.html, article.txt, meta.json)."""
    if name not in {"article.html", "article.txt", "meta.json", "raw.bin"}:
        raise ValueError(f"not an article file name: {name!r}")
    return article_prefix(article_id) + name


def media_file(article_id: str, kind: str, position: int, ext: str) -> str:
    """Key of the article's NN-th image or video: images/03.jpg."""
    if kind not in {"image", "video", "audio"}:
        raise ValueError(f"unknown media kind {kind!r}")
    ext = ext.lower().lstrip(".")
    if not _SAFE_EXT.match(ext):
        ext = "bin"
    return f"{article_prefix(article_id)}{kind}s/{position:02d}.{ext}"


def video_prefix(video_id: str, created_at: datetime) -> str:
    """Folder of one rendered video, by its UTC creation day: videos/2026/11/24/<video_id>/."""
    day = created_at.astimezone(timezone.utc) if created_at.tzinfo else created_at
    return f"videos/{day:%Y/%m/%d}/{_check_id(video_id)}/"
