"""The learning loop: `metrics import`, `learn features|fit|evaluate|models|arms` and `forecast`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trendreel.cli._common import (
    HomeOpt,
    JsonOpt,
    _app,
    _cell,
    _print_json,
    _say,
    app,
    err,
    out,
)
from trendreel.cli.metrics import metrics_app

learn_app = typer.Typer(help="Learn from the views: features, models, their evaluation, the choices made.",
                        no_args_is_help=True)
app.add_typer(learn_app, name="learn")

SplitOpt = Annotated[Optional[datetime], typer.Option(
    "--split", help="Evaluate on histories first seen on or after this time (default: the newest 20 %).")]


@metrics_app.command("import")
def metrics_import(
    file: Annotated[Path, typer.Argument(help="JSON Lines: id, platform, account, title, category, tags, language, published_at, samples [{at, views, likes, comments}].")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import publication histories from elsewhere (a channel's past videos) as publications of external accounts."""
    from trendreel import services

    with _app(home) as application, Progress(TextColumn("[bold]import[/bold]"), BarColumn(), TextColumn("{task.completed} lines"),
                                             TimeElapsedColumn(), console=err, transient=True) as progress:
        task = progress.add_task("import", total=None)
        r = services.import_histories(application, path=file,
                                      on_progress=lambda done, total: progress.update(task, completed=done, total=total))
    if as_json:
        _print_json(r)
        return
    _say(f"{r['lines']} lines: {r['imported']} histories imported, {r['updated']} with new samples, "
         f"{r['unchanged']} already stored; {r['samples_added']} samples added, {len(r['errors'])} bad lines.")
    for e in r["errors"][:20]:
        _say(f"line {e['line']}: {_cell(e['error'])}")
    if len(r["errors"]) > 20:
        _say(f"... and {len(r['errors']) - 20} more bad lines (--json lists them all)")


@learn_app.command("features")
def learn_features(
    publication: Annotated[Optional[str], typer.Option("--publication", help="One publication's features.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many publications (the newest).")] = 20,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The feature store: each publication's features with the time each was known (from rows only)."""
    from trendreel import services

    with _app(home) as application:
        r = services.learning_features(application, publication_id=publication, limit=limit)
    if as_json:
        _print_json(r)
        return
    _say(f"features version {r['features_version']}, {r['histories']} publication histories")
    for row in r["rows"]:
        table = Table("feature", "value", "known at", title=f"{row['publication_id']} ({row['account']})")
        for name, f in row["features"].items():
            value = f["value"]
            table.add_row(name, f"{value:.4g}" if isinstance(value, float) else _cell(value), (f["known_at"] or "")[:16])
        out.print(table)


def _figures_table(evaluation: dict) -> Table:
    table = Table("task", "n", "MSE log10", "Spearman", "baseline MSE", "baseline Spearman", "MSE ratio",
                  title=f"evaluation: split at {evaluation['split_at'][:10]}, {evaluation['train']} train, "
                        f"{evaluation['test']} held out")
    for key, label in (("from_early_samples", "early samples"), ("from_metadata", "metadata")):
        f = evaluation.get(key)
        if f:
            table.add_row(label, str(f["ours"]["n"]), f"{f['ours']['mse_log10']:.4f}", f"{f['ours']['spearman']:.3f}",
                          f"{f['baseline']['mse_log10']:.4f}", f"{f['baseline']['spearman']:.3f}", f"{f['mse_ratio']:.3f}")
    table.caption = ("baselines: early samples, log-linear growth from the first sample (Szabo & Huberman 2008); "
                     "metadata, the account's mean, else the category's")
    return table


@learn_app.command("evaluate")
def learn_evaluate(split: SplitOpt = None, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Evaluate the views model on a time split of the stored histories, beside the plain baselines."""
    from trendreel import services

    with _app(home) as application:
        r = services.evaluate_models(application, split_at=split)
    if as_json:
        _print_json(r)
        return
    out.print(_figures_table(r))


@learn_app.command("fit")
def learn_fit(split: SplitOpt = None, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Evaluate, then fit the forecaster and the cold-start predictor on every history and store them."""
    from trendreel import services

    with _app(home) as application:
        _say("fitting ...")
        r = services.fit_models(application, split_at=split)
    if as_json:
        _print_json(r)
        return
    out.print(_figures_table(r["evaluation"]))
    for m in r["models"]:
        _say(f"stored {m['kind']} v{m['version']} ({m['id']}, {m['n_train']} histories, {m['bytes']:,} bytes)")


@learn_app.command("models")
def learn_models(
    kind: Annotated[Optional[str], typer.Option("--kind", help="forecaster or cold_start.")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fitted models, newest first, with their evaluation."""
    from trendreel import services

    with _app(home) as application:
        rows = services.list_models(application, kind=kind)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        _say("no models yet: trendreel learn fit")
        return
    table = Table("id", "kind", "version", "histories", "trained until", "MSE ratio", "Spearman (base)")
    table.columns[0].no_wrap = table.columns[1].no_wrap = True
    for m in rows:
        f = m["evaluation"].get("figures") or {}
        table.add_row(m["id"], m["kind"], str(m["version"]), str(m["n_train"]), (m["trained_until"] or "")[:10],
                      f"{f['mse_ratio']:.3f}" if f.get("mse_ratio") is not None else "",
                      f"{f['ours']['spearman']:.3f} ({f['baseline']['spearman']:.3f})" if f else "")
    out.print(table)


@learn_app.command("choose")
def learn_choose(
    count: Annotated[int, typer.Option("--count", help="How many trends to choose.")] = 3,
    limit: Annotated[int, typer.Option("--limit", help="Among this many best-scored stored trends.")] = 50,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Choose trends to make stories of by expected views with exploration (learn.policy), and record the choice."""
    from trendreel import services

    with _app(home) as application:
        rows = services.choose_now(application, count=count, limit=limit, context="cli")
    if as_json:
        _print_json(rows)
        return
    table = Table("trend", "arm", "policy", "expected views", "text")
    table.columns[0].no_wrap = True
    for t in rows:
        d = t["decision"]
        table.add_row(t["id"], d["arm"], d["policy"], "" if d["expected_views"] is None else f"{d['expected_views']:,}",
                      _cell(t["text"]))
    out.print(table)
    _say("next: trendreel story --trend TREND_ID for each")


@learn_app.command("arms")
def learn_arms(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Choices made by rank and by exploring, compared by the views their videos got (95 % intervals)."""
    from trendreel import services

    with _app(home) as application:
        r = services.compare_decisions(application)
    if as_json:
        _print_json(r)
        return
    table = Table("arm", "videos", "mean log10 views", "95 % interval", title=f"{r['decisions']} choices")
    for arm in ("ranked", "explore"):
        a = r[arm]
        ci = a.get("ci") or [None, None]
        table.add_row(arm, str(a["n"]), "" if a["mean_log10"] is None else f"{a['mean_log10']:.3f}",
                      "" if ci[0] is None else f"{ci[0]:.3f} .. {ci[1]:.3f}")
    out.print(table)
    d = r["difference"]
    if d.get("mean_log10") is not None:
        _say(f"ranked - explore: {d['mean_log10']:+.3f} log10 views, 95 % interval {d['ci'][0]:+.3f} .. {d['ci'][1]:+.3f}")


@app.command("forecast")
def forecast(
    file: Annotated[Optional[Path], typer.Option("--file", help="JSON Lines in the import shape plus predict_at (samples known so far, possibly none).")] = None,
    publication: Annotated[Optional[str], typer.Option("--publication", help="One of our publications.")] = None,
    at: Annotated[Optional[datetime], typer.Option("--at", help="Predict views at this time (for --publication; default in 7 days).")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Forecast views: from the samples known so far, or from metadata alone (fits the models first when none exist)."""
    from trendreel import services

    with _app(home) as application:
        rows = services.forecast(application, path=file, publication_id=publication, predict_at=at)
    if as_json:
        _print_json(rows)
        return
    table = Table("id", "predict at", "views", "from")
    for r in rows:
        table.add_row(_cell(r["id"]), r["predict_at"][:16], f"{r['views']:,}", r["from"])
    out.print(table)
