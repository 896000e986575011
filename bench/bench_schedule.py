"""The publishing schedule's cost: planning posts, and publishing due posts through the runner against
calling the publish service directly (the plain way), one run, SQLite in a temporary home.

  plan       services.add_post for --plan videos on one account (cap 3 a day, 2 h apart, 15 min jitter):
             each placement reads the account's posts from two days before its time on and walks forward
  direct     services.publish_video for --publish small videos to a folder account, one after another
  scheduled  the same number of other videos planned on another folder account, all due, then one
             services.run_due: claim (one UPDATE per post), publish, mark done
             (--rounds rounds of both, alternating; medians)

Prints JSON. The videos are 3-second ffmpeg patterns (a seeded game of life) at 160x284, so publishing is mostly the
fingerprint (8 frames through ffmpeg) and the folder copy; the difference is the schedule's own work.

    python bench/bench_schedule.py                  # 500 planned; 3 rounds of 10 published each way
    python bench/bench_schedule.py --plan 2000 --publish 20 --rounds 5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from trendreel import services  # noqa: E402
from trendreel.adapters.ffmpeg import ffmpeg_exe  # noqa: E402
from trendreel.bootstrap import build_app  # noqa: E402
from trendreel.db.tables import Story, Video, utcnow  # noqa: E402
from trendreel.files.layout import video_prefix  # noqa: E402
from trendreel.settings import Settings  # noqa: E402


def add_video(app, name: str, work: Path, *, real: bool, seed: int = 0) -> str:
    """An approved, finished video row (with a real stored file when `real`)."""
    vid = "v" + hashlib.sha256(name.encode()).hexdigest()[:23]
    sid = "s" + hashlib.sha256(name.encode()).hexdigest()[:23]
    created = utcnow()
    key, size, sha = f"videos/{vid}/video.mp4", 1000, None
    if real:
        mp4 = work / f"{name}.mp4"
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"life=size=160x284:rate=15:seed={seed}:ratio=0.3", "-t", "3",
                        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(mp4)], check=True)
        stored = app.files.put_file(video_prefix(vid, created) + "video.mp4", mp4)
        key, size, sha = stored.key, stored.bytes, stored.sha256
    with app.db.session() as s:
        s.add(Story(id=sid, backend="template", model="template", lang="en", title=f"story {name}", duration_s=3.0,
                    body={"title": f"story {name}", "scenes": []}, created_at=created))
        s.flush()
        s.add(Video(id=vid, story_id=sid, stage="rendered", backend="bench", status="done", path=key, duration_s=3.0,
                    width=160, height=284, bytes=size, sha256=sha, details={}, created_at=created, review="approved"))
    return vid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", type=int, default=500)
    ap.add_argument("--publish", type=int, default=10, help="posts per round and way")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-schedule-") as tmp:
        home, work = Path(tmp) / "home", Path(tmp) / "work"
        work.mkdir()
        app = build_app(Settings(home=home, publish={"trends_snapshot": 0}))
        services.add_account(app, platform="folder", name="plan", path=home / "published" / "plan")
        now = datetime(2030, 1, 1, tzinfo=timezone.utc)

        planned = [add_video(app, f"p{i}", work, real=False) for i in range(args.plan)]
        t0 = time.perf_counter()
        for vid in planned:
            services.add_post(app, video_id=vid, to="folder:plan", now=now)
        plan_s = time.perf_counter() - t0
        plan_rows = services.list_posts(app, account="folder:plan", limit=10_000)
        last = plan_rows[-1]["planned_at"]
        for row in plan_rows:  # out of the way of the publish measurement (their videos have no files)
            services.cancel_post(app, row["id"], now=now)

        # a different picture each (a seeded game of life), so the near-duplicate guard lets each through
        # Rounds alternate the two ways, so a busy moment of the machine does not land on one of them only.
        direct_s, scheduled_s = [], []
        for r in range(args.rounds):
            for name in (f"direct{r}", f"scheduled{r}"):
                services.add_account(app, platform="folder", name=name, path=home / "published" / name)
            # a different picture each (a seeded game of life), so the near-duplicate guard lets each through
            direct = [add_video(app, f"d{r}-{i}", work, real=True, seed=1 + i + 100 * r) for i in range(args.publish)]
            scheduled = [add_video(app, f"s{r}-{i}", work, real=True, seed=50 + i + 100 * r) for i in range(args.publish)]
            t0 = time.perf_counter()
            for vid in direct:
                services.publish_video(app, video_id=vid, to=f"folder:direct{r}")
            direct_s.append(time.perf_counter() - t0)
            for vid in scheduled:
                services.add_post(app, video_id=vid, to=f"folder:scheduled{r}", at=now, now=now)
            t0 = time.perf_counter()
            ran = services.run_due(app, now=now + timedelta(days=3650))  # everything planned is due
            scheduled_s.append(time.perf_counter() - t0)
            assert len(ran["published"]) == args.publish, ran
        app.close()

    print(json.dumps({
        "machine": {"python": platform.python_version(), "system": platform.platform()},
        "plan": {"posts": args.plan, "seconds": round(plan_s, 3), "ms_per_post": round(1000 * plan_s / args.plan, 2),
                 "last_planned_at": last},
        "publish": {"posts_per_round": args.publish, "rounds": args.rounds,
                    "direct_ms_per_post": round(1000 * statistics.median(direct_s) / args.publish, 1),
                    "scheduled_ms_per_post": round(1000 * statistics.median(scheduled_s) / args.publish, 1),
                    "ratio": round(statistics.median(scheduled_s) / statistics.median(direct_s), 3),
                    "rounds_s": {"direct": [round(x, 3) for x in direct_s], "scheduled": [round(x, 3) for x in scheduled_s]}},
    }, indent=2))


if __name__ == "__main__":
    main()
