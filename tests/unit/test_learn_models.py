"""The learned models on small made-up histories: fitted, they predict finite and sensible numbers,
survive a trip through bytes unchanged, and refuse bytes of another version, kind or embedder."""

from __future__ import annotations

import json
import struct
from datetime import timedelta

import numpy as np
import pytest

from trendreel.index.embedders import HashEmbedder
from trendreel.learn.baselines import LogLinearGrowth
from trendreel.learn.evaluate import cold_start_cases, early_cases, metadata_only, mse, split_by_time, truths
from trendreel.learn.features import TrainingStats, early_features, metadata_features, text_key, text_of
from trendreel.learn.history import History, Sample
from trendreel.learn.models import (
    MAGIC,
    ColdStartModel,
    EmbeddingCache,
    Forecaster,
    ModelFormatError,
    load_model,
    read_header,
)
from trendreel.learn.synthetic import SYNTHETIC_START, resample_histories, synthetic_histories

SPLIT = SYNTHETIC_START + timedelta(days=30)


@pytest.fixture(scope="module")
def data():
    return split_by_time(synthetic_histories(400, seed=3), SPLIT)


@pytest.fixture(scope="module")
def forecaster(data):
    return Forecaster().fit(data[0])


@pytest.fixture(scope="module")
def embedder():
    return HashEmbedder(dim=32)


@pytest.fixture(scope="module")
def cold(data, embedder):
    return ColdStartModel(embedder).fit(data[0])


def seen_and_times(cases):
    return [c.seen for c in cases], [c.at for c in cases]


def test_forecasts_are_finite_and_beat_the_baseline_on_made_up_growth(data, forecaster):
    train, test = data
    cases = early_cases(test)
    seen, at = seen_and_times(cases)
    got = forecaster.predict_log10(seen, at)
    assert len(got) == len(cases) and np.isfinite(got).all()
    assert mse(truths(cases), got) < mse(truths(cases), LogLinearGrowth().fit(train).predict_log10(seen, at))
    assert np.allclose(forecaster.predict(seen, at), 10 ** got)


def test_forecasts_never_fall_with_the_horizon_nor_below_what_was_seen(data, forecaster):
    seen = [c.seen for c in early_cases(data[1])]
    start = [s.first.at for s in seen]
    previous = forecaster.predict_log10(seen, start)
    assert np.allclose(previous, [np.log10(s.first.views) for s in seen])  # no horizon, today's views
    for day in [0.5, 1, 2, 3, 5, 8, 13, 30]:
        current = forecaster.predict_log10(seen, [t + timedelta(days=day) for t in start])
        assert (current >= previous - 1e-9).all()
        previous = current


def test_more_views_now_forecast_more_views_later(data, forecaster):
    h = early_cases(data[1])[0].seen
    at = h.first.at + timedelta(days=4)
    bigger = [History(h.id, (Sample(h.first.at, v, v // 50, v // 500),), account=h.account, category=h.category,
                      title=h.title, tags=h.tags) for v in (1_000, 10_000, 100_000, 1_000_000)]
    assert np.all(np.diff(forecaster.predict_log10(bigger, at)) > 0)


def test_a_forecaster_round_trips_through_bytes(data, forecaster):
    seen, at = seen_and_times(early_cases(data[1]))
    data_bytes = forecaster.to_bytes()
    header = read_header(data_bytes)
    assert header["kind"] == "forecaster" and header["format_version"] == 1
    assert "log_views" in header["features"] and "weekday" not in header["features"]
    again = Forecaster.from_bytes(data_bytes)
    assert np.array_equal(again.predict_log10(seen, at), forecaster.predict_log10(seen, at))
    assert isinstance(load_model(data_bytes), Forecaster)
    assert again.describe()["effects"] == forecaster.describe()["effects"]


def test_a_cold_start_model_round_trips_with_its_embedder(data, cold, embedder):
    cases = cold_start_cases(data[1])
    histories = [c.seen for c in cases]
    got = cold.predict_log10(histories)
    assert np.isfinite(got).all() and len(got) == len(cases)
    data_bytes = cold.to_bytes()
    header = read_header(data_bytes)
    assert header["embedder"] == {"name": "hash", "dim": 32} and "text_neighbours" in header["features"]
    again = ColdStartModel.from_bytes(data_bytes, embedder)
    assert np.array_equal(again.predict_log10(histories), got)
    assert np.array_equal(load_model(data_bytes, HashEmbedder(dim=32)).predict_log10(histories), got)


def test_a_cold_start_forecast_reads_no_count(data, cold):
    full = data[1][:20]
    blind = [metadata_only(h) for h in full]
    changed = [History(h.id, tuple(Sample(s.at, s.views * 1000 + 7) for s in h.samples), h.platform, h.account,
                       h.title, h.category, h.tags, h.language) for h in full]
    assert np.allclose(cold.predict_log10(full), cold.predict_log10(blind))
    assert np.allclose(cold.predict_log10(full), cold.predict_log10(changed))


def test_a_cold_start_forecast_follows_the_channel_record(data, cold):
    train = data[0]
    by_account = {}
    for h in train:
        by_account.setdefault(h.account, []).append(np.log10(h.first.views))
    means = {a: np.mean(v) for a, v in by_account.items() if len(v) >= 3}
    low, high = min(means, key=means.get), max(means, key=means.get)
    probe = train[0]
    pair = [History(f"p{a}", (), account=a, title=probe.title, category=probe.category, tags=probe.tags,
                    published_at=SPLIT) for a in (low, high)]
    lo, hi = cold.predict_log10(pair)
    assert hi > lo


@pytest.mark.parametrize("make", ["forecaster", "cold"])
def test_another_format_version_is_refused(request, make, embedder):
    model = request.getfixturevalue(make)
    data_bytes = model.to_bytes()
    size = struct.unpack(">I", data_bytes[len(MAGIC):len(MAGIC) + 4])[0]
    header = json.loads(data_bytes[len(MAGIC) + 4:len(MAGIC) + 4 + size])
    header["format_version"] = 99
    head = json.dumps(header).encode()
    forged = MAGIC + struct.pack(">I", len(head)) + head + data_bytes[len(MAGIC) + 4 + size:]
    with pytest.raises(ModelFormatError, match="format version 99; this code reads version 1"):
        load_model(forged, embedder)


def test_other_bytes_kinds_and_embedders_are_refused(forecaster, cold, embedder):
    with pytest.raises(ModelFormatError, match="not a trendreel.learn model"):
        Forecaster.from_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(ModelFormatError, match="'cold_start' model, not a 'forecaster'"):
        Forecaster.from_bytes(cold.to_bytes())
    with pytest.raises(ModelFormatError, match="embedder 'hash' \\(32-d\\); given 'hash' \\(16-d\\)"):
        ColdStartModel.from_bytes(cold.to_bytes(), HashEmbedder(dim=16))
    with pytest.raises(ModelFormatError, match="needs the text embedder"):
        load_model(cold.to_bytes())


def test_an_unfitted_model_says_so(embedder):
    with pytest.raises(RuntimeError, match="not fitted"):
        Forecaster().predict_log10([], None)
    with pytest.raises(RuntimeError, match="not fitted"):
        ColdStartModel(embedder).to_bytes()


def test_describe_gives_effects_and_importance(data, forecaster, cold):
    cases = early_cases(data[1])
    seen, at = seen_and_times(cases)
    report = forecaster.describe(seen, at, truths(cases))
    assert {"effects", "permutation_importance", "growth_by_day", "alpha"} <= set(report)
    assert {r["feature"] for r in report["permutation_importance"]} >= {"log_views", "account_growth_resid"}
    cold_cases = cold_start_cases(data[1])
    report = cold.describe([c.seen for c in cold_cases], None, truths(cold_cases))
    assert report["embedder"] == "hash" and any(r["feature"] == "text_embedding" for r in report["permutation_importance"])
    json.dumps(report)  # plain data, for a report


def test_features_carry_the_time_they_were_known(data):
    train, test = data
    stats = TrainingStats.fit(train)
    h = early_cases(test)[0]
    feats = early_features(h.seen, stats, h.at)
    assert feats["log_views"].known_at == h.seen.first.at
    assert feats["horizon_days"].known_at == h.at and feats["horizon_days"].value > 0
    # the training stats are known when the last training sample was taken (which may be after the split)
    assert feats["account_first_mean"].known_at == stats.known_at == max(s.at for t in train for s in t.samples)
    assert all(f.known_at <= h.at for k, f in feats.items() if not k.startswith(("account_", "category_")))
    meta = metadata_features(metadata_only(h.source), stats)
    assert "log_views" not in meta and meta["category"].value == h.source.category


def test_a_training_row_does_not_see_its_own_account_record():
    only = History("solo", (Sample(SPLIT, 1_000_000), Sample(SPLIT + timedelta(days=2), 2_000_000)), account="one",
                   category="Music")
    other = History("x", (Sample(SPLIT, 100),), account="two", category="Music")
    stats = TrainingStats.fit([only, other])
    inside = metadata_features(only, stats, leave_out=only)
    outside = metadata_features(only, stats)
    assert inside["account_videos"].value == 0.0 and outside["account_videos"].value > 0
    assert inside["account_first_mean"].value < outside["account_first_mean"].value


def test_the_embedding_cache_embeds_each_text_once(embedder):
    class Counting:
        name, dim = "count", 32

        def __init__(self):
            self.calls = 0

        def embed(self, texts):
            self.calls += len(texts)
            return embedder.embed(texts)

    counting = Counting()
    cache = EmbeddingCache(counting)
    first = cache.vectors(["a b", "c d", "a b"])
    again = cache.vectors(["c d", "a b"])
    assert counting.calls == 2 and cache.embedded == 2
    assert np.array_equal(first[0], again[1]) and text_key("a b") != text_key("c d")


def test_resampled_histories_fit_and_predict(data, embedder):
    many = resample_histories(data[0], 600, seed=1)
    assert len({h.id for h in many}) == 600
    model = Forecaster().fit(many)
    seen, at = seen_and_times(early_cases(data[1]))
    assert np.isfinite(model.predict_log10(seen, at)).all()
    assert text_of(many[0]).startswith(many[0].title)
