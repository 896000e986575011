"""Fitting text on the vertical screen: wrapping, shrinking, cutting, cues, ASS/SRT, fonts, ids, layout."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from trendreel.files.layout import video_prefix
from trendreel.ids import video_id
from trendreel.render.fonts import DEBIAN_DEJAVU, drawable, has_glyphs, resolve_font
from trendreel.render.errors import FontUnavailable
from trendreel.render.subtitles import _ass_time, _srt_time, ass_escape
from trendreel.render.phrases import plan_phrases, split_words
from trendreel.render.styles import PRESETS, Layout
from trendreel.render.text import (ELLIPSIS, TextMeasure, fit, headline, speech_weight, strip_labels, wrap,
                                   wrap_balanced, wrap_phrase)


@pytest.fixture(scope="module")
def measure():
    return TextMeasure(resolve_font(None, need_hangul=True))


def test_default_font_is_nanum_gothic_with_hangul():
    font = resolve_font(None, need_hangul=True)
    assert font.family == "NanumGothic"
    assert font.path.name == "NanumGothic.ttf"
    assert font.bold_path is not None and font.bold_path.name == "NanumGothicBold.ttf"
    assert has_glyphs(font.path, "가나다 한글 ABC")


def test_a_font_without_hangul_is_refused_for_a_korean_story():
    if not DEBIAN_DEJAVU.is_file():
        pytest.skip("DejaVu Sans is not installed")
    assert not has_glyphs(DEBIAN_DEJAVU, "가")
    with pytest.raises(FontUnavailable, match="no Hangul"):
        resolve_font(DEBIAN_DEJAVU, need_hangul=True)
    assert resolve_font(DEBIAN_DEJAVU, need_hangul=False).family == "DejaVu Sans"


def test_missing_font_file_is_a_clear_error(tmp_path):
    with pytest.raises(FontUnavailable, match="does not exist"):
        resolve_font(tmp_path / "nope.ttf")


def test_characters_the_font_lacks_are_dropped_not_drawn_as_boxes():
    font = resolve_font(None, need_hangul=True)
    assert drawable("러닝 🏃 열풍", font) == "러닝  열풍"
    assert drawable("plain text", font) == "plain text"


def test_wrap_keeps_words_whole_and_fits_the_width(measure):
    text = "요즘 이삼십대는 주말 아침마다 한강에서 달립니다"
    lines = wrap(text, measure, 80, 500)
    assert len(lines) > 1
    assert " ".join(lines) == text
    assert all(measure.width(line, 80) <= 500 for line in lines)


def test_balanced_wrap_leaves_no_lone_word(measure):
    text = "Experts expect the trend to last."
    greedy = wrap(text, measure, 80, 900)
    balanced = wrap_balanced(text, measure, 80, 900)
    assert len(balanced) == len(greedy) == 2
    widths = [measure.width(line, 80) for line in balanced]
    assert max(widths) - min(widths) < measure.width(greedy[0], 80) - measure.width(greedy[1], 80)


def test_a_word_longer_than_a_line_is_broken(measure):
    lines = wrap("https://example.com/" + "x" * 120, measure, 80, 600)
    assert len(lines) > 2
    assert all(measure.width(line, 80) <= 600 for line in lines)


def test_fit_shrinks_before_cutting(measure):
    text = "서울 러닝 크루가 일 년 새 두 배로 늘었다"
    fitted = fit(text, measure, size=120, min_size=60, max_width=1100, max_lines=1)
    assert fitted.shrunk and not fitted.truncated
    assert fitted.size < 120 and len(fitted.lines) == 1


def test_fit_cuts_with_an_ellipsis_at_the_smallest_size(measure):
    fitted = fit("word " * 200, measure, size=90, min_size=54, max_width=800, max_lines=3)
    assert fitted.truncated and fitted.size == 54
    assert len(fitted.lines) == 3 and fitted.lines[-1].endswith(ELLIPSIS)
    assert all(measure.width(line, 54) <= 800 for line in fitted.lines)


def test_fit_of_short_text_changes_nothing(measure):
    fitted = fit("  Here   to stay ", measure, size=90, min_size=54, max_width=800, max_lines=3)
    assert fitted.lines == ("Here to stay",) and fitted.size == 90 and not (fitted.shrunk or fitted.truncated)


def _estimate(text: str) -> float:
    return speech_weight(text) / 13.0


def test_phrases_break_at_sentences_and_clauses_and_stay_short(measure):
    text = ("People in their twenties now run along the river every weekend, before work and after dinner. "
            "Experts expect the trend to last.")

    def fits(t: str) -> bool:
        return len(wrap_balanced(t, measure, 77, 780)) <= 2

    phrases = plan_phrases(text, estimate=_estimate, fits=fits, max_s=2.4)
    said = [p for p, _ in phrases]
    assert " ".join(said) == " ".join(text.split())  # every word, in order, none split
    assert all(_estimate(p) <= 2.4 and fits(p) for p in said)
    assert said[-1] == "Experts expect the trend to last." and phrases[-1][1] == "sentence"
    assert "before work and after dinner." in said  # the clause after the comma is its own phrase
    assert [k for _, k in phrases].count("sentence") == 2
    # a long clause is split where it reads well: before a conjunction, never after "the"
    pieces = split_words("Running crews are growing all over the city and the cafes open early", 2)
    assert pieces == ["Running crews are growing all over the city", "and the cafes open early"]
    assert not any(p.split()[-1] in ("the", "a", "of") for p in split_words("the end of the long road to the sea", 3))
    # nothing to say on its own (an emoji, an ellipsis): joined to the phrase before
    assert [p for p, _ in plan_phrases("Wow! 🎉 This is great. …", estimate=_estimate, fits=fits)] == [
        "Wow!", "🎉 This is great. …"]


def test_korean_phrases_break_after_endings_and_particles(measure):
    text = "러닝 크루가 서울 곳곳에서 빠르게 늘고 있고, 카페들도 아침 일찍 문을 엽니다."
    phrases = [p for p, _ in plan_phrases(text, estimate=_estimate, fits=lambda t: True, max_s=2.4)]
    assert " ".join(phrases) == text and len(phrases) >= 3
    assert all(_estimate(p) <= 2.4 for p in phrases)
    assert all(p.split()[-1][-1] in "가서고,도다." for p in phrases[:-1]), phrases


def test_a_cue_line_does_not_end_on_a_small_word(measure):
    lay = Layout(1080, 1920, PRESETS["bold"])
    lines = wrap_phrase("Cafes open early to catch the runners.", measure, lay.sub_size, lay.text_width())
    assert lines == ["Cafes open early", "to catch the runners."]
    assert all(measure.width(line, lay.sub_size) <= lay.text_width() for line in lines)


def test_caption_labels_never_reach_the_screen():
    assert strip_labels("영상: 한강에서 달리는 시민들") == "한강에서 달리는 시민들"
    assert strip_labels("[사진] 영상: 시민들이 달린다 ⓒ 연합뉴스") == "시민들이 달린다"
    assert strip_labels("Photo: A runner at dawn. Image: the river") == "A runner at dawn. the river"
    assert strip_labels("Video shows a cat") == "Video shows a cat"  # a word, not a label


def test_headline_is_the_title_shortened_to_two_lines(measure):
    lay = Layout(1080, 1920, PRESETS["bold"])
    short = headline("한강 러닝 열풍", measure, size=lay.headline_size, max_width=lay.text_width())
    assert short.lines == ("한강 러닝 열풍",) and short.size == lay.headline_size
    long = headline("Running crews take over the river: why people in their twenties now run every weekend - Daily News",
                    measure, size=lay.headline_size, max_width=lay.text_width())
    assert long.lines == ("Running crews", "take over the river")  # up to the colon, without the source
    ko = headline("서울 한강공원 러닝 크루 급증… 주말 아침마다 수천 명이 함께 달리는 이유는 무엇일까", measure,
                  size=lay.headline_size, max_width=lay.text_width())
    assert ko.lines == ("서울 한강공원", "러닝 크루 급증")
    cut = headline("A very long title without any break that keeps going on and on about running crews in the city",
                   measure, size=lay.headline_size, max_width=lay.text_width())
    assert len(cut.lines) == 2 and cut.lines[-1].endswith(ELLIPSIS) and cut.size < lay.headline_size


def test_sizes_follow_the_frame_shape():
    tall, square, wide = (Layout(w, h, PRESETS["bold"]) for w, h in ((1080, 1920), (1080, 1080), (1920, 1080)))
    assert tall.sub_size == round(1080 * 0.075) and square.sub_size == wide.sub_size < tall.sub_size
    assert Layout(540, 960, PRESETS["bold"]).sub_size == round(tall.sub_size / 2)
    assert tall.sub_margin_v == round(1920 * 0.2) and wide.sub_margin_v < wide.height * 0.1
    assert PRESETS["minimal"].size < PRESETS["bold"].size and PRESETS["karaoke"].highlight


def test_speech_weight_counts_hangul_as_syllables():
    assert speech_weight("가나다") > speech_weight("abc") * 2


def test_ass_and_srt_times_and_escaping():
    assert _ass_time(3723.456) == "1:02:03.46"
    assert _srt_time(3723.456) == "01:02:03,456"
    assert "{" not in ass_escape("a {\\b1} b") and "\\" not in ass_escape("a {\\b1} b")


def test_video_id_is_stable_and_depends_on_every_part():
    a = video_id("s1", "compositor", "k1")
    assert a == video_id("s1", "compositor", "k1") and a.startswith("v") and len(a) == 24
    assert len({a, video_id("s2", "compositor", "k1"), video_id("s1", "gpu", "k1"), video_id("s1", "compositor", "k2")}) == 4


def test_video_prefix_is_by_utc_day():
    when = datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc)
    assert video_prefix("vabc", when) == "videos/2026/11/24/vabc/"
    with pytest.raises(ValueError):
        video_prefix("../x", when)


def test_render_settings_validate(tmp_path: Path):
    from trendreel.settings import RenderSettings, Settings

    assert Settings(home=tmp_path).render.width == 1080
    with pytest.raises(ValueError, match="even"):
        RenderSettings(width=1081)
    with pytest.raises(ValueError, match="speech engine of 'ko' 'festival' is not known; known: espeak-ng, modelserver, openai, piper"):
        RenderSettings(voices={"ko": "festival:ko"})
    with pytest.raises(ValueError, match="ENGINE:VOICE"):
        RenderSettings(voices={"ko": "espeak-ng"})
