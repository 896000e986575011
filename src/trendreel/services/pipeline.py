"""The pipeline, defined once: each stage with its function, the events it appends, where it runs.

    crawl → index → trends → story → render → edit → approve → publish (now, or planned: schedule) → metrics → learn, report, gc

Every runner reads this table: the in-process runner (below), the gateway's pipeline runs
(services.runs), the Temporal engine (one generic activity, `run_stage`, on each queue) and the demo.
A stage function takes the App, a JSON-able dict of parameters and `report(done, total, info)`, calls the
use cases the CLI calls, and returns a JSON-able dict. Adding a stage is one entry in STAGES (and, to
start it on its own from the API, a kind in RUN_KINDS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from trendreel import events
from trendreel.bootstrap import App, Report
from trendreel.errors import InvalidInput
from trendreel.services.crawl import crawl_sources
from trendreel.services.edit import edit_video
from trendreel.services.index import index_articles
from trendreel.services.learning import fit_models
from trendreel.services.metrics import collect_metrics
from trendreel.services.publishing import approve_video, publish_video
from trendreel.services.render import render_story
from trendreel.services.report import build_report
from trendreel.services.schedule import run_due
from trendreel.services.storage import collect_garbage
from trendreel.services.stories import write_story
from trendreel.services.trends import detect_trends
from trendreel.settings import Settings, SourceConfig

StageFunction = Callable[[App, dict, Report], dict]

__all__ = ["RUN_KINDS", "STAGES", "InProcessRunner", "Stage", "run_stage", "stage_options"]


@dataclass(frozen=True)
class Stage:
    name: str
    run: StageFunction
    events: tuple[str, ...]  # what it appends (a run's events are these types inside the stage's time span)
    needs: frozenset[str] = frozenset()  # "vectors" (the vector DB), "models" (ML models or a language model)
    long: bool = False  # may take hours: gets engine.render_timeout_s, not stage_timeout_s
    gpu_backend: str | None = None  # the settings section whose backend decides the queue: gpu when it is a GPU one

    def queue(self, settings: Settings) -> str:
        """"cpu" or "gpu": a stage goes to the GPU queue when its backend is listed in engine.gpu_backends."""
        if self.gpu_backend and getattr(settings, self.gpu_backend).backend in settings.engine.gpu_backends:
            return "gpu"
        return "cpu"


# ---- the stage functions ---------------------------------------------------------------------

def _crawl(app: App, params: dict, report: Report) -> dict:
    # `sources`: names of configured sources, or whole source definitions (a workflow's own list).
    given = params.get("sources") or []
    names = [s for s in given if isinstance(s, str)] or params.get("source_names") or None
    defined = [SourceConfig.model_validate(s) for s in given if isinstance(s, dict)] or None
    crawl = app.settings.crawl.model_copy(update=params["crawl"]) if params.get("crawl") else None
    stats = crawl_sources(app, source_names=names, sources=defined, urls=params.get("urls") or None,
                          max_pages=params.get("max_pages"), crawl=crawl,
                          on_progress=lambda st: report(st.fetched + st.errors, None,
                                                        f"{st.articles_new} new, {st.media_stored} media, {st.errors} errors"))
    return stats.as_dict()


def _index(app: App, params: dict, report: Report) -> dict:
    stats = index_articles(app, article_ids=params.get("article_ids") or None, force=bool(params.get("force")),
                           on_progress=lambda done, total, _step: report(done, total))
    return stats.as_dict()


def _trends(app: App, params: dict, report: Report) -> dict:
    trends = detect_trends(app, window=params.get("window"), since=params.get("since"), until=params.get("until"),
                           on_progress=lambda step, done, total: report(done, total, step))
    return {"trends": len(trends), "trend_ids": [t["id"] for t in trends[:50]],
            "top": [{"id": t["id"], "lang": t["lang"], "text": t["text"], "score": t["score"]} for t in trends[:50]]}


def _story(app: App, params: dict, report: Report) -> dict:
    story = write_story(app, trend_id=params["trend_id"], item_id=params.get("item_id"), backend=params.get("backend"),
                        lang=params.get("lang"), force=bool(params.get("force")),
                        on_progress=lambda step, done, total: report(done, total))
    report(1, 1)
    return {"story_id": story["id"], "title": story.get("title"), "reused": story.get("reused", False)}


def _video(v: dict) -> dict:
    return {"video_id": v["id"], "story_id": v["story_id"], "stage": v["stage"], "status": v["status"],
            "path": v["path"], "duration_s": v["duration_s"], "bytes": v["bytes"], "sha256": v["sha256"],
            "reused": v.get("reused", False)}


def _render(app: App, params: dict, report: Report) -> dict:
    video = render_story(app, story_id=params["story_id"], backend=params.get("backend"), force=bool(params.get("force")),
                         choices=params.get("choices"))
    report(1, 1)
    return _video(video)


def _edit(app: App, params: dict, report: Report) -> dict:
    video = edit_video(app, video_id=params["video_id"], target_seconds=params.get("target_seconds"),
                       backend=params.get("backend"), force=bool(params.get("force")))
    report(1, 1)
    return _video(video)


def _approve(app: App, params: dict, report: Report) -> dict:
    out = approve_video(app, params["video_id"], by=params.get("by") or "pipeline")
    report(1, 1)
    return {"video_id": params["video_id"], "review": out.get("review"), "changed": out.get("changed")}


def _publish(app: App, params: dict, report: Report) -> dict:
    p = publish_video(app, video_id=params["video_id"], to=params["to"], privacy=params.get("privacy"),
                      allow_similar=bool(params.get("allow_similar")), allow_copied=bool(params.get("allow_copied")),
                      on_progress=report)
    return {"publication_id": p["id"], "status": p.get("status"), "url": p.get("url"), "reused": p.get("reused", False)}


def _metrics(app: App, params: dict, report: Report) -> dict:
    out = collect_metrics(app, all=bool(params.get("all")), on_progress=report)
    return {k: v for k, v in out.items() if k != "publications"}


def _schedule(app: App, params: dict, report: Report) -> dict:
    # Publishes in this process: the stage already runs where the runner put it (on a worker, under the engine).
    out = run_due(app, in_process=True, report=report)
    return {"due": out["due"], **{k: len(out[k]) for k in ("published", "retrying", "failed", "resumed")}}


def _report(app: App, params: dict, report: Report) -> dict:
    out = build_report(app)  # into <home>/report: a run names no paths
    report(1, 1)
    return {k: v for k, v in out.items() if k not in ("out_dir", "html", "csv")}


def _learn(app: App, params: dict, report: Report) -> dict:
    split = params.get("split_at")
    out = fit_models(app, split_at=datetime.fromisoformat(split) if isinstance(split, str) else split)
    report(1, 1)
    return {"models": [{"id": m["id"], "kind": m["kind"], "version": m["version"]} for m in out["models"]],
            "evaluation": out["evaluation"]}


def _gc(app: App, params: dict, report: Report) -> dict:
    return collect_garbage(app, dry_run=bool(params.get("dry_run")),
                           on_progress=lambda done, total, freed: report(done, total))


# ---- the table ---------------------------------------------------------------------------------

STAGES: dict[str, Stage] = {s.name: s for s in (
    Stage("crawl", _crawl, (events.ARTICLE_CRAWLED, events.ARTICLE_UPDATED, events.MEDIA_STORED), long=True),
    Stage("index", _index, (events.ARTICLE_INDEXED,), needs=frozenset({"vectors", "models"}), long=True),
    Stage("trends", _trends, (events.TREND_DETECTED,), needs=frozenset({"vectors"})),
    Stage("story", _story, (events.STORY_WRITTEN,), needs=frozenset({"vectors", "models"})),
    Stage("render", _render, (events.VIDEO_RENDERED,), needs=frozenset({"models"}), long=True, gpu_backend="render"),
    Stage("edit", _edit, (events.VIDEO_EDITED,), long=True, gpu_backend="edit"),
    Stage("approve", _approve, (events.VIDEO_APPROVED,)),
    Stage("publish", _publish, (events.VIDEO_PUBLISHED,), long=True),
    Stage("metrics", _metrics, (events.METRICS_COLLECTED,)),
    Stage("schedule", _schedule, (events.VIDEO_PUBLISHED,), long=True),
    Stage("report", _report, ()),
    Stage("learn", _learn, (events.MODEL_FITTED,), needs=frozenset({"models"})),
    Stage("gc", _gc, (events.FILE_PURGED,)),
)}

# What a pipeline run of each kind goes through, in order (POST /api/v1/runs, the workspace).
RUN_KINDS: dict[str, tuple[str, ...]] = {
    "full": ("crawl", "index", "trends"),
    **{name: (name,) for name in STAGES if name != "approve"},  # approving is a person's act, not a run
}


def stage(name: str) -> Stage:
    if name not in STAGES:
        raise InvalidInput(f"unknown stage {name!r}: use one of {', '.join(STAGES)}")
    return STAGES[name]


def run_stage(app: App, name: str, params: dict | None = None, report: Report | None = None) -> dict:
    """Run one stage in this process: its function with these parameters."""
    return stage(name).run(app, dict(params or {}), report or (lambda done, total, info=None: None))


def stage_options(settings: Settings) -> dict:
    """What a workflow needs to schedule each stage (queue, timeout) and to retry it, from the starter's
    settings: workflow code may not read settings or this table itself (it is replayed)."""
    e = settings.engine
    queues = {"cpu": e.cpu_queue, "gpu": e.gpu_queue}
    return {"stages": {s.name: {"queue": queues[s.queue(settings)],
                                "timeout_s": e.render_timeout_s if s.long else e.stage_timeout_s}
                       for s in STAGES.values()},
            "heartbeat_timeout_s": e.heartbeat_timeout_s, "retry_initial_s": e.retry_initial_s,
            "retry_backoff": e.retry_backoff, "retry_max_interval_s": e.retry_max_interval_s,
            "retry_max_attempts": e.retry_max_attempts}


# ---- runners: who executes a stage (registry kind engine_runner, contract bootstrap.StageRunner) ----

class InProcessRunner:
    """engine.runner = "inprocess": stages run in the calling process (the embedded default)."""

    name = "inprocess"

    def __init__(self, app: App):
        self.app = app

    def run(self, name: str, params: dict, report: Report) -> dict:
        return run_stage(self.app, name, params, report)
