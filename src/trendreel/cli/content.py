"""What is collected: `crawl`, `extract`, `articles`, `errors`, `status`, `sources` and `categories ...`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from trendreel.cli._common import (
    HomeOpt,
    JsonOpt,
    _app,
    _articles_table,
    _cell,
    _crawl_progress,
    _print_json,
    _settings,
    app,
    out,
)

if TYPE_CHECKING:
    from trendreel.bootstrap import App

categories_app = typer.Typer(help="The category master table.", no_args_is_help=True)
app.add_typer(categories_app, name="categories")


def _run_crawl(application: App, **kwargs):
    from trendreel import services

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
    from trendreel import services

    with _app(home) as application:
        for name in source or []:
            services.find_source(application, name)  # an unknown name fails before the crawl starts (workspace ones too)
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
    from trendreel import services

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
    from trendreel import services

    with _app(home) as application:
        rows = services.list_articles(application, limit=limit, source=source, lang=lang)
    if as_json:
        _print_json(rows)
        return
    _articles_table(rows)


@app.command()
def errors(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List URLs that failed, with the reason."""
    from trendreel import services

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
    from trendreel import services

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
    from trendreel import services

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
    from trendreel import services

    with _app(home) as application:
        row = services.save_category(application, slug=slug, name=name, name_ko=name_ko, description=description)
    _print_json(row)
