"""The story stage's service functions on SQLite and PostgreSQL: storing, re-running, choosing the item, the
language, visuals from the whole trend, the verbatim share and editing."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.chatserver import ChatServer, Reply
from trendreel import events, services
from trendreel.bootstrap import App, build_app
from trendreel.db.tables import Article, Event, MediaItem, Story, Trend, TrendItem
from trendreel.errors import ConfigError, StoryError, StoryInvalid
from trendreel.files.layout import article_file, media_file
from trendreel.files.store import open_file_store
from trendreel.ids import article_id, media_id, story_id
from trendreel.services.stories import edit_story, get_story, list_stories, write_story
from trendreel.story import load_trend
from trendreel.story.choose import rank_candidates
from trendreel.story.models import Story as StoryModel
from trendreel.settings import Settings
from trendreel.story.verbatim import story_verbatim_share

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
CAMPING_MORE = ("겨울 캠핑 장비 대여 인기", """겨울 캠핑을 떠나는 20~30대가 장비 대여 서비스를 찾고 있다.
난로와 침낭을 묶은 겨울 캠핑 상품이 가장 많이 나간다.
대여 업체는 캠핑장으로 장비를 바로 보내 준다.
캠핑 입문자들은 구입 부담이 적다는 점을 꼽는다.""")
GLAMPING = ("글램핑장 야경 명소", """도심 근교 글램핑장이 야경 명소로 알려지고 있다.
텐트마다 조명을 달아 밤에도 캠핑 분위기를 즐길 수 있다.
주말에는 캠핑객과 사진을 찍으려는 방문객이 함께 몰린다.""")
CHIPS = ("Chip exports hit a record", """Semiconductor exports rose 31 percent in October.
Memory chips for AI servers led the gains.
Shipments to data centres in the United States doubled.
Officials expect a record year for chip exports.""")


def png(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def store_item(app: App, slug: str, title: str, text: str, *, lang: str, captions: tuple[str, ...] = (),
               size: tuple[int, int] = (64, 48)) -> str:
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
            data = png(size, (pos * 40 % 256, len(slug) * 20 % 256, 90))  # a file of its own per image
            app.files.put(path, data)
            s.add(MediaItem(id=media_id(aid, "image", url), article_id=aid, position=pos, kind="image",
                            source_url=url, status="stored", path=path, caption=caption, width=size[0], height=size[1],
                            sha256=hashlib.sha256(data).hexdigest()))
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
                              "grounding", "verbatim_share", "scenes", "created_at"}
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
    with app.db.session() as s:
        tent = s.scalar(select(MediaItem.id).where(MediaItem.article_id == camping))
    assert any(m["media_id"] == tent for sc in story["scenes"] for m in sc["media"])


# ---- the verbatim share -----------------------------------------------------------------------

def test_the_verbatim_share_is_recorded_in_the_body_the_summary_and_the_event(app, corpus):
    story = write_story(app, trend_id="t-camping", item_id=corpus["camping"])
    share = story["verbatim_share"]
    # The offline writer says the item's sentences in spoken form: mostly, not entirely, their words.
    assert 0.3 < share < 1.0
    assert share == story_verbatim_share(StoryModel.model_validate({k: v for k, v in story.items() if k not in ("created_at", "reused")}))
    assert get_story(app, story["id"])["verbatim_share"] == share
    assert list_stories(app, trend_id="t-camping")[0]["verbatim_share"] == share
    with app.db.session() as s:
        payload = s.scalars(select(Event.payload).where(Event.type == events.STORY_WRITTEN)).one()
    assert payload["verbatim_share"] == share and payload["lang"] == "ko"
    # A story stored before the share was recorded gets it computed from its quotes.
    with app.db.session() as s:
        row = s.get(Story, story["id"])
        row.body = {k: v for k, v in row.body.items() if k != "verbatim_share"}
    assert get_story(app, story["id"])["verbatim_share"] == share


# ---- the language ------------------------------------------------------------------------------

def test_a_story_is_told_in_the_trends_language_or_the_one_asked_for(app, corpus):
    services.index_articles(app)
    ko = write_story(app, trend_id="t-camping")
    assert ko["lang"] == "ko" and ko["warnings"] == []
    # English asked for: the English item is told (the template cannot translate), under its usual id.
    en = write_story(app, trend_id="t-camping", lang="en")
    assert en["lang"] == "en" and en["article_id"] == corpus["chips"] and en["id"] != ko["id"]
    assert en["id"] == story_id("t-camping", corpus["chips"], "template", "extractive-v1")
    # An English trend gets an English story without asking.
    with app.db.session() as s:
        s.add(Trend(id="t-chips", text="Chip exports hit a record", lang="en", first_seen_at=NOW, last_seen_at=NOW,
                    window_s=86400, key_phrases=[], detector="test"))
        s.flush()
        s.add(TrendItem(trend_id="t-chips", article_id=corpus["chips"], similarity=0.9, window_start=NOW))
    assert write_story(app, trend_id="t-chips")["lang"] == "en"
    # No item in the language, or a named item in another one: the template writer says so.
    with pytest.raises(StoryError, match="no stored item in ja matches trend t-camping: .* the template writer tells a "
                                         "story only in its item's language") as err:
        write_story(app, trend_id="t-camping", lang="ja")
    assert "--lang ko" in err.value.hint
    with pytest.raises(StoryError, match="no stored item in ko was named"):
        write_story(app, trend_id="t-camping", item_id=corpus["chips"])


def translated_answer(camping_media: list[str]) -> str:
    lines = [(1, "Weekend campsite bookings sell out as soon as they open."),
             (2, "This autumn, people in their 20s and 30s made 54% of campsite bookings around Seoul."),
             (3, "Three years ago the share was 27%."),
             (5, "The industry expects camping demand to stay strong in winter."),
             (0, "What do you think? Tell us in the comments.")]
    scenes = [{"sentences": [n], "narration": text, "on_screen_text": "", "media": camping_media[:1]} for n, text in lines]
    return json.dumps({"title": "The camping boom of people in their 20s and 30s", "hook": "Three years ago the share was 27%.",
                       "hook_sentences": [3], "scenes": scenes, "hashtags": ["camping"]})


def test_a_language_model_tells_a_story_in_another_language_than_its_item(database, make_settings, corpus):
    camping_media = [media_id(corpus["camping"], "image", f"https://news.example/camping/{i}.png") for i in (1, 2)]
    with ChatServer([Reply(translated_answer(camping_media))]) as server:
        settings = make_settings(index={"speech_model": "none"},
                                 llm={"base_url": server.base_url, "model": "story-model", "max_retries": 0})
        settings.home.mkdir(parents=True, exist_ok=True)
        llm_app = App(settings=settings, db=database, files=open_file_store(settings.files_url))
        seen = []
        try:
            story = write_story(llm_app, trend_id="t-camping", backend="openai", lang="en",
                                on_progress=lambda step, done, total: seen.append(step))
        finally:
            llm_app.close()
    # Nothing in English matches (nothing is indexed): told from the Korean item, in English, and said so.
    assert story["lang"] == "en" and story["source_lang"] == "ko" and story["article_id"] == corpus["camping"]
    assert story["warnings"] == [f"told from item {corpus['camping']} in ko: no stored item in en matches the trend"]
    assert story["id"] == story_id("t-camping", corpus["camping"], "openai", "story-model", lang="en")
    assert story["id"] != story_id("t-camping", corpus["camping"], "openai", "story-model")
    # Supported across languages by the multilingual embedder; nothing is copied word for word.
    assert story["grounding"] == 1.0 and story["hook_supported"] and story["verbatim_share"] == 0.0
    prompt = server.requests[0]["messages"][1]["content"]
    assert "in English" in prompt and "The item is in Korean" in prompt
    assert "attempt 1 of 1: waiting" in seen and "attempt 1 of 1: tokens" in seen and "choosing visuals" in seen
    # An invented claim in another language is still caught.
    bad = json.loads(translated_answer([]))
    bad["scenes"][2]["narration"] = "Memory chips for AI servers led the gains."
    with ChatServer([Reply(json.dumps(bad))]) as server:
        settings = make_settings(index={"speech_model": "none"},
                                 llm={"base_url": server.base_url, "model": "story-model", "max_retries": 0})
        llm_app = App(settings=settings, db=database, files=open_file_store(settings.files_url))
        try:
            with pytest.raises(StoryInvalid, match="scene 3: its narration or on-screen text is not supported"):
                write_story(llm_app, trend_id="t-camping", backend="openai", lang="en", force=True)
        finally:
            llm_app.close()


# ---- visuals from the whole trend ------------------------------------------------------------------

@pytest.fixture
def trend_media(app, corpus):
    """Another evidence item with pictures, and a related item outside the trend, all indexed."""
    more = store_item(app, "camping-more", *CAMPING_MORE, lang="ko", size=(1080, 1920),
                      captions=("겨울 캠핑장에서 난로를 피운 텐트", "차박을 즐기는 20~30대 캠퍼들", "캠핑 장비 대여 상자"))
    glamping = store_item(app, "glamping", *GLAMPING, lang="ko", captions=("조명을 밝힌 글램핑장 텐트의 야경",))
    with app.db.session() as s:
        s.add(TrendItem(trend_id="t-camping", article_id=more, similarity=0.8, window_start=NOW))
    services.index_articles(app)
    return {"more": more, "glamping": glamping}


def _owners(app) -> dict[str, str]:
    with app.db.session() as s:
        return dict(s.execute(select(MediaItem.id, MediaItem.article_id)).all())


def test_visuals_come_from_every_evidence_item_and_related_media(app, corpus, trend_media):
    story = write_story(app, trend_id="t-camping", item_id=corpus["camping"])
    owners = _owners(app)
    shown = [[m["media_id"] for m in sc["media"]] for sc in story["scenes"]]
    distinct = {m for ids in shown for m in ids}
    # The told item has two pictures; the trend has more: at least four distinct visuals, none twice in a row.
    assert len(distinct) >= 4, shown
    assert {owners[m] for m in distinct} >= {corpus["camping"], trend_media["more"]}
    assert all(not set(a) & set(b) for a, b in zip(shown, shown[1:]))
    # The chip story's container picture has nothing to do with camping.
    assert corpus["chips"] not in {owners[m] for m in distinct}


def test_related_media_are_found_by_vector_search_when_the_trend_has_none(app, corpus, trend_media):
    with app.db.session() as s:
        s.add(Trend(id="t-bare", text="2030 캠핑 예약 전쟁", lang="ko", first_seen_at=NOW, last_seen_at=NOW,
                    window_s=86400, key_phrases=[], detector="test"))
        s.flush()
        s.add(TrendItem(trend_id="t-bare", article_id=corpus["camping_no_media"], similarity=0.9, window_start=NOW))
    story = write_story(app, trend_id="t-bare", item_id=corpus["camping_no_media"])
    owners = _owners(app)
    shown = {m["media_id"] for sc in story["scenes"] for m in sc["media"]}
    # The item has no picture of its own: camping pictures of other stored items are shown, not the port.
    assert shown and all(owners[m] != corpus["chips"] for m in shown)
    assert story["grounding"] == 1.0


def test_an_edit_may_show_the_trends_media_but_not_a_strangers(app, corpus, trend_media):
    story = write_story(app, trend_id="t-camping", item_id=corpus["camping"])
    with app.db.session() as s:
        evidence_media = s.scalars(select(MediaItem.id).where(MediaItem.article_id == trend_media["more"])).all()
        stranger = s.scalars(select(MediaItem.id).where(MediaItem.article_id == corpus["chips"])).one()
    scenes = [{k: sc[k] for k in ("narration", "on_screen_text", "duration_s", "media", "citations")} for sc in story["scenes"]]
    scenes[0]["media"] = [{"media_id": evidence_media[-1], "kind": "image", "start_s": None, "end_s": None}]
    edited = edit_story(app, story["id"], {"scenes": scenes})
    assert edited["scenes"][0]["media"][0]["media_id"] == evidence_media[-1]
    scenes[0]["media"] = [{"media_id": stranger, "kind": "image", "start_s": None, "end_s": None}]
    with pytest.raises(StoryInvalid, match="is not one of the item's or its trend's"):
        edit_story(app, story["id"], {"scenes": scenes})
    # A reworded hook must be backed by the story's own quotes.
    with pytest.raises(StoryInvalid, match="the new hook is not backed"):
        edit_story(app, story["id"], {"hook": "Aliens bought every tent in Seoul."})
    hook = edit_story(app, story["id"], {"hook": "3년 전 비중은 27%였습니다."})
    assert hook["hook_supported"] and [c["sentence"] for c in hook["hook_citations"]] == [3]


# ---- the command line --------------------------------------------------------------------------

def test_the_story_command_takes_a_language_and_says_what_it_wrote(tmp_path):
    home = tmp_path / "cli-home"
    cli_app = build_app(Settings(home=home, index={"speech_model": "none"}))
    try:
        chips = store_item(cli_app, "chips", *CHIPS, lang="en", captions=("Containers at a port",))
        camping = store_item(cli_app, "camping", *CAMPING, lang="ko", captions=("캠핑장에 텐트가 빼곡히 들어서 있다",))
        with cli_app.db.session() as s:
            s.add(Trend(id="t-camping", text="20~30대 캠핑 인기", lang="ko", first_seen_at=NOW, last_seen_at=NOW,
                        window_s=86400, key_phrases=["캠핑"], detector="test"))
            s.flush()
            s.add_all([TrendItem(trend_id="t-camping", article_id=a, similarity=0.8, window_start=NOW) for a in (camping, chips)])
    finally:
        cli_app.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")}  # PYTHONPATH goes through

    def story(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "trendreel", "story", "--trend", "t-camping", *args,
                               "--home", str(home)], capture_output=True, text=True, encoding="utf-8", env=env,
                              timeout=300, check=False)

    r = story("--lang", "en", "--json")
    assert r.returncode == 0, r.stderr
    en = json.loads(r.stdout)
    assert en["lang"] == "en" and en["article_id"] == chips and 0 <= en["verbatim_share"] <= 1
    r = story()
    assert r.returncode == 0, r.stderr
    assert "Said word for word from its sources: " in r.stderr and "trendreel render --story" in r.stderr
    r = story("--lang", "ja")
    assert r.returncode == 1 and "no stored item in ja" in r.stderr and "Traceback" not in r.stderr
