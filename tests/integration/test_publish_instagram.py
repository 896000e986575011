"""Instagram Reels publishing and metrics through the real client code against a local server that speaks
the Graph API and Meta's rupload host: faults (5xx, a dropped upload, an expired token), the 24-hour
publishing limit, a failed container, token refresh, the OAuth flow, a publisher killed between
"posted" and "recorded", and insights flowing into the report."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.instagramserver import InstagramServer
from tests.publish_support import add_video
from trendreel.bootstrap import App, build_app
from trendreel.db.tables import Account, MetricSample, Publication, Video
from trendreel.files.store import open_file_store
from trendreel.publish.accounts import load_credentials
from trendreel.publish.errors import CredentialsError, QuotaExceeded, UploadFailed
from trendreel.publish.instagram import CAPTION_MAX, InstagramOAuthFlow, instagram_caption
from trendreel.services import publishing as service
from trendreel.services.metrics import collect_metrics
from trendreel.services.report import build_report

REPO = Path(__file__).resolve().parents[2]
FAST = {"backoff_s": 0.01, "backoff_max_s": 0.05, "timeout_s": 10, "trends_snapshot": 0, "instagram_poll_s": 0.01}


@pytest.fixture
def server():
    with InstagramServer() as srv:
        yield srv


def settings_for(make_settings, server, **publish):
    return make_settings(instagram_api_root=server.api_root, instagram_upload_root=server.root,
                         instagram_dialog_root=server.root, publish={**FAST, **publish})


def make_app(make_settings, server, **publish):
    return build_app(settings_for(make_settings, server, **publish))


def add_reels_account(app, server, tmp_path, name="reels", **creds) -> dict:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(server.credentials(**creds)), encoding="utf-8")
    return service.add_account(app, platform="instagram", name=name, credentials_file=path)


def stored_bytes(app, vid: str) -> bytes:
    with app.db.session() as s:
        return app.files.get(s.get(Video, vid).path)


def posts(server) -> list[tuple]:
    return [r for r in server.requests if r[0] == "POST"]


@pytest.mark.parametrize("fault", ["none", "500", "drop"])
def test_reel_published_once_through_faults(fault, server, make_settings, tmp_path, caplog):
    app = make_app(make_settings, server)
    account = add_reels_account(app, server, tmp_path)
    vid = add_video(app, f"ig-{fault}", noise_bytes=600_000, review="approved")
    if fault == "500":
        server.fail_next(3)  # the publishing limit check, then the container, then ... all retried
    elif fault == "drop":
        server.drop_next_upload()
    progress = []
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # an in-process CLI run earlier may have quieted it

    pub = service.publish_video(app, video_id=vid, to="instagram:reels", privacy="public",
                                on_progress=lambda done, total: progress.append((done, total)))

    assert pub["status"] == "done" and pub["reused"] is False
    assert len(server.containers) == 1 and len(server.media) == 1
    media = server.media[pub["external_id"]]
    assert media["data"] == stored_bytes(app, vid)  # byte-identical
    assert pub["url"] == media["permalink"]
    container = server.containers[media["container"]]
    assert container["status_code"] == "PUBLISHED" and container["share_to_feed"] == "true"
    caption = media["caption"]
    assert caption.startswith("Harbour bridge reopens") and caption.endswith(f"ref: {pub['id']}")
    assert "#bridge #citynews #ferries" in caption and len(caption) <= CAPTION_MAX
    assert progress[-1] == (len(media["data"]), len(media["data"]))
    assert len({done for done, _ in progress}) > 3  # progress while the bytes go, not only at the ends
    assert pub["details"]["container_id"] == media["container"]
    if fault == "500":
        assert pub["details"]["retries"] >= 1
    if fault == "drop":
        first, resumed = pub["details"]["upload_offsets"]
        assert first == 0 and 0 < resumed < len(media["data"])  # went on from the byte Meta reported
        assert server.uploads == 2
    else:
        assert pub["details"]["upload_offsets"] == [0] and server.uploads == 1
    token = load_credentials(app, account["id"])["access_token"]
    assert token not in caplog.text  # tokens never reach the logs
    # Publishing again returns the publication; nothing new reaches the server.
    before = len(server.requests)
    assert service.publish_video(app, video_id=vid, to="instagram:reels")["reused"] is True
    assert len(server.requests) == before
    app.close()


def test_publishing_limit_refused_before_sending_and_never_retried(server, make_settings, tmp_path):
    app = make_app(make_settings, server)
    add_reels_account(app, server, tmp_path)
    vid = add_video(app, "ig-limit", review="approved")
    server.reach_publishing_limit()
    with pytest.raises(QuotaExceeded, match=r"published 50 of its 50 posts allowed within 24 hours"):
        service.publish_video(app, video_id=vid, to="instagram:reels")
    assert not posts(server) and not server.containers  # nothing was sent

    # The limit is reached between the check and media_publish: code 9/2207042, explained, not retried.
    server.publish_times.clear()
    server.limit_next_publish()
    with pytest.raises(QuotaExceeded, match=r"24-hour publishing limit \(code 9/2207042\)"):
        service.publish_video(app, video_id=vid, to="instagram:reels")
    assert [r for r in server.requests if r[1].endswith("/media_publish")] == [("POST", f"/v21.0/{server.ig_user_id}/media_publish", 400)]
    assert service.list_publications(app, video_id=vid)[0]["status"] == "error"

    # The next run goes on with the same uploaded container: no second container, no second upload.
    pub = service.publish_video(app, video_id=vid, to="instagram:reels")
    assert pub["status"] == "done" and len(server.containers) == 1 and server.uploads == 1 and len(server.media) == 1

    # A container left unpublished past its 24 hours is replaced, never published.
    later = add_video(app, "ig-expired", pattern="life", review="approved")
    server.limit_next_publish()
    with pytest.raises(QuotaExceeded):
        service.publish_video(app, video_id=later, to="instagram:reels")
    server.expire_containers()
    pub = service.publish_video(app, video_id=later, to="instagram:reels")
    assert len(server.containers) == 3 and len(server.media) == 2
    statuses = sorted(c["status_code"] for c in server.containers.values())
    assert statuses == ["EXPIRED", "PUBLISHED", "PUBLISHED"] and pub["status"] == "done"

    # A call rate limit (code 4) is explained and not retried either.
    other = add_video(app, "ig-rate", pattern="mandelbrot", review="approved")
    sent = len(server.requests)
    server.rate_limit_next(4)
    with pytest.raises(QuotaExceeded, match=r"Application request limit reached - the app's call rate limit \(code 4\)"):
        service.publish_video(app, video_id=other, to="instagram:reels")
    assert len(server.requests) == sent + 1
    app.close()


def test_expired_token_and_failed_processing_say_what_to_do(server, make_settings, tmp_path):
    app = make_app(make_settings, server)
    add_reels_account(app, server, tmp_path)
    vid = add_video(app, "ig-190", review="approved")
    server.expire_token()
    with pytest.raises(CredentialsError, match=r"code 190.*trendreel accounts add instagram reels --credentials FILE"):
        service.publish_video(app, video_id=vid, to="instagram:reels")
    assert len(server.requests) == 1  # refused tokens are not retried
    server._expired = False

    server.fail_processing("The video's aspect ratio is not supported")
    with pytest.raises(UploadFailed, match=r"failed processing: Error: The video's aspect ratio is not supported"):
        service.publish_video(app, video_id=vid, to="instagram:reels")
    assert not server.media
    pub = service.publish_video(app, video_id=vid, to="instagram:reels")  # a new container this time
    assert pub["status"] == "done" and len(server.containers) == 2 and len(server.media) == 1
    app.close()


def test_token_near_expiry_is_refreshed_and_stored_encrypted(server, make_settings, tmp_path):
    app = make_app(make_settings, server, instagram_refresh_days=7)
    account = add_reels_account(app, server, tmp_path, days=3)
    old = load_credentials(app, account["id"])
    vid = add_video(app, "ig-refresh", review="approved")
    service.publish_video(app, video_id=vid, to="instagram:reels")
    fresh = load_credentials(app, account["id"])
    assert server.exchanges == 1 and fresh["access_token"] != old["access_token"]
    assert server.tokens[fresh["access_token"]]["kind"] == "long"
    assert datetime.fromisoformat(fresh["expires_at"]) > datetime.now(timezone.utc) + timedelta(days=59)
    with app.db.session() as s:
        assert fresh["access_token"] not in s.get(Account, account["id"]).credentials
    app.close()


def test_oauth_flow_makes_credentials_that_publish(server, make_settings, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # an in-process CLI run earlier may have quieted it
    app = make_app(make_settings, server, instagram_app_id=server.app_id, instagram_app_secret=server.app_secret)
    flow = app.oauth_flow("instagram")  # what the workspace's Connect uses
    assert isinstance(flow, InstagramOAuthFlow)
    redirect = "http://127.0.0.1:8600/accounts/callback/instagram"
    url = service.oauth_start(app, platform="instagram", redirect_uri=redirect, state="st-123")
    assert url.startswith(server.root + "v21.0/dialog/oauth?")
    assert f"client_id={server.app_id}" in url and "state=st-123" in url and "instagram_content_publish" in url
    with pytest.raises(CredentialsError, match="code exchange"):
        flow.exchange_code(code="code-bogus", redirect_uri=redirect)
    account = service.oauth_finish(app, platform="instagram", name="connected", code=server.authorize(redirect),
                                   redirect_uri=redirect)
    assert account["platform"] == "instagram" and account["name"] == "connected"
    creds = load_credentials(app, account["id"])
    assert creds["ig_user_id"] == server.ig_user_id and creds["app_id"] == server.app_id
    assert server.tokens[creds["access_token"]]["kind"] == "long"
    assert datetime.fromisoformat(creds["expires_at"]) > datetime.now(timezone.utc) + timedelta(days=59)
    assert "client_secret=***" in caplog.text  # httpx logged the exchanges, with the secrets taken out
    assert creds["access_token"] not in caplog.text and server.app_secret not in caplog.text
    assert not re.search(r"(code|fb_exchange_token|client_secret|access_token)=(?!\*\*\*)", caplog.text)
    pub = service.publish_video(app, video_id=add_video(app, "ig-oauth", review="approved"), to="instagram:connected")
    assert pub["status"] == "done" and len(server.media) == 1
    app.close()


def test_caption_keeps_instagram_limits():
    tags = [f"tag{i}" for i in range(40)]
    mentions = " ".join(f"@user{i}" for i in range(25))
    long = "Word " * 1000
    metadata = {"title": "A title #one #two", "description": f"{mentions}\n\n{long}\n\nref: pold", "tags": tags}
    caption = instagram_caption(metadata, marker="p123")
    assert len(caption) <= CAPTION_MAX and caption.endswith("ref: p123") and "ref: pold" not in caption
    assert len(re.findall(r"(?<![\w&])#\w+", caption)) == 30
    assert len(re.findall(r"(?<![\w@])@[\w.]+", caption)) == 20
    assert "#one #two" in caption and "#tag27" in caption and "#tag28" not in caption
    assert "…" in caption  # the body was cut, the hashtags and the marker stayed


def _publish_in_subprocess(app, server, vid: str) -> subprocess.Popen:
    env = {**os.environ, "TRENDREEL_HOME": str(app.settings.home), "TRENDREEL_INSTAGRAM_API_ROOT": server.api_root,
           "TRENDREEL_INSTAGRAM_UPLOAD_ROOT": server.root, "TRENDREEL_PUBLISH__BACKOFF_S": "0.01",
           "TRENDREEL_PUBLISH__INSTAGRAM_POLL_S": "0.01", "TRENDREEL_PUBLISH__TRENDS_SNAPSHOT": "0"}
    return subprocess.Popen([sys.executable, "-c", "from trendreel.cli import main; main()", "publish", "--video", vid,
                             "--to", "instagram:reels"], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_killed_mid_upload_resumes_the_same_container(server, make_settings, tmp_path):
    app = make_app(make_settings, server)
    add_reels_account(app, server, tmp_path)
    vid = add_video(app, "ig-midway", noise_bytes=1_500_000, review="approved")
    server.upload_block_delay_s = 0.02  # about 25 blocks of 64 KiB: a second or so
    proc = _publish_in_subprocess(app, server, vid)
    deadline = time.monotonic() + 60
    while not any(len(c["data"]) > 300_000 for c in list(server.containers.values())):
        if proc.poll() is not None:
            raise AssertionError(f"publisher ended early: {proc.communicate()[1].decode()[-2000:]}")
        assert time.monotonic() < deadline, "timed out waiting for the upload"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    held = len(next(iter(server.containers.values()))["data"])
    with app.db.session() as s:
        assert s.scalars(select(Publication)).one().upload_state["upload_started"] is True

    server.upload_block_delay_s = 0.0
    pub = service.publish_video(app, video_id=vid, to="instagram:reels")
    assert len(server.containers) == 1 and len(server.media) == 1  # the same container, one post
    assert pub["details"]["resumed"] is True and pub["details"]["upload_offsets"][0] >= held > 0
    assert server.media[pub["external_id"]]["data"] == stored_bytes(app, vid)
    app.close()


@pytest.mark.slow
def test_killed_between_posted_and_recorded_posts_once(server, make_settings, tmp_path):
    app = make_app(make_settings, server)
    add_reels_account(app, server, tmp_path)
    vid = add_video(app, "ig-crash", review="approved")
    server.publish_delay_s = 30.0  # the post exists on Instagram; its answer never reaches the publisher
    proc = _publish_in_subprocess(app, server, vid)
    deadline = time.monotonic() + 60
    while not server.media:
        if proc.poll() is not None:
            raise AssertionError(f"publisher ended early: {proc.communicate()[1].decode()[-2000:]}")
        assert time.monotonic() < deadline, "timed out waiting for the publisher"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with app.db.session() as s:
        row = s.scalars(select(Publication)).one()
        assert row.external_id is None and row.upload_state["publishing"] and row.upload_state["container_id"]

    server.publish_delay_s = 0.0
    pub = service.publish_video(app, video_id=vid, to="instagram:reels")
    assert len(server.media) == 1 and len(server.containers) == 1  # exactly one post
    assert pub["external_id"] == next(iter(server.media)) and pub["details"]["recovered"] is True
    assert not [r for r in server.requests[-10:] if r[1].endswith("/media_publish")]
    app.close()


def test_lost_publish_answer_is_not_published_again(server, make_settings, tmp_path):
    app = make_app(make_settings, server)
    add_reels_account(app, server, tmp_path)
    server.drop_publish_answer()  # the post is made; the connection is cut before the answer
    pub = service.publish_video(app, video_id=add_video(app, "ig-lost", review="approved"), to="instagram:reels")
    assert len(server.media) == 1 and pub["external_id"] == next(iter(server.media))
    assert pub["details"]["recovered"] is True and pub["details"]["retries"] == 1
    assert len([r for r in server.requests if r[1].endswith("/media_publish")]) == 0  # the one call got no answer
    app.close()


@pytest.mark.postgres
def test_insights_become_metrics_rows_and_reach_the_report(server, make_settings, tmp_path, database):
    settings = settings_for(make_settings, server)
    settings.home.mkdir(parents=True, exist_ok=True)
    app = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    try:
        add_reels_account(app, server, tmp_path)
        pub = service.publish_video(app, video_id=add_video(app, "ig-metrics", review="approved"), to="instagram:reels")
        server.set_insights(pub["external_id"], views=1234, reach=900, likes=56, comments=7, saved=3, shares=2)
        gone = service.publish_video(app, video_id=add_video(app, "ig-gone", pattern="mandelbrot", review="approved"),
                                     to="instagram:reels")
        with server.lock:  # deleted on Instagram since
            del server.media[gone["external_id"]]
        server.rate_limit_next(17)
        limited = collect_metrics(app, all=True)
        assert limited["stored"] == 0 and [e["account"] for e in limited["errors"]] == ["instagram:reels"]
        assert "code 17" in limited["errors"][0]["message"] and "again in an hour" in limited["errors"][0]["message"]
        r = collect_metrics(app, all=True)
        assert r["stored"] == 2 and not r["errors"]
        with app.db.session() as s:
            rows = {m.publication_id: m for m in s.scalars(select(MetricSample))}
        got = rows[pub["id"]]
        assert (got.views, got.likes, got.comments) == (1234, 56, 7)
        assert got.raw["insights"] == {"views": 1234, "reach": 900, "likes": 56, "comments": 7, "saved": 3, "shares": 2}
        assert rows[gone["id"]].views is None and rows[gone["id"]].raw["status"] == "not_found"
        rep = build_report(app, out_dir=tmp_path / "report")
        assert rep["total_views"] == 1234
        assert "instagram:reels" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    finally:
        app.close()


def test_api_adds_an_instagram_account_without_showing_its_token(server, make_settings, tmp_path):
    from tests.integration.api_helpers import assert_error, make_gateway

    gw = make_gateway(settings_for(make_settings, server))
    admin = gw.client("admin")
    creds = server.credentials()
    assert_error(admin.post("/api/v1/accounts", json={"platform": "instagram", "name": "reels",
                                                      "credentials": {"access_token": creds["access_token"]}}), 422)
    resp = admin.post("/api/v1/accounts", json={"platform": "instagram", "name": "reels", "credentials": creds})
    assert resp.status_code == 201 and creds["access_token"] not in resp.text and resp.json()["has_credentials"]
    listed = admin.get("/api/v1/accounts", params={"platform": "instagram"}).json()
    assert [a["name"] for a in listed] == ["reels"] and creds["access_token"] not in json.dumps(listed)
    pub = service.publish_video(gw.app, video_id=add_video(gw.app, "ig-api", review="approved"), to="instagram:reels")
    got = admin.get("/api/v1/publications", params={"account": "instagram:reels"}).json()
    assert [p["id"] for p in got] == [pub["id"]] and got[0]["url"] == server.media[pub["external_id"]]["permalink"]
    gw.app.close()


def test_cli_accounts_add_instagram(server, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from trendreel.cli import app as cli_app

    home = tmp_path / "home"
    monkeypatch.setenv("TRENDREEL_LOG_LEVEL", "DEBUG")  # even debug logs must not carry the token
    creds = server.credentials()
    good, bad = tmp_path / "ig.json", tmp_path / "bad.json"
    good.write_text(json.dumps(creds), encoding="utf-8")
    bad.write_text(json.dumps({"access_token": creds["access_token"]}), encoding="utf-8")
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(cli_app, [*args, "--home", str(home)])
        out = result.output + (result.stderr if result.stderr_bytes is not None else "") + str(result.exception or "")
        assert creds["access_token"] not in out and creds["app_secret"] not in out
        return result, out

    result, out = run("accounts", "add", "instagram", "reels", "--credentials", str(bad))
    assert result.exit_code != 0 and "lacks ig_user_id" in out
    result, out = run("accounts", "add", "instagram", "reels", "--credentials", str(good), "--json")
    assert result.exit_code == 0, out
    assert json.loads(result.stdout)["platform"] == "instagram" and json.loads(result.stdout)["has_credentials"]
    listed = json.loads(run("accounts", "list", "--json")[0].stdout)
    assert [(a["platform"], a["name"]) for a in listed] == [("instagram", "reels")]
