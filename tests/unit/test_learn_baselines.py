"""The baselines and the evaluation protocol: the dev data README's figures are reproduced exactly, and
the growth table, folds and scores behave on small made-up data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from trendreel.learn.baselines import AccountMean, GrowthTable, LogLinearGrowth
from trendreel.learn.evaluate import (
    DEV_SPLIT_AT,
    cold_start_cases,
    early_cases,
    score,
    split_by_time,
    time_folds,
    truths,
)
from trendreel.learn.history import History, Sample, load_histories
from trendreel.learn.synthetic import synthetic_histories

REPO = Path(__file__).resolve().parents[2]
DEV_DATA = REPO.parent / "shared" / "data" / "popularity-dev" / "youtube-trending-gb-2017.jsonl"


@pytest.fixture(scope="module")
def dev_split():
    if not DEV_DATA.is_file():
        pytest.skip(f"the dev data is not here ({DEV_DATA.relative_to(REPO.parent)})")
    return split_by_time(load_histories(DEV_DATA), DEV_SPLIT_AT)


def test_the_split_matches_the_readme(dev_split):
    train, test = dev_split
    assert (len(train), len(test)) == (990, 746)


def test_log_linear_growth_reproduces_the_readme(dev_split):
    train, test = dev_split
    cases = early_cases(test)
    predicted = LogLinearGrowth().fit(train).predict_log10([c.seen for c in cases], [c.at for c in cases])
    got = score(truths(cases), predicted)
    assert got["n"] == 571
    assert round(got["mse_log10"], 3) == 0.053 and round(got["spearman"], 3) == 0.953


def test_account_mean_reproduces_the_readme_on_the_first_sample(dev_split):
    train, test = dev_split
    cases = cold_start_cases(test, target="first")
    got = score(truths(cases), AccountMean("first").fit(train).predict_log10([c.seen for c in cases]))
    assert got["n"] == 746
    assert round(got["mse_log10"], 3) == 0.377 and round(got["spearman"], 3) == 0.517


def test_cold_start_cases_see_no_count(dev_split):
    _, test = dev_split
    assert all(c.seen.samples == () and c.seen.published_at == c.source.first.at for c in cold_start_cases(test))


def test_time_folds_are_contiguous_blocks_of_days(dev_split):
    train, _ = dev_split
    folds = time_folds(train, 5)
    assert len(folds) == 5
    seen = []
    for fit_idx, val_idx in folds:
        assert not set(fit_idx) & set(val_idx) and len(fit_idx) + len(val_idx) == len(train)
        days = sorted({train[i].first.at.date() for i in val_idx})
        seen.append((days[0], days[-1]))
        assert 120 <= len(val_idx) <= 260
    assert all(a[1] < b[0] for a, b in zip(seen, seen[1:]))
    assert sorted(i for _, v in folds for i in v) == list(range(len(train)))


T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


def hist(hid: str, views: list[int], account: str = "a", category: str = "Music", start: datetime = T0) -> History:
    return History(hid, tuple(Sample(start + timedelta(days=d), v) for d, v in enumerate(views)), account=account,
                   category=category)


def test_growth_table_is_the_mean_by_day_interpolated_and_flat_past_the_end():
    table = GrowthTable.fit([hist("x", [100, 1000, 10000]), hist("y", [100, 100])])
    assert table.days.tolist() == [1, 2]
    assert np.allclose(table([0, 1, 2, 1.5, 9]), [0.0, 0.5, 2.0, 1.25, 2.0])
    assert np.allclose(GrowthTable.from_dict(table.to_dict())([1, 2]), [0.5, 2.0])


def test_log_linear_growth_adds_the_mean_growth_to_the_latest_sample():
    model = LogLinearGrowth().fit([hist("x", [100, 1000, 10000]), hist("y", [100, 100])])
    seen = hist("z", [1000])
    assert np.allclose(model.predict_log10([seen], T0 + timedelta(days=2)), [5.0])
    assert np.allclose(model.predict([seen], [T0]), [1000.0])  # no horizon, no growth


def test_account_mean_falls_back_to_the_category_then_all():
    model = AccountMean("last").fit([hist("x", [10, 1000], "a", "Music"), hist("y", [10, 10], "b", "Music"),
                                     hist("z", [100000], "c", "Gaming")])
    got = model.predict_log10([hist("p", [1], "a"), hist("q", [1], "new", "Music"), hist("r", [1], "new", "Sports")])
    assert np.allclose(got, [3.0, 2.0, 3.0])


def test_score_is_mse_and_spearman():
    assert score([1, 2, 3], [1, 2, 5]) == {"n": 3, "mse_log10": round(4 / 3, 4), "spearman": 1.0}


def test_baselines_on_synthetic_data_are_finite():
    train, test = split_by_time(synthetic_histories(300, seed=1), T0 + timedelta(days=30))
    cases = early_cases(test)
    assert cases and np.isfinite(LogLinearGrowth().fit(train).predict_log10([c.seen for c in cases], [c.at for c in cases])).all()
