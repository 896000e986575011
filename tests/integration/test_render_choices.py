"""Per-render choices (voice, music, aspect) on the real compositor, the preview frame, voice listing and
previews, and the same through the HTTP API: each combination is its own video, and a bad choice is
refused with a message naming it before anything is rendered.
"""

from __future__ import annotations

import wave

import pytest
from PIL import Image

from tests.integration.api_helpers import assert_error, make_gateway
from tests.render_support import make_image, make_music, make_story, store_article, store_media, store_story
from trendreel import services
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.files.store import open_file_store
from trendreel.render.errors import BadRenderChoice
from trendreel.settings import Settings
from trendreel.story.models import MediaRef

pytestmark = pytest.mark.slow

SMALL = {"width": 144, "height": 256, "fps": 10, "preset": "ultrafast", "loudness_passes": 1, "crossfade_s": 0,
         "motion": "none", "voices": {"ko": "espeak-ng:ko", "en": "espeak-ng:en-us"}}
SID = "s" + "c" * 23


@pytest.fixture
def app(tmp_path):
    settings = Settings(home=tmp_path / "home", render=SMALL)
    (settings.home / "music").mkdir(parents=True)
    make_music(settings.home / "music" / "calm.wav", seconds=2)
    application = App(settings=settings, db=Database(f"sqlite:///{tmp_path / 'test.db'}"),
                      files=open_file_store(settings.files_url))
    aid = store_article(application, "choices", lang="en")
    image = store_media(application, aid, 1, "image", make_image(tmp_path / "wide.jpg"))
    store_story(application, make_story(aid, "en", [MediaRef(media_id=image, kind="image")] * 2), SID)
    yield application
    application.close()


def test_each_combination_of_choices_is_its_own_video(app):
    plain = services.render_story(app, story_id=SID)
    chosen = services.render_story(app, story_id=SID, choices={"voice": "espeak-ng:en-gb", "music": "calm.wav"})
    assert chosen["id"] != plain["id"] and chosen["status"] == "done" and not chosen["reused"]
    assert chosen["details"]["choices"] == {"voice": "espeak-ng:en-gb", "music": "calm.wav"}
    assert chosen["details"]["plan"]["voice"] == "espeak-ng:en-gb" and chosen["details"]["plan"]["music"] == "calm.wav"
    # with no music set, the home's music/ folder is the music folder: its one file is the bed
    assert plain["details"]["plan"]["voice"] == "espeak-ng:en-us" and plain["details"]["plan"]["music"] == "calm.wav"
    again = services.render_story(app, story_id=SID, choices={"music": "calm.wav", "voice": "espeak-ng:en-gb"})
    assert again["id"] == chosen["id"] and again["reused"]
    # empty choices are no choices; "none" is no music
    assert services.render_story(app, story_id=SID, choices={"voice": "", "music": None})["id"] == plain["id"]
    square = services.render_story(app, story_id=SID, choices={"aspect": "1:1", "music": "none"})
    assert square["id"] not in (plain["id"], chosen["id"]) and square["width"] == square["height"]
    wide = services.render_story(app, story_id=SID, choices={"aspect": "16:9"})
    assert wide["width"] > wide["height"]


@pytest.mark.parametrize("choices, words", [
    ({"voice": "nobody"}, ["render choice voice 'nobody'", "ENGINE:VOICE"]),
    ({"voice": "espeak-ng:xx-nope"}, ["render choice voice 'espeak-ng:xx-nope'", "espeak-ng has no voice"]),
    ({"voice": "festival:en"}, ["render choice voice 'festival:en'", "festival"]),
    ({"music": "missing.mp3"}, ["render choice music 'missing.mp3'", "calm.wav"]),
    ({"music": "../trendreel.db"}, ["render choice music '../trendreel.db'", "music folder"]),
    ({"aspect": "4:3"}, ["render choice aspect '4:3'", "9:16, 1:1, 16:9"]),
    ({"tempo": "fast"}, ["unknown render choice 'tempo'", "aspect, subtitle_style, voice, music"]),
])
def test_a_bad_choice_is_refused_naming_it_and_nothing_is_rendered(app, choices, words):
    with pytest.raises(BadRenderChoice) as err:
        services.render_story(app, story_id=SID, choices=choices)
    for w in words:
        assert w in str(err.value)
    assert services.list_videos(app, story_id=SID) == []


def test_the_preview_frame_shows_the_chosen_aspect_and_is_cached(app):
    tall = services.preview_frame(app, story_id=SID)
    square = services.preview_frame(app, story_id=SID, choices={"aspect": "1:1"})
    with Image.open(tall["path"]) as im:
        assert im.format == "PNG" and im.size == (144, 256)
        pixels = im.convert("L").getextrema()
        assert pixels[1] - pixels[0] > 100  # a picture with subtitles over it, not a blank frame
    with Image.open(square["path"]) as im:
        assert im.size[0] == im.size[1]
    assert tall["at_s"] > 0 and not tall["cached"]
    assert services.preview_frame(app, story_id=SID)["cached"]


def test_voices_are_listed_and_previewed_with_a_cache(app):
    listed = services.list_voices(app)
    assert listed["voices"] == SMALL["voices"]
    engines = {e["name"]: e for e in listed["engines"]}
    assert set(engines) >= {"espeak-ng", "piper", "openai", "modelserver"} and engines["espeak-ng"]["ready"]
    assert not engines["openai"]["ready"] and "render.speech_base_url" in engines["openai"]["note"]
    assert not engines["modelserver"]["ready"] and "render.remote.token_file" in engines["modelserver"]["note"]
    assert "espeak-ng:ko" in listed["options"]["ko"]

    first = services.preview_voice(app, lang="ko")
    assert first["voice"] == "espeak-ng:ko" and first["duration_s"] > 0.5 and not first["cached"]
    with wave.open(str(first["path"]), "rb") as w:
        assert w.getnframes() > 0
    assert services.preview_voice(app, voice="espeak-ng:ko")["cached"]
    other = services.preview_voice(app, voice="espeak-ng:ko", text="짧게 말합니다.")
    assert other["path"] != first["path"] and other["duration_s"] < first["duration_s"]
    with pytest.raises(Exception, match="at most 200 characters"):
        services.preview_voice(app, voice="espeak-ng:ko", text="가" * 201)
    with pytest.raises(Exception, match="unknown engine 'festival'"):
        services.preview_voice(app, voice="festival:ko")


def test_the_api_takes_choices_lists_voices_and_previews(tmp_path, app):
    gw = make_gateway(app.settings, application=app)
    editor, viewer = gw.client("editor"), gw.client("viewer")
    voices = viewer.get("/api/v1/voices")
    assert voices.status_code == 200 and voices.json()["voices"]["ko"] == "espeak-ng:ko"
    opts = viewer.get(f"/api/v1/stories/{SID}/render-options").json()
    assert opts["aspects"] == ["9:16", "1:1", "16:9"] and opts["music"] == ["calm.wav"]
    assert opts["voices"]["configured"] == "espeak-ng:en-us"

    wav = editor.post("/api/v1/voices/preview", json={"lang": "en", "text": "Hello there."})
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav" and wav.content[:4] == b"RIFF"
    assert float(wav.headers["x-duration-s"]) > 0
    assert_error(viewer.post("/api/v1/voices/preview", json={"lang": "en"}), 403)
    assert_error(editor.post("/api/v1/voices/preview", json={"lang": "en", "text": "a" * 201}), 422)
    assert_error(editor.post("/api/v1/voices/preview", json={"voice": "festival:ko"}), 400)

    png = editor.post(f"/api/v1/stories/{SID}/preview-frame", json={"aspect": "16:9"})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"

    bad = assert_error(editor.post(f"/api/v1/stories/{SID}/render", json={"music": "missing.mp3"}), 400)
    assert "render choice music 'missing.mp3'" in bad["message"]
    assert_error(editor.post(f"/api/v1/stories/{SID}/render", json={"aspect": "4:3"}), 422)
    run = assert_error(editor.post("/api/v1/runs", json={"kind": "render", "story_id": SID,
                                                          "choices": {"voice": "espeak-ng:xx-nope"}}), 400)
    assert "render choice voice 'espeak-ng:xx-nope'" in run["message"]
    assert services.list_videos(app, story_id=SID) == []
