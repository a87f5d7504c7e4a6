"""Verify an alert (``POST /anomalies/{id}/verify``): re-score its entity and period now.

The alert's entity is scored with the profile's current models on the metrics stored now
— restated sales included — at its period and the ``AROUND`` periods either side that
have data, so a user sees whether the anomaly still holds, moved, or was noise the
restatement removed. Only that entity's series is read: scores are per entity (its own
baseline), so they equal what a whole-profile scan gives. Each verification is recorded
as a run with trigger VERIFICATION. A ticker's alert is re-scored by its market's model
(``service.market.verify_market_alert``) and answered in the same shape.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

import numpy as np

from tripwire.detection.pipeline import ScanResult
from tripwire.domain import Alert, DetectionRun, EntityType, RunStatus, Severity
from tripwire.domain.metrics import Interval
from tripwire.domain.runs import Trigger
from tripwire.features.ppc import FEATURES, LATE_ATTRIBUTION_PERIODS
from tripwire.service.alerts import AlertNotFound
from tripwire.service.models import current_pipeline
from tripwire.service.series import dense
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore
from tripwire.store.runs import RunStore
from tripwire.store.tables import RUNS

AROUND = 1  # periods re-scored either side of the alert's
_SEVERITIES = list(Severity)

__all__ = ["AlertNotFound", "Rescore", "Verification", "verify"]


@dataclass(frozen=True)
class Rescore:
    period: datetime.date
    score: float
    alert: bool
    severity: Severity | None
    features: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Verification:
    alert: Alert
    current: Rescore
    around: list[Rescore]
    model_versions: dict[str, str]
    settled: bool
    run: DetectionRun

    @property
    def still_anomalous(self) -> bool:
        return self.current.alert

    @property
    def models_changed(self) -> bool:
        return self.model_versions != self.alert.model_versions


def verify(
    tenant: str,
    alert_id: str,
    *,
    now: datetime.datetime | None = None,
    alerts: AlertStore | None = None,
    runs: RunStore | None = None,
) -> Verification:
    """Raises AlertNotFound (also for another tenant's alert) and NoModels."""
    now = now or datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    alert = (alerts or AlertStore()).get(tenant, alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    if alert.entity_type is EntityType.TICKER:
        return _verify_ticker(alert, now, runs or RunStore())
    pipeline, versions = current_pipeline(tenant, alert.profile_id)
    cfg = pipeline.config
    period = alert.period.date()
    needed = cfg.window + max(cfg.sequence_length, cfg.run_periods) + 2 * AROUND
    end = period + datetime.timedelta(days=AROUND)
    first = end - datetime.timedelta(days=needed - 1)
    raw, last_with_data = _series(tenant, alert, first, end, needed)
    settled_before = now.date() - datetime.timedelta(days=LATE_ATTRIBUTION_PERIODS)
    scored: list[Rescore] = []
    for offset in range(-AROUND, AROUND + 1):
        day = period + datetime.timedelta(days=offset)
        if offset != 0 and (last_with_data is None or day > last_with_data):
            continue  # no data yet: zeros would read as a collapse
        index = (day - first).days
        result = pipeline.score(
            raw[:, : index + 1], day.weekday(), provisional=day > settled_before
        )
        scored.append(_rescore(day, result, features=offset == 0))
    current = next(s for s in scored if s.period == period)
    settled = period <= settled_before
    loaded = int(np.count_nonzero(raw.any(axis=2)))
    run = _run(tenant, alert, versions, now, loaded, current, len(scored), settled)
    (runs or RunStore()).put(run)
    around = [s for s in scored if s.period != period]
    return Verification(alert, current, around, versions, settled, run)


def _verify_ticker(alert: Alert, now: datetime.datetime, runs: RunStore) -> Verification:
    """A market alert re-scored by its market's current model (bars are never restated,
    so a bar's verification is settled at once)."""
    from tripwire.service.market import verify_market_alert  # market builds on scan

    try:
        check = verify_market_alert(alert)
    except LookupError as error:  # UnknownMarket too: the ticker or its bar is gone since
        raise AlertNotFound(alert.alert_id) from error
    features = {
        name: {
            "expected": check.current_expected[name],
            "actual": actual,
            "deviation": check.current_deviation[name],
        }
        for name, actual in check.current_features.items()
    }
    period = alert.period.date()
    current = Rescore(
        period, check.current_score, check.still_anomalous, check.current_severity, features
    )
    around = [
        Rescore(day, score, score >= check.threshold, None)
        for day, score in sorted(
            (datetime.datetime.fromisoformat(p).date(), s) for p, s in check.around.items()
        )
        if day != period
    ]
    bars = len(check.around)  # the bars re-scored
    run = _run(alert.tenant_id, alert, check.current_models, now, bars, current, bars, True)
    runs.put(run)
    return Verification(alert, current, around, check.current_models, True, run)


def _series(
    tenant: str, alert: Alert, first: datetime.date, end: datetime.date, days: int
) -> tuple[np.ndarray, datetime.date | None]:
    """(1, days, 5) raw window of the alert's entity and its last day with data."""
    _, entities = CatalogStore().get_hierarchy(tenant, alert.profile_id)
    entity = next((e for e in entities if e.entity_id == alert.entity_id), None)
    if entity is None:
        raise AlertNotFound(alert.alert_id)  # the entity left the profile since
    window = MetricStore().read_window(
        tenant,
        alert.profile_id,
        Interval.D1,
        [entity.entity_id],
        datetime.datetime.combine(first, datetime.time()),
        datetime.datetime.combine(end, datetime.time()),
    )
    points = window.get(entity.entity_id, {})
    last = datetime.date.fromisoformat(max(points)[:10]) if points else None
    return dense([entity], window, first, days), last


def _rescore(day: datetime.date, result: ScanResult, *, features: bool) -> Rescore:
    code = int(result.severity[0])
    base = result.baseline
    named = (
        {
            name: {
                "expected": float(base.expected[0, j]),
                "actual": float(base.actual[0, j]),
                "deviation": float(base.deviation[0, j]),
            }
            for j, name in enumerate(FEATURES)
        }
        if features
        else {}
    )
    return Rescore(
        period=day,
        score=float(result.score[0]),
        alert=bool(result.alert[0]),
        severity=_SEVERITIES[code] if code >= 0 else None,
        features=named,
    )


def _run(
    tenant: str,
    alert: Alert,
    versions: dict[str, str],
    now: datetime.datetime,
    rows_loaded: int,
    current: Rescore,
    periods: int,
    settled: bool,
) -> DetectionRun:
    return DetectionRun(
        run_id=f"run-{uuid.uuid4().hex[:16]}",
        tenant_id=tenant,
        profile_id=alert.profile_id,
        trigger=Trigger.VERIFICATION,
        model_versions=versions,
        started_at=now,
        completed_at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
        entities_checked=1,
        rows_loaded=rows_loaded,
        rows_processed=periods,
        anomalies_found=int(current.alert),
        alert_ids=[alert.alert_id] if current.alert else [],
        status=RunStatus.COMPLETE,
        warnings=[] if settled else [f"{current.period} is not settled: sales may be restated"],
        expires_at=int((now + datetime.timedelta(days=RUNS.ttl_days or 30)).timestamp()),
    )
