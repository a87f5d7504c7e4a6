"""PPC batch scoring of one scan period for a whole profile at once.

raw windows (n, T, 5) → ``features.baseline`` deviations (n, 10) → each detector's raw
score → its ``TailCalibrator`` (fitted on the training history's scores) → ``WeightedVote``
→ score = 1 - p in [0, 1] → ``severity`` threshold and level.

Detectors are looked up by name in a registry. ``"count"`` (``CountModel``) is built in;
``"isolation_forest"``, ``"streaming"`` and ``"lstm"`` are slots other modules fill with
``register_detector``: any object with ``fit``/``score`` over the deviation matrix (n, 10),
or, for sequence detectors such as the LSTM, over (n, L, 10) — the last L deviation
vectors, oldest first. (The count model also reads the last few periods summed, to see a
conversion collapse no single day can show.) A request names one detector or
``"ensemble"`` (every registered detector with a positive weight).

Default weights: the original design's LSTM 0.5 / half-space trees 0.3 / isolation forest
0.2 apply among those three, and the count model votes with weight 2.0 — two thirds of the
surprise when all four are present. ``WeightedVote`` is a weighted geometric mean of tail
probabilities, so a detector that cannot see an anomaly drags a confident one down. Measured
on dev seed 7 with a scikit-learn isolation forest on the deviations as a stand-in (it
barely separates one-feature outliers: a 50σ move scores below its training maximum) —
incident recall / F1: count 1.0 + IF 0.2 → 1.00 / 1.00; count 2.0 + IF 1.0 → 0.96 / 0.98;
count 1.0 + IF 1.0 → 0.80 / 0.89; false alerts per 1,000 entity-days 0 in all three. The
count model is the only detector that knows what small counts can do, so it keeps the
larger say; revisit with ``bench/quality.py --detector ensemble`` once the others land.

Late attribution: when ``provisional`` is set (the scan's own period, whose sales and orders
Amazon will still restate), drops in sales-side features (sales, orders, CVR, ROAS; a rise
in ACOS) are zeroed before any detector sees them. Callers re-score the period once it is
settled (``LATE_ATTRIBUTION_PERIODS`` later) with ``provisional=False``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from tripwire.detection.base import Detector, FloatArray
from tripwire.detection.calibration import TailCalibrator
from tripwire.detection.count_model import CountModel
from tripwire.detection.ensemble import WeightedVote
from tripwire.detection.severity import ALERT_TAIL_PROB, severity_codes
from tripwire.features import baseline
from tripwire.features.ppc import INDEX, SALES_SIDE, SALES_SIDE_RISING

DetectorFactory = Callable[[], Detector]

DEFAULT_WEIGHTS: Mapping[str, float] = {
    "count": 2.0,
    "lstm": 0.5,
    "streaming": 0.3,
    "isolation_forest": 0.2,
}
DETECTOR_SLOTS = ("count", "isolation_forest", "streaming", "lstm")

# What a detector is fed: "deviation" (n, 10) the scanned period's deviations; "run" (n, 20)
# those plus the deviations of the last ``run_periods`` periods summed (sustained moves);
# "sequence" (n, L, 10) the last L periods' deviations, oldest first.
InputKind = Literal["deviation", "run", "sequence"]
_RUN_FACTOR = 2.0  # a run counts where today's value is at least halved or doubled
_RUN_EPS = 1e-3  # keeps the factor finite for zeros (tiny next to any real count or rate)
_FACTORIES: dict[str, DetectorFactory] = {"count": CountModel}
_INPUTS: dict[str, InputKind] = {"count": "run"}


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
    history_periods: int = 56  # history each scan's baseline sees (weekday profile: 8 weeks)
    min_history: int = 14  # the first training period scored has this much history
    sequence_length: int = 14  # L for sequence detectors
    run_periods: int = 3  # a sustained move is judged on this many periods summed
    alert_tail_prob: float = ALERT_TAIL_PROB
    baseline: baseline.BaselineConfig = field(default_factory=baseline.BaselineConfig)

    @property
    def window(self) -> int:
        """Periods a scan window needs: the history plus the period scanned."""
        return self.history_periods + 1


@dataclass(frozen=True)
class ScanResult:
    score: FloatArray  # (n,) 1 - p
    tail_prob: FloatArray  # (n,) combined tail probability p
    detector_scores: dict[str, FloatArray]  # name → (n,) calibrated 1 - p_detector
    alert: npt.NDArray[np.bool_]  # (n,)
    severity: npt.NDArray[np.int64]  # (n,) -1 none, else Severity.rank
    baseline: baseline.Baseline  # deviations (damped when provisional), expected, actual


class ScanPipeline:
    """Fit on a profile's training history, then score one period for every entity."""

    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()
        self.names = self._chosen()
        self.detectors: dict[str, Detector] = {}
        self.calibrators: dict[str, TailCalibrator] = {}
        self.vote = WeightedVote({n: self._weight(n) for n in self.names})

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
        periods = range(self.config.min_history, days)
        days_seen = [self._baseline(history, t, first_weekday) for t in periods]
        devs = np.stack([b.deviation for b in days_seen], axis=1)
        runs = None
        if any(_INPUTS[n] == "run" for n in self.names):
            runs = np.stack(
                [
                    self._run(history, t, first_weekday, day)
                    for t, day in zip(periods, days_seen, strict=True)
                ],
                axis=1,
            )
        for name in self.names:
            detector = _FACTORIES[name]()
            inputs = self._inputs_for_training(name, devs, runs)
            detector.fit(inputs)
            raw_scores = np.asarray(detector.score(inputs), dtype=np.float64)
            self.detectors[name] = detector
            self.calibrators[name] = TailCalibrator().fit(raw_scores)
        return self

    def _baseline(self, raw: FloatArray, t: int, first_weekday: int) -> baseline.Baseline:
        lo = max(0, t - self.config.history_periods)
        weekday = (first_weekday + t) % 7
        return baseline.compute(raw[:, lo : t + 1], weekday, self.config.baseline)

    def _run(
        self, raw: FloatArray, t: int, first_weekday: int, day: baseline.Baseline
    ) -> FloatArray:
        """Deviations of the last ``run_periods`` summed, kept only where the scanned period
        itself has at least halved or doubled: a sustained collapse, not the echo of
        yesterday's incident in a run that still holds it while today merely wobbles."""
        lo = max(0, t - self.config.history_periods - self.config.run_periods + 1)
        weekday = (first_weekday + t) % 7
        cfg, k = self.config.baseline, self.config.run_periods
        run = baseline.compute(raw[:, lo : t + 1], weekday, cfg, periods=k).deviation
        factor = (day.actual + _RUN_EPS) / (day.expected + _RUN_EPS)
        moved = (factor <= 1.0 / _RUN_FACTOR) | (factor >= _RUN_FACTOR)
        return np.where(moved, run, 0.0)

    def _inputs_for_training(
        self, name: str, devs: FloatArray, runs: FloatArray | None
    ) -> FloatArray:
        kind = _INPUTS[name]
        if kind == "run" and runs is not None:
            return np.concatenate([devs, runs], axis=-1).reshape(-1, 2 * devs.shape[-1])
        if kind != "sequence":
            return devs.reshape(-1, devs.shape[-1])
        length = self.config.sequence_length
        windows = np.lib.stride_tricks.sliding_window_view(devs, length, axis=1)
        return np.moveaxis(windows, -1, 2).reshape(-1, length, devs.shape[-1])

    # -- scanning ----------------------------------------------------------------------

    def score(
        self, window: npt.ArrayLike, last_weekday: int, *, provisional: bool = False
    ) -> ScanResult:
        """Score the last period of (n, T, 5) windows (sequence detectors need T ≥ L + 1)."""
        if not self.detectors:
            raise RuntimeError("fit the pipeline before scoring")
        raw = np.asarray(window, dtype=np.float64)[:, -self._periods_needed() :, :]
        base = baseline.compute(raw[:, -self.config.window :], last_weekday, self.config.baseline)
        current = damp_provisional(base.deviation) if provisional else base.deviation
        inputs = _ScanInputs(self, raw, last_weekday, base, current, provisional)
        tail: dict[str, FloatArray] = {}
        for name, detector in self.detectors.items():
            raw_scores = np.asarray(detector.score(inputs.of(_INPUTS[name])), dtype=np.float64)
            tail[name] = self.calibrators[name].tail_prob(raw_scores)
        p = self.vote.combine(tail)
        score = 1.0 - p
        return ScanResult(
            score=score,
            tail_prob=p,
            detector_scores={name: 1.0 - t for name, t in tail.items()},
            alert=p <= self.config.alert_tail_prob,
            severity=severity_codes(score),
            baseline=baseline.Baseline(current, base.expected, base.actual),
        )

    def _periods_needed(self) -> int:
        kinds = {_INPUTS[n] for n in self.detectors}
        extra = self.config.sequence_length - 1 if "sequence" in kinds else 0
        return self.config.window + max(extra, self.config.run_periods - 1)

    def _sequence(self, raw: FloatArray, last_weekday: int, current: FloatArray) -> FloatArray:
        """(n, L, 10): the deviations of the last L periods, the (damped) current one last."""
        length = self.config.sequence_length
        first_weekday = (last_weekday - raw.shape[1] + 1) % 7
        days = raw.shape[1]
        earlier = [
            self._baseline(raw, t, first_weekday).deviation for t in range(days - length, days - 1)
        ]
        return np.stack([*earlier, current], axis=1)


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

    def of(self, kind: InputKind) -> FloatArray:
        if kind == "deviation":
            return self.current
        if kind not in self._built:
            self._built[kind] = self._build(kind)
        return self._built[kind]

    def _build(self, kind: InputKind) -> FloatArray:
        if kind == "sequence":
            return self.pipeline._sequence(self.raw, self.last_weekday, self.current)
        last = self.raw.shape[1] - 1
        run = self.pipeline._run(self.raw, last, self.last_weekday - last, self.base)
        run = damp_provisional(run) if self.provisional else run
        return np.concatenate([self.current, run], axis=1)


def damp_provisional(deviation: FloatArray) -> FloatArray:
    """Zero the sales-side moves late attribution can fake (drops; an ACOS rise)."""
    out = deviation.copy()
    falling = [INDEX[f] for f in SALES_SIDE]
    rising = [INDEX[f] for f in SALES_SIDE_RISING]
    out[:, falling] = np.maximum(out[:, falling], 0.0)
    out[:, rising] = np.minimum(out[:, rising], 0.0)
    return out
