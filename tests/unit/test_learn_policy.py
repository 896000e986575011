"""Choosing trends by expected views (trendreel.learn.policy): what each policy picks, how its choices
are labelled, the errors it gives, compare_arms against a hand computation, and a short run of the
bench's simulated world where learning beats choosing at random."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from trendreel.learn.policy import Candidate, Choice, choose, compare_arms

ROOT = Path(__file__).resolve().parents[2]


def candidates(n: int = 10, sd: float = 0.0) -> list[Candidate]:
    # Expectations out of order, so "top k" is not just the first k given.
    values = [3.1, 4.7, 2.0, 5.5, 4.2, 3.9, 1.5, 5.0, 2.8, 4.4][:n] if n <= 10 else [float(v) for v in np.linspace(1, 6, n)]
    return [Candidate(f"t{i}", v, sd, {"i": i}) for i, v in enumerate(values)]


def keys(choices: list[Choice]) -> list[str]:
    return [c.key for c in choices]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---- ranked --------------------------------------------------------------------------------------


def test_ranked_picks_the_top_k_by_expected_views_best_first():
    got = choose(candidates(), 3, policy="ranked")
    assert keys(got) == ["t3", "t7", "t1"]  # 5.5, 5.0, 4.7
    assert [c.arm for c in got] == ["ranked"] * 3
    assert [c.rank for c in got] == [1, 2, 3]
    assert [c.policy for c in got] == ["ranked"] * 3
    assert got[0].score == 5.5 and got[0].expected_views == pytest.approx(10 ** 5.5)


def test_ties_keep_the_given_order():
    tied = [Candidate("a", 2.0), Candidate("b", 3.0), Candidate("c", 2.0), Candidate("d", 2.0)]
    assert keys(choose(tied, 3, policy="ranked")) == ["b", "a", "c"]


def test_k_larger_than_the_candidates_returns_them_all():
    for policy in ("ranked", "random", "epsilon", "thompson"):
        got = choose(candidates(4, sd=0.3), 10, policy=policy, rng=rng())
        assert sorted(keys(got)) == ["t0", "t1", "t2", "t3"], policy


def test_a_choice_is_a_plain_record():
    record = choose(candidates(), 1, policy="ranked")[0].to_dict()
    assert json.loads(json.dumps(record)) == record
    assert set(record) == {"key", "arm", "policy", "score", "expected_views", "rank"}


# ---- epsilon and random --------------------------------------------------------------------------


def test_epsilon_with_no_exploration_is_ranked():
    for seed in range(5):
        got = choose(candidates(), 4, policy="epsilon", explore_share=0.0, rng=rng(seed))
        ranked = choose(candidates(), 4, policy="ranked")
        assert keys(got) == keys(ranked)
        assert {c.arm for c in got} == {"ranked"}


def test_epsilon_with_full_exploration_is_random():
    for seed in range(5):
        got = choose(candidates(), 4, policy="epsilon", explore_share=1.0, rng=rng(seed))
        assert keys(got) == keys(choose(candidates(), 4, policy="random", rng=rng(seed)))
        assert {c.arm for c in got} == {"explore"}


def test_epsilon_labels_a_ranked_slot_as_the_best_remaining_and_explores_about_its_share():
    arms = Counter()
    for seed in range(400):
        chosen: set[str] = set()
        for choice in choose(candidates(), 3, policy="epsilon", explore_share=0.3, rng=rng(seed)):
            if choice.arm == "ranked":
                remaining = [c for c in candidates() if c.key not in chosen]
                assert choice.key == max(remaining, key=lambda c: c.expected_log10).key
            chosen.add(choice.key)
            arms[choice.arm] += 1
    assert 0.25 < arms["explore"] / (arms["explore"] + arms["ranked"]) < 0.35


def test_random_covers_the_candidates_about_evenly():
    generator, counts = rng(7), Counter()
    draws = 4000
    for _ in range(draws):
        got = choose(candidates(20), 3, policy="random", rng=generator)
        assert len(set(keys(got))) == 3  # never the same candidate twice in a decision
        assert {c.arm for c in got} == {"explore"}
        counts.update(keys(got))
    assert len(counts) == 20
    expected = draws * 3 / 20
    assert all(abs(n - expected) < 0.15 * expected for n in counts.values()), counts


def test_the_same_seed_gives_the_same_choices():
    for policy in ("random", "epsilon", "thompson"):
        first = choose(candidates(sd=0.5), 3, policy=policy, explore_share=0.5, rng=rng(42))
        assert first == choose(candidates(sd=0.5), 3, policy=policy, explore_share=0.5, rng=rng(42))
    seen = {tuple(keys(choose(candidates(), 3, policy="random", rng=rng(s)))) for s in range(10)}
    assert len(seen) > 1


# ---- thompson ------------------------------------------------------------------------------------


def test_thompson_without_uncertainty_is_ranked():
    got = choose(candidates(sd=0.0), 4, policy="thompson", rng=rng(3))
    assert keys(got) == keys(choose(candidates(), 4, policy="ranked"))
    assert {c.arm for c in got} == {"ranked"}
    assert [c.score for c in got] == [5.5, 5.0, 4.7, 4.4]


def test_thompson_labels_a_choice_outside_the_expected_top_k_as_explore():
    arms = Counter()
    for seed in range(300):
        for choice in choose(candidates(sd=1.0), 3, policy="thompson", rng=rng(seed)):
            assert choice.arm == ("ranked" if choice.rank <= 3 else "explore")
            arms[choice.arm] += 1
    assert arms["explore"] > 0 and arms["ranked"] > arms["explore"]


def test_thompson_ranks_by_its_draw():
    got = choose(candidates(sd=1.0), 5, policy="thompson", rng=rng(11))
    scores = [c.score for c in got]
    assert scores == sorted(scores, reverse=True)


def test_thompson_explores_an_uncertain_candidate_more_than_a_certain_one():
    # Two equal expectations below the top: the uncertain one gets in far more often.
    pool = [Candidate("top1", 5.0, 0.05), Candidate("top2", 4.9, 0.05),
            Candidate("sure", 4.0, 0.0), Candidate("unsure", 4.0, 1.0)]
    counts = Counter()
    generator = rng(5)
    for _ in range(500):
        counts.update(keys(choose(pool, 2, policy="thompson", rng=generator)))
    assert counts["unsure"] > 50 and counts["sure"] == 0  # P(draw > 4.9) = 18 %


# ---- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    ({"k": 0}, "k must be a whole number of at least 1"),
    ({"k": -2}, "k must be a whole number of at least 1"),
    ({"k": 1.5}, "k must be a whole number of at least 1"),
    ({"policy": "greedy"}, "unknown policy 'greedy'"),
    ({"explore_share": -0.1}, "explore_share must be between 0 and 1"),
    ({"explore_share": 1.5}, "explore_share must be between 0 and 1"),
    ({"explore_share": float("nan")}, "explore_share must be between 0 and 1"),
    ({"rng": None}, "policy 'thompson' needs rng"),
])
def test_bad_arguments_are_refused_with_a_clear_message(kwargs, message):
    args = {"k": 2, "policy": "thompson", "explore_share": 0.2, "rng": rng()} | kwargs
    k = args.pop("k")
    with pytest.raises(ValueError, match=message):
        choose(candidates(), k, **args)


def test_bad_candidates_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="no candidates"):
        choose([], 3, policy="ranked")
    with pytest.raises(ValueError, match="keys must be distinct"):
        choose([Candidate("a", 1.0), Candidate("a", 2.0)], 1, policy="ranked")
    with pytest.raises(ValueError, match="'b': sd_log10 must be a finite number >= 0"):
        choose([Candidate("a", 1.0), Candidate("b", 2.0, -0.1)], 1, policy="thompson", rng=rng())
    with pytest.raises(ValueError, match="'a': expected_log10 must be a finite number"):
        choose([Candidate("a", float("nan"))], 1, policy="ranked")


def test_ranked_needs_no_rng():
    assert keys(choose(candidates(), 2, policy="ranked", rng=None)) == ["t3", "t7"]


# ---- compare_arms --------------------------------------------------------------------------------


def test_compare_arms_gives_the_hand_computed_means_and_intervals():
    # ranked: log10 views 1, 2, 3 -> mean 2, sd 1; explore: 0, 1, 1, 2 -> mean 1, sd sqrt(2/3).
    outcomes = [("ranked", 10), ("explore", 1), ("ranked", 100), ("explore", 10), ("ranked", 1000),
                ("explore", 10), ("explore", 100), ("ranked", None), ("explore", None)]
    got = compare_arms(outcomes)
    t2, t3 = 4.302652729911275, 3.182446305284263  # t quantiles 0.975 with 2 and 3 degrees of freedom
    ranked, explore, diff = got["ranked"], got["explore"], got["difference"]
    assert ranked["n"] == 3 and ranked["mean_log10"] == pytest.approx(2.0) and ranked["sd_log10"] == pytest.approx(1.0)
    assert ranked["ci"] == pytest.approx([2 - t2 / math.sqrt(3), 2 + t2 / math.sqrt(3)])
    assert explore["n"] == 4 and explore["mean_log10"] == pytest.approx(1.0)
    half = t3 * math.sqrt(2 / 3) / 2
    assert explore["ci"] == pytest.approx([1 - half, 1 + half])
    # Welch: variances of the means 1/3 and 1/6, se sqrt(1/2), df (1/2)^2 / ((1/3)^2/2 + (1/6)^2/3) = 27/7.
    assert diff["mean_log10"] == pytest.approx(1.0) and diff["views_ratio"] == pytest.approx(10.0)
    assert diff["df"] == pytest.approx(27 / 7)
    half = stats.t.ppf(0.975, 27 / 7) * math.sqrt(0.5)
    assert diff["ci"] == pytest.approx([1 - half, 1 + half])
    assert got["skipped_unknown"] == 2 and got["level"] == 0.95


def test_compare_arms_with_too_little_data_gives_no_interval():
    got = compare_arms([("ranked", 1000), ("ranked", None)])
    assert got["ranked"] == {"n": 1, "mean_log10": 3.0, "sd_log10": None, "ci": None}
    assert got["explore"]["n"] == 0 and got["explore"]["mean_log10"] is None
    assert got["difference"]["mean_log10"] is None and got["difference"]["ci"] is None


def test_compare_arms_counts_zero_views_as_one_and_refuses_bad_records():
    assert compare_arms([("explore", 0), ("explore", 1)])["explore"]["mean_log10"] == 0.0
    with pytest.raises(ValueError, match="unknown arm 'other'"):
        compare_arms([("other", 5)])
    with pytest.raises(ValueError, match="views must be a finite number >= 0"):
        compare_arms([("ranked", -3)])


def test_choices_and_views_go_straight_into_compare_arms():
    choices = choose(candidates(sd=0.8), 5, policy="thompson", rng=rng(1))
    views = {c.key: 10 ** c.expected_log10 for c in candidates()}
    got = compare_arms([(c.arm, views[c.key]) for c in choices])
    assert got["ranked"]["n"] + got["explore"]["n"] == 5


# ---- the simulated world ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_policy", ROOT / "bench" / "bench_policy.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_a_learning_policy_collects_more_views_than_random_in_the_simulation(bench):
    run = bench.simulate(seed=0, rounds=30, n_candidates=20, k=3, refit_every=5, explore_share=0.2,
                         policies=("ranked", "thompson", "random", "oracle"))
    total = {policy: sum(r["realised"]) for policy, r in run.items()}
    expected = {policy: sum(r["expected"]) for policy, r in run.items()}
    for policy in ("ranked", "thompson"):
        assert total[policy] > total["random"], total
        assert expected["random"] < expected[policy] <= expected["oracle"], expected
    # Decisions are recorded once a model is fitted (after the first 5 rounds) and compare like any other.
    decisions = run["thompson"]["decisions"]
    assert len(decisions) == 25 * 3
    assert compare_arms(decisions)["ranked"]["n"] > 0
