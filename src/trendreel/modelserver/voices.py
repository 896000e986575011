"""Voices a model server says text with: `POST /v1/audio/speech` in OpenAI's request shape.

The server's operator names each voice when starting it (`--voice NAME=SPEC`, repeatable):

- `NAME=/models/ko_KR-voice.onnx`: a Piper voice file (its `.onnx.json` config beside it);
- `NAME=ENGINE:VOICE`: any registered speech engine, as in `render.voices` (`piper:en_US-joe-medium`,
  `espeak-ng:ko`, `openai:alloy` through the server's own speech server, or a plugin's engine).

An engine is built once per voice and speed and kept, so a neural model stays loaded between requests;
one text is said at a time (one GPU). The pipeline reaches a voice as `modelserver:NAME`.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from trendreel.errors import ConfigError
from trendreel.registry import default_registry
from trendreel.render.tts import Speech
from trendreel.settings import RenderSettings

__all__ = ["VoiceBank", "parse_voices"]

MAX_INPUT_CHARS = 4096  # OpenAI's own limit for one request


def _spec(name: str, value: str) -> str:
    value = value.strip()
    if value.endswith(".onnx"):
        return f"piper:{Path(value).expanduser()}"
    engine, _, voice = value.partition(":")
    reg = default_registry()
    if not voice or not reg.knows("voice", engine):
        raise ConfigError(f"--voice {name}={value}: give the path of a Piper .onnx voice file or ENGINE:VOICE with a "
                          f"registered engine ({', '.join(n for n in reg.names('voice') if n != 'modelserver')})")
    if engine == "modelserver":
        raise ConfigError(f"--voice {name}={value}: a model server cannot use a modelserver: voice (it would ask itself)")
    return value


def parse_voices(items: list[str]) -> dict[str, str]:
    """NAME=SPEC arguments as {name: ENGINE:VOICE}; ConfigError for a malformed one."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise ConfigError(f"--voice {item!r}: write NAME=SPEC, e.g. ko=/models/ko_KR-voice.onnx or en=piper:en_US-joe-medium")
        if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ConfigError(f"--voice {item!r}: a voice name is letters, digits, '-', '_' and '.'")
        if name in out:
            raise ConfigError(f"--voice {name} is given twice")
        out[name] = _spec(name, value)
    return out


class VoiceBank:
    """The server's voices by name; `say` returns WAV bytes."""

    def __init__(self, specs: dict[str, str], settings: RenderSettings):
        self.specs, self.settings = dict(specs), settings
        self._engines: dict[tuple[str, float], Speech] = {}
        self._lock = threading.Lock()
        for name in self.specs:  # a missing model or program stops the server at start, not at the first request
            self._engine(name, 1.0)

    def names(self) -> list[str]:
        return sorted(self.specs)

    def describe(self) -> list[dict]:
        return [{"name": n, "spec": self.specs[n], "engine": self.specs[n].partition(":")[0]} for n in self.names()]

    def _engine(self, name: str, speed: float) -> Speech:
        key = (name, round(speed, 3))
        if key not in self._engines:
            engine, _, voice = self.specs[name].partition(":")
            self._engines[key] = default_registry().create("voice", engine, voice, settings=self.settings, rate=speed)
        return self._engines[key]

    def say(self, name: str, text: str, speed: float = 1.0) -> bytes:
        """The WAV (16-bit PCM, silence trimmed) of `text` in voice `name`; KeyError for an unknown voice."""
        if name not in self.specs:
            raise KeyError(name)
        with self._lock, tempfile.TemporaryDirectory(prefix="trendreel-voice-") as tmp:
            clip = self._engine(name, speed).synthesize(text, Path(tmp) / "speech.wav")
            return Path(clip.path).read_bytes()
