"""Scan throughput on one core: a 10,000-keyword profile, full ensemble plus explanations.

    python bench/detect.py [--keywords 10000] [--days 90] [--sample 300] [--seed 20261123]

Generates the profile with the project's generator (keywords and their roll-ups), trains the
default pipeline (count model, isolation forest, half-space trees, LSTM autoencoder) on all
days but the last, then times one scan of the last day: every entity's features, every
detector in one batch each, calibration, the vote, and exact Shapley explanations for every
alerting entity (one batch per detector for all of them). Best of ``--repeat``. Also
timed: the daily service pass (day D provisional, then the settled D - 3, which share the
deviations of the earlier periods their LSTM sequences hold) and where a cold scan's time
goes, and the steady state of day-after-day scanning (a backtest, a warm container).

Reference, same process and same trained models: the original design's loop — for each
entity, compute its features from its own window and call each detector on a batch of one;
explain each alerting entity with its own detector calls. Timed on ``--sample`` random
entities (and up to 20 alerting ones for the explanations) and extrapolated to the profile.

One core: OMP/MKL/OPENBLAS threads are set to 1 before numpy loads, and every onnxruntime
session runs with intra_op_num_threads=1 (the detectors' default).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from tripwire.demo.generator import GeneratorConfig, generate, write  # noqa: E402
from tripwire.detection.pipeline import (  # noqa: E402
    _INPUTS,
    PipelineConfig,
    ScanPipeline,
    ScanResult,
    _ScanInputs,
)
from tripwire.features import baseline  # noqa: E402
from tripwire.features.ppc import LATE_ATTRIBUTION_PERIODS  # noqa: E402
from tripwire.service.backtest import load_profile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keywords", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()

    started = time.perf_counter()
    account = generate(
        GeneratorConfig(
            seed=args.seed, keywords=args.keywords, days=args.days, campaigns=args.campaigns
        )
    )
    with tempfile.TemporaryDirectory() as folder:
        paths = write(account, Path(folder))
        profile = load_profile(paths["entities"], paths["metrics"])
    n = len(profile.entities)
    print(f"profile: {n:,} entities × {profile.days} days ({time.perf_counter() - started:.1f}s)")

    started = time.perf_counter()
    pipe = ScanPipeline(PipelineConfig()).fit(profile.raw[:, :-1], profile.first_day.weekday())
    print(f"trained {', '.join(pipe.names)} in {time.perf_counter() - started:.1f}s")

    last = profile.days - 1
    weekday = (profile.first_day + datetime.timedelta(days=last)).weekday()
    window = profile.raw[:, -(pipe._periods_needed()) :]
    timings, plain, pairs = [], [], []
    result = pipe.score(window, weekday)
    for _ in range(args.repeat):
        pipe._earlier.clear()  # cold: no earlier period's deviations cached
        t0 = time.perf_counter()
        result = pipe.score(window, weekday)
        timings.append(time.perf_counter() - t0)
        pipe._earlier.clear()
        t0 = time.perf_counter()
        pipe.score(window, weekday, explain=False)
        plain.append(time.perf_counter() - t0)
        # The daily service scan: the provisional day D, then the settled D - 3 (sharing the
        # deviations of the periods both sequences hold).
        pipe._earlier.clear()
        settled = window[:, :-LATE_ATTRIBUTION_PERIODS]
        t0 = time.perf_counter()
        pipe.score(window, weekday, provisional=True)
        pipe.score(settled, (weekday - LATE_ATTRIBUTION_PERIODS) % 7)
        pairs.append((time.perf_counter() - t0) / 2)
    # Steady state (a backtest's replay, or a warm container scanning day after day): the
    # day before was scanned, so one earlier period's deviations are new.
    steady = []
    for _ in range(args.repeat):
        pipe._earlier.clear()
        pipe.score(window[:, :-1], (weekday - 1) % 7)
        t0 = time.perf_counter()
        pipe.score(window, weekday)
        steady.append(time.perf_counter() - t0)
    batch = min(timings)
    alerts = np.flatnonzero(result.alert)
    print(
        f"batched, cold scan: {n:,} entities in {batch:.3f}s ({n / batch:,.0f} entities/s), "
        f"{len(alerts)} alerting entities explained; without explanations {min(plain):.3f}s; "
        f"daily pass (D provisional + D-3 settled) {min(pairs):.3f}s per scan "
        f"({n / min(pairs):,.0f} entities/s); steady state (the day before scanned) "
        f"{min(steady):.3f}s ({n / min(steady):,.0f} entities/s)"
    )
    _breakdown(pipe, window, weekday, result)

    rng = np.random.default_rng(0)
    sample = rng.choice(n, min(args.sample, n), replace=False)
    t0 = time.perf_counter()
    alerting_in_sample = 0
    for row in sample.tolist():
        inputs, p = _one_entity(pipe, window[row : row + 1], weekday)
        alerting_in_sample += bool(p[0] <= pipe.config.alert_tail_prob)
    per_entity = (time.perf_counter() - t0) / len(sample)
    explained = alerts[:20]
    per_explanation = 0.0
    if len(explained):
        t0 = time.perf_counter()
        for row in explained.tolist():
            inputs, _ = _one_entity(pipe, window[row : row + 1], weekday)
            pipe.shapley(inputs, np.array([0]))
        per_explanation = (time.perf_counter() - t0) / len(explained) - per_entity
    reference = per_entity * n + per_explanation * len(alerts)
    print(
        f"per-entity reference: {per_entity * 1e3:.2f} ms/entity + "
        f"{max(per_explanation, 0.0) * 1e3:.1f} ms per explanation "
        f"(on {len(sample)} + {len(explained)} entities) → {reference:.1f}s for the profile "
        f"({n / reference:,.0f} entities/s)"
    )
    print(f"speed-up: {reference / batch:.1f}×")


def _breakdown(pipe: ScanPipeline, window: np.ndarray, weekday: int, result: ScanResult) -> None:
    """Where a cold scan's time goes."""
    pipe._earlier.clear()
    parts: dict[str, float] = {}
    t0 = time.perf_counter()
    base = baseline.compute(window[:, -pipe.config.window :], weekday, pipe.config.baseline)
    parts["baseline"] = time.perf_counter() - t0
    inputs = _ScanInputs(pipe, window, weekday, base, base.deviation, False)
    for kind in ("run", "sequence"):
        t0 = time.perf_counter()
        inputs.of(kind)
        parts[f"{kind} features"] = time.perf_counter() - t0
    for name in pipe.detectors:
        t0 = time.perf_counter()
        pipe._tail(name, inputs.of(_INPUTS[name]))
        parts[name] = time.perf_counter() - t0
    rows = np.flatnonzero(result.alert)
    t0 = time.perf_counter()
    pipe.shapley(inputs, rows)
    parts[f"shapley ({len(rows)} rows)"] = time.perf_counter() - t0
    print("  cold scan breakdown: " + ", ".join(f"{k} {v:.3f}s" for k, v in parts.items()))


def _one_entity(
    pipe: ScanPipeline, window: np.ndarray, weekday: int
) -> tuple[_ScanInputs, np.ndarray]:
    """The original design's per-entity path: own features, each detector on one row."""
    base = baseline.compute(window[:, -pipe.config.window :], weekday, pipe.config.baseline)
    inputs = _ScanInputs(pipe, window, weekday, base, base.deviation, False)
    tail = {name: pipe._tail(name, inputs.of(_INPUTS[name])) for name in pipe.detectors}
    return inputs, pipe._combine(tail)


if __name__ == "__main__":
    main()
