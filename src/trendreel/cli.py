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


def _hint(exc: TrendreelError) -> str:
    """The error's next step at the command line, on a line of its own (the API never shows it)."""
    return f"\n  [dim]hint:[/dim] {escape(exc.hint)}" if exc.hint else ""


def _interrupted() -> SystemExit:
    _say("interrupted: run the same command again to resume")
    return SystemExit(130)


def main() -> None:
    """Entry point that turns user-facing errors into one clear line."""
    try:
        code = app(standalone_mode=False)
    except ConfigError as exc:
        _say(f"[red]configuration error:[/red] {escape(str(exc))}{_hint(exc)}")
        raise SystemExit(2)
    except TrendreelError as exc:
        _say(f"[red]error:[/red] {escape(str(exc))}{_hint(exc)}")
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


def _run_crawl(application: App, **kwargs):
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
    workers: Annotated[Optional[int], typer.Option(help="Extraction processes (0 = in the crawler's own process; default: crawl.extract_workers).")] = None,
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
    videos: Annotated[bool, typer.Option("--videos/--no-videos", help="Render, edit and publish videos (the slow part); --no-videos stops after the stories.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Run the whole pipeline on the bundled sample site: crawl, index, trends, stories, videos, publish, report, gc."""
    from trendreel.demo.run import run_demo

    settings = _settings(home)
    with _crawl_progress() as progress:
        tasks: dict[str, int] = {}

        def on_stage(stage: str, done: int, total: int | None, info: str | None) -> None:
            # One bar per stage of the pipeline, as its progress comes in.
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total, info="")
            progress.update(tasks[stage], completed=done, total=total, info=info or "")

        step_task = None

        def on_step(text: str) -> None:
            nonlocal step_task
            if step_task is None:
                step_task = progress.add_task("pipeline", total=None, info="")
            progress.update(step_task, info=text)

        result = run_demo(settings, on_stage=on_stage, keep_serving=keep_serving,
                          on_serving=lambda url: _say(f"sample site at {escape(url)}"), videos=videos, on_step=on_step)
        if step_task is not None:
            progress.update(step_task, info="done")
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
    _trends_table(result["trends"][:10], "trends")
    for st in result["stories"]:
        out.print(Text(f"\nstory for: {next(t['text'] for t in result['trends'] if t['id'] == st['trend_id'])}",
                       style="bold"), soft_wrap=True)
        _print_story(st)
    home_opt = f"--home {shlex.quote(result['home'])}"
    with _app(Path(result["home"])) as application:
        for v in result["videos"]:
            out.print(Text("video: ", style="bold") + _video_summary(application, v), soft_wrap=True)
    if "publication" in result:
        pub, gc, report = result["publication"], result["gc"], result["report"]
        where = pub["url"]
        if pub["platform"] == "folder" and where.startswith("file:"):  # the published copy itself
            from urllib.parse import unquote, urlparse

            where = str(Path(unquote(urlparse(where).path)) / "video.mp4")
        out.print(Text("published: ", style="bold") + Text(
            f"{pub['video_id']} to {pub['platform']}:{pub['account']} as {pub['external_id']} ({pub['privacy']})\n"
            f"{where}"), soft_wrap=True)
        out.print(Text("report: ", style="bold") + Text(f"{report['html']} (metrics: {result['metrics'].get('stored', 0)} "
                                                         "samples stored)"), soft_wrap=True)
        freed = ", ".join(f"{n['items']} {reason.replace('_', ' ')}{'s' if n['items'] != 1 else ''} ({n['files']} files)"
                          for reason, n in gc["purged"].items()) or "nothing"
        out.print(Text("gc: ", style="bold") + Text(
            f"budget {gc['budget_bytes'] / 1e6:.0f} MB, {gc['used_bytes_before'] / 1e6:.1f} MB used before; freed "
            f"{gc['freed_bytes'] / 1e6:.1f} MB: {freed}; {result['storage']['used_bytes'] / 1e6:.1f} MB used now"),
                  soft_wrap=True)
    out.print(Text(f"Stored {result['stored']['articles']} articles, {result['stored']['images']} images and "
              f"{result['stored']['videos']} videos under {result['home']}.\n"
              f"Next: trendreel articles {home_opt} --json · trendreel search {home_opt} \"your words\" · "
              f"trendreel trends {home_opt} · trendreel videos {home_opt} · trendreel publications {home_opt} · "
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



# ---- trends, stories, videos -----------------------------------------------------------------

def _trends_table(rows: list[dict], title: str) -> None:
    # The trend text gets the room; when it was seen is in `trendreel trend ID` and --json.
    table = Table("#", "id", "score", "items", "category", "trend", title=title, expand=True)
    table.columns[5].overflow = "fold"
    table.columns[5].ratio = 1
    table.columns[5].min_width = 24
    for col in (0, 1, 2, 3, 4):
        table.columns[col].no_wrap = True
    for n, t in enumerate(rows, 1):
        table.add_row(str(n), t["id"], f"{t['score']:.2f}", str(t["item_count"]), _cell(t["category"] or ""),
                      _cell(t["text"]))
    out.print(table)


@app.command()
def trends(
    window: Annotated[Optional[str], typer.Option("--window", help="Window length: 30m, 6h, 24h, 7d (default: trends.window).")] = None,
    since: Annotated[Optional[datetime], typer.Option("--since", help="Items published on or after (YYYY-MM-DD; default: trends.history_days before the newest item).")] = None,
    until: Annotated[Optional[datetime], typer.Option("--until", help="Items published before (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many trends to show, best first.")] = 20,
    stored: Annotated[bool, typer.Option("--stored", help="List trends stored by earlier runs without detecting again.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Detect what is trending among stored, indexed items, and show each trend in one line with its evidence."""
    with _app(home) as application:
        if stored:
            rows = services.list_trends(application, since=_utc(since), until=_utc(until), limit=limit)
        else:
            with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}[/bold]"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=err) as progress:
                tasks: dict[str, int] = {}

                def on_progress(step: str, done: int, total: int) -> None:
                    if step not in tasks:
                        tasks[step] = progress.add_task(f"trends: {step}", total=total)
                    progress.update(tasks[step], completed=done, total=total)

                rows = services.detect_trends(application, window=window, since=_utc(since), until=_utc(until),
                                              on_progress=on_progress)[:limit]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        _say("no trends: import or crawl more dated items, run `trendreel index`, or widen --since/--until")
        return
    _trends_table(rows, "trends" if not stored else "stored trends")
    _say(f"Evidence: trendreel trend ID · story: trendreel story --trend {rows[0]['id']}")


@app.command()
def trend(
    trend_id: Annotated[str, typer.Argument(help="A trend id from `trendreel trends`.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one trend: its text, scores, history and evidence."""
    with _app(home) as application:
        t = services.get_trend(application, trend_id)
    if as_json:
        _print_json(t)
        return
    out.print(Text(f"{t['text']}\n"), soft_wrap=True)
    info = Table(show_header=False)
    for k in ("id", "lang", "category", "score", "burst", "spread", "item_count", "window", "first_seen_at",
              "last_seen_at", "detected_at"):
        info.add_row(k, _cell(t[k]))
    info.add_row("key phrases", _cell(", ".join(t["key_phrases"])))
    out.print(info)
    hist = Table("window start", "items", "burst", "score", title="history")
    for h in t["history"]:
        hist.add_row(_cell(h["window_start"]), _cell(h["items"]), f"{h['burst']:.2f}", f"{h['score']:.2f}")
    out.print(hist)
    ev = Table("similarity", "id", "date", "source", "title", title="evidence")
    ev.columns[4].overflow = "ellipsis"
    for e in t["evidence"]:
        ev.add_row(f"{e['similarity']:.2f}" if e["similarity"] is not None else "", _cell(e["external_id"] or e["id"]),
                   _cell((e["published_at"] or "")[:10]), _cell(e["source"]), _cell(e["title"]))
    out.print(ev)


def _print_story(st: dict) -> None:
    # One block per scene rather than a table: narration and quotes are long, in two scripts.
    out.print(Text(f"{st['title']}\n{st['hook']}", style="bold"), soft_wrap=True)
    for n, sc in enumerate(st["scenes"], 1):
        media = ", ".join(m["media_id"] + (f" {m['start_s']:.0f}-{m['end_s']:.0f}s" if m.get("end_s") else "")
                          for m in sc.get("media", [])) or "-"
        ok = {None: "", True: " · supported", False: " · NOT supported"}[sc.get("supported")]
        lines = [f"{n}. ({sc['duration_s']:.1f} s) {sc['narration']}"]
        if sc.get("on_screen_text"):
            lines.append(f"   on screen: {sc['on_screen_text']}")
        lines.append(f"   media: {media}{ok}")
        lines += [f"   source: {c['article_id']} \"{c['quote'][:80]}{'…' if len(c['quote']) > 80 else ''}\""
                  for c in sc.get("citations", [])]
        out.print(Text("\n".join(lines)), soft_wrap=True)
    grounding = st.get("grounding")
    out.print(Text(f"{st['id']} · {st['lang']} · {st['duration_s']:.1f} s · {st['backend']} ({st['model']}) · "
                   f"grounding {grounding if grounding is None else f'{grounding:.2f}'} · {' '.join(st.get('hashtags', []))}"),
              soft_wrap=True)


@app.command()
def story(
    trend_id: Annotated[str, typer.Option("--trend", help="The trend to tell (an id from `trendreel trends`).")],
    item: Annotated[Optional[str], typer.Option("--item", help="The stored article to tell it from (default: the most similar one with usable media).")] = None,
    backend: Annotated[Optional[str], typer.Option("--backend", help="template (offline), llamacpp or openai (default: story.backend).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write again even if this story is stored.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a grounded story for a short video from a trend and one stored item."""
    with _app(home) as application, err.status("writing the story"):
        st = services.write_story(application, trend_id=trend_id, item_id=item, backend=backend, force=force)
    if as_json:
        _print_json(st)
        return
    _print_story(st)
    _say(f"{'Stored earlier (use --force to write again)' if st['reused'] else 'Stored'}. Next: trendreel render --story {st['id']}")


@app.command()
def stories(
    story_id: Annotated[Optional[str], typer.Argument(help="Show this story whole instead of listing.")] = None,
    trend_id: Annotated[Optional[str], typer.Option("--trend", help="Only stories of this trend.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 50,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List stored stories, or show one."""
    with _app(home) as application:
        data = services.get_story(application, story_id) if story_id else \
            services.list_stories(application, trend_id=trend_id, limit=limit)
    if as_json:
        _print_json(data)
        return
    if story_id:
        _print_story(data)
        return
    table = Table("id", "lang", "s", "scenes", "grounding", "backend", "title")
    table.columns[6].overflow = "ellipsis"
    for r in data:
        table.add_row(r["id"], _cell(r["lang"]), f"{r['duration_s']:.0f}", str(r["scenes"]),
                      "" if r["grounding"] is None else f"{r['grounding']:.2f}", _cell(r["backend"]), _cell(r["title"]))
    out.print(table)


def _video_summary(application: App, v: dict) -> Text:
    where = services.video_file(application, v) or \
        (f"local files freed by gc ({v['files_purged_at'][:16]})" if v.get("files_purged_at") else "-")
    size = f"{v['bytes'] / 1e6:.1f} MB" if v.get("bytes") else "-"
    dur = f"{v['duration_s']:.1f} s" if v.get("duration_s") else "-"
    return Text(f"{v['id']} · {v['stage']} · {v['status']} · {dur} · {v.get('width')}x{v.get('height')} · {size}\n{where}")


@app.command()
def render(
    story_id: Annotated[str, typer.Option("--story", help="The story to render (an id from `trendreel stories`).")],
    backend: Annotated[Optional[str], typer.Option("--backend", help="Video generator (default: render.backend, the ffmpeg compositor).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Render again even if this video is stored.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Render a story into a vertical video with narration, subtitles and normalised sound."""
    with _app(home) as application:
        with err.status("rendering (ffmpeg)"):
            v = services.render_story(application, story_id=story_id, backend=backend, force=force)
        if as_json:
            _print_json({**v, "file": services.video_file(application, v)})
            return
        out.print(_video_summary(application, v), soft_wrap=True)
    for w in v["warnings"]:
        _say(f"[yellow]warning:[/yellow] {escape(w)}")
    _say(f"{'Rendered earlier (use --force to render again)' if v['reused'] else 'Rendered'}. Next: trendreel edit --video {v['id']}")


@app.command()
def edit(
    video_id: Annotated[str, typer.Option("--video", help="The video to edit (an id from `trendreel videos`).")],
    target_seconds: Annotated[Optional[float], typer.Option("--target-seconds", help="Trim to at most this long (default: edit.target_seconds; none = only cut dead air).")] = None,
    backend: Annotated[Optional[str], typer.Option("--backend", help="Editor (default: edit.backend, the ffmpeg cutter).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Edit again even if this edit is stored.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Edit a video into a new one (the original is kept): cut dead air and frozen picture, trim, emphasise the key line, normalise loudness."""
    with _app(home) as application:
        with err.status("editing (ffmpeg)"):
            v = services.edit_video(application, video_id=video_id, target_seconds=target_seconds, backend=backend,
                                    force=force)
        if as_json:
            _print_json({**v, "file": services.video_file(application, v)})
            return
        out.print(_video_summary(application, v), soft_wrap=True)
    summary = v.get("edit") or {}
    before, after = summary.get("duration_before_s"), summary.get("duration_after_s")
    if before is not None and after is not None:
        _say(f"{before:.1f} s -> {after:.1f} s; removed: " +
             (", ".join(f"{k} {s:.1f} s" for k, s in (summary.get("removed_s") or {}).items()) or "nothing"))
    for w in v.get("warnings", []):
        _say(f"[yellow]warning:[/yellow] {escape(w)}")
    _say(f"{'Edited earlier (use --force to edit again)' if v['reused'] else 'Edited'}. "
         f"Next: trendreel approve {v['id']}, then trendreel publish --video {v['id']} --to folder:DIR")


@app.command()
def videos(
    video_id: Annotated[Optional[str], typer.Argument(help="Show this video instead of listing.")] = None,
    story_id: Annotated[Optional[str], typer.Option("--story", help="Only videos of this story.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 50,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List rendered and edited videos with their files, or show one."""
    with _app(home) as application:
        rows = [services.get_video(application, video_id)] if video_id else \
            services.list_videos(application, story_id=story_id, limit=limit)
        rows = [{**r, "file": services.video_file(application, r)} for r in rows]
    if as_json:
        _print_json(rows[0] if video_id else rows)
        return
    table = Table("id", "stage", "from", "status", "s", "file (or error)", expand=True)
    for col in (0, 1, 2, 3, 4):
        table.columns[col].no_wrap = True
    table.columns[5].overflow = "fold"
    table.columns[5].ratio = 1
    for r in rows:
        table.add_row(r["id"], r["stage"], _cell(r["parent_id"] or ""), r["status"],
                      f"{r['duration_s']:.1f}" if r["duration_s"] else "", _cell(r["file"] or r["error"] or ""))
    out.print(table)


# Commands of the later stages live in their own modules (same app, same helpers); importing them
# registers them. They import this module, so they come last.
from trendreel import cli_engine, cli_metrics, cli_publish, cli_retention, cli_serve  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    # `python -m trendreel.cli` runs this file as a second module; the command modules register on the
    # imported one, so run that.
    from trendreel.cli import main as _main

    _main()
