"""`trendreel demo`: build the sample site, serve it on 127.0.0.1, run the pipeline on it."""

from __future__ import annotations

import time
from typing import Callable

from trendreel import services
from trendreel.bootstrap import App, build_app
from trendreel.services.pipeline import run_stage
from trendreel.demo.music import make_demo_music
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


# on_stage(stage, done, total, info): the progress of one stage of the pipeline table
StageProgress = Callable[[str, int, "int | None", "str | None"], None]

# Shown at the end of the demo: a Korean query that also finds the English coverage of the story.
DEMO_QUERY = "2030 세대의 겨울 캠핑과 차박"


# The demo's storage budget: small enough that `gc` has work (the published video's local files go).
DEMO_BUDGET = "120MB"
DEMO_ACCOUNT = "demo"  # the folder account the demo publishes to: <home>/published


def _published_before(app: App, story_id: str) -> list[dict] | None:
    """The rendered and edited video of a story whose edit an earlier demo run published, else None."""
    for video in services.list_videos(app, story_id=story_id):
        if video["stage"] == "edited" and any(p["status"] == "done" for p in services.list_publications(app, video_id=video["id"])):
            return [services.get_video(app, video["parent_id"]), video]
    return None


def run_demo(settings: Settings, *, on_stage: StageProgress | None = None, keep_serving: bool = False,
             on_serving: Callable[[str], None] | None = None, videos: bool = True,
             on_step: Callable[[str], None] | None = None) -> dict:
    """Crawl the sample site, index it, detect trends, write stories and (with `videos`) render and edit
    them, publish the first to the folder platform, poll its metrics, write the report and run gc: the
    stages of the pipeline table (services.pipeline), in this process.

    `on_stage(stage, done, total, info)` follows each stage's progress; `on_step(text)` says what is
    being done after the crawl and index.
    """
    step = on_step or (lambda _text: None)
    site_root = settings.home / "demo-site"
    build_sample_site(site_root)
    with serve_site(site_root) as base_url:
        if on_serving:
            on_serving(base_url)
        render = settings.render
        if videos and render.music_path is None and render.music_dir is None:
            # a few chord loops made here with ffmpeg into <home>/music, the music folder every render of
            # this home then uses (one loop per video, chosen from the story id)
            make_demo_music(settings.home / "music")
        # Our own local site: no need to wait a second between requests.
        demo_settings = settings.model_copy(update={
            "render": render,
            "sources": demo_sources(base_url),
            "crawl": settings.crawl.model_copy(update={"delay_s": 0.0, "per_host_concurrency": 4}),
            "retention": settings.retention.model_validate({**settings.retention.model_dump(), "budget_bytes": DEMO_BUDGET}),
        })
        app = build_app(demo_settings)

        def stage(name: str, **params) -> dict:
            def report(done, total, info=None) -> None:
                if on_stage:
                    on_stage(name, done, total, info)
            return run_stage(app, name, params, report)

        try:
            crawled = stage("crawl")
            indexed = stage("index")
            result = {
                "home": str(settings.home),
                "site": base_url,
                "crawl": crawled,
                "stored": services.storage_counts(app),
                "articles": services.list_articles(app, limit=1000),
                "errors": services.crawl_errors(app, limit=100),
                "index": indexed,
                "search": {"query": DEMO_QUERY, "kind": "article",
                           "hits": services.search(app, query=DEMO_QUERY, kind="article", limit=5)},
            }
            step("detecting trends")
            result["trends"] = [services.get_trend(app, tid) for tid in stage("trends")["trend_ids"]]
            result["stories"], result["videos"] = [], []
            # by expected views once a model is fitted, else by trend score; each choice recorded
            for trend in services.choose_per_language(app, result["trends"], context="demo"):
                step(f"writing a story: {trend['text']}")
                story = services.get_story(app, stage("story", trend_id=trend["id"])["story_id"])
                result["stories"].append(story)
                if videos:
                    made = _published_before(app, story["id"])
                    if made is None:  # (once published, gc may have freed the local copies: not made again)
                        step(f"rendering: {story['title']}")
                        rendered = stage("render", story_id=story["id"])["video_id"]
                        step(f"editing: {story['title']}")
                        edited = stage("edit", video_id=rendered)["video_id"]
                        made = [services.get_video(app, rendered), services.get_video(app, edited)]
                    result["videos"] += [{**v, "file": services.video_file(app, v)} for v in made]
            if videos:
                edited = next(v for v in result["videos"] if v["stage"] == "edited")
                step("approving and publishing to the folder platform")
                stage("approve", video_id=edited["id"], by="demo")
                # the operator running the demo adds its account, as `trendreel accounts add` would
                services.add_account(app, platform="folder", name=DEMO_ACCOUNT, path=app.settings.home / "published")
                published = stage("publish", video_id=edited["id"], to=f"folder:{DEMO_ACCOUNT}")
                result["publication"] = services.get_publication(app, published["publication_id"])
                step("polling metrics and writing the report")
                result["metrics"] = stage("metrics", all=True)
                result["report"] = {**stage("report"), "html": str(app.settings.home / "report" / "report.html")}
                step(f"freeing space over the demo's budget ({DEMO_BUDGET})")
                result["gc"] = stage("gc")
                result["storage"] = services.storage_status(app)
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
