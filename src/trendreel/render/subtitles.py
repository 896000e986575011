"""Subtitle files from a plan: an ASS script that libass burns in (headline and cues) and an .srt.

Two ASS styles, both from the `render.subtitle_style` preset (styles.py; sizes scale with the frame):
- Head: the headline, big, in the middle of the frame, for the video's first seconds;
- Sub: the narration cues, bottom centre above the platform's buttons; with the karaoke preset each
  word carries a \\k tag of its share of the phrase's speaking time, so it turns to the accent colour
  as it is said.
Lines are broken by the plan (measured with the same font), so WrapStyle 2 tells libass not to re-wrap.
The .srt holds every phrase said, the ones under the headline too.
"""

from __future__ import annotations

from pathlib import Path

from trendreel.render.plan import Cue, RenderPlan
from trendreel.render.styles import Layout, SubtitleStyle, preset
from trendreel.render.text import speech_weight


def _ass_time(t: float) -> str:
    cs = max(0, round(t * 100))
    h, rem = divmod(cs, 360000)
    m, rem = divmod(rem, 6000)
    s, cs = divmod(rem, 100)
    return f"{h:d}:{m:02d}:{s:02d}.{cs:02d}"


def _srt_time(t: float) -> str:
    ms = max(0, round(t * 1000))
    h, rem = divmod(ms, 3600000)
    m, rem = divmod(rem, 60000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def ass_escape(line: str) -> str:
    """Text that libass shows literally: braces would start override tags, backslashes escapes."""
    return line.replace("\\", "\uff3c").replace("{", "\uff5b").replace("}", "\uff5d")


def _colour(rgb: str, alpha: int = 0) -> str:
    """RGB hex as an ASS colour, &HAABBGGRR."""
    return f"&H{alpha:02X}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}".upper()


def _style_line(name: str, family: str, size: int, st: SubtitleStyle, lay: Layout, *, outline: int, shadow: int,
                alignment: int, margin_v: int, karaoke: bool, bold: int) -> str:
    primary = _colour(st.highlight) if karaoke and st.highlight else _colour(st.colour)
    if st.box:
        edge = back = _colour(st.box_colour, st.box_alpha)
        border = 3
    else:
        edge, back, border = _colour(st.outline_colour), _colour(st.outline_colour, 0x80), 1
    m = lay.margin_x
    # Name, Fontname, Fontsize, Primary, Secondary, Outline, Back, Bold, Italic, Underline, StrikeOut,
    # ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
    return (f"Style: {name},{family},{size},{primary},{_colour(st.colour)},{edge},{back},{bold},0,0,0,100,100,0,0,"
            f"{border},{outline},{shadow},{alignment},{m},{m},{margin_v},1")


def karaoke_text(cue: Cue) -> str:
    """The cue's lines with a \\k tag before each word: its share (by speech_weight) of the phrase's speech."""
    lead = max(0.0, cue.speech_s[0] - cue.start_s)
    said = max(0.05, cue.speech_s[1] - max(cue.start_s, cue.speech_s[0]))
    words = [line.split() for line in cue.lines]
    total = sum(speech_weight(w) for line in words for w in line) or 1.0
    out_lines, t, done = [], 0.0, 0  # cumulative rounding: the tags add up to the speech's length
    first = f"{{\\k{round(lead * 100)}}}" if lead >= 0.01 else ""
    for line in words:
        parts = []
        for w in line:
            t += said * speech_weight(w) / total
            cs = round(t * 100) - done
            done += cs
            parts.append(f"{{\\k{cs}}}{ass_escape(w)}")
        out_lines.append(" ".join(parts))
    return first + "\\N".join(out_lines)


def ass_script(plan: RenderPlan, *, subtitles: bool = True) -> str:
    st = preset(plan.style)
    lay = Layout(plan.width, plan.height, st)
    family = plan.font.family
    bold = -1 if plan.font.bold_path and st.bold else 0
    karaoke = st.highlight is not None
    ratio = lay.headline_size / lay.sub_size
    styles = [
        _style_line("Head", family, lay.headline_size, st, lay, outline=round(lay.outline * (1 if st.box else ratio)),
                    shadow=round(lay.shadow * ratio), alignment=5, margin_v=0, karaoke=False, bold=bold),
        _style_line("Sub", family, lay.sub_size, st, lay, outline=lay.outline, shadow=lay.shadow, alignment=2,
                    margin_v=lay.sub_margin_v, karaoke=karaoke, bold=bold),
    ]
    events = []
    for scene in plan.scenes:
        for o in scene.overlays:
            size = "" if o.text.size == lay.headline_size else f"{{\\fs{o.text.size}}}"
            text = "\\N".join(ass_escape(line) for line in o.text.lines)
            events.append(f"Dialogue: 1,{_ass_time(o.start_s)},{_ass_time(o.end_s)},Head,,0,0,0,,{size}{text}")
        if subtitles:
            for c in scene.cues:
                if not c.shown:
                    continue
                text = karaoke_text(c) if karaoke else "\\N".join(ass_escape(line) for line in c.lines)
                events.append(f"Dialogue: 0,{_ass_time(c.start_s)},{_ass_time(c.end_s)},Sub,,0,0,0,,{text}")
    return "\n".join([
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {plan.width}", f"PlayResY: {plan.height}",
        "WrapStyle: 2", "ScaledBorderAndShadow: yes", "YCbCr Matrix: TV.709", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding",
        *styles, "",
        "[Events]", "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        *events, "",
    ])


def srt_text(plan: RenderPlan) -> str:
    blocks = []
    for n, c in enumerate(plan.cues, 1):
        blocks.append(f"{n}\n{_srt_time(c.start_s)} --> {_srt_time(c.end_s)}\n" + "\n".join(c.lines) + "\n")
    return "\n".join(blocks)


def write_subtitles(plan: RenderPlan, workdir: Path, *, burn_in: bool = True) -> tuple[Path, Path]:
    """(subs.ass, subtitles.srt) in `workdir`."""
    ass = Path(workdir) / "subs.ass"
    srt = Path(workdir) / "subtitles.srt"
    ass.write_text(ass_script(plan, subtitles=burn_in), encoding="utf-8")
    srt.write_text(srt_text(plan), encoding="utf-8")
    return ass, srt
