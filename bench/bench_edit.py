"""Edit speed: trendreel's edit stage against the plain ffmpeg command making the same cuts, in the same run.

Two sources, each edited both ways in the same run:
- `made`: made here with ffmpeg: a 1080x1920, 30 fps, H.264 + AAC video (`--seconds`, default 30)
  of moving test pictures with a tone, in which 2 s frozen-and-silent, 2 s silent and 2 s frozen spans
  recur every 10 s (so about a third of it is dead air), with burned-in subtitles. The editor knows
  nothing about it, so it decodes it to find frozen picture and silence.
- `render`: a trendreel render of bench_render.py's story (6 scenes, here of 6 s, Korean narration, 1080x1920),
  whose row records where its voice speaks and that it holds no picture still: the editor decodes
  nothing to analyse it. The same file is also edited as an older render would be (a second row
  without that record: `render_decoded`), to show what the analysis decode costs on it.

- trendreel: `edit_video(force=True)` end to end: ffprobe, the analysis pass (freezedetect, scdet,
  silencedetect on one decode), planning, the loudness measurement of the kept sound, the one edit
  filtergraph (cuts, the key line's zoom and highlight, loudnorm's linear gain), thumbnail, ffprobe
  and loudness checks, storing the files, the RDB row and the event.
- plain_ffmpeg: one ffmpeg command doing the same cuts (the keep segments trendreel chose) with
  trim/atrim + concat and the same encoder settings (the edit's own: x264 preset and rate, AAC 160 kbit/s), nothing
  else: no analysis, no emphasis, no loudness normalisation, no checks.
Speeds are source seconds per wall second; runs alternate trendreel / plain so that load from other
processes hits both alike, and the best and median of `--runs` are reported with their ratio
(trendreel / plain: 1.0 means as fast as the bare command). The CPU seconds each way used (its ffmpeg
children and, for trendreel, this process) are reported too, with their ratio: on a machine shared
with other work, wall times swing with the load, CPU time much less. JSON on stdout.

    python bench/bench_edit.py [--runs 3] [--seconds 30] [--width 1080 --height 1920] [--out bench/out/edit.json]
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
sys.path.insert(0, str(REPO_ROOT / "src"))

from trendreel.adapters.ffmpeg import ffmpeg_exe  # noqa: E402
from trendreel.bootstrap import App, build_app  # noqa: E402
from trendreel.db.engine import Database  # noqa: E402
from trendreel.db.tables import Video, utcnow  # noqa: E402
from trendreel.services.edit import edit_video  # noqa: E402
from trendreel.services.render import render_story  # noqa: E402
from trendreel.edit.cutter import encode_args  # noqa: E402
from trendreel.edit.plan import Cue, format_srt  # noqa: E402
from trendreel.files.layout import video_prefix  # noqa: E402
from trendreel.files.store import open_file_store  # noqa: E402
from trendreel.render.ffmpeg import probe  # noqa: E402
from trendreel.render.fonts import resolve_font  # noqa: E402
from trendreel.settings import Settings  # noqa: E402


def make_source(d: Path, seconds: int, width: int, height: int, exe: str) -> tuple[Path, Path]:
    """The source video and its .srt (see the module docstring)."""
    fps = 30
    cues, vf, silent = [], [], []
    for k, t in enumerate(range(0, seconds, 10)):
        # 0-4 s speech, 4-6 s frozen + silent, 6-8 s silent, 8-10 s frozen with sound
        cues.append((t + 0.3, t + 3.7, f"Line {k + 1}: something worth saying"))
        vf.append(f"freezeframes=first={(t + 4) * fps}:last={(t + 6) * fps - 1}:replace={(t + 4) * fps}")
        vf.append(f"freezeframes=first={(t + 8) * fps}:last={(t + 10) * fps - 1}:replace={(t + 8) * fps}")
        silent.append(f"between(t,{t + 4},{t + 8})")
    srt = d / "subs.srt"
    srt.write_text(format_srt([Cue(a, b, text) for a, b, text in cues]), encoding="utf-8")
    chain = "[0:v]subtitles=subs.srt:fontsdir={}:force_style='FontName=NanumGothic,Bold=1,Outline=2,MarginV=60'[s0]".format(
        resolve_font(None).path.parent)
    for i, f in enumerate(vf):
        chain += f";[s{i}]split[m{i}][r{i}];[m{i}][r{i}]{f}[s{i + 1}]"
    chain += f";[s{len(vf)}]format=yuv420p[v];[1:a]volume=enable='{'+'.join(silent)}':volume=0,aformat=channel_layouts=stereo[a]"
    out = d / "source.mp4"
    subprocess.run([exe, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r={fps}:d={seconds}",
                    "-f", "lavfi", "-i", f"sine=f=330:d={seconds}:sample_rate=48000", "-filter_complex", chain,
                    "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                    "-c:a", "aac", "-b:a", "160k", out.name], cwd=d, check=True, timeout=900)
    return out, srt


def plain_command(source: str, kept: list[list[float]], settings, fps: float, length: float, out: str,
                  width: int, height: int) -> list[str]:
    """One ffmpeg command: the same cuts with trim/atrim + concat and the same encoder settings."""
    n = len(kept)
    parts = [f"[0:v]split={n}" + "".join(f"[v{i}]" for i in range(n)),
             f"[0:a]asplit={n}" + "".join(f"[a{i}]" for i in range(n))]
    for i, (a, b) in enumerate(kept):
        parts.append(f"[v{i}]trim=start={a}:end={b},setpts=PTS-STARTPTS[c{i}]")
        parts.append(f"[a{i}]atrim=start={a}:end={b},asetpts=PTS-STARTPTS[d{i}]")
    parts.append("".join(f"[c{i}][d{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=1[vout][aout]")
    return ["-i", source, "-filter_complex", ";".join(parts), "-map", "[vout]", "-map", "[aout]",
            *encode_args(settings, fps, length, width, height), out]


def cpu_s() -> float:
    """CPU seconds used so far by this process and its finished children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn) -> tuple[float, float, object]:
    t, c = time.perf_counter(), cpu_s()
    out = fn()
    return time.perf_counter() - t, cpu_s() - c, out


def speed(duration: float, times: list[float]) -> dict:
    return {"best": round(duration / min(times), 3), "median": round(duration / statistics.median(times), 3),
            "wall_s": [round(x, 3) for x in times]}


class Case:
    """One source edited by trendreel and by the plain command, run after run."""

    def __init__(self, app: App, video_id: str, source: Path, exe: str):
        self.app, self.video_id, self.source, self.exe = app, video_id, source, exe
        self.info = probe(source)
        self.ours, self.ours_cpu, self.plain, self.plain_cpu, self.timings = [], [], [], [], []
        self.edited: dict = {}

    def run_ours(self) -> None:
        wall, cpu, self.edited = timed(lambda: edit_video(self.app, video_id=self.video_id, force=True))
        self.ours.append(wall)
        self.ours_cpu.append(cpu)
        self.timings.append(self.edited["details"]["timings"])

    def run_plain(self) -> None:
        kept = self.edited["edit"]["kept"]
        length = sum(b - a for a, b in kept)
        v = self.info.video
        cmd = [self.exe, "-v", "error", "-y", "-nostdin",
               *plain_command(self.source.name, kept, self.app.settings.edit, v.fps, length, "plain.mp4", v.width, v.height)]
        wall, cpu, _ = timed(lambda: subprocess.run(cmd, cwd=self.source.parent, check=True, timeout=900))
        self.plain.append(wall)
        self.plain_cpu.append(cpu)

    def result(self) -> dict:
        d = self.info.duration_s
        out = {"source_s": round(d, 3), "analysis_from": self.edited["details"]["analysis"]["from"],
               "edit": {k: self.edited["edit"][k] for k in ("duration_after_s", "segments_kept", "cuts", "removed_s")},
               "trendreel": {**speed(d, self.ours), "cpu_s": [round(x, 2) for x in self.ours_cpu],
                             "stages_median_s": {k: round(statistics.median(t.get(k, 0.0) for t in self.timings), 3)
                                                 for k in self.timings[0]}}}
        if self.plain:
            out["plain_ffmpeg"] = {**speed(d, self.plain), "cpu_s": [round(x, 2) for x in self.plain_cpu]}
            out["ratio"] = {"best": round(min(self.plain) / min(self.ours), 3),
                            "median": round(statistics.median(self.plain) / statistics.median(self.ours), 3),
                            "cpu_median": round(statistics.median(self.plain_cpu) / statistics.median(self.ours_cpu), 3)}
        return out


def made_case(d: Path, args, exe: str) -> tuple[Case, float]:
    t = time.perf_counter()
    source, srt = make_source(d, args.seconds, args.width, args.height, exe)
    made_s = time.perf_counter() - t
    settings = Settings(home=d / "home", edit={"frozen": "cut"})  # the source's frozen spans with sound go too
    settings.home.mkdir()
    app = App(settings=settings, db=Database(f"sqlite:///{d / 'bench.db'}"), files=open_file_store(settings.files_url))
    prefix = video_prefix("vbenchsource", utcnow())
    stored = app.files.put_file(prefix + "video.mp4", source)
    subs = app.files.put_file(prefix + "subtitles.srt", srt)
    info = probe(source)
    with app.db.session() as s:
        s.add(Video(id="vbenchsource", stage="rendered", backend="compositor", status="done", path=stored.key,
                    subtitles_path=subs.key, duration_s=info.duration_s, width=args.width, height=args.height,
                    bytes=stored.bytes, sha256=stored.sha256, details={}, created_at=utcnow()))
    return Case(app, "vbenchsource", source, exe), made_s


def render_cases(d: Path, args, exe: str) -> tuple[Case, Case, float]:
    """A trendreel render (its recorded timeline used) and the same file as an older render's row."""
    sys.path.insert(0, str(REPO_ROOT / "bench"))
    import bench_render

    bench_render.SCENE_S = 6.0  # scenes longer than their narration: pauses between them for the edit to cut
    home = d / "render-home"
    t = time.perf_counter()
    bench_render.setup(home, "ko", args.width, args.height)
    app = build_app(Settings(home=home, render={"width": args.width, "height": args.height}))
    video = render_story(app, story_id="s-bench")
    made_s = time.perf_counter() - t
    source = d / "render.mp4"
    shutil.copyfile(app.files.local_path(video["path"]), source)
    with app.db.session() as s:
        row = s.get(Video, video["id"])
        older = {c.name: getattr(row, c.name) for c in Video.__table__.columns}
        older.update(id="vbenchrenderold", details={k: v for k, v in row.details.items() if k != "timeline"})
        s.add(Video(**older))
    return Case(app, video["id"], source, exe), Case(app, "vbenchrenderold", source, exe), made_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--width", type=int, default=1080)
    ap.add_argument("--height", type=int, default=1920)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    exe = ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="bench-edit-") as tmp:
        d = Path(tmp)
        made, made_s = made_case(d, args, exe)
        render, render_decoded, render_s = render_cases(d, args, exe)
        for _ in range(args.runs):
            # alternate, so that load from other processes hits every way alike
            made.run_ours()
            made.run_plain()
            render.run_ours()
            render.run_plain()
            render_decoded.run_ours()
        # the older render's cuts are the render's within a frame or two: compared with the same plain runs
        render_decoded.plain, render_decoded.plain_cpu = render.plain, render.plain_cpu
        results = {"made": made.result(), "render": render.result(), "render_decoded": render_decoded.result()}
        made.app.close()
        render.app.close()

    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "ffmpeg": Path(exe).name},
        "setup_s": {"made_source": round(made_s, 2), "render": round(render_s, 2)},
        **results,
        "unit": "source seconds per wall second; ratio = trendreel speed / plain ffmpeg speed (cpu_median: by CPU seconds)",
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
