"""The story format, speaking-time estimates and the grounding check."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from trendreel.story.grounding import best_sources, grade, scene_support, support
from trendreel.story.models import Citation, MediaRef, Scene, Story
from trendreel.story.text import first_clauses, numbers, shorten, strip_particle
from trendreel.story.timing import MIN_SCENE_S, scene_seconds, speech_seconds

EN = "Organisers of the Seoul Riverside Marathon closed registration three weeks early after 40,000 runners signed up."
KO = "캠핑장 예약 플랫폼 '숲길'이 집계한 자료를 보면 올가을 수도권 캠핑장 예약 가운데 20~30대 명의 예약이 54%를 차지했다."


def scene(narration: str, quote: str, on_screen: str = "") -> Scene:
    return Scene(narration=narration, on_screen_text=on_screen, duration_s=scene_seconds(narration),
                 citations=[Citation(article_id="a1", sentence=1, quote=quote)])


# ---- format ----------------------------------------------------------------------------------

def test_video_refs_need_a_time_range_and_images_cannot_have_one():
    assert MediaRef(media_id="m1", kind="video", start_s=0, end_s=3).end_s == 3
    with pytest.raises(ValidationError, match="needs start_s and end_s"):
        MediaRef(media_id="m1", kind="video")
    with pytest.raises(ValidationError, match="not after"):
        MediaRef(media_id="m1", kind="video", start_s=3, end_s=2)
    with pytest.raises(ValidationError, match="cannot have a time range"):
        MediaRef(media_id="m1", kind="image", start_s=0, end_s=1)


def test_a_scene_needs_words_and_a_citation_that_points_somewhere():
    with pytest.raises(ValidationError, match="narration"):
        Scene(narration="   ", duration_s=2, citations=[Citation(article_id="a1", sentence=0, quote="x")])
    with pytest.raises(ValidationError, match="citations"):
        Scene(narration="Hello.", duration_s=2, citations=[])
    with pytest.raises(ValidationError, match="sentence number or a media id"):
        Citation(article_id="a1", quote="x")


def test_story_cleans_hashtags_and_needs_a_language():
    s = scene("Runners signed up.", EN)
    story = Story(title=" A  title ", hook="Hook", scenes=[s], hashtags=["marathon", "#marathon", "Han River", "#"],
                  lang="en", duration_s=5, article_id="a1", backend="template", model="m")
    assert story.title == "A title"
    assert story.hashtags == ["#marathon", "#HanRiver"]
    with pytest.raises(ValidationError, match="lang"):
        Story(title="t", hook="h", scenes=[s], lang="", duration_s=5, article_id="a1", backend="b", model="m")


# ---- timing ----------------------------------------------------------------------------------

def test_speaking_time_follows_the_documented_rates():
    assert speech_seconds("a" * 140) == pytest.approx(10.0)  # 14 characters a second
    assert speech_seconds("가" * 45) == pytest.approx(10.0)  # 4.5 syllables a second
    # Spaces between Korean words are not syllables; Latin letters inside Korean text still count.
    assert speech_seconds("가가 가가") == pytest.approx(4 / 4.5)
    assert speech_seconds("AI 칩") == pytest.approx(1 / 4.5 + 2 / 14)
    assert scene_seconds("Hi.") == MIN_SCENE_S
    assert scene_seconds(EN) > speech_seconds(EN)


# ---- text helpers ---------------------------------------------------------------------------

def test_korean_particles_are_stripped_and_numbers_normalised():
    assert strip_particle("캠핑장은") == strip_particle("캠핑장이") == "캠핑장"
    assert strip_particle("예약을") == "예약"
    assert strip_particle("marathon") == "marathon"
    assert numbers("40,000 runners, 3.5 km, 54%") == {"40000", "3.5", "54"}


def test_shortening_never_cuts_a_word_and_clauses_end_at_a_break():
    assert shorten("one two three four", 9) == "one two"
    assert shorten("short", 10) == "short"
    text = "The course follows the river, crosses two bridges, and ends in a stadium near the park."
    assert first_clauses(text, 60) == "The course follows the river, crosses two bridges"
    assert first_clauses("x" * 100, 50) is None


# ---- grounding -----------------------------------------------------------------------------

def test_a_copied_or_shortened_sentence_is_supported():
    assert support(EN, [EN]).score == 1.0
    short = "Marathon organisers closed registration early: 40,000 runners signed up."
    assert support(short, [EN]).supported


def test_korean_paraphrase_with_other_particles_is_supported():
    paraphrase = "올가을 수도권 캠핑장 예약은 20~30대가 54%를 차지했다."
    s = support(paraphrase, [KO])
    assert s.supported, s


def test_an_unrelated_claim_is_not_supported():
    s = support("The city council approved new bus lanes after a long debate.", [EN])
    assert not s.supported and s.score < 0.3
    assert not support("서울시의회가 버스전용차로 신설안을 통과시켰다.", [KO]).supported


def test_an_invented_number_makes_a_scene_unsupported_whatever_the_words():
    s = support("Organisers closed registration after 50,000 runners signed up.", [EN])
    assert s.score >= 0.6 and s.missing_numbers == ("50000",) and not s.supported


def test_grade_scores_each_scene_and_the_story():
    good = scene("Registration closed three weeks early after 40,000 runners signed up.", EN)
    bad = scene("Tickets for the concert sold out in a minute.", EN)
    story = Story(title="t", hook="h", scenes=[good, bad], lang="en", duration_s=10, article_id="a1",
                  backend="b", model="m")
    graded = grade(story)
    assert [s.supported for s in graded.scenes] == [True, False]
    assert graded.grounding == 0.5
    assert graded.scenes[0].support == scene_support(good).score


def test_on_screen_text_must_be_supported_too():
    s = scene("Registration closed three weeks early.", EN, on_screen="Free beer for every runner at the finish")
    assert not scene_support(s).supported


def test_best_sources_finds_the_sentences_a_narration_retells():
    sentences = {0: "Seoul Riverside Marathon draws record field", 1: EN,
                 2: "Several roads will be closed from early morning on race day."}
    assert best_sources(["Roads will be closed early on race day."], sentences) == [2]
    # Each claim needs its own source: narration from one sentence, on-screen text from another.
    claims = ["Registration closed three weeks early after 40,000 runners signed up.", "Roads closed on race day"]
    assert sorted(best_sources(claims, sentences)) == [1, 2]
    assert best_sources(["A volcano erupted in Iceland."], sentences) is None
    assert best_sources(["Registration closed after 50,000 runners signed up."], sentences) is None
