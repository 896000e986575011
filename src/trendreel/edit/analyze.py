"""What is in a video, from one ffmpeg pass: silences, frozen pictures and shot changes.

One decode feeds three detectors:

    [0:v]scale=-2:320:flags=area,freezedetect=n=-75dB:d=0.5,freezedetect=n=-60dB:d=0.5,scdet=threshold=10[v];
    [0:a]silencedetect=n=-45dB:d=0.2[a]

The picture is scaled down first (detection needs no detail; at 1080x1920 it would cost more than the
decode), averaging each block of pixels (`area`): that also averages away the encoder's noise on a
held frame, so -75 dB tells a held frame (frozen) from a still under a slow pan or zoom (moving),
which -60 dB does not (docs/edit.md, "Frozen picture"). The decoder keeps its deblocking filter:
without it (`-skip_loop_filter all`, a fifth of the decode's time) the encoder's refinements of a
held frame show blockier and broke freezes even at -60 dB.

A keyframe inside a held stretch re-encodes the picture, a jump that can pass -75 dB and split the
freeze, leaving a tail too short to report. So two freezedetects run: a frozen picture is a stretch
frozen at -60 dB (ffmpeg's default, which a keyframe does not break, but which also takes in slow
motion over smooth stills) that holds at least one stretch frozen at -75 dB (which slow motion
never does); it counts from the -60 dB stretch's start to its end. Silences are detected from 0.2 s so the plan also knows the short pauses between sentences
(where a trim may cut); the plan keeps only those of at least `min_silence_s` as dead air. A freeze or
silence still open when the file ends closes at the end. Shot changes are the frames whose scene
change score (ffmpeg's `scdet`, 0..100) exceeds 100 x `scene_threshold`; scdet logs their times and
passes every frame on (a `select` would leave the output empty when nothing changes, which ffmpeg
treats as a failure).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from trendreel.render.ffmpeg import run_ffmpeg
from trendreel.settings import EditSettings

__all__ = ["Analysis", "PAUSE_S", "analysis_graph", "analyze", "from_render", "parse_analysis"]

PAUSE_S = 0.2  # shortest pause reported (a possible trim point)
ANALYSIS_HEIGHT = 320

_SILENCE_START = re.compile(r"silence_start:\s*(-?[\d.]+)")
_SILENCE_END = re.compile(r"silence_end:\s*(-?[\d.]+)")
_FREEZE_START = re.compile(r"freeze_start:\s*(-?[\d.]+)")
_FREEZE_END = re.compile(r"freeze_end:\s*(-?[\d.]+)")
_INSTANCE = re.compile(r"(Parsed_freezedetect_\d+)")
HOLD_DB = -60.0  # the looser threshold whose stretches a held frame's keyframes do not split
_SCENE_TIME = re.compile(r"lavfi\.scd\.time:\s*(-?[\d.]+)")


@dataclass
class Analysis:
    duration_s: float
    silences: list[tuple[float, float]] = field(default_factory=list)  # every silence of at least PAUSE_S
    freezes: list[tuple[float, float]] = field(default_factory=list)
    shot_cuts: list[float] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the pass
    source: str = "decode"  # decode: both detectors ran; sound: silencedetect only (the render said the picture
    #                         never holds); render: all from what the render recorded, nothing decoded

    def summary(self) -> dict:
        r = lambda spans: [[round(a, 3), round(b, 3)] for a, b in spans]  # noqa: E731
        return {"silences": r(self.silences), "freezes": r(self.freezes),
                "shot_cuts": [round(t, 3) for t in self.shot_cuts], "seconds": round(self.seconds, 3), "from": self.source}


def analysis_graph(settings: EditSettings, *, height: int, has_audio: bool = True) -> str:
    freeze_d = max(0.1, min(settings.min_freeze_s, 0.5))
    scale = f"scale=-2:{ANALYSIS_HEIGHT}:flags=area," if height > ANALYSIS_HEIGHT else ""
    hold = f"freezedetect=n={HOLD_DB:g}dB:d={freeze_d:g}," if settings.freeze_noise_db < HOLD_DB else ""
    graph = (f"[0:v]{scale}freezedetect=n={settings.freeze_noise_db:g}dB:d={freeze_d:g},{hold}"
             f"scdet=threshold={settings.scene_threshold * 100:g}[v]")
    if has_audio:
        graph += f";[0:a]silencedetect=n={settings.silence_db:g}dB:d={PAUSE_S:g}[a]"
    return graph


def _spans(starts: list[float], ends: list[float], duration: float) -> list[tuple[float, float]]:
    out = []
    for i, a in enumerate(starts):
        b = ends[i] if i < len(ends) else duration
        out.append((max(0.0, a), min(duration, b)))
    return [(a, b) for a, b in out if b > a]


def parse_analysis(stderr: str, duration: float, *, strict: str | None = None, loose: str | None = None) -> Analysis:
    """The detectors' findings in ffmpeg's log. With `strict` and `loose` (the two freezedetects'
    instance names, e.g. Parsed_freezedetect_1 and _2) a freeze is a loose stretch holding a strict one."""
    silences, freezes, cuts = [], [], []
    s_start: list[float] = []
    s_end: list[float] = []
    f_start: dict[str, list[float]] = {}
    f_end: dict[str, list[float]] = {}
    for line in stderr.splitlines():
        if "silencedetect" in line:
            if m := _SILENCE_START.search(line):
                s_start.append(float(m.group(1)))
            if m := _SILENCE_END.search(line):
                s_end.append(float(m.group(1)))
        elif "freezedetect" in line:
            name = m.group(1) if (m := _INSTANCE.search(line)) else "freezedetect"
            if m := _FREEZE_START.search(line):
                f_start.setdefault(name, []).append(float(m.group(1)))
            elif m := _FREEZE_END.search(line):
                f_end.setdefault(name, []).append(float(m.group(1)))
        elif m := _SCENE_TIME.search(line):
            cuts.append(float(m.group(1)))
    silences = _spans(s_start, s_end, duration)
    if strict and loose:
        held = _spans(f_start.get(strict, []), f_end.get(strict, []), duration)
        wide = _spans(f_start.get(loose, []), f_end.get(loose, []), duration)
        freezes = [(a, b) for a, b in wide if any(min(b, d) - max(a, c) > 1e-6 for c, d in held)]
    else:
        freezes = _spans([t for v in f_start.values() for t in v], [t for v in f_end.values() for t in v], duration)
    return Analysis(duration_s=duration, silences=silences, freezes=freezes, shot_cuts=sorted(set(cuts)))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recorded_timeline(details: dict | None, path: Path) -> dict | None:
    """The render's own account of this file's time line (render details `timeline`: speech spans,
    held frames, other sound), or None when there is none (an older render, an edit, another tool) or
    the file is not the one the render made (its size or hash differ)."""
    timeline = (details or {}).get("timeline")
    if not isinstance(timeline, dict) or "speech_s" not in timeline or "sha256" not in timeline:
        return None
    path = Path(path)
    if path.stat().st_size != timeline.get("bytes") or _file_sha256(path) != timeline["sha256"]:
        return None
    return timeline


def from_render(timeline: dict, duration: float) -> Analysis:
    """Silences from where the render's voice speaks: every gap between phrases (and before the first,
    after the last) of at least PAUSE_S; no freezes (the render holds no picture still)."""
    silences, t = [], 0.0
    for a, b in sorted((float(a), float(b)) for a, b in timeline["speech_s"]):
        if a - t >= PAUSE_S:
            silences.append((t, min(a, duration)))
        t = max(t, b)
    if duration - t >= PAUSE_S:
        silences.append((t, duration))
    return Analysis(duration_s=duration, silences=silences, source="render")


def analyze(path: Path, settings: EditSettings, *, duration: float, height: int, exe: str,
            has_audio: bool = True, timeline: dict | None = None) -> Analysis:
    """Silences, freezes and shot changes of a video, in one ffmpeg pass. With the render's `timeline`
    (recorded_timeline) for a picture with no held frames, the picture is not decoded: silences come
    from its speech spans, or, where other sound (music) plays too, from a pass over the sound alone."""
    t = time.perf_counter()
    if timeline is not None and timeline.get("held_frames") is False:
        if not timeline.get("other_sound"):
            found = from_render(timeline, duration)
        else:
            proc = run_ffmpeg(["-vn", "-i", str(path), "-af", f"silencedetect=n={settings.silence_db:g}dB:d={PAUSE_S:g}",
                               "-f", "null", "-"], what="analysing the sound", timeout_s=settings.timeout_s, exe=exe)
            found = parse_analysis(proc.stderr, duration)
            found.source = "sound"
        found.seconds = time.perf_counter() - t
        return found
    maps = ["-map", "[v]"] + (["-map", "[a]"] if has_audio else [])
    proc = run_ffmpeg(["-i", str(path), "-filter_complex", analysis_graph(settings, height=height, has_audio=has_audio),
                       *maps, "-f", "null", "-"], what="analysing the video", timeout_s=settings.timeout_s, exe=exe)
    first = 1 if height > ANALYSIS_HEIGHT else 0  # the scale filter, when there is one, is instance 0
    two = settings.freeze_noise_db < HOLD_DB
    found = parse_analysis(proc.stderr, duration, strict=f"Parsed_freezedetect_{first}" if two else None,
                           loose=f"Parsed_freezedetect_{first + 1}" if two else None)
    found.seconds = time.perf_counter() - t
    return found
