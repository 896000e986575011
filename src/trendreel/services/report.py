"""`trendreel report`: an HTML report with plots and CSV exports of our own publications, computed from
the RDB, and what the learning loop makes of them.

Files written to `out_dir` (each to a temporary name first, then renamed, so a reader never sees half):

- report.html: self-contained (inline CSS and SVG), opens offline;
- samples.csv: one row per metric sample with what the video was made from and where it went;
- publications.csv: one row per publication with its latest counts and the trends live at upload;
- forecasts.csv: one row per publication with samples: what the latest stored models predicted
  (from metadata, and from its first count to its latest) beside what happened.

The CSVs are UTF-8 with a byte-order mark, so spreadsheet programs read Hangul right. Histories
imported from other channels are counted, never shown: the figures are about our own publications.
The learning sections read the stored models from the file store (never fitted here); without one
they say how to fit one.
"""

from __future__ import annotations

import csv
import logging
import os
import warnings
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from contextlib import contextmanager
from dataclasses import dataclass, field

from trendreel.bootstrap import App
from trendreel.db.tables import utcnow
from trendreel.errors import ConfigError, TrendreelError
from trendreel.learn.rows import load_histories
from trendreel.render.fonts import resolve_font
from trendreel.report.data import (
    PublicationFacts,
    count_imported,
    load_publications,
    load_series,
    stream_samples,
)
from trendreel.report.html import page, table
from trendreel.report.learning import ForecastRow, forecast_scores, predict_publications, top_effects
from trendreel.services.learning import compare_decisions, list_models

log = logging.getLogger(__name__)

__all__ = ["build_report"]

SAMPLE_COLUMNS = ["publication_id", "video_id", "story_id", "trend_id", "trend", "category", "platform", "account",
                  "published_at", "collected_at", "hours_since_published", "views", "likes", "comments", "status"]
PUBLICATION_COLUMNS = ["publication_id", "video_id", "story_id", "title", "lang", "trend_id", "trend", "category",
                       "platform", "account", "url", "published_at", "published_weekday", "published_hour", "samples",
                       "first_collected_at", "last_collected_at", "views", "likes", "comments", "status",
                       "trends_at_upload"]
FORECAST_COLUMNS = ["publication_id", "title", "account", "published_at", "samples", "first_collected_at", "first_views",
                    "last_collected_at", "last_views", "cold_start_model", "cold_start_target", "cold_start_actual",
                    "cold_start_views", "account_mean_views", "cold_start_trained_on_it", "forecaster_model",
                    "forecaster_views", "growth_baseline_views", "forecaster_trained_on_it"]
TABLE_ROWS = 1000
TOP_EFFECTS = 12
WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _cell(value) -> str:
    return "" if value is None else str(value)


class _AtomicFile:
    """A text file written under a temporary name and renamed into place on success."""

    def __init__(self, path: Path, **kwargs):
        self.path, self.tmp = path, path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.kwargs = kwargs

    def __enter__(self):
        self.fh = open(self.tmp, "w", **self.kwargs)
        return self.fh

    def __exit__(self, exc_type, *rest):
        self.fh.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def _font(app: App) -> tuple[str | None, list[str]]:
    """The plot font's family (NanumGothic by default) and warnings when no Hangul font was found."""
    # matplotlib: only when a report is drawn
    from trendreel.report.plots import font_family

    try:
        info = resolve_font(app.settings.render.font_file, need_hangul=True)
        if info.bold_path is not None:
            font_family(info.bold_path)
        return font_family(info.path), []
    except TrendreelError as exc:
        try:
            fallback = font_family(resolve_font(app.settings.render.font_file).path)
        except TrendreelError:
            fallback = None
        return fallback, [f"Hangul may show as boxes in the plots: {exc}"]


def _group(pubs: list[PublicationFacts], key, top: int) -> tuple[list[tuple[str, float, int]], int]:
    """Sum of latest views per key (publications with unknown views left out), most first; and how many were left out."""
    total: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    unknown = 0
    for p in pubs:
        if p.views is None:
            unknown += 1
            continue
        k = key(p) or "-"
        total[k] += p.views
        count[k] += 1
    rows = sorted(((k, float(v), count[k]) for k, v in total.items()), key=lambda r: (-r[1], r[0]))
    return rows[:top], unknown


def _means(pubs: list[PublicationFacts], slot, n: int) -> list[tuple[float | None, int]]:
    sums, counts = [0] * n, [0] * n
    for p in pubs:
        if p.views is not None:
            i = slot(p)
            sums[i] += p.views
            counts[i] += 1
    return [(sums[i] / counts[i] if counts[i] else None, counts[i]) for i in range(n)]


def build_report(app: App, *, out_dir: Path | str | None = None, now: datetime | None = None) -> dict:
    """Write report.html and the CSVs (samples, publications, forecasts) into out_dir (default
    <home>/report); what was written."""
    settings = app.settings.metrics
    out = Path(out_dir).expanduser().absolute() if out_dir else app.settings.home / "report"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the report folder {out}: {exc}; give another with --out DIR") from exc
    zone = ZoneInfo(settings.report_timezone)
    generated = (now or utcnow()).astimezone(zone)
    html_path, samples_path, pubs_path = out / "report.html", out / "samples.csv", out / "publications.csv"
    forecasts_path = out / "forecasts.csv"

    with app.db.session() as s:
        pubs = load_publications(s)
        imported = count_imported(s)
        n_samples = 0
        with _AtomicFile(samples_path, encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(SAMPLE_COLUMNS)
            for row in stream_samples(s):
                p = pubs.get(row.publication_id)
                if p is None:  # a publication no longer done (e.g. re-published after an error)
                    continue
                n_samples += 1
                if p.samples == 0:
                    p.first_collected_at = row.collected_at
                p.samples += 1
                p.last_collected_at = row.collected_at
                status = (row.raw or {}).get("status", "ok")
                # The latest known count of each: a later poll that could not read one does not erase it.
                p.views = row.views if row.views is not None else p.views
                p.likes = row.likes if row.likes is not None else p.likes
                p.comments = row.comments if row.comments is not None else p.comments
                p.status = status
                hours = (row.collected_at - p.published_at).total_seconds() / 3600
                writer.writerow([p.id, p.video_id, _cell(p.story_id), _cell(p.trend_id), _cell(p.trend), _cell(p.category),
                                 p.platform, p.account, _iso(p.published_at), _iso(row.collected_at), f"{hours:.2f}",
                                 _cell(row.views), _cell(row.likes), _cell(row.comments), status])
        ordered = list(pubs.values())
        top_videos = sorted((p for p in ordered if p.views is not None), key=lambda p: (-p.views, p.id))[:settings.report_top_videos]
        series = load_series(s, [p.id for p in top_videos])

    with _AtomicFile(pubs_path, encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PUBLICATION_COLUMNS)
        for p in ordered:
            local = p.published_at.astimezone(zone)
            writer.writerow([p.id, p.video_id, _cell(p.story_id), p.title, _cell(p.lang), _cell(p.trend_id), _cell(p.trend),
                             _cell(p.category), p.platform, p.account, _cell(p.url), _iso(p.published_at),
                             WEEKDAY_NAMES[local.weekday()], local.hour, p.samples, _iso(p.first_collected_at),
                             _iso(p.last_collected_at), _cell(p.views), _cell(p.likes), _cell(p.comments), _cell(p.status),
                             " | ".join(f"{t['rank']}. {t['text']}" for t in p.trends_at_upload)])

    learning = _learning(app, ordered, imported)
    _write_forecasts(forecasts_path, learning, pubs)
    figures, warns = _figures(app, ordered, top_videos, series, zone, learning)
    known = [p for p in ordered if p.views is not None]
    totals = [("게시 · publications", f"{len(ordered):,}"), ("표본 · samples", f"{n_samples:,}"),
              ("조회수 합계 · total views", f"{sum(p.views for p in known):,}"),
              ("계정 · accounts", f"{len({p.account for p in ordered}):,}")]
    if len(known) < len(ordered):
        totals.append(("조회수 모름 · views unknown", f"{len(ordered) - len(known):,}"))
    notes = []
    if imported:
        notes.append(f"가져온 이력 · {imported:,} histories imported from other channels (trendreel metrics import) "
                     "are left out of every figure about publications: they only teach the models (see the models below).")
    # The table lists the newest publications (all of them are in publications.csv), so the page stays light.
    newest = ordered[::-1][:TABLE_ROWS]
    rows = [{"id": p.id, "title": p.title, "trend": p.trend, "url": p.url, "account": p.account,
             "published": p.published_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), "views": p.views, "likes": p.likes,
             "comments": p.comments, "trends_at_upload": p.trends_at_upload} for p in newest]
    csv_files = {"samples": samples_path.name, "publications": pubs_path.name, "forecasts": forecasts_path.name}
    html = page(generated_at=generated.strftime("%Y-%m-%d %H:%M %Z"), zone=settings.report_timezone, totals=totals,
                figures=figures, table_rows=rows, table_total=len(ordered), csv_files=csv_files, warnings=warns, notes=notes)
    with _AtomicFile(html_path, encoding="utf-8") as fh:
        fh.write(html)
    return {"out_dir": str(out), "html": str(html_path),
            "csv": {"samples": str(samples_path), "publications": str(pubs_path), "forecasts": str(forecasts_path)},
            "publications": len(ordered), "samples": n_samples, "views_unknown": len(ordered) - len(known),
            "total_views": sum(p.views for p in known), "imported_histories": imported,
            "forecasts": len(learning.forecasts), "figures": [f["id"] for f in figures], "warnings": warns}


# ---- the learning loop's part: stored models, their forecasts, the arms ---------------------------------

@dataclass
class _Model:
    row: dict  # list_models' dict: id, kind, version, created_at, trained_until, n_train, evaluation
    model: object | None = None
    problem: str | None = None  # why it could not be loaded


@dataclass
class _Learning:
    imported: int
    models: dict[str, _Model] = field(default_factory=dict)  # the newest of each kind
    forecasts: list[ForecastRow] = field(default_factory=list)
    scores: list[dict] = field(default_factory=list)
    effects: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    arms: dict = field(default_factory=dict)


def _learning(app: App, pubs: list[PublicationFacts], imported: int) -> _Learning:
    """The newest stored model of each kind, loaded (never fitted here), its forecasts of our
    publications with samples, its feature effects, and the arms of the recorded choices."""
    out = _Learning(imported=imported)
    for row in list_models(app):  # newest first
        if row["kind"] in out.models:
            continue
        entry = out.models[row["kind"]] = _Model(row)
        try:
            entry.model = app.views_model().load(app.files.get(row["path"]))
        except (TrendreelError, ValueError, OSError) as exc:
            entry.problem = f"the {row['kind']} model {row['id']} cannot be loaded: {exc}"
            log.warning("report: %s", entry.problem)
            continue
        out.effects[row["kind"]] = top_effects(entry.model.describe(), TOP_EFFECTS)
    loaded = {kind: m for kind, m in out.models.items() if m.model is not None}
    ours = [p.id for p in pubs if p.views is not None]
    if loaded and ours:
        histories = load_histories(app.db, publication_ids=ours)
        cold, fore = loaded.get("cold_start"), loaded.get("forecaster")
        out.forecasts = predict_publications(
            histories,
            cold_start=cold.model if cold else None, cold_start_trained_until=_time(cold.row["trained_until"]) if cold else None,
            forecaster=fore.model if fore else None, forecaster_trained_until=_time(fore.row["trained_until"]) if fore else None)
        out.scores = forecast_scores(out.forecasts)
    out.arms = compare_decisions(app)
    return out


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    when = datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _write_forecasts(path: Path, learning: _Learning, pubs: dict[str, PublicationFacts]) -> None:
    cold, fore = learning.models.get("cold_start"), learning.models.get("forecaster")
    target = getattr(cold.model, "target", "") if cold and cold.model is not None else ""
    with _AtomicFile(path, encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(FORECAST_COLUMNS)
        for r in learning.forecasts:
            p = pubs[r.publication_id]
            writer.writerow([r.publication_id, p.title, p.account, _iso(p.published_at), r.samples, _iso(r.first_at),
                             r.first_views, _iso(r.last_at), r.last_views,
                             cold.row["id"] if r.cold_start is not None else "", target if r.cold_start is not None else "",
                             _cell(r.cold_start_actual), _round(r.cold_start), _round(r.account_mean),
                             _cell(r.cold_start_in_training),
                             fore.row["id"] if r.forecaster is not None else "", _round(r.forecaster),
                             _round(r.growth_baseline), _cell(r.forecaster_in_training)])


def _round(value: float | None) -> str:
    return "" if value is None else str(round(value))


# ---- drawing --------------------------------------------------------------------------------------

@contextmanager
def _plotting(app: App, warns: list[str]):
    """The plots module with the report's font and style; matplotlib's warnings become the report's."""
    from trendreel.report import plots  # matplotlib: only when a report is drawn

    family, font_warns = _font(app)
    warns += font_warns
    with warnings.catch_warnings(record=True) as caught, plots.plt.rc_context(plots.style(family)):
        warnings.simplefilter("always")
        yield plots
    for text in dict.fromkeys(str(w.message) for w in caught):
        if "missing from font" in text or "Glyph" in text:
            warns.append(f"a plot has characters its font cannot draw: {text}")
        log.warning("report: %s", text)


def _figures(app: App, pubs: list[PublicationFacts], top_videos: list[PublicationFacts], series: dict, zone: ZoneInfo,
             learning: _Learning) -> tuple[list[dict], list[str]]:
    warns: list[str] = []
    drawable = bool(pubs or learning.effects or learning.forecasts or _arms_comparable(learning.arms))
    if not drawable:  # an empty home: notes only, and matplotlib is never imported
        return _learning_figures(None, learning), warns
    with _plotting(app, warns) as plots:
        figures = _publication_figures(app, plots, pubs, top_videos, series, zone) if pubs else []
        figures += _learning_figures(plots, learning)
    return figures, warns


def _publication_figures(app: App, plots, pubs: list[PublicationFacts], top_videos: list[PublicationFacts], series: dict,
                         zone: ZoneInfo) -> list[dict]:
    settings = app.settings.metrics
    top = settings.report_top_trends
    figures = []
    lines = [(f"{p.title} · {p.account}", p.published_at, series.get(p.id, [])) for p in top_videos]
    shown = len(top_videos)
    note = (f"조회수 상위 {shown}개 영상 · the {shown} most viewed videos (all of them are in samples.csv); "
            "x: days since published") if shown else (
            "아직 조회수가 없습니다 · no view counts yet: run `trendreel metrics collect`; a folder publication "
            "needs a stats.json beside its video (docs/metrics.md)")
    # A figure without a known count is its note alone: empty axes say nothing.
    figures.append({"id": "views_over_time", "title": "영상별 조회수 추이 · Views over time per video", "note": note,
                    "svg": plots.views_over_time(lines, "영상별 조회수 추이 · Views over time") if shown else None})
    groups = [
        ("views_by_trend", "트렌드별 조회수 · Views by trend", lambda p: p.trend),
        ("views_by_category", "카테고리별 조회수 · Views by category", lambda p: p.category),
        ("views_by_platform", "플랫폼별 조회수 · Views by platform", lambda p: p.platform),
        ("views_by_account", "계정별 조회수 · Views by account", lambda p: p.account),
    ]
    for fid, title, key in groups:
        rows, unknown = _group(pubs, key, top)
        note = "각 영상의 최신 조회수 합계, 괄호 안은 영상 수 · sum of each video's latest views, (n) videos"
        if unknown:
            note += f"; {unknown} with unknown views left out"
        figures.append({"id": fid, "title": title, "note": note, "svg": plots.bars(rows, title) if rows else None})
    by_weekday = _means(pubs, lambda p: p.published_at.astimezone(zone).weekday(), 7)
    by_hour = _means(pubs, lambda p: p.published_at.astimezone(zone).hour, 24)
    title = "게시 요일·시각별 조회수 · Views by weekday and hour of publishing"
    figures.append({"id": "views_by_weekday_hour", "title": title,
                    "note": f"영상당 평균 최신 조회수, 막대 위 숫자는 영상 수 · mean latest views per video, number on "
                            f"a bar = videos; time zone {settings.report_timezone}",
                    "svg": plots.weekday_hour(by_weekday, by_hour, title, settings.report_timezone)
                    if any(n for _mean, n in by_weekday) else None})
    return figures


MODEL_NAMES = {"cold_start": "from metadata (cold start)", "forecaster": "from the first counts (forecaster)"}
FIT_HINT = ("No model is fitted yet: run `trendreel learn fit` (it needs learn.min_histories histories with samples; "
            "`trendreel metrics import FILE.jsonl` brings in other channels' histories to learn from).")
FIT_HINT_SHORT = "No model is fitted yet: run `trendreel learn fit` (see the models above)."


def _views(value: float | None) -> str:
    return "—" if value is None else f"{round(value):,}"


def _compact(views: float) -> str:
    """Views for an interval's end, which a few videos can send to absurd sizes: 1,234 / 5.6M / 78B."""
    views = max(views, 1.0)  # a geometric mean of view counts (0 counted as 1) is never below 1
    if views >= 1e12:
        return ">1,000B"
    for size, suffix in ((1e9, "B"), (1e6, "M")):
        if views >= size:
            return f"{views / size:,.3g}{suffix}"
    return f"{round(views):,}"


def _ratio(value: float) -> str:
    if value < 0.01:
        return "<0.01×"
    if value >= 1000:
        return ">1,000×"
    return f"{value:.2f}×"


def _figure(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _arms_comparable(arms: dict) -> bool:
    return all((arms.get(arm) or {}).get("n", 0) >= 2 for arm in ("ranked", "explore"))


def _learning_figures(plots, learning: _Learning) -> list[dict]:
    """The learning loop's sections; `plots` is None when nothing is to be drawn."""
    return [_models_section(learning), _forecast_section(plots, learning), _effects_section(plots, learning),
            _arms_section(plots, learning.arms)]


def _models_section(learning: _Learning) -> dict:
    title = "학습된 모델 · The models"
    if not learning.models:
        note = FIT_HINT + (f" {learning.imported:,} imported histories are stored." if learning.imported else "")
        return {"id": "models", "title": title, "note": note, "svg": None}
    rows = []
    for kind in ("cold_start", "forecaster"):
        entry = learning.models.get(kind)
        if entry is None:
            continue
        r, ev = entry.row, entry.row["evaluation"]
        figures = ev.get("figures") or {}
        ours, base = figures.get("ours") or {}, figures.get("baseline") or {}
        n_imported = ev.get("n_imported")
        rows.append([MODEL_NAMES.get(kind, kind), f"v{r['version']}", (r["created_at"] or "")[:16].replace("T", " "),
                     f"{r['n_train']:,}", "—" if n_imported is None else f"{n_imported:,}",
                     f"{r['n_train'] - n_imported:,}" if n_imported is not None else "—",
                     (r["trained_until"] or "")[:10], _cell(ours.get("n")),
                     f"{_figure(ours.get('mse_log10'), 4)} / {_figure(base.get('mse_log10'), 4)}",
                     f"{_figure(ours.get('spearman'))} / {_figure(base.get('spearman'))}"])
    problems = [m.problem for m in learning.models.values() if m.problem]
    note = ("The newest stored model of each kind, as `trendreel learn fit` left it. The held-out figures were "
            "computed when it was fitted: fitted on the oldest share of histories (by first count), scored on the "
            "rest, beside the plain baseline (MSE of log10 views, lower is better; Spearman, higher is better). "
            f"{learning.imported:,} histories imported from other channels are stored.")
    html = table(["model", "version", "fitted (UTC)", "histories", "imported", "ours", "data until", "held-out n",
                  "MSE model / baseline", "Spearman model / baseline"], rows, numeric={3, 4, 5, 7, 8, 9})
    if problems:
        note += " ⚠ " + " ".join(problems)
    return {"id": "models", "title": title, "note": note, "svg": None, "html": html}


def _forecast_section(plots, learning: _Learning) -> dict:
    title = "예측과 실제 · Forecast vs actual per publication"
    loaded = {k: m for k, m in learning.models.items() if m.model is not None}
    if not loaded:
        return {"id": "forecast_vs_actual", "title": title, "svg": None,
                "note": FIT_HINT_SHORT if not learning.models else "The stored models could not be loaded (see above)."}
    rows = learning.forecasts
    if not rows:
        return {"id": "forecast_vs_actual", "title": title, "svg": None,
                "note": "None of our publications has a view count yet: forecasts are compared once "
                        "`trendreel metrics collect` has counted them."}
    cold = loaded.get("cold_start")
    target = getattr(cold.model, "target", "first") if cold else "last"
    what = {"first": "its first count", "last": "its latest count"}[target]
    series = []
    if any(r.cold_start is not None for r in rows):
        series.append(("from metadata (cold start)", plots.PALETTE[0],
                       [(r.cold_start_actual, r.cold_start, bool(r.cold_start_in_training)) for r in rows
                        if r.cold_start is not None]))
    if any(r.forecaster is not None for r in rows):
        series.append(("from the first count (forecaster)", plots.PALETTE[1],
                       [(r.last_views, r.forecaster, bool(r.forecaster_in_training)) for r in rows
                        if r.forecaster is not None]))
    svg = plots.forecast_scatter(series, "예측 vs 실제 · predicted vs actual views") if series and plots else None
    trained_on = sum(1 for r in rows if r.cold_start_in_training or r.forecaster_in_training)
    note = (f"{len(rows):,} of our publications with a view count. From metadata: the cold-start model's views for "
            f"{what}, from what was known before publishing. From the first count: the forecaster's views at the "
            "latest count, from the first count alone (publications with one count have nothing to forecast). "
            "Every figure is from the stored models; nothing is refitted.")
    if trained_on:
        note += (f" {trained_on:,} of these were among the models' training histories (hollow points, * in the "
                 "table): their forecasts are in-sample and flatter the models; the 'new' columns leave them out.")
    score_rows = [[s["task"], s["predictor"], s["all"]["n"], _figure(s["all"]["mse_log10"]),
                   _figure(s["all"]["spearman"], 2), s["new"]["n"], _figure(s["new"]["mse_log10"]),
                   _figure(s["new"]["spearman"], 2)] for s in learning.scores]
    html = table(["forecast", "predictor", "n", "MSE log10", "Spearman", "n new", "MSE log10 new", "Spearman new"],
                 score_rows, numeric={2, 3, 4, 5, 6, 7}, css="compact")
    html += ('<p class="note">MSE of log10 views: 0.01 is about ±26 % off, 0.1 about ×2 off. Spearman needs '
             "3 publications or more.</p>")

    def predicted(value: float | None, in_training: bool | None) -> str | tuple[str, str]:
        return (_views(value) + " *", "muted") if value is not None and in_training else _views(value)

    newest = sorted(rows, key=lambda r: (r.published_at or r.first_at), reverse=True)[:TABLE_ROWS]
    table_rows = [[_short_title(r.title), r.account, r.samples, _views(r.first_views), _views(r.last_views),
                   predicted(r.cold_start, r.cold_start_in_training), _views(r.account_mean),
                   predicted(r.forecaster, r.forecaster_in_training), _views(r.growth_baseline)] for r in newest]
    html += table(["video", "account", "counts", "first count", "latest views", f"from metadata ({target} count)",
                   "baseline: account's mean", "from the first count", "baseline: log-linear growth"], table_rows,
                  numeric={2, 3, 4, 5, 6, 7, 8})
    if len(rows) > len(newest):
        html += f'<p class="note">The newest {len(newest):,} of {len(rows):,}; all of them are in forecasts.csv.</p>'
    return {"id": "forecast_vs_actual", "title": title, "note": note, "svg": svg, "html": html}


def _short_title(text: str | None, n: int = 60) -> str:
    text = " ".join((text or "-").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _effects_section(plots, learning: _Learning) -> dict:
    title = "무엇이 조회수를 움직이나 · What drives views"
    if not learning.effects:
        return {"id": "feature_effects", "title": title, "svg": None,
                "note": FIT_HINT_SHORT if not learning.models else "No stored model could be loaded (see above)."}
    svgs = []
    if learning.effects.get("cold_start") and plots:
        svgs.append(plots.effects(learning.effects["cold_start"], "예측 전 · from metadata (cold start)",
                                  "effect on log10 views per standard deviation (+0.1 ≈ 1.26× views)"))
    if learning.effects.get("forecaster") and plots:
        svgs.append(plots.effects(learning.effects["forecaster"], "첫 집계 후 · from the first count (forecaster)",
                                  "effect on the growth multiplier per standard deviation (+0.1 = 10 % more growth than usual)"))
    note = (f"The {TOP_EFFECTS} largest effects of each stored model: how much its prediction moves when a feature "
            "is one standard deviation higher (in its training data), the others held fixed. These are "
            "associations, not causes: a channel's usual views predict a video's views, but a feature may stand "
            "in for something the model does not see. The title's text embedding is a block of its own and is "
            "not shown.")
    return {"id": "feature_effects", "title": title, "note": note, "svg": "".join(svgs) or None}


def _arms_section(plots, arms: dict) -> dict:
    title = "순위 선택 vs 탐색 · Ranked vs explore choices"
    decisions = arms.get("decisions", 0)
    if not decisions:
        return {"id": "arms", "title": title, "svg": None,
                "note": "No trend choice is recorded yet: the pipeline records one each time it picks trends to make "
                        "stories of (learn.policy), and the arms are compared here once those videos have views."}
    level = round(100 * arms.get("level", 0.95))
    rows = []
    for arm in ("ranked", "explore"):
        a = arms.get(arm) or {}
        mean, ci = a.get("mean_log10"), a.get("ci")
        rows.append([arm, a.get("n", 0), _figure(mean), _views(10 ** mean if mean is not None else None),
                     f"{_compact(10 ** ci[0])} – {_compact(10 ** ci[1])}" if ci else "—"])
    diff = arms.get("difference") or {}
    d, dci = diff.get("mean_log10"), diff.get("ci")
    rows.append(["ranked − explore", "", _figure(d), _ratio(diff["views_ratio"]) if diff.get("views_ratio") else "—",
                 f"{_ratio(10 ** dci[0])} – {_ratio(10 ** dci[1])}" if dci else "—"])
    html = table(["arm", "videos with views", "mean log10 views", "geometric mean views", f"{level} % interval"], rows,
                 numeric={1, 2, 3, 4}, css="compact")
    note = (f"{decisions:,} recorded choices; each published video made from a chosen trend counts once, by its "
            f"latest views ({arms.get('skipped_unknown', 0):,} without views yet). Ranked: what the model would have "
            "chosen anyway; explore: a choice made to learn. Under epsilon, ranked − explore is what following the "
            "model gains over choosing at random; under Thompson, what exploring costs per choice.")
    if dci:
        note += (f" The difference's {level} % interval includes 1×: these videos show no difference between the arms "
                 "yet." if dci[0] <= 0 <= dci[1] else
                 f" The difference's {level} % interval excludes 1×: the {'ranked' if d > 0 else 'explored'} choices "
                 "got more views.")
    svg = None
    if not _arms_comparable(arms):
        note += (" Too few decided-and-published videos to compare yet: an interval needs at least 2 videos with "
                 f"views in each arm (ranked {arms['ranked']['n']}, explore {arms['explore']['n']}).")
    elif plots:
        points = [(arm, 10 ** arms[arm]["mean_log10"],
                   (10 ** arms[arm]["ci"][0], 10 ** arms[arm]["ci"][1]), arms[arm]["n"]) for arm in ("ranked", "explore")]
        svg = plots.arms(points, (10 ** d, (10 ** dci[0], 10 ** dci[1]) if dci else None),
                         f"선택별 조회수 · views by arm ({level} % intervals)")
    return {"id": "arms", "title": title, "note": note, "svg": svg, "html": html}
