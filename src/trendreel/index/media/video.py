"""Videos: probe, keyframes at scene cuts, one vector per video, and the audio track for speech.

Everything goes through the ffmpeg/ffprobe executables (no decoding in Python), so a hostile file can
crash a child process but never the index stage; each call has a time limit.

Keyframes: one ffmpeg pass over a 320-pixel-wide copy of the video computes ffmpeg's scene-change
score (`select='gt(scene,T)'`, 0..1, the share of the picture that changed) and lists the cuts; then
the chosen frames are cut out at full size (long side at most 1280). The first frame is always taken.
With more cuts than `max_frames - 1`, the strongest cuts are kept. With no cut at all, frames are
spread evenly, one per `spread_every_s` seconds, so a 5-second single-shot clip gives its first frame
only and a two-minute single-shot interview gives seven.

The video vector is the mean of its keyframes' vectors, scaled to unit length: every shot counts
once, however long it lasts.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trendreel.adapters.ffmpeg import ffmpeg_exe, probe, run_ffmpeg, stderr_tail
from trendreel.errors import ExtractionFailed, FileMissing
from trendreel.index.media.images import ImageEmbedder, ImageInput, normalize_rows

__all__ = [
    "DEFAULT_SCENE_THRESHOLD",
    "Keyframe",
    "VideoInfo",
    "extract_audio",
    "keyframes",
    "probe_video",
    "video_vector",
]

# ffmpeg scene score of a hard cut between different shots is 0.4-0.9; camera motion and fades stay
# below 0.15 (measured: testsrc2's animation 0.00-0.03, its hard cut to smptebars 0.73).
DEFAULT_SCENE_THRESHOLD = 0.3
FRAME_MAX_SIDE = 1280
TIMEOUT_S = 300


@dataclass(frozen=True)
class VideoInfo:
    """What `probe_video` learns about a video file (width and height as displayed, rotation applied)."""

    duration_s: float
    width: int
    height: int
    has_audio: bool
    codec: str


@dataclass(frozen=True)
class Keyframe:
    """One still from a video: its time, its JPEG file, and the scene score that picked it (0: first or spread)."""

    time_s: float
    path: Path
    score: float = 0.0


def _ffmpeg() -> str:
    return ffmpeg_exe(system_first=True)


def _run(args: list[str], what: str, path: Path) -> subprocess.CompletedProcess:
    """ffmpeg with a time limit; the caller reads the exit code (a failed frame is not always an error)."""
    return run_ffmpeg(["-loglevel", "error", *args], what=f"{what} of {path.name}", timeout_s=TIMEOUT_S,
                      exe=_ffmpeg(), check=False, error=ExtractionFailed)


def _check_file(path: Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileMissing(f"video file {path} does not exist")
    if path.stat().st_size == 0:
        raise ExtractionFailed(f"video {path.name} is empty (0 bytes)")
    return path


def probe_video(path: Path) -> VideoInfo:
    """Duration, display size, audio presence and codec; ExtractionFailed for corrupt or empty files."""
    path = _check_file(path)
    info = probe(path, timeout_s=TIMEOUT_S, error=ExtractionFailed)
    video = info.video
    if video is None:
        raise ExtractionFailed(f"{path.name} has no video stream")
    duration = info.duration_s or video.duration_s
    if not duration or duration <= 0:
        raise ExtractionFailed(f"video {path.name} has no duration")
    width, height = video.width, video.height
    if width <= 0 or height <= 0:
        raise ExtractionFailed(f"video {path.name} has no picture size")
    if video.rotation % 180 == 90:
        width, height = height, width
    return VideoInfo(duration_s=round(duration, 3), width=width, height=height, has_audio=info.audio is not None,
                     codec=video.codec)


def _last_line(text: str, path: Path) -> str:
    return stderr_tail(text, 1, path=path)[-300:]


_SCENE_LINE = re.compile(r"pts_time:(?P<t>[\d.]+)\s*\n?lavfi\.scene_score=(?P<s>[\d.]+)")


def scene_cuts(path: Path, *, threshold: float = DEFAULT_SCENE_THRESHOLD) -> list[tuple[float, float]]:
    """(time_s, score) of every frame whose scene score exceeds `threshold`, in time order."""
    path = _check_file(path)
    proc = _run(
        ["-i", str(path), "-an", "-sn", "-dn",
         "-vf", f"scale=320:-2,select='gt(scene\\,{threshold:.4f})',metadata=print:file=-",
         "-f", "null", "-"],
        "scene detection", path,
    )
    if proc.returncode != 0:
        raise ExtractionFailed(f"video {path.name} could not be decoded: {_last_line(proc.stderr, Path(path))}")
    return [(float(m["t"]), float(m["s"])) for m in _SCENE_LINE.finditer(proc.stdout)]


def keyframes(
    path: Path,
    out_dir: Path,
    *,
    max_frames: int = 8,
    threshold: float = DEFAULT_SCENE_THRESHOLD,
    spread_every_s: float = 20.0,
    min_gap_s: float = 0.5,
) -> list[Keyframe]:
    """Stills at the first frame and at scene cuts (JPEG files `kf_000.jpg`... in out_dir); never empty."""
    if max_frames < 1:
        raise ValueError("max_frames must be at least 1")
    info = probe_video(path)
    path = Path(path)
    cuts = [(t, s) for t, s in scene_cuts(path, threshold=threshold) if min_gap_s <= t < info.duration_s]
    picked: list[tuple[float, float]] = [(0.0, 0.0)]
    if cuts:
        # Strongest cuts first, skipping any too close to one already taken.
        for t, s in sorted(cuts, key=lambda c: -c[1]):
            if len(picked) >= max_frames:
                break
            if all(abs(t - p) >= min_gap_s for p, _ in picked):
                picked.append((t, s))
    else:
        n = min(max_frames, 1 + int(info.duration_s // spread_every_s))
        picked = [(round(i * info.duration_s / n, 3), 0.0) for i in range(n)]
    picked.sort()

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scale = (f"scale=w='if(gte(iw,ih),min(iw,{FRAME_MAX_SIDE}),-2)'"
             f":h='if(gte(iw,ih),-2,min(ih,{FRAME_MAX_SIDE}))'")
    frames: list[Keyframe] = []
    for i, (t, s) in enumerate(picked):
        target = out_dir / f"kf_{i:03d}.jpg"
        # -ss before -i seeks to the nearest keyframe and then decodes up to t exactly.
        proc = _run(
            ["-ss", f"{t:.3f}", "-i", str(path),
             "-frames:v", "1", "-vf", scale, "-q:v", "3", str(target)],
            "frame extraction", path,
        )
        if proc.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            if i == 0:
                why = _last_line(proc.stderr, path)
                raise ExtractionFailed(f"no frame could be decoded from {path.name}: {why}")
            continue  # a cut near the broken end of a file: keep the frames we have
        frames.append(Keyframe(time_s=t, path=target, score=round(s, 4)))
    return frames


def video_vector(embedder: ImageEmbedder, frames: list[Keyframe], caption_text: str) -> np.ndarray:
    """One unit vector for a video: the mean of its keyframes' vectors (each frame carries the caption text).

    With the caption-text embedder every frame has the same text, so the video vector is the caption's
    vector; with a pixel model (CLIP) it is the average look of its shots. All-zero when there is nothing
    to embed (no caption for a caption-text embedder).
    """
    if not frames:
        raise ValueError("a video vector needs at least one keyframe")
    vecs = embedder.embed_images([ImageInput(path=f.path, caption_text=caption_text) for f in frames])
    vecs = normalize_rows(vecs)
    return normalize_rows(vecs.mean(axis=0))[0]


def extract_audio(path: Path, out_wav: Path, *, max_seconds: float | None = None) -> Path | None:
    """The audio track as 16 kHz mono 16-bit WAV (what speech models take); None if the video has no audio."""
    info = probe_video(path)
    if not info.has_audio:
        return None
    out_wav = Path(out_wav)
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["-i", str(path), "-vn", "-sn", "-dn",
           "-map", "0:a:0", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"]
    if max_seconds is not None:
        cmd += ["-t", f"{max_seconds:.3f}"]
    proc = _run([*cmd, str(out_wav)], "audio extraction", Path(path))
    if proc.returncode != 0 or not out_wav.is_file():
        why = _last_line(proc.stderr, Path(path))
        raise ExtractionFailed(f"audio of {Path(path).name} could not be decoded: {why}")
    return out_wav
