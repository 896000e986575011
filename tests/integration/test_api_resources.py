"""The API over the crawled sample site: articles and their media (range requests), search, a pipeline
run followed to done with its events, stories read, edited and regenerated, and the main flow from a
trend to a published video."""

from __future__ import annotations

import time

import pytest

from tests.integration.api_helpers import assert_error, make_gateway
from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.demo.run import demo_sources
from trendreel.settings import Settings

pytestmark = pytest.mark.slow  # the sample site is crawled and indexed first (about 30 s)


@pytest.fixture(scope="module")
def site(tmp_path_factory, sample_url):
    home = tmp_path_factory.mktemp("api-home")
    settings = Settings(home=home, crawl={"delay_s": 0, "per_host_concurrency": 4}, index={"speech_model": "none"},
                        render={"width": 360, "height": 640}, sources=demo_sources(sample_url))
    application = build_app(settings)
    services.crawl_sources(application)
    services.index_articles(application)
    gw = make_gateway(settings, application)
    yield gw
    application.close()


def follow(client, accepted, timeout_s: float = 120.0) -> dict:
    """Poll a run until it is done or failed, as a program would."""
    assert accepted.status_code == 202, accepted.text
    url = accepted.json()["url"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = client.get(url).json()
        if run["status"] in ("done", "error"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {url} still {run['status']} after {timeout_s} s: {run['progress']}")


def test_articles_and_their_media_with_range_requests(site):
    c = site.client("viewer")
    articles = c.get("/api/v1/articles?limit=200").json()
    assert len(articles) >= 20
    with_media = [a for a in articles if any(m["file_url"] for m in a["media"])]
    assert with_media and all("text_path" not in a for a in articles)
    one = c.get(f"/api/v1/articles/{with_media[0]['id']}").json()
    assert one["title"] == with_media[0]["title"]
    media = next(m for m in one["media"] if m["file_url"])
    assert "path" not in media
    whole = c.get(media["file_url"])
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    data = whole.content
    key = next(m for m in services.list_articles(site.app, limit=200) if m["id"] == one["id"])["media"]
    stored = site.app.files.get(next(m["path"] for m in key if m["id"] == media["id"]))
    assert data == stored and int(whole.headers["content-length"]) == len(stored)
    # One range, an open range, a suffix range: each the same bytes as the file's slice.
    for header, (start, end) in {"bytes=10-99": (10, 100), f"bytes={len(data) - 7}-": (len(data) - 7, len(data)),
                                 "bytes=-5": (len(data) - 5, len(data))}.items():
        part = c.get(media["file_url"], headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == stored[start:end]
        assert part.headers["content-range"] == f"bytes {start}-{end - 1}/{len(stored)}"
    bad = c.get(media["file_url"], headers={"Range": f"bytes={len(data) + 10}-"})
    assert_error(bad, 416, "range_not_satisfiable")
    assert bad.headers["content-range"] == f"bytes */{len(stored)}"
    etag = whole.headers["etag"]
    assert c.get(media["file_url"], headers={"If-None-Match": etag}).status_code == 304
    assert_error(c.get("/api/v1/media/m" + "0" * 23), 404, "not_found")


def test_search_by_text_and_by_example(site):
    c = site.client("viewer")
    hits = c.get("/api/v1/search", params={"q": "캠핑", "limit": 5}).json()
    assert 0 < len(hits) <= 5 and all(h["score"] <= 1.0 for h in hits)
    like = c.get("/api/v1/search", params={"like": hits[0]["article_id"], "limit": 3}).json()
    assert like and hits[0]["article_id"] not in {h["article_id"] for h in like if h["kind"] == "article"}
    assert_error(c.get("/api/v1/search"), 422)


@pytest.fixture(scope="module")
def trends_run(site):
    c = site.client("editor")
    return follow(c, c.post("/api/v1/runs", json={"kind": "trends"}))


def test_a_pipeline_run_is_followed_to_done_with_its_events(site, trends_run):
    c = site.client("viewer")
    assert trends_run["status"] == "done", trends_run["error"]
    stage = trends_run["progress"]["trends"]
    assert stage["state"] == "done" and stage["started_at"] <= stage["finished_at"]
    assert trends_run["result"]["trends"]["trends"] >= 3
    events = c.get(f"/api/v1/runs/{trends_run['id']}/events").json()
    assert events and {e["type"] for e in events} == {"TrendDetected"} and all(e["stage"] == "trends" for e in events)
    assert {e["subject_id"] for e in events} >= set(trends_run["result"]["trends"]["trend_ids"][:3])
    assert [r["id"] for r in c.get("/api/v1/runs?status=done").json()][0] == trends_run["id"]
    trends = c.get("/api/v1/trends").json()
    assert [t["id"] for t in trends[:3]] == trends_run["result"]["trends"]["trend_ids"][:3]
    one = c.get(f"/api/v1/trends/{trends[0]['id']}").json()
    assert one["evidence"] and one["history"]
    unknown = assert_error(c.get("/api/v1/trends/t" + "0" * 23), 404, "not_found")
    assert unknown["message"] == f"unknown trend {'t' + '0' * 23!r}"  # the CLI's hint is not in it


def test_a_failing_run_records_its_stage_and_message(site, trends_run):
    c = site.client("editor")
    # An id that names nothing is refused before a run is queued; a run that fails on the way records it.
    assert_error(c.post("/api/v1/runs", json={"kind": "story", "trend_id": "t" + "0" * 23}), 404, "not_found")
    trend_id = trends_run["result"]["trends"]["trend_ids"][0]
    run = follow(c, c.post("/api/v1/runs", json={"kind": "story", "trend_id": trend_id, "backend": "openai"}))
    assert run["status"] == "error" and run["error"].startswith("story: ")
    assert run["progress"]["story"]["state"] == "error"


@pytest.fixture(scope="module")
def story(site, trends_run):
    c = site.client("editor")
    trend_id = trends_run["result"]["trends"]["trend_ids"][0]
    run = follow(c, c.post("/api/v1/runs", json={"kind": "story", "trend_id": trend_id}))
    assert run["status"] == "done", run["error"]
    return c.get(f"/api/v1/stories/{run['result']['story']['story_id']}").json()


def test_a_story_is_edited_with_validation_and_the_grounding_check(site, story):
    editor = site.client("editor")
    sid = story["id"]
    assert editor.get(f"/api/v1/stories?trend_id={story['trend_id']}").json()[0]["id"] == sid
    scenes = [{k: sc[k] for k in ("narration", "on_screen_text", "duration_s", "media", "citations")} for sc in story["scenes"]]
    # Dropping a scene and retitling keeps every remaining scene grounded: saved, same id, new duration.
    kept = scenes[:-1] if len(scenes) > 1 else scenes
    r = editor.put(f"/api/v1/stories/{sid}", json={"title": "Edited: " + story["title"], "scenes": kept})
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["id"] == sid and edited["title"].startswith("Edited: ") and len(edited["scenes"]) == len(kept)
    assert edited["duration_s"] == pytest.approx(sum(s["duration_s"] for s in kept), abs=0.01)
    assert all(s["supported"] for s in edited["scenes"]) and edited["grounding"] == 1.0
    # An invented line is refused with the problem named; the stored story is unchanged.
    invented = [{**kept[0], "narration": "Aliens landed in Seoul and bought 900 tents yesterday."}, *kept[1:]]
    bad = editor.put(f"/api/v1/stories/{sid}", json={"scenes": invented})
    err = assert_error(bad, 422, "invalid_story")
    assert "scene 1" in err["message"] and bad.json()["error"]["problems"]
    # A citation the story never had cannot be slipped in.
    forged = [{**kept[0], "citations": [{**kept[0]["citations"][0], "quote": "Aliens landed in Seoul."}]}, *kept[1:]]
    err = assert_error(editor.put(f"/api/v1/stories/{sid}", json={"scenes": forged}), 422, "invalid_story")
    assert "did not have" in err["message"]
    assert editor.get(f"/api/v1/stories/{sid}").json()["title"] == edited["title"]
    assert_error(site.client("viewer").put(f"/api/v1/stories/{sid}", json={"title": "x"}), 403)
    assert_error(editor.put(f"/api/v1/stories/{sid}", json={"id": "s" + "1" * 23}), 422)
    # Regenerating writes it again from its trend and item (a background run), back to the writer's text.
    run = follow(editor, editor.post(f"/api/v1/stories/{sid}/regenerate", json={}))
    assert run["status"] == "done" and run["result"]["story"]["story_id"] == sid
    assert editor.get(f"/api/v1/stories/{sid}").json()["title"] == story["title"]


def test_from_story_to_published_video(site, story, tmp_path):
    editor, admin, viewer = site.client("editor"), site.client("admin"), site.client("viewer")
    run = follow(editor, editor.post(f"/api/v1/stories/{story['id']}/render", json={}), timeout_s=300)
    assert run["status"] == "done", run["error"]
    vid = run["result"]["render"]["video_id"]
    video = viewer.get(f"/api/v1/videos/{vid}").json()
    assert video["status"] == "done" and video["file_url"] == f"/api/v1/videos/{vid}/file"
    mp4 = viewer.get(video["file_url"], headers={"Range": "bytes=0-1023"})
    assert mp4.status_code == 206 and mp4.headers["content-type"] == "video/mp4" and mp4.content[4:8] == b"ftyp"
    assert viewer.get(f"/api/v1/videos/{vid}/thumbnail").headers["content-type"] == "image/jpeg"
    # Publishing needs an approved video and a known account.
    folder = site.app.settings.home / "published" / "shelf"  # inside publish.folder_roots (the default)
    assert_error(admin.post("/api/v1/accounts", json={"platform": "folder", "name": "shelf", "path": str(tmp_path)}), 400)
    assert admin.post("/api/v1/accounts", json={"platform": "folder", "name": "shelf", "path": str(folder)}).status_code == 201
    assert_error(editor.post(f"/api/v1/videos/{vid}/publish", json={"to": "youtube:nobody"}), 404)
    assert editor.post(f"/api/v1/videos/{vid}/reject", json={"reason": "too long"}).status_code == 200
    refused = follow(editor, editor.post(f"/api/v1/videos/{vid}/publish", json={"to": "folder:shelf"}))
    assert refused["status"] == "error" and "reject" in refused["error"].lower()
    assert editor.post(f"/api/v1/videos/{vid}/approve").status_code == 200
    done = follow(editor, editor.post(f"/api/v1/videos/{vid}/publish", json={"to": "folder:shelf"}))
    assert done["status"] == "done", done["error"]
    pubs = viewer.get(f"/api/v1/publications?video_id={vid}").json()
    assert len(pubs) == 1 and pubs[0]["status"] == "done" and pubs[0]["platform"] == "folder"
    assert viewer.get(f"/api/v1/publications/{pubs[0]['id']}").json()["id"] == pubs[0]["id"]
    assert any(folder.rglob("*.mp4"))
    assert [a["name"] for a in viewer.get("/api/v1/accounts").json()] == ["shelf"]
    # Metrics of the folder platform, then the report over them.
    collected = follow(editor, editor.post("/api/v1/metrics/collect", json={"all": True}))
    assert collected["status"] == "done", collected["error"]
    assert [m["publication_id"] for m in viewer.get("/api/v1/metrics").json()] == [pubs[0]["id"]]
    report = follow(editor, editor.post("/api/v1/reports"), timeout_s=180)
    assert report["status"] == "done" and report["result"]["report"]["publications"] == 1
    html = viewer.get("/api/v1/reports/report.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    storage = viewer.get("/api/v1/storage").json()
    assert storage["used_bytes"] > 0 and "files_url" not in storage
    gc = follow(admin, admin.post("/api/v1/storage/gc", json={"dry_run": True}))
    assert gc["status"] == "done" and gc["result"]["gc"]["dry_run"] is True


def test_a_full_run_goes_through_crawl_index_and_trends(site):
    c = site.client("editor")
    run = follow(c, c.post("/api/v1/runs", json={"kind": "full", "max_pages": 500}), timeout_s=300)
    assert run["status"] == "done", run["error"]
    assert list(run["progress"]) == ["crawl", "index", "trends"]
    assert all(p["state"] == "done" for p in run["progress"].values())
    assert run["progress"]["crawl"]["done"] > 0 and run["result"]["crawl"]["fetched"] > 0
    assert run["result"]["trends"]["trends"] >= 3
    # Nothing new on the site: the crawl appends no article events, the trends stage its usual ones.
    events = c.get(f"/api/v1/runs/{run['id']}/events", params={"stage": "crawl"}).json()
    assert all(e["stage"] == "crawl" and e["type"] in ("ArticleCrawled", "ArticleUpdated", "MediaStored") for e in events)
    assert_error(c.get(f"/api/v1/runs/{run['id']}/events", params={"stage": "render"}), 400)
