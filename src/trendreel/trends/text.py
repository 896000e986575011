"""The one-line trend text, written offline from the group's own words.

Only three things go into a line: the group's key phrases, the age group its items mention (when
enough of them do), and whether it is rising, which the detector measured (burst). A template per
language puts them together; a language without a template gets the key phrases and the most
central item's title. Nothing else is added, so a line never says what the items do not.

    ko: 20~30대 사이에서 캠핑·차박 관심 급증
    en: Camping and car camping on the rise among people in their 20s and 30s
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


def trend_line(*, lang: str, phrases: Sequence[str], ages: tuple[int, int] | None, burst: float,
               central_title: str) -> str:
    """One line for a trend in `lang` (templates for ko and en; others: phrases + title)."""
    rising = burst >= RISING_BURST
    title = short_title(central_title)
    if lang == "ko":
        return _korean(phrases, ages, rising, title)
    if lang == "en":
        return _english(phrases, ages, rising, title)
    shown = " · ".join(phrases[:3])
    return f"{shown} — {title}" if shown and title else (shown or title)


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
    """The title's first part (before …, |, " - ", ": ") without quotes, cut at a word near 60 chars."""
    title = " ".join((title or "").split())
    first = _TITLE_CUT.split(title, maxsplit=1)[0]
    if len(first) >= 8:
        title = first
    title = title.strip(_QUOTES + " ")
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
