"""The learned models: a forecaster from early samples and a cold-start predictor from metadata.

Both are ridge regressions on the named features of `trendreel.learn.features`, solved in closed form
with numpy: a few thousand videos carry little signal beyond a handful of strong features, ridge
held up better than gradient-boosted trees in the training-period cross-validation, it fits 100,000
histories in seconds, its coefficients explain it, and its bytes are plain arrays (no pickle).

- `Forecaster`: log10 views at a later time from the latest known sample. It learns a multiplier of
  the log-linear baseline's growth (Szabo & Huberman): log10 v(at) = log10 v(now) + g(h) * r(x),
  g the training histories' mean growth over the horizon h, r a ridge model of the features x
  (weighted by g(h)^2, so the fit minimises the squared error of log10 views itself).
- `ColdStartModel`: log10 views of the first (or last) sample from what is known before
  publishing: category, language, text shape, time of week, the account's and category's training
  record, the text's embedding (title and tags, through an injected embedder) and the views of the
  training videos whose text is nearest ("text_neighbours").

Every model: fit(histories) -> self, predict(histories, at=...) -> views, predict_log10(...),
to_bytes() / from_bytes(), describe(). The bytes carry a format version, the model's kind, its
feature list and, for the cold-start model, the embedder's name and size; loading other bytes
raises ModelFormatError.
"""

from __future__ import annotations

import io
import json
import struct
import time
from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np

from .baselines import target_times
from .evaluate import days_between, log10_views, metadata_only
from .features import TrainingStats, early_features, metadata_features, reference_time, text_key, text_of
from .history import History

FORMAT_VERSION = 1
MAGIC = b"trendreel.learn\n"

# The forecaster leaves out the time of week: it did not help the training-period cross-validation.
FORECAST_EXCLUDED = ("weekday", "hour")


class ModelFormatError(ValueError):
    """Bytes that are not a model this code can load (another format version, another kind)."""


# ---- encoding named features as a matrix ---------------------------------------------------------


class Encoder:
    """Named feature dicts -> a standardised matrix: numeric features as they are, categorical ones
    one-hot over the values seen in training (an unseen value is all zeros); a numeric feature that
    is missing from a dict gets its training mean."""

    def __init__(self, numeric: list[str], categorical: dict[str, list[str]], mean: np.ndarray, scale: np.ndarray):
        self.numeric = numeric
        self.categorical = categorical
        self.mean = np.asarray(mean, dtype=float)
        self.scale = np.asarray(scale, dtype=float)

    @property
    def columns(self) -> list[str]:
        return self.numeric + [f"{name}={value}" for name, values in self.categorical.items() for value in values]

    @classmethod
    def fit(cls, rows: Sequence[dict]) -> Encoder:
        numeric = sorted({k for r in rows for k, v in r.items() if not isinstance(v, str)})
        categorical = {k: sorted({r[k] for r in rows if isinstance(r.get(k), str)})
                       for k in sorted({k for r in rows for k, v in r.items() if isinstance(v, str)})}
        enc = cls(numeric, categorical, np.zeros(0), np.zeros(0))
        raw = enc._raw(rows, fill=None)
        mean = np.nanmean(raw, axis=0) if len(raw) else np.zeros(raw.shape[1])
        mean = np.where(np.isnan(mean), 0.0, mean)
        raw = np.where(np.isnan(raw), mean, raw)
        scale = raw.std(axis=0)
        enc.mean, enc.scale = mean, np.where(scale > 1e-12, scale, 1.0)  # a constant column stays 0
        return enc

    def _raw(self, rows: Sequence[dict], fill: np.ndarray | None) -> np.ndarray:
        n_num = len(self.numeric)
        out = np.zeros((len(rows), len(self.columns)), dtype=float)
        offsets, at = {}, n_num
        for name, values in self.categorical.items():
            offsets[name] = (at, {v: i for i, v in enumerate(values)})
            at += len(values)
        for i, row in enumerate(rows):
            for j, name in enumerate(self.numeric):
                value = row.get(name)
                out[i, j] = np.nan if value is None else value
            for name, (start, index) in offsets.items():
                k = index.get(row.get(name))
                if k is not None:
                    out[i, start + k] = 1.0
        if fill is not None:
            missing = np.isnan(out)
            if missing.any():
                out[missing] = np.broadcast_to(fill, out.shape)[missing]
        return out

    def transform(self, rows: Sequence[dict]) -> np.ndarray:
        return (self._raw(rows, fill=self.mean) - self.mean) / self.scale

    def to_dict(self) -> dict:
        return {"numeric": self.numeric, "categorical": self.categorical}

    @classmethod
    def from_arrays(cls, data: dict, mean: np.ndarray, scale: np.ndarray) -> Encoder:
        return cls(list(data["numeric"]), {k: list(v) for k, v in data["categorical"].items()}, mean, scale)


# The penalties a model tries; leave-one-out error picks one (cheap for ridge: one eigendecomposition).
ALPHAS = tuple(float(a) for a in np.logspace(-1, 4, 16))


def fit_ridge_loo(design: np.ndarray, target: np.ndarray, weight: np.ndarray | None, relative_penalty: np.ndarray,
                  alphas: Sequence[float] = ALPHAS) -> tuple[np.ndarray, float, float, dict[float, float]]:
    """Ridge with penalty alpha * relative_penalty_j, alpha chosen from `alphas` by the weighted
    leave-one-out squared error (closed form: residual / (1 - leverage)). Returns (coefficients,
    intercept, alpha, {alpha: leave-one-out MSE}). The penalty grows with the data's size no more than
    the data asks, so the same model suits a few hundred videos or a hundred thousand."""
    w = np.ones(len(target)) if weight is None else np.asarray(weight, dtype=float)
    total = w.sum()
    x_mean = (w @ design) / total
    y_mean = float(w @ target) / total
    root_w = np.sqrt(w)
    col = 1.0 / np.sqrt(np.asarray(relative_penalty, dtype=float))
    xs = (design - x_mean) * col * root_w[:, None]  # a uniform penalty alpha in these columns
    ys = (target - y_mean) * root_w
    eig, vecs = np.linalg.eigh(xs.T @ xs)
    eig = np.maximum(eig, 0.0)
    z = xs @ vecs
    q = z.T @ ys
    z2 = z * z
    errors = {}
    for alpha in alphas:
        shrink = 1.0 / (eig + alpha)
        fitted = z @ (q * shrink)
        leverage = z2 @ shrink + w / total  # the intercept's share of each row's leverage
        errors[float(alpha)] = float(np.mean(((ys - fitted) / np.maximum(1.0 - leverage, 1e-6)) ** 2) * len(w) / total)
    best = min(errors, key=errors.get)
    coef = vecs @ (q / (eig + best)) * col
    return coef, y_mean - float(x_mean @ coef), best, errors


# ---- the bytes -----------------------------------------------------------------------------------


def _pack(header: dict, arrays: dict[str, np.ndarray]) -> bytes:
    head = json.dumps(header, ensure_ascii=False, sort_keys=True).encode("utf-8")
    body = io.BytesIO()
    np.savez_compressed(body, **arrays)
    return MAGIC + struct.pack(">I", len(head)) + head + body.getvalue()


def read_header(data: bytes) -> dict:
    """The JSON header of a model's bytes (kind, format_version, features, ...), without loading it."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or bytes(data[:len(MAGIC)]) != MAGIC:
        raise ModelFormatError("not a trendreel.learn model (the bytes do not start with its marker)")
    data = bytes(data)
    (size,) = struct.unpack(">I", data[len(MAGIC):len(MAGIC) + 4])
    try:
        return json.loads(data[len(MAGIC) + 4:len(MAGIC) + 4 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(f"a trendreel.learn model with a broken header ({exc})") from None


def _unpack(data: bytes, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    header = read_header(data)
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFormatError(f"model format version {version!r}; this code reads version {FORMAT_VERSION} only: "
                               "retrain the model with this version")
    if header.get("kind") != kind:
        raise ModelFormatError(f"these bytes are a {header.get('kind')!r} model, not a {kind!r} one")
    start = len(MAGIC) + 4 + struct.unpack(">I", bytes(data[len(MAGIC):len(MAGIC) + 4]))[0]
    with np.load(io.BytesIO(bytes(data[start:])), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return header, arrays


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _effects(columns: list[str], coef: np.ndarray, scale: np.ndarray, unit: str) -> list[dict]:
    """Coefficients as effects per standard deviation of each column, largest first."""
    rows = [{"feature": c, f"effect_per_sd_{unit}": round(float(b), 5), "sd": round(float(s), 5)}
            for c, b, s in zip(columns, coef, scale)]
    return sorted(rows, key=lambda r: -abs(r[f"effect_per_sd_{unit}"]))


def _permutation_importance(predict_design, design: np.ndarray, truth: np.ndarray, groups: dict[str, list[int]],
                            seed: int = 0) -> list[dict]:
    """How much the MSE of log10 views grows when one feature's columns are shuffled across rows."""
    rng = np.random.default_rng(seed)
    base = float(np.mean((predict_design(design) - truth) ** 2))
    out = []
    for name, cols in groups.items():
        shuffled = design.copy()
        order = rng.permutation(len(design))
        shuffled[:, cols] = design[order][:, cols]
        out.append({"feature": name, "mse_increase": round(float(np.mean((predict_design(shuffled) - truth) ** 2)) - base, 5)})
    return sorted(out, key=lambda r: -r["mse_increase"])


def _column_groups(encoder: Encoder, extra: dict[str, list[int]] | None = None) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {name: [i] for i, name in enumerate(encoder.numeric)}
    at = len(encoder.numeric)
    for name, values in encoder.categorical.items():
        groups[name] = list(range(at, at + len(values)))
        at += len(values)
    groups.update(extra or {})
    return {k: v for k, v in groups.items() if v}


# ---- forecaster from early samples ---------------------------------------------------------------


class Forecaster:
    """Views at a later time from the latest known sample and the metadata (Task A).

    Trained on each history's first sample -> its last sample at least `min_days` later (the Task A
    question: how far a trending video gets), with the account and category stats of the other
    training histories. `alpha` is the ridge penalty on standardised features; None picks it by
    leave-one-out error over ALPHAS on the training rows (`alpha_chosen` says which).
    """

    kind = "forecaster"

    def __init__(self, alpha: float | None = None, min_days: float = 2.0):
        self.alpha = None if alpha is None else float(alpha)
        self.alpha_chosen = self.alpha
        self.min_days = float(min_days)
        self.stats: TrainingStats | None = None
        self.encoder: Encoder | None = None
        self.coef = np.zeros(0)
        self.intercept = 0.0
        self.trained_on = 0
        self.created = ""

    # The feature rows: plain dicts of the feature functions' values.
    def _row(self, seen: History, at: datetime, leave_out: History | None = None) -> dict:
        return {k: f.value for k, f in early_features(seen, self.stats, at, leave_out=leave_out).items()}

    @staticmethod
    def _inputs(rows: Sequence[dict]) -> list[dict]:
        """What the multiplier r(x) sees: the rows less what this model leaves out."""
        return [{k: v for k, v in r.items() if k not in FORECAST_EXCLUDED} for r in rows]

    def fit(self, histories: Sequence[History]) -> Forecaster:
        self.stats = TrainingStats.fit(histories)
        rows, target = [], []
        for h in histories:
            if days_between(h.samples[0].at, h.samples[-1].at) >= self.min_days:
                rows.append(self._row(h.known_at(h.samples[0].at), h.samples[-1].at, leave_out=h))
                target.append(log10_views(h.samples[-1].views))
        if not rows:
            raise ValueError(f"no training history has a sample {self.min_days:g} days or more after its first")
        self.encoder = Encoder.fit(self._inputs(rows))
        design = self.encoder.transform(self._inputs(rows))
        now, growth = self._base(rows)
        # The multiplier of the baseline's growth; weight g^2 makes this the squared error of log10 views.
        ratio = (np.asarray(target) - now) / growth
        alphas = ALPHAS if self.alpha is None else (self.alpha,)
        self.coef, self.intercept, self.alpha_chosen, _ = fit_ridge_loo(design, ratio, growth ** 2,
                                                                       np.ones(design.shape[1]), alphas)
        self.trained_on, self.created = len(rows), _now()
        return self

    @staticmethod
    def _base(rows: Sequence[dict]) -> tuple[np.ndarray, np.ndarray]:
        now = np.array([r["log_views"] for r in rows], dtype=float)
        # Views never fall, so the growth is >= 0; a floor keeps the ratio finite at tiny horizons.
        growth = np.maximum(np.array([r["baseline_growth"] for r in rows], dtype=float), 1e-3)
        return now, growth

    def _check(self):
        if self.encoder is None:
            raise RuntimeError("the forecaster is not fitted: call fit(histories) or Forecaster.from_bytes(...)")

    def _rows(self, histories: Sequence[History], at) -> list[dict]:
        self._check()
        return [self._row(h, t) for h, t in zip(histories, target_times(histories, at))]

    def _predict_rows(self, rows: list[dict], design: np.ndarray) -> np.ndarray:
        """log10 views now + g(h) * r(x, h), made non-decreasing in the horizon: the most the model
        expects at any whole day up to h (or at h), and never less than the views already seen."""
        now = np.array([r["log_views"] for r in rows], dtype=float)
        horizon = np.array([r["horizon_days"] for r in rows], dtype=float)
        growth = np.array([r["baseline_growth"] for r in rows], dtype=float)
        ratio = design @ self.coef + self.intercept
        best = np.maximum(0.0, growth * ratio)
        # r depends on the horizon through two columns; take their part out and put it back per day.
        cols = {name: i for i, name in enumerate(self.encoder.numeric)}
        h_col, g_col = cols.get("horizon_days"), cols.get("baseline_growth")
        if h_col is not None or g_col is not None:
            def part(h, g):
                out = 0.0
                if h_col is not None:
                    out = out + self.coef[h_col] * (h - self.encoder.mean[h_col]) / self.encoder.scale[h_col]
                if g_col is not None:
                    out = out + self.coef[g_col] * (g - self.encoder.mean[g_col]) / self.encoder.scale[g_col]
                return out
            rest = ratio - part(horizon, growth)
            for day in range(1, int(np.ceil(horizon.max(initial=0.0)))):
                g_day = float(self.stats.growth(day, monotone=True))
                earlier = horizon > day
                if earlier.any():
                    best[earlier] = np.maximum(best[earlier], g_day * (rest[earlier] + part(float(day), g_day)))
        return now + best

    def predict_log10(self, histories: Sequence[History], at: datetime | Sequence[datetime] | None = None) -> np.ndarray:
        """log10 views of each history at `at` (one time, or one per history; None: each one's last
        sample, i.e. no growth), from its latest sample at or before that time."""
        rows = self._rows(histories, at)
        if not rows:
            return np.zeros(0)
        return self._predict_rows(rows, self.encoder.transform(self._inputs(rows)))

    def predict(self, histories: Sequence[History], at: datetime | Sequence[datetime] | None = None) -> np.ndarray:
        """Views of each history at `at`."""
        return 10.0 ** self.predict_log10(histories, at)

    def describe(self, histories: Sequence[History] | None = None, at=None, truth_log10: Sequence[float] | None = None) -> dict:
        """The model for a report: its settings, the growth table it multiplies, each feature's effect on
        the growth multiplier per standard deviation, and, given histories with their times and true
        log10 views, the permutation importance of each feature on them."""
        self._check()
        out = {"kind": self.kind, "format_version": FORMAT_VERSION, "alpha": self.alpha_chosen, "min_days": self.min_days,
               "trained_on": self.trained_on, "created": self.created,
               "growth_by_day": self.stats.growth.to_dict(), "intercept_multiplier": round(self.intercept, 5),
               "effects": _effects(self.encoder.columns, self.coef, self.encoder.scale, "growth_multiplier")}
        if histories is not None and truth_log10 is not None:
            rows = self._rows(histories, at)
            out["permutation_importance"] = _permutation_importance(
                lambda d: self._predict_rows(rows, d), self.encoder.transform(self._inputs(rows)), np.asarray(truth_log10, float),
                _column_groups(self.encoder))
        return out

    def to_bytes(self) -> bytes:
        self._check()
        header = {"format_version": FORMAT_VERSION, "kind": self.kind, "features": self.encoder.columns,
                  "encoder": self.encoder.to_dict(), "params": {"alpha": self.alpha, "min_days": self.min_days},
                  "alpha_chosen": self.alpha_chosen, "stats": self.stats.to_dict(), "intercept": self.intercept,
                  "trained_on": self.trained_on, "created": self.created}
        return _pack(header, {"coef": self.coef, "mean": self.encoder.mean, "scale": self.encoder.scale})

    @classmethod
    def from_bytes(cls, data: bytes) -> Forecaster:
        header, arrays = _unpack(data, cls.kind)
        model = cls(**header["params"])
        model.stats = TrainingStats.from_dict(header["stats"])
        model.encoder = Encoder.from_arrays(header["encoder"], arrays["mean"], arrays["scale"])
        if model.encoder.columns != header["features"]:
            raise ModelFormatError("the model's feature list does not match its encoder")
        model.coef, model.intercept = arrays["coef"], float(header["intercept"])
        model.alpha_chosen = header["alpha_chosen"]
        model.trained_on, model.created = int(header["trained_on"]), header["created"]
        return model


# ---- cold start from metadata ----------------------------------------------------------------------


class EmbeddingCache:
    """Text vectors from an injected embedder (anything with .embed(texts), .name and .dim), each text
    embedded once: keyed by the hash of the text, so resampled or re-fitted histories cost nothing."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.name = str(getattr(embedder, "name", type(embedder).__name__))
        self.dim = int(embedder.dim)
        self._vectors: dict[str, np.ndarray] = {}
        self.embedded = 0       # texts sent to the embedder
        self.seconds = 0.0      # time spent in the embedder

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        todo = {}
        for k, t in zip(keys, texts):
            if k not in self._vectors and k not in todo:
                todo[k] = t
        if todo:
            started = time.perf_counter()
            new = np.asarray(self.embedder.embed(list(todo.values())), dtype=np.float32)
            self.seconds += time.perf_counter() - started
            self.embedded += len(todo)
            if new.shape != (len(todo), self.dim):
                raise ValueError(f"embedder {self.name!r} returned shape {new.shape} for {len(todo)} texts, expected dim {self.dim}")
            self._vectors.update(zip(todo, new))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = self._vectors[k]
        return out


def _neighbour_mean(memory: np.ndarray, memory_target: np.ndarray, queries: np.ndarray, k: int,
                    exclude: np.ndarray | None = None, chunk: int = 2048) -> np.ndarray:
    """Similarity-weighted mean target of each query's k most similar memory rows (cosine: rows are
    unit vectors); exclude[i] is a memory row query i may not use (itself), or -1."""
    k = max(1, min(k, len(memory) - (1 if exclude is not None else 0)))
    out = np.empty(len(queries))
    for start in range(0, len(queries), chunk):
        sims = queries[start:start + chunk] @ memory.T
        if exclude is not None:
            rows = np.arange(len(sims))
            own = exclude[start:start + chunk]
            sims[rows[own >= 0], own[own >= 0]] = -np.inf
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(sims, idx, axis=1)
        weight = np.maximum(top, 0.0) + 1e-6
        out[start:start + chunk] = (memory_target[idx] * weight).sum(axis=1) / weight.sum(axis=1)
    return out


class ColdStartModel:
    """log10 views of a video's first (or last) sample from what is known before publishing (Task B).

    `embedder` is injected (usem in production, hash in tests) and its name is stored with the model;
    loading needs an embedder of the same name and size. `alpha` is the ridge penalty of the
    standardised features (None: picked by leave-one-out error over ALPHAS), `text_penalty` that of
    the raw embedding's dimensions relative to it, `neighbours` the k
    of the text-neighbour feature, `memory` how many of the most recent training videos it keeps for
    that (bounding the model's size and the cost of a prediction).
    """

    kind = "cold_start"

    def __init__(self, embedder, target: str = "first", alpha: float | None = None, text_penalty: float = 0.1,
                 neighbours: int = 30, memory: int = 4096, cache: EmbeddingCache | None = None):
        if target not in ("first", "last"):
            raise ValueError(f"target must be 'first' or 'last', got {target!r}")
        self.cache = cache if cache is not None else EmbeddingCache(embedder)
        if cache is not None and embedder is not None and cache.embedder is not embedder:
            raise ValueError("the cache given is for another embedder")
        self.target = target
        self.alpha = None if alpha is None else float(alpha)
        self.alpha_chosen = self.alpha
        self.text_penalty = float(text_penalty)
        self.neighbours = int(neighbours)
        self.memory = int(memory)
        self.stats: TrainingStats | None = None
        self.encoder: Encoder | None = None
        self.coef = np.zeros(0)
        self.text_coef = np.zeros(0)
        self.intercept = 0.0
        self.memory_vectors = np.zeros((0, self.cache.dim), dtype=np.float16)
        self.memory_target = np.zeros(0, dtype=np.float32)
        self.trained_on = 0
        self.created = ""

    @property
    def embedder_name(self) -> str:
        return self.cache.name

    def _target_of(self, h: History) -> float:
        return log10_views((h.samples[0] if self.target == "first" else h.samples[-1]).views)

    def _row(self, seen: History, leave_out: History | None = None) -> dict:
        return {k: f.value for k, f in metadata_features(seen, self.stats, leave_out=leave_out).items()}

    def fit(self, histories: Sequence[History]) -> ColdStartModel:
        if not histories:
            raise ValueError("no training histories")
        self.stats = TrainingStats.fit(histories)
        seen = [metadata_only(h) for h in histories]
        rows = [self._row(s, leave_out=h) for s, h in zip(seen, histories)]
        target = np.array([self._target_of(h) for h in histories])
        vectors = self.cache.vectors([text_of(h) for h in histories])
        # The neighbour memory: the most recent training videos (by the time their metadata was known).
        order = sorted(range(len(histories)), key=lambda i: (reference_time(seen[i]) or datetime.min.replace(tzinfo=timezone.utc), i))
        keep = np.array(order[-self.memory:], dtype=int)
        self.memory_vectors = vectors[keep].astype(np.float16)
        self.memory_target = target[keep].astype(np.float32)
        own = np.full(len(histories), -1)
        own[keep] = np.arange(len(keep))  # a training video never counts as its own neighbour
        near = _neighbour_mean(self.memory_vectors.astype(np.float32), self.memory_target, vectors, self.neighbours, own)
        for row, value in zip(rows, near):
            row["text_neighbours"] = float(value)
        self.encoder = Encoder.fit(rows)
        design = np.hstack([self.encoder.transform(rows), vectors])
        relative = np.concatenate([np.ones(len(self.encoder.columns)), np.full(vectors.shape[1], self.text_penalty)])
        alphas = ALPHAS if self.alpha is None else (self.alpha,)
        coef, self.intercept, self.alpha_chosen, _ = fit_ridge_loo(design, target, None, relative, alphas)
        self.coef, self.text_coef = coef[:len(self.encoder.columns)], coef[len(self.encoder.columns):]
        self.trained_on, self.created = len(histories), _now()
        return self

    def _check(self):
        if self.encoder is None:
            raise RuntimeError("the cold-start model is not fitted: call fit(histories) or ColdStartModel.from_bytes(...)")

    def _design(self, histories: Sequence[History], at) -> np.ndarray:
        self._check()
        seen = []
        for i, h in enumerate(histories):
            s = metadata_only(h)
            if s.published_at is None and at is not None:
                when = at if isinstance(at, datetime) else list(at)[i]
                s = History(s.id, (), s.platform, s.account, s.title, s.category, s.tags, s.language, when, s.extra)
            seen.append(s)
        rows = [self._row(s) for s in seen]
        vectors = self.cache.vectors([text_of(h) for h in histories])
        near = _neighbour_mean(self.memory_vectors.astype(np.float32), self.memory_target, vectors, self.neighbours)
        for row, value in zip(rows, near):
            row["text_neighbours"] = float(value)
        return np.hstack([self.encoder.transform(rows), vectors])

    def _predict_design(self, design: np.ndarray) -> np.ndarray:
        return design @ np.concatenate([self.coef, self.text_coef]) + self.intercept

    def predict_log10(self, histories: Sequence[History], at: datetime | Sequence[datetime] | None = None) -> np.ndarray:
        """log10 views of each video's first (or last, see `target`) sample. Only metadata is read: no
        count of the history is used. `at`: when the video is (to be) published, for its time-of-week
        features, where the history has neither published_at nor a sample."""
        if not len(histories):
            return np.zeros(0)
        return self._predict_design(self._design(histories, at))

    def predict(self, histories: Sequence[History], at: datetime | Sequence[datetime] | None = None) -> np.ndarray:
        return 10.0 ** self.predict_log10(histories, at)

    def describe(self, histories: Sequence[History] | None = None, at=None, truth_log10: Sequence[float] | None = None) -> dict:
        """The model for a report: settings, each named feature's effect on log10 views per standard
        deviation, the size of the text block, and, given histories and their true log10 views, the
        permutation importance of each feature (the text embedding as one)."""
        self._check()
        out = {"kind": self.kind, "format_version": FORMAT_VERSION, "target": self.target, "embedder": self.embedder_name,
               "embedder_dim": self.cache.dim, "alpha": self.alpha_chosen, "text_penalty": self.text_penalty,
               "neighbours": self.neighbours, "memory": int(len(self.memory_target)), "trained_on": self.trained_on,
               "created": self.created, "intercept_log10": round(self.intercept, 5),
               "effects": _effects(self.encoder.columns, self.coef, self.encoder.scale, "log10_views"),
               "text_embedding_coef_norm": round(float(np.linalg.norm(self.text_coef)), 5)}
        if histories is not None and truth_log10 is not None:
            design = self._design(histories, at)
            n = len(self.encoder.columns)
            groups = _column_groups(self.encoder, {"text_embedding": list(range(n, design.shape[1]))})
            out["permutation_importance"] = _permutation_importance(self._predict_design, design,
                                                                    np.asarray(truth_log10, float), groups)
        return out

    def to_bytes(self) -> bytes:
        self._check()
        header = {"format_version": FORMAT_VERSION, "kind": self.kind, "features": self.encoder.columns,
                  "text_features": f"{self.embedder_name}[{self.cache.dim}]", "embedder": {"name": self.embedder_name, "dim": self.cache.dim},
                  "encoder": self.encoder.to_dict(),
                  "params": {"target": self.target, "alpha": self.alpha, "text_penalty": self.text_penalty,
                             "neighbours": self.neighbours, "memory": self.memory},
                  "alpha_chosen": self.alpha_chosen, "stats": self.stats.to_dict(), "intercept": self.intercept,
                  "trained_on": self.trained_on, "created": self.created}
        return _pack(header, {"coef": self.coef, "text_coef": self.text_coef, "mean": self.encoder.mean,
                              "scale": self.encoder.scale, "memory_vectors": self.memory_vectors,
                              "memory_target": self.memory_target})

    @classmethod
    def from_bytes(cls, data: bytes, embedder, cache: EmbeddingCache | None = None) -> ColdStartModel:
        """A model from its bytes, with the embedder it was trained with (same name and size)."""
        header, arrays = _unpack(data, cls.kind)
        stored = header["embedder"]
        given = cache or EmbeddingCache(embedder)
        if (stored["name"], stored["dim"]) != (given.name, given.dim):
            raise ModelFormatError(f"the model was trained with the embedder {stored['name']!r} ({stored['dim']}-d); "
                                   f"given {given.name!r} ({given.dim}-d)")
        model = cls(embedder, cache=given, **header["params"])
        model.stats = TrainingStats.from_dict(header["stats"])
        model.encoder = Encoder.from_arrays(header["encoder"], arrays["mean"], arrays["scale"])
        if model.encoder.columns != header["features"]:
            raise ModelFormatError("the model's feature list does not match its encoder")
        model.coef, model.text_coef = arrays["coef"], arrays["text_coef"]
        model.intercept, model.alpha_chosen = float(header["intercept"]), header["alpha_chosen"]
        model.memory_vectors, model.memory_target = arrays["memory_vectors"], arrays["memory_target"]
        model.trained_on, model.created = int(header["trained_on"]), header["created"]
        return model


def load_model(data: bytes, embedder=None) -> Forecaster | ColdStartModel:
    """Either model from its bytes (a cold-start model needs its embedder)."""
    kind = read_header(data).get("kind")
    if kind == Forecaster.kind:
        return Forecaster.from_bytes(data)
    if kind == ColdStartModel.kind:
        if embedder is None:
            raise ModelFormatError("a cold-start model needs the text embedder it was trained with")
        return ColdStartModel.from_bytes(data, embedder)
    raise ModelFormatError(f"unknown model kind {kind!r}")
