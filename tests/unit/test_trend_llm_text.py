"""Checks on a language model's trend line: language, length, and nothing the headlines do not say."""

from __future__ import annotations

import json

import pytest

from trendreel.trends.llm_text import TrendBriefing, judge, user_prompt

KO = TrendBriefing(lang="ko", key_phrases=["캠핑", "텐트"], rising=True, offline_text="20~30대 사이에서 캠핑·텐트 관심 급증",
                   titles=["겨울에도 식지 않는 캠핑 열기…2030 '동계 캠핑' 검색량 급증",
                           "주말 캠핑장 예약 '하늘의 별 따기'…2030 이용객 두 배로"])
EN = TrendBriefing(lang="en", key_phrases=["chip exports", "semiconductor"], rising=False, offline_text="Chip exports in the news",
                   titles=["Chip shipments lift exports to a four-year high",
                           "Semiconductor exports surge toward a record year as AI demand grows"])


def answer(text: str) -> str:
    return json.dumps({"text": text}, ensure_ascii=False)


@pytest.mark.parametrize("brief, line", [
    (KO, "2030 동계 캠핑 열기, 캠핑장 예약 두 배로"),
    (EN, "Semiconductor exports surge to a record year"),
])
def test_a_line_in_the_headlines_own_words_and_language_passes(brief, line):
    assert judge(answer(line), brief, threshold=0.6) == (line, [])
    assert judge(f"```json\n{answer(line)}\n```", brief, threshold=0.6) == (line, [])


@pytest.mark.parametrize("brief, content, problem", [
    (KO, answer("Winter camping is booming among people in their 20s and 30s"), "must be in Korean"),
    (EN, answer("반도체 수출 사상 최대"), "must be in English"),
    (KO, answer("캠핑장 예약 다섯 배로 2030 캠핑 열기 50% 급증"), "numbers are not in the headlines: 50"),
    (EN, answer("Smartphone makers announce foldable tablets for students"), "headlines' own words"),
    (EN, answer("Chip exports " * 10), "characters; at most 90"),
    (EN, "Chip exports are up", "not a JSON object"),
    (EN, json.dumps({"line": "Chip exports"}), 'non-empty "text"'),
])
def test_a_line_that_says_more_than_the_headlines_or_in_another_language_is_refused(brief, content, problem):
    line, problems = judge(content, brief, threshold=0.6)
    assert line is None
    assert any(problem in p for p in problems), problems


def test_the_prompt_gives_language_phrases_headlines_and_the_plain_line():
    prompt = user_prompt(KO)
    assert "Language: Korean" in prompt and "캠핑, 텐트" in prompt and "Rising: yes" in prompt
    assert KO.titles[0] in prompt and KO.offline_text in prompt
