"""Text on the picture: one layer at a time, the headline first, phrase cues on the synthesised speech
(espeak-ng for Korean, Piper for English, checked against the WAVs), and each style preset burned
in by libass (looked at in decoded frames)."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.render_support import make_image, make_story
from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel.render.base import MediaFile
from trendreel.render.phrases import MAX_PHRASE_S
from trendreel.render.plan import HOOK_GAP_S, MAX_CUE_S, build_plan
from trendreel.render.styles import PRESETS, Layout
from trendreel.render.subtitles import ass_script, srt_text
from trendreel.render.text import TextMeasure
from trendreel.settings import RenderSettings
from trendreel.story.models import MediaRef

SMALL = dict(width=540, height=960)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, MediaFile]:
    d = tmp_path_factory.mktemp("media")
    return {"img": MediaFile("img", "image", make_image(d / "img.jpg"))}


def _story(lang: str, text=None):
    return make_story("a1", lang, [MediaRef(media_id="img", kind="image"), None, MediaRef(media_id="img", kind="image")],
                      text=text)


def _track(plan) -> tuple[np.ndarray, int]:
    """The narration as the compositor places it (tempo 1): every clip at its start, as one mono array."""
    rate = plan.scenes[0].narration[0].sample_rate
    track = np.zeros(int((plan.duration_s + 1) * rate))
    for scene in plan.scenes:
        t = scene.narration_start_s
        for j, clip in enumerate(scene.narration):
            t += HOOK_GAP_S if j else 0.0
            with wave.open(str(clip.path), "rb") as w:
                data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, w.getnchannels())
            at = round(t * rate)
            track[at:at + len(data)] += np.abs(data.astype(float)).mean(axis=1)
            t += clip.duration_s
    return track, rate


def _speech_onsets(track: np.ndarray, rate: int, *, min_gap_s: float) -> list[float]:
    """Where speech starts after a silence of at least `min_gap_s` (10 ms frames, -40 dB below the peak)."""
    hop = rate // 100
    level = track[: len(track) // hop * hop].reshape(-1, hop).max(axis=1)
    voiced = level > level.max() * 10 ** (-40 / 20)
    onsets, quiet = [], 10 ** 6
    for i, v in enumerate(voiced):
        if v and quiet * hop / rate >= min_gap_s:
            onsets.append(i * hop / rate)
        quiet = 0 if v else quiet + 1
    return onsets


def _check_layers(plan) -> list[dict]:
    layers = plan.summary()["text_layers"]
    assert layers[0]["kind"] == "headline" and layers[0]["start_s"] == 0.0
    assert 1.5 <= layers[0]["end_s"] - layers[0]["start_s"] <= 2.7
    assert [l["kind"] for l in layers[1:]] == ["subtitle"] * (len(layers) - 1)
    for a, b in zip(layers, layers[1:]):  # at most one text layer at any moment
        assert a["end_s"] <= b["start_s"] + 1e-6, (a, b)
    for cue in layers[1:]:
        assert 0 < cue["end_s"] - cue["start_s"] <= MAX_CUE_S + 1e-6
    return layers


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_one_text_layer_at_a_time_cues_start_with_their_phrase(lang, media, tmp_path):
    plan = build_plan(_story(lang), media, RenderSettings(**SMALL), tmp_path, exe=ffmpeg_exe())
    layers = _check_layers(plan)
    measure = TextMeasure(plan.font)
    lay = Layout(plan.width, plan.height, PRESETS["bold"])
    said = [" ".join(c.lines) for c in plan.cues]
    story = _story(lang)
    assert " ".join(said) == " ".join([story.hook, *(s.narration for s in story.scenes)])  # no word split or lost
    for c in plan.cues:
        assert 1 <= len(c.lines) <= 2
        assert all(measure.width(line, lay.sub_size) <= lay.text_width() for line in c.lines)
        assert c.speech_s[1] - c.speech_s[0] <= MAX_PHRASE_S + 0.01
    assert not plan.cues[0].shown  # the hook's first phrase is said under the headline
    # against the audio: each cue starts within 0.3 s of a speech onset in the mixed narration, and
    # speech after every longer pause (sentences, scenes) starts with a cue
    track, rate = _track(plan)
    onsets = _speech_onsets(track, rate, min_gap_s=0.06)
    starts = [l["start_s"] for l in layers[1:]]
    for s in starts:
        assert min(abs(s - o) for o in onsets) <= 0.3, (s, onsets)
    for o in _speech_onsets(track, rate, min_gap_s=0.25):
        if o > layers[0]["end_s"] + 0.3:
            assert min(abs(s - o) for s in starts) <= 0.3, (o, starts)
    # the .srt has every phrase, also the ones under the headline
    assert srt_text(plan).count(" --> ") == len(plan.cues)


def test_caption_labels_are_neither_said_nor_shown(media, tmp_path):
    text = {"title": "사진: 한강 러닝 열풍", "hook": "영상: 요즘 이삼십대는 주말마다 한강에서 달립니다.",
            "narration": ["Photo: 러닝 크루가 늘고 있습니다.", "[사진] 카페들도 일찍 문을 엽니다 ⓒ 연합뉴스", "전문가들은 계속될 것으로 봅니다."],
            "on_screen": ["영상: 러닝", "", ""]}
    plan = build_plan(_story("ko", text), media, RenderSettings(**SMALL), tmp_path, exe=ffmpeg_exe())
    shown = " ".join(l["text"] for l in plan.summary()["text_layers"]) + srt_text(plan) + ass_script(plan)
    for label in ("사진", "영상", "Photo", "ⓒ", "연합뉴스"):
        assert label not in shown
    assert plan.summary()["text_layers"][0]["text"] == "한강 러닝 열풍"


def _frame(workdir: Path, plan, style: str, t: float) -> np.ndarray:
    """The ASS script of `plan` in `style`, burned by libass onto a mid-grey frame at time t (RGB array)."""
    plan.style = style
    (workdir / "subs.ass").write_text(ass_script(plan), encoding="utf-8")
    fonts = workdir / "fonts"
    fonts.mkdir(exist_ok=True)
    for f in (plan.font.path, plan.font.bold_path):
        if f is not None and not (fonts / f.name).exists():
            (fonts / f.name).symlink_to(f)
    out = f"{style}-{t:.2f}.png"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=0x707070:s={plan.width}x{plan.height}:r=10:d=20",
                    "-vf", "ass=subs.ass:fontsdir=fonts", "-ss", f"{t:.2f}", "-frames:v", "1", "-update", "1", out],
                   check=True, cwd=workdir, capture_output=True, timeout=60)
    from PIL import Image

    return np.asarray(Image.open(workdir / out).convert("RGB")).astype(int)


def test_each_style_preset_is_burned_in(media, tmp_path):
    plan = build_plan(_story("en"), media, RenderSettings(**SMALL), tmp_path, exe=ffmpeg_exe())
    layers = plan.text_layers()
    head_t = 1.0
    cue = next(l for l in layers if l["kind"] == "subtitle" and l["end_s"] - l["start_s"] > 1.0)
    cue_t = cue["start_s"] + 0.6 * (cue["speech_s"][1] - cue["speech_s"][0])  # mid-phrase: some words said
    h = plan.height
    middle, band = slice(int(h * 0.35), int(h * 0.65)), slice(int(h * 0.55), int(h * 0.82))

    def white(px):
        return int((px.min(axis=-1) > 225).sum())

    def dark(px):
        return int((px.max(axis=-1) < 60).sum())

    pictures = {}
    for style in PRESETS:
        at_head, at_cue = _frame(tmp_path, plan, style, head_t), _frame(tmp_path, plan, style, cue_t)
        pictures[style] = at_cue
        # the headline in the middle and nothing in the subtitle band; then the cue in the band, nothing in the middle
        assert white(at_head[middle]) > 300 and white(at_head[int(h * 0.66):int(h * 0.82)]) == 0, style
        assert white(at_cue[int(h * 0.3):int(h * 0.5)]) == 0, style
        cue_band = at_cue[band]
        assert white(cue_band) + ((cue_band[..., 0] > 200) & (cue_band[..., 2] < 80)).sum() > 150, style
        if style in ("bold", "karaoke"):
            assert dark(cue_band) > 300, style  # a thick black outline
        if style == "boxed":  # the grey behind the text is darkened by the box, not black
            boxed = (np.abs(cue_band - cue_band[..., :1]).max(axis=-1) < 8) & (cue_band[..., 0] > 20) & (cue_band[..., 0] < 80)
            assert boxed.sum() > 2000
        if style == "karaoke":  # the words already said in the accent colour, the rest still white
            accent = (cue_band[..., 0] > 200) & (cue_band[..., 1] > 170) & (cue_band[..., 2] < 90)
            assert accent.sum() > 100 and white(cue_band) > 100
        else:
            assert not ((cue_band[..., 0] > 200) & (cue_band[..., 2] < 90)).any(), style
    assert white(pictures["minimal"][band]) < white(pictures["bold"][band])  # smaller text
    assert dark(pictures["minimal"][band]) < dark(pictures["bold"][band]) / 2  # a light outline
