"""Word-level helpers shared by the grounding check and the template writer (Korean and English)."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_CJK = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")

# Function words carry no claim; a narration is judged by its content words.
STOPWORDS = set("""the a an and or but of to in on at for with by from as is are was were be been being it its this that these
those he she they we you i his her their our your not no so if then than there here have has had do does did will would
can could should may might must also just more most said says about after before over into out up down one all
""".split()) | {"그", "이", "저", "것", "수", "등", "및", "또", "더", "그리고", "하지만", "있다", "했다", "한다", "된다",
                "밝혔다", "말했다", "위해", "통해", "이번", "지난", "한", "그는", "그녀는"}

# Korean particles and common endings attach to the word before them ("캠핑장은", "캠핑장이"):
# stripped, so that the same word with another particle still counts as the same word.
_PARTICLES = sorted("""은 는 이 가 을 를 의 에 에서 에게 께 께서 한테 으로 로 와 과 도 만 까지 부터 처럼 보다 마다 조차 라도
이나 나 이며 며 이고 고 이라 라 이란 란 이다 입니다 였다 이었다 으로는 로는 에는 에서는 에도 와는 과는 들은 들이 들을 들의 들""".split(),
                    key=len, reverse=True)


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def has_hangul(text: str) -> bool:
    return bool(_HANGUL.search(text))


def is_syllabic(word: str) -> bool:
    """Hangul, kana or Han: scripts where two characters already make a meaningful piece."""
    return bool(_CJK.search(word))


def strip_particle(word: str) -> str:
    """'캠핑장은' -> '캠핑장'; words of other scripts, and words that are only a particle, stay as they are."""
    if not is_syllabic(word):
        return word
    for p in _PARTICLES:
        if word.endswith(p) and len(word) - len(p) >= 2:
            return word[: -len(p)]
    return word


def words(text: str) -> list[str]:
    """Lower-cased words, Korean particles stripped."""
    return [strip_particle(w) for w in _WORD.findall(normalize(text))]


def content_words(text: str) -> list[str]:
    """Words that carry meaning: no function words, no single letters, no bare numbers."""
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1 and not w.isdigit()]


def numbers(text: str) -> set[str]:
    """Numbers as written, thousands separators dropped: '40,000' and '40000' are the same number."""
    out = set()
    for n in _NUMBER.findall(normalize(text)):
        # 1,234 groups are thousands; 3.5 and 3,5 are decimals.
        n = n.replace(",", "") if re.fullmatch(r"\d{1,3}(?:,\d{3})+", n) else n.replace(",", ".")
        out.add(n)
    return out


def shorten(text: str, max_chars: int) -> str:
    """The text, or its start cut at a word boundary (never mid-word), at most max_chars long."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars + 1].rsplit(" ", 1)[0] if " " in text[:max_chars] else text[:max_chars]
    return cut.rstrip(",;:·…-—– ")


_CLAUSE_END = re.compile(r"[,;:…—–]\s|\s[-–—]\s")


def first_clauses(text: str, max_chars: int) -> str | None:
    """The text when short enough, else its longest start that ends at a clause break (a comma, a
    semicolon, a dash), or None when no break leaves at least a third of max_chars."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    breaks = [m.start() for m in _CLAUSE_END.finditer(text[: max_chars + 1]) if m.start() >= max_chars // 3]
    return text[: breaks[-1]].rstrip() if breaks else None
