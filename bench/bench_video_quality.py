"""Video quality of rendered and edited stories: frozen picture, shot rate, distinct visuals, copied narration.

For every story of a trendreel home that has a finished render, the raw render (the plain baseline)
and its edit are measured side by side, per video and in total:

- frozen share: seconds that ffmpeg's `freezedetect=n=0.001:d=1` reports frozen (the figure users
  measure with: at least 1 s of frames within -60 dB of the first), over the video's length; beside
  it the editor's own detector (-75 dB on a 320 px high copy, at least 1 s), which tells a still
  under the compositor's slow pan or zoom from a held frame;
- shots per minute: shot changes per minute of video, by ffmpeg's `scdet` (score over 5 of 100) on
  3 frames a second (a crossfade is one change; the compositor's crossfades are never a single cut);
- distinct visuals: different media (images and clips) the video shows, from the render plan's shots
  (`details.plan.scenes[].shots[].media_id`); colour cards are counted apart; for an edit, the
  scenes it keeps (at least half of a scene's time);
- verbatim share: the share of the story's narration copied word for word from its sources, as the
  story records it (the same for a render and its edit: the edit cuts no narration).

The videos come from `--home DIR` (an existing home, e.g. `scripts/demo --home DIR`), else the demo
runs into a temporary home first (`trendreel demo --home TMP --json`: a Korean and an English story,
rendered and edited). `--reedit` edits every render again with the current editor (force) and
measures that edit; `--frozen MODE` sets `edit.frozen` for it. One decode per video measures all of
it at full size. JSON on stdout.

    python bench/bench_video_quality.py [--home DIR] [--reedit] [--frozen animate|silent|cut|keep] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "src"))

from trendreel import services  # noqa: E402
from trendreel.adapters.ffmpeg import ffmpeg_exe  # noqa: E402
from trendreel.bootstrap import build_app  # noqa: E402
from trendreel.render.ffmpeg import probe  # noqa: E402
from trendreel.settings import Settings  # noqa: E402

USER_FREEZE = "freezedetect=n=0.001:d=1"
OUR_FREEZE = "freezedetect=n=-75dB:d=1"
# Shot changes: scdet (score 0-100) on 3 frames a second of a 320 px copy: a crossfade, spread over many
# frames at the full rate, then shows as one or two big steps, while a slow pan or zoom stays below the
# score; detections less than SHOT_MERGE_S apart are one change (the two halves of a crossfade).
SCENE_SCORE = 5
SHOT_FPS = 3
SHOT_MERGE_S = 0.5


def _spans(stderr: str, tag: str, duration: float) -> list[tuple[float, float]]:
    starts = [float(x) for x in re.findall(rf"{tag} @ [^\]]*\] lavfi\.freezedetect\.freeze_start: ([\d.]+)", stderr)]
    ends = [float(x) for x in re.findall(rf"{tag} @ [^\]]*\] lavfi\.freezedetect\.freeze_end: ([\d.]+)", stderr)]
    return [(a, ends[i] if i < len(ends) else duration) for i, a in enumerate(starts)]


def measure(path: Path, exe: str) -> dict:
    """Frozen share (users' figure and the editor's), shot changes, one decode."""
    duration = probe(path).duration_s or 0.0
    # the users' freezedetect on the full picture; the editor's on a 320 px copy; scdet on the full picture
    graph = (f"[0:v]split=3[a][b][c];[a]{USER_FREEZE}[o1];[b]scale=-2:320,{OUR_FREEZE}[o2];"
             f"[c]scale=-2:320,fps={SHOT_FPS},scdet=threshold={SCENE_SCORE}[o3]")
    t = time.perf_counter()
    proc = subprocess.run([exe, "-hide_banner", "-nostdin", "-i", str(path), "-filter_complex", graph,
                           "-map", "[o1]", "-f", "null", "-", "-map", "[o2]", "-f", "null", "-",
                           "-map", "[o3]", "-f", "null", "-"],
                          capture_output=True, text=True, timeout=1800, check=True)
    # ffmpeg names the filters by their place in the graph: split_0, freezedetect_1 (users'), scale_2,
    # freezedetect_3 (the editor's), scale_4, fps_5, scdet_6
    user = _spans(proc.stderr, "Parsed_freezedetect_1", duration)
    ours = _spans(proc.stderr, "Parsed_freezedetect_3", duration)
    cuts: list[float] = []
    for x in sorted({float(x) for x in re.findall(r"lavfi\.scd\.time:\s*([\d.]+)", proc.stderr)}):
        if not cuts or x - cuts[-1] >= SHOT_MERGE_S:
            cuts.append(x)
    frozen_user = sum(b - a for a, b in user)
    frozen_ours = sum(b - a for a, b in ours)
    return {
        "duration_s": round(duration, 3),
        "frozen_s": round(frozen_user, 3), "frozen_share": round(frozen_user / duration, 4) if duration else None,
        "frozen_spans": [[round(a, 2), round(b, 2)] for a, b in user],
        "held_frame_s": round(frozen_ours, 3), "held_frame_share": round(frozen_ours / duration, 4) if duration else None,
        "shot_changes": len(cuts), "shots_per_minute": round(60 * len(cuts) / duration, 2) if duration else None,
        "shot_change_times": [round(x, 2) for x in cuts], "measure_s": round(time.perf_counter() - t, 2),
    }


def _scene_spans(plan: dict) -> list[tuple[float, float, list[dict]]]:
    return [(float(s["start_s"]), float(s["start_s"]) + float(s["duration_s"]), s.get("shots") or [])
            for s in plan.get("scenes") or []]


def visuals(plan: dict, kept: list[list[float]] | None = None) -> dict:
    """Distinct media the video shows (and colour cards), from the render plan; with `kept` (an edit's
    kept source spans) only the scenes of which at least half is kept."""
    media, cards, scenes = set(), 0, 0
    for a, b, shots in _scene_spans(plan):
        if kept is not None:
            inside = sum(max(0.0, min(b, y) - max(a, x)) for x, y in kept)
            if inside < (b - a) / 2:
                continue
        scenes += 1
        for sh in shots:
            if sh.get("kind") == "card" or not sh.get("media_id"):
                cards += 1
            else:
                media.add(sh["media_id"])
    return {"distinct_visuals": len(media), "cards": cards, "scenes": scenes}


def run_demo(home: Path) -> dict:
    """The demo into `home` (render and edit included); its JSON."""
    proc = subprocess.run([sys.executable, "-c", "from trendreel.cli import main; main()", "demo", "--home", str(home),
                           "--json"], capture_output=True, text=True, timeout=3600,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")})
    if proc.returncode != 0:
        raise SystemExit(f"the demo failed: {proc.stderr[-2000:]}")
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {}


def _total(rows: list[dict], key: str) -> dict:
    got = [r[key] for r in rows if r.get(key)]
    if not got:
        return {}
    dur = sum(g["duration_s"] for g in got)
    frozen = sum(g["frozen_s"] for g in got)
    held = sum(g["held_frame_s"] for g in got)
    cuts = sum(g["shot_changes"] for g in got)
    vis = [g["distinct_visuals"] for g in got if g.get("distinct_visuals") is not None]
    return {"videos": len(got), "duration_s": round(dur, 2), "frozen_s": round(frozen, 2),
            "frozen_share": round(frozen / dur, 4) if dur else None, "held_frame_share": round(held / dur, 4) if dur else None,
            "shots_per_minute": round(60 * cuts / dur, 2) if dur else None,
            "distinct_visuals_per_story": round(statistics.mean(vis), 2) if vis else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, help="an existing trendreel home (default: run the demo into a temporary one)")
    ap.add_argument("--reedit", action="store_true", help="edit every render again with the current editor and measure that")
    ap.add_argument("--frozen", choices=["animate", "silent", "cut", "keep"], help="edit.frozen for --reedit")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    exe = ffmpeg_exe()
    tmp = None
    demo_s = None
    if args.home is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-quality-")
        args.home = Path(tmp.name) / "home"
        t = time.perf_counter()
        run_demo(args.home)
        demo_s = round(time.perf_counter() - t, 1)
    settings = Settings(home=args.home, **({"edit": {"frozen": args.frozen}} if args.frozen else {}))
    app = build_app(settings)
    try:
        videos = services.list_videos(app, limit=1000)
        rendered = [v for v in videos if v["stage"] == "rendered" and v["status"] == "done" and v.get("path")]
        rows = []
        for r in sorted(rendered, key=lambda v: v["created_at"]):
            story = services.get_story(app, r["story_id"]) if r.get("story_id") else {}
            plan = (r.get("details") or {}).get("plan") or {}
            row = {"story_id": r.get("story_id"), "lang": story.get("lang"), "title": story.get("title"),
                   "verbatim_share": story.get("verbatim_share"), "rendered_id": r["id"]}
            path = services.video_file(app, r)
            if (path is None or not Path(path).is_file()) and r.get("story_id"):
                r = services.render_story(app, story_id=r["story_id"], force=True)  # files freed by gc: render again
                row["rendered_again"] = True
                path = services.video_file(app, r)
            if path is None or not Path(path).is_file():
                continue
            row["rendered"] = {**measure(Path(path), exe), **visuals(plan)}
            if args.reedit or row.get("rendered_again"):
                edited = services.edit_video(app, video_id=r["id"], force=True)
            else:
                edits = [v for v in videos if v["stage"] == "edited" and v.get("parent_id") == r["id"] and v["status"] == "done"]
                edited = max(edits, key=lambda v: v["created_at"]) if edits else None
            epath = services.video_file(app, edited) if edited else None
            if epath and Path(epath).is_file():
                summary = edited.get("edit") or (edited.get("details") or {}).get("edit") or {}
                row["edited_id"] = edited["id"]
                row["edited"] = {**measure(Path(epath), exe), **visuals(plan, summary.get("kept")),
                                 "removed_s": summary.get("removed_s"), "animated_s": summary.get("animated_s")}
            rows.append(row)
    finally:
        app.close()
        if tmp is not None:
            tmp.cleanup()
    shares = [r["verbatim_share"] for r in rows if r.get("verbatim_share") is not None]
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "ffmpeg": Path(exe).name},
        "home": "temporary (demo)" if demo_s is not None else "given", "demo_s": demo_s,
        "reedited": args.reedit, "frozen_mode": settings.edit.frozen if args.reedit else None,
        "videos": rows,
        "total": {"rendered": _total(rows, "rendered"), "edited": _total(rows, "edited"),
                  "verbatim_share_mean": round(statistics.mean(shares), 4) if shares else None},
        "measures": {"frozen": USER_FREEZE, "held_frame": f"scale=-2:320,{OUR_FREEZE}",
                     "shots": f"scale=-2:320,fps={SHOT_FPS},scdet=threshold={SCENE_SCORE}, {SHOT_MERGE_S} s merged",
                     "visuals": "render plan shots' media ids"},
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
