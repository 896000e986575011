"""The report's figures: matplotlib (Agg, no display) drawn to SVG strings that are embedded inline.

Text is drawn as paths, so a figure looks the same in any browser with no font installed; the face
is NanumGothic (or render.font_file), found as the renderer finds it, so Hangul titles and labels
never show as empty boxes. The SVG ids and metadata are fixed, so the same numbers give the same bytes.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#ea580c", "#4f46e5"]
WEEKDAYS = ["월\nMon", "화\nTue", "수\nWed", "목\nThu", "금\nFri", "토\nSat", "일\nSun"]


def font_family(path) -> str:
    """Register a font file with matplotlib; its family name."""
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def style(family: str | None) -> dict:
    rc = {"svg.fonttype": "path", "svg.hashsalt": "trendreel", "axes.unicode_minus": False, "font.size": 9,
          "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 11, "axes.titleweight": "normal"}
    if family:
        rc["font.family"] = [family, "DejaVu Sans"]
    return rc


def to_svg(fig, css: str = "plot") -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)  # RDF boilerplate
    # matplotlib writes a fixed size in pt: keep the aspect ratio, let the page scale it.
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', rf'<svg\1 class="{css}"', svg, count=1)


def short(text: str | None, n: int = 38) -> str:
    text = " ".join((text or "-").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def views_over_time(series: list[tuple[str, datetime, list[tuple[datetime, int]]]], title: str) -> str:
    """One line per video: views against days since it was published."""
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for i, (label, published_at, points) in enumerate(series):
        xs = [(at - published_at).total_seconds() / 86400 for at, _ in points]
        ys = [v for _, v in points]
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.4, color=PALETTE[i % len(PALETTE)],
                linestyle="-" if i < len(PALETTE) else "--", label=short(label, 34))
    ax.set_title(title)
    ax.set_xlabel("게시 후 일수 · days since published")
    ax.set_ylabel("조회수 · views")
    ax.grid(alpha=0.3)
    ax.ticklabel_format(axis="y", style="plain")
    # From publishing and from 0 views: one early count alone would otherwise get an axis of 1e-5 offsets.
    # A little room left of 0 and above the top, so a point at a limit is not drawn on the axis.
    days = [(at - published_at).total_seconds() / 86400 for _, published_at, points in series for at, _ in points]
    right = max(max(days, default=1.0) * 1.05, 0.1)
    ax.set_xlim(-0.02 * right, right)
    ax.set_ylim(0, max((v for _, _, points in series for _, v in points), default=1) * 1.08 or 1)
    ax.ticklabel_format(axis="x", useOffset=False)
    if series:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return to_svg(fig)


def bars(rows: list[tuple[str, float, int]], title: str, xlabel: str = "조회수 · views") -> str:
    """Horizontal bars, largest on top: (label, value, publications)."""
    fig, ax = plt.subplots(figsize=(9, max(1.6, 0.34 * len(rows) + 0.9)))
    labels = [f"{short(label)} ({n})" for label, _, n in rows][::-1]
    values = [v for _, v, _ in rows][::-1]
    ax.barh(range(len(rows)), values, color=PALETTE[0], height=0.6)
    ax.set_yticks(range(len(rows)), labels)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:,.0f}", va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.ticklabel_format(axis="x", style="plain")
    ax.margins(x=0.15)
    return to_svg(fig)


def weekday_hour(by_weekday: list[tuple[float | None, int]], by_hour: list[tuple[float | None, int]], title: str,
                 zone: str) -> str:
    """Mean views by weekday and by hour of publishing: (mean or None, publications) per slot."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1, 2.4]})
    for ax, rows, labels, xlabel in ((left, by_weekday, WEEKDAYS, "요일 · weekday"),
                                     (right, by_hour, [str(h) for h in range(24)], f"시각 · hour ({zone})")):
        values = [m or 0 for m, _ in rows]
        ax.bar(range(len(rows)), values, color=PALETTE[0], width=0.7)
        ax.set_xticks(range(len(rows)), labels, fontsize=7, rotation=0)
        for x, (m, n) in enumerate(rows):
            if n:
                ax.text(x, m or 0, str(n), ha="center", va="bottom", fontsize=6, color="#555")
        ax.set_xlabel(xlabel)
        ax.ticklabel_format(axis="y", style="plain")
    left.set_ylabel("평균 조회수 · mean views")
    fig.suptitle(title, fontsize=11)
    return to_svg(fig)


def _views_label(value: float, _pos=None) -> str:
    """A tick of a log axis of views: 1, 10, 100, 1k, 10k, 1M ..."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def forecast_scatter(series: list[tuple[str, str, list[tuple[float, float, bool]]]], title: str) -> str:
    """Predicted against actual views on log axes, the diagonal drawn: (label, colour, [(actual,
    predicted, in training)]) per predictor; a point the model trained on is drawn hollow."""
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    values = [v for _, _, points in series for a, p, _ in points for v in (a, p)]
    low, high = max(min(values, default=1.0), 1.0) / 2, max(max(values, default=10.0), 10.0) * 2
    ax.plot([low, high], [low, high], color="#9ca3af", linewidth=1, linestyle="--", label="예측 = 실제 · predicted = actual")
    for label, colour, points in series:
        for in_training, face, suffix in ((False, colour, ""), (True, "none", " (학습에 쓰임 · trained on)")):
            chosen = [(max(a, 1.0), max(p, 1.0)) for a, p, t in points if t == in_training]
            if chosen:
                ax.scatter([a for a, _ in chosen], [p for _, p in chosen], s=28, facecolors=face, edgecolors=colour,
                           linewidths=1.2, label=label + suffix, zorder=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_aspect("equal")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(_views_label))
    ax.set_xlabel("실제 조회수 · actual views")
    ax.set_ylabel("예측 조회수 · predicted views")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), frameon=False, ncol=2)
    return to_svg(fig, css="plot square")


def effects(rows: list[tuple[str, float]], title: str, xlabel: str) -> str:
    """Signed horizontal bars, largest effect on top: (label, effect per standard deviation)."""
    fig, ax = plt.subplots(figsize=(8, max(1.8, 0.32 * len(rows) + 1.0)))
    labels = [short(label, 44) for label, _ in rows][::-1]
    values = [v for _, v in rows][::-1]
    ax.barh(range(len(rows)), values, color=[PALETTE[2] if v >= 0 else PALETTE[1] for v in values], height=0.6)
    ax.set_yticks(range(len(rows)), labels)
    ax.axvline(0, color="#374151", linewidth=0.8)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:+.3f} " if v >= 0 else f" {v:+.3f} ", va="center", ha="left" if v >= 0 else "right", fontsize=7)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.margins(x=0.22)
    ax.grid(alpha=0.3, axis="x")
    return to_svg(fig)


def _interval(ax, y: float, value: float, ci: tuple[float, float] | None, lo: float, hi: float, colour: str,
              marker: str) -> None:
    """A point with its interval on a log axis cut to [lo, hi]; an end past the cut is an arrow head,
    so a few videos' huge interval does not squash the axis into decades of nothing."""
    ax.plot([value], [y], marker, color=colour, markersize=6, zorder=3)
    if ci is None:
        return
    left, right = max(ci[0], lo), min(ci[1], hi)
    ax.plot([left, right], [y, y], color=colour, linewidth=1.6)
    for end, cut, head in ((left, ci[0] < lo, "<"), (right, ci[1] > hi, ">")):
        ax.plot([end], [y], head if cut else "|", color=colour, markersize=7 if cut else 9)


def _log_limits(values: list[float], span: float = 100.0) -> tuple[float, float]:
    """Axis limits around the points: at most `span` times beyond the outermost ones either way."""
    return min(values) / span ** 0.5, max(values) * span ** 0.5


def arms(rows: list[tuple[str, float, tuple[float, float] | None, int]], difference: tuple[float, tuple[float, float] | None] | None,
         title: str) -> str:
    """Each arm's geometric mean views with its 95 % interval (label, mean, (low, high) or None, n), and
    the ratio ranked / explore with its interval, on log axes cut near the points (arrows: it goes on)."""
    panels = 2 if difference is not None else 1
    fig, axes = plt.subplots(panels, 1, figsize=(8, 1.3 + 0.75 * len(rows) + (1.5 if panels == 2 else 0)),
                             gridspec_kw={"height_ratios": [len(rows), 1.4][:panels]}, squeeze=False)
    ax = axes[0][0]
    means = [mean for _, mean, _, _ in rows]
    lo, hi = _log_limits(means)
    lo, hi = max(lo, 0.5), max(hi, 10.0)  # a geometric mean of views is never below 1
    for y, (label, mean, ci, n) in enumerate(rows[::-1]):
        colour = PALETTE[0] if label.startswith("ranked") else PALETTE[3]
        _interval(ax, y, mean, ci, lo, hi, colour, "o")
        ax.annotate(f"{mean:,.0f} (n={n})", (mean, y), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=7)
    ax.set_yticks(range(len(rows)), [label for label, *_ in rows[::-1]])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_formatter(FuncFormatter(_views_label))
    ax.set_xlabel("조회수 기하평균 · geometric mean views (95 % CI)")
    ax.grid(alpha=0.3, axis="x")
    ax.set_title(title)
    if difference is not None:
        ratio, ci = difference
        ax2 = axes[1][0]
        lo, hi = _log_limits([ratio, 1.0])
        ax2.axvline(1.0, color="#374151", linewidth=0.8)
        _interval(ax2, 0, ratio, ci, lo, hi, PALETTE[4], "D")
        ax2.annotate(f"{ratio:.2f}×", (ratio, 0), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=7)
        ax2.set_yticks([0], ["ranked ÷ explore"])
        ax2.set_ylim(-0.8, 0.8)
        ax2.set_xscale("log")
        ax2.set_xlim(lo, hi)
        ax2.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}×"))
        ax2.set_xlabel("조회수 비 · views ratio (1× = no difference)")
        ax2.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return to_svg(fig)
