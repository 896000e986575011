"""The one-line trend text, written offline from the group's own words.

A line reads like a headline a person would say: the most central item's title, shortened at its
first break (…, |, " - ", ": ") or at a word near 60 characters, with bracket tags such as [속보]
and a trailing outlet name removed. When the items share an age group (enough of them mention it),
the line says so first, as the product's trend texts promise ("people in their 20s-30s ..."). Items
without a usable title fall back to the key phrases and whether the group is rising (the detector
measured it). Nothing else is added, so a line never says what the items do not.

    ko: 20~30대 사이에서 화제: 겨울에도 식지 않는 캠핑 열기
    en: Chip exports hit a record as AI demand grows
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# burst at or above this reads as "rising" (more items than the earlier windows' mean + 1, by a
# quarter); below it the topic is "in the news".
RISING_BURST = 1.25
MAX_TITLE_CHARS = 60
_TITLE_CUT = re.compile(r"\s*(?:…|\.\.\.|\s\|\s|\s-\s|\s–\s|:\s)\s*")
_QUOTES = "'\"‘’“”「」『』"
# "[속보]", "(종합)", "【단독】" at the start or end of a headline: desk tags, not words a person says.
_TAGS = re.compile(r"^\s*(?:[\[【(〔][^\]】)〕]{1,12}[\]】)〕]\s*)+|(?:\s*[\[【(〔][^\]】)〕]{1,12}[\]】)〕])+\s*$")
MIN_HEADLINE_CHARS = 8  # shorter "titles" (a derived one-word title, a tag) say too little


def trend_line(*, lang: str, phrases: Sequence[str], ages: tuple[int, int] | None, burst: float,
               central_title: str) -> str:
    """One line for a trend in `lang`: the central headline, else a key-phrase line."""
    rising = burst >= RISING_BURST
    headline = short_title(_TAGS.sub("", central_title or ""))
    if len(headline) >= MIN_HEADLINE_CHARS or (headline and not phrases):
        return _with_ages(lang, _capital(headline), ages)
    if lang == "ko":
        return _korean(phrases, ages, rising, headline)
    if lang == "en":
        return _english(phrases, ages, rising, headline)
    shown = " · ".join(phrases[:3])
    return f"{shown} — {headline}" if shown and headline else (shown or headline)


def _with_ages(lang: str, headline: str, ages: tuple[int, int] | None) -> str:
    if not ages:
        return headline
    if lang == "ko":
        return f"{_korean_ages(ages)} 사이에서 화제: {headline}"
    if lang == "en":
        return f"Talked about by {_english_ages(ages)}: {headline}"
    return headline


def _korean(phrases: Sequence[str], ages: tuple[int, int] | None, rising: bool, title: str) -> str:
    state = "관심 급증" if rising else "꾸준한 관심"
    who = f"{_korean_ages(ages)} 사이에서 " if ages else ""
    topic = "·".join(phrases[:2])
    if not topic:
        return f"{who}{state}: {title}" if title else f"{who}{state}"
    line = f"{who}{topic} {state}"
    # One phrase says little on its own: the central title tells what it is about.
    return f"{line}: {title}" if len(phrases) < 2 and title else line


def _english(phrases: Sequence[str], ages: tuple[int, int] | None, rising: bool, title: str) -> str:
    state = "on the rise" if rising else "in the news"
    who = f" among {_english_ages(ages)}" if ages else ""
    topic = " and ".join(phrases[:2])
    if not topic:
        return f"{_capital(state)}{who}: {title}" if title else f"{_capital(state)}{who}"
    line = f"{_capital(topic)} {state}{who}"
    return f"{line}: {title}" if len(phrases) < 2 and title else line


def _korean_ages(ages: tuple[int, int]) -> str:
    lo, hi = ages
    return f"{lo}대" if lo == hi else f"{lo}~{hi}대"


def _english_ages(ages: tuple[int, int]) -> str:
    lo, hi = ages
    if lo == hi:
        return f"people in their {lo}s"
    decades = [f"{d}s" for d in range(lo, hi + 1, 10)]
    return "people in their " + (" and ".join(decades) if len(decades) == 2 else f"{decades[0]} to {decades[-1]}")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def short_title(title: str) -> str:
    """The title's first part (before …, |, " - ", ": ") without quotes; a long one is cut where a
    clause begins (" as ", " after ", ", " …) near 60 characters, else at a word with "…"."""
    title = " ".join((title or "").split())
    first = _TITLE_CUT.split(title, maxsplit=1)[0]
    if len(first) >= 8:
        title = first
    title = title.strip(_QUOTES + " ")
    if len(title) <= MAX_TITLE_CHARS:
        return title
    head = title[: MAX_TITLE_CHARS + 1]
    clauses = [m.start() for m in _CLAUSE.finditer(head) if m.start() >= MIN_CLAUSE_CHARS]
    if clauses:
        return title[: clauses[-1]].rstrip(",;: ")
    cut = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


# Where a headline's second clause begins: what comes before it can be said on its own.
_CLAUSE = re.compile(r",\s|\s(?:as|after|while|amid|with|despite|because|but|and then|following|ahead of)\s"
                     r"|\s(?:—|–)\s|(?<=[다요])\s")
MIN_CLAUSE_CHARS = 25
