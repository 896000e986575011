"""The `trendreel` command as a user runs it: a real process, the real sample site on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trendreel.settings import DEFAULT_HOME

FAST_CRAWL = """
[crawl]
delay_s = 0.0
retries = 1
backoff_s = 0.05
timeout_s = 10.0
per_host_concurrency = 4
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")}
    env.pop("COLUMNS", None)
    return env


def run_cli(*args: str | Path, cwd: Path | None = None, timeout: float = 240,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trendreel.cli", *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, env=env or _env(), timeout=timeout, check=False)


def ok_json(*args: str | Path, **kw):
    r = run_cli(*args, **kw)
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert "Traceback" not in r.stderr
    return json.loads(r.stdout)  # --json: stdout is JSON and nothing else


def failed(r: subprocess.CompletedProcess, code: int) -> str:
    """The message of a command that failed the way a user should see it: exit code, no traceback."""
    assert r.returncode == code, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    return r.stderr


def write_settings(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "trendreel.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _article(sample_site, lang: str, *, videos: bool = False):
    return next(a for a in sample_site.articles if a.lang == lang and a.images and (a.videos or not videos))


# --------------------------------------------------------------------------- extract


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_extract_url_as_json(sample_site, sample_url, tmp_path, lang):
    art = _article(sample_site, lang, videos=True)
    data = ok_json("extract", f"{sample_url}{art.path}", "--json", "--allow-private", "--home", tmp_path / "home")
    assert data["title"] == art.title
    assert data["lang"] == lang
    assert len(data["text"]) > 200
    assert data["url"] == f"{sample_url}{art.path}"
    assert len(data["images"]) >= 1
    assert any(m["alt"] or m["caption"] for m in data["images"])
    assert all(m["url"].startswith(sample_url) for m in data["images"])
    assert len(data["videos"]) >= art.videos >= 1
    assert data["videos"][0]["url"].startswith(sample_url)


def test_extract_url_as_table_keeps_korean_text(sample_site, sample_url, tmp_path):
    art = _article(sample_site, "ko")
    r = run_cli("extract", f"{sample_url}{art.path}", "--allow-private", "--home", tmp_path / "home")
    assert r.returncode == 0, r.stderr
    assert "lang" in r.stdout and "ko" in r.stdout
    assert art.title.split()[0] in r.stdout


def test_extract_local_file(sample_site, tmp_path):
    art = _article(sample_site, "en")
    page = sample_site.root / art.path.lstrip("/")
    data = ok_json("extract", page, "--json", "--home", tmp_path / "home")
    assert data["title"] == art.title
    assert data["lang"] == "en"
    assert data["images"]
    assert data["url"] == page.resolve().as_uri()


def test_extract_gzipped_local_file_relative_to_cwd(sample_site, tmp_path):
    art = _article(sample_site, "ko")
    (tmp_path / "page.html.gz").write_bytes(gzip.compress((sample_site.root / art.path.lstrip("/")).read_bytes()))
    data = ok_json("extract", "page.html.gz", "--json", "--home", "home", cwd=tmp_path)
    assert data["title"] == art.title
    assert data["lang"] == "ko"


BRACKETS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>[Breaking] Tea prices [up] again</title></head><body><article>
<h1>[Breaking] Tea prices [up] again</h1>
<p>Tea prices rose for the third week in a row [/b] as growers reported a poor harvest in the hill regions.
Traders said [bold]stocks[/bold] were low and buyers were paying more for every lot that came to market.</p>
<p>Shops in the city raised their prices as well, and several cafes said they would change their menus
before the end of the month if the wholesale price did not come down soon.</p>
</article></body></html>"""


def test_extract_table_shows_brackets_as_written(tmp_path):
    """Page text is not Rich markup: [brackets] in titles and text are printed, not eaten or crashing."""
    page = tmp_path / "tea.html"
    page.write_text(BRACKETS_PAGE, encoding="utf-8")
    r = run_cli("extract", page, "--home", tmp_path / "home")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "[Breaking] Tea prices [up] again" in r.stdout
    data = ok_json("extract", page, "--json", "--home", tmp_path / "home")
    assert data["title"] == "[Breaking] Tea prices [up] again"


def test_extract_loopback_without_allow_private_says_how(sample_site, sample_url, tmp_path):
    art = sample_site.articles[0]
    r = run_cli("extract", f"{sample_url}{art.path}", "--json", "--home", tmp_path / "home")
    msg = failed(r, 1)
    assert r.stdout == ""
    assert "127.0.0.1" in msg
    assert "--allow-private" in msg and "allow_private" in msg


def test_extract_missing_file(tmp_path):
    r = run_cli("extract", tmp_path / "no-such-page.html", "--json", "--home", tmp_path / "home")
    msg = failed(r, 2)
    assert "no-such-page.html" in msg
    assert "neither a file nor an http(s) URL" in msg
    assert r.stdout == ""


def test_extract_other_scheme_is_refused(tmp_path):
    msg = failed(run_cli("extract", "ftp://example.com/a.html", "--home", tmp_path / "home"), 2)
    assert "only http(s) URLs" in msg


# --------------------------------------------------------------------------- crawl and what it stored


@pytest.fixture(scope="module")
def crawled(sample_site, sample_url, tmp_path_factory):
    """A home crawled once by `trendreel crawl URL... --allow-private --json`."""
    home = tmp_path_factory.mktemp("cli") / "home"
    write_settings(home, FAST_CRAWL)
    picks = [_article(sample_site, "ko", videos=True), _article(sample_site, "en", videos=True),
             next(a for a in sample_site.articles if a.embeds)]
    urls = [f"{sample_url}{a.path}" for a in picks]
    refused = f"{sample_url}{sample_site.disallowed[0]}"  # robots.txt disallows it
    result = ok_json("crawl", *urls, refused, "--allow-private", "--json", "--home", home)
    return {"home": home, "picks": picks, "urls": urls, "refused": refused, "result": result}


def test_crawl_json_reports_what_was_stored(crawled):
    result = crawled["result"]
    assert result["stored"]["articles"] == 3
    assert result["stored"]["images"] >= sum(a.images for a in crawled["picks"])
    assert result["stored"]["videos"] >= 2
    assert result["stats"]["articles_new"] == 3
    assert result["stats"]["errors"] >= 1
    assert "robots_disallowed" in result["stats"]["errors_by_kind"]
    home = crawled["home"]
    assert (home / "trendreel.db").is_file()
    assert (home / "files" / "articles").is_dir()


def test_articles_json_lists_ids_and_media_with_files(crawled):
    home = crawled["home"]
    rows = ok_json("articles", "--json", "--home", home)
    assert len(rows) == 3
    assert {r["url"] for r in rows} == set(crawled["urls"])
    assert {r["lang"] for r in rows} == {"ko", "en"}
    for r in rows:
        assert r["id"].startswith("a") and len(r["id"]) == 24
        assert r["title"]
        assert (home / "files" / r["text_path"]).is_file()
        stored = [m for m in r["media"] if m["status"] == "stored"]
        assert any(m["kind"] == "image" for m in stored)
        for m in stored:
            assert (home / "files" / m["path"]).is_file()
            assert (home / "files" / m["path"]).stat().st_size == m["bytes"]
    assert any(m["kind"] == "video" and m["status"] == "stored" for r in rows for m in r["media"])
    assert any(m["caption"] for r in rows for m in r["media"])

    only_ko = ok_json("articles", "--json", "--lang", "ko", "--home", home)
    assert only_ko and all(r["lang"] == "ko" for r in only_ko)
    assert len(ok_json("articles", "--json", "--limit", "1", "--home", home)) == 1


def test_articles_table(crawled):
    r = run_cli("articles", "--home", crawled["home"])
    assert r.returncode == 0, r.stderr
    rows = ok_json("articles", "--json", "--home", crawled["home"])
    for row in rows:
        assert row["id"] in r.stdout


def test_status_json(crawled):
    home = crawled["home"]
    data = ok_json("status", "--json", "--home", home)
    assert data["articles"] == 3
    assert data["images"] > 0 and data["videos"] > 0
    assert data["urls_error"] >= 1
    assert data["events"] > 0
    assert data["database"].startswith("sqlite:///") and data["database"].endswith("trendreel.db")
    assert str(home) in data["database"]
    assert data["files"] == (home / "files").as_uri()


def test_errors_json(crawled):
    rows = ok_json("errors", "--json", "--home", crawled["home"])
    refused = [r for r in rows if r["url"] == crawled["refused"]]
    assert refused, rows
    assert refused[0]["kind"] == "robots_disallowed"
    assert refused[0]["error"]
    r = run_cli("errors", "--home", crawled["home"])
    assert r.returncode == 0 and "robots_disallowed" in r.stdout


def test_crawl_again_finds_nothing_new(crawled):
    result = ok_json("crawl", *crawled["urls"], "--allow-private", "--json", "--home", crawled["home"])
    assert result["stats"]["articles_new"] == 0
    assert result["stored"]["articles"] == 3


def test_crawl_loopback_without_allow_private_records_an_error(sample_site, sample_url, tmp_path):
    home = tmp_path / "home"
    write_settings(home, FAST_CRAWL)
    result = ok_json("crawl", f"{sample_url}{sample_site.articles[0].path}", "--json", "--home", home)
    assert result["stored"]["articles"] == 0
    assert result["stats"]["errors_by_kind"] == {"blocked_url": 1}
    rows = ok_json("errors", "--json", "--home", home)
    assert rows[0]["kind"] == "blocked_url" and "--allow-private" in rows[0]["error"]


def test_crawl_without_sources_says_what_to_do(tmp_path):
    msg = failed(run_cli("crawl", "--json", "--home", tmp_path / "home"), 2)
    assert "no sources configured" in msg and "[[sources]]" in msg


def test_crawl_unknown_source_lists_known_ones(tmp_path):
    home = tmp_path / "home"
    write_settings(home, SOURCES)
    r = run_cli("crawl", "--source", "nope", "--json", "--home", home)
    msg = failed(r, 2)
    assert "'nope'" in msg and "sample-feed" in msg and "sample-site" in msg
    assert r.stdout == ""


def test_crawl_a_configured_source(sample_url, tmp_path):
    home = tmp_path / "home"
    write_settings(home, FAST_CRAWL + SOURCES.replace("BASE", sample_url))
    result = ok_json("crawl", "--source", "sample-feed", "--max-pages", "3", "--json", "--home", home)
    assert result["stored"]["articles"] == 3
    assert result["stats"]["articles_new"] == 3


# --------------------------------------------------------------------------- sources, categories


SOURCES = """
[[sources]]
name = "sample-feed"
kind = "feed"
urls = ["BASE/feed.xml"]
allow_private = true

[[sources]]
name = "sample-site"
kind = "site"
urls = ["BASE/index.html"]
max_depth = 1
max_pages = 20
category = "tech"
"""


def test_sources_json_from_the_settings_file(tmp_path):
    home = tmp_path / "home"
    write_settings(home, SOURCES)
    rows = ok_json("sources", "--json", "--home", home)
    assert [r["name"] for r in rows] == ["sample-feed", "sample-site"]
    assert rows[0] == {"name": "sample-feed", "kind": "feed", "urls": ["BASE/feed.xml"], "max_depth": 2,
                       "max_pages": 500, "allow_private": True, "category": None}
    assert rows[1]["max_depth"] == 1 and rows[1]["max_pages"] == 20 and rows[1]["category"] == "tech"
    table = run_cli("sources", "--home", home)
    assert table.returncode == 0 and "sample-feed" in table.stdout and "BASE/index.html" in table.stdout
    assert not (home / "trendreel.db").exists()  # listing settings touches no database


def test_sources_from_trendreel_home_and_trendreel_config(tmp_path):
    home = tmp_path / "env-home"
    write_settings(home, SOURCES)
    env = {**_env(), "TRENDREEL_HOME": str(home)}
    assert [r["name"] for r in ok_json("sources", "--json", env=env, cwd=tmp_path)] == ["sample-feed", "sample-site"]
    other = tmp_path / "other.toml"
    other.write_text('[[sources]]\nname = "only"\nkind = "urls"\nurls = ["https://example.com/a"]\n', encoding="utf-8")
    env["TRENDREEL_CONFIG"] = str(other)
    assert [r["name"] for r in ok_json("sources", "--json", env=env, cwd=tmp_path)] == ["only"]


def test_missing_trendreel_config_file(tmp_path):
    env = {**_env(), "TRENDREEL_CONFIG": str(tmp_path / "gone.toml")}
    msg = failed(run_cli("sources", "--json", "--home", tmp_path / "home", env=env), 2)
    assert "TRENDREEL_CONFIG" in msg and str(tmp_path / "gone.toml") in msg


def test_categories_list_and_set(tmp_path):
    home = tmp_path / "home"
    cats = ok_json("categories", "list", "--json", "--home", home)
    assert len(cats) == 9
    assert {"life", "economy", "entertainment", "politics", "society", "sports", "tech", "world", "culture"} == {
        c["slug"] for c in cats}
    assert all(c["name"] for c in cats)

    row = ok_json("categories", "set", "gossip", "--name", "Gossip", "--name-ko", "연예 소식", "--home", home)
    assert row == {"slug": "gossip", "name": "Gossip", "name_ko": "연예 소식", "description": None}
    cats = ok_json("categories", "list", "--json", "--home", home)
    assert len(cats) == 10
    gossip = next(c for c in cats if c["slug"] == "gossip")
    assert gossip["name"] == "Gossip" and gossip["name_ko"] == "연예 소식"

    ok_json("categories", "set", "gossip", "--description", "who said what", "--home", home)
    gossip = next(c for c in ok_json("categories", "list", "--json", "--home", home) if c["slug"] == "gossip")
    assert gossip["name"] == "Gossip" and gossip["description"] == "who said what"

    table = run_cli("categories", "list", "--home", home)
    assert table.returncode == 0 and "gossip" in table.stdout and "Gossip" in table.stdout


def test_categories_set_refuses_a_bad_slug(tmp_path):
    msg = failed(run_cli("categories", "set", "bad slug", "--home", tmp_path / "home"), 1)
    assert "bad slug" in msg and "letters, digits" in msg


# --------------------------------------------------------------------------- mistakes a user makes


@pytest.mark.parametrize(("toml", "field", "command"), [
    ('[crawl]\ndelay_s = "soon"\n', "crawl.delay_s", ["status", "--json"]),
    ('[crawl]\ndelay = 2\n', "crawl.delay", ["crawl", "https://example.com/a"]),
    ('log_level = "LOUD"\n', "log_level", ["sources"]),
    ('[[sources]]\nname = "x"\nkind = "rss"\nurls = ["https://example.com/"]\n', "sources.0.kind",
     ["crawl", "--source", "x", "--json"]),
    ('[crawl]\nretries = 99\n', "crawl.retries", ["categories", "list", "--json"]),
])
def test_broken_settings_file(tmp_path, toml, field, command):
    home = tmp_path / "home"
    write_settings(home, toml)
    r = run_cli(*command, "--home", home)
    msg = failed(r, 2)
    assert "configuration error" in msg
    assert f"{field}:" in msg
    assert r.stdout == ""


def test_settings_file_that_is_not_toml(tmp_path):
    home = tmp_path / "home"
    path = write_settings(home, "[crawl\ndelay_s = 1\n")
    msg = failed(run_cli("status", "--json", "--home", home), 2)
    assert str(path) in msg  # named whole, even when longer than a terminal line


def test_bad_environment_value(tmp_path):
    env = {**_env(), "TRENDREEL_CRAWL__DELAY_S": "fast"}
    msg = failed(run_cli("status", "--json", "--home", tmp_path / "home", env=env), 2)
    assert "crawl.delay_s" in msg


def test_unknown_option_shows_usage(tmp_path):
    r = run_cli("crawl", "--bogus", "--home", tmp_path / "home")
    msg = failed(r, 2)
    assert "No such option: --bogus" in msg and "Usage" in msg


def test_missing_argument_shows_usage():
    msg = failed(run_cli("extract"), 2)
    assert "Missing argument" in msg


@pytest.mark.parametrize("args", [[], ["categories"]])
def test_no_arguments_shows_help(args):
    r = run_cli(*args)
    assert "Traceback" not in r.stderr
    assert r.returncode == 2
    assert "Usage" in r.stdout + r.stderr and "Commands" in r.stdout + r.stderr


@pytest.mark.parametrize("command", [
    [], ["crawl"], ["extract"], ["articles"], ["errors"], ["status"], ["sources"], ["demo"],
    ["categories"], ["categories", "list"], ["categories", "set"], ["index"], ["search"], ["categorize"],
    ["import"], ["trends"], ["trend"], ["story"], ["stories"], ["render"], ["edit"], ["videos"],
])
def test_help(command):
    r = run_cli(*command, "--help")
    assert r.returncode == 0, r.stderr
    assert "Usage" in r.stdout
    assert r.stderr == ""
    if command and command[0] not in ("categories",):
        assert "--home" in r.stdout


def test_help_leaves_no_home_behind(tmp_path):
    """Asking for help never creates a database in the default home."""
    existed = DEFAULT_HOME.exists()
    r = run_cli("status", "--help", cwd=tmp_path)
    assert r.returncode == 0
    assert DEFAULT_HOME.exists() == existed


def _crawl_queued(db: Path) -> bool:
    import sqlite3

    if not db.exists():
        return False
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM crawl_url").fetchone()[0] > 0
    except sqlite3.Error:  # no schema yet, or locked by the migration
        return False


def test_ctrl_c_stops_a_crawl_with_a_hint(sample_site, sample_url, tmp_path):
    home = tmp_path / "home"
    # A long per-host delay keeps the crawl waiting between requests, so there is time to interrupt it.
    write_settings(home, "[crawl]\ndelay_s = 120\nretries = 0\n")
    urls = [f"{sample_url}{a.path}" for a in sample_site.articles[:3]]
    proc = subprocess.Popen([sys.executable, "-m", "trendreel.cli", "crawl", *urls, "--allow-private", "--json",
                             "--home", str(home)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                            start_new_session=True,
                            # a suite started as a background job hands its children SIGINT ignored (POSIX),
                            # and Python then never turns ctrl-c into KeyboardInterrupt: give it back
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        # Into the crawl: its URLs queued (the database file alone exists from the first moment, before
        # the schema), then a moment for robots.txt; it then waits out the delay before the first page.
        while not _crawl_queued(home / "trendreel.db") and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        time.sleep(1.0)
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's ctrl-c does: to the whole process group
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "run the same command again" in stderr
    assert "Traceback" not in stderr


# --------------------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One demo run shared by the tests that read what it stored (it renders two videos)."""
    home = tmp_path_factory.mktemp("demo") / "demo home [1]"  # a space and brackets: printed and quoted as they are
    return home, ok_json("demo", "--home", home, "--json", timeout=850)


@pytest.mark.slow
@pytest.mark.timeout(900)  # the shared demo run renders and edits two videos: minutes on two busy cores
def test_demo_end_to_end(demo_run):
    home, data = demo_run
    assert data["home"] == str(home)
    assert data["site"].startswith("http://127.0.0.1:")
    assert data["stored"]["articles"] >= 25
    assert data["stored"]["images"] > 0
    assert data["stored"]["videos"] > 0
    assert len(data["articles"]) == data["stored"]["articles"]
    assert {a["lang"] for a in data["articles"]} >= {"ko", "en"}
    kinds = {e["kind"] for e in data["errors"]}
    assert "robots_disallowed" in kinds
    assert any(e["url"].endswith("/private/secret.html") for e in data["errors"])
    assert (home / "trendreel.db").is_file()
    some = data["articles"][0]
    assert (home / "files" / some["text_path"]).is_file()

    # Trends, one Korean and one English story, and a video of each, stored where the output says.
    assert data["trends"] and all(t["text"] and t["evidence"] for t in data["trends"])
    assert {st["lang"] for st in data["stories"]} == {"ko", "en"}
    assert all(st["grounding"] == 1.0 and 3 <= len(st["scenes"]) <= 8 for st in data["stories"])
    assert [v["stage"] for v in data["videos"]] == ["rendered", "edited"] * 2
    for rendered, edited in zip(data["videos"][::2], data["videos"][1::2]):
        assert edited["parent_id"] == rendered["id"] and edited["story_id"] == rendered["story_id"]
        assert all(v["status"] == "done" and 5 < v["duration_s"] <= 60 for v in (rendered, edited))
    # The first edit is published to the folder platform; gc then frees its local copies (the demo's
    # budget is small), the other story's videos stay.
    pub = data["publication"]
    assert pub["status"] == "done" and pub["platform"] == "folder" and pub["video_id"] == data["videos"][1]["id"]
    published = home / "published" / pub["external_id"]
    assert (published / "video.mp4").stat().st_size == data["videos"][1]["bytes"]
    assert {reason: n["items"] for reason, n in data["gc"]["purged"].items()} == {"published_video": 2}  # rendered + edited
    assert data["gc"]["freed_bytes"] == data["gc"]["purged"]["published_video"]["bytes"] > 0
    assert data["storage"]["used_bytes"] <= data["storage"]["budget_bytes"]
    for v in data["videos"][:2]:
        assert v["file"] is None and v["files_purged_at"]
    for v in data["videos"][2:]:
        assert Path(v["file"]).is_file() and Path(v["file"]).stat().st_size == v["bytes"]
    assert Path(data["report"]["html"]).is_file() and data["metrics"]["stored"] == 1

    # What the demo stored is what the other commands show.
    status = ok_json("status", "--json", "--home", home)
    assert status["articles"] == data["stored"]["articles"]
    listed = ok_json("articles", "--json", "--limit", "1000", "--home", home)
    assert {a["id"] for a in listed} == {a["id"] for a in data["articles"]}

    # Again, as tables: nothing new is stored, and the next steps it prints can be pasted as they are.
    r = run_cli("demo", "--home", home, timeout=280)
    assert r.returncode == 0, r.stderr
    assert f"Stored {data['stored']['articles']} articles" in r.stdout
    assert str(home) in r.stdout
    next_line = next(line for line in r.stdout.splitlines() if line.startswith("Next: "))
    first = next_line.removeprefix("Next: ").split(" · ")[0]
    argv = shlex.split(first)
    assert argv[0] == "trendreel"
    again = ok_json(*argv[1:])
    assert len(again) == min(50, len(listed))
    assert "trend" in r.stdout and "video: " in r.stdout and "published: " in r.stdout
    assert str(home / "published") in r.stdout


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_trend_story_and_video_commands_on_the_demo(demo_run):
    home, data = demo_run
    stored = ok_json("trends", "--stored", "--json", "--home", home)
    assert [t["id"] for t in stored] == [t["id"] for t in data["trends"]][:20]
    detected = ok_json("trends", "--json", "--home", home, "--window", "24h")
    assert {t["id"] for t in detected} == {t["id"] for t in data["trends"]}  # detecting again keeps the ids
    top = ok_json("trend", data["trends"][0]["id"], "--json", "--home", home)
    assert top["evidence"][0].keys() >= {"id", "url", "external_id", "title"}

    story = data["stories"][1]  # the one whose videos were not published (their files are all there)
    again = ok_json("story", "--trend", story["trend_id"], "--json", "--home", home)
    assert again["id"] == story["id"] and again["reused"] is True
    listed = ok_json("stories", "--json", "--home", home)
    assert {s["id"] for s in listed} == {s["id"] for s in data["stories"]}
    assert ok_json("stories", story["id"], "--json", "--home", home)["scenes"] == story["scenes"]
    r = run_cli("stories", story["id"], "--home", home)
    assert r.returncode == 0 and story["scenes"][0]["narration"][:20] in r.stdout

    video = ok_json("render", "--story", story["id"], "--json", "--home", home)
    assert video["reused"] is True and video["id"] == data["videos"][2]["id"]
    assert Path(video["file"]).is_file()
    edited = ok_json("edit", "--video", video["id"], "--json", "--home", home)
    assert edited["reused"] is True and edited["id"] == data["videos"][3]["id"] and edited["parent_id"] == video["id"]
    videos = ok_json("videos", "--json", "--home", home)
    assert {v["id"] for v in videos} == {v["id"] for v in data["videos"]}
    assert ok_json("videos", video["id"], "--json", "--home", home)["file"] == video["file"]

    for args, message in ((["trend", "t000"], "unknown trend"), (["story", "--trend", "t000"], "unknown trend"),
                          (["stories", "s000"], "unknown story"), (["render", "--story", "s000"], "unknown story"),
                          (["videos", "v000"], "unknown video"), (["edit", "--video", "v000"], "v000")):
        r = run_cli(*args, "--home", home)
        assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr
    r = run_cli("trends", "--window", "5x", "--home", home)
    assert r.returncode == 2 and "--window" in r.stderr


def test_import_reports_bad_lines_with_file_and_line_and_exits_1(tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text(
        json.dumps({"id": "n1", "title": "Night markets are back", "published_at": "2026-11-02"}) + "\n"
        + json.dumps({"id": "n2", "title": "no date"}) + "\n", encoding="utf-8")
    home = tmp_path / "home"
    r = run_cli("import", items, "--home", home)
    assert r.returncode == 1, r.stderr
    assert f"{items}:2: published_at: missing" in r.stderr
    r = run_cli("import", items, "--home", home, "--json")
    assert r.returncode == 1
    result = json.loads(r.stdout)["import"]
    assert (result["new"], result["unchanged"], result["skipped"]) == (0, 1, 1)
    r = run_cli("articles", "--home", home, "--json")
    assert [a["title"] for a in json.loads(r.stdout)] == ["Night markets are back"]
