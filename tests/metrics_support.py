"""Rows for the metrics and report tests: trends, stories, videos, accounts and publications, inserted
directly (as the earlier stages and the publisher would leave them), and samples over time."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from trendreel.db import repo
from trendreel.db.tables import MetricSample, Publication, PublicationTrend, Story, Trend, Video
from trendreel.ids import publication_id as make_publication_id
from trendreel.publish import accounts


def _hex(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:23]


def add_trend(app, name: str, *, text: str, category: str | None = None, score: float = 1.0, at: datetime) -> str:
    tid = "t" + _hex(name)
    with app.db.session() as s:
        s.add(Trend(id=tid, text=text, lang="ko", category_id=repo.category_id(s, category), score=score,
                    first_seen_at=at - timedelta(days=1), last_seen_at=at, window_s=86400, detector="test"))
    return tid


def add_video(app, name: str, *, title: str, trend_id: str | None, lang: str = "ko", at: datetime,
              path: str | None = None) -> str:
    """A story and a finished video made from it (the file key is only recorded, never read here)."""
    sid, vid = "s" + _hex(name), "v" + _hex(name)
    with app.db.session() as s:
        s.add(Story(id=sid, trend_id=trend_id, backend="template", model="template", lang=lang, title=title,
                    duration_s=30.0, body={"title": title, "scenes": []}, created_at=at))
        s.flush()
        s.add(Video(id=vid, story_id=sid, stage="rendered", backend="test", status="done",
                    path=path or f"videos/{vid}/video.mp4", duration_s=30.0, width=1080, height=1920, bytes=1000,
                    details={}, created_at=at, review="approved"))
    return vid


def youtube_account(app, server, name: str, **override) -> dict:
    return accounts.add_account(app, platform="youtube", name=name, credentials={**server.authorized_user(), **override})


def folder_account(app, name: str, path) -> dict:
    return accounts.add_account(app, platform="folder", name=name, options={"path": str(path)})


def add_publication(app, video_id: str, account: dict, *, published_at: datetime, external_id: str | None = None,
                    title: str | None = None, trends: list[tuple[str, str, float, str | None]] = (),
                    details: dict | None = None) -> str:
    """A done publication as the publisher leaves it, with the trends live at that moment."""
    pid = make_publication_id(video_id, account["id"])
    with app.db.session() as s:
        s.add(Publication(id=pid, video_id=video_id, account_id=account["id"], platform=account["platform"], status="done",
                          external_id=external_id or pid, url=f"https://example.test/{external_id or pid}", privacy="public",
                          title=title, upload_state={}, details=details or {}, created_at=published_at,
                          published_at=published_at))
        s.flush()
        for rank, (tid, text, score, category) in enumerate(trends, 1):
            s.add(PublicationTrend(publication_id=pid, rank=rank, trend_id=tid, text=text, score=score, category=category,
                                   captured_at=published_at))
    return pid


def add_samples(app, pid: str, points: list[tuple[datetime, int | None, int | None, int | None]]) -> None:
    with app.db.session() as s:
        for at, views, likes, comments in points:
            s.add(MetricSample(publication_id=pid, collected_at=at, views=views, likes=likes, comments=comments,
                               raw={"status": "ok"}))


def seed_youtube_video(server, video_id: str, *, views: int, likes: int, comments: int) -> None:
    """A video that exists on the local YouTube server (as if uploaded there), with its statistics."""
    with server.lock:
        server.videos[video_id] = {"body": {"snippet": {"title": video_id}, "status": {"privacyStatus": "public"}},
                                   "data": b"", "session": None, "thumbnail": None, "statistics": {}}
    server.set_statistics(video_id, views=views, likes=likes, comments=comments)
