"""Market detection on real index histories: labelled shocks recalled, alerts per ticker-year.

    OMP_NUM_THREADS=1 .venv/bin/python bench/market_real.py [--no-synthetic] [--alerts]
    OMP_NUM_THREADS=1 .venv/bin/python bench/market_real.py --held-out [--alerts]

Data: the three daily index histories the ``nolds`` package ships (^NDX, ^N225, ^JKSE,
1990 - May 2001, Yahoo Finance, MIT licence; ``pip install -e '.[dev]'``). nolds' own
``import`` fails on Python 3.11 (its loader calls ``importlib.resources.files`` on a module),
so the CSV files are read from the installed distribution, not through nolds. Days without
a price (``null``: holidays) are dropped; prices are put on the adjusted scale
(``features.ohlcv.adjusted``: every price times ``Adj Close / Close``).

Labels: ``bench/data/market_shocks.csv`` — well-known shocks from public history, each with
its source. A label counts only if the data shows it (``verified``: the index moved at least
``LARGE_MOVE`` times its usual absolute daily move — the median over the 250 trading days
before — on the day or the next trading day); the bench prints each label's move.

Per index, a model is trained on the first years (``SPLITS``) and the rest is scanned. A
label in the scanned years is **recalled** when an alert falls on its day or the next
trading day (a label's date may be a holiday: "its day" is then the next trading day).
Alerts per ticker-year = alerts / (scanned calendar days / 365.25).

Parameters (the alert threshold, the tail fraction the calibration fits, the detectors'
weights) are chosen leave-one-index-out: on the two other indices, the grid point with the
highest worse-index recall (then most labels) among those with at most
``MAX_ALERTS_PER_YEAR`` alerts per ticker-year on both, then scored on the held-out index.
Ties go to the point that spends most of the budget: with three to six labels per index,
recall plateaus, and the fewest-alerts point of a plateau is its edge (it cost ^N225 two
of six labels in development).

The threshold is one per index, learnt from its training window as the model learns it
(``detection.market.budget_threshold``): the combined p under which the training rows
would have raised ``B`` alerts per ticker-year, ``B`` in ``BUDGETS`` chosen
leave-one-index-out. ``--global`` chooses one global threshold (``THRESHOLDS``) instead,
as the model did before issue 17c.

The budget is capped by the training's extreme moves (``detection.market.market_budget``:
bars a ticker-year with a voting view >= K robust σ, K in ``EXTREME_GRID``), chosen after
the rest as the strictest cap that costs the two other indices nothing (``choose``).

``--held-out``: data nothing here was chosen on — the S&P 500 and NASDAQ Composite daily
OHLCV 1999-2018 the ``arch`` package ships (Yahoo, with volume; NCSA licence), labelled
from public history in the same labels file (events 2005-2018, each for both indices).
As issue 17 measured them: one US market model of both, trained through 2004, scanned
2005-2018, at the model's defaults. It prints recall (the bench's verified labels, and
every labelled pair) and alerts per ticker-year; nothing is chosen on it.

Each day's share of a regular session comes from the index's market calendar
(``domain.calendars``: US early closes, JPX's half-day first and last sessions; ^JKSE has
no calendar), so the volume detector judges a half day as a short session;
``--no-sessions`` treats every day as a full session.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import itertools
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from tripwire.detection.market import (
    ALERT_BUDGET,
    EXTREME_Z,
    TAIL_FRACTION,
    WEIGHTS,
    MarketDetector,
    budget_threshold,
    fit_tail,
    market_budget,
)
from tripwire.detection.vote import combine
from tripwire.domain.calendars import CALENDARS
from tripwire.features.ohlcv import adjusted
from tripwire.training.market import train_market_model, training_raw_scores

COLUMNS = ("Open", "High", "Low", "Close", "Volume")
LABELS = Path(__file__).resolve().parent / "data" / "market_shocks.csv"
# Index → (market, last training day): about five years each; ^JKSE starts in July 1997.
SPLITS = {
    "^NDX": ("US", "1994-12-31"),
    "^N225": ("JP", "1994-12-31"),
    "^JKSE": ("ID", "1998-12-31"),
}
# Held out (``--held-out``): arch's S&P 500 and NASDAQ Composite, daily 1999-2018 (Yahoo,
# with volume; arch is NCSA-licensed), one US market model trained through
# HELD_OUT_TRAINING_END and scanned after, as issue 17 measured them through the product.
HELD_OUT = {"^GSPC": "sp500", "^IXIC": "nasdaq"}
HELD_OUT_MARKET, HELD_OUT_TRAINING_END = "US", "2004-12-31"
LARGE_MOVE = 4.0  # × the median |daily return| of the 250 days before
MAX_ALERTS_PER_YEAR = 6.0
THRESHOLDS = [1e-1, 7e-2, 5e-2, 4e-2, 3e-2, 2e-2, 1e-2, 5e-3, 3e-3, 2e-3, 1e-3, 3e-4, 1e-4]
BUDGETS = [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0]  # training alerts a ticker-year
# The cap on the budget: training bars a ticker-year with a voting view >= K robust σ (None:
# no cap; ``detection.market.market_budget``).
EXTREME_GRID: list[float | None] = [None, 3.0, 3.5, 4.0, 4.5, 5.0]
BARS_PER_YEAR = 252
TAIL_FRACTIONS = [0.05, 0.1]
WEIGHT_GRID: dict[str, dict[str, float]] = {
    "default": dict(WEIGHTS),  # shock, move, vol_move, run: 0.225 each; volume 0.1
    "run": {"shock": 0.25, "move": 0.25, "vol_move": 0.25, "run": 0.25},  # issue 17c's vote
    "price only": {"shock": 1 / 3, "move": 1 / 3, "vol_move": 1 / 3},
    # the vote before issue 17c, and it with run
    "forest, volume": {"isolation_forest": 0.04}
    | {d: 0.24 for d in ("shock", "move", "vol_move", "volume")},
    "forest, volume + run": {"isolation_forest": 0.04}
    | {d: 0.192 for d in ("shock", "move", "vol_move", "run", "volume")},
    # the four price views and volume (issue 17, short sessions)
    "run, volume": {d: 0.2 for d in ("shock", "move", "vol_move", "run", "volume")},
}


@dataclass
class Index:
    name: str
    dates: list[str]
    bars: np.ndarray  # (T, 5) adjusted open, high, low, close, volume
    split: int  # first scanned bar
    session: np.ndarray | None  # (T,) each day's share of a regular session (its calendar)

    @property
    def years(self) -> float:
        """Scanned calendar years."""
        first = dt.date.fromisoformat(self.dates[self.split])
        return (dt.date.fromisoformat(self.dates[-1]) - first).days / 365.25


@dataclass(frozen=True)
class Label:
    date: str
    index: str
    description: str
    source: str


def installed(package: str, path: str) -> Path:
    """A data file shipped in an installed distribution (a dev dependency: a clear exit)."""
    try:
        return Path(str(distribution(package).locate_file(path)))
    except PackageNotFoundError:
        sys.exit(f"{package} is not installed: pip install -e '.[dev]'")


def read_yahoo(lines: Iterable[str], date_layout: str = "%Y-%m-%d") -> tuple[list[str], np.ndarray]:
    """(ISO dates, (T, 5) adjusted OHLCV) of a Yahoo Finance CSV export; rows with a
    ``null`` (holidays) are dropped."""
    dates, rows = [], []
    for record in csv.DictReader(lines):
        if "null" in record.values():
            continue
        dates.append(dt.datetime.strptime(record["Date"], date_layout).date().isoformat())
        rows.append([float(record[k]) for k in (*COLUMNS, "Adj Close")])
    table = np.asarray(rows)
    return dates, adjusted(table[:, :5], table[:, 5])


def load_index(name: str) -> tuple[list[str], np.ndarray]:
    """One of nolds' index histories (``SPLITS``)."""
    with installed("nolds", f"nolds/datasets/{name}.csv").open() as f:
        return read_yahoo(f)


def load_held_out(name: str) -> tuple[list[str], np.ndarray]:
    """One of arch's index histories (``HELD_OUT``: dates written ``1/4/1999``)."""
    dataset = HELD_OUT[name]
    path = installed("arch", f"arch/data/{dataset}/{dataset}.csv.gz")
    with gzip.open(path, "rt") as f:
        return read_yahoo(f, "%m/%d/%Y")


def load_labels() -> list[Label]:
    with LABELS.open() as f:
        return [
            Label(r["date"], r["index"], r["description"], r["source"]) for r in csv.DictReader(f)
        ]


def label_bars(index: Index, label: Label) -> tuple[int, int]:
    """(its day, the next trading day): the first trading day on or after the date."""
    day = int(np.searchsorted(np.asarray(index.dates), label.date))
    return day, day + 1


def move(index: Index, label: Label) -> tuple[float, float]:
    """(the larger |log return| of the label's two days, in units of the usual |move|)."""
    close = index.bars[:, 3]
    r = np.r_[0.0, np.diff(np.log(close))]
    day, _ = label_bars(index, label)
    best = max(range(day, min(day + 2, len(r))), key=lambda t: abs(r[t]))
    usual = float(np.median(np.abs(r[max(1, best - 250) : best])))
    return float(r[best]), abs(float(r[best])) / usual


@dataclass
class Scan:
    index: Index
    probs: dict[str, np.ndarray]  # each detector's tail probability per scanned bar
    train_raw: dict[str, np.ndarray]  # each detector's training scores (for refitting tails)
    raw: dict[str, np.ndarray]
    volatile: np.ndarray
    tail_prob: np.ndarray  # the model's combined p per scanned bar
    threshold: float  # the model's own (learnt) alert threshold
    extreme: float  # its training's bars a ticker-year with a voting view >= EXTREME_Z σ

    @property
    def learnt_raw(self) -> dict[str, np.ndarray]:
        """The training scores of the detectors the model kept (as training judges them)."""
        return {d: self.train_raw[d] for d in self.probs}

    @property
    def years(self) -> float:
        return self.index.years


def session_shares(market: str, dates: list[str]) -> np.ndarray | None:
    """Each day's share of a regular session, from the market's calendar (None: no calendar)."""
    if market not in CALENDARS:
        return None
    days = [dt.date.fromisoformat(d) for d in dates]
    return np.asarray(CALENDARS[market].session_shares(days))


def scan(index: Index) -> Scan:
    train = index.bars[: index.split]
    share = index.session
    train_share = [None if share is None else share[: index.split]]
    onnx_bytes, metadata = train_market_model(
        [train], market=SPLITS[index.name][0], sessions=train_share
    )
    detector = MarketDetector(onnx_bytes, metadata)
    session = None if share is None else share[None]
    scores = detector.score_bars(index.bars[None], start=index.split, session=session)
    train_raw = training_raw_scores(detector, [train], train_share)
    probs = {d: p[0] for d, p in scores.detector_probs.items()}
    raw = {d: r[0] for d, r in scores.raw.items()}
    return Scan(
        index,
        probs,
        train_raw,
        raw,
        scores.volatile[0],
        scores.tail_prob[0],
        detector.alert_tail_prob,
        metadata["extreme_moves_per_year"],
    )


def tail_probs(s: Scan, tail_fraction: float) -> dict[str, np.ndarray]:
    if tail_fraction == TAIL_FRACTION:
        return s.probs
    return {d: fit_tail(d, s.train_raw[d], tail_fraction).tail_prob(s.raw[d]) for d in s.probs}


def training_probs(s: Scan, tail_fraction: float) -> dict[str, np.ndarray]:
    """Each detector's tail probability of its own training rows."""
    return {
        d: fit_tail(d, s.train_raw[d], tail_fraction).tail_prob(s.train_raw[d]) for d in s.probs
    }


@dataclass
class Result:
    recalled: int
    labels: int
    alerts: int
    years: float
    missed: list[str]

    @property
    def recall(self) -> float:
        return self.recalled / self.labels if self.labels else float("nan")

    @property
    def per_year(self) -> float:
        return self.alerts / self.years

    def __str__(self) -> str:
        missed = f"  missed {', '.join(self.missed)}" if self.missed else ""
        return (
            f"recall {self.recall:.2f} ({self.recalled}/{self.labels})  "
            f"alerts {self.alerts} in {self.years:.1f} ticker-years = {self.per_year:.1f}/year"
            + missed
        )


def evaluate(s: Scan | Index, labels: list[Label], alert: np.ndarray) -> Result:
    index = s.index if isinstance(s, Scan) else s
    hit = 0
    missed = []
    for label in labels:
        day, nxt = label_bars(index, label)
        window = [t - index.split for t in (day, nxt) if index.split <= t < len(index.dates)]
        if any(alert[t] for t in window):
            hit += 1
        else:
            missed.append(label.date)
    return Result(hit, len(labels), int(alert.sum()), index.years, missed)


def scanned_labels(
    indices: dict[str, Index], all_labels: list[Label]
) -> tuple[dict[str, list[Label]], dict[str, list[Label]]]:
    """Print the labels of ``indices``; (those in the scanned years the data verifies, all
    those in the scanned years) per index."""
    print(f"labels ({LABELS.name}; 'scan' = in the scanned years; move in usual |moves|):")
    verified_ones: dict[str, list[Label]] = {name: [] for name in indices}
    every: dict[str, list[Label]] = {name: [] for name in indices}
    for label in all_labels:
        if label.index not in indices:
            continue
        index = indices[label.index]
        r, size = move(index, label)
        scanned = label_bars(index, label)[0] >= index.split
        verified = size >= LARGE_MOVE
        flag = ("scan" if scanned else "train") + ("" if verified else " NOT VERIFIED")
        where = f"{label.date} {label.index:>6} {r:+7.1%} {size:5.1f}x"
        print(f"  {where}  {flag:<5}  {label.description}")
        if scanned:
            every[label.index].append(label)
            if verified:
                verified_ones[label.index].append(label)
    return verified_ones, every


Params = tuple[float, float, str, float | None]  # threshold, tail fraction, weights, cap K


def grid_results(
    scans: dict[str, Scan], labels: dict[str, list[Label]], budget: bool = True
) -> dict[Params, dict[str, Result]]:
    """Every grid point's result per index. With ``budget`` a point's first element is the
    training alerts per ticker-year (``BUDGETS``), not a threshold."""
    out: dict[Params, dict[str, Result]] = {}
    for tail_fraction, (wname, weights) in itertools.product(TAIL_FRACTIONS, WEIGHT_GRID.items()):
        combined = {
            name: combine(tail_probs(s, tail_fraction), weights, "bonferroni")
            for name, s in scans.items()
        }
        if budget:
            trained = {
                name: combine(training_probs(s, tail_fraction), weights, "bonferroni")
                for name, s in scans.items()
            }
            for b, k in itertools.product(BUDGETS, EXTREME_GRID):
                at = {
                    name: budget_threshold(
                        trained[name],
                        market_budget(s.learnt_raw, weights, b, BARS_PER_YEAR, k),
                        BARS_PER_YEAR,
                    )
                    for name, s in scans.items()
                }
                out[(b, tail_fraction, wname, k)] = {
                    name: evaluate(s, labels[name], combined[name] <= at[name])
                    for name, s in scans.items()
                }
            continue
        for threshold in THRESHOLDS:
            out[(threshold, tail_fraction, wname, None)] = {
                name: evaluate(s, labels[name], combined[name] <= threshold)
                for name, s in scans.items()
            }
    return out


def target_key(
    results: dict[Params, dict[str, Result]], params: Params, on: list[str]
) -> tuple[bool, float, int]:
    """(within the alert bound on each, the worse recall, labels recalled) on ``on``."""
    r = [results[params][name] for name in on]
    within = all(x.per_year <= MAX_ALERTS_PER_YEAR for x in r)
    return within, min(x.recall for x in r), sum(x.recalled for x in r)


def choose(results: dict[Params, dict[str, Result]], on: list[str]) -> Params:
    """Two steps. The model (threshold or budget, tail fraction, weights), with no cap:
    within the alert bound, the best worse-index recall, then most labels, then the point
    spending most of the budget. Then the cap on its budget: the strictest (largest K) that
    costs the indices ``on`` nothing — the real indices can say how far a real market may
    be capped, not how much a market without news should be spared."""
    uncapped = [p for p in results if p[3] is None]
    model = max(
        uncapped,
        key=lambda p: (*target_key(results, p, on), max(results[p][n].per_year for n in on)),
    )
    same = [
        p
        for p in results
        if p[:3] == model[:3] and target_key(results, p, on) == target_key(results, model, on)
    ]
    return max(same, key=lambda p: p[3] or 0.0)


def describe(params: Params, budget: bool = False) -> str:
    threshold, tail_fraction, weights, extreme_z = params
    alert = f"{threshold:g} training alerts/year" if budget else f"p<={threshold:g}"
    cap = "" if extreme_z is None else f" (at most its moves >= {extreme_z:g} sigma)"
    return f"{alert}{cap} tail {tail_fraction:g} weights {weights}"


def scan_held_out(all_labels: list[Label], show_alerts: bool) -> None:
    """arch's two US indices: one US market model (the defaults chosen on nolds, nothing
    chosen here) trained on both through HELD_OUT_TRAINING_END, both scanned after."""
    indices = {}
    for name in HELD_OUT:
        dates, bars = load_held_out(name)
        split = int(np.searchsorted(dates, HELD_OUT_TRAINING_END, "right"))
        indices[name] = Index(name, dates, bars, split, session_shares(HELD_OUT_MARKET, dates))
    first, *rest = indices.values()
    if any(ix.dates != first.dates for ix in rest):
        sys.exit("the held-out indices do not share their trading days")
    verified, every = scanned_labels(indices, all_labels)
    share = [ix.session for ix in indices.values()]
    onnx_bytes, metadata = train_market_model(
        [ix.bars[: ix.split] for ix in indices.values()],
        market=HELD_OUT_MARKET,
        sessions=[None if s is None else s[: first.split] for s in share],
    )
    detector = MarketDetector(onnx_bytes, metadata)
    session = None if first.session is None else np.stack([s for s in share if s is not None])
    bars = np.stack([ix.bars for ix in indices.values()])
    scores = detector.score_bars(bars, start=first.split, session=session)
    print(
        f"\nheld out: one {HELD_OUT_MARKET} model of {', '.join(indices)} trained "
        f"{first.dates[0]}..{first.dates[first.split - 1]}, scanned "
        f"{first.dates[first.split]}..{first.dates[-1]} (the defaults: "
        f"{describe((ALERT_BUDGET, TAIL_FRACTION, 'default', EXTREME_Z), True)}); extreme moves "
        f"{metadata['extreme_moves_per_year']:.1f}/ticker-year, jumps "
        f"{metadata['jumps']} in {metadata['jump_returns']} returns "
        f"({'quiet' if metadata['quiet'] else 'not quiet'}), threshold p<="
        f"{detector.alert_tail_prob:.3g}"
    )
    alerts = scores.tail_prob <= detector.alert_tail_prob
    by_index = {}
    for row, (name, index) in enumerate(indices.items()):
        by_index[name] = evaluate(index, verified[name], alerts[row])
        print(f"  {name:>6} verified labels: {by_index[name]}")
        print(f"  {'':>6} every labelled pair: {evaluate(index, every[name], alerts[row])}")
    recalled = sum(r.recalled for r in by_index.values())
    labelled = sum(r.labels for r in by_index.values())
    alerted = sum(r.alerts for r in by_index.values())
    years = sum(r.years for r in by_index.values())
    print(
        f"  both: {recalled}/{labelled} verified event-index pairs, {alerted} alerts in "
        f"{years:.1f} ticker-years = {alerted / years:.1f}/year"
    )
    # Which view carried each alert's vote (the smallest p_d / w_d).
    voting = [d for d in detector.weights if d in scores.detector_probs]
    ratios = np.stack([scores.detector_probs[d] / detector.weights[d] for d in voting])
    leader = np.asarray(voting)[ratios.argmin(axis=0)]
    counts = Counter(leader[alerts].tolist())
    print(
        "  alerts by the view that carried the vote: "
        + ", ".join(f"{d} {n}" for d, n in counts.most_common())
    )
    if show_alerts:
        for row, (name, index) in enumerate(indices.items()):
            print(f"\n{name} alerts:")
            for t in np.flatnonzero(alerts[row]):
                bar = index.split + t
                r = np.log(index.bars[bar, 3] / index.bars[bar - 1, 3])
                regime = " (already volatile)" if scores.volatile[row, t] else ""
                p = scores.tail_prob[row, t]
                print(f"  {index.dates[bar]} {r:+.1%} p={p:.1e} {leader[row, t]}{regime}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-synthetic", action="store_true", help="skip bench/market.py")
    parser.add_argument("--alerts", action="store_true", help="list each index's alerts")
    parser.add_argument(
        "--global", dest="one_threshold", action="store_true", help="one global threshold"
    )
    parser.add_argument("--grid", action="store_true", help="print every grid point's figures")
    parser.add_argument(
        "--no-sessions", action="store_true", help="every day a full session (no calendar)"
    )
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="arch's S&P 500 and NASDAQ Composite 1999-2018 at the model's defaults, no tuning",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    all_labels = load_labels()
    if args.held_out:
        scan_held_out(all_labels, args.alerts)
        print(f"({time.perf_counter() - started:.1f}s)")
        return 0
    indices = {}
    for name, (_, last_training_day) in SPLITS.items():
        dates, bars = load_index(name)
        split = int(np.searchsorted(dates, last_training_day, "right"))
        share = None if args.no_sessions else session_shares(SPLITS[name][0], dates)
        indices[name] = Index(name, dates, bars, split, share)

    labels = scanned_labels(indices, all_labels)[0]

    scans = {name: scan(index) for name, index in indices.items()}
    budget = not args.one_threshold
    results = grid_results(scans, labels, budget)
    default = (ALERT_BUDGET, TAIL_FRACTION, "default", EXTREME_Z)
    print(f"\nthe model's defaults ({describe(default, True)}), trained on the first years:")
    for name, s in scans.items():
        index = s.index
        print(
            f"  {name:>6} trained {index.dates[0]}..{index.dates[index.split - 1]}, scanned "
            f"{index.dates[index.split]}..{index.dates[-1]}, extreme moves "
            f"{s.extreme:.1f}/year, threshold p<={s.threshold:.3g}: "
            f"{evaluate(s, labels[name], s.tail_prob <= s.threshold)}"
        )
    if args.grid:
        print("\nevery grid point (recalled/labels alerts per ticker-year):")
        for params, by_index in results.items():
            figures = "  ".join(
                f"{n} {r.recalled}/{r.labels} {r.per_year:.2f}" for n, r in by_index.items()
            )
            print(f"  {describe(params, budget):<42} {figures}")
    print(
        f"\nleave-one-index-out (chosen on the other two; target recall >= 0.9 with "
        f"<= {MAX_ALERTS_PER_YEAR:g} alerts per ticker-year):"
    )
    for held_out in SPLITS:
        others = [n for n in SPLITS if n != held_out]
        params = choose(results, others)
        tuned = "  ".join(
            f"{n} {results[params][n].recall:.2f}/{results[params][n].per_year:.1f}" for n in others
        )
        print(f"  {held_out:>6} {results[params][held_out]}")
        print(f"         chosen on {tuned} (recall/alerts per year): {describe(params, budget)}")
    params = choose({k: v for k, v in results.items() if k[2] == "default"}, list(SPLITS))
    print(
        f"  on all three, default weights: {describe(params, budget)} "
        f"(detection.market's defaults: {describe(default, True)})"
    )
    if args.alerts:
        for name, s in scans.items():
            p = s.tail_prob
            print(f"\n{name} alerts at the defaults:")
            for t in np.flatnonzero(p <= s.threshold):
                bar = s.index.split + t
                r = np.log(s.index.bars[bar, 3] / s.index.bars[bar - 1, 3])
                regime = " (already volatile)" if s.volatile[t] else ""
                print(f"  {s.index.dates[bar]} {r:+.1%} p={p[t]:.1e}{regime}")
    if not args.no_synthetic:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import market as synthetic  # bench/market.py

        print("\nsynthetic bench (bench/market.py, default seeds):")
        synthetic.main([])
    print(f"({time.perf_counter() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
