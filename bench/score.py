"""`tripwire score` cost per row: the default streaming ensemble vs the same ensemble
without its contextual detector (the reference, same process), on long synthetic series.

Three shapes of 20,000 five-minute rows: seasonal with noise (the contextual memory
settles), a steady trend (every few hundred rows a record rebuilds the memory) and a random
walk. Prints ms per row, rows/s, the ratio to the reference, and the contextual detector's
rebuilds and memory size at the end (contexts stored; it is what grows with the stream).

    python bench/score.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np

from tripwire.detection.context_anomaly import ContextAnomaly
from tripwire.detection.streaming import STREAMING_WEIGHTS, StreamingConfig, StreamingScorer

STEP = timedelta(minutes=5)


def series(shape: str, n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(n)
    if shape == "seasonal":
        return 50 + 20 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 3, n)
    if shape == "trend":
        return 0.01 * t + rng.normal(0, 1, n)
    return np.cumsum(rng.normal(0, 1, n))


def run(values: np.ndarray, weights: Mapping[str, float]) -> tuple[float, str]:
    """Seconds for scoring `values` row by row, and the contextual detector's state."""
    scorer = StreamingScorer(StreamingConfig(weights=dict(weights)))
    start = datetime(2024, 1, 1)
    began = time.perf_counter()
    for i, v in enumerate(values):
        scorer.step(np.array([v]), start + i * STEP)
    took = time.perf_counter() - began
    context = scorer.detectors.get("context")
    if not isinstance(context, ContextAnomaly):
        return took, ""
    return took, f"{context.rebuilds} rebuilds, {context.stored_contexts():,} contexts"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    n = ap.parse_args().rows
    reference = {k: w for k, w in STREAMING_WEIGHTS.items() if k != "context"}
    run(series("seasonal", 500), STREAMING_WEIGHTS)  # imports and first-use costs
    print(f"{n:,} rows per series, one core")
    print(f"{'series':9} {'scorer':22} {'ms/row':>7} {'rows/s':>7} {'ratio':>6}  contextual memory")
    for shape in ("seasonal", "trend", "walk"):
        values = series(shape, n)
        ref_s, _ = run(values, reference)
        full_s, state = run(values, STREAMING_WEIGHTS)
        for label, took, note in (
            ("six detectors (ref)", ref_s, ""),
            ("default, with context", full_s, state),
        ):
            rate = f"{took / n * 1e3:7.2f} {n / took:7.0f} {took / ref_s:5.1f}x"
            print(f"{shape:9} {label:22} {rate}  {note}")


if __name__ == "__main__":
    main()
