"""Written news sentences made into lines a voice can say: clean, short, with spoken endings.

- clean: parentheses and brackets (ages, credits, asides), datelines ("서울=연합뉴스", "SEOUL (Reuters) -"),
  bylines and e-mail addresses are dropped; an ellipsis between phrases becomes a comma;
- split: a sentence longer than a short line is cut at clause joints whose first half can stand
  alone: Korean connective endings (-고, / -며 / -면서 / -지만) become sentence endings, English at
  "; " and ", and / but / so " when both halves are clauses of five words or more;
- trim: an English line still too long loses a trailing aside (", which ...", ", as ...",
  ", holding ..."): the main clause, which is what the source asserts, stays;
- spoken endings: the Korean written ending (-다) becomes the polite -ㅂ니다 / -습니다 a narrator uses.
Numbers are never touched, so every figure said is the figure written.
"""

from __future__ import annotations

import re

from trendreel.story.text import FINAL_B, FINAL_L, FINAL_N, FINAL_NONE, hangul_final, shorten, with_final
from trendreel.story.timing import speech_seconds

_FINAL_SS = 20  # ㅆ: a past or future tense (늘었고, 했고, 하겠고)

# Lines longer than this are split at clause joints (a short line is said in one breath).
SPLIT_OVER_S = 4.5
_MIN_CLAUSE_SYLLABLES = 6
_MIN_CLAUSE_WORDS = 5

_BRACKETED = re.compile(r"\s*[(\[（【][^()\[\]（）【】]{0,60}[)\]）】]")
_KO_BYLINE = re.compile(r"^\s*[가-힣]{2,4}\s*(?:기자|특파원|통신원)\s*(?:=\s*)?")
_KO_BYLINE_ONLY = re.compile(r"^\s*(?:글|사진|영상)?\s*[가-힣]{2,4}\s*(?:기자|특파원|통신원)\s*$")
_EN_DATELINE = re.compile(r"^[A-Z]{2,}[A-Z .'-]*(?:,\s*[A-Z][a-z]{2,9}\.?\s+\d{1,2})?\s*(?:\([^)]*\))?\s*[-–—]+\s+")
_EN_BYLINE_ONLY = re.compile(r"^\s*(?:By|Reporting by|Writing by|Editing by|Additional reporting by)\s+[A-Z].*$")
_EMAIL = re.compile(r"\s*\S+@\S+\.[A-Za-z]{2,}")
_ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.)\s*")
_BULLETS = re.compile(r"[▶■□◆◇●○▲△▷※]+\s*")
_DOUBLE_QUOTES = '"“”'

# Trailing asides an English line can lose: subordinate clauses and participle phrases after a comma.
# (A general "-ing" would also cut lists: "suppliers of testing, cleaning and packaging equipment".)
_EN_ASIDE = re.compile(r",\s+(?:which|who|whose|as|while|since|when|after|before|although|though|because|where|"
                       r"including|with|according to|amid|despite|holding|saying|adding|citing)\b")
_EN_JOINT = re.compile(r"(?:;\s+|,\s+(and|but|so)\s+)")
# After "and" these words start a phrase of the first clause ("…, and of grow lights", "…, and that …"), not a clause.
_EN_NOT_CLAUSE_START = set("""of that which who whom whose to in on at for with by from as if whether than about into over
under after before between because since when where while""".split())


def clean(sentence: str) -> str:
    """The sentence without asides a listener does not need (see the module docstring)."""
    text = _BULLETS.sub("", sentence)
    text = _EMAIL.sub("", text)
    text = _BRACKETED.sub("", text)
    text = _EN_DATELINE.sub("", text)
    text = _KO_BYLINE.sub("", text)
    if _KO_BYLINE_ONLY.match(text) or _EN_BYLINE_ONLY.match(text):
        return ""
    # "열기…2030" reads as a pause, not as a trailing-off.
    text = _ELLIPSIS.sub(", ", text).strip(" ,")
    text = re.sub(r"\s+([,.!?])", r"\1", " ".join(text.split()))
    return text


def formal(stem: str) -> str:
    """A Korean predicate stem with the polite spoken ending: 늘었 -> 늘었습니다, 크 -> 큽니다, 늘 -> 늡니다."""
    final = hangul_final(stem[-1]) if stem else None
    if final is None:
        return stem + "입니다"
    if final in (FINAL_NONE, FINAL_L):
        return stem[:-1] + with_final(stem[-1], FINAL_B) + "니다"
    return stem + "습니다"


_VOWEL_A, _VOWEL_AE, _VOWEL_EO, _VOWEL_O, _VOWEL_WA, _VOWEL_OE, _VOWEL_WAE = 0, 1, 4, 8, 9, 11, 10
_VOWEL_U, _VOWEL_WO, _VOWEL_YEO, _VOWEL_I = 13, 14, 6, 20
# A vowel-final stem takes the past tense by contracting its vowel: 가 -> 갔, 보 -> 봤, 리 -> 렸, 되 -> 됐.
_PAST_VOWEL = {_VOWEL_A: _VOWEL_A, _VOWEL_AE: _VOWEL_AE, _VOWEL_EO: _VOWEL_EO, _VOWEL_O: _VOWEL_WA,
               _VOWEL_U: _VOWEL_WO, _VOWEL_OE: _VOWEL_WAE, _VOWEL_I: _VOWEL_YEO}


def _vowel(ch: str) -> int:
    return (ord(ch) - 0xAC00) // 28 % 21


def _compose(ch: str, vowel: int, final: int) -> str:
    initial = (ord(ch) - 0xAC00) // 28 // 21
    return chr(0xAC00 + (initial * 21 + vowel) * 28 + final)


def past(stem: str) -> str | None:
    """The stem in the past tense (늘 -> 늘었, 많 -> 많았, 되 -> 됐, 하 -> 했, 예정이 -> 예정이었), or None
    for the irregular stems this does not know (크, 어렵, 듣): those clauses are not split."""
    last = stem[-1:]
    final = hangul_final(last) if last else None
    if last == "있":
        return stem + "었"
    if final is None or final == _FINAL_SS:
        return stem if final == _FINAL_SS else None
    if last == "하":
        return stem[:-1] + "했"
    if last == "이" and len(stem) > 1:
        return stem + "었"  # the copula: 예정이었다
    if final == FINAL_NONE:
        vowel = _PAST_VOWEL.get(_vowel(last))
        return None if vowel is None else stem[:-1] + _compose(last, vowel, _FINAL_SS)
    if final in (FINAL_B, 7, 19):  # ㅂ, ㄷ, ㅅ stems are often irregular (어렵다, 듣다, 낫다)
        return None
    return stem + ("았" if _vowel(last) in (_VOWEL_A, _VOWEL_O) else "었")


_KO_END = re.compile(r"(\S*?)다(?=[.!?]?\s*$)")
# A vowel-final stem before a bare "다" is an adjective (크다, 바쁘다, 분명하다) or a noun with the copula
# (서비스다, 과제다): these last syllables are the adjectives' (and 이다, 아니다).
_KO_VOWEL_ADJECTIVE_END = set("하이니쁘프르크싸짜리")


def spoken_ko(sentence: str) -> str:
    """The sentence with its written ending (-다) made polite; direct quotes and other endings stay."""
    m = _KO_END.search(sentence)
    if not m or not m.group(1):
        return sentence
    word = m.group(1) + "다"
    end = sentence[m.end():].strip()
    if word.endswith("니다") or any(q in word for q in _DOUBLE_QUOTES):
        return sentence  # already spoken, or the end of a quotation
    if word.endswith("는다") and len(word) > 2:
        said = formal(word[:-2])
    elif hangul_final(word[-2]) == FINAL_N:  # 한다, 늘어난다, 보인다: the ㄴ belongs to the ending
        said = formal(word[:-2] + with_final(word[-2], FINAL_NONE))
    elif hangul_final(word[-2]) == FINAL_NONE and word[-2] not in _KO_VOWEL_ADJECTIVE_END:
        said = word[:-1] + "입니다"  # a noun with the copula: 서비스다 -> 서비스입니다, 과제다 -> 과제입니다
    else:
        said = formal(word[:-1])
    return sentence[: m.start()] + said + (end if end in ("!", "?") else ".")


def _inside_quote(text: str, pos: int) -> bool:
    return sum(text[:pos].count(q) for q in _DOUBLE_QUOTES) % 2 == 1


# Connective endings that close a clause, longest first, with whether a comma must follow.
_KO_CONNECTIVES = (("으면서", False), ("면서", False), ("으며", False), ("며", False), ("지만", False), ("고", True))
# Quotative endings ("~다며", "~라고") report what someone said; they do not close a clause of the story.
_KO_NOT_CONNECTIVE = ("다고", "라고", "냐고", "자고", "다며", "라며", "자며", "냐며", "다면서", "라면서", "말고", "하지만",
                      "그러며", "그러면서", "그러고")
# "-고," also ends nouns (최고, 광고, 창고): split there only after a predicate's last syllable.
_KO_PREDICATE_END = set("하되지있없않많적크나이르리기주보가내들늘높낮좋같싶렵럽롭답겁")


def _ko_joints(text: str) -> list[tuple[int, int, str]]:
    """(end of the first clause's stem, start of the next clause, the connective) for each joint."""
    out = []
    for m in re.finditer(r"(\S+?)(,?)(?=\s)", text):
        word, comma = m.group(1), m.group(2)
        if _inside_quote(text, m.start()) or word.endswith(_KO_NOT_CONNECTIVE) or word[-1:] in _DOUBLE_QUOTES:
            continue
        for ending, needs_comma in _KO_CONNECTIVES:
            if word.endswith(ending) and len(word) > len(ending) and (comma or not needs_comma):
                before = word[-len(ending) - 1]
                if hangul_final(before) is None or (
                        ending == "고" and hangul_final(before) != _FINAL_SS and before not in _KO_PREDICATE_END):
                    break
                out.append((m.start(1) + len(word) - len(ending), m.end(), ending))
                break
    return out


def _syllables(text: str) -> int:
    return sum(hangul_final(c) is not None for c in text)


# "...할 예정이며 ...하겠다고 밝혔다": what was said keeps its own tense; only "밝혔다" is past.
_KO_REPORTED = re.compile(r"(?:[다라자냐]고|[\"”]\s*고)\s+\S+다[.!?]?\s*$")


def _ends_in_past(text: str) -> bool:
    m = _KO_END.search(text)
    past_end = bool(m and m.group(1) and hangul_final(m.group(1)[-1]) == _FINAL_SS and m.group(1)[-1] != "있")
    return past_end and not _KO_REPORTED.search(text)


def split_ko(text: str) -> list[str]:
    """A Korean sentence cut at its clause joints into polite spoken sentences. A connective has no
    tense of its own: the first clause takes the tense of the sentence's last (main) predicate. A
    sentence that reports what someone said ("...지만 ...해야 한다고 지적했다") stays whole: its
    clauses are the report's, not claims of their own."""
    if _KO_REPORTED.search(text):
        return [spoken_ko(text)]
    main_past = _ends_in_past(text)
    parts, start, prefix = [], 0, ""
    for stem_end, next_start, ending in _ko_joints(text):
        left, right = text[start:stem_end].strip(), text[next_start:].strip()
        if _syllables(left) < _MIN_CLAUSE_SYLLABLES or _syllables(right) < _MIN_CLAUSE_SYLLABLES:
            continue
        if main_past:
            left = past(left)
            if left is None:
                continue
        parts.append(prefix + formal(left) + ".")
        prefix = "하지만 " if ending == "지만" else ""
        start = next_start
    parts.append(prefix + spoken_ko(text[start:].strip()))
    return parts


def split_en(text: str) -> list[str]:
    """An English sentence cut at "; " and ", and/but/so " where both halves are clauses."""
    parts, start, lead = [], 0, ""
    for m in _EN_JOINT.finditer(text):
        if _inside_quote(text, m.start()):
            continue
        left, right = text[start:m.start()].strip(), text[m.end():].strip()
        if len(left.split()) < _MIN_CLAUSE_WORDS or len(right.split()) < _MIN_CLAUSE_WORDS:
            continue
        if right.split()[0].lower() in _EN_NOT_CLAUSE_START:
            continue
        parts.append(_sentence(lead + left))
        lead = "But " if m.group(1) == "but" else "So " if m.group(1) == "so" else ""
        start = m.end()
    parts.append(_sentence(lead + text[start:].strip()))
    return parts


def _sentence(text: str) -> str:
    text = text.strip().rstrip(",;:")
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    return text if text[-1:] in ".!?\"'”’" else text + "."


def trim_en(text: str, max_seconds: float) -> str | None:
    """The line without its trailing asides, from the last one back, until it fits; None if it never does."""
    cuts = [m.start() for m in _EN_ASIDE.finditer(text) if not _inside_quote(text, m.start())]
    for cut in reversed(cuts):
        head = _sentence(text[:cut])
        if len(head.split()) >= _MIN_CLAUSE_WORDS and speech_seconds(head) <= max_seconds:
            return head
    return None


def speech_lines(sentence: str, lang: str) -> list[str]:
    """The sentence as short spoken lines (one or more); empty when nothing is left to say."""
    text = clean(sentence)
    if not text:
        return []
    korean = lang.split("-")[0] == "ko"
    if speech_seconds(text) <= SPLIT_OVER_S:
        return [spoken_ko(text) if korean else _sentence(text)]
    return split_ko(text) if korean else split_en(text)


def fit_line(line: str, lang: str, max_seconds: float) -> str | None:
    """The line, or a shorter form of it that fits `max_seconds`, or None."""
    if speech_seconds(line) <= max_seconds:
        return line
    if lang.split("-")[0] != "ko":
        return trim_en(line, max_seconds)
    return None


_CLAUSE_BREAK = re.compile(r"[,;:]\s+|(?<=[.!?])\s+")


def key_phrase(narration: str, max_chars: int) -> str:
    """Short text for the screen: the narration's first sentence when it fits, else its first clause
    with a number that fits, else the first sentence shortened at a word boundary."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", narration) if s.strip()] or [narration]
    first = sentences[0].rstrip(".")
    if len(first) <= max_chars:
        return first
    clauses = [c.strip(" .") for c in _CLAUSE_BREAK.split(narration) if c.strip(" .")]
    fitting = [c for c in clauses if re.search(r"\d", c) and len(c) <= max_chars and len(c) >= max_chars // 3]
    return fitting[0] if fitting else shorten(first, max_chars)


def headline(title: str) -> str:
    """The title's first phrase (headlines join phrases with … : | -)."""
    parts = [_unquote(p) for p in re.split(r"…|\.\.\.|:|\||\s[-–—]\s", title) if _unquote(p)]
    return parts[0] if parts else title


def _unquote(text: str) -> str:
    """Without the quote marks around the whole phrase; quotes inside it stay."""
    text = text.strip()
    while len(text) > 1 and text[0] in "'\"‘“" and text[-1] in "'\"’”":
        text = text[1:-1].strip()
    return text
