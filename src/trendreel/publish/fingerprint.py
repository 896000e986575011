"""A perceptual fingerprint of a video for the near-duplicate guard.

Eight frames at evenly spaced times, each shrunk to 8x8 grey pixels and turned into a 64-bit average
hash (a pixel is 1 when brighter than the frame's mean), plus the duration. Re-encoding, a different
resolution or small edits keep most bits; a different video flips about half. Stored as
"ahash1:<duration s>:<16 hex per frame>" (fits publication.fingerprint).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trendreel.adapters.ffmpeg import run_ffmpeg, stderr_tail
from trendreel.publish.errors import PublishError

FRAMES = 8
SIDE = 8
PREFIX = "ahash1"


def video_fingerprint(path: Path, duration_s: float, *, ffmpeg: str, timeout_s: float = 120.0) -> str:
    """The fingerprint of the video file at `path` (whose length is `duration_s`)."""
    duration_s = max(float(duration_s or 0.0), 0.04)
    rate = FRAMES / duration_s
    args = ["-loglevel", "error", "-i", str(path), "-an",
            "-vf", f"fps={rate:.6f}:start_time=0,scale={SIDE}:{SIDE}:flags=area,format=gray",
            "-frames:v", str(FRAMES), "-f", "rawvideo", "pipe:1"]
    what = f"cannot read frames of {path} for the duplicate guard"
    proc = run_ffmpeg(args, what=what, timeout_s=timeout_s, exe=ffmpeg, check=False, text=False, error=PublishError)
    frames = np.frombuffer(proc.stdout, dtype=np.uint8)
    n = len(frames) // (SIDE * SIDE)
    if proc.returncode != 0 or n == 0:
        raise PublishError(f"{what}: {stderr_tail(proc.stderr, 1) if proc.stderr.strip() else 'no frames'}")
    hexes = []
    for frame in frames[: n * SIDE * SIDE].reshape(n, SIDE * SIDE).astype(np.float32):
        bits = frame > frame.mean()
        hexes.append(f"{int(''.join('1' if b else '0' for b in bits), 2):016x}")
    return f"{PREFIX}:{duration_s:.2f}:{''.join(hexes)}"


def similarity(a: str | None, b: str | None) -> float:
    """1.0 for the same picture sequence and length, about 0.5 for unrelated videos, 0.0 if not comparable."""
    try:
        pa, da, ha = (a or "").split(":")
        pb, db, hb = (b or "").split(":")
    except ValueError:
        return 0.0
    if pa != PREFIX or pb != PREFIX or not ha or not hb:
        return 0.0
    da_f, db_f = float(da), float(db)
    if abs(da_f - db_f) > max(1.0, 0.1 * max(da_f, db_f)):  # lengths differ: a different video
        return 0.0
    n = min(len(ha), len(hb)) // 16
    if n == 0:
        return 0.0
    differing = sum(bin(int(ha[i * 16:(i + 1) * 16], 16) ^ int(hb[i * 16:(i + 1) * 16], 16)).count("1") for i in range(n))
    return 1.0 - differing / (n * 64)
