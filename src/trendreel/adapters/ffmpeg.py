"""ffmpeg and ffprobe: where they are, running ffmpeg with a time limit, and what a media file holds.

Which ffmpeg (`ffmpeg_exe`): a configured path (`render.ffmpeg`, `edit.ffmpeg`) when set; else, for
rendering and editing, the static build shipped by imageio-ffmpeg (libx264, libass, freetype, the same
version on every machine), then `ffmpeg` on PATH. The static build comes first there because the
render depends on its filters (xfade, zoompan, subtitles, loudnorm, sidechaincompress) and it was
measured faster than Debian's ffmpeg 5.1 on the same slideshow. The sample site and the video index
ask for `system_first=True`: the system ffmpeg, then the static build (their scene-cut thresholds were
measured with the system one).
Probing (`probe`) uses `ffprobe` when it is on PATH (imageio-ffmpeg ships none), else PyAV.

Failures raise `error`, a class the caller passes (RenderFailed, ExtractionFailed, ...), so each stage
keeps reporting its own error type; the message names what was being done and ends with ffmpeg's last
lines. A missing program is a ConfigError that says what to install or set. Each ffmpeg and ffprobe carries
its owner's token and dies with it (`trendreel.adapters.owner`), so a killed render leaves none running.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from trendreel.adapters.owner import child_kwargs
from trendreel.errors import ConfigError, TrendreelError

__all__ = ["FfmpegFailed", "upload_bitrate_k", "Probe", "StreamInfo", "ffmpeg_exe", "ffprobe_exe", "probe", "run_ffmpeg", "stderr_tail"]


class FfmpegFailed(TrendreelError):
    """ffmpeg or ffprobe failed, ran too long, or could not read a file (when the caller names no error class)."""


def ffmpeg_exe(configured: Path | None = None, *, system_first: bool = False, setting: str = "render.ffmpeg") -> str:
    """The ffmpeg to run (see the module docstring for the order); `setting` is named when none is found."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ConfigError(f"{setting} points to {path}, which is not a file")
        return str(path)
    found = shutil.which("ffmpeg") if system_first else None
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        found = shutil.which("ffmpeg")
        if found:
            return found
    raise ConfigError(f"ffmpeg is needed: install ffmpeg (Debian package ffmpeg) or the imageio-ffmpeg package, "
                      f"or set {setting}")


def ffprobe_exe() -> str | None:
    """ffprobe on PATH, or None (then `probe` reads files with PyAV)."""
    return shutil.which("ffprobe")


def stderr_tail(stderr: str | bytes, lines: int = 4, *, path: Path | None = None) -> str:
    """ffmpeg's last message lines, joined; a file's full path is shortened to its name (the user knows which)."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    rows = [r.strip() for r in (stderr or "").splitlines() if r.strip()]
    text = " | ".join(rows[-lines:])[-600:] or "no message"
    return text.replace(str(path), Path(path).name) if path is not None else text


def run_ffmpeg(args: list[str], *, what: str, timeout_s: float, cwd: Path | None = None, exe: str | None = None,
               check: bool = True, error: type[Exception] = FfmpegFailed, timeout_setting: str | None = None,
               text: bool = True) -> subprocess.CompletedProcess:
    """Run ffmpeg with `args` (after -hide_banner -nostdin -y).

    Raises `error` when ffmpeg cannot start or runs past `timeout_s` (naming `timeout_setting` to raise),
    and, with `check`, when it exits non-zero (with its last lines). Without `check` the caller reads
    the exit code and stderr itself. `text=False` keeps stdout and stderr as bytes (raw frames on stdout).
    """
    cmd = [exe or ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=text, errors="replace" if text else None,
                              timeout=timeout_s, stdin=subprocess.DEVNULL, **child_kwargs())
    except subprocess.TimeoutExpired as exc:
        hint = f" (raise {timeout_setting})" if timeout_setting else ""
        raise error(f"{what}: ffmpeg ran longer than {timeout_s:g} s{hint}") from exc
    except OSError as exc:
        raise error(f"{what}: cannot start ffmpeg ({exc})") from exc
    if check and proc.returncode != 0:
        raise error(f"{what}: ffmpeg failed: {stderr_tail(proc.stderr)}")
    return proc


@dataclass(frozen=True)
class StreamInfo:
    kind: str  # video | audio | other
    codec: str
    width: int = 0  # as stored; a phone video may be shown turned by `rotation`
    height: int = 0
    fps: float = 0.0
    sample_rate: int = 0
    channels: int = 0
    duration_s: float | None = None
    frames: int | None = None
    rotation: int = 0  # degrees the picture is turned when shown (ffprobe's display matrix)


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


def _rotation(stream: dict) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return int(float(side["rotation"]))
    return int(_float((stream.get("tags") or {}).get("rotate")) or 0)


def probe(path: Path, *, timeout_s: float = 60.0, error: type[Exception] = FfmpegFailed) -> Probe:
    """Streams and duration of a media file; `error` when it cannot be read at all."""
    path = Path(path)
    ffprobe = ffprobe_exe()
    if ffprobe is None:
        return _probe_av(path, error)
    try:
        proc = subprocess.run([ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
                              capture_output=True, text=True, errors="replace", timeout=timeout_s, stdin=subprocess.DEVNULL,
                              **child_kwargs())
    except subprocess.TimeoutExpired as exc:
        raise error(f"probing {path.name} took more than {timeout_s:g} s") from exc
    except OSError as exc:
        raise error(f"probing {path.name}: cannot start ffprobe ({exc})") from exc
    if proc.returncode != 0:
        raise error(f"{path.name} is not a readable media file: {stderr_tail(proc.stderr, 1, path=path)}")
    try:
        data = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise error(f"probing {path.name}: unreadable ffprobe output") from exc
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
            duration_s=_float(s.get("duration")), frames=int(frames) if str(frames or "").isdigit() else None,
            rotation=_rotation(s) if kind == "video" else 0))
    fmt = data.get("format") or {}
    return Probe(duration_s=_float(fmt.get("duration")), streams=tuple(streams), format=fmt.get("format_name") or "")


def _probe_av(path: Path, error: type[Exception]) -> Probe:
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
    except (av.FFmpegError, OSError, ValueError) as exc:  # PyAV's errors, some of them also OSError/ValueError
        raise error(f"{path.name} is not a readable media file: {exc}") from exc


def upload_bitrate_k(width: int, height: int, fps: int) -> int:
    """The video bit rate platforms recommend for uploads at this frame size (YouTube's SDR table:
    1080p 8 Mbit/s, 720p 5, 1440p 16, 2160p 35-45; 1.5x at 48-60 fps), by the frame's short side."""
    short = min(width, height)
    base = next(k for side, k in ((2160, 40000), (1440, 16000), (1080, 8000), (720, 5000), (480, 2500), (0, 1000))
                if short >= side)
    return base * 3 // 2 if fps > 30 else base
