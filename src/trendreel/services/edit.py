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
from pathlib import Path

from trendreel import events
from trendreel.adapters.owner import make_scratch
from trendreel.bootstrap import App
from trendreel.db.tables import Video, utcnow
from trendreel.edit.base import EditJob
from trendreel.edit.errors import EditError, EditNotReady, EditSourceMissing
from trendreel.errors import FileMissing
from trendreel.ids import edited_video_id
from trendreel.render.errors import RenderError
from trendreel.services.render import load_story
from trendreel.services.videos import (
    claim_row,
    reap_stale,
    finish_row,
    finished_video,
    run_recorded,
    store_files,
    video_dict,
)

log = logging.getLogger(__name__)

__all__ = ["edit_video"]


def _fetch(app: App, video_id: str, key: str | None, dest: Path, *, required: bool) -> Path | None:
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


def _story(app: App, story_id: str | None):
    if not story_id:
        return None
    try:
        return load_story(app, story_id)
    except RenderError as exc:
        log.warning("story %s of the video is not usable for emphasis: %s", story_id, exc)
        return None


def edit_video(app: App, *, video_id: str, target_seconds: float | None = None, backend: str | None = None,
               force: bool = False) -> dict:
    """Edit a finished video into a new stored video (or return the edit already made); the edit as a dict.

    The dict is `services.videos.video_dict`'s shape plus `reused` (True when an earlier edit was
    returned) and `edit`: what was cut (segments kept/removed, cuts, seconds removed by reason,
    duration before/after, the key line, notes).
    """
    settings = app.settings.edit
    name = backend or settings.backend
    target = target_seconds if target_seconds is not None else settings.target_seconds
    if target is not None and target <= 0:
        raise EditError(f"target of {target:g} s is too short: give a positive number of seconds")
    src = finished_video(app, video_id, purpose="edited", missing=EditSourceMissing, not_ready=EditNotReady)
    editor = app.video_editor(name)
    eid = edited_video_id(video_id, name, editor.settings_key(), target)

    with app.db.session() as s:
        row = s.get(Video, eid)
        if (row is not None and row.status == "done" and not force and row.files_purged_at is None
                and (row.details or {}).get("parent_sha256") == src["sha256"]):
            return {**video_dict(row), "reused": True, "edit": dict((row.details or {}).get("edit") or {})}

    reap_stale(app)  # what a killed render or edit left: its row running, its ffmpeg, its scratch folder
    work = make_scratch("trendreel-edit-")
    try:
        source = _fetch(app, video_id, src["path"], work / "fetched", required=True)
        subtitles = _fetch(app, video_id, src["subtitles_path"], work / "fetched", required=False)
        thumbnail = _fetch(app, video_id, src["thumbnail_path"], work / "fetched", required=False)
        story = _story(app, src["story_id"])

        created_at = claim_row(app, eid, scratch=work, story_id=src["story_id"], parent_id=video_id, stage="edited",
                               backend=name)
        job_dir = work / "job"
        job_dir.mkdir()
        out = run_recorded(app, eid, lambda: editor.edit(EditJob(
            video_id=video_id, source=source, subtitles=subtitles, thumbnail=thumbnail, details=src["details"],
            story=story, target_seconds=target, settings=settings, workdir=job_dir)))
        summary = {"duration_before_s": src["duration_s"], "duration_after_s": out.duration_s, **out.summary}
        files = store_files(app, eid, created_at, video=out.video, thumbnail=out.thumbnail, subtitles=out.subtitles)
        result = finish_row(
            app, eid, files=files, duration_s=out.duration_s, width=out.width, height=out.height,
            backend=name, parent_id=video_id, story_id=src["story_id"], stage="edited",
            details={**out.details, "edit": summary, "parent_id": video_id, "parent_sha256": src["sha256"],
                     "target_seconds": target, "edited_at": utcnow().isoformat()},
            event=events.VIDEO_EDITED,
            payload={"parent_id": video_id, "story_id": src["story_id"], "backend": name, "cuts": summary.get("cuts"),
                     "removed_s": summary.get("removed_s", {}), "removed_total_s": summary.get("removed_total_s"),
                     "duration_before_s": summary.get("duration_before_s"),
                     "duration_after_s": summary.get("duration_after_s"), "target_seconds": target})
        return {**result, "reused": False, "edit": summary}
    finally:
        shutil.rmtree(work, ignore_errors=True)

