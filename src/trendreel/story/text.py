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

# Lines a writer may say around the facts (a closing question, a pointer to what comes next). Their
# words carry no claim, so the grounding check does not ask the sources for them.
# Per language: a question to the viewer, what to watch next (both about a topic), and a question
# without a topic for when no short topic is backed by the item.
SPOKEN_FRAMES = {
    "ko": ("{topic}, 여러분은 어떻게 생각하세요?", "{topic}, 앞으로 어떻게 될지 지켜봐야겠습니다.",
           "여러분은 어떻게 생각하세요? 댓글로 알려 주세요."),
    "en": ("{topic}: what do you think? Tell us in the comments.", "{topic}: keep an eye on what happens next.",
           "What do you think? Tell us in the comments."),
}
ON_SCREEN_FRAMES = {"ko": "여러분의 생각은?", "en": "What do you think?"}

# Korean particles and common endings attach to the word before them ("캠핑장은", "캠핑장이"):
# stripped, so that the same word with another particle still counts as the same word.
_PARTICLES = sorted("""은 는 이 가 을 를 의 에 에서 에게 께 께서 한테 으로 로 와 과 도 만 까지 부터 처럼 보다 마다 조차 라도
이나 나 이며 며 이고 고 이라 라 이란 란 이다 입니다 였다 이었다 였습니다 이었습니다 으로는 로는 에는 에서는 에도 와는 과는 들은 들이 들을 들의 들""".split(),
                    key=len, reverse=True)


# Hangul syllables are composed as 0xAC00 + (initial * 21 + vowel) * 28 + final.
_SYLLABLE_BASE, _SYLLABLE_LAST = 0xAC00, 0xD7A3
FINAL_NONE, FINAL_N, FINAL_L, FINAL_B = 0, 4, 8, 17


def hangul_final(ch: str) -> int | None:
    """The final consonant index of a Hangul syllable (0 = none), None for other characters."""
    code = ord(ch)
    return (code - _SYLLABLE_BASE) % 28 if _SYLLABLE_BASE <= code <= _SYLLABLE_LAST else None


def with_final(ch: str, final: int) -> str:
    """The Hangul syllable `ch` with its final consonant replaced."""
    code = ord(ch)
    return chr(code - (code - _SYLLABLE_BASE) % 28 + final)


def _plain_stem(word: str) -> str:
    """A Korean predicate without its sentence ending, so that the written and the spoken form match:
    '늘었다' and '늘었습니다' -> '늘었', '한다' and '합니다' -> '하', '크다' and '큽니다' -> '크'."""
    if len(word) > 3 and word.endswith("습니다"):
        return word[:-3]
    if len(word) > 2 and word.endswith("니다") and hangul_final(word[-3]) == FINAL_B:
        return word[:-3] + with_final(word[-3], FINAL_NONE)
    if len(word) > 2 and word.endswith("는다"):
        return word[:-2]
    if len(word) > 1 and word.endswith("다"):
        if hangul_final(word[-2]) == FINAL_N:  # 한다, 된다, 늘어난다: the ㄴ is the ending's
            return word[:-2] + with_final(word[-2], FINAL_NONE)
        return word[:-1]
    return word


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
    return _plain_stem(word)


def _frame_words() -> set[str]:
    out: set[str] = set()
    for lines in (*SPOKEN_FRAMES.values(), tuple(ON_SCREEN_FRAMES.values())):
        for line in lines:
            out |= {strip_particle(w) for w in _WORD.findall(normalize(line.replace("{topic}", "")))}
    return out


def words(text: str) -> list[str]:
    """Lower-cased words, Korean particles stripped."""
    return [strip_particle(w) for w in _WORD.findall(normalize(text))]


# Stop words as they look after stripping ('밝혔다' -> '밝혔'), and the words of the spoken frames.
_STOPPED = STOPWORDS | {strip_particle(w) for w in STOPWORDS} | _frame_words()


def content_words(text: str) -> list[str]:
    """Words that carry meaning: no function words, no single letters, no bare numbers."""
    return [w for w in words(text) if w not in _STOPPED and len(w) > 1 and not w.isdigit()]


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
