"""Edit speed: trendreel's edit stage against the plain ffmpeg command making the same cuts, in the same run.

The source is made here with ffmpeg: a 1080x1920, 30 fps, H.264 + AAC video (`--seconds`, default 30)
of moving test pictures with a tone, in which 2 s frozen-and-silent, 2 s silent and 2 s frozen spans
recur every 10 s (so about a third of it is dead air), with burned-in subtitles.

- trendreel: `edit_video(force=True)` end to end: ffprobe, the analysis pass (freezedetect, scdet,
  silencedetect on one decode), planning, the loudness measurement of the kept sound, the one edit
  filtergraph (cuts, the key line's zoom and highlight, loudnorm's linear gain), thumbnail, ffprobe
  and loudness checks, storing the files, the RDB row and the event.
- plain_ffmpeg: one ffmpeg command doing the same cuts (the keep segments trendreel chose) with
  trim/atrim + concat and the same encoder settings (x264 veryfast CRF 23, AAC 160 kbit/s), nothing
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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "src"))

from trendreel.adapters.ffmpeg import ffmpeg_exe  # noqa: E402
from trendreel.bootstrap import App  # noqa: E402
from trendreel.db.engine import Database  # noqa: E402
from trendreel.db.tables import Video, utcnow  # noqa: E402
from trendreel.services.edit import edit_video  # noqa: E402
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
        duration = info.duration_s
        ours, plain, analysis, timings, edited = [], [], [], [], None
        ours_cpu, plain_cpu = [], []
        for _ in range(args.runs):
            t, c = time.perf_counter(), cpu_s()
            edited = edit_video(app, video_id="vbenchsource", force=True)
            ours.append(time.perf_counter() - t)
            ours_cpu.append(cpu_s() - c)
            timings.append(edited["details"]["timings"])
            analysis.append(edited["details"]["timings"]["analysis_s"])
            kept = edited["edit"]["kept"]
            length = sum(b - a for a, b in kept)
            t, c = time.perf_counter(), cpu_s()
            subprocess.run([exe, "-v", "error", "-y", "-nostdin",
                            *plain_command(source.name, kept, settings.edit, info.video.fps, length, "plain.mp4", args.width, args.height)],
                           cwd=d, check=True, timeout=900)
            plain.append(time.perf_counter() - t)
            plain_cpu.append(cpu_s() - c)
        plain_probe = probe(d / "plain.mp4")
        app.close()

    def speed(times: list[float]) -> dict:
        return {"best": round(duration / min(times), 3), "median": round(duration / statistics.median(times), 3),
                "wall_s": [round(x, 3) for x in times]}

    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "ffmpeg": Path(exe).name},
        "source": {"seconds": round(duration, 3), "size": [args.width, args.height], "made_in_s": round(made_s, 2)},
        "edit": {k: edited["edit"][k] for k in ("duration_after_s", "segments_kept", "cuts", "removed_s", "removed_total_s")},
        "plain_output_s": round(plain_probe.duration_s or 0.0, 3),
        "trendreel": {**speed(ours), "cpu_s": [round(x, 2) for x in ours_cpu], "analysis_s": {"best": round(min(analysis), 3), "median": round(statistics.median(analysis), 3)},
                      "stages_median_s": {k: round(statistics.median(t[k] for t in timings), 3) for k in timings[0]}},
        "plain_ffmpeg": {**speed(plain), "cpu_s": [round(x, 2) for x in plain_cpu]},
        "ratio": {"best": round(min(plain) / min(ours), 3), "median": round(statistics.median(plain) / statistics.median(ours), 3),
                  "cpu_median": round(statistics.median(plain_cpu) / statistics.median(ours_cpu), 3)},
        "unit": "source seconds per wall second; ratio = trendreel speed / plain ffmpeg speed (cpu_median: by CPU seconds)",
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
