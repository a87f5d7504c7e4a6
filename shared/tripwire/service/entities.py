"""An entity's chart (metric series with its anomalies marked) and its anomaly profile.

The entity must be in the tenant's hierarchy of the profile; anything else — another
tenant's entity included — is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from tripwire.domain.alerts import Severity
from tripwire.domain.entities import Entity, ProfileKind
from tripwire.domain.metrics import OHLCV_MEASURES, PPC_MEASURES, Interval, format_period
from tripwire.features.ppc import FEATURES, derive
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore
from tripwire.store.statistics import StatisticsStore, with_prefix

TYPICAL_CAUSES = 5
STEP = {
    Interval.D1: timedelta(days=1),
    Interval.H1: timedelta(hours=1),
    Interval.M15: timedelta(minutes=15),
    Interval.M5: timedelta(minutes=5),
}
MAX_INTRADAY_DAYS = 31  # a month of hourly points (8,928 five-minute bars) per chart


class EntityNotFound(LookupError):
    """No such entity in this tenant's profile."""


class InvalidQuery(ValueError):
    """A query field that the data contradicts (named, for a 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _periods(start: date, end: date, interval: Interval) -> list[datetime]:
    first = datetime(start.year, start.month, start.day)
    stop = datetime(end.year, end.month, end.day) + timedelta(days=1)
    count = int((stop - first) / STEP[interval])
    return [first + i * STEP[interval] for i in range(count)]


@dataclass
class EntityService:
    catalog: CatalogStore
    metrics: MetricStore
    alerts: AlertStore
    counters: StatisticsStore

    @classmethod
    def default(cls) -> EntityService:
        return cls(CatalogStore(), MetricStore(), AlertStore(), StatisticsStore())

    def _find(self, tenant: str, profile: str, entity_id: str) -> tuple[Entity, ProfileKind]:
        stored = self.catalog.get_profile(tenant, profile)
        _, entities = self.catalog.get_hierarchy(tenant, profile)
        entity = next((e for e in entities if e.entity_id == entity_id), None)
        if stored is None or entity is None:
            raise EntityNotFound(entity_id)
        return entity, stored.kind

    def series(
        self,
        tenant: str,
        profile: str,
        entity_id: str,
        start: date,
        end: date,
        *,
        interval: Interval = Interval.D1,
        metrics: list[str] | None = None,
    ) -> dict[str, Any]:
        """Every period of the range with the chosen metrics' values and the alerts on it."""
        entity, kind = self._find(tenant, profile, entity_id)
        available = FEATURES if kind is ProfileKind.ADS else OHLCV_MEASURES
        chosen = metrics or list(available)
        unknown = [m for m in chosen if m not in available]
        if unknown:
            raise InvalidQuery("metrics", f"unknown {unknown}; choose from {', '.join(available)}")
        if interval.intraday and (end - start).days >= MAX_INTRADAY_DAYS:
            raise InvalidQuery("to", f"an intraday chart spans at most {MAX_INTRADAY_DAYS} days")
        periods = _periods(start, end, interval)
        stored = self.metrics.read_window(
            tenant, profile, interval, [entity_id], periods[0], periods[-1]
        )[entity_id]
        labels = [format_period(p, interval) for p in periods]
        values = self._values(kind, labels, stored, chosen)
        marked = self.alerts.of_entity_between(
            tenant, profile, entity_id, periods[0], periods[-1] + STEP[interval]
        )
        index = {label: i for i, label in enumerate(labels)}
        anomalies = [
            {
                "alert_id": a.alert_id,
                "date": format_period(a.period, interval),
                "index": index[format_period(a.period, interval)],
                "severity": a.severity.value,
                "score": a.score,
                "status": a.status.value,
            }
            for a in sorted(marked, key=lambda a: a.period)
            if a.interval is interval and format_period(a.period, interval) in index
        ]
        return {
            "entity_id": entity_id,
            "entity_type": entity.entity_type.value,
            "profile_id": profile,
            "interval": interval.value,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "dates": labels,
            "series": values,
            "anomalies": anomalies,
        }

    @staticmethod
    def _values(
        kind: ProfileKind,
        labels: list[str],
        stored: dict[str, tuple[float, ...]],
        chosen: list[str],
    ) -> dict[str, list[float | None]]:
        if kind is ProfileKind.ADS:
            # Amazon omits rows without activity: a missing period is zero, as in scans.
            raw = np.array([stored.get(p, (0.0,) * len(PPC_MEASURES)) for p in labels])
            features = derive(raw.reshape(len(labels), len(PPC_MEASURES)))
            return {m: [round(float(v), 6) for v in features[:, FEATURES.index(m)]] for m in chosen}
        # Market gaps (weekends, halts) are not zeros: they stay empty on the chart.
        columns = {m: OHLCV_MEASURES.index(m) for m in chosen}
        return {
            m: [stored[p][c] if p in stored else None for p in labels] for m, c in columns.items()
        }

    def profile(self, tenant: str, profile: str, entity_id: str) -> dict[str, Any]:
        """How often the entity alerted, its last alert and the causes seen most often."""
        entity, _ = self._find(tenant, profile, entity_id)
        counters = self.counters.entity(tenant, profile, entity_id)
        count = int(counters.get("alerts", 0))
        latest = self.alerts.of_entity(tenant, profile, entity_id, limit=1)
        causes = sorted(
            with_prefix(counters, "cause#").items(), key=lambda pair: (-pair[1], pair[0])
        )
        typical = []
        for name, seen in causes[:TYPICAL_CAUSES]:
            relation, entity_type, cause_id = name.split("#", 2)
            typical.append(
                {
                    "entity_id": cause_id,
                    "entity_type": entity_type,
                    "relation": relation,
                    "alerts": int(seen),
                    "share": round(seen / count, 3) if count else 0.0,
                }
            )
        last = latest[0] if latest else None
        return {
            "entity_id": entity_id,
            "entity_type": entity.entity_type.value,
            "parent_id": entity.parent_id,
            "name": entity.name,
            "profile_id": profile,
            "anomalies": count,
            "by_severity": {s.value: int(counters.get(f"sev#{s.value}", 0)) for s in Severity},
            "last": None
            if last is None
            else {
                "alert_id": last.alert_id,
                "period": last.period.isoformat(),
                "severity": last.severity.value,
                "score": last.score,
                "status": last.status.value,
                "created_at": last.created_at.isoformat(),
            },
            "typical_causes": typical,
        }
