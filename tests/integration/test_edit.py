"""The edit stage end to end with real ffmpeg, on videos made here with ffmpeg and on a real render.

The made-up source (360x640, 11 s) has, in order: 3 s of moving picture with a tone (the key line's
subtitle over it), 2 s frozen and silent, 2 s moving and silent, 2 s frozen with the tone, 2 s moving
with the tone (the last subtitle). Its subtitles are burned in; a twin without them is the reference
for looking at frames. Outputs are checked with ffprobe (streams, size, length), the sound with
volumedetect and ebur128, and the subtitles and the key line's highlight by looking at decoded frames.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from tests.render_support import ffmpeg, frame, make_image, make_story, store_article, store_media, store_story, text_pixels
from trendreel import events
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.db.tables import Event, Video, utcnow
from trendreel.edit import EditError, EditFailed, EditOutput
from trendreel.services.edit import edit_video
from trendreel.edit.plan import parse_srt
from trendreel.errors import ConfigError
from trendreel.files.layout import video_prefix
from trendreel.files.store import open_file_store
from trendreel.services.render import render_story
from trendreel.render.ffmpeg import loudness, probe, volume
from trendreel.render.fonts import resolve_font
from trendreel.settings import Settings
from trendreel.story.models import MediaRef

pytestmark = pytest.mark.slow

W, H = 360, 640
SRT = """1
00:00:00,200 --> 00:00:02,500
The key line is here

2
00:00:05,200 --> 00:00:06,800
Said into the silence

3
00:00:09,300 --> 00:00:10,800
The last words stay
"""


def make_app(home: Path, *, db_url: str | None = None, connect_args: dict | None = None, **edit) -> App:
    settings = Settings(home=home, render={"width": W, "height": H}, edit=edit)
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(db_url or f"sqlite:///{home / 'test.db'}", connect_args=connect_args)
    return App(settings=settings, db=db, files=open_file_store(settings.files_url))


def make_source(d: Path, *, subtitles: bool) -> Path:
    """The 11 s source described in the module docstring."""
    font = resolve_font(None).path
    subs = (f"subtitles=subs.srt:fontsdir={font.parent}:force_style='FontName=NanumGothic,Bold=1,FontSize=16,"
            f"Outline=2,MarginV=60',") if subtitles else ""
    out = d / ("with-subs.mp4" if subtitles else "plain.mp4")
    (d / "subs.srt").write_text(SRT, encoding="utf-8")
    cwd = Path.cwd()
    try:
        import os

        os.chdir(d)  # the subtitles filter gets a plain file name
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=30:d=11", "-f", "lavfi", "-i", "sine=f=440:d=11:sample_rate=48000",
               "-filter_complex",
               f"[0:v]{subs}split[m][r];[m][r]freezeframes=first=90:last=149:replace=90[x];"
               "[x]split[x1][x2];[x1][x2]freezeframes=first=210:last=269:replace=210,format=yuv420p[v];"
               "[1:a]volume=enable='between(t,3,7)':volume=0,aformat=channel_layouts=stereo[a]",
               "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", out.name)
    finally:
        os.chdir(cwd)
    return out


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("edit-sources")
    return {"subs": make_source(d, subtitles=True), "plain": make_source(d, subtitles=False), "srt": d / "subs.srt",
            "thumb": make_image(d / "thumb.jpg", size=(W, H))}


def store_rendered(app: App, vid: str, sources: dict[str, Path], *, status: str = "done", details: dict | None = None) -> str:
    """A finished 'rendered' video row with its files in the store (no story)."""
    prefix = video_prefix(vid, utcnow())
    video = app.files.put_file(prefix + "video.mp4", sources["subs"])
    srt = app.files.put_file(prefix + "subtitles.srt", sources["srt"])
    thumb = app.files.put_file(prefix + "thumb.jpg", sources["thumb"])
    with app.db.session() as s:
        s.add(Video(id=vid, stage="rendered", backend="compositor", status=status, path=video.key,
                    subtitles_path=srt.key, thumbnail_path=thumb.key, duration_s=11.0, width=W, height=H,
                    bytes=video.bytes, sha256=video.sha256, details=details or {}, created_at=utcnow()))
    return vid


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    # frozen = cut: the source's frozen span under the tone goes too (the default keeps it, tested below)
    app = make_app(tmp_path_factory.mktemp("edit-home"), frozen="cut")
    yield app
    app.close()


def stored_path(app: App, key: str) -> Path:
    path = app.files.local_path(key)
    assert path is not None and path.is_file(), key
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_edit(app: App, edited: dict, *, duration: float) -> Path:
    """Streams, size, length, sound present and not silent, loudness at the target."""
    assert edited["status"] == "done" and edited["error"] is None and edited["stage"] == "edited"
    path = stored_path(app, edited["path"])
    assert edited["path"].endswith(f"/{edited['id']}/video.mp4")
    info = probe(path)
    assert info.video.codec == "h264" and (info.video.width, info.video.height) == (W, H)
    assert info.audio.codec == "aac" and info.audio.sample_rate == 48000 and info.audio.channels == 2
    assert info.duration_s == pytest.approx(duration, abs=0.1)
    assert info.audio.duration_s == pytest.approx(info.video.duration_s, abs=0.1)
    mean_db, max_db = volume(path)
    assert max_db > -20 and mean_db > -30, "the sound is (nearly) silent"
    assert loudness(path) == pytest.approx(-14, abs=1.0)
    assert edited["bytes"] == path.stat().st_size and edited["sha256"] == sha(path)
    return path


def test_by_default_a_frozen_picture_under_sound_stays_and_moves(tmp_path, sources):
    app = make_app(tmp_path / "home")
    try:
        vid = store_rendered(app, "vsource00000000000000009", sources)
        edited = edit_video(app, video_id=vid)
        # only 3.25-6.75 s goes (silent; frozen and silent at 3-5 s); the frozen picture at 7-9 s has the tone
        check_edit(app, edited, duration=11 - 3.5)
        assert edited["edit"]["removed_s"] == {"dead_air": pytest.approx(1.75, abs=0.1),
                                               "silence": pytest.approx(1.75, abs=0.1)}
        # ... and is zoomed gently in and out (3.5-5.5 s of the edit): frames a second apart differ
        (a, b), = edited["edit"]["animated"]
        assert a == pytest.approx(3.5, abs=0.05) and b == pytest.approx(5.5, abs=0.05)
        path = stored_path(app, edited["path"])
        assert np.abs(frame(path, 4.0)[: H // 2] - frame(path, 4.5)[: H // 2]).mean() > 2
    finally:
        app.close()


def test_dead_air_and_frozen_picture_are_cut(app, sources):
    vid = store_rendered(app, "vsource00000000000000001", sources)
    original = stored_path(app, f"{video_prefix(vid, utcnow())}video.mp4")
    before = sha(original)

    edited = edit_video(app, video_id=vid)
    assert edited["reused"] is False and edited["parent_id"] == vid and edited["story_id"] is None
    assert edited["backend"] == "cutter" and edited["id"] != vid
    # 3.25-8.75 s goes: silence (3-7 s) and freezes (3-5 s, 7-9 s), less a 0.25 s pause at each side
    path = check_edit(app, edited, duration=11 - 5.5)
    summary = edited["edit"]
    assert summary["duration_before_s"] == pytest.approx(11.0, abs=0.05)
    assert summary["duration_after_s"] == pytest.approx(5.5, abs=0.1)
    assert summary["segments_kept"] == 2 and summary["cuts"] == 1
    assert set(summary["removed_s"]) == {"dead_air", "silence", "frozen"}
    assert summary["removed_s"]["silence"] == pytest.approx(2.0, abs=0.1)
    assert sum(summary["removed_s"].values()) == pytest.approx(5.5, abs=0.1)
    assert summary["key_line"]["text"] == "The key line is here"

    # the original is untouched and its row unchanged
    assert sha(original) == before
    with app.db.session() as s:
        src_row = s.get(Video, vid)
        assert src_row.sha256 == before and src_row.stage == "rendered" and src_row.parent_id is None

    # the .srt follows the cuts: the cue said into the silence is gone, the last one moved 5.5 s earlier
    cues = parse_srt(stored_path(app, edited["subtitles_path"]).read_text(encoding="utf-8"))
    assert [c.text for c in cues] == ["The key line is here", "The last words stay"]
    assert cues[1].start == pytest.approx(9.3 - 5.467, abs=0.05)

    # the burned subtitles still show where the new .srt says: the edited frame differs from the
    # subtitle-free source at the same moment in the subtitle band only
    at_out = (cues[1].start + cues[1].end) / 2
    at_src = at_out + 5.467
    edited_frame, reference = frame(path, at_out), frame(sources["plain"], at_src)
    with_subs = frame(sources["subs"], at_src)
    rows = np.where(np.abs(with_subs - reference).mean(axis=(1, 2)) > 2)[0]
    assert len(rows) > 5, "the source has no visible subtitle"
    band = slice(rows.min(), rows.max() + 1)
    middle = slice(int(H * 0.2), int(H * 0.5))
    band_diff = np.abs(edited_frame[band] - reference[band]).mean()
    middle_diff = np.abs(edited_frame[middle] - reference[middle]).mean()
    assert band_diff > 5 * max(middle_diff, 0.5)
    white, black = text_pixels(edited_frame[band])
    assert white > 100 and black > 100  # white letters with a black outline

    # the key line: zoomed in (the picture differs from the source's) and a highlight bar under it
    key = frame(path, 2.2)
    low = key[int(H * 0.75): int(H * 0.9), int(W * 0.3): int(W * 0.7)]
    yellow = (low[..., 0] > 200) & (low[..., 1] > 180) & (low[..., 2] < 80)
    assert (yellow.mean(axis=1) > 0.8).sum() >= 3  # rows of bar across the middle of the frame
    assert np.abs(key[: int(H * 0.5)] - frame(sources["subs"], 2.2)[: int(H * 0.5)]).mean() > 10  # zoomed
    late, late_src = frame(path, 4.5), frame(sources["subs"], 4.5 + 5.467)  # after the key line: no zoom, no bar
    top = slice(0, int(H * 0.5))
    assert np.abs(late[top] - late_src[top]).mean() < 3
    assert np.abs(late[int(H * 0.8): int(H * 0.82)] - late_src[int(H * 0.8): int(H * 0.82)]).mean() < 6

    # the event, once; a second call returns the stored edit
    with app.db.session() as s:
        ev = s.scalars(select(Event).where(Event.type == events.VIDEO_EDITED, Event.subject_id == edited["id"])).all()
        assert len(ev) == 1
        assert ev[0].payload["parent_id"] == vid and ev[0].payload["cuts"] == 1
        assert ev[0].payload["duration_after_s"] == pytest.approx(5.5, abs=0.1)
        assert ev[0].payload["removed_total_s"] == pytest.approx(5.5, abs=0.1)
    again = edit_video(app, video_id=vid)
    assert again["reused"] is True and again["id"] == edited["id"] and again["sha256"] == edited["sha256"]
    assert again["edit"]["cuts"] == 1
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Video).where(Video.parent_id == vid)) == 1
        assert s.scalar(select(func.count()).select_from(Event).where(Event.type == events.VIDEO_EDITED)) == 1

    # a target: the tail after the pause in the middle goes, the key line stays
    short = edit_video(app, video_id=vid, target_seconds=4.0)
    assert short["id"] != edited["id"] and short["edit"]["duration_after_s"] <= 4.0
    check_edit(app, short, duration=short["edit"]["duration_after_s"])
    assert "trim" in short["edit"]["removed_s"] and short["edit"]["key_line"]["end_s"] == pytest.approx(2.5, abs=0.05)

    # an edit of the edit keeps the chain: story -> rendered -> edited -> edited
    chained = edit_video(app, video_id=edited["id"], backend="cutter")
    assert chained["parent_id"] == edited["id"] and chained["edit"]["cuts"] == 0
    assert chained["edit"]["duration_after_s"] == pytest.approx(edited["duration_s"], abs=0.1)


def test_a_real_render_is_edited_by_its_scenes(tmp_path):
    """A rendered Korean story: the key line is its hook, a target drops trailing scenes whole."""
    app = make_app(tmp_path / "home")
    try:
        make_image(tmp_path / "wide.jpg", size=(640, 360))
        aid = store_article(app, "edit-ko", lang="ko")
        mid = store_media(app, aid, 1, "image", tmp_path / "wide.jpg")
        story = make_story(aid, "ko", [MediaRef(media_id=mid, kind="image")] * 3, scene_s=4.0)
        sid = store_story(app, story, "s-edit-ko")
        video = render_story(app, story_id=sid)
        edited = edit_video(app, video_id=video["id"], target_seconds=video["duration_s"] - 2.0)
        assert edited["story_id"] == sid and edited["parent_id"] == video["id"]
        assert edited["edit"]["scenes_from"] == "render plan"
        assert edited["edit"]["key_line"]["text"].startswith("요즘 이삼십대는")
        assert edited["duration_s"] <= video["duration_s"] - 2.0 + 0.05
        check_edit(app, edited, duration=edited["duration_s"])
        srt = stored_path(app, edited["subtitles_path"]).read_text(encoding="utf-8")
        assert "요즘 이삼십대는" in srt
        # the key line ends before the target: too short a target is refused
        with pytest.raises(EditError, match="too short"):
            edit_video(app, video_id=video["id"], target_seconds=edited["edit"]["key_line"]["end_s"] - 0.5)
    finally:
        app.close()


def test_bad_inputs_are_clear_errors(app, sources, tmp_path):
    with pytest.raises(EditError, match="unknown video 'vnope'"):
        edit_video(app, video_id="vnope")
    vid = store_rendered(app, "vsource00000000000000002", sources, status="error")
    with pytest.raises(EditError, match="is not finished"):
        edit_video(app, video_id=vid)
    vid = store_rendered(app, "vsource00000000000000003", sources)
    with app.db.session() as s:
        s.get(Video, vid).files_purged_at = utcnow()
    with pytest.raises(EditError, match="files were purged"):
        edit_video(app, video_id=vid)
    vid = store_rendered(app, "vsource00000000000000004", sources)
    with app.db.session() as s:
        key = s.get(Video, vid).path
    stored_path(app, key).unlink()
    with pytest.raises(EditError, match="missing from the store"):
        edit_video(app, video_id=vid)
    with app.db.session() as s:  # nothing was started for these
        assert s.scalar(select(func.count()).select_from(Video).where(
            Video.parent_id.in_(["vsource00000000000000002", "vsource00000000000000003", vid]))) == 0
    vid = store_rendered(app, "vsource00000000000000005", sources)
    with pytest.raises(ConfigError, match="unknown video editor 'nope'"):
        edit_video(app, video_id=vid, backend="nope")
    with pytest.raises(EditError, match="too short"):
        edit_video(app, video_id=vid, target_seconds=1.0)


class Broken:
    """A backend that fails the way a model server can."""

    name = "broken"

    def __init__(self, settings):
        self.settings = settings

    def settings_key(self) -> str:
        return "1"

    def edit(self, job):
        raise EditFailed("the model server answered 503 three times")


class Copier:
    """A backend that plugs in through the registry: it returns the source as it is."""

    name = "copier"

    def __init__(self, settings):
        self.settings = settings

    def settings_key(self) -> str:
        return "copy-1"

    def edit(self, job):
        out = Path(job.workdir) / "out.mp4"
        shutil.copyfile(job.source, out)
        thumb = Path(job.workdir) / "t.jpg"
        shutil.copyfile(job.thumbnail, thumb)
        info = probe(out)
        return EditOutput(video=out, thumbnail=thumb, subtitles=None, duration_s=info.duration_s,
                          width=info.video.width, height=info.video.height, summary={"cuts": 0, "removed_s": {}})


def test_other_editors_plug_in_and_failures_are_recorded(app, sources):
    app.registry.register("video_editor", "broken", Broken)
    app.registry.register("video_editor", "copier", Copier)
    vid = store_rendered(app, "vsource00000000000000006", sources)
    with pytest.raises(EditFailed, match="503"):
        edit_video(app, video_id=vid, backend="broken")
    with app.db.session() as s:
        row = s.scalar(select(Video).where(Video.parent_id == vid, Video.backend == "broken"))
        assert row.status == "error" and "503" in row.error and row.path is None
    copied = edit_video(app, video_id=vid, backend="copier")
    assert copied["backend"] == "copier" and copied["subtitles_path"] is None
    assert copied["edit"]["duration_before_s"] == 11.0 and copied["edit"]["cuts"] == 0
    assert copied["sha256"] == sha(sources["subs"])


@pytest.mark.postgres
def test_edit_rows_on_postgresql(tmp_path, sources, pg_available):
    from tests.conftest import PG_URL, _drop_pg_schema, _fresh_pg_schema

    if not pg_available:
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    schema, args = _fresh_pg_schema()
    app = make_app(tmp_path / "home", db_url=PG_URL, connect_args=args)
    try:
        vid = store_rendered(app, "vsource00000000000000007", sources)
        edited = edit_video(app, video_id=vid, target_seconds=5.0)
        assert edited["parent_id"] == vid and edited["duration_s"] <= 5.05
        assert edit_video(app, video_id=vid, target_seconds=5.0)["reused"] is True
        with app.db.session() as s:
            assert s.scalar(select(func.count()).select_from(Event).where(Event.type == events.VIDEO_EDITED)) == 1
    finally:
        app.close()
        _drop_pg_schema(schema)
