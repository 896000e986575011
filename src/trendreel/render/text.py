"""Fitting text on a vertical screen: wrap to the width, shrink, then cut with an ellipsis; subtitle cues.

Widths are measured with the real font (Pillow + FreeType), at the size libass will draw it, so a
line that fits here fits in the video. Words are kept whole when they fit on a line; a word longer
than a line (a URL, a long compound) is broken between characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from trendreel.render.fonts import FontInfo

ELLIPSIS = "…"
# Hangul, kana and CJK characters take about as long to say as 2.8 Latin letters
# (5 syllables/s against 14 characters/s, the story stage's rates).
_SYLLABIC = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Labels that image captions carry ("영상: ", "Photo: ", "[사진] "): never said or shown. At the start of
# the text or of a sentence; credits after a caption ("ⓒ …", "/ 연합뉴스") go too.
_LABEL = re.compile(
    r"(^|(?<=[.!?。]\s))\s*(?:[\[(【<]\s*)?(?:영상|사진|동영상|그래픽|이미지|자료사진|자료|화면|캡처|"
    r"photo|image|video|picture|graphic|file photo)\s*(?:[\])】>]\s*)?(?:[:：=|]\s*|(?<=[\])】>])\s*)", re.IGNORECASE)
_CREDIT = re.compile(r"\s*(?:[ⓒ©][^.!?]*|/\s*(?:연합뉴스|뉴시스|뉴스1|AP|AFP|EPA|Reuters|로이터|Yonhap)\b[^.!?]*)(?=[.!?]?\s*$)",
                     re.IGNORECASE)
_HEADLINE_SOURCE = re.compile(r"\s+(?:[|｜]\s+.*|[-–—]\s+\S+(?:\s+\S+){0,3})$")
# Where a headline's first part can end: after : ; , or "…" (Korean titles join two parts with "…" and
# no space), around a dash, or before a word that starts a second clause ("… sells out in minutes as
# dates are added").
_HEADLINE_BREAK = re.compile(r"(?<=[:;,])\s+|\s*…\s*|\s+[-–—]\s+"
                             r"|\s+(?=(?:as|after|while|amid|with|despite|because|but|following|ahead of)\s)")


@dataclass(frozen=True)
class FittedText:
    lines: tuple[str, ...]
    size: int  # ASS font size: line height in pixels
    shrunk: bool = False
    truncated: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class TextMeasure:
    """Pixel widths of text in one font at ASS sizes."""

    def __init__(self, font: FontInfo, *, bold: bool = True):
        self.font = font
        self.path = font.measure_path if bold else font.path

    @lru_cache(maxsize=64)
    def _face(self, size: int):
        from PIL import ImageFont

        return ImageFont.truetype(str(self.path), max(1, round(size / self.font.line_ratio)))

    def width(self, text: str, size: int) -> float:
        return float(self._face(size).getlength(text)) if text else 0.0


def _break_word(word: str, measure: TextMeasure, size: int, max_width: float) -> list[str]:
    parts, cur = [], ""
    for ch in word:
        if cur and measure.width(cur + ch, size) > max_width:
            parts.append(cur)
            cur = ch
        else:
            cur += ch
    if cur:
        parts.append(cur)
    return parts


def wrap(text: str, measure: TextMeasure, size: int, max_width: float) -> list[str]:
    """Greedy word wrap of one paragraph to `max_width` pixels."""
    lines: list[str] = []
    cur = ""
    for word in text.split():
        pieces = [word] if measure.width(word, size) <= max_width else _break_word(word, measure, size, max_width)
        for piece in pieces:
            cand = f"{cur} {piece}" if cur else piece
            if measure.width(cand, size) <= max_width:
                cur = cand
            else:
                if cur:
                    lines.append(cur)
                cur = piece
    if cur:
        lines.append(cur)
    return lines


def wrap_balanced(text: str, measure: TextMeasure, size: int, max_width: float) -> list[str]:
    """As few lines as `wrap` gives, but of even widths (no lone word on the last line)."""
    lines = wrap(text, measure, size, max_width)
    if len(lines) <= 1:
        return lines
    lo, hi = min(max_width, max(measure.width(w, size) for w in text.split())), max_width
    for _ in range(12):  # binary search for the narrowest width that keeps the line count
        mid = (lo + hi) / 2
        if len(wrap(text, measure, size, mid)) <= len(lines):
            hi = mid
        else:
            lo = mid
    return wrap(text, measure, size, hi)


_WEAK_ENDS = frozenset("a an the of to in on at by for with from and or but my your his her its our their".split())


def wrap_phrase(text: str, measure: TextMeasure, size: int, max_width: float) -> list[str]:
    """`wrap_balanced`, but a line does not end on an article, preposition or conjunction when that word
    fits at the start of the next line ("Cafes open early / to catch the runners.")."""
    lines = wrap_balanced(text, measure, size, max_width)
    for i in range(len(lines) - 1):
        words = lines[i].split()
        if len(words) > 1 and words[-1].lower() in _WEAK_ENDS:
            moved = f"{words[-1]} {lines[i + 1]}"
            if measure.width(moved, size) <= max_width:
                lines[i], lines[i + 1] = " ".join(words[:-1]), moved
    return lines


def _cut(line: str, measure: TextMeasure, size: int, max_width: float) -> str:
    """`line` shortened (at a word when possible) so that it plus an ellipsis fits."""
    line = line.rstrip()
    while line and measure.width(line + ELLIPSIS, size) > max_width:
        head = line.rsplit(" ", 1)[0] if " " in line else line[:-1]
        line = head.rstrip(" ,.;:")
    return line + ELLIPSIS


def fit(text: str, measure: TextMeasure, *, size: int, min_size: int, max_width: float, max_lines: int) -> FittedText:
    """Wrap at `size`; if it needs more than `max_lines`, shrink step by step to `min_size`; then cut with '…'."""
    text = " ".join(text.split())
    if not text:
        return FittedText(lines=(), size=size)
    s = size
    while True:
        lines = wrap_balanced(text, measure, s, max_width)
        if len(lines) <= max_lines:
            return FittedText(lines=tuple(lines), size=s, shrunk=s < size)
        if s <= min_size:
            break
        s = max(min_size, int(s * 0.9))
    kept = lines[:max_lines]
    kept[-1] = _cut(kept[-1] + " " + lines[max_lines], measure, s, max_width)
    return FittedText(lines=tuple(kept), size=s, shrunk=s < size, truncated=True)


def speech_weight(text: str) -> float:
    """Relative time to say `text` (Hangul/CJK characters count 2.8, other non-space characters 1)."""
    syllabic = len(_SYLLABIC.findall(text))
    others = sum(1 for ch in text if not ch.isspace()) - syllabic
    return syllabic * 2.8 + others + 0.5


def strip_labels(text: str) -> str:
    """`text` without caption labels ("영상: ", "Photo: ") and trailing credits ("ⓒ …", "/ 연합뉴스")."""
    text = " ".join((text or "").split())
    previous = None
    while previous != text:  # "[사진] 영상: …" carries two labels
        previous = text
        text = _LABEL.sub(r"\1", text)
    return _CREDIT.sub("", text).strip()


def headline(title: str, measure: TextMeasure, *, size: int, max_width: float, max_lines: int = 2) -> FittedText:
    """A title as a headline of at most `max_lines` lines: without a trailing source (" | Site", " - Agency"),
    shrunk to 80 %, else its first part up to a colon or dash that fits, else cut at a word with '…'."""
    text = strip_labels(title)
    text = _HEADLINE_SOURCE.sub("", text) or text
    min_size = round(size * 0.8)
    fitted = fit(text, measure, size=size, min_size=min_size, max_width=max_width, max_lines=max_lines)
    if not fitted.truncated:
        return fitted
    parts = _HEADLINE_BREAK.split(text)
    for k in range(len(parts) - 1, 0, -1):
        head = " ".join(parts[:k]).rstrip(" :;,…")
        shorter = fit(head, measure, size=size, min_size=min_size, max_width=max_width, max_lines=max_lines)
        if not shorter.truncated and len(head.split()) >= 2:
            return FittedText(lines=shorter.lines, size=shorter.size, shrunk=True, truncated=True)
    return fitted
