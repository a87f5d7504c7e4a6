"""The three learnt detectors on PPC deviation features, ready for ``ScanPipeline``.

Each takes what the pipeline feeds it (``sequence`` (n, L, 10): the last L periods'
count-aware deviations, oldest first; ``deviation`` (n, 10) for the half-space trees), scores
whole batches in one call, and round-trips through ``export`` / ``load``. Their scores are
calibrated with ``CompactTail(tail="gpd")`` (``tail_model``): empirical ranks inside the
training sample, a generalised-Pareto extrapolation beyond it — their scores are bounded or
light-tailed, and a Pareto-like tail would never let them below ~1e-3.

* ``PPCIsolationForest`` — ``training.isolation_forest`` at fit time (scikit-learn, lazily
  imported), one ``TreeEnsembleRegressor`` ONNX graph at scan time, on the last period's
  deviations plus its ``features.relations`` (CTR, placement and bot-click relations,
  accumulated over 1-4 periods): the multivariate, multi-day evidence the per-feature count
  model cannot see. Trees are invariant to monotone rescaling, so the rows go in raw.
* ``PPCLSTM`` — ``training.lstm_autoencoder`` (torch, lazily imported) on the last L periods'
  channels: the deviations squashed by sign(x)·log1p(|x|) (one 500σ day must not dominate the
  training loss), then the relations accumulated over every span, within ±6σ but not
  squashed (an autoencoder cannot echo back a relation beyond anything it was trained on —
  that is how a 5σ relation shows). Scored by the ONNX graph's last-step errors: the largest
  of the deviations' mean error and each relation channel's (only a relation the period
  shows, at most the move itself: never one the model imagines after a wild week), each in
  units of its training 99.9th percentile. Older exports (no ``score_reference``) score as
  before.
* ``PPCHalfSpaceTrees`` — river's ``HalfSpaceTrees`` (height ≤ 10) on deviations clipped to
  ±``limit`` and mapped affinely into [0, 1] (known limits, never re-learnt). Scoring walks
  the trees' arrays with numpy (river's ``score_one`` is 25 µs a row); ``learn`` feeds
  river a seeded shuffle of at most ``window_size`` rows of the scanned period (a profile's
  rows come ordered by campaign; the mass window must not be one campaign). The river model
  is unpickled only when something learns, so a scan imports no river.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire.detection.base import FloatArray, as_rows
from tripwire.detection.isolation_forest import IsolationForestDetector
from tripwire.detection.lstm_autoencoder import LSTMAutoencoderDetector
from tripwire.detection.vote import TailModel
from tripwire.features import relations


def squash(x: npt.ArrayLike) -> FloatArray:
    a = np.asarray(x, dtype=np.float64)
    return np.asarray(np.sign(a) * np.log1p(np.abs(a)), dtype=np.float64)


def _sample(rows: FloatArray, cap: int, seed: int) -> FloatArray:
    if len(rows) <= cap:
        return rows
    pick = np.random.default_rng(seed).choice(len(rows), cap, replace=False)
    return rows[np.sort(pick)]


class PPCIsolationForest:
    name = "isolation_forest"
    tail_model: TailModel = "gpd"

    def __init__(self, n_estimators: int = 100, max_rows: int = 50_000, seed: int = 0) -> None:
        self.n_estimators, self.max_rows, self.seed = n_estimators, max_rows, seed
        self.inner = IsolationForestDetector()

    def fit(self, history: FloatArray) -> PPCIsolationForest:
        """Fit on (n, L, 10) deviation sequences: the forest isolates their relations."""
        from tripwire.training.isolation_forest import train_isolation_forest

        seqs = np.asarray(history, dtype=np.float64)
        imp_scale = relations.impression_scale(seqs)
        rows = _sample(_forest_rows(seqs, imp_scale), self.max_rows, self.seed)
        onnx_bytes, meta = train_isolation_forest(
            rows, n_estimators=self.n_estimators, seed=self.seed
        )
        meta.update(relations=list(relations.NAMES), impression_scale=imp_scale)
        self.inner = IsolationForestDetector(onnx_bytes, meta)
        return self

    def features(self, x: FloatArray) -> FloatArray:
        """The forest's input rows for (n, L, 10) sequences (a forest exported before the
        relation features scores the last period's deviations)."""
        seqs = np.asarray(x, dtype=np.float64)
        meta = self.inner.metadata
        if "relations" not in meta:
            return seqs[:, -1, :] if seqs.ndim == 3 else seqs
        return _forest_rows(seqs, float(meta["impression_scale"]))

    def score(self, x: FloatArray) -> FloatArray:
        return self.inner.score(self.features(x))

    def export(self) -> tuple[bytes, dict[str, Any]]:
        if self.inner.onnx_bytes is None:
            raise RuntimeError("fit before export")
        return self.inner.onnx_bytes, dict(self.inner.metadata)

    @classmethod
    def load(cls, data: bytes, meta: dict[str, Any]) -> PPCIsolationForest:
        out = cls()
        out.inner = IsolationForestDetector(data, meta)
        return out


def _forest_rows(seqs: FloatArray, imp_scale: float) -> FloatArray:
    """(n, 10 + 12): the last period's deviations, then its relations over every span."""
    return np.concatenate([seqs[:, -1, :], relations.features(seqs, imp_scale)], axis=1)


class PPCLSTM:
    name = "lstm"
    tail_model: TailModel = "gpd"

    def __init__(
        self,
        hidden: int = 32,
        epochs: int = 8,
        max_sequences: int = 20_000,
        max_seconds: float = 25.0,
        seed: int = 0,
        reference_quantile: float = 0.999,
    ) -> None:
        self.hidden, self.epochs, self.max_sequences = hidden, epochs, max_sequences
        self.max_seconds, self.seed = max_seconds, seed
        self.reference_quantile = reference_quantile
        self.inner = LSTMAutoencoderDetector()

    def fit(self, history: FloatArray) -> PPCLSTM:
        from tripwire.training.lstm_autoencoder import train_lstm_autoencoder

        seqs = np.asarray(history, dtype=np.float64)
        imp_scale = relations.impression_scale(seqs)
        if len(seqs) > self.max_sequences:
            pick = np.random.default_rng(self.seed).choice(len(seqs), self.max_sequences, False)
            seqs = seqs[np.sort(pick)]
        channels = _lstm_channels(seqs, imp_scale)
        onnx_bytes, meta = train_lstm_autoencoder(
            channels,
            hidden=self.hidden,
            epochs=self.epochs,
            seed=self.seed,
            max_seconds=self.max_seconds,
        )
        self.inner = LSTMAutoencoderDetector(onnx_bytes, meta)
        # Each part judged against its own training tail (as the count model judges each
        # feature): the widest-wobbling channel must not set the scale for all.
        flat = channels[:, :, _N_DEVIATIONS:].reshape(-1, len(relations.NAMES))
        centre, spread = flat.mean(axis=0), flat.std(axis=0)
        spread = np.where(spread > 1e-9, spread, 1.0)
        meta.update(relation_centre=centre.tolist(), relation_spread=spread.tolist())
        parts = _error_parts(self.inner.errors(channels)["last_step_error"], channels, meta)
        reference = np.quantile(parts, self.reference_quantile, axis=0)
        reference = np.where(reference > 0, reference, 1.0)
        meta.update(
            impression_scale=imp_scale,
            relations=list(relations.NAMES),
            score_reference=reference.tolist(),
        )
        self.inner.metadata = meta
        return self

    def score(self, x: FloatArray) -> FloatArray:
        """The largest of: the deviations' mean squared last-step error, and each relation
        channel's last-step error — each in units of its training ``reference_quantile``
        (a model exported before the relation channels: the deviations' error alone)."""
        meta = self.inner.metadata
        seqs = np.asarray(x, dtype=np.float64)
        if "score_reference" not in meta:
            return self.inner.score(squash(seqs))
        channels = _lstm_channels(seqs, float(meta["impression_scale"]))
        parts = _error_parts(self.inner.errors(channels)["last_step_error"], channels, meta)
        reference = np.asarray(meta["score_reference"], dtype=np.float64)
        return np.asarray((parts / reference).max(axis=1), dtype=np.float64)

    def export(self) -> tuple[bytes, dict[str, Any]]:
        if self.inner.onnx_bytes is None:
            raise RuntimeError("fit before export")
        return self.inner.onnx_bytes, dict(self.inner.metadata)

    @classmethod
    def load(cls, data: bytes, meta: dict[str, Any]) -> PPCLSTM:
        out = cls()
        out.inner = LSTMAutoencoderDetector(data, meta)
        return out


_N_DEVIATIONS = 10  # the channels before the relations
RELATION_LIMIT = 6.0  # σ: a guard; four days clipped to ±3σ reach it, no more


def _error_parts(
    last_step_error: FloatArray, channels: FloatArray, meta: dict[str, Any]
) -> FloatArray:
    """(n, 1 + 12): the deviation channels' mean squared error (what the autoencoder scored
    before the relations: a spike, a level shift), then each relation channel's own (a
    relation moves one channel; a mean over 22 would drown it) — counted only for a
    relation the period shows (|value| ≥ ``relations.AGREE``) and at most the error of
    reconstructing it as its training mean: the share of an observed move the model cannot
    explain, never a move it imagines after a wild week (a paused campaign, an outage)."""
    deviations = last_step_error[:, :_N_DEVIATIONS].mean(axis=1, keepdims=True)
    value = channels[:, -1, _N_DEVIATIONS:]
    centre = np.asarray(meta["relation_centre"], dtype=np.float64)
    spread = np.asarray(meta["relation_spread"], dtype=np.float64)
    ceiling = ((value - centre) / spread) ** 2
    shown = np.abs(value) >= relations.AGREE
    own = np.where(shown, np.minimum(last_step_error[:, _N_DEVIATIONS:], ceiling), 0.0)
    return np.concatenate([deviations, own], axis=1)


def _lstm_channels(seqs: FloatArray, imp_scale: float) -> FloatArray:
    """(n, L, 10 + 12): each step's squashed deviations (one 50σ day must not dominate the
    training loss), then its relations accumulated over every span of ``relations.SPANS``,
    on their own scale (a 4σ relation must stay 4σ: the autoencoder cannot echo back what
    lies beyond anything it was trained on) and bounded (each day is clipped to ±3σ, so a
    paused campaign's −40σ cannot derail the reconstruction of the days after it)."""
    rel = [relations.accumulated(seqs, imp_scale, span) for span in relations.SPANS]
    clipped = np.clip(np.concatenate(rel, axis=-1), -RELATION_LIMIT, RELATION_LIMIT)
    return np.concatenate([squash(seqs), clipped], axis=-1)


class PPCHalfSpaceTrees:
    name = "streaming"
    tail_model: TailModel = "gpd"

    def __init__(
        self,
        n_trees: int = 10,
        height: int = 8,
        window_size: int = 1000,
        limit: float = 8.0,
        seed: int = 42,
    ) -> None:
        if height > 10:
            raise ValueError("height > 10 makes state and learn time explode (DESIGN.md)")
        self.n_trees, self.height, self.window_size = n_trees, height, window_size
        self.limit, self.seed = limit, seed
        self.learnt_periods = 0
        self.learnt_through: str | None = None  # ISO date of the last period learnt online
        self._river: Any = None  # river HalfSpaceTrees, unpickled lazily
        self._river_bytes: bytes | None = None
        self._arrays: dict[str, npt.NDArray[Any]] = {}

    def scale(self, x: FloatArray) -> FloatArray:
        return np.asarray((np.clip(x, -self.limit, self.limit) + self.limit) / (2 * self.limit))

    def fit(self, history: FloatArray) -> PPCHalfSpaceTrees:
        from river.anomaly import HalfSpaceTrees

        self._river = HalfSpaceTrees(
            n_trees=self.n_trees, height=self.height, window_size=self.window_size, seed=self.seed
        )
        self._river_bytes = None
        # Two whole windows of the most recent history: the mass profile is the last one.
        rows = as_rows(history)[-4 * self.window_size :]
        self._learn_rows(_sample(rows, 2 * self.window_size, self.seed))
        return self

    def learn(self, x: FloatArray) -> None:
        """Absorb one scanned period (a seeded sample of at most one window of its rows)."""
        self.learnt_periods += 1
        rows = _sample(as_rows(x), self.window_size, self.seed + self.learnt_periods)
        self._learn_rows(rows)

    def _learn_rows(self, rows: FloatArray) -> None:
        model = self._model()
        order = np.random.default_rng(self.seed + self.learnt_periods).permutation(len(rows))
        for row in self.scale(rows[order]):
            model.learn_one({j: float(v) for j, v in enumerate(row)})
        self._river_bytes = None
        self._arrays = _tree_arrays(model)

    def _model(self) -> Any:
        if self._river is None:
            if self._river_bytes is None:
                raise RuntimeError("fit before learning")
            self._river = pickle.loads(self._river_bytes)
        return self._river

    def score(self, x: FloatArray) -> FloatArray:
        """river's ``score_one`` for every row at once (equal to it, tested)."""
        rows = self.scale(as_rows(x))
        a = self._arrays
        if not a or a["warm"][0] == 0:
            return np.zeros(len(rows))
        n_trees = a["feature"].shape[0]
        size_limit = 0.1 * self.window_size
        score = np.zeros(len(rows))
        for t in range(n_trees):
            feature, threshold, r_mass = a["feature"][t], a["threshold"][t], a["r_mass"][t]
            idx = np.zeros(len(rows), dtype=np.int64)
            alive = np.ones(len(rows), dtype=bool)
            for depth in range(self.height):
                r = r_mass[idx]
                score += np.where(alive, r * float(1 << depth), 0.0)
                alive &= r >= size_limit
                go_left = rows[np.arange(len(rows)), feature[idx]] < threshold[idx]
                idx = 2 * idx + 1 + (~go_left).astype(np.int64)
            score += np.where(alive, r_mass[idx] * float(1 << self.height), 0.0)
        max_score = n_trees * self.window_size * (2 ** (self.height + 1) - 1)
        return np.asarray(1.0 - score / max_score, dtype=np.float64)

    def export(self) -> tuple[bytes, dict[str, Any]]:
        river_bytes = self._river_bytes
        if river_bytes is None:
            river_bytes = pickle.dumps(self._model(), protocol=5)
            self._river_bytes = river_bytes
        state = {
            "params": [self.n_trees, self.height, self.window_size, self.limit, self.seed],
            "learnt_periods": self.learnt_periods,
            "learnt_through": self.learnt_through,
            "arrays": self._arrays,
            "river": river_bytes,
        }
        meta = {
            "detector": "half_space_trees",
            "n_trees": self.n_trees,
            "height": self.height,
            "window_size": self.window_size,
            "limit": self.limit,
            "learnt_periods": self.learnt_periods,
            "learnt_through": self.learnt_through,
            "format": "pickle",
        }
        return pickle.dumps(state, protocol=5), meta

    @classmethod
    def load(cls, data: bytes, meta: dict[str, Any]) -> PPCHalfSpaceTrees:
        state = pickle.loads(data)  # the registry verifies these bytes' SHA-256
        out = cls(*state["params"])
        out.learnt_periods = state["learnt_periods"]
        out.learnt_through = state.get("learnt_through")  # absent in states saved before it
        out._arrays = state["arrays"]
        out._river_bytes = state["river"]
        return out


def _tree_arrays(model: Any) -> dict[str, npt.NDArray[Any]]:
    """Each padded tree as heap-ordered arrays (node i's children: 2i + 1, 2i + 2)."""
    n_nodes = 2 ** (model.height + 1) - 1
    shape = (len(model.trees), n_nodes)
    feature = np.zeros(shape, dtype=np.int64)
    threshold = np.zeros(shape)
    r_mass = np.zeros(shape)
    for t, root in enumerate(model.trees):
        queue = [(root, 0)]
        while queue:
            node, i = queue.pop()
            r_mass[t, i] = node.r_mass
            children = getattr(node, "children", None)
            if children and 2 * i + 2 < n_nodes:
                feature[t, i] = int(node.feature)
                threshold[t, i] = float(node.threshold)
                queue += [(children[0], 2 * i + 1), (children[1], 2 * i + 2)]
    warm = np.array([0 if model._first_window else 1], dtype=np.int64)
    return {"feature": feature, "threshold": threshold, "r_mass": r_mass, "warm": warm}
