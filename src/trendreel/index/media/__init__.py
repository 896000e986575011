"""Media understanding for the index stage: image facts and vectors, video keyframes and vectors, speech transcripts.

Backends are chosen by the caller: `CaptionTextImageEmbedder` (default, text around the image) or
`ClipImageEmbedder` (pixels, from a local open_clip checkpoint); `load_speech_to_text` for transcripts.
"""

from trendreel.index.media.clip import ClipImageEmbedder
from trendreel.index.media.images import (
    CaptionTextImageEmbedder,
    ImageEmbedder,
    ImageInfo,
    ImageInput,
    TextEmbedder,
    image_caption_text,
    inspect_image,
    phash_distance,
)
from trendreel.index.media.speech import (
    SpeechToText,
    Transcript,
    has_speech,
    load_speech_to_text,
)
from trendreel.index.media.video import (
    Keyframe,
    VideoInfo,
    extract_audio,
    keyframes,
    probe_video,
    video_vector,
)

__all__ = [
    "CaptionTextImageEmbedder",
    "ClipImageEmbedder",
    "ImageEmbedder",
    "ImageInfo",
    "ImageInput",
    "Keyframe",
    "SpeechToText",
    "TextEmbedder",
    "Transcript",
    "VideoInfo",
    "extract_audio",
    "has_speech",
    "image_caption_text",
    "inspect_image",
    "keyframes",
    "load_speech_to_text",
    "phash_distance",
    "probe_video",
    "video_vector",
]
