"""Stored files served over HTTP with range requests (so a video player can seek)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from trendreel.api.errors import ApiError
from trendreel.db.tables import MediaItem, Video

CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class FileRef:
    key: str
    mime: str
    sha256: str | None = None
    name: str | None = None


def media_file(app, media_id: str) -> FileRef:
    """The stored file of an article's image or video."""
    with app.db.session() as s:
        m = s.get(MediaItem, media_id)
        if m is None:
            raise ApiError(404, "not_found", f"unknown media {media_id}")
        if not m.path or m.files_purged_at is not None or m.status != "stored":
            raise ApiError(404, "not_found", f"media {media_id} has no stored file (status {m.status}"
                                             f"{', purged' if m.files_purged_at else ''})")
        return FileRef(key=m.path, mime=m.mime or "application/octet-stream", sha256=m.sha256)


VIDEO_FILES = {"video": ("path", "video/mp4"), "thumbnail": ("thumbnail_path", "image/jpeg"),
               "subtitles": ("subtitles_path", "application/x-subrip")}


def video_file(app, video_id: str, which: str) -> FileRef:
    attr, mime = VIDEO_FILES[which]
    with app.db.session() as s:
        v = s.get(Video, video_id)
        if v is None:
            raise ApiError(404, "not_found", f"unknown video {video_id}")
        key = getattr(v, attr)
        if not key or v.files_purged_at is not None:
            raise ApiError(404, "not_found", f"video {video_id} has no stored {which} file (status {v.status})")
        return FileRef(key=key, mime=mime, sha256=v.sha256 if which == "video" else None)


def _etag(ref: FileRef, size: int) -> str:
    basis = ref.sha256 or hashlib.sha256(f"{ref.key}\x1f{size}".encode()).hexdigest()
    return f'"{basis[:32]}"'


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """[start, end) of a single `bytes=` range, None to send everything; ApiError 416 when unsatisfiable."""
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None  # RFC 9110: a range header we do not understand is ignored (multiple ranges included)
    first, last = m.group(1), m.group(2)
    if first:
        start = int(first)
        end = min(int(last) + 1, size) if last else size
        if start >= size or (last and int(last) < start):
            raise ApiError(416, "range_not_satisfiable", f"the range {header[:80]} is outside the file's {size} bytes",
                           headers={"Content-Range": f"bytes */{size}"})
    else:
        suffix = int(last)
        if suffix == 0:
            raise ApiError(416, "range_not_satisfiable", "an empty suffix range", headers={"Content-Range": f"bytes */{size}"})
        start, end = max(size - suffix, 0), size
    return start, end


async def serve_file(request: Request, app, ref: FileRef) -> Response:
    """200 with the whole file, 206 with one range, 304 when the ETag matches, 416 for a bad range."""
    size = await run_in_threadpool(app.files.size, ref.key)
    if size is None:
        raise ApiError(404, "not_found", "the file is no longer in the file store")
    etag = _etag(ref, size)
    headers = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    rng = None
    if "range" in request.headers:
        if_range = request.headers.get("if-range")
        if if_range is None or if_range == etag:
            rng = parse_range(request.headers["range"], size)
    start, end = rng or (0, size)
    headers["Content-Length"] = str(end - start)
    if rng:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if request.method == "HEAD":
        return Response(status_code=206 if rng else 200, headers=headers, media_type=ref.mime)

    async def body():
        pos = start
        while pos < end:
            chunk = await run_in_threadpool(app.files.get_range, ref.key, pos, min(pos + CHUNK, end))
            if not chunk:
                break
            pos += len(chunk)
            yield chunk

    return StreamingResponse(body(), status_code=206 if rng else 200, headers=headers, media_type=ref.mime)
