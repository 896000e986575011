"""Near-duplicate text detection with 64-bit SimHash over word 3-shingles.

Two texts whose SimHashes differ in <= k bits (k=3 by default) are near-duplicates. The hash is
split into four 16-bit bands stored in indexed columns: by pigeonhole, two hashes within 3 bits
share at least one band exactly, so candidates come from four index lookups, not a table scan.
"""

from __future__ import annotations

import hashlib
import re

_WORD = re.compile(r"\w+", re.UNICODE)


def _tokens(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    if len(words) < 3:
        return words
    return [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]


def simhash(text: str) -> int:
    """Unsigned 64-bit SimHash of a text."""
    weights = [0] * 64
    for tok in set(_tokens(text)):
        h = int.from_bytes(hashlib.blake2b(tok.encode("utf-8"), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if (h >> bit) & 1 else -1
    value = 0
    for bit in range(64):
        if weights[bit] > 0:
            value |= 1 << bit
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
