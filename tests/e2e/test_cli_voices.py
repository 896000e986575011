"""`trendreel voices list|preview` and `trendreel render --voice/--music/--aspect` as a user runs them:
a real process over a home with one stored story; espeak-ng and the compositor for real."""

from __future__ import annotations

import json
import wave

import pytest

from tests.e2e.test_cli import failed, ok_json, run_cli, write_settings
from tests.render_support import make_image, make_music, make_story, store_article, store_media, store_story
from trendreel.bootstrap import build_app
from trendreel.settings import Settings
from trendreel.story.models import MediaRef

pytestmark = pytest.mark.slow

SID = "s" + "e" * 23
SETTINGS = """
[render]
width = 144
height = 256
fps = 10
preset = "ultrafast"
loudness_passes = 1
crossfade_s = 0
motion = "none"
voices = { ko = "espeak-ng:ko", en = "espeak-ng:en-us" }
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-voices")
    write_settings(root, SETTINGS)
    app = build_app(Settings(home=root, render={"voices": {"ko": "espeak-ng:ko", "en": "espeak-ng:en-us"}}))
    try:
        (root / "music").mkdir()
        make_music(root / "music" / "calm.wav", seconds=2)
        aid = store_article(app, "cli", lang="en")
        image = store_media(app, aid, 1, "image", make_image(root / "wide.jpg"))
        store_story(app, make_story(aid, "en", [MediaRef(media_id=image, kind="image")]), SID)
    finally:
        app.close()
    return root


def test_voices_list_and_preview(home, tmp_path):
    listed = ok_json("voices", "list", "--home", home, "--json")
    assert listed["voices"] == {"ko": "espeak-ng:ko", "en": "espeak-ng:en-us"}
    assert next(e for e in listed["engines"] if e["name"] == "espeak-ng")["ready"] is True
    table = run_cli("voices", "list", "--home", home)
    assert table.returncode == 0 and "espeak-ng:ko" in table.stdout and "openai" in table.stdout

    out = tmp_path / "ko.wav"
    got = ok_json("voices", "preview", "--lang", "ko", "--out", out, "--home", home, "--json")
    assert got["voice"] == "espeak-ng:ko" and got["duration_s"] > 0.5 and not got["cached"]
    with wave.open(str(out), "rb") as w:
        assert w.getnframes() / w.getframerate() == pytest.approx(got["duration_s"], abs=0.01)
    again = ok_json("voices", "preview", "--voice", "espeak-ng:ko", "--out", tmp_path / "again.wav", "--home", home, "--json")
    assert again["cached"] and again["path"] == got["path"]

    msg = failed(run_cli("voices", "preview", "--voice", "espeak-ng:ko", "--text", "가" * 201, "--out", out,
                         "--home", home), 1)
    assert "at most 200 characters" in msg


def test_render_with_choices_and_a_bad_one(home):
    video = ok_json("render", "--story", SID, "--voice", "espeak-ng:en-gb", "--music", "calm.wav", "--aspect", "16:9",
                    "--home", home, "--json", timeout=400)
    assert video["status"] == "done" and video["width"] > video["height"]
    assert video["details"]["choices"] == {"voice": "espeak-ng:en-gb", "music": "calm.wav", "aspect": "16:9"}
    msg = failed(run_cli("render", "--story", SID, "--music", "nothing.mp3", "--home", home), 1)
    assert "render choice music 'nothing.mp3'" in msg and "calm.wav" in msg
    assert json.loads(run_cli("videos", "--home", home, "--json").stdout)[0]["id"] == video["id"]
