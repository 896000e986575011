"""Written sentences made speakable, captions cleaned, and the verbatim share of a narration."""

from __future__ import annotations

import pytest

from trendreel.story.grounding import support
from trendreel.story.source import clean_caption
from trendreel.story.speech import clean, fit_line, formal, headline, key_phrase, past, speech_lines, spoken_ko
from trendreel.story.text import content_words, strip_particle
from trendreel.story.timing import speech_seconds
from trendreel.story.verbatim import copied_chars, verbatim_share

# ---- cleaning --------------------------------------------------------------------------------


@pytest.mark.parametrize("written, said", [
    ("대학원생 정유나(26) 씨는 겨울 캠핑을 좋아한다.", "대학원생 정유나 씨는 겨울 캠핑을 좋아한다."),
    ("(서울=연합뉴스) 홍길동 기자 = 반도체 수출이 늘었다.", "반도체 수출이 늘었다."),
    ("[서울=뉴시스] 반도체 수출이 늘었다. hong@news.example", "반도체 수출이 늘었다."),
    ("SEOUL, Nov. 3 (Reuters) - Chip exports rose 31 percent (the most since 2021) in October.",
     "Chip exports rose 31 percent in October."),
    ("겨울에도 식지 않는 캠핑 열기…2030 '동계 캠핑' 검색량 급증", "겨울에도 식지 않는 캠핑 열기, 2030 '동계 캠핑' 검색량 급증"),
    ("By Jane Doe", ""),
    ("홍길동 기자", ""),
])
def test_cleaning_drops_asides_datelines_and_bylines_and_keeps_numbers(written, said):
    assert clean(written) == said


# ---- Korean spoken endings and clause splits ---------------------------------------------------

@pytest.mark.parametrize("written, said", [
    ("예약이 크게 늘었다.", "예약이 크게 늘었습니다."),
    ("업계는 수요가 이어질 것으로 본다.", "업계는 수요가 이어질 것으로 봅니다."),
    ("예약 경쟁이 치열하다.", "예약 경쟁이 치열합니다."),
    ("이유는 분명하다.", "이유는 분명합니다."),
    ("문턱을 낮춘 것이 장비 대여 서비스다.", "문턱을 낮춘 것이 장비 대여 서비스입니다."),
    ("비중은 27%였다.", "비중은 27%였습니다."),
    ("젊은 세대의 생활 방식이 된 것이다.", "젊은 세대의 생활 방식이 된 것입니다."),
    ("수요는 쉽게 줄지 않는다.", "수요는 쉽게 줄지 않습니다."),
    ('그는 "정말 좋았다."', '그는 "정말 좋았다."'),  # a quotation keeps its words
    ("이미 말씀드렸습니다.", "이미 말씀드렸습니다."),
])
def test_korean_written_endings_become_polite_spoken_ones(written, said):
    assert spoken_ko(written) == said


def test_stems_take_polite_endings_and_the_past_tense():
    assert [formal(s) for s in ("늘었", "크", "늘", "하", "있")] == ["늘었습니다", "큽니다", "늡니다", "합니다", "있습니다"]
    assert [past(s) for s in ("늘", "많", "되", "하", "이어지", "예정이", "있")] == [
        "늘었", "많았", "됐", "했", "이어졌", "예정이었", "있었"]
    assert past("크") is None and past("어렵") is None  # irregular: such clauses are not split


@pytest.mark.parametrize("sentence, lines", [
    # A connective takes the tense of the main clause.
    ("추위에도 캠핑 수요가 이어지면서 동계 캠핑 관련 검색과 예약이 크게 늘었다.",
     ["추위에도 캠핑 수요가 이어졌습니다.", "동계 캠핑 관련 검색과 예약이 크게 늘었습니다."]),
    ("과거 반도체 경기는 스마트폰과 PC 교체 주기에 따라 오르내렸지만, 지금은 데이터센터 투자가 수요를 떠받치고 있다.",
     ["과거 반도체 경기는 스마트폰과 PC 교체 주기에 따라 오르내렸습니다.", "하지만 지금은 데이터센터 투자가 수요를 떠받치고 있습니다."]),
    ("전기 사용이 가능한 사이트를 늘리고, 온수가 나오는 샤워실을 24시간 여는 곳이 많아졌다.",
     ["전기 사용이 가능한 사이트를 늘렸습니다.", "온수가 나오는 샤워실을 24시간 여는 곳이 많아졌습니다."]),
    # What someone said stays whole: its clauses are the report's.
    ("전문가들은 소포장이 음식물 쓰레기를 줄이는 효과가 있지만 포장재 사용이 늘어나는 문제도 함께 살펴야 한다고 지적한다.",
     ["전문가들은 소포장이 음식물 쓰레기를 줄이는 효과가 있지만 포장재 사용이 늘어나는 문제도 함께 살펴야 한다고 지적합니다."]),
    ("소속사는 공식 채널 외 거래로 산 표는 입장이 제한될 수 있다며 주의를 당부했다.",
     ["소속사는 공식 채널 외 거래로 산 표는 입장이 제한될 수 있다며 주의를 당부했습니다."]),
    # "-고," after a noun is no clause joint.
    ("세계 최고, 광고 시장이 올해 들어 유례없이 크게 커졌다.", ["세계 최고, 광고 시장이 올해 들어 유례없이 크게 커졌습니다."]),
])
def test_long_korean_sentences_are_cut_at_clause_joints(sentence, lines):
    assert speech_lines(sentence, "ko") == lines


@pytest.mark.parametrize("sentence, lines", [
    ("Volunteers handed out more than 200,000 cups of water, and medical staff reported fewer cramp cases than "
     "expected, which they credited to the cool conditions.",
     ["Volunteers handed out more than 200,000 cups of water.",
      "Medical staff reported fewer cramp cases than expected, which they credited to the cool conditions."]),
    ("Shipments of cars, steel and chemicals have been flat or falling, and imports of energy remain high.",
     ["Shipments of cars, steel and chemicals have been flat or falling.", "Imports of energy remain high."]),
    # "and of ...", "and that ...": a phrase of the first clause, not a clause of its own.
    ("Garden shops report rising sales of cold-hardy seeds such as spinach, mizuna and winter lettuce, and of "
     "low-power grow lights that clip onto a railing.",
     ["Garden shops report rising sales of cold-hardy seeds such as spinach, mizuna and winter lettuce, and of "
      "low-power grow lights that clip onto a railing."]),
])
def test_long_english_sentences_are_cut_at_clause_joints(sentence, lines):
    assert speech_lines(sentence, "en") == lines


def test_a_long_english_line_loses_its_trailing_aside_to_fit():
    line = "Medical staff reported fewer cramp cases than expected, which they credited to the cool conditions."
    assert speech_seconds(line) > 7.0 and fit_line(line, "en", 8.0) == line
    assert fit_line(line, "en", 7.0) == "Medical staff reported fewer cramp cases than expected."
    assert fit_line("A list of testing, cleaning and packaging suppliers grew fast this year again.", "en", 2.0) is None
    assert fit_line("예약이 크게 늘었습니다.", "ko", 1.0) is None


def test_spoken_lines_are_still_supported_by_their_sentence():
    sentence = "추위에도 캠핑 수요가 이어지면서 동계 캠핑 관련 검색과 예약이 크게 늘었다."
    for line in speech_lines(sentence, "ko"):  # "이어졌" (past, from "이어지면서") keeps two of its three pieces
        assert support(line, [sentence]).score >= 0.85


def test_spoken_and_written_endings_are_the_same_word_for_the_check():
    assert strip_particle("늘었습니다") == strip_particle("늘었다") == "늘었"
    assert strip_particle("합니다") == strip_particle("한다") == "하"
    assert strip_particle("큽니다") == strip_particle("크다") == "크"
    # The closing frame's words are no claim.
    assert content_words("캠핑, 여러분은 어떻게 생각하세요?") == ["캠핑"]
    assert content_words("Camping: what do you think? Tell us in the comments.") == ["camping"]


def test_on_screen_phrases_and_headlines_are_short():
    assert key_phrase("3년 전 비중은 27%였습니다. 업계는 놀랐습니다.", 30) == "3년 전 비중은 27%였습니다"
    long = "Organisers closed registration three weeks early, after 40,000 runners signed up for the race."
    assert key_phrase(long, 48) == "after 40,000 runners signed up for the race"
    assert headline("겨울에도 식지 않는 캠핑 열기…2030 '동계 캠핑' 검색량 급증") == "겨울에도 식지 않는 캠핑 열기"
    assert headline("'하늘의 별 따기' 캠핑장 예약") == "'하늘의 별 따기' 캠핑장 예약"


# ---- captions --------------------------------------------------------------------------------

@pytest.mark.parametrize("caption, cleaned", [
    ("영상: 겨울에도 식지 않는 캠핑 열기", "겨울에도 식지 않는 캠핑 열기"),
    ("사진: 눈 덮인 캠핑장의 텐트들 / 연합뉴스", "눈 덮인 캠핑장의 텐트들"),
    ("[사진] 영상: 무대 디자인", "무대 디자인"),
    ("Photo: Runners at dawn", "Runners at dawn"),
    ("Image: a chart of exports ⓒ 2026 Norae Labs", "a chart of exports"),
    ("Video: A record field", "A record field"),
    ("눈 덮인 캠핑장 (사진=OO캠핑 제공)", "눈 덮인 캠핑장"),
    ("Runners cross the bridge (Reuters)", "Runners cross the bridge"),
    ("Photographers wait outside", "Photographers wait outside"),
    ("사진공모전 수상작", "사진공모전 수상작"),
])
def test_captions_lose_their_labels_and_credits(caption, cleaned):
    assert clean_caption(caption) == cleaned


# ---- verbatim share --------------------------------------------------------------------------

SOURCE_EN = "Organisers closed registration three weeks early after 40,000 runners signed up."
SOURCE_KO = "추위에도 캠핑 수요가 이어지면서 동계 캠핑 관련 검색과 예약이 크게 늘었다."


def test_a_copied_sentence_is_all_verbatim_and_a_paraphrase_is_not():
    assert verbatim_share([SOURCE_EN], [SOURCE_EN]) == 1.0
    assert verbatim_share(["Registration shut three weeks early: 40,000 people had signed up."], [SOURCE_EN]) == 0.0
    # Case and punctuation do not matter; a run of five words does.
    copied, total = copied_chars("Breaking: organisers closed registration three weeks early!", [SOURCE_EN])
    assert copied == len("organisersclosedregistrationthreeweeksearly") and total == copied + len("breaking")
    assert verbatim_share(["Registration closed three weeks early."], [SOURCE_EN]) == 0.0  # four words: not a copy


def test_korean_runs_are_four_words_and_spoken_endings_break_them():
    assert verbatim_share([SOURCE_KO], [SOURCE_KO]) == 1.0
    spoken = speech_lines(SOURCE_KO, "ko")  # "...이어졌습니다." "동계 캠핑 관련 검색과 예약이 크게 늘었습니다."
    share = verbatim_share(spoken, [SOURCE_KO])
    assert 0.3 < share < 1.0
    assert verbatim_share(["올겨울 캠핑 예약이 늘었습니다."], [SOURCE_KO]) == 0.0
    assert verbatim_share([], [SOURCE_KO]) == 0.0
