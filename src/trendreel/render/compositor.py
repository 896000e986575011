"""The default video generator: cited stills and clips, narration, text and music composed by ffmpeg on CPU.

Four ffmpeg runs per video, none of them a per-frame Python loop; 1-2 run while 3 encodes:
1. sound: every narration WAV delayed to its scene (adelay), summed (amix), optional music looped,
   faded and ducked under the voice (sidechaincompress), and EBU R128 loudness measured (loudnorm, pass 1);
2. the measured loudness applied (loudnorm pass 2: one linear gain when the true-peak limit allows,
   else loudnorm's dynamic mode), encoded to AAC;
3. picture: one filtergraph — each still scaled to cover the frame and moved (zoompan), each clip cut
   to its window (input seek), slowed or looped when shorter than its shot (never held), framed; colour cards
   for unusable media; shots joined inside a scene (concat) and scenes crossfaded (xfade); subtitles
   and on-screen text burned in by libass (ass) with the Hangul-capable font; H.264;
4. mux: picture and sound copied into one MP4 with the index at the front (faststart).
Then a thumbnail is cut from the finished file and the file is checked with ffprobe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from trendreel.adapters.ffmpeg import ffmpeg_exe, upload_bitrate_k
from trendreel.render.base import RenderJob, RenderOutput
from trendreel.render.errors import RenderFailed
from trendreel.render.ffmpeg import linear_gain_db, loudness, run_ffmpeg, video_problems
from trendreel.render.plan import HOOK_GAP_S, RenderPlan, Shot, build_plan
from trendreel.render.subtitles import write_subtitles
from trendreel.settings import RenderSettings

log = logging.getLogger(__name__)

VERSION = "2"  # bump when the same settings would render a different picture or sound
SAMPLE_RATE = 48000
# Ken Burns: zoom from 1.0 to 1.15, or pan across an image zoomed 1.15x, within one shot (at most
# MAX_SHOT_S): about 3-5 % of the frame per second, clearly moving, where a slower move over a plain
# picture reads as a frozen one (ffmpeg freezedetect, see docs/render.md).
ZOOM = 0.15
# zoompan moves its crop window in whole input pixels; scaling the still to 1.5x the frame first
# makes each step a fraction of an output pixel, so slow motion does not judder.
OVERSAMPLE = 1.5
# remote and ltx2 belong to other backends; changing them does not change what the compositor draws.
# The speech server's address, key and time limit say where a voice comes from, not what it says.
SETTINGS_NOT_IN_KEY = {"backend", "threads", "timeout_s", "ffmpeg", "remote", "ltx2",
                       "speech_base_url", "speech_api_key", "speech_timeout_s"}
BACKDROP_RATIO = 1.3  # aspect ratio this much off the frame's: show whole over a blurred copy (fit = blur)
MAX_UPSCALE = 2.0  # low-resolution media: shown sharp at most this much enlarged, framed by a blurred copy


def settings_key(settings: RenderSettings) -> str:
    exclude = set(SETTINGS_NOT_IN_KEY)
    if not any(spec.startswith("openai:") for spec in settings.voices.values()):
        exclude.add("speech_model")  # only openai voices use it; keys made before it existed stay the same
    if settings.keep_seconds is None:
        exclude.add("keep_seconds")  # keys made before it existed stay the same
    data = settings.model_dump(mode="json", exclude=exclude)
    blob = json.dumps({"compositor": VERSION, **data}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _link(src: Path, dest: Path) -> Path:
    """A plain name in the work folder for an input (no ':', '%' or quotes reach the filtergraph)."""
    try:
        os.symlink(Path(src).absolute(), dest)
    except OSError:
        shutil.copyfile(src, dest)
    return dest


# ---- sound ---------------------------------------------------------------------------------------

def audio_inputs_and_graph(plan: RenderPlan, inputs_dir: Path, music: Path | None,
                           music_db: float = -16.0) -> tuple[list[str], str, str]:
    """ffmpeg input arguments, the filtergraph and its output label for the mixed (not yet normalised) sound."""
    args: list[str] = []
    parts: list[str] = []
    total = plan.total_frames * SAMPLE_RATE // plan.fps
    labels = []
    k = 0
    for scene in plan.scenes:
        t = scene.narration_start_s
        for j, clip in enumerate(scene.narration):
            if j > 0:  # the scene's own narration after the hook
                t += HOOK_GAP_S / plan.tempo
            name = _link(clip.path, inputs_dir / f"voice{k:02d}.wav")
            args += ["-i", str(name.relative_to(inputs_dir.parent))]
            tempo = f",atempo={plan.tempo:.4f}" if plan.tempo != 1.0 else ""
            delay = round(t * SAMPLE_RATE)
            parts.append(f"[{k}:a]aformat=sample_fmts=fltp:channel_layouts=mono,aresample={SAMPLE_RATE}{tempo},"
                         f"adelay=delays={delay}S:all=1[n{k}]")
            labels.append(f"[n{k}]")
            t += clip.duration_s / plan.tempo
            k += 1
    if len(labels) > 1:
        parts.append(f"{''.join(labels)}amix=inputs={len(labels)}:normalize=0:duration=longest:dropout_transition=0[narr]")
    else:
        parts.append(f"{labels[0]}anull[narr]")
    # A peak limiter at -12 dBFS: synthetic voices peak near full scale, which would keep loudnorm's
    # second pass from reaching -14 LUFS with one linear gain under the -1.5 dBTP ceiling.
    parts.append(f"[narr]alimiter=limit=0.25:attack=5:release=60:level=0,apad=whole_dur={total / SAMPLE_RATE:.6f},"
                 f"atrim=end={total / SAMPLE_RATE:.6f},aformat=channel_layouts=stereo[voice]")
    out = "voice"
    if music is not None:
        name = _link(music, inputs_dir / f"music{music.suffix.lower()[:6] or '.bin'}")
        args += ["-stream_loop", "-1", "-i", str(name.relative_to(inputs_dir.parent))]
        dur = total / SAMPLE_RATE
        fade = min(1.5, dur / 4)
        parts += [
            f"[{k}:a]aformat=sample_fmts=fltp:channel_layouts=stereo,aresample={SAMPLE_RATE},atrim=end={dur:.6f},"
            f"volume={music_db:.1f}dB,afade=t=in:d=0.5,afade=t=out:st={dur - fade:.3f}:d={fade:.3f}[mus]",
            "[voice]asplit=2[v1][v2]",
            # duck the music by up to ~18 dB while the voice speaks, back up 0.4 s after it stops
            "[mus][v1]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400:level_sc=1[duck]",
            "[v2][duck]amix=inputs=2:normalize=0:duration=first:dropout_transition=0[mix]",
        ]
        out = "mix"
    # Pin the rate here: loudnorm asks for 192 kHz, and format negotiation would otherwise carry that
    # rate back up the graph, past every filter that accepts any rate.
    parts.append(f"[{out}]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo[mixed]")
    return args, ";".join(parts), "mixed"


_JSON_BLOCK = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


def _loudnorm_json(stderr: str) -> dict:
    found = _JSON_BLOCK.findall(stderr)
    if not found:
        raise RenderFailed("loudness measurement gave no result")
    return json.loads(found[-1])


def mix_audio(plan: RenderPlan, workdir: Path, settings: RenderSettings, *, exe: str) -> tuple[Path, dict]:
    """The finished soundtrack (AAC, 48 kHz stereo) at the target loudness, and what was measured."""
    inputs_dir = workdir / "inputs"
    inputs_dir.mkdir(exist_ok=True)
    args, graph, label = audio_inputs_and_graph(plan, inputs_dir, plan.music, settings.music_volume_db)
    target = f"I={settings.loudness_lufs}:TP={settings.true_peak_db}:LRA=11"
    out = workdir / "audio.m4a"
    aac = ["-c:a", "aac", "-b:a", f"{settings.audio_bitrate_k}k", "-ar", str(SAMPLE_RATE), "-ac", "2"]
    if settings.loudness_passes == 1:
        run_ffmpeg([*args, "-filter_complex", f"{graph};[{label}]loudnorm={target}:print_format=json,"
                    f"aresample={SAMPLE_RATE}[a]", "-map", "[a]", *aac, str(out.name)],
                   what="mixing the sound", timeout_s=settings.timeout_s, cwd=workdir, exe=exe)
        return out, {"loudness_passes": 1}
    mix = workdir / "mix.wav"
    proc = run_ffmpeg([*args, "-filter_complex", f"{graph};[{label}]asplit=2[w][m];[m]loudnorm={target}:print_format=json[ln]",
                       "-map", "[w]", "-c:a", "pcm_f32le", mix.name, "-map", "[ln]", "-f", "null", "-"],
                      what="mixing the sound", timeout_s=settings.timeout_s, cwd=workdir, exe=exe)
    m = _loudnorm_json(proc.stderr)
    if m["input_i"] in ("-inf", "inf") or float(m["input_i"]) < -70:
        raise RenderFailed("the mixed narration is silent; check the speech engine")
    gain = linear_gain_db(m, target_i=settings.loudness_lufs, target_tp=settings.true_peak_db)
    if gain is not None:  # loudnorm's linear mode, without its 192 kHz resampling
        run_ffmpeg(["-i", mix.name, "-af", f"volume={gain:.2f}dB", *aac, out.name],
                   what="normalising the loudness", timeout_s=settings.timeout_s, cwd=workdir, exe=exe)
        normalization = "linear"
    else:
        measured = (f"measured_I={m['input_i']}:measured_TP={m['input_tp']}:measured_LRA={m['input_lra']}:"
                    f"measured_thresh={m['input_thresh']}:offset={m['target_offset']}")
        proc = run_ffmpeg(["-i", mix.name, "-af", f"loudnorm={target}:{measured}:linear=true:print_format=json,"
                           f"aresample={SAMPLE_RATE}", *aac, out.name],
                          what="normalising the loudness", timeout_s=settings.timeout_s, cwd=workdir, exe=exe)
        normalization = _loudnorm_json(proc.stderr).get("normalization_type")
    mix.unlink(missing_ok=True)
    return out, {"loudness_passes": 2, "input_lufs": float(m["input_i"]), "normalization": normalization}


# ---- picture -------------------------------------------------------------------------------------

def _even(x: float) -> int:
    return max(2, round(x / 2) * 2)


def framing(shot: Shot, w: int, h: int, fit: str) -> tuple[int, int] | None:
    """The size of the sharp picture over a blurred copy of itself in a w x h frame, or None to crop it
    to cover the frame. Framed: media far from the frame's shape (fit = blur), and media so small that
    covering the frame would enlarge it more than MAX_UPSCALE (shown at most that much enlarged)."""
    v = shot.visual
    if not v.width or not v.height:
        return None
    cover, contain = max(w / v.width, h / v.height), min(w / v.width, h / v.height)
    ratio = (v.width / v.height) / (w / h)
    if cover > MAX_UPSCALE:
        s = min(contain, MAX_UPSCALE)
    elif fit == "blur" and (ratio > BACKDROP_RATIO or ratio < 1 / BACKDROP_RATIO):
        s = contain
    else:
        return None
    return min(w, _even(v.width * s)), min(h, _even(v.height * s))


def _fill(w: int, h: int, framed: tuple[int, int] | None, tag: str = "") -> str:
    """Filters that make any picture exactly w x h: cropped to cover, or a sharp copy over its own blurred one."""
    if framed is None:
        return f"scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic,crop={w}:{h},setsar=1"
    fw, fh = framed
    # the blur runs on a small copy (1/8 of the frame) and is scaled up: cheap enough for every video frame
    bw, bh = max(2, w // 8 // 2 * 2), max(2, h // 8 // 2 * 2)
    blur = max(1, min(bw, bh) // 24)
    bg, fg = f"[{tag}bg]", f"[{tag}fg]"
    return (f"split=2{bg}{fg};{bg}scale={bw}:{bh}:force_original_aspect_ratio=increase,crop={bw}:{bh},"
            f"boxblur={blur}:2,eq=brightness=-0.12:saturation=0.8,scale={w}:{h}[{tag}bgs];"
            f"{fg}scale={fw}:{fh}:flags=bicubic[{tag}fgs];"
            f"[{tag}bgs][{tag}fgs]overlay=(W-w)/2:(H-h)/2,setsar=1")


def _motion(shot: Shot, w: int, h: int, fps: int, fit: str, tag: str) -> str:
    n = shot.frames
    last = max(1, n - 1)
    if shot.motion == "none":
        # the frame rate set here too: a still's own (25 for an image) would not meet the next shot's in xfade
        return f"{_fill(w, h, framing(shot, w, h, fit), tag)},loop=loop={n - 1}:size=1:start=0,setpts=N/({fps}*TB),fps={fps}"
    W, H = round(w * OVERSAMPLE / 2) * 2, round(h * OVERSAMPLE / 2) * 2
    framed = framing(shot, w, h, fit)
    if framed is not None:
        framed = (min(W, _even(framed[0] * OVERSAMPLE)), min(H, _even(framed[1] * OVERSAMPLE)))
    p = f"(on/{last})"
    centre_x, centre_y = "(iw-iw/zoom)/2", "(ih-ih/zoom)/2"
    z, x, y = {
        "zoom_in": (f"1+{ZOOM}*{p}", centre_x, centre_y),
        "zoom_out": (f"1+{ZOOM}*(1-{p})", centre_x, centre_y),
        "pan_right": (f"{1 + ZOOM}", f"(iw-iw/zoom)*{p}", centre_y),
        "pan_left": (f"{1 + ZOOM}", f"(iw-iw/zoom)*(1-{p})", centre_y),
    }[shot.motion]
    return f"{_fill(W, H, framed, tag)},zoompan=z='{z}':x='{x}':y='{y}':d={n}:s={w}x{h}:fps={fps}"


def _clip(shot: Shot, w: int, h: int, fps: int, fit: str, tag: str) -> str:
    """A clip's window: framed, slowed (each frame shown longer), looped when still too short; never held."""
    chain = f"setpts=PTS-STARTPTS,{_fill(w, h, framing(shot, w, h, fit), tag)}"
    if shot.loop:  # frames kept at the frame size, so a loop holds at most ~2 s of them whatever the source
        chain += ",loop=loop=-1:size=32767:start=0"
    if shot.speed != 1.0:
        chain += f",setpts=PTS/{shot.speed:.4f}"
    # tpad only covers a frame or two of rounding where a window decodes short
    return f"{chain},fps={fps},tpad=stop_mode=clone:stop_duration={3 / fps:.4f},trim=end_frame={shot.frames}"


def video_inputs_and_graph(plan: RenderPlan, inputs_dir: Path, ass_name: str | None, fonts_dir: str,
                           fit: str = "blur") -> tuple[list[str], str]:
    """ffmpeg input arguments and the one filtergraph that draws the whole picture, ending in [vout]."""
    w, h, fps = plan.width, plan.height, plan.fps
    args: list[str] = []
    parts: list[str] = []
    scene_labels = []
    k = 0
    for scene in plan.scenes:
        shot_labels = []
        for j, shot in enumerate(scene.shots):
            label = f"s{scene.index}_{j}"
            v = shot.visual
            tail = f"format=yuv420p,settb=1/{fps},setpts=N[{label}]"
            if shot.kind == "card":
                parts.append(f"color=c={scene.card_colour}:s={w}x{h}:r={fps},trim=end_frame={shot.frames},{tail}")
            elif shot.kind == "image":
                name = _link(v.path, inputs_dir / f"in{k:02d}{v.path.suffix.lower()[:6]}")
                args += ["-i", str(name.relative_to(inputs_dir.parent))]
                parts.append(f"[{k}:v]{_motion(shot, w, h, fps, fit, label)},{tail}")
                k += 1
            else:
                name = _link(v.path, inputs_dir / f"in{k:02d}{v.path.suffix.lower()[:6]}")
                args += ["-ss", f"{shot.clip_in:.3f}", "-t", f"{shot.clip_s:.3f}", "-i", str(name.relative_to(inputs_dir.parent))]
                parts.append(f"[{k}:v]{_clip(shot, w, h, fps, fit, label)},{tail}")
                k += 1
            shot_labels.append(f"[{label}]")
        if len(shot_labels) > 1:
            # concat's output time base is not the shots' 1/fps; xfade needs both of its inputs on the same one
            parts.append(f"{''.join(shot_labels)}concat=n={len(shot_labels)}:v=1:a=0,settb=1/{fps},setpts=N[c{scene.index}]")
            scene_labels.append(f"[c{scene.index}]")
        else:
            scene_labels.append(shot_labels[0])
    xf = plan.crossfade_frames
    if len(scene_labels) == 1:
        joined = scene_labels[0]
    elif xf == 0:
        parts.append(f"{''.join(scene_labels)}concat=n={len(scene_labels)}:v=1:a=0[joined]")
        joined = "[joined]"
    else:
        acc, elapsed = scene_labels[0], plan.scenes[0].frames
        for i, label in enumerate(scene_labels[1:], 1):
            out = f"[x{i}]"
            offset = (elapsed - xf) / fps
            parts.append(f"{acc}{label}xfade=transition=fade:duration={xf / fps:.4f}:offset={offset:.4f}{out}")
            acc = out
            elapsed += plan.scenes[i].frames - xf
        joined = acc
    if ass_name:
        parts.append(f"{joined}ass=filename={ass_name}:fontsdir={fonts_dir},format=yuv420p[vout]")
    else:
        parts.append(f"{joined}format=yuv420p[vout]")
    return args, ";".join(parts)


def rate_args(settings: RenderSettings, width: int, height: int, fps: int) -> list[str]:
    """x264 rate control: the platforms' upload bit rate (average, peaks to 1.5x over a 2 s buffer), or constant quality."""
    if settings.rate_control == "crf":
        return ["-crf", str(settings.crf)]
    k = settings.video_bitrate_k or upload_bitrate_k(width, height, fps)
    return ["-b:v", f"{k}k", "-maxrate", f"{k * 3 // 2}k", "-bufsize", f"{k * 2}k"]


def encode_args(plan: RenderPlan, settings: RenderSettings) -> list[str]:
    return ["-c:v", "libx264", "-preset", settings.preset, *rate_args(settings, plan.width, plan.height, plan.fps),
            "-pix_fmt", "yuv420p", "-profile:v", "high", "-r", str(plan.fps), "-g", str(plan.fps * 2),
            "-threads", str(settings.threads), "-an", "-t", f"{plan.duration_s:.3f}"]


def _fonts_dir(plan: RenderPlan, workdir: Path) -> str:
    fonts = workdir / "fonts"
    fonts.mkdir(exist_ok=True)
    for f in (plan.font.path, plan.font.bold_path):
        if f is not None and not (fonts / f.name).exists():
            _link(f, fonts / f.name)
    return "fonts"


def video_command(plan: RenderPlan, workdir: Path, settings: RenderSettings, out_name: str = "picture.mp4") -> list[str]:
    """The ffmpeg arguments of the picture pass (run with cwd=workdir); the sound is muxed in afterwards."""
    inputs_dir = workdir / "inputs"
    inputs_dir.mkdir(exist_ok=True)
    ass = "subs.ass" if (workdir / "subs.ass").is_file() else None
    args, graph = video_inputs_and_graph(plan, inputs_dir, ass, _fonts_dir(plan, workdir), settings.fit)
    return [*args, "-filter_complex", graph, "-map", "[vout]", *encode_args(plan, settings), out_name]


def mux_command(picture: str, audio: str, out_name: str, duration_s: float) -> list[str]:
    """Picture and sound into one MP4 without re-encoding, index at the front for streaming."""
    return ["-i", picture, "-i", audio, "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-movflags", "+faststart",
            "-t", f"{duration_s:.3f}", out_name]


def verify_video(path: Path, *, width: int, height: int, duration_s: float, exe: str) -> dict:
    """ffprobe the finished file (render.ffmpeg.video_problems); RenderFailed names what is wrong."""
    problems, facts = video_problems(path, width=width, height=height, duration_s=duration_s, exe=exe)
    if problems:
        raise RenderFailed(f"the rendered file failed its checks: {'; '.join(problems)}")
    return facts


def timeline(plan: RenderPlan, video: Path, settings: RenderSettings) -> dict:
    """What the render knows about its file's time line, so the editor need not decode it again: where
    the voice speaks (each phrase is said on its own, so its span is exact), whether anything else
    sounds (music), whether any picture is held still (only with motion = none: stills then stand,
    clips are never held), and the file these facts are about (its hash and size)."""
    digest = hashlib.sha256()
    with open(video, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"speech_s": plan.speech_spans(), "other_sound": plan.music is not None,
            "held_frames": settings.motion != "kenburns", "duration_s": round(plan.duration_s, 3),
            "sha256": digest.hexdigest(), "bytes": video.stat().st_size}


class Compositor:
    """ffmpeg compositor: offline, CPU only, the default `render.backend`."""

    name = "compositor"

    def __init__(self, settings: RenderSettings):
        self.settings = settings
        self.exe = ffmpeg_exe(settings.ffmpeg)

    def settings_key(self) -> str:
        return settings_key(self.settings)

    def generate(self, job: RenderJob) -> RenderOutput:
        s, workdir = self.settings, Path(job.workdir)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        plan = build_plan(job.story, dict(job.media), s, workdir, exe=self.exe)
        timings.update(plan.timings)
        timings["plan_s"] = round(time.perf_counter() - t0, 3)
        ass, srt = write_subtitles(plan, workdir, burn_in=s.subtitles)

        # The sound passes (one core, ~2 s) run while x264 encodes the picture; then both are muxed.
        t = time.perf_counter()
        with ThreadPoolExecutor(max_workers=1) as pool:
            sound_job = pool.submit(mix_audio, plan, workdir, s, exe=self.exe)
            run_ffmpeg(video_command(plan, workdir, s), what="composing the picture", timeout_s=s.timeout_s,
                       cwd=workdir, exe=self.exe)
            audio, sound = sound_job.result()
        timings["picture_and_sound_s"] = round(time.perf_counter() - t, 3)
        video = workdir / "video.mp4"
        run_ffmpeg(mux_command("picture.mp4", audio.name, video.name, plan.duration_s), what="muxing picture and sound",
                   timeout_s=s.timeout_s, cwd=workdir, exe=self.exe)
        (workdir / "picture.mp4").unlink(missing_ok=True)

        t = time.perf_counter()
        thumb = workdir / "thumb.jpg"
        at = min(1.0, plan.duration_s / 2)
        run_ffmpeg(["-ss", f"{at:.3f}", "-i", video.name, "-frames:v", "1", "-q:v", "3", "-update", "1", thumb.name],
                   what="cutting the thumbnail", timeout_s=s.timeout_s, cwd=workdir, exe=self.exe)
        checked = verify_video(video, width=plan.width, height=plan.height, duration_s=plan.duration_s, exe=self.exe)
        sound["output_lufs"] = loudness(video, exe=self.exe)
        timings["check_s"] = round(time.perf_counter() - t, 3)
        timings["total_s"] = round(time.perf_counter() - t0, 3)
        details = {
            "generator": {"name": self.name, "version": VERSION, "ffmpeg": Path(self.exe).name,
                          "settings_key": self.settings_key()},
            "plan": plan.summary(), "sound": sound, "checks": checked, "timings": timings,
            "warnings": list(plan.warnings), "cues": len(plan.cues),
            "timeline": timeline(plan, video, s),
        }
        return RenderOutput(video=video, thumbnail=thumb, subtitles=srt, duration_s=checked["duration_s"],
                            width=plan.width, height=plan.height, details=details)


def preview_frame(settings: RenderSettings, job: RenderJob, out: Path) -> dict:
    """A PNG of the frame just after the hook, drawn by the compositor like the video: the story's first
    scene only, picture only (no sound passes, no checks), so it costs a second or two, not a render."""
    exe = ffmpeg_exe(settings.ffmpeg)
    workdir = Path(job.workdir)
    story = job.story.model_copy(update={"scenes": job.story.scenes[:1]})
    plan = build_plan(story, dict(job.media), settings, workdir, exe=exe)
    write_subtitles(plan, workdir, burn_in=settings.subtitles)
    run_ffmpeg(video_command(plan, workdir, settings), what="composing the preview", timeout_s=settings.timeout_s,
               cwd=workdir, exe=exe)
    scene = plan.scenes[0]
    after_hook = scene.narration_start_s + (scene.narration[0].duration_s + HOOK_GAP_S) / plan.tempo + 0.3
    at = max(0.0, min(after_hook, plan.duration_s - 1.0 / plan.fps))
    run_ffmpeg(["-ss", f"{at:.3f}", "-i", "picture.mp4", "-frames:v", "1", "-update", "1", str(Path(out).absolute())],
               what="cutting the preview frame", timeout_s=settings.timeout_s, cwd=workdir, exe=exe)
    return {"at_s": round(at, 3), "width": plan.width, "height": plan.height, "warnings": list(plan.warnings)}
