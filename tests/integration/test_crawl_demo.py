"""The crawl stage on the bundled sample site, into SQLite and PostgreSQL, a local folder and a real S3 server."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.s3server import s3_server  # noqa: F401  (a fixture)
from trendreel import services
from trendreel.bootstrap import App
from trendreel.db.tables import Article, CrawlUrl, Event, MediaItem
from trendreel.demo.run import demo_sources
from trendreel.files import open_file_store


def _crawl(app: App, base: str):
    app.settings.sources = demo_sources(base)
    return services.crawl_sources(app)


@pytest.fixture
def local_app(database, make_settings, tmp_path):
    settings = make_settings()
    return App(settings=settings, db=database, files=open_file_store((tmp_path / "files").as_uri()))


def test_sample_site_is_stored_once_with_media_and_events(local_app, sample_site, sample_url):
    app = local_app
    stats = _crawl(app, sample_url)
    originals = {sample_url + a.path for a in sample_site.articles}

    with app.db.session() as s:
        articles = s.scalars(select(Article)).all()
        by_url = {a.canonical_url: a for a in articles}
        # Every sample article is stored exactly once, whichever of feeds, sitemap or links found it.
        assert originals <= set(by_url)
        assert len({a.id for a in articles}) == len(articles)
        langs = Counter(by_url[u].lang for u in originals)
        assert langs["ko"] == sum(a.lang == "ko" for a in sample_site.articles)
        assert langs["en"] == sum(a.lang == "en" for a in sample_site.articles)

        # The exact duplicate behind a tracking parameter is not a second article; the wire copy is marked.
        for dup_path, original_path in sample_site.duplicates.items():
            original = by_url[sample_url + original_path]
            if "utm_" in dup_path:
                assert sample_url + dup_path not in by_url
            else:
                assert by_url[sample_url + dup_path].duplicate_of == original.id
        # Category and index pages are listings, not articles.
        assert not any("/category/" in u or u.endswith("/index.html") for u in by_url)

        # Media: every image and video of the sample articles is stored; embeds are recorded as links.
        stored = Counter(m.kind for m in s.scalars(select(MediaItem).where(MediaItem.status == "stored")))
        assert stored["image"] >= sum(a.images for a in sample_site.articles)
        assert stored["video"] >= sum(a.videos for a in sample_site.articles)
        assert s.scalar(select(func.count()).select_from(MediaItem).where(MediaItem.kind == "embed")) >= 1

        # One event per fact.
        events = Counter(s.scalars(select(Event.type)))
        assert events["ArticleCrawled"] == len(articles)
        assert events["MediaStored"] == sum(stored.values())

        # Traps: robots-disallowed page never fetched, 404 and mislabelled image are error rows.
        errors = {r.url: r.error_kind for r in s.scalars(select(CrawlUrl).where(CrawlUrl.status == "error"))}
        assert "robots_disallowed" in errors.values()
        assert all(sample_url + p not in by_url for p in sample_site.disallowed)

        some = by_url[sample_url + sample_site.articles[0].path]
        media = s.scalars(select(MediaItem).where(MediaItem.article_id == some.id, MediaItem.status == "stored")).all()

    # Rows hold paths; the bytes are in the file store, under the article's own folder.
    assert app.files.get(some.text_path).decode("utf-8").strip()
    meta = json.loads(app.files.get(some.meta_path))
    assert meta["extraction"]["title"] == some.title
    for m in media:
        assert m.path.startswith(some.text_path.rsplit("/", 1)[0] + "/")
        assert app.files.size(m.path) == m.bytes
    assert stats.errors == len(errors)


def test_second_crawl_adds_nothing(local_app, sample_url):
    app = local_app
    _crawl(app, sample_url)
    with app.db.session() as s:
        before = (s.scalar(select(func.count()).select_from(Article)), s.scalar(select(func.count()).select_from(Event)),
                  s.scalar(select(func.count()).select_from(MediaItem)))
    stats = _crawl(app, sample_url)
    with app.db.session() as s:
        after = (s.scalar(select(func.count()).select_from(Article)), s.scalar(select(func.count()).select_from(Event)),
                 s.scalar(select(func.count()).select_from(MediaItem)))
    assert after == before
    assert stats.articles_new == 0 and stats.media_stored == 0
    assert stats.not_modified > 0  # feeds and start pages answered 304 to the conditional GET


def test_extraction_processes_and_a_short_dedupe_memory_store_the_same_articles(
        database, make_settings, tmp_path, sample_site, sample_url, monkeypatch):
    from trendreel.crawl import crawler

    # The run forgets all but its last 2-4 pages (as it would past 10,000): the rest is found in the database.
    monkeypatch.setattr(crawler, "RUN_MEMORY_PAGES", 2)
    settings = make_settings(crawl={"extract_workers": 2})
    app = App(settings=settings, db=database, files=open_file_store((tmp_path / "files").as_uri()))
    stats = _crawl(app, sample_url)
    with app.db.session() as s:
        by_url = {a.canonical_url: a for a in s.scalars(select(Article))}
        assert s.scalar(select(func.count()).select_from(Event).where(Event.type == "ArticleCrawled")) == len(by_url)
    assert {sample_url + a.path for a in sample_site.articles} <= set(by_url)
    for dup_path, original_path in sample_site.duplicates.items():
        if "utm_" in dup_path:
            assert sample_url + dup_path not in by_url
        else:
            assert by_url[sample_url + dup_path].duplicate_of == by_url[sample_url + original_path].id
    assert stats.errors_by_kind.get("internal", 0) == 0 and stats.near_duplicates >= 1


@pytest.mark.s3
def test_crawl_into_a_real_s3_store(s3_server, make_settings, tmp_path, sample_url):  # noqa: F811
    from trendreel.db.engine import Database

    settings = make_settings(files_url=s3_server.url("crawl-test"), s3=s3_server.settings())
    db = Database(f"sqlite:///{tmp_path / 's3.db'}")
    app = App(settings=settings, db=db, files=open_file_store(settings.files_url, settings.s3))
    try:
        _crawl(app, sample_url)
        with db.session() as s:
            article = s.scalars(select(Article).where(Article.duplicate_of.is_(None)).limit(1)).one()
            media = s.scalars(select(MediaItem).where(MediaItem.status == "stored")).all()
        assert app.files.get(article.text_path).strip()
        assert media and all(app.files.size(m.path) == m.bytes for m in media[:10])
        keys = list(app.files.list("articles/"))
        assert len(keys) >= 3 * 25
    finally:
        db.dispose()
