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


# The demo's storage budget: small enough that `gc` has work (the published video's local files go).
DEMO_BUDGET = "15MB"


def _published_before(app, story_id: str) -> list[dict] | None:
    """The rendered and edited video of a story whose edit an earlier demo run published, else None."""
    for video in services.list_videos(app, story_id=story_id):
        if video["stage"] == "edited" and any(p["status"] == "done" for p in services.list_publications(app, video_id=video["id"])):
            return [services.get_video(app, video["parent_id"]), video]
    return None


def _publish_measure_retain(app, result: dict, step: Callable[[str], None]) -> dict:
    """The first edited video approved and published to the folder platform, its metrics polled, the
    report written, and the file store brought under the demo's budget."""
    edited = next(v for v in result["videos"] if v["stage"] == "edited")
    step("approving and publishing to the folder platform")
    services.approve_video(app, edited["id"], by="demo")
    publication = services.publish_video(app, video_id=edited["id"], to=f"folder:{app.settings.home / 'published'}")
    step("polling metrics and writing the report")
    metrics = services.collect_metrics(app, all=True)
    report = services.build_report(app)
    step(f"freeing space over the demo's budget ({DEMO_BUDGET})")
    gc = services.collect_garbage(app)
    return {"publication": publication, "metrics": metrics, "report": report, "gc": gc,
            "storage": services.storage_status(app)}


def run_demo(settings: Settings, *, on_progress: Callable | None = None, keep_serving: bool = False,
             on_serving: Callable[[str], None] | None = None, on_index_progress: Callable | None = None,
             videos: bool = True, on_step: Callable[[str], None] | None = None) -> dict:
    """Crawl the sample site, index it, detect trends, write stories and (with `videos`) render and edit
    them, publish the first to the folder platform, poll its metrics, write the report and run gc.

    `on_step(text)` is told what is being done after the crawl and index.
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
            "retention": settings.retention.model_validate({**settings.retention.model_dump(), "budget_bytes": DEMO_BUDGET}),
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
                    made = _published_before(app, story["id"])
                    if made is None:  # (once published, gc may have freed the local copies: not made again)
                        step(f"rendering: {story['title']}")
                        video = services.render_story(app, story_id=story["id"])
                        step(f"editing: {story['title']}")
                        made = [video, services.edit_video(app, video_id=video["id"])]
                    result["videos"] += [{**v, "file": services.video_file(app, v)} for v in made]
            if videos:
                result.update(_publish_measure_retain(app, result, step))
                # as they are now: gc may have freed the published video's local files
                result["videos"] = [{**v, "file": services.video_file(app, v)}
                                    for v in (services.get_video(app, v["id"]) for v in result["videos"])]
        finally:
            app.close()
        if keep_serving:
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return result
