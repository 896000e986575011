"""Choosing trends by expected views: the policies of trendreel.learn.policy in a simulated world.

THE WORLD IS SYNTHETIC, built for this bench: it shows that a policy learns from the views it
records and what exploration costs or gains, NOT that real views follow this world. Each seed draws
a new world:

- a candidate trend has a category (8), a kind (6: breaking, explainer, ...), the hour it would be
  published (0-23) and the trend detector's score (standard normal);
- its true mean log10 views = 4 + category effect (sd 0.3) + kind effect (sd 0.25)
  + 0.2 cos(2 pi (hour - peak hour) / 24) + 0.1 x trend score + a category-kind interaction
  (sd 0.1, which the policies' model cannot represent);
- the views it gets when made: 10 ** (true mean + Normal(0, --noise-sd 0.4)), log-normal around the
  true mean.

Each round --candidates trends appear (features drawn at random) and each policy chooses --choices
of them. The candidates and the noise of their views are the same for every policy of a seed
(common random numbers), so the policies differ only by what they choose. A learning policy sees
only the views of what it chose. Every --refit-every rounds it refits its model on everything it
has observed: ridge (`trendreel.learn.models.fit_ridge_loo`, penalty by leave-one-out error) on
category and kind one-hot, the hour as sin/cos, and the trend score. Until the first fit (no data)
it chooses at random. A candidate's sd_log10 for Thompson sampling is the standard error of the
model's prediction (ridge as a Bayesian linear model: residual variance x the posterior covariance),
which shrinks as data comes in; `thompson_residual_sd` passes the residual sd instead, the noise of
one video's views, which never shrinks.

Policies: ranked, epsilon (--explore-share 0.2), thompson, thompson_residual_sd, random, and the
oracle, which ranks by the true means. Per policy, over --seeds worlds (mean over seeds): total
views collected, mean views per round, share of the oracle's views, regret (the oracle's expected
views minus the policy's, expected views being the true mean's log-normal expectation, so the
outcome noise does not enter), the share of the oracle's expected views in the first and last fifth
of the rounds (does it learn?), and `compare_arms` over the decisions after the first fit, pooled
over seeds. `relative_to_random`: each policy's total views / random's, per seed, with a 95 % t
interval over the seeds, for the views collected and for the expected views (steadier, as one
video's heavy-tailed luck is left out). `relative_to_ranked`: the same for each exploring policy
against ranked in the same worlds.

Prints one JSON object; progress goes to stderr.

    python bench/bench_policy.py [--rounds 200] [--candidates 20] [--choices 3] [--seeds 5]
                                 [--refit-every 5] [--explore-share 0.2] [--noise-sd 0.4]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass

import numpy as np
from scipy import stats

from trendreel.learn.models import Encoder, fit_ridge_loo
from trendreel.learn.policy import Candidate, choose, compare_arms

CATEGORIES = ("politics", "sports", "entertainment", "technology", "science", "business", "health", "lifestyle")
KINDS = ("breaking", "explainer", "meme", "product", "person", "event")
BASE_LOG10 = 4.0
NOISE_SD = 0.4
# A model needs a few rows before its leave-one-out penalty means anything.
MIN_ROWS_TO_FIT = 10
LEARNING_POLICIES = ("ranked", "epsilon", "thompson", "thompson_residual_sd")
POLICIES = (*LEARNING_POLICIES, "random", "oracle")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---- the world -------------------------------------------------------------------------------------


@dataclass
class World:
    """What really drives views in one simulated world (the policies never see it)."""

    category_effect: dict[str, float]
    kind_effect: dict[str, float]
    interaction: dict[tuple[str, str], float]
    peak_hour: float
    hour_amplitude: float = 0.2
    score_weight: float = 0.1
    noise_sd: float = NOISE_SD

    @classmethod
    def draw(cls, rng: np.random.Generator, noise_sd: float = NOISE_SD) -> World:
        return cls(category_effect={c: float(rng.normal(0, 0.3)) for c in CATEGORIES},
                   kind_effect={k: float(rng.normal(0, 0.25)) for k in KINDS},
                   interaction={(c, k): float(rng.normal(0, 0.1)) for c in CATEGORIES for k in KINDS},
                   peak_hour=float(rng.uniform(0, 24)), noise_sd=noise_sd)

    def true_log10(self, trend: dict) -> float:
        hour_term = self.hour_amplitude * math.cos(2 * math.pi * (trend["hour"] - self.peak_hour) / 24)
        return (BASE_LOG10 + self.category_effect[trend["category"]] + self.kind_effect[trend["kind"]]
                + self.interaction[(trend["category"], trend["kind"])] + hour_term
                + self.score_weight * trend["trend_score"])

    def expected_views(self, true_log10: float) -> float:
        """E[views] of a log-normal: 10 ** mean times exp((sd ln 10)^2 / 2)."""
        return 10.0 ** true_log10 * math.exp((self.noise_sd * math.log(10)) ** 2 / 2)


def draw_round(world: World, rng: np.random.Generator, n: int, round_no: int) -> list[dict]:
    """n candidate trends with their true mean and the log10 views each would get if made."""
    out = []
    for i in range(n):
        trend = {"category": str(rng.choice(CATEGORIES)), "kind": str(rng.choice(KINDS)),
                 "hour": int(rng.integers(24)), "trend_score": float(rng.normal())}
        true = world.true_log10(trend)
        out.append({"key": f"r{round_no}-t{i}", "trend": trend, "true_log10": true,
                    "views_log10": true + float(rng.normal(0, world.noise_sd))})
    return out


# ---- what a policy learns ------------------------------------------------------------------------


def model_features(trend: dict) -> dict:
    """What the policies' model sees: the hour as a point on a circle (23 h is next to 0 h)."""
    angle = 2 * math.pi * trend["hour"] / 24
    return {"category": trend["category"], "kind": trend["kind"], "hour_sin": math.sin(angle),
            "hour_cos": math.cos(angle), "trend_score": trend["trend_score"]}


class Learner:
    """Ridge on the views a policy has observed, with the standard error of each prediction."""

    def __init__(self):
        self.rows: list[dict] = []
        self.targets: list[float] = []
        self.fitted = False

    def observe(self, features: dict, views_log10: float) -> None:
        self.rows.append(features)
        self.targets.append(views_log10)

    def refit(self) -> None:
        if len(self.rows) < MIN_ROWS_TO_FIT:
            return
        self.encoder = Encoder.fit(self.rows)
        design = self.encoder.transform(self.rows)
        target = np.asarray(self.targets)
        self.coef, self.intercept, alpha, errors = fit_ridge_loo(design, target, None, np.ones(design.shape[1]))
        # Ridge as a Bayesian linear model: coefficients ~ Normal(0, s^2 / alpha), residual variance s^2
        # (its leave-one-out estimate); the posterior covariance of the coefficients is s^2 (X'X + alpha I)^-1.
        self.residual_var = errors[alpha]
        self.x_mean = design.mean(axis=0)
        centred = design - self.x_mean
        self.cov = self.residual_var * np.linalg.inv(centred.T @ centred + alpha * np.eye(design.shape[1]))
        self.n = len(target)
        self.fitted = True

    def predict(self, rows: list[dict]) -> tuple[np.ndarray, np.ndarray, float]:
        """(expected log10 views, standard error of that expectation, residual sd)."""
        x = self.encoder.transform(rows)
        mean = x @ self.coef + self.intercept
        centred = x - self.x_mean
        se = np.sqrt(self.residual_var / self.n + np.einsum("ij,jk,ik->i", centred, self.cov, centred))
        return mean, se, math.sqrt(self.residual_var)


# ---- one simulated run ---------------------------------------------------------------------------


def simulate(seed: int, rounds: int, n_candidates: int, k: int, refit_every: int, explore_share: float,
             policies: tuple[str, ...] = POLICIES, noise_sd: float = NOISE_SD) -> dict:
    """One world, every policy in it. Per policy: per-round realised and expected views, and the
    (arm, views) decisions made with a fitted model."""
    world_rng = np.random.default_rng([seed, 0])
    world = World.draw(world_rng, noise_sd)
    rounds_data = [draw_round(world, world_rng, n_candidates, r) for r in range(rounds)]
    out = {}
    for p_index, policy in enumerate(policies):
        rng = np.random.default_rng([seed, 1, p_index])
        learner = Learner()
        realised, expected, decisions = [], [], []
        for r, cands in enumerate(rounds_data):
            rows = [model_features(c["trend"]) for c in cands]
            if policy == "oracle":
                choices = choose([Candidate(c["key"], c["true_log10"]) for c in cands], k, policy="ranked")
            elif policy == "random" or not learner.fitted:
                choices = choose([Candidate(c["key"], 0.0) for c in cands], k, policy="random", rng=rng)
            else:
                mean, se, resid_sd = learner.predict(rows)
                sd = np.full(len(cands), resid_sd) if policy == "thompson_residual_sd" else se
                name = "thompson" if policy.startswith("thompson") else policy
                choices = choose([Candidate(c["key"], float(m), float(s), row) for c, m, s, row in zip(cands, mean, sd, rows)],
                                 k, policy=name, explore_share=explore_share, rng=rng)
            by_key = {c["key"]: (c, row) for c, row in zip(cands, rows)}
            got = exp = 0.0
            for choice in choices:
                cand, row = by_key[choice.key]
                views = 10.0 ** cand["views_log10"]
                got += views
                exp += world.expected_views(cand["true_log10"])
                learner.observe(row, cand["views_log10"])
                if learner.fitted and policy in LEARNING_POLICIES:
                    decisions.append((choice.arm, views))
            realised.append(got)
            expected.append(exp)
            if policy in LEARNING_POLICIES and (r + 1) % refit_every == 0:
                learner.refit()
        out[policy] = {"realised": realised, "expected": expected, "decisions": decisions}
    return out


# ---- the figures ---------------------------------------------------------------------------------


def mean_ci(values: list[float], level: float = 0.95) -> dict:
    n = len(values)
    mean = float(np.mean(values))
    if n < 2:
        return {"mean": mean, "ci95": None, "n": n}
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(np.std(values, ddof=1)) / math.sqrt(n)
    return {"mean": mean, "ci95": [mean - half, mean + half], "n": n}


def relative(runs: list[dict], policy: str, other: str) -> dict:
    """policy's total views / other's, per seed, with a t interval over the seeds: of the views
    collected, and of the expected views (steadier: the heavy tail of one video's views left out)."""
    out = {}
    for what in ("realised", "expected"):
        ratios = [sum(run[policy][what]) / sum(run[other][what]) for run in runs]
        out["views" if what == "realised" else "expected_views"] = _rounded({**mean_ci(ratios), "by_seed": ratios})
    return out


def summarise(runs: list[dict], rounds: int) -> dict:
    fifth = max(1, rounds // 5)
    out = {"policies": {}, "relative_to_random": {}, "relative_to_ranked": {}}
    for policy in runs[0]:
        totals = [sum(run[policy]["realised"]) for run in runs]
        share = [sum(run[policy]["realised"]) / sum(run["oracle"]["realised"]) for run in runs]
        regret = [sum(run["oracle"]["expected"]) - sum(run[policy]["expected"]) for run in runs]
        first = [sum(run[policy]["expected"][:fifth]) / sum(run["oracle"]["expected"][:fifth]) for run in runs]
        last = [sum(run[policy]["expected"][-fifth:]) / sum(run["oracle"]["expected"][-fifth:]) for run in runs]
        entry = {"total_views": round(float(np.mean(totals))),
                 "total_views_by_seed": [round(t) for t in totals],
                 "mean_views_per_round": round(float(np.mean(totals)) / rounds),
                 "share_of_oracle": round(float(np.mean(share)), 4),
                 "regret_expected_views": round(float(np.mean(regret))),
                 "regret_share_of_oracle_expected": round(float(np.mean(
                     [g / sum(run["oracle"]["expected"]) for g, run in zip(regret, runs)])), 4),
                 "share_of_oracle_expected_first_fifth": round(float(np.mean(first)), 4),
                 "share_of_oracle_expected_last_fifth": round(float(np.mean(last)), 4)}
        decisions = [d for run in runs for d in run[policy]["decisions"]]
        if decisions:
            entry["arms"] = _rounded(compare_arms(decisions))
        out["policies"][policy] = entry
        if policy != "random":
            out["relative_to_random"][policy] = relative(runs, policy, "random")
        if policy in LEARNING_POLICIES and policy != "ranked":
            # Paired by world: does exploring beat plain ranking in the same worlds?
            out["relative_to_ranked"][policy] = relative(runs, policy, "ranked")
    return out


def _rounded(value, digits: int = 4):
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    return value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--candidates", type=int, default=20, help="candidate trends per round")
    ap.add_argument("--choices", type=int, default=3, help="trends chosen per round (k)")
    ap.add_argument("--seeds", type=int, default=5, help="simulated worlds")
    ap.add_argument("--refit-every", type=int, default=5, help="rounds between refits of a policy's model")
    ap.add_argument("--explore-share", type=float, default=0.2, help="epsilon's chance of a random slot")
    ap.add_argument("--noise-sd", type=float, default=NOISE_SD, help="sd of a video's log10 views around its true mean")
    args = ap.parse_args()

    started = time.perf_counter()
    runs = []
    for seed in range(args.seeds):
        log(f"seed {seed}")
        runs.append(simulate(seed, args.rounds, args.candidates, args.choices, args.refit_every, args.explore_share,
                             noise_sd=args.noise_sd))
    result = {"world": "synthetic, built for this bench (see the docstring): it shows the policies learn, "
                       "not that real views follow it",
              "settings": {"rounds": args.rounds, "candidates": args.candidates, "choices": args.choices,
                           "seeds": args.seeds, "refit_every": args.refit_every, "explore_share": args.explore_share,
                           "noise_sd_log10": args.noise_sd, "min_rows_to_fit": MIN_ROWS_TO_FIT},
              **summarise(runs, args.rounds),
              "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
