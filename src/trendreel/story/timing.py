"""How long a narration takes to say, estimated from its text alone (no speech model needed).

Rates per script, set from the voices the render stage uses (measured in docs/stories.md):
- Hangul and other CJK characters: 4.5 syllables per second (espeak-ng `-v ko` read the sample
  site's Korean sentences at 4.4/s, pauses included; a newsreader says about 5.5-6/s: the slower
  voice decides, so a story does not overrun its length);
- every other character, spaces and punctuation included: 14 per second (about 150 English words
  a minute; espeak-ng `-v en` read the English sentences at 17.6/s).
Mixed text ("AI 칩 NX-7") adds both parts. Each scene also gets a short pause after its narration.
"""

from __future__ import annotations

import re

SYLLABLES_PER_S = 4.5
CHARS_PER_S = 14.0
SCENE_PAUSE_S = 0.4
MIN_SCENE_S = 2.0

# Hangul syllables and jamo, CJK ideographs, kana: one spoken syllable per character.
_SYLLABIC = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def speech_seconds(text: str) -> float:
    """Seconds needed to say `text` aloud at the documented rates."""
    text = " ".join(text.split())
    syllabic = len(_SYLLABIC.findall(text))
    others = len(text) - syllabic
    # Spaces between Hangul words are not spoken time; only count those between other words.
    if syllabic:
        others -= text.count(" ")
    return syllabic / SYLLABLES_PER_S + max(others, 0) / CHARS_PER_S


def scene_seconds(narration: str) -> float:
    """A scene lasts as long as its narration plus a pause, and never less than MIN_SCENE_S."""
    return round(max(MIN_SCENE_S, speech_seconds(narration) + SCENE_PAUSE_S), 2)
