"""The engine's one activity, `run_stage`: any stage of the pipeline table, on the queue the workflow picked.

Each worker process builds the App from its settings once (`configure`) and the activity runs the
stage's function (services.pipeline) with it, on a thread, while it heartbeats every
`engine.heartbeat_s`; a worker that dies stops heartbeating and the cluster retries the stage elsewhere
after `engine.heartbeat_timeout_s`. Stages are idempotent and keyed by ids, so a retry reuses what an
earlier attempt finished.

Errors: a TrendreelError a user must act on (wrong settings, unknown ids, an unapproved video) fails
the workflow at once (non-retryable); outages (errors.Unavailable: a model server or language model
down, storage and network errors, anything flagged `retryable`) and unexpected errors are retried with
backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError, ProgrammingError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from trendreel.bootstrap import App, build_app
from trendreel.errors import TrendreelError
from trendreel.services.pipeline import STAGES

log = logging.getLogger("trendreel.engine")

_state: dict[str, Any] = {}
# The local vector store admits one process at a time: the stages that need it take this lock (and a
# file lock beside the store, for the other worker processes of the host) and close the store afterwards,
# so workers on one host take turns instead of failing.
_vectors_lock = threading.Lock()


def configure(settings) -> None:
    """Build this worker process's App from its settings (once)."""
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


def _app() -> App:
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


async def _call(fn, *, uses_vectors: bool = False):
    """Run `fn(app)` on a thread, heartbeating while it runs; its TrendreelErrors as ApplicationErrors."""
    app = _app()
    interval = app.settings.engine.heartbeat_s
    started = time.monotonic()

    def body():
        if not uses_vectors or not app.settings.vectors_url.startswith("local:"):
            return fn(app)
        with _vectors_lock, _host_lock(app.settings.vectors_url):
            try:
                return fn(app)
            finally:
                try:
                    app.release_vectors()
                except Exception:  # noqa: BLE001 - closing a store that failed to open
                    log.warning("closing the vector store failed", exc_info=True)

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
    folder = Path(vectors_url.removeprefix("local://"))
    folder.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder.parent / f".{folder.name}.workers.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocking: this runs on the stage's thread, heartbeats go on
        yield
    finally:
        os.close(fd)


def _timed(result: dict, started: float) -> dict:
    """The stage's result with the seconds spent in it and, before it, waiting for a free worker."""
    info = activity.info()
    queued = (info.started_time - info.current_attempt_scheduled_time).total_seconds()
    return {**result, "activity_s": round(time.perf_counter() - started, 3), "queued_s": round(max(queued, 0.0), 3),
            "worker_pid": os.getpid()}


# ---- the activity ------------------------------------------------------------------------------

@activity.defn(name="run_stage")
async def run_stage(params: dict) -> dict:
    """Stage `params["stage"]` of the pipeline table with `params["params"]`; its result, with timings."""
    name = params["stage"]
    if name not in STAGES:
        raise ApplicationError(f"unknown stage {name!r} (this worker knows {', '.join(STAGES)})", non_retryable=True)
    stage = STAGES[name]
    progress: dict = {}

    def report(done, total, info=None) -> None:
        progress.update(done=done, total=total, info=info)

    t = time.perf_counter()
    result = await _call(lambda app: stage.run(app, params.get("params") or {}, report),
                         uses_vectors="vectors" in stage.needs)
    return _timed({"result": result}, t)


ACTIVITIES = [run_stage]
