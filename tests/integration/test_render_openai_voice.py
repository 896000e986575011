"""Narration through an OpenAI-compatible speech server (voice `openai:VOICE`), against a real HTTP server
on 127.0.0.1 speaking the OpenAI audio API (tests/chatserver.py): a whole render with real ffmpeg, the
WAVs a server sends (16-bit PCM and 32-bit float), a 500 that is retried, a 400 and a missing server
that fail with messages naming what to fix, and the API key kept out of them.
"""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from tests.chatserver import WORD_S, ChatServer, Fail, Speak
from tests.render_support import make_clip, make_image, make_story, store_article, store_media, store_story
from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.files.store import open_file_store
from trendreel.render import RenderError, SpeechUnavailable
from trendreel.render.base import MediaFile
from trendreel.render.ffmpeg import loudness, probe, volume
from trendreel.render.plan import build_plan
from trendreel.render.tts import EDGE_S, OpenAISpeech, speech_for
from trendreel.services.render import render_story
from trendreel.settings import RenderSettings, Settings
from trendreel.story.models import MediaRef

pytestmark = pytest.mark.slow

KEY = "sk-speech-secret-0123456789"
VOICES = {"en": "openai:alloy", "ko": "espeak-ng:ko"}


def expected_seconds(text: str, speed: float = 1.0) -> float:
    """What the test server says for `text`, after the render trims its silence (EDGE_S kept at each end)."""
    words = len(text.split())
    return (words * (WORD_S + 0.05) - 0.05) / speed + 2 * EDGE_S


def speech_settings(server: ChatServer, **changes) -> RenderSettings:
    return RenderSettings(width=360, height=640, voices=VOICES, speech_base_url=server.base_url,
                          speech_model="tts-test", speech_api_key=KEY, **changes)


def test_a_story_is_narrated_by_the_speech_server(tmp_path):
    with ChatServer([Speak()]) as server:
        settings = Settings(home=tmp_path / "home", render={
            "width": 360, "height": 640, "voices": VOICES, "speech_base_url": server.base_url,
            "speech_model": "tts-test", "speech_api_key": KEY})
        settings.home.mkdir(parents=True)
        app = App(settings=settings, db=Database(f"sqlite:///{tmp_path / 'test.db'}"),
                  files=open_file_store(settings.files_url))
        try:
            aid = store_article(app, "voice", lang="en")
            image = store_media(app, aid, 1, "image", make_image(tmp_path / "wide.jpg"))
            clip = store_media(app, aid, 2, "video", make_clip(tmp_path / "clip.mp4", seconds=3), duration_s=3.0)
            story = make_story(aid, "en", [MediaRef(media_id=image, kind="image"),
                                           MediaRef(media_id=clip, kind="video", start_s=0.5, end_s=2.5)])
            sid = store_story(app, story, "s-openai-voice")
            video = render_story(app, story_id=sid)
            assert video["status"] == "done" and video["details"]["plan"]["voice"] == "openai:alloy"
            path = app.files.local_path(video["path"])
            info = probe(path)
            assert info.video.codec == "h264" and info.audio.codec == "aac"
            assert info.duration_s == pytest.approx(video["duration_s"], abs=0.1)
            assert volume(path)[0] > -35  # the server's tones are in the finished sound,
            assert loudness(path) == pytest.approx(-14, abs=1.5)  # at the render's loudness
        finally:
            app.close()

    # One request per phrase (every word once, in order), in the OpenAI audio API's shape, the key
    # only as a bearer token.
    said = [story.hook, *(s.narration for s in story.scenes)]
    assert server.paths == ["/v1/audio/speech"] * len(server.requests) and len(server.requests) >= len(said)
    assert " ".join(r["input"] for r in server.requests) == " ".join(said)
    assert all(r == {"model": "tts-test", "input": r["input"], "voice": "alloy", "response_format": "wav", "speed": 1.0}
               for r in server.requests)
    assert set(server.auth_headers) == {f"Bearer {KEY}"}


def test_the_plan_times_scenes_by_the_server_s_audio_float_wav_included(tmp_path):
    image = MediaFile("img", "image", make_image(tmp_path / "img.jpg"))
    story = make_story("a1", "en", [MediaRef(media_id="img", kind="image")] * 2)
    with ChatServer([Speak(float32=True)]) as server:
        settings = speech_settings(server, speech_rate=1.25)
        plan = build_plan(story, {"img": image}, settings, tmp_path / "work", exe=ffmpeg_exe(),
                          speech=speech_for("en", settings.voices, rate=settings.speech_rate, settings=settings))
    assert {r["speed"] for r in server.requests} == {1.25}
    hook, first = plan.scenes[0].narration
    assert (hook.engine, hook.voice) == ("openai", "alloy")
    # each phrase's place in the joined narration is exactly as long as the server's audio for it
    for cue in plan.cues:
        spoken = cue.speech_s[1] - cue.speech_s[0]
        assert spoken == pytest.approx(expected_seconds(" ".join(cue.lines), 1.25), abs=0.02)
    hook_cues = [c for c in plan.cues if c.speech_s[0] < plan.scenes[0].narration_start_s + hook.duration_s]
    assert hook.duration_s >= sum(expected_seconds(" ".join(c.lines), 1.25) for c in hook_cues) - 0.02
    with wave.open(str(hook.path), "rb") as w:  # the float answer became the 16-bit PCM the mix expects
        assert (w.getsampwidth(), w.getnchannels(), w.getframerate()) == (2, 1, 24000)
    assert not any(Path(tmp_path / "work" / "speech").glob("*.server.wav"))


def test_a_server_error_is_retried_and_a_refusal_is_explained(tmp_path):
    with ChatServer([Fail(500, "model loading"), Speak()]) as server:
        speech = OpenAISpeech("alloy", speech_settings(server), backoff_s=0.01)
        clip = speech.synthesize("One two three four.", tmp_path / "one.wav")
        assert len(server.requests) == 2
    assert clip.duration_s == pytest.approx(expected_seconds("One two three four."), abs=0.02)

    with ChatServer([Fail(400, f"unknown voice 'nobody' for key {KEY}")]) as server:
        speech = OpenAISpeech("nobody", speech_settings(server), backoff_s=0.01)
        with pytest.raises(RenderError) as err:
            speech.synthesize("Hello.", tmp_path / "two.wav")
        assert len(server.requests) == 1  # a refusal is not asked again
    message = str(err.value)
    assert f"the speech server at {server.base_url}/audio/speech rejected the request (HTTP 400)" in message
    assert "unknown voice 'nobody'" in message and KEY not in message and "***" in message

    with ChatServer([Fail(503)]) as server:
        speech = OpenAISpeech("alloy", speech_settings(server), backoff_s=0.01)
        with pytest.raises(RenderError, match=r"answered HTTP 503 after 3 tries") as err:
            speech.synthesize("Hello.", tmp_path / "three.wav")
    assert err.value.retryable is True  # an outage: a workflow may render again later


def test_without_a_speech_server_the_voice_is_unavailable():
    with pytest.raises(SpeechUnavailable, match="needs render.speech_base_url"):
        speech_for("en", VOICES, settings=RenderSettings(voices=VOICES))
    with pytest.raises(ValueError, match="write ENGINE:VOICE"):
        RenderSettings(voices={"en": "openai:"})
