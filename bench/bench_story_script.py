"""How a home's stories sound and look: seconds per scene, verbatim share, distinct visuals.

    python bench/bench_story_script.py --home DIR            # measure the stories stored in DIR
    python bench/bench_story_script.py --home DIR --write    # first write a template story for every
                                                             # stored trend in Korean and in English

DIR is a home the demo left (`trendreel demo --no-videos --home DIR`): crawled, indexed, with trends.
Stories stored by an older version are measured the same way (the verbatim share is computed from
their quotes), so the figures before and after a change compare like with like. One line per story
and a summary, or --json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from sqlalchemy import select


def write_all(app) -> None:
    from trendreel import services
    from trendreel.db.tables import Trend
    from trendreel.errors import StoryError

    with app.db.session() as s:
        trends = list(s.scalars(select(Trend.id)))
    for trend_id in trends:
        for lang in ("ko", "en"):
            try:
                services.write_story(app, trend_id=trend_id, backend="template", lang=lang, force=True)
            except StoryError as exc:
                print(f"{trend_id} {lang}: {exc}", file=sys.stderr)


def measure(app) -> list[dict]:
    from trendreel.db.tables import MediaItem, Story, TrendItem
    from trendreel.story.models import Story as StoryModel
    from trendreel.story.timing import speech_seconds
    from trendreel.story.verbatim import story_verbatim_share

    out = []
    with app.db.session() as s:
        rows = list(s.scalars(select(Story).where(Story.backend == "template").order_by(Story.trend_id, Story.lang)))
        for row in rows:
            body = {k: v for k, v in row.body.items() if k not in ("created_at", "reused")}
            story = StoryModel.model_validate(body)
            evidence = set(s.scalars(select(TrendItem.article_id).where(TrendItem.trend_id == row.trend_id)))
            trend_media = len(set(s.scalars(select(MediaItem.id).where(
                MediaItem.article_id.in_(evidence | {row.article_id}), MediaItem.status == "stored",
                MediaItem.kind.in_(("image", "video"))))))
            said = [speech_seconds(sc.narration) for sc in story.scenes]
            out.append({"id": row.id, "trend_id": row.trend_id, "lang": story.lang, "article_id": story.article_id,
                        "format": story.format, "scenes": len(story.scenes), "duration_s": story.duration_s,
                        "hook_s": round(speech_seconds(story.hook), 1),
                        "scene_s_mean": round(statistics.mean(said), 1), "scene_s_max": round(max(said), 1),
                        "verbatim_share": story_verbatim_share(story),
                        "visuals": len(story.media_ids()), "trend_media": trend_media,
                        "visuals_per_30s": round(len(story.media_ids()) * 30 / story.duration_s, 1),
                        "hook": story.hook, "title": story.title})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--write", action="store_true", help="write a template story per trend and language first")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from trendreel.bootstrap import build_app
    from trendreel.settings import Settings

    app = build_app(Settings(home=args.home))
    try:
        if args.write:
            write_all(app)
        rows = measure(app)
    finally:
        app.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        print(f"{r['id']} {r['lang']} {r['scenes']} scenes {r['duration_s']:5.1f} s | scene said {r['scene_s_mean']:4.1f} s "
              f"(max {r['scene_s_max']:4.1f}) | verbatim {r['verbatim_share']:.2f} | visuals {r['visuals']} of "
              f"{r['trend_media']} | {r['title'][:50]}")
    if rows:
        print(f"mean over {len(rows)} stories: scene said {statistics.mean(r['scene_s_mean'] for r in rows):.1f} s, "
              f"longest {max(r['scene_s_max'] for r in rows):.1f} s; verbatim share "
              f"{statistics.mean(r['verbatim_share'] for r in rows):.2f}; distinct visuals "
              f"{statistics.mean(r['visuals'] for r in rows):.1f} (per 30 s {statistics.mean(r['visuals_per_30s'] for r in rows):.1f})")


if __name__ == "__main__":
    main()
