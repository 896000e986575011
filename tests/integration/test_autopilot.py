"""Unattended operation on the bundled sample site, on a fake clock: two autopilot cycles (crawl, index,
trends, choose, story, render, edit, approval, schedule, publish, metrics), a video that waits for a
person between them, and a slot run again returning its finished cycle. Small renders (144x256, 15 fps)
on SQLite: the schedule's own tests cover PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.db.tables import Decision, PipelineRun, Publication, Video
from trendreel.demo.run import demo_sources
from trendreel.errors import ConfigError
from trendreel.settings import Settings

NOW = datetime(2030, 3, 4, 8, 20, tzinfo=timezone.utc)


@pytest.mark.slow
def test_two_unattended_cycles_make_wait_schedule_and_publish(tmp_path, sample_url):
    home = tmp_path / "home"
    outbox = home / "published" / "outbox"
    settings = Settings(home=home, crawl={"delay_s": 0, "per_host_concurrency": 4}, index={"speech_model": "none"},
                        render={"width": 144, "height": 256, "fps": 15}, sources=demo_sources(sample_url)[:1],
                        schedule={"jitter": "0"},
                        autopilot={"enabled": True, "every": "1h", "stories_per_run": 1, "auto_approve": False,
                                   "targets": ["folder:outbox"], "when": "next"})
    app = build_app(settings)
    with pytest.raises(ConfigError, match="autopilot.enabled = true"):
        services.autopilot_cycle(build_app(Settings(home=tmp_path / "off")), now=NOW)
    services.add_account(app, platform="folder", name="outbox", path=outbox)

    first = services.autopilot_cycle(app, now=NOW)
    assert first["status"] == "done", first["failures"]
    assert list(first["steps"]) == ["crawl", "index", "trends", "choose", "videos", "approve", "plan", "publish", "metrics"]
    assert first["steps"]["crawl"]["summary"]["articles_new"] > 0
    assert len(first["trends"]) == 1 and len(first["videos"]) == 1 and first["failures"] == []
    made = first["videos"][0]
    video = services.get_video(app, made)
    assert video["stage"] == "edited" and video["status"] == "done" and video["review"] is None  # waits for a person
    assert first["steps"]["plan"]["summary"]["planned"] == 0 and services.list_posts(app) == []
    with app.db.session() as s:  # the learning loop chose the trend, and said so
        assert s.scalar(select(Decision.trend_id).where(Decision.context == f"autopilot:{first['id']}")) == first["trends"][0]

    # The same slot again (a second runner, or a restart within the hour): the finished cycle, nothing redone.
    again = services.autopilot_cycle(app, now=NOW + timedelta(minutes=30))
    assert again["id"] == first["id"] and again["videos"] == [made]
    with app.db.session() as s:
        videos_before = s.scalar(select(func.count()).select_from(Video))

    services.approve_video(app, made, by="editor")  # a person approves in the workspace

    second = services.autopilot_cycle(app, now=NOW + timedelta(hours=1))
    assert second["id"] != first["id"] and second["status"] == "done", second["failures"]
    assert second["trends"] != first["trends"]  # a trend is told once
    assert second["steps"]["plan"]["summary"]["planned"] >= 1 and second["steps"]["publish"]["summary"]["published"] >= 1
    published = services.list_publications(app, video_id=made)
    assert [p["status"] for p in published] == ["done"] and (outbox / published[0]["id"] / "video.mp4").is_file()
    post = services.list_posts(app, account="folder:outbox", status="done")[0]
    assert post["video_id"] == made and post["publication_id"] == published[0]["id"]
    assert second["steps"]["metrics"]["summary"]["polled"] >= 1
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Video)) == videos_before + 2  # the second cycle's render + edit
        assert s.scalar(select(func.count()).select_from(Publication).where(Publication.status == "done")) == 1
        assert s.scalar(select(func.count()).select_from(PipelineRun).where(PipelineRun.kind == "autopilot")) == 2

    status = services.autopilot_status(app, now=NOW + timedelta(hours=1, minutes=5))
    assert status["last"]["id"] == second["id"] and status["next_at"] == (NOW.replace(minute=0) + timedelta(hours=2)).isoformat()
    assert [c["id"] for c in status["cycles"]] == [second["id"], first["id"]] and status["failures"] == []
    app.close()


@pytest.mark.slow
def test_a_cycle_killed_mid_render_resumes_where_it_stopped(tmp_path, sample_url):
    """`trendreel autopilot run --once` killed (SIGKILL, its whole process group) while rendering: the next run
    resumes the same cycle at its videos step, with the trend it had chosen, and ends with one video of each
    stage and one publication; a third run returns the finished cycle."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.e2e.test_cli import _env

    home = tmp_path / "home"
    home.mkdir()
    (home / "trendreel.toml").write_text(f"""
[crawl]
delay_s = 0.0
per_host_concurrency = 4
[index]
speech_model = "none"
[render]
width = 144
height = 256
fps = 15
[schedule]
jitter = "0"
[autopilot]
enabled = true
every = "7d"
sources = ["demo-feed"]
auto_approve = true
targets = ["folder:outbox"]
when = "next"
[[sources]]
name = "demo-feed"
kind = "feed"
urls = ["{sample_url}/feed.xml", "{sample_url}/atom.xml"]
allow_private = true
""", encoding="utf-8")
    app = build_app(Settings(home=home))
    services.add_account(app, platform="folder", name="outbox", path=home / "published" / "outbox")
    command = [sys.executable, "-m", "trendreel", "autopilot", "run", "--once", "--json", "--home", str(home)]

    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), start_new_session=True)
    deadline = time.monotonic() + 240
    while True:
        assert proc.poll() is None, f"the cycle ended before its render: {proc.communicate()[1].decode()[-3000:]}"
        assert time.monotonic() < deadline, "no render started within 240 s"
        with app.db.session() as s:
            if s.scalar(select(func.count()).select_from(Video).where(Video.stage == "rendered", Video.status == "running")):
                break
        time.sleep(0.2)
    time.sleep(1.0)  # inside the render
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    with app.db.session() as s:
        cycle = s.scalar(select(PipelineRun).where(PipelineRun.kind == "autopilot"))
        assert cycle.status == "running" and cycle.progress["videos"]["state"] == "running"
        chosen = list(cycle.result["trends"])
    assert all(cycle.progress[step]["state"] == "done" for step in ("crawl", "index", "trends", "choose"))

    done = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed = json.loads(done.stdout)
    assert resumed["id"] == cycle.id and resumed["status"] == "done" and resumed["trends"] == chosen, resumed["failures"]
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Decision).where(Decision.context == f"autopilot:{cycle.id}")) == 1
        assert [v.stage for v in s.scalars(select(Video).order_by(Video.stage))] == ["edited", "rendered"]
        assert all(v.status == "done" for v in s.scalars(select(Video)))
        assert s.scalar(select(func.count()).select_from(Publication).where(Publication.status == "done")) == 1
    assert len(list((home / "published" / "outbox").iterdir())) == 1

    again = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=120)
    assert again.returncode == 0 and json.loads(again.stdout)["id"] == cycle.id
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Video)) == 2
    app.close()
