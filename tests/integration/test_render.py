"""The render stage end to end with real ffmpeg, espeak-ng and piper, on media made here with ffmpeg.

Videos are small (360x640) to keep the suite fast, except one full 1080x1920 render. Outputs are
checked with ffprobe (streams, size, length), the sound with volumedetect and ebur128, and the
subtitles by looking at decoded frames: the subtitle band against the same frame rendered without
subtitles, and Hangul against the boxes a font without Hangul would draw.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.render_support import (
    frame,
    make_clip,
    make_image,
    make_music,
    make_story,
    make_unsupported_codec,
    store_article,
    store_media,
    store_story,
    text_pixels,
)
from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel import events
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.db.tables import Event, Video
from trendreel.errors import ConfigError
from trendreel.files.store import open_file_store
from trendreel.render import FontUnavailable, RenderError, SpeechUnavailable
from trendreel.render.ffmpeg import loudness, probe, volume
from trendreel.services.render import render_story
from trendreel.services.videos import get_video, list_videos
from trendreel.settings import Settings
from trendreel.story.models import MediaRef

pytestmark = pytest.mark.slow

SMALL = {"width": 360, "height": 640}


def make_app(home: Path, *, db_url: str | None = None, connect_args: dict | None = None, memory: bool = False,
             **render) -> App:
    settings = Settings(home=home, render={**SMALL, **render}, **({"files_url": "memory://"} if memory else {}))
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(db_url or f"sqlite:///{home / 'test.db'}", connect_args=connect_args)
    return App(settings=settings, db=db, files=open_file_store(settings.files_url))


def with_render(app: App, **changes) -> App:
    """The same database and files, other render settings."""
    settings = app.settings.model_copy(update={"render": app.settings.render.model_copy(update=changes)})
    return App(settings=settings, db=app.db, files=app.files)


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("render-media")
    make_image(d / "wide.jpg", size=(1280, 720))
    make_image(d / "tall.png", size=(600, 1000), source="mandelbrot")
    make_clip(d / "clip.mp4", seconds=4)
    make_unsupported_codec(d / "codec.avi")
    (d / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    make_music(d / "music.wav", seconds=3)
    return d


def stock(app: App, media_dir: Path, lang: str, slug: str) -> dict[str, str]:
    """An article with a wide image, a tall image and a 4 s clip, stored; returns their media ids."""
    aid = store_article(app, slug, lang=lang)
    return {"aid": aid,
            "wide": store_media(app, aid, 1, "image", media_dir / "wide.jpg"),
            "clip": store_media(app, aid, 2, "video", media_dir / "clip.mp4", duration_s=4.0),
            "tall": store_media(app, aid, 3, "image", media_dir / "tall.png")}


def three_scenes(ids: dict[str, str]) -> list[MediaRef]:
    return [MediaRef(media_id=ids["wide"], kind="image"),
            MediaRef(media_id=ids["clip"], kind="video", start_s=1.0, end_s=3.0),
            MediaRef(media_id=ids["tall"], kind="image")]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("render-home"))
    yield app
    app.close()


def stored_path(app: App, key: str) -> Path:
    path = app.files.local_path(key)
    assert path is not None and path.is_file(), key
    return path


def check_video(app: App, video: dict, *, width: int, height: int) -> Path:
    """The common checks on a finished render: streams, size, length, sound, thumbnail, subtitles."""
    assert video["status"] == "done" and video["error"] is None
    assert video["path"].startswith("videos/") and video["path"].endswith(f"/{video['id']}/video.mp4")
    path = stored_path(app, video["path"])
    info = probe(path)
    assert info.video.codec == "h264" and (info.video.width, info.video.height) == (width, height)
    assert info.video.fps == pytest.approx(30, abs=0.01)
    assert info.audio.codec == "aac" and info.audio.sample_rate == 48000 and info.audio.channels == 2
    assert info.duration_s == pytest.approx(video["duration_s"], abs=0.1)
    assert info.audio.duration_s == pytest.approx(info.video.duration_s, abs=0.1)  # sound to the last frame
    assert 4 < video["duration_s"] <= 60
    mean_db, max_db = volume(path)
    assert max_db > -6 and mean_db > -35, "the sound is (nearly) silent"
    assert loudness(path) == pytest.approx(-14, abs=1.5)
    thumb = stored_path(app, video["thumbnail_path"])
    with Image.open(thumb) as im:
        assert im.format == "JPEG" and im.size == (width, height)
    srt = stored_path(app, video["subtitles_path"]).read_text(encoding="utf-8")
    assert srt.startswith("1\n00:00:00,") and " --> " in srt
    assert video["bytes"] == path.stat().st_size and len(video["sha256"]) == 64
    return path


def cue_times(app: App, video: dict) -> list[tuple[float, float]]:
    srt = stored_path(app, video["subtitles_path"]).read_text(encoding="utf-8")
    out = []
    for block in srt.strip().split("\n\n"):
        start, end = block.splitlines()[1].split(" --> ")
        to_s = lambda t: int(t[:2]) * 3600 + int(t[3:5]) * 60 + float(t[6:].replace(",", "."))  # noqa: E731
        out.append((to_s(start), to_s(end)))
    return out


def test_korean_story_renders_with_subtitles_and_is_idempotent(app, media_dir):
    ids = stock(app, media_dir, "ko", "ko-run")
    sid = store_story(app, make_story(ids["aid"], "ko", three_scenes(ids)), "s-ko-run")
    video = render_story(app, story_id=sid)
    assert video["reused"] is False and video["story_id"] == sid and video["backend"] == "compositor"
    assert video["stage"] == "rendered" and video["warnings"] == []
    path = check_video(app, video, width=360, height=640)
    srt = stored_path(app, video["subtitles_path"]).read_text(encoding="utf-8")
    assert "요즘 이삼십대는" in srt and "러닝 크루가" in srt
    details = video["details"]
    assert details["plan"]["voice"] == "espeak-ng:ko" and details["plan"]["font"] == "NanumGothic.ttf"
    assert [s["shots"][0]["kind"] for s in details["plan"]["scenes"]] == ["image", "video", "image"]

    # subtitles: the same frame rendered without them differs in the subtitle band only
    plain = render_story(with_render(app, subtitles=False), story_id=sid)
    assert plain["id"] != video["id"]
    start, end = cue_times(app, video)[2]
    at = (start + end) / 2
    with_subs, without = frame(path, at), frame(stored_path(app, plain["path"]), at)
    band = slice(int(640 * 0.68), int(640 * 0.80))  # one or two lines above the bottom 20 %
    middle = slice(int(640 * 0.35), int(640 * 0.55))
    band_diff = np.abs(with_subs[band] - without[band]).mean()
    middle_diff = np.abs(with_subs[middle] - without[middle]).mean()  # the encoder's noise only
    assert band_diff > 6 * max(middle_diff, 0.2)
    white, black = text_pixels(with_subs[band])
    assert white > 300 and black > 300  # white letters with a black outline

    # a second run returns the stored video; no new row, file or event
    again = render_story(app, story_id=sid)
    assert again["reused"] is True and again["id"] == video["id"] and again["sha256"] == video["sha256"]
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(
            Event.type == events.VIDEO_RENDERED, Event.subject_id == video["id"])) == 1
    assert get_video(app, video["id"])["path"] == video["path"]
    listed = list_videos(app, story_id=sid)
    assert {v["id"] for v in listed} == {video["id"], plain["id"]}

    # an edited story renders again, into the same row and folder
    edited = make_story(ids["aid"], "ko", three_scenes(ids))
    edited.title = "러닝 크루 두 배"  # the headline
    store_story(app, edited, sid)
    redone = render_story(app, story_id=sid)
    assert redone["reused"] is False and redone["id"] == video["id"] and redone["path"] == video["path"]
    assert redone["sha256"] != video["sha256"]


def test_english_story_is_narrated_by_piper(app, media_dir):
    ids = stock(app, media_dir, "en", "en-run")
    sid = store_story(app, make_story(ids["aid"], "en", three_scenes(ids)), "s-en-run")
    video = render_story(app, story_id=sid)
    check_video(app, video, width=360, height=640)
    assert video["details"]["plan"]["voice"] == "piper:en_US-joe-medium"
    srt = stored_path(app, video["subtitles_path"]).read_text(encoding="utf-8")
    said = " ".join(srt.split())  # a cue's two lines as one
    assert "People in their twenties" in said and "Experts expect" in said
    # cues follow the voice: in order, inside the video, not overlapping
    cues = cue_times(app, video)
    assert all(a < b for a, b in cues) and all(b1 <= a2 + 1e-3 for (_, b1), (a2, _) in zip(cues, cues[1:]))
    assert cues[-1][1] <= video["duration_s"] + 1e-3


def test_full_size_korean_render(tmp_path, media_dir):
    app = make_app(tmp_path / "home", width=1080, height=1920)
    try:
        ids = stock(app, media_dir, "ko", "ko-full")
        story = make_story(ids["aid"], "ko", three_scenes(ids), scene_s=2.0)
        sid = store_story(app, story, "s-ko-full")
        video = render_story(app, story_id=sid)
        path = check_video(app, video, width=1080, height=1920)
        layers = video["details"]["plan"]["text_layers"]
        assert layers[0]["kind"] == "headline" and layers[0]["text"] == story.title
        head = frame(path, 1.0)  # the headline, big, in the middle; nothing in the subtitle band yet
        assert text_pixels(head[int(1920 * 0.4):int(1920 * 0.6)])[0] > 3000
        assert text_pixels(head[int(1920 * 0.62):int(1920 * 0.80)])[0] < 100
        cue = layers[1]
        img = frame(path, (cue["start_s"] + cue["end_s"]) / 2)
        white, black = text_pixels(img[int(1920 * 0.62):int(1920 * 0.80)])
        assert white > 3000 and black > 3000
        assert text_pixels(img[int(1920 * 0.4):int(1920 * 0.6)])[0] < 100
    finally:
        app.close()


def _ass_frame(tmp_path: Path, text: str, name: str) -> np.ndarray:
    """`text` drawn by libass with the render's font setup on a black 1080x1920 frame; white pixels as a mask."""
    from trendreel.render.fonts import resolve_font
    from trendreel.render.plan import Layout

    font = resolve_font(None, need_hangul=True)
    fonts = tmp_path / "fonts"
    fonts.mkdir(exist_ok=True)
    for f in (font.path, font.bold_path):
        if not (fonts / f.name).exists():
            (fonts / f.name).symlink_to(f)
    lay = Layout(1080, 1920)
    (tmp_path / f"{name}.ass").write_text("\n".join([
        "[Script Info]", "ScriptType: v4.00+", "PlayResX: 1080", "PlayResY: 1920", "", "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Sub,{font.family},{lay.sub_size},&H00FFFFFF,&H000000FF,&H00000000,&H00000000,-1,0,0,0,100,100,0,0,1,0,0,5,0,0,0,1",
        "", "[Events]", "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        f"Dialogue: 0,0:00:00.00,0:00:01.00,Sub,,0,0,0,,{text}", ""]), encoding="utf-8")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=1080x1920:d=1",
                    "-vf", f"ass={name}.ass:fontsdir=fonts", "-frames:v", "1", "-update", "1", f"{name}.png"],
                   cwd=tmp_path, check=True, capture_output=True)
    with Image.open(tmp_path / f"{name}.png") as im:
        return np.asarray(im.convert("L")) > 128


def test_hangul_renders_as_letters_not_boxes(tmp_path):
    if shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}", "NanumGothic"], capture_output=True, text=True).stdout
        assert found.endswith("NanumGothic.ttf")
    ga, ra, boxes = (_ass_frame(tmp_path, t, n) for t, n in (("가나다", "ga"), ("라마바", "ra"), ("□□□", "boxes")))
    assert ga.sum() > 1000 and ra.sum() > 1000
    # tofu would draw the same box for every letter: different syllables must give different pictures
    assert (ga ^ ra).sum() > 0.3 * ga.sum()
    assert (ga ^ boxes).sum() > 0.3 * ga.sum()


def test_bad_inputs_give_a_valid_video_with_warnings(app, media_dir):
    aid = store_article(app, "bad", lang="en")
    missing = store_media(app, aid, 1, "image", None)  # a row whose file never reached the store
    corrupt = store_media(app, aid, 2, "image", media_dir / "corrupt.jpg")
    clip = store_media(app, aid, 3, "video", media_dir / "clip.mp4", duration_s=4.0)
    codec = store_media(app, aid, 4, "video", media_dir / "codec.avi", duration_s=2.0)
    text = {"title": "A very long title that cannot possibly fit on a phone screen as a headline " * 4,
            "hook": "Some of these files are broken.",
            "narration": ["The first picture is missing.", "The second one is corrupt.",
                          "This clip starts after its end.", "This codec is unknown."],
            "on_screen": ["missing", "corrupt", "empty clip", "unknown codec"]}
    story = make_story(aid, "en", [MediaRef(media_id=missing, kind="image"), MediaRef(media_id=corrupt, kind="image"),
                                   MediaRef(media_id=clip, kind="video", start_s=6.0, end_s=8.0),
                                   MediaRef(media_id=codec, kind="video", start_s=0.0, end_s=1.5)], text=text, scene_s=2.0)
    sid = store_story(app, story, "s-bad")
    video = render_story(app, story_id=sid)
    path = check_video(app, video, width=360, height=640)
    warnings = "\n".join(video["warnings"])
    assert "scene 1:" in warnings and "missing from the store" in warnings
    assert "scene 2:" in warnings and "cannot be read" in warnings
    assert "scene 3:" in warnings and "is empty" in warnings
    assert "scene 4:" in warnings and "cannot be decoded" in warnings
    assert "title is too long for the headline" in warnings
    kinds = [s["shots"][0]["kind"] for s in video["details"]["plan"]["scenes"]]
    assert kinds == ["card", "card", "image", "card"]
    # on a plain card the subtitle band shows letters only while a cue is up
    cue = video["details"]["plan"]["text_layers"][1]  # the first cue after the headline
    img = frame(path, (cue["start_s"] + cue["end_s"]) / 2)
    white, black = text_pixels(img[int(640 * 0.62):int(640 * 0.80)])
    assert white > 200 and black > 200


def test_errors_are_clear_and_recorded(app, media_dir, tmp_path):
    with pytest.raises(RenderError, match="unknown story"):
        render_story(app, story_id="s-nope")
    with pytest.raises(RenderError, match="unknown video"):
        get_video(app, "v-nope")
    ids = stock(app, media_dir, "ko", "ko-errors")
    sid = store_story(app, make_story(ids["aid"], "ko", three_scenes(ids)), "s-ko-errors")
    with pytest.raises(ConfigError, match="unknown video backend 'gpu-x'"):
        render_story(app, story_id=sid, backend="gpu-x")
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if dejavu.is_file():
        with pytest.raises(FontUnavailable, match="Hangul"):
            render_story(with_render(app, font_file=dejavu), story_id=sid)
    with pytest.raises(SpeechUnavailable, match="unknown piper voice"):
        render_story(with_render(app, voices={"ko": "piper:ko_KR-nobody"}), story_id=sid)
    with pytest.raises(ConfigError, match="music_path"):
        render_story(with_render(app, music_path=tmp_path / "no.mp3"), story_id=sid)
    with app.db.session() as s:
        failed = list(s.scalars(select(Video).where(Video.story_id == sid)))
    assert failed and all(v.status == "error" and v.error and v.path is None for v in failed)
    stored = list(app.files.list("videos/"))
    assert not any(v.id in key for v in failed for key in stored)  # nothing of a failed render is stored


def test_music_is_ducked_under_the_voice_from_an_object_store(tmp_path, media_dir):
    app = make_app(tmp_path / "home", memory=True, music_path=media_dir / "music.wav", music_volume_db=-10)
    try:
        ids = stock(app, media_dir, "ko", "ko-music")
        sid = store_story(app, make_story(ids["aid"], "ko", three_scenes(ids), scene_s=6.0), "s-ko-music")
        video = render_story(app, story_id=sid)
        assert video["status"] == "done"
        local = tmp_path / "video.mp4"
        local.write_bytes(app.files.get(video["path"]))
        assert loudness(local) == pytest.approx(-14, abs=1.5)
        # between the second scene's last words and the third scene's first, only the music plays
        cues = cue_times_from(app.files.get(video["subtitles_path"]).decode())
        gap_start, gap_end = max(((a[1] + 0.5, b[0] - 0.2) for a, b in zip(cues, cues[1:])), key=lambda g: g[1] - g[0])
        assert gap_end - gap_start > 0.5
        gap = tmp_path / "gap.wav"
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-ss", f"{gap_start:.2f}", "-t", f"{gap_end - gap_start:.2f}",
                        "-i", str(local), "-vn", "-c:a", "pcm_s16le", str(gap)], check=True, capture_output=True)
        mean_gap, _ = volume(gap)
        assert mean_gap > -40
        assert video["details"]["sound"]["loudness_passes"] == 2
    finally:
        app.close()


def cue_times_from(srt: str) -> list[tuple[float, float]]:
    out = []
    for block in srt.strip().split("\n\n"):
        start, end = block.splitlines()[1].split(" --> ")
        to_s = lambda t: int(t[:2]) * 3600 + int(t[3:5]) * 60 + float(t[6:].replace(",", "."))  # noqa: E731
        out.append((to_s(start), to_s(end)))
    return out


@pytest.mark.postgres
def test_render_rows_on_postgresql(tmp_path, media_dir, pg_available):
    from tests.conftest import PG_URL, _drop_pg_schema, _fresh_pg_schema

    if not pg_available:
        pytest.skip("PostgreSQL is not reachable")
    schema, args = _fresh_pg_schema()
    app = make_app(tmp_path / "home", db_url=PG_URL, connect_args=args)
    try:
        ids = stock(app, media_dir, "ko", "ko-pg")
        sid = store_story(app, make_story(ids["aid"], "ko", three_scenes(ids)[:1], scene_s=1.5), "s-ko-pg")
        first = render_story(app, story_id=sid)
        again = render_story(app, story_id=sid)
        assert first["status"] == "done" and again["reused"] and again["id"] == first["id"]
        forced = render_story(app, story_id=sid, force=True)
        assert forced["reused"] is False and forced["id"] == first["id"]
        assert [v["id"] for v in list_videos(app)] == [first["id"]]
    finally:
        app.close()
        _drop_pg_schema(schema)


class StillGenerator:
    """A stand-in backend: one ffmpeg test picture with a tone, made without looking at the story."""

    name = "still"

    def __init__(self, settings):
        self.settings = settings

    def settings_key(self) -> str:
        return "still-1"

    def generate(self, job):
        from trendreel.render.base import RenderOutput

        out = job.workdir / "v.mp4"
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=180x320:d=2", "-f", "lavfi",
                        "-i", "sine=d=2", "-c:v", "libx264", "-c:a", "aac", "-shortest", str(out)], check=True)
        thumb, srt = job.workdir / "t.jpg", job.workdir / "s.srt"
        thumb.write_bytes(b"jpeg")
        srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nhi\n")
        return RenderOutput(video=out, thumbnail=thumb, subtitles=srt, duration_s=2.0, width=180, height=320,
                            details={"warnings": []})


def test_another_backend_plugs_in_through_the_registry(app, media_dir):
    app.registry.register("video_generator", "still", StillGenerator)
    assert {"compositor", "still"} <= set(app.registry.names("video_generator"))
    ids = stock(app, media_dir, "en", "en-still")
    sid = store_story(app, make_story(ids["aid"], "en", three_scenes(ids)), "s-en-still")
    video = render_story(app, story_id=sid, backend="still")
    assert video["backend"] == "still" and video["status"] == "done" and video["width"] == 180
    assert stored_path(app, video["path"]).stat().st_size == video["bytes"]
    assert render_story(app, story_id=sid, backend="still")["reused"] is True
    with app.db.session() as s:
        event = s.scalar(select(Event).where(Event.subject_id == video["id"]))
    assert event.type == events.VIDEO_RENDERED and event.payload["backend"] == "still"
