"""The render plan: everything the compositor needs, decided before ffmpeg runs.

Per scene: the shots it shows (an image with a Ken Burns motion, a window of a video, slowed or
looped when short, or a colour card; a long scene is several shots, see plan_shots), its narration WAV and where it starts, the subtitle cues, and the on-screen text. The hook is
said first, over the first scene, while the story's title is on screen.

Timing, all in whole frames so nothing drifts:
- a scene lasts max(its story duration, lead-in + narration + pad), where the lead-in lets the
  crossfade finish before the voice starts and the pad (at least one crossfade) ends it before
  the next scene fades in;
- scene i starts where scene i-1 ends minus one crossfade;
- longer than `render.max_seconds`: scenes first shrink to their narration, then the voice is sped
  up (at most 1.25x), then trailing scenes are dropped (each step is a warning); a first scene that
  alone is too long is an error.
Subtitle cues split each narration at sentences and clauses into cues of at most two lines and share
its measured length in proportion to how long each part takes to say.
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
from trendreel.render.text import FittedText, TextMeasure, fit, speech_weight, split_cues
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
CUE_HOLD_S = 0.3
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


@dataclass(frozen=True)
class Layout:
    """Sizes and margins derived from the frame, so a small test render looks like the full one.

    Sizes follow the frame height; a square or landscape frame gets somewhat larger text (its
    height is smaller for the same width on screen), narrower lines and smaller bottom margins
    (no platform buttons over the lower fifth).
    """

    width: int
    height: int

    @property
    def shape(self) -> str:
        if self.height >= 1.3 * self.width:
            return "portrait"
        return "landscape" if self.width >= 1.3 * self.height else "square"

    @property
    def _k(self) -> float:
        return {"portrait": 1.0, "square": 1.25, "landscape": 1.12}[self.shape]

    @property
    def margin_x(self) -> int:
        return round(self.width * (0.15 if self.shape == "landscape" else 0.07))

    @property
    def sub_size(self) -> int:
        return max(12, round(self.height * 0.040 * self._k))

    @property
    def sub_margin_v(self) -> int:
        # above the platform's caption and buttons on a vertical video
        return round(self.height * {"portrait": 0.20, "square": 0.12, "landscape": 0.08}[self.shape])

    @property
    def top_size(self) -> int:
        return max(14, round(self.height * 0.048 * self._k))

    @property
    def top_margin_v(self) -> int:
        return round(self.height * (0.11 if self.shape == "portrait" else 0.07))

    @property
    def box_pad(self) -> int:
        return max(2, round(self.height * 0.008 * self._k))

    @property
    def card_size(self) -> int:
        return max(16, round(self.height * 0.058 * self._k))

    @property
    def outline(self) -> int:
        return max(1, round(self.height * 0.0026 * self._k))

    def text_width(self, boxed: bool = False) -> float:
        # 6% slack: libass and FreeType round glyph advances differently
        return (self.width - 2 * self.margin_x - (2 * self.box_pad if boxed else 0)) * 0.94


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


@dataclass(frozen=True)
class Overlay:
    """On-screen text: top of the picture over media, centred large on a card."""

    start_s: float
    end_s: float
    text: FittedText
    position: str  # top | center


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

    @property
    def total_frames(self) -> int:
        return sum(s.frames for s in self.scenes) - self.crossfade_frames * (len(self.scenes) - 1)

    @property
    def duration_s(self) -> float:
        return self.total_frames / self.fps

    @property
    def cues(self) -> list[Cue]:
        return [c for s in self.scenes for c in s.cues]

    @property
    def shot_count(self) -> int:
        return sum(len(s.shots) for s in self.scenes)

    def summary(self) -> dict:
        """A JSON-able account of the plan for the video's details."""
        return {
            "duration_s": round(self.duration_s, 3), "fps": self.fps, "size": [self.width, self.height],
            "aspect": self.aspect, "tempo": self.tempo, "voice": self.voice, "font": self.font.path.name,
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


def _cues_for(texts: list[tuple[str, float, float]], measure: TextMeasure, layout: Layout, limit_s: float) -> list[Cue]:
    """Cues for (text, start_s, length_s) parts; each part's length is shared by speech weight."""
    cues: list[Cue] = []
    for text, start, length in texts:
        parts = split_cues(text, measure, size=layout.sub_size, max_width=layout.text_width())
        weights = [speech_weight(" ".join(p)) for p in parts]
        total = sum(weights) or 1.0
        t = start
        for lines, w in zip(parts, weights):
            end = t + length * w / total
            cues.append(Cue(start_s=round(t, 3), end_s=round(end, 3), lines=lines))
            t = end
    if cues:  # hold the last cue a moment after the voice stops, within the scene
        last = cues[-1]
        cues[-1] = Cue(last.start_s, round(max(last.end_s, min(last.end_s + CUE_HOLD_S, limit_s)), 3), last.lines)
    return cues


def build_plan(story, media: dict[str, MediaFile], settings: RenderSettings, workdir: Path, *, exe: str,
               speech: Speech | None = None) -> RenderPlan:
    """Check media, synthesise narration, and lay out the timeline, text and cues of a story."""
    workdir = Path(workdir)
    (workdir / "speech").mkdir(parents=True, exist_ok=True)
    (workdir / "media").mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    warnings: list[str] = []
    fps = settings.fps
    width, height = frame_size(settings)
    layout = Layout(width, height)
    music = choose_music(settings, str(getattr(story, "id", None) or story.title))
    font = resolve_font(settings.font_file, need_hangul=needs_hangul(story))
    measure = TextMeasure(font)
    speech = speech or speech_for(story.lang, settings.voices, rate=settings.speech_rate, settings=settings)

    def check_media() -> tuple[list[list[Visual]], float]:
        t = time.perf_counter()
        return [_visuals(scene, media, workdir / "media", exe) for scene in story.scenes], time.perf_counter() - t

    # Media checks (ffmpeg/ffprobe child processes) run while the voice speaks.
    with ThreadPoolExecutor(max_workers=1) as pool:
        checking = pool.submit(check_media)
        t0 = time.perf_counter()
        hook = speech.synthesize(story.hook, workdir / "speech" / "hook.wav")
        clips = [speech.synthesize(s.narration, workdir / "speech" / f"scene{i:02d}.wav") for i, s in enumerate(story.scenes)]
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
            parts = [(story.hook, voice_start, hook.duration_s / tempo),
                     (scene.narration, voice_start + (hook.duration_s + HOOK_GAP_S) / tempo, clips[0].duration_s / tempo)]
        else:
            parts = [(scene.narration, voice_start, clips[i].duration_s / tempo)]
        parts = [(drawable(t, font), a, b) for t, a, b in parts]
        limit_s = scene_end - (xf / fps if i < n - 1 else 0)
        cues = _cues_for(parts, measure, layout, limit_s)
        overlays = _overlays(story, i, shots, font, measure, layout, s0, scene_end, xf / fps, n, voice_start, hook, tempo, warnings)
        scenes.append(PlannedScene(index=i, start_frame=start, frames=frames[i], shots=shots, narration=narration,
                                   narration_start_s=voice_start, cues=cues, overlays=overlays,
                                   card_colour=CARD_COLOURS[i % len(CARD_COLOURS)]))
        start += frames[i] - xf

    return RenderPlan(width=width, height=height, fps=fps, aspect=getattr(settings, "aspect", "9:16"), crossfade_frames=xf, scenes=scenes,
                      font=font, lang=story.lang, voice=voice_spec(story.lang, settings.voices), tempo=round(tempo, 4),
                      music=music, warnings=warnings, timings=timings)


def _overlays(story, i, shots, font, measure, layout, s0, scene_end, xf_s, n, voice_start, hook, tempo, warnings) -> list[Overlay]:
    scene = story.scenes[i]
    card_only = all(sh.kind == "card" for sh in shots)
    begin = s0 + (xf_s / 2 if i > 0 else 0.0)
    end = scene_end - (xf_s / 2 if i < n - 1 else 0.0)
    text = scene.on_screen_text or (scene.narration if card_only else "")
    items: list[tuple[str, float, float]] = []
    if i == 0:
        title_end = voice_start + (hook.duration_s + HOOK_GAP_S) / tempo if text else end
        items.append((story.title, begin, min(title_end, end)))
        if text:
            items.append((text, title_end, end))
    elif text:
        items.append((text, begin, end))
    out = []
    for t, a, b in items:
        if b - a <= 0.05:
            continue
        t = drawable(t, font)
        if card_only:
            fitted = fit(t, measure, size=layout.card_size, min_size=round(layout.card_size * 0.6),
                         max_width=layout.text_width(), max_lines=6)
            pos = "center"
        else:
            fitted = fit(t, measure, size=layout.top_size, min_size=round(layout.top_size * 0.6),
                         max_width=layout.text_width(boxed=True), max_lines=3)
            pos = "top"
        if fitted.truncated:
            warnings.append(f"scene {i + 1}: on-screen text too long for the screen; shrunk and cut: {fitted.text!r}")
        out.append(Overlay(start_s=round(a, 3), end_s=round(b, 3), text=fitted, position=pos))
    return out


def plan_dict(plan: RenderPlan) -> dict:
    """The whole plan as plain data (for debugging and the bench)."""
    return asdict(plan)
