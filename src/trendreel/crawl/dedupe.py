"""Near-duplicate text detection: MinHash over word 3-shingles, with LSH bands for lookup.

A text's signature is 64 MinHash values; the share of equal values estimates the Jaccard
similarity of two texts' shingle sets. The signature is cut into 16 bands of 4 values; two texts
become candidates when any band is equal, which happens with probability 1-(1-J^4)^16:
0.99 at J=0.7, 0.9999 at J=0.9, 0.22 at J=0.3. Candidates are then checked on the estimate.
Band values are stored in an indexed table, so a lookup is 16 index probes, not a scan.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _coefficients() -> tuple[np.ndarray, np.ndarray]:
    """Fixed (a, b) per permutation, derived from blake2b so signatures are stable everywhere."""
    raw = b"".join(hashlib.blake2b(f"trendreel-minhash-{i}".encode(), digest_size=16).digest() for i in range(NUM_PERM))
    v = np.frombuffer(raw, dtype="<u8").reshape(-1, 2)
    return (v[:, 0] | np.uint64(1)).reshape(-1, 1), v[:, 1].reshape(-1, 1)


_A, _B = _coefficients()


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def shingle_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the distinct word 3-shingles (of the words, for texts under 3 words)."""
    words = _WORD.findall(text.lower())
    if not words:
        return np.empty(0, dtype=np.uint64)
    # Hash each distinct word once (blake2b: stable across processes), combine neighbours with numpy.
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


def minhash(text: str) -> np.ndarray:
    """The text's 64 MinHash values (uint32); all 0xFFFFFFFF for a text without words."""
    x = shingle_hashes(text)
    if len(x) == 0:
        return np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    # Multiply-shift hashing (a odd): the top 32 bits of a*x + b mod 2^64, one row per permutation.
    with np.errstate(over="ignore"):
        values = (_A * x + _B) >> np.uint64(32)
    return values.min(axis=1).astype(np.uint32)


def bands(signature: np.ndarray) -> list[int]:
    """One 63-bit key per band of 4 values, the band's number mixed in (one indexed BIGINT column)."""
    raw = signature.astype("<u4").tobytes()
    out = []
    for i in range(BANDS):
        chunk = bytes([i]) + raw[i * ROWS * 4 : (i + 1) * ROWS * 4]
        out.append(int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), "little") >> 1)
    return out


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float(np.count_nonzero(a == b)) / NUM_PERM


def similarities(signature: np.ndarray, others: np.ndarray) -> np.ndarray:
    """`similarity` of one signature to each row of an (n, NUM_PERM) array, in one numpy pass."""
    return np.count_nonzero(others == signature, axis=1) / NUM_PERM


def to_hex(signature: np.ndarray) -> str:
    return signature.astype("<u4").tobytes().hex()


def from_hex(value: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(value), dtype="<u4").astype(np.uint32)
