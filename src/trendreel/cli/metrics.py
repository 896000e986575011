"""Views over time: `metrics collect`, `metrics list` and `report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trendreel.cli._common import HomeOpt, JsonOpt, _app, _cell, _print_json, _say, app, err, out

metrics_app = typer.Typer(help="Views, likes and comments of published videos over time.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")


def _n(value) -> str:
    return "?" if value is None else f"{value:,}"


@metrics_app.command("collect")
def metrics_collect(
    all_: Annotated[bool, typer.Option("--all", help="Poll every published video now, due or not.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Poll the counts of the publications that are due (1 h, 6 h, 24 h, 3 d, 7 d, then weekly); exit 1 if an account failed."""
    from trendreel import services

    with _app(home) as application:
        with Progress(TextColumn("[bold]metrics[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task("metrics", total=None)
            r = services.collect_metrics(application, all=all_,
                                on_progress=lambda done, total: progress.update(task, completed=done, total=total))
    if as_json:
        _print_json(r)
    else:
        if r["accounts"]:
            table = Table("account", "due", "stored", "errors")
            for a in r["accounts"]:
                table.add_row(_cell(a["account"]), str(a["publications"]), str(a["stored"]), str(a["errors"]))
            out.print(table)
        unknown = f", {r['unknown_counts']} without counts (e.g. no stats.json)" if r["unknown_counts"] else ""
        again = f", {r['already_stored']} already stored" if r["already_stored"] else ""
        _say(f"{r['due']} due, {r['stored']} samples stored{again}{unknown}."
             + ("" if r["due"] else " Nothing is due now; `trendreel metrics list` shows when each is next due."))
        if r["skipped_removed_accounts"]:
            _say(f"{r['skipped_removed_accounts']} publications of removed accounts were skipped.")
        for e in r["errors"]:
            _say(f"[red]error[/red] {_cell(e['account'])} ({len(e['publications'])} publications): {_cell(e['message'])}")
    if r["errors"]:
        raise typer.Exit(1)


@metrics_app.command("list")
def metrics_list(
    publication: Annotated[Optional[str], typer.Option("--publication", help="One publication's samples (an id from `trendreel publications`).")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Published videos with their latest counts and next poll, or every sample of one publication."""
    from trendreel import services

    with _app(home) as application:
        rows = services.list_metrics(application, publication)
    if as_json:
        _print_json(rows[0] if publication else rows)
        return
    if not rows:
        _say("no publications yet: trendreel publish --video ID --to folder:NAME, then trendreel metrics collect")
        return
    if publication:
        r = rows[0]
        _say(f"{r['publication_id']} on {r['account']}: {_cell(r['title'])} (published {r['published_at'][:16]})")
        table = Table("collected", "views", "likes", "comments", "status", "due point")
        for p in r["series"]:
            table.add_row(p["collected_at"][:16], _n(p["views"]), _n(p["likes"]), _n(p["comments"]), p["status"],
                          (p["due_at"] or "--all")[:16])
        out.print(table)
        if not r["series"]:
            _say("no samples yet: trendreel metrics collect")
        return
    table = Table("publication", "on", "published", "views", "likes", "comments", "samples", "next poll")
    for col in (0, 2, 7):
        table.columns[col].no_wrap = True
    table.columns[1].overflow = "fold"
    for r in rows:
        nxt = "account removed" if r["account_removed"] else (r["next_due_at"] or "done")[:16]
        table.add_row(r["publication_id"], _cell(r["account"]), (r["published_at"] or "")[:16], _n(r["views"]),
                      _n(r["likes"]), _n(r["comments"]), str(r["samples"]), nxt)
    out.print(table)


@app.command("report")
def report(
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Folder for report.html and the CSVs (default <home>/report).")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write an HTML report with plots (views over time, by trend, category, platform, account, weekday/hour) and CSVs."""
    from trendreel import services

    with _app(home) as application:
        _say("drawing the report ...")
        r = services.build_report(application, out_dir=out_dir)
    if as_json:
        _print_json(r)
        return
    for w in r["warnings"]:
        _say(f"warning: {_cell(w)}")
    _say(f"{r['publications']} publications, {r['samples']} samples, {r['total_views']:,} views in all.")
    out.print(r["html"], soft_wrap=True)
    out.print(r["csv"]["samples"], soft_wrap=True)
    out.print(r["csv"]["publications"], soft_wrap=True)
