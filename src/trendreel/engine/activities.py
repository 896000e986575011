"""Activities: thin wrappers around the stage service functions, unchanged.

Each worker process builds the App from its settings once (`configure`) and every activity calls one
service function with it, on a thread, while the activity heartbeats every `engine.heartbeat_s`; a worker
that dies stops heartbeating and the cluster retries the stage elsewhere after `engine.heartbeat_timeout_s`.
Stages are idempotent and keyed by ids, so a retry reuses what an earlier attempt finished.

Errors: a TrendreelError a user must act on (wrong settings, unknown ids, an unapproved video) fails
the workflow at once (non-retryable); outages (a model server or language model down, storage and
network errors, anything flagged `retryable`) and unexpected errors are retried with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from trendreel.errors import TrendreelError

log = logging.getLogger("trendreel.engine")

_state: dict[str, Any] = {}
# The local vector store admits one process at a time: the stages that open it take this lock (and a
# file lock beside the store, for the other worker processes of the host) and close the store afterwards,
# so workers on one host take turns instead of failing.
_vectors_lock = threading.Lock()


def configure(settings) -> None:
    """Build this worker process's App from its settings (once)."""
    from trendreel.bootstrap import build_app

    from sqlalchemy.exc import IntegrityError, ProgrammingError

    if "app" in _state:
        _state["app"].close()
    for attempt in range(1, 6):
        try:
            _state["app"] = build_app(settings)
            return
        except (IntegrityError, ProgrammingError):
            # Workers started together on a new database: another one is creating the tables right now.
            if attempt == 5:
                raise
            time.sleep(attempt)


def close() -> None:
    app = _state.pop("app", None)
    if app is not None:
        app.close()


def _app():
    if "app" not in _state:
        raise RuntimeError("the worker's App is not configured: start workers with `trendreel worker`")
    return _state["app"]


def retryable(exc: BaseException) -> bool:
    """Whether a stage that raised `exc` is worth another attempt."""
    if not isinstance(exc, TrendreelError):
        return True  # a bug or an outside library's error: retried, and the workflow history shows it
    return exc.retryable  # outages (errors.Unavailable: storage, language model, model server) and flagged ones


def _as_application_error(exc: BaseException) -> ApplicationError:
    return ApplicationError(str(exc) or type(exc).__name__, type=type(exc).__name__,
                            non_retryable=not retryable(exc))


async def _call(fn: Callable, *args, uses_vectors: bool = False, **kwargs):
    """Run `fn` on a thread, heartbeating while it runs; its TrendreelErrors as ApplicationErrors."""
    app = _app()
    interval = app.settings.engine.heartbeat_s
    started = time.monotonic()

    def body():
        if not uses_vectors or not app.settings.vectors_url.startswith("local:"):
            return fn(app, *args, **kwargs)
        with _vectors_lock, _host_lock(app.settings.vectors_url):
            try:
                return fn(app, *args, **kwargs)
            finally:
                _release_vectors(app)

    task = asyncio.ensure_future(asyncio.to_thread(body))
    while True:
        done, _ = await asyncio.wait({task}, timeout=interval)
        if done:
            break
        activity.heartbeat({"running_s": round(time.monotonic() - started, 1)})
    try:
        return task.result()
    except TrendreelError as exc:
        raise _as_application_error(exc) from exc


@contextlib.contextmanager
def _host_lock(vectors_url: str):
    """Wait for the other worker processes of this host to be done with the local vector store."""
    import fcntl

    folder = Path(vectors_url.removeprefix("local://"))
    folder.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder.parent / f".{folder.name}.workers.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocking: this runs on the stage's thread, heartbeats go on
        yield
    finally:
        os.close(fd)


def _release_vectors(app) -> None:
    """Close the local vector store (and the indexer holding it) so another process may open it."""
    cache = app._cache
    if "vectors" in cache:
        try:
            cache.pop("vectors").close()
        except Exception:  # noqa: BLE001 - closing a store that failed to open
            log.warning("closing the vector store failed", exc_info=True)
    cache.pop("indexer", None)


def _timed(result: dict, started: float) -> dict:
    """The stage's result with the seconds spent in it and, before it, waiting for a free worker."""
    info = activity.info()
    queued = (info.started_time - info.current_attempt_scheduled_time).total_seconds()
    return {**result, "activity_s": round(time.perf_counter() - started, 3), "queued_s": round(max(queued, 0.0), 3),
            "worker_pid": os.getpid()}


# ---- the stages --------------------------------------------------------------------------------


def _crawl(app, params: dict) -> dict:
    from trendreel import services
    from trendreel.settings import SourceConfig

    if params.get("sources"):
        # Sources given by the workflow (e.g. the demo's local site) instead of the worker's own list.
        sources = [SourceConfig.model_validate(s) for s in params["sources"]]
        crawl = app.settings.crawl.model_copy(update=params.get("crawl") or {})
        app = dataclasses.replace(app, settings=app.settings.model_copy(update={"sources": sources, "crawl": crawl}),
                                  _cache={})
    stats = services.crawl_sources(app, source_names=params.get("source_names") or None,
                                   urls=params.get("urls") or None, max_pages=params.get("max_pages"))
    return stats.as_dict()


@activity.defn(name="crawl_sources")
async def crawl_sources(params: dict) -> dict:
    t = time.perf_counter()
    return _timed(await _call(_crawl, params), t)


@activity.defn(name="index_articles")
async def index_articles(params: dict) -> dict:
    from trendreel import services

    t = time.perf_counter()
    stats = await _call(lambda app: services.index_articles(app, force=bool(params.get("force"))), uses_vectors=True)
    return _timed(stats.as_dict(), t)


@activity.defn(name="detect_trends")
async def detect_trends(params: dict) -> dict:
    from trendreel import services

    t = time.perf_counter()
    trends = await _call(lambda app: services.detect_trends(app, window=params.get("window")), uses_vectors=True)
    return _timed({"trends": [{"id": x["id"], "lang": x["lang"], "text": x["text"], "score": x["score"]}
                              for x in trends]}, t)


@activity.defn(name="write_story")
async def write_story(params: dict) -> dict:
    from trendreel import services

    t = time.perf_counter()
    story = await _call(lambda app: services.write_story(app, trend_id=params["trend_id"], item_id=params.get("item_id")),
                        uses_vectors=True)
    return _timed({"id": story["id"], "title": story.get("title"), "reused": story.get("reused", False)}, t)


def _video(v: dict) -> dict:
    return {"id": v["id"], "story_id": v["story_id"], "stage": v["stage"], "status": v["status"], "path": v["path"],
            "duration_s": v["duration_s"], "bytes": v["bytes"], "sha256": v["sha256"], "reused": v.get("reused", False)}


@activity.defn(name="render_story")
async def render_story(params: dict) -> dict:
    from trendreel import services

    t = time.perf_counter()
    video = await _call(lambda app: services.render_story(app, story_id=params["story_id"]))
    return _timed(_video(video), t)


@activity.defn(name="edit_video")
async def edit_video(params: dict) -> dict:
    from trendreel import services

    t = time.perf_counter()
    video = await _call(lambda app: services.edit_video(app, video_id=params["video_id"]))
    return _timed(_video(video), t)


@activity.defn(name="approve_video")
async def approve_video(params: dict) -> dict:
    from trendreel import services

    t = time.perf_counter()
    out = await _call(lambda app: services.approve_video(app, params["video_id"], by=params.get("by") or "engine"))
    return _timed({"video_id": params["video_id"], "review": out.get("review")}, t)


@activity.defn(name="publish_video")
async def publish_video(params: dict) -> dict:
    from trendreel import services

    t = time.perf_counter()
    p = await _call(lambda app: services.publish_video(app, video_id=params["video_id"], to=params["to"],
                                                       privacy=params.get("privacy")))
    return _timed({"id": p["id"], "status": p.get("status"), "url": p.get("url"), "reused": p.get("reused", False)}, t)


@activity.defn(name="collect_metrics")
async def collect_metrics(params: dict) -> dict:
    from trendreel import services

    t = time.perf_counter()
    out = await _call(lambda app: services.collect_metrics(app, all=bool(params.get("all"))))
    return _timed({k: v for k, v in out.items() if k != "publications"}, t)


@activity.defn(name="run_stage")
async def run_stage(params: dict) -> dict:
    """One stage of a gateway pipeline run: the gateway's own stage function (the one its in-process
    runner calls), here on a worker; its progress goes out with the heartbeats."""
    from trendreel.api.runs import STAGE_FUNCTIONS

    stage = params["stage"]
    if stage not in STAGE_FUNCTIONS:
        raise ApplicationError(f"unknown stage {stage!r}", non_retryable=True)
    progress: dict = {}

    def report(done, total) -> None:
        progress.update(done=done, total=total)

    t = time.perf_counter()
    result = await _call(lambda app: STAGE_FUNCTIONS[stage](app, params.get("params") or {}, report),
                         uses_vectors=stage in ("index", "trends", "story"))
    return _timed({"result": result}, t)


ACTIVITIES = [run_stage, crawl_sources, index_articles, detect_trends, write_story, render_story, edit_video, approve_video,
              publish_video, collect_metrics]
