"""Market detection quality: planted price gaps, volume spikes and volatility regimes.

    OMP_NUM_THREADS=1 .venv/bin/python bench/market.py [--seeds 101 202 303] [--tickers 12]
                                                       [--days 750] [--sweep]

For each seed a market is generated (``tripwire.demo.market``: incidents only in the last
20 % of the days, the history before is clean). Its model is trained on the clean history
(``tripwire.training.market``, the same code ``tripwire.service.market.train_market`` runs)
and the incident period is scored bar by bar with ``MarketDetector`` — every bar's
features use bars up to it only, so scoring the whole period at once equals a daily scan.
Development used seeds 1 and 2; the default seeds are held out.

Definitions
-----------
* An alert is **true** when its ticker and bar lie in an incident's [start, end].
* An incident is **recalled** when it has at least one true alert.
* An alert within ``ECHO_DAYS`` bars after an incident's end on its ticker is an **echo**
  (the rolling windows still hold the incident: a gap moves the price level, a spike's
  exit day is a volume collapse); echoes are counted, neither true nor false.
* Every other alert is **false**; false alerts per 1,000 ticker-days = false / (tickers ×
  scored bars) × 1,000. Precision = true / (true + false).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from tripwire.demo.market import INCIDENT_FRACTION, GeneratedMarket, generate_market
from tripwire.detection.market import MarketDetector
from tripwire.training.market import train_market_model

ECHO_DAYS = 5
MODEL = -1.0  # a "threshold" meaning the model's own, learnt from its training window
KINDS = ("price_gap", "volume_spike", "volatility_regime")


@dataclass
class Tally:
    incidents: Counter[str]
    recalled: Counter[str]
    true: int = 0
    false: int = 0
    echo: int = 0
    ticker_days: int = 0

    def add(self, other: Tally) -> None:
        self.incidents.update(other.incidents)
        self.recalled.update(other.recalled)
        self.true += other.true
        self.false += other.false
        self.echo += other.echo
        self.ticker_days += other.ticker_days


def dense_bars(market: GeneratedMarket) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(ticker ids, dates (T,), bars (k, T, 5)) of a generated market."""
    ids = sorted({str(e) for e in market.bars["entity_id"]})
    T = len(market.bars) // len(ids)
    table = market.bars.reshape(T, len(ids))
    fields = ("open", "high", "low", "close", "volume")
    bars = np.stack([table[f].astype(np.float64).T for f in fields], axis=-1)
    return ids, table["date"][:, 0], bars


def evaluate(
    seed: int, tickers: int, days: int, thresholds: list[float]
) -> dict[tuple[str, float], Tally]:
    market = generate_market(seed=seed, tickers=tickers, days=days)
    ids, dates, bars = dense_bars(market)
    first = days - max(20, int(np.ceil(INCIDENT_FRACTION * days)))
    onnx_bytes, metadata = train_market_model(list(bars[:, :first]))
    detector = MarketDetector(onnx_bytes, metadata)
    scores = detector.score_bars(bars, start=first)
    day_index = {str(d): i for i, d in enumerate(dates)}
    spans = [
        (ids.index(i.root_entity), day_index[str(i.start)], day_index[str(i.end)], i.kind)
        for i in market.incidents
    ]
    probs = {"ensemble": scores.tail_prob, **scores.detector_probs}
    tallies = {}
    for (name, prob), threshold in itertools.product(probs.items(), thresholds):
        at = detector.alert_tail_prob if threshold == MODEL else threshold
        alerts = np.argwhere(prob <= at)  # (ticker, bar - first)
        tally = Tally(Counter(k for *_, k in spans), Counter(), ticker_days=scores.tail_prob.size)
        hit: set[int] = set()
        for ticker, offset in alerts.tolist():
            t = offset + first
            where = [n for n, (k, s, e, _) in enumerate(spans) if k == ticker and s <= t <= e]
            if where:
                tally.true += 1
                hit.update(where)
            elif any(k == ticker and e < t <= e + ECHO_DAYS for k, _, e, _ in spans):
                tally.echo += 1
            else:
                tally.false += 1
        tally.recalled.update(spans[n][3] for n in hit)
        tallies[(name, threshold)] = tally
    return tallies


def report(label: str, tally: Tally) -> str:
    recall = {k: tally.recalled[k] / tally.incidents[k] for k in KINDS if tally.incidents[k]}
    total = sum(tally.recalled.values()) / max(1, sum(tally.incidents.values()))
    precision = tally.true / max(1, tally.true + tally.false)
    per_1k = 1000 * tally.false / max(1, tally.ticker_days)
    kinds = "  ".join(f"{k} {recall.get(k, float('nan')):.2f}" for k in KINDS)
    return (
        f"{label:>10}  recall {total:.2f} ({sum(tally.recalled.values())}/"
        f"{sum(tally.incidents.values())}: {kinds})  precision {precision:.2f}  "
        f"false/1k ticker-days {per_1k:.2f}  true {tally.true} echo {tally.echo} "
        f"false {tally.false} of {tally.ticker_days} ticker-days"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 202, 303])
    parser.add_argument("--tickers", type=int, default=12)
    parser.add_argument("--days", type=int, default=750)
    parser.add_argument("--sweep", action="store_true", help="several alert thresholds")
    args = parser.parse_args(argv)
    thresholds = (
        [MODEL, 0.04, 1e-2, 5e-3, 4e-3, 3e-3, 1e-3, 5e-4, 1e-4, 1e-5] if args.sweep else [MODEL]
    )
    started = time.perf_counter()
    totals: dict[tuple[str, float], Tally] = {}
    for seed in args.seeds:
        for key, tally in evaluate(seed, args.tickers, args.days, thresholds).items():
            totals.setdefault(key, Tally(Counter(), Counter())).add(tally)
            if key[0] == "ensemble" and not args.sweep:
                print(report(f"seed {seed}", tally))
    print(f"market: {len(args.seeds)} markets × {args.tickers} tickers × {args.days} days")
    for (name, threshold), tally in sorted(totals.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        label = "p<=model" if threshold == MODEL else f"p<={threshold:g}"
        print(f"{name:>16} " + report(label, tally))
    print(f"({time.perf_counter() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
