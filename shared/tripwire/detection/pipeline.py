"""PPC batch scoring of one scan period for a whole profile at once.

raw windows (n, T, 5) → ``features.baseline`` deviations (n, 10) → each detector's raw
score → its ``CompactTail`` calibrator (fitted on the training history's scores) → the vote
→ score = 1 - p in [0, 1] → ``severity`` threshold and level → exact Shapley explanations
for the alerting rows.

Detectors by name: ``"count"`` (``CountModel``: count-aware, reads the period and the last
few periods summed), ``"isolation_forest"`` (ONNX forest on the last period's deviations and
their ``features.relations``, from the last L deviation vectors), ``"streaming"`` (half-space
trees on the deviations, learning online through ``learn``) and ``"lstm"`` (ONNX autoencoder
on the last L deviation vectors and their relations, oldest first). ``register_detector`` replaces a
slot. A request names one detector or ``"ensemble"`` (every detector with a positive weight).
Training code (scikit-learn, torch, river) is imported only inside ``fit``.

The vote is weighted Bonferroni (``detection.vote``): p = min_k p_k / w_k with weights
normalised to sum 1 — each detector spends its weight's share of the false-alert budget, a
confident detector carries the vote alone, none drags another down. Default weights: count
2.0, then the design's LSTM 0.5 / half-space trees 0.3 / isolation forest 0.2. The measured
quality table (``bench/quality.py``) is in ``detection.vote``: the count model finds the
classic incidents; the learnt three, on relation features and calibrated with a GPD tail
(the count model keeps its log-exponential one), add the relation incidents it misses (bot
clicks, placement shifts) with their third of the budget.

Late attribution: when ``provisional`` is set (the scan's own period, whose sales and orders
Amazon will still restate), drops in sales-side features (sales, orders, CVR, ROAS; a rise
in ACOS) are zeroed before any detector sees them. Callers re-score the period once it is
settled (``LATE_ATTRIBUTION_PERIODS`` later) with ``provisional=False``.

Export: ``export()`` → {artifact name: (bytes, metadata)}: ``"pipeline"`` (JSON: config,
calibrators, the count model, training window), ``"isolation_forest"`` and ``"lstm"`` (ONNX),
``"streaming"`` (pickled river state); ``from_export`` rebuilds a pipeline scoring the same.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from tripwire.detection.base import Detector, FloatArray
from tripwire.detection.count_model import CountModel
from tripwire.detection.cusum import CusumConfig, CusumResult, conversion_cusum
from tripwire.detection.explain import coalitions
from tripwire.detection.labels import LabelledPatterns
from tripwire.detection.ppc_detectors import PPCLSTM, PPCHalfSpaceTrees, PPCIsolationForest
from tripwire.detection.severity import ALERT_TAIL_PROB, severity_codes
from tripwire.detection.vote import Combine, CompactTail, TailModel, combine
from tripwire.features import baseline
from tripwire.features.lag import completeness as lag_completeness
from tripwire.features.ppc import FEATURES, INDEX, SALES_SIDE, SALES_SIDE_RISING

DetectorFactory = Callable[..., Detector]

DEFAULT_WEIGHTS: Mapping[str, float] = {
    "count": 2.0,
    "lstm": 0.5,
    "streaming": 0.3,
    "isolation_forest": 0.2,
}
DETECTOR_SLOTS = ("count", "isolation_forest", "streaming", "lstm")
EXPORT_FORMAT = 1
EXPLAINED_FEATURES = 5

# What a detector is fed: "deviation" (n, 10) the scanned period's deviations; "run" (n, 20)
# those plus the deviations of the last ``run_periods`` periods summed (sustained moves);
# "sequence" (n, L, 10) the last L periods' deviations, oldest first.
InputKind = Literal["deviation", "run", "sequence"]
_RUN_FACTOR = 2.0  # a run counts where today's value is at least halved or doubled
_RUN_EPS = 1e-3  # keeps the factor finite for zeros (tiny next to any real count or rate)
_SHAPLEY_CHUNK = 64  # explained rows per detector call (64 × 1,024 coalitions)


class _Exportable(Protocol):
    def export(self) -> tuple[bytes, dict[str, Any]]: ...


_FACTORIES: dict[str, DetectorFactory] = {
    "count": CountModel,
    "isolation_forest": PPCIsolationForest,
    "streaming": PPCHalfSpaceTrees,
    "lstm": PPCLSTM,
}
_INPUTS: dict[str, InputKind] = {
    "count": "run",
    "isolation_forest": "sequence",
    "streaming": "deviation",
    "lstm": "sequence",
}
_LOADERS: dict[str, Callable[[bytes, dict[str, Any]], Detector]] = {
    "isolation_forest": PPCIsolationForest.load,
    "streaming": PPCHalfSpaceTrees.load,
    "lstm": PPCLSTM.load,
}


def register_detector(
    name: str, factory: DetectorFactory, *, inputs: InputKind = "deviation"
) -> None:
    """Make a detector available to pipelines by name (e.g. ``"isolation_forest"``)."""
    _FACTORIES[name] = factory
    _INPUTS[name] = inputs


def registered_detectors() -> tuple[str, ...]:
    return tuple(sorted(_FACTORIES))


@dataclass(frozen=True)
class PipelineConfig:
    detector: str = "ensemble"  # one registered name, or "ensemble"
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    combine: Combine = "bonferroni"
    history_periods: int = 56  # history each scan's baseline sees (weekday profile: 8 weeks)
    min_history: int = 14  # the first training period scored has this much history
    sequence_length: int = 14  # L for sequence detectors
    run_periods: int = 3  # a sustained move is judged on this many periods summed
    alert_tail_prob: float = ALERT_TAIL_PROB
    calibration_rows: int = 200_000  # training rows each calibrator sees (seeded sample)
    seed: int = 0
    # Per-detector constructor options, e.g. {"lstm": {"epochs": 2, "hidden": 8}}.
    detector_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    baseline: baseline.BaselineConfig = field(default_factory=baseline.BaselineConfig)
    # Slow conversion collapses (``detection.cusum``): alarms join the vote as its minimum.
    cusum: CusumConfig = field(default_factory=CusumConfig)

    @property
    def window(self) -> int:
        """Periods a scan window needs: the history plus the period scanned."""
        return self.history_periods + 1

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["weights"] = dict(self.weights)
        out["detector_options"] = {k: dict(v) for k, v in self.detector_options.items()}
        return out

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> PipelineConfig:
        fields = dict(state)
        fields["baseline"] = baseline.BaselineConfig(**fields["baseline"])
        fields["cusum"] = CusumConfig(**fields.get("cusum", {}))  # older exports: the default
        return cls(**fields)


# An Ads profile's hourly scans (Marketing Stream): the count model alone, on deviations from
# an hour-of-week baseline over two weeks of hours (each hour of the week seen twice), fitted
# on the profile's own hours that have at least 11 days before them. The learnt detectors
# stay daily.
# Hours are all provisional (conversions are restated for days): the CUSUM of orders given
# clicks, a daily judgement, stays off.
HOURLY = PipelineConfig(
    detector="count",
    history_periods=14 * 24,
    min_history=11 * 24,
    baseline=baseline.HOUR_OF_WEEK,
    cusum=CusumConfig(enabled=False),
)


@dataclass(frozen=True)
class ScanResult:
    score: FloatArray  # (n,) 1 - p
    tail_prob: FloatArray  # (n,) combined tail probability p
    detector_scores: dict[str, FloatArray]  # name → (n,) calibrated 1 - p_detector
    alert: npt.NDArray[np.bool_]  # (n,)
    severity: npt.NDArray[np.int64]  # (n,) -1 none, else Severity.rank
    baseline: baseline.Baseline  # deviations (damped when provisional), expected, actual
    # alerting row → Shapley entries (feature, contribution, direction, expected, actual)
    explanations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # (n,) periods before the scanned one the anomaly began (0: this period): a slow
    # collapse's evidence run starts earlier than the period that crossed the threshold.
    onset: npt.NDArray[np.int64] | None = None
    evidence: FloatArray | None = None  # (n,) the CUSUM's statistic (nats), when it ran
    cusum: CusumResult | None = None  # the CUSUM's runs (root cause follows their shortfall)


class ScanPipeline:
    """Fit on a profile's training history, then score one period for every entity."""

    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()
        self.names = self._chosen()
        self.detectors: dict[str, Detector] = {}
        self.calibrators: dict[str, CompactTail] = {}
        self.weights = {n: self._weight(n) for n in self.names}
        self.training: dict[str, Any] = {}
        self.labels = LabelledPatterns()  # users' "not an anomaly" labels (``labels.py``)
        # Deviations of earlier periods, by window content: consecutive scans (a backtest's
        # days; a scan's provisional and settled passes) share all but one of their L - 1.
        self._earlier: OrderedDict[tuple[bytes, int], FloatArray] = OrderedDict()

    def _chosen(self) -> tuple[str, ...]:
        wanted = self.config.detector
        if wanted != "ensemble":
            if wanted not in _FACTORIES:
                raise ValueError(f"unknown detector {wanted!r}; have {registered_detectors()}")
            return (wanted,)
        names = tuple(n for n in _FACTORIES if self.config.weights.get(n, 0.0) > 0)
        if not names:
            raise ValueError("no registered detector has a positive weight")
        return names

    def _weight(self, name: str) -> float:
        return 1.0 if len(self.names) == 1 else float(self.config.weights[name])

    # -- training ----------------------------------------------------------------------

    def fit(self, raw: npt.ArrayLike, first_weekday: int) -> ScanPipeline:
        """Train on (n, D, 5) raw history whose first period falls on ``first_weekday``."""
        history = np.asarray(raw, dtype=np.float64)
        days = history.shape[1]
        if days <= self.config.min_history:
            raise ValueError(
                f"need more than {self.config.min_history} periods of history, got {days}"
            )
        count = days - self.config.min_history
        last_weekday = (first_weekday + days - 1) % self._season
        cfg, hp = self.config.baseline, self.config.history_periods
        # Every training period at once (each against its own trailing history).
        days_seen = baseline.compute_many(history, last_weekday, cfg, count, history=hp)
        devs = np.swapaxes(days_seen.deviation, 0, 1)  # (n, P, 10)
        runs = None
        if any(_INPUTS[n] == "run" for n in self.names):
            k = self.config.run_periods
            run = baseline.compute_many(history, last_weekday, cfg, count, history=hp, periods=k)
            runs = np.swapaxes(_moved(run.deviation, days_seen), 0, 1)
        for name in self.names:
            options = dict(self.config.detector_options.get(name, {}))
            detector = _FACTORIES[name](**options)
            inputs = self._inputs_for_training(name, devs, runs)
            detector.fit(inputs)
            sample = _sample_index(len(inputs), self.config.calibration_rows, self.config.seed)
            raw_scores = np.asarray(detector.score(inputs[sample]), dtype=np.float64)
            self.detectors[name] = detector
            tail: TailModel = getattr(detector, "tail_model", "log-exponential")  # learnt: gpd
            self.calibrators[name] = CompactTail(tail=tail).fit(raw_scores)
        self.training = {
            "entities": int(history.shape[0]),
            "periods": int(days),
            "first_weekday": int(first_weekday),
            "rows": int(devs.shape[0] * devs.shape[1]),
        }
        return self

    def _run(
        self, raw: FloatArray, t: int, first_weekday: int, day: baseline.Baseline
    ) -> FloatArray:
        """Deviations of the last ``run_periods`` summed, kept only where the scanned period
        itself has at least halved or doubled: a sustained collapse, not the echo of
        yesterday's incident in a run that still holds it while today merely wobbles."""
        lo = max(0, t - self.config.history_periods - self.config.run_periods + 1)
        weekday = (first_weekday + t) % self._season
        cfg, k = self.config.baseline, self.config.run_periods
        run = baseline.compute(raw[:, lo : t + 1], weekday, cfg, periods=k).deviation
        return _moved(run, day)

    def _inputs_for_training(
        self, name: str, devs: FloatArray, runs: FloatArray | None
    ) -> FloatArray:
        """Period-major rows (the latest period last): online learners see recent last."""
        kind = _INPUTS[name]
        by_period = np.swapaxes(devs, 0, 1)  # (P, n, 10)
        if kind == "run" and runs is not None:
            both = np.concatenate([by_period, np.swapaxes(runs, 0, 1)], axis=-1)
            return both.reshape(-1, 2 * devs.shape[-1])
        if kind != "sequence":
            return by_period.reshape(-1, devs.shape[-1])
        length = self.config.sequence_length
        windows = np.lib.stride_tricks.sliding_window_view(devs, length, axis=1)
        seqs = np.moveaxis(windows, -1, 2)  # (n, P - L + 1, L, 10)
        return np.swapaxes(seqs, 0, 1).reshape(-1, length, devs.shape[-1])

    # -- scanning ----------------------------------------------------------------------

    def score(
        self,
        window: npt.ArrayLike,
        last_weekday: int,
        *,
        provisional: bool = False,
        explain: bool = True,
        completeness: npt.ArrayLike | None = None,
    ) -> ScanResult:
        """Score the last period of (n, T, 5) windows (sequence detectors need T ≥ L + 1);
        explain every alerting row with exact Shapley values (one batch per detector).

        ``completeness`` (T,): the share of settled orders each period of the window has
        reported so far (``features.lag``); by default the last period is 0 days old when
        ``provisional`` (the default curve), else every period is settled."""
        if not self.detectors:
            raise RuntimeError("fit the pipeline before scoring")
        raw = np.asarray(window, dtype=np.float64)[:, -self._periods_needed() :, :]
        earlier = None
        if any(_INPUTS[n] == "sequence" for n in self.detectors):
            base, earlier = self._scanned_and_earlier(raw, last_weekday)
        else:
            base = self._scanned(raw, last_weekday)
        current = damp_provisional(base.deviation) if provisional else base.deviation
        inputs = _ScanInputs(self, raw, last_weekday, base, current, provisional)
        inputs.earlier = earlier
        tail = {name: self._tail(name, inputs.of(_INPUTS[name])) for name in self.detectors}
        p_vote = self._combine(tail)
        p, onset = p_vote, np.zeros(len(p_vote), dtype=np.int64)
        cusum = self._cusum(raw, provisional, completeness)
        if cusum is not None:
            tail["cusum"] = cusum.tail_prob(self.config.alert_tail_prob)
            onset = np.where(tail["cusum"] < p_vote, np.maximum(cusum.onset, 0), onset)
            p = np.minimum(p_vote, tail["cusum"])
        score = 1.0 - p
        alert = p <= self.config.alert_tail_prob
        result = ScanResult(
            score=score,
            tail_prob=p,
            detector_scores={name: 1.0 - t for name, t in tail.items()},
            alert=alert,
            severity=severity_codes(score),
            baseline=baseline.Baseline(current, base.expected, base.actual),
            onset=onset,
            evidence=None if cusum is None else cusum.statistic,
            cusum=cusum,
        )
        voted = alert & (p_vote <= self.config.alert_tail_prob)
        if explain and voted.any():
            rows = np.flatnonzero(voted)
            phi = self.shapley(inputs, rows)
            for i, row in enumerate(rows.tolist()):
                result.explanations[row] = _entries(phi[i], result.baseline, row)
        if cusum is not None:
            for row in np.flatnonzero(alert & ~voted).tolist():
                result.explanations[row] = [_cusum_entry(cusum, row)]
        return result

    def _cusum(
        self, raw: FloatArray, provisional: bool, completeness: npt.ArrayLike | None
    ) -> CusumResult | None:
        if not self.config.cusum.enabled:
            return None
        periods = raw.shape[1]
        if completeness is None:
            share = lag_completeness(periods, 0) if provisional else np.ones(periods)
        else:
            share = np.asarray(completeness, dtype=np.float64)[-periods:]
        return conversion_cusum(raw, share, self.config.cusum)

    @property
    def _season(self) -> int:
        """Periods in the baseline's rhythm: 7 days, or 168 hours of the week."""
        return self.config.baseline.period_length

    def alone(self, detector: str) -> ScanPipeline:
        """This pipeline voting with one of its detectors alone (its own calibrated tail);
        shares the loaded models."""
        if detector not in self.detectors:
            raise KeyError(detector)
        single = copy.copy(self)
        single.names = (detector,)
        single.detectors = {detector: self.detectors[detector]}
        single.calibrators = {detector: self.calibrators[detector]}
        single.weights = {detector: 1.0}
        single._earlier = OrderedDict()  # its cache of earlier deviations is per instance
        return single

    def _tail(self, name: str, x: FloatArray) -> FloatArray:
        raw_scores = np.asarray(self.detectors[name].score(x), dtype=np.float64)
        return self.calibrators[name].tail_prob(raw_scores)

    def _combine(self, tail: Mapping[str, FloatArray]) -> FloatArray:
        return combine(tail, self.weights, self.config.combine)

    def shapley(self, inputs: _ScanInputs, rows: npt.NDArray[np.int64]) -> FloatArray:
        """(k, 10) exact Shapley values of the calibrated ensemble score for ``rows``, each
        against its baseline (deviation 0 = the entity's expected values). The rest of an
        entity's context (its run, its earlier periods) stays as scanned."""
        masks, weights = coalitions(len(FEATURES))
        out = np.zeros((len(rows), len(FEATURES)))
        for start in range(0, len(rows), _SHAPLEY_CHUNK):
            chunk = rows[start : start + _SHAPLEY_CHUNK]
            x = inputs.current[chunk]
            batch = np.where(masks[None], x[:, None, :], 0.0).reshape(-1, len(FEATURES))
            owner = np.repeat(chunk, masks.shape[0])
            tail = {
                name: self._tail(name, inputs.with_current(_INPUTS[name], batch, owner))
                for name in self.detectors
            }
            values = 1.0 - self._combine(tail)
            out[start : start + len(chunk)] = values.reshape(len(chunk), -1) @ weights
        return out

    def explain_score(
        self, window: npt.ArrayLike, last_weekday: int, rows: npt.ArrayLike, current: FloatArray
    ) -> FloatArray:
        """The ensemble score of ``rows`` with their current deviations replaced (tests)."""
        raw = np.asarray(window, dtype=np.float64)[:, -self._periods_needed() :, :]
        base = baseline.compute(raw[:, -self.config.window :], last_weekday, self.config.baseline)
        inputs = _ScanInputs(self, raw, last_weekday, base, base.deviation, False)
        owner = np.asarray(rows, dtype=np.int64)
        tail = {
            name: self._tail(name, inputs.with_current(_INPUTS[name], current, owner))
            for name in self.detectors
        }
        return 1.0 - self._combine(tail)

    def learn(self, result: ScanResult) -> None:
        """Online detectors absorb a scanned period (call after scoring it)."""
        for detector in self.detectors.values():
            learn = getattr(detector, "learn", None)
            if learn is not None:
                learn(result.baseline.deviation)

    def _periods_needed(self) -> int:
        kinds = {_INPUTS[n] for n in self.detectors}
        extra = self.config.sequence_length - 1 if "sequence" in kinds else 0
        return self.config.window + max(extra, self.config.run_periods - 1)

    def _scanned(self, raw: FloatArray, last_weekday: int) -> baseline.Baseline:
        return baseline.compute(raw[:, -self.config.window :], last_weekday, self.config.baseline)

    def _sequence(self, raw: FloatArray, last_weekday: int, current: FloatArray) -> FloatArray:
        """(n, L, 10): the deviations of the last L periods, the (damped) current one last."""
        earlier = self._earlier_deviations(raw, last_weekday, None)
        return np.concatenate([earlier, current[:, None, :]], axis=1)

    def _scanned_and_earlier(
        self, raw: FloatArray, last_weekday: int
    ) -> tuple[baseline.Baseline, FloatArray]:
        """The scanned period's baseline and the (n, L - 1, 10) deviations before it: when
        some earlier period is not cached, all of them and the scanned one in one pass."""
        scanned: list[baseline.Baseline] = []
        earlier = self._earlier_deviations(raw, last_weekday, scanned)
        return (scanned[0] if scanned else self._scanned(raw, last_weekday)), earlier

    def _earlier_deviations(
        self, raw: FloatArray, last_weekday: int, scanned: list[baseline.Baseline] | None
    ) -> FloatArray:
        """(n, L - 1, 10) deviations of the L - 1 periods before the last, from the cache (by
        window content) or, all missing ones at once, one ``baseline.compute_many`` pass —
        which also covers the last period when ``scanned`` is given (appended to it)."""
        length = self.config.sequence_length
        days = raw.shape[1]
        hp = self.config.history_periods
        # SHA-256 of each day's values (one pass over the window); a period's key is its
        # window's days' digests and its weekday.
        by_day = np.ascontiguousarray(np.swapaxes(raw, 0, 1))  # (T, n, 5)
        digests = [hashlib.sha256(by_day[d].data.cast("B")).digest() for d in range(days)]
        targets = range(days - length, days - 1)
        keys = {
            t: (
                b"".join(digests[max(0, t - hp) : t + 1]),
                (last_weekday - (days - 1 - t)) % self._season,
            )
            for t in targets
        }
        missing = [t for t in targets if keys[t] not in self._earlier]
        fresh: dict[int, FloatArray] = {}
        if missing:
            first = missing[0]
            last = days - 1 if scanned is not None else targets[-1]
            many = baseline.compute_many(
                raw[:, : last + 1],
                (last_weekday - (days - 1 - last)) % self._season,
                self.config.baseline,
                last - first + 1,
                history=hp,
            )
            fresh = {t: many.deviation[t - first] for t in missing}
            if scanned is not None:
                scanned.append(
                    baseline.Baseline(many.deviation[-1], many.expected[-1], many.actual[-1])
                )
        earlier = []
        for t in targets:
            value = fresh[t] if t in fresh else self._earlier[keys[t]]
            self._earlier[keys[t]] = value
            self._earlier.move_to_end(keys[t])
            earlier.append(value)
        while len(self._earlier) > 2 * length:
            self._earlier.popitem(last=False)
        return np.stack(earlier, axis=1)

    # -- export ------------------------------------------------------------------------

    def export(self) -> dict[str, tuple[bytes, dict[str, Any]]]:
        """{artifact: (bytes, metadata)}; deterministic for the same seed and data."""
        if not self.detectors:
            raise RuntimeError("fit the pipeline before exporting")
        out: dict[str, tuple[bytes, dict[str, Any]]] = {}
        common = {"training_rows": self.training.get("rows"), "training": dict(self.training)}
        for name, detector in self.detectors.items():
            if name in _LOADERS:
                data, meta = _as_exportable(detector).export()
                # Plain JSON types only (torch's version string is a str subclass).
                plain = json.loads(json.dumps({**meta, **common, "artifact": name}))
                out[name] = (data, plain)
        count = self.detectors.get("count")
        state = {
            "format": EXPORT_FORMAT,
            "config": self.config.to_dict(),
            "names": list(self.names),
            "inputs": {n: _INPUTS[n] for n in self.names},
            "calibrators": {n: c.to_dict() for n, c in self.calibrators.items()},
            "count": _count_state(count) if isinstance(count, CountModel) else None,
            "training": self.training,
            "labels": self.labels.to_list(),
        }
        data = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
        meta = {
            **common,
            "artifact": "pipeline",
            "format": "json",
            "detectors": list(self.names),
            "features": list(FEATURES),
            "combine": self.config.combine,
            "weights": dict(self.weights),
        }
        out["pipeline"] = (data, meta)
        return out

    @classmethod
    def from_export(cls, artifacts: Mapping[str, tuple[bytes, Mapping[str, Any]]]) -> ScanPipeline:
        state = json.loads(artifacts["pipeline"][0])
        if state.get("format") != EXPORT_FORMAT:
            raise ValueError(f"unknown pipeline export format {state.get('format')!r}")
        pipe = cls(PipelineConfig.from_dict(state["config"]))
        pipe.names = tuple(state["names"])
        pipe.weights = {n: pipe._weight(n) for n in pipe.names}
        pipe.training = state["training"]
        pipe.labels = LabelledPatterns.from_list(state.get("labels", []))
        for name in pipe.names:
            if name == "count":
                pipe.detectors[name] = _count_from(state["count"])
            else:
                data, meta = artifacts[name]
                pipe.detectors[name] = _LOADERS[name](data, dict(meta))
            pipe.calibrators[name] = CompactTail.from_dict(state["calibrators"][name])
        return pipe


def _as_exportable(detector: Detector) -> _Exportable:
    if not hasattr(detector, "export"):
        raise TypeError(f"detector {detector.name!r} cannot be exported")
    return detector  # type: ignore[return-value]


def _count_state(model: CountModel) -> dict[str, Any]:
    reference = model.reference
    return {
        "reference_quantile": model.reference_quantile,
        "run_min_today": model.run_min_today,
        "reference": None if reference is None else reference.tolist(),
    }


def _count_from(state: Mapping[str, Any]) -> CountModel:
    model = CountModel(state["reference_quantile"], state["run_min_today"])
    if state["reference"] is not None:
        model.reference = np.asarray(state["reference"], dtype=np.float64)
    return model


def _sample_index(n: int, cap: int, seed: int) -> npt.NDArray[np.int64]:
    if n <= cap:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, cap, replace=False))


def _entries(phi: FloatArray, base: baseline.Baseline, row: int) -> list[dict[str, Any]]:
    """Shapley entries of one row, largest |contribution| first; unmoved features left out."""
    deviation = base.deviation[row]
    order = np.argsort(-np.abs(phi), kind="stable")
    return [
        {
            "feature": FEATURES[j],
            "contribution": float(phi[j]),
            "direction": "above" if deviation[j] > 0 else "below",
            "expected": float(base.expected[row, j]),
            "actual": float(base.actual[row, j]),
            "deviation": float(deviation[j]),
        }
        for j in order.tolist()
        if deviation[j] != 0
    ][:EXPLAINED_FEATURES]


@dataclass
class _ScanInputs:
    """Each input kind for one scan, built on first use and shared between detectors."""

    pipeline: ScanPipeline
    raw: FloatArray
    last_weekday: int
    base: baseline.Baseline
    current: FloatArray
    provisional: bool
    _built: dict[str, FloatArray] = field(default_factory=dict)
    earlier: FloatArray | None = None  # (n, L - 1, 10) deviations before the scanned period

    def of(self, kind: InputKind) -> FloatArray:
        if kind == "deviation":
            return self.current
        if kind not in self._built:
            self._built[kind] = self._build(kind)
        return self._built[kind]

    def with_current(
        self, kind: InputKind, current: FloatArray, owner: npt.NDArray[np.int64]
    ) -> FloatArray:
        """Inputs of kind for rows whose current deviations are ``current``, the rest of
        their context taken from entity ``owner[i]``."""
        if kind == "deviation":
            return current
        full = self.of(kind)
        if kind == "sequence":
            seqs = full[owner].copy()
            seqs[:, -1, :] = current
            return seqs
        return np.concatenate([current, full[owner, current.shape[1] :]], axis=1)

    def _build(self, kind: InputKind) -> FloatArray:
        if kind == "sequence":
            if self.earlier is not None:
                return np.concatenate([self.earlier, self.current[:, None, :]], axis=1)
            return self.pipeline._sequence(self.raw, self.last_weekday, self.current)
        last = self.raw.shape[1] - 1
        run = self.pipeline._run(self.raw, last, self.last_weekday - last, self.base)
        run = damp_provisional(run) if self.provisional else run
        return np.concatenate([self.current, run], axis=1)


def _moved(run: FloatArray, day: baseline.Baseline) -> FloatArray:
    """Run deviations kept only where the scanned period itself has at least halved or
    doubled against its expected value (any leading axes)."""
    factor = (day.actual + _RUN_EPS) / (day.expected + _RUN_EPS)
    moved = (factor <= 1.0 / _RUN_FACTOR) | (factor >= _RUN_FACTOR)
    return np.where(moved, run, 0.0)


def _cusum_entry(cusum: CusumResult, row: int) -> dict[str, Any]:
    """A slow collapse explained: orders over the evidence run, expected (given the clicks
    and the baseline conversion, delay-aware) against seen; contribution = the evidence."""
    return {
        "feature": "orders",
        "contribution": float(cusum.statistic[row]),
        "direction": "below",
        "expected": float(cusum.expected[row]),
        "actual": float(cusum.actual[row]),
        "deviation": -float(cusum.statistic[row]),
    }


def damp_provisional(deviation: FloatArray) -> FloatArray:
    """Zero the sales-side moves late attribution can fake (drops; an ACOS rise)."""
    out = deviation.copy()
    falling = [INDEX[f] for f in SALES_SIDE]
    rising = [INDEX[f] for f in SALES_SIDE_RISING]
    out[:, falling] = np.maximum(out[:, falling], 0.0)
    out[:, rising] = np.minimum(out[:, rising], 0.0)
    return out


# -- without detectors (the online learner: it ships river, not onnxruntime) ---------------


def config_from_export(pipeline_artifact: bytes) -> PipelineConfig:
    """The config inside an exported ``"pipeline"`` artifact, no detector loaded."""
    state = json.loads(pipeline_artifact)
    if state.get("format") != EXPORT_FORMAT:
        raise ValueError(f"unknown pipeline export format {state.get('format')!r}")
    return PipelineConfig.from_dict(state["config"])


def period_baseline(
    config: PipelineConfig, window: npt.ArrayLike, last_weekday: int, *, provisional: bool = False
) -> baseline.Baseline:
    """What ``ScanPipeline.score`` returns as ``result.baseline`` for the last period of
    (n, T, 5) ``window``: the deviations online detectors learn, computed with no detector."""
    raw = np.asarray(window, dtype=np.float64)[:, -config.window :, :]
    base = baseline.compute(raw, last_weekday, config.baseline)
    current = damp_provisional(base.deviation) if provisional else base.deviation
    return baseline.Baseline(current, base.expected, base.actual)
