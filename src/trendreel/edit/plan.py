"""The edit plan, decided before ffmpeg runs: which spans of the source are kept, and where cues go.

Pure functions of times in seconds (unit-tested without ffmpeg):
- `dead_spans`: silences of at least `min_silence_s` and frozen pictures of at least `min_freeze_s`
  become removals, minus a pause of `pad_s` kept at each inner side (the start and the end of the
  video are cut to the edge). Each removed piece says why: `dead_air` (silent and frozen), `silence`
  or `frozen`.
- `frozen_kept`: the frozen stretches still in the edit, on its timeline (animated under speech).
- `keep_segments`: the whole video minus the removals.
- `trim_to`: longer than the target, whole scenes are dropped from the end (never the first scene,
  nor one holding the key line); when a whole scene would undershoot the target, the scene is cut
  at its last pause that fits instead; only as a last resort is the video cut mid-sound at the target.
- `snap`: boundaries on the frame grid, so picture and sound cut at the same instants.
- `retime_cues`: subtitle cues moved to the kept timeline (cues inside removed spans are dropped,
  cues across a cut are clipped to it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_PIECE_S = 0.05  # removals and cues shorter than this are not worth a cut
MIN_CUE_S = 0.1
TRIM_SLACK_S = 0.05

__all__ = ["Cue", "Removal", "Segment", "dead_spans", "format_srt", "frozen_kept", "key_line_span", "keep_segments", "map_time",
           "output_length", "parse_srt", "removed_by_reason", "retime_cues", "scene_units", "snap", "source_time", "trim_to"]


@dataclass(frozen=True)
class Segment:
    """A span of the source in seconds, [start, end)."""

    start: float
    end: float

    @property
    def length(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True)
class Removal:
    start: float
    end: float
    reason: str  # dead_air | silence | frozen | trim

    @property
    def length(self) -> float:
        return max(0.0, self.end - self.start)

    def as_dict(self) -> dict:
        return {"start_s": round(self.start, 3), "end_s": round(self.end, 3), "reason": self.reason}


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and a <= out[-1][1] + 1e-9:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _covered(t0: float, t1: float, spans: list[tuple[float, float]]) -> bool:
    """Whether [t0, t1] lies inside one of the (merged) spans."""
    mid = (t0 + t1) / 2
    return any(a - 1e-9 <= mid <= b + 1e-9 for a, b in spans)


def dead_spans(silences: list[tuple[float, float]], freezes: list[tuple[float, float]], *, duration: float,
               min_silence_s: float, min_freeze_s: float, pad_s: float, cut_frozen: bool | str = "silent") -> list[Removal]:
    """Removals for dead air and frozen picture, each piece labelled with its reason, in time order.

    `cut_frozen`: "cut" (or True) cuts a frozen picture with its sound; "silent" and "animate" cut only
    the parts of a frozen picture whose sound is silent too (speech under a frozen picture stays; with
    "animate" the edit then moves that picture, see `frozen_kept`); "keep" (or False) cuts only silence.
    """
    mode = {True: "cut", False: "keep"}.get(cut_frozen, cut_frozen)
    mode = "silent" if mode == "animate" else mode
    silent = _union([(max(0.0, a), min(duration, b)) for a, b in silences if b - a >= min_silence_s - 1e-9])
    frozen = _union([(max(0.0, a), min(duration, b)) for a, b in freezes if b - a >= min_freeze_s - 1e-9]) if mode != "keep" else []
    if mode == "silent":
        quiet = _union([(max(0.0, a), min(duration, b)) for a, b in silences])
        frozen = [(max(a, c), min(b, d)) for a, b in frozen for c, d in quiet if min(b, d) - max(a, c) > MIN_PIECE_S]
    out: list[Removal] = []
    for a, b in _union(silent + frozen):
        start = a if a <= 1e-6 else a + pad_s
        end = b if b >= duration - 1e-6 else b - pad_s
        if end - start < MIN_PIECE_S:
            continue
        # split at every edge of a silence or freeze inside, and label each piece
        edges = sorted({start, end, *(x for s in silent + frozen for x in s if start < x < end)})
        for p, q in zip(edges, edges[1:]):
            is_frozen = _covered(p, q, frozen)
            is_silent = _covered(p, q, silent) or (mode == "silent" and is_frozen)  # "silent" kept only quiet stills
            reason = "dead_air" if is_silent and is_frozen else ("silence" if is_silent else "frozen")
            if out and out[-1].reason == reason and abs(out[-1].end - p) < 1e-9:
                out[-1] = Removal(out[-1].start, q, reason)
            else:
                out.append(Removal(p, q, reason))
    return out


def keep_segments(duration: float, removals: list[Removal]) -> list[Segment]:
    """The whole video [0, duration) minus the removals."""
    segments, t = [], 0.0
    for a, b in _union([(r.start, r.end) for r in removals]):
        if a - t > 1e-9:
            segments.append(Segment(t, a))
        t = max(t, b)
    if duration - t > 1e-9:
        segments.append(Segment(t, duration))
    return segments


def frozen_kept(freezes: list[tuple[float, float]], segments: list[Segment], *, min_s: float) -> list[Segment]:
    """The frozen stretches left in the edit, on its timeline: each freeze's kept parts, joined where
    they meet at a cut (the same still on both sides of it), at least `min_s` long."""
    pieces: list[tuple[float, float]] = []
    for a, b in _union(freezes):
        offset = 0.0
        for s in segments:
            lo, hi = max(a, s.start), min(b, s.end)
            if hi - lo > 1e-6:
                pieces.append((offset + lo - s.start, offset + hi - s.start))
            offset += s.length
    return [Segment(a, b) for a, b in _union(pieces) if b - a >= min_s - 1e-9]


def output_length(segments: list[Segment]) -> float:
    return sum(s.length for s in segments)


def _kept_between(segments: list[Segment], a: float, b: float) -> float:
    return sum(max(0.0, min(s.end, b) - max(s.start, a)) for s in segments)


def _cut_out(segments: list[Segment], a: float, b: float) -> list[Segment]:
    out = []
    for s in segments:
        if s.end <= a or s.start >= b:
            out.append(s)
            continue
        if s.start < a:
            out.append(Segment(s.start, a))
        if s.end > b:
            out.append(Segment(b, s.end))
    return [s for s in out if s.length > 1e-9]


def map_time(t: float, segments: list[Segment]) -> float:
    """A source time on the kept timeline; inside a removed span it moves to the cut that replaced the span."""
    offset = 0.0
    for s in segments:
        if t < s.start:
            return offset  # in the gap before this segment: the cut point, for either side
        if t <= s.end:
            return offset + (t - s.start)
        offset += s.length
    return offset


def source_time(t_out: float, segments: list[Segment]) -> float:
    """The source time shown at `t_out` on the kept timeline."""
    offset = 0.0
    for s in segments:
        if t_out <= offset + s.length:
            return s.start + (t_out - offset)
        offset += s.length
    return segments[-1].end if segments else 0.0


def trim_to(segments: list[Segment], target: float, *, units: list[Segment], pauses: list[tuple[float, float]],
            protect: Segment | None = None) -> tuple[list[Segment], list[Removal], list[str]]:
    """Segments no longer than `target`: trailing scenes dropped, else cut at a pause; the removals and notes."""
    notes: list[str] = []
    removed: list[Removal] = []
    if output_length(segments) <= target + TRIM_SLACK_S:
        return segments, removed, notes
    if not units:
        units = [Segment(segments[0].start, segments[-1].end)] if segments else []
    end = segments[-1].end if segments else 0.0

    def droppable(i: int, u: Segment) -> bool:
        return i > 0 and not (protect and u.start < protect.end and protect.start < u.end)

    def cut_at_pause(u: Segment, excess: float, floor: float) -> float | None:
        """The latest pause midpoint c in u (after `floor`) whose removal of [c, end) removes at least `excess`."""
        best = None
        for a, b in pauses:
            c = (a + b) / 2
            if u.start < c < u.end and c >= floor and _kept_between(segments, c, end) >= excess - 1e-6:
                best = c if best is None else max(best, c)
        return best

    for i in range(len(units) - 1, -1, -1):
        u = units[i]
        total = output_length(segments)
        excess = total - target
        if excess <= TRIM_SLACK_S:
            break
        kept = _kept_between(segments, u.start, end)  # this unit and everything after it still kept
        if kept <= 1e-9:
            continue
        floor = protect.end if protect else 0.0
        if droppable(i, u) and kept <= excess + 1e-6:
            segments = _cut_out(segments, u.start, end)
            removed.append(Removal(u.start, end, "trim"))
            notes.append(f"dropped scene {i + 1} ({kept:.2f} s) to fit {target:g} s")
            end = u.start
            continue
        c = cut_at_pause(u, excess, floor)
        if c is not None:
            segments = _cut_out(segments, c, end)
            removed.append(Removal(c, end, "trim"))
            notes.append(f"cut scene {i + 1} at a pause at {c:.2f} s to fit {target:g} s")
            end = c
            continue
        if not droppable(i, u):
            break  # an earlier cut would take this scene (the key line, or the first scene) with it
        segments = _cut_out(segments, u.start, end)
        removed.append(Removal(u.start, end, "trim"))
        notes.append(f"dropped scene {i + 1} ({kept:.2f} s) to fit {target:g} s: no pause to cut at")
        end = u.start
    if output_length(segments) > target + TRIM_SLACK_S:  # no scene left to drop and no pause: a hard cut
        c = source_time(target, segments)
        segments = _cut_out(segments, c, end)
        removed.append(Removal(c, end, "trim"))
        notes.append(f"cut at {target:g} s in the middle of the sound: no pause to cut at")
    return segments, removed, notes


def snap(segments: list[Segment], fps: float, duration: float) -> list[Segment]:
    """Boundaries on the frame grid; empty segments dropped, touching ones merged."""
    out: list[Segment] = []
    last = int(duration * fps + 1e-6)
    for s in segments:
        a = min(round(s.start * fps), last)
        b = min(round(s.end * fps), last) if s.end < duration - 1e-6 else last
        if b <= a:
            continue
        if out and round(out[-1].end * fps) >= a:
            out[-1] = Segment(out[-1].start, b / fps)
        else:
            out.append(Segment(a / fps, b / fps))
    return out


def _minus(a: float, b: float, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """[a, b) less the (merged, sorted) spans."""
    out, t = [], a
    for x, y in spans:
        if y <= t or x >= b:
            continue
        if x > t:
            out.append((t, x))
        t = max(t, y)
    if b > t:
        out.append((t, b))
    return out


def removed_by_reason(duration: float, segments: list[Segment], removals: list[Removal]) -> dict[str, float]:
    """Seconds removed per reason, counted on what was really cut (after snapping), each second once:
    by the first removal that covers it (dead air before trims)."""
    out: dict[str, float] = {}
    counted = [(s.start, s.end) for s in segments]
    for r in removals:
        pieces = _minus(r.start, r.end, _union(counted))
        gone = sum(b - a for a, b in pieces)
        if gone > 1e-6:
            out[r.reason] = round(out.get(r.reason, 0.0) + gone, 3)
        counted += pieces
    rest = round(duration - output_length(segments) - sum(out.values()), 3)
    if rest > 0.01:  # frame rounding
        out["other"] = rest
    return out


def scene_units(details: dict, duration: float, shot_cuts: list[float]) -> tuple[list[Segment], str]:
    """Scenes of the source in its own time: the render plan's (midway through each crossfade), an earlier
    edit's, else the detected shot changes, else none; and where they came from."""
    scenes = ((details or {}).get("plan") or {}).get("scenes") or []
    if not scenes:
        scenes = ((details or {}).get("edit") or {}).get("scenes") or []
    if scenes:
        starts = [float(s["start_s"]) for s in scenes]
        ends = [float(s["start_s"]) + float(s["duration_s"]) for s in scenes]
        bounds = [0.0] + [(starts[i] + ends[i - 1]) / 2 if ends[i - 1] > starts[i] else starts[i]
                          for i in range(1, len(scenes))] + [duration]
        units = [Segment(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]
        return units, "render plan"
    cuts = sorted(t for t in shot_cuts if 0.2 < t < duration - 0.2)
    if cuts:
        bounds = [0.0, *cuts, duration]
        return [Segment(a, b) for a, b in zip(bounds, bounds[1:]) if b > a], "shot detection"
    return [], "none"


# ---- subtitles -----------------------------------------------------------------------------------

_SRT_TIME = re.compile(r"(\d+):(\d{2}):(\d{2})[,.](\d{3})")


def _seconds(stamp: str) -> float:
    m = _SRT_TIME.search(stamp)
    if not m:
        raise ValueError(f"not an SRT time: {stamp!r}")
    h, mi, s, ms = (int(x) for x in m.groups())
    return h * 3600 + mi * 60 + s + ms / 1000


def parse_srt(text: str) -> list[Cue]:
    """Cues of an .srt (blocks of index, `start --> end`, text lines); malformed blocks are skipped."""
    cues = []
    for block in re.split(r"\r?\n\s*\r?\n", text.strip().lstrip("\ufeff")):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        for i, ln in enumerate(lines[:2]):
            if "-->" in ln:
                a, _, b = ln.partition("-->")
                try:
                    cues.append(Cue(_seconds(a), _seconds(b), "\n".join(lines[i + 1:])))
                except ValueError:
                    pass
                break
    return cues


def _stamp(t: float) -> str:
    ms = max(0, round(t * 1000))
    h, rem = divmod(ms, 3600000)
    m, rem = divmod(rem, 60000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def format_srt(cues: list[Cue]) -> str:
    return "".join(f"{i}\n{_stamp(c.start)} --> {_stamp(c.end)}\n{c.text}\n\n" for i, c in enumerate(cues, 1))


def retime_cues(cues: list[Cue], segments: list[Segment]) -> list[Cue]:
    """Cues on the kept timeline: dropped when cut away, clipped at a cut."""
    out = []
    for c in cues:
        a, b = map_time(c.start, segments), map_time(c.end, segments)
        if b - a >= MIN_CUE_S:
            out.append(Cue(round(a, 3), round(b, 3), c.text))
    return out


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def key_line_span(cues: list[Cue], hook: str | None) -> tuple[Segment, str] | None:
    """The key line's time span: the cues that say the story's hook (from the first), else the first cue."""
    if not cues:
        return None
    want = _letters(hook or "")
    if want:
        hits = []
        for c in cues:
            got = _letters(c.text)
            if got and got in want:
                hits.append(c)
            elif hits:
                break
        if hits:
            return Segment(hits[0].start, hits[-1].end), " ".join(h.text.replace("\n", " ") for h in hits)
    return Segment(cues[0].start, cues[0].end), cues[0].text.replace("\n", " ")
