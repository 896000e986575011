"""Render's own uses of ffmpeg: its failures as RenderFailed, loudness and volume, the checks of a finished video.

Finding ffmpeg and ffprobe, running them and probing files is `trendreel.adapters.ffmpeg`; the render
and edit stages call it through `run_ffmpeg` and `probe` here, which report failures as RenderFailed
(the edit stage turns those into EditFailed).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from trendreel.adapters import ffmpeg
from trendreel.adapters.ffmpeg import Probe
from trendreel.render.errors import RenderFailed

__all__ = ["SILENT_DB", "frozen_spans", "linear_gain_db", "loudness", "probe", "run_ffmpeg", "video_problems", "volume"]


def run_ffmpeg(args: list[str], *, what: str, timeout_s: float, cwd: Path | None = None,
               exe: str | None = None) -> subprocess.CompletedProcess:
    """Run ffmpeg with `args`; RenderFailed (with ffmpeg's last lines) on a non-zero exit or timeout."""
    return ffmpeg.run_ffmpeg(args, what=what, timeout_s=timeout_s, cwd=cwd, exe=exe, error=RenderFailed,
                             timeout_setting="render.timeout_s")


def probe(path: Path, *, timeout_s: float = 60.0) -> Probe:
    """Streams and duration of a media file; RenderFailed when it cannot be read at all."""
    return ffmpeg.probe(path, timeout_s=timeout_s, error=RenderFailed)


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


def linear_gain_db(measured: dict, *, target_i: float, target_tp: float, target_lra: float = 11.0) -> float | None:
    """The gain loudnorm's second pass would apply in linear mode, or None where it would go dynamic.

    In linear mode loudnorm is one static gain (target I minus measured I) when the peak stays under
    the target true peak and the range under the target range (af_loudnorm.c, init); it still runs at
    192 kHz for that. `volume` applies the same gain at the file's own rate, several CPU seconds less
    per minute of sound. `measured` is loudnorm's first-pass JSON."""
    try:
        i, tp = float(measured["input_i"]), float(measured["input_tp"])
        lra, thresh = float(measured["input_lra"]), float(measured["input_thresh"])
    except (KeyError, TypeError, ValueError):
        return None
    if tp == 99 or thresh == -70 or lra == 0 or i == 0 or not all(map(_finite, (i, tp, lra))):
        return None
    gain = target_i - i
    if tp + gain <= target_tp and lra <= target_lra:
        return gain
    return None


def _finite(x: float) -> bool:
    return x not in (float("inf"), float("-inf")) and x == x


_FREEZE = re.compile(r"freeze_(start|end):\s*([\d.]+)")


def frozen_spans(path: Path, *, noise: float = 0.001, min_s: float = 1.0, exe: str | None = None,
                 timeout_s: float = 300.0) -> list[tuple[float, float]]:
    """Spans (start, end) in seconds where the picture does not change (ffmpeg freezedetect: frames differing by
    less than `noise` of full scale, mean absolute difference, for at least `min_s`); a freeze running to the
    end of the file ends at its duration."""
    proc = run_ffmpeg(["-i", str(path), "-map", "0:v:0", "-vf", f"freezedetect=n={noise}:d={min_s}", "-f", "null", "-"],
                      what=f"looking for a frozen picture in {Path(path).name}", timeout_s=timeout_s, exe=exe)
    spans, start = [], None
    for kind, t in _FREEZE.findall(proc.stderr):
        if kind == "start":
            start = float(t)
        elif start is not None:
            spans.append((start, float(t)))
            start = None
    if start is not None:
        end = probe(path).duration_s or start
        spans.append((start, max(start, end)))
    return spans


# A peak below this is silence: a file whose sound never gets louder is broken, not quiet.
SILENT_DB = -60.0


def stream_problems(info: Probe, *, width: int, height: int, duration_s: float, min_tolerance_s: float) -> list[str]:
    """What is wrong with a finished video's streams: H.264 at the frame size, AAC, the planned length
    (within min_tolerance_s or 2 %)."""
    v, a = info.video, info.audio
    problems = []
    if v is None or v.codec != "h264":
        problems.append(f"video stream is {v.codec if v else 'missing'}, not h264")
    elif (v.width, v.height) != (width, height):
        problems.append(f"picture is {v.width}x{v.height}, not {width}x{height}")
    if a is None or a.codec != "aac":
        problems.append(f"audio stream is {a.codec if a else 'missing'}, not aac")
    length = info.duration_s or 0.0
    if abs(length - duration_s) > max(min_tolerance_s, duration_s * 0.02):
        problems.append(f"it lasts {length:.2f} s instead of {duration_s:.2f} s")
    return problems


def video_problems(path: Path, *, width: int, height: int, duration_s: float, exe: str | None = None,
                   min_tolerance_s: float = 0.5, each_stream: bool = True) -> tuple[list[str], dict]:
    """ffprobe a finished video: H.264 at the frame size, AAC, the planned length (each stream's too when
    `each_stream`), sound that is not silence. What is wrong, and what was measured."""
    info = probe(path)
    v, a = info.video, info.audio
    problems = stream_problems(info, width=width, height=height, duration_s=duration_s, min_tolerance_s=min_tolerance_s)
    length = info.duration_s or 0.0
    tolerance = max(min_tolerance_s, duration_s * 0.02)
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
