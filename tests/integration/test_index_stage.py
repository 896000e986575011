"""The index stage on the crawled sample site: vectors for every part, links by id, idempotent, searchable."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter

import pytest
from sqlalchemy import select

from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.db.tables import Article, Category, MediaItem, VectorRef
from trendreel.demo.run import demo_sources
from trendreel.index.embedders.base import EmbeddingServerError
from trendreel.index.stage import Indexer, delete_article_vectors
from trendreel.index.vectors import SearchFilter

pytestmark = pytest.mark.slow

BACKENDS = ["local", pytest.param("qdrant+local", marks=pytest.mark.qdrant)]


@pytest.fixture(scope="module", params=BACKENDS)
def indexed(request, tmp_path_factory, sample_url):
    pytest.importorskip("qdrant_client") if request.param == "qdrant+local" else None
    from trendreel.settings import Settings

    home = tmp_path_factory.mktemp("index-home")
    settings = Settings(home=home, vectors_url=f"{request.param}://{home / 'vectors'}",
                        crawl={"delay_s": 0, "per_host_concurrency": 4}, index={"speech_model": "none"},
                        sources=demo_sources(sample_url))
    app = build_app(settings)
    services.crawl_sources(app)
    stats = services.index_articles(app)
    yield app, stats
    app.close()


def _refs(app) -> dict[str, Counter]:
    with app.db.session() as s:
        out: dict[str, Counter] = {}
        for ref in s.scalars(select(VectorRef)):
            out.setdefault(ref.article_id, Counter())[ref.kind] += 1
        return out


def test_every_article_image_and_video_has_its_vectors(indexed):
    app, stats = indexed
    assert stats.errors == 0, stats.error_messages
    refs = _refs(app)
    with app.db.session() as s:
        articles = s.scalars(select(Article)).all()
        media = s.scalars(select(MediaItem).where(MediaItem.status == "stored")).all()
    per_article = Counter((m.article_id, m.kind) for m in media)
    for a in articles:
        kinds = refs[a.id]
        assert kinds["article"] == 1 and kinds["article_repr"] == 1
        assert kinds["image"] == per_article[(a.id, "image")]
        # Each video: one vector from its frames, one from its text (transcript or caption).
        assert kinds["video"] == per_article[(a.id, "video")] == kinds["video_text"]
    # The vector DB holds exactly what the RDB says it holds.
    assert app.vectors().count() == sum(sum(c.values()) for c in refs.values())
    assert stats.images == sum(1 for m in media if m.kind == "image")


def test_articles_get_a_category_a_summary_and_media_facts(indexed):
    app, _ = indexed
    with app.db.session() as s:
        rows = s.execute(select(Article.id, Article.summary, Category.slug).join(Category, Category.id == Article.category_id, isouter=True)).all()
        images = s.scalars(select(MediaItem).where(MediaItem.kind == "image", MediaItem.status == "stored")).all()
        videos = s.scalars(select(MediaItem).where(MediaItem.kind == "video", MediaItem.status == "stored")).all()
    assert all(slug for _, _, slug in rows)
    assert sum(1 for _, summary, _ in rows if summary) >= len(rows) // 2
    assert all(m.phash and len(m.phash) == 16 and m.width and m.caption_path for m in images)
    assert all(app.files.get(m.caption_path).strip() for m in images[:5])
    assert all(m.duration_s and m.duration_s > 0 for m in videos)


def test_indexing_again_does_nothing_and_force_replaces_without_growing(indexed):
    app, _ = indexed
    before = app.vectors().count()
    again = services.index_articles(app)
    assert again.articles == 0 and again.vectors == 0
    with app.db.session() as s:
        one = s.scalars(select(Article.id).limit(1)).one()
    forced = services.index_articles(app, article_ids=[one], force=True)
    assert forced.articles == 1
    assert app.vectors().count() == before


def test_search_crosses_languages_and_search_by_example_excludes_itself(indexed):
    app, _ = indexed
    ko = services.search(app, query="반도체 수출이 사상 최대를 기록했다", kind="article", limit=5)
    en = services.search(app, query="Riverside marathon record field of runners", kind="article", limit=5)
    assert any(h["lang"] == "en" and "hip" in (h["title"] or "") for h in ko), ko
    assert any(h["lang"] == "ko" and "마라톤" in (h["title"] or "") for h in en), en
    first = ko[0]["article_id"]
    like = services.search(app, like=first, kind="article", limit=5)
    assert like and all(h["article_id"] != first for h in like)
    images = services.search(app, query="camping tent", kind="image", limit=3)
    assert images and all(h["kind"] == "image" for h in images)


def test_filters_and_deleting_an_article_removes_its_vectors(indexed):
    app, _ = indexed
    store = app.vectors()
    with app.db.session() as s:
        victim = s.scalars(select(Article).where(Article.duplicate_of.is_(None)).limit(1)).one()
    n = store.count(SearchFilter(article_id=victim.id))
    assert n >= 2
    assert delete_article_vectors(app.db, store, victim.id) == n
    assert store.count(SearchFilter(article_id=victim.id)) == 0
    assert victim.id not in _refs(app)
    # It is pending again and comes back on the next run.
    assert services.index_articles(app).articles == 1
    assert store.count(SearchFilter(article_id=victim.id)) == n


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng makes the test speech")
def test_speech_in_a_video_becomes_a_transcript(indexed, tmp_path):
    from trendreel.index.media.speech import load_speech_to_text

    app, _ = indexed
    speech = load_speech_to_text()
    if speech is None:
        pytest.skip("no packaged speech model installed")
    with app.db.session() as s:
        video = s.scalars(select(MediaItem).where(MediaItem.kind == "video", MediaItem.status == "stored").limit(1)).one()
    wav, mp4 = tmp_path / "say.wav", tmp_path / "say.mp4"
    subprocess.run(["espeak-ng", "-w", str(wav), "The harbour cranes are working again this morning."], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:d=4", "-i", str(wav),
                    "-shortest", "-c:v", "libx264", "-c:a", "aac", str(mp4)], check=True)
    app.files.put(video.path, mp4.read_bytes())  # the stored clip now has speech
    indexer = app.indexer()
    indexer.speech = speech
    stats = indexer.index(article_ids=[video.article_id], force=True)
    assert stats.transcripts == 1
    with app.db.session() as s:
        row = s.get(MediaItem, video.id)
    transcript = app.files.get(row.transcript_path).decode().lower()
    assert "harbour" in transcript or "harbor" in transcript or "cranes" in transcript
    hit = app.vectors().get(f"{video.id}:video_text")
    assert hit is not None and hit.payload.get("source") == "transcript"


class _RefusesOne:
    """The real embedder, except that any batch holding `marker` fails, as a model server's error would."""

    def __init__(self, real, marker: str):
        self.real, self.marker = real, marker
        self.name, self.dim = real.name, real.dim

    def embed(self, texts, **kw):
        if any(self.marker in t for t in texts):
            raise EmbeddingServerError(f"refused a text with {self.marker!r}")
        return self.real.embed(texts, **kw)


def _group_indexer(app, text_embedder=None) -> Indexer:
    idx = app.indexer()
    return Indexer(db=app.db, files=app.files, vectors=idx.vectors, text_embedder=text_embedder or idx.text,
                   categorizer=idx.categorizer, summarizer=idx.summarizer, batch_articles=3)


def _three_originals(app) -> list[Article]:
    with app.db.session() as s:
        return list(s.scalars(select(Article).where(Article.duplicate_of.is_(None)).order_by(Article.id).limit(3)))


def test_an_unreadable_article_fails_alone_and_the_rest_of_its_group_is_indexed(indexed):
    app, _ = indexed
    arts = _three_originals(app)
    victim = arts[1]
    saved = app.files.get(victim.text_path)
    app.files.delete(victim.text_path)
    try:
        stats = _group_indexer(app).index(article_ids=[a.id for a in arts], force=True)
    finally:
        app.files.put(victim.text_path, saved)
    assert (stats.articles, stats.errors) == (2, 1)
    assert stats.error_messages[0].startswith(f"{victim.id}: ")


def test_a_failing_model_call_is_charged_to_its_own_article(indexed):
    app, _ = indexed
    arts = _three_originals(app)
    victim = arts[2]
    stats = _group_indexer(app, _RefusesOne(app.indexer().text, victim.title)).index(
        article_ids=[a.id for a in arts], force=True)
    assert (stats.articles, stats.errors) == (2, 1)
    assert stats.error_messages[0].startswith(f"{victim.id}: ") and "refused" in stats.error_messages[0]
    with app.db.session() as s:
        assert s.get(Article, arts[0].id).indexed_at is not None
