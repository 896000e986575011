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
import shutil
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select

from trendreel import events
from trendreel.adapters.owner import make_scratch
from trendreel.bootstrap import App
from trendreel.db.tables import MediaItem, Video, utcnow
from trendreel.db.tables import Story as StoryRow
from trendreel.errors import FileMissing
from trendreel.ids import video_id as make_video_id
from trendreel.render.base import MediaFile, RenderJob
from trendreel.render.errors import RenderError, UnknownVideo
from trendreel.services.videos import (
    claim_row,
    finish_row,
    reap_stale,
    run_recorded,
    store_files,
    video_dict,
)
from trendreel.story.models import Story

__all__ = ["load_story", "render_story"]


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


def _fetch_media(app: App, story, dest: Path) -> dict[str, MediaFile]:
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


def render_story(app: App, *, story_id: str, backend: str | None = None, force: bool = False) -> dict:
    """Render a stored story into a stored video (or return the one already made); the video as a dict.

    The dict is `video_dict`'s shape plus `reused`: True when an earlier render was returned.
    """
    settings = app.settings.render
    name = backend or settings.backend
    story = load_story(app, story_id)
    generator = app.video_generator(name)
    vid = make_video_id(story_id, name, generator.settings_key())
    story_hash = _story_hash(story)

    with app.db.session() as s:
        row = s.get(Video, vid)
        if (row is not None and row.status == "done" and not force and row.files_purged_at is None
                and (row.details or {}).get("story_hash") == story_hash):
            return {**video_dict(row), "reused": True}
    reap_stale(app)  # what a killed render left: its row running, its ffmpeg, its scratch folder
    work = make_scratch("trendreel-render-")
    try:
        created_at = claim_row(app, vid, scratch=work, story_id=story_id, stage="rendered", backend=name)
        out = run_recorded(app, vid, lambda: generator.generate(RenderJob(
            story=story, media=_fetch_media(app, story, work / "fetched"), settings=settings, workdir=work)))
        files = store_files(app, vid, created_at, video=out.video, thumbnail=out.thumbnail, subtitles=out.subtitles)
        result = finish_row(
            app, vid, files=files, duration_s=out.duration_s, width=out.width, height=out.height, backend=name,
            details={**out.details, "story_hash": story_hash, "rendered_at": utcnow().isoformat()},
            event=events.VIDEO_RENDERED,
            payload={"story_id": story_id, "backend": name, "duration_s": out.duration_s,
                     "warnings": len(out.details.get("warnings", []))})
        return {**result, "reused": False}
    finally:
        shutil.rmtree(work, ignore_errors=True)


