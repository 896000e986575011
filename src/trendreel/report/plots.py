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


def to_svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)  # RDF boilerplate
    # matplotlib writes a fixed size in pt: keep the aspect ratio, let the page scale it.
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="plot"', svg, count=1)


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
