"""The ffmpeg and ffprobe executables, run with a time limit, their failures turned into RenderFailed.

ffmpeg: `render.ffmpeg` when set, else the static build shipped by imageio-ffmpeg (libx264, libass,
freetype, the same version on every machine), else `ffmpeg` on PATH. The static build comes first
because the render depends on its filters (xfade, zoompan, subtitles, loudnorm, sidechaincompress)
and it was measured faster than Debian's ffmpeg 5.1 on the same slideshow.
Probing uses `ffprobe` when it is on PATH (imageio-ffmpeg ships none), else PyAV.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from trendreel.errors import ConfigError
from trendreel.render.errors import RenderFailed

__all__ = ["Probe", "StreamInfo", "ffmpeg_exe", "loudness", "probe", "run_ffmpeg", "volume"]


def ffmpeg_exe(configured: Path | None = None) -> str:
    """The ffmpeg to run (see the module docstring for the order)."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ConfigError(f"render.ffmpeg points to {path}, which is not a file")
        return str(path)
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        found = shutil.which("ffmpeg")
        if found:
            return found
    raise ConfigError("rendering needs ffmpeg: install the imageio-ffmpeg package or ffmpeg, or set render.ffmpeg")


def _tail(stderr: str, lines: int = 4) -> str:
    rows = [r.strip() for r in (stderr or "").splitlines() if r.strip()]
    return " | ".join(rows[-lines:]) or "no message"


def run_ffmpeg(args: list[str], *, what: str, timeout_s: float, cwd: Path | None = None,
               exe: str | None = None) -> subprocess.CompletedProcess:
    """Run ffmpeg with `args`; RenderFailed (with ffmpeg's last lines) on a non-zero exit or timeout."""
    cmd = [exe or ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, errors="replace",
                              timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise RenderFailed(f"{what}: ffmpeg ran longer than {timeout_s:g} s (raise render.timeout_s)") from exc
    except OSError as exc:
        raise RenderFailed(f"{what}: cannot start ffmpeg ({exc})") from exc
    if proc.returncode != 0:
        raise RenderFailed(f"{what}: ffmpeg failed: {_tail(proc.stderr)}")
    return proc


@dataclass(frozen=True)
class StreamInfo:
    kind: str  # video | audio | other
    codec: str
    width: int = 0
    height: int = 0
    fps: float = 0.0
    sample_rate: int = 0
    channels: int = 0
    duration_s: float | None = None
    frames: int | None = None


@dataclass(frozen=True)
class Probe:
    """What a media file holds: container duration and its streams (attached cover pictures skipped)."""

    duration_s: float | None
    streams: tuple[StreamInfo, ...]
    format: str = ""

    @property
    def video(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "video"), None)

    @property
    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "audio"), None)


def _float(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f else None  # NaN


def _rate(v: str | None) -> float:
    if not v or v in ("0/0", "0"):
        return 0.0
    num, _, den = str(v).partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


def probe(path: Path, *, timeout_s: float = 60.0) -> Probe:
    """Streams and duration of a media file; RenderFailed when it cannot be read at all."""
    path = Path(path)
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return _probe_av(path)
    try:
        proc = subprocess.run([ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
                              capture_output=True, text=True, errors="replace", timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise RenderFailed(f"probing {path.name} took more than {timeout_s:g} s") from exc
    if proc.returncode != 0:
        raise RenderFailed(f"{path.name} is not a readable media file: {_tail(proc.stderr, 1)}")
    try:
        data = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise RenderFailed(f"probing {path.name}: unreadable ffprobe output") from exc
    streams = []
    for s in data.get("streams") or []:
        if (s.get("disposition") or {}).get("attached_pic"):
            continue
        kind = s.get("codec_type") if s.get("codec_type") in ("video", "audio") else "other"
        frames = s.get("nb_frames")
        streams.append(StreamInfo(
            kind=kind, codec=s.get("codec_name") or "unknown", width=int(s.get("width") or 0),
            height=int(s.get("height") or 0), fps=_rate(s.get("avg_frame_rate")) or _rate(s.get("r_frame_rate")),
            sample_rate=int(s.get("sample_rate") or 0), channels=int(s.get("channels") or 0),
            duration_s=_float(s.get("duration")), frames=int(frames) if str(frames or "").isdigit() else None))
    fmt = data.get("format") or {}
    return Probe(duration_s=_float(fmt.get("duration")), streams=tuple(streams), format=fmt.get("format_name") or "")


def _probe_av(path: Path) -> Probe:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av comes with faster-whisper
        raise ConfigError("probing media needs ffprobe (Debian package ffmpeg) or the av package") from exc
    try:
        with av.open(str(path)) as c:
            streams = []
            for s in c.streams:
                kind = s.type if s.type in ("video", "audio") else "other"
                ctx = s.codec_context
                dur = float(s.duration * s.time_base) if s.duration is not None and s.time_base else None
                streams.append(StreamInfo(
                    kind=kind, codec=ctx.name if ctx else "unknown",
                    width=getattr(ctx, "width", 0) or 0, height=getattr(ctx, "height", 0) or 0,
                    fps=float(s.average_rate) if kind == "video" and s.average_rate else 0.0,
                    sample_rate=(getattr(ctx, "sample_rate", 0) or 0) if kind == "audio" else 0,
                    channels=(getattr(ctx, "channels", 0) or 0) if kind == "audio" else 0,
                    duration_s=dur, frames=s.frames or None))
            duration = c.duration / 1_000_000 if c.duration else None
            return Probe(duration_s=duration, streams=tuple(streams), format=c.format.name)
    except av.FFmpegError as exc:
        raise RenderFailed(f"{path.name} is not a readable media file: {exc}") from exc


_VOLUME = re.compile(r"(mean|max)_volume:\s*(-?[\d.]+|-inf) dB")


def volume(path: Path, *, exe: str | None = None, timeout_s: float = 120.0) -> tuple[float, float]:
    """(mean, max) volume of the first audio stream in dBFS (volumedetect); -inf for digital silence."""
    proc = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"],
                      what=f"measuring the volume of {Path(path).name}", timeout_s=timeout_s, exe=exe)
    found = {k: float(v) for k, v in _VOLUME.findall(proc.stderr)}
    if "mean" not in found:
        raise RenderFailed(f"{Path(path).name}: no audio volume could be measured")
    return found["mean"], found.get("max", found["mean"])


def loudness(path: Path, *, exe: str | None = None, timeout_s: float = 120.0) -> float:
    """Integrated loudness of the first audio stream in LUFS (EBU R128)."""
    proc = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-af", "ebur128=framelog=quiet", "-f", "null", "-"],
                      what=f"measuring the loudness of {Path(path).name}", timeout_s=timeout_s, exe=exe)
    found = re.findall(r"I:\s*(-?[\d.]+|-inf) LUFS", proc.stderr)
    if not found:
        raise RenderFailed(f"{Path(path).name}: no loudness could be measured")
    return float(found[-1])


# A peak below this is silence: a file whose sound never gets louder is broken, not quiet.
SILENT_DB = -60.0


def video_problems(path: Path, *, width: int, height: int, duration_s: float, exe: str | None = None,
                   min_tolerance_s: float = 0.5, each_stream: bool = True) -> tuple[list[str], dict]:
    """ffprobe a finished video: H.264 at the frame size, AAC, the planned length (each stream's too when
    `each_stream`), sound that is not silence. What is wrong, and what was measured."""
    info = probe(path)
    v, a = info.video, info.audio
    problems = []
    if v is None or v.codec != "h264":
        problems.append(f"video stream is {v.codec if v else 'missing'}, not h264")
    elif (v.width, v.height) != (width, height):
        problems.append(f"picture is {v.width}x{v.height}, not {width}x{height}")
    if a is None or a.codec != "aac":
        problems.append(f"audio stream is {a.codec if a else 'missing'}, not aac")
    length = info.duration_s or 0.0
    tolerance = max(min_tolerance_s, duration_s * 0.02)
    if abs(length - duration_s) > tolerance:
        problems.append(f"it lasts {length:.2f} s instead of {duration_s:.2f} s")
    if each_stream:
        for stream in (v, a):
            if stream is not None and stream.duration_s is not None and abs(stream.duration_s - duration_s) > tolerance:
                problems.append(f"its {stream.kind} lasts {stream.duration_s:.2f} s instead of {duration_s:.2f} s")
    mean_db = max_db = None
    if a is not None:
        mean_db, max_db = volume(path, exe=exe)
        if max_db < SILENT_DB:
            problems.append(f"its sound is silent (peak {max_db} dBFS)")
    return problems, {"duration_s": round(length, 3), "mean_volume_db": mean_db, "max_volume_db": max_db}
