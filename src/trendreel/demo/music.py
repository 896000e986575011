"""The demo's music: a few short chord and arpeggio loops made at demo time with ffmpeg (nothing stored).

Each loop is a soft pad (three sine partials of a chord, slowly swelling) under a plucked arpeggio of
the same chord (each note a sine with a short attack and an exponential decay), 8 bars' worth of
seconds that loop without a click. `render.music_dir` points at the folder, and the render picks one
per video from the story id.
"""

from __future__ import annotations

from pathlib import Path

from trendreel.adapters.ffmpeg import ffmpeg_exe, run_ffmpeg
from trendreel.errors import ConfigError

# name: (chord of the pad in Hz, arpeggio notes in Hz, seconds per note)
LOOPS = {
    "sunrise-c-major": ((130.81, 164.81, 196.00), (261.63, 329.63, 392.00, 523.25, 392.00, 329.63), 0.25),
    "evening-a-minor": ((110.00, 130.81, 164.81), (220.00, 261.63, 329.63, 440.00, 329.63, 261.63), 0.3),
    "city-f-major": ((87.31, 110.00, 130.81), (349.23, 440.00, 523.25, 698.46, 523.25, 440.00), 0.2),
}
MIN_LOOP_S = 7.0
TIMEOUT_S = 60.0


def loop_seconds(notes: tuple[float, ...], step: float) -> float:
    """A whole number of arpeggio cycles, at least MIN_LOOP_S: the loop repeats on the beat."""
    cycle = len(notes) * step
    return round(cycle * -(-MIN_LOOP_S // cycle), 6)


def _expression(pad: tuple[float, ...], notes: tuple[float, ...], step: float) -> str:
    """An aevalsrc expression: the pad plus one plucked note per `step` seconds, cycling through `notes`.

    The pad's partials are tuned (by less than 0.1 Hz) to a whole number of periods in the loop, and each
    note fades in over 3 ms and out over the last 25 ms of its step, so nothing clicks, not even where
    the loop starts again."""
    length = loop_seconds(notes, step)
    # the note playing at time t: notes[floor(t/step) mod len]
    index = f"mod(floor(t/{step}),{len(notes)})"
    freq = "0"
    for i, f in reversed(list(enumerate(notes))):
        freq = f"if(eq({index},{i}),{f},{freq})"
    local = f"mod(t,{step})"  # time since the note started: the phase restarts with each note, so no jump
    pluck = f"0.22*sin(2*PI*{freq}*{local})*min(1,{local}*300)*min(1,({step}-{local})*40)*exp(-6*{local})"
    swell = f"(0.75+0.25*sin(2*PI*t/{length}))"
    chord = "+".join(f"sin(2*PI*{round(f * length) / length:.4f}*t)" for f in pad)
    return f"{pluck}+0.06*{swell}*({chord})"


def make_demo_music(folder: Path) -> Path:
    """Write the loops into `folder` (once; kept between runs) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    exe = ffmpeg_exe()
    for name, (pad, notes, step) in LOOPS.items():
        target = folder / f"{name}.m4a"
        if target.is_file() and target.stat().st_size > 0:
            continue
        tmp = folder / f".{name}.tmp.m4a"
        expr = _expression(pad, notes, step)
        run_ffmpeg(["-v", "error", "-y", "-f", "lavfi", "-i", f"aevalsrc='{expr}|{expr}':s=48000:d={loop_seconds(notes, step)}",
                    "-af", "lowpass=f=5000", "-c:a", "aac", "-b:a", "128k", str(tmp)],
                   what=f"making the demo music {name}", timeout_s=TIMEOUT_S, exe=exe, error=ConfigError)
        tmp.replace(target)
    return folder
