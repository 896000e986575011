"""The learning loop on real databases: histories imported as publications of external accounts (bad
lines reported, a second import changing nothing), features from rows (our own publications with
their trend, story and video), models fitted, stored with their evaluation and used to forecast,
trend choices recorded and compared, and the same over the CLI and the HTTP API."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import SHARED_DATA
from tests.integration.api_helpers import make_gateway
from tests.metrics_support import add_publication, add_samples, add_trend, add_video, folder_account
from trendreel import events, services
from trendreel.bootstrap import App, build_app
from trendreel.db.tables import Account, Decision, Event, LearnedModel, MetricSample, Publication
from trendreel.errors import InvalidInput
from trendreel.files.store import open_file_store
from trendreel.learn.synthetic import synthetic_histories
from trendreel.services.learning import LearnError

DEV = SHARED_DATA / "popularity-dev" / "youtube-trending-gb-2017.jsonl"
UTC = timezone.utc


def _line(h) -> dict:
    return {"id": h.id, "platform": h.platform or "youtube", "account": h.account, "title": h.title,
            "category": h.category, "tags": list(h.tags), "language": h.language, "published_at": None,
            "samples": [{"at": s.at.isoformat(), "views": s.views, "likes": s.likes, "comments": s.comments}
                        for s in h.samples]}


def history_lines(n: int = 120) -> list[dict]:
    """Real histories when the development data is beside the checkout, else made-up ones of the same shape."""
    if DEV.is_file():
        lines = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines() if x.strip()]
        return lines[:: max(1, len(lines) // n)][:n]
    return [_line(h) for h in synthetic_histories(n, seed=3)]


def write_jsonl(path: Path, lines: list) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


@pytest.fixture
def app(database, make_settings):
    settings = make_settings(index={"text_embedder": "hash"}, learn={"min_histories": 20})
    settings.home.mkdir(parents=True, exist_ok=True)
    application = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    yield application
    application.close()


def test_histories_are_imported_once_and_bad_lines_are_reported(app, tmp_path):
    lines = history_lines(30)
    bad = ["{not json", json.dumps({"title": "no id", "samples": []}),
           json.dumps({"id": "neg", "samples": [{"at": "2017-10-01T00:00:00Z", "views": -3}]})]
    path = write_jsonl(tmp_path / "h.jsonl", lines[:10] + bad + lines[10:])
    first = services.import_histories(app, path=path)
    assert (first["lines"], first["imported"], first["unchanged"]) == (33, 30, 0)
    assert [e["line"] for e in first["errors"]] == [11, 12, 13]
    assert "id: missing" in first["errors"][1]["error"] and "views" in first["errors"][2]["error"]
    samples = sum(len(x["samples"]) for x in lines)
    assert first["samples_added"] == samples

    # Again, and with one history grown by a sample and renamed: only the new sample is stored.
    grown = dict(lines[0], title="a new title", samples=lines[0]["samples"] + [
        {"at": "2030-01-01T00:00:00Z", "views": 10**7, "likes": None, "comments": None}])
    again = services.import_histories(app, lines=[grown] + lines[1:])
    assert (again["imported"], again["updated"], again["unchanged"], again["samples_added"]) == (0, 1, 29, 1)
    with app.db.session() as s:
        assert s.scalar(select(func.count()).select_from(MetricSample)) == samples + 1
        pub = s.scalar(select(Publication).where(Publication.external_id == lines[0]["id"]))
        assert pub.status == "imported" and pub.video_id is None and pub.title == lines[0]["title"]
        account = s.get(Account, pub.account_id)
        assert account.options == {"external": True} and account.name == lines[0]["account"]
        imported_events = s.scalar(select(func.count()).select_from(Event).where(
            Event.type == events.PUBLICATION_IMPORTED))
        assert imported_events == 31  # 30 histories, and the one that grew
    with pytest.raises(InvalidInput, match="not a file"):
        services.import_histories(app, path=tmp_path / "missing.jsonl")


def test_features_of_our_own_publications_come_from_their_trend_story_and_video(app, tmp_path):
    at = datetime(2026, 11, 1, 9, tzinfo=UTC)
    tid = add_trend(app, "camping", text="겨울 캠핑이 뜬다", category="life", score=3.5, at=at)
    vid = add_video(app, "camping", title="겨울 캠핑", trend_id=tid, at=at)
    account = folder_account(app, "shelf", tmp_path / "shelf")
    pid = add_publication(app, vid, account, published_at=at, title="겨울 캠핑",
                          trends=[(tid, "겨울 캠핑이 뜬다", 3.5, "life"), ("t2", "반도체", 2.0, "economy")],
                          details={"metadata": {"title": "겨울 캠핑", "tags": ["캠핑"], "language": "ko"}})
    add_samples(app, pid, [(at + timedelta(hours=1), 120, 4, 1), (at + timedelta(days=1), 900, 30, 5)])
    row = services.learning_features(app, publication_id=pid)["rows"][0]
    f = row["features"]
    assert f["category"]["value"] == "life" and f["language"]["value"] == "ko"  # from the trend, the metadata
    assert f["own_trend_score"]["value"] == 3.5 and f["own_live_trends"]["value"] == 2.0
    assert f["own_live_own_rank"]["value"] == 1.0 and f["own_story_writer"]["value"] == "template"
    assert f["own_video_aspect"]["value"] == "vertical" and f["sample1_log_views"]["value"] == pytest.approx(math.log10(120))
    assert f["weekday"]["known_at"] == at.isoformat()  # each feature says when it was known
    assert row["features_version"] == "1" and row["imported"] is False


def test_models_are_fitted_evaluated_stored_and_used_to_forecast(app, tmp_path):
    with pytest.raises(LearnError, match="fitting needs at least 20"):
        services.fit_models(app)
    services.import_histories(app, lines=history_lines(120))
    evaluation = services.evaluate_models(app)
    for task in ("from_early_samples", "from_metadata"):
        figures = evaluation[task]
        assert figures["ours"]["n"] == figures["baseline"]["n"] > 0  # always beside the baseline
        assert figures["baseline_name"] and figures["mse_ratio"] > 0
    fitted = services.fit_models(app)
    assert [(m["kind"], m["version"]) for m in fitted["models"]] == [("forecaster", 1), ("cold_start", 1)]
    for m in fitted["models"]:
        assert app.files.size(m["path"]) == m["bytes"] and m["evaluation"]["figures"]["ours"]["n"] > 0
    assert [(m["kind"], m["version"]) for m in services.fit_models(app)["models"]] == [("forecaster", 2), ("cold_start", 2)]
    assert [m["version"] for m in services.list_models(app, kind="cold_start")] == [2, 1]

    # Forecast: from the samples known so far, and from metadata alone.
    known = history_lines(120)[5]
    first = known["samples"][0]
    later = (datetime.fromisoformat(first["at"].replace("Z", "+00:00")) + timedelta(days=5)).isoformat()
    asks = [dict(known, id="with-samples", samples=[first], predict_at=later),
            {"id": "cold", "title": "Brand new trailer", "category": known["category"], "predict_at": later}]
    got = services.forecast(app, path=write_jsonl(tmp_path / "ask.jsonl", asks))
    assert [(g["id"], g["from"]) for g in got] == [("with-samples", "samples"), ("cold", "metadata")]
    assert got[0]["views"] >= first["views"] * 0.9 and got[1]["views"] > 0
    with app.db.session() as s:
        pid = s.scalar(select(Publication.id).where(Publication.external_id == known["id"]))
    one = services.forecast(app, publication_id=pid, predict_at=datetime(2031, 1, 1, tzinfo=UTC))
    assert one[0]["id"] == pid and one[0]["from"] == "samples" and one[0]["views"] > 0
    with pytest.raises(InvalidInput, match="predict_at is missing"):
        services.forecast(app, lines=[{"id": "x", "title": "t"}])


def test_trend_choices_are_recorded_with_their_policy_and_arm(app):
    at = datetime(2026, 11, 2, tzinfo=UTC)
    trends = [services.get_trend(app, add_trend(app, f"t{i}", text=f"trend {i}", score=float(i), at=at)) for i in range(6)]
    unlearned = services.choose_trends(app, trends, 2, context="test", seed=1)
    assert [t["id"] for t in unlearned] == [trends[5]["id"], trends[4]["id"]]  # no model: best score first
    assert {t["decision"]["policy"] for t in unlearned} == {"score"}

    services.import_histories(app, lines=history_lines(120))
    services.fit_models(app)
    expected = services.expected_views(app, trends)
    assert set(expected) == {t["id"] for t in trends} and all(v["views"] > 0 for v in expected.values())
    explore_all = app.with_settings(app.settings.model_copy(update={
        "learn": app.settings.learn.model_copy(update={"policy": "epsilon", "explore_share": 1.0})}))
    chosen = services.choose_trends(explore_all, trends, 3, context="test", seed=2)
    assert len(chosen) == 3 and {t["decision"]["arm"] for t in chosen} == {"explore"}
    with app.db.session() as s:
        rows = s.scalars(select(Decision).order_by(Decision.made_at)).all()
        assert len(rows) == 5 and {r.context for r in rows} == {"test"}
        assert all(r.model_id for r in rows[2:]) and all(r.expected_views for r in rows[2:])
    assert len(services.choose_now(app, count=2, context="cli")) == 2  # the stored trends, as `learn choose` does
    arms = services.compare_decisions(app)
    assert arms["decisions"] == 7 and arms["ranked"]["n"] == 0  # no video made of them yet


def test_the_cli_and_the_api_reach_the_same_use_cases(make_settings, tmp_path):
    settings = make_settings(index={"text_embedder": "hash"}, learn={"min_histories": 20})
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TRENDREEL_")},
           "TRENDREEL_INDEX__TEXT_EMBEDDER": "hash", "TRENDREEL_LEARN__MIN_HISTORIES": "20"}
    path = write_jsonl(tmp_path / "h.jsonl", history_lines(80))

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "trendreel", *args, "--home", str(settings.home), "--json"],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    assert cli("metrics", "import", str(path))["imported"] == 80
    fitted = cli("learn", "fit")
    assert fitted["evaluation"]["from_metadata"]["baseline"]["n"] > 0 and len(fitted["models"]) == 2
    assert [m["kind"] for m in cli("learn", "models")] == ["cold_start", "forecaster"]
    ask = write_jsonl(tmp_path / "ask.jsonl", [{"id": "a", "title": "Match highlights", "predict_at": "2030-01-01T00:00:00Z"}])
    assert cli("forecast", "--file", str(ask))[0]["from"] == "metadata"
    assert cli("learn", "features", "--limit", "2")["features_version"] == "1"

    gw = make_gateway(settings, build_app(settings))
    try:
        editor, viewer = gw.client("editor"), gw.client("viewer")
        got = editor.post("/api/v1/learn/histories", json={"histories": history_lines(80)[:3] + [{"id": ""}]})
        assert got.status_code == 200 and got.json()["unchanged"] == 3 and got.json()["errors"][0]["line"] == 4
        assert viewer.post("/api/v1/learn/histories", json={"histories": []}).status_code in (403, 422)
        assert [m["version"] for m in viewer.get("/api/v1/learn/models", params={"kind": "forecaster"}).json()] == [1]
        run = editor.post("/api/v1/learn/fit", json={}).json()["run"]
        assert run["kind"] == "learn"
        forecast = editor.post("/api/v1/forecast", json={"histories": [{"id": "b", "title": "x", "predict_at": "2030-01-01T00:00:00Z"}]})
        assert forecast.status_code == 200 and forecast.json()[0]["from"] == "metadata"
        assert set(viewer.get("/api/v1/learn/arms").json()) >= {"decisions", "ranked", "explore", "difference"}
    finally:
        gw.api.state.runner.shutdown(wait=True)
        gw.app.close()
