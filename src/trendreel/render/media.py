"""Checking each cited medium before it goes into the filtergraph, and the documented fallbacks.

| input | what the render does |
|---|---|
| image Pillow reads | used as is; rotated per EXIF, CMYK/transparent/animated converted to a JPEG first |
| image only ffmpeg reads (e.g. AVIF) | converted to PNG by ffmpeg, then used |
| missing, purged, unknown, corrupt or truncated file | the scene shows a plain colour card with its text |
| video with a decodable picture | its cited range [start_s, end_s), clamped to the file's length |
| zero-length clip (range after the end, or a one-frame file) | a still of the frame at start_s (or the card) |
| clip whose picture does not move (mostly frozen: freezedetect) | its first frame as a still, which then gets motion |
| video with no picture or a codec ffmpeg cannot decode | the card |
Every fallback adds a line to the video's `details.warnings`; none makes the render fail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from trendreel.render.base import MediaFile
from trendreel.render.errors import RenderFailed
from trendreel.render.ffmpeg import probe, run_ffmpeg

log = logging.getLogger(__name__)

MIN_CLIP_S = 0.1  # a cited range shorter than this is a zero-length clip
STATIC_SHARE = 0.5  # a clip frozen this much of its range is shown as a still (with motion) instead
FREEZE_NOISE = 0.001  # what counts as frozen: ffmpeg freezedetect's default noise, the measure of docs/render.md
PROBE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Visual:
    """What one shot shows: a still image, a range of a video, or a colour card (path None)."""

    kind: str  # image | video | card
    path: Path | None = None
    media_id: str | None = None
    clip_in: float = 0.0
    clip_out: float = 0.0
    width: int = 0
    height: int = 0
    warning: str | None = None

    @property
    def clip_s(self) -> float:
        return max(0.0, self.clip_out - self.clip_in)


def _card(media_id: str | None, why: str) -> Visual:
    return Visual(kind="card", media_id=media_id, warning=f"{media_id or 'media'}: {why}; showing a colour card instead")


def _image_with_ffmpeg(src: Path, dest: Path, *, exe: str, at_s: float | None = None) -> Path | None:
    args = ["-v", "error"]
    if at_s:
        args += ["-ss", f"{at_s:.3f}"]
    args += ["-i", str(src), "-frames:v", "1", "-update", "1", str(dest)]
    try:
        run_ffmpeg(args, what=f"reading {src.name}", timeout_s=PROBE_TIMEOUT_S, exe=exe)
    except RenderFailed as exc:
        log.info("ffmpeg cannot read a frame of %s: %s", src.name, exc)
        return None
    return dest if dest.is_file() and dest.stat().st_size > 0 else None


def prepare_image(mf: MediaFile, workdir: Path, *, exe: str) -> Visual:
    """A still the filtergraph can read, or the card with the reason."""
    if mf.path is None:
        return _card(mf.media_id, mf.problem or "no file")
    if not mf.path.is_file() or mf.path.stat().st_size == 0:
        return _card(mf.media_id, "the stored file is missing or empty")
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(mf.path) as im:
            im.load()  # raises on a truncated or corrupt file
            orientation = im.getexif().get(0x0112, 1)
            animated = getattr(im, "is_animated", False)
            needs_copy = orientation != 1 or animated or im.mode not in ("RGB", "L") or im.format not in ("JPEG", "PNG")
            if not needs_copy:
                return Visual(kind="image", path=mf.path, media_id=mf.media_id, width=im.width, height=im.height)
            im.seek(0)
            frame = ImageOps.exif_transpose(im)
            if frame.mode in ("RGBA", "LA", "P", "PA"):
                rgba = frame.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (0, 0, 0))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                frame = flat
            frame = frame.convert("RGB")
            dest = workdir / f"{mf.media_id}.jpg"
            frame.save(dest, "JPEG", quality=95)
            return Visual(kind="image", path=dest, media_id=mf.media_id, width=frame.width, height=frame.height)
    except UnidentifiedImageError as exc:  # a format Pillow does not know (AVIF, HEIF, ...): ask ffmpeg
        pillow_error = str(exc) or type(exc).__name__
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow knows the format and the file is broken
        return _card(mf.media_id, f"the image cannot be read ({str(exc) or type(exc).__name__})")
    dest = _image_with_ffmpeg(mf.path, workdir / f"{mf.media_id}.png", exe=exe)
    if dest is None:
        return _card(mf.media_id, f"the image cannot be read ({pillow_error})")
    from PIL import Image

    with Image.open(dest) as im:
        return Visual(kind="image", path=dest, media_id=mf.media_id, width=im.width, height=im.height)


def _static(path: Path, start: float, end: float, *, exe: str) -> bool:
    """Whether the picture of the range barely moves (a test card, a filmed slide): frozen at least
    STATIC_SHARE of it by freezedetect (noise FREEZE_NOISE, over at least min(1 s, half the range))."""
    length = end - start
    try:  # the range only: input seek and -t
        proc = run_ffmpeg(["-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", str(path), "-map", "0:v:0",
                           "-vf", f"freezedetect=n={FREEZE_NOISE}:d={min(1.0, length / 2):.3f}", "-f", "null", "-"],
                          what=f"checking the motion of {path.name}", timeout_s=PROBE_TIMEOUT_S, exe=exe)
    except RenderFailed as exc:
        log.info("cannot check the motion of %s: %s", path.name, exc)
        return False
    frozen, began = 0.0, None
    for line in proc.stderr.splitlines():
        if "freeze_start:" in line:
            began = float(line.rsplit(":", 1)[1])
        elif "freeze_end:" in line and began is not None:
            frozen += float(line.rsplit(":", 1)[1]) - began
            began = None
    if began is not None:
        frozen += max(0.0, length - began)
    return frozen >= STATIC_SHARE * length


def prepare_clip(mf: MediaFile, start_s: float, end_s: float, workdir: Path, *, exe: str) -> Visual:
    """The cited range of a video, a still of its first frame when the range is empty, or the card."""
    if mf.path is None:
        return _card(mf.media_id, mf.problem or "no file")
    if not mf.path.is_file() or mf.path.stat().st_size == 0:
        return _card(mf.media_id, "the stored file is missing or empty")
    try:
        info = probe(mf.path, timeout_s=PROBE_TIMEOUT_S)
    except RenderFailed as exc:
        return _card(mf.media_id, f"the video cannot be read ({exc})")
    stream = info.video
    if stream is None:
        return _card(mf.media_id, "the file has no picture")
    duration = info.duration_s or stream.duration_s or 0.0
    start = max(0.0, min(start_s, duration))
    end = max(start, min(end_s, duration))
    frame_at = start if end - start >= MIN_CLIP_S else max(0.0, min(start_s, duration - 0.05))
    still = _image_with_ffmpeg(mf.path, workdir / f"{mf.media_id}-{int(frame_at * 1000)}.png", exe=exe, at_s=frame_at)
    if still is None and frame_at > 0:
        still = _image_with_ffmpeg(mf.path, workdir / f"{mf.media_id}-0.png", exe=exe)
    if still is None:
        return _card(mf.media_id, f"its picture cannot be decoded (codec {stream.codec})")
    if end - start < MIN_CLIP_S or (stream.frames is not None and stream.frames <= 1):
        return Visual(kind="image", path=still, media_id=mf.media_id, width=stream.width, height=stream.height,
                      warning=f"{mf.media_id}: the clip {start_s:g}-{end_s:g} s is empty (the video lasts {duration:.2f} s); "
                              "showing its frame as a still")
    if _static(mf.path, start, end, exe=exe):
        return Visual(kind="image", path=still, media_id=mf.media_id, width=stream.width, height=stream.height)
    warning = None
    if end_s > duration + 0.05:
        warning = f"{mf.media_id}: the clip {start_s:g}-{end_s:g} s ends after the video ({duration:.2f} s); cut at its end"
    return Visual(kind="video", path=mf.path, media_id=mf.media_id, clip_in=start, clip_out=end,
                  width=stream.width, height=stream.height, warning=warning)
