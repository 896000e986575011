"""Render stage: a story and the stored media it cites become one short vertical video with sound.

The use cases (render a story, list and read videos) are in trendreel.services.render. Backends
implement `VideoGenerator` (base.py) and are registry backends of kind video_generator; `compositor`
(ffmpeg on CPU) is the default. See docs/render.md.
"""

from trendreel.render.base import MediaFile, RenderJob, RenderOutput, VideoGenerator
from trendreel.render.errors import FontUnavailable, RenderError, RenderFailed, SpeechUnavailable

__all__ = ["FontUnavailable", "MediaFile", "RenderError", "RenderFailed", "RenderJob", "RenderOutput",
           "SpeechUnavailable", "VideoGenerator"]
