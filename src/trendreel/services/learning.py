"""Use cases of the learning loop: bring in history, compute features, fit and evaluate models, forecast,
and choose which trends to make next (docs/learning.md).

Everything reads rows only (publications, samples, and for our own publications the trend, story and
video behind them), so it works after gc purged the files. Models are stored in the file store under
models/<kind>/<id>.bin with a `learned_model` row that keeps their evaluation; the newest of a kind
is the one forecasts use.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from trendreel import events
from trendreel.bootstrap import App
from trendreel.db import repo
from trendreel.db.tables import (
    Decision,
    LearnedModel,
    Publication,
    Story,
    Video,
    utcnow,
)
from trendreel.errors import Conflict, InvalidInput, NotFound
from trendreel.learn.backend import default_split, evaluate_split
from trendreel.learn.features import TrainingStats
from trendreel.learn.history import History, parse_line, read_jsonl
from trendreel.learn.policy import Candidate, choose, compare_arms
from trendreel.learn.rows import (
    FEATURES_VERSION,
    feature_rows,
    import_history,
    load_histories,
)
from trendreel.services.trends import list_trends

KINDS = ("forecaster", "cold_start")
MAX_FORECAST_LINES = 100_000

__all__ = ["LearnError", "choose_now", "choose_per_language", "choose_trends", "compare_decisions", "evaluate_models", "expected_views", "fit_models",
           "forecast", "import_histories", "learning_features", "list_models"]


class LearnError(Conflict):
    """The learning loop cannot do this with what is stored now (too few histories, no trends): a conflict (409)."""


# ---- bring in history ---------------------------------------------------------------------------

def import_histories(app: App, *, path: Path | None = None, lines: Iterable[dict] | None = None,
                     on_progress: Callable[[int, int | None], None] | None = None) -> dict:
    """Publication histories (the import shape of docs/learning.md) from a JSON Lines file or as decoded
    lines, stored as publications of external accounts with their samples; bad lines are reported with
    why and skipped, and nothing already stored changes (a second import adds only new samples)."""
    if (path is None) == (lines is None):
        raise InvalidInput("give a JSON Lines file or the lines, not both")
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise InvalidInput(f"{path} is not a file: give a JSON Lines file of publication histories")
        items: Iterable[tuple[int, History | str]] = read_jsonl(path)
    else:
        items = (_parsed(n, obj) for n, obj in enumerate(lines, start=1))
    out = {"lines": 0, "imported": 0, "updated": 0, "unchanged": 0, "samples_added": 0, "errors": []}
    batch: list[History] = []

    def flush() -> None:
        with app.db.session() as s:
            for history in batch:
                result = import_history(s, history)
                out["samples_added"] += result.samples_added
                key = "imported" if result.created else ("updated" if result.samples_added else "unchanged")
                out[key] += 1
        batch.clear()

    for line_no, item in items:
        out["lines"] += 1
        if isinstance(item, str):
            out["errors"].append({"line": line_no, "error": item})
            continue
        batch.append(item)
        if len(batch) >= 500:  # one transaction per 500 lines: a crash loses at most these, redone next run
            flush()
            if on_progress:
                on_progress(out["lines"], None)
    if batch:
        flush()
    if on_progress:
        on_progress(out["lines"], out["lines"])
    return out


def _parsed(line_no: int, obj) -> tuple[int, History | str]:
    try:
        return line_no, parse_line(obj)
    except ValueError as exc:
        return line_no, str(exc)


# ---- features ---------------------------------------------------------------------------------

def learning_features(app: App, *, publication_id: str | None = None, limit: int = 100) -> dict:
    """The feature store's view of stored publications: each feature with the time it was known."""
    if not 1 <= limit <= 100_000:
        raise InvalidInput("limit must be between 1 and 100000")
    histories = load_histories(app.db)
    stats = TrainingStats.fit(histories)
    chosen = [h for h in histories if h.id == publication_id] if publication_id else histories[-limit:]
    if publication_id and not chosen:
        raise NotFound(f"publication {publication_id!r} has no stored samples (or does not exist)",
                       hint="list them with `trendreel metrics list`")
    return {"features_version": FEATURES_VERSION, "histories": len(histories),
            "rows": feature_rows(chosen, stats)}


# ---- fit, evaluate, list -----------------------------------------------------------------------

def _histories(app: App) -> list[History]:
    histories = load_histories(app.db)
    need = app.settings.learn.min_histories
    if len(histories) < need:
        raise LearnError(f"{len(histories)} publication histories with samples are stored; fitting needs at least "
                         f"{need} (learn.min_histories)",
                         hint="`trendreel metrics import FILE.jsonl` brings in a channel's past videos")
    return histories


def evaluate_models(app: App, *, split_at: datetime | None = None) -> dict:
    """The views model evaluated on a time split of the stored histories, beside the plain baselines."""
    histories = _histories(app)
    split = split_at or default_split(histories, app.settings.learn.eval_share)
    if split is None:
        raise LearnError("too few histories to hold any out for evaluation")
    return {"model": app.settings.learn.model, "features_version": FEATURES_VERSION,
            **evaluate_split(app.views_model(), histories, _utc(split))}


def fit_models(app: App, *, split_at: datetime | None = None) -> dict:
    """Evaluate on a time split, then fit both models on every history and store them (new versions)."""
    histories = _histories(app)
    evaluation = evaluate_models(app, split_at=split_at)
    views = app.views_model()
    trained_until = max(h.samples[-1].at for h in histories)
    imported = sum(1 for h in histories if h.extra.get("imported"))  # the report says what the models learned from
    stored = []
    for kind, model in (("forecaster", views.forecaster()), ("cold_start", views.cold_start())):
        model.fit(histories)
        data = model.to_bytes()
        with app.db.session() as s:
            version = (s.scalar(select(func.max(LearnedModel.version)).where(LearnedModel.kind == kind)) or 0) + 1
            mid = "m" + hashlib.sha256(f"{kind}\x1f{version}\x1f{secrets.token_hex(4)}".encode()).hexdigest()[:23]
        key = f"models/{kind}/{mid}.bin"
        put = app.files.put(key, data)
        task = "from_early_samples" if kind == "forecaster" else "from_metadata"
        with app.db.session() as s:
            row = LearnedModel(id=mid, kind=kind, backend=app.settings.learn.model, version=version,
                               features_version=FEATURES_VERSION, created_at=utcnow(), trained_until=trained_until,
                               n_train=len(histories), path=key, bytes=put.bytes, sha256=put.sha256,
                               evaluation={**{k: v for k, v in evaluation.items() if not k.startswith("from_")},
                                           "n_imported": imported,
                                           **({"figures": evaluation[task]} if task in evaluation else {})})
            s.add(row)
            s.flush()
            repo.append_event(s, type=events.MODEL_FITTED, subject_type="model", subject_id=mid,
                              dedupe_key=f"{events.MODEL_FITTED}:{mid}",
                              payload={"kind": kind, "version": version, "n_train": len(histories)})
            stored.append(_model_dict(row))
    return {"models": stored, "evaluation": evaluation}


def list_models(app: App, *, kind: str | None = None) -> list[dict]:
    """Fitted models, newest first, with their evaluation."""
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    with app.db.session() as s:
        q = select(LearnedModel).order_by(LearnedModel.created_at.desc(), LearnedModel.version.desc())
        if kind:
            q = q.where(LearnedModel.kind == kind)
        return [_model_dict(r) for r in s.scalars(q)]


def _model_dict(row: LearnedModel) -> dict:
    return {"id": row.id, "kind": row.kind, "backend": row.backend, "version": row.version,
            "features_version": row.features_version, "n_train": row.n_train,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "trained_until": row.trained_until.isoformat() if row.trained_until else None,
            "path": row.path, "bytes": row.bytes, "evaluation": dict(row.evaluation or {})}


def _latest(app: App, kind: str, *, fit_when_missing: bool = True):
    """(row, model) of the newest model of `kind`; fits first when there is none (and asked to)."""
    with app.db.session() as s:
        row = s.scalars(select(LearnedModel).where(LearnedModel.kind == kind)
                        .order_by(LearnedModel.version.desc()).limit(1)).first()
    if row is None:
        if not fit_when_missing:
            return None, None
        fit_models(app)
        return _latest(app, kind, fit_when_missing=False)
    return row, app.views_model().load(app.files.get(row.path))


# ---- forecast ---------------------------------------------------------------------------------

def forecast(app: App, *, path: Path | None = None, lines: list[dict] | None = None, publication_id: str | None = None,
             predict_at: datetime | None = None) -> list[dict]:
    """Views at `predict_at` of each history in a JSON Lines file or given as decoded lines (the import shape
    plus "predict_at"), or of one stored publication: from its samples so far when it has any, else from
    its metadata alone. Fits the models first when none is stored."""
    if sum(x is not None for x in (path, lines, publication_id)) != 1:
        raise InvalidInput("give a file of histories, the histories, or a publication id (one of them)")
    asks: list[tuple[History, datetime]] = []
    if publication_id is not None:
        found = load_histories(app.db, publication_ids=[publication_id], with_samples_only=False)
        if not found:
            raise NotFound(f"unknown publication {publication_id!r}", hint="list them with `trendreel publications`")
        history = found[0]
        when = _utc(predict_at) if predict_at else utcnow() + timedelta(days=7)
        asks.append((history, when))
    else:
        given = _forecast_lines(Path(path)) if path is not None else _given_lines(lines)
        for line_no, raw in given:
            raw = dict(raw)
            when = raw.pop("predict_at", None)
            if when is None and predict_at is None:
                raise InvalidInput(f"line {line_no}: predict_at is missing (or give --at)")
            samples = raw.get("samples") or []
            try:
                # parse_line wants a sample; a history known only by its metadata gets none back
                history = parse_line({**raw, "samples": samples or [{"at": "1970-01-01T00:00:00Z", "views": 0}]})
                if not samples:
                    history = replace(history, samples=())
                at = _utc(datetime.fromisoformat(str(when).replace("Z", "+00:00"))) if when else _utc(predict_at)
            except ValueError as exc:
                raise InvalidInput(f"line {line_no}: {exc}") from None
            asks.append((history, at))
    with_samples = [(h, at) for h, at in asks if h.samples]
    without = [(h, at) for h, at in asks if not h.samples]
    views: dict[int, float] = {}
    if with_samples:
        _, model = _latest(app, "forecaster")
        predicted = model.predict([h for h, _ in with_samples], [at for _, at in with_samples])
        for (h, _), v in zip(with_samples, predicted):
            views[id(h)] = float(v)
    if without:
        _, model = _latest(app, "cold_start")
        predicted = model.predict([h for h, _ in without])
        for (h, _), v in zip(without, predicted):
            views[id(h)] = float(v)
    return [{"id": h.id, "predict_at": at.isoformat(),
             "views": round(views[id(h)]), "from": "samples" if h.samples else "metadata"} for h, at in asks]


def _given_lines(lines: list[dict]):
    if len(lines) > MAX_FORECAST_LINES:
        raise InvalidInput(f"more than {MAX_FORECAST_LINES:,} histories: split them")
    for n, obj in enumerate(lines, start=1):
        if not isinstance(obj, dict):
            raise InvalidInput(f"line {n}: expected a JSON object")
        yield n, obj


def _forecast_lines(path: Path):
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file: give a JSON Lines file of histories with predict_at")
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            if n > MAX_FORECAST_LINES:
                raise InvalidInput(f"{path} has more than {MAX_FORECAST_LINES:,} lines: split it")
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise InvalidInput(f"line {n}: not JSON ({exc})") from None
            if not isinstance(obj, dict):
                raise InvalidInput(f"line {n}: expected a JSON object")
            yield n, obj


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


# ---- choosing what to make next ---------------------------------------------------------------

def expected_views(app: App, trends: list[dict], *, account: str | None = None) -> dict[str, dict]:
    """Predicted views of a video made of each trend (cold start: what is known before publishing), by
    trend id: {"views", "log10", "sd_log10", "model_id"}; {} when no model is fitted yet."""
    row, model = _latest(app, "cold_start", fit_when_missing=False)
    if model is None or not trends:
        return {}
    now = utcnow()
    pseudo = [History(id=t["id"], samples=(), platform="", account=account or "", title=t.get("text") or "",
                      category=t.get("category") or "", tags=tuple(t.get("key_phrases") or ()),
                      language=t.get("lang") or "", published_at=now,
                      extra={"features": {"trend_score": float(t.get("score") or 0.0),
                                          "trend_burst": math.log1p(max(float(t.get("burst") or 0.0), 0.0)),
                                          "trend_spread": float(t.get("spread") or 0),
                                          "trend_items": math.log1p(t.get("item_count") or 0),
                                          "trend_phrases": float(len(t.get("key_phrases") or [])),
                                          "trend_language": t.get("lang") or "(none)"}})
              for t in trends]
    logs = model.predict_log10(pseudo)
    figures = (row.evaluation or {}).get("figures") or {}
    sd = math.sqrt(figures.get("ours", {}).get("mse_log10") or 0.25)
    return {t["id"]: {"views": round(10 ** float(v)), "log10": round(float(v), 4), "sd_log10": round(sd, 4),
                      "model_id": row.id} for t, v in zip(trends, logs)}


def choose_trends(app: App, trends: list[dict], count: int, *, context: str, seed: int | None = None) -> list[dict]:
    """Which of `trends` to make stories of: by expected views with exploration (learn.policy), each choice
    recorded as a decision (policy, arm, model, expected views). Without a fitted model: by trend score."""
    if count < 1:
        raise InvalidInput("count must be at least 1")
    if not trends:
        return []
    learn = app.settings.learn
    expected = expected_views(app, trends)
    if expected:
        candidates = [Candidate(t["id"], expected[t["id"]]["log10"], expected[t["id"]]["sd_log10"]) for t in trends]
        policy = learn.policy
    else:  # nothing learned yet: the trend's own score stands in for expected views, best first
        candidates = [Candidate(t["id"], float(t.get("score") or 0.0), 0.0) for t in trends]
        policy = "ranked"
    rng = np.random.default_rng(seed if seed is not None else secrets.randbits(32))
    choices = choose(candidates, min(count, len(candidates)), policy=policy, explore_share=learn.explore_share, rng=rng)
    by_id = {t["id"]: t for t in trends}
    made_at = utcnow()
    out = []
    with app.db.session() as s:
        for c in choices:
            did = "d" + hashlib.sha256(f"{context}\x1f{c.key}\x1f{made_at.isoformat()}".encode()).hexdigest()[:23]
            info = expected.get(c.key, {})
            s.add(Decision(id=did, made_at=made_at, context=context[:200], policy=policy if expected else "score",
                           arm=c.arm, rank=c.rank, trend_id=c.key, model_id=info.get("model_id"),
                           expected_views=info.get("views"), score=float(c.score), candidates=len(candidates),
                           details={"explore_share": learn.explore_share if policy == "epsilon" else None}))
            repo.append_event(s, type=events.TREND_CHOSEN, subject_type="trend", subject_id=c.key,
                              dedupe_key=f"{events.TREND_CHOSEN}:{did}",
                              payload={"decision_id": did, "context": context[:200], "arm": c.arm, "policy": policy})
            out.append({**by_id[c.key], "decision": {"id": did, "arm": c.arm, "policy": policy if expected else "score",
                                                      "expected_views": info.get("views"), "rank": c.rank}})
    return out


def choose_now(app: App, *, count: int = 3, limit: int = 50, context: str = "manual") -> list[dict]:
    """Choose `count` of the best `limit` stored trends by the policy (as the pipeline does), and record it."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000")
    trends = list_trends(app, limit=limit)
    if not trends:
        raise LearnError("no trends are stored yet", hint="`trendreel trends` detects them")
    return choose_trends(app, trends, count, context=context)


def choose_per_language(app: App, trends: list[dict], *, languages: int = 2, context: str) -> list[dict]:
    """One trend per language for the `languages` languages with the best trends (the demo tells one
    Korean and one English story), each chosen among that language's trends by choose_trends."""
    order: list[str] = []
    for t in trends:
        if t["lang"] not in order:
            order.append(t["lang"])
    picked: list[dict] = []
    for lang in order[:languages]:
        picked += choose_trends(app, [t for t in trends if t["lang"] == lang], 1, context=context)
    return picked


def compare_decisions(app: App) -> dict:
    """Ranked and exploring choices compared by the views their videos got (latest sample of each
    publication made from the chosen trend's stories), with confidence intervals."""
    with app.db.session() as s:
        rows = s.execute(select(Decision.arm, Decision.trend_id, Decision.policy)).all()
        outcomes = []
        for arm, trend_id, _policy in rows:
            pubs = s.scalars(select(Publication.id).join(Video, Video.id == Publication.video_id)
                             .join(Story, Story.id == Video.story_id)
                             .where(Story.trend_id == trend_id, Publication.status == "done")).all()
            if not pubs:
                outcomes.append((arm, None))
                continue
            histories = load_histories(app.db, publication_ids=pubs)
            for h in histories:
                outcomes.append((arm, h.samples[-1].views if h.samples else None))
    return {"decisions": len(rows), **compare_arms(outcomes)}

