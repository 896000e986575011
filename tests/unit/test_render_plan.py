"""Building render plans: timing, cues, on-screen text and the fallbacks for bad media (a stand-in voice)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from tests.render_support import make_clip, make_image, make_story, make_unsupported_codec
from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel.render.base import MediaFile
from trendreel.render.errors import RenderError, SpeechUnavailable
from trendreel.render.phrases import MAX_PHRASE_S
from trendreel.render.plan import FIRST_LEAD_S, build_plan
from trendreel.render.tts import EspeakSpeech, PiperSpeech, SpeechClip, speech_for, voice_spec
from trendreel.settings import RenderSettings
from trendreel.story.models import MediaRef

SETTINGS = RenderSettings(width=360, height=640)


class ToneSpeech:
    """A stand-in engine: a tone lasting `per_char` seconds per character of text."""

    engine, voice = "tone", "test"

    def __init__(self, per_char: float = 0.06):
        self.per_char = per_char
        self.said: list[str] = []

    def synthesize(self, text: str, out: Path) -> SpeechClip:
        self.said.append(text)
        rate = 16000
        n = int(len(text) * self.per_char * rate)
        samples = (np.sin(np.arange(n) * 2 * np.pi * 220 / rate) * 8000).astype("<i2")
        with wave.open(str(out), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(samples.tobytes())
        return SpeechClip(path=Path(out), duration_s=n / rate, sample_rate=rate, engine=self.engine, voice=self.voice)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, MediaFile]:
    d = tmp_path_factory.mktemp("media")
    corrupt = d / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    truncated = d / "truncated.jpg"
    make_image(d / "whole.jpg", size=(800, 600))
    truncated.write_bytes((d / "whole.jpg").read_bytes()[:3000])
    return {
        "img": MediaFile("img", "image", make_image(d / "img.jpg")),
        "tall": MediaFile("tall", "image", make_image(d / "tall.png", size=(600, 1000), source="mandelbrot")),
        "clip": MediaFile("clip", "video", make_clip(d / "clip.mp4", seconds=4)),
        "missing": MediaFile("missing", "image", None, "its file is missing from the store"),
        "corrupt": MediaFile("corrupt", "image", corrupt),
        "truncated": MediaFile("truncated", "image", truncated),
        "codec": MediaFile("codec", "video", make_unsupported_codec(d / "codec.avi")),
        "empty": MediaFile("empty", "video", _empty(d / "empty.mp4")),
    }


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def plan_for(story, media, tmp_path, settings=SETTINGS, speech=None):
    speech = speech or ToneSpeech()
    return build_plan(story, media, settings, tmp_path, exe=ffmpeg_exe(), speech=speech), speech


def test_timeline_scenes_cues_and_text(media, tmp_path):
    story = make_story("a1", "ko", [MediaRef(media_id="img", kind="image"),
                                    MediaRef(media_id="clip", kind="video", start_s=1.0, end_s=3.0),
                                    MediaRef(media_id="tall", kind="image")])
    plan, speech = plan_for(story, media, tmp_path)
    # said phrase by phrase: every word once, in order
    assert " ".join(speech.said) == " ".join([story.hook, *(s.narration for s in story.scenes)])
    assert len(speech.said) > 4
    assert plan.warnings == []
    fps, xf = plan.fps, plan.crossfade_frames
    assert xf == round(SETTINGS.crossfade_s * fps)
    assert plan.total_frames == sum(s.frames for s in plan.scenes) - 2 * xf
    for prev, nxt in zip(plan.scenes, plan.scenes[1:]):
        assert nxt.start_frame == prev.start_frame + prev.frames - xf
    for i, scene in enumerate(plan.scenes):
        start, end = scene.start_frame / fps, (scene.start_frame + scene.frames) / fps
        assert scene.frames / fps >= story.scenes[i].duration_s - 1 / fps
        spoken = sum(c.duration_s for c in scene.narration)
        assert scene.narration_start_s + spoken <= end - xf / fps + 0.5
        assert all(start <= c.start_s < c.end_s <= end + 1e-6 for c in scene.cues)
        assert sum(sh.frames for sh in scene.shots) == scene.frames
    assert plan.scenes[0].narration_start_s == pytest.approx(FIRST_LEAD_S)
    # the title first, as the headline, while the hook starts; the hook's first words are in the .srt
    assert " ".join(plan.scenes[0].cues[0].lines).startswith("요즘") and not plan.scenes[0].cues[0].shown
    assert [o.text.lines for o in plan.scenes[0].overlays] == [("한강 러닝 열풍",)]
    assert all(s.overlays == [] for s in plan.scenes[1:])  # the story's on-screen text is not drawn
    kinds = [[sh.kind for sh in s.shots] for s in plan.scenes]
    assert kinds == [["image"], ["video"], ["image"]]
    clip = plan.scenes[1].shots[0].visual
    assert (clip.clip_in, clip.clip_out) == (1.0, 3.0)
    motions = [plan.scenes[0].shots[0].motion, plan.scenes[2].shots[0].motion]
    assert motions[0] != motions[1] and "none" not in motions
    summary = plan.summary()
    assert summary["duration_s"] == pytest.approx(plan.duration_s, abs=1e-3) and len(summary["scenes"]) == 3


def test_bad_media_fall_back_with_warnings(media, tmp_path):
    story = make_story("a1", "en", [
        MediaRef(media_id="missing", kind="image"),
        MediaRef(media_id="corrupt", kind="image"),
        MediaRef(media_id="truncated", kind="image"),
        MediaRef(media_id="codec", kind="video", start_s=0.0, end_s=1.5),
        MediaRef(media_id="empty", kind="video", start_s=0.0, end_s=1.0),
        MediaRef(media_id="clip", kind="video", start_s=9.0, end_s=12.0),  # after the end: zero-length
        MediaRef(media_id="clip", kind="video", start_s=2.0, end_s=9.0),  # runs past the end: cut
        MediaRef(media_id="unknown", kind="image"),
    ])
    plan, _ = plan_for(story, media, tmp_path)
    kinds = [s.shots[0].kind for s in plan.scenes]
    assert kinds == ["card", "card", "card", "card", "card", "image", "video", "card"]
    text = "\n".join(plan.warnings)
    for expected in ("missing: its file is missing", "corrupt: the image cannot be read", "truncated: the image cannot be read",
                     "codec: its picture cannot be decoded", "empty: the stored file is missing or empty",
                     "clip 9-12 s is empty", "ends after the video", "unknown: it is not in the database"):
        assert expected in text
    assert text.count("colour card") == 6
    last_clip = plan.scenes[6].shots[0].visual
    assert last_clip.clip_in == 2.0 and last_clip.clip_out == pytest.approx(4.0, abs=0.05)
    # a card shows the subtitles like any other scene, and nothing else
    assert [layer["kind"] for layer in plan.text_layers()][:2] == ["headline", "subtitle"]


def test_a_scene_without_media_is_a_card_and_several_media_share_the_scene(media, tmp_path):
    story = make_story("a1", "en", [None, [MediaRef(media_id="img", kind="image"), MediaRef(media_id="tall", kind="image")],
                                    MediaRef(media_id="img", kind="image")])
    plan, _ = plan_for(story, media, tmp_path)
    assert [sh.kind for sh in plan.scenes[0].shots] == ["card"]
    two = plan.scenes[1].shots
    assert len(two) == 2 and abs(two[0].frames - two[1].frames) <= 1
    assert plan.warnings == []  # a scene without media is a choice, not a problem


def test_a_too_long_title_is_shortened_for_the_headline(media, tmp_path):
    text = {"title": "An on-screen title far too long for one vertical screen " * 6, "hook": "Hook line.",
            "narration": ["One.", "Two.", "Three."], "on_screen": ["ok", "ok", "ok"]}
    story = make_story("a1", "en", [MediaRef(media_id="img", kind="image")] * 3, text=text)
    plan, _ = plan_for(story, media, tmp_path)
    title = plan.scenes[0].overlays[0].text
    assert title.truncated and title.shrunk and len(title.lines) == 2 and title.lines[-1].endswith("…")
    assert any("title is too long" in w for w in plan.warnings)


def test_a_long_narration_is_sped_up_to_fit(media, tmp_path):
    story = make_story("a1", "en", [MediaRef(media_id="img", kind="image")] * 3)
    settings = RenderSettings(width=360, height=640, max_seconds=18)
    plan, speech = plan_for(story, media, tmp_path, settings, ToneSpeech(per_char=0.1))  # about 18 s of speech
    assert plan.duration_s <= 18 and len(plan.scenes) == 3
    # slower than first guessed: the phrases that came out too long were split and said again
    assert any(len(t) * 0.1 > MAX_PHRASE_S for t in speech.said)
    assert all(c.speech_s[1] - c.speech_s[0] <= MAX_PHRASE_S / plan.tempo + 0.01 for c in plan.cues)
    assert 1.0 < plan.tempo <= 1.25
    assert any("faster" in w for w in plan.warnings)


def test_scenes_are_dropped_when_speeding_up_is_not_enough(media, tmp_path):
    story = make_story("a1", "en", [MediaRef(media_id="img", kind="image")] * 3)
    settings = RenderSettings(width=360, height=640, max_seconds=15)
    plan, _ = plan_for(story, media, tmp_path, settings, ToneSpeech(per_char=0.12))  # about 22 s of speech
    assert len(plan.scenes) < 3 and plan.duration_s <= 15
    assert any("dropped" in w for w in plan.warnings)


def test_a_first_scene_too_long_for_the_limit_is_an_error(media, tmp_path):
    story = make_story("a1", "en", [MediaRef(media_id="img", kind="image")] * 3)
    settings = RenderSettings(width=360, height=640, max_seconds=5)
    with pytest.raises(RenderError, match="max_seconds"):
        plan_for(story, media, tmp_path, settings, ToneSpeech(per_char=0.3))


def test_keep_seconds_renders_up_to_the_scene_the_edit_would_cut(media, tmp_path):
    """The editor cuts to edit.target_seconds: the scenes after the one crossing it are not rendered,
    nothing is sped up, and a first scene longer than the limit is still rendered (the edit cuts it)."""
    story = make_story("a1", "en", [MediaRef(media_id="img", kind="image")] * 3)
    whole, _ = plan_for(story, media, tmp_path / "whole", SETTINGS, ToneSpeech(per_char=0.1))
    ends = [(sc.start_frame + sc.frames) / whole.fps for sc in whole.scenes]
    keep = (ends[0] + ends[1]) / 2  # inside scene 2
    kept, _ = plan_for(story, media, tmp_path / "kept", RenderSettings(width=360, height=640, keep_seconds=keep),
                       ToneSpeech(per_char=0.1))
    assert len(kept.scenes) == 2 and kept.tempo == 1.0
    assert kept.duration_s > keep  # the crossing scene is whole: the editor decides where to cut it
    assert any("scenes 3-3 not rendered" in w for w in kept.warnings)
    tiny, _ = plan_for(story, media, tmp_path / "tiny", RenderSettings(width=360, height=640, keep_seconds=0.5),
                       ToneSpeech(per_char=0.1))
    assert len(tiny.scenes) == 1
    roomy, _ = plan_for(story, media, tmp_path / "roomy", RenderSettings(width=360, height=640, keep_seconds=600),
                        ToneSpeech(per_char=0.1))
    assert len(roomy.scenes) == 3 and not any("not rendered" in w for w in roomy.warnings)


def test_linear_loudness_gain_follows_loudnorms_rule():
    """volume stands in for loudnorm's second pass only where loudnorm itself would apply one static gain."""
    from trendreel.render.ffmpeg import linear_gain_db

    quiet = {"input_i": "-22.45", "input_tp": "-11.71", "input_lra": "1.80", "input_thresh": "-32.63"}
    assert linear_gain_db(quiet, target_i=-14, target_tp=-1.5) == pytest.approx(8.45)
    peaky = {**quiet, "input_tp": "-7.80"}  # -7.8 + 8.45 > -1.5: loudnorm goes dynamic
    assert linear_gain_db(peaky, target_i=-14, target_tp=-1.5) is None
    wide = {**quiet, "input_lra": "14.0"}
    assert linear_gain_db(wide, target_i=-14, target_tp=-1.5) is None
    assert linear_gain_db({**quiet, "input_i": "-inf"}, target_i=-14, target_tp=-1.5) is None
    assert linear_gain_db({}, target_i=-14, target_tp=-1.5) is None


def test_voice_choice_by_language():
    voices = RenderSettings().voices
    assert voice_spec("ko", voices) == "espeak-ng:ko"
    assert voice_spec("ko-KR", voices) == "espeak-ng:ko"
    assert voice_spec("en", voices) == "piper:en_US-joe-medium"
    assert voice_spec("de", voices) == "espeak-ng:de"
    with pytest.raises(SpeechUnavailable, match="unknown"):
        voice_spec("und", voices)
    assert isinstance(speech_for("ko", voices), EspeakSpeech)
    assert isinstance(speech_for("en", voices), PiperSpeech)


def test_missing_engines_and_voices_say_what_to_install(monkeypatch):
    with pytest.raises(SpeechUnavailable, match="no voice 'xx-nope'"):
        EspeakSpeech("xx-nope")
    with pytest.raises(SpeechUnavailable, match="unknown piper voice"):
        PiperSpeech("nl_NL-nobody-low")
    with pytest.raises(SpeechUnavailable, match="not found"):
        PiperSpeech("/nowhere/voice.onnx")
    monkeypatch.setattr("trendreel.render.tts.shutil.which", lambda name: None)
    with pytest.raises(SpeechUnavailable, match="apt-get install espeak-ng"):
        EspeakSpeech("ko")
