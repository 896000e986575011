"""One page to an edited ~30 s video, nothing cached: the time of each stage.

Serves the bundled sample site on 127.0.0.1 and, in a fresh home (empty caches, new database, no
vector index yet), runs in this process: crawl one article page (a `urls` source), index it, detect
trends with `trends.min_items = 1` (one page is a trend of one), write the story, render it and edit it
to at most 30 s. Beside it, the plain tool: one `ffmpeg` encode of a 30 s clip of the same size, frame
rate and x264 preset (a test source and a sine tone), the floor of any 30 s render on this machine.
Prints one JSON object; aim: total <= 60 s on 2 cores.

    python bench/bench_page_to_video.py [--article 0] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.demo.music import make_demo_music
from trendreel.demo.server import serve_site
from trendreel.demo.site import build_sample_site
from trendreel.settings import Settings, SourceConfig

TARGET_S = 30.0


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def plain_ffmpeg(width: int, height: int, fps: int, preset: str, out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r={fps}:d={TARGET_S}",
                    "-f", "lavfi", "-i", f"sine=f=440:d={TARGET_S}", "-c:v", "libx264", "-preset", preset,
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out)], check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--article", type=int, default=0, help="which article of the sample site (manifest order)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of the slowest stage to stderr")
    args = ap.parse_args()
    stages: dict[str, float] = {}
    profiles: dict[str, cProfile.Profile] = {}

    def timed(name: str, fn):
        prof = cProfile.Profile() if args.profile else None
        t = time.perf_counter()
        if prof:
            prof.enable()
        try:
            return fn()
        finally:
            if prof:
                prof.disable()
                profiles[name] = prof
            stages[name] = round(time.perf_counter() - t, 2)
            say(f"{name}: {stages[name]} s")

    with tempfile.TemporaryDirectory(prefix="trendreel-bench-p2v-") as tmp:
        site = build_sample_site(Path(tmp) / "site")
        article = site.articles[args.article]
        home = Path(tmp) / "home"
        make_demo_music(home / "music")  # the demo's music bed, made before the clock starts
        with serve_site(site.root) as base:
            settings = Settings(home=home, crawl={"delay_s": 0.0}, trends={"min_items": 1},
                                edit={"target_seconds": TARGET_S},
                                sources=[SourceConfig(name="one-page", kind="urls", urls=[base + article.path],
                                                      allow_private=True)])
            t0 = time.perf_counter()
            app = timed("open_home", lambda: build_app(settings))
            try:
                crawl = timed("crawl", lambda: services.crawl_sources(app))
                if crawl.articles_new != 1:
                    raise SystemExit(f"expected one new article from {article.path}, got {crawl.as_dict()}")
                timed("index", lambda: services.index_articles(app))
                trends = timed("trends", lambda: services.detect_trends(app))
                if not trends:
                    raise SystemExit("no trend from the page: nothing to write a story about")
                story = timed("story", lambda: services.write_story(app, trend_id=trends[0]["id"]))
                video = timed("render", lambda: services.render_story(app, story_id=story["id"]))
                edited = timed("edit", lambda: services.edit_video(app, video_id=video["id"]))
                total = time.perf_counter() - t0
                render = app.settings.render
                width, height, fps, preset = render.width, render.height, render.fps, render.preset
                seconds = edited.get("duration_s") or edited.get("seconds")
            finally:
                app.close()
        plain = plain_ffmpeg(width, height, fps, preset, Path(tmp) / "plain.mp4")
    say(f"total {total:.1f} s; plain ffmpeg 30 s encode {plain:.1f} s")
    if profiles:
        slowest = max(stages, key=stages.get)
        out = io.StringIO()
        pstats.Stats(profiles[slowest], stream=out).sort_stats("cumulative").print_stats(30)
        say(f"profile of {slowest}:\n{out.getvalue()}")
    print(json.dumps({
        "benchmark": "page_to_video", "cpus": os.cpu_count(), "article": article.path, "aim_s": 60.0,
        "total_s": round(total, 2), "stages_s": stages, "edited_seconds": seconds,
        "frame": f"{width}x{height}@{fps}", "x264_preset": preset, "plain_ffmpeg_30s_encode_s": round(plain, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
