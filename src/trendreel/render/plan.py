"""The render plan: everything the compositor needs, decided before ffmpeg runs.

Per scene: the shots it shows (an image with a Ken Burns motion, a window of a video, slowed or
looped when short, or a colour card; a long scene is several shots, see plan_shots), its narration
WAV and where it starts, and its subtitle cues. The hook is said first, over the first scene, while
the story's title is on screen as a big headline.

Timing, all in whole frames so nothing drifts:
- a scene lasts max(its story duration, lead-in + narration + pad), where the lead-in lets the
  crossfade finish before the voice starts and the pad (at least one crossfade) ends it before
  the next scene fades in;
- scene i starts where scene i-1 ends minus one crossfade;
- longer than `render.max_seconds`: scenes first shrink to their narration, then the voice is sped
  up (at most 1.25x), then trailing scenes are dropped (each step is a warning); a first scene that
  alone is too long is an error;
- with `render.keep_seconds` (set from `edit.target_seconds`): scenes after the one that crosses it
  are not rendered at all, since the editor would cut them (nothing is sped up for it).
Text: one layer at a time. The headline (the title, shortened to two lines) for the first 1.5-2.6 s,
while the hook's first phrases are said; then one subtitle cue per phrase of the narration, from the
moment its speech starts (each phrase is synthesised on its own, see phrases.py), at most two lines
and 2.5 s. The story's on-screen text is not drawn: it repeated the narration.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trendreel.errors import ConfigError
from trendreel.render.base import MediaFile
from trendreel.render.errors import RenderError
from trendreel.render.fonts import FontInfo, drawable, resolve_font
from trendreel.render.media import Visual, prepare_clip, prepare_image
from trendreel.render.phrases import PhrasedClip, SpeechRate, say_phrases
from trendreel.render.styles import Layout, preset
from trendreel.render.text import FittedText, TextMeasure, headline, strip_labels, wrap_balanced, wrap_phrase
from trendreel.render.tts import Speech, SpeechClip, speech_for, voice_spec
from trendreel.settings import RenderSettings

log = logging.getLogger(__name__)

MOTIONS = ("zoom_in", "pan_right", "zoom_out", "pan_left")
MAX_SHOT_S = 4.5  # a scene longer than this is cut into several shots (its visuals in turn)
MIN_SHOT_S = 1.0  # ... but no shot shorter than this
MIN_SPEED = 0.5  # a clip shorter than its shot is slowed down to this at most, then looped
MUSIC_SUFFIXES = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".wav")
MAX_TEMPO = 1.25
HOOK_GAP_S = 0.35
FIRST_LEAD_S = 0.25
CUE_HOLD_S = 0.3  # a cue stays this long after its phrase when a pause follows
CUE_JOIN_S = 0.5  # a pause shorter than this keeps the cue up until the next one
MAX_CUE_S = 2.5
HEADLINE_MIN_S, HEADLINE_MAX_S = 1.5, 2.6
CARD_COLOURS = ("0x1f3a5f", "0x5b2a4e", "0x24523f", "0x5a3d1e", "0x35305e", "0x3d4a52")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


ASPECTS = ("9:16", "1:1", "16:9")


def frame_size(settings: RenderSettings) -> tuple[int, int]:
    """(width, height) of the frame: `render.width` x `render.height` shaped by `render.aspect`.

    9:16 is the short side wide and the long side high (1080x1920), 16:9 the other way round
    (1920x1080), 1:1 the short side squared (1080x1080).
    """
    short, long = sorted((settings.width, settings.height))
    aspect = getattr(settings, "aspect", "9:16")
    return {"9:16": (short, long), "16:9": (long, short), "1:1": (short, short)}[aspect]


@dataclass
class Shot:
    """One shot: a still with its motion, a window of a clip at a speed (looped when still short), or a card."""

    visual: Visual
    frames: int
    motion: str = "none"  # none | zoom_in | zoom_out | pan_left | pan_right
    clip_in: float = 0.0  # a clip's source window, seconds of the file
    clip_out: float = 0.0
    speed: float = 1.0  # a clip slowed to fill its shot (MIN_SPEED at the slowest)
    loop: bool = False  # a clip too short even slowed starts again (a cut to its first frame)

    @property
    def clip_s(self) -> float:
        return max(0.0, self.clip_out - self.clip_in)

    @property
    def kind(self) -> str:
        return self.visual.kind


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    lines: tuple[str, ...]
    speech_s: tuple[float, float] = (0.0, 0.0)  # when its phrase is said
    shown: bool = True  # False: said under the headline, so only in the .srt


@dataclass(frozen=True)
class Overlay:
    """The headline: the story's title, big, at the start."""

    start_s: float
    end_s: float
    text: FittedText
    position: str = "headline"


@dataclass
class PlannedScene:
    index: int
    start_frame: int
    frames: int
    shots: list[Shot]
    narration: list[SpeechClip]  # the hook then the scene's narration for scene 0, else one clip
    narration_start_s: float
    cues: list[Cue] = field(default_factory=list)
    overlays: list[Overlay] = field(default_factory=list)
    card_colour: str = CARD_COLOURS[0]
    speech: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each phrase said, video seconds


@dataclass
class RenderPlan:
    width: int
    height: int
    fps: int
    crossfade_frames: int
    scenes: list[PlannedScene]
    font: FontInfo
    lang: str
    voice: str
    tempo: float = 1.0
    music: Path | None = None
    aspect: str = "9:16"
    warnings: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    style: str = "bold"
    subtitles: bool = True  # cues burned in (the .srt has them either way)

    @property
    def total_frames(self) -> int:
        return sum(s.frames for s in self.scenes) - self.crossfade_frames * (len(self.scenes) - 1)

    @property
    def duration_s(self) -> float:
        return self.total_frames / self.fps

    @property
    def cues(self) -> list[Cue]:
        return [c for s in self.scenes for c in s.cues]

    def text_layers(self) -> list[dict]:
        """Every text drawn on the picture, in time order: the headline, then the burned-in cues."""
        out = [{"kind": "headline", "start_s": o.start_s, "end_s": o.end_s, "text": " ".join(o.text.lines)}
               for s in self.scenes for o in s.overlays]
        if self.subtitles:
            out += [{"kind": "subtitle", "start_s": c.start_s, "end_s": c.end_s, "text": " ".join(c.lines),
                     "speech_s": list(c.speech_s)} for c in self.cues if c.shown]
        return sorted(out, key=lambda d: d["start_s"])

    def speech_spans(self) -> list[list[float]]:
        """Where the voice speaks, in video seconds: every phrase said, overlapping ones merged."""
        out: list[list[float]] = []
        for a, b in sorted(span for s in self.scenes for span in s.speech):
            if out and a <= out[-1][1]:
                out[-1][1] = max(out[-1][1], round(b, 3))
            else:
                out.append([round(a, 3), round(b, 3)])
        return out

    @property
    def shot_count(self) -> int:
        return sum(len(s.shots) for s in self.scenes)

    def summary(self) -> dict:
        """A JSON-able account of the plan for the video's details."""
        return {
            "duration_s": round(self.duration_s, 3), "fps": self.fps, "size": [self.width, self.height],
            "aspect": self.aspect, "tempo": self.tempo, "voice": self.voice, "font": self.font.path.name,
            "subtitle_style": self.style, "text_layers": self.text_layers(),
            "music": self.music.name if self.music else None,
            "shots": self.shot_count, "shots_per_minute": round(self.shot_count * 60 / max(self.duration_s, 1e-6), 1),
            "scenes": [{"start_s": round(s.start_frame / self.fps, 3), "duration_s": round(s.frames / self.fps, 3),
                        "shots": [{"kind": sh.kind, "media_id": sh.visual.media_id, "motion": sh.motion,
                                   "duration_s": round(sh.frames / self.fps, 3),
                                   **({"in_s": round(sh.clip_in, 3), "out_s": round(sh.clip_out, 3),
                                       "speed": round(sh.speed, 3), "loop": sh.loop}
                                      if sh.kind == "video" else {})} for sh in s.shots],
                        "narration_s": round(sum(c.duration_s for c in s.narration) / self.tempo, 3),
                        "cues": len(s.cues)} for s in self.scenes],
        }


def needs_hangul(story) -> bool:
    if str(story.lang).lower().startswith("ko"):
        return True
    texts = [story.title, story.hook, *(s.narration for s in story.scenes), *(s.on_screen_text for s in story.scenes)]
    return any(_HANGUL.search(t or "") for t in texts)


def _visuals(scene, media: dict[str, MediaFile], workdir: Path, exe: str) -> list[Visual]:
    out = []
    for ref in scene.media:
        mf = media.get(ref.media_id) or MediaFile(ref.media_id, ref.kind, None, "it is not in the database")
        if mf.kind == "video":  # the stored kind decides; an image citation of a video shows its first frame
            start, end = (ref.start_s or 0.0, ref.end_s or 0.0) if ref.kind == "video" else (0.0, 0.0)
            out.append(prepare_clip(mf, start, end, workdir, exe=exe))
        else:
            out.append(prepare_image(mf, workdir, exe=exe))
    return out


def _frames(seconds: float, fps: int) -> int:
    return max(1, round(seconds * fps))


def _split_frames(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _fill_frames(caps: list[int | None], total: int) -> list[int]:
    """Share `total` frames among shots, none over its cap (None: no cap); when every shot is capped
    the rest is shared evenly again (those shots loop)."""
    out = [0] * len(caps)
    free, left = list(range(len(caps))), total
    while free:
        share = left / len(free)
        capped = [i for i in free if caps[i] is not None and caps[i] < share]
        if not capped:
            for i, f in zip(free, _split_frames(left, len(free))):
                out[i] = f
            return out
        for i in capped:
            out[i] = caps[i]
            left -= caps[i]
            free.remove(i)
    for i, f in enumerate(_split_frames(left, len(out))):
        out[i] += f
    return out


def plan_shots(visuals: list[Visual], frames: int, fps: int, *, motion: bool, still_index: int = 0) -> list[Shot]:
    """The shots of one scene: never a picture held still.

    - A scene longer than MAX_SHOT_S is cut into several shots, its visuals in turn (a single visual
      comes back with another motion or another part of its clip), so a cut comes every 2-5 s;
    - a clip gets at most its length slowed to MIN_SPEED; the other shots of the scene take the rest;
      a clip shorter than its shot even slowed is looped, never held on its last frame;
    - a clip longer than its shot shows a window of it, and the next shot of the same clip goes on
      from where the last one stopped (or shows the clip's end);
    - a clip whose picture does not move comes as a still (media.prepare_clip) and moves like one;
    - stills move (zoom in, pan, zoom out, pan back), consecutive stills differently.
    """
    vs = visuals or [Visual(kind="card", media_id=None)]
    seconds = frames / fps
    n = max(min(len(vs), max(1, int(seconds / MIN_SHOT_S))), -(-frames // round(MAX_SHOT_S * fps)))
    if all(v.kind == "card" for v in vs):
        n = 1  # a card is text to read, not a picture to cut
    order = [vs[i % len(vs)] for i in range(n)]
    caps = [max(1, int(v.clip_s * fps / MIN_SPEED)) if v.kind == "video" else None for v in order]
    lengths = _fill_frames(caps, frames)
    shots, used = [], {}
    for v, f in zip(order, lengths):
        if v.kind == "video":
            d, length = f / fps, v.clip_s
            if length >= d:  # a window of the clip, following on from the last one shown
                start = min(used.get(id(v), 0.0), length - d)  # past the end: the clip's last d seconds
                used[id(v)] = start + d
                shots.append(Shot(visual=v, frames=f, clip_in=v.clip_in + start, clip_out=v.clip_in + start + d))
            else:
                speed = max(MIN_SPEED, length / d)
                shots.append(Shot(visual=v, frames=f, clip_in=v.clip_in, clip_out=v.clip_out, speed=round(speed, 4),
                                  loop=length / speed < d - 2.5 / fps))  # (a frame or two short: padded)
        elif v.kind == "image" and motion:
            shots.append(Shot(visual=v, frames=f, motion=MOTIONS[still_index % len(MOTIONS)]))
            still_index += 1
        else:
            shots.append(Shot(visual=v, frames=f))
    return shots


def choose_music(settings: RenderSettings, key: str) -> Path | None:
    """`render.music_path`, else one file of `render.music_dir` chosen from `key` (the story id), else None."""
    if settings.music_path is not None:
        music = Path(settings.music_path).expanduser()
        if not music.is_file():
            raise ConfigError(f"render.music_path {music} does not exist")
        return music
    if getattr(settings, "music_dir", None) is None:
        return None
    folder = Path(settings.music_dir).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"render.music_dir {folder} is not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MUSIC_SUFFIXES)
    if not files:
        raise ConfigError(f"render.music_dir {folder} has no music files ({', '.join(MUSIC_SUFFIXES)})")
    return files[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(files)]


def _cues_for(parts: list[tuple[PhrasedClip, float]], tempo: float, font: FontInfo, limit_s: float) -> list[Cue]:
    """One cue per phrase of the (said phrases, voice start) parts of a scene, from its speech start;
    kept up across a short pause, else a moment after the phrase; never longer than MAX_CUE_S."""
    spoken = [(drawable(p.text, font), t0 + p.start_s / tempo, t0 + p.end_s / tempo)
              for said, t0 in parts for p in said.phrases]
    spoken = [(text, a, b) for text, a, b in spoken if text.strip()]  # a phrase of emoji only shows nothing
    cues: list[Cue] = []
    for k, (text, start, end) in enumerate(spoken):
        following = spoken[k + 1][1] if k + 1 < len(spoken) else None
        if following is not None and following - end < CUE_JOIN_S:
            until = following
        else:
            until = end + CUE_HOLD_S if following is None else min(end + CUE_HOLD_S, following)
        until = min(until, start + MAX_CUE_S, limit_s)
        cues.append(Cue(start_s=round(start, 3), end_s=round(max(until, start + 0.05), 3), lines=(text,),
                        speech_s=(round(start, 3), round(end, 3))))
    return cues


def _wrapped(cues: list[Cue], measure: TextMeasure, layout: Layout) -> list[Cue]:
    return [Cue(c.start_s, c.end_s, tuple(wrap_phrase(c.lines[0], measure, layout.sub_size, layout.text_width())),
                c.speech_s, c.shown) for c in cues]


def _headline(story, cues: list[Cue], hook_phrases: int, measure: TextMeasure, layout: Layout, font: FontInfo,
              warnings: list[str]) -> tuple[Overlay, list[Cue]]:
    """The title as a headline from 0 s to the end of the hook's first phrases (1.5-2.6 s); those
    phrases' cues are only in the .srt, and the next cue starts when the headline ends."""
    fitted = headline(drawable(story.title, font), measure, size=layout.headline_size, max_width=layout.text_width())
    if fitted.truncated and fitted.lines and fitted.lines[-1].endswith("…"):
        warnings.append(f"the title is too long for the headline; shown as {fitted.text!r}")
    covered, end = 0, HEADLINE_MIN_S
    for k, c in enumerate(cues[:hook_phrases]):
        if k == 0 or c.speech_s[1] <= HEADLINE_MAX_S:
            covered, end = k + 1, max(c.speech_s[1], HEADLINE_MIN_S if k else 0.0)
        else:
            break
    if end < HEADLINE_MIN_S:
        nxt = cues[covered].speech_s[0] if covered < len(cues) else HEADLINE_MIN_S
        end = max(end, min(HEADLINE_MIN_S, nxt + 0.2))
    out = []
    for k, c in enumerate(cues):
        if k < covered:
            out.append(Cue(c.start_s, c.end_s, c.lines, c.speech_s, shown=False))
        elif c.start_s < end:
            out.append(Cue(round(end, 3), max(c.end_s, round(end + 0.05, 3)), c.lines, c.speech_s, c.shown))
        else:
            out.append(c)
    return Overlay(start_s=0.0, end_s=round(end, 3), text=fitted), out


def build_plan(story, media: dict[str, MediaFile], settings: RenderSettings, workdir: Path, *, exe: str,
               speech: Speech | None = None) -> RenderPlan:
    """Check media, synthesise narration, and lay out the timeline, text and cues of a story."""
    workdir = Path(workdir)
    (workdir / "speech").mkdir(parents=True, exist_ok=True)
    (workdir / "media").mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    warnings: list[str] = []
    fps = settings.fps
    style = preset(settings.subtitle_style)
    width, height = frame_size(settings)
    layout = Layout(width, height, style)
    music = choose_music(settings, str(getattr(story, "id", None) or story.title))
    font = resolve_font(settings.font_file, need_hangul=needs_hangul(story))
    measure = TextMeasure(font, bold=style.bold)
    speech = speech or speech_for(story.lang, settings.voices, rate=settings.speech_rate, settings=settings)

    def check_media() -> tuple[list[list[Visual]], float]:
        t = time.perf_counter()
        return [_visuals(scene, media, workdir / "media", exe) for scene in story.scenes], time.perf_counter() - t

    # Media checks (ffmpeg/ffprobe child processes) run while the voice speaks.
    with ThreadPoolExecutor(max_workers=1) as pool:
        checking = pool.submit(check_media)
        t0 = time.perf_counter()
        rate = SpeechRate()  # seconds per speech unit, learnt as the phrases are said

        def fits(text: str) -> bool:
            return len(wrap_balanced(drawable(text, font), measure, layout.sub_size, layout.text_width())) <= 2

        def say(text: str, name: str) -> PhrasedClip:
            return say_phrases(speech, strip_labels(text) or text, workdir / "speech" / name, fits=fits, rate=rate)

        said_hook = say(story.hook, "hook.wav")
        said = [say(s.narration, f"scene{i:02d}.wav") for i, s in enumerate(story.scenes)]
        hook, clips = said_hook.clip, [p.clip for p in said]
        timings["speech_s"] = round(time.perf_counter() - t0, 3)
        visuals, took = checking.result()
    timings["media_check_s"] = round(took, 3)
    for i, vs in enumerate(visuals):
        warnings += [f"scene {i + 1}: {v.warning}" for v in vs if v.warning]

    xf = round(settings.crossfade_s * fps) if len(story.scenes) > 1 else 0
    pad = max(settings.scene_pad_s, xf / fps)
    leads = [FIRST_LEAD_S] + [xf / fps + 0.1] * (len(story.scenes) - 1)
    speech_s = [hook.duration_s + HOOK_GAP_S + clips[0].duration_s] + [c.duration_s for c in clips[1:]]
    wanted = [story.scenes[0].duration_s + hook.duration_s + HOOK_GAP_S] + [s.duration_s for s in story.scenes[1:]]

    def lengths(tempo: float, use_story: bool, n: int) -> list[int]:
        out = []
        for i in range(n):
            need = leads[i] + speech_s[i] / tempo + pad
            out.append(_frames(max(need, wanted[i]) if use_story else need, fps))
        return out

    def total(fr: list[int]) -> int:
        return sum(fr) - xf * (len(fr) - 1)

    limit = int(settings.max_seconds * fps)

    def fitting(k: int) -> tuple[float, list[int]] | None:
        """(tempo, frames) of the first k scenes within the limit, at the slowest tempo that fits."""
        fr = lengths(1.0, False, k)
        if total(fr) <= limit:
            return 1.0, fr
        fixed = sum(leads[:k]) + pad * k - xf * (k - 1) / fps + k / fps  # k/fps: frame rounding
        t = sum(speech_s[:k]) / max(0.01, settings.max_seconds - fixed)
        while t <= MAX_TEMPO:
            fr = lengths(t, False, k)
            if total(fr) <= limit:
                return t, fr
            t *= 1.01
        return None

    n, tempo = len(story.scenes), 1.0
    if settings.keep_seconds is not None:
        # The editor will cut the video to keep_seconds, dropping trailing scenes or cutting the one
        # that crosses the limit at a pause: render up to that scene, and not the frames it throws away.
        tight = lengths(1.0, False, n)
        k = 1
        while k < n and total(tight[:k]) < settings.keep_seconds * fps:
            k += 1
        if k < n:
            warnings.append(f"scenes {k + 1}-{n} not rendered: the edit keeps {settings.keep_seconds:g} s "
                            "(render.keep_seconds, from edit.target_seconds)")
            n = k
    frames = lengths(1.0, True, n)
    if total(frames) > limit:
        found = fitting(n)
        while found is None and n > 1:
            n -= 1
            warnings.append(f"scene {n + 1} dropped: the video would be longer than render.max_seconds ({settings.max_seconds:g} s)")
            found = fitting(n)
        if found is None:
            raise RenderError(f"the hook and first scene alone take longer than render.max_seconds ({settings.max_seconds:g} s) "
                              "even spoken 1.25x faster; shorten the story or raise the limit")
        tempo, frames = found
        if tempo > 1.0:
            warnings.append(f"narration spoken {tempo:.2f}x faster to fit render.max_seconds ({settings.max_seconds:g} s)")

    scenes: list[PlannedScene] = []
    start, stills = 0, 0
    for i in range(n):
        scene = story.scenes[i]
        shots = plan_shots(visuals[i], frames[i], fps, motion=settings.motion == "kenburns", still_index=stills)
        stills += sum(1 for sh in shots if sh.motion != "none")
        s0 = start / fps
        scene_end = (start + frames[i]) / fps
        voice_start = s0 + leads[i]
        narration = [hook, clips[0]] if i == 0 else [clips[i]]
        if i == 0:
            parts = [(said_hook, voice_start), (said[0], voice_start + (hook.duration_s + HOOK_GAP_S) / tempo)]
        else:
            parts = [(said[i], voice_start)]
        limit_s = scene_end - (xf / fps if i < n - 1 else 0)
        cues = _wrapped(_cues_for(parts, tempo, font, limit_s), measure, layout)
        overlays = []
        if i == 0:
            title, cues = _headline(story, cues, len(said_hook.phrases), measure, layout, font, warnings)
            overlays.append(title)
        speech = [(t0 + p.start_s / tempo, t0 + p.end_s / tempo) for said_, t0 in parts for p in said_.phrases]
        scenes.append(PlannedScene(index=i, start_frame=start, frames=frames[i], shots=shots, narration=narration,
                                   narration_start_s=voice_start, cues=cues, overlays=overlays,
                                   card_colour=CARD_COLOURS[i % len(CARD_COLOURS)], speech=speech))
        start += frames[i] - xf

    return RenderPlan(width=width, height=height, fps=fps, aspect=getattr(settings, "aspect", "9:16"), crossfade_frames=xf, scenes=scenes,
                      font=font, lang=story.lang, voice=voice_spec(story.lang, settings.voices), tempo=round(tempo, 4),
                      music=music, warnings=warnings, timings=timings, style=style.name, subtitles=settings.subtitles)


def plan_dict(plan: RenderPlan) -> dict:
    """The whole plan as plain data (for debugging and the bench)."""
    return asdict(plan)
