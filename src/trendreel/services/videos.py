"""Video rows, the one place they are written: rendered and edited videos share their row's life.

A render or an edit claims its row (status running) before any work, runs its backend with every
failure recorded on the row, stores the files (thumbnail, subtitles, then the video), and only then
marks the row done with its event, in one transaction. Reading: list, one video, where its file is.

A running row names its owner (`details.owner`: the process's token, host, scratch folder and a
heartbeat written every HEARTBEAT_S). A process killed mid-render (kill -9, a crash, a lost machine)
cannot mark its row; the next render or edit, and `trendreel serve` on start, reap what it left
(`reap_stale`): its row becomes an error that says to run it again, its ffmpeg is killed, its scratch
folder removed. A row on another host is taken as stale when its heartbeat is older than STALE_AFTER_S.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from trendreel.adapters import owner
from trendreel.bootstrap import App
from trendreel.db import repo
from trendreel.db.tables import Video, utcnow
from trendreel.errors import StorageError, TrendreelError
from trendreel.files.layout import video_prefix
from trendreel.files.store import StoredFile
from trendreel.render.errors import UnknownVideo

log = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = ["claim_row", "finish_row", "finished_video", "get_video", "list_videos", "mark_failed", "reap_stale",
           "run_recorded", "store_files", "video_dict", "video_file"]

HEARTBEAT_S = 30.0  # how often a running render or edit says it is alive on its row
STALE_AFTER_S = 600.0  # a running row of another host whose heartbeat is older than this is taken as dead
SCRATCH_PREFIXES = ("trendreel-render-", "trendreel-edit-")


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


def mark_failed(app: App, vid: str, message: str) -> None:
    """A video row (rendered or edited) as failed, with its message; its files are never stored."""
    with app.db.session() as s:
        row = s.get(Video, vid)
        if row is not None:
            row.status, row.error = "error", message[:4000]


def list_videos(app: App, *, story_id: str | None = None, limit: int = 50) -> list[dict]:
    """Videos, newest first, optionally of one story."""
    with app.db.session() as s:
        q = select(Video).order_by(Video.created_at.desc(), Video.id).limit(limit)
        if story_id:
            q = q.where(Video.story_id == story_id)
        return [video_dict(r) for r in s.scalars(q)]


def get_video(app: App, video_id: str) -> dict:
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


# ---- writing: claim, run, store, finish -------------------------------------------------------

def _owner(scratch: Path | None) -> dict:
    now = utcnow().isoformat()
    return {"token": owner.owner_token(), "host": owner.host(), "scratch": str(scratch) if scratch else None,
            "started_at": now, "heartbeat": now}


def claim_row(app: App, vid: str, *, scratch: Path | None = None, **new: object) -> datetime:
    """Mark the video row running, owned by this process (a new row gets the `new` fields); its creation time,
    which names its files. Two workers inserting the same row at once: the loser reads the winner's row back."""
    for attempt in (1, 2):
        try:
            with app.db.session() as s:
                row = s.get(Video, vid)
                if row is None:
                    row = Video(id=vid, status="running", created_at=utcnow(), details={"owner": _owner(scratch)}, **new)
                    s.add(row)
                else:
                    row.status, row.error = "running", None
                    row.details = {**(row.details or {}), "owner": _owner(scratch)}
                return row.created_at
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def run_recorded(app: App, vid: str, work: Callable[[], T]) -> T:
    """`work()`, with any failure written on the video row before it surfaces; the row's heartbeat is
    written every HEARTBEAT_S while it runs."""
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(app, vid, stop), name=f"heartbeat-{vid}", daemon=True)
    beat.start()
    try:
        return work()
    except TrendreelError as exc:
        mark_failed(app, vid, str(exc))
        raise
    except Exception as exc:  # a bug or an unexpected library error: record it, then let it surface
        mark_failed(app, vid, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        stop.set()
        beat.join()


def _heartbeat(app: App, vid: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        try:
            with app.db.session() as s:
                row = s.get(Video, vid)
                if row is None or row.status != "running":
                    return
                details = dict(row.details or {})
                details["owner"] = {**details.get("owner", {}), "heartbeat": utcnow().isoformat()}
                row.details = details
        except Exception:  # a missed beat is not a failed render; the next one may get through
            log.warning("video %s: heartbeat not written", vid, exc_info=True)


def reap_stale(app: App) -> dict:
    """Clean up after renders and edits whose process died (kill -9, a crash): their rows become errors to run
    again, their ffmpeg is killed and their scratch folders removed. What was reaped."""
    now = utcnow()
    reaped: list[str] = []
    with app.db.session() as s:
        for row in s.scalars(select(Video).where(Video.status == "running")):
            info = (row.details or {}).get("owner") or {}
            token = info.get("token")
            if not token:
                continue  # claimed by a version that named no owner: nothing tells whether it still runs
            dead = owner.owner_dead(token)
            if dead is None:  # another host: only its heartbeat tells
                try:
                    beat = datetime.fromisoformat(info.get("heartbeat") or info.get("started_at"))
                except (TypeError, ValueError):
                    continue
                dead = now - beat > timedelta(seconds=STALE_AFTER_S)
            if not dead:
                continue
            what = "render" if row.stage == "rendered" else "edit"
            row.status = "error"
            row.error = (f"interrupted: the process making this {what} (pid {token.split(':')[-2]} on "
                         f"{info.get('host') or 'another host'}) stopped before it finished; {what} it again")
            row.details = {**(row.details or {}), "interrupted_at": now.isoformat(), "retryable": True}
            reaped.append(row.id)
    killed = owner.kill_orphans()
    removed = owner.remove_stale_folders(SCRATCH_PREFIXES)
    if reaped or killed or removed:
        log.warning("reaped after a stopped render or edit: videos %s, processes %s, scratch folders %d",
                    reaped, killed, len(removed))
    return {"videos": reaped, "processes": killed, "folders": [str(p) for p in removed]}


def store_files(app: App, vid: str, created_at: datetime, *, video: Path, thumbnail: Path,
                subtitles: Path | None) -> tuple[StoredFile, StoredFile, StoredFile | None]:
    """The checked files under the video's folder, the video last: (video, thumbnail, subtitles)."""
    prefix = video_prefix(vid, created_at)
    try:
        thumb = app.files.put_file(prefix + "thumb.jpg", thumbnail)
        srt = app.files.put_file(prefix + "subtitles.srt", subtitles) if subtitles else None
        stored = app.files.put_file(prefix + "video.mp4", video)
    except StorageError as exc:
        mark_failed(app, vid, str(exc))
        raise
    return stored, thumb, srt


def finish_row(app: App, vid: str, *, files: tuple[StoredFile, StoredFile, StoredFile | None], duration_s: float,
               width: int, height: int, details: dict, event: str, payload: dict, **fields: object) -> dict:
    """The row done with its files and details, and its event (once per file content), in one transaction."""
    stored, thumb, srt = files
    with app.db.session() as s:
        row = s.get(Video, vid)
        for name, value in fields.items():
            setattr(row, name, value)
        row.status, row.error = "done", None
        row.path, row.thumbnail_path, row.subtitles_path = stored.key, thumb.key, srt.key if srt else None
        row.duration_s, row.width, row.height = duration_s, width, height
        row.bytes, row.sha256 = stored.bytes, stored.sha256
        row.details = {**details, "files": {"thumbnail_bytes": thumb.bytes, "subtitles_bytes": srt.bytes if srt else None}}
        row.files_purged_at = None
        repo.append_event(s, type=event, subject_type="video", subject_id=vid,
                          dedupe_key=f"{event}:{vid}:{stored.sha256[:16]}",
                          payload={**payload, "path": stored.key, "bytes": stored.bytes})
        s.flush()
        result = video_dict(row)
    for w in details.get("warnings", []):
        log.warning("video %s: %s", vid, w)
    return result


# ---- reading a finished video for the next stage ------------------------------------------------

def finished_video(app: App, video_id: str, *, purpose: str, missing: type[TrendreelError],
                   not_ready: type[TrendreelError]) -> dict:
    """The facts of a finished video whose files are stored, for `purpose` ("edited", "published");
    `missing` when no row has the id, `not_ready` when it is not finished or its files were purged."""
    with app.db.session() as s:
        row = s.get(Video, video_id)
        if row is None:
            raise missing(f"unknown video {video_id!r}", hint="list videos with `trendreel videos`")
        if row.status != "done" or not row.path:
            what = {"running": "is still being made", "error": f"failed ({row.error or 'no message'})"}.get(
                row.status, f"has status {row.status}")
            raise not_ready(f"video {video_id} is not finished: it {what}; render its story first",
                            hint=f"`trendreel render --story {row.story_id}`" if row.story_id else None)
        if row.files_purged_at is not None:
            raise not_ready(f"video {video_id} cannot be {purpose}: its files were purged on "
                            f"{row.files_purged_at:%Y-%m-%d}; render its story again",
                            hint=f"`trendreel render --story {row.story_id} --force`" if row.story_id else None)
        return {"id": row.id, "story_id": row.story_id, "stage": row.stage, "path": row.path,
                "subtitles_path": row.subtitles_path, "thumbnail_path": row.thumbnail_path, "sha256": row.sha256,
                "details": dict(row.details or {}), "duration_s": row.duration_s, "review": row.review}
