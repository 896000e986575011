"""Errors of the render stage; each message says what to do.

TrendreelError
└── RenderError                the video cannot be made (unknown story, nothing usable, bad settings)
    ├── UnknownVideo           the story or video asked for is not stored (a NotFound)
    ├── BadRenderChoice        a per-render choice (aspect, subtitle style, voice, music) is not valid (an InvalidInput)
    ├── SpeechUnavailable      the narration engine for the story's language is missing (names it, says how to install)
    ├── FontUnavailable        no font that can draw the story's script (e.g. Hangul without fonts-nanum)
    ├── RenderFailed           ffmpeg failed or its output did not pass the checks (no file is stored)
    └── GeneratorUnavailable   a model backend (ltx2) lacks its library, weights or GPU (names the setting or package)

Bad media (a missing, corrupt or empty file, a codec ffmpeg cannot decode) is not an error: the scene
falls back to a plain colour card and the video's `details.warnings` says why.
"""

from __future__ import annotations

from trendreel.errors import InvalidInput, NotFound, TrendreelError


class RenderError(TrendreelError):
    """A video cannot be rendered for this story."""


class SpeechUnavailable(RenderError):
    """The text-to-speech engine or voice a language needs is not installed."""


class FontUnavailable(RenderError):
    """No font can draw the story's text."""


class RenderFailed(RenderError):
    """ffmpeg failed, or the file it wrote is not a valid video; nothing was stored."""


class GeneratorUnavailable(RenderError):
    """A model backend cannot run here: its library, its weights or its GPU is missing (names what to install or set)."""


class UnknownVideo(RenderError, NotFound):
    """The story to render, or the video asked for, is not stored."""


class BadRenderChoice(RenderError, InvalidInput):
    """A per-render choice (aspect, subtitle style, voice, music) cannot be used; the message names the choice."""
