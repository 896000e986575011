"""The report from the RDB alone, on SQLite and PostgreSQL: inline SVG plots with Korean titles, CSV numbers
equal to the database's, the same report after every file is purged, the empty case, and the CLI; histories
imported from other channels counted but kept out of the figures; the learning sections from the stored
models (forecasts beside what happened, feature effects, the arms), never refitted."""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from html import escape

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from tests.metrics_support import add_publication, add_samples, add_trend, add_video, folder_account, youtube_account
from trendreel import services
from trendreel.bootstrap import App
from trendreel.db.tables import Decision, MetricSample, Trend, Video
from trendreel.files.store import open_file_store
from trendreel.learn.rows import load_histories
from trendreel.learn.synthetic import synthetic_histories
from trendreel.services.report import build_report

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
H, D = timedelta(hours=1), timedelta(days=1)
LEARNING_SECTIONS = ["models", "forecast_vs_actual", "feature_effects", "arms"]


class _Creds:  # a YouTube account needs an authorized-user JSON; the report never calls YouTube
    root = "https://127.0.0.1:9/"

    def authorized_user(self) -> dict:
        return {"type": "authorized_user", "token": "t", "refresh_token": "r", "client_id": "1-x.apps.googleusercontent.com",
                "client_secret": "s", "token_uri": self.root + "token"}


@pytest.fixture
def app(database, make_settings):
    settings = make_settings(metrics={"report_timezone": "Asia/Seoul"}, index={"text_embedder": "hash"})
    settings.home.mkdir(parents=True, exist_ok=True)
    application = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    yield application
    application.close()


def populate(app, tmp_path) -> dict:
    chips = add_trend(app, "chips", text="반도체 수출 급증", category="economy", score=3.5, at=NOW - 10 * D)
    tour = add_trend(app, "tour", text="World tour announced", category="entertainment", score=2.0, at=NOW - 10 * D)
    inbox = folder_account(app, "inbox", tmp_path / "outbox")
    chan = youtube_account(app, _Creds(), "채널")
    live = [(chips, "반도체 수출 급증", 3.5, "economy"), (tour, "World tour announced", 2.0, "entertainment")]
    pubs = {}
    for name, title, trend, account, published, points in [
        ("a", "반도체 수출이 늘었다", chips, inbox, NOW - 8 * D, [(1, 100, 5, 0), (24, 900, 40, 3), (72, 2500, 90, 11)]),
        ("b", "World tour: the dates", tour, chan, NOW - 5 * D + 3 * H, [(1, 40, 2, 1), (6, 300, 20, 4), (24, 1200, 60, 9)]),
        ("c", "반도체 공장 증설", chips, chan, NOW - 3 * D, [(1, 10, 1, 0), (24, 50, None, 2)]),
        ("d", "아무도 안 본 영상", tour, inbox, NOW - 2 * D, [(1, None, None, None)]),  # no stats.json: unknown
        ("e", "아직 표본 없음", None, inbox, NOW - 30 * 60 * timedelta(seconds=1), []),
    ]:
        key = f"videos/2026/11/{name}/video.mp4"
        app.files.put(key, b"\x00\x00\x00\x18ftypmp42" + name.encode() * 100)
        vid = add_video(app, name, title=title, trend_id=trend, at=published - H, path=key)
        pid = add_publication(app, vid, account, published_at=published, title=title, trends=live)
        add_samples(app, pid, [(published + h * H, v, lk, c) for h, v, lk, c in points])
        pubs[name] = pid
    return pubs


def read_csv(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def section(html: str, fid: str) -> str:
    return re.search(rf'<section id="{fid}">(.*?)</section>', html, re.S).group(1)


def test_report_from_the_database(app, tmp_path):
    pubs = populate(app, tmp_path)
    r = build_report(app, out_dir=tmp_path / "report", now=NOW)
    assert r["publications"] == 5 and r["samples"] == 9 and r["warnings"] == []
    assert r["figures"] == ["views_over_time", "views_by_trend", "views_by_category", "views_by_platform",
                            "views_by_account", "views_by_weekday_hour", *LEARNING_SECTIONS]
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert html.count('<svg') == 6 and html.count('class="plot"') == 6
    for fetches in ("<script", "<link", "src=", "@import", "<img"):  # self-contained: nothing to fetch
        assert fetches not in html
    assert not re.search(r"url\((?!#)", html) and not re.search(r'xlink:href="(?!#)', html)
    assert "<h2>영상별 조회수 추이 · Views over time per video</h2>" in html
    assert "<h2>트렌드별 조회수 · Views by trend</h2>" in html and "<h2>계정별 조회수 · Views by account</h2>" in html
    # Korean inside the plots: legend entries drawn in NanumGothic (the SVG keeps the text as a comment)
    assert "<!-- 반도체 수출이 늘었다 · folder:inbox -->" in section(html, "views_over_time")

    # CSV of samples: one row per sample, numbers equal to the rows.
    with app.db.session() as s:
        db = [(m.publication_id, m.collected_at.isoformat(), m.views, m.likes, m.comments)
              for m in s.scalars(select(MetricSample).order_by(MetricSample.publication_id, MetricSample.collected_at))]
    rows = read_csv(r["csv"]["samples"])
    as_int = lambda v: int(v) if v != "" else None  # noqa: E731
    assert [(x["publication_id"], x["collected_at"], as_int(x["views"]), as_int(x["likes"]), as_int(x["comments"]))
            for x in rows] == db
    first = next(x for x in rows if x["publication_id"] == pubs["a"])
    assert (first["trend"], first["category"], first["account"], first["hours_since_published"]) == (
        "반도체 수출 급증", "economy", "folder:inbox", "1.00")

    # CSV of publications: the latest known counts, the trends live at upload, weekday/hour in the report's zone.
    by_id = {x["publication_id"]: x for x in read_csv(r["csv"]["publications"])}
    assert set(by_id) == set(pubs.values())
    latest = {}
    for pid, _at, v, lk, c in db:
        old = latest.get(pid, (None, None, None))
        latest[pid] = (v if v is not None else old[0], lk if lk is not None else old[1], c if c is not None else old[2])
    for pid, row in by_id.items():
        assert (as_int(row["views"]), as_int(row["likes"]), as_int(row["comments"])) == latest.get(pid, (None, None, None))
    assert as_int(by_id[pubs["c"]]["likes"]) == 1  # the 24 h sample hid likes: the 1 h count stays the latest known
    assert by_id[pubs["d"]]["views"] == "" and by_id[pubs["e"]]["samples"] == "0"
    assert by_id[pubs["a"]]["trends_at_upload"] == "1. 반도체 수출 급증 | 2. World tour announced"
    b_local = (NOW - 5 * D + 3 * H).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Seoul"))
    assert (by_id[pubs["b"]]["published_weekday"], by_id[pubs["b"]]["published_hour"]) == (
        b_local.strftime("%a"), str(b_local.hour))

    # Bar values are the sums of the latest known views from the database.
    assert "<!--  2,550 -->" in section(html, "views_by_trend")  # chips: 2500 + 50
    assert "<!--  1,200 -->" in section(html, "views_by_trend")  # tour: 1200 (d unknown, left out)
    assert "2 with unknown views left out" in section(html, "views_by_trend")  # d (no stats), e (no sample yet)
    assert "<!--  1,250 -->" in section(html, "views_by_account")  # youtube:채널 = 1200 + 50
    assert "<!-- youtube:채널 (2) -->" in section(html, "views_by_account")
    assert r["total_views"] == 2500 + 1200 + 50
    # The trends live at upload time, next to each video.
    table = section(html, "trends_at_upload")
    assert table.count("<tr>") == 6 and table.count("<li>반도체 수출 급증") == 5

    # Purge every video file and the file store itself: the report is the same, byte for byte.
    before = {n: (tmp_path / "report" / n).read_bytes() for n in ("report.html", "samples.csv", "publications.csv")}
    with app.db.session() as s:
        s.execute(update(Video).values(files_purged_at=NOW, path=None))
    shutil.rmtree(app.settings.home / "files")
    again = build_report(app, out_dir=tmp_path / "report", now=NOW)
    assert again["total_views"] == r["total_views"]
    assert {n: (tmp_path / "report" / n).read_bytes() for n in before} == before


def test_report_of_an_empty_database(app, tmp_path):
    r = build_report(app, out_dir=tmp_path / "empty", now=NOW)
    assert (r["publications"], r["samples"], r["figures"]) == (0, 0, LEARNING_SECTIONS)
    html = (tmp_path / "empty" / "report.html").read_text(encoding="utf-8")
    assert "No publications yet" in html and "trendreel metrics collect" in html and "<svg" not in html
    # No model and no choice yet: each learning section says what to run instead of drawing empty axes.
    assert "trendreel learn fit" in section(html, "forecast_vs_actual") and "trendreel learn fit" in section(html, "models")
    assert "No trend choice is recorded yet" in section(html, "arms")
    assert read_csv(r["csv"]["forecasts"]) == []
    assert read_csv(r["csv"]["samples"]) == [] and read_csv(r["csv"]["publications"]) == []
    with open(r["csv"]["samples"], encoding="utf-8-sig") as fh:
        assert fh.readline().startswith("publication_id,video_id,story_id,trend_id")


def test_cli_metrics_and_report(make_settings, tmp_path, monkeypatch):
    from trendreel.bootstrap import build_app
    from trendreel.cli import app as cli

    home = tmp_path / "home"
    monkeypatch.setenv("TRENDREEL_HOME", str(home))
    application = build_app(make_settings(home=home))
    now = datetime.now(timezone.utc)
    outbox = tmp_path / "outbox"
    inbox = folder_account(application, "inbox", outbox)
    tid = add_trend(application, "cli", text="한강 불꽃축제", category="life", at=now - D)
    vid = add_video(application, "cli", title="불꽃축제 영상", trend_id=tid, at=now - D)
    pid = add_publication(application, vid, inbox, published_at=now - 2 * H)
    application.close()
    (outbox / pid).mkdir(parents=True)
    (outbox / pid / "stats.json").write_text(json.dumps({"views": 42, "likes": 3, "comments": 1}))

    runner = CliRunner()
    r = runner.invoke(cli, ["metrics", "collect", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["stored"] == 1
    r = runner.invoke(cli, ["metrics", "list", "--publication", pid, "--json"])
    assert r.exit_code == 0 and [p["views"] for p in json.loads(r.stdout)["series"]] == [42]
    r = runner.invoke(cli, ["report", "--out", str(tmp_path / "rep"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["total_views"] == 42 and out["html"] == str(tmp_path / "rep" / "report.html")
    (outbox / pid / "stats.json").write_text("[1, 2]")
    r = runner.invoke(cli, ["metrics", "collect", "--all"])
    assert r.exit_code == 1 and "folder:inbox" in r.output and "not a JSON object" in r.output


# ---- histories of other channels, and the learning loop's sections -----------------------------------

def other_channels(n: int, *, seed: int = 1) -> list[dict]:
    """n made-up histories of other channels in the import shape; far more views than ours, so a leak shows."""
    return [{"id": h.id, "platform": "youtube", "account": h.account, "title": h.title, "category": h.category,
             "tags": list(h.tags), "language": h.language,
             "samples": [{"at": x.at.isoformat(), "views": x.views, "likes": x.likes, "comments": x.comments}
                         for x in h.samples]}
            for h in synthetic_histories(n, seed=seed, start=NOW - 60 * D, days=40)]


def trend_id(app, text: str) -> str:
    with app.db.session() as s:
        return s.scalar(select(Trend.id).where(Trend.text == text))


def decide(app, trend: str, arm: str) -> None:
    """A choice as the pipeline records it (services.choose_trends)."""
    with app.db.session() as s:
        s.add(Decision(id="d" + trend[1:], made_at=NOW - 11 * D, context="test", policy="epsilon", arm=arm, rank=1,
                       trend_id=trend, model_id=None, expected_views=None, score=0.0, candidates=2, details={}))


def test_imported_histories_are_counted_but_kept_out_of_the_figures(app, tmp_path):
    pubs = populate(app, tmp_path)
    assert services.import_histories(app, lines=other_channels(40))["imported"] == 40
    r = build_report(app, out_dir=tmp_path / "report", now=NOW)
    # The figures count our 5 publications, their 9 samples and their views, nothing imported.
    assert (r["publications"], r["samples"], r["total_views"], r["imported_histories"]) == (5, 9, 2500 + 1200 + 50, 40)
    assert {x["publication_id"] for x in read_csv(r["csv"]["publications"])} == set(pubs.values())
    assert {x["publication_id"] for x in read_csv(r["csv"]["samples"])} <= set(pubs.values())
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "40 histories imported from other channels" in html and "left out of every figure" in html
    assert "channel-0" not in html and "youtube:channel" not in html  # no imported account in any bar or table
    assert "<!-- youtube:채널 (2) -->" in section(html, "views_by_account")
    assert section(html, "trends_at_upload").count("<tr>") == 6
    assert html.count("<svg") == 6  # no model yet: the learning sections are notes
    assert "40 imported histories are stored" in section(html, "models")


def test_learning_sections_come_from_the_stored_models(app, tmp_path):
    pubs = populate(app, tmp_path)
    chips, tour = trend_id(app, "반도체 수출 급증"), trend_id(app, "World tour announced")
    decide(app, chips, "ranked")   # a (2,500 views) and c (50)
    decide(app, tour, "explore")   # b (1,200) and d (views unknown)
    services.import_histories(app, lines=other_channels(60))
    services.fit_models(app)
    models = {m["kind"]: m for m in services.list_models(app)}
    assert models["cold_start"]["evaluation"]["n_imported"] == 60

    r = build_report(app, out_dir=tmp_path / "r1", now=NOW)
    assert len(services.list_models(app)) == 2  # the report loads the stored models, it never fits
    html = (tmp_path / "r1" / "report.html").read_text(encoding="utf-8")
    for fetches in ("<script", "<link", "src=", "@import", "<img"):
        assert fetches not in html

    # Forecast vs actual: each of our publications with a count, predicted by the stored models themselves.
    rows = {x["publication_id"]: x for x in read_csv(r["csv"]["forecasts"])}
    assert set(rows) == {pubs["a"], pubs["b"], pubs["c"]} and r["forecasts"] == 3  # d: no count known; e: no sample
    views = app.views_model()
    cold = views.load(app.files.get(models["cold_start"]["path"]))
    forecaster = views.load(app.files.get(models["forecaster"]["path"]))
    histories = load_histories(app.db, publication_ids=list(rows))
    by_metadata = dict(zip([h.id for h in histories], cold.predict(histories)))
    from_first = dict(zip([h.id for h in histories],
                          forecaster.predict([h.known_at(h.first.at) for h in histories], [h.last.at for h in histories])))
    for h in histories:
        row = rows[h.id]
        assert (row["cold_start_model"], row["forecaster_model"]) == (models["cold_start"]["id"], models["forecaster"]["id"])
        assert int(row["cold_start_views"]) == round(by_metadata[h.id])
        assert int(row["forecaster_views"]) == round(from_first[h.id])
        assert int(row["last_views"]) == h.last.views and row["cold_start_target"] == cold.target
        assert row["cold_start_trained_on_it"] == row["forecaster_trained_on_it"] == "True"  # fitted after its counts
    forecast = section(html, "forecast_vs_actual")
    assert forecast.count("<svg") == 1 and "predicted = actual" in forecast
    assert escape("3 of these were among the models' training histories") in forecast
    for name in ("cold-start model", "account's mean (baseline)", "forecaster", "log-linear growth (baseline)"):
        assert f"<td>{escape(name)}</td>" in forecast
    assert f"{round(by_metadata[pubs['a']]):,} *" in forecast  # in-sample forecasts are marked
    models_section = section(html, "models")
    assert "v1" in models_section and "<td class=\"n\">60</td>" in models_section

    # What drives views: both models' effects, readable names, associations and not causes.
    effects = section(html, "feature_effects")
    assert effects.count("<svg") == 2 and "associations, not causes" in effects
    assert re.search(r"<!-- (channel's|category's|views of videos|number of|title|weekday: [A-Z]|category: )", effects)
    assert not re.search(r"<!-- [a-z]+_[a-z_]+ -->", effects)  # no raw feature name in the labels

    # The arms: explore has one video with views, too few for an interval.
    arms = section(html, "arms")
    assert "Too few decided-and-published videos to compare" in arms and "(ranked 2, explore 1)" in arms
    assert "<svg" not in arms and "<td>ranked</td><td class=\"n\">2</td>" in arms

    # A publication after the fit: new to the models (scored apart), and a second explore video to compare.
    vid = add_video(app, "f", title="World tour: new dates", trend_id=tour, at=NOW - D - H)
    inbox = next(a for a in services.list_accounts(app) if a["name"] == "inbox")
    pf = add_publication(app, vid, inbox, published_at=NOW - D, title="World tour: new dates")
    add_samples(app, pf, [(NOW - D + H, 300, 10, 1), (NOW - D + 20 * H, 900, 30, 2)])
    r = build_report(app, out_dir=tmp_path / "r2", now=NOW)
    html = (tmp_path / "r2" / "report.html").read_text(encoding="utf-8")
    rows = {x["publication_id"]: x for x in read_csv(r["csv"]["forecasts"])}
    assert rows[pf]["cold_start_trained_on_it"] == rows[pf]["forecaster_trained_on_it"] == "False"
    new_counts = re.findall(r"<td>cold-start model</td><td class=\"n\">4</td>.*?<td class=\"n\">(\d+)</td>",
                            section(html, "forecast_vs_actual"))
    assert new_counts == ["1"]
    compared = services.compare_decisions(app)
    assert (compared["ranked"]["n"], compared["explore"]["n"]) == (2, 2)
    arms = section(html, "arms")
    assert arms.count("<svg") == 1 and "Too few" not in arms
    assert f"{compared['difference']['views_ratio']:.2f}×" in arms
    assert html.count("<svg") == 6 + 1 + 2 + 1

    # Models whose files are gone: the report says so and still draws the rest.
    shutil.rmtree(app.settings.home / "files")
    r = build_report(app, out_dir=tmp_path / "r3", now=NOW)
    html = (tmp_path / "r3" / "report.html").read_text(encoding="utf-8")
    assert "cannot be loaded" in section(html, "models") and read_csv(r["csv"]["forecasts"]) == []
    assert r["publications"] == 6 and section(html, "arms").count("<svg") == 1
