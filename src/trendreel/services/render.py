"""Use cases of rendering: story id in, a stored, checked video with its RDB row and a VideoRendered event out.

Idempotent: the video id is "v" + 23 hex of sha256(story id, backend, the backend's settings key), so
rendering the same story with the same settings lands on the same row; a finished row is returned as
it is unless `force` (or the story changed since: its content hash is kept in the row's details).
The file is written to a temporary folder, checked with ffprobe, and only then stored under
videos/<yyyy>/<mm>/<dd>/<video_id>/{video.mp4, thumb.jpg, subtitles.srt}; a failed render leaves
a row with status=error and its message, never a broken file in the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from trendreel import events
from trendreel.bootstrap import App
from trendreel.db import repo
from trendreel.db.tables import MediaItem, Story as StoryRow, Video, utcnow
from trendreel.errors import FileMissing, StorageError, TrendreelError
from trendreel.files.layout import video_prefix
from trendreel.ids import video_id as make_video_id
from trendreel.render.base import MediaFile, RenderJob
from trendreel.render.errors import RenderError, UnknownVideo
from trendreel.story.models import Story

log = logging.getLogger(__name__)

__all__ = ["get_video", "list_videos", "load_story", "render_story", "video_file"]


def load_story(app: App, story_id: str) -> Story:
    """The stored story as a `trendreel.story.models.Story`; RenderError when unknown or unreadable."""
    with app.db.session() as s:
        row = s.get(StoryRow, story_id)
        if row is None:
            raise UnknownVideo(f"unknown story {story_id!r}: no stored story has this id", hint="list stories with `trendreel stories`")
        body = dict(row.body or {})
    body.setdefault("id", story_id)
    try:
        return Story.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RenderError(f"story {story_id} cannot be rendered: its stored body is not a valid story "
                          f"({where}: {first['msg']})") from exc


def _story_hash(story) -> str:
    blob = json.dumps(story.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _fetch_media(app, story, dest: Path) -> dict[str, MediaFile]:
    """Each cited medium as a local file (the store's own path when it is a folder, else a copy)."""
    ids = sorted(story.media_ids())
    with app.db.session() as s:
        rows = {m.id: m for m in s.scalars(select(MediaItem).where(MediaItem.id.in_(ids)))} if ids else {}
        facts = {i: (r.kind, r.status, r.path, r.files_purged_at, r.mime) for i, r in rows.items()}
    out: dict[str, MediaFile] = {}
    dest.mkdir(parents=True, exist_ok=True)
    for mid in ids:
        if mid not in facts:
            cited = next(m.kind for sc in story.scenes for m in sc.media if m.media_id == mid)
            out[mid] = MediaFile(mid, cited, None, "it is not in the database")
            continue
        kind, status, key, purged, mime = facts[mid]
        if purged is not None:
            out[mid] = MediaFile(mid, kind, None, "its file was purged", mime)
            continue
        if status != "stored" or not key:
            out[mid] = MediaFile(mid, kind, None, f"it was never stored (status {status})", mime)
            continue
        local = app.files.local_path(key)
        if local is not None:
            out[mid] = MediaFile(mid, kind, local if local.is_file() else None,
                                 None if local.is_file() else "its file is missing from the store", mime)
            continue
        try:
            data = app.files.get(key)
        except FileMissing:
            out[mid] = MediaFile(mid, kind, None, "its file is missing from the store", mime)
            continue
        target = dest / f"{mid}{Path(key).suffix[:8]}"
        target.write_bytes(data)
        out[mid] = MediaFile(mid, kind, target, None, mime)
    return out


def video_dict(row: Video) -> dict:
    """The public shape of a video row."""
    return {
        "id": row.id, "story_id": row.story_id, "parent_id": row.parent_id, "stage": row.stage,
        "backend": row.backend, "status": row.status, "path": row.path, "thumbnail_path": row.thumbnail_path,
        "subtitles_path": row.subtitles_path, "duration_s": row.duration_s, "width": row.width, "height": row.height,
        "bytes": row.bytes, "sha256": row.sha256, "created_at": row.created_at.isoformat() if row.created_at else None,
        "files_purged_at": row.files_purged_at.isoformat() if row.files_purged_at else None,
        "error": row.error, "warnings": list((row.details or {}).get("warnings", [])), "details": dict(row.details or {}),
        "review": row.review, "reviewed_at": row.reviewed_at.isoformat() if row.reviewed_at else None,
        "reviewed_by": row.reviewed_by,
    }


def render_story(app, *, story_id: str, backend: str | None = None, force: bool = False) -> dict:
    """Render a stored story into a stored video (or return the one already made); the video as a dict.

    The dict is `video_dict`'s shape plus `reused`: True when an earlier render was returned.
    """
    settings = app.settings.render
    name = backend or settings.backend
    story = load_story(app, story_id)
    generator = app.video_generator(name)
    vid = make_video_id(story_id, name, generator.settings_key())
    story_hash = _story_hash(story)

    for attempt in (1, 2):  # a second worker inserting the same row at the same moment: read it back
        try:
            with app.db.session() as s:
                row = s.get(Video, vid)
                if (row is not None and row.status == "done" and not force and row.files_purged_at is None
                        and (row.details or {}).get("story_hash") == story_hash):
                    return {**video_dict(row), "reused": True}
                if row is None:
                    row = Video(id=vid, story_id=story_id, stage="rendered", backend=name, status="running",
                                created_at=utcnow(), details={})
                    s.add(row)
                else:
                    row.status, row.error = "running", None
                created_at = row.created_at
            break
        except IntegrityError:
            if attempt == 2:
                raise

    work = Path(tempfile.mkdtemp(prefix="trendreel-render-"))
    try:
        try:
            media = _fetch_media(app, story, work / "fetched")
            out = generator.generate(RenderJob(story=story, media=media, settings=settings, workdir=work))
        except TrendreelError as exc:
            mark_failed(app, vid, str(exc))
            raise
        except Exception as exc:  # a bug or an unexpected library error: record it, then let it surface
            mark_failed(app, vid, f"{type(exc).__name__}: {exc}")
            raise
        prefix = video_prefix(vid, created_at)
        try:
            thumb = app.files.put_file(prefix + "thumb.jpg", out.thumbnail)
            srt = app.files.put_file(prefix + "subtitles.srt", out.subtitles)
            stored = app.files.put_file(prefix + "video.mp4", out.video)
        except StorageError as exc:
            mark_failed(app, vid, str(exc))
            raise
        details = {**out.details, "story_hash": story_hash, "rendered_at": utcnow().isoformat(),
                   "files": {"thumbnail_bytes": thumb.bytes, "subtitles_bytes": srt.bytes}}
        with app.db.session() as s:
            row = s.get(Video, vid)
            row.status, row.error = "done", None
            row.backend = name
            row.path, row.thumbnail_path, row.subtitles_path = stored.key, thumb.key, srt.key
            row.duration_s, row.width, row.height = out.duration_s, out.width, out.height
            row.bytes, row.sha256 = stored.bytes, stored.sha256
            row.details = details
            row.files_purged_at = None
            repo.append_event(s, type=events.VIDEO_RENDERED, subject_type="video", subject_id=vid,
                              dedupe_key=f"{events.VIDEO_RENDERED}:{vid}:{stored.sha256[:16]}",
                              payload={"story_id": story_id, "backend": name, "path": stored.key,
                                       "duration_s": out.duration_s, "bytes": stored.bytes,
                                       "warnings": len(details.get("warnings", []))})
            s.flush()
            result = video_dict(row)
        for w in details.get("warnings", []):
            log.warning("video %s: %s", vid, w)
        return {**result, "reused": False}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def mark_failed(app, vid: str, message: str) -> None:
    """A video row (rendered or edited) as failed, with its message; its files are never stored."""
    with app.db.session() as s:
        row = s.get(Video, vid)
        if row is not None:
            row.status, row.error = "error", message[:4000]


def list_videos(app, *, story_id: str | None = None, limit: int = 50) -> list[dict]:
    """Videos, newest first, optionally of one story."""
    with app.db.session() as s:
        q = select(Video).order_by(Video.created_at.desc(), Video.id).limit(limit)
        if story_id:
            q = q.where(Video.story_id == story_id)
        return [video_dict(r) for r in s.scalars(q)]


def get_video(app, video_id: str) -> dict:
    """One video by id; RenderError when unknown."""
    with app.db.session() as s:
        row = s.get(Video, video_id)
        if row is None:
            raise UnknownVideo(f"unknown video {video_id!r}", hint="list videos with `trendreel videos`")
        return video_dict(row)


def video_file(app: App, video: dict) -> str | None:
    """Where a person opens the video: a local path for a local file store, else the store key; None when
    there is no file (not made yet, or freed by gc)."""
    if not video.get("path") or video.get("files_purged_at"):
        return None
    local = app.files.local_path(video["path"])
    return str(local) if local is not None else video["path"]
