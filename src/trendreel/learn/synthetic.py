"""Histories made up or resampled, for tests and for the scale check of the bench (no real data needed).

- `synthetic_histories`: channels with their own typical level and growth, trending for a few days
  with views growing like log10 v(t) = log10 v(0) + m * 0.35 * log2(1 + t) and likes/comments in
  proportion; titles from a small vocabulary per category. Deterministic for a seed.
- `resample_histories`: real histories drawn with replacement under new ids, their counts scaled by
  one random factor each and their channels split into `account_splits` look-alikes, so 100,000 of
  them have the shape of real data (and the same texts, which an embedding cache serves once).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from .history import History, Sample

CATEGORY_WORDS = {
    "Music": ["official", "video", "live", "remix", "song", "lyrics", "album", "tour"],
    "Gaming": ["gameplay", "walkthrough", "update", "boss", "speedrun", "review", "trailer", "mod"],
    "Comedy": ["sketch", "prank", "funny", "fails", "parody", "stand-up", "reacts", "bloopers"],
    "News & Politics": ["minister", "election", "report", "interview", "crisis", "vote", "debate", "breaking"],
    "Howto & Style": ["makeup", "tutorial", "haul", "routine", "hair", "diy", "tips", "recipe"],
}
SYNTHETIC_START = datetime(2030, 1, 1, tzinfo=timezone.utc)


def synthetic_histories(n: int, *, seed: int = 0, accounts: int | None = None, days: int = 40,
                        start: datetime = SYNTHETIC_START) -> list[History]:
    """`n` made-up trending histories over `days` days from `start` (one sample a day at 00:00 UTC)."""
    rng = random.Random(seed)
    n_accounts = accounts or max(1, n // 4)
    categories = sorted(CATEGORY_WORDS)
    channels = []
    for a in range(n_accounts):
        channels.append({"name": f"channel-{a:05d}", "category": rng.choice(categories),
                         "level": rng.gauss(5.3, 0.6), "growth": math.exp(rng.gauss(0.0, 0.3)),
                         "likes": rng.gauss(-1.6, 0.3)})
    out = []
    for i in range(n):
        ch = channels[rng.randrange(n_accounts)]
        words = CATEGORY_WORDS[ch["category"]]
        title = " ".join(rng.choice(words) for _ in range(rng.randint(2, 7))).capitalize()
        first_day = start + timedelta(days=rng.randrange(days))
        level = ch["level"] + rng.gauss(0.0, 0.4)
        growth = ch["growth"] * math.exp(rng.gauss(0.0, 0.2))
        likes = ch["likes"] + rng.gauss(0.0, 0.2)
        samples = []
        for d in range(1 + min(11, int(rng.expovariate(1 / 3.5)))):
            lv = level + growth * 0.35 * math.log2(1 + d) + rng.gauss(0.0, 0.01)
            views = int(10 ** lv)
            samples.append(Sample(first_day + timedelta(days=d), views, int(views * 10 ** likes),
                                  int(views * 10 ** (likes - 1.0))))
        # views never fall: noise may not make a later count smaller
        for k in range(1, len(samples)):
            if samples[k].views < samples[k - 1].views:
                samples[k] = replace(samples[k], views=samples[k - 1].views)
        out.append(History(id=f"syn-{seed}-{i:07d}", samples=tuple(samples), platform="youtube", account=ch["name"],
                           title=title, category=ch["category"], tags=tuple(rng.sample(words, 3)), language="en"))
    return out


def resample_histories(histories: Sequence[History], n: int, *, seed: int = 0, account_splits: int = 20) -> list[History]:
    """`n` histories drawn with replacement from `histories`, each under a new id with its counts
    multiplied by one random factor (0.5x-2x) and its channel one of `account_splits` look-alikes."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        h = histories[rng.randrange(len(histories))]
        factor = 2.0 ** rng.uniform(-1.0, 1.0)
        samples = tuple(Sample(s.at, int(s.views * factor),
                               None if s.likes is None else int(s.likes * factor),
                               None if s.comments is None else int(s.comments * factor)) for s in h.samples)
        account = f"{h.account}~{rng.randrange(account_splits)}" if h.account else ""
        out.append(replace(h, id=f"{h.id}~{i}", samples=samples, account=account))
    return out
