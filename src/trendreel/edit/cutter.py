"""The default editor: dead air and frozen picture cut, trimmed to a target, key line emphasised, loudness normalised.

ffmpeg runs, none of them a per-frame Python loop:
1. analysis: one decode feeding freezedetect, scene detection and silencedetect (analyze.py);
2. loudness, pass 1: the kept sound alone (audio-only decode, atrim + concat) measured by loudnorm;
3. edit: one filtergraph — every kept segment cut out of the one decoded input (trim/atrim, the sound
   faded over 10 ms at each cut so it does not click), joined (concat), the key line's caption
   underlined by a highlight bar (drawbox, under the measured caption block: captions.py) and zoomed
   in slowly, frozen picture kept under speech zoomed gently in and out (one scale with a per-frame
   size, then crop), the measured loudness applied as one linear gain (loudnorm pass 2); H.264 + AAC,
   index at the front; the thumbnail is a second output of the same run (the edited picture at 1 s);
4. checks: ffprobe (streams, size, length), then one audio-only pass measuring the volume (sound not
   silent) and the loudness.
The .srt is re-timed to the cuts in Python (plan.retime_cues).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from contextlib import contextmanager
from pathlib import Path

from trendreel.adapters.ffmpeg import ffmpeg_exe, upload_bitrate_k
from trendreel.edit.analyze import analyze, recorded_timeline
from trendreel.edit.base import EditJob, EditOutput
from trendreel.edit.captions import caption_block, caption_font, highlight_bar
from trendreel.edit.errors import EditError, EditFailed
from trendreel.edit.plan import (
    Cue,
    Removal,
    Segment,
    dead_spans,
    format_srt,
    frozen_kept,
    keep_segments,
    key_line_span,
    map_time,
    output_length,
    parse_srt,
    removed_by_reason,
    retime_cues,
    scene_units,
    snap,
    trim_to,
)
from trendreel.render.errors import RenderFailed
from trendreel.render.ffmpeg import SILENT_DB, linear_gain_db, probe, run_ffmpeg, stream_problems
from trendreel.settings import EditSettings

log = logging.getLogger(__name__)

VERSION = "2"  # bump when the same settings would edit a video differently
SAMPLE_RATE = 48000
EDGE_FADE_S = 0.01  # sound faded in and out at each cut: no click
MIN_TARGET_S = 3.0
SETTINGS_NOT_IN_KEY = {"backend", "threads", "timeout_s", "ffmpeg", "target_seconds", "options"}
ANIMATE_MIN_S = 0.5  # frozen stretches left in the edit at least this long are animated (frozen = animate)
ANIMATE_HALF_S = 2.0  # about this long zooming in, then as long back out

__all__ = ["Cutter", "EditPlan", "audio_graph", "edit_command", "encode_args", "plan_edit", "settings_key",
           "video_graph"]


def settings_key(settings: EditSettings) -> str:
    data = settings.model_dump(mode="json", exclude=SETTINGS_NOT_IN_KEY)
    blob = json.dumps({"cutter": VERSION, **data}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@contextmanager
def _as_edit_failure():
    """ffmpeg helpers raise RenderFailed; here the same failure is an EditFailed."""
    try:
        yield
    except RenderFailed as exc:
        raise EditFailed(str(exc)) from exc


class EditPlan:
    """Keep segments (source seconds, on the frame grid) and what was removed, with the key line."""

    def __init__(self, *, duration: float, fps: float, segments: list[Segment], removals: list[Removal],
                 key_line: Segment | None, key_text: str | None, units: list[Segment], units_from: str,
                 notes: list[str], key_cues: list[Cue] | None = None, animate: list[Segment] | None = None,
                 details: dict | None = None):
        self.duration, self.fps, self.segments = duration, fps, segments
        self.removals, self.key_line, self.key_text = removals, key_line, key_text
        self.units, self.units_from, self.notes = units, units_from, notes
        self.key_cues = key_cues or []  # the key line's cues (source time), each with its caption's lines
        self.animate = animate or []  # frozen stretches kept under speech, on the edit's timeline
        self.details = details or {}  # the source row's details (the render plan names the captions' font)

    @property
    def length(self) -> float:
        return output_length(self.segments)

    @property
    def key_line_out(self) -> Segment | None:
        if self.key_line is None:
            return None
        a, b = map_time(self.key_line.start, self.segments), map_time(self.key_line.end, self.segments)
        return Segment(a, b) if b - a > 0.1 else None

    @property
    def key_cues_out(self) -> list[Cue]:
        """The key line's cues on the edit's timeline (a cue cut away is left out)."""
        out = []
        for c in self.key_cues:
            a, b = map_time(c.start, self.segments), map_time(c.end, self.segments)
            if b - a > 0.1:
                out.append(Cue(a, b, c.text))
        return out

    def summary(self) -> dict:
        removed = removed_by_reason(self.duration, self.segments, self.removals)
        gaps = len(self.segments) - 1 + (self.segments[0].start > 0) + (self.segments[-1].end < self.duration - 1e-6)
        out_scenes = []
        for u in self.units:
            a, b = map_time(u.start, self.segments), map_time(u.end, self.segments)
            if b - a > 1e-3:
                out_scenes.append({"start_s": round(a, 3), "duration_s": round(b - a, 3)})
        key = self.key_line_out
        return {
            "duration_before_s": round(self.duration, 3), "duration_after_s": round(self.length, 3),
            "segments_kept": len(self.segments), "segments_removed": gaps, "cuts": max(0, len(self.segments) - 1),
            "removed_s": removed, "removed_total_s": round(self.duration - self.length, 3),
            "kept": [[round(s.start, 3), round(s.end, 3)] for s in self.segments],
            "removed": [r.as_dict() for r in self.removals],
            "key_line": {"text": self.key_text, "start_s": round(key.start, 3), "end_s": round(key.end, 3)} if key else None,
            "scenes": out_scenes, "scenes_from": self.units_from, "notes": list(self.notes),
            "animated": [[round(s.start, 3), round(s.end, 3)] for s in self.animate],
            "animated_s": round(sum(s.length for s in self.animate), 3),
        }


def plan_edit(*, duration: float, fps: float, silences: list[tuple[float, float]], freezes: list[tuple[float, float]],
              shot_cuts: list[float], details: dict, cues, hook: str | None, settings: EditSettings,
              target: float | None) -> EditPlan:
    """Everything the edit run needs, from the analysis and what the source row knows."""
    removals = dead_spans(silences, freezes, duration=duration, min_silence_s=settings.min_silence_s,
                          min_freeze_s=settings.min_freeze_s, pad_s=settings.pad_s, cut_frozen=settings.frozen)
    segments = keep_segments(duration, removals)
    if not segments or output_length(segments) < 0.5:
        raise EditError("nothing is left after cutting dead air: the video is silent or frozen throughout "
                        "(lower edit.silence_db or raise edit.min_silence_s)")
    units, units_from = scene_units(details, duration, shot_cuts)
    key = key_line_span(cues, hook) if cues else None
    key_line, key_text = (key if key else (None, None))
    notes: list[str] = []
    if target is not None:
        if target < MIN_TARGET_S:
            raise EditError(f"target of {target:g} s is too short: an edited video lasts at least {MIN_TARGET_S:g} s")
        if key_line is not None:
            key_end = map_time(key_line.end, segments)
            if key_end > target + 1e-6:
                raise EditError(f"target of {target:g} s is too short: the key line alone ends at {key_end:.2f} s "
                                f"after the dead air is cut; give at least {key_end:.1f} s")
        pauses = [(a, b) for a, b in silences]
        segments, trimmed, notes = trim_to(segments, target, units=units, pauses=pauses, protect=key_line)
        removals = removals + trimmed
    segments = snap(segments, fps, duration)
    animate = []
    if settings.frozen == "animate" and settings.frozen_zoom > 0:
        animate = frozen_kept(freezes, segments, min_s=ANIMATE_MIN_S)
        if animate:
            notes.append(f"frozen picture under speech animated: {sum(s.length for s in animate):.2f} s in "
                         f"{len(animate)} stretch{'es' if len(animate) > 1 else ''}")
    key_cues = [c for c in cues if key_line is not None and key_line.start - 1e-6 <= c.start and c.end <= key_line.end + 1e-6]
    return EditPlan(duration=duration, fps=fps, segments=segments, removals=removals, key_line=key_line,
                    key_text=key_text, units=units, units_from=units_from, notes=notes, key_cues=key_cues,
                    animate=animate, details=details)


# ---- the filtergraph -----------------------------------------------------------------------------

def _segment_audio(i: int, seg: Segment) -> str:
    fade = min(EDGE_FADE_S, seg.length / 4)
    return (f"[a{i}]atrim=start={seg.start:.6f}:end={seg.end:.6f},asetpts=PTS-STARTPTS,"
            f"afade=t=in:d={fade:.4f},afade=t=out:st={max(0.0, seg.length - fade):.6f}:d={fade:.4f}[d{i}]")


def audio_graph(segments: list[Segment]) -> tuple[list[str], str]:
    """Filter chains cutting and joining the sound of the kept segments, ending in [ca]."""
    n = len(segments)
    parts = [f"[0:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo"
             + (f",asplit={n}{''.join(f'[a{i}]' for i in range(n))}" if n > 1 else "[a0]")]
    parts += [_segment_audio(i, s) for i, s in enumerate(segments)]
    if n > 1:
        parts.append(f"{''.join(f'[d{i}]' for i in range(n))}concat=n={n}:v=0:a=1[ca]")
    else:
        parts.append("[d0]anull[ca]")
    return parts, "ca"


def video_graph(segments: list[Segment]) -> list[str]:
    """Filter chains cutting the picture of the kept segments out of the one input: [c0], [c1], ..."""
    n = len(segments)
    parts = ["[0:v]" + (f"split={n}{''.join(f'[v{i}]' for i in range(n))}" if n > 1 else "null[v0]")]
    parts += [f"[v{i}]trim=start={s.start:.6f}:end={s.end:.6f},setpts=PTS-STARTPTS[c{i}]" for i, s in enumerate(segments)]
    return parts


def _between(t0: float, t1: float) -> str:
    return f"between(t\\,{t0:.3f}\\,{t1:.3f})"


def zoom_expr(key: Segment | None, zoom: float, animate: list[Segment], frozen_zoom: float) -> str | None:
    """The picture's zoom factor as an expression of t (1 = none), or None when it never zooms.

    Over the key line it grows from 1 to 1 + zoom; over each animated stretch it goes from 1 to
    1 + frozen_zoom and back a whole number of times (about every 2 x ANIMATE_HALF_S), so it starts
    and ends at 1 and never jumps."""
    terms = []
    if key is not None and zoom > 0:
        t0, t1 = key.start, key.end
        terms.append(f"{zoom:g}*clip((t-{t0:.3f})/{max(0.001, t1 - t0):.3f}\\,0\\,1)*{_between(t0, t1)}")
    if frozen_zoom > 0:
        for s in animate:
            period = s.length / max(1, round(s.length / (2 * ANIMATE_HALF_S)))
            terms.append(f"{frozen_zoom:g}*(1-abs(2*mod((t-{s.start:.3f})/{period:.3f}\\,1)-1))*{_between(s.start, s.end)}")
    return "1+" + "+".join(terms) if terms else None


def edit_graph(segments: list[Segment], *, width: int, height: int, key: Segment | None, zoom: float,
               colour: str, loudnorm: str | None, bars: list[tuple[Segment, object]] | None = None,
               animate: list[Segment] | None = None, frozen_zoom: float = 0.0, thumb_at: float | None = None) -> str:
    """The one filtergraph of the edit run: [vout] and [aout], and [vthumb] (the picture from `thumb_at` on).

    `bars`: (output span, captions.Bar) of each key line cue; drawn before the zoom, so a bar stays
    under its caption as the picture grows."""
    vparts = video_graph(segments)
    aparts, _ = audio_graph(segments)
    n = len(segments)
    pairs = "".join(f"[c{i}][d{i}]" for i in range(n))
    aparts = aparts[:-1]  # the sound is joined with the picture below
    join = f"{pairs}concat=n={n}:v=1:a=1[cv][ca]"
    post = []
    for span, bar in (bars or []) if key is not None else []:
        on = f"enable='{_between(span.start, span.end)}'"
        # a dark edge keeps the bar visible on any background
        post.append(f"drawbox=x={bar.x - bar.edge}:y={bar.y - bar.edge}:w={bar.w + 2 * bar.edge}:h={bar.h + 2 * bar.edge}:"
                    f"color=black@0.6:t=fill:{on}")
        post.append(f"drawbox=x={bar.x}:y={bar.y}:w={bar.w}:h={bar.h}:color={colour}@0.95:t=fill:{on}")
    z = zoom_expr(key, zoom, animate or [], frozen_zoom)
    if z is not None:
        # centred; where the expression is 1 the frames pass through unscaled
        post.append(f"scale=w='2*trunc(iw*({z})/2)':h=-2:eval=frame:flags=bicubic,crop={width}:{height}")
    post.append("format=yuv420p")
    vchain = f"[cv]{','.join(post)}[vout]"
    if thumb_at is not None:
        # one frame, then the branch ends (trim's end_frame): an open branch would convert every
        # following frame for the JPEG encoder that takes only the first (1.6 CPU s at 1080x1920, 30 s)
        vchain = (f"[cv]{','.join(post)},split=2[vout][vt];"
                  f"[vt]trim=start={thumb_at:.3f},trim=end_frame=1,setpts=PTS-STARTPTS[vthumb]")
    achain = f"[ca]{loudnorm + ',' if loudnorm else ''}aresample={SAMPLE_RATE}[aout]"
    return ";".join([*vparts, *aparts, join, vchain, achain])


def rate_args(settings: EditSettings, width: int, height: int, fps: float) -> list[str]:
    """The render's rate control: the platforms' upload bit rate (a re-encode at CRF 23 came out at
    1-1.2 Mbit/s for 1080x1920, which a platform's own re-encode then degrades), or constant quality."""
    if settings.rate_control == "crf":
        return ["-crf", str(settings.crf)]
    k = settings.video_bitrate_k or upload_bitrate_k(width, height, round(fps))
    return ["-b:v", f"{k}k", "-maxrate", f"{k * 3 // 2}k", "-bufsize", f"{k * 2}k"]


def encode_args(settings: EditSettings, fps: float, duration: float, width: int = 1080, height: int = 1920) -> list[str]:
    gop = max(1, round(fps * 2))
    return ["-c:v", "libx264", "-preset", settings.preset, *rate_args(settings, width, height, fps), "-pix_fmt", "yuv420p",
            "-profile:v", "high", "-g", str(gop), "-threads", str(settings.threads),
            "-c:a", "aac", "-b:a", f"{settings.audio_bitrate_k}k", "-ar", str(SAMPLE_RATE), "-ac", "2",
            "-movflags", "+faststart", "-t", f"{duration:.3f}"]


def thumb_time(length: float) -> float:
    return min(1.0, length / 2)


def edit_command(source: str, plan: EditPlan, settings: EditSettings, *, width: int, height: int,
                 loudnorm: str | None, out_name: str, emphasis: bool = True, thumb_name: str | None = None) -> list[str]:
    """The ffmpeg arguments of the edit run: cut, join, emphasise, normalise, encode (and, with
    `thumb_name`, the thumbnail: the edited picture at 1 s, as a JPEG)."""
    key = plan.key_line_out if (emphasis and settings.emphasis) else None
    bars = []
    if key is not None:
        cues = plan.key_cues_out or [Cue(key.start, key.end, plan.key_text or "")]
        font = caption_font(plan.details, " ".join(c.text for c in cues))
        for c in cues:
            block = caption_block(c.text, width=width, height=height, font=font)
            bars.append((Segment(c.start, c.end), highlight_bar(block, width=width, height=height)))
    graph = edit_graph(plan.segments, width=width, height=height, key=key, zoom=settings.zoom,
                       colour=settings.highlight_colour, loudnorm=loudnorm, bars=bars, animate=plan.animate,
                       frozen_zoom=settings.frozen_zoom if settings.frozen == "animate" else 0.0,
                       thumb_at=thumb_time(plan.length) if thumb_name else None)
    thumb = ["-map", "[vthumb]", "-frames:v", "1", "-q:v", "3", "-update", "1", thumb_name] if thumb_name else []
    return ["-i", source, "-filter_complex", graph, "-map", "[vout]", "-map", "[aout]",
            *encode_args(settings, plan.fps, plan.length, width, height), out_name, *thumb]


_JSON_BLOCK = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


def _loudnorm_json(stderr: str) -> dict:
    found = _JSON_BLOCK.findall(stderr)
    if not found:
        raise EditFailed("loudness measurement gave no result")
    return json.loads(found[-1])


def measure_loudness(source: str, plan: EditPlan, settings: EditSettings, *, exe: str, cwd: Path | None = None) -> dict:
    """Loudness of the kept sound alone (loudnorm pass 1; the picture is not decoded)."""
    parts, label = audio_graph(plan.segments)
    target = f"I={settings.loudness_lufs:g}:TP={settings.true_peak_db:g}:LRA=11"
    proc = run_ffmpeg(["-vn", "-i", source, "-filter_complex", f"{';'.join(parts)};[{label}]loudnorm={target}:print_format=json[ln]",
                       "-map", "[ln]", "-f", "null", "-"], what="measuring the loudness", timeout_s=settings.timeout_s,
                      cwd=cwd, exe=exe)
    return _loudnorm_json(proc.stderr)


def loudnorm_filter(settings: EditSettings, m: dict) -> str:
    """loudnorm's second pass; a plain `volume` where it would be one linear gain (see linear_gain_db)."""
    gain = linear_gain_db(m, target_i=settings.loudness_lufs, target_tp=settings.true_peak_db)
    if gain is not None:
        return f"volume={gain:.2f}dB"
    return (f"loudnorm=I={settings.loudness_lufs:g}:TP={settings.true_peak_db:g}:LRA=11:measured_I={m['input_i']}:"
            f"measured_TP={m['input_tp']}:measured_LRA={m['input_lra']}:measured_thresh={m['input_thresh']}:"
            f"offset={m['target_offset']}:linear=true:print_format=summary")


_VOLUME = re.compile(r"(mean|max)_volume:\s*(-?[\d.]+|-inf) dB")
_LUFS = re.compile(r"I:\s*(-?[\d.]+|-inf) LUFS")


def verify_edit(path: Path, *, width: int, height: int, duration_s: float, exe: str) -> dict:
    """ffprobe the edited file (streams, size, length), then one audio-only pass for its volume (not
    silent) and loudness; EditFailed names what is wrong. The facts: duration, volume, loudness."""
    info = probe(path)
    a = info.audio
    problems = stream_problems(info, width=width, height=height, duration_s=duration_s, min_tolerance_s=0.25)
    length = info.duration_s or 0.0
    facts: dict = {"duration_s": round(length, 3), "mean_volume_db": None, "max_volume_db": None, "loudness_lufs": None}
    if a is not None:
        proc = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-af", "volumedetect,ebur128=framelog=quiet", "-f", "null", "-"],
                          what="measuring the edited sound", timeout_s=300, exe=exe)
        found = {k: float(x) for k, x in _VOLUME.findall(proc.stderr)}
        lufs = _LUFS.findall(proc.stderr)
        if "mean" not in found or not lufs:
            problems.append("its sound could not be measured")
        else:
            facts.update(mean_volume_db=found["mean"], max_volume_db=found.get("max", found["mean"]),
                         loudness_lufs=float(lufs[-1]))
            if facts["max_volume_db"] < SILENT_DB:
                problems.append(f"its sound is silent (peak {facts['max_volume_db']} dBFS)")
    if problems:
        raise EditFailed(f"the edited file failed its checks: {'; '.join(problems)}")
    return facts


class Cutter:
    """ffmpeg cutter: offline, CPU only, the default `edit.backend`."""

    name = "cutter"

    def __init__(self, settings: EditSettings):
        self.settings = settings
        self.exe = ffmpeg_exe(settings.ffmpeg, setting="edit.ffmpeg")

    def settings_key(self) -> str:
        return settings_key(self.settings)

    def edit(self, job: EditJob) -> EditOutput:
        s, workdir = job.settings, Path(job.workdir)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        with _as_edit_failure():
            info = probe(job.source)
        v, a = info.video, info.audio
        if v is None:
            raise EditError(f"video {job.video_id} has no picture stream")
        if a is None:
            raise EditError(f"video {job.video_id} has no sound: the editor cuts by silence and normalises loudness")
        duration = info.duration_s or v.duration_s or 0.0
        fps = v.fps or 30.0
        with _as_edit_failure():
            # a render's own file: its recorded speech and motion stand in for decoding the picture
            timeline = recorded_timeline(job.details, Path(job.source))
            found = analyze(job.source, s, duration=duration, height=v.height, exe=self.exe, timeline=timeline)
        timings["analysis_s"] = round(found.seconds, 3)

        cues = parse_srt(job.subtitles.read_text(encoding="utf-8", errors="replace")) if job.subtitles else []
        hook = getattr(job.story, "hook", None)
        t = time.perf_counter()
        plan = plan_edit(duration=duration, fps=fps, silences=found.silences, freezes=found.freezes,
                         shot_cuts=found.shot_cuts, details=job.details, cues=cues, hook=hook, settings=s,
                         target=job.target_seconds)
        timings["plan_s"] = round(time.perf_counter() - t, 3)

        # names without ':' or quotes for ffmpeg: the source is linked into the work folder
        src = workdir / "source.mp4"
        if not src.exists():
            try:
                src.symlink_to(Path(job.source).absolute())
            except OSError:
                src.write_bytes(Path(job.source).read_bytes())
        t = time.perf_counter()
        with _as_edit_failure():
            measured = measure_loudness(src.name, plan, s, exe=self.exe, cwd=workdir)
        if measured["input_i"] in ("-inf", "inf") or float(measured["input_i"]) < -70:
            raise EditError(f"the kept sound of video {job.video_id} is silent; nothing to normalise")
        timings["loudness_s"] = round(time.perf_counter() - t, 3)

        t = time.perf_counter()
        video, thumb = workdir / "video.mp4", workdir / "thumb.jpg"
        with _as_edit_failure():
            run_ffmpeg(edit_command(src.name, plan, s, width=v.width, height=v.height,
                                    loudnorm=loudnorm_filter(s, measured), out_name=video.name, thumb_name=thumb.name),
                       what="cutting the video", timeout_s=s.timeout_s, cwd=workdir, exe=self.exe)
        if not thumb.is_file():
            raise EditFailed("the edit run wrote no thumbnail")
        timings["edit_s"] = round(time.perf_counter() - t, 3)

        t = time.perf_counter()
        srt = None
        if job.subtitles is not None:
            srt = workdir / "subtitles.srt"
            srt.write_text(format_srt(retime_cues(cues, plan.segments)), encoding="utf-8")
        with _as_edit_failure():
            checked = verify_edit(video, width=v.width, height=v.height, duration_s=plan.length, exe=self.exe)
            out_lufs = checked["loudness_lufs"]
        timings["check_s"] = round(time.perf_counter() - t, 3)
        timings["total_s"] = round(time.perf_counter() - t0, 3)
        summary = plan.summary()
        details = {
            "editor": {"name": self.name, "version": VERSION, "ffmpeg": Path(self.exe).name,
                       "settings_key": self.settings_key()},
            "analysis": found.summary(),
            "sound": {"input_lufs": float(measured["input_i"]), "output_lufs": out_lufs, "loudness_passes": 2},
            "checks": checked, "timings": timings, "warnings": [],
        }
        return EditOutput(video=video, thumbnail=thumb, subtitles=srt, duration_s=checked["duration_s"],
                          width=v.width, height=v.height, summary=summary, details=details)
