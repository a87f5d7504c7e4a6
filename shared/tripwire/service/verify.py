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
from dataclasses import dataclass, field

import numpy as np

from tripwire.detection.pipeline import ScanResult
from tripwire.domain import Alert, DetectionRun, EntityType, RunStatus, Severity
from tripwire.domain.runs import Trigger
from tripwire.features.ppc import FEATURES, LATE_ATTRIBUTION_PERIODS
from tripwire.service.alerts import AlertNotFound
from tripwire.service.market import verify_market_alert
from tripwire.service.models import current_pipeline
from tripwire.service.runs import new_run, utcnow
from tripwire.service.scoring import ProfileScorer, history_periods, read_window
from tripwire.service.series import ProfileSeries
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore
from tripwire.store.runs import RunStore

AROUND = 1  # periods re-scored either side of the alert's
_UNSETTLED = "is not settled: sales may be restated"
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
    period = alert.period.date()
    end = period + datetime.timedelta(days=AROUND)
    first = end - datetime.timedelta(days=history_periods(pipeline.config) + AROUND - 1)
    series, last_with_data = _series(tenant, alert, first, end)
    run = new_run(tenant, alert.profile_id, Trigger.VERIFICATION, versions=versions, now=now)
    scorer = ProfileScorer(pipeline, series, run)
    settled_before = now.date() - datetime.timedelta(days=LATE_ATTRIBUTION_PERIODS)
    scored: list[Rescore] = []
    for offset in range(-AROUND, AROUND + 1):
        day = period + datetime.timedelta(days=offset)
        if offset != 0 and (last_with_data is None or day > last_with_data):
            continue  # no data yet: zeros would read as a collapse
        # One entity: its score is its own (own baseline); root causes need the profile.
        result = scorer.score(
            day, provisional=day > settled_before, explain=False, root_causes=False
        ).result
        scored.append(_rescore(day, result, features=offset == 0))
    current = next(s for s in scored if s.period == period)
    settled = period <= settled_before
    loaded = int(np.count_nonzero(series.raw.any(axis=2)))
    run = _run(run, alert, loaded, current, len(scored), settled)
    (runs or RunStore()).put(run)
    around = [s for s in scored if s.period != period]
    return Verification(alert, current, around, versions, settled, run)


def _verify_ticker(alert: Alert, now: datetime.datetime, runs: RunStore) -> Verification:
    """A market alert re-scored by its market's current model (bars are never restated,
    so a bar's verification is settled at once)."""
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
    run = new_run(
        alert.tenant_id,
        alert.profile_id,
        Trigger.VERIFICATION,
        versions=check.current_models,
        now=now,
    )
    run = _run(run, alert, bars, current, bars, True)
    runs.put(run)
    return Verification(alert, current, around, check.current_models, True, run)


def _series(
    tenant: str, alert: Alert, first: datetime.date, end: datetime.date
) -> tuple[ProfileSeries, datetime.date | None]:
    """The alert's entity over [first, end], and its last day with data."""
    _, entities = CatalogStore().get_hierarchy(tenant, alert.profile_id)
    entity = next((e for e in entities if e.entity_id == alert.entity_id), None)
    if entity is None:
        raise AlertNotFound(alert.alert_id)  # the entity left the profile since
    currency = alert.impact.currency if alert.impact else "USD"
    series = read_window(MetricStore(), tenant, alert.profile_id, [entity], first, end, currency)
    days = np.flatnonzero(series.raw[0].any(axis=1))
    return series, series.day(int(days[-1])) if days.size else None


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
    run: DetectionRun,
    alert: Alert,
    rows_loaded: int,
    current: Rescore,
    periods: int,
    settled: bool,
) -> DetectionRun:
    return run.model_copy(
        update={
            "completed_at": utcnow(),
            "entities_checked": 1,
            "rows_loaded": rows_loaded,
            "rows_processed": periods,
            "anomalies_found": int(current.alert),
            "alert_ids": [alert.alert_id] if current.alert else [],
            "status": RunStatus.COMPLETE,
            "warnings": []
            if settled
            else [f"{current.period} is not settled: sales may be restated"],
        }
    )
