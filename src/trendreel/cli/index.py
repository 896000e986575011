"""Items in and findable: `import` (dated items of any corpus), `index`, `search` and `categorize`."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from trendreel.cli._common import HomeOpt, JsonOpt, _app, _cell, _print_json, _say, _utc, app, err, out

if TYPE_CHECKING:
    from trendreel.bootstrap import App


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="JSON Lines: id, title, published_at, optional url, text, category, lang, source, images, videos.")],
    source: Annotated[str, typer.Option("--source", help="Name these items are filed under.")] = "import",
    index_too: Annotated[bool, typer.Option("--index", help="Index the imported items right away.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import dated items (any corpus) so that trends and stories can use them; bad lines are reported and skipped."""

    from trendreel import services
    with _app(home) as application, Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}[/bold]"), BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=err) as progress:
        task = progress.add_task("import", total=None)
        index_task = None

        def on_index_progress(done, total, _stats):
            nonlocal index_task
            if index_task is None:
                index_task = progress.add_task("index", total=total)
            progress.update(index_task, completed=done, total=total)

        result = services.import_items(application, path=file, source=source, index=index_too,
                                       on_progress=lambda done, total: progress.update(task, completed=done, total=total),
                                       on_index_progress=on_index_progress)
    stats = result["import"]
    if as_json:
        _print_json(result)
    else:
        table = Table(title=f"import {file.name}", show_header=False)
        for k, v in stats.items():
            if k != "errors":
                table.add_row(k, str(v))
        for k, v in result.get("index", {}).items():
            if k != "error_messages":
                table.add_row(f"index: {k}", str(v))
        out.print(table)
        for e in stats["errors"][:20]:
            err.print(_cell(f"{file}:{e['line']}: {e['error']}"), soft_wrap=True)
        if len(stats["errors"]) > 20:
            _say(f"... and {len(stats['errors']) - 20} more (see --json)")
        if not index_too and (stats["new"] or stats["updated"]):
            _say("Next: trendreel index, then trendreel trends")
    if stats["skipped"] or stats["media_errors"]:
        raise typer.Exit(1)


@app.command()
def index(
    force: Annotated[bool, typer.Option("--force", help="Index every article again, not only new or changed ones.")] = False,
    article: Annotated[Optional[list[str]], typer.Option("--article", help="Only this article id (repeatable).")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Index stored articles: vectors for text, images and videos; category, summary, captions, transcripts."""
    with _app(home) as application:
        stats = _run_index(application, article_ids=article, force=force)
    if as_json:
        _print_json(stats.as_dict())
        return
    table = Table(title="index", show_header=False)
    for k, v in stats.as_dict().items():
        if k != "error_messages":
            table.add_row(k, str(v))
    out.print(table)
    for message in stats.error_messages[:20]:
        err.print(_cell(message))


def _run_index(application: App, **kwargs):
    from trendreel import services

    with Progress(SpinnerColumn(), TextColumn("[bold]index[/bold]"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err) as progress:
        task = progress.add_task("index", total=None)

        def on_progress(done, total, _stats):
            progress.update(task, completed=done, total=total)

        return services.index_articles(application, on_progress=on_progress, **kwargs)


@app.command()
def search(
    text: Annotated[Optional[str], typer.Argument(help="What to look for, in any language.")] = None,
    like: Annotated[Optional[str], typer.Option("--like", help="Find items similar to this article or media id.")] = None,
    kind: Annotated[Optional[str], typer.Option("--kind", help="article, image or video.")] = None,
    category: Annotated[Optional[str], typer.Option("--category", help="Only this category slug.")] = None,
    since: Annotated[Optional[datetime], typer.Option("--since", help="Published on or after (YYYY-MM-DD).")] = None,
    until: Annotated[Optional[datetime], typer.Option("--until", help="Published before (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many results.")] = 10,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search stored articles, images and videos by meaning, or by example with --like."""

    from trendreel import services
    with _app(home) as application:
        hits = services.search(application, query=text, like=like, kind=kind, category=category,
                               since=_utc(since), until=_utc(until), limit=limit)
    if as_json:
        _print_json(hits)
        return
    table = Table("score", "kind", "id", "date", "title")
    table.columns[4].overflow = "ellipsis"
    for h in hits:
        table.add_row(f"{h['score']:.3f}", h["kind"], h["id"], (h["published_at"] or "")[:10], _cell(h["title"] or ""))
    out.print(table)


@app.command()
def categorize(
    texts: Annotated[Optional[list[str]], typer.Argument(help="Texts (headlines) to categorise.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="JSONL with id and title or text per line.")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the category (from the category master) of each text."""

    from trendreel import services
    items: list[dict] = [{"text": t} for t in (texts or [])]
    if file is not None:
        items += _read_jsonl_texts(file)
    with _app(home) as application:
        guesses = services.categorize_texts(application, [i["text"] for i in items])
    rows = [{**({"id": i["id"]} if "id" in i else {}), **g, "text": i["text"]} for i, g in zip(items, guesses)]
    if as_json:
        sys.stdout.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        return
    table = Table("category", "score", "text")
    for r in rows:
        table.add_row(r["category"], f"{r['score']:.2f}", _cell(r["text"][:80]))
    out.print(table)


def _read_jsonl_texts(path: Path) -> list[dict]:
    from trendreel.errors import ConfigError
    from trendreel.jsonl import iter_jsonl

    items = []
    for n, obj in iter_jsonl(path):
        text = obj.get("title") or obj.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{path}:{n}: needs a non-empty \"title\" or \"text\"")
        items.append({"id": obj["id"], "text": text} if "id" in obj else {"text": text})
    return items
