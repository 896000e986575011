"""Where the key line's burned-in caption sits, so its highlight bar goes under the text and never through it.

The compositor burns narration cues in with libass (render.subtitles, style Sub): bottom-centred, the
bottom of the last line `Layout.sub_margin_v` above the frame's foot, each line `Layout.sub_size`
pixels high (the ASS font size is the line height), outlined by `Layout.outline + 2` pixels, lines
broken by the render plan (WrapStyle 2: libass does not re-wrap). The .srt holds the same cue text
with the same line breaks. So the caption block of a cue is known without looking at the picture:

- its rows: from `bottom - lines x sub_size` to `bottom + outline` (descenders and their outline);
- its width: the widest line, measured with the font the captions are drawn in (the render plan's
  font, its bold face when there is one, at the size libass draws it; render.text.TextMeasure).

The bar is drawn under that block, as wide as its widest line, before the key line's zoom, so it
moves and grows with the caption instead of staying where a one-line caption's foot was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from trendreel.render.errors import FontUnavailable
from trendreel.render.fonts import FontInfo, font_info, resolve_font
from trendreel.render.plan import Layout
from trendreel.render.text import TextMeasure

log = logging.getLogger(__name__)

__all__ = ["Bar", "CaptionBlock", "caption_block", "caption_font", "highlight_bar"]

BAR_H = 0.007  # bar height, share of the frame height
BAR_GAP = 0.003  # gap between the caption's lowest ink (outline included) and the bar
FALLBACK_W = 0.5  # bar width when the caption cannot be measured (no font)
FONT_DIRS = Path("/usr/share/fonts/truetype")


@dataclass(frozen=True)
class CaptionBlock:
    """A burned-in caption's box in frame pixels: rows [top, bottom) and columns [left, right)."""

    lines: tuple[str, ...]
    top: int
    bottom: int  # lowest row of ink, outline included, plus one
    left: int
    right: int


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    w: int
    h: int
    edge: int  # the dark edge around it


def caption_font(details: dict | None, text: str) -> FontInfo | None:
    """The font the captions were drawn in: the render plan's font file (found by its name beside the
    default font or among the system's TrueType fonts), else the default the compositor would pick; None when no font is found."""
    want = (((details or {}).get("plan") or {}).get("font") or "").strip()
    hangul = any("\uac00" <= ch <= "\ud7a3" for ch in text)
    try:
        default = resolve_font(None, need_hangul=hangul)
    except FontUnavailable:
        default = None
    if want and default is not None and default.path.name != want:
        for cand in (default.path.with_name(want), *FONT_DIRS.glob(f"*/{want}")):
            if cand.is_file():
                try:
                    return font_info(cand)
                except FontUnavailable:
                    break
    return default


def caption_block(text: str, *, width: int, height: int, font: FontInfo | None) -> CaptionBlock:
    """The box of a bottom caption with these lines (the .srt cue's text) in a width x height frame."""
    lay = Layout(width, height)
    lines = tuple(ln.strip() for ln in text.splitlines() if ln.strip()) or ("",)
    outline = lay.outline + 2
    foot = height - lay.sub_margin_v
    if font is not None:
        measure = TextMeasure(font)
        widest = max(measure.width(ln, lay.sub_size) for ln in lines)
    else:
        widest = width * FALLBACK_W
    widest = min(widest + 2 * outline, width - 2)
    left = int((width - widest) // 2)
    return CaptionBlock(lines=lines, top=foot - len(lines) * lay.sub_size - outline, bottom=foot + outline,
                        left=left, right=width - left)


def highlight_bar(block: CaptionBlock, *, width: int, height: int) -> Bar:
    """The bar under a caption block: below its lowest ink, as wide as its widest line."""
    h = max(2, round(height * BAR_H))
    edge = max(1, h // 3)
    y = min(block.bottom + max(1, round(height * BAR_GAP)) + edge, height - h - edge)
    w = max(2, (block.right - block.left) // 2 * 2)
    return Bar(x=(width - w) // 2, y=y, w=w, h=h, edge=edge)
