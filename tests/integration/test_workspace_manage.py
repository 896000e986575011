"""The workspace's pages for running trendreel without the command line, through the real gateway
(sessions, CSRF, roles): sources (add, edit, test against the local sample site, crawl, remove), runs
started from forms with progress in pages and items, users (add, role, password, remove, the last admin),
metrics and the report, the story writer and language, connecting YouTube through its OAuth web flow
(Google's protocol spoken by the local server), and the empty states of a fresh home."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.api_helpers import PASSWORD, assert_error, make_gateway
from tests.integration.test_workspace import browser, csrf_of
from tests.metrics_support import add_publication, add_samples, add_trend, add_video
from tests.youtubeserver import YouTubeServer
from trendreel import services
from trendreel.bootstrap import App
from trendreel.files.store import open_file_store

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def gateway(database, make_settings, tmp_path):
    settings = make_settings(publish={"folder_roots": [str(tmp_path)]})
    settings.home.mkdir(parents=True, exist_ok=True)
    application = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    gw = make_gateway(settings, application)
    yield gw
    gw.api.state.runner.shutdown(wait=True)
    application.close()


def wait_run(gw, location: str, timeout_s: float = 120) -> dict:
    """The run behind a /runs/{id} redirect, once it ended."""
    rid = re.fullmatch(r"/runs/(r[0-9a-f]{23})", location).group(1)
    deadline = time.monotonic() + timeout_s
    while True:
        run = services.get_run(gw.app, rid)
        if run["status"] in ("done", "error") or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def source_form(csrf: str, name: str, kind: str, urls: list[str], **extra) -> dict:
    return {"csrf_token": csrf, "name": name, "kind": kind, "urls": "\n".join(urls), "max_depth": "1",
            "max_pages": "40", "allow_private": "true", **extra}


def test_an_admin_adds_tests_crawls_edits_and_removes_a_source(gateway, sample_url):
    admin, editor = browser(gateway, "admin"), browser(gateway, "editor")
    empty = admin.get("/sources")
    assert "No sources yet" in empty.text and "Add a source" in empty.text
    csrf = csrf_of(empty)
    # an editor may test and crawl, never add
    refused = editor.post("/sources", data=source_form(csrf_of(editor.get("/sources")), "x", "feed", [f"{sample_url}/feed.xml"]))
    assert refused.status_code == 403
    added = admin.post("/sources", data=source_form(csrf, "sample-feed", "feed", [f"{sample_url}/feed.xml"]))
    assert added.status_code == 303
    listed = {s["name"]: s for s in admin.get("/api/v1/sources").json()}
    assert listed["sample-feed"]["origin"] == "workspace" and listed["sample-feed"]["urls"] == [f"{sample_url}/feed.xml"]
    duplicate = admin.post("/sources", data=source_form(csrf, "sample-feed", "feed", [f"{sample_url}/feed.xml"]))
    assert duplicate.status_code == 409 and "exists already" in duplicate.text

    # the test: one fetch of the feed, the robots verdict, the pages it lists and the first titles
    tested = editor.post("/sources/sample-feed/test", data={"csrf_token": csrf_of(editor.get("/sources"))})
    assert tested.status_code == 200, tested.text[:500]
    assert re.search(r'id="robots" class="ok">allowed<', tested.text)
    found = int(re.search(r'id="pages-found">(\d+)', tested.text).group(1))
    titles = re.findall(r'<b class="title">([^<]+)</b>', tested.text)
    assert found >= 5 and len(titles) == 3, tested.text[:2000]
    assert services.list_articles(gateway.app, limit=5) == []  # a test stores nothing

    # a start page under a Disallow rule is refused before it is fetched
    admin.post("/sources", data=source_form(csrf, "private", "site", [f"{sample_url}/private/index.html"]))
    blocked = editor.post("/sources/private/test", data={"csrf_token": csrf_of(editor.get("/sources"))})
    assert re.search(r'id="robots" class="bad">disallowed', blocked.text) and 'id="pages-found">0' in blocked.text

    # crawl it from its row: a run whose progress counts pages
    started = editor.post("/sources/sample-feed/crawl", data={"csrf_token": csrf_of(editor.get("/sources"))})
    assert started.status_code == 303
    run = wait_run(gateway, started.headers["location"])
    assert run["status"] == "done", run["error"]
    assert run["result"]["crawl"]["articles_new"] >= 5
    page = editor.get(started.headers["location"])
    count = re.search(r'class="count">([^<]+)<', page.text).group(1)
    assert re.fullmatch(r"\d+ pages · \d+ s( · [\d.]+ pages/s)? · \d+ new, \d+ media, \d+ errors", count), count
    assert 'href="/articles"' in page.text  # the finished crawl leads to what it brought

    # edit: a new name and kind; the settings file's sources are not editable here
    changed = admin.post("/sources/sample-feed", data={**source_form(csrf, "", "sitemap", [f"{sample_url}/sitemap.xml"]),
                                                       "new_name": "sample-map"})
    assert changed.status_code == 303
    names = {s["name"]: s for s in services.list_sources(gateway.app)}
    assert "sample-feed" not in names and names["sample-map"]["kind"] == "sitemap"
    assert admin.get("/sources/sample-map/edit").status_code == 200
    removed = admin.post("/sources/sample-map/remove", data={"csrf_token": csrf})
    assert removed.status_code == 303
    assert "sample-map" not in {s["name"] for s in services.list_sources(gateway.app)}
    assert admin.post("/sources/sample-map/crawl", data={"csrf_token": csrf}).status_code == 404
    assert services.list_articles(gateway.app, limit=5)  # its articles stay


@sqlite_only
def test_the_sources_api_adds_changes_tests_and_removes(gateway, sample_url):
    headers = {"Authorization": f"Bearer {gateway.tokens['admin']}"}
    editor = {"Authorization": f"Bearer {gateway.tokens['editor']}"}
    client = browser(gateway, None)
    body = {"name": "sitemap", "kind": "sitemap", "urls": [f"{sample_url}/sitemap_index.xml"], "allow_private": True}
    assert_error(client.post("/api/v1/sources", json=body, headers=editor), 403)
    made = client.post("/api/v1/sources", json=body, headers=headers)
    assert made.status_code == 201 and made.json()["origin"] == "workspace"
    assert_error(client.post("/api/v1/sources", json=body, headers=headers), 409)
    tested = client.post("/api/v1/sources/sitemap/test", headers=editor).json()
    # a sitemap index: one level down, as a crawl goes
    assert tested["robots_allowed"] and tested["sitemaps_found"] >= 1 and tested["pages_found"] >= 5
    assert all(f["title"] for f in tested["first"][:3])
    changed = client.put("/api/v1/sources/sitemap", json={**body, "max_pages": 7}, headers=headers)
    assert changed.status_code == 200 and changed.json()["max_pages"] == 7
    assert_error(client.put("/api/v1/sources/nothing", json=body, headers=headers), 404)
    started = client.post("/api/v1/runs", json={"kind": "crawl", "sources": ["sitemap"]}, headers=editor)
    assert started.status_code == 202  # a source added here is a name a run accepts
    assert client.delete("/api/v1/sources/sitemap", headers=headers).status_code == 200
    assert_error(client.delete("/api/v1/sources/sitemap", headers=headers), 404)
    assert_error(client.post("/api/v1/runs", json={"kind": "crawl", "sources": ["sitemap"]}, headers=editor), 404)


@sqlite_only
def test_runs_start_from_the_runs_page_and_count_items(gateway, sample_url):
    admin, viewer = browser(gateway, "admin"), browser(gateway, "viewer")
    assert "start-index" not in viewer.get("/runs").text  # viewers only follow runs
    csrf = csrf_of(admin.get("/sources"))
    admin.post("/sources", data=source_form(csrf, "feed", "feed", [f"{sample_url}/feed.xml"]))
    page = admin.get("/runs")
    assert '<option value="feed">feed</option>' in page.text
    crawl = admin.post("/runs/crawl", data={"csrf_token": csrf, "source": "feed", "max_pages": "12"})
    assert wait_run(gateway, crawl.headers["location"])["status"] == "done"
    index = admin.post("/runs/index", data={"csrf_token": csrf})
    run = wait_run(gateway, index.headers["location"])
    assert run["status"] == "done", run["error"]
    text = re.search(r'class="count">([^<]+)<', admin.get(index.headers["location"]).text).group(1)
    assert re.match(r"(\d+) of \1 items · \d+ s", text), text
    trends = admin.post("/runs/trends", data={"csrf_token": csrf, "window": "30d"})
    run = wait_run(gateway, trends.headers["location"])
    assert run["status"] == "done", run["error"]
    listed = admin.get("/runs").text
    assert listed.count('href="/runs/r') >= 3 and "items" in listed and "pages" in listed
    assert viewer.post("/runs/index", data={"csrf_token": csrf_of(viewer.get("/runs"))}).status_code == 403


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_an_admin_manages_users_and_the_rules_hold(gateway):
    admin, editor = browser(gateway, "admin"), browser(gateway, "editor")
    assert editor.get("/users").status_code == 403
    page = admin.get("/users")
    assert all(f'id="user-{name}"' in page.text for name in ("admin", "editor", "viewer"))
    csrf = csrf_of(page)
    assert admin.post("/users", data={"csrf_token": csrf, "username": "mina", "password": "한강 달리기 2026",
                                      "role": "editor"}).status_code == 303
    assert services.verify_password(gateway.app, username="mina", password="한강 달리기 2026")["role"] == "editor"
    again = admin.post("/users", data={"csrf_token": csrf, "username": "mina", "password": "other one", "role": "viewer"})
    assert again.status_code == 409  # adding never silently resets a password
    assert admin.post("/users/mina/role", data={"csrf_token": csrf, "role": "admin"}).status_code == 303
    assert {u["username"]: u["role"] for u in services.list_users(gateway.app)}["mina"] == "admin"

    # a new password ends the user's sessions at once
    assert editor.get("/videos").status_code == 200
    assert admin.post("/users/editor/password", data={"csrf_token": csrf, "password": "a brand new one"}).status_code == 303
    assert editor.get("/videos").headers["location"].startswith("/login")
    services.verify_password(gateway.app, username="editor", password="a brand new one")

    # removal: never oneself, never the last admin
    assert admin.post("/users/admin/remove", data={"csrf_token": csrf}).status_code == 400
    assert admin.post("/users/mina/remove", data={"csrf_token": csrf}).status_code == 303
    assert "mina" not in {u["username"] for u in services.list_users(gateway.app)}
    last = admin.post("/users/admin/role", data={"csrf_token": csrf, "role": "viewer"})
    assert last.status_code == 409 and "last admin" in last.text
    assert admin.post("/users/admin/role", data={"csrf_token": "forged", "role": "viewer"}).status_code == 403


@sqlite_only
def test_metrics_are_collected_and_the_report_is_built_and_shown(gateway, tmp_path):
    editor = browser(gateway, "editor")
    empty = editor.get("/report")
    assert "publish a video, then collect metrics" in empty.text and "No report built yet" in empty.text
    assert "Publish, then collect metrics" not in editor.get("/publications").text  # nothing published: no chart hint
    account = services.add_account(gateway.app, platform="folder", name="outbox", path=tmp_path / "outbox")
    at = datetime.now(timezone.utc) - timedelta(days=2)
    tid = add_trend(gateway.app, "t1", text="한강 러닝", at=at)
    vid = add_video(gateway.app, "v1", title="한강 러닝 열풍", trend_id=tid, at=at)
    pid = add_publication(gateway.app, vid, account, published_at=at, title="한강 러닝 열풍")
    assert "publish, then collect metrics" in editor.get("/publications").text.lower()
    add_samples(gateway.app, pid, [(at + timedelta(hours=1), 10, 1, 0), (at + timedelta(hours=24), 150, 9, 2)])
    csrf = csrf_of(editor.get("/report"))
    collected = editor.post("/metrics/collect", data={"csrf_token": csrf, "all": "true"})
    run = wait_run(gateway, collected.headers["location"])
    assert run["status"] == "done" and run["result"]["metrics"]["due"] >= 1, run
    built = editor.post("/report", data={"csrf_token": csrf})
    run = wait_run(gateway, built.headers["location"])
    assert run["status"] == "done", run["error"]
    assert 'href="/report"' in editor.get(built.headers["location"]).text
    page = editor.get("/report")
    assert 'id="report-frame" src="/api/v1/reports/report.html"' in page.text and "samples.csv" in page.text
    report = editor.get("/api/v1/reports/report.html")
    assert report.status_code == 200 and "한강 러닝 열풍" in report.text


@sqlite_only
def test_an_editor_picks_the_story_writer_and_language(gateway):
    editor = browser(gateway, "editor")
    at = datetime.now(timezone.utc)
    tid = add_trend(gateway.app, "t2", text="겨울 캠핑", at=at)
    page = editor.get(f"/trends/{tid}")
    writers = re.findall(r'<option value="([^"]+)">[^<]*</option>', page.text.split('id="story-writer"')[1].split("</select>")[0])
    assert writers[0] == "template" and {"llamacpp", "openai"} <= set(writers)
    assert '<option value="en">en</option>' in page.text
    started = editor.post(f"/trends/{tid}/story", data={"csrf_token": csrf_of(page), "backend": "template", "lang": "en"})
    assert started.status_code == 303
    run = services.get_run(gateway.app, started.headers["location"].rsplit("/", 1)[1])
    assert run["params"] == {"trend_id": tid, "backend": "template", "lang": "en"}
    unknown = editor.post(f"/trends/{tid}/story", data={"csrf_token": csrf_of(page), "backend": "nonesuch"})
    assert unknown.status_code == 422 and "unknown story writer" in unknown.text


@sqlite_only
def test_youtube_is_connected_through_the_oauth_web_flow(gateway, tmp_path):
    with YouTubeServer(tls=False) as yt:
        secrets_file = tmp_path / "client_secret.json"
        admin, editor = browser(gateway, "admin"), browser(gateway, "editor")
        missing = admin.get("/accounts/connect/youtube?name=main")
        assert missing.status_code == 400 and "no OAuth client for YouTube" in missing.text
        secrets_file.write_text(json.dumps(yt.web_client_secrets()))
        gateway.app.settings.publish.youtube_client_secrets = secrets_file
        assert editor.get("/accounts/connect/youtube?name=main").status_code == 403
        assert 'id="connect-account"' in admin.get("/accounts").text

        go = admin.get("/accounts/connect/youtube?name=main")
        assert go.status_code == 303
        target = urlsplit(go.headers["location"])
        query = {k: v[0] for k, v in parse_qs(target.query).items()}
        assert target.path == "/o/oauth2/auth" and query["access_type"] == "offline" and query["prompt"] == "consent"
        assert query["redirect_uri"] == "http://testserver/accounts/callback/youtube" and "youtube.upload" in query["scope"]
        # the provider: consent, then back with a code and the state
        consent = httpx.get(go.headers["location"])
        assert consent.status_code == 200 and "wants to access" in consent.text
        back = httpx.get(yt.root + "o/oauth2/approve", params={"redirect_uri": query["redirect_uri"], "state": query["state"]})
        callback = urlsplit(back.headers["location"])
        forged = admin.get(f"{callback.path}?state=someone-else&code=x")
        assert forged.status_code == 400 and "does not match" in forged.text
        go = admin.get("/accounts/connect/youtube?name=main")  # the forged answer used up the pending sign-in
        state = parse_qs(urlsplit(go.headers["location"]).query)["state"][0]
        back = httpx.get(yt.root + "o/oauth2/approve", params={"redirect_uri": query["redirect_uri"], "state": state})
        done = admin.get(back.headers["location"].replace("http://testserver", ""))
        assert done.status_code == 303 and done.headers["location"] == "/accounts#account-youtube-main", done.text[:800]
        account = next(a for a in services.list_accounts(gateway.app) if a["platform"] == "youtube")
        assert account["name"] == "main" and account["has_credentials"]
        assert 'id="account-youtube-main"' in admin.get("/accounts").text
        # the code is good once: the same answer again is refused (by the state first)
        assert admin.get(back.headers["location"].replace("http://testserver", "")).status_code == 400


@sqlite_only
def test_a_fresh_home_says_what_to_do_next(gateway):
    editor = browser(gateway, "editor")
    expected = {"/sources": "No sources yet", "/trends": "Run trends after an index", "/articles": "add a source",
                "/report": "publish a video, then collect metrics", "/runs": "add a source</a> first",
                "/accounts": "No accounts yet"}
    for path, text in expected.items():
        page = editor.get(path)
        assert page.status_code == 200 and text in page.text, (path, page.text[:1500])
    admin = browser(gateway, "admin")
    refused = admin.post("/runs/crawl", data={"csrf_token": csrf_of(admin.get("/runs"))})
    assert refused.status_code == 409 and "add a source first" in refused.text


@sqlite_only
def test_a_cancelled_or_refused_sign_in_says_to_start_again(gateway, tmp_path):
    from trendreel.publish.errors import CredentialsError
    from trendreel.publish.oauth import YouTubeOAuthFlow

    with YouTubeServer(tls=False) as yt:
        secrets_file = tmp_path / "client_secret.json"
        secrets_file.write_text(json.dumps(yt.web_client_secrets()))
        gateway.app.settings.publish.youtube_client_secrets = secrets_file
        admin = browser(gateway, "admin")
        go = admin.get("/accounts/connect/youtube?name=main")
        query = {k: v[0] for k, v in parse_qs(urlsplit(go.headers["location"]).query).items()}
        cancelled = admin.get(f"/accounts/callback/youtube?state={query['state']}&error=access_denied")
        assert cancelled.status_code == 400 and "access_denied" in cancelled.text and "start again" in cancelled.text
        flow = YouTubeOAuthFlow(gateway.app)
        with pytest.raises(CredentialsError, match="refused the sign-in code: invalid_grant: Malformed auth code"):
            flow.exchange_code(code="4/never-issued", redirect_uri=query["redirect_uri"])
        code = parse_qs(urlsplit(httpx.get(yt.root + "o/oauth2/approve", params={
            "redirect_uri": query["redirect_uri"], "state": "s"}).headers["location"]).query)["code"][0]
        with pytest.raises(CredentialsError, match="redirect_uri_mismatch"):
            flow.exchange_code(code=code, redirect_uri="http://elsewhere.example/callback")
        assert not [a for a in services.list_accounts(gateway.app) if a["platform"] == "youtube"]
