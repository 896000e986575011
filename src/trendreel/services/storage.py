"""The retention use cases: `storage_status` (used vs budget) and `collect_garbage` (`trendreel gc`).

Crash safety. gc purges in batches; per batch:

1. write a journal (retention/journal/<run>-<batch>.json in the file store) naming the batch's rows and
   files,
2. delete the files,
3. in one transaction: set files_purged_at on the rows and append one FilePurged event per row,
4. delete the journal.

Step 3 of one batch runs while the files of the next are being deleted (its journal is written
first), so the database work overlaps the disk's; a crash can then leave two journals, both repaired.

A crash after 1 leaves the journal. The next run reads every journal first: a row whose files are
(partly) gone has the rest of them deleted, is marked and gets its event; a row whose files are all
still there is left as it was (the new plan decides about it again). So a marked row never points to
a live file, and a row whose file is gone does not stay unmarked after the next run. Marking is
`WHERE files_purged_at IS NULL` and events carry a dedupe key, so running twice changes nothing more.
Only one gc runs at a time per database (a PostgreSQL advisory lock, or a lock file next to SQLite).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import obstore
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from trendreel import events
from trendreel.bootstrap import App
from trendreel.db.tables import Event, MediaItem, Video, utcnow
from trendreel.errors import FileMissing, StorageError
from trendreel.retention.errors import GcRunning, RetentionError
from trendreel.retention.plan import (
    IN_CHUNK,
    Plan,
    PurgeItem,
    load_videos,
    make_plan,
    measure_usage,
)

log = logging.getLogger(__name__)

__all__ = ["RetentionError", "collect_garbage", "storage_status"]

JOURNAL_PREFIX = "retention/journal/"
KIND_ORDER = ("image", "video", "rendered", "edited")
DELETE_WORKERS = 8
DELETE_GROUP = 64  # items per deleting task
_PG_LOCK_KEY = 0x7472_6763  # "trgc", with the schema's hash: one gc per PostgreSQL database and schema
ProgressFn = Callable[[int, int, int], None]  # (items done, items planned, bytes freed)


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- status -----------------------------------------------------------------------------------


def storage_status(app: App, *, check: bool = False) -> dict:
    """Used vs budget, by kind, from the rows; with check=True also lists the store and compares."""
    settings = app.settings.retention
    with app.db.session() as s:
        videos = load_videos(s)
        usage = measure_usage(s, videos)
    used, budget = usage.total, settings.budget_bytes
    by_kind = {k: usage.by_kind[k] for k in KIND_ORDER if k in usage.by_kind}
    by_kind.update({k: v for k, v in usage.by_kind.items() if k not in by_kind})
    result = {
        "files_url": app.files.url,
        "budget_bytes": budget,
        "used_bytes": used,
        "used_share": round(used / budget, 6),
        "target_bytes": int(budget * settings.low_water),
        "over_budget": used > budget,
        "by_kind": by_kind,
        "purged": usage.purged,
        "not_counted": "article files (html, text, meta.json) and caption/transcript text: their rows record no "
                       "size; the storage check (`check`) measures them",
    }
    if check:
        result["check"] = _check_store(app, videos)
    return result


def _area(key: str) -> str:
    """Which kind of file a key is, from the layout alone."""
    if key.startswith(JOURNAL_PREFIX):
        return "journal"
    if key.startswith("videos/"):
        return "rendered_or_edited"
    if key.startswith("articles/"):
        if key.endswith((".caption.txt", ".transcript.txt")):
            return "caption_transcript"
        parts = key.split("/")
        if len(parts) >= 6 and parts[4] == "images":
            return "image"
        if len(parts) >= 6 and parts[4] in ("videos", "audios"):
            return "video"
        return "article"
    return "other"


def _listing(files) -> Iterator[tuple[str, int]]:
    """(key, size) of every object in the store, from the store's own listing."""
    store = files._store  # FileStore.list gives keys only; the check also needs their sizes
    try:
        for batch in obstore.list(store):
            for meta in batch:
                yield meta["path"], int(meta["size"])
    except (FileNotFoundError,):
        return
    except Exception as exc:
        raise StorageError(f"cannot list {files.url}: {str(exc).splitlines()[0] if str(exc) else exc}") from exc


def _check_store(app: App, videos) -> dict:
    """List the whole store once and compare with the rows (the only place gc ever lists everything)."""
    sizes: dict[str, int] = {}
    areas: dict[str, dict] = {}
    for key, size in _listing(app.files):
        sizes[key] = size
        a = areas.setdefault(_area(key), {"files": 0, "bytes": 0})
        a["files"] += 1
        a["bytes"] += size
    missing, live_purged, known = [], [], set()

    def note(row_id: str, key: str, purged: bool) -> None:
        known.add(key)
        if purged and key in sizes:
            live_purged.append({"id": row_id, "key": key})
        elif not purged and key not in sizes:
            missing.append({"id": row_id, "key": key})

    with app.db.session() as s:
        q = (select(MediaItem.id, MediaItem.path, MediaItem.files_purged_at)
             .where(MediaItem.status == "stored", MediaItem.path.is_not(None)).execution_options(yield_per=5000))
        for mid, path, purged in s.execute(q):
            note(mid, path, purged is not None)
    for v in videos.values():
        for key in (v.path, v.thumbnail_path, v.subtitles_path):
            if key:
                note(v.id, key, v.purged)
    untracked = [k for k, a in ((k, _area(k)) for k in sizes) if a in ("image", "video", "rendered_or_edited") and k not in known]
    return {
        "listed_files": len(sizes),
        "listed_bytes": sum(sizes.values()),
        "by_area": areas,
        "rows_with_missing_files": {"count": len(missing), "examples": missing[:10]},
        "purged_rows_with_live_files": {"count": len(live_purged), "examples": live_purged[:10]},
        "files_without_rows": {"count": len(untracked), "bytes": sum(sizes[k] for k in untracked), "examples": untracked[:10]},
        "ok": not missing and not live_purged,
    }


# --- gc -----------------------------------------------------------------------------------------


@contextmanager
def _gc_lock(app: App):
    """One gc at a time per database: a PostgreSQL advisory lock, or a lock file next to the SQLite file."""
    engine = app.db.engine
    busy = GcRunning("another gc is running on this database; wait for it to finish "
                     "(a killed one releases its lock when its process ends)")
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"), {"k": _PG_LOCK_KEY}).scalar():
                raise busy
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"), {"k": _PG_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    fd = os.open(f"{database}.gc.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


def _insert(session, table):
    return (pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert)(table)


def _dedupe_key(item: PurgeItem) -> str:
    return f"{events.FILE_PURGED}:{item.kind}:{item.id}:{(item.sha256 or 'unknown')[:16]}"


def _mark(app: App, items: list[PurgeItem], run_id: str, *, repaired: bool = False) -> list[PurgeItem]:
    """Mark the rows purged and append their FilePurged events in one transaction; the newly marked items."""
    if not items:
        return []
    now = utcnow()
    newly: set[tuple[str, str]] = set()
    with app.db.session() as s:
        for kind, table in (("media", MediaItem), ("video", Video)):
            ids = [i.id for i in items if i.kind == kind]
            for chunk in _chunks(ids, IN_CHUNK):
                stmt = (update(table).where(table.id.in_(chunk), table.files_purged_at.is_(None))
                        .values(files_purged_at=now).returning(table.id)
                        .execution_options(synchronize_session=False))
                newly |= {(kind, i) for i in s.scalars(stmt)}
        marked = [i for i in items if (i.kind, i.id) in newly]
        rows = [{"at": now, "type": events.FILE_PURGED, "subject_type": i.kind, "subject_id": i.id,
                 "dedupe_key": _dedupe_key(i),
                 "payload": {"reason": i.reason, "kind": i.detail, "keys": list(i.keys), "bytes": i.bytes,
                             "run_id": run_id, **({"repaired": True} if repaired else {})}} for i in marked]
        if rows:
            s.connection().execute(_insert(s, Event.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]), rows)
    return marked


def _delete_item(files, item: PurgeItem) -> int:
    """Delete one row's files (a video's whole folder); deleting what is already gone is a no-op."""
    if item.prefix:
        files.delete_prefix(item.prefix)
        rest = [k for k in item.keys if not k.startswith(item.prefix)]
    else:
        rest = list(item.keys)
    for key in rest:
        files.delete(key)
    return len(item.keys)


def _delete_group(files, items: list[PurgeItem]) -> list[PurgeItem]:
    for item in items:
        _delete_item(files, item)
    return items


def _delete_batch(files, items: list[PurgeItem], pool: ThreadPoolExecutor) -> Iterator[PurgeItem]:
    """Delete the items' files in parallel; yields each item once its files are gone, in order.

    Each task deletes a group of DELETE_GROUP items: one task per file cost more in thread hand-offs
    than the unlink itself (profile of 100k files), while DELETE_WORKERS groups in flight still hide
    the disk's (or S3's) latency per delete.
    """
    groups = [items[i:i + DELETE_GROUP] for i in range(0, len(items), DELETE_GROUP)]
    done = pool.map(lambda g: _delete_group(files, g), groups)  # every group is submitted now
    return (item for group in done for item in group)


def _journal(run_id: str, batch_no: int, items: list[PurgeItem]) -> tuple[str, bytes]:
    key = f"{JOURNAL_PREFIX}{run_id}-{batch_no:06d}.json"
    body = {"run_id": run_id, "batch": batch_no, "written_at": utcnow().isoformat(), "items": [i.as_dict() for i in items]}
    return key, json.dumps(body, ensure_ascii=False).encode("utf-8")


def _repair_journals(app: App, pool: ThreadPoolExecutor) -> dict:
    """Finish what a crashed gc started: rows whose files are gone are marked, the rest left as they are."""
    out = {"journals": 0, "items_marked": 0, "bytes": 0}
    for key in sorted(app.files.list(JOURNAL_PREFIX)):
        try:
            body = json.loads(app.files.get(key))
            items = [PurgeItem.from_dict(d) for d in body["items"]]
            run_id = str(body.get("run_id") or "unknown")
        except FileMissing:
            continue
        except (ValueError, KeyError, TypeError) as exc:
            raise RetentionError(f"the gc journal {key} in {app.files.url} cannot be read ({exc}); look at it, then "
                                 "delete it and check the storage for rows whose files are gone",
                                 hint="`trendreel storage --check`") from exc

        def started(item: PurgeItem) -> bool:
            return any(not app.files.exists(k) for k in item.keys)

        broken = [i for i, gone in zip(items, pool.map(started, items)) if gone]
        list(_delete_batch(app.files, broken, pool))
        marked = _mark(app, broken, run_id, repaired=True)
        app.files.delete(key)
        out["journals"] += 1
        out["items_marked"] += len(marked)
        out["bytes"] += sum(i.bytes for i in marked)
        log.info("gc repaired journal %s: %d rows marked", key, len(marked))
    return out


def _plan_summary(plan: Plan) -> dict:
    return {
        "budget_bytes": plan.budget_bytes,
        "target_bytes": plan.target_bytes,
        "used_bytes_before": plan.used_bytes,
        "over_budget": plan.used_bytes > plan.budget_bytes,
        "needed_bytes": plan.needed_bytes,
        "planned": plan.by_reason(),
        "planned_bytes": plan.planned_bytes,
        "shortfall_bytes": plan.shortfall_bytes,
        "young_raw_media_bytes": plan.young_bytes,
        "media_scanned": plan.scanned_media,
        "media_skipped_protected": plan.skipped_protected,
        "protected": plan.protection.counts(),
    }


def collect_garbage(app: App, *, dry_run: bool = False, on_progress: ProgressFn | None = None) -> dict:
    """Free space when usage is over the budget (published videos' files first, then the oldest raw media).

    Returns what was freed (or, with dry_run, what would be, deleting and writing nothing).
    """
    settings = app.settings.retention
    if dry_run:
        with app.db.session() as s:
            plan = make_plan(s, settings)
        pending = sum(1 for _ in app.files.list(JOURNAL_PREFIX))
        return {"dry_run": True, **_plan_summary(plan), "freed_bytes": 0, "purged": {},
                "used_bytes_after": plan.used_bytes, "journals_to_repair": pending,
                "items": [i.as_dict() for i in plan.items[:200]], "items_total": len(plan.items)}

    with _gc_lock(app), ThreadPoolExecutor(DELETE_WORKERS, thread_name_prefix="gc") as pool:
        repaired = _repair_journals(app, pool)
        with app.db.session() as s:
            plan = make_plan(s, settings)
        run_id = utcnow().strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
        purged: dict[str, dict] = {}
        done = freed = skipped = 0
        total = len(plan.items)
        if on_progress:
            on_progress(0, total, 0)
        unmarked: tuple[str, list[PurgeItem]] | None = None  # a batch whose files are gone, rows not yet marked

        def finish(key: str, batch: list[PurgeItem]) -> None:
            nonlocal freed
            marked = _mark(app, batch, run_id)
            app.files.delete(key)
            for item in marked:
                r = purged.setdefault(item.reason, {"items": 0, "files": 0, "bytes": 0})
                r["items"] += 1
                r["files"] += len(item.keys)
                r["bytes"] += item.bytes
                freed += item.bytes
            if on_progress:
                on_progress(done, total, freed)

        for batch_no, batch in enumerate(_chunks(plan.items, settings.batch_size)):
            # A story written or a publication started since planning protects its files too.
            with app.db.session() as s:
                plan.protection.refresh(s)
            keep = [i for i in batch if plan.protection.covers(i)]
            batch = [i for i in batch if not plan.protection.covers(i)]
            skipped += len(keep)
            done += len(keep)
            if not batch:
                continue
            key, body = _journal(run_id, batch_no, batch)
            app.files.put(key, body)
            deleting = _delete_batch(app.files, batch, pool)
            # The previous batch is marked while this one's files are deleted: the database work
            # (CPU) overlaps the unlinks (disk), and each batch still has its journal until it is marked.
            if unmarked:
                finish(*unmarked)
            for _item in deleting:
                done += 1
                if on_progress:
                    on_progress(done, total, freed)
            unmarked = (key, batch)
        if unmarked:
            finish(*unmarked)
    return {"dry_run": False, "run_id": run_id, **_plan_summary(plan), "freed_bytes": freed, "purged": purged,
            "used_bytes_after": plan.used_bytes - freed, "skipped_now_protected": skipped, "repaired": repaired,
            "items_total": len(plan.items)}
