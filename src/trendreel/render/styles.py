"""Subtitle style presets (`render.subtitle_style`) and the sizes they take on a given frame.

A preset says how the opening headline and the narration subtitles look: weight, size, colours,
outline or box, shadow, where the subtitles sit and whether the spoken word lights up (karaoke).
Sizes are fractions of the frame's `scale`, min(width, 0.8 x height): 1080 on a 1080x1920 vertical
frame, 864 on 1080x1080 and on 1920x1080, so text keeps its proportion whatever the frame's shape.
Colours are RGB hex; the ASS script writes them as &HAABBGGRR.
"""

from __future__ import annotations

from dataclasses import dataclass

# A vertical frame keeps its bottom 20 % clear for the platform's caption and buttons.
VERTICAL_BOTTOM = 0.20
OTHER_BOTTOM = 0.09


@dataclass(frozen=True)
class SubtitleStyle:
    name: str
    size: float  # subtitle line height, fraction of the frame's scale
    headline_size: float  # headline line height, fraction of the frame's scale
    bold: bool = True
    colour: str = "FFFFFF"  # text (before the highlight, for karaoke)
    outline_colour: str = "000000"
    outline: float = 0.0  # outline width, fraction of the scale
    shadow: float = 0.0  # shadow offset, fraction of the scale
    box: bool = False  # a translucent box behind each line instead of an outline
    box_colour: str = "000000"
    box_alpha: int = 0x60  # 0 opaque .. 255 transparent
    highlight: str | None = None  # colour of the words already said (ASS \k karaoke), None for no highlight
    bottom: float | None = None  # subtitles' distance from the bottom, fraction of the height; None: the frame's default


PRESETS: dict[str, SubtitleStyle] = {
    "bold": SubtitleStyle("bold", size=0.075, headline_size=0.105, outline=0.009),
    "boxed": SubtitleStyle("boxed", size=0.066, headline_size=0.095, box=True, outline=0.012),
    "karaoke": SubtitleStyle("karaoke", size=0.075, headline_size=0.105, outline=0.009, highlight="FFD21F"),
    "minimal": SubtitleStyle("minimal", size=0.054, headline_size=0.08, bold=False, outline=0.0028, shadow=0.002),
}


def preset(name: str) -> SubtitleStyle:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown subtitle style {name!r}; use one of {', '.join(PRESETS)}") from None


@dataclass(frozen=True)
class Layout:
    """Pixel sizes and margins of the text on one frame, for one style preset."""

    width: int
    height: int
    style: SubtitleStyle = PRESETS["bold"]

    @property
    def vertical(self) -> bool:
        return self.height > self.width * 1.2

    @property
    def scale(self) -> float:
        return min(self.width, self.height * 0.8)

    @property
    def margin_x(self) -> int:
        return round(self.width * 0.07)

    @property
    def sub_size(self) -> int:
        return max(12, round(self.scale * self.style.size))

    @property
    def headline_size(self) -> int:
        return max(14, round(self.scale * self.style.headline_size))

    @property
    def sub_margin_v(self) -> int:
        bottom = self.style.bottom if self.style.bottom is not None else (
            VERTICAL_BOTTOM if self.vertical else OTHER_BOTTOM)
        return round(self.height * bottom)

    @property
    def outline(self) -> int:
        return max(1, round(self.scale * self.style.outline)) if self.style.outline else 0

    @property
    def shadow(self) -> int:
        return max(1, round(self.scale * self.style.shadow)) if self.style.shadow else 0

    def text_width(self) -> float:
        """Widest line, in pixels: inside the side margins (and the box's padding), at most 1.5 x the scale."""
        room = self.width - 2 * self.margin_x - (2 * self.outline if self.style.box else 0)
        # 6% slack: libass and FreeType round glyph advances differently
        return min(room, self.scale * 1.5) * 0.94
