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
from trendreel.render.text import ELLIPSIS, TextMeasure, fit, speech_weight, split_cues, wrap, wrap_balanced


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


def test_cues_break_at_sentences_and_hold_at_most_two_lines(measure):
    text = ("People in their twenties now run along the river every weekend, before work and after dinner. "
            "Experts expect the trend to last.")
    cues = split_cues(text, measure, size=77, max_width=780)
    assert len(cues) >= 3
    assert all(1 <= len(c) <= 2 for c in cues)
    assert " ".join(" ".join(c) for c in cues) == " ".join(text.split())
    assert cues[-1] == ("Experts expect", "the trend to last.")


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
    with pytest.raises(ValueError, match="speech engine of 'ko' 'festival' is not known; known: espeak-ng, openai, piper"):
        RenderSettings(voices={"ko": "festival:ko"})
    with pytest.raises(ValueError, match="ENGINE:VOICE"):
        RenderSettings(voices={"ko": "espeak-ng"})
