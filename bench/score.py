"""`tripwire score` cost per row: the default streaming scorer (context + widened ARTime)
vs a reference in the same process — the earlier default vote's six detectors without its
contextual one (`VOTE_WEIGHTS` less context, as in earlier runs) — on long synthetic series.

Three shapes of 20,000 five-minute rows: seasonal with noise (the contextual memory
settles), a steady trend (every few hundred rows a record rebuilds the memory) and a random
walk. Prints ms per row, rows/s, the ratio to the reference, and the contextual detector's
rebuilds and memory size at the end (contexts stored; it is what grows with the stream)
and the widened ARTime's rebuilds, replays and rows kept for them.
`--also WEIGHTS` times more scorers against the same reference (e.g. `--also rcf=1`, the
random cut forest alone), `--set NAME=VALUE` sets a knob of theirs (as `tripwire score
--set`, e.g. `--set artime_widen=1`); `--csv FILE` scores that file's first value column
instead of the synthetic shapes (e.g. a NAB file).

    python bench/score.py [--rows 20000] [--also rcf=1 ...] [--set k=v ...] [--csv FILE]
"""

from __future__ import annotations

import argparse
import csv
import time
from datetime import datetime, timedelta

import numpy as np

from tripwire.detection.artime import ARTimeScore
from tripwire.detection.context_anomaly import ContextAnomaly
from tripwire.detection.score_cli import build_config
from tripwire.detection.streaming import VOTE_WEIGHTS, StreamingConfig, StreamingScorer

STEP = timedelta(minutes=5)


def series(shape: str, n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(n)
    if shape == "seasonal":
        return 50 + 20 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 3, n)
    if shape == "trend":
        return 0.01 * t + rng.normal(0, 1, n)
    return np.cumsum(rng.normal(0, 1, n))


def run(values: np.ndarray, config: StreamingConfig) -> tuple[float, str]:
    """Seconds for scoring `values` row by row, and the contextual detector's state (and
    the widened ARTime's rebuilds)."""
    scorer = StreamingScorer(config)
    start = datetime(2024, 1, 1)
    began = time.perf_counter()
    for i, v in enumerate(values):
        scorer.step(np.array([v]), start + i * STEP)
    took = time.perf_counter() - began
    state = []
    context = scorer.detectors.get("context")
    if isinstance(context, ContextAnomaly):
        state.append(f"{context.rebuilds} rebuilds, {context.stored_contexts():,} contexts")
    artime = scorer.detectors.get("artime")
    if isinstance(artime, ARTimeScore) and artime.widen:
        state.append(
            f"artime: {artime.rebuilds} rebuilds, {artime.replayed:,} rows replayed, "
            f"{artime.kept_rows:,} kept"
        )
    return took, "; ".join(state)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--also", action="append", default=[], metavar="WEIGHTS")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--csv", help="score this file's first value column instead")
    args = ap.parse_args()
    n = args.rows
    reference = StreamingConfig(weights={k: w for k, w in VOTE_WEIGHTS.items() if k != "context"})
    scorers = [("default", StreamingConfig())]
    scorers += [(w, build_config(w, args.set) or StreamingConfig()) for w in args.also]
    for _, config in scorers:
        run(series("seasonal", 500), config)  # imports and first-use costs
    if args.csv:
        with open(args.csv) as f:
            rows = list(csv.reader(f))[1:]  # after the header
        shapes = {args.csv.rsplit("/", 1)[-1][:9]: np.array([float(r[1]) for r in rows])}
    else:
        shapes = {shape: series(shape, n) for shape in ("seasonal", "trend", "walk")}
    print(f"rows per series: {', '.join(f'{len(v):,}' for v in shapes.values())}; one core")
    print(f"{'series':9} {'scorer':22} {'ms/row':>7} {'rows/s':>7} {'ratio':>6}  memory")
    for shape, values in shapes.items():
        ref_s, _ = run(values, reference)
        print(f"{shape:9} {'six detectors (ref)':22} {_rate(ref_s, len(values), ref_s)}")
        for label, config in scorers:
            took, state = run(values, config)
            print(f"{shape:9} {label:22} {_rate(took, len(values), ref_s)}  {state}")


def _rate(took: float, n: int, ref_s: float) -> str:
    return f"{took / n * 1e3:7.2f} {n / took:7.0f} {took / ref_s:5.1f}x"


if __name__ == "__main__":
    main()
