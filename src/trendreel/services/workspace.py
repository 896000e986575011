"""What the workspace's pages read that no stage offers: recent events, effective settings with
secrets masked, and the views-over-time chart (drawn by the report's plots)."""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, SecretStr
from sqlalchemy import func, select

from trendreel.bootstrap import App
from trendreel.db.tables import Event, Video
from trendreel.errors import TrendreelError
from trendreel.render.fonts import resolve_font

__all__ = ["effective_settings", "event_counts", "recent_events", "video_reviews", "views_chart"]

MASK = "••••••"
# Setting names whose values are credentials; paths to key files are shown (they say where, not what).
_SECRET_NAME = re.compile(r"(secret|password|passwd|api_key|access_key|token|credential)(?!.*_(file|path)$)", re.I)
_URL_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^/:@\s]+):([^@/\s]+)@", re.I)


def recent_events(app: App, *, limit: int = 30, types: list[str] | None = None) -> list[dict]:
    """The newest domain events, newest first (optionally of some types only)."""
    if not 1 <= limit <= 1000:
        raise ValueError("limit must be between 1 and 1000")
    with app.db.session() as s:
        q = select(Event).order_by(Event.id.desc()).limit(limit)
        if types:
            q = q.where(Event.type.in_(types))
        return [{"id": e.id, "at": e.at.isoformat() if e.at else None, "type": e.type, "subject_type": e.subject_type,
                 "subject_id": e.subject_id, "payload": dict(e.payload or {})} for e in s.scalars(q)]


def event_counts(app: App, *, hours: float = 24.0) -> dict[str, int]:
    """How many events of each type were appended in the last `hours`, most first."""
    since = datetime.now(timezone.utc) - timedelta(hours=hours)
    with app.db.session() as s:
        rows = s.execute(select(Event.type, func.count()).where(Event.at >= since).group_by(Event.type))
        return dict(sorted(((t, int(n)) for t, n in rows), key=lambda kv: (-kv[1], kv[0])))


def video_reviews(app: App, video_ids: list[str]) -> dict[str, dict]:
    """The approval gate's verdict per video: {id: {review, reviewed_by, reviewed_at, reason}} (review None: not reviewed)."""
    if not video_ids:
        return {}
    with app.db.session() as s:
        rows = s.execute(select(Video.id, Video.review, Video.reviewed_by, Video.reviewed_at, Video.details)
                         .where(Video.id.in_(set(video_ids))))
        return {vid: {"review": review, "reviewed_by": by, "reviewed_at": at.isoformat() if at else None,
                      "reason": (details or {}).get("review_reason")}
                for vid, review, by, at, details in rows}


def _mask(name: str, value: Any) -> Any:
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else None
    if isinstance(value, dict):
        return {k: _mask(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask(name, v) for v in value]
    if value is None or value == "":
        return value
    if _SECRET_NAME.search(name):
        return MASK
    if isinstance(value, str):
        return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", value)
    return value


def effective_settings(app: App) -> list[dict]:
    """The settings in force, one section per group: [{section, rows: [{name, value, description}]}], secrets masked."""
    settings = app.settings
    top_rows: list[dict] = []
    sections: list[dict] = []
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, BaseModel):
            sections.append({"section": name, "description": (type(value).__doc__ or "").strip().splitlines()[0:1],
                             "rows": _rows(value, prefix=name)})
        else:
            top_rows.append(_row(name, name, value, field.description))
    return [{"section": "general", "description": [], "rows": top_rows}, *sections]


def _rows(model, prefix: str) -> list[dict]:
    rows = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            rows.extend(_rows(value, prefix=f"{prefix}.{name}"))
        else:
            rows.append(_row(name, f"{prefix}.{name}", value, field.description))
    return rows


def _row(name: str, key: str, value: Any, description: str | None) -> dict:
    value = _mask(name, value)
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    elif isinstance(value, list):
        value = [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value]
        value = [_mask(name, v) for v in value]
    return {"key": key, "value": _show(value), "description": description or ""}


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def views_chart(app: App, series: list[tuple[str, datetime, list[tuple[datetime, int]]]], title: str) -> tuple[str, list[str]]:
    """An inline SVG of views against days since publishing (one line per publication) and any font warnings."""
    from trendreel.report import plots  # matplotlib: only when a chart is drawn

    warns: list[str] = []
    try:  # the renderer's face (NanumGothic by default), so Hangul titles do not show as boxes
        family = plots.font_family(resolve_font(app.settings.render.font_file, need_hangul=True).path)
    except TrendreelError as exc:
        family = None
        warns.append(f"Hangul may show as boxes in the chart: {exc}")
    with warnings.catch_warnings(), plots.plt.rc_context(plots.style(family)):
        warnings.simplefilter("ignore", UserWarning)  # a missing glyph is reported once, above
        return plots.views_over_time(series, title), warns
