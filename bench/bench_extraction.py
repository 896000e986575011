"""Benchmark trendreel's article extractor against plain trafilatura on the extraction-dev corpus.

Both extractors get the same decoded page text and the same URL, one page at a time
(alternating which runs first), and are scored with the same rules:

- main text: each `with` snippet found in the text is a true positive, missing a false
  negative; each `without` snippet found is a false positive. Snippets and text are compared
  after NFC normalisation, plain quotes and dashes for typographic ones,
  collapsing whitespace and case-folding. Precision, recall and F1 over all pages.
- title, author: correct when the normalised annotation and the extracted value contain one
  another (either way); pages without the annotation are not counted.
- date: correct when the first ten characters of the extracted value equal the annotated
  YYYY-MM-DD.
- pages/s: pages divided by the seconds spent inside each extractor.

Prints one JSON object to stdout, progress to stderr.

    python bench/bench_extraction.py [--data DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any, Callable

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "extraction-dev"

_WS = re.compile(r"\s+")


_TYPOGRAPHY = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'", "–": "-", "—": "-", "\u00a0": " "})


def norm(text: str | None) -> str:
    """Whitespace-collapsed, case-folded, NFC text with typographic quotes and dashes made plain."""
    text = unicodedata.normalize("NFC", text or "").translate(_TYPOGRAPHY).replace("…", "...")
    return _WS.sub(" ", text).strip().casefold()


def run_ours(html: str, url: str) -> dict[str, Any]:
    from trendreel.crawl.extract import extract

    result = extract(html, url)
    return {"text": result.text, "title": result.title, "author": result.author, "date": result.published_at}


def run_trafilatura(html: str, url: str) -> dict[str, Any]:
    import trafilatura

    out = trafilatura.extract(html, url=url, with_metadata=True, output_format="json")
    if out is None:
        return {"text": "", "title": None, "author": None, "date": None}
    data = json.loads(out)
    return {"text": data.get("text") or "", "title": data.get("title"), "author": data.get("author"), "date": data.get("date")}


class Score:
    """Running counts for one extractor."""

    def __init__(self) -> None:
        self.tp = self.fn = self.fp = self.tn = 0
        self.fields = {name: [0, 0] for name in ("title", "author", "date")}
        self.seconds = 0.0
        self.errors = 0
        self.pages = 0

    def add(self, row: dict, got: dict[str, Any] | None) -> None:
        self.pages += 1
        text = norm(got["text"]) if got else ""
        for snippet in row.get("with") or []:
            if norm(snippet) in text:
                self.tp += 1
            else:
                self.fn += 1
        for snippet in row.get("without") or []:
            if norm(snippet) and norm(snippet) in text:
                self.fp += 1
            else:
                self.tn += 1
        for name in ("title", "author"):
            annotated = row.get(name)
            golds = [norm(g) for g in (annotated if isinstance(annotated, list) else [annotated]) if isinstance(g, str)]
            golds = [g for g in golds if g]
            if golds:
                value = norm(got.get(name)) if got else ""
                self.fields[name][1] += 1
                self.fields[name][0] += bool(value) and any(g in value or value in g for g in golds)
        gold_date = (row.get("date") or "").strip()[:10]
        if gold_date:
            value = ((got or {}).get("date") or "")[:10]
            self.fields["date"][1] += 1
            self.fields["date"][0] += value == gold_date

    def report(self) -> dict[str, Any]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out: dict[str, Any] = {
            "text_precision": round(precision, 4),
            "text_recall": round(recall, 4),
            "text_f1": round(f1, 4),
        }
        for name, (ok, total) in self.fields.items():
            out[f"{name}_accuracy"] = round(ok / total, 4) if total else None
            out[f"{name}_pages"] = total
        out["errors"] = self.errors
        out["seconds"] = round(self.seconds, 2)
        out["pages_per_s"] = round(self.pages / self.seconds, 2) if self.seconds else None
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="extraction-dev folder")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO_ROOT / "src"))
    from trendreel.crawl.extract import decode_html, extract
    from trendreel.errors import ExtractionFailed

    rows = [json.loads(line) for line in (args.data / "index.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.limit:
        rows = rows[: args.limit]

    # warm both up (imports, language model) outside the timed part
    warm = "<html><body><article><p>" + "Warm up text for both extractors. " * 20 + "</p></article></body></html>"
    extract(warm, "https://example.org/")
    run_trafilatura(warm, "https://example.org/")

    runners: dict[str, Callable[[str, str], dict[str, Any]]] = {"ours": run_ours, "trafilatura": run_trafilatura}
    scores = {name: Score() for name in runners}
    for index, row in enumerate(rows):
        raw = gzip.decompress((args.data / row["html_path"]).read_bytes())
        html = decode_html(raw)
        order = list(runners) if index % 2 == 0 else list(reversed(runners))
        for name in order:
            started = time.perf_counter()
            try:
                got = runners[name](html, row["url"])
            except ExtractionFailed:
                got = None
            except Exception as err:  # noqa: BLE001 - the benchmark counts, never stops
                print(f"{row['id']} {name}: {type(err).__name__}: {err}", file=sys.stderr)
                scores[name].errors += 1
                got = None
            scores[name].seconds += time.perf_counter() - started
            scores[name].add(row, got)
        if (index + 1) % 50 == 0:
            print(f"{index + 1}/{len(rows)} pages", file=sys.stderr)

    result = {name: score.report() for name, score in scores.items()}
    result["pages"] = len(rows)
    result["data"] = args.data.name
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
