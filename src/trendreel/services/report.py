"""`trendreel report`: an HTML report with plots and two CSV exports, computed from the RDB alone.

Files written to `out_dir` (each to a temporary name first, then renamed, so a reader never sees half):

- report.html: self-contained (inline CSS and SVG), opens offline;
- samples.csv: one row per metric sample with what the video was made from and where it went;
- publications.csv: one row per publication with its latest counts and the trends live at upload.

The CSVs are UTF-8 with a byte-order mark, so spreadsheet programs read Hangul right. Histories
imported from other channels are counted, never shown: the figures are about our own publications.
"""

from __future__ import annotations

import csv
import logging
import os
import warnings
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from trendreel.bootstrap import App
from trendreel.db.tables import utcnow
from trendreel.errors import ConfigError, TrendreelError
from trendreel.render.fonts import resolve_font
from trendreel.report.data import (
    PublicationFacts,
    count_imported,
    load_publications,
    load_series,
    stream_samples,
)
from trendreel.report.html import page

log = logging.getLogger(__name__)

__all__ = ["build_report"]

SAMPLE_COLUMNS = ["publication_id", "video_id", "story_id", "trend_id", "trend", "category", "platform", "account",
                  "published_at", "collected_at", "hours_since_published", "views", "likes", "comments", "status"]
PUBLICATION_COLUMNS = ["publication_id", "video_id", "story_id", "title", "lang", "trend_id", "trend", "category",
                       "platform", "account", "url", "published_at", "published_weekday", "published_hour", "samples",
                       "first_collected_at", "last_collected_at", "views", "likes", "comments", "status",
                       "trends_at_upload"]
TABLE_ROWS = 1000
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
    """Write report.html, samples.csv and publications.csv into out_dir (default <home>/report); what was written."""
    settings = app.settings.metrics
    out = Path(out_dir).expanduser().absolute() if out_dir else app.settings.home / "report"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the report folder {out}: {exc}; give another with --out DIR") from exc
    zone = ZoneInfo(settings.report_timezone)
    generated = (now or utcnow()).astimezone(zone)
    html_path, samples_path, pubs_path = out / "report.html", out / "samples.csv", out / "publications.csv"

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

    figures, warns = _figures(app, ordered, top_videos, series, zone) if ordered else ([], [])
    known = [p for p in ordered if p.views is not None]
    totals = [("게시 · publications", f"{len(ordered):,}"), ("표본 · samples", f"{n_samples:,}"),
              ("조회수 합계 · total views", f"{sum(p.views for p in known):,}"),
              ("계정 · accounts", f"{len({p.account for p in ordered}):,}")]
    if len(known) < len(ordered):
        totals.append(("조회수 모름 · views unknown", f"{len(ordered) - len(known):,}"))
    notes = []
    if imported:
        notes.append(f"가져온 이력 · {imported:,} histories imported from other channels (trendreel metrics import) "
                     "are left out of every figure about publications: they only teach the models.")
    # The table lists the newest publications (all of them are in publications.csv), so the page stays light.
    newest = ordered[::-1][:TABLE_ROWS]
    rows = [{"id": p.id, "title": p.title, "trend": p.trend, "url": p.url, "account": p.account,
             "published": p.published_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), "views": p.views, "likes": p.likes,
             "comments": p.comments, "trends_at_upload": p.trends_at_upload} for p in newest]
    html = page(generated_at=generated.strftime("%Y-%m-%d %H:%M %Z"), zone=settings.report_timezone, totals=totals,
                figures=figures, table_rows=rows, table_total=len(ordered), csv_files={"samples": samples_path.name, "publications": pubs_path.name},
                warnings=warns, notes=notes)
    with _AtomicFile(html_path, encoding="utf-8") as fh:
        fh.write(html)
    return {"out_dir": str(out), "html": str(html_path), "csv": {"samples": str(samples_path), "publications": str(pubs_path)},
            "publications": len(ordered), "samples": n_samples, "views_unknown": len(ordered) - len(known),
            "total_views": sum(p.views for p in known), "imported_histories": imported, "figures": [f["id"] for f in figures], "warnings": warns}


def _figures(app: App, pubs: list[PublicationFacts], top_videos: list[PublicationFacts], series: dict, zone: ZoneInfo):
    from trendreel.report import plots  # matplotlib: only when a report is drawn

    settings = app.settings.metrics
    family, warns = _font(app)
    top = settings.report_top_trends
    figures = []
    with warnings.catch_warnings(record=True) as caught, plots.plt.rc_context(plots.style(family)):
        warnings.simplefilter("always")
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
    for text in dict.fromkeys(str(w.message) for w in caught):
        if "missing from font" in text or "Glyph" in text:
            warns.append(f"a plot has characters its font cannot draw: {text}")
        log.warning("report: %s", text)
    return figures, warns
