"""Workflows: one per source crawl (crawl, index, trends), one per video (story, render, edit, approve,
publish) and one per metric poll. They only order activities; every stage runs in an activity.

Workflow code must be deterministic (it is replayed): no I/O, no trendreel imports; the activities are
named by string and the options (queues, timeouts, retries) come in the workflow's input, made from
the starter's settings by `trendreel.engine.client.stage_options`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy


def _retry(o: dict) -> RetryPolicy:
    return RetryPolicy(initial_interval=timedelta(seconds=o["retry_initial_s"]), backoff_coefficient=o["retry_backoff"],
                       maximum_interval=timedelta(seconds=o["retry_max_interval_s"]),
                       maximum_attempts=o["retry_max_attempts"])


async def _stage(name: str, params: dict, o: dict, steps: list, *, long: bool = False, gpu: bool = False) -> dict:
    """Run one stage as an activity; record its time in the activity and in the workflow."""
    started = workflow.now()
    result = await workflow.execute_activity(
        name, params, task_queue=o["gpu_queue"] if gpu else o["cpu_queue"],
        start_to_close_timeout=timedelta(seconds=o["render_timeout_s"] if long else o["stage_timeout_s"]),
        heartbeat_timeout=timedelta(seconds=o["heartbeat_timeout_s"]), retry_policy=_retry(o))
    wall = (workflow.now() - started).total_seconds()
    steps.append({"stage": name, "queue": o["gpu_queue"] if gpu else o["cpu_queue"], "wall_s": round(wall, 3),
                  "activity_s": result.get("activity_s"), "queued_s": result.get("queued_s"),
                  "worker_pid": result.get("worker_pid")})
    return result


@workflow.defn(name="CrawlWorkflow")
class CrawlWorkflow:
    """One crawl of the configured sources (or those given): crawl, then index, then detect trends."""

    @workflow.run
    async def run(self, params: dict) -> dict:
        o, steps = params["options"], []
        crawl = await _stage("crawl_sources", {k: params.get(k) for k in ("sources", "source_names", "urls", "max_pages", "crawl")},
                             o, steps, long=True)
        index = await _stage("index_articles", {}, o, steps, long=True)
        trends = await _stage("detect_trends", {"window": params.get("window")}, o, steps)
        return {"crawl": crawl, "index": index, "trends": trends["trends"], "steps": steps}


@workflow.defn(name="VideoWorkflow")
class VideoWorkflow:
    """One video: its story (unless given), render, edit, approval when `approve`, publishing when `publish_to`."""

    @workflow.run
    async def run(self, params: dict) -> dict:
        o, steps, out = params["options"], [], {}
        story_id = params.get("story_id")
        if not story_id:
            story = await _stage("write_story", {"trend_id": params["trend_id"], "item_id": params.get("item_id")}, o, steps)
            story_id, out["story"] = story["id"], story
        out["rendered"] = await _stage("render_story", {"story_id": story_id}, o, steps, long=True, gpu=o["render_on_gpu"])
        out["edited"] = await _stage("edit_video", {"video_id": out["rendered"]["id"]}, o, steps, long=True,
                                     gpu=o["edit_on_gpu"])
        if params.get("approve"):
            out["approval"] = await _stage("approve_video", {"video_id": out["edited"]["id"], "by": params.get("by")},
                                           o, steps)
        if params.get("publish_to"):
            out["publication"] = await _stage("publish_video", {"video_id": out["edited"]["id"], "to": params["publish_to"],
                                                                "privacy": params.get("privacy")}, o, steps, long=True)
        return {**out, "story_id": story_id, "steps": steps}


@workflow.defn(name="MetricsWorkflow")
class MetricsWorkflow:
    """One poll of the publications whose metrics are due (all of them with `all`)."""

    @workflow.run
    async def run(self, params: dict) -> dict:
        o, steps = params["options"], []
        result = await _stage("collect_metrics", {"all": bool(params.get("all"))}, o, steps)
        return {"metrics": result, "steps": steps}


@workflow.defn(name="StageWorkflow")
class StageWorkflow:
    """One stage of a gateway pipeline run (POST /api/v1/runs) when engine.runner = "temporal"."""

    @workflow.run
    async def run(self, params: dict) -> dict:
        o, steps = params["options"], []
        stage = params["stage"]
        gpu = (stage == "render" and o["render_on_gpu"]) or (stage == "edit" and o["edit_on_gpu"])
        result = await _stage("run_stage", {"stage": stage, "params": params.get("params") or {}}, o, steps,
                              long=stage in ("crawl", "index", "render", "edit", "publish"), gpu=gpu)
        return {"result": result["result"], "steps": steps}


WORKFLOWS = [CrawlWorkflow, VideoWorkflow, MetricsWorkflow, StageWorkflow]
