"""Choosing which trends become stories: by expected views, with exploration, every decision recorded.

Pure: no database, no I/O. A caller turns each candidate trend into a `Candidate` (the model's
predicted log10 views and its uncertainty), asks `choose` for k of them, stores each `Choice` with
the decision (`Choice.to_dict()`), and later, once the views are known, passes `(arm, views)` records
to `compare_arms`.

Policies:
- "ranked": the top k by expected log10 views. Uses the model only, so it never learns about what
  the model undervalues.
- "random": k at random, ignoring the model (what to do before there is any model).
- "epsilon": each of the k slots is, with probability `explore_share`, a uniformly random
  not-yet-chosen candidate (arm "explore"), else the best remaining one (arm "ranked").
- "thompson": one log10 value per candidate drawn from Normal(expected, sd), the top k by the draw.
  A choice that is also in the top k by expected is arm "ranked", else "explore". Candidates the
  model is unsure about get chosen more often, and less often as `sd_log10` shrinks with data.

Arms: "ranked" is what the model would have picked anyway; "explore" is a choice made for the sake
of learning. For "epsilon" the explore arm is a uniform random sample of the candidates, so
ranked - explore estimates what ranking by the model gains over choosing at random. For "thompson"
the explore arm is the candidates the model ranks lower but is unsure about, so the difference says
how much those cost. For "random" every choice is "explore".

Randomness comes only from the `rng` passed in (a numpy Generator): the same seed gives the same
choices. Ties in a ranking keep the candidates' given order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

POLICIES = ("thompson", "epsilon", "ranked", "random")
ARMS = ("ranked", "explore")


@dataclass(frozen=True)
class Candidate:
    """A trend that could become a story.

    expected_log10: the model's predicted log10 views. sd_log10: the uncertainty of that prediction,
    in log10 views (Thompson sampling draws from Normal(expected, sd); 0 = certain). features: what
    the prediction was made from, kept for the record (the policy does not read it).
    """

    key: str
    expected_log10: float
    sd_log10: float = 0.0
    features: dict | None = None


@dataclass(frozen=True)
class Choice:
    """One chosen candidate, as it should be recorded with the decision.

    arm: "ranked" or "explore" (see the module docstring). policy: the policy that chose it.
    score: the log10 value the policy ranked by (Thompson: the draw; otherwise the model's expected
    log10, which a random pick did not use). expected_views: 10 ** expected_log10. rank: the
    candidate's place (1 = best) among all the decision's candidates by expected log10.
    The list `choose` returns is in the order the slots were filled.
    """

    key: str
    arm: str
    policy: str
    score: float
    expected_views: float
    rank: int

    def to_dict(self) -> dict:
        return asdict(self)


def _check(candidates: Sequence[Candidate], k: int, policy: str, explore_share: float, rng) -> None:
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}: expected one of {', '.join(POLICIES)}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a whole number of at least 1, got {k!r}")
    if isinstance(explore_share, bool) or not isinstance(explore_share, (int, float)) or not 0.0 <= explore_share <= 1.0:
        raise ValueError(f"explore_share must be between 0 and 1, got {explore_share!r}")
    if not candidates:
        raise ValueError("no candidates to choose from")
    keys = [c.key for c in candidates]
    if len(set(keys)) != len(keys):
        raise ValueError("candidate keys must be distinct: a decision records each candidate by its key")
    for c in candidates:
        if not math.isfinite(c.expected_log10):
            raise ValueError(f"candidate {c.key!r}: expected_log10 must be a finite number, got {c.expected_log10!r}")
        if not math.isfinite(c.sd_log10) or c.sd_log10 < 0:
            raise ValueError(f"candidate {c.key!r}: sd_log10 must be a finite number >= 0, got {c.sd_log10!r}")
    if policy != "ranked" and not isinstance(rng, np.random.Generator):
        # No hidden global randomness: a decision must be reproducible from its seed.
        raise ValueError(f"policy {policy!r} needs rng=numpy.random.default_rng(seed), got {rng!r}")


def _top(values: np.ndarray, k: int) -> list[int]:
    """Indices of the k largest values, largest first; ties keep the given order."""
    return [int(i) for i in np.argsort(-values, kind="stable")[:k]]


def choose(candidates: Sequence[Candidate], k: int, *, policy: str = "thompson", explore_share: float = 0.2,
           rng: np.random.Generator | None = None) -> list[Choice]:
    """k of `candidates` by `policy` (all of them, in the policy's order, when there are k or fewer).

    explore_share is the chance of a random slot for "epsilon" (other policies ignore it). rng is
    required by every policy but "ranked". Raises ValueError for k < 1, an unknown policy,
    explore_share outside [0, 1], no candidates, repeated keys, or a non-finite expectation or
    negative sd.
    """
    candidates = list(candidates)
    _check(candidates, k, policy, explore_share, rng)
    k = min(int(k), len(candidates))
    expected = np.array([c.expected_log10 for c in candidates], dtype=float)
    by_expected = _top(expected, len(candidates))
    rank = {i: r + 1 for r, i in enumerate(by_expected)}

    picks: list[tuple[int, str, float]] = []  # (candidate index, arm, score)
    if policy == "ranked":
        picks = [(i, "ranked", expected[i]) for i in by_expected[:k]]
    elif policy in ("epsilon", "random"):
        # "random" is epsilon with every slot explored: the same draws, so the same seed gives the same picks.
        share = 1.0 if policy == "random" else float(explore_share)
        remaining = list(by_expected)  # best first
        for _ in range(k):
            if rng.random() < share:
                i = remaining.pop(int(rng.integers(len(remaining))))
                picks.append((i, "explore", expected[i]))
            else:
                i = remaining.pop(0)
                picks.append((i, "ranked", expected[i]))
    else:  # thompson
        sd = np.array([c.sd_log10 for c in candidates], dtype=float)
        draws = rng.normal(expected, sd)  # sd 0 gives the expectation itself
        top_expected = set(by_expected[:k])
        picks = [(i, "ranked" if i in top_expected else "explore", draws[i]) for i in _top(draws, k)]

    return [Choice(key=candidates[i].key, arm=arm, policy=policy, score=float(score),
                   expected_views=float(10.0 ** expected[i]), rank=rank[i]) for i, arm, score in picks]


# ---- comparing the arms ---------------------------------------------------------------------------


def _log10_views(views) -> float:
    value = float(views)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"views must be a finite number >= 0 or None, got {views!r}")
    return math.log10(max(value, 1.0))  # 0 views count as 1, as everywhere in trendreel.learn


def _summary(values: list[float], level: float) -> dict:
    n = len(values)
    if n == 0:
        return {"n": 0, "mean_log10": None, "sd_log10": None, "ci": None}
    mean = sum(values) / n
    if n == 1:
        return {"n": 1, "mean_log10": mean, "sd_log10": None, "ci": None}  # one value says nothing of the spread
    sd = float(np.std(values, ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return {"n": n, "mean_log10": mean, "sd_log10": sd, "ci": [mean - half, mean + half]}


def _welch(a: dict, b: dict, level: float) -> dict:
    """a - b with Welch's confidence interval (unequal variances)."""
    if a["n"] == 0 or b["n"] == 0:
        return {"mean_log10": None, "ci": None, "df": None, "views_ratio": None}
    diff = a["mean_log10"] - b["mean_log10"]
    out = {"mean_log10": diff, "ci": None, "df": None, "views_ratio": 10.0 ** diff}
    if a["n"] < 2 or b["n"] < 2:
        return out
    va, vb = a["sd_log10"] ** 2 / a["n"], b["sd_log10"] ** 2 / b["n"]
    se = math.sqrt(va + vb)
    if se == 0.0:  # both arms without spread: the difference is exact
        out["ci"] = [diff, diff]
        return out
    df = (va + vb) ** 2 / (va ** 2 / (a["n"] - 1) + vb ** 2 / (b["n"] - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    out.update(ci=[diff - half, diff + half], df=df)
    return out


def compare_arms(outcomes: Iterable[tuple[str, float | None]], *, level: float = 0.95) -> dict:
    """Per arm, the mean log10 views of its choices with a t confidence interval, and ranked - explore.

    outcomes: `(arm, views)` records, arm "ranked" or "explore"; views None (not known yet) are
    skipped and counted. Returns {"ranked": {n, mean_log10, sd_log10, ci}, "explore": {...},
    "difference": {mean_log10, ci, df, views_ratio}, "level", "skipped_unknown"}. `ci` is
    [low, high], None with fewer than 2 views in an arm. The difference is ranked - explore with
    Welch's interval; views_ratio = 10 ** difference, the ratio of the arms' geometric mean views.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")
    by_arm: dict[str, list[float]] = {arm: [] for arm in ARMS}
    skipped = 0
    for record in outcomes:
        arm, views = record
        if arm not in by_arm:
            raise ValueError(f"unknown arm {arm!r}: expected one of {', '.join(ARMS)}")
        if views is None:
            skipped += 1
            continue
        by_arm[arm].append(_log10_views(views))
    out = {arm: _summary(values, level) for arm, values in by_arm.items()}
    out["difference"] = {"what": "ranked - explore", **_welch(out["ranked"], out["explore"], level)}
    out["level"] = level
    out["skipped_unknown"] = skipped
    return out
