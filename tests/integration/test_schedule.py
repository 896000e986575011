"""The publishing schedule on a fake clock: caps, spacing, jitter, the best hour, cancel, a restart, and a
runner that publishes what is due exactly once (real ffmpeg videos to the folder platform and to the local
YouTube server), crashed claims included. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests import metrics_support as rows
from tests.publish_support import add_video as add_real_video
from tests.youtubeserver import YouTubeServer
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.db.tables import Event, Publication, ScheduledPost, Video
from trendreel.errors import Conflict, InvalidInput
from trendreel.files.store import open_file_store
from trendreel.publish.errors import NotApproved
from trendreel.services import publishing
from trendreel.services import schedule as service

NOW = datetime(2030, 3, 4, 8, 0, tzinfo=timezone.utc)  # a Monday; the clock of every test here
UTC = timezone.utc


def make_app(settings, url, args) -> App:
    settings.home.mkdir(parents=True, exist_ok=True)
    return App(settings=settings, db=Database(url, connect_args=args), files=open_file_store(settings.files_url))


@pytest.fixture
def app(db_url, make_settings, tmp_path):
    url, args = db_url
    application = make_app(make_settings(schedule={"daily_cap": 2, "min_spacing": "2h", "jitter": "0"},
                                         publish={"folder_roots": [str(tmp_path)], "trends_snapshot": 0}), url, args)
    yield application
    application.close()


def stored_bytes(app, vid: str) -> bytes:
    with app.db.session() as s:
        return app.files.get(s.get(Video, vid).path)


def fake_videos(app, n: int, prefix: str = "v") -> list[str]:
    return [rows.add_video(app, f"{prefix}{i}", title=f"video {prefix}{i}", trend_id=None, at=NOW - timedelta(days=1))
            for i in range(n)]


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def test_daily_cap_and_spacing_move_posts_later(app, tmp_path):
    rows.folder_account(app, "out", tmp_path / "out")
    vids = fake_videos(app, 5)
    planned = [service.add_post(app, video_id=v, to="folder:out", at=at(2), now=NOW) for v in vids]
    got = [datetime.fromisoformat(p["planned_at"]) for p in planned]
    # 10:00 and 12:00 (spacing 2h), the day full at 2, so 10:00 and 12:00 the next day, then the day after
    assert got == [at(2), at(4), at(26), at(28), at(50)]
    assert [p["details"].get("moved_s", 0) for p in planned] == [0, 7200, 86400, 86400 + 7200, 2 * 86400]
    assert all(p["status"] == "planned" and p["how"] == "at" and p["reused"] is False for p in planned)

    # a post asked between two others is put after the later one it is too close to
    other = fake_videos(app, 1, "w")[0]
    p = service.add_post(app, video_id=other, to="folder:out", at=at(51), now=NOW)
    assert datetime.fromisoformat(p["planned_at"]) == at(52)

    # a publication made by hand counts against the day too
    direct = fake_videos(app, 1, "d")[0]
    account = publishing.resolve_target(app, "folder:out")
    rows.add_publication(app, direct, account, published_at=at(100))
    late = fake_videos(app, 1, "l")[0]
    assert service.add_post(app, video_id=late, to="folder:out", at=at(101), now=NOW)["planned_at"] == at(102).isoformat()


def test_one_plan_per_video_and_account_and_the_refusals(app, tmp_path):
    rows.folder_account(app, "out", tmp_path / "out")
    rows.folder_account(app, "other", tmp_path / "other")
    vid = fake_videos(app, 1)[0]
    first = service.add_post(app, video_id=vid, to="folder:out", at=at(3), now=NOW)
    again = service.add_post(app, video_id=vid, to="folder:out", at=at(9), now=NOW)
    assert again["reused"] is True and again["id"] == first["id"] and again["planned_at"] == first["planned_at"]
    assert service.add_post(app, video_id=vid, to="folder:other", now=NOW)["id"] != first["id"]  # another account
    with app.db.session() as s:
        assert len(s.scalars(select(ScheduledPost).where(ScheduledPost.video_id == vid)).all()) == 2

    with pytest.raises(InvalidInput, match="in the past"):
        service.add_post(app, video_id=fake_videos(app, 1, "p")[0], to="folder:out", at=at(-2), now=NOW)
    waiting = add_real_video(app, "waiting")  # not approved
    with pytest.raises(NotApproved, match="not approved yet"):
        service.add_post(app, video_id=waiting, to="folder:out", now=NOW)
    done = fake_videos(app, 1, "x")[0]
    rows.add_publication(app, done, publishing.resolve_target(app, "folder:out"), published_at=NOW - timedelta(days=3))
    with pytest.raises(Conflict, match="already published on folder:out"):
        service.add_post(app, video_id=done, to="folder:out", now=NOW)


def test_jitter_is_drawn_once_within_its_bounds(app, tmp_path, make_settings, db_url):
    url, args = db_url
    jittery = make_app(make_settings(schedule={"daily_cap": 1000, "min_spacing": "1s", "jitter": "30m"},
                                     publish={"folder_roots": [str(tmp_path)]}), url, args)
    rows.folder_account(jittery, "out", tmp_path / "out")
    vids = fake_videos(jittery, 12)
    offsets = []
    for i, v in enumerate(vids):
        p = service.add_post(jittery, video_id=v, to="folder:out", at=at(24 * i + 1), now=NOW)
        offset = datetime.fromisoformat(p["planned_at"]) - datetime.fromisoformat(p["requested_at"])
        assert timedelta(0) <= offset < timedelta(minutes=30) and offset.total_seconds() == p["jitter_s"]
        offsets.append(offset)
    assert len(set(offsets)) > 6  # spread, not one fixed delay
    # the plan is what it shows: cancelling and planning again draws the same jitter, at a new time
    first = service.list_posts(jittery, account="folder:out")[0]
    service.cancel_post(jittery, first["id"], now=NOW)
    again = service.add_post(jittery, video_id=first["video_id"], to="folder:out", at=at(5), now=NOW)
    assert again["jitter_s"] == first["jitter_s"] and again["reused"] is False
    jittery.close()


def test_best_hour_from_the_accounts_views_with_a_fallback(app, tmp_path):
    account = rows.folder_account(app, "out", tmp_path / "out")
    vid = fake_videos(app, 1, "b")[0]
    best = service.best_time(app, to="folder:out", now=NOW)
    assert best["source"] == "fallback" and best["hour"] == 18 and best["at"] == at(10).isoformat()

    # nine posts over past days: at 07:00 they got ~10,000 views a day later, at 20:00 ~300, at 13:00 one
    # lucky post got 30,000 (one post is shrunk towards the mean, so 07:00 still wins)
    posted = [(7, 10_000), (7, 12_000), (7, 9_000), (7, 11_000), (20, 300), (20, 250), (20, 400), (20, 350), (13, 30_000)]
    for i, (hour, views) in enumerate(posted):
        v = fake_videos(app, 1, f"h{i}-")[0]
        when = datetime(2030, 2, 1 + i, hour, 0, tzinfo=UTC)
        pid = rows.add_publication(app, v, account, published_at=when)
        rows.add_samples(app, pid, [(when + timedelta(hours=1), views // 10, None, None),
                                    (when + timedelta(hours=25), views, None, None),
                                    (when + timedelta(days=7), views * 3, None, None)])
    best = service.best_time(app, to="folder:out", now=NOW)
    assert best["source"] == "views" and best["posts"] == 9 and best["hour"] == 7
    assert best["by_hour"][13]["mean_log10"] > best["by_hour"][7]["mean_log10"] > best["by_hour"][13]["score"] - 1
    assert best["by_hour"][7]["score"] > best["by_hour"][13]["score"]
    assert best["at"] == datetime(2030, 3, 5, 7, 0, tzinfo=UTC).isoformat()  # 07:00 has passed today: tomorrow

    post = service.add_post(app, video_id=vid, to="folder:out", best=True, now=NOW)
    assert post["how"] == "best" and post["planned_at"] == best["at"] and post["details"]["best"]["hour"] == 7


def test_best_hour_in_the_schedule_time_zone(db_url, make_settings, tmp_path):
    url, args = db_url
    seoul = make_app(make_settings(schedule={"timezone": "Asia/Seoul", "jitter": "0"}), url, args)
    rows.folder_account(seoul, "out", tmp_path / "out")
    best = service.best_time(seoul, to="folder:out", now=NOW)  # NOW is 17:00 in Seoul: 18:00 Seoul is 09:00 UTC
    assert best["hour"] == 18 and best["at"] == at(1).isoformat()
    seoul.close()


def test_cancel_and_a_restart_keep_the_plan(app, db_url, make_settings, tmp_path):
    rows.folder_account(app, "out", tmp_path / "out")
    a, b = fake_videos(app, 2)
    pa = service.add_post(app, video_id=a, to="folder:out", at=at(1), now=NOW)
    pb = service.add_post(app, video_id=b, to="folder:out", at=at(6), now=NOW)
    cancelled = service.cancel_post(app, pa["id"], now=NOW)
    assert cancelled["status"] == "cancelled" and cancelled["changed"] is True
    assert service.cancel_post(app, pa["id"], now=NOW)["changed"] is False
    app.close()

    url, args = db_url  # a new process: a new App on the same database
    again = make_app(make_settings(schedule={"daily_cap": 2, "min_spacing": "2h", "jitter": "0"}), url, args)
    listed = service.list_posts(again)
    assert [(p["id"], p["status"], p["planned_at"]) for p in listed] == [
        (pa["id"], "cancelled", pa["planned_at"]), (pb["id"], "planned", pb["planned_at"])]
    assert service.list_posts(again, status="planned")[0]["title"] == "video v1"
    assert service.run_due(again, now=at(3))["due"] == 0  # the cancelled one never goes out
    with pytest.raises(service.UnknownPost):
        service.cancel_post(again, "q-none", now=NOW)
    again.close()


def test_runner_publishes_what_is_due_once_and_resumes_a_crashed_claim(app, tmp_path):
    outbox = tmp_path / "outbox"
    publishing.add_account(app, platform="folder", name="outbox", path=outbox)
    first = add_real_video(app, "first", review="approved")
    second = add_real_video(app, "second", pattern="mandelbrot", review="approved")
    third = add_real_video(app, "third", pattern="life", review="approved")
    p1 = service.add_post(app, video_id=first, to="folder:outbox", at=at(1), now=NOW)
    p2 = service.add_post(app, video_id=second, to="folder:outbox", at=at(4), privacy="unlisted", now=NOW)

    assert service.run_due(app, now=at(0.5))["due"] == 0  # not yet
    ran = service.run_due(app, now=at(1))
    assert ran["due"] == 1 and [p["video_id"] for p in ran["published"]] == [first]
    assert service.run_due(app, now=at(2))["due"] == 0  # done once, never again
    assert len(list(outbox.iterdir())) == 1

    # Two runners at once: the claim is a status change in one transaction, so only one takes the row.
    assert service._claim(app, at(4), None) == [(p2["id"], False)]
    assert service._claim(app, at(4), None) == []
    # That runner crashes here, after claiming. Before schedule.claim_timeout (4h) nobody takes the row ...
    assert service.run_due(app, now=at(7))["due"] == 0
    # ... after it the row is resumed and published, once.
    ran = service.run_due(app, now=at(8.5))
    assert ran["resumed"] == [p2["id"]] and ran["published"][0]["reused"] is False
    meta = json.loads((outbox / ran["published"][0]["publication_id"] / "metadata.json").read_text(encoding="utf-8"))
    assert meta["privacy"] == "unlisted" and meta["video_id"] == second

    # A runner that crashed after the platform had the video but before it marked the row done:
    # the resumed run finds the publication (reused) and posts nothing new.
    p3 = service.add_post(app, video_id=third, to="folder:outbox", at=at(25), now=at(8.5))  # today is full (cap 2)
    assert service._claim(app, at(25), None) == [(p3["id"], False)]
    publishing.publish_video(app, video_id=third, to="folder:outbox")
    ran = service.run_due(app, now=at(29.5))
    assert ran["resumed"] == [p3["id"]] and ran["published"][0]["reused"] is True
    assert len(list(outbox.iterdir())) == 3
    with app.db.session() as s:
        assert s.query(Publication).filter(Publication.status == "done").count() == 3
        assert len(s.scalars(select(Event).where(Event.type == "VideoPublished")).all()) == 3
    posts = {p["id"]: p for p in service.list_posts(app)}
    assert [posts[p["id"]]["status"] for p in (p1, p2, p3)] == ["done"] * 3
    assert posts[p2["id"]]["attempts"] == 2 and posts[p1["id"]]["url"].startswith("file://")


def test_a_failed_publish_is_recorded_and_retried_only_when_it_may_pass(app, tmp_path):
    outbox = tmp_path / "outbox"
    publishing.add_account(app, platform="folder", name="outbox", path=outbox)
    vid = add_real_video(app, "gone", review="approved")
    post = service.add_post(app, video_id=vid, to="folder:outbox", at=at(1), now=NOW)
    publishing.reject_video(app, vid, reason="wrong picture", by="editor")  # rejected after planning
    ran = service.run_due(app, now=at(1))
    assert ran["failed"][0]["id"] == post["id"] and "rejected" in ran["failed"][0]["error"]
    got = service.get_post(app, post["id"])
    assert got["status"] == "error" and "rejected" in got["error"]
    assert not outbox.exists() or not any(outbox.iterdir())


@pytest.mark.slow
def test_runner_uploads_to_the_local_youtube_server(db_url, make_settings, tmp_path):
    url, args = db_url
    with YouTubeServer(tls=False, workdir=tmp_path / "tls") as server:
        yt = make_app(make_settings(youtube_api_root=server.root, schedule={"jitter": "0"},
                                    publish={"chunk_mib": 0.25, "backoff_s": 0.01, "trends_snapshot": 0}), url, args)
        rows.youtube_account(yt, server, "chan")
        vid = add_real_video(yt, "tube", review="approved")
        service.add_post(yt, video_id=vid, to="youtube:chan", at=at(1), now=NOW)
        ran = service.run_due(yt, now=at(1))
        assert len(server.videos) == 1
        (external_id,) = server.videos
        assert ran["published"][0]["url"] == f"https://www.youtube.com/watch?v={external_id}"
        assert server.videos[external_id]["data"] == stored_bytes(yt, vid)  # the whole file, once
        assert service.run_due(yt, now=at(30))["due"] == 0 and len(server.videos) == 1
        yt.close()
