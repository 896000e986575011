"""`trendreel` command line: parse, call a service, print. Errors become a message and an exit code."""

from __future__ import annotations

import json
import shlex
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from trendreel import services
from trendreel.bootstrap import App, build_app
from trendreel.errors import ConfigError, TrendreelError
from trendreel.logs import configure_logging
from trendreel.settings import Settings, load_settings

app = typer.Typer(help="Turn what is trending on the web into short videos.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
categories_app = typer.Typer(help="The category master table.", no_args_is_help=True)
app.add_typer(categories_app, name="categories")
out = Console()
err = Console(stderr=True)

HomeOpt = Annotated[Optional[Path], typer.Option("--home", help="Data folder (same as TRENDREEL_HOME).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _settings(home: Path | None) -> Settings:
    settings = load_settings(home=home)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return settings


@contextmanager
def _app(home: Path | None) -> Iterator[App]:
    application = build_app(_settings(home))
    try:
        yield application
    finally:
        application.close()


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _cell(value) -> Text:
    """Table cell text shown as is: page titles and error messages may contain [brackets]."""
    return Text("" if value is None else str(value))


def _say(message: str) -> None:
    """One message on stderr, never hard-wrapped (paths and URLs stay whole when piped)."""
    err.print(message, soft_wrap=True)


def _usage_error_types() -> tuple[type[BaseException], ...]:
    """Usage errors of the click that typer runs on: its own copy (typer >= 0.20) or click itself."""
    types: list[type[BaseException]] = []
    if hasattr(typer, "TyperException"):
        types.append(typer.TyperException)
    try:
        import click

        types.append(click.exceptions.ClickException)
    except ImportError:  # pragma: no cover - newer typer does not need click
        pass
    return tuple(types)


def _interrupted() -> SystemExit:
    _say("interrupted: run the same command again to resume")
    return SystemExit(130)


def main() -> None:
    """Entry point that turns user-facing errors into one clear line."""
    try:
        code = app(standalone_mode=False)
    except ConfigError as exc:
        _say(f"[red]configuration error:[/red] {escape(str(exc))}")
        raise SystemExit(2)
    except TrendreelError as exc:
        _say(f"[red]error:[/red] {escape(str(exc))}")
        raise SystemExit(1)
    except KeyboardInterrupt:
        raise _interrupted()
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code)
    except typer.Abort:  # older click turns Ctrl-C into Abort
        raise _interrupted()
    except SystemExit:
        raise
    except _usage_error_types() as exc:  # unknown option, missing argument, no arguments (shows the help)
        exc.show()
        raise SystemExit(getattr(exc, "exit_code", 2))
    # Without standalone mode an Exit (--help, Ctrl-C as Exit(130)) comes back as the return value.
    if isinstance(code, int) and not isinstance(code, bool) and code:
        if code == 130:
            raise _interrupted()
        raise SystemExit(code)


def _crawl_progress():
    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}[/bold]"), BarColumn(), TextColumn("{task.completed}"),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=err, transient=False)


def _run_crawl(application: App, **kwargs) -> services.CrawlStats:
    with _crawl_progress() as progress:
        task = progress.add_task("crawl", total=None, info="")

        def on_progress(stats):
            # The frontier grows while crawling, so the bar counts URLs done without a total.
            progress.update(task, completed=stats.fetched + stats.errors,
                            info=f"{stats.articles_new} new, {stats.media_stored} media, {stats.errors} errors")

        return services.crawl_sources(application, on_progress=on_progress, **kwargs)


def _print_stats(stats, counts: dict) -> None:
    table = Table(title="crawl", show_header=False)
    for k, v in stats.as_dict().items():
        if k != "errors_by_kind":
            table.add_row(_cell(k), _cell(v))
    for k, v in stats.errors_by_kind.items():
        table.add_row(_cell(f"  error: {k}"), _cell(v))
    table.add_row("articles stored in all", str(counts["articles"]))
    out.print(table)


@app.command()
def crawl(
    urls: Annotated[Optional[list[str]], typer.Argument(help="Pages to crawl instead of the configured sources.")] = None,
    source: Annotated[Optional[list[str]], typer.Option("--source", "-s", help="Crawl only this configured source (repeatable).")] = None,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="Allow private/loopback/link-local addresses.")] = False,
    max_pages: Annotated[Optional[int], typer.Option(help="Pages per source in this run (the rest stays queued).")] = None,
    workers: Annotated[int, typer.Option(help="Extraction processes (0 = in the crawler's own process).")] = 0,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Crawl configured sources or the given URLs, storing articles, images and videos."""
    with _app(home) as application:
        for name in source or []:
            application.settings.source(name)  # an unknown name fails before the crawl starts
        stats = _run_crawl(application, source_names=source, urls=urls, allow_private=allow_private,
                           max_pages=max_pages, extract_workers=workers)
        counts = services.storage_counts(application)
        if as_json:
            _print_json({"stats": stats.as_dict(), "stored": counts})
        else:
            _print_stats(stats, counts)


@app.command()
def extract(
    target: Annotated[str, typer.Argument(help="A local HTML file (may be .gz) or an http(s) URL.")],
    allow_private: Annotated[bool, typer.Option("--allow-private", help="Allow private/loopback addresses.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print what trendreel extracts from one page: title, text, date, author, lang, images, videos."""
    ext = services.extract_target(_settings(home), target, allow_private=allow_private)
    data = ext.model_dump(mode="json")
    if as_json:
        _print_json(data)
        return
    table = Table(show_header=False)
    for k in ("url", "canonical_url", "title", "published_at", "author", "lang", "lead_image"):
        table.add_row(k, _cell(data[k]))
    table.add_row("images", _cell("\n".join(f"{m['url']}  {m.get('alt') or ''}" for m in data["images"]) or "-"))
    table.add_row("videos", _cell("\n".join(f"{m['kind']}: {m['url']}" for m in data["videos"]) or "-"))
    table.add_row("text", _cell(ext.text[:600] + (" …" if len(ext.text) > 600 else "")))
    out.print(table)


@app.command()
def articles(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    source: Annotated[Optional[str], typer.Option(help="Only this source.")] = None,
    lang: Annotated[Optional[str], typer.Option(help="Only this language (ko, en, ...).")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List stored articles with their media."""
    with _app(home) as application:
        rows = services.list_articles(application, limit=limit, source=source, lang=lang)
    if as_json:
        _print_json(rows)
        return
    _articles_table(rows)


def _articles_table(rows: list[dict]) -> None:
    table = Table("id", "date", "lang", "title", "img", "vid", "dup")
    table.columns[3].overflow = "ellipsis"
    table.columns[3].no_wrap = True
    table.columns[3].ratio = 1
    for col in (0, 1, 2, 4, 5, 6):
        table.columns[col].no_wrap = True
    table.expand = True
    for r in rows:
        kinds = [m["kind"] for m in r["media"] if m["status"] in ("stored", "linked")]
        table.add_row(_cell(r["id"]), _cell((r["published_at"] or "")[:10]), _cell(r["lang"]), _cell(r["title"]),
                      _cell(kinds.count("image")), _cell(kinds.count("video") + kinds.count("embed")),
                      "yes" if r["duplicate_of"] else "")
    out.print(table)


@app.command()
def errors(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List URLs that failed, with the reason."""
    with _app(home) as application:
        rows = services.crawl_errors(application, limit=limit)
    if as_json:
        _print_json(rows)
        return
    table = Table("kind", "url", "error")
    for r in rows:
        table.add_row(_cell(r["kind"]), _cell(r["url"]), _cell((r["error"] or "")[:100]))
    out.print(table)


@app.command()
def status(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """What is stored: articles, media, URLs by outcome, events."""
    with _app(home) as application:
        counts = services.storage_counts(application)
        where = {"database": application.db.engine.url.render_as_string(), "files": application.files.url}
    if as_json:
        _print_json({**counts, **where})
        return
    table = Table(show_header=False)
    for k, v in {**where, **counts}.items():
        table.add_row(_cell(k), _cell(v))
    out.print(table)


@app.command()
def sources(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List configured sources."""
    settings = _settings(home)
    rows = [s.model_dump(mode="json") for s in settings.sources]
    if as_json:
        _print_json(rows)
        return
    table = Table("name", "kind", "urls", "depth", "max pages", "private ok")
    for r in rows:
        table.add_row(_cell(r["name"]), _cell(r["kind"]), _cell("\n".join(r["urls"])), _cell(r["max_depth"]),
                      _cell(r["max_pages"]), _cell(r["allow_private"]))
    out.print(table)


@categories_app.command("list")
def categories_list(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """List the categories."""
    with _app(home) as application:
        rows = services.list_categories(application)
    if as_json:
        _print_json(rows)
        return
    table = Table("slug", "name", "한국어", "description")
    for r in rows:
        table.add_row(_cell(r["slug"]), _cell(r["name"]), _cell(r["name_ko"]), _cell(r["description"]))
    out.print(table)


@categories_app.command("set")
def categories_set(
    slug: str,
    name: Annotated[Optional[str], typer.Option(help="Display name.")] = None,
    name_ko: Annotated[Optional[str], typer.Option(help="Korean display name.")] = None,
    description: Annotated[Optional[str], typer.Option(help="What belongs here (used by categorisers).")] = None,
    home: HomeOpt = None,
) -> None:
    """Add a category or change one."""
    with _app(home) as application:
        row = services.save_category(application, slug=slug, name=name, name_ko=name_ko, description=description)
    _print_json(row)


@app.command()
def demo(
    home: HomeOpt = None,
    keep_serving: Annotated[bool, typer.Option(help="Keep serving the sample site after the run (Ctrl-C to stop).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build and serve the bundled sample site, then run the pipeline on it into the home folder."""
    from trendreel.demo.run import run_demo

    settings = _settings(home)
    with _crawl_progress() as progress:
        task = progress.add_task("crawl", total=None, info="")

        def on_progress(stats):
            done = stats.fetched + stats.errors
            progress.update(task, completed=done, info=f"{stats.articles_new} new, {stats.media_stored} media, {stats.errors} errors")

        index_task = None

        def on_index_progress(done, total, _stats):
            nonlocal index_task
            if index_task is None:
                index_task = progress.add_task("index", total=total, info="articles indexed")
            progress.update(index_task, completed=done, total=total)

        result = run_demo(settings, on_progress=on_progress, keep_serving=keep_serving,
                          on_serving=lambda url: _say(f"sample site at {escape(url)}"),
                          on_index_progress=on_index_progress)
    if as_json:
        _print_json(result)
        return
    out.print(f"[bold]home[/bold] {escape(result['home'])}", soft_wrap=True)
    _articles_table(result["articles"])
    table = Table(title="stored", show_header=False)
    for k, v in result["stored"].items():
        table.add_row(_cell(k), _cell(v))
    out.print(table)
    if result["errors"]:
        et = Table("kind", "url", title="pages that were refused or failed (on purpose: the sample site has traps)")
        for e in result["errors"]:
            et.add_row(_cell(e["kind"]), _cell(e["url"]))
        out.print(et)
    ix = result["index"]
    out.print(Text(f"Indexed {ix['articles']} articles: {ix['vectors']} vectors ({ix['images']} images, {ix['videos']} videos, "
                   f"{ix['transcripts']} transcripts), {ix['categorized']} categorised, {ix['summarized']} summarised."),
              soft_wrap=True)
    search = result["search"]
    st = Table("score", "lang", "title", title=f"search: {search['query']}")
    st.columns[2].overflow = "ellipsis"
    for h in search["hits"]:
        st.add_row(f"{h['score']:.3f}", _cell(h["lang"] or ""), _cell(h["title"] or ""))
    out.print(st)
    home_opt = f"--home {shlex.quote(result['home'])}"
    out.print(Text(f"Stored {result['stored']['articles']} articles, {result['stored']['images']} images and "
              f"{result['stored']['videos']} videos under {result['home']}.\n"
              f"Next: trendreel articles {home_opt} --json · trendreel search {home_opt} \"your words\" · "
              f"trendreel errors {home_opt}"),
              soft_wrap=True)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="JSON Lines: id, title, published_at, optional url, text, category, lang, source, images, videos.")],
    source: Annotated[str, typer.Option("--source", help="Name these items are filed under.")] = "import",
    index_too: Annotated[bool, typer.Option("--index", help="Index the imported items right away.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import dated items (any corpus) so that trends and stories can use them; bad lines are reported and skipped."""
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


def _utc(value: datetime | None) -> datetime | None:
    from datetime import timezone

    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@app.command()
def categorize(
    texts: Annotated[Optional[list[str]], typer.Argument(help="Texts (headlines) to categorise.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="JSONL with id and title or text per line.")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the category (from the category master) of each text."""
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
    from trendreel.jsonl import iter_jsonl

    items = []
    for n, obj in iter_jsonl(path):
        text = obj.get("title") or obj.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{path}:{n}: needs a non-empty \"title\" or \"text\"")
        items.append({"id": obj["id"], "text": text} if "id" in obj else {"text": text})
    return items


if __name__ == "__main__":  # pragma: no cover
    main()
