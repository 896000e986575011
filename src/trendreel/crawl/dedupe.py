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


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _shingle_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the distinct word 3-shingles (or of the words, for texts under 3 words)."""
    words = _WORD.findall(text.lower())
    if not words:
        return np.empty(0, dtype=np.uint64)
    # Hash each distinct word once (blake2b: stable across processes), then combine neighbours with numpy.
    index: dict[str, int] = {}
    ids = [index.setdefault(w, len(index)) for w in words]
    digests = b"".join(hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest() for w in index)
    h = np.frombuffer(digests, dtype="<u8")[np.asarray(ids)]
    if len(h) >= 3:
        h = h[:-2] ^ _rotl(h[1:-1], 21) ^ _rotl(h[2:], 42)
    with np.errstate(over="ignore"):
        h = h * _MIX  # spread the bits: XOR of rotations alone keeps patterns
    h ^= h >> np.uint64(29)
    return np.unique(h)


def simhash(text: str) -> int:
    """Unsigned 64-bit SimHash of a text (each distinct shingle weighs 1)."""
    hashes = _shingle_hashes(text)
    if len(hashes) == 0:
        return 0
    # One row of 64 bits per shingle; a bit of the result is set when most shingles have it set.
    bits = np.unpackbits(hashes.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1)  # column 0 = bit 63
    votes = bits.sum(axis=0, dtype=np.int64) * 2 - len(hashes)
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
