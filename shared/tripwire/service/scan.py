"""One scan of a profile for one day: the use case behind the schedule, /detect and the demo.

A day D is scored with D's sales and orders provisional (Amazon attributes them late), and
D − 3 is re-scored now that it is settled — the same replay the backtest does. Alerts are
keyed by (entity, interval, period), so a re-scan or a redelivered message writes nothing
twice, and an alert someone already acknowledged or resolved is never reset.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tripwire.detection.pipeline import ScanResult
from tripwire.domain import (
    Alert,
    Attribution,
    DetectionRun,
    RootCause,
    RunStatus,
    Severity,
    Trigger,
)
from tripwire.features.ppc import LATE_ATTRIBUTION_PERIODS
from tripwire.rootcause import analyse, graph_for, group_id
from tripwire.service.backtest import explain_row
from tripwire.service.models import current_pipeline
from tripwire.service.series import ProfileSeries, load_series
from tripwire.store.alerts import AlertStore
from tripwire.store.runs import RunStore
from tripwire.store.tables import RUNS

_SEVERITIES = list(Severity)


@dataclass
class ScanReport:
    run: DetectionRun
    alerts: list[Alert] = field(default_factory=list)  # new alerts written by this scan
    already_known: int = 0  # alerts this scan found that earlier scans had written


def alert_id(tenant: str, profile: str, entity: str, period: str, interval: str = "1d") -> str:
    digest = hashlib.sha256(f"{tenant}|{profile}|{entity}|{interval}|{period}".encode())
    return "al-" + digest.hexdigest()[:20]


def scan_profile(
    tenant: str,
    profile: str,
    day: datetime.date,
    *,
    trigger: Trigger = Trigger.SCHEDULE,
    now: datetime.datetime | None = None,
    alerts: AlertStore | None = None,
    runs: RunStore | None = None,
) -> ScanReport:
    now = now or datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    alerts, runs = alerts or AlertStore(), runs or RunStore()
    pipeline, versions = current_pipeline(tenant, profile)
    cfg = pipeline.config
    needed = cfg.window + max(cfg.sequence_length, cfg.run_periods) + LATE_ATTRIBUTION_PERIODS
    series = load_series(tenant, profile, day, needed)
    run = DetectionRun(
        run_id=f"run-{uuid.uuid4().hex[:16]}",
        tenant_id=tenant,
        profile_id=profile,
        trigger=trigger,
        model_versions=versions,
        started_at=now,
        entities_checked=len(series.entities),
        rows_loaded=int(np.count_nonzero(series.raw.any(axis=2))),
        expires_at=int((now + datetime.timedelta(days=RUNS.ttl_days or 30)).timestamp()),
    )
    graph = graph_for(tenant, profile, series.entities)
    found: dict[str, Alert] = {}
    last = series.days - 1
    for period, provisional in ((last, True), (last - LATE_ATTRIBUTION_PERIODS, False)):
        result = pipeline.score(
            series.raw[:, : period + 1], series.day(period).weekday(), provisional=provisional
        )
        base = result.baseline
        causes = analyse(graph, graph.ids, result.alert, base.deviation, base.expected, base.actual)
        for row in np.flatnonzero(result.alert).tolist():
            ranked = causes[series.entities[row].entity_id]
            alert = _alert(series, row, period, result, run, ranked, cfg.alert_tail_prob)
            found.setdefault(alert.alert_id, alert)
    known = alerts.existing(tenant, list(found))
    new = [a for a in found.values() if a.alert_id not in known]
    alerts.put_many(new)
    run = run.model_copy(
        update={
            "completed_at": datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
            "rows_processed": 2 * len(series.entities),
            "anomalies_found": len(new),
            "alert_ids": [a.alert_id for a in new],
            "status": RunStatus.COMPLETE,
        }
    )
    runs.put(run)
    return ScanReport(run, new, len(known))


def _alert(
    series: ProfileSeries,
    row: int,
    period: int,
    result: ScanResult,
    run: DetectionRun,
    causes: list[RootCause],
    alert_tail_prob: float,
) -> Alert:
    entity = series.entities[row]
    day = series.day(period).isoformat()
    explanation = [_attribution(entry) for entry in explain_row(result, row)]
    return Alert(
        alert_id=alert_id(run.tenant_id, run.profile_id, entity.entity_id, day),
        tenant_id=run.tenant_id,
        profile_id=run.profile_id,
        entity_id=entity.entity_id,
        entity_type=entity.entity_type,
        period=datetime.datetime.fromisoformat(day),
        score=float(result.score[row]),
        threshold=1.0 - alert_tail_prob,
        severity=_SEVERITIES[int(result.severity[row])],
        detector_scores={k: float(v[row]) for k, v in result.detector_scores.items()},
        explanation=explanation,
        root_causes=causes,
        group_id=group_id(causes[0].entity_id, day),
        run_id=run.run_id,
        model_versions=run.model_versions,
        created_at=run.started_at,
    )


def _attribution(entry: dict[str, Any]) -> Attribution:
    return Attribution(
        feature=entry["feature"],
        contribution=float(entry["contribution"]),
        direction=entry["direction"],
        expected=float(entry["expected"]),
        actual=float(entry["actual"]),
    )
