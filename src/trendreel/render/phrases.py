"""Narration said phrase by phrase, so every subtitle cue starts and ends exactly with its words.

A narration is split into phrases at sentence and clause punctuation; a clause that would take longer
than `MAX_PHRASE_S` to say, or not fit in two subtitle lines, is split between words (at a natural
break when one is near: before "and", "but", "which"…, after a Korean connective ending). Each phrase
is synthesised on its own by the story's speech engine (any `Speech`: espeak-ng, Piper, a speech
server), with its silence trimmed, and the phrases are joined into one WAV with short pauses between
them (longer after a sentence than after a comma, shortest inside a clause). So the start and end of
every phrase in the joined WAV are known exactly, without a forced alignment.

How long a phrase will take is estimated before it is said from the seconds per speech unit
(`text.speech_weight`) measured on the phrases said so far; a phrase that still comes out too long is
split and said again.
"""

from __future__ import annotations

import re
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trendreel.render.errors import RenderError
from trendreel.render.text import speech_weight
from trendreel.render.tts import Speech, SpeechClip

MAX_PHRASE_S = 2.4  # longest phrase said; its cue lasts at most 2.5 s
PAUSE_S = {"sentence": 0.30, "clause": 0.16, "word": 0.06}
MERGE_S = 1.9  # clauses of one sentence are said together when they take no longer than this
START_SECONDS_PER_UNIT = 1 / 13.0  # first guess: 13 Latin letters (or 4.6 Hangul syllables) a second

_SENTENCE = re.compile(r"(?<=[.!?。！？…])\s+")
_CLAUSE = re.compile(r"(?<=[,;:，、])\s+|\s+(?=[—–-]\s)")
# Good places to break a long clause: before these words, or after a word with these endings.
_BREAK_BEFORE = frozenset(
    "and but or so because which who whom whose that when while where after before until if although though "
    "as since than to for with without from into about".split())
_BREAK_AFTER_KO = re.compile(r"(고|며|면서|서|는데|은데|지만|면|니까|도록|으로|에서|에게|라고|다고|하고)[,.]?$")
_PARTICLE_KO = re.compile(r"[\uac00-\ud7a3](은|는|이|가|도|을|를)$")  # after a subject, topic or object
_SAYABLE = re.compile(r"\w")
# Never end a phrase on these (an article or a preposition waiting for its noun).
_NO_BREAK_AFTER = frozenset("a an the of to in on at by for with from my your his her its our their this these".split())


@dataclass(frozen=True)
class Phrase:
    text: str
    start_s: float  # in the joined WAV, where its speech starts
    end_s: float  # and ends


@dataclass(frozen=True)
class PhrasedClip:
    clip: SpeechClip  # the joined WAV and its length
    phrases: tuple[Phrase, ...]


def _clauses(text: str) -> list[tuple[str, str]]:
    """(clause, what ends it: sentence | clause) in order."""
    out: list[tuple[str, str]] = []
    for sentence in _SENTENCE.split(" ".join(text.split())):
        parts = [p.strip() for p in _CLAUSE.split(sentence) if p and p.strip()]
        out += [(p, "clause") for p in parts[:-1]]
        if parts:
            out.append((parts[-1], "sentence"))
    return out


def _break_cost(words: list[str], i: int) -> float:
    """Cost of ending a phrase after words[i]: 0 at a natural break, higher where the words belong together."""
    last, nxt = words[i].lower().strip(",.\"'“”‘’"), words[i + 1].lower().strip("\"'“”‘’") if i + 1 < len(words) else ""
    if last in _NO_BREAK_AFTER:
        return 1.0
    if nxt in _BREAK_BEFORE or _BREAK_AFTER_KO.search(words[i]):
        return 0.0
    if _PARTICLE_KO.search(words[i]):
        return 0.1
    return 0.35


def split_words(text: str, parts: int) -> list[str]:
    """`text` in `parts` pieces of about equal speaking time, broken between words where it reads well."""
    words = text.split()
    parts = min(parts, len(words))
    if parts <= 1:
        return [text]
    weights = [speech_weight(w) for w in words]
    total = sum(weights)
    out, start = [], 0
    for k in range(1, parts):
        target = total * k / parts
        best, best_cost = None, float("inf")
        acc = sum(weights[:start])
        for i in range(start, len(words) - (parts - k)):
            acc += weights[i]
            cost = 0.6 * abs(acc - target) / (total / parts) + _break_cost(words, i)
            if cost < best_cost:
                best, best_cost = i, cost
        out.append(" ".join(words[start:best + 1]))
        start = best + 1
    out.append(" ".join(words[start:]))
    return out


class SpeechRate:
    """Seconds per speech unit, learnt from the phrases said so far."""

    def __init__(self) -> None:
        self.seconds, self.units = 0.0, 0.0

    def estimate(self, text: str) -> float:
        per = self.seconds / self.units if self.units > 3 else START_SECONDS_PER_UNIT
        return speech_weight(text) * per

    def learn(self, text: str, seconds: float) -> None:
        self.seconds += seconds
        self.units += speech_weight(text)


def plan_phrases(text: str, *, estimate: Callable[[str], float], fits: Callable[[str], bool],
                 max_s: float = MAX_PHRASE_S) -> list[tuple[str, str]]:
    """(phrase, the pause after it: sentence | clause | word): clauses merged when short, split when long."""
    out: list[tuple[str, str]] = []
    pending: tuple[str, str] | None = None
    for clause, end in _clauses(text):
        if pending is not None:  # a short clause waiting for the next one of its sentence
            merged = f"{pending[0]} {clause}"
            if estimate(merged) <= MERGE_S and fits(merged):
                clause = merged
            else:
                out.append(pending)
            pending = None
        pieces = 1
        while pieces < len(clause.split()) and (
                any(estimate(p) > max_s * 0.92 or not fits(p) for p in split_words(clause, pieces))):
            pieces += 1
        split = split_words(clause, pieces)
        for p in split[:-1]:
            out.append((p, "word"))
        if end == "clause" and pieces == 1 and estimate(clause) < MERGE_S:
            pending = (clause, end)
        else:
            out.append((split[-1], end))
    if pending is not None:
        out.append(pending)
    merged: list[tuple[str, str]] = []
    for phrase, pause in out:  # nothing to say ("🎉", "…"): joined to the phrase before it
        if merged and not _SAYABLE.search(phrase):
            merged[-1] = (f"{merged[-1][0]} {phrase}", pause)
        else:
            merged.append((phrase, pause))
    return merged


def _read(path: Path) -> tuple[np.ndarray, int, int]:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise RenderError(f"{path.name}: the speech engine wrote {8 * w.getsampwidth()}-bit audio, not 16-bit PCM")
        rate, channels = w.getframerate(), w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, channels)
    return data, rate, channels


def _conform(data: np.ndarray, rate: int, to_rate: int, to_channels: int) -> np.ndarray:
    """Samples at another rate or channel count made like the first phrase's (linear interpolation)."""
    mono = data.astype(np.float64).mean(axis=1)
    if rate != to_rate and len(mono) > 1:
        n = max(1, round(len(mono) * to_rate / rate))
        mono = np.interp(np.linspace(0, len(mono) - 1, n), np.arange(len(mono)), mono)
    return np.repeat(np.round(mono).astype("<i2")[:, None], to_channels, axis=1)


def say_phrases(speech: Speech, text: str, out: Path, *, fits: Callable[[str], bool] = lambda t: True,
                rate: SpeechRate | None = None, max_s: float = MAX_PHRASE_S) -> PhrasedClip:
    """Say `text` phrase by phrase into `out` (one WAV); the phrases' exact places in it."""
    out = Path(out)
    rate = rate or SpeechRate()
    planned = plan_phrases(text, estimate=rate.estimate, fits=fits, max_s=max_s)
    said: list[tuple[str, str, SpeechClip]] = []
    queue = list(planned)
    n = 0
    while queue:
        phrase, pause = queue.pop(0)
        clip = speech.synthesize(phrase, out.with_name(f"{out.stem}.p{n:02d}.wav"))
        n += 1
        rate.learn(phrase, clip.duration_s)
        words = phrase.split()
        if clip.duration_s > max_s and len(words) > 1:  # longer than estimated: split it and say both halves
            halves = split_words(phrase, 2)
            queue[:0] = [(halves[0], "word"), (halves[1], pause)]
            clip.path.unlink(missing_ok=True)
            continue
        said.append((phrase, pause, clip))
    first, sample_rate, channels = _read(said[0][2].path)
    chunks, phrases, t = [], [], 0
    for k, (phrase, pause, clip) in enumerate(said):
        data, r, c = (first, sample_rate, channels) if k == 0 else _read(clip.path)
        if (r, c) != (sample_rate, channels):
            data = _conform(data, r, sample_rate, channels)
        if k:
            gap = np.zeros((round(PAUSE_S[said[k - 1][1]] * sample_rate), channels), dtype="<i2")
            chunks.append(gap)
            t += len(gap)
        phrases.append(Phrase(phrase, round(t / sample_rate, 4), round((t + len(data)) / sample_rate, 4)))
        chunks.append(data)
        t += len(data)
        clip.path.unlink(missing_ok=True)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.concatenate(chunks).tobytes())
    base = said[0][2]
    joined = SpeechClip(path=out, duration_s=t / sample_rate, sample_rate=sample_rate, engine=base.engine, voice=base.voice)
    return PhrasedClip(clip=joined, phrases=tuple(phrases))
