"""What the model server costs: the same story rendered by the compositor in-process and through a
model server (render.backend = remote, kind render:compositor) on the same machine, in the same run.

The story is bench_render.py's: 6 scenes, ~31 s, Korean narration, 1080x1920 by default. Runs
alternate in-process / through the server so that load from other processes hits both alike. Before
each remote run the server's job is deleted, so the server renders again (a resubmit of a finished job
would only fetch it: that is measured separately as `fetch_finished_job`). The remote time covers
hashing and uploading the media, queueing, the render in the server process, polling, downloading
the three files and checking the video again; `server_render_s` is the compositor's own time there.

    python bench/bench_modelserver.py [--runs 3] [--width 1080 --height 1920] [--out FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _bench_render():
    spec = importlib.util.spec_from_file_location("bench_render", REPO_ROOT / "bench" / "bench_render.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--width", type=int, default=1080)
    ap.add_argument("--height", type=int, default=1920)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    from tests.modelserver_support import ServerProcess
    from trendreel.bootstrap import build_app
    from trendreel.adapters.modelserver import ModelServerClient
    from trendreel.services.render import render_story
    from trendreel.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="bench-modelserver-"))
    home = tmp / "home"
    _bench_render().setup(home, "ko", args.width, args.height)
    server = ServerProcess(tmp / "server-work", home=tmp / "server-home").start()
    token = server.token_file.read_text().strip()
    settings = Settings(home=home, render={"width": args.width, "height": args.height,
                                           "remote": {"url": server.url, "token_file": str(server.token_file),
                                                      "kind": "render:compositor", "poll_s": 0.1, "poll_max_s": 0.5}})
    app = build_app(settings)
    local, remote, fetch = [], [], []
    try:
        for i in range(args.runs):
            t = time.perf_counter()
            v = render_story(app, story_id="s-bench", backend="compositor", force=True)
            local.append({"wall_s": time.perf_counter() - t, "duration_s": v["duration_s"], "bytes": v["bytes"]})
            log(f"run {i + 1}: in-process {local[-1]['wall_s']:.2f} s")

            t = time.perf_counter()
            v = render_story(app, story_id="s-bench", backend="remote", force=True)
            wall = time.perf_counter() - t
            via = v["details"]["generator"]["via"]
            remote.append({"wall_s": wall, "duration_s": v["duration_s"], "bytes": v["bytes"],
                           "server_render_s": v["details"]["timings"]["total_s"],
                           "client_overhead_s": wall - v["details"]["timings"]["total_s"],
                           "server_attempts": via["server_attempts"]})
            log(f"run {i + 1}: through the server {wall:.2f} s (its render {remote[-1]['server_render_s']:.2f} s)")

            t = time.perf_counter()
            render_story(app, story_id="s-bench", backend="remote", force=True)  # the finished job: fetched only
            fetch.append({"wall_s": time.perf_counter() - t})
            with ModelServerClient(server.url, token) as c:
                c.cancel(via["job_id"])  # the next remote run renders again
    finally:
        app.close()
        server.stop()

    def summary(rows: list[dict], key: str = "wall_s") -> dict:
        vals = [r[key] for r in rows]
        return {"best": round(min(vals), 3), "median": round(statistics.median(vals), 3)}

    dur = local[0]["duration_s"]
    lb, rb = summary(local)["best"], summary(remote)["best"]
    out = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "video": {"duration_s": dur, "size": [args.width, args.height], "scenes": 6},
        "runs": args.runs,
        "in_process": {"wall_s": summary(local), "video_s_per_wall_s": round(dur / lb, 3), "runs": local},
        "through_server": {"wall_s": summary(remote), "video_s_per_wall_s": round(dur / rb, 3),
                           "server_render_s": summary(remote, "server_render_s"), "runs": remote},
        "fetch_finished_job": {"wall_s": summary(fetch)},
        "overhead": {"best_s": round(rb - lb, 3), "best_ratio": round(rb / lb, 3),
                     # wall time through the server minus the render's own time there: upload, queue,
                     # polling, download, the second check; independent of load on the render itself
                     "beyond_server_render_s": summary(remote, "client_overhead_s"),
                     "median_ratio": round(summary(remote)["median"] / summary(local)["median"], 3)},
    }
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
