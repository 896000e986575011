"""Publishing to the folder platform end to end: the approval gate, files and metadata, the row, the event,
the trends snapshot, reuse, and the near-duplicate guard (real ffmpeg videos, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.publish_support import STORY_BODY, add_video
from trendreel.bootstrap import App
from trendreel.db.tables import Event, Publication, PublicationTrend, Trend, Video, utcnow
from trendreel.files.store import open_file_store
from trendreel.services import publishing as service
from trendreel.services.pipeline import run_stage
from trendreel.errors import Conflict
from trendreel.publish.errors import NearDuplicate, NotApproved, PublishError


@pytest.fixture
def app(database, make_settings, tmp_path):
    settings = make_settings(publish={"trends_snapshot": 3, "folder_roots": [str(tmp_path)]})
    settings.home.mkdir(parents=True, exist_ok=True)
    application = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    yield application
    application.close()


def folder_account(app, path) -> str:
    """An admin's folder account writing to `path` (named after it); the target naming it."""
    service.add_account(app, platform="folder", name=path.name, path=path)
    return f"folder:{path.name}"


def add_trends(app, n: int) -> list[str]:
    now = utcnow()
    ids = []
    with app.db.session() as s:
        for i in range(n):
            tid = f"t{i:023d}"
            s.add(Trend(id=tid, text=f"trend number {i}", lang="en", score=10.0 - i, first_seen_at=now - timedelta(hours=3),
                        last_seen_at=now, window_s=86400, detector="test"))
            ids.append(tid)
    return ids


def test_folder_publish_end_to_end(app, tmp_path):
    trends = add_trends(app, 5)
    vid = add_video(app, "bridge")
    outbox = tmp_path / "outbox"
    folder_account(app, outbox)

    with pytest.raises(NotApproved, match=r"waits for approval.*publish.auto_approve = true") as refused:
        service.publish_video(app, video_id=vid, to=f"folder:{outbox}")
    assert refused.value.hint == f"`trendreel approve {vid}`"  # the CLI's next step, kept out of the message
    assert "trendreel" not in str(refused.value)
    assert not outbox.exists() or not any(outbox.iterdir())

    assert service.approve_video(app, vid, by="editor")["changed"] is True
    assert service.approve_video(app, vid, by="editor")["changed"] is False
    seen = []
    pub = service.publish_video(app, video_id=vid, to=f"folder:{outbox}", privacy="unlisted",
                                on_progress=lambda done, total: seen.append((done, total)))
    assert pub["reused"] is False and pub["status"] == "done" and pub["platform"] == "folder"
    assert seen and seen[-1][0] == seen[-1][1]

    folder = outbox / pub["id"]
    assert pub["url"] == folder.as_uri() and pub["external_id"] == pub["id"]
    with app.db.session() as s:
        key = s.get(Video, vid).path
    assert (folder / "video.mp4").read_bytes() == app.files.get(key)
    assert (folder / "thumb.jpg").stat().st_size > 0 and (folder / "subtitles.srt").is_file()
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert meta["privacy"] == "unlisted" and meta["video_id"] == vid and meta["language"] == "en"
    assert len(meta["title"]) <= 100 and meta["title"].startswith("Harbour bridge reopens")
    assert meta["tags"] == ["bridge", "city news", "ferries"]
    assert meta["story_id"] and "Cars crossed the harbour bridge" in meta["description"]
    assert not [p for p in outbox.iterdir() if p.name.startswith(".")]  # no temp folder left

    with app.db.session() as s:
        row = s.get(Publication, pub["id"])
        assert row.fingerprint.startswith("ahash1:") and row.published_at is not None
        assert row.details["video_sha256"] == s.get(Video, vid).sha256  # which version went out (for gc)
        snap = s.scalars(select(PublicationTrend).where(PublicationTrend.publication_id == pub["id"])
                         .order_by(PublicationTrend.rank)).all()
        assert [(t.rank, t.trend_id) for t in snap] == [(1, trends[0]), (2, trends[1]), (3, trends[2])]
        kinds = [(e.type, e.payload) for e in s.scalars(select(Event).where(Event.subject_id == vid).order_by(Event.id))]
    assert [k for k, _ in kinds] == ["VideoApproved", "VideoPublished"]
    assert kinds[1][1]["platform"] == "folder" and kinds[1][1]["url"] == pub["url"]

    again = service.publish_video(app, video_id=vid, to=f"folder:{outbox}")
    assert again["reused"] is True and again["id"] == pub["id"]
    assert len(list(outbox.iterdir())) == 1
    assert service.get_publication(app, pub["id"])["trends"][0]["text"] == "trend number 0"

    # A registered folder account by name is the same kind of target.
    service.add_account(app, platform="folder", name="review", path=tmp_path / "review")
    named = service.publish_video(app, video_id=vid, to="folder:review")
    assert (tmp_path / "review" / named["id"] / "video.mp4").is_file()
    listed = service.list_publications(app, video_id=vid)
    assert {p["account"] for p in listed} == {"review", pub["account"]}
    assert service.list_publications(app, account="folder:review")[0]["id"] == named["id"]


def test_gate_rejected_unfinished_and_purged_videos_are_refused(app, tmp_path):
    vid = add_video(app, "rejected")
    folder_account(app, tmp_path / "o")
    service.reject_video(app, vid, by="editor", reason="wrong facts")
    with pytest.raises(NotApproved, match="rejected"):
        service.publish_video(app, video_id=vid, to=f"folder:{tmp_path / 'o'}")
    with pytest.raises(PublishError, match="unknown video"):
        service.publish_video(app, video_id="vnope", to=f"folder:{tmp_path / 'o'}")
    with app.db.session() as s:
        s.get(Video, vid).files_purged_at = utcnow()
    service.approve_video(app, vid)
    with pytest.raises(PublishError, match="purged"):
        service.publish_video(app, video_id=vid, to=f"folder:{tmp_path / 'o'}")
    with pytest.raises(PublishError, match="must be PLATFORM:NAME"):
        service.publish_video(app, video_id=vid, to="nowhere")
    with pytest.raises(PublishError, match="unknown youtube account"):
        service.publish_video(app, video_id=vid, to="youtube:nobody")


def test_auto_approve_and_the_near_duplicate_guard(database, make_settings, tmp_path):
    settings = make_settings(publish={"auto_approve": True, "trends_snapshot": 0, "folder_roots": [str(tmp_path)]})
    settings.home.mkdir(parents=True, exist_ok=True)
    app = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    first = add_video(app, "orig", pattern="testsrc2", crf=23, width=160, height=284)
    # The same picture at another size and quality: a near-duplicate. A different picture: not.
    same = add_video(app, "reencoded", pattern="testsrc2", crf=35, width=120, height=214)
    other = add_video(app, "other", pattern="mandelbrot")
    outbox = tmp_path / "out"
    folder_account(app, outbox)
    folder_account(app, tmp_path / "elsewhere")

    p1 = service.publish_video(app, video_id=first, to=f"folder:{outbox}")
    with app.db.session() as s:
        assert s.get(Video, first).review == "approved" and s.get(Video, first).reviewed_by == "auto-approve"

    with pytest.raises(NearDuplicate, match=rf"looks like video {first}.*publication {p1['id']}.*--allow-similar"):
        service.publish_video(app, video_id=same, to=f"folder:{outbox}")
    p3 = service.publish_video(app, video_id=other, to=f"folder:{outbox}")
    assert p3["status"] == "done"
    # Another account may carry it; on the same account --allow-similar overrides.
    assert service.publish_video(app, video_id=same, to=f"folder:{tmp_path / 'elsewhere'}")["status"] == "done"
    assert service.publish_video(app, video_id=same, to=f"folder:{outbox}", allow_similar=True)["status"] == "done"
    app.close()


def copied_story(share: float | None) -> dict:
    """A story body whose scenes cite sentences; with `share`, its recorded verbatim share."""
    quotes = ["Cars crossed the harbour bridge this morning for the first time in two years.",
              "Ferries go back to their old timetable next week."]
    scenes = [{"narration": q, "duration_s": 5.0, "media": [],
               "citations": [{"article_id": "a0", "sentence": i + 1, "quote": q}]} for i, q in enumerate(quotes)]
    body = {**STORY_BODY, "format": 2, "scenes": scenes}
    return body if share is None else {**body, "verbatim_share": share}


def test_a_mostly_copied_story_goes_public_only_with_an_override(database, make_settings, tmp_path):
    settings = make_settings(publish={"auto_approve": True, "trends_snapshot": 0, "max_verbatim_share": 0.5,
                                      "folder_roots": [str(tmp_path)]})
    settings.home.mkdir(parents=True, exist_ok=True)
    app = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    copied = add_video(app, "copied", pattern="testsrc2", story_body=copied_story(0.9))
    # An older story without the field: the share is computed from its quotes (its scenes are copied, its hook is not).
    old = add_video(app, "old-copied", pattern="mandelbrot", story_body=copied_story(None))
    retold = add_video(app, "retold", pattern="bars", story_body=copied_story(0.2))
    outbox = tmp_path / "public"
    folder_account(app, outbox)
    folder_account(app, tmp_path / "private")
    try:
        with pytest.raises(Conflict, match=r"90% copied word for word .*publish.max_verbatim_share = 50%.*allow_copied") as err:
            service.publish_video(app, video_id=copied, to=f"folder:{outbox}", privacy="public")
        assert isinstance(err.value, service.MostlyCopied) and "--allow-copied" in err.value.hint
        with pytest.raises(service.MostlyCopied, match="84% copied"):
            service.publish_video(app, video_id=old, to=f"folder:{outbox}", privacy="public")
        assert not outbox.exists() or not any(outbox.iterdir())
        # Not public: no question asked. Public with the override, or a story in its own words: published.
        assert service.publish_video(app, video_id=copied, to=f"folder:{tmp_path / 'private'}",
                                     privacy="private")["status"] == "done"
        # The pipeline's publish stage (what the API's runs call) passes the override on.
        with pytest.raises(service.MostlyCopied):
            run_stage(app, "publish", {"video_id": copied, "to": f"folder:{outbox}", "privacy": "public"})
        allowed = run_stage(app, "publish", {"video_id": copied, "to": f"folder:{outbox}", "privacy": "public",
                                             "allow_copied": True})
        assert allowed["status"] == "done"
        assert service.get_publication(app, allowed["publication_id"])["privacy"] == "public"
        assert service.publish_video(app, video_id=retold, to=f"folder:{outbox}", privacy="public")["status"] == "done"
    finally:
        app.close()


def test_publishing_never_makes_an_account_and_folders_stay_inside_the_roots(app, tmp_path):
    """Only an admin adds accounts; a folder account writes only inside publish.folder_roots."""
    from trendreel.db.tables import Account
    from trendreel.ids import account_id
    from trendreel.publish.errors import FolderNotAllowed, UnknownPublication

    vid = add_video(app, "nowhere")
    service.approve_video(app, vid, by="editor")
    for target in (tmp_path / "new", Path("~") / "x", tmp_path / ".." / "up"):
        with pytest.raises(UnknownPublication, match="no folder account writes to that folder"):
            service.publish_video(app, video_id=vid, to=f"folder:{target}")
    assert service.list_accounts(app, include_removed=True) == [] and not (tmp_path / "new").exists()
    # Outside the roots (here tmp_path): refused when added, whatever the spelling.
    for outside in (tmp_path.parent / "out", tmp_path / "in" / ".." / ".." / "out", Path("~") / "x"):
        with pytest.raises(FolderNotAllowed, match="publish.folder_roots") as err:
            service.add_account(app, platform="folder", name="out", path=outside)
        assert str(tmp_path.resolve()) in err.value.hint
    link = tmp_path / "link"
    link.symlink_to(tmp_path.parent, target_is_directory=True)  # a link inside pointing outside
    with pytest.raises(FolderNotAllowed):
        service.add_account(app, platform="folder", name="link", path=link / "x")
    # An account from before the roots (or a root taken away since) is refused when publishing.
    with app.db.session() as s:
        s.add(Account(id=account_id("folder", "legacy"), platform="folder", name="legacy",
                      options={"path": str(tmp_path.parent / "legacy-out")}, created_at=utcnow()))
    with pytest.raises(FolderNotAllowed):
        service.publish_video(app, video_id=vid, to="folder:legacy")
    assert not (tmp_path.parent / "legacy-out").exists()
    # A removed account is not brought back by publishing to its name or its folder.
    folder_account(app, tmp_path / "shelf")
    service.remove_account(app, platform="folder", name="shelf")
    for target in ("folder:shelf", f"folder:{tmp_path / 'shelf'}"):
        with pytest.raises(UnknownPublication):
            service.publish_video(app, video_id=vid, to=target)
    assert [a["name"] for a in service.list_accounts(app)] == ["legacy"]
