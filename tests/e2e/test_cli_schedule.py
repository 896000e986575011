"""`trendreel schedule ...` and `trendreel autopilot ...` as a user runs them: real processes over one home."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.e2e.test_cli import failed, ok_json, run_cli, write_settings
from tests.publish_support import add_video
from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.settings import load_settings


def test_plan_list_cancel_and_run_from_the_command_line(tmp_path):
    home = tmp_path / "home"
    write_settings(home, '[schedule]\njitter = "0"\nmin_spacing = "1h"\n')
    app = build_app(load_settings(home=home))
    services.add_account(app, platform="folder", name="outbox", path=home / "published" / "outbox")
    now_video = add_video(app, "cli-now", review="approved")
    later_video = add_video(app, "cli-later", pattern="mandelbrot", review="approved")
    waiting = add_video(app, "cli-waiting", pattern="life")
    app.close()

    now = ok_json("schedule", "add", now_video, "--to", "folder:outbox", "--home", home, "--json")
    assert now["status"] == "planned" and now["how"] == "next"
    when = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
    later = ok_json("schedule", "add", later_video, "--to", "folder:outbox", "--at", when.isoformat(), "--home", home, "--json")
    assert later["planned_at"] == when.isoformat() and later["how"] == "at"
    best = ok_json("schedule", "add", later_video, "--to", "folder:outbox", "--best", "--home", home, "--json")
    assert best["reused"] is True and best["id"] == later["id"]  # one plan per video and account
    message = failed(run_cli("schedule", "add", waiting, "--to", "folder:outbox", "--home", home), 1)
    assert "not approved yet" in message and f"trendreel approve {waiting}" in message

    listed = ok_json("schedule", "list", "--home", home, "--json")
    assert [p["id"] for p in listed] == [now["id"], later["id"]]
    ran = ok_json("schedule", "run", "--once", "--home", home, "--json")
    assert [p["video_id"] for p in ran["published"]] == [now_video] and ran["failed"] == []
    assert ok_json("schedule", "run", "--once", "--home", home, "--json")["due"] == 0
    assert ok_json("schedule", "cancel", later["id"], "--home", home, "--json")["status"] == "cancelled"
    assert [p["status"] for p in ok_json("schedule", "list", "--home", home, "--json")] == ["done", "cancelled"]
    table = run_cli("schedule", "list", "--home", home)
    assert table.returncode == 0 and now["id"] in table.stdout

    off = failed(run_cli("autopilot", "run", "--once", "--home", home), 2)
    assert "autopilot.enabled = true" in off
    status = ok_json("autopilot", "status", "--home", home, "--json")
    assert status["enabled"] is False and status["last"] is None and status["cycles"] == []
