"""The storage budget: `storage` and `gc`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from trendreel.cli._common import HomeOpt, JsonOpt, _app, _cell, _print_json, _say, app, err, out

_REASONS = {"published_video": "published videos (local files)", "raw_media": "raw media (oldest first)"}


def _share(used: int, budget: int) -> str:
    return f"{100 * used / budget:.1f} %" if budget else "-"


@app.command("storage")
def storage(
    check: Annotated[bool, typer.Option("--check", help="Also list the whole store and compare it with the rows (slow on big stores).")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Storage used against the budget (retention.budget_bytes), by kind, from the database rows."""
    from trendreel import services
    from trendreel.units import format_size

    with _app(home) as application:
        if check and not as_json:
            _say(f"listing {application.files.url} ...")
        status = services.storage_status(application, check=check)
    if as_json:
        _print_json(status)
        return
    table = Table("kind", "files", "bytes", "size", title=f"storage of {status['files_url']}")
    for kind, v in status["by_kind"].items():
        table.add_row(_cell(kind), str(v["files"]), str(v["bytes"]), format_size(v["bytes"]))
    table.add_row("[bold]used[/bold]", "", str(status["used_bytes"]), format_size(status["used_bytes"]))
    table.add_row("budget", "", str(status["budget_bytes"]), format_size(status["budget_bytes"]))
    out.print(table)
    if status["purged"]:
        purged = ", ".join(f"{k} {v['rows']} ({format_size(v['bytes'])})" for k, v in status["purged"].items())
        _say(f"already purged (rows kept): {purged}")
    state = "[red]over budget[/red]: run trendreel gc" if status["over_budget"] else "within budget"
    _say(f"{_share(status['used_bytes'], status['budget_bytes'])} of the budget used, {state}. Not counted: "
         f"{status['not_counted']}.")
    if check:
        c = status["check"]
        areas = Table("area", "files", "bytes", "size", title="listed in the store")
        for area, v in sorted(c["by_area"].items()):
            areas.add_row(area, str(v["files"]), str(v["bytes"]), format_size(v["bytes"]))
        out.print(areas)
        for name in ("rows_with_missing_files", "purged_rows_with_live_files", "files_without_rows"):
            if c[name]["count"]:
                examples = ", ".join(str(e.get("key", e)) if isinstance(e, dict) else str(e) for e in c[name]["examples"][:3])
                _say(f"[yellow]{name.replace('_', ' ')}: {c[name]['count']}[/yellow] (e.g. {_cell(examples)})")
        _say("the store matches the rows" if c["ok"] else
             "the store and the rows disagree: run trendreel gc (it finishes interrupted purges), then check again")
        if not c["ok"]:
            raise typer.Exit(1)


@app.command("gc")
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be freed; delete nothing.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Free space when over the storage budget: published videos' local files first, then the oldest raw media.

    Never touched: unpublished videos and their sources, media of items a pending story cites.

    Rows stay, marked purged, each with a FilePurged event. Safe to interrupt and to run again.
    """
    from trendreel import services
    from trendreel.units import format_size

    with _app(home) as application:
        if dry_run:
            result = services.collect_garbage(application, dry_run=True)
        else:
            with Progress(SpinnerColumn(), TextColumn("[bold]gc[/bold]"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                          TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=err, transient=as_json) as progress:
                task = progress.add_task("gc", total=None, info="")

                def on_progress(done: int, total: int, freed: int) -> None:
                    progress.update(task, completed=done, total=total, info=f"{format_size(freed)} freed")

                result = services.collect_garbage(application, on_progress=on_progress)
    if as_json:
        _print_json(result)
        return
    counts = result["purged"] if not dry_run else result["planned"]
    table = Table("what", "items", "files", "bytes", "size", title="would free" if dry_run else "freed")
    for reason, v in counts.items():
        table.add_row(_REASONS.get(reason, reason), str(v["items"]), str(v["files"]), str(v["bytes"]), format_size(v["bytes"]))
    if counts:
        out.print(table)
    before, budget = result["used_bytes_before"], result["budget_bytes"]
    if not result["over_budget"]:
        _say(f"within budget: {format_size(before)} of {format_size(budget)} ({_share(before, budget)}); nothing to free")
    else:
        amount = result["planned_bytes"] if dry_run else result["freed_bytes"]
        after = before - amount
        _say(f"{'would free' if dry_run else 'freed'} {format_size(amount)}: {format_size(before)} -> {format_size(after)} "
             f"of {format_size(budget)} (target {format_size(result['target_bytes'])})")
        if result["shortfall_bytes"]:
            _say(f"[yellow]still {format_size(result['shortfall_bytes'])} over the target[/yellow]: everything else is "
                 f"protected (unpublished work, media of pending stories: {result['media_skipped_protected']} media kept) "
                 f"or younger than retention.raw_media_min_age_days ({format_size(result['young_raw_media_bytes'])}); "
                 "raise retention.budget_bytes or publish/finish pending work")
    repaired = result.get("repaired") or {}
    if repaired.get("journals"):
        _say(f"finished {repaired['journals']} interrupted gc step(s): {repaired['items_marked']} rows marked purged")
    if dry_run and result.get("journals_to_repair"):
        _say(f"{result['journals_to_repair']} interrupted gc step(s) will be finished by the next gc")
