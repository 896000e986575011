"""Key phrases of a group of items, and the age group they talk about, taken from their own words.

Words: Korean eojeol lose their trailing particle (캠핑장을 -> 캠핑장), predicates (늘었다, 즐기는) and
common function words are dropped; a Korean word also stands for its prefixes of two or more
syllables, so 캠핑, 캠핑장 and 캠핑족 all count for 캠핑. English words are lower-cased, stop words
dropped and plural -s folded for matching (the most frequent spelling is shown). Other languages
are split on spaces and punctuation. Phrases are single words and pairs of adjacent words.

A phrase's score in a group is its document frequency in the group (titles count 1, summaries
TEXT_WEIGHT) times its inverse document frequency in the background (the items the detection looked
at): what the group says often and the rest rarely. A phrase must occur in at least two of the
group's items and in one title at least.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Longest first, so 에서는 is tried before 는. Single syllables only come off stems of 2+ syllables.
_KO_PARTICLES = sorted({
    "에서부터", "으로부터", "에게서", "에서는", "에서도", "에서의", "으로는", "으로도", "으로써", "으로서",
    "이라는", "이라고", "까지는", "까지도", "부터는", "보다는", "에게", "에서", "에는", "에도", "으로",
    "부터", "까지", "처럼", "보다", "이나", "이며", "라는", "라고", "마다", "조차", "마저", "밖에", "하고",
    "은", "는", "이", "가", "을", "를", "의", "에", "로", "와", "과", "도", "만", "엔",
}, key=len, reverse=True)
# Endings of predicates and connective forms: such eojeol are not topics.
_KO_PREDICATE_ENDINGS = (
    "다", "며", "면서", "지만", "는데", "니다", "해", "했", "된", "됐", "하는", "되는", "있는", "없는", "않는",
    "같은", "위한", "인한", "대한", "통한", "따른", "향한", "겠", "려고", "도록", "으면", "하면", "해서", "어서",
)
_KO_STOP = {
    "등", "및", "위해", "관련", "이번", "올해", "지난", "오늘", "내일", "어제", "내년", "작년", "지난해", "첫", "더",
    "또", "그", "이", "저", "것", "수", "때", "중", "후", "전", "씨", "측", "곳", "명", "건", "개", "만에", "대비",
    "기자", "뉴스", "사진", "종합", "속보", "단독", "영상", "오전", "오후", "이날", "최근", "현재", "모두", "가장",
    "크게", "다시", "이미", "함께", "통해", "따라", "대해", "사이", "이상", "이하", "가운데", "정도", "계획", "예정",
    "전망", "가능", "우리", "한편", "관계자", "말했", "밝혔", "설명", "가까", "가까이", "많이", "특히", "아직", "여전히",
    "바로", "계속", "새로", "모든", "여러", "이런", "그런", "어떤", "무엇", "누구", "이후", "이전", "당시", "때문",
    "이틀", "사흘", "나흘", "닷새", "하루", "이틀째", "사흘째",
}
_EN_STOP = set("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most my
myself no nor not now of off on once only or other our ours ourselves out over own same she should so
some such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves says said say new one two three first last year years week weeks day days
month months time times amid as per via get gets got make makes made more less many much still yet
toward towards across among near onto upon within without inside outside behind beyond since ago
s t don didn isn wasn aren weren won hasn haven hadn ll ve re m d o y
""".split())
_SPLIT = re.compile(r"[\s\"'“”‘’`«»()\[\]{}<>…·,.!?;:|/\\*#@=+]+")
_HANGUL = re.compile(r"[가-힣]")
_ALL_HANGUL = re.compile(r"^[가-힣]+$")
_LETTER = re.compile(r"[^\W\d_]")
_NUMERIC = re.compile(r"^[\d.,%~\-+]+[a-z%]?$", re.IGNORECASE)

# Age groups: "20~30대", "2030", "30대", "in their 20s and 30s", "30-somethings".
_KO_AGE_RANGE = re.compile(r"(?<!\d)([1-6]0)\s*[~∼\-·,]\s*([1-6]0)\s*대")
_KO_AGE_PAIR = re.compile(r"(?<!\d)([1-6]0)([1-6]0)(?![\d년])(?:\s*세대)?")
_KO_AGE_ONE = re.compile(r"(?<![\d~∼\-·])([1-6]0)대")
_EN_AGE = re.compile(r"\bin (?:their|his|her|my|our) ([1-6]0)s(?:\s*(?:and|or|to|-)\s*([1-6]0)s)?", re.IGNORECASE)
_EN_AGE_SOMETHING = re.compile(r"\b(twenty|thirty|forty|fifty|[1-6]0)[- ]somethings?\b", re.IGNORECASE)
_EN_DECADE_WORDS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}


# An item whose text but not its title holds a phrase counts this much toward it.
TEXT_WEIGHT = 0.5
# A pair replaces the chosen single words it holds when it occurs in at least this share of their items.
PAIR_SHARE = 0.6


@dataclass(frozen=True)
class Phrase:
    key: str  # what is matched (folded)
    text: str  # what is shown
    score: float
    items: int  # items of the group that contain it


# ---- words -----------------------------------------------------------------------------------------


def words(text: str, lang: str | None) -> list[list[tuple[str, str]]]:
    """Runs of topic words as (match key, spelling to show); a run ends at punctuation."""
    runs: list[list[tuple[str, str]]] = []
    for segment in re.split(r"[…,.!?;:|·\"“”'‘’()\[\]]+", text or ""):
        run: list[tuple[str, str]] = []
        tokens = [t for t in _SPLIT.split(segment) if t]
        for position, token in enumerate(tokens):
            # A capital at the start of a sentence says nothing, unless a capitalised word follows (Son Min-jae).
            name_follows = position + 1 < len(tokens) and tokens[position + 1][:1].isupper()
            word = _word(token, lang, sentence_start=position == 0 and not name_follows)
            if word:
                run.append(word)
            elif run:  # a dropped word breaks the run: pairs are only words that stand together
                runs.append(run)
                run = []
        if run:
            runs.append(run)
    return runs


@lru_cache(maxsize=200_000)  # news repeats its words: a run over thousands of items looks each one up many times
def _word(token: str, lang: str | None, *, sentence_start: bool) -> tuple[str, str] | None:
    """(match key, shown spelling) of a token, or None when it is not a topic word."""
    token = token.strip("-~_")
    low = token.lower()
    if not token or _NUMERIC.match(low) or not _LETTER.search(low) or is_age_word(low):
        return None
    if _HANGUL.search(token):
        token = _strip_particle(token)
        if _HANGUL.search(token):
            stem = _korean_topic(token)
            return (stem.lower(), stem) if stem else None
        low = token.lower()  # a Latin word with a particle: HBM이 -> HBM
        if _NUMERIC.match(low) or not _LETTER.search(low):
            return None  # a count with a particle: 200만
    low = low.removesuffix("'s").removesuffix("’s")
    acronym = token.isupper() and len(token) >= 2
    if (low in _EN_STOP or len(low) < 3) and not acronym:
        return None
    if not token.isascii() and len(low) < 2:
        return None
    # Capitals are kept for acronyms and for names (capitalised where a sentence does not start).
    keep_case = acronym or any(c.isupper() for c in token[1:]) or (token[0].isupper() and not sentence_start)
    shown = token.removesuffix("'s").removesuffix("’s") if keep_case else low
    key = _en_match_key(low) if low.isascii() else low
    return key, shown


def _strip_particle(token: str) -> str:
    for particle in _KO_PARTICLES:
        if token.endswith(particle) and len(token) - len(particle) >= (2 if len(particle) == 1 else 1):
            return token[: -len(particle)]
    return token


def _korean_topic(token: str) -> str:
    if token in _KO_STOP or token.endswith(_KO_PREDICATE_ENDINGS) or not _HANGUL.match(token[0]):
        return ""  # function words, predicates, and counts such as 30%대 or 4만
    return token


def _en_match_key(word: str) -> str:
    """Plural -s folded so that export and exports match."""
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def candidates(text: str, lang: str | None) -> dict[str, str]:
    """Phrase candidates of one text: match key -> the spelling seen here."""
    out: dict[str, str] = {}
    for run in words(text, lang):
        for key, shown in run:
            if _ALL_HANGUL.match(key) and len(key) < 2:
                continue  # one syllable (칩, 차) is too vague alone; it still counts in pairs (AI 칩)
            out.setdefault(key, shown)
            if _ALL_HANGUL.match(key):
                for cut in range(2, len(key)):  # 캠핑장 also counts for 캠핑
                    out.setdefault(key[:cut], shown[:cut])
        for (k1, s1), (k2, s2) in zip(run, run[1:]):
            out.setdefault(f"{k1} {k2}", f"{s1} {s2}")
    return out


# ---- scoring -----------------------------------------------------------------------------------


class Background:
    """Document frequencies of phrase keys over all items the detection looked at."""

    def __init__(self, docs: Iterable[Iterable[str]]):
        self.df: Counter[str] = Counter()
        self.n = 0
        for keys in docs:
            self.df.update(set(keys))
            self.n += 1

    def idf(self, key: str) -> float:
        return math.log((self.n + 1) / (self.df.get(key, 0) + 1)) + 1.0


@dataclass(frozen=True)
class ItemWords:
    """Phrase candidates of one item: from its title, and from its other text (summary, lead)."""

    title: dict[str, str]
    text: dict[str, str]

    def keys(self) -> set[str]:
        return set(self.title) | set(self.text)


def item_words(title: str, text: str, lang: str | None) -> ItemWords:
    return ItemWords(title=candidates(title, lang), text=candidates(text, lang))


def key_phrases(items: Sequence[ItemWords], background: Background, *, limit: int = 4) -> list[Phrase]:
    """The group's best phrases, none inside another, best first.

    An item counts 1 for a phrase in its title and TEXT_WEIGHT for one only in its text: titles say
    what an item is about, summaries also say much else. A phrase must be in two items (one when
    the group has one item in its language) and in at least one title.
    """
    if not items:
        return []
    weight: Counter[str] = Counter()
    found_in: Counter[str] = Counter()
    in_title: set[str] = set()
    spellings: dict[str, Counter[str]] = {}
    for item in items:
        for key in item.keys():
            shown = item.title.get(key) or item.text[key]
            weight[key] += 1.0 if key in item.title else TEXT_WEIGHT
            found_in[key] += 1
            spellings.setdefault(key, Counter())[shown] += 1
        in_title.update(item.title)
    need = 2 if len(items) >= 2 else 1
    scored = []
    for key, w in weight.items():
        if found_in[key] < need or key not in in_title:
            continue
        pair_bonus = 1.2 if " " in key else 1.0
        score = w / len(items) * background.idf(key) * pair_bonus
        shown = max(spellings[key].items(), key=lambda kv: (kv[1], kv[0]))[0]
        scored.append(Phrase(key=key, text=shown, score=round(score, 4), items=found_in[key]))
    single = {p.key: p.score for p in scored if " " not in p.key}
    # Equal scores: the pair whose words are stronger alone, then the longer phrase.
    scored.sort(key=lambda p: (-p.score, -sum(single.get(w, 0.0) for w in p.key.split()), -len(p.key), p.key))
    chosen: list[Phrase] = []
    for phrase in scored:
        inside = [c for c in chosen if _overlaps(phrase.key, c.key)]
        if not inside:
            chosen.append(phrase)
        elif _says_more(phrase, inside):
            # "chip exports" in most of the items that say "exports": show the longer phrase.
            at = chosen.index(inside[0])
            chosen = [c for c in chosen if c not in inside]
            chosen.insert(at, phrase)
        if len(chosen) >= limit:
            break
    return chosen[:limit]


def _overlaps(a: str, b: str) -> bool:
    """One phrase inside the other (as words, or as a Korean prefix), or a word in common."""
    return a in b or b in a or bool(set(a.split()) & set(b.split()))


def _says_more(phrase: Phrase, inside: list[Phrase]) -> bool:
    """A pair that holds chosen words and occurs in most of the items they occur in."""
    return (" " in phrase.key and all(c.key in phrase.key and " " not in c.key for c in inside)
            and phrase.items >= PAIR_SHARE * max(c.items for c in inside))


# ---- age groups ------------------------------------------------------------------------------------


def is_age_word(token: str) -> bool:
    return bool(_KO_AGE_RANGE.fullmatch(token) or _KO_AGE_ONE.fullmatch(token)
                or re.fullmatch(r"([1-6]0)([1-6]0)(세대)?", token) or re.fullmatch(r"[1-6]0s", token))


def age_decades(text: str) -> set[int]:
    """Decades of life an item talks about (20 for people in their twenties), from its own words."""
    found: set[int] = set()
    for lo, hi in _KO_AGE_RANGE.findall(text):
        found.update(range(int(lo), int(hi) + 1, 10))
    for lo, hi in _KO_AGE_PAIR.findall(text):
        if int(lo) < int(hi):
            found.update(range(int(lo), int(hi) + 1, 10))
    found.update(int(d) for d in _KO_AGE_ONE.findall(text))
    for lo, hi in _EN_AGE.findall(text):
        found.update(range(int(lo), int(hi or lo) + 1, 10))
    for word in _EN_AGE_SOMETHING.findall(text):
        found.add(_EN_DECADE_WORDS.get(word.lower()) or int(word))
    return found


def common_age_group(texts: Sequence[str]) -> tuple[int, int] | None:
    """(youngest, oldest) decade that at least two items and a third of them mention, else None."""
    if not texts:
        return None
    per_item = [age_decades(t) for t in texts]
    counts = Counter(d for decades in per_item for d in decades)
    need = max(2, math.ceil(len(texts) / 3))
    frequent = sorted(d for d, c in counts.items() if c >= need)
    if not frequent:
        return None
    return frequent[0], frequent[-1]
