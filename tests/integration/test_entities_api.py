"""GET /entities/{id}/series and /entities/{id}/profile over real HTTP: what a chart of an
entity needs, and its anomaly history — only ever the caller's own entities."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.integration.test_alerts_api import Client
from tripwire.domain import Alert, Entity, Profile, RootCause, Severity
from tripwire.domain.metrics import PPC_MEASURES, Interval
from tripwire.local.stack import LocalStack
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore

pytestmark = pytest.mark.integration
ENTITIES = [
    Entity(entity_id="ACC", entity_type="account"),
    Entity(entity_id="C1", entity_type="campaign", parent_id="ACC"),
    Entity(entity_id="K1", entity_type="keyword", parent_id="C1"),
    Entity(entity_id="K2", entity_type="keyword", parent_id="C1"),
]
# impressions, clicks, spend, sales, orders; 2026-03-03 has no row (no activity).
POINTS = {
    "2026-03-01": (100, 10, 5.0, 20.0, 2),
    "2026-03-02": (200, 10, 8.0, 0.0, 0),
    "2026-03-04": (50, 0, 0.0, 0.0, 0),
    "2026-03-05": (120, 6, 3.0, 12.0, 1),
}
SERIES = "/entities/K1/series?profile_id=A1&from=2026-03-01&to=2026-03-05"


def _alert(tenant: str, day: str, severity: Severity, relation: str = "ancestor") -> Alert:
    cause = RootCause(
        entity_id="C1",
        entity_type="campaign",
        relation=relation,
        hops=1,
        confidence=0.7,
        sentence="campaign C1 ran out of budget",
    )
    return Alert(
        alert_id=f"al-K1-{day}",
        tenant_id=tenant,
        profile_id="A1",
        entity_id="K1",
        entity_type="keyword",
        period=datetime.fromisoformat(day),
        score=0.99,
        threshold=0.9,
        severity=severity,
        root_causes=[cause],
        run_id="run-1",
        created_at=datetime(2026, 3, 6, 6, 0),
    )


@pytest.fixture
def account(local_stack: LocalStack, tenant: str) -> str:
    catalog = CatalogStore()
    catalog.put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    catalog.put_hierarchy(tenant, "A1", ENTITIES, expected=None)
    MetricStore().write(tenant, "A1", Interval.D1, PPC_MEASURES, {"K1": POINTS})
    AlertStore().put_many(
        [
            _alert(tenant, "2026-03-04", Severity.HIGH),
            _alert(tenant, "2026-03-02", Severity.LOW),
            _alert(tenant, "2026-02-20", Severity.MEDIUM, relation="self"),
        ]
    )
    return tenant


def test_series_has_every_day_with_its_values_and_anomalies(
    local_stack: LocalStack, account: str
) -> None:
    status, chart = Client(local_stack, account)("GET", SERIES + "&metrics=clicks,ctr,acos")
    assert status == 200, chart
    assert chart["dates"] == [f"2026-03-0{d}" for d in range(1, 6)]
    assert chart["series"]["clicks"] == [10, 10, 0, 0, 6]  # no row on the 3rd: zero
    assert chart["series"]["ctr"] == [0.1, 0.05, 0.0, 0.0, 0.05]
    assert chart["series"]["acos"] == [0.25, 10.0, 0.0, 0.0, 0.25]  # spend, no sales: capped
    assert set(chart["series"]) == {"clicks", "ctr", "acos"}
    assert chart["anomalies"] == [
        {
            "alert_id": "al-K1-2026-03-02",
            "date": "2026-03-02",
            "index": 1,
            "severity": "low",
            "score": 0.99,
            "status": "open",
        },
        {
            "alert_id": "al-K1-2026-03-04",
            "date": "2026-03-04",
            "index": 3,
            "severity": "high",
            "score": 0.99,
            "status": "open",
        },
    ]


def test_series_defaults_to_every_metric(local_stack: LocalStack, account: str) -> None:
    status, chart = Client(local_stack, account)("GET", SERIES)
    assert status == 200
    assert list(chart["series"]) == [*PPC_MEASURES, "ctr", "cpc", "acos", "cvr", "roas"]
    assert all(len(values) == 5 for values in chart["series"].values())
    # A parent with no stored roll-up is all zeros, with no anomalies.
    status, parent = Client(local_stack, account)("GET", SERIES.replace("K1", "C1"))
    assert status == 200 and parent["anomalies"] == [] and parent["entity_type"] == "campaign"


def test_profile_counts_anomalies_and_names_typical_causes(
    local_stack: LocalStack, account: str
) -> None:
    status, history = Client(local_stack, account)("GET", "/entities/K1/profile?profile_id=A1")
    assert status == 200, history
    assert history["anomalies"] == 3
    assert history["by_severity"] == {"low": 1, "medium": 1, "high": 1, "critical": 0}
    assert history["last"]["alert_id"] == "al-K1-2026-03-04"
    assert history["parent_id"] == "C1"
    assert history["typical_causes"] == [
        {
            "entity_id": "C1",
            "entity_type": "campaign",
            "relation": "ancestor",
            "alerts": 2,
            "share": 0.667,
        },
        {
            "entity_id": "C1",
            "entity_type": "campaign",
            "relation": "self",
            "alerts": 1,
            "share": 0.333,
        },
    ]
    status, quiet = Client(local_stack, account)("GET", "/entities/K2/profile?profile_id=A1")
    assert status == 200 and (quiet["anomalies"], quiet["last"], quiet["typical_causes"]) == (
        0,
        None,
        [],
    )


@pytest.mark.parametrize("route", ["series", "profile"])
def test_unknown_or_another_tenants_entity_is_404(
    local_stack: LocalStack, account: str, route: str
) -> None:
    other = Client(local_stack, f"{account}-other")
    assert other("GET", f"/entities/K1/{route}?profile_id=A1")[0] == 404
    mine = Client(local_stack, account)
    assert mine("GET", f"/entities/nope/{route}?profile_id=A1")[0] == 404
    assert mine("GET", f"/entities/K1/{route}?profile_id=A2")[0] == 404


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/entities/K1/series?profile_id=A1&metrics=clicks,bogus", "metrics"),
        ("/entities/K1/series?profile_id=A1&metrics=", "metrics"),
        ("/entities/K1/series?profile_id=A1&from=2026-03-05&to=2026-03-01", "to"),
        ("/entities/K1/series?profile_id=A1&from=March", "from"),
        ("/entities/K1/series?profile_id=A1&interval=2d", "interval"),
        ("/entities/K1/series", "profile_id"),
        ("/entities/K1/profile", "profile_id"),
    ],
)
def test_invalid_query_is_422_naming_the_field(
    local_stack: LocalStack, account: str, path: str, field: str
) -> None:
    status, body = Client(local_stack, account)("GET", path)
    assert status == 422, body
    assert field in body["detail"][0]["loc"], body
