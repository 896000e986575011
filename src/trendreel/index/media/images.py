"""Images: safe inspection, perceptual hashes, and the image vector backends.

`inspect_image` opens an image with Pillow under explicit limits (a header that claims more than
`MAX_IMAGE_PIXELS` pixels is refused before any pixel is decoded), decodes it fully so truncated files
fail here and not later, and returns its size, format and a 64-bit perceptual hash (`imagehash.phash`,
16 hex digits). Two copies of one picture, re-encoded or resized, have hashes a few bits apart;
`phash_distance` counts those bits (≤ 8 of 64 is a safe "same picture" threshold).

An `ImageEmbedder` turns images into unit vectors. The default, `CaptionTextImageEmbedder`, embeds the
text around an image (alt, caption, article title) with the same text embedder the articles use, so
images, videos and articles share one vector space and a text query finds all three. A pixel model
(CLIP, `clip.ClipImageEmbedder`) is the option for machines that have one.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from trendreel.errors import ExtractionFailed, FileMissing

__all__ = [
    "MAX_IMAGE_PIXELS",
    "CaptionTextImageEmbedder",
    "ImageEmbedder",
    "ImageInfo",
    "ImageInput",
    "TextEmbedder",
    "image_caption_text",
    "inspect_image",
    "normalize_rows",
    "phash_distance",
]

# 50 megapixels: bigger than any news photo (a 45 MP camera is 8192x5464), far below what a
# decompression bomb claims. Checked from the header, before decoding.
MAX_IMAGE_PIXELS = 50_000_000


@dataclass(frozen=True)
class ImageInfo:
    """What `inspect_image` learns about one image file."""

    width: int
    height: int
    phash: str  # 16 hex digits, imagehash.phash (64 bits)
    format: str  # Pillow's format name, lower case: "jpeg", "png", "webp", "gif" ...


@dataclass(frozen=True)
class ImageInput:
    """One image to embed: its file and the text that describes it (see `image_caption_text`)."""

    path: Path
    caption_text: str = ""


class TextEmbedder(Protocol):
    """Any text model: `embed(texts)` returns one row per text, `dim` columns."""

    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


class ImageEmbedder(Protocol):
    """Turns images into unit vectors of `dim` floats (one row per item, float32)."""

    name: str
    dim: int

    def embed_images(self, items: Sequence[ImageInput]) -> np.ndarray: ...


def inspect_image(path: Path, *, max_pixels: int = MAX_IMAGE_PIXELS) -> ImageInfo:
    """Size, format and perceptual hash of an image; ExtractionFailed if it is corrupt, unsupported or too big."""
    import imagehash
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                if width <= 0 or height <= 0:
                    raise ExtractionFailed(f"image {path.name} has no pixels ({width}x{height})")
                if width * height > max_pixels:
                    raise ExtractionFailed(
                        f"image {path.name} is {width}x{height} pixels, more than the limit of {max_pixels}"
                    )
                fmt = (img.format or "").lower()
                img.load()  # decode now: truncated or corrupt data fails here
                phash = str(imagehash.phash(img))
    except ExtractionFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ExtractionFailed(f"image {path.name} is too large to decode safely: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ExtractionFailed(f"{path.name} is not an image format we can read") from exc
    except FileNotFoundError as exc:
        raise FileMissing(f"image file {path} does not exist") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports broken files as OSError ("image file is truncated"), SyntaxError or ValueError.
        raise ExtractionFailed(f"image {path.name} is corrupt: {exc}") from exc
    return ImageInfo(width=width, height=height, phash=phash, format=fmt)


def phash_distance(a: str, b: str) -> int:
    """Number of differing bits between two phash hex strings (0 = same picture)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


_SPACE = re.compile(r"\s+")
# Alt texts that say nothing about the picture.
_PLACEHOLDER = re.compile(
    r"^(image|img|photo|picture|pic|thumbnail|thumb|banner|logo|icon|untitled|사진|이미지|그림|썸네일)?\s*\d*$"
    r"|^[\w.-]+\.(jpe?g|png|gif|webp|avif|bmp|svg)$",
    re.IGNORECASE,
)


def image_caption_text(alt: str | None, caption: str | None, article_title: str | None) -> str:
    """The text the default image vector embeds: alt, caption and article title, cleaned and de-duplicated.

    Placeholder alts ("image", "사진", "photo1.jpg") are dropped, and a part already contained in an
    earlier one is not repeated. Parts are joined by newlines; "" when nothing is left.
    """
    parts: list[str] = []
    for raw in (alt, caption, article_title):
        text = _SPACE.sub(" ", raw or "").strip()
        if not text or _PLACEHOLDER.match(text):
            continue
        low = text.casefold()
        if any(low in p.casefold() for p in parts):
            continue
        # A later, longer part that contains an earlier one replaces it.
        parts = [p for p in parts if p.casefold() not in low]
        parts.append(text)
    return "\n".join(parts)


def normalize_rows(mat: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); all-zero rows stay zero."""
    mat = np.asarray(mat, dtype=np.float32)
    if mat.ndim == 1:
        mat = mat[None, :]
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    return np.divide(mat, norms, out=np.zeros_like(mat), where=norms > 0)


class CaptionTextImageEmbedder:
    """Default image vectors: the image's caption text embedded by the articles' text embedder.

    Images and articles then share one space. An item with empty `caption_text` gets an all-zero row:
    there is nothing to say about it, and the caller should store no vector for it (its phash still
    finds duplicates).
    """

    def __init__(self, text_embedder: TextEmbedder, *, name: str | None = None):
        if not hasattr(text_embedder, "embed") or not hasattr(text_embedder, "dim"):
            raise TypeError("text_embedder needs .embed(list[str]) -> ndarray and .dim")
        self.text_embedder = text_embedder
        self.dim = int(text_embedder.dim)
        self.name = name or f"caption-text:{getattr(text_embedder, 'name', type(text_embedder).__name__)}"

    def embed_images(self, items: Sequence[ImageInput]) -> np.ndarray:
        """One unit row per item (zero row for an item without caption text)."""
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        texts = [(i, (it.caption_text or "").strip()) for i, it in enumerate(items)]
        texts = [(i, t) for i, t in texts if t]
        if texts:
            vecs = np.asarray(self.text_embedder.embed([t for _, t in texts]), dtype=np.float32)
            if vecs.shape != (len(texts), self.dim):
                raise ValueError(f"text embedder returned shape {vecs.shape}, expected {(len(texts), self.dim)}")
            out[[i for i, _ in texts]] = normalize_rows(vecs)
        return out


def caption_text_embedder(index, text_embedder: TextEmbedder) -> CaptionTextImageEmbedder:
    """The registry's `caption-text` image embedder: no image model, the caption through the text embedder."""
    return CaptionTextImageEmbedder(text_embedder)
