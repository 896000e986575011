"""Unattended operation: one cycle of the whole loop, from the [autopilot] settings alone.

    crawl → index → trends → choose (learning loop) → story → render → edit → approve (autopilot.auto_approve)
    → plan on each target (the schedule: caps, spacing, best hour) → publish what is due → collect metrics

A cycle belongs to a time slot (`now` floored to autopilot.every) and is one `pipeline_run` row of kind
"autopilot" whose id is a hash of the slot: running the same slot again returns the finished cycle, and
a cycle that stopped half way (a crash, an error) resumes at its first unfinished step with the trends,
stories and videos it had already recorded. Every step is a service function keyed by ids, so a step
repeated after a crash lands on the same rows. Stages run through the App's runner: in this process, or
on the engine's workers when engine.runner = "temporal".

Videos that wait for a person's approval (auto_approve off) are planned by the first cycle after they
are approved. A trend is made into a story once: later cycles choose among trends without one.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from trendreel.bootstrap import App, Report
from trendreel.db.tables import PipelineRun, Story, Video, utcnow
from trendreel.errors import ConfigError, Conflict, TrendreelError
from trendreel.services.learning import choose_trends
from trendreel.services.publishing import approve_video
from trendreel.services.metrics import collect_metrics
from trendreel.services.schedule import add_post, list_posts, run_due
from trendreel.services.trends import list_trends
from trendreel.services.videos import reap_stale
from trendreel.units import parse_duration

log = logging.getLogger(__name__)

__all__ = ["autopilot_cycle", "autopilot_status"]

KIND = "autopilot"
STEPS = ("crawl", "index", "trends", "choose", "videos", "approve", "plan", "publish", "metrics")
RECENT_CYCLES = 20  # earlier cycles whose videos may still wait for approval, and the status panel's history


def _slot(app: App, now: datetime) -> datetime:
    every = parse_duration(app.settings.autopilot.every).total_seconds()
    return datetime.fromtimestamp((now.timestamp() // every) * every, tz=timezone.utc)


def _cycle_id(slot: datetime) -> str:
    return "r" + hashlib.sha256(f"autopilot\x1f{slot.isoformat()}".encode()).hexdigest()[:23]


def _stage(app: App, name: str, params: dict) -> dict:
    return app.runner().run(name, params, lambda done, total, info=None: None)


def _save(app: App, rid: str, **values) -> None:
    with app.db.session() as s:
        row = s.get(PipelineRun, rid)
        for k, v in values.items():
            setattr(row, k, v)


def _made_earlier(app: App, rid: str) -> list[str]:
    """Videos recent cycles made (newest cycle first), so a video approved since gets planned."""
    with app.db.session() as s:
        rows = s.scalars(select(PipelineRun).where(PipelineRun.kind == KIND, PipelineRun.id != rid)
                         .order_by(PipelineRun.created_at.desc()).limit(RECENT_CYCLES)).all()
        return [v for r in rows for v in (r.result or {}).get("videos", [])]


def _storied(app: App) -> set[str]:
    with app.db.session() as s:
        return set(s.scalars(select(Story.trend_id).where(Story.trend_id.is_not(None))).all())


def autopilot_cycle(app: App, *, now: datetime | None = None, report: Report | None = None) -> dict:
    """Run (or resume, or return) the cycle of the slot `now` falls in; the cycle as a dict (see autopilot_status)."""
    ap = app.settings.autopilot
    if not ap.enabled:
        raise ConfigError("the autopilot is off: set autopilot.enabled = true (and autopilot.targets) in the settings "
                          "to let it crawl, make and publish videos unattended")
    now = now.astimezone(timezone.utc) if now is not None else utcnow()
    slot = _slot(app, now)
    rid = _cycle_id(slot)
    try:
        with app.db.session() as s:
            row = s.get(PipelineRun, rid)
            if row is not None and row.status == "done":
                return _cycle_dict(row)
            if row is None:
                row = PipelineRun(id=rid, kind=KIND, status="running", created_by="autopilot", created_at=now,
                                  params={"slot": slot.isoformat(), "every": ap.every}, progress={},
                                  result={"videos": [], "failures": []})
                s.add(row)
            row.status, row.started_at, row.error = "running", now, None
            progress, result = dict(row.progress or {}), dict(row.result or {})
    except IntegrityError:
        raise Conflict(f"another autopilot run started cycle {rid} at the same moment: run one autopilot "
                       "per installation") from None
    result.setdefault("failures", [])
    reap_stale(app)  # a render or edit a crashed cycle left running: its row is freed, its ffmpeg stopped

    def step(name: str, fn) -> None:
        if progress.get(name, {}).get("state") == "done":
            return  # done before a crash: its ids are in `result`
        progress[name] = {"state": "running"}
        _save(app, rid, progress=dict(progress))
        out = fn()
        progress[name] = {"state": "done", **({"summary": out} if out is not None else {})}
        _save(app, rid, progress=dict(progress), result=dict(result))
        if report is not None:
            report(STEPS.index(name) + 1, len(STEPS), name)

    def failed(where: str, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, TrendreelError) else f"{type(exc).__name__}: {exc}"
        result["failures"].append({"step": where, "error": message[:2000], "at": utcnow().isoformat()})
        log.warning("autopilot %s: %s failed: %s", rid, where, message)

    def crawl():
        out = _stage(app, "crawl", {"source_names": ap.sources or None})
        return {k: out.get(k) for k in ("fetched", "articles_new", "errors") if k in out}

    def index():
        out = _stage(app, "index", {})
        return {k: out[k] for k in ("articles", "vectors", "errors") if k in out}

    def trends():
        out = _stage(app, "trends", {})
        return {"trends": out["trends"]}

    def choose():
        fresh = [t for t in list_trends(app, limit=50) if t["id"] not in _storied(app)]
        picked = choose_trends(app, fresh, ap.stories_per_run, context=f"autopilot:{rid}",
                               seed=int(slot.timestamp())) if fresh and ap.stories_per_run else []
        result["trends"] = [t["id"] for t in picked]
        return {"candidates": len(fresh), "chosen": len(picked)}

    def videos():
        made = result.setdefault("made", {})  # trend id -> edited video id, so a resumed cycle skips what is made
        for tid in result.get("trends", []):
            if tid in made:
                continue
            try:
                story = _stage(app, "story", {"trend_id": tid})
                rendered = _stage(app, "render", {"story_id": story["story_id"]})
                edited = _stage(app, "edit", {"video_id": rendered["video_id"]})
            except Exception as exc:  # one trend that cannot be told does not stop the cycle
                failed(f"video of trend {tid}", exc)
                made[tid] = None
                continue
            made[tid] = edited["video_id"]
            result["videos"] = [*result.get("videos", []), edited["video_id"]]
        return {"videos": len([v for v in made.values() if v])}

    def approve():
        if not ap.auto_approve:
            return {"approved": 0, "waiting": len(result.get("videos", []))}
        for vid in result.get("videos", []):
            approve_video(app, vid, by="autopilot")
        return {"approved": len(result.get("videos", []))}

    def plan():
        planned = 0
        with app.db.session() as s:
            review = dict(s.execute(select(Video.id, Video.review)
                                    .where(Video.id.in_(result.get("videos", []) + _made_earlier(app, rid)))).all())
        for vid, verdict in review.items():
            if verdict != "approved":
                continue
            for target in ap.targets:
                try:
                    post = add_post(app, video_id=vid, to=target, best=ap.when == "best", privacy=ap.privacy,
                                    by="autopilot", now=now)
                except TrendreelError as exc:
                    if "already published" not in str(exc):
                        failed(f"plan {vid} on {target}", exc)
                    continue
                planned += 0 if post["reused"] else 1
        return {"planned": planned, "targets": len(ap.targets)}

    def publish():
        out = run_due(app, now=now)
        for f in out["failed"]:
            result["failures"].append({"step": f"publish {f['id']}", "error": f["error"][:2000], "at": now.isoformat()})
        return {"published": len(out["published"]), "failed": len(out["failed"]), "retrying": len(out["retrying"])}

    def metrics():
        out = collect_metrics(app, now=now)
        return {k: out[k] for k in ("due", "polled", "stored") if k in out}

    try:
        for name, fn in (("crawl", crawl), ("index", index), ("trends", trends),
                         ("choose", choose), ("videos", videos), ("approve", approve), ("plan", plan),
                         ("publish", publish), ("metrics", metrics)):
            step(name, fn)
    except Exception as exc:  # the cycle stops here; running the slot again resumes at this step
        failed(next((n for n, p in progress.items() if p.get("state") == "running"), "cycle"), exc)
        progress = {n: (p if p.get("state") == "done" else {"state": "error"}) for n, p in progress.items()}
        message = result["failures"][-1]["error"]
        _save(app, rid, status="error", error=message, progress=progress, result=dict(result), finished_at=utcnow())
        log.debug("autopilot cycle %s stopped:\n%s", rid, traceback.format_exc())
        raise
    _save(app, rid, status="done", progress=progress, result=dict(result), finished_at=utcnow())
    with app.db.session() as s:
        return _cycle_dict(s.get(PipelineRun, rid))


def _cycle_dict(row: PipelineRun) -> dict:
    result = dict(row.result or {})
    return {"id": row.id, "slot": (row.params or {}).get("slot"), "status": row.status, "error": row.error,
            "steps": dict(row.progress or {}), "trends": result.get("trends", []), "videos": result.get("videos", []),
            "failures": result.get("failures", []),
            "started_at": row.started_at.isoformat() if row.started_at else None,
            "finished_at": row.finished_at.isoformat() if row.finished_at else None}


def autopilot_status(app: App, *, now: datetime | None = None, limit: int = 10) -> dict:
    """Whether the autopilot is on, its last cycles (newest first), when the next one is due, recent failures
    with their messages, and the posts planned from now on."""
    ap = app.settings.autopilot
    now = now.astimezone(timezone.utc) if now is not None else utcnow()
    with app.db.session() as s:
        rows = s.scalars(select(PipelineRun).where(PipelineRun.kind == KIND)
                         .order_by(PipelineRun.created_at.desc(), PipelineRun.id).limit(limit)).all()
        cycles = [_cycle_dict(r) for r in rows]
    last = cycles[0] if cycles else None
    if last is None or last["status"] != "done":
        next_at = now  # nothing yet, or the last cycle stopped: the next run starts (or resumes) at once
    else:
        next_at = datetime.fromisoformat(last["slot"]) + parse_duration(ap.every)
    failures = [{"cycle": c["id"], **f} for c in cycles for f in c["failures"]]
    return {"enabled": ap.enabled, "every": ap.every, "targets": list(ap.targets), "auto_approve": ap.auto_approve,
            "stories_per_run": ap.stories_per_run, "last": last, "next_at": next_at.isoformat(), "cycles": cycles,
            "failures": failures[:50], "upcoming": list_posts(app, status="planned", since=now - timedelta(days=1), limit=50)}
