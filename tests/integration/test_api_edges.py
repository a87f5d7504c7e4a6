"""What a client can send gets a 4xx naming what is wrong, and changes nothing.

Each case is one of the defects measured in issue 19 (a 500, a silent change, a refusal
of what works), over real HTTP through the local gateway.
"""

from __future__ import annotations

import http.client
import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

import jwt
import pytest

from tripwire.domain import Alert, Profile, Severity
from tripwire.domain.entities import ProfileKind
from tripwire.domain.metrics import Interval
from tripwire.local import auth
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.schedule import ScheduleStore

pytestmark = pytest.mark.integration
ALERT = "al-1"
K1_DAYS = "profile_id=A1&from=2026-03-01&to=2026-03-03"


def send(
    stack: LocalStack,
    token: str | None,
    method: str,
    path: str,
    body: bytes | dict[str, Any] | None = None,
    content_type: str | None = "application/json",
) -> tuple[int, Any]:
    """One request, with exactly these headers (urllib would add a form Content-Type)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    if data is not None and content_type:
        headers["Content-Type"] = content_type
    host, port = stack.api_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request(method, path, data, headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def locs(answer: dict[str, Any]) -> list[list[Any]]:
    return [p["loc"] for p in answer["detail"]]


@pytest.fixture
def account(local_stack: LocalStack, tenant: str) -> str:
    """Profile A1 (ACC > C1 > K1) with three days of K1, and one open alert."""
    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    AlertStore().put_many(
        [
            Alert(
                alert_id=ALERT,
                tenant_id=tenant,
                profile_id="A1",
                entity_id="K1",
                entity_type="keyword",
                period=datetime(2026, 3, 1),
                score=0.99,
                threshold=0.9,
                severity=Severity.HIGH,
                run_id="run-1",
                created_at=datetime(2026, 3, 1, 6),
            )
        ]
    )
    status, _ = send(local_stack, token_of(local_stack, tenant), "POST", "/metrics", METRICS)
    assert status == 200
    return tenant


METRICS = {
    "profile_id": "A1",
    "entities": [
        {"entity_id": "ACC", "entity_type": "account"},
        {"entity_id": "C1", "entity_type": "campaign", "parent_id": "ACC"},
        {"entity_id": "K1", "entity_type": "keyword", "parent_id": "C1"},
    ],
    "points": [
        {"entity_id": "K1", "date": f"2026-03-0{d}", "impressions": 90, "clicks": d}
        | {"spend": 2.5, "sales": 10.0, "orders": 1}
        for d in (1, 2, 3)
    ],
}


def token_of(stack: LocalStack, tenant: str) -> str:
    return issue_token(tenant, "ana", directory=stack.directory)


def k1_series(stack: LocalStack, token: str) -> dict[str, Any]:
    status, answer = send(stack, token, "GET", f"/entities/K1/series?{K1_DAYS}")
    assert status == 200, answer
    return dict(answer["series"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/detect"),
        ("POST", "/metrics"),
        ("POST", "/backfill"),
        ("PUT", "/profiles/A1/schedule"),
        ("PATCH", f"/alerts/{ALERT}/resolve"),
        ("POST", f"/alerts/{ALERT}/feedback"),
    ],
)
def test_a_body_that_is_not_utf8_is_a_422_naming_the_body(
    local_stack: LocalStack, account: str, method: str, path: str
) -> None:
    token = token_of(local_stack, account)
    before = k1_series(local_stack, token)
    status, answer = send(local_stack, token, method, path, b'\xff\xfe{"notes": "x"}')
    assert (status, locs(answer)) == (422, [["body", 0]]), answer
    assert answer["detail"][0]["msg"] == "the body is not UTF-8 text"
    assert k1_series(local_stack, token) == before
    status, alert = send(local_stack, token, "GET", f"/alerts/{ALERT}")
    assert (status, alert["status"], alert["feedback"]) == (200, "open", None)


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_a_body_sent_as_something_else_than_json_is_a_415_naming_content_type(
    local_stack: LocalStack, account: str, content_type: str
) -> None:
    token = token_of(local_stack, account)
    body = json.dumps({"notes": "fixed"}).encode()
    status, answer = send(
        local_stack, token, "PATCH", f"/alerts/{ALERT}/resolve", body, content_type
    )
    assert (status, locs(answer)) == (415, [["header", "Content-Type"]]), answer
    assert send(local_stack, token, "GET", f"/alerts/{ALERT}")[1]["status"] == "open"
    # Without a Content-Type the body is read as JSON, as documented.
    status, answer = send(local_stack, token, "PATCH", f"/alerts/{ALERT}/resolve", body, None)
    assert (status, answer["status"]) == (200, "resolved")


@pytest.mark.parametrize("period", ["0d", "0w", "0mo", "0y", "11y", "121mo", "523w", "3661d"])
def test_a_backfill_period_outside_one_day_to_ten_years_is_a_422_naming_period(
    local_stack: LocalStack, account: str, period: str
) -> None:
    body = {"profile_id": "A1", "period": period}
    status, answer = send(local_stack, token_of(local_stack, account), "POST", "/backfill", body)
    assert (status, locs(answer)) == (422, [["body", "period"]]), answer


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("profile_id=A1&from=9999-12-30&to=9999-12-31", "from"),
        ("profile_id=A1&from=2199-12-01&to=2200-01-01", "to"),
        ("profile_id=A1&to=0001-01-01", "to"),
    ],
)
def test_a_date_outside_1900_to_2199_is_a_422_naming_it(
    local_stack: LocalStack, account: str, query: str, field: str
) -> None:
    token = token_of(local_stack, account)
    status, answer = send(local_stack, token, "GET", f"/entities/K1/series?{query}")
    assert status == 422 and ["query", field] in locs(answer), answer


@pytest.mark.parametrize(
    ("point", "field"),
    [
        ({"date": "9999-12-31"}, "date"),
        ({"date": "0001-01-01"}, "date"),
        ({"spend": 5e15}, "spend"),
        ({"sales": 1e16}, "sales"),
        ({"impressions": 1e40}, "impressions"),
        ({"impressions": 10**15 + 1}, "impressions"),
    ],
)
def test_a_point_the_store_cannot_hold_is_a_422_naming_it_and_nothing_is_stored(
    local_stack: LocalStack, account: str, point: dict[str, Any], field: str
) -> None:
    token = token_of(local_stack, account)
    before = k1_series(local_stack, token)
    good = {"entity_id": "K1", "date": "2026-03-02", "impressions": 95, "clicks": 3}
    good |= {"spend": 2.0, "sales": 0.0, "orders": 0}
    body = {"profile_id": "A1", "points": [good, good | {"date": "2026-03-03"} | point]}
    status, answer = send(local_stack, token, "POST", "/metrics", body)
    assert (status, locs(answer)) == (422, [["body", "points", 1, field]]), answer
    assert k1_series(local_stack, token) == before


def test_the_largest_measure_stored_is_read_back_as_sent(
    local_stack: LocalStack, account: str
) -> None:
    token = token_of(local_stack, account)
    point = {"entity_id": "K1", "date": "2026-03-02", "impressions": 10**15, "clicks": 3}
    point |= {"spend": 1e15, "sales": 0.0, "orders": 0}
    status, answer = send(
        local_stack, token, "POST", "/metrics", {"profile_id": "A1", "points": [point]}
    )
    assert status == 200, answer
    series = k1_series(local_stack, token)
    assert (series["impressions"][1], series["spend"][1]) == (1e15, 1e15)


def test_path_ids_are_percent_decoded_once(local_stack: LocalStack, account: str) -> None:
    token = token_of(local_stack, account)
    # Every character of "al-1" encoded: the gateway hands the function "al-1".
    encoded = "".join(f"%{b:02X}" for b in ALERT.encode())
    status, answer = send(local_stack, token, "GET", f"/alerts/{encoded}")
    assert (status, answer["alert_id"]) == (200, ALERT)
    # Decoded once only: "%2541" is the id "%41", not "A".
    status, answer = send(local_stack, token, "GET", "/alerts/al%252D1")
    assert status in (404, 422), answer


def test_an_id_outside_the_alphabet_is_refused_at_ingest_and_128_counts_decoded(
    local_stack: LocalStack, account: str
) -> None:
    token = token_of(local_stack, account)
    for bad in ("PX-Küche", "a/b", "a?b", "100%"):
        row = {"entity_id": bad, "entity_type": "keyword", "parent_id": "C1"}
        status, answer = send(
            local_stack, token, "POST", "/metrics", {"profile_id": "A1", "entities": [row]}
        )
        assert (status, locs(answer)) == (422, [["body", "entities", 0, "entity_id"]]), bad
    # 128 characters that all need encoding: 384 in the path, 128 in the id.
    longest = ":" * 127 + "k"
    row = {"entity_id": longest, "entity_type": "keyword", "parent_id": "C1"}
    status, _ = send(
        local_stack, token, "POST", "/metrics", {"profile_id": "A1", "entities": [row]}
    )
    assert status == 200
    path = f"/entities/{quote(longest, safe='')}/profile?profile_id=A1"
    status, answer = send(local_stack, token, "GET", path)
    assert (status, answer["entity_id"]) == (200, longest)
    status, answer = send(
        local_stack,
        token,
        "GET",
        f"/entities/{quote(longest + 'k', safe='')}/profile?profile_id=A1",
    )
    assert (status, locs(answer)) == (422, [["path", "entity_id"]]), answer


def test_an_access_token_is_refused_even_with_the_tenant_claim(
    local_stack: LocalStack, account: str
) -> None:
    claims = jwt.decode(token_of(local_stack, account), options={"verify_signature": False})
    for token_use in ("access", None):
        forged = {k: v for k, v in claims.items() if k != "token_use"}
        if token_use:
            forged["token_use"] = token_use
        key = auth.private_key(local_stack.directory)
        token = jwt.encode(forged, key, algorithm="RS256", headers={"kid": auth.KEY_ID})
        assert send(local_stack, token, "GET", f"/alerts/{ALERT}")[0] == 401
        status, _ = send(local_stack, token, "PATCH", f"/alerts/{ALERT}/acknowledge", {})
        assert status == 401
    assert (
        send(local_stack, token_of(local_stack, account), "GET", f"/alerts/{ALERT}")[1]["status"]
        == "open"
    )


@pytest.mark.parametrize(
    ("kind", "interval", "status"),
    [
        (ProfileKind.ADS, "1d", 200),
        (ProfileKind.ADS, "1h", 422),
        (ProfileKind.ADS, "15m", 422),
        (ProfileKind.MARKET, "1d", 200),
        (ProfileKind.MARKET, "1h", 200),
        (ProfileKind.MARKET, "5m", 422),
    ],
)
def test_a_schedule_interval_the_profile_cannot_be_scanned_at_is_a_422_naming_interval(
    local_stack: LocalStack, tenant: str, kind: ProfileKind, interval: str, status: int
) -> None:
    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="P1", kind=kind))
    body = {"enabled": True, "interval": interval}
    got, answer = send(
        local_stack, token_of(local_stack, tenant), "PUT", "/profiles/P1/schedule", body
    )
    assert got == status, answer
    stored = ScheduleStore().get(tenant, "P1", interval=Interval(interval))
    if status == 422:
        assert locs(answer) == [["body", "interval"]]
        assert stored is None  # nothing written
    else:
        assert (answer["interval"], answer["enabled"]) == (interval, True)
        assert stored is not None and stored.enabled


def test_a_profile_is_scanned_at_one_interval_the_last_one_set(
    local_stack: LocalStack, tenant: str
) -> None:
    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="US", kind=ProfileKind.MARKET))
    token = token_of(local_stack, tenant)
    for interval in ("1h", "1d"):
        body = {"enabled": True, "interval": interval}
        assert send(local_stack, token, "PUT", "/profiles/US/schedule", body)[0] == 200
    hourly = ScheduleStore().get(tenant, "US", Interval.H1)
    daily = ScheduleStore().get(tenant, "US", Interval.D1)
    assert hourly is not None and not hourly.enabled
    assert daily is not None and daily.enabled


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("/runs?profile_id=A1&limit=0", ["query", "limit"]),
        ("/runs?profile_id=A1&cursor=bm90LWEtY3Vyc29y", ["query", "cursor"]),
        ("/alerts/active?profile_id=A1&cursor=bm90LWEtY3Vyc29y", ["query", "cursor"]),
        ("/alerts/active?profile_id=A1&severity=grave", ["query", "severity"]),
        ("/statistics?profile_id=", ["query", "profile_id"]),
    ],
)
def test_a_422_names_the_query_field_once(
    local_stack: LocalStack, tenant: str, path: str, loc: list[str]
) -> None:
    status, answer = send(local_stack, token_of(local_stack, tenant), "GET", path)
    assert (status, locs(answer)) == (422, [loc]), answer
    assert answer["message"].startswith(f"{loc[1]}: ")
