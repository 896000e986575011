"""The publishing schedule and unattended cycles: `schedule add|list|cancel|run` and `autopilot run|status`."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Optional

import typer
from rich.table import Table

from trendreel.cli._common import HomeOpt, JsonOpt, _app, _cell, _print_json, _say, _utc, app, out

schedule_app = typer.Typer(help="Plan posts: when each video goes out on each account.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")
autopilot_app = typer.Typer(help="Unattended operation: crawl, make, approve, schedule, publish and measure in cycles.",
                            no_args_is_help=True)
app.add_typer(autopilot_app, name="autopilot")


def _posts_table(rows: list[dict]) -> None:
    # The id and the time stay whole; the video id and the rest are in --json.
    table = Table("post", "planned (UTC)", "to", "status", "title (or error)", expand=True)
    for col in (0, 1):
        table.columns[col].no_wrap = True
    table.columns[4].overflow = "fold"
    table.columns[4].ratio = 1
    for r in rows:
        table.add_row(r["id"], r["planned_at"][:16].replace("T", " "), _cell(r["to"]), f"{r['status']} ({r['how']})",
                      _cell(r["error"] or r["title"] or r["video_id"]))
    out.print(table)


@schedule_app.command("add")
def schedule_add(
    video_id: Annotated[str, typer.Argument(help="An approved video (an id from `trendreel videos`).")],
    to: Annotated[str, typer.Option("--to", help="PLATFORM:NAME of an account (youtube:NAME, folder:NAME).")],
    at: Annotated[Optional[datetime], typer.Option("--at", help="When, as ISO time (UTC unless it names a zone), e.g. 2026-12-08T18:00:00+09:00.")] = None,
    best: Annotated[bool, typer.Option("--best", help="At the account's best hour (from its views; schedule.best_fallback_hour until it has enough).")] = False,
    privacy: Annotated[Optional[str], typer.Option("--privacy", help="private, unlisted or public (default: publish.privacy).")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan a video on an account: at a time, at its best hour, or as soon as the caps allow."""
    from trendreel import services

    with _app(home) as application:
        r = services.add_post(application, video_id=video_id, to=to, at=_utc(at), best=best, privacy=privacy,
                              by="cli")
    if as_json:
        _print_json(r)
        return
    _posts_table([r])
    moved = r["details"].get("moved_s")
    why = f" (moved {moved / 3600:.1f} h later for schedule.daily_cap / min_spacing)" if moved else ""
    _say(f"{'Already planned' if r['reused'] else 'Planned'}: {r['planned_at']}{why}. "
         "`trendreel schedule run` publishes it when due.")


@schedule_app.command("list")
def schedule_list(
    account: Annotated[Optional[str], typer.Option("--account", help="Only this account (PLATFORM:NAME).")] = None,
    status: Annotated[Optional[str], typer.Option("--status", help="planned, publishing, done, error or cancelled.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, earliest first.")] = 200,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List planned posts, earliest first."""
    from trendreel import services

    with _app(home) as application:
        rows = services.list_posts(application, account=account, status=status, limit=limit)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        _say("nothing planned: trendreel schedule add VIDEO --to PLATFORM:NAME [--at TIME | --best]")
        return
    _posts_table(rows)


@schedule_app.command("cancel")
def schedule_cancel(
    post_id: Annotated[str, typer.Argument(help="A planned post (an id from `trendreel schedule list`).")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel a planned post (not one being published or done)."""
    from trendreel import services

    with _app(home) as application:
        r = services.cancel_post(application, post_id)
    if as_json:
        _print_json(r)
        return
    _say(f"{'Cancelled' if r['changed'] else 'Already cancelled'}: {post_id}.")


@schedule_app.command("run")
def schedule_run(
    once: Annotated[bool, typer.Option("--once", help="Publish what is due now and stop (else keep checking).")] = False,
    every: Annotated[float, typer.Option("--every", help="Seconds between two checks without --once.")] = 60.0,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish the planned posts that are due, through the publish service (or the engine's workers)."""
    from trendreel import services

    with _app(home) as application:
        while True:
            r = services.run_due(application)
            if as_json:
                _print_json(r)
            elif r["due"] or once:
                for p in r["published"]:
                    _say(f"published {p['video_id']} to {p['to']}: {p['url']}")
                for p in r["retrying"] + r["failed"]:
                    _say(f"{'will retry' if p in r['retrying'] else 'failed'} {p['id']}: {p['error']}")
                if not r["due"]:
                    _say("nothing due")
            if once:
                if r["failed"]:
                    raise typer.Exit(1)
                return
            time.sleep(every)


def _print_cycle(c: dict) -> None:
    steps = ", ".join(f"{k} {v.get('state')}" for k, v in c["steps"].items())
    _say(f"cycle {c['id']} ({c['slot']}): {c['status']}; {steps}; videos {len(c['videos'])}")
    for f in c["failures"]:
        _say(f"  failed: {f['step']}: {f['error']}")


@autopilot_app.command("run")
def autopilot_run(
    once: Annotated[bool, typer.Option("--once", help="Run (or resume) the current cycle and stop.")] = False,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between checks for due posts between cycles.")] = 60.0,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the unattended loop from [autopilot]: a cycle every autopilot.every, due posts between them."""
    from trendreel import services
    from trendreel.errors import TrendreelError

    with _app(home) as application:
        while True:
            try:
                c = services.autopilot_cycle(application)
            except TrendreelError:
                if once:
                    raise
                c = None  # recorded on the cycle; the loop goes on and resumes it
            if c is not None and as_json:
                _print_json(c)
            elif c is not None:
                _print_cycle(c)
            if once:
                return
            time.sleep(poll)
            services.run_due(application)


@autopilot_app.command("status")
def autopilot_status(
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The last cycles, when the next is due, failures with their messages, what is planned."""
    from trendreel import services

    with _app(home) as application:
        r = services.autopilot_status(application)
    if as_json:
        _print_json(r)
        return
    _say(f"autopilot {'on' if r['enabled'] else 'off (autopilot.enabled)'}, every {r['every']}, "
         f"targets {', '.join(r['targets']) or 'none'}; next cycle {r['next_at']}")
    for c in r["cycles"][:5]:
        _print_cycle(c)
    if r["upcoming"]:
        _posts_table(r["upcoming"])
