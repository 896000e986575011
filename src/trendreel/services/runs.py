"""Pipeline runs: a row in `pipeline_run`, its stages run by a worker thread, progress written to the row.

A run is started by the API (POST /api/v1/runs) or the workspace and followed by reading its row; each
stage's progress is `{"state": queued|running|done|error, "done": n, "total": m, "started_at",
"finished_at"}`. The stages and what a run of each kind goes through come from the pipeline table
(services.pipeline); the App's runner (engine.runner) executes each one, in this process or on the
engine's workers. A run left `running` by a stopped server is marked as interrupted the next time
`trendreel serve` starts; starting it again is safe, since every stage is idempotent (same ids, same rows).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from sqlalchemy import select, update

from trendreel.bootstrap import App, StageRunner
from trendreel.db.tables import Article, Event, PipelineRun
from trendreel.errors import InvalidInput, NotFound, TrendreelError
from trendreel.services.content import get_article
from trendreel.services.pipeline import RUN_KINDS, STAGES
from trendreel.services.stories import get_story
from trendreel.services.trends import get_trend
from trendreel.services.videos import get_video

log = logging.getLogger("trendreel.api.runs")

def run_id() -> str:
    """'r' + 23 random hex chars: a run is an occurrence, not a content key."""
    return "r" + secrets.token_hex(12)[:23]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def run_dict(r: PipelineRun) -> dict:
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return {"id": r.id, "kind": r.kind, "status": r.status, "params": dict(r.params or {}),
            "progress": dict(r.progress or {}), "result": dict(r.result or {}), "error": r.error,
            "created_by": r.created_by, "created_at": iso(r.created_at), "started_at": iso(r.started_at),
            "finished_at": iso(r.finished_at)}


class Runner:
    """Runs pipeline runs of this process on one background thread (one run at a time, in order)."""

    def __init__(self, app: App, *, runner: StageRunner | None = None):
        self.app = app
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._runner = runner or app.runner()

    def start(self, *, kind: str, params: dict, created_by: str | None) -> dict:
        """Store a queued run and hand it to the worker thread; the row as a dict."""
        if kind not in RUN_KINDS:
            raise InvalidInput(f"unknown run kind {kind!r}: use one of {', '.join(RUN_KINDS)}")
        stages = RUN_KINDS[kind]
        row = PipelineRun(id=run_id(), kind=kind, status="queued", params=params, created_by=created_by,
                          progress={s: {"state": "queued", "done": 0, "total": None} for s in stages},
                          result={}, created_at=_now())
        with self.app.db.session() as s:
            s.add(row)
            s.flush()
            out = run_dict(row)
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trendreel-run")
            self._pool.submit(self._execute, row.id)
        return out

    def shutdown(self, *, wait: bool = False) -> None:
        """Stop taking runs; with wait=True, finish the queued ones first (else they stay queued in the table)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=not wait)

    def _write(self, rid: str, **fields) -> None:
        with self.app.db.session() as s:
            s.execute(update(PipelineRun).where(PipelineRun.id == rid).values(**fields))

    def _execute(self, rid: str) -> None:
        with self.app.db.session() as s:
            row = s.get(PipelineRun, rid)
            kind, params, progress = row.kind, dict(row.params or {}), dict(row.progress or {})
        self._write(rid, status="running", started_at=_now())
        results: dict = {}
        for stage in RUN_KINDS[kind]:
            progress[stage] = {**progress.get(stage, {}), "state": "running", "started_at": _now().isoformat()}
            self._write(rid, progress=dict(progress))
            last = [0.0]

            def report(done: int, total: int | None, info: str | None = None, _stage=stage) -> None:
                progress[_stage] = {**progress[_stage], "done": int(done), "total": None if total is None else int(total),
                                    **({"info": info} if info else {})}
                if time.monotonic() - last[0] > 0.5:  # at most two row updates a second
                    last[0] = time.monotonic()
                    self._write(rid, progress=dict(progress))

            try:
                results[stage] = self._runner.run(stage, params, report)
            except Exception as exc:  # noqa: BLE001 - the run records every failure
                message = str(exc) if isinstance(exc, TrendreelError) else f"internal error in stage {stage} ({type(exc).__name__})"
                if not isinstance(exc, TrendreelError):
                    log.error("run %s: stage %s failed", rid, stage, exc_info=exc)
                progress[stage] = {**progress[stage], "state": "error", "finished_at": _now().isoformat()}
                self._write(rid, status="error", error=f"{stage}: {message}"[:4000], progress=dict(progress),
                            result=results, finished_at=_now())
                return
            progress[stage] = {**progress[stage], "state": "done", "finished_at": _now().isoformat()}
            self._write(rid, progress=dict(progress), result=dict(results))
        self._write(rid, status="done", finished_at=_now(), result=results, progress=dict(progress))


def check_run(app: App, kind: str, params: dict) -> None:
    """Refuse a run that names a trend, item, story or video that is not stored (NotFound, as the dedicated
    routes answer), before any run is queued."""
    if params.get("trend_id"):
        get_trend(app, params["trend_id"])
    if params.get("item_id"):
        get_article(app, params["item_id"])
    if params.get("story_id"):
        get_story(app, params["story_id"])
    if params.get("video_id"):
        get_video(app, params["video_id"])
    wanted = list(dict.fromkeys(params.get("article_ids") or ()))
    if wanted:
        found: set[str] = set()
        with app.db.session() as s:
            for i in range(0, len(wanted), 500):
                found |= set(s.scalars(select(Article.id).where(Article.id.in_(wanted[i:i + 500]))))
        missing = [a for a in wanted if a not in found]
        if missing:
            more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
            raise NotFound(f"unknown article {', '.join(repr(a) for a in missing[:3])}{more}",
                           hint="list articles with `trendreel articles`")


def mark_interrupted(app: App) -> int:
    """Runs left queued or running by a server that stopped: marked as errors that say to start them again."""
    with app.db.session() as s:
        return s.execute(update(PipelineRun).where(PipelineRun.status.in_(("queued", "running")))
                         .values(status="error", finished_at=_now(),
                                 error="interrupted: the server stopped during this run; start it again "
                                       "(finished stages are reused)")).rowcount


def get_run(app: App, rid: str) -> dict:
    with app.db.session() as s:
        row = s.get(PipelineRun, rid)
        if row is None:
            raise NotFound(f"unknown run {rid!r}: list runs with GET /api/v1/runs")
        return run_dict(row)


def list_runs(app: App, *, status: str | None = None, limit: int = 50) -> list[dict]:
    with app.db.session() as s:
        q = select(PipelineRun).order_by(PipelineRun.created_at.desc(), PipelineRun.id).limit(limit)
        if status:
            q = q.where(PipelineRun.status == status)
        return [run_dict(r) for r in s.scalars(q)]


def run_events(app: App, rid: str, *, stage: str | None = None, limit: int = 200, after_id: int = 0) -> list[dict]:
    """Events the run's stages appended: each stage's event types within the time it ran."""
    run = get_run(app, rid)
    stages = [stage] if stage else list(run["progress"])
    if stage and stage not in run["progress"]:
        raise TrendreelError(f"run {rid} has no stage {stage!r} (its stages: {', '.join(run['progress'])})")
    out: list[dict] = []
    with app.db.session() as s:
        for st in stages:
            p = run["progress"][st]
            if not p.get("started_at"):
                continue
            q = (select(Event).where(Event.type.in_(STAGES[st].events if st in STAGES else ()), Event.id > after_id,
                                     Event.at >= datetime.fromisoformat(p["started_at"]))
                 .order_by(Event.id).limit(limit))
            if p.get("finished_at"):
                q = q.where(Event.at <= datetime.fromisoformat(p["finished_at"]))
            for e in s.scalars(q):
                out.append({"id": e.id, "stage": st, "at": e.at.isoformat(), "type": e.type,
                            "subject_type": e.subject_type, "subject_id": e.subject_id, "payload": dict(e.payload or {})})
    out.sort(key=lambda e: e["id"])
    return out[:limit]
