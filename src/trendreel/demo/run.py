"""`trendreel demo`: build the sample site, serve it on 127.0.0.1, run the pipeline on it."""

from __future__ import annotations

import time
from typing import Callable

from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.demo.server import serve_site
from trendreel.demo.site import build_sample_site
from trendreel.settings import Settings, SourceConfig


def demo_sources(base_url: str) -> list[SourceConfig]:
    """The sample site reached three ways: feeds, sitemap and link-following. Private is allowed
    here by configuration, because the demo site runs on loopback."""
    return [
        SourceConfig(name="demo-feed", kind="feed", urls=[f"{base_url}/feed.xml", f"{base_url}/atom.xml"], allow_private=True),
        SourceConfig(name="demo-sitemap", kind="sitemap", urls=[f"{base_url}/sitemap_index.xml"], allow_private=True),
        SourceConfig(name="demo-site", kind="site", urls=[f"{base_url}/index.html"], max_depth=2, allow_private=True),
    ]


# Shown at the end of the demo: a Korean query that also finds the English coverage of the story.
DEMO_QUERY = "2030 세대의 겨울 캠핑과 차박"


def pick_demo_trends(trends: list[dict]) -> list[dict]:
    """The best trend, and the best one in another language: the demo tells one Korean and one English story."""
    picked: list[dict] = []
    for t in trends:
        if all(t["lang"] != p["lang"] for p in picked):
            picked.append(t)
        if len(picked) == 2:
            break
    return picked


def run_demo(settings: Settings, *, on_progress: Callable | None = None, keep_serving: bool = False,
             on_serving: Callable[[str], None] | None = None, on_index_progress: Callable | None = None,
             videos: bool = True, on_step: Callable[[str], None] | None = None) -> dict:
    """Crawl the sample site, index it, detect trends, write stories and (with `videos`) render them.

    `on_step(text)` is told what is being done after the crawl and index (trends, each story, each video).
    """
    step = on_step or (lambda _text: None)
    site_root = settings.home / "demo-site"
    build_sample_site(site_root)
    with serve_site(site_root) as base_url:
        if on_serving:
            on_serving(base_url)
        # Our own local site: no need to wait a second between requests.
        demo_settings = settings.model_copy(update={
            "sources": demo_sources(base_url),
            "crawl": settings.crawl.model_copy(update={"delay_s": 0.0, "per_host_concurrency": 4}),
        })
        app = build_app(demo_settings)
        try:
            stats = services.crawl_sources(app, on_progress=on_progress)
            indexed = services.index_articles(app, on_progress=on_index_progress)
            result = {
                "home": str(settings.home),
                "site": base_url,
                "crawl": stats.as_dict(),
                "stored": services.storage_counts(app),
                "articles": services.list_articles(app, limit=1000),
                "errors": services.crawl_errors(app, limit=100),
                "index": indexed.as_dict(),
                "search": {"query": DEMO_QUERY, "kind": "article",
                           "hits": services.search(app, query=DEMO_QUERY, kind="article", limit=5)},
            }
            step("detecting trends")
            result["trends"] = services.detect_trends(app)
            result["stories"], result["videos"] = [], []
            for trend in pick_demo_trends(result["trends"]):
                step(f"writing a story: {trend['text']}")
                story = services.write_story(app, trend_id=trend["id"])
                result["stories"].append(story)
                if videos:
                    step(f"rendering: {story['title']}")
                    video = services.render_story(app, story_id=story["id"])
                    result["videos"].append({**video, "file": services.video_file(app, video)})
        finally:
            app.close()
        if keep_serving:
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return result
