"""An edit of a trendreel render uses what the render recorded (where its voice speaks, that no picture
is held still) instead of decoding the video, and cuts where the decoding analysis would.

The same rendered file is edited twice: once as it is (the row's `timeline` matches the file), once
with the recorded hash no longer matching (so the editor must decode and detect, as for any other
video). Both edits' keep segments agree within a frame or two of sound."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.render_support import make_image, make_music, make_story, store_article, store_media, store_story
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.db.tables import Video
from trendreel.files.store import open_file_store
from trendreel.services.edit import edit_video
from trendreel.services.render import render_story
from trendreel.settings import Settings
from trendreel.story.models import MediaRef

pytestmark = pytest.mark.slow

# speech edges: the phrase's own trimmed edge against silencedetect at -45 dB on the AAC sound (measured: within 0.04 s)
TOLERANCE_S = 0.1


def test_an_edit_of_a_render_uses_its_recorded_speech(tmp_path: Path):
    settings = Settings(home=tmp_path / "home", render={"width": 360, "height": 640})
    settings.home.mkdir(parents=True)
    app = App(settings=settings, db=Database(f"sqlite:///{tmp_path / 'test.db'}"), files=open_file_store(settings.files_url))
    try:
        make_image(tmp_path / "wide.jpg", size=(640, 360))
        aid = store_article(app, "edit-timeline", lang="en")
        mid = store_media(app, aid, 1, "image", tmp_path / "wide.jpg")
        # scenes longer than their narration: dead air between them for the edit to cut
        story = make_story(aid, "en", [MediaRef(media_id=mid, kind="image")] * 3, scene_s=5.0)
        sid = store_story(app, story, "s-edit-timeline")
        video = render_story(app, story_id=sid)
        timeline = video["details"]["timeline"]
        assert timeline["sha256"] == video["sha256"] and timeline["bytes"] == video["bytes"]
        assert timeline["held_frames"] is False and timeline["other_sound"] is False
        spans = timeline["speech_s"]
        assert len(spans) >= 4 and all(0 <= a < b <= video["duration_s"] + 0.05 for a, b in spans)

        recorded = edit_video(app, video_id=video["id"])
        analysis = recorded["details"]["analysis"]
        assert analysis["from"] == "render" and analysis["freezes"] == [] and analysis["shot_cuts"] == []
        assert recorded["edit"]["cuts"] >= 1 and recorded["edit"]["removed_s"].get("silence", 0) > 0.5

        # the same file, but the recorded hash no longer names it: the editor decodes and detects
        with app.db.session() as s:
            row = s.get(Video, video["id"])
            row.details = {**row.details, "timeline": {**timeline, "sha256": "0" * 64}}
        decoded = edit_video(app, video_id=video["id"], force=True)
        found = decoded["details"]["analysis"]
        assert found["from"] == "decode"
        assert found["freezes"] == []  # the render holds no picture still, as it recorded
        kept_r, kept_d = recorded["edit"]["kept"], decoded["edit"]["kept"]
        assert len(kept_r) == len(kept_d), (kept_r, kept_d)
        for (a, b), (c, d) in zip(kept_r, kept_d):
            assert a == pytest.approx(c, abs=TOLERANCE_S) and b == pytest.approx(d, abs=TOLERANCE_S), (kept_r, kept_d)
        assert recorded["duration_s"] == pytest.approx(decoded["duration_s"], abs=2 * TOLERANCE_S * len(kept_r))

        # an older render (no timeline) is analysed as before
        with app.db.session() as s:
            row = s.get(Video, video["id"])
            row.details = {k: v for k, v in row.details.items() if k != "timeline"}
        assert edit_video(app, video_id=video["id"], force=True)["details"]["analysis"]["from"] == "decode"
    finally:
        app.close()


def test_an_edit_of_a_render_with_music_listens_to_the_sound_alone(tmp_path: Path):
    """Music plays in the voice's pauses, so the recorded speech does not say where it is silent: the
    editor runs silencedetect over the sound alone, and still decodes no picture."""
    make_music(tmp_path / "music.wav", seconds=3)
    settings = Settings(home=tmp_path / "home", render={"width": 360, "height": 640, "music_path": tmp_path / "music.wav"})
    settings.home.mkdir(parents=True)
    app = App(settings=settings, db=Database(f"sqlite:///{tmp_path / 'test.db'}"), files=open_file_store(settings.files_url))
    try:
        make_image(tmp_path / "wide.jpg", size=(640, 360))
        aid = store_article(app, "edit-timeline-music", lang="en")
        mid = store_media(app, aid, 1, "image", tmp_path / "wide.jpg")
        story = make_story(aid, "en", [MediaRef(media_id=mid, kind="image")] * 2, scene_s=5.0)
        video = render_story(app, story_id=store_story(app, story, "s-edit-timeline-music"))
        timeline = video["details"]["timeline"]
        assert timeline["other_sound"] is True and timeline["held_frames"] is False
        edited = edit_video(app, video_id=video["id"])
        analysis = edited["details"]["analysis"]
        assert analysis["from"] == "sound" and analysis["freezes"] == []
        spans = timeline["speech_s"]
        pauses = sum(b - a for (_, a), (b, _) in zip(spans, spans[1:]))
        heard = sum(b - a for a, b in analysis["silences"] if spans[0][0] < a and b < spans[-1][1])
        assert pauses > 1.0 and heard < pauses / 2  # the music fills the voice's pauses
    finally:
        app.close()
