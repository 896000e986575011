"""Workflows: one per source crawl (crawl, index, trends), one per video (story, render, edit, approve,
publish), one per metric poll, and one for a single stage of a gateway run. They only order stages;
every stage runs in the one activity `run_stage`, on the queue the pipeline table gives it.

Workflow code must be deterministic (it is replayed): no I/O, no trendreel imports; each stage's queue
and timeout come in the workflow's input (`options`, made from the starter's settings and the pipeline
table by `trendreel.services.pipeline.stage_options`).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy


def _retry(o: dict) -> RetryPolicy:
    return RetryPolicy(initial_interval=timedelta(seconds=o["retry_initial_s"]), backoff_coefficient=o["retry_backoff"],
                       maximum_interval=timedelta(seconds=o["retry_max_interval_s"]),
                       maximum_attempts=o["retry_max_attempts"])


async def _stage(name: str, params: dict, o: dict, steps: list) -> dict:
    """Run one stage as the `run_stage` activity; record its time in the activity and in the workflow."""
    where = o["stages"][name]
    started = workflow.now()
    out = await workflow.execute_activity(
        "run_stage", {"stage": name, "params": params}, task_queue=where["queue"], activity_id=name,
        start_to_close_timeout=timedelta(seconds=where["timeout_s"]),
        heartbeat_timeout=timedelta(seconds=o["heartbeat_timeout_s"]), retry_policy=_retry(o))
    wall = (workflow.now() - started).total_seconds()
    steps.append({"stage": name, "queue": where["queue"], "wall_s": round(wall, 3), "activity_s": out.get("activity_s"),
                  "queued_s": out.get("queued_s"), "worker_pid": out.get("worker_pid")})
    return out["result"]


@workflow.defn(name="CrawlWorkflow")
class CrawlWorkflow:
    """One crawl of the configured sources (or those given): crawl, then index, then detect trends."""

    @workflow.run
    async def run(self, params: dict) -> dict:
        o, steps = params["options"], []
        crawl = await _stage("crawl", {k: params.get(k) for k in ("sources", "source_names", "urls", "max_pages", "crawl")},
                             o, steps)
        index = await _stage("index", {}, o, steps)
        trends = await _stage("trends", {"window": params.get("window")}, o, steps)
        return {"crawl": crawl, "index": index, "trends": trends["top"], "steps": steps}


@workflow.defn(name="VideoWorkflow")
class VideoWorkflow:
    """One video: its story (unless given), render, edit, approval when `approve`, publishing when `publish_to`."""

    @workflow.run
    async def run(self, params: dict) -> dict:
        o, steps, out = params["options"], [], {}
        story_id = params.get("story_id")
        if not story_id:
            out["story"] = await _stage("story", {"trend_id": params["trend_id"], "item_id": params.get("item_id")}, o, steps)
            story_id = out["story"]["story_id"]
        out["rendered"] = await _stage("render", {"story_id": story_id}, o, steps)
        out["edited"] = await _stage("edit", {"video_id": out["rendered"]["video_id"]}, o, steps)
        if params.get("approve"):
            out["approval"] = await _stage("approve", {"video_id": out["edited"]["video_id"], "by": params.get("by")},
                                           o, steps)
        if params.get("publish_to"):
            out["publication"] = await _stage("publish", {"video_id": out["edited"]["video_id"], "to": params["publish_to"],
                                                          "privacy": params.get("privacy")}, o, steps)
        return {**out, "story_id": story_id, "steps": steps}


@workflow.defn(name="MetricsWorkflow")
class MetricsWorkflow:
    """One poll of the publications whose metrics are due (all of them with `all`)."""

    @workflow.run
    async def run(self, params: dict) -> dict:
        o, steps = params["options"], []
        result = await _stage("metrics", {"all": bool(params.get("all"))}, o, steps)
        return {"metrics": result, "steps": steps}


@workflow.defn(name="StageWorkflow")
class StageWorkflow:
    """One stage of a gateway pipeline run (POST /api/v1/runs) when engine.runner = "temporal"."""

    @workflow.run
    async def run(self, params: dict) -> dict:
        o, steps = params["options"], []
        result = await _stage(params["stage"], params.get("params") or {}, o, steps)
        return {"result": result, "steps": steps}


WORKFLOWS = [CrawlWorkflow, VideoWorkflow, MetricsWorkflow, StageWorkflow]
