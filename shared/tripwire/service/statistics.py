"""A profile's dashboard figures, read from the counters alert writes keep (no alert scan).

Reads two things: the profile's ``TOTAL`` item and one Query of its day items in the
range — the cost does not grow with the number of alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tripwire.domain.alerts import AlertStatus, Severity
from tripwire.store.catalog import CatalogStore
from tripwire.store.statistics import StatisticsStore, summed, with_prefix


class ProfileNotFound(LookupError):
    """No such profile for this tenant (another tenant's profile is not found either)."""


def _mean(total: float, count: float) -> float | None:
    return round(total / count, 1) if count else None


def _by_severity(counters: dict[str, float]) -> dict[str, int]:
    return {s.value: int(counters.get(s.value, 0)) for s in Severity}


def _day(day: date, counters: dict[str, float]) -> dict[str, Any]:
    raised = _by_severity(with_prefix(counters, "raised#"))
    return {
        "date": day.isoformat(),
        "raised": sum(raised.values()),
        "by_severity": raised,
        "acknowledged": int(counters.get("acknowledged", 0)),
        "resolved": int(counters.get("resolved", 0)),
    }


def _top_entities(days: list[dict[str, float]], top: int) -> list[dict[str, Any]]:
    counts = with_prefix(summed(days), "e#")  # "{type}#{entity}" -> alerts in the range
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0].split("#", 1)[1]))
    return [
        {"entity_id": name.split("#", 1)[1], "entity_type": name.split("#", 1)[0], "alerts": int(n)}
        for name, n in ranked[:top]
    ]


@dataclass
class StatisticsService:
    counters: StatisticsStore
    catalog: CatalogStore

    @classmethod
    def default(cls) -> StatisticsService:
        return cls(StatisticsStore(), CatalogStore())

    def dashboard(
        self, tenant: str, profile: str, start: date, end: date, top: int = 10
    ) -> dict[str, Any]:
        if self.catalog.get_profile(tenant, profile) is None:
            raise ProfileNotFound(profile)
        total = self.counters.totals(tenant, profile)
        by_day = self.counters.days(tenant, profile, start, end)
        span = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        trend = [_day(day, by_day.get(day, {})) for day in span]
        return {
            "profile_id": profile,
            "from": start.isoformat(),
            "to": end.isoformat(),
            **_now(total),
            "range": {
                "raised": sum(d["raised"] for d in trend),
                "by_severity": _by_severity(summed(d["by_severity"] for d in trend)),
                "acknowledged": sum(d["acknowledged"] for d in trend),
                "resolved": sum(d["resolved"] for d in trend),
            },
            "top_entities": _top_entities(list(by_day.values()), top),
            "trend": trend,
        }


def _now(total: dict[str, float]) -> dict[str, Any]:
    """Figures over every alert stored: counts by status and severity, mean times."""
    matrix = {
        status.value: _by_severity(with_prefix(total, f"n#{status.value}#"))
        for status in AlertStatus
    }
    acked, resolved = total.get("ack_n", 0), total.get("resolve_n", 0)
    return {
        "alerts": sum(sum(row.values()) for row in matrix.values()),
        "by_severity": {s.value: sum(row[s.value] for row in matrix.values()) for s in Severity},
        "by_status": {status: sum(row.values()) for status, row in matrix.items()},
        "by_status_and_severity": matrix,
        "acknowledged": int(acked),
        "mean_minutes_to_acknowledge": _mean(total.get("ack_minutes", 0), acked),
        "resolved": int(resolved),
        "mean_minutes_to_resolve": _mean(total.get("resolve_minutes", 0), resolved),
    }
