"""The report page: one self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched)."""

from __future__ import annotations

from html import escape

CSS = """
body{font-family:"NanumGothic","Apple SD Gothic Neo","Malgun Gothic",system-ui,sans-serif;margin:2rem auto;max-width:1100px;
color:#111;padding:0 1rem;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta{color:#555;font-size:.9rem}.totals{display:flex;gap:1.5rem;flex-wrap:wrap;margin:1rem 0}
.totals div{background:#f3f4f6;border-radius:6px;padding:.5rem .9rem}.totals b{display:block;font-size:1.2rem}
svg.plot{max-width:100%;height:auto}svg.plot.square{max-width:640px;display:block}p.note{color:#555;font-size:.85rem;margin:.2rem 0}
table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{border-bottom:1px solid #e5e7eb;padding:.35rem .4rem;
text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}ol{margin:0;padding-left:1.2rem}
.empty{background:#fff7ed;border:1px solid #fed7aa;border-radius:6px;padding:1rem}
table.compact{width:auto;min-width:50%}td.muted,span.muted{color:#6b7280}
"""


def _num(value) -> str:
    return "?" if value is None else f"{value:,}"


def table(headers: list[str], rows: list[list], *, numeric: set[int] = frozenset(), css: str = "") -> str:
    """An HTML table of escaped text; columns in `numeric` are right-aligned. A cell may be (text,
    css class) to mark it, e.g. ("yes", "muted")."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text, extra = cell if isinstance(cell, tuple) else (cell, "")
            classes = " ".join(c for c in ("n" if i in numeric else "", extra) if c)
            attr = f' class="{classes}"' if classes else ""
            cells.append(f"<td{attr}>{escape(str(text))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    attr = f' class="{css}"' if css else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(*, generated_at: str, zone: str, totals: list[tuple[str, str]], figures: list[dict], table_rows: list[dict],
         table_total: int, csv_files: dict[str, str], warnings: list[str], notes: list[str] = ()) -> str:
    """The whole page; figures: {id, title, note, svg, html} (svg and html already safe: drawn here or
    built by `table`); notes: plain sentences under the totals; table_rows: one per publication, newest first."""
    parts = ["<!DOCTYPE html>", '<html lang="ko">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>trendreel 성과 보고서 · performance report</title>", f"<style>{CSS}</style>", "</head>", "<body>",
             "<h1>trendreel 성과 보고서 · performance report</h1>",
             f'<p class="meta">만든 때 · generated {escape(generated_at)} · 시간대 · time zone {escape(zone)} · '
             "모든 수치는 데이터베이스에서 · every figure from the database</p>"]
    parts.append('<div class="totals">' + "".join(f"<div>{escape(k)}<b>{escape(v)}</b></div>" for k, v in totals) + "</div>")
    links = " · ".join(f'<a href="{escape(name)}">{escape(name)}</a> ({escape(what)})' for what, name in csv_files.items())
    parts.append(f'<p class="meta">CSV: {links}</p>')
    for note in notes:
        parts.append(f'<p class="meta">{escape(note)}</p>')
    for w in warnings:
        parts.append(f'<p class="note">⚠ {escape(w)}</p>')
    if not table_rows:
        parts.append('<div class="empty"><p><b>아직 게시된 영상이 없습니다 · No publications yet.</b></p>'
                     "<p>Publish a video with <code>trendreel approve VIDEO</code> and "
                     "<code>trendreel publish --video VIDEO --to folder:NAME</code> (or <code>youtube:NAME</code>), then "
                     "collect its counts with <code>trendreel metrics collect</code> and run <code>trendreel report</code> "
                     "again.</p></div>")
    for fig in figures:
        parts.append(f'<section id="{escape(fig["id"])}"><h2>{escape(fig["title"])}</h2>')
        if fig.get("note"):
            parts.append(f'<p class="note">{escape(fig["note"])}</p>')
        if fig.get("svg"):
            parts.append(fig["svg"])
        if fig.get("html"):
            parts.append(fig["html"])
        parts.append("</section>")
    if table_rows:
        parts.append('<section id="trends_at_upload"><h2>업로드 당시 트렌드 · Trends live at upload time</h2>')
        parts.append('<p class="note">각 영상 옆에 게시 순간의 상위 트렌드 · next to each video, the top trends at the moment '
                     "it was published (a snapshot; later detection does not change it)"
                     + (f"; the newest {len(table_rows):,} of {table_total:,}, all of them in {escape(csv_files['publications'])}"
                        if table_total > len(table_rows) else "") + ".</p>")
        parts.append("<table><thead><tr><th>영상 · video</th><th>어디 · where</th><th>게시 · published</th>"
                     "<th>조회 · views</th><th>좋아요 · likes</th><th>댓글 · comments</th>"
                     "<th>업로드 당시 트렌드 · trends at upload</th></tr></thead><tbody>")
        for r in table_rows:
            trends = "".join(f"<li>{escape(t['text'])} <span class=\"meta\">({t['score']:.2f}"
                             f"{', ' + escape(t['category']) if t.get('category') else ''})</span></li>"
                             for t in r["trends_at_upload"]) or "<li>-</li>"
            made_from = f"<br><span class=\"meta\">트렌드 · trend: {escape(r['trend'])}</span>" if r.get("trend") else ""
            title = escape(r["title"])
            if r.get("url"):
                title = f'<a href="{escape(r["url"])}">{title}</a>'
            parts.append(f"<tr><td>{title}{made_from}<br><span class=\"meta\">{escape(r['id'])}</span></td>"
                         f"<td>{escape(r['account'])}</td><td>{escape(r['published'])}</td>"
                         f"<td class=\"n\">{_num(r['views'])}</td><td class=\"n\">{_num(r['likes'])}</td>"
                         f"<td class=\"n\">{_num(r['comments'])}</td><td><ol>{trends}</ol></td></tr>")
        parts.append("</tbody></table></section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)
