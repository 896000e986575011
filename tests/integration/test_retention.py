"""Retention: `trendreel gc` frees space in the right order and never touches protected files.

Each test builds a real store (a local folder, or S3 on a local moto server) with one file of every
category, rows in SQLite and PostgreSQL, and runs the real service or the real command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from trendreel import events
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.db.tables import Account, Article, Event, MediaItem, Publication, Story, Video
from trendreel.files.layout import media_file, video_prefix
from trendreel.files.store import open_file_store
from trendreel.ids import account_id, article_id, media_id, publication_id
from trendreel.retention.errors import RetentionError
from trendreel.services.storage import JOURNAL_PREFIX, collect_garbage, storage_status
from trendreel.units import parse_size
from trendreel.story.models import Citation, MediaRef, Scene, Story as StoryModel

try:
    from tests.s3server import s3_server  # noqa: F401  (a fixture)
except ModuleNotFoundError:  # pytest run without the repository root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.s3server import s3_server  # noqa: F401

NOW = datetime.now(timezone.utc)
OLD = NOW - timedelta(days=60)


@dataclass
class World:
    """What was built: ids by category, and every file key of every row."""

    app: App
    protected_media: list[str] = field(default_factory=list)
    protected_videos: list[str] = field(default_factory=list)
    published_videos: list[str] = field(default_factory=list)
    free_media: list[str] = field(default_factory=list)  # oldest first
    young_media: list[str] = field(default_factory=list)
    keys: dict[str, list[str]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def files_of(self, ids) -> list[str]:
        return [k for i in ids for k in self.keys[i]]

    def bytes_of(self, ids) -> int:
        return sum(self.sizes[i] for i in ids)

    def purged_ids(self) -> set[str]:
        with self.app.db.session() as s:
            m = set(s.scalars(select(MediaItem.id).where(MediaItem.files_purged_at.is_not(None))))
            v = set(s.scalars(select(Video.id).where(Video.files_purged_at.is_not(None))))
        return m | v

    def purge_events(self) -> list[str]:
        with self.app.db.session() as s:
            return list(s.scalars(select(Event.subject_id).where(Event.type == events.FILE_PURGED)))


def _article(s, n: int) -> str:
    aid = article_id(f"https://news.example/{n}")
    s.add(Article(id=aid, url=f"https://news.example/{n}", canonical_url=f"https://news.example/{n}", title=f"item {n}",
                  lang="en", content_hash=f"{n:064x}", minhash="00" * 256, text_chars=100, crawled_at=OLD))
    return aid


def _story_body(story_id: str, aid: str, media: list[str], cite_article: str | None = None) -> dict:
    scenes = [Scene(narration=f"scene about {mid}", duration_s=3.0, media=[MediaRef(media_id=mid, kind="image")],
                    citations=[Citation(article_id=cite_article or aid, sentence=0, quote="item")]) for mid in media]
    if not scenes:
        scenes = [Scene(narration="only words", duration_s=3.0, citations=[Citation(article_id=cite_article or aid, sentence=0, quote="item")])]
    story = StoryModel(id=story_id, title="t", hook="h", scenes=scenes, lang="en", duration_s=3.0 * len(scenes),
                       article_id=aid, backend="template", model="template")
    return story.model_dump(mode="json")


def build_world(app: App) -> World:
    """One file of every category a retention policy must tell apart."""
    w = World(app=app)
    files = app.files
    counter = iter(range(10_000))

    def media(s, aid: str, created: datetime, size: int) -> str:
        n = next(counter)
        mid = media_id(aid, "image", f"https://news.example/img{n}.jpg")
        key = media_file(aid, "image", n, "jpg")
        files.put(key, bytes([n % 251]) * size)
        s.add(MediaItem(id=mid, article_id=aid, position=n, kind="image", source_url=f"https://news.example/img{n}.jpg",
                        status="stored", path=key, mime="image/jpeg", bytes=size, sha256=f"{n:064x}", created_at=created))
        w.keys[mid], w.sizes[mid] = [key], size
        return mid

    def video(s, vid: str, story_id: str, size: int, *, parent: str | None = None, stage: str = "rendered",
              created: datetime = OLD) -> str:
        prefix = video_prefix(vid, created)
        keys = [prefix + "video.mp4", prefix + "thumb.jpg", prefix + "subtitles.srt"]
        files.put(keys[0], b"v" * size)
        files.put(keys[1], b"t" * 300)
        files.put(keys[2], b"s" * 100)
        s.add(Video(id=vid, story_id=story_id, parent_id=parent, stage=stage, backend="compositor", status="done",
                    path=keys[0], thumbnail_path=keys[1], subtitles_path=keys[2], bytes=size, sha256=vid.ljust(64, "0"),
                    created_at=created, details={"files": {"thumbnail_bytes": 300, "subtitles_bytes": 100}}))
        w.keys[vid], w.sizes[vid] = keys, size + 400
        return vid

    def publish(s, vid: str, status: str = "done") -> None:
        acc = account_id("folder", "main")
        if s.get(Account, acc) is None:
            s.add(Account(id=acc, platform="folder", name="main", options={}))
            s.flush()
        s.add(Publication(id=publication_id(vid, acc), video_id=vid, account_id=acc, platform="folder", status=status,
                          published_at=OLD if status == "done" else None))

    with app.db.session() as s:
        a_free, a_pending, a_cited, a_wip, a_pub = (_article(s, n) for n in range(5))
        s.flush()
        # Raw media nothing cites, oldest first; one too young for the policy.
        w.free_media = [media(s, a_free, OLD - timedelta(days=30 - i), 2000 + i) for i in range(3)]
        w.young_media = [media(s, a_free, NOW, 2500)]
        # A pending story (no video yet) shows one medium and cites another item: both items' media stay.
        m_pending = media(s, a_pending, OLD - timedelta(days=90), 3000)
        m_pending_sibling = media(s, a_pending, OLD - timedelta(days=90), 3100)
        m_cited = media(s, a_cited, OLD - timedelta(days=90), 3200)
        s.add(Story(id="s_pending", article_id=a_pending, backend="template", title="t", lang="en",
                    body=_story_body("s_pending", a_pending, [m_pending], cite_article=a_cited), created_at=OLD))
        # Work in progress: a rendered video not published; an edit of a published story still uploading.
        m_wip = media(s, a_wip, OLD - timedelta(days=90), 3300)
        s.add(Story(id="s_wip", article_id=a_wip, backend="template", title="t", lang="en",
                    body=_story_body("s_wip", a_wip, [m_wip]), created_at=OLD))
        s.flush()
        v_wip = video(s, "v_wip", "s_wip", 50_000)
        # A published story: its rendered video was edited, the edit published on one account and still
        # uploading on another (so the edit stays); a second edit is published everywhere.
        m_pub = media(s, a_pub, OLD - timedelta(days=90), 3400)
        s.add(Story(id="s_pub", article_id=a_pub, backend="template", title="t", lang="en",
                    body=_story_body("s_pub", a_pub, [m_pub]), created_at=OLD))
        s.flush()
        v_rendered = video(s, "v_rendered", "s_pub", 40_000, created=OLD - timedelta(days=2))
        v_edit_done = video(s, "v_edit_done", "s_pub", 30_000, parent=v_rendered, stage="edited")
        v_edit_uploading = video(s, "v_edit_uploading", "s_wip", 20_000, stage="edited", parent=v_wip)
        s.flush()
        publish(s, v_edit_done)
        publish(s, v_edit_uploading, status="uploading")
    # m_pub is cited only by a published story: plain raw media, and the oldest of all.
    w.free_media.insert(0, m_pub)
    w.protected_media = [m_pending, m_pending_sibling, m_cited, m_wip]
    w.protected_videos = [v_wip, v_edit_uploading]
    w.published_videos = [v_rendered, v_edit_done]  # oldest first
    return w


def _app(database: Database, files_url: str, tmp_path: Path, s3=None, **retention) -> App:
    from trendreel.settings import Settings

    settings = Settings(home=tmp_path / "home", database_url=database.url, files_url=files_url,
                        retention={"raw_media_min_age_days": 7, **retention})
    return App(settings=settings, db=database, files=open_file_store(files_url, s3))


@pytest.fixture
def world(database, tmp_path) -> World:
    return build_world(_app(database, (tmp_path / "files").as_uri(), tmp_path, budget_bytes=10**12))


def _with_budget(w: World, budget: int, low_water: float = 1.0) -> World:
    w.app.settings.retention.budget_bytes = budget
    w.app.settings.retention.low_water = low_water
    return w


def _assert_consistent(w: World) -> None:
    """Every marked row's files are gone; every unmarked row's files are there; one event per purged row."""
    purged = w.purged_ids()
    for rid, keys in w.keys.items():
        present = [w.app.files.exists(k) for k in keys]
        if rid in purged:
            assert not any(present), f"{rid} is marked purged but files are live"
        else:
            assert all(present), f"{rid} is not marked but its files are gone: {keys}"
    evs = w.purge_events()
    assert sorted(evs) == sorted(purged), "one FilePurged event per purged row"
    assert list(w.app.files.list(JOURNAL_PREFIX)) == []


def test_parse_size():
    assert parse_size("50TB") == 50 * 10**12
    assert parse_size("500 MB") == 500 * 10**6
    assert parse_size("1.5TiB") == int(1.5 * 2**40)
    assert parse_size("1024") == 1024
    for bad in ("50XB", "", "-1GB", "0MB", "TB"):
        with pytest.raises(ValueError, match="size"):
            parse_size(bad)


def test_usage_counts_rows_by_kind(world):
    st = storage_status(world.app, check=True)
    media = world.free_media + world.young_media + world.protected_media
    assert st["by_kind"]["image"] == {"files": len(media), "bytes": world.bytes_of(media)}
    assert st["by_kind"]["rendered"]["bytes"] == world.bytes_of(["v_wip", "v_rendered"])
    assert st["by_kind"]["edited"]["bytes"] == world.bytes_of(["v_edit_done", "v_edit_uploading"])
    assert st["used_bytes"] == world.bytes_of(list(world.keys))
    assert not st["over_budget"]
    check = st["check"]
    assert check["ok"] and check["files_without_rows"]["count"] == 0
    assert check["listed_bytes"] == st["used_bytes"]
    # A file lost behind the rows' back, and a file no row knows: both reported.
    world.app.files.delete(world.keys[world.free_media[0]][0])
    world.app.files.put("articles/00/00/astray/images/01.jpg", b"x" * 10)
    check = storage_status(world.app, check=True)["check"]
    assert not check["ok"]
    assert check["rows_with_missing_files"]["examples"] == [{"id": world.free_media[0], "key": world.keys[world.free_media[0]][0]}]
    assert check["files_without_rows"] == {"count": 1, "bytes": 10, "examples": ["articles/00/00/astray/images/01.jpg"]}


def test_gc_never_deletes_protected_files(world):
    """A budget far below what may be purged: everything purgeable goes, nothing protected does."""
    _with_budget(world, 1)
    result = collect_garbage(world.app)
    purgeable = world.published_videos + world.free_media
    assert world.purged_ids() == set(purgeable)
    for key in world.files_of(world.protected_media + world.protected_videos + world.young_media):
        assert world.app.files.exists(key), f"protected file {key} was deleted"
    for key in world.files_of(purgeable):
        assert not world.app.files.exists(key)
    assert result["freed_bytes"] == world.bytes_of(purgeable)
    assert result["shortfall_bytes"] > 0 and result["young_raw_media_bytes"] == 2500
    assert result["media_skipped_protected"] == len(world.protected_media)
    _assert_consistent(world)
    with world.app.db.session() as s:  # rows stay, with their paths
        assert s.get(Video, "v_edit_done").path and s.get(MediaItem, world.free_media[0]).bytes
    # The video folders of purged videos are gone from the local folder, not left empty.
    assert not world.app.files.local_path(world.keys["v_edit_done"][0]).parent.exists()


def test_published_videos_go_first_then_oldest_raw_media(world):
    total = world.bytes_of(list(world.keys))
    first = world.bytes_of(world.published_videos[:1])
    # Needs less than the oldest published video: only it goes.
    _with_budget(world, total - first // 2)
    r = collect_garbage(world.app)
    assert world.purged_ids() == {world.published_videos[0]}
    assert r["purged"] == {"published_video": {"items": 1, "files": 3, "bytes": first}}
    # Needs both published videos and a bit more: the oldest raw medium goes next, not a newer one.
    _with_budget(world, total - world.bytes_of(world.published_videos) - 10)
    r = collect_garbage(world.app)
    assert world.purged_ids() == set(world.published_videos) | {world.free_media[0]}
    assert r["used_bytes_after"] < r["budget_bytes"]
    _assert_consistent(world)


def test_a_video_made_again_after_its_publication_is_unpublished_work(world):
    """Published means this version of the video (or an edit made from this version) went out, never an
    older render of the same story: a story edited after publishing renders onto the same row again."""
    app = world.app
    with app.db.session() as s:
        rendered, edit = s.get(Video, "v_rendered"), s.get(Video, "v_edit_done")
        # the published edit was made from the render as it was then (what the edit stage records)
        edit.details = {**edit.details, "parent_sha256": rendered.sha256}
        # a video published directly, whose story was then edited and rendered again onto the same row
        prefix = video_prefix("v_direct", OLD)
        keys = [prefix + "video.mp4", prefix + "thumb.jpg", prefix + "subtitles.srt"]
        for key, data in zip(keys, (b"n" * 60_000, b"t" * 300, b"s" * 100)):
            app.files.put(key, data)
        s.add(Video(id="v_direct", story_id="s_pub", stage="rendered", backend="compositor", status="done", path=keys[0],
                    thumbnail_path=keys[1], subtitles_path=keys[2], bytes=60_000, sha256="e" * 64, created_at=OLD,
                    details={"files": {"thumbnail_bytes": 300, "subtitles_bytes": 100}}))
        s.flush()
        acc = account_id("folder", "main")
        s.add(Publication(id=publication_id("v_direct", acc), video_id="v_direct", account_id=acc, platform="folder",
                          status="done", published_at=OLD, details={"video_sha256": "d" * 64}))
    world.keys["v_direct"], world.sizes["v_direct"] = keys, 60_400
    # The story is edited and rendered again: the same row gets new files, which nobody has published.
    new_bytes = b"r" * 45_000
    app.files.put(world.keys["v_rendered"][0], new_bytes)
    with app.db.session() as s:
        s.get(Video, "v_rendered").sha256 = "f" * 64
        s.get(Video, "v_rendered").bytes = len(new_bytes)

    _with_budget(world, 1)
    plan = collect_garbage(app, dry_run=True)
    assert {i["id"] for i in plan["items"] if i["reason"] == "published_video"} == {"v_edit_done"}
    collect_garbage(app)
    purged = world.purged_ids()
    assert "v_edit_done" in purged
    assert "v_rendered" not in purged and "v_direct" not in purged
    assert app.files.get(world.keys["v_rendered"][0]) == new_bytes and app.files.exists(world.keys["v_direct"][0])


def test_low_water_mark_frees_below_the_budget(world):
    total = world.bytes_of(list(world.keys))
    _with_budget(world, total - 1, low_water=0.5)
    r = collect_garbage(world.app)
    assert r["used_bytes_after"] <= r["target_bytes"] == int((total - 1) * 0.5) or r["shortfall_bytes"] > 0
    assert r["freed_bytes"] >= total - r["target_bytes"] - r["shortfall_bytes"]
    again = collect_garbage(world.app)  # now under budget: nothing to do
    assert not again["over_budget"] and again["freed_bytes"] == 0


def test_dry_run_deletes_nothing(world):
    _with_budget(world, 1)
    r = collect_garbage(world.app, dry_run=True)
    assert r["dry_run"] and r["planned_bytes"] == world.bytes_of(world.published_videos + world.free_media)
    assert {i["id"] for i in r["items"]} == set(world.published_videos + world.free_media)
    assert world.purged_ids() == set() and world.purge_events() == []
    assert all(world.app.files.exists(k) for k in world.files_of(list(world.keys)))


def test_running_twice_frees_nothing_more(world):
    _with_budget(world, 1)
    first = collect_garbage(world.app)
    second = collect_garbage(world.app)
    assert first["freed_bytes"] > 0
    assert second["freed_bytes"] == 0 and second["purged"] == {}
    _assert_consistent(world)


def test_a_crash_between_deleting_and_marking_is_finished_by_the_next_run(world):
    _with_budget(world, 1)
    world.app.settings.retention.batch_size = 3

    class Crash(Exception):
        pass

    def crash_after_four(done, total, freed):
        if done >= 4:
            raise Crash

    with pytest.raises(Crash):
        collect_garbage(world.app, on_progress=crash_after_four)
    # The second batch's files are gone but its rows are not marked yet; its journal says so.
    assert list(world.app.files.list(JOURNAL_PREFIX))
    r = collect_garbage(world.app)
    assert r["repaired"]["journals"] == 1 and r["repaired"]["items_marked"] >= 1
    assert world.purged_ids() == set(world.published_videos + world.free_media)
    _assert_consistent(world)
    for key in world.files_of(world.protected_media + world.protected_videos + world.young_media):
        assert world.app.files.exists(key)


@pytest.mark.slow
def test_a_killed_gc_process_then_a_second_run_ends_consistent(tmp_path):
    """SIGKILL in the middle of a batch (no cleanup runs), then gc again."""
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    try:
        w = build_world(_app(db, (tmp_path / "files").as_uri(), tmp_path, budget_bytes=10**12))
    finally:
        db.dispose()
    script = textwrap.dedent(f"""
        import os, signal
        from trendreel.bootstrap import build_app
        from trendreel.settings import Settings
        app = build_app(Settings(home={str(tmp_path / 'home')!r}, database_url={f"sqlite:///{tmp_path / 'test.db'}"!r},
                                 files_url={(tmp_path / 'files').as_uri()!r},
                                 retention={{"budget_bytes": 1, "batch_size": 4, "raw_media_min_age_days": 7}}))
        def kill(done, total, freed):
            if done >= 5:
                os.kill(os.getpid(), signal.SIGKILL)
        from trendreel.services.storage import collect_garbage
        collect_garbage(app, on_progress=kill)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")}
    p = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == -9, p.stderr
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    try:
        w.app = _app(db, (tmp_path / "files").as_uri(), tmp_path, budget_bytes=1)
        assert list(w.app.files.list(JOURNAL_PREFIX)), "the killed run left its journal"
        collect_garbage(w.app)
        assert w.purged_ids() == set(w.published_videos + w.free_media)
        _assert_consistent(w)
    finally:
        db.dispose()


def test_a_story_written_while_gc_runs_protects_its_media(world):
    """Between planning and deleting a batch, a new pending story cites the oldest free medium."""
    _with_budget(world, 1)
    world.app.settings.retention.batch_size = 1
    target = world.free_media[-1]  # planned in a late batch
    written = []

    def write_story(done, total, freed):
        if done == 1 and not written:
            with world.app.db.session() as s:
                aid = s.get(MediaItem, target).article_id
                s.add(Story(id="s_new", article_id=aid, backend="template", title="t", lang="en",
                            body=_story_body("s_new", aid, [target]), created_at=datetime.now(timezone.utc)))
            written.append(True)

    r = collect_garbage(world.app, on_progress=write_story)
    assert r["skipped_now_protected"] >= 1
    assert world.app.files.exists(world.keys[target][0]) and target not in world.purged_ids()
    _assert_consistent(world)


def test_one_gc_at_a_time(world):
    from trendreel.services.storage import _gc_lock

    with _gc_lock(world.app):
        with pytest.raises(RetentionError, match="another gc is running"):
            collect_garbage(world.app)


@pytest.mark.s3
def test_gc_on_s3(s3_server, tmp_path):
    server = s3_server
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    try:
        w = build_world(_app(db, server.url(f"gc-{tmp_path.name}"), tmp_path, s3=server.settings(), budget_bytes=1))
        r = collect_garbage(w.app)
        assert w.purged_ids() == set(w.published_videos + w.free_media)
        assert r["freed_bytes"] == w.bytes_of(w.published_videos + w.free_media)
        for key in w.files_of(w.protected_media + w.protected_videos + w.young_media):
            assert w.app.files.exists(key)
        _assert_consistent(w)
        assert collect_garbage(w.app)["freed_bytes"] == 0
        check = storage_status(w.app, check=True)["check"]
        assert check["ok"] and check["listed_bytes"] == storage_status(w.app)["used_bytes"]
    finally:
        db.dispose()


def test_cli_storage_and_gc(tmp_path):
    """The real command: storage --json, gc --dry-run --json, gc --json, storage --check."""
    home = tmp_path / "home"
    db = Database(f"sqlite:///{home / 'trendreel.db'}")
    try:
        build_world(_app(db, (home / "files").as_uri(), tmp_path, budget_bytes=10**12))
    finally:
        db.dispose()
    (home / "trendreel.toml").write_text('[retention]\nbudget_bytes = "120KB"\nlow_water = 0.9\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "trendreel", *args, "--home", str(home)],
                              capture_output=True,
                              text=True, env=env, timeout=120)

    p = cli("storage", "--json")
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)
    assert st["budget_bytes"] == 120_000 and st["over_budget"]
    p = cli("gc", "--dry-run", "--json")
    assert p.returncode == 0, p.stderr
    dry = json.loads(p.stdout)
    assert dry["dry_run"] and dry["planned_bytes"] >= st["used_bytes"] - 108_000 and dry["shortfall_bytes"] == 0
    p = cli("gc", "--json")
    assert p.returncode == 0, p.stderr
    done = json.loads(p.stdout)
    assert done["freed_bytes"] == dry["planned_bytes"] and done["used_bytes_after"] <= 108_000
    p = cli("gc")
    assert p.returncode == 0 and "within budget" in p.stderr, p.stderr
    p = cli("storage", "--check")
    assert p.returncode == 0 and "matches" in p.stderr, p.stderr
    (home / "trendreel.toml").write_text('[retention]\nbudget_bytes = "50XB"\n', encoding="utf-8")
    p = cli("gc")
    assert p.returncode == 2 and "retention.budget_bytes" in p.stderr and "50TB" in p.stderr
