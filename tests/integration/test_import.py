"""`trendreel import`: dated items with media become articles; bad lines are reported, nothing is lost."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from trendreel.adapters.ffmpeg import ffmpeg_exe
from trendreel import services
from trendreel.bootstrap import App
from trendreel.db.tables import Article, Category, Event, MediaItem
from trendreel.files.store import open_file_store


def _write_jsonl(path, rows, extra_lines=()):
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        for line in extra_lines:
            fh.write(line + "\n")
    return path


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory):
    """A real PNG and a real MP4 made by ffmpeg, plus a text file pretending to be an image."""
    d = tmp_path_factory.mktemp("import-media")
    ff = ffmpeg_exe(system_first=True)
    subprocess.run([ff, "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=96x64", "-frames:v", "1",
                    str(d / "photo.png")], check=True)
    subprocess.run([ff, "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=10", "-t", "1",
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", str(d / "clip.mp4")], check=True)
    (d / "fake.jpg").write_text("not an image")
    return d


ITEMS = [
    {"id": 101, "title": "20대 겨울 캠핑 열풍", "text": "20대와 30대가 겨울 캠핑과 차박을 즐긴다. 캠핑 장비 판매가 늘었다.",
     "published_at": "2026-11-20T10:00:00+09:00", "source": "연합뉴스", "category": "life",
     "images": ["photo.png", {"path": "fake.jpg", "caption": "not really"}], "videos": [{"path": "clip.mp4", "caption": "캠핑장"}],
     "event": "camping"},
    {"id": "en-7", "title": "Chip exports hit a record", "url": "https://news.example.com/chips?utm_source=feed",
     "text": "Semiconductor exports rose for the tenth month.", "published_at": "2026-11-19"},
]


@pytest.fixture
def app(database, make_settings, tmp_path):
    settings = make_settings(index={"speech_model": "none"})
    application = App(settings=settings, db=database, files=open_file_store((tmp_path / "files").as_uri()))
    yield application


def test_items_become_articles_with_media_and_keep_their_ids(app, media_dir):
    path = _write_jsonl(media_dir / "items.jsonl", ITEMS)
    result = services.import_items(app, path=path, source="wire")
    stats = result["import"]
    assert (stats["lines"], stats["new"], stats["skipped"]) == (2, 2, 0)
    assert stats["media_stored"] == 2 and stats["media_errors"] == 1
    assert "fake.jpg" in stats["errors"][0]["error"] and "not a image" not in stats["errors"][0]["error"]

    with app.db.session() as s:
        ko = s.scalars(select(Article).where(Article.external_id == "101")).one()
        assert ko.published_at == datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)
        assert ko.lang == "ko" and ko.sitename == "연합뉴스"
        assert s.get(Category, ko.category_id).slug == "life"
        assert ko.key_data["extra"] == {"event": "camping"}
        assert app.files.get(ko.text_path).decode() == ITEMS[0]["text"]
        media = {m.source_url: m for m in s.scalars(select(MediaItem).where(MediaItem.article_id == ko.id))}
        assert media["photo.png"].status == "stored" and media["photo.png"].mime == "image/png"
        assert (media["photo.png"].width, media["photo.png"].height) == (96, 64)
        assert media["clip.mp4"].status == "stored" and media["clip.mp4"].caption == "캠핑장"
        assert app.files.size(media["clip.mp4"].path) == (media_dir / "clip.mp4").stat().st_size
        assert media["fake.jpg"].status == "error"

        en = s.scalars(select(Article).where(Article.external_id == "en-7")).one()
        assert en.canonical_url == "https://news.example.com/chips"  # tracking parameter gone
        assert en.lang == "en" and en.sitename == "news.example.com"


def test_importing_again_changes_nothing_and_an_edited_item_is_updated(app, media_dir):
    path = _write_jsonl(media_dir / "again.jsonl", ITEMS)
    services.import_items(app, path=path)
    with app.db.session() as s:
        events_before = s.scalar(select(func.count()).select_from(Event))
    again = services.import_items(app, path=path)["import"]
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 2)
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == events_before
        assert s.scalar(select(func.count()).select_from(MediaItem)) == 3

    edited = [dict(ITEMS[0], text="바뀐 본문입니다."), ITEMS[1]]
    result = services.import_items(app, path=_write_jsonl(media_dir / "edited.jsonl", edited))["import"]
    assert (result["updated"], result["unchanged"]) == (1, 1)
    with app.db.session() as s:
        ko = s.scalars(select(Article).where(Article.external_id == "101")).one()
        assert app.files.get(ko.text_path).decode() == "바뀐 본문입니다."


def test_bad_lines_are_reported_by_number_and_the_good_ones_still_land(app, tmp_path):
    rows = [
        {"id": "ok", "title": "A good line", "published_at": "2026-11-01T08:00:00Z"},
        {"title": "no id or date"},
        {"id": "d", "title": "bad date", "published_at": "yesterday"},
        {"id": "c", "title": "bad category", "published_at": "2026-11-01", "category": "sport"},
        {"id": "u", "title": "bad url", "published_at": "2026-11-01", "url": "ftp://x.example/1"},
        {"id": "ok", "title": "A good line, repeated", "published_at": "2026-11-01T08:00:00Z"},
    ]
    path = _write_jsonl(tmp_path / "bad.jsonl", rows, extra_lines=["{broken", "[1, 2]"])
    stats = services.import_items(app, path=path)["import"]
    assert stats["new"] == 1 and stats["lines"] == 8 and stats["skipped"] == 7
    by_line = {e["line"]: e["error"] for e in stats["errors"]}
    assert "id: missing" in by_line[2] and "required: id, published_at, and a title or a text" in by_line[2]
    assert "'yesterday' is not an ISO 8601 date" in by_line[3]
    assert "unknown category 'sport'" in by_line[4] and "sports" in by_line[4]
    assert "http(s) URL" in by_line[5]
    assert "same item as line 1" in by_line[6]
    assert "not JSON" in by_line[7] and "JSON object" in by_line[8]


def test_a_missing_file_is_a_clear_error(app, tmp_path):
    from trendreel.errors import ConfigError

    with pytest.raises(ConfigError, match="no such file"):
        services.import_items(app, path=tmp_path / "nope.jsonl")


@pytest.mark.slow
def test_imported_items_are_indexed_and_searchable(app, media_dir):
    path = _write_jsonl(media_dir / "index.jsonl", ITEMS)
    result = services.import_items(app, path=path, index=True)
    assert result["index"]["articles"] == 2
    hits = services.search(app, query="semiconductor exports record", kind="article", limit=1)
    assert hits[0]["title"] == "Chip exports hit a record"
    assert hits[0]["url"] == "https://news.example.com/chips"


# --------------------------------------------------------------------------- hostile and unusual files


def test_a_byte_order_mark_on_line_one_is_accepted(app, tmp_path):
    path = tmp_path / "bom.jsonl"
    line = json.dumps({"id": "b1", "title": "Saved by a spreadsheet", "published_at": "2026-11-01"})
    path.write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\n")
    stats = services.import_items(app, path=path)["import"]
    assert stats["new"] == 1 and stats["errors"] == []


@pytest.mark.parametrize("value, reason", [
    ("0001-01-01", "before 1900"), ("9999-12-31T00:00:00Z", "in the future"),
    (1763600000, "a number"), (1763600000.5, "a number"), (True, "a number"),
])
def test_dates_out_of_range_or_given_as_numbers_are_refused_with_the_reason(app, tmp_path, value, reason):
    path = _write_jsonl(tmp_path / "dates.jsonl", [
        {"id": "ok", "title": "Fine", "published_at": "2026-11-01"},
        {"id": "x", "title": "Odd date", "published_at": value},
    ])
    stats = services.import_items(app, path=path)["import"]
    assert stats["new"] == 1 and stats["skipped"] == 1
    (problem,) = stats["errors"]
    assert problem["line"] == 2 and problem["field"] == "published_at"
    assert reason in problem["reason"]


def test_items_without_a_title_get_one_from_their_text_marked_derived(app, tmp_path):
    long_text = ("Thousands queued overnight outside the new stadium in Busan for the final tickets of the season, "
                 "and many said they had travelled from Seoul") + " and more" * 30
    path = _write_jsonl(tmp_path / "posts.jsonl", [
        {"id": "tweet-1", "text": "Snow in Seoul already! Roads are a mess. Stay safe.", "published_at": "2026-11-20"},
        {"id": "post-2", "title": "", "text": long_text, "published_at": "2026-11-20"},
        {"id": "clip-3", "text": "   ", "published_at": "2026-11-20"},
    ])
    stats = services.import_items(app, path=path)["import"]
    assert stats["new"] == 2 and stats["skipped"] == 1
    assert stats["errors"][0]["line"] == 3 and stats["errors"][0]["field"] == "title"
    assert "no text" in stats["errors"][0]["reason"]
    with app.db.session() as s:
        rows = {a.external_id: a for a in s.scalars(select(Article))}
    assert rows["tweet-1"].title == "Snow in Seoul already!"
    title = rows["post-2"].title
    assert 20 <= len(title) <= 101 and title.endswith("…") and long_text.startswith(title[:-1].rstrip())
    assert long_text[len(title[:-1].rstrip())] in " ,"  # cut on a word boundary
    assert rows["tweet-1"].key_data["title_derived"] is True
    meta = json.loads(app.files.get(rows["tweet-1"].meta_path))
    assert meta["title_derived"] is True


def test_a_line_over_the_size_cap_is_refused_and_the_others_land(database, make_settings, tmp_path):
    settings = make_settings(crawl={"import_max_line_bytes": 2000})
    application = App(settings=settings, db=database, files=open_file_store((tmp_path / "files").as_uri()))
    path = tmp_path / "big.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "1", "title": "Small", "published_at": "2026-11-01"}) + "\n")
        fh.write(json.dumps({"id": "2", "title": "Huge", "published_at": "2026-11-01", "text": "x" * 50_000}) + "\n")
        fh.write(json.dumps({"id": "3", "title": "Small too", "published_at": "2026-11-01"}))  # no final newline
    stats = services.import_items(application, path=path)["import"]
    assert stats["new"] == 2 and stats["lines"] == 3 and stats["skipped"] == 1
    (problem,) = stats["errors"]
    assert problem["line"] == 2 and "import_max_line_bytes" in problem["reason"] and "2,000" in problem["reason"]


def test_import_of_a_huge_line_keeps_memory_bounded_and_reports_per_line_as_json(tmp_path):
    """A real `trendreel import --json` of a file with a 60 MB line: the line is refused without being read whole."""
    import os
    import sys

    home = tmp_path / "home"
    home.mkdir()
    (home / "trendreel.toml").write_text("[crawl]\nimport_max_line_bytes = 1000000\n")
    small = tmp_path / "small.jsonl"
    small.write_text(json.dumps({"id": "1", "title": "Small", "published_at": "2026-11-01"}) + "\n")
    huge = tmp_path / "huge.jsonl"
    with open(huge, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "1", "title": "Small", "published_at": "2026-11-01"}) + "\n")
        fh.write('{"id": "2", "title": "Huge", "published_at": "2026-11-01", "text": "')
        for _ in range(60):
            fh.write("y" * 1_000_000)
        fh.write('"}\n')
        fh.write(json.dumps({"id": "3", "published_at": 5}) + "\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")}

    # ru_maxrss of each run alone: a child forked and reaped here with wait4.
    def peak_kb(path):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.environ.clear()
            os.environ.update(env)
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.execv(sys.executable, [sys.executable, "-m", "trendreel.cli", "import", str(path), "--json",
                                      "--home", str(home)])
        _, _, usage = os.wait4(pid, 0)
        return usage.ru_maxrss

    baseline = peak_kb(small)
    peak = peak_kb(huge)
    assert peak - baseline < 30_000, f"peak {peak} kB vs {baseline} kB for a one-line file"

    proc = subprocess.run([sys.executable, "-m", "trendreel.cli", "import", str(huge), "--json", "--home", str(home)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)["import"]
    assert report["lines"] == 3 and report["skipped"] == 2
    by_line = {e["line"]: e for e in report["errors"]}
    assert by_line[2]["field"] is None and "import_max_line_bytes" in by_line[2]["reason"]
    assert by_line[3]["field"] == "published_at" and "a number" in by_line[3]["reason"]
