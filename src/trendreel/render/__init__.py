"""Render stage: a story and the stored media it cites become one short vertical video with sound.

Service functions (what the CLI and the API call): `render_story`, `list_videos`, `get_video`.
Backends implement `VideoGenerator` (base.py); `compositor` (ffmpeg on CPU) is the default.
See docs/render.md.
"""

from trendreel.render.base import (
    MediaFile,
    RenderJob,
    RenderOutput,
    VideoGenerator,
    generator_names,
    get_generator,
    register_generator,
)
from trendreel.render.errors import FontUnavailable, RenderError, RenderFailed, SpeechUnavailable
from trendreel.render.service import get_video, list_videos, render_story

__all__ = [
    "FontUnavailable",
    "MediaFile",
    "RenderError",
    "RenderFailed",
    "RenderJob",
    "RenderOutput",
    "SpeechUnavailable",
    "VideoGenerator",
    "generator_names",
    "get_generator",
    "get_video",
    "list_videos",
    "register_generator",
    "render_story",
]
