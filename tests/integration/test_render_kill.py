"""A render killed with kill -9 mid-ffmpeg: the next start reaps its row, its ffmpeg and its scratch folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.render_support import make_clip, make_image, make_story, store_article, store_media, store_story
from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel.bootstrap import build_app
from trendreel.db.tables import Video
from trendreel.services.videos import reap_stale
from trendreel.settings import Settings
from trendreel.story.models import MediaRef

pytestmark = pytest.mark.slow


def _running(pid: int) -> bool:
    """The process exists and has not ended (a zombie waiting for its reaper has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def _children(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            comm = stat[stat.find("(") + 1:stat.rfind(")")]
            if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
                found.append((int(entry.name), comm))
    return found


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def scratch_root(tmp_path, monkeypatch):
    """The temp dir of the killed process and of the reaper alike."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes through /proc")
def test_a_render_killed_mid_ffmpeg_is_reaped_by_the_next_start(tmp_path, scratch_root):
    home = tmp_path / "home"
    home.mkdir()
    (home / "trendreel.toml").write_text("[render]\nwidth = 360\nheight = 640\n")
    app = build_app(Settings(home=home, render={"width": 360, "height": 640}))
    media = tmp_path / "media"
    media.mkdir()
    aid = store_article(app, "killed-render", lang="en")
    wide = store_media(app, aid, 1, "image", make_image(media / "wide.jpg"))
    clip = store_media(app, aid, 2, "video", make_clip(media / "clip.mp4", seconds=4), duration_s=4.0)
    refs = [MediaRef(media_id=wide, kind="image"), MediaRef(media_id=clip, kind="video", start_s=0.0, end_s=4.0)] * 4
    story_id = store_story(app, make_story(aid, "en", refs, scene_s=6.0), "s" + "4" * 23)

    env = {**os.environ, "TMPDIR": str(scratch_root)}
    env = {k: v for k, v in env.items() if not k.startswith("TRENDREEL_")}
    proc = subprocess.Popen([sys.executable, "-m", "trendreel.cli", "render", "--story", story_id, "--home", str(home)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        # The picture pass and the sound pass run at once: kill the render while both ffmpegs work.
        ffmpegs: list[int] = []

        def both_passes() -> bool:
            ffmpegs[:] = [pid for pid, comm in _children(proc.pid) if "ffmpeg" in comm]
            return proc.poll() is not None or len(ffmpegs) >= 2

        assert _wait(both_passes, 240) and proc.poll() is None, \
            f"the render ended before its ffmpeg passes were seen: {proc.stderr.read().decode()[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    with app.db.session() as s:
        (row,) = s.query(Video).all()
        vid = row.id
        assert row.status == "running"  # the killed process could not say otherwise
        assert row.details["owner"]["token"].split(":")[1] == str(proc.pid)
    assert len(list(scratch_root.glob("trendreel-render-*"))) == 1

    # Its ffmpeg dies with it (the kernel kills it: PR_SET_PDEATHSIG), and the next start reaps the rest.
    assert _wait(lambda: not any(_running(p) for p in ffmpegs), 30), "ffmpeg outlived the killed render"
    reaped = reap_stale(app)
    assert reaped["videos"] == [vid]
    assert [Path(p).name for p in reaped["folders"]] and not list(scratch_root.glob("trendreel-render-*"))
    with app.db.session() as s:
        row = s.get(Video, vid)
        assert row.status == "error" and row.details["retryable"] is True
        assert "interrupted" in row.error and f"pid {proc.pid}" in row.error and "render it again" in row.error
    assert reap_stale(app) == {"videos": [], "processes": [], "folders": []}  # once is enough
    app.close()


_ORPHAN_PARENT = """
import json, os, subprocess, sys, time
from trendreel.adapters.owner import ENV, owner_token
ff = subprocess.Popen([sys.argv[1], "-nostdin", "-re", "-f", "lavfi", "-i", "testsrc=d=600", "-f", "null", "-"],
                      env={**os.environ, ENV: owner_token()}, start_new_session=True,
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(json.dumps({"ffmpeg": ff.pid}), flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes through /proc")
def test_an_ffmpeg_that_outlived_its_owner_is_killed_by_the_next_start(tmp_path, scratch_root):
    """Where the kernel could not kill it (started in a session of its own, or before PR_SET_PDEATHSIG took
    effect), ffmpeg outlives a killed owner; its token in the environment still names the dead owner."""
    app = build_app(Settings(home=tmp_path / "home"))
    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN_PARENT, ffmpeg_exe()], stdout=subprocess.PIPE, text=True)
    try:
        ff = json.loads(parent.stdout.readline())["ffmpeg"]
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        assert _running(ff)  # orphaned, still working
        reaped = reap_stale(app)
        assert ff in reaped["processes"]
        assert _wait(lambda: not _running(ff), 30)
    finally:
        if parent.poll() is None:
            parent.kill()
        try:
            os.kill(ff, signal.SIGKILL)
        except (ProcessLookupError, UnboundLocalError):
            pass
        app.close()
