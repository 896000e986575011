"""The ltx2 backend's own code on this machine (no GPU): a stand-in model returns frames and sound of the
shapes LTX-2 returns, and everything else runs for real: scene lengths from the plan, prompts, the
conditioning picture, 8k+1 frame counts, clip encoding, the model's sound under the narration, composing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.render_support import make_clip, make_image, make_story, store_article, store_media, store_story
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.files.store import open_file_store
from trendreel.registry import default_registry
from trendreel.services.render import render_story
from trendreel.render.ffmpeg import probe
from trendreel.render.ltx2 import Ltx2Generator, clip_frames
from trendreel.settings import Ltx2Settings, Settings
from trendreel.story.models import MediaRef


class FakeLtx2:
    """Frames of a moving gradient and a 440 Hz tone, as LTX-2 would return them."""

    sample_rate = 24000

    def __init__(self):
        self.calls = []

    def generate(self, *, prompt, negative_prompt, image, width, height, num_frames, frame_rate, steps, guidance_scale,
                 seed, on_step=None):
        self.calls.append({"prompt": prompt, "image": None if image is None else image.size, "frames": num_frames,
                           "seed": seed})
        for s in range(1, steps + 1):
            on_step(s)
        x = np.linspace(0, 255, width)[None, None, :, None]
        t = np.arange(num_frames)[:, None, None, None] * 4
        frames = np.broadcast_to((x + t) % 256, (num_frames, height, width, 3)).astype(np.uint8)
        n = round(num_frames / frame_rate * self.sample_rate)
        tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / self.sample_rate)
        return frames, np.stack([tone, tone]).astype(np.float32)


def test_frame_counts_are_8k_plus_1_and_capped():
    cfg = Ltx2Settings(frame_rate=24, max_clip_s=5)
    assert clip_frames(2.0, cfg) == 49 and clip_frames(0.1, cfg) == 9
    assert clip_frames(30, cfg) == 113  # 5 s at 24 fps, rounded down to 8k+1
    assert all((clip_frames(s / 10, cfg) - 1) % 8 == 0 for s in range(1, 80))


@pytest.mark.slow
def test_a_story_renders_with_a_stand_in_model(tmp_path):
    fake = FakeLtx2()
    default_registry().register("video_generator", "ltx2-test", lambda s: Ltx2Generator(s, model=fake))
    settings = Settings(home=tmp_path, render={"width": 360, "height": 640, "loudness_passes": 1, "preset": "ultrafast",
                                               "ltx2": {"width": 96, "height": 160, "steps": 3, "max_clip_s": 3}})
    app = App(settings=settings, db=Database(f"sqlite:///{tmp_path / 't.db'}"), files=open_file_store(settings.files_url))
    try:
        make_image(tmp_path / "wide.jpg", size=(640, 360))
        make_clip(tmp_path / "clip.mp4", seconds=3, size=(320, 180))
        aid = store_article(app, "ltx2-fake", lang="ko")
        img = store_media(app, aid, 1, "image", tmp_path / "wide.jpg")
        clip = store_media(app, aid, 2, "video", tmp_path / "clip.mp4", duration_s=3.0)
        story = make_story(aid, "ko", [MediaRef(media_id=img, kind="image"),
                                       MediaRef(media_id=clip, kind="video", start_s=0.5, end_s=2.0), None], scene_s=1.5)
        sid = store_story(app, story, "sltx2fake")
        video = render_story(app, story_id=sid, backend="ltx2-test")
    finally:
        app.close()
    assert video["status"] == "done"
    info = probe(Path(settings.files_url.removeprefix("file://")) / video["path"])
    assert (info.video.width, info.video.height) == (360, 640) and info.audio.codec == "aac"
    scenes = video["details"]["ltx2"]["scenes"]
    assert [s["conditioned_on"] for s in scenes] == [img, clip, None]  # a picture, a frame of the clip, text only
    assert [c["image"] for c in fake.calls] == [(96, 160), (96, 160), None]
    assert [c["seed"] for c in fake.calls] == [0, 1, 2]
    for s, call in zip(scenes, fake.calls):
        assert (s["frames"] - 1) % 8 == 0 and s["frames"] == call["frames"] and s["frames"] <= 3 * 24 + 1
        assert s["size"] == [96, 160]
    assert "러닝 크루 급증" in fake.calls[0]["prompt"] and "no speech" in fake.calls[0]["prompt"]
    assert video["details"]["generator"]["name"] == "ltx2"
    assert video["details"]["generator"]["composed_by"]["name"] == "compositor"
    assert video["duration_s"] > 4
