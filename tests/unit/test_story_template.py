"""The template writer on hand-made items, the spoken lines it makes, and validation of stories against their item."""

from __future__ import annotations

import pytest

from trendreel.errors import StoryError
from trendreel.settings import StorySettings
from trendreel.story.models import Citation, MediaRef, Scene
from trendreel.story.source import SourceMedia, StoryItem, TrendBrief, number_sentences
from trendreel.story.speech import speech_lines
from trendreel.story.template import TemplateWriter, rank_sentences
from trendreel.story.text import ON_SCREEN_FRAMES, content_words, numbers
from trendreel.story.timing import speech_seconds
from trendreel.story.validate import check

KO_TEXT = """주말 캠핑장 예약 '하늘의 별 따기'…2030 이용객 두 배로
경기 가평의 한 오토캠핑장은 매달 1일 오전 10시에 다음 달 주말 예약을 연다. 운영자 윤모 씨는 "예약 창이 열리고 4분 만에 60개 사이트가 모두 찼다"며 "작년 이맘때만 해도 금요일 저녁까지 빈자리가 있었다"고 말했다.
캠핑장 예약 플랫폼 '숲길'이 집계한 자료를 보면 올가을 수도권 캠핑장 예약 가운데 20~30대 명의 예약이 54%를 차지했다. 3년 전 비중은 27%였다. 가족 단위 중심이던 이용객 구성이 친구, 연인, 혼자 온 손님으로 넓어졌다는 분석이다.
직장인 이다은(29) 씨는 대학 동기 세 명과 한 달에 한 번 캠핑을 간다.
예약 경쟁이 치열해지자 평일 캠핑이나 당일 피크닉 상품을 내놓는 곳도 늘고 있다. 업계에서는 겨울철에도 수요가 크게 줄지 않을 것으로 본다."""
KO_TITLE = "주말 캠핑장 예약 '하늘의 별 따기'…2030 이용객 두 배로"

MEDIA = (SourceMedia(id="m-img1", kind="image", caption="가평의 한 오토캠핑장에 텐트가 빼곡히 들어서 있다"),
         SourceMedia(id="m-vid1", kind="video", caption="", duration_s=4.0),
         SourceMedia(id="m-img2", kind="image", caption="예약 마감 안내가 떠 있는 휴대전화 화면"))


def ko_item(media=MEDIA) -> StoryItem:
    return StoryItem(article_id="a-ko", title=KO_TITLE, lang="ko", sentences=number_sentences(KO_TITLE, KO_TEXT),
                     media=media)


def long_en_item() -> StoryItem:
    body = " ".join(f"Runner number {i} from club {i} finished the Riverside Marathon course along the Han River."
                    for i in range(1, 40))
    return StoryItem(article_id="a-en", title="Riverside Marathon", lang="en",
                     sentences=number_sentences("Riverside Marathon", body),
                     media=(SourceMedia(id="m-v", kind="video", caption="Runners cross a bridge", duration_s=3.0),))


TREND_KO = TrendBrief(id="t1", text="20~30대 캠핑·차박 인기", lang="ko", key_phrases=("캠핑", "차박"))


def test_numbering_puts_the_title_first_and_drops_its_repeat_in_the_text():
    s = number_sentences(KO_TITLE, KO_TEXT)
    assert s[0] == KO_TITLE and s[1].startswith("경기 가평의") and KO_TITLE not in s[1:]


def test_template_story_is_valid_grounded_and_fits_a_minute():
    settings = StorySettings()
    story = TemplateWriter(settings).write(TREND_KO, ko_item())
    graded, problems = check(story, ko_item(), settings)
    assert problems == []
    assert 3 <= len(story.scenes) <= 8 and story.duration_s <= 60
    assert story.grounding == 1.0 and all(s.supported for s in story.scenes)
    assert story.title == KO_TITLE and story.lang == "ko"
    assert story.hashtags[:2] == ["#캠핑", "#차박"]
    # Body scenes keep the item's order and every one shows a stored media item.
    body, closing = story.scenes[:-1], story.scenes[-1]
    cited = [c.sentence for s in body for c in s.citations if c.sentence is not None]
    assert cited == sorted(cited)
    assert all(len(s.media) == 1 for s in story.scenes)
    assert {m.media_id for s in story.scenes for m in s.media} == {"m-img1", "m-vid1", "m-img2"}


def test_the_script_is_spoken_a_hook_short_scenes_and_a_closing_line():
    settings = StorySettings()
    story = TemplateWriter(settings).write(TREND_KO, ko_item())
    # The hook: the title's first phrase, cited and supported.
    assert story.hook == "주말 캠핑장 예약 '하늘의 별 따기'"
    assert [c.sentence for c in story.hook_citations] == [0] and story.hook_supported
    # Scenes: short, spoken (polite endings), at most two lines; parentheticals such as ages are gone.
    for scene in story.scenes:
        assert speech_seconds(scene.narration) <= settings.max_scene_seconds
        assert scene.narration.count(". ") <= 1
        assert scene.narration.rstrip("?.").endswith(("니다", "세요")), scene.narration
        assert "(29)" not in scene.narration
        # Numbers are said exactly as the sources write them.
        assert numbers(scene.narration) <= numbers(" ".join(c.quote for c in scene.citations))
    # The closing line is about the trend and adds no claim: nothing but the topic's words and the frame's.
    closing = story.scenes[-1]
    assert closing.narration.startswith(TREND_KO.text + ", ")
    assert set(content_words(closing.narration)) <= set(content_words(TREND_KO.text))
    assert closing.on_screen_text == ON_SCREEN_FRAMES["ko"] and closing.supported
    # The old script said whole sentences (the longest 10 s); now no line takes more than 7 s.
    assert max(speech_seconds(s) for s in ko_item().sentences[1:]) > 10


def test_a_long_title_gives_way_to_the_strongest_short_line_as_hook():
    title = "주말 캠핑장 예약 경쟁 갈수록 치열해져 수도권 오토캠핑장 이용객 구성도 크게 바뀌어"
    item = StoryItem(article_id="a-ko", title=title, lang="ko", sentences=number_sentences(title, KO_TEXT), media=MEDIA)
    story = TemplateWriter(StorySettings()).write(TREND_KO, item)
    hook_sentence = story.hook_citations[0].sentence
    assert hook_sentence > 0 and story.hook_supported and speech_seconds(story.hook) <= 5
    assert story.hook in speech_lines(item.sentences[hook_sentence], "ko")
    # The hook's line is not said again in a scene.
    assert all(story.hook not in s.narration for s in story.scenes)


def test_the_template_tells_a_story_only_in_its_items_language():
    writer = TemplateWriter(StorySettings())
    with pytest.raises(StoryError, match="only in its language \\(ko\\), not in en"):
        writer.write(TrendBrief(id="t2", text="Young adults go camping", lang="en"), ko_item(), lang="en")
    # A trend line in another language is not said: the closing speaks of the title instead.
    story = writer.write(TrendBrief(id="t2", text="Young adults go camping", lang="en"), ko_item())
    assert story.lang == "ko" and "Young" not in story.scenes[-1].narration


def test_videos_are_cut_into_ranges_within_their_length():
    story = TemplateWriter(StorySettings()).write(TrendBrief(id="t", text="Riverside Marathon", lang="en"), long_en_item())
    ranges = [(m.start_s, m.end_s) for s in story.scenes for m in s.media]
    assert len(story.scenes) == 8 and story.duration_s <= 60
    assert all(0 <= a < b <= 3.0 for a, b in ranges)


def test_a_short_text_borrows_captions_and_too_little_text_is_an_error():
    item = StoryItem(article_id="a-s", title="Night palace", lang="en",
                     sentences=("Night palace", "The palace opens at night."),
                     media=(SourceMedia(id="m1", kind="image", caption="Lanterns over the pond"),
                            SourceMedia(id="m2", kind="image", caption="Visitors in hanbok at night")))
    story = TemplateWriter(StorySettings()).write(TrendBrief(id="t", text="Palaces at night", lang="en"), item)
    # The one sentence is the hook (the title is too short to make one); captions are said as scenes.
    assert story.hook == "The palace opens at night."
    assert [s.narration for s in story.scenes] == ["Lanterns over the pond", "Visitors in hanbok at night",
                                                   "Palaces at night: what do you think? Tell us in the comments."]
    assert [c.media_id for c in story.scenes[0].citations] == ["m1"]
    assert story.grounding == 1.0
    bare = StoryItem(article_id="a-b", title="x", lang="en", sentences=("x", "Only one sentence here."))
    with pytest.raises(StoryError, match="too little text"):
        TemplateWriter(StorySettings()).write(TrendBrief(id="t", text="x", lang="en"), bare)


def test_an_item_without_media_still_gets_a_story_with_text_on_screen():
    story = TemplateWriter(StorySettings()).write(TREND_KO, ko_item(media=()))
    assert all(s.media == [] and s.on_screen_text for s in story.scenes)


def test_ranking_prefers_sentences_with_the_items_frequent_words():
    scores = rank_sentences(["Campers book sites early.", "The weather was mild.", "Campers and camping sites boom."])
    assert scores[1] < min(scores[0], scores[2])


# ---- validation against the item ------------------------------------------------------------

def _story_with(scene: Scene):
    story = TemplateWriter(StorySettings()).write(TREND_KO, ko_item())
    return story.model_copy(update={"scenes": [scene, *story.scenes[1:]]})


def _scene(**changes) -> Scene:
    base = dict(narration="3년 전 비중은 27%였다.", duration_s=3,
                citations=[Citation(article_id="a-ko", sentence=4, quote="3년 전 비중은 27%였다.")])
    return Scene(**(base | changes))


@pytest.mark.parametrize("scene, problem", [
    (_scene(media=[MediaRef(media_id="m-other", kind="image")]), "not a stored image or video of this item"),
    (_scene(media=[MediaRef(media_id="m-img1", kind="video", start_s=0, end_s=1)]), "is a image, not a video"),
    (_scene(media=[MediaRef(media_id="m-vid1", kind="video", start_s=2, end_s=6)]), "is 4.00 s long"),
    (_scene(citations=[Citation(article_id="a-ko", sentence=99, quote="x")]), "cites sentence 99"),
    (_scene(citations=[Citation(article_id="a-other", sentence=1, quote="x")]), "not the story's item"),
    (_scene(citations=[Citation(article_id="a-ko", sentence=4, quote="3년 전 비중은 80%였다.")]), "is not that sentence's text"),
    (_scene(narration="3년 전 비중은 99%였다."), "not supported"),
])
def test_validation_names_what_is_wrong(scene, problem):
    settings = StorySettings()
    _, problems = check(_story_with(scene), ko_item(), settings)
    assert any(problem in p for p in problems), problems


def test_validation_checks_scene_count_length_and_repeats():
    settings = StorySettings(max_seconds=20, min_scenes=3, max_scenes=4)
    story = TemplateWriter(StorySettings()).write(TREND_KO, ko_item())
    many = story.model_copy(update={"scenes": story.scenes * 2, "duration_s": 80.0})
    _, problems = check(many, ko_item(), settings)
    assert any("needs 3 to 4" in p for p in problems)
    assert any("at most 20 s" in p for p in problems)
    assert any("repeats the narration of scene 1" in p for p in problems)


def test_without_a_short_backed_topic_the_closing_is_the_question_alone():
    item = long_en_item()
    long_title = "Thousands of runners from clubs all over the country finished the Riverside Marathon along the Han River"
    item = StoryItem(article_id=item.article_id, title=long_title, lang="en",
                     sentences=(long_title, *item.sentences[1:]), media=item.media)
    story = TemplateWriter(StorySettings()).write(TREND_KO, item)  # a Korean trend line is not said in English
    assert story.scenes[-1].narration == "What do you think? Tell us in the comments."
    assert story.scenes[-1].supported and [c.sentence for c in story.scenes[-1].citations] == [0]
