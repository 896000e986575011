"""Subtitle files from a plan: an ASS script that libass burns in (cues and on-screen text) and an .srt.

ASS styles (sizes scale with the frame height, see plan.Layout):
- Sub: narration cues, bold white with a black outline, bottom centre above the platform's buttons;
- Top: on-screen text over pictures, bold white in a translucent black box, top centre;
- Card: on-screen text of a colour card, large, centred.
Lines are broken by the plan (measured with the same font), so WrapStyle 2 tells libass not to re-wrap.
"""

from __future__ import annotations

from pathlib import Path

from trendreel.render.plan import Layout, RenderPlan


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


def ass_script(plan: RenderPlan, *, subtitles: bool = True) -> str:
    lay = Layout(plan.width, plan.height)
    family = plan.font.family
    bold = -1 if plan.font.bold_path else 0
    m = lay.margin_x
    styles = [
        # Name, Fontname, Fontsize, Primary, Secondary, Outline, Back, Bold, Italic, Underline, StrikeOut,
        # ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
        f"Style: Sub,{family},{lay.sub_size},&H00FFFFFF,&H000000FF,&H00000000,&H80000000,{bold},0,0,0,100,100,0,0,1,"
        f"{lay.outline + 2},0,2,{m},{m},{lay.sub_margin_v},1",
        f"Style: Top,{family},{lay.top_size},&H00FFFFFF,&H000000FF,&H50000000,&H50000000,{bold},0,0,0,100,100,0,0,3,"
        f"{lay.box_pad},0,8,{m},{m},{lay.top_margin_v},1",
        f"Style: Card,{family},{lay.card_size},&H00FFFFFF,&H000000FF,&H00000000,&H80000000,{bold},0,0,0,100,100,0,0,1,"
        f"{lay.outline},0,5,{m},{m},0,1",
    ]
    events = []
    for scene in plan.scenes:
        for o in scene.overlays:
            style = "Card" if o.position == "center" else "Top"
            base = lay.card_size if style == "Card" else lay.top_size
            size = "" if o.text.size == base else f"{{\\fs{o.text.size}}}"
            text = "\\N".join(ass_escape(line) for line in o.text.lines)
            events.append(f"Dialogue: 1,{_ass_time(o.start_s)},{_ass_time(o.end_s)},{style},,0,0,0,,{size}{text}")
        if subtitles:
            for c in scene.cues:
                text = "\\N".join(ass_escape(line) for line in c.lines)
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
