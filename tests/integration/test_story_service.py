"""The story stage's service functions on SQLite and PostgreSQL: storing, re-running, choosing the item."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
from PIL import Image
from sqlalchemy import func, select

from trendreel import events, services
from trendreel.bootstrap import App
from trendreel.db.tables import Article, Event, MediaItem, Story, Trend, TrendItem
from trendreel.errors import ConfigError, StoryError
from trendreel.files.layout import article_file, media_file
from trendreel.files.store import open_file_store
from trendreel.ids import article_id, media_id, story_id
from trendreel.services.stories import get_story, list_stories, write_story
from trendreel.story import load_trend
from trendreel.story.choose import rank_candidates

NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)
CAMPING = ("2030 캠핑 열풍", """주말 캠핑장 예약이 열리자마자 마감되고 있다.
올가을 수도권 캠핑장 예약 가운데 20~30대 명의 예약이 54%를 차지했다.
3년 전 비중은 27%였다.
직장인 이다은 씨는 대학 동기 세 명과 한 달에 한 번 캠핑을 간다.
업계에서는 겨울철에도 캠핑 수요가 크게 줄지 않을 것으로 본다.""")
CAMPING_NO_MEDIA = ("2030 캠핑 예약 전쟁", """20~30대 캠핑 인기가 이어지며 주말 캠핑장 예약 경쟁이 치열하다.
캠핑장 예약 창이 열리고 4분 만에 60개 사이트가 모두 찼다.
20~30대 캠핑 이용객은 3년 새 두 배가 됐다.
캠핑 업계는 평일 캠핑 상품을 늘리고 있다.""")
CHIPS = ("Chip exports hit a record", """Semiconductor exports rose 31 percent in October.
Memory chips for AI servers led the gains.
Shipments to data centres in the United States doubled.
Officials expect a record year for chip exports.""")


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def store_item(app: App, slug: str, title: str, text: str, *, lang: str, captions: tuple[str, ...] = ()) -> str:
    """An article as the crawler leaves it: text file, row, stored images."""
    aid = article_id(f"https://news.example/{slug}")
    key = article_file(aid, "article.txt")
    app.files.put(key, f"{title}\n{text}".encode())
    with app.db.session() as s:
        s.add(Article(id=aid, url=f"https://news.example/{slug}", canonical_url=f"https://news.example/{slug}",
                      title=title, lang=lang, content_hash=slug, minhash="0" * 512, text_chars=len(text),
                      text_path=key, published_at=NOW))
        s.flush()
        for pos, caption in enumerate(captions, start=1):
            url = f"https://news.example/{slug}/{pos}.png"
            path = media_file(aid, "image", pos, "png")
            app.files.put(path, png())
            s.add(MediaItem(id=media_id(aid, "image", url), article_id=aid, position=pos, kind="image",
                            source_url=url, status="stored", path=path, caption=caption))
    return aid


@pytest.fixture
def app(database, make_settings):
    settings = make_settings(index={"speech_model": "none"})
    settings.home.mkdir(parents=True, exist_ok=True)
    app = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    yield app
    app.close()


@pytest.fixture
def corpus(app):
    items = {
        "camping": store_item(app, "camping", *CAMPING, lang="ko", captions=("캠핑장에 텐트가 빼곡히 들어서 있다", "예약 마감 안내 화면")),
        "camping_no_media": store_item(app, "camping-bare", *CAMPING_NO_MEDIA, lang="ko"),
        "chips": store_item(app, "chips", *CHIPS, lang="en", captions=("Containers at a port",)),
    }
    with app.db.session() as s:
        s.add(Trend(id="t-camping", text="20~30대 캠핑 인기", lang="ko", first_seen_at=NOW, last_seen_at=NOW,
                    window_s=86400, key_phrases=["캠핑"], detector="test"))
        s.flush()
        s.add_all([TrendItem(trend_id="t-camping", article_id=items[k], similarity=0.8, window_start=NOW)
                   for k in ("camping", "camping_no_media")])
    return items


def _events(app) -> int:
    with app.db.session() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.type == events.STORY_WRITTEN))


def test_a_story_is_stored_and_a_rerun_returns_it_without_writing_again(app, corpus):
    story = write_story(app, trend_id="t-camping", item_id=corpus["camping"])
    assert story["id"] == story_id("t-camping", corpus["camping"], "template", "extractive-v1")
    assert story["reused"] is False and story["backend"] == "template" and story["lang"] == "ko"
    assert 3 <= len(story["scenes"]) <= 8 and story["duration_s"] <= 60 and story["grounding"] == 1.0
    assert {m["media_id"] for sc in story["scenes"] for m in sc["media"]} <= {
        media_id(corpus["camping"], "image", f"https://news.example/camping/{i}.png") for i in (1, 2)}
    with app.db.session() as s:
        row = s.get(Story, story["id"])
        assert (row.trend_id, row.article_id, row.title, row.grounding) == (
            "t-camping", corpus["camping"], CAMPING[0], 1.0)
    assert _events(app) == 1

    again = write_story(app, trend_id="t-camping", item_id=corpus["camping"])
    assert again["reused"] is True and again["id"] == story["id"] and again["scenes"] == story["scenes"]
    forced = write_story(app, trend_id="t-camping", item_id=corpus["camping"], force=True)
    assert forced["reused"] is False and forced["scenes"] == story["scenes"]
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Story)) == 1
    assert _events(app) == 1  # the same story again is the same fact


def test_stories_can_be_read_back_and_listed(app, corpus):
    a = write_story(app, trend_id="t-camping", item_id=corpus["camping"])
    b = write_story(app, trend_id="t-camping", item_id=corpus["camping_no_media"])
    assert get_story(app, a["id"])["scenes"] == a["scenes"]
    listed = list_stories(app, trend_id="t-camping")
    assert {x["id"] for x in listed} == {a["id"], b["id"]}
    assert set(listed[0]) == {"id", "trend_id", "article_id", "backend", "model", "lang", "title", "duration_s",
                              "grounding", "scenes", "created_at"}
    assert list_stories(app, trend_id="t-other") == []
    assert len(list_stories(app, limit=1)) == 1
    with pytest.raises(ConfigError, match="limit"):
        list_stories(app, limit=0)
    with pytest.raises(StoryError, match="unknown story"):
        get_story(app, "s-nope")


def test_bad_inputs_are_clear_errors(app, corpus):
    with pytest.raises(StoryError, match="unknown trend 't-nope'"):
        write_story(app, trend_id="t-nope", item_id=corpus["camping"])
    with pytest.raises(StoryError, match="unknown item 'a-nope'"):
        write_story(app, trend_id="t-camping", item_id="a-nope")
    with pytest.raises(ConfigError, match="unknown story backend 'gpt'"):
        write_story(app, trend_id="t-camping", item_id=corpus["camping"], backend="gpt")
    with app.db.session() as s:
        s.get(Article, corpus["chips"]).text_path = None
    with pytest.raises(StoryError, match="no stored text"):
        write_story(app, trend_id="t-camping", item_id=corpus["chips"])


def test_the_default_item_is_the_most_similar_one_that_has_media(app, corpus):
    services.index_articles(app)
    ranked = [a for a, _ in rank_candidates(app, load_trend(app.db, "t-camping"))]
    # The bare camping item is the closest; the one with pictures wins; the chip story comes last.
    assert ranked == [corpus["camping_no_media"], corpus["camping"], corpus["chips"]]
    story = write_story(app, trend_id="t-camping")
    assert story["article_id"] == corpus["camping"]
    assert all(sc["media"] for sc in story["scenes"])
    # Without media anywhere, the most similar item with text is used.
    with app.db.session() as s:
        for m in s.scalars(select(MediaItem)):
            m.status = "error"
    assert write_story(app, trend_id="t-camping")["article_id"] == corpus["camping_no_media"]


def test_stories_work_on_an_imported_corpus(app, tmp_path):
    (tmp_path / "tent.png").write_bytes(png())
    (tmp_path / "port.png").write_bytes(png())
    lines = [
        {"id": "n-1", "title": CAMPING[0], "text": CAMPING[1], "lang": "ko", "published_at": "2026-11-19",
         "images": [{"path": "tent.png", "caption": "캠핑장에 텐트가 빼곡히 들어서 있다"}]},
        {"id": "n-2", "title": CHIPS[0], "text": CHIPS[1], "lang": "en", "published_at": "2026-11-19",
         "images": ["port.png"]},
    ]
    corpus = tmp_path / "items.jsonl"
    corpus.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    services.import_items(app, path=corpus, index=True)
    with app.db.session() as s:
        s.add(Trend(id="t-imported", text="20~30대 캠핑 인기", lang="ko", first_seen_at=NOW, last_seen_at=NOW,
                    window_s=86400, key_phrases=[], detector="test"))
        camping = s.scalar(select(Article.id).where(Article.external_id == "n-1"))
    story = write_story(app, trend_id="t-imported")
    assert story["article_id"] == camping and story["grounding"] == 1.0 and 3 <= len(story["scenes"]) <= 8
    assert any(sc["on_screen_text"] == "캠핑장에 텐트가 빼곡히 들어서 있다" for sc in story["scenes"])
