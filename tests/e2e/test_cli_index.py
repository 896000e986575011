"""`trendreel categorize`, `index` and `search` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from trendreel.demo.run import demo_sources


def _run(*args: str, home) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")}
    return subprocess.run([sys.executable, "-m", "trendreel.cli", *args, "--home", str(home)],
                          capture_output=True, text=True, env=env, timeout=600)


def test_categorize_texts_and_jsonl_keep_ids(tmp_path):
    r = _run("categorize", "삼성전자 반도체 수출 사상 최대", "Striker scores twice as United win the derby", "--json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["category"] for row in rows] == ["economy", "sports"]
    f = tmp_path / "in.jsonl"
    f.write_text('{"id": "x1", "title": "국회 본회의 예산안 통과"}\n{"id": "x2", "text": "New smartphone chip doubles AI speed"}\n', encoding="utf-8")
    r = _run("categorize", "--file", str(f), "--json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["id"] for row in rows] == ["x1", "x2"]
    assert rows[0]["category"] == "politics" and rows[1]["category"] == "tech"


def test_categorize_bad_input_is_a_clear_error(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"id": 1, "title": ""}\n', encoding="utf-8")
    r = _run("categorize", "--file", str(f), home=tmp_path)
    assert r.returncode == 2 and "title" in r.stderr and "Traceback" not in r.stderr
    r = _run("categorize", home=tmp_path)
    assert r.returncode == 2 and "at least one text" in r.stderr


@pytest.mark.slow
def test_crawl_index_search_from_the_command_line(tmp_path, sample_url):
    home = tmp_path / "home"
    home.mkdir()
    lines = []
    for src in demo_sources(sample_url)[:1]:
        lines += ["[[sources]]", f'name = "{src.name}"', f'kind = "{src.kind}"',
                  "urls = [" + ", ".join(f'"{u}"' for u in src.urls) + "]", "allow_private = true"]
    (home / "trendreel.toml").write_text("[crawl]\ndelay_s = 0\n[index]\nspeech_model = \"none\"\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert _run("crawl", home=home).returncode == 0
    r = _run("index", "--json", home=home)
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats["articles"] >= 15 and stats["errors"] == 0
    again = json.loads(_run("index", "--json", home=home).stdout)
    assert again["articles"] == 0
    r = _run("search", "semiconductor exports", "--kind", "article", "--limit", "3", "--json", home=home)
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert len(hits) == 3 and all(h["url"].startswith(sample_url) for h in hits)
    r = _run("search", "--like", hits[0]["article_id"], "--json", home=home)
    assert r.returncode == 0 and all(h["article_id"] != hits[0]["article_id"] for h in json.loads(r.stdout) if h["kind"] == "article")
    r = _run("search", home=home)
    assert r.returncode == 2 and "--like" in r.stderr
