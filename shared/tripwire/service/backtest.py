"""`tripwire backtest`: replay the daily scheduled scan over a date range, in-process, through
the scan's own scoring core (``service.scoring``).

1. Read entities.csv and metrics.csv with the import's own validating readers and roll the
   keywords up into campaigns, portfolios and the account (``ingest.rollup``). A leaf with no
   row for a day counts as zero that day (Amazon omits rows without activity).
2. Train the pipeline on the history before ``start`` only (no retraining during the replay).
3. For each day D of [start, end], seeing data up to D only: score D for every entity with
   D's sales and orders provisional (late attribution: their drops cannot alert yet), then
   re-score D - ``LATE_ATTRIBUTION_PERIODS`` now that it is settled. An (entity, period)
   alerts at most once; the alert records the scan day that raised it. Online detectors
   (half-space trees) learn each period of the range once it is settled
   (``ScanPipeline.learn`` after its settled re-scan): still causal.

Each alert is one JSON line: entity_id, entity_type, date, scan_date, provisional, score,
tail_prob, severity, detector_scores, explanation (exact Shapley attributions of the ensemble
score against the entity's expected values: feature, contribution, direction, expected,
actual), root_cause (the top root cause entity from ``tripwire.rootcause.analyse`` over the
scan's alerting entities, with temporal precedence from the alerts of the periods before) and
group_id (``tripwire.rootcause.incidents``, the grouping the scan service persists: alerts
sharing a top root cause form one group, and an incident lasting several days — or settled
a few days late — stays one group; here the groups are kept in memory, ``IncidentBook``),
entity_name and impact (in USD: a file names no currency).
"""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire.detection.pipeline import PipelineConfig, ScanPipeline
from tripwire.domain import Alert, Confirmation, DetectionRun, Trigger
from tripwire.domain.metrics import INTEGER_MEASURES, PPC_MEASURES
from tripwire.features.lag import learn_curve
from tripwire.features.ppc import LATE_ATTRIBUTION_PERIODS
from tripwire.ingest.csv_files import Collector, read_entities, read_ppc_metrics
from tripwire.ingest.rollup import roll_up
from tripwire.rootcause.incidents import IncidentBook
from tripwire.service.incidents import with_groups
from tripwire.service.scoring import ProfileScorer, ScoredPeriod
from tripwire.service.series import ProfileSeries, dense


@dataclass
class BacktestReport:
    start: datetime.date
    end: datetime.date
    entities: int
    days: int
    alerts: list[dict[str, Any]] = field(default_factory=list)
    out_path: Path | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"backtest {self.start}..{self.end}: {self.entities} entities × {self.days} days, "
            f"{len(self.alerts)} alerts in {self.seconds:.1f}s → {self.out_path}"
        )


def load_profile(entities_path: Path, metrics_path: Path, progress: bool = False) -> ProfileSeries:
    collector = Collector(skip_bad_rows=False)
    entities = read_entities(Path(entities_path), collector, progress)
    by_id = {e.entity_id: e for e in entities}
    leaves, _ = read_ppc_metrics(Path(metrics_path), by_id, collector, progress=progress)
    parents = roll_up(entities, leaves, PPC_MEASURES, INTEGER_MEASURES)
    series = {**leaves, **parents}
    periods = sorted({p for points in series.values() for p in points})
    if not periods:
        raise ValueError("metrics.csv has no rows")
    first = datetime.date.fromisoformat(periods[0])
    n_days = (datetime.date.fromisoformat(periods[-1]) - first).days + 1
    return ProfileSeries(entities, first, dense(entities, series, first, n_days))


def run_backtest(
    entities_path: Path,
    metrics_path: Path,
    start: datetime.date,
    end: datetime.date,
    out_path: Path | None,
    progress: bool = True,
    config: PipelineConfig | None = None,
) -> BacktestReport:
    """Replay the daily scan for each day of [start, end]; write alerts as JSON lines."""
    started = time.perf_counter()
    profile = load_profile(entities_path, metrics_path, progress)
    report = backtest_profile(profile, start, end, progress, config)
    if out_path is not None:
        with Path(out_path).open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(alert) + "\n" for alert in report.alerts)
    report.out_path = out_path
    report.seconds = time.perf_counter() - started
    return report


def backtest_profile(
    profile: ProfileSeries,
    start: datetime.date,
    end: datetime.date,
    progress: bool = False,
    config: PipelineConfig | None = None,
    first_seen: FirstSeenSeries | None = None,
) -> BacktestReport:
    """The replay. With ``first_seen`` (restatements modelled) each scan day sees its last
    days' orders and sales as first reported; the settled re-scan sees them restated, and
    confirms or withdraws the provisional alerts of that period (``confirmation``)."""
    first, last = profile.index_of(start), profile.index_of(end)
    if first < 1 or last >= profile.days or first > last:
        raise ValueError(
            f"the range {start}..{end} must lie inside the data "
            f"({profile.first_day}..{profile.day(profile.days - 1)}) after some history"
        )
    pipeline = ScanPipeline(config).fit(profile.raw[:, :first], profile.first_day.weekday())
    report = BacktestReport(start, end, len(profile.entities), last - first + 1)
    run = DetectionRun(
        run_id="backtest",
        tenant_id="backtest",
        profile_id="backtest",
        trigger=Trigger.BACKFILL,
        started_at=datetime.datetime.combine(start, datetime.time()),
        expires_at=0,
    )
    scorer = ProfileScorer(pipeline, profile, run)  # the scan service's scoring core
    book = IncidentBook()  # the scan service's grouping, kept in memory
    seen: set[str] = set()
    from tqdm import tqdm  # the CLI's progress bar

    pending: dict[str, dict[str, Any]] = {}  # provisional alert id → its line
    for today in tqdm(range(first, last + 1), desc="backtest", unit="day", disable=not progress):
        scorer.latest = profile.day(today)
        if first_seen is not None:
            scorer.series = first_seen.as_of(profile, today)
            if today == first:  # learnt once, from the history before the replay
                scorer.lag_curve = first_seen.lag_curve(profile, today)
        scans = [(today, True)]
        if today - LATE_ATTRIBUTION_PERIODS >= first:
            scans.append((today - LATE_ATTRIBUTION_PERIODS, False))
        for period, provisional in scans:
            scored = scorer.score(profile.day(period), provisional=provisional)
            if not provisional:
                pipeline.learn(scored.result)  # online detectors absorb each settled period
            if not provisional:
                _judge(pending, scored)
            pairs = zip(scored.alerts, scored.rows, strict=True)
            new = [(a, r) for a, r in pairs if a.alert_id not in seen]
            seen.update(a.alert_id for a, _ in new)
            grouped = with_groups([a for a, _ in new], book.add)
            scan_date = profile.day(today).isoformat()
            for alert, (_, row) in zip(grouped, new, strict=True):
                line = _line(alert, scored, row, scan_date)
                report.alerts.append(line)
                if alert.confirmation is Confirmation.PROVISIONAL:
                    pending[alert.alert_id] = line
    report.alerts.sort(key=lambda a: (a["date"], a["entity_id"]))
    return report


def _judge(pending: dict[str, dict[str, Any]], settled: ScoredPeriod) -> None:
    """The settled re-scan's verdict on the period's provisional alerts."""
    again = {a.alert_id for a in settled.alerts}
    period = settled.day.isoformat()
    for key in [k for k, line in pending.items() if line["date"] == period]:
        confirmed = key in again
        pending.pop(key)["confirmation"] = (
            Confirmation.CONFIRMED if confirmed else Confirmation.WITHDRAWN
        ).value


@dataclass(frozen=True)
class FirstSeenSeries:
    """Orders and sales of every entity (leaves and roll-ups) as first reported at each age
    before settling: (ages, n, T) each, aligned with the profile's rows and days."""

    orders: npt.NDArray[np.float64]
    sales: npt.NDArray[np.float64]

    def lag_curve(self, profile: ProfileSeries, today: int) -> tuple[float, ...]:
        """The profile's reporting-lag curve learnt from the restatements a scan on ``today``
        knows: every leaf-day settled by then, first seen at each age."""
        leaves = [i for i, e in enumerate(profile.entities) if e.is_leaf]
        settled = profile.raw[leaves, : max(0, today - LATE_ATTRIBUTION_PERIODS + 1), _ORDERS]
        ages = self.orders.shape[0]
        first = self.orders[:, leaves, : settled.shape[1]]
        return learn_curve(
            np.repeat(np.arange(ages), settled.size),
            first.ravel(),
            np.tile(settled.ravel(), ages),
        )

    def as_of(self, profile: ProfileSeries, today: int) -> ProfileSeries:
        """The profile as a scan on day ``today`` sees it: settled up to the restated days,
        those as reported so far."""
        raw = profile.raw[:, : today + 1].copy()
        for age in range(self.orders.shape[0]):
            day = today - age
            if day >= 0:
                raw[:, day, _ORDERS] = self.orders[age, :, day]
                raw[:, day, _SALES] = self.sales[age, :, day]
        return ProfileSeries(profile.entities, profile.first_day, raw, profile.currency)


_ORDERS, _SALES = PPC_MEASURES.index("orders"), PPC_MEASURES.index("sales")


def _line(alert: Alert, scored: ScoredPeriod, row: int, scan_date: str) -> dict[str, Any]:
    """An alert as one line of the backtest's output."""
    root = alert.root_causes[0].entity_id if alert.root_causes else alert.entity_id
    return {
        "entity_id": alert.entity_id,
        "entity_type": alert.entity_type.value,
        "date": scored.day.isoformat(),
        "scan_date": scan_date,
        "provisional": scored.provisional,
        "score": alert.score,
        "tail_prob": float(scored.result.tail_prob[row]),
        "severity": alert.severity.value,
        "detector_scores": alert.detector_scores,
        "explanation": [a.model_dump(mode="json") for a in alert.explanation],
        "root_cause": root,
        "group_id": alert.group_id,
        "entity_name": alert.entity_name,
        "impact": alert.impact.model_dump(mode="json") if alert.impact else None,
        "onset": alert.onset.date().isoformat() if alert.onset else None,
        "confirmation": alert.confirmation.value if alert.confirmation else None,
    }
