"""The font that draws on-screen text and subtitles, and a check that it has the story's letters.

Default: NanumGothic from Debian's fonts-nanum (Hangul and Latin in one face, a Bold sibling beside it),
found with `fc-match` or at its Debian path. A Korean story with no Hangul font is an error that says
what to install, never a video full of empty boxes ("tofu").
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from trendreel.render.errors import FontUnavailable

DEBIAN_NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
DEBIAN_DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
HANGUL_SAMPLE = "가나다한글"
_NOTDEF_PROBE = "\U0010fffd"  # a private-use code point no font draws: its mask is the .notdef box


@dataclass(frozen=True)
class FontInfo:
    path: Path
    family: str
    bold_path: Path | None = None
    # ASS font size = line height (ascent + descent); Pillow's size is the em. size_em = ass_size / line_ratio.
    line_ratio: float = 1.2

    @property
    def measure_path(self) -> Path:
        """The face the text is drawn in (bold when there is one), for measuring widths."""
        return self.bold_path or self.path


def _fc_match(pattern: str) -> Path | None:
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-f", "%{file}", pattern], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(out) if out and Path(out).is_file() else None


@lru_cache(maxsize=32)
def has_glyphs(path: Path, text: str) -> bool:
    """Whether the font draws every non-space character of `text` (none falls back to the .notdef box)."""
    from PIL import ImageFont

    font = ImageFont.truetype(str(path), 32)
    notdef = font.getmask(_NOTDEF_PROBE)
    notdef_key = (notdef.size, bytes(notdef))
    for ch in set(text):
        if ch.isspace() or not ch.isprintable():
            continue
        mask = font.getmask(ch)
        if (mask.size, bytes(mask)) == notdef_key:
            return False
    return True


def _bold_sibling(path: Path) -> Path | None:
    stem, ext = path.stem, path.suffix
    for name in (f"{stem}Bold{ext}", f"{stem}-Bold{ext}", f"{stem.replace('Regular', 'Bold')}{ext}"):
        cand = path.with_name(name)
        if cand != path and cand.is_file():
            return cand
    return None


@lru_cache(maxsize=16)
def font_info(path: Path) -> FontInfo:
    from PIL import ImageFont

    try:
        face = ImageFont.truetype(str(path), 1000)
    except OSError as exc:
        raise FontUnavailable(f"font {path} cannot be read ({exc}); set render.font_file to a TrueType/OpenType file") from exc
    family = face.getname()[0] or path.stem
    ascent, descent = face.getmetrics()
    bold = _bold_sibling(path)
    if bold is not None:
        try:
            if ImageFont.truetype(str(bold), 10).getname()[0] != family:
                bold = None  # a different family: libass would not pick it as this one's bold
        except OSError:
            bold = None
    return FontInfo(path=path, family=family, bold_path=bold, line_ratio=max(0.8, (ascent + descent) / 1000))


def resolve_font(configured: Path | None, *, need_hangul: bool = False) -> FontInfo:
    """The configured font file, else NanumGothic, else (for text without Hangul) a plain sans."""
    need = HANGUL_SAMPLE if need_hangul else ""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FontUnavailable(f"render.font_file {path} does not exist")
        info = font_info(path)
        if need and not has_glyphs(path, need):
            raise FontUnavailable(
                f"font {path.name} has no Hangul for this Korean story; set render.font_file to a font "
                "that has it, such as NanumGothic from fonts-nanum")
        return info
    candidates = [_fc_match("NanumGothic"), DEBIAN_NANUM]
    if not need_hangul:
        candidates += [_fc_match("sans-serif"), DEBIAN_DEJAVU]
    for cand in candidates:
        if cand is not None and cand.is_file() and (not need or has_glyphs(cand, need)):
            return font_info(cand)
    if need_hangul:
        raise FontUnavailable("no font with Hangul was found for this Korean story: install fonts-nanum "
                              "(apt-get install fonts-nanum) or set render.font_file to a font with Hangul")
    raise FontUnavailable("no usable font was found: install fonts-nanum or fonts-dejavu-core, or set render.font_file")


def drawable(text: str, font: FontInfo) -> str:
    """`text` without the characters the font cannot draw (emoji, rare symbols), so none shows as a box."""
    path = font.measure_path
    if has_glyphs(path, text):
        return text
    return "".join(ch for ch in text if ch.isspace() or has_glyphs(path, ch))
