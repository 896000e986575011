"""Split long article text into overlapping pieces an embedder can take whole.

Boundaries are chosen in this order: paragraphs (line breaks), then sentences (Korean and English
punctuation: . ! ? … 。 ！ ？, with closing quotes and brackets kept on the sentence), then words.
A word is cut only when it alone is longer than `max_chars` (URLs, long CJK runs without spaces).
Every chunk is at most `max_chars` characters, overlap included; each chunk after the first starts with
up to `overlap_chars` characters (whole words) from the end of the one before, so a sentence that
straddles a boundary is seen whole at least once.
"""

from __future__ import annotations

import re

# A sentence ends at terminal punctuation, optionally followed by closing quotes/brackets, then space.
_SENTENCE_END = re.compile(r"[.!?…。！？]+[\"'”’」』)\]]*(?=\s)")
# A dot after these is not a sentence end ("Mr. Kim", "U.S. officials", "vs. Japan").
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|etc|Inc|Ltd|Co|Corp|No|Gov|Sen|Rep|Gen|Lt|Col|Jan|Feb|Mar|Apr|"
    r"Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)|\b[A-Z])\.[\"'”’)\]]*$"
)
# Korean quotation goes on after the closing quote: “…했다.” 라고 밝혔다 / 고 말했다 is one sentence.
_QUOTATIVE = re.compile(r"\s*(?:라고|이라고|하고|고|며|라며|면서|는|란)(?:\s|$)")
_SPACE = re.compile(r"[ \t\f\v\u00a0\u3000]+")


def split_paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs, whitespace inside each collapsed to single spaces."""
    return [p for p in (_SPACE.sub(" ", line).strip() for line in re.split(r"[\r\n]+", text)) if p]


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph, punctuation kept, abbreviations like "Mr." not treated as ends."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(paragraph):
        head = paragraph[start:m.end()]
        if _ABBREV.search(head) or _QUOTATIVE.match(paragraph, m.end()):
            continue
        if head.strip():
            out.append(head.strip())
        start = m.end()
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return out


def _split_words(sentence: str, max_chars: int, soft_chars: int) -> list[str]:
    """Pieces of whole words of about soft_chars (room left for overlap), never over max_chars;
    only a word longer than max_chars is cut, into max_chars slices."""
    pieces: list[str] = []
    current = ""
    for word in sentence.split(" "):
        if not word:
            continue
        while len(word) > max_chars:
            # The word must be cut anyway: fill the rest of the current piece with its start.
            room = max_chars - len(current) - 1 if current else max_chars
            if room > 0:
                pieces.append(f"{current} {word[:room]}" if current else word[:room])
                word = word[room:]
            else:
                pieces.append(current)
            current = ""
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= soft_chars:
            current += " " + word
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces


def _units(text: str, max_chars: int, overlap_chars: int) -> list[tuple[str, bool]]:
    """(piece, starts_paragraph) pieces, each at most max_chars, in reading order."""
    units: list[tuple[str, bool]] = []
    for para in split_paragraphs(text):
        if len(para) <= max_chars:
            units.append((para, True))
            continue
        first = True
        for sentence in split_sentences(para):
            if len(sentence) <= max_chars:
                pieces = [sentence]
            else:
                pieces = _split_words(sentence, max_chars, max(1, max_chars - overlap_chars - 1))
            for piece in pieces:
                units.append((piece, first))
                first = False
    return units


def _overlap_tail(chunk: str, overlap_chars: int) -> str:
    """The last whole words of chunk, at most overlap_chars characters long (may be empty)."""
    if overlap_chars <= 0 or not chunk:
        return ""
    if len(chunk) <= overlap_chars:
        return chunk
    tail = chunk[-overlap_chars:]
    if chunk[-overlap_chars - 1].isspace():
        return tail.strip()
    cut = re.search(r"\s", tail)
    return tail[cut.end():].strip() if cut else ""


def chunk_text(text: str, *, max_chars: int = 1000, overlap_chars: int = 100) -> list[str]:
    """Split text into chunks of at most max_chars at paragraph, then sentence, then word boundaries."""
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    if not 0 <= overlap_chars < max_chars:
        raise ValueError("overlap_chars must be at least 0 and smaller than max_chars")
    if not text or text.isspace():
        return []

    chunks: list[str] = []
    current = ""
    for piece, new_para in _units(text, max_chars, overlap_chars):
        sep = "\n" if new_para else " "
        if not current:
            current = piece
        elif len(current) + len(sep) + len(piece) <= max_chars:
            current += sep + piece
        else:
            chunks.append(current)
            tail = _overlap_tail(current, overlap_chars)
            # Keep as much of the overlap as fits in front of the next piece (whole words only).
            while tail and len(tail) + len(sep) + len(piece) > max_chars:
                tail = _overlap_tail(tail, len(tail) - 1)
            current = tail + sep + piece if tail else piece
    if current:
        chunks.append(current)
    return chunks
