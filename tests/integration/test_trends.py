"""The trend stage end to end: the crawled and indexed sample site, stored items on SQLite and
PostgreSQL, re-runs that change nothing, and bulk vector reads on every vector store."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import func, select


from trendreel import events, services
from trendreel.bootstrap import App, build_app
from trendreel.db.tables import Article, Category, Event, Trend, TrendItem
from trendreel.demo.content import ARTICLES
from trendreel.demo.run import demo_sources
from trendreel.errors import ConfigError
from trendreel.files.store import open_file_store
from trendreel.ids import article_id
from trendreel.index.vectors import VectorRecord, open_vector_store
from trendreel.services.trends import detect_trends, get_trend, list_trends
from trendreel.trends.errors import TrendError

KST = timezone(timedelta(hours=9))
SAMPLE_TODAY = date(2026, 11, 20)  # the sample site's "today" in tests (conftest.SAMPLE_TODAY)
GROWING = ("camping-boom", "chip-exports", "kpop-world-tour")


def slugs_of(trend: dict) -> set[str]:
    return {e["url"].rsplit("/", 1)[-1].removesuffix(".html") for e in trend["evidence"]}


def topic_slugs(topic: str) -> set[str]:
    return {a.slug for a in ARTICLES if a.topic == topic}


def trend_about(trends: list[dict], topic: str) -> dict:
    """The trend whose evidence is mostly the sample site's articles on `topic`."""
    wanted = topic_slugs(topic)
    best = max(trends, key=lambda t: len(slugs_of(t) & wanted))
    assert len(slugs_of(best) & wanted) >= 2, f"no trend about {topic}: {[t['text'] for t in trends]}"
    return best


# ---- the crawled sample site -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, sample_url):
    from trendreel.settings import Settings

    home = tmp_path_factory.mktemp("trends-home")
    settings = Settings(home=home, crawl={"delay_s": 0, "per_host_concurrency": 4}, index={"speech_model": "none"},
                        sources=demo_sources(sample_url))
    app = build_app(settings)
    services.crawl_sources(app)
    services.index_articles(app)
    yield app
    app.close()


@pytest.fixture(scope="module")
def demo_trends(demo_app):
    return detect_trends(demo_app)


@pytest.mark.slow
def test_the_growing_topics_of_the_sample_site_come_out_as_trends_with_their_articles(demo_trends):
    for topic in GROWING:
        trend = trend_about(demo_trends, topic)
        found = slugs_of(trend)
        assert found <= topic_slugs(topic), f"{topic}: evidence from other topics: {found - topic_slugs(topic)}"
        assert len(found) >= 4, f"{topic}: only {found}"
        assert trend["item_count"] == len(trend["evidence"]) and trend["history"]
        assert trend["last_seen_at"].startswith(SAMPLE_TODAY.isoformat())
        assert trend["text"] and "\n" not in trend["text"]
    camping = trend_about(demo_trends, "camping-boom")
    assert camping["lang"] == "ko" and camping["text"].startswith("20~30대 사이에서 화제: ")
    assert "캠핑" in camping["key_phrases"]
    chips = trend_about(demo_trends, "chip-exports")
    assert chips["category"] == "economy"
    assert any("exports" in p or "수출" in p for p in chips["key_phrases"])
    # One-off stories are in no trend.
    one_offs = {a.slug for a in ARTICLES if a.topic is None}
    assert not any(slugs_of(t) & one_offs for t in demo_trends)


@pytest.mark.slow
def test_trend_output_shape(demo_trends):
    trend = demo_trends[0]
    assert set(trend) >= {"id", "text", "lang", "category", "score", "burst", "spread", "item_count",
                          "first_seen_at", "last_seen_at", "history", "key_phrases", "evidence", "window"}
    assert trend["window"] == "1d"
    entry = trend["history"][-1]
    assert set(entry) >= {"window_start", "window_end", "items", "score"}
    assert datetime.fromisoformat(entry["window_end"]) - datetime.fromisoformat(entry["window_start"]) == timedelta(days=1)
    evidence = trend["evidence"][0]
    assert set(evidence) == {"id", "url", "external_id", "title", "published_at", "source", "similarity"}
    assert evidence["external_id"] is None and evidence["source"]
    scores = [t["score"] for t in demo_trends]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_detecting_again_changes_nothing(demo_app, demo_trends):
    def counts():
        with demo_app.db.session() as s:
            return (s.scalar(select(func.count()).select_from(Trend)), s.scalar(select(func.count()).select_from(TrendItem)),
                    s.scalar(select(func.count()).select_from(Event).where(Event.type == events.TREND_DETECTED)))

    before = counts()
    again = detect_trends(demo_app)
    assert [t["id"] for t in again] == [t["id"] for t in demo_trends]
    assert [t["evidence"] for t in again] == [t["evidence"] for t in demo_trends]
    assert counts() == before and before[2] == len(demo_trends)


@pytest.mark.slow
def test_listing_and_showing_trends(demo_app, demo_trends):
    listed = list_trends(demo_app, limit=50)
    assert [t["id"] for t in listed][: len(demo_trends)] == [t["id"] for t in demo_trends]
    assert list_trends(demo_app, since=SAMPLE_TODAY + timedelta(days=30)) == []
    assert len(list_trends(demo_app, limit=1)) == 1
    one = get_trend(demo_app, demo_trends[0]["id"])
    assert one == listed[0]
    with pytest.raises(TrendError, match="unknown trend 'tnope'"):
        get_trend(demo_app, "tnope")
    with pytest.raises(ConfigError, match="limit"):
        list_trends(demo_app, limit=0)


@pytest.mark.slow
def test_a_window_of_six_hours_and_bad_arguments(demo_app):
    with pytest.raises(ConfigError, match="--window: 'daily'.*24h"):
        detect_trends(demo_app, window="daily")
    with pytest.raises(ConfigError, match="--since"):
        detect_trends(demo_app, since="yesterday")
    with pytest.raises(TrendError, match="must be before"):
        detect_trends(demo_app, since="2026-11-20", until="2026-11-19")
    with pytest.raises(TrendError, match="no stored items between"):
        detect_trends(demo_app, since="2020-01-01", until="2020-02-01")
    # A range with only the last day: at most that day's groups.
    last_day = detect_trends(demo_app, since=SAMPLE_TODAY.isoformat())
    assert all(t["first_seen_at"] >= SAMPLE_TODAY.isoformat() for t in last_day)


# ---- stored items on SQLite and PostgreSQL -------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_vectors():
    """Article vectors of the sample site's texts, embedded once (the index stage's text model)."""
    from trendreel.index.embedders import load_text_embedder

    model = load_text_embedder("usem")
    return {a.slug: model.embed([f"{a.title}\n\n" + "\n\n".join(a.paragraphs)])[0] for a in ARTICLES}


@pytest.fixture
def app(database, make_settings):
    settings = make_settings(index={"speech_model": "none"})
    settings.home.mkdir(parents=True, exist_ok=True)
    app = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    yield app
    app.close()


def store_sample_articles(app: App, vectors: dict, *, with_vectors: bool = True) -> dict[str, str]:
    """The sample site's articles as imported items (external ids, outlets, categories), and their vectors."""
    ids, records = {}, []
    with app.db.session() as s:
        categories = dict(s.execute(select(Category.slug, Category.id)).all())
        for n, a in enumerate(ARTICLES):
            url = f"https://news.example/{a.slug}"
            aid = article_id(url)
            when = datetime.combine(SAMPLE_TODAY - timedelta(days=a.days_ago), time(9 + n % 10), tzinfo=KST)
            s.add(Article(id=aid, url=url, canonical_url=url, title=a.title, lang=a.lang, summary=a.summary,
                          sitename=f"outlet-{n % 4}", published_at=when, category_id=categories.get(a.category),
                          content_hash=a.slug, minhash="0" * 512, external_id=f"item-{a.slug}"))
            ids[a.slug] = aid
            records.append(VectorRecord(id=f"{aid}:article", vector=vectors[a.slug], kind="article", article_id=aid,
                                        published_at=when, lang=a.lang))
    if with_vectors:
        app.vectors().upsert(records)
    return ids


def test_trends_from_stored_items_with_external_ids(app, demo_vectors):
    ids = store_sample_articles(app, demo_vectors)
    trends = detect_trends(app, window="24h")
    camping = trend_about(trends, "camping-boom")
    by_id = {e["id"]: e for e in camping["evidence"]}
    assert {ids[s] for s in topic_slugs("camping-boom")} <= set(by_id)
    assert {e["external_id"] for e in camping["evidence"]} == {f"item-{s}" for s in topic_slugs("camping-boom")}
    assert camping["category"] == "life" and camping["spread"] >= 2
    assert all(e["url"].startswith("https://news.example/") and e["published_at"] for e in camping["evidence"])
    # The rows behind it: one trend, its evidence, one event.
    with app.db.session() as s:
        row = s.get(Trend, camping["id"])
        assert row.item_count == len(camping["evidence"]) and row.window_s == 86400
        assert "usem" in row.detector
        assert s.scalar(select(func.count()).select_from(TrendItem).where(TrendItem.trend_id == row.id)) == row.item_count
    again = detect_trends(app, window="24h")
    assert [t["id"] for t in again] == [t["id"] for t in trends]
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(Event.type == events.TREND_DETECTED)) == len(trends)


def test_near_duplicates_count_toward_spread_but_are_not_items(app, demo_vectors):
    ids = store_sample_articles(app, demo_vectors)
    before = trend_about(detect_trends(app), "camping-boom")
    slug = sorted(topic_slugs("camping-boom"))[0]
    with app.db.session() as s:
        original = s.get(Article, ids[slug])
        for n, outlet_name in enumerate(("Syndicate Wire", "Copy Desk")):  # two copies, each from a new outlet
            url = f"https://copies.example/{n}/{slug}"
            s.add(Article(id=article_id(url), url=url, canonical_url=url, title=original.title, lang=original.lang,
                          sitename=outlet_name, published_at=original.published_at, content_hash=f"copy-{n}",
                          minhash="0" * 512, duplicate_of=original.id))
    after = trend_about(detect_trends(app), "camping-boom")
    assert after["spread"] == before["spread"] + 2
    assert after["item_count"] == before["item_count"]
    assert {e["id"] for e in after["evidence"]} == {e["id"] for e in before["evidence"]}


def test_the_same_event_keeps_its_id_across_windows_and_daily_runs(app, demo_vectors):
    """Daily runs (as cron would make them) and another window length continue the stored trends."""
    store_sample_articles(app, demo_vectors)
    for day in range(5, -1, -1):  # up to each of the last six days, oldest first
        detect_trends(app, window="24h", until=(SAMPLE_TODAY - timedelta(days=day - 1)).isoformat())
    daily = {t["id"] for t in list_trends(app, limit=500)}
    camping = trend_about(detect_trends(app, window="24h"), "camping-boom")
    assert camping["id"] in daily
    six_hours = detect_trends(app, window="6h")
    assert trend_about(six_hours, "camping-boom")["id"] == camping["id"]
    stored = list_trends(app, limit=500)
    assert {t["id"] for t in stored} >= {t["id"] for t in six_hours}
    # No two stored trends are the same event: none shares half of its evidence with another.
    items = {t["id"]: {e["id"] for e in get_trend(app, t["id"])["evidence"]} for t in stored}
    for a in items:
        for b in items:
            if a < b:
                shared = len(items[a] & items[b])
                assert shared < 0.5 * min(len(items[a]), len(items[b])), (a, b, shared)


def test_evidence_follows_the_data_when_an_item_goes(app, demo_vectors):
    ids = store_sample_articles(app, demo_vectors)
    camping = trend_about(detect_trends(app), "camping-boom")
    gone = next(e["id"] for e in camping["evidence"] if e["id"] != camping["evidence"][0]["id"])
    app.vectors().delete([f"{gone}:article"])  # no longer indexed: it drops out of the evidence
    after = get_trend(app, trend_about(detect_trends(app), "camping-boom")["id"])
    assert gone not in {e["id"] for e in after["evidence"]}
    assert len(after["evidence"]) == len(camping["evidence"]) - 1
    assert set(ids.values()) >= {e["id"] for e in after["evidence"]}


def test_nothing_stored_or_nothing_indexed_says_what_to_run(app, demo_vectors):
    with pytest.raises(TrendError, match="index them") as no_items:
        detect_trends(app)
    assert "`trendreel index`" in no_items.value.hint
    store_sample_articles(app, demo_vectors, with_vectors=False)
    with pytest.raises(TrendError, match="has a vector yet: index them first") as no_vectors:
        detect_trends(app)
    assert no_vectors.value.hint == "run `trendreel index`"
    assert list_trends(app) == []


# ---- trend lines worded by a language model ----------------------------------------------------------------


def headline_line(request: dict) -> str:
    """A scripted model that answers with the first headline it was shown, up to its first "…"."""
    prompt = request["messages"][1]["content"]
    first = prompt.split("Headlines:\n- ", 1)[1].split("\n", 1)[0]
    return json.dumps({"text": first.split("…")[0][:80]}, ensure_ascii=False)


def sharing_stores(app: App, settings) -> App:
    """Another app on the same database and vector store (the local store is one per process), other settings."""
    return app.with_settings(settings)


def test_a_language_model_words_the_trend_lines_and_is_asked_once_per_trend(app, demo_vectors):
    from tests.chatserver import ChatServer, Fail, Reply, Respond
    from trendreel.errors import LlmError

    store_sample_articles(app, demo_vectors)
    offline = {t["id"]: t["text"] for t in detect_trends(app)}
    invented = json.dumps({"text": "Aliens land in Seoul in 1999"})
    with ChatServer([Reply(invented), Respond(headline_line)]) as server:
        settings = app.settings.model_copy(update={
            "trends": app.settings.trends.model_copy(update={"text_backend": "openai"}),
            "llm": app.settings.llm.model_copy(update={"base_url": server.base_url, "model": "trend-model",
                                                       "max_retries": 1, "timeout_s": 5})})
        worded = sharing_stores(app, settings)
        trends = detect_trends(worded)
        # The invented line was refused and asked again; every other trend took one request.
        assert len(server.requests) == len(trends) + 1
        assert "not in the headlines: 1999" in server.requests[1]["messages"][-1]["content"]
        assert server.requests[0]["response_format"]["json_schema"]["schema"]["required"] == ["text"]
        camping = trend_about(trends, "camping-boom")
        assert camping["text"] != offline[camping["id"]] and camping["lang"] == "ko"
        assert camping["text"] in {e["title"].split("…")[0][:80] for e in camping["evidence"]}
        with app.db.session() as s:
            assert s.get(Trend, camping["id"]).detector.endswith("|text=openai:trend-model")
        # Again: the stored lines are kept, the model is not asked.
        asked = len(server.requests)
        assert [t["text"] for t in detect_trends(worded)] == [t["text"] for t in trends]
        assert len(server.requests) == asked

    # A model server that is down is a clear error, and the stored trends stay as they were.
    with ChatServer([Fail(503)]) as down:
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={
            "base_url": down.base_url, "model": "other-model", "max_retries": 0})})
        with pytest.raises(LlmError, match="503"):
            detect_trends(sharing_stores(app, settings))
    assert {t["id"]: t["text"] for t in list_trends(app)} == {t["id"]: t["text"] for t in trends}


# ---- bulk reads on every vector store ---------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["memory", "local", pytest.param("qdrant+local", marks=pytest.mark.qdrant)])
def test_get_many_returns_the_records_that_exist(scheme, tmp_path):
    if scheme == "qdrant+local":
        pytest.importorskip("qdrant_client")
    url = "memory://" if scheme == "memory" else f"{scheme}://{tmp_path / 'vectors'}"
    store = open_vector_store(url, dim=8)
    rng = np.random.default_rng(0)
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    records = [VectorRecord(id=f"a{i}:article", vector=rng.standard_normal(8).astype(np.float32), kind="article",
                            article_id=f"a{i}", category="life", published_at=when, lang="ko", payload={"title": f"t{i}"})
               for i in range(600)]  # more than one batch
    try:
        store.upsert(records)
        wanted = [f"a{i}:article" for i in range(0, 600, 2)] + ["missing:article", "a0:article"]
        found = store.get_many(wanted)
        assert set(found) == {f"a{i}:article" for i in range(0, 600, 2)}
        for i in (0, 2, 598):
            got, rec = found[f"a{i}:article"], records[i]
            assert got.article_id == rec.article_id and got.kind == "article" and got.lang == "ko"
            assert got.published_at == when and got.payload == {"title": f"t{i}"}
            assert np.allclose(got.vector, rec.vector / (np.linalg.norm(rec.vector) if scheme == "qdrant+local" else 1),
                               atol=1e-5)
        assert store.get_many([]) == {}
    finally:
        store.close()
