"""Use cases of editing: a finished video's id in, a stored, checked edited video with its RDB row and a VideoEdited event out.

The original is never touched: the edit is a new row in the `video` table (stage = "edited",
parent_id = the source video, story_id copied) with its own files under
videos/<yyyy>/<mm>/<dd>/<edited_id>/{video.mp4, thumb.jpg, subtitles.srt}.
Idempotent: the edited id is "v" + 23 hex of sha256(source id, editor, its settings key, target), so
the same edit lands on the same row; a finished row is returned as it is (`reused: True`) unless
`force`, the source's file changed since (its hash is kept in the row's details), or the edit's files
were purged. The file is written to a temporary folder and checked first; a failed edit leaves the row
with status=error and its message, never a broken file in the store.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from trendreel import events
from trendreel.db import repo
from trendreel.db.tables import Video, utcnow
from trendreel.edit.base import EditJob
from trendreel.edit.errors import EditError, EditNotReady, EditSourceMissing
from trendreel.errors import FileMissing, StorageError, TrendreelError
from trendreel.files.layout import video_prefix
from trendreel.ids import edited_video_id
from trendreel.render.errors import RenderError
from trendreel.services.render import load_story, mark_failed, video_dict

log = logging.getLogger(__name__)

__all__ = ["edit_video"]


def _source_facts(app, video_id: str) -> dict:
    """The source row as plain values; EditError when it cannot be edited."""
    with app.db.session() as s:
        row = s.get(Video, video_id)
        if row is None:
            raise EditSourceMissing(f"unknown video {video_id!r}", hint="list videos with `trendreel videos`")
        if row.status != "done" or not row.path:
            what = {"running": "is still being made", "error": f"failed ({row.error or 'no message'})"}.get(
                row.status, f"has status {row.status}")
            raise EditNotReady(f"video {video_id} is not rendered yet: it {what}; render its story first",
                               hint=f"`trendreel render --story {row.story_id}`" if row.story_id else None)
        if row.files_purged_at is not None:
            raise EditNotReady(f"video {video_id} cannot be edited: its files were purged on "
                               f"{row.files_purged_at:%Y-%m-%d}; render its story again",
                               hint=f"`trendreel render --story {row.story_id} --force`" if row.story_id else None)
        return {"id": row.id, "story_id": row.story_id, "stage": row.stage, "path": row.path,
                "subtitles_path": row.subtitles_path, "thumbnail_path": row.thumbnail_path,
                "sha256": row.sha256, "details": dict(row.details or {}), "duration_s": row.duration_s}


def _fetch(app, video_id: str, key: str | None, dest: Path, *, required: bool) -> Path | None:
    """A stored file of the source as a local path (the store's own file when it is a folder, else a copy)."""
    if not key:
        return None
    local = app.files.local_path(key)
    if local is not None:
        if local.is_file():
            return local
        if required:
            raise EditError(f"video {video_id} cannot be edited: its file {key} is missing from the store")
        return None
    try:
        data = app.files.get(key)
    except FileMissing as exc:
        if required:
            raise EditError(f"video {video_id} cannot be edited: its file {key} is missing from the store") from exc
        return None
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / Path(key).name
    target.write_bytes(data)
    return target


def _story(app, story_id: str | None):
    if not story_id:
        return None
    try:
        return load_story(app, story_id)
    except RenderError as exc:
        log.warning("story %s of the video is not usable for emphasis: %s", story_id, exc)
        return None


def edit_video(app, *, video_id: str, target_seconds: float | None = None, backend: str | None = None,
               force: bool = False) -> dict:
    """Edit a finished video into a new stored video (or return the edit already made); the edit as a dict.

    The dict is `services.render.video_dict`'s shape plus `reused` (True when an earlier edit was
    returned) and `edit`: what was cut (segments kept/removed, cuts, seconds removed by reason,
    duration before/after, the key line, notes).
    """
    settings = app.settings.edit
    name = backend or settings.backend
    target = target_seconds if target_seconds is not None else settings.target_seconds
    if target is not None and target <= 0:
        raise EditError(f"target of {target:g} s is too short: give a positive number of seconds")
    src = _source_facts(app, video_id)
    editor = app.video_editor(name)
    eid = edited_video_id(video_id, name, editor.settings_key(), target)

    with app.db.session() as s:
        row = s.get(Video, eid)
        if (row is not None and row.status == "done" and not force and row.files_purged_at is None
                and (row.details or {}).get("parent_sha256") == src["sha256"]):
            return {**video_dict(row), "reused": True, "edit": dict((row.details or {}).get("edit") or {})}

    work = Path(tempfile.mkdtemp(prefix="trendreel-edit-"))
    try:
        source = _fetch(app, video_id, src["path"], work / "fetched", required=True)
        subtitles = _fetch(app, video_id, src["subtitles_path"], work / "fetched", required=False)
        thumbnail = _fetch(app, video_id, src["thumbnail_path"], work / "fetched", required=False)
        story = _story(app, src["story_id"])

        for attempt in (1, 2):  # a second worker inserting the same row at the same moment: read it back
            try:
                with app.db.session() as s:
                    row = s.get(Video, eid)
                    if row is None:
                        row = Video(id=eid, story_id=src["story_id"], parent_id=video_id, stage="edited", backend=name,
                                    status="running", created_at=utcnow(), details={})
                        s.add(row)
                    else:
                        row.status, row.error = "running", None
                    created_at = row.created_at
                break
            except IntegrityError:
                if attempt == 2:
                    raise

        job_dir = work / "job"
        job_dir.mkdir()
        try:
            out = editor.edit(EditJob(video_id=video_id, source=source, subtitles=subtitles, thumbnail=thumbnail,
                                      details=src["details"], story=story, target_seconds=target, settings=settings,
                                      workdir=job_dir))
        except TrendreelError as exc:
            mark_failed(app, eid, str(exc))
            raise
        except Exception as exc:  # a bug or an unexpected library error: record it, then let it surface
            mark_failed(app, eid, f"{type(exc).__name__}: {exc}")
            raise
        summary = {"duration_before_s": src["duration_s"], "duration_after_s": out.duration_s, **out.summary}
        prefix = video_prefix(eid, created_at)
        try:
            thumb = app.files.put_file(prefix + "thumb.jpg", out.thumbnail)
            srt = app.files.put_file(prefix + "subtitles.srt", out.subtitles) if out.subtitles else None
            stored = app.files.put_file(prefix + "video.mp4", out.video)
        except StorageError as exc:
            mark_failed(app, eid, str(exc))
            raise
        details = {**out.details, "edit": summary, "parent_id": video_id, "parent_sha256": src["sha256"],
                   "target_seconds": target, "edited_at": utcnow().isoformat(),
                   "files": {"thumbnail_bytes": thumb.bytes, "subtitles_bytes": srt.bytes if srt else None}}
        with app.db.session() as s:
            row = s.get(Video, eid)
            row.status, row.error = "done", None
            row.backend, row.parent_id, row.story_id, row.stage = name, video_id, src["story_id"], "edited"
            row.path, row.thumbnail_path, row.subtitles_path = stored.key, thumb.key, srt.key if srt else None
            row.duration_s, row.width, row.height = out.duration_s, out.width, out.height
            row.bytes, row.sha256 = stored.bytes, stored.sha256
            row.details = details
            row.files_purged_at = None
            repo.append_event(s, type=events.VIDEO_EDITED, subject_type="video", subject_id=eid,
                              dedupe_key=f"{events.VIDEO_EDITED}:{eid}:{stored.sha256[:16]}",
                              payload={"parent_id": video_id, "story_id": src["story_id"], "backend": name,
                                       "path": stored.key, "cuts": summary.get("cuts"),
                                       "removed_s": summary.get("removed_s", {}),
                                       "removed_total_s": summary.get("removed_total_s"),
                                       "duration_before_s": summary.get("duration_before_s"),
                                       "duration_after_s": summary.get("duration_after_s"),
                                       "target_seconds": target, "bytes": stored.bytes})
            s.flush()
            result = video_dict(row)
        for w in details.get("warnings", []):
            log.warning("video %s: %s", eid, w)
        return {**result, "reused": False, "edit": summary}
    finally:
        shutil.rmtree(work, ignore_errors=True)

