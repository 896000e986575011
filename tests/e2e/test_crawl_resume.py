"""Kill a real `trendreel crawl` process half-way, start it again: it completes without duplicates."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.settings import load_settings

pytestmark = pytest.mark.slow


def _write_config(home: Path, base: str, delay: float) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "trendreel.toml").write_text(f"""
[crawl]
delay_s = {delay}
per_host_concurrency = 1
concurrency = 2
retries = 1

[[sources]]
name = "sample-sitemap"
kind = "sitemap"
urls = ["{base}/sitemap_index.xml"]
allow_private = true

[[sources]]
name = "sample-site"
kind = "site"
urls = ["{base}/index.html"]
max_depth = 2
allow_private = true
""", encoding="utf-8")


def _articles(home: Path) -> int:
    db = home / "trendreel.db"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute("select count(*) from article").fetchone()[0]
    except sqlite3.Error:
        return 0


def _crawl_in_process(home: Path):
    os.environ["TRENDREEL_HOME"] = str(home)
    try:
        app = build_app(load_settings(home=home))
        try:
            services.crawl_sources(app)
            return app.db.url, services.list_articles(app, limit=10_000)
        finally:
            app.close()
    finally:
        os.environ.pop("TRENDREEL_HOME", None)


def _snapshot(home: Path) -> dict:
    with sqlite3.connect(home / "trendreel.db") as conn:
        articles = {r[0]: r[1] for r in conn.execute("select id, content_hash from article")}
        events = Counter(r[0] for r in conn.execute("select type from event"))
        keys = [r[0] for r in conn.execute("select dedupe_key from event")]
        media = conn.execute("select count(*) from media_item where status = 'stored'").fetchone()[0]
        paths = {r[0] for r in conn.execute("select path from media_item where path is not null")}
        paths |= {r[0] for r in conn.execute("select text_path from article")}
        paths |= {r[0] for r in conn.execute("select html_path from article")}
        paths |= {r[0] for r in conn.execute("select meta_path from article")}
    files = {str(p.relative_to(home / "files")) for p in (home / "files").rglob("*") if p.is_file()}
    return {"articles": articles, "events": events, "event_keys": keys, "media": media, "paths": paths, "files": files}


def test_killed_crawl_resumes_to_the_same_result_without_duplicates(tmp_path, sample_url):
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    _write_config(reference, sample_url, delay=0.0)
    _crawl_in_process(reference)
    want = _snapshot(reference)
    assert len(want["articles"]) >= 20

    # A slow crawl (0.15 s between requests) in a real process, killed once it has stored some articles.
    _write_config(crashed, sample_url, delay=0.15)
    proc = subprocess.Popen([sys.executable, "-m", "trendreel.cli", "crawl", "--home", str(crashed)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _articles(crashed) < 5 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the crawl finished before it could be killed; slow it down"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    partial = _articles(crashed)
    assert 5 <= partial < len(want["articles"])

    _crawl_in_process(crashed)   # resume
    _crawl_in_process(crashed)   # and once more: a finished crawl adds nothing
    got = _snapshot(crashed)

    assert got["articles"] == want["articles"]
    assert got["events"] == want["events"]
    assert len(got["event_keys"]) == len(set(got["event_keys"]))
    assert got["media"] == want["media"]
    # Every row points at a file, and every file belongs to a row: nothing orphaned, nothing lost.
    assert got["paths"] == got["files"]
