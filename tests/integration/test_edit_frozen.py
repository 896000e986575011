"""Frozen picture and the key line's bar, on videos made here the way the compositor makes them.

- A still under the compositor's Ken Burns motion (its own `_motion` filters: zoompan of a still scaled
  up 1.5x) is moving picture; a clip held on its last frame (`tpad=stop_mode=clone`, as the compositor
  holds a clip shorter than its shot) is frozen picture.
- Frozen picture is cut where its sound is silent and, by default, animated where sound plays under
  it: the edit keeps every cue and has no frozen stretch of 1 s or more by ffmpeg's
  `freezedetect=n=0.001:d=1`, the figure users measure with.
- The key line's caption, wrapped onto two lines by the render plan and burned in with the
  compositor's own ASS script, gets its highlight bar under its lower line, as wide as the text, read
  from the pixel rows of an extracted frame.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.render_support import ffmpeg, frame, make_image
from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel.bootstrap import App
from trendreel.db.engine import Database
from trendreel.db.tables import Video, utcnow
from trendreel.edit.analyze import analyze
from trendreel.edit.plan import parse_srt
from trendreel.files.layout import video_prefix
from trendreel.files.store import open_file_store
from trendreel.render.compositor import _motion
from trendreel.render.fonts import resolve_font
from trendreel.render.media import Visual
from trendreel.render.plan import Cue as PlanCue
from trendreel.render.plan import Layout, PlannedScene, RenderPlan, Shot
from trendreel.render.subtitles import ass_script
from trendreel.render.text import TextMeasure, wrap_phrase
from trendreel.services.edit import edit_video
from trendreel.settings import EditSettings, Settings

pytestmark = pytest.mark.slow

W, H, FPS = 360, 640, 30
ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]


def ken_burns(out: Path, image: Path, motion: str, seconds: float = 4.0) -> Path:
    """A still under the compositor's own Ken Burns filters."""
    shot = Shot(visual=Visual(kind="image", path=image), frames=round(seconds * FPS), motion=motion)
    ffmpeg("-i", str(image), "-filter_complex", f"[0:v]{_motion(shot, W, H, FPS, False, 's0')},format=yuv420p[v]",
           "-map", "[v]", *ENCODE, str(out))
    return out


def held_clip(out: Path, moving_s: float, held_s: float) -> Path:
    """A moving clip held on its last frame, as the compositor holds a clip shorter than its shot."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r={FPS}:d={moving_s}",
           "-vf", f"tpad=stop_mode=clone:stop_duration={held_s},format=yuv420p", *ENCODE, str(out))
    return out


def joined(out: Path, parts: list[Path], *, silent: list[tuple[float, float]] = ()) -> Path:
    """The parts one after another, a tone under all of it but the silent spans."""
    args = []
    for p in parts:
        args += ["-i", str(p)]
    n = len(parts)
    mute = "".join(f",volume=enable='between(t,{a},{b})':volume=0" for a, b in silent)
    ffmpeg(*args, "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000", "-filter_complex",
           f"{''.join(f'[{i}:v]' for i in range(n))}concat=n={n}:v=1:a=0[v];[{n}:a]aformat=channel_layouts=stereo{mute}[a]",
           "-map", "[v]", "-map", "[a]", "-shortest", *ENCODE, "-c:a", "aac", str(out))
    return out


def freezes(path: Path, noise: str = "0.001", d: float = 1.0) -> list[tuple[float, float]]:
    """What ffmpeg's freezedetect says (an open freeze ends at the end)."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-vf", f"freezedetect=n={noise}:d={d}",
                           "-f", "null", "-"], capture_output=True, text=True, timeout=120, check=True)
    starts = [float(x) for x in re.findall(r"freeze_start: ([\d.]+)", proc.stderr)]
    ends = [float(x) for x in re.findall(r"freeze_end: ([\d.]+)", proc.stderr)]
    length = float(re.search(r"Duration: (\d+):(\d+):([\d.]+)", proc.stderr).group(3))
    return list(zip(starts, ends + [length] * (len(starts) - len(ends))))


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("frozen-media")
    sharp = make_image(d / "sharp.png", size=(1280, 720))
    smooth = d / "smooth.png"  # smooth colour gradients: the least change under a slow zoom
    ffmpeg("-f", "lavfi", "-i", "gradients=s=1280x720:seed=3", "-frames:v", "1", str(smooth))
    out = {"held": held_clip(d / "held.mp4", 1.0, 3.0)}
    for name, image in (("sharp", sharp), ("smooth", smooth)):
        for motion in ("zoom_in", "pan_right"):
            out[f"{name}_{motion}"] = ken_burns(d / f"{name}_{motion}.mp4", image, motion)
    out["dir"] = d
    return out


def make_app(home: Path, **edit) -> App:
    settings = Settings(home=home, render={"width": W, "height": H}, edit=edit)
    settings.home.mkdir(parents=True, exist_ok=True)
    return App(settings=settings, db=Database(f"sqlite:///{home / 'test.db'}"), files=open_file_store(settings.files_url))


def store_rendered(app: App, vid: str, video: Path, srt: Path, thumb: Path, duration: float, details: dict) -> str:
    prefix = video_prefix(vid, utcnow())
    v = app.files.put_file(prefix + "video.mp4", video)
    s_ = app.files.put_file(prefix + "subtitles.srt", srt)
    t = app.files.put_file(prefix + "thumb.jpg", thumb)
    with app.db.session() as s:
        s.add(Video(id=vid, stage="rendered", backend="compositor", status="done", path=v.key, subtitles_path=s_.key,
                    thumbnail_path=t.key, duration_s=duration, width=W, height=H, bytes=v.bytes, sha256=v.sha256,
                    details=details, created_at=utcnow()))
    return vid


def test_a_still_under_pan_or_zoom_is_moving_and_a_held_clip_is_frozen(media):
    exe, settings = ffmpeg_exe(), EditSettings()
    # (a smooth gradient zoomed at 360x640 is borderline: depending on the encode, up to half of it reads
    # frozen; at the compositor's 1080x1920 it never does; docs/edit.md)
    for name in ("sharp_zoom_in", "sharp_pan_right", "smooth_pan_right"):
        found = analyze(media[name], settings, duration=4.0, height=H, exe=exe, has_audio=False)
        # nothing the editor would call frozen (a smooth gradient panned by a pixel every other frame may
        # show a fraction of a second below the threshold, never min_freeze_s)
        assert [f for f in found.freezes if f[1] - f[0] >= settings.min_freeze_s] == [], name
        assert sum(b - a for a, b in found.freezes) < 1.0, name
    found = analyze(media["held"], EditSettings(), duration=4.0, height=H, exe=exe, has_audio=False)
    assert len(found.freezes) == 1
    (a, b), = found.freezes
    assert a == pytest.approx(1.0, abs=0.1) and b == pytest.approx(4.0, abs=0.05)
    # the users' figure (n=0.001, d=1) calls the held clip frozen too, and not the sharp still's zoom
    assert sum(e - s for s, e in freezes(media["held"])) == pytest.approx(3.0, abs=0.1)
    assert freezes(media["sharp_zoom_in"]) == []


def test_frozen_picture_under_speech_is_animated_and_silent_frozen_picture_is_cut(media, tmp_path):
    d = media["dir"]
    # 0-4 s a still under a slow zoom (tone); 4-5 s a clip, held 5-10 s: a tone under 5-8 s, silence 8-10 s;
    # 10-14 s a still panned (tone)
    held = held_clip(d / "held-long.mp4", 1.0, 5.0)
    source = joined(tmp_path / "source.mp4", [media["sharp_zoom_in"], held, media["sharp_pan_right"]], silent=[(8.0, 10.0)])
    srt = tmp_path / "subs.srt"
    srt.write_text("1\n00:00:00,300 --> 00:00:03,800\nSaid over the still\n\n"
                   "2\n00:00:05,200 --> 00:00:07,800\nSaid over the held clip\n\n"
                   "3\n00:00:10,300 --> 00:00:13,800\nSaid over the pan\n", encoding="utf-8")
    assert sum(e - s for s, e in freezes(source)) > 4.5  # the users' figure: the held clip is frozen 5 s
    app = make_app(tmp_path / "home")
    try:
        vid = store_rendered(app, "vfrozen00000000000000001", source, srt, make_image(tmp_path / "t.jpg", size=(W, H)),
                             14.0, {})
        edited = edit_video(app, video_id=vid)
        summary = edited["edit"]
        # the silent part of the held frame goes (8.25-9.75 s: a pause kept at each side), nothing else
        assert summary["removed"] == [{"start_s": pytest.approx(8.25, abs=0.05), "end_s": pytest.approx(9.75, abs=0.05),
                                       "reason": "dead_air"}]
        assert edited["duration_s"] == pytest.approx(12.5, abs=0.1)
        # the held frame left (5-8.25 s and 9.75-10 s, joined at the cut) moves
        (a, b), = summary["animated"]
        assert a == pytest.approx(5.0, abs=0.1) and b == pytest.approx(8.5, abs=0.1)
        path = app.files.local_path(edited["path"])
        assert freezes(path) == []
        # every cue stays, as long as it was
        cues = parse_srt(app.files.local_path(edited["subtitles_path"]).read_text(encoding="utf-8"))
        assert [c.text for c in cues] == ["Said over the still", "Said over the held clip", "Said over the pan"]
        assert [round(c.end - c.start, 2) for c in cues] == [3.5, 2.6, 3.5]

        # frozen = silent keeps the held frame as it is: the users' figure finds it
        app2 = make_app(tmp_path / "home2", frozen="silent")
        try:
            vid2 = store_rendered(app2, "vfrozen00000000000000002", source, srt,
                                  make_image(tmp_path / "t2.jpg", size=(W, H)), 14.0, {})
            plain = edit_video(app2, video_id=vid2)
            assert plain["duration_s"] == pytest.approx(12.5, abs=0.1) and plain["edit"]["animated"] == []
            assert sum(e - s for s, e in freezes(app2.files.local_path(plain["path"]))) > 3.0
        finally:
            app2.close()
    finally:
        app.close()


KEY = "The key line of this story wraps onto two lines"


def test_the_highlight_bar_lands_under_a_wrapped_key_line(tmp_path):
    """The compositor's own subtitles (ASS script, font, layout) over a dark moving picture; the key line
    wraps. In a frame near the key line's end (zoomed most) the bar's rows are below the caption's rows."""
    font = resolve_font(None)
    lay = Layout(W, H)
    lines = [tuple(wrap_phrase(KEY, TextMeasure(font), lay.sub_size, lay.text_width()))]
    assert len(lines[0]) == 2  # one cue on two lines
    plan = RenderPlan(width=W, height=H, fps=FPS, crossfade_frames=0, font=font, lang="en", voice="test",
                      scenes=[PlannedScene(index=0, start_frame=0, frames=5 * FPS, shots=[], narration=[],
                                           narration_start_s=0.0, cues=[PlanCue(0.3, 3.0, lines[0])])])
    (tmp_path / "subs.ass").write_text(ass_script(plan), encoding="utf-8")
    srt = tmp_path / "subs.srt"
    srt.write_text("1\n00:00:00,300 --> 00:00:03,000\n" + "\n".join(lines[0]) + "\n", encoding="utf-8")
    source = tmp_path / "source.mp4"
    cwd = Path.cwd()
    try:
        os.chdir(tmp_path)  # the ass filter gets a plain file name
        # testsrc2 at 35 % brightness: no white and no yellow of its own
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r={FPS}:d=5", "-f", "lavfi", "-i", "sine=f=440:d=5:sample_rate=48000",
               "-filter_complex", f"[0:v]lutrgb=r=val*0.35:g=val*0.35:b=val*0.35,ass=filename=subs.ass:fontsdir={font.path.parent},"
               "format=yuv420p[v];[1:a]aformat=channel_layouts=stereo[a]", "-map", "[v]", "-map", "[a]", *ENCODE,
               "-c:a", "aac", source.name)
    finally:
        os.chdir(cwd)
    app = make_app(tmp_path / "home")
    try:
        vid = store_rendered(app, "vwrapped0000000000000001", source, srt, make_image(tmp_path / "t.jpg", size=(W, H)),
                             5.0, {"plan": plan.summary()})
        edited = edit_video(app, video_id=vid)
        assert edited["edit"]["key_line"]["text"] == " ".join(lines[0])
        path = app.files.local_path(edited["path"])
        for at in (0.5, 2.9):  # early (nearly 1x) and late (zoomed most)
            img = frame(path, at)
            low = img[H // 2:]
            white = (low > 215).all(axis=2)
            yellow = (low[..., 0] > 190) & (low[..., 1] > 160) & (low[..., 2] < 90)
            text_rows = np.where(white.sum(axis=1) >= 3)[0]
            bar_rows = np.where(yellow.sum(axis=1) >= 40)[0]
            assert len(bar_rows) >= 3, at
            # the caption: two bands of text rows (two lines), the bar below the lower one, never across it
            gaps = np.where(np.diff(text_rows) > 1)[0]
            assert len(text_rows) > 20 and len(gaps) >= 1, at
            assert bar_rows.min() > text_rows.max(), (at, bar_rows.min(), text_rows.max())
            assert bar_rows.min() - text_rows.max() < lay.sub_size, at  # right under it: nearer than a line's height
            # as wide as the text: the bar's columns cover the caption's
            text_cols = np.where(white.any(axis=0))[0]
            bar_cols = np.where(yellow[bar_rows].any(axis=0))[0]
            assert bar_cols.min() <= text_cols.min() + 6 and bar_cols.max() >= text_cols.max() - 6, at
    finally:
        app.close()
