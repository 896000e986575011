"""Render speed of a ~30 s story: trendreel's render stage against the plain ffmpeg command and moviepy.

One story, one machine, one run, three ways to make the same 1080x1920 composition: 6 scenes
(stills with Ken Burns motion, some shown whole over a blurred copy, a low-resolution still framed,
a 2 s clip range slowed to fill its scene, a 4 s range, a scene of two visuals, crossfades),
Korean narration (espeak-ng; `--lang en`: piper), two-line subtitles and on-screen text in NanumGothic,
loudness normalised to -14 LUFS, H.264 (x264 veryfast, CRF 23) + AAC.

- trendreel: `render_story(force=True)` end to end, in a child process: speech synthesis, media
  checks, the sound passes (mix + two-pass loudnorm), the picture pass, thumbnail, ffprobe and
  loudness checks, storing the files, the RDB row and the event.
- plain_ffmpeg: the fastest single ffmpeg command written by hand for the same composition, given
  the narration WAVs and the ASS file that trendreel's plan wrote: the same inputs, zoompan on the
  still scaled once to the frame (no oversampling), the same blurred backdrops, trims, xfade, libass,
  adelay+amix and a one-pass loudnorm in the same graph, the same encoder settings.
- moviepy (2.x, when importable; not a trendreel dependency: `pip install --no-deps moviepy decorator
  proglog imageio`, as moviepy 2.2 pins Pillow < 12): the same scenes, motion,
  crossfades, subtitles and narration, written with the same x264 settings; it renders the first
  `--moviepy-seconds` of the video (its speed per second does not depend on the length).
Each rendered file's frozen share (ffmpeg freezedetect n=0.001 d=1), shots per minute (from the plan)
and video bit rate are measured after its timing. Speeds are video seconds per wall second; runs alternate trendreel / plain so that load from other
processes hits both alike, and the best and median of `--runs` are reported. Peak memory is the
largest resident set of the process (trendreel's Python) and of its biggest child (ffmpeg).

    python bench/bench_render.py [--runs 3] [--lang ko] [--moviepy-seconds 8] [--out bench/out/render.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

KO = {
    "title": "2030 한강 러닝 열풍",
    "hook": "요즘 이삼십대는 주말 아침마다 한강에서 달립니다.",
    "scenes": [
        ("러닝 크루가 서울 곳곳에서 빠르게 늘고 있습니다.", "러닝 크루 급증"),
        ("한강 공원의 아침 이용객은 일 년 새 두 배가 됐습니다.", "아침 이용객 두 배"),
        ("카페들도 러너를 위해 아침 일찍 문을 엽니다.", "아침 여는 카페"),
        ("운동화 판매도 지난해보다 크게 늘었습니다.", "운동화 판매 증가"),
        ("혼자 뛰는 사람보다 함께 뛰는 사람이 더 많습니다.", "함께 달리기"),
        ("전문가들은 이 흐름이 한동안 이어질 것으로 봅니다.", "계속될 트렌드"),
    ],
}
EN = {
    "title": "The river running boom",
    "hook": "People in their twenties now run along the river every weekend.",
    "scenes": [
        ("Running crews are growing fast all over the city.", "Running crews"),
        ("Morning visitors to the riverside park doubled in a year.", "Twice the runners"),
        ("Cafes now open early to catch the runners.", "Early cafes"),
        ("Sales of running shoes are up sharply from last year.", "Shoe sales up"),
        ("More people run together than alone.", "Run together"),
        ("Experts expect the trend to last for a while.", "Here to stay"),
    ],
}
SCENE_S = 4.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ffmpeg_exe() -> str:
    from trendreel.adapters.ffmpeg import ffmpeg_exe as exe

    return exe()


def make_media(d: Path) -> dict[str, Path]:
    d.mkdir(parents=True, exist_ok=True)
    ff = ffmpeg_exe()
    files = {
        "wide": (["-f", "lavfi", "-i", "testsrc2=s=1920x1080", "-frames:v", "1"], "wide.jpg"),
        "tall": (["-f", "lavfi", "-i", "mandelbrot=s=1200x1600", "-frames:v", "1"], "tall.jpg"),
        "square": (["-f", "lavfi", "-i", "cellauto=s=1400x1400:rule=110", "-frames:v", "1"], "square.jpg"),
        "small": (["-f", "lavfi", "-i", "testsrc2=s=480x360", "-frames:v", "1"], "small.jpg"),
        "clip": (["-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=12", "-f", "lavfi", "-i", "sine=f=330:d=12",
                  "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"], "clip.mp4"),
    }
    out = {}
    for key, (args, name) in files.items():
        subprocess.run([ff, "-v", "error", "-y", *args, str(d / name)], check=True)
        out[key] = d / name
    return out


def setup(home: Path, lang: str, width: int, height: int):
    """A home with the media stored and the story saved; returns (settings overrides, story id)."""
    from trendreel.bootstrap import build_app
    from trendreel.db.tables import Article, MediaItem, Story as StoryRow
    from trendreel.files.layout import media_file
    from trendreel.ids import article_id, media_id
    from trendreel.settings import Settings
    from trendreel.story.models import Citation, MediaRef, Scene, Story

    media = make_media(home.parent / "media")
    app = build_app(Settings(home=home, render={"width": width, "height": height}))
    aid = article_id("https://bench.example/run")
    ids = {}
    with app.db.session() as s:
        s.add(Article(id=aid, url="https://bench.example/run", canonical_url="https://bench.example/run", title="run",
                      lang=lang, content_hash="run", minhash="0" * 512))
        s.flush()
        for pos, (key, path) in enumerate(media.items(), 1):
            kind = "video" if key == "clip" else "image"
            url = f"https://bench.example/run/{key}"
            mid = media_id(aid, kind, url)
            k = media_file(aid, kind, pos, path.suffix.lstrip("."))
            app.files.put_file(k, path)
            s.add(MediaItem(id=mid, article_id=aid, position=pos, kind=kind, source_url=url, status="stored", path=k,
                            duration_s=12.0 if kind == "video" else None))
            ids[key] = mid
    text = KO if lang == "ko" else EN
    # a 2 s clip range in a longer scene (slowed), a low-resolution still (framed), two visuals in one scene
    order = [[MediaRef(media_id=ids["wide"], kind="image")], [MediaRef(media_id=ids["clip"], kind="video", start_s=1.0, end_s=3.0)],
             [MediaRef(media_id=ids["tall"], kind="image")], [MediaRef(media_id=ids["square"], kind="image"), MediaRef(media_id=ids["small"], kind="image")],
             [MediaRef(media_id=ids["clip"], kind="video", start_s=6.0, end_s=6.0 + SCENE_S)],
             [MediaRef(media_id=ids["wide"], kind="image")]]
    scenes = [Scene(narration=n, on_screen_text=o, duration_s=SCENE_S, media=order[i],
                    citations=[Citation(article_id=aid, sentence=i + 1, quote=n)]) for i, (n, o) in enumerate(text["scenes"])]
    story = Story(id="s-bench", title=text["title"], hook=text["hook"], scenes=scenes, lang=lang,
                  duration_s=SCENE_S * len(scenes) + 4, article_id=aid, backend="template", model="bench")
    with app.db.session() as s:
        s.add(StoryRow(id="s-bench", article_id=aid, backend="template", model="bench", lang=lang, title=story.title,
                       duration_s=story.duration_s, body=story.model_dump(mode="json")))
    app.close()
    return story


def worker_render(home: Path, width: int, height: int) -> None:
    """Child process: one forced render; prints wall time, details and peak memory as JSON."""
    from trendreel.bootstrap import build_app
    from trendreel.services.render import render_story
    from trendreel.settings import Settings

    app = build_app(Settings(home=home, render={"width": width, "height": height}))
    t = time.perf_counter()
    video = render_story(app, story_id="s-bench", force=True)
    wall = time.perf_counter() - t
    usage = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # before the measurement's own ffmpeg
    facts = picture_facts(app.files.local_path(video["path"]), video["duration_s"], video["details"]["plan"]["shots"])
    app.close()
    print(json.dumps({"wall_s": wall, "duration_s": video["duration_s"], "bytes": video["bytes"], **facts,
                      "timings": video["details"]["timings"], "sound": video["details"]["sound"],
                      "warnings": video["warnings"],
                      "peak_rss_mb_python": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "peak_rss_mb_largest_child": usage}))


def run_trendreel(home: Path, width: int, height: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", str(home), "--width", str(width), "--height", str(height)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"render failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- the plain ffmpeg command ----------------------------------------------------------------------

def plain_command(plan, work: Path, settings) -> list[str]:
    """One hand-written ffmpeg command for the plan's composition (inputs: the plan's media, WAVs, ASS):
    the same shots (stills zoomed and panned, clip windows slowed or looped, framing over a blurred copy),
    cuts inside scenes, crossfades between them, the same text and encoder settings; stills are scaled
    once to the frame (no oversampling)."""
    from trendreel.render.compositor import ZOOM, framing, rate_args
    from trendreel.render.plan import HOOK_GAP_S

    w, h, fps = plan.width, plan.height, plan.fps
    args, graph, k = [], [], 0
    labels = []

    def fill(shot, tag: str) -> str:
        framed = framing(shot, w, h, settings.fit)
        if framed is None:
            return f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1"
        return (f"split[b{tag}][f{tag}];[b{tag}]scale={w // 8}:{h // 8}:force_original_aspect_ratio=increase,crop={w // 8}:{h // 8},"
                f"boxblur=5:2,eq=brightness=-0.12:saturation=0.8,scale={w}:{h}[bb{tag}];[f{tag}]scale={framed[0]}:{framed[1]}"
                f"[ff{tag}];[bb{tag}][ff{tag}]overlay=(W-w)/2:(H-h)/2,setsar=1")

    for sc in plan.scenes:
        shot_labels = []
        for j, shot in enumerate(sc.shots):
            v, n, tag = shot.visual, shot.frames, f"{sc.index}_{j}"
            out = f"format=yuv420p,settb=1/{fps},setpts=N[v{tag}]"
            if shot.kind == "card":
                graph.append(f"color=c={sc.card_colour}:s={w}x{h}:r={fps},trim=end_frame={n},{out}")
            elif shot.kind == "image":
                args += ["-i", str(v.path)]
                z = {"zoom_in": f"1+{ZOOM}*on/{n - 1}", "zoom_out": f"{1 + ZOOM}-{ZOOM}*on/{n - 1}"}.get(shot.motion, f"{1 + ZOOM}")
                x = {"pan_right": f"(iw-iw/zoom)*on/{n - 1}", "pan_left": f"(iw-iw/zoom)*(1-on/{n - 1})"}.get(shot.motion, "(iw-iw/zoom)/2")
                graph.append(f"[{k}:v]{fill(shot, tag)},zoompan=z='{z}':x='{x}':y='(ih-ih/zoom)/2':d={n}:s={w}x{h}:fps={fps},{out}")
                k += 1
            else:
                args += ["-ss", f"{shot.clip_in:.3f}", "-t", f"{shot.clip_s:.3f}", "-i", str(v.path)]
                loop = ",loop=loop=-1:size=32767" if shot.loop else ""
                slow = f",setpts=PTS/{shot.speed:.4f}" if shot.speed != 1.0 else ""
                graph.append(f"[{k}:v]setpts=PTS-STARTPTS,{fill(shot, tag)}{loop}{slow},fps={fps},"
                             f"tpad=stop_mode=clone:stop_duration=0.1,trim=end_frame={n},{out}")
                k += 1
            shot_labels.append(f"[v{tag}]")
        if len(shot_labels) > 1:
            graph.append(f"{''.join(shot_labels)}concat=n={len(shot_labels)}:v=1:a=0,settb=1/{fps},setpts=N[c{sc.index}]")
            labels.append(f"[c{sc.index}]")
        else:
            labels.append(shot_labels[0])
    xf, acc, elapsed = plan.crossfade_frames, labels[0], plan.scenes[0].frames
    for i, lab in enumerate(labels[1:], 1):
        graph.append(f"{acc}{lab}xfade=transition=fade:duration={xf / fps:.4f}:offset={(elapsed - xf) / fps:.4f}[x{i}]")
        acc, elapsed = f"[x{i}]", elapsed + plan.scenes[i].frames - xf
    graph.append(f"{acc}ass=subs.ass:fontsdir=fonts[vout]")
    voices = []
    for sc in plan.scenes:
        t = sc.narration_start_s
        for j, clip in enumerate(sc.narration):
            t += HOOK_GAP_S if j else 0.0
            args += ["-i", str(clip.path)]
            graph.append(f"[{k}:a]aresample=48000,adelay={round(t * 1000)}:all=1[a{k}]")
            voices.append(f"[a{k}]")
            t += clip.duration_s
            k += 1
    graph.append(f"{''.join(voices)}amix=inputs={len(voices)}:normalize=0,apad,atrim=0:{plan.duration_s:.3f},"
                 f"loudnorm=I=-14:TP=-1.5:LRA=11,aresample=48000[aout]")
    return [ffmpeg_exe(), "-v", "error", "-y", *args, "-filter_complex", ";".join(graph), "-map", "[vout]", "-map", "[aout]",
            "-c:v", "libx264", "-preset", settings.preset, *rate_args(settings, w, h, fps), "-pix_fmt", "yuv420p",
            "-r", str(fps), "-g", str(fps * 2), "-c:a", "aac", "-b:a", "160k", "-ac", "2", "-movflags", "+faststart",
            "-t", f"{plan.duration_s:.3f}", "plain.mp4"]


def picture_facts(path: Path, duration_s: float, shots: int) -> dict:
    """Frozen share (freezedetect n=0.001 d=1), shots per minute and video bit rate of one rendered file."""
    from trendreel.render.ffmpeg import frozen_spans

    spans = frozen_spans(path)
    frozen = sum(b - a for a, b in spans)
    return {"frozen_share": round(frozen / duration_s, 4), "frozen_spans": [[round(a, 2), round(b, 2)] for a, b in spans],
            "shots_per_minute": round(shots * 60 / duration_s, 1),
            "mbit_s": round(path.stat().st_size * 8 / duration_s / 1e6, 2)}


def prepare_plain(home: Path, story, work: Path):
    """Build trendreel's plan once (speech, media checks, ASS) so the plain command has the same inputs."""
    from trendreel.adapters.ffmpeg import ffmpeg_exe as exe
    from trendreel.bootstrap import build_app
    from trendreel.render.compositor import _fonts_dir
    from trendreel.render.plan import build_plan
    from trendreel.services.render import _fetch_media
    from trendreel.render.subtitles import write_subtitles
    from trendreel.settings import Settings

    app = build_app(Settings(home=home, render={"width": 1080, "height": 1920}))
    settings = app.settings.render
    media = _fetch_media(app, story, work / "fetched")
    plan = build_plan(story, media, settings, work, exe=exe())
    write_subtitles(plan, work)
    _fonts_dir(plan, work)
    app.close()
    return plan, settings


def run_plain(cmd: list[str], work: Path, duration: float, shots: int) -> dict:
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=work, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode(errors="replace")
    if status != 0:
        raise SystemExit(f"plain ffmpeg failed: {err[-2000:]}")
    return {"wall_s": wall, "duration_s": duration, "peak_rss_mb": usage.ru_maxrss / 1024,
            **picture_facts(work / "plain.mp4", duration, shots)}


# ---- moviepy ---------------------------------------------------------------------------------------

def run_moviepy(plan, work: Path, seconds: float, settings) -> dict:
    """The plan's first `seconds` composed with moviepy 2 (Pillow zoom per frame, TextClip subtitles)."""
    from moviepy import (AudioFileClip, ColorClip, CompositeAudioClip, CompositeVideoClip, ImageClip, TextClip,
                         VideoFileClip, vfx)

    w, h, fps = plan.width, plan.height, plan.fps
    font = str(plan.font.bold_path or plan.font.path)
    layers, audio = [], []
    for sc in plan.scenes:
        start = sc.start_frame / fps
        if start >= seconds:
            break
        dur = sc.frames / fps
        shot = sc.shots[0]
        v = shot.visual
        if shot.kind == "image":
            base = ImageClip(str(v.path)).with_duration(dur)
            scale = max(w / base.w, h / base.h)
            big_w, big_h = base.w * scale * 1.12, base.h * scale * 1.12
            if shot.motion in ("zoom_in", "zoom_out"):
                grow = (lambda t, d=dur: scale * (1 + 0.12 * t / d)) if shot.motion == "zoom_in" else \
                    (lambda t, d=dur: scale * (1.12 - 0.12 * t / d))
                clip = base.resized(grow).with_position("center")
            else:
                sign = 1 if shot.motion == "pan_right" else -1
                clip = base.resized(scale * 1.12).with_position(
                    lambda t, d=dur, s=sign, bw=big_w, bh=big_h: (-(bw - w) * (t / d if s > 0 else 1 - t / d), -(bh - h) / 2))
        else:
            src = VideoFileClip(str(v.path), audio=False).subclipped(v.clip_in, v.clip_out)
            scale = max(w / src.w, h / src.h)
            clip = src.resized(scale).with_position("center").with_duration(dur)
        clip = clip.with_start(start)
        if layers:
            clip = clip.with_effects([vfx.CrossFadeIn(plan.crossfade_frames / fps)])
        layers.append(clip)
        for o in sc.overlays:
            layers.append(TextClip(font=font, text=o.text.text, font_size=round(o.text.size / plan.font.line_ratio),
                                   color="white", bg_color=(0, 0, 0), margin=(16, 8))
                          .with_start(o.start_s).with_duration(o.end_s - o.start_s).with_position(("center", int(h * 0.11))))
        for c in sc.cues:
            layers.append(TextClip(font=font, text="\n".join(c.lines), font_size=round(h * 0.040 / plan.font.line_ratio),
                                   color="white", stroke_color="black", stroke_width=5, text_align="center")
                          .with_start(c.start_s).with_duration(c.end_s - c.start_s).with_position(("center", int(h * 0.68))))
        t = sc.narration_start_s
        for j, n in enumerate(sc.narration):
            t += 0.35 if j else 0.0
            audio.append(AudioFileClip(str(n.path)).with_start(t))
            t += n.duration_s
    video = CompositeVideoClip([ColorClip((w, h), (0, 0, 0), duration=seconds), *layers], size=(w, h)).with_duration(seconds)
    video = video.with_audio(CompositeAudioClip(audio).with_duration(seconds))
    t0 = time.perf_counter()
    video.write_videofile(str(work / "moviepy.mp4"), fps=fps, codec="libx264", preset=settings.preset,
                          ffmpeg_params=["-crf", str(settings.crf), "-pix_fmt", "yuv420p"], audio_codec="aac",
                          audio_bitrate="160k", threads=os.cpu_count(), logger=None)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "duration_s": seconds,
            "peak_rss_mb_python": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def summarize(runs: list[dict]) -> dict:
    speeds = [r["duration_s"] / r["wall_s"] for r in runs]
    return {"runs": runs, "speed_best": round(max(speeds), 3), "speed_median": round(statistics.median(speeds), 3),
            "frozen_share_max": max(r["frozen_share"] for r in runs),
            "shots_per_minute": runs[-1]["shots_per_minute"], "mbit_s": runs[-1]["mbit_s"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lang", choices=["ko", "en"], default="ko")
    ap.add_argument("--moviepy-seconds", type=float, default=8.0, help="0 skips moviepy")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder with every video")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--width", type=int, default=1080, help=argparse.SUPPRESS)
    ap.add_argument("--height", type=int, default=1920, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker_render(args.worker, args.width, args.height)
        return

    root = Path(tempfile.mkdtemp(prefix="bench-render-"))
    home = root / "home"
    story = setup(home, args.lang, 1080, 1920)
    work = root / "plain"
    plan, settings = prepare_plain(home, story, work)
    cmd = plain_command(plan, work, settings)
    log(f"story: {len(plan.scenes)} scenes, {plan.duration_s:.1f} s; {args.runs} runs each")

    ours, plain = [], []
    for i in range(args.runs):
        r = run_trendreel(home, 1080, 1920)
        ours.append(r)
        log(f"run {i + 1}: trendreel {r['wall_s']:.1f} s")
        p = run_plain(cmd, work, plan.duration_s, plan.shot_count)
        plain.append(p)
        log(f"run {i + 1}: plain ffmpeg {p['wall_s']:.1f} s")
    result = {
        "bench": "render", "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                       "load_avg_1m_at_end": None},
        "story": {"lang": args.lang, "scenes": len(plan.scenes), "video_s": round(plan.duration_s, 3),
                  "size": [plan.width, plan.height], "fps": plan.fps, "preset": settings.preset, "crf": settings.crf,
                  "voice": plan.voice},
        "trendreel": summarize(ours), "plain_ffmpeg": summarize(plain),
        "plain_command_note": "one ffmpeg run given trendreel's narration WAVs and ASS file; no speech synthesis, "
                              "one-pass loudnorm, no checks, no thumbnail, no storage",
    }
    result["speed_ratio_best"] = round(result["trendreel"]["speed_best"] / result["plain_ffmpeg"]["speed_best"], 3)
    result["speed_ratio_median"] = round(result["trendreel"]["speed_median"] / result["plain_ffmpeg"]["speed_median"], 3)
    result["checks"] = {"speed_ratio_at_least_0.8": result["speed_ratio_median"] >= 0.8,
                        "frozen_share_at_most_0.10": result["trendreel"]["frozen_share_max"] <= 0.10}
    result["peak_memory_mb"] = {
        "trendreel_python": round(max(r["peak_rss_mb_python"] for r in ours), 1),
        "trendreel_largest_ffmpeg": round(max(r["peak_rss_mb_largest_child"] for r in ours), 1),
        "plain_ffmpeg": round(max(p["peak_rss_mb"] for p in plain), 1),
    }
    if args.moviepy_seconds > 0:
        try:
            import moviepy  # noqa: F401
        except ImportError:
            result["moviepy"] = {"skipped": "moviepy is not installed (pip install moviepy; not a trendreel dependency)"}
        else:
            log(f"moviepy: first {args.moviepy_seconds:g} s ...")
            m = run_moviepy(plan, work, min(args.moviepy_seconds, plan.duration_s), settings)
            m["speed"] = round(m["duration_s"] / m["wall_s"], 3)
            m["note"] = ("same scenes, motion, crossfades, subtitles and narration; no loudness normalisation, "
                         "no blurred backdrops; first seconds only")
            result["moviepy"] = m
            result["speed_ratio_trendreel_vs_moviepy"] = round(result["trendreel"]["speed_median"] / m["speed"], 2)
    result["machine"]["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
