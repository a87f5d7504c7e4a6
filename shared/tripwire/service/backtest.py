"""`tripwire backtest`: replay the daily scheduled scan over a date range, in-process.

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
a few days late — stays one group; here the groups are kept in memory, ``IncidentBook``).
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

from tripwire.detection.pipeline import PipelineConfig, ScanPipeline, ScanResult
from tripwire.domain.alerts import Direction, RootCause, Severity
from tripwire.domain.metrics import INTEGER_MEASURES, PPC_MEASURES
from tripwire.features.ppc import FEATURES, LATE_ATTRIBUTION_PERIODS
from tripwire.ingest.csv_files import Collector, read_entities, read_ppc_metrics
from tripwire.ingest.rollup import roll_up
from tripwire.rootcause import EntityGraph, analyse, build_graph
from tripwire.rootcause import group_id as group_id
from tripwire.rootcause.grouping import GroupMember
from tripwire.rootcause.incidents import IncidentBook
from tripwire.service.series import ProfileSeries, dense

EXPLAINED_FEATURES = 3
_SEVERITIES = list(Severity)


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
) -> BacktestReport:
    first, last = profile.index_of(start), profile.index_of(end)
    if first < 1 or last >= profile.days or first > last:
        raise ValueError(
            f"the range {start}..{end} must lie inside the data "
            f"({profile.first_day}..{profile.day(profile.days - 1)}) after some history"
        )
    pipeline = ScanPipeline(config).fit(profile.raw[:, :first], profile.first_day.weekday())
    report = BacktestReport(start, end, len(profile.entities), last - first + 1)
    graph = build_graph(profile.entities)
    book = IncidentBook()  # the scan service's grouping, kept in memory
    seen: set[tuple[str, str]] = set()
    from tqdm import tqdm  # the CLI's progress bar; Lambdas import this module for explain_row

    for today in tqdm(range(first, last + 1), desc="backtest", unit="day", disable=not progress):
        scans = [(today, True)]
        if today - LATE_ATTRIBUTION_PERIODS >= first:
            scans.append((today - LATE_ATTRIBUTION_PERIODS, False))
        for period, provisional in scans:
            window = profile.raw[:, : period + 1]
            result = pipeline.score(window, profile.day(period).weekday(), provisional=provisional)
            if not provisional:
                pipeline.learn(result)  # online detectors absorb each settled period
            onsets = book.onsets(profile.day(period).isoformat(), graph.ids)
            causes = _root_causes(graph, result, onsets)
            new = [
                a
                for a in _alerts(profile, result, period, today, provisional, causes)
                if (a["entity_id"], a["date"]) not in seen
            ]
            seen.update((a["entity_id"], a["date"]) for a in new)
            group_of = book.add([_member(a, causes) for a in new])
            for alert in new:
                alert["group_id"] = group_of[(alert["entity_id"], alert["date"])]
            report.alerts.extend(new)
    report.alerts.sort(key=lambda a: (a["date"], a["entity_id"]))
    return report


def _member(alert: dict[str, Any], causes: dict[str, list[RootCause]]) -> GroupMember:
    return GroupMember(
        alert["entity_id"],
        alert["date"],
        Severity(alert["severity"]),
        tuple(causes[alert["entity_id"]]),
    )


def _root_causes(
    graph: EntityGraph, result: ScanResult, onset: npt.NDArray[np.int64]
) -> dict[str, list[RootCause]]:
    """Alerting entity → its ranked root causes."""
    base = result.baseline
    return analyse(
        graph, graph.ids, result.alert, base.deviation, base.expected, base.actual, onset
    )


def _alerts(
    profile: ProfileSeries,
    result: ScanResult,
    period: int,
    today: int,
    provisional: bool,
    causes: dict[str, list[RootCause]] | None = None,
) -> list[dict[str, Any]]:
    date = profile.day(period).isoformat()
    out = []
    for row in np.flatnonzero(result.alert).tolist():
        entity = profile.entities[row]
        ranked = (causes or {}).get(entity.entity_id)
        root = ranked[0].entity_id if ranked else entity.entity_id
        out.append(
            {
                "entity_id": entity.entity_id,
                "entity_type": entity.entity_type.value,
                "date": date,
                "scan_date": profile.day(today).isoformat(),
                "provisional": provisional,
                "score": float(result.score[row]),
                "tail_prob": float(result.tail_prob[row]),
                "severity": _SEVERITIES[int(result.severity[row])].value,
                "detector_scores": {k: float(v[row]) for k, v in result.detector_scores.items()},
                "explanation": explain_row(result, row),
                "root_cause": root,
                "group_id": group_id(root, date),
            }
        )
    return out


def explain_row(result: ScanResult, row: int) -> list[dict[str, Any]]:
    """The row's exact Shapley attributions of the ensemble score (computed in one batch per
    detector for every alerting row by ``ScanPipeline.score``): feature, contribution,
    direction, expected, actual. A row scored without explanations falls back to its most
    deviating features (contribution = the deviation) so an alert never goes unexplained."""
    if row in result.explanations:
        return result.explanations[row]
    deviation = result.baseline.deviation[row]
    top = np.argsort(-np.abs(deviation), kind="stable")[:EXPLAINED_FEATURES]
    return [
        {
            "feature": FEATURES[i],
            "contribution": float(deviation[i]),
            "direction": (Direction.ABOVE if deviation[i] > 0 else Direction.BELOW).value,
            "expected": float(result.baseline.expected[row, i]),
            "actual": float(result.baseline.actual[row, i]),
            "deviation": float(deviation[i]),
        }
        for i in top.tolist()
        if deviation[i] != 0
    ]
