"""YouTube publishing through the real google-api-python-client against a local server that speaks the
resumable-upload protocol: faults (503s, a dropped connection, an expired token), quota, and a killed
publisher that resumes the same upload session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.publish_support import add_video
from tests.youtubeserver import YouTubeServer
from trendreel.bootstrap import build_app
from trendreel.db.tables import Account, Publication, QuotaUsage, Video
from trendreel.services import publishing as service
from trendreel.publish.accounts import load_credentials
from trendreel.publish.errors import QuotaExceeded

REPO = Path(__file__).resolve().parents[2]
FAST = {"chunk_mib": 0.25, "backoff_s": 0.01, "backoff_max_s": 0.05, "timeout_s": 10, "trends_snapshot": 0}


@pytest.fixture
def server(tmp_path, monkeypatch):
    with YouTubeServer(tls=True, workdir=tmp_path / "tls") as srv:
        monkeypatch.setenv("HTTPLIB2_CA_CERTS", srv.ca_file)
        yield srv


def make_app(make_settings, server, **publish):
    settings = make_settings(youtube_api_root=server.root, publish={**FAST, **publish})
    return build_app(settings)


def add_channel(app, server, tmp_path, name="chan") -> dict:
    cred = tmp_path / f"{name}.json"
    cred.write_text(json.dumps(server.authorized_user()), encoding="utf-8")
    return service.add_account(app, platform="youtube", name=name, credentials_file=cred)


def stored_bytes(app, vid: str) -> bytes:
    with app.db.session() as s:
        return app.files.get(s.get(Video, vid).path)


@pytest.mark.parametrize("fault", ["none", "503", "drop", "401", "http"])
def test_upload_survives_faults_and_sends_truthful_metadata(fault, make_settings, tmp_path, monkeypatch):
    with YouTubeServer(tls=fault != "http", workdir=tmp_path / "tls") as server:
        if server.ca_file:
            monkeypatch.setenv("HTTPLIB2_CA_CERTS", server.ca_file)
        app = make_app(make_settings, server)
        account = add_channel(app, server, tmp_path)
        vid = add_video(app, f"yt-{fault}", noise_bytes=600_000, review="approved")  # about 3 chunks of 256 KiB
        first_token = load_credentials(app, account["id"])["token"]
        if fault == "503":
            server.fail_next_chunks(3)
        elif fault == "drop":
            server.drop_next_chunk(2)  # httplib2 itself tries a dropped request twice; then our loop resumes
        elif fault == "401":
            server.expire_token()

        progress = []
        pub = service.publish_video(app, video_id=vid, to="youtube:chan", privacy="unlisted",
                                    on_progress=lambda done, total: progress.append((done, total)))

        assert pub["status"] == "done" and pub["reused"] is False
        assert server.inserts == 1 and list(server.videos) == [pub["external_id"]]
        uploaded = server.videos[pub["external_id"]]
        assert uploaded["data"] == stored_bytes(app, vid)  # byte-identical
        assert uploaded["thumbnail"] and uploaded["thumbnail"][:2] == b"\xff\xd8"
        assert pub["url"] == f"https://www.youtube.com/watch?v={pub['external_id']}"
        body = uploaded["body"]
        assert body["status"] == {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False,
                                  "containsSyntheticMedia": True}
        snippet = body["snippet"]
        assert len(snippet["title"]) <= 100 and snippet["categoryId"] == "25"
        assert snippet["defaultLanguage"] == snippet["defaultAudioLanguage"] == "en"
        assert snippet["tags"] == ["bridge", "city news", "ferries"] and f"ref: {pub['id']}" in snippet["description"]
        assert progress[-1][0] == progress[-1][1] == len(uploaded["data"])
        if fault in ("503", "drop"):
            assert pub["details"]["retries"] >= 1
        if fault == "401":
            assert server.refreshes == 1
            fresh = load_credentials(app, account["id"])["token"]
            assert fresh != first_token and fresh in server.tokens
            with app.db.session() as s:
                assert fresh not in s.get(Account, account["id"]).credentials
        with app.db.session() as s:
            quota = {q.project: q.units for q in s.scalars(select(QuotaUsage))}
        assert quota == {"youtube:123456789#videos.insert": 1, "youtube:123456789": 50}
        # Publishing again returns the publication; nothing new reaches the server.
        before = len(server.requests)
        assert service.publish_video(app, video_id=vid, to="youtube:chan")["reused"] is True
        assert len(server.requests) == before
        app.close()


def test_quota_is_refused_before_upload_and_quota_exceeded_is_not_retried(server, make_settings, tmp_path):
    app = make_app(make_settings, server, youtube_inserts_per_day=1)
    add_channel(app, server, tmp_path)
    first = add_video(app, "q1", review="approved")
    second = add_video(app, "q2", pattern="mandelbrot", review="approved")
    service.publish_video(app, video_id=first, to="youtube:chan")
    sent = len(server.requests)
    with pytest.raises(QuotaExceeded, match=r"videos.insert has used 1 of 1 calls today .*resets at"):
        service.publish_video(app, video_id=second, to="youtube:chan")
    assert len(server.requests) == sent  # refused before anything was sent
    app.close()

    app = make_app(make_settings, server, youtube_units_per_day=40)  # a thumbnail costs 50
    with pytest.raises(QuotaExceeded, match=r"units pool has used 50 of 40 units"):
        service.publish_video(app, video_id=second, to="youtube:chan")
    app.close()

    app = make_app(make_settings, server)
    server.exceed_quota()
    with pytest.raises(QuotaExceeded, match="quotaExceeded.*resets at"):
        service.publish_video(app, video_id=second, to="youtube:chan")
    assert [r for r in server.requests[sent:] if r[0] == "POST"] == [("POST", "/upload/youtube/v3/videos", 403)]
    assert service.list_publications(app, video_id=second)[0]["status"] == "error"
    # The bucket is marked spent: the next try is refused here, without asking YouTube.
    sent = len(server.requests)
    with pytest.raises(QuotaExceeded, match="videos.insert has used 100 of 100"):
        service.publish_video(app, video_id=second, to="youtube:chan")
    assert len(server.requests) == sent
    app.close()


def _publish_in_subprocess(app, server, vid: str) -> subprocess.Popen:
    env = {**os.environ, "TRENDREEL_HOME": str(app.settings.home), "TRENDREEL_YOUTUBE_API_ROOT": server.root,
           "TRENDREEL_PUBLISH__CHUNK_MIB": "0.25", "TRENDREEL_PUBLISH__BACKOFF_S": "0.01",
           "HTTPLIB2_CA_CERTS": server.ca_file, "TRENDREEL_PUBLISH__TRENDS_SNAPSHOT": "0"}
    return subprocess.Popen([sys.executable, "-c", "from trendreel.cli import main; main()", "publish", "--video", vid, "--to", "youtube:chan"],
                            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait(predicate, proc, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"publisher ended early: {proc.communicate()[1].decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting for the publisher")
        time.sleep(0.02)


@pytest.mark.slow
def test_killed_mid_upload_resumes_the_same_session(server, make_settings, tmp_path):
    app = make_app(make_settings, server)
    add_channel(app, server, tmp_path)
    vid = add_video(app, "crash", noise_bytes=1_500_000, review="approved")  # 7 chunks
    server.chunk_delay_s = 0.2
    proc = _publish_in_subprocess(app, server, vid)
    _wait(lambda: server.chunk_puts >= 3, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not server.videos and server.received_bytes() > 0
    with app.db.session() as s:
        row = s.scalars(select(Publication)).one()
        assert row.status == "uploading" and row.upload_state["session_uri"]
        saved = dict(row.upload_state)

    server.chunk_delay_s = 0.0
    pub = service.publish_video(app, video_id=vid, to="youtube:chan")
    assert pub["details"]["resumed"] is True and pub["status"] == "done"
    assert server.inserts == 1 and len(server.sessions) == 1 and len(server.videos) == 1
    assert server.videos[pub["external_id"]]["data"] == stored_bytes(app, vid)
    assert server.videos[pub["external_id"]]["session"] in saved["session_uri"]
    app.close()


@pytest.mark.slow
def test_killed_between_uploaded_and_recorded_finds_the_video(server, make_settings, tmp_path):
    app = make_app(make_settings, server)
    add_channel(app, server, tmp_path)
    vid = add_video(app, "late", noise_bytes=300_000, review="approved")
    server.complete_delay_s = 30.0  # the video exists on YouTube; its answer never reaches the publisher
    proc = _publish_in_subprocess(app, server, vid)
    _wait(lambda: len(server.videos) == 1, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with app.db.session() as s:
        assert s.scalars(select(Publication)).one().external_id is None

    server.complete_delay_s = 0.0
    pub = service.publish_video(app, video_id=vid, to="youtube:chan")
    assert server.inserts == 1 and len(server.videos) == 1
    assert pub["external_id"] == next(iter(server.videos))
    app.close()
