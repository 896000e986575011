"""Collecting metrics end to end on SQLite and PostgreSQL: the folder source with stats.json, the YouTube
source through the official client against a local server that speaks the Data API, the schedule with a
fixed clock, idempotent re-runs, and one failing account that does not stop the others."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests.metrics_support import (
    add_publication,
    add_trend,
    add_video,
    folder_account,
    seed_youtube_video,
    youtube_account,
)
from tests.youtubeserver import YouTubeServer
from trendreel import events
from trendreel.bootstrap import App
from trendreel.db.tables import Event, MetricSample, QuotaUsage
from trendreel.errors import NotFound
from trendreel.files.store import open_file_store
from trendreel.metrics.base import MetricsError
from trendreel.services.metrics import collect_metrics, list_metrics
from trendreel.publish.quota import pacific_day

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
H, D = timedelta(hours=1), timedelta(days=1)
FAST = {"backoff_s": 0.01, "backoff_max_s": 0.02, "retries": 2, "timeout_s": 10}


@pytest.fixture
def server():
    with YouTubeServer(tls=False) as srv:
        yield srv


@pytest.fixture
def app(database, make_settings, server):
    settings = make_settings(youtube_api_root=server.root, publish=FAST)
    settings.home.mkdir(parents=True, exist_ok=True)
    application = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    yield application
    application.close()


def samples(app, pid=None) -> list[MetricSample]:
    with app.db.session() as s:
        q = select(MetricSample).order_by(MetricSample.collected_at, MetricSample.id)
        if pid:
            q = q.where(MetricSample.publication_id == pid)
        rows = list(s.scalars(q))
        s.expunge_all()
        return rows


def metric_events(app) -> int:
    with app.db.session() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.type == events.METRICS_COLLECTED))


def video(app, name: str) -> str:
    tid = add_trend(app, name, text=f"{name} 트렌드", category="tech", at=NOW - 5 * D)
    return add_video(app, name, title=f"{name} 영상", trend_id=tid, at=NOW - 5 * D)


def test_folder_source_on_its_schedule_idempotent(app, tmp_path):
    outbox = tmp_path / "outbox"
    acc = folder_account(app, "inbox", outbox)
    with_stats = add_publication(app, video(app, "a"), acc, published_at=NOW - 30 * H,
                                 details={"path": str(outbox / "pa")})
    without = add_publication(app, video(app, "b"), acc, published_at=NOW - 2 * H)
    broken = add_publication(app, video(app, "c"), acc, published_at=NOW - 3 * D - H)
    young = add_publication(app, video(app, "d"), acc, published_at=NOW - 10 * 60 * timedelta(seconds=1))
    (outbox / "pa").mkdir(parents=True)
    (outbox / "pa" / "stats.json").write_text(json.dumps({"views": 120, "likes": 8, "comments": 2, "source": "player"}))
    (outbox / without).mkdir()
    (outbox / broken).mkdir()
    (outbox / broken / "stats.json").write_text('{"views": "many"}')
    (outbox / young).mkdir()

    progress = []
    r = collect_metrics(app, now=NOW, on_progress=lambda done, total: progress.append((done, total)))
    assert r["due"] == 3 and r["polled"] == 2 and r["stored"] == 2 and r["unknown_counts"] == 1
    assert progress[0] == (0, 3) and progress[-1] == (3, 3)
    assert [e["publications"] for e in r["errors"]] == [[broken]]
    assert "views is 'many'; give a whole number >= 0" in r["errors"][0]["message"]
    assert r["errors"][0]["account"] == "folder:inbox"
    got = {row.publication_id: row for row in samples(app)}
    assert set(got) == {with_stats, without}
    a = got[with_stats]
    assert (a.views, a.likes, a.comments) == (120, 8, 2) and a.collected_at == NOW
    assert a.raw["status"] == "ok" and a.raw["stats"]["source"] == "player"
    assert a.raw["due_at"] == (NOW - 30 * H + 24 * H).isoformat()
    b = got[without]  # no stats.json: the poll is recorded, the counts are unknown (never 0)
    assert (b.views, b.likes, b.comments) == (None, None, None) and b.raw["status"] == "no_stats"
    assert metric_events(app) == 2

    # The same due points again: nothing new (the broken one is still due and still reported).
    again = collect_metrics(app, now=NOW + 10 * 60 * timedelta(seconds=1))
    assert again["stored"] == 0 and again["due"] == 1 and len(again["errors"]) == 1
    assert len(samples(app)) == 2 and metric_events(app) == 2

    # Fixed, the broken one is stored; later points bring new samples of the others.
    (outbox / broken / "stats.json").write_text('{"views": 7}')
    (outbox / "pa" / "stats.json").write_text('{"views": 300, "likes": 20, "comments": 5}')
    later = collect_metrics(app, now=NOW + 2 * D)  # a: its 3 d point; b: its 24 h point; c: still its 3 d point
    assert later["stored"] == 4 and not later["errors"]  # and d: its 1 h point, from a folder with no stats
    assert [s.views for s in samples(app, with_stats)] == [120, 300]
    assert [s.views for s in samples(app, broken)] == [7]
    assert metric_events(app) == 6

    rows = {r["publication_id"]: r for r in list_metrics(app, now=NOW + 2 * D)}
    assert rows[with_stats]["views"] == 300 and rows[with_stats]["samples"] == 2
    assert rows[with_stats]["next_due_at"] == (NOW - 30 * H + 7 * D).isoformat()
    assert rows[without]["views"] is None and rows[without]["status"] == "no_stats"
    one = list_metrics(app, with_stats)
    assert len(one) == 1 and [p["views"] for p in one[0]["series"]] == [120, 300]
    with pytest.raises(MetricsError, match="unknown publication 'pnope'") as unknown:
        list_metrics(app, "pnope")
    assert isinstance(unknown.value, NotFound) and "trendreel publications" in unknown.value.hint

    # --all polls everything now, even what is not due, once per run.
    forced = collect_metrics(app, all=True, now=NOW + 2 * D + H)
    assert forced["due"] == 4 and forced["stored"] == 4
    assert len(samples(app)) == 10


def test_youtube_source_batches_of_50_quota_and_a_failing_account(app, server, tmp_path):
    good = youtube_account(app, server, "good")
    # An account whose token expired and whose refresh token YouTube no longer accepts.
    bad = youtube_account(app, server, "revoked", token="at-expired", refresh_token="rt-revoked")
    outbox = tmp_path / "outbox"
    folder = folder_account(app, "inbox", outbox)

    pubs = {}
    for i in range(53):
        ext = f"yt{i:09d}"
        if i != 7:  # video 7 was deleted on YouTube
            seed_youtube_video(server, ext, views=1000 + i, likes=10 + i, comments=i)
        pubs[ext] = add_publication(app, video(app, f"y{i}"), good, published_at=NOW - 26 * H, external_id=ext)
    with server.lock:  # hidden like count: the API leaves likeCount out
        del server.videos["yt000000003"]["statistics"]["likeCount"]
    lost = add_publication(app, video(app, "r"), bad, published_at=NOW - 26 * H, external_id="yt000000001")
    fpub = add_publication(app, video(app, "f"), folder, published_at=NOW - 26 * H)
    (outbox / fpub).mkdir(parents=True)
    (outbox / fpub / "stats.json").write_text('{"views": 5}')

    r = collect_metrics(app, now=NOW)
    assert r["due"] == 55 and r["stored"] == 54
    lists = [req for req in server.requests if req[1] == "/youtube/v3/videos" and req[0] == "GET"]
    # 53 ids: two videos.list calls (50 + 3); the revoked account's one call is refused (401), then its refresh
    assert [status for _m, _p, status in lists] == [200, 200, 401]
    assert [e["account"] for e in r["errors"]] == ["youtube:revoked"]
    assert r["errors"][0]["publications"] == [lost]
    assert "trendreel accounts login youtube revoked" in r["errors"][0]["message"]
    by_account = {a["account"]: a for a in r["accounts"]}
    assert by_account["youtube:good"]["stored"] == 53 and by_account["folder:inbox"]["stored"] == 1

    got = {s.publication_id: s for s in samples(app)}
    s12 = got[pubs["yt000000012"]]
    assert (s12.views, s12.likes, s12.comments) == (1012, 22, 12)
    assert s12.raw["statistics"]["viewCount"] == "1012" and s12.raw["status"] == "ok"
    assert got[pubs["yt000000003"]].likes is None and got[pubs["yt000000003"]].views == 1003
    gone = got[pubs["yt000000007"]]
    assert gone.views is None and gone.raw["status"] == "not_found"
    assert got[fpub].views == 5

    project = "youtube:123456789"
    with app.db.session() as s:
        # 1 unit per videos.list call, the refused one included (both accounts use the same OAuth client)
        assert s.get(QuotaUsage, (project, pacific_day())).units == 3

    # A second run at the same due point asks YouTube nothing and stores nothing.
    again = collect_metrics(app, now=NOW + H)
    assert again["stored"] == 0 and again["due"] == 1  # only the revoked account's publication is still due
    assert len([q for q in server.requests if q[1] == "/youtube/v3/videos"]) == 4  # the revoked one tried again

    # Counts grow; the next due point (3 d) reads them.
    server.set_statistics("yt000000012", views=5000, likes=99, comments=40)
    third = collect_metrics(app, now=NOW + 2 * D)
    assert third["stored"] == 54
    assert [(s.views, s.likes) for s in samples(app, pubs["yt000000012"])] == [(1012, 22), (5000, 99)]


def test_youtube_collection_keeps_the_reserve_for_publishing(app, server, make_settings, database):
    settings = app.settings.model_copy(update={"metrics": app.settings.metrics.model_copy(
        update={"youtube_reserve_units": 1000, "batch_size": 2}), "publish": app.settings.publish.model_copy(
        update={"youtube_units_per_day": 1001})})
    small = App(settings=settings, db=database, files=app.files)
    acc = youtube_account(small, server, "chan")
    for i in range(3):
        seed_youtube_video(server, f"v{i}", views=i, likes=0, comments=0)
        add_publication(small, video(small, f"q{i}"), acc, published_at=NOW - 2 * H, external_id=f"v{i}")
    r = collect_metrics(small, now=NOW)
    assert r["stored"] == 2  # the first batch (2 ids) used the one unit above the reserve
    assert len(r["errors"]) == 1
    assert "metrics.youtube_reserve_units = 1000 are kept for publishing" in r["errors"][0]["message"]
    assert len([q for q in server.requests if q[1] == "/youtube/v3/videos"]) == 1


def test_after_a_real_folder_publication(make_settings, tmp_path):
    """The publisher's own folder publication (a real ffmpeg video), then stats.json, collect and the report."""
    from tests.publish_support import add_video as add_real_video
    from trendreel.bootstrap import build_app
    from trendreel.services import publishing as publish
    from trendreel.services.report import build_report

    application = build_app(make_settings(publish={"trends_snapshot": 3, "folder_roots": [str(tmp_path)]}))
    try:
        add_trend(application, "live", text="지금 뜨는 트렌드", category="society", score=9.0, at=datetime.now(timezone.utc))
        vid = add_real_video(application, "metrics-e2e", seconds=1.0, review="approved")
        publish.add_account(application, platform="folder", name="outbox", path=tmp_path / "outbox")
        pub = publish.publish_video(application, video_id=vid, to="folder:outbox")
        stats = tmp_path / "outbox" / pub["id"] / "stats.json"
        assert stats.parent.is_dir()
        stats.write_text('{"views": 77, "likes": 5, "comments": 1}')
        assert collect_metrics(application)["due"] == 0  # published just now: the first point is 1 h away
        r = collect_metrics(application, all=True)
        assert r["stored"] == 1 and r["publications"][0]["views"] == 77
        rep = build_report(application, out_dir=tmp_path / "report")
        assert rep["total_views"] == 77
        html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
        assert "<li>지금 뜨는 트렌드" in html  # the publisher's snapshot of the trends live at upload
    finally:
        application.close()
