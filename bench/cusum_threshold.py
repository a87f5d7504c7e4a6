"""Choose the slow-collapse CUSUM's threshold on development seeds (never the reported one).

    python bench/cusum_threshold.py [--seeds 7 11] [--thresholds 4 4.5 ... 9]

Replays the CUSUM alone (``tripwire.detection.cusum``) the way the backtest scores: each
day of the incident period scanned with its last days as first reported (attribution lag
and restatements modelled by the generator) against the lag curve learnt from the
restatements before the period (``features.lag``), and the day
three before re-scanned on settled figures; an (entity, day) alerts once. For each
threshold it prints, summed over the seeds, the recall of the conversion kinds, their mean
lag (days from the start to the scan that first alerted) and the CUSUM's own false alerts
per 1,000 entity-days (``bench/quality.py``'s definitions). The chosen threshold is the
lowest whose false alerts stay within half the 1-per-1,000 budget (the ensemble spends the
rest), and is what ``CusumConfig.threshold`` holds.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from quality import alert_lags, evaluate  # bench/quality.py, beside this script
from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.demo.restatements import first_seen_series
from tripwire.detection.cusum import CusumConfig, conversion_cusum
from tripwire.features.lag import completeness
from tripwire.features.ppc import LATE_ATTRIBUTION_PERIODS
from tripwire.service.backtest import load_profile

DEV_SEEDS = (7, 11)
KINDS = ("account_tracking_outage", "keyword_conversion_collapse", "keyword_conversions_stopped")
WINDOW = 70  # periods the scan pipeline hands its detectors (history + sequence)
FA_BUDGET = 0.5  # per 1,000 entity-days: half the 1, the ensemble spends the rest


def replay(
    seed: int, thresholds: list[float]
) -> tuple[Any, dict[float, list[dict[str, Any]]], int]:
    account = generate(GeneratorConfig(seed=seed, attribution_lag=True))
    used = account.config
    with tempfile.TemporaryDirectory() as folder:
        paths = write(account, Path(folder))
        profile = load_profile(paths["entities"], paths["metrics"])
    seen = first_seen_series(account, profile)
    assert seen is not None
    first = used.days - used.incident_days
    ids = [e.entity_id for e in profile.entities]
    alerts: dict[float, list[dict[str, Any]]] = defaultdict(list)
    done: dict[float, set[tuple[str, int]]] = defaultdict(set)
    base = CusumConfig()
    curve = seen.lag_curve(profile, first)  # learnt from the restatements before the range
    for today in range(first, used.days):
        view = seen.as_of(profile, today).raw
        share = completeness(WINDOW, 0, curve)
        passes = [(today, view[:, today + 1 - WINDOW : today + 1], share)]
        settled = today - LATE_ATTRIBUTION_PERIODS
        if settled >= first:
            window = profile.raw[:, settled + 1 - WINDOW : settled + 1]
            passes.append((settled, window, np.ones(WINDOW)))
        for day, window, share in passes:
            for h in thresholds:
                result = conversion_cusum(window, share, dataclasses.replace(base, threshold=h))
                for row in np.flatnonzero(result.alarm).tolist():
                    if (ids[row], day) not in done[h]:
                        done[h].add((ids[row], day))
                        alerts[h].append(
                            {
                                "entity_id": ids[row],
                                "date": profile.day(day).isoformat(),
                                "scan_date": profile.day(today).isoformat(),
                            }
                        )
    entity_days = len(profile.entities) * used.incident_days
    return account, alerts, entity_days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEV_SEEDS))
    parser.add_argument(
        "--thresholds", type=float, nargs="+", default=[4, 4.5, 5, 5.5, 6, 6.5, 7, 8, 9]
    )
    args = parser.parse_args()
    hits: dict[float, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    lags: dict[float, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    false = dict.fromkeys(args.thresholds, 0)
    entity_days = 0
    for seed in args.seeds:
        account, alerts, days = replay(seed, args.thresholds)
        entity_days += days
        for h in args.thresholds:
            kinds, totals, _ = evaluate(account.entities, account.incidents, alerts[h])
            false[h] += totals.false_alerts
            for kind in KINDS:
                hits[h][kind][0] += kinds[kind].recalled if kind in kinds else 0
                hits[h][kind][1] += kinds[kind].incidents if kind in kinds else 0
            for kind, found in alert_lags(account.entities, account.incidents, alerts[h]).items():
                lags[h][kind] += found
    print(f"seeds {args.seeds}: {entity_days:,} entity-days; recall (mean lag) per kind")
    print(f"{'threshold':>9} {'FA/1k':>6}  " + "  ".join(f"{k[:24]:>24}" for k in KINDS))
    chosen = None
    for h in args.thresholds:
        rate = 1000 * false[h] / entity_days
        cells = []
        for kind in KINDS:
            got, n = hits[h][kind]
            lag = np.mean(lags[h][kind]) if lags[h][kind] else float("nan")
            cells.append(f"{got:>2}/{n:<2} ({lag:.1f} d)".rjust(24))
        print(f"{h:>9.1f} {rate:>6.2f}  " + "  ".join(cells))
        if chosen is None and rate <= FA_BUDGET:
            chosen = h
    print(f"chosen: {chosen} (the lowest with FA/1k ≤ {FA_BUDGET})")


if __name__ == "__main__":
    main()
