"""Near-duplicate text detection with 64-bit SimHash over word 3-shingles.

Two texts whose SimHashes differ in <= k bits (k=3 by default) are near-duplicates. The hash is
split into four 16-bit bands stored in indexed columns: by pigeonhole, two hashes within 3 bits
share at least one band exactly, so candidates come from four index lookups, not a table scan.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


def _tokens(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    if len(words) < 3:
        return words
    return [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]


def simhash(text: str) -> int:
    """Unsigned 64-bit SimHash of a text (each distinct shingle weighs 1)."""
    tokens = set(_tokens(text))
    if not tokens:
        return 0
    # Hash every shingle to 64 bits, then vote per bit position with numpy instead of a Python loop.
    digests = b"".join(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest() for t in tokens)
    hashes = np.frombuffer(digests, dtype=">u8")
    bits = np.unpackbits(hashes.view(np.uint8).reshape(-1, 8), axis=1)  # big-endian: column 0 = bit 63
    votes = bits.sum(axis=0, dtype=np.int64) * 2 - len(tokens)
    value = 0
    for col in np.flatnonzero(votes > 0):
        value |= 1 << (63 - int(col))
    return value


def to_signed(value: int) -> int:
    """Unsigned 64-bit -> signed, for a BIGINT column."""
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def bands(value: int) -> tuple[int, int, int, int]:
    return tuple((value >> (16 * i)) & 0xFFFF for i in range(4))  # type: ignore[return-value]


def distance(a: int, b: int) -> int:
    return (to_unsigned(a) ^ to_unsigned(b)).bit_count()
