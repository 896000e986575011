"""Shots that never hold a picture still, frame shapes, framing of small media, upload bit rates, music choice."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from trendreel.errors import ConfigError
from trendreel.adapters.ffmpeg import upload_bitrate_k
from trendreel.render.compositor import MAX_UPSCALE, framing, rate_args
from trendreel.render.media import Visual
from trendreel.render.plan import MAX_SHOT_S, MIN_SPEED, Shot, choose_music, frame_size, plan_shots
from trendreel.render.styles import Layout
from trendreel.settings import RenderSettings

FPS = 30


def clip(seconds: float, start: float = 1.0) -> Visual:
    return Visual(kind="video", path=Path("c.mp4"), media_id="c", clip_in=start, clip_out=start + seconds, width=640, height=360)


def image(name: str = "i", size=(1280, 720)) -> Visual:
    return Visual(kind="image", path=Path(f"{name}.jpg"), media_id=name, width=size[0], height=size[1])


def test_a_short_clip_is_slowed_then_looped_never_held():
    shots = plan_shots([clip(2.0)], 6 * FPS, FPS, motion=True)
    assert sum(s.frames for s in shots) == 6 * FPS
    assert len(shots) == 2 and all(s.frames / FPS <= MAX_SHOT_S for s in shots)
    for s in shots:  # each 3 s shot shows the 2 s clip at 2/3 speed: moving from its first to its last frame
        assert s.speed == pytest.approx(2 / 3, abs=0.01) and not s.loop
        assert (s.clip_in, s.clip_out) == (1.0, 3.0)
        assert s.clip_s / s.speed == pytest.approx(s.frames / FPS, abs=0.05)

    tiny = plan_shots([clip(0.8)], 4 * FPS, FPS, motion=True)[0]
    assert tiny.speed == MIN_SPEED and tiny.loop  # 0.8 s at half speed is 1.6 s: it starts again


def test_a_short_clip_gives_its_time_to_the_other_visuals_of_the_scene():
    shots = plan_shots([clip(1.0), image()], 6 * FPS, FPS, motion=True)
    kinds = [(s.kind, s.frames) for s in shots]
    assert kinds[0] == ("video", int(1.0 * FPS / MIN_SPEED))  # at most its length at half speed
    assert sum(f for _, f in kinds) == 6 * FPS
    assert all(f <= MAX_SHOT_S * FPS for _, f in kinds)
    assert all(not s.loop for s in shots if s.kind == "video")


def test_long_scenes_are_cut_every_few_seconds_and_stills_move_differently():
    shots = plan_shots([image()], 10 * FPS, FPS, motion=True)
    assert len(shots) == 3 and all(2 * FPS <= s.frames <= MAX_SHOT_S * FPS for s in shots)
    motions = [s.motion for s in shots]
    assert "none" not in motions and len(set(motions)) == 3
    long_clip = plan_shots([clip(12.0, start=0.0)], 9 * FPS, FPS, motion=True)
    assert [(s.clip_in, s.clip_out) for s in long_clip] == [(0.0, 4.5), (4.5, 9.0)]  # the clip goes on
    assert all(s.speed == 1.0 for s in long_clip)
    two = plan_shots([image("a"), image("b")], 11 * FPS, FPS, motion=True)
    assert [s.visual.media_id for s in two] == ["a", "b", "a"]
    card = plan_shots([], 9 * FPS, FPS, motion=True)
    assert len(card) == 1 and card[0].kind == "card"


def test_frame_size_follows_the_aspect_and_text_scales():
    assert frame_size(RenderSettings()) == (1080, 1920)
    assert frame_size(RenderSettings(aspect="1:1")) == (1080, 1080)
    assert frame_size(RenderSettings(aspect="16:9")) == (1920, 1080)
    assert frame_size(RenderSettings(aspect="16:9", width=360, height=640)) == (640, 360)
    with pytest.raises(ValueError):
        RenderSettings(aspect="4:3")
    tall, square, wide = Layout(1080, 1920), Layout(1080, 1080), Layout(1920, 1080)
    assert (tall.vertical, square.vertical, wide.vertical) == (True, False, False)
    for lay in (square, wide):
        assert lay.sub_size / lay.height >= tall.sub_size / tall.height  # not smaller for the shorter frame
        assert lay.sub_margin_v / lay.height < 0.2  # no platform buttons over the bottom fifth
        assert 0.5 * lay.width < lay.text_width() < 0.9 * lay.width or lay is wide
    assert wide.text_width() < 0.75 * wide.width  # lines a reader can follow on a wide frame


def test_small_media_are_framed_at_most_twice_their_size():
    def shot(w, h):
        return Shot(visual=image(size=(w, h)), frames=30)

    assert framing(shot(1280, 2276), 1080, 1920, "blur") is None  # big enough: covers the frame
    assert framing(shot(720, 1280), 1080, 1920, "blur") is None  # 1.5x: still covers it
    fw, fh = framing(shot(320, 240), 1080, 1920, "blur")
    assert (fw, fh) == (640, 480) and fw / 320 <= MAX_UPSCALE
    fw, fh = framing(shot(480, 854), 1080, 1920, "cover")  # even when cropping is asked for
    assert fw == 960 and fh == 1708
    assert framing(shot(1920, 1080), 1080, 1920, "blur") == (1080, 608)  # wide: whole over its blurred copy
    assert framing(shot(1920, 1080), 1080, 1920, "cover") is None


def test_upload_bit_rates_follow_the_platforms_table():
    assert upload_bitrate_k(1080, 1920, 30) == 8000
    assert upload_bitrate_k(1920, 1080, 30) == 8000 and upload_bitrate_k(1080, 1080, 30) == 8000
    assert upload_bitrate_k(1080, 1920, 60) == 12000
    assert upload_bitrate_k(720, 1280, 30) == 5000 and upload_bitrate_k(2160, 3840, 30) == 40000
    assert rate_args(RenderSettings(), 1080, 1920, 30) == ["-b:v", "8000k", "-maxrate", "12000k", "-bufsize", "16000k"]
    assert rate_args(RenderSettings(video_bitrate_k=6000), 1080, 1920, 30)[:2] == ["-b:v", "6000k"]
    assert rate_args(RenderSettings(rate_control="crf", crf=20), 1080, 1920, 30) == ["-crf", "20"]


def test_music_is_chosen_from_the_folder_by_story_id(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    names = ["a.mp3", "b.m4a", "c.wav"]
    for n in names:
        (folder / n).write_bytes(b"x")
    (folder / "notes.txt").write_text("not music")
    s = RenderSettings(music_dir=folder)
    picks = {sid: choose_music(s, sid).name for sid in (f"s{i:03d}" for i in range(30))}
    for sid, name in picks.items():
        assert name == names[int(hashlib.sha256(sid.encode()).hexdigest(), 16) % 3]
        assert choose_music(s, sid).name == name  # the same story always gets the same music
    assert set(picks.values()) == set(names)
    one = tmp_path / "one.wav"
    one.write_bytes(b"x")
    assert choose_music(RenderSettings(music_dir=folder, music_path=one), "s1") == one  # music_path still works
    assert choose_music(RenderSettings(), "s1") is None
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="no music files"):
        choose_music(RenderSettings(music_dir=empty), "s1")
    with pytest.raises(ConfigError, match="music_dir"):
        choose_music(RenderSettings(music_dir=tmp_path / "nowhere"), "s1")


def test_a_remote_render_gets_the_chosen_music_file_not_the_folder(tmp_path):
    from trendreel.render.base import RenderJob
    from trendreel.render.jobspec import job_spec
    from trendreel.story.models import Citation, Scene, Story

    folder = tmp_path / "music"
    folder.mkdir()
    for n in ("a.mp3", "b.wav"):
        (folder / n).write_bytes(b"x")
    story = Story(id="s-remote", title="A title", hook="A hook.", lang="en", duration_s=6.0, article_id="a1",
                  backend="template", model="test",
                  scenes=[Scene(narration=t, duration_s=3.0, citations=[Citation(article_id="a1", sentence=i + 1, quote=t)])
                          for i, t in enumerate(("One.", "Two."))])
    settings = RenderSettings(music_dir=folder, aspect="1:1")
    spec, files = job_spec(RenderJob(story=story, media={}, settings=settings, workdir=tmp_path / "w"))
    assert "music_dir" not in spec["settings"] and spec["settings"]["aspect"] == "1:1"
    assert files[spec["music"]] == choose_music(settings, "s-remote")
