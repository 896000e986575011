"""The engine's choices that need no cluster: which queue a stage goes to, what is retried, ids, schedules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from trendreel.bootstrap import build_app
from trendreel.engine import service as engine
from trendreel.engine.service import EngineUnavailable
from trendreel.errors import ConfigError, FileMissing, LlmError, StorageError, TrendreelError
from trendreel.adapters.modelserver import ModelServerError
from trendreel.publish.errors import NotApproved
from trendreel.services.pipeline import STAGES, InProcessRunner, stage_options
from trendreel.settings import Settings


def test_render_and_edit_go_to_the_gpu_queue_only_for_gpu_backends(tmp_path):
    cpu = stage_options(Settings(home=tmp_path))["stages"]
    assert {name: s["queue"] for name, s in cpu.items()} == {name: "cpu" for name in STAGES}
    gpu = stage_options(Settings(home=tmp_path, render={"backend": "ltx2"}))["stages"]
    assert gpu["render"]["queue"] == "gpu" and gpu["edit"]["queue"] == "cpu" and gpu["crawl"]["queue"] == "cpu"
    e = Settings(home=tmp_path).engine
    assert gpu["render"]["timeout_s"] == e.render_timeout_s and gpu["trends"]["timeout_s"] == e.stage_timeout_s


def test_the_engine_is_one_setting_and_reads_the_deployment_environment(tmp_path, monkeypatch):
    assert Settings(home=tmp_path).engine.runner == "inprocess"
    app = build_app(Settings(home=tmp_path))
    try:
        assert isinstance(app.runner(), InProcessRunner)
    finally:
        app.close()
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal-frontend:7233")
    monkeypatch.setenv("TRENDREEL_ENGINE__RUNNER", "temporal")
    s = Settings(home=tmp_path)
    assert (s.engine.runner, s.engine.address) == ("temporal", "temporal-frontend:7233")
    with pytest.raises(Exception, match="runner"):
        Settings(home=tmp_path, engine={"runner": "celery"})


def test_user_errors_are_not_retried_and_outages_are():
    pytest.importorskip("temporalio")
    from trendreel.engine.activities import retryable

    assert not retryable(ConfigError("fix render.width"))
    assert not retryable(NotApproved("approve it first"))
    assert not retryable(TrendreelError("unknown story"))
    assert not retryable(FileMissing("gone")) and retryable(EngineUnavailable("no cluster"))
    assert retryable(ModelServerError("went down", retryable=True))
    assert not retryable(ModelServerError("bad input"))
    assert retryable(LlmError("server down")) and retryable(StorageError("S3 timed out"))
    assert retryable(RuntimeError("a bug"))


def test_workflow_ids_come_from_the_content_ids():
    assert engine.video_workflow_id(story_id="s1") == "video-s1"
    assert engine.video_workflow_id(trend_id="t1") == "video-trend-t1"
    with pytest.raises(ConfigError):
        engine.video_workflow_id()
    assert engine.crawl_workflow_id(["b", "a"]) == "crawl-a+b"
    assert engine.crawl_workflow_id() == "crawl-all"


def test_schedule_intervals():
    assert engine.parse_every("30m") == timedelta(minutes=30)
    assert engine.parse_every("6h") == timedelta(hours=6)
    for bad in ("", "10", "5s", "every day"):
        with pytest.raises(ConfigError):
            engine.parse_every(bad)
