"""TikTok publishing and metrics through the real client code (httpx) against a local server that speaks
TikTok's API v2: creator info, direct post init, chunked FILE_UPLOAD, status fetch, the video query and
OAuth; faults (5xx, dropped connections, an expired token, limits, a FAILED post), an unaudited app, and
a publisher killed after TikTok made the post but before trendreel recorded it."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from tests.integration.api_helpers import make_gateway
from tests.metrics_support import add_publication, add_video as add_metrics_video
from tests.publish_support import STORY_BODY, add_video
from tests.tiktokserver import TikTokServer
from trendreel.bootstrap import build_app
from trendreel.db.tables import Account, MetricSample, Publication, Video
from trendreel.publish.accounts import load_credentials
from trendreel.publish.errors import CredentialsError, PublishError, QuotaExceeded, UploadFailed
from trendreel.publish.metadata import caption_length
from trendreel.publish.tiktok import TikTokOAuthFlow
from trendreel.services import publishing as service
from trendreel.services.metrics import collect_metrics
from trendreel.services.report import build_report

REPO = Path(__file__).resolve().parents[2]
FAST = {"backoff_s": 0.01, "backoff_max_s": 0.05, "timeout_s": 10, "trends_snapshot": 0, "tiktok_chunk_mib": 5,
        "tiktok_poll_s": 0.01}
TWO_CHUNKS = 11_000_000  # padding that makes a video of two 5 MiB chunks (the second takes the rest)


@pytest.fixture
def server():
    with TikTokServer() as srv:
        yield srv


def make_app(make_settings, server, **publish):
    settings = make_settings(tiktok_api_root=server.root, tiktok_auth_root=server.root, publish={**FAST, **publish})
    return build_app(settings)


def add_creator(app, server, name="news", **override) -> dict:
    return service.add_account(app, platform="tiktok", name=name, credentials=server.credentials(**override))


def stored_bytes(app, vid: str) -> bytes:
    with app.db.session() as s:
        return app.files.get(s.get(Video, vid).path)


@pytest.mark.parametrize("fault", ["none", "503", "drop", "lost", "401"])
def test_direct_post_in_chunks_survives_faults(fault, server, make_settings, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # an in-process CLI run earlier may have quieted it
    app = make_app(make_settings, server)
    account = add_creator(app, server)
    first = load_credentials(app, account["id"])
    vid = add_video(app, f"tt-{fault}", noise_bytes=TWO_CHUNKS, review="approved")
    if fault == "503":
        server.fail_next_chunks(2)
    elif fault == "drop":
        server.drop_next_chunk(1)
    elif fault == "lost":
        server.lose_next_answer(1)  # the first chunk lands, its answer does not: the re-send is told where TikTok is
    elif fault == "401":
        server.expire_token()

    progress = []
    pub = service.publish_video(app, video_id=vid, to="tiktok:news", privacy="unlisted",
                                on_progress=lambda done, total: progress.append((done, total)))

    assert pub["status"] == "done" and pub["reused"] is False
    assert server.inits == 1 and len(server.published()) == 1
    post = server.published()[0]
    data = stored_bytes(app, vid)
    assert bytes(post["data"]) == data  # byte-identical, in two chunks
    assert post["source_info"] == {"source": "FILE_UPLOAD", "video_size": len(data), "chunk_size": 5 * 1024 * 1024,
                                   "total_chunk_count": 2}
    info = post["post_info"]
    assert info["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS" and info["is_aigc"] is True
    assert (info["disable_comment"], info["disable_duet"], info["disable_stitch"]) == (False, False, True)  # creator: no stitch
    assert info["title"].startswith("Harbour bridge reopens") and info["title"].endswith(f"ref: {pub['id']}")
    assert "#bridge" in info["title"] and "#citynews" in info["title"] and "#ferries" in info["title"]
    assert pub["external_id"] == post["post_id"]
    assert pub["url"] == f"https://www.tiktok.com/@trendreel.news/video/{post['post_id']}"
    assert pub["details"]["publish_id"] in server.posts and pub["details"]["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"
    assert progress[-1] == (len(data), len(data))
    if fault in ("503", "drop", "lost"):
        assert pub["details"]["retries"] >= 1
    if fault == "lost":
        assert [r[2] for r in server.requests if r[0] == "PUT"] == [416, 201]  # the first answer was never sent
    if fault == "401":
        assert server.refreshes == 1 and pub["details"]["refreshes"] == 1
        fresh = load_credentials(app, account["id"])
        assert fresh["access_token"] != first["access_token"] and fresh["access_token"] in server.tokens
        assert fresh["refresh_token"] in server.refresh_tokens  # the rotated refresh token is the one kept
        with app.db.session() as s:
            sealed = s.get(Account, account["id"]).credentials
        assert fresh["access_token"] not in sealed and fresh["refresh_token"] not in sealed
    secrets = [first["access_token"], first["refresh_token"], first["client_secret"]]
    secrets += [v for k, v in load_credentials(app, account["id"]).items() if k in ("access_token", "refresh_token")]
    assert not any(x in caplog.text for x in secrets)  # tokens never reach a log line, even at DEBUG
    # Publishing again returns the publication; nothing new reaches TikTok.
    before = len(server.requests)
    assert service.publish_video(app, video_id=vid, to="tiktok:news")["reused"] is True
    assert len(server.requests) == before
    app.close()


def test_limits_are_explained_and_not_retried(server, make_settings):
    app = make_app(make_settings, server)
    add_creator(app, server)
    vid = add_video(app, "limits", review="approved")
    server.limit_next("rate_limit_exceeded", 429, path="/v2/post/publish/video/init/")
    with pytest.raises(QuotaExceeded, match="per-minute request limit.*wait a minute"):
        service.publish_video(app, video_id=vid, to="tiktok:news")
    assert [r for r in server.requests if r[1] == "/v2/post/publish/video/init/"] == [
        ("POST", "/v2/post/publish/video/init/", 429)]  # asked once, never again
    assert service.list_publications(app, video_id=vid)[0]["status"] == "error"

    server.limit_next("spam_risk_too_many_posts", 403, path="/v2/post/publish/video/init/")
    with pytest.raises(QuotaExceeded, match="daily cap of posts.*tomorrow"):
        service.publish_video(app, video_id=vid, to="tiktok:news")
    assert server.inits == 0 and not server.published()

    pub = service.publish_video(app, video_id=vid, to="tiktok:news")  # the limit passed: one post
    assert pub["status"] == "done" and server.inits == 1 and len(server.published()) == 1
    app.close()


def test_unaudited_app_posts_only_privately(server, make_settings):
    app = make_app(make_settings, server)
    add_creator(app, server)
    vid = add_video(app, "unaudited", review="approved")

    server.audited = False  # TikTok still lists every level, then refuses any but SELF_ONLY
    with pytest.raises(UploadFailed, match="not audited yet.*SELF_ONLY.*--privacy private"):
        service.publish_video(app, video_id=vid, to="tiktok:news", privacy="unlisted")
    assert [r[2] for r in server.requests if r[1] == "/v2/post/publish/video/init/"] == [403]

    server.creator["privacy_level_options"] = ["SELF_ONLY"]  # a creator that offers only SELF_ONLY
    sent = len(server.requests)
    with pytest.raises(PublishError, match="only privately.*not audited.*--privacy private"):
        service.publish_video(app, video_id=vid, to="tiktok:news", privacy="unlisted")
    assert [r[1] for r in server.requests[sent:]] == ["/v2/post/publish/creator_info/query/"]  # refused before init

    pub = service.publish_video(app, video_id=vid, to="tiktok:news", privacy="private")
    post = server.published()[0]
    assert post["post_info"]["privacy_level"] == "SELF_ONLY" and len(server.published()) == 1
    # A SELF_ONLY post has no public id: the publish_id stands for it, the URL is the profile.
    assert pub["external_id"] == pub["details"]["publish_id"] and pub["details"]["post_id"] is None
    assert pub["url"] == "https://www.tiktok.com/@trendreel.news"
    app.close()


def test_failed_post_names_the_reason_and_the_next_run_posts_once(server, make_settings):
    app = make_app(make_settings, server)
    add_creator(app, server)
    vid = add_video(app, "failed", review="approved")
    server.fail_next_post("file_format_check_failed")
    with pytest.raises(UploadFailed, match="could not post.*file_format_check_failed"):
        service.publish_video(app, video_id=vid, to="tiktok:news", privacy="private")
    assert not server.published()
    pub = service.publish_video(app, video_id=vid, to="tiktok:news", privacy="private")
    assert pub["status"] == "done" and server.inits == 2 and len(server.published()) == 1
    app.close()


def test_creator_limits_come_first(server, make_settings):
    app = make_app(make_settings, server, tiktok_allow=["duet"])
    add_creator(app, server)
    long_one = add_video(app, "long", seconds=3.0, review="approved")
    server.creator["max_video_post_duration_sec"] = 2
    with pytest.raises(PublishError, match="3 s long.*at most 2 s"):
        service.publish_video(app, video_id=long_one, to="tiktok:news", privacy="private")
    assert server.inits == 0

    server.creator.update(max_video_post_duration_sec=600, comment_disabled=True, stitch_disabled=False)
    # A long story: the caption is cut to TikTok's 2,200 UTF-16 units, title, hashtags and ref kept.
    story = {**STORY_BODY, "scenes": [{"narration": "Ferries 🚢 return to the harbour today. " * 12, "duration_s": 1.0,
                                       "media": [], "citations": []} for _ in range(12)]}
    vid = add_video(app, "caption", story_body=story, review="approved")
    pub = service.publish_video(app, video_id=vid, to="tiktok:news", privacy="private")
    info = server.published()[0]["post_info"]
    assert 2100 < caption_length(info["title"], "utf16") <= 2200 < len(info["title"].encode("utf-16-le"))
    assert info["title"].startswith("Harbour bridge reopens") and info["title"].endswith(f"ref: {pub['id']}")
    assert "…" in info["title"] and "#ferries" in info["title"]
    # Only duets are allowed by the settings; the creator turned comments off.
    assert (info["disable_comment"], info["disable_duet"], info["disable_stitch"]) == (True, False, True)
    app.close()


def test_oauth_flow_connects_an_account_that_refreshes_with_the_app_keys(server, make_settings):
    settings = make_settings(tiktok_api_root=server.root, tiktok_auth_root=server.root,
                             publish={**FAST, "tiktok_client_key": server.client_key,
                                      "tiktok_client_secret": server.client_secret})
    app = build_app(settings)
    flow = app.oauth_flow("tiktok")  # what the workspace's Connect uses
    assert isinstance(flow, TikTokOAuthFlow)
    redirect = "http://127.0.0.1:8600/accounts/callback/tiktok"
    url = urlparse(service.oauth_start(app, platform="tiktok", redirect_uri=redirect, state="s-123"))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.geturl().startswith(server.root + "v2/auth/authorize/?")
    assert query == {"client_key": server.client_key, "scope": "user.info.basic,video.publish,video.list",
                     "response_type": "code", "redirect_uri": redirect, "state": "s-123"}
    with pytest.raises(CredentialsError, match="invalid_grant"):
        flow.exchange_code(code="not-a-code", redirect_uri=redirect)

    creds = flow.exchange_code(code=server.issue_code(redirect), redirect_uri=redirect)
    assert creds["access_token"] in server.tokens and creds["open_id"] == server.open_id
    assert datetime.fromisoformat(creds["expires_at"]) > datetime.now(timezone.utc)
    assert (creds["client_key"], creds["client_secret"]) == (server.client_key, server.client_secret)

    # Stored without the app keys: a refresh uses the settings' client key and secret.
    slim = {k: v for k, v in creds.items() if k not in ("client_key", "client_secret")}
    account = service.add_account(app, platform="tiktok", name="linked", credentials=slim)
    server.expire_token()
    vid = add_video(app, "linked", review="approved")
    pub = service.publish_video(app, video_id=vid, to="tiktok:linked", privacy="private")
    assert pub["status"] == "done" and server.refreshes == 1
    assert load_credentials(app, account["id"])["access_token"] in server.tokens
    app.close()


def test_publish_through_the_api(server, make_settings):
    gw = make_gateway(make_settings(tiktok_api_root=server.root, publish=FAST))
    add_creator(gw.app, server)
    vid = add_video(gw.app, "api", review="approved")
    editor, viewer = gw.client("editor"), gw.client("viewer")
    accepted = editor.post(f"/api/v1/videos/{vid}/publish", json={"to": "tiktok:news", "privacy": "private"})
    assert accepted.status_code == 202, accepted.text
    deadline = time.monotonic() + 120
    while (run := editor.get(accepted.json()["url"]).json())["status"] not in ("done", "error"):
        assert time.monotonic() < deadline, run
        time.sleep(0.1)
    assert run["status"] == "done", run["error"]
    pubs = viewer.get(f"/api/v1/publications?video_id={vid}").json()
    assert [(p["platform"], p["status"]) for p in pubs] == [("tiktok", "done")] and len(server.published()) == 1
    assert [a["name"] for a in viewer.get("/api/v1/accounts?platform=tiktok").json()] == ["news"]
    gw.app.close()


# ---- a killed publisher ----------------------------------------------------------------------

def _cli(home: Path, server, *args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "TRENDREEL_HOME": str(home), "TRENDREEL_TIKTOK_API_ROOT": server.root,
           "TRENDREEL_PUBLISH__BACKOFF_S": "0.01", "TRENDREEL_PUBLISH__TRENDS_SNAPSHOT": "0",
           "TRENDREEL_PUBLISH__TIKTOK_CHUNK_MIB": "5", "TRENDREEL_PUBLISH__TIKTOK_POLL_S": "0.01"}
    return subprocess.Popen([sys.executable, "-c", "from trendreel.cli import main; main()", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def _wait(predicate, proc, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"publisher ended early: {proc.communicate()[1].decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting for the publisher")
        time.sleep(0.02)


def _add_by_cli(app, server, tmp_path) -> None:
    cred = tmp_path / "tiktok.json"
    cred.write_text(json.dumps(server.credentials()), encoding="utf-8")
    proc = _cli(app.settings.home, server, "accounts", "add", "tiktok", "news", "--credentials", str(cred), "--json")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()[-2000:]
    row = json.loads(out)
    assert row["platform"] == "tiktok" and row["has_credentials"] is True
    assert server.credentials()["client_secret"] not in out.decode()


@pytest.mark.slow
@pytest.mark.parametrize("restart", [False, True])
def test_killed_after_the_post_was_made_posts_once(restart, server, make_settings, tmp_path):
    app = make_app(make_settings, server)
    _add_by_cli(app, server, tmp_path)
    vid = add_video(app, "crash", noise_bytes=TWO_CHUNKS, review="approved")
    server.complete_delay_s = 30.0  # the post is on TikTok; the answer never reaches the publisher
    proc = _cli(app.settings.home, server, "publish", "--video", vid, "--to", "tiktok:news", "--privacy", "unlisted")
    _wait(lambda: len(server.published()) == 1, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with app.db.session() as s:
        row = s.scalars(select(Publication)).one()
        assert row.status == "uploading" and row.external_id is None and row.upload_state["publish_id"]

    server.complete_delay_s = 0.0
    pub = service.publish_video(app, video_id=vid, to="tiktok:news", privacy="unlisted", restart_upload=restart)
    assert server.inits == 1 and len(server.published()) == 1  # one post, found again
    assert pub["external_id"] == server.published()[0]["post_id"] and pub["details"]["resumed"] is True
    app.close()


@pytest.mark.slow
def test_killed_mid_upload_continues_the_same_post(server, make_settings, tmp_path):
    app = make_app(make_settings, server)
    _add_by_cli(app, server, tmp_path)
    vid = add_video(app, "midway", noise_bytes=16_000_000, review="approved")  # three chunks
    server.chunk_delay_s = 0.5
    proc = _cli(app.settings.home, server, "publish", "--video", vid, "--to", "tiktok:news", "--privacy", "private")
    _wait(lambda: next(iter(server.posts.values()), {}).get("chunks", 0) >= 1, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not server.published()

    server.chunk_delay_s = 0.0
    pub = service.publish_video(app, video_id=vid, to="tiktok:news", privacy="private")
    assert server.inits == 1 and len(server.published()) == 1
    post = server.published()[0]
    assert bytes(post["data"]) == stored_bytes(app, vid) and post["source_info"]["total_chunk_count"] == 3
    assert pub["details"]["resumed"] is True
    app.close()


# ---- metrics ---------------------------------------------------------------------------------

def test_metrics_of_tiktok_posts_reach_the_report(server, make_settings, tmp_path):
    app = make_app(make_settings, server)
    account = add_creator(app, server)
    public = service.publish_video(app, video_id=add_video(app, "m-public", review="approved"), to="tiktok:news",
                                   privacy="unlisted")
    private = service.publish_video(app, video_id=add_video(app, "m-private", pattern="mandelbrot", review="approved"),
                                    to="tiktok:news", privacy="private")
    server.set_stats(public["external_id"], views=1234, likes=56, comments=7, shares=3)
    # 25 more posts made earlier (two video queries of at most 20 ids), one of them since deleted on TikTok.
    earlier = []
    for i in range(25):
        post_id = str(7_100_000_000_000_000_000 + i)
        if i != 24:
            server.add_video(post_id, views=100 + i, likes=i, comments=1)
        vid = add_metrics_video(app, f"old{i}", title=f"old {i}", trend_id=None, at=datetime(2026, 11, 1, tzinfo=timezone.utc))
        earlier.append(add_publication(app, vid, account, published_at=datetime(2026, 11, 2, tzinfo=timezone.utc),
                                       external_id=post_id, details={"post_id": post_id}))

    result = collect_metrics(app, all=True)
    assert result["errors"] == [] and result["stored"] == 27
    queries = [r for r in server.requests if r[1] == "/v2/video/query/"]
    assert len(queries) == 2
    with app.db.session() as s:
        samples = {m.publication_id: m for m in s.scalars(select(MetricSample))}
    got = samples[public["id"]]
    assert (got.views, got.likes, got.comments, got.raw["share_count"]) == (1234, 56, 7, 3)
    assert samples[private["id"]].views is None and samples[private["id"]].raw["status"] == "no_stats"
    assert "SELF_ONLY" in samples[private["id"]].raw["reason"]
    assert samples[earlier[3]].views == 103 and samples[earlier[24]].raw["status"] == "not_found"

    report = build_report(app, out_dir=tmp_path / "report")
    rows = (tmp_path / "report" / "publications.csv").read_text(encoding="utf-8-sig")
    line = next(r for r in rows.splitlines() if r.startswith(public["id"]))
    assert "tiktok:news" in line and "1234" in line
    assert report["total_views"] == 1234 + sum(100 + i for i in range(24))

    server.limit_next("rate_limit_exceeded", 429, path="/v2/video/query/")
    again = collect_metrics(app, all=True)
    assert again["errors"] and "per-minute request limit" in again["errors"][0]["message"]
    assert len([r for r in server.requests if r[1] == "/v2/video/query/"]) == 3  # the limit was not retried
    app.close()
