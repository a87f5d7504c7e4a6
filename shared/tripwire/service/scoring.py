"""The one scoring core: a profile's periods scored, explained, traced to their root causes
and turned into alerts, then stored with their incident groups.

The scheduled scan (``service.scan``), ``POST /detect`` (``service.detect``), verification
(``service.verify``) and ``tripwire backtest`` (``service.backtest``) all score through
``ProfileScorer``; each keeps only what is its own — which periods (the incremental plan;
D and the settled D − 3; an alert's neighbourhood; every day of a range), where the series
come from (the metrics table; CSV files) and where alerts go (the alerts and incidents
tables; JSON lines). One history rule (``history_periods``) sizes every window and one
reader (``read_window``) loads it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire.detection.impact import impact
from tripwire.detection.labels import pattern_kind
from tripwire.detection.pipeline import PipelineConfig, ScanPipeline, ScanResult
from tripwire.domain import Alert, Attribution, DetectionRun, Entity, RootCause, Severity
from tripwire.domain.alerts import Confirmation, Direction, Impact, alert_id
from tripwire.domain.incidents import period_key
from tripwire.domain.metrics import PPC_MEASURES, Interval
from tripwire.features.lag import DEFAULT_CURVE, completeness, learn_curve
from tripwire.features.ppc import FEATURES, LATE_ATTRIBUTION_PERIODS, SALES_SIDE, SALES_SIDE_RISING
from tripwire.rootcause import analyse, graph_for, group_id, onset_runs
from tripwire.service.incidents import group_new_alerts, lookback_start
from tripwire.service.series import ProfileSeries, dense
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.incidents import IncidentStore
from tripwire.store.metadata import MetadataStore
from tripwire.store.metrics import FirstSeen, MetricStore, Series
from tripwire.store.runs import RunStore

Day = datetime.date
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
EXPLAINED_FEATURES = 3  # an alert scored without Shapley values: its most deviating features
_RESTATED = frozenset(SALES_SIDE + SALES_SIDE_RISING)  # what Amazon's restatements can change
_STOPPED = [FEATURES.index(f) for f in ("sales", "orders", "cvr")]  # what a stop moves
_SEVERITIES = list(Severity)


@dataclass
class ScanStores:
    alerts: AlertStore = field(default_factory=AlertStore)
    runs: RunStore = field(default_factory=RunStore)
    metadata: MetadataStore = field(default_factory=MetadataStore)
    catalog: CatalogStore = field(default_factory=CatalogStore)
    metrics: MetricStore = field(default_factory=MetricStore)
    incidents: IncidentStore = field(default_factory=IncidentStore)


# -- the window ---------------------------------------------------------------------------


def history_periods(config: PipelineConfig) -> int:
    """Periods a window needs before the one it scores: the baseline, the longer of the
    sequence and the run, and the periods whose sales are still provisional."""
    return (
        config.window + max(config.sequence_length, config.run_periods) + (LATE_ATTRIBUTION_PERIODS)
    )


def read_window(
    metrics: MetricStore,
    tenant: str,
    profile: str,
    entities: Sequence[Entity],
    first: Day,
    end: Day,
    currency: str = "USD",
) -> ProfileSeries:
    """Every entity's daily measures over [first, end] as one dense array, with the
    profile's reporting-lag curve learnt from the first-seen figures of its keywords."""
    seen: dict[str, FirstSeen] = {}
    window = metrics.read_window(
        tenant,
        profile,
        Interval.D1,
        [e.entity_id for e in entities],
        datetime.datetime.combine(first, datetime.time()),
        datetime.datetime.combine(end, datetime.time()),
        first_seen=seen,
    )
    days = (end - first).days + 1
    raw = dense(entities, window, first, days)
    curve = lag_curve_of(entities, window, seen)
    return ProfileSeries(list(entities), first, raw, currency, curve)


def lag_curve_of(
    entities: Sequence[Entity], window: Mapping[str, Series], seen: Mapping[str, FirstSeen]
) -> tuple[float, ...]:
    """The reporting-lag curve from the leaves' first-seen orders against their settled ones
    (a period counts once it is ``LATE_ATTRIBUTION_PERIODS`` older than the newest loaded)."""
    orders = PPC_MEASURES.index("orders")
    periods = [p for points in window.values() for p in points]
    if not periods:
        return DEFAULT_CURVE
    newest = datetime.date.fromisoformat(max(periods)[:10])
    settled_by = (newest - datetime.timedelta(days=LATE_ATTRIBUTION_PERIODS)).isoformat()
    ages, firsts, finals = [], [], []
    for entity in entities:
        points = window.get(entity.entity_id, {})
        for period, (age, values) in seen.get(entity.entity_id, {}).items():
            if entity.is_leaf and period <= settled_by and period in points:
                ages.append(age)
                firsts.append(values[orders])
                finals.append(points[period][orders])
    return learn_curve(ages, firsts, finals)


def read_hours(
    metrics: MetricStore,
    tenant: str,
    profile: str,
    entities: Sequence[Entity],
    first: datetime.datetime,
    end: datetime.datetime,
    currency: str = "USD",
) -> ProfileSeries:
    """Every entity's hourly measures over [first, end] as one dense array."""
    hours = int((end - first).total_seconds()) // 3600 + 1
    ids = [e.entity_id for e in entities]
    raw = metrics.read_hours(tenant, profile, ids, PPC_MEASURES, first, hours)
    return ProfileSeries(
        list(entities), first.date(), raw, currency, interval=Interval.H1, first_hour=first.hour
    )


def currency_of(catalog: CatalogStore, tenant: str, profile: str) -> str:
    """The profile's currency (what impact is counted in); USD for a profile not stored."""
    found = catalog.get_profile(tenant, profile)
    return found.currency if found is not None else "USD"


# -- scoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoredPeriod:
    day: Day
    provisional: bool
    result: ScanResult
    alerts: list[Alert]  # the alerting rows asked for, in row order
    rows: list[int]  # their rows


class ProfileScorer:
    """Scores periods of one profile's series with one pipeline, for one run.

    ``alerting`` is what is known of earlier periods (period → entities that alerted in it):
    the temporal precedence root-cause analysis uses. Every period scored adds its own.

    ``latest`` is the newest period loaded (a provisional period is ``latest - day`` days
    old; default: the period scored) and ``lag_curve`` the profile's reporting-lag curve
    (``features.lag``): together they say how complete a provisional period's orders are."""

    def __init__(
        self,
        pipeline: ScanPipeline,
        series: ProfileSeries,
        run: DetectionRun,
        alerting: Mapping[str, set[str]] | None = None,
        *,
        latest: Day | None = None,
        lag_curve: Sequence[float] | None = None,
    ) -> None:
        self.pipeline, self.series, self.run = pipeline, series, run
        self.latest = latest
        self.lag_curve = tuple(lag_curve) if lag_curve is not None else series.lag_curve
        self.graph = graph_for(run.tenant_id, run.profile_id, series.entities)
        self.alerting: dict[str, set[str]] = defaultdict(set, alerting or {})

    def score(
        self,
        day: Day,
        *,
        provisional: bool,
        rows: BoolArray | None = None,
        explain: bool = True,
        root_causes: bool = True,
    ) -> ScoredPeriod:
        """Score ``day`` (a date; an hourly series: a datetime) seeing the series up to it;
        alerts for the alerting ``rows`` (default: all), each with its explanation and
        ranked root causes."""
        index = self.series.index_of(day)
        shares = None
        if provisional and self.series.interval is Interval.D1:
            age = max(0, ((self.latest or day) - day).days)
            shares = completeness(index + 1, age, self.lag_curve)
        result = self.pipeline.score(
            self.series.raw[:, : index + 1],
            self.series.season_of(day),
            provisional=provisional,
            explain=explain,
            completeness=shares,
        )
        result = silence_labelled(self.pipeline, self.graph.ids, result)
        period = period_key(day, self.series.interval)
        causes: dict[str, list[RootCause]] = {}
        if root_causes:
            base = result.baseline
            onsets = onset_runs(self.alerting, period, self.graph.ids)
            runs = result.cusum
            causes = analyse(
                self.graph,
                self.graph.ids,
                result.alert,
                with_evidence(base.deviation, result.evidence),
                base.expected,
                base.actual,
                onsets,
                expected_orders=None if runs is None else runs.expected_recent,
                shortfall=None if runs is None else runs.shortfall,
                run_periods=None if runs is None else runs.run_periods,
            )
            self.alerting[period].update(
                self.graph.ids[r] for r in np.flatnonzero(result.alert).tolist()
            )
        wanted = result.alert if rows is None else result.alert & rows
        picked = np.flatnonzero(wanted).tolist()
        alerts = [self._alert(day, row, result, causes, provisional) for row in picked]
        return ScoredPeriod(day, provisional, result, alerts, picked)

    def _alert(
        self,
        day: Day,
        row: int,
        result: ScanResult,
        causes: Mapping[str, list[RootCause]],
        provisional: bool,
    ) -> Alert:
        entity, run = self.series.entities[row], self.run
        interval = self.series.interval
        period = period_key(day, interval)
        ranked = causes.get(entity.entity_id, [])
        root = ranked[0].entity_id if ranked else entity.entity_id
        explained = explain_row(result, row)
        onset = int(result.onset[row]) if result.onset is not None else 0
        base = result.baseline
        cost = impact(
            base.expected[row],
            base.actual[row],
            explained,
            provisional=provisional,
            currency=self.series.currency,
        )
        return Alert(
            alert_id=alert_id(
                run.tenant_id, run.profile_id, entity.entity_id, period, interval.value
            ),
            tenant_id=run.tenant_id,
            profile_id=run.profile_id,
            entity_id=entity.entity_id,
            entity_type=entity.entity_type,
            entity_name=entity.name,
            period=datetime.datetime.fromisoformat(period),
            interval=interval,
            score=float(result.score[row]),
            threshold=1.0 - self.pipeline.config.alert_tail_prob,
            severity=_SEVERITIES[int(result.severity[row])],
            detector_scores={k: float(v[row]) for k, v in result.detector_scores.items()},
            explanation=[_attribution(e) for e in explained],
            root_causes=ranked,
            impact=cost,
            # Provisional: grouping assigns the incident group before the alert is stored.
            group_id=group_id(root, period),
            onset=datetime.datetime.combine(day - datetime.timedelta(onset), datetime.time())
            if onset > 0
            else None,
            confirmation=Confirmation.PROVISIONAL
            if provisional and explained and explained[0]["feature"] in _RESTATED
            else None,
            run_id=run.run_id,
            model_versions=run.model_versions,
            created_at=run.started_at,
        )


def with_evidence(deviation: FloatArray, evidence: FloatArray | None) -> FloatArray:
    """Deviations for root-cause analysis with the CUSUM's evidence of stopped conversions
    on the sales side: a provisional day's sales-side drops are damped for the detectors,
    and a slow collapse moves little on any one day, yet that evidence is what tells an
    account-wide stop (every level) from one keyword's (that keyword alone). The signed root
    of the likelihood-ratio statistic, ``-sqrt(2 S)``, is on a z-score's scale."""
    if evidence is None or not (evidence > 0).any():
        return deviation
    out = deviation.copy()
    z = -np.sqrt(2.0 * evidence)
    for feature in _STOPPED:
        out[:, feature] = np.minimum(out[:, feature], z)
    return out


def silence_labelled(pipeline: ScanPipeline, ids: Sequence[str], result: ScanResult) -> ScanResult:
    """The result without alerts on patterns users labelled "not an anomaly"."""
    if not len(pipeline.labels):
        return result
    kinds = {r: pattern_kind(explain_row(result, r)) for r in np.flatnonzero(result.alert).tolist()}
    silenced: ScanResult = pipeline.labels.silence(ids, result, kinds)
    return silenced


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
        }
        for i in top.tolist()
        if deviation[i] != 0
    ]


def _attribution(entry: Mapping[str, Any]) -> Attribution:
    return Attribution(
        feature=entry["feature"],
        contribution=float(entry["contribution"]),
        direction=entry["direction"],
        expected=float(entry["expected"]),
        actual=float(entry["actual"]),
    )


def unique(periods: Sequence[ScoredPeriod]) -> list[Alert]:
    """Each (entity, period) once: the first scoring of it wins."""
    found: dict[str, Alert] = {}
    for scored in periods:
        for alert in scored.alerts:
            found.setdefault(alert.alert_id, alert)
    return list(found.values())


# -- storing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    new: list[Alert]  # the alerts this call wrote
    found: list[Alert]  # every alert found, as stored now (group, workflow state, origin)


def store_found(
    stores: ScanStores,
    tenant: str,
    profile: str,
    found: Sequence[Alert],
    settled: Mapping[Day, Collection[str]] | None = None,
) -> Stored:
    """Store what was not stored yet, grouped into incidents first; report every alert as it
    is stored now. Alert ids are deterministic and writes conditional, so a rescan or a
    concurrent writer stores nothing twice.

    ``settled``: the periods this scan re-scored on settled figures and the entities it
    scored in each. A provisional alert of theirs is confirmed when found again, withdrawn
    when not — the same alert, its status updated, never a second one."""
    ids = [a.alert_id for a in found]
    stored = stores.alerts.get_many(tenant, ids)
    for alert in found:  # a settled re-scan restates what a provisional one feared
        before = stored.get(alert.alert_id)
        if before is not None and alert.impact is not None and _settles(before, alert.impact):
            _restate(stores, before, alert.impact)
            stored[alert.alert_id] = before.model_copy(update={"impact": alert.impact})
    for before, verdict in _verdicts(stores, tenant, profile, settled or {}, stored, ids):
        if stores.alerts.restate(before, before.impact, verdict):
            stored[before.alert_id] = before.model_copy(update={"confirmation": verdict})
    grouped = group_new_alerts(
        tenant, profile, [a for a in found if a.alert_id not in stored], stores.incidents
    )
    new = stores.alerts.put_new(grouped)
    written = {a.alert_id for a in new}
    stored |= {a.alert_id: a for a in new}
    # the rest lost a race with a concurrent writer: report what that one stored
    stored |= stores.alerts.get_many(
        tenant, [a.alert_id for a in grouped if a.alert_id not in written]
    )
    return Stored(new, [_as_known(a, stored.get(a.alert_id)) for a in found])


def stored_alerting(
    stores: ScanStores, tenant: str, profile: str, first: Day, last: Day
) -> dict[str, set[str]]:
    """Period → entities with an alert, from the stored incidents, for scoring [first, last]."""
    return stores.incidents.alerting(
        tenant, profile, lookback_start(first.isoformat()), last.isoformat()
    )


def _verdicts(
    stores: ScanStores,
    tenant: str,
    profile: str,
    settled: Mapping[Day, Collection[str]],
    stored: Mapping[str, Alert],
    found_ids: Sequence[str],
) -> list[tuple[Alert, Confirmation]]:
    """Provisional alerts of the settled periods with their verdict: confirmed when the
    settled scan found them again, withdrawn when it scored their entity and did not."""
    if not settled:
        return []
    first, last = min(settled), max(settled)
    alerting = stores.incidents.alerting(tenant, profile, first.isoformat(), last.isoformat())
    ids = [
        alert_id(tenant, profile, entity, day.isoformat())
        for day, scored in settled.items()
        for entity in alerting.get(day.isoformat(), set()) & set(scored)
    ]
    found = set(found_ids)
    known = {i: stored[i] for i in ids if i in stored}
    known |= stores.alerts.get_many(tenant, [i for i in ids if i not in known])
    return [
        (a, Confirmation.CONFIRMED if a.alert_id in found else Confirmation.WITHDRAWN)
        for a in known.values()
        if a.confirmation is Confirmation.PROVISIONAL
    ]


def _restate(stores: ScanStores, before: Alert, impact: Impact) -> None:
    """The alert's settled impact, and its incident's when it is the incident's root's."""
    if stores.alerts.restate(before, impact) and before.group_id is not None:
        period = period_key(before.period, before.interval)
        stores.incidents.restate(
            before.tenant_id, before.profile_id, before.group_id, period, before.entity_id, impact
        )


def _settles(stored: Alert, impact: Impact) -> bool:
    return stored.impact is not None and stored.impact.provisional and not impact.provisional


def _as_known(alert: Alert, stored: Alert | None) -> Alert:
    """This run's finding; an alert stored before keeps its workflow state and origin."""
    if stored is None:
        return alert
    return alert.model_copy(update={f: getattr(stored, f) for f in _KEPT})


_KEPT = (
    "status",
    "acknowledged_by",
    "acknowledged_at",
    "resolved_by",
    "resolved_at",
    "resolution_notes",
    "resolution_minutes",
    "group_id",
    "onset",
    "confirmation",
    "run_id",
    "created_at",
)
