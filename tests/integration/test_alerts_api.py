"""The alerts API over real HTTP through the local stack: lifecycle, paging, isolation, 4xx."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

import pytest

from tripwire.domain import Alert, AlertStatus, Severity
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.alerts import AlertStore
from tripwire.store.feedback import FeedbackStore
from tripwire.store.history import HistoryStore

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 1, 6, 0)
SEVERITIES = [Severity.LOW, Severity.CRITICAL, Severity.HIGH, Severity.HIGH, Severity.CRITICAL]


def _alert(tenant: str, n: int, severity: Severity, **extra: Any) -> Alert:
    return Alert(
        alert_id=f"al-{n}",
        tenant_id=tenant,
        profile_id="A1",
        entity_id=f"K{n % 2}",
        entity_type="keyword" if n != 2 else "campaign",
        period=T0 - timedelta(days=n),
        score=0.9,
        threshold=0.5,
        severity=severity,
        run_id="run-1",
        created_at=T0 + timedelta(minutes=n),
        **extra,
    )


class Client:
    def __init__(self, stack: LocalStack, tenant: str | None, user: str = "ana") -> None:
        self.url = stack.api_url
        self.token = issue_token(tenant, user, directory=stack.directory) if tenant else None

    def __call__(
        self, method: str, path: str, body: bytes | dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


@pytest.fixture
def seeded(local_stack: LocalStack, tenant: str) -> str:
    AlertStore().put_many(_alert(tenant, n, s) for n, s in enumerate(SEVERITIES))
    AlertStore().put_many([_alert(tenant, 5, Severity.LOW, group_id="g1")])
    return tenant


def _ids(body: dict[str, Any]) -> list[str]:
    return [item["alert_id"] for item in body["items"]]


def test_list_newest_first_with_filters(local_stack: LocalStack, seeded: str) -> None:
    api = Client(local_stack, seeded)
    status, body = api("GET", "/alerts/active?profile_id=A1")
    assert status == 200 and _ids(body) == [f"al-{n}" for n in (5, 4, 3, 2, 1, 0)]
    assert body["next_cursor"] is None
    for query, expected in (
        ("severity=critical", ["al-4", "al-1"]),
        ("entity_type=campaign", ["al-2"]),
        ("entity_id=K1&severity=high", ["al-3"]),
        ("group_id=g1", ["al-5"]),
        ("entity_id=nope", []),
    ):
        status, body = api("GET", f"/alerts/active?profile_id=A1&{query}")
        assert (status, _ids(body)) == (200, expected), query
    assert _ids(api("GET", "/alerts/active?profile_id=A2")[1]) == []


def test_paging_walks_every_alert_once(local_stack: LocalStack, seeded: str) -> None:
    api = Client(local_stack, seeded)
    seen: list[str] = []
    path = "/alerts/active?profile_id=A1&limit=2"
    for _ in range(4):
        status, body = api("GET", path)
        assert status == 200 and len(body["items"]) <= 2
        seen += _ids(body)
        if not body["next_cursor"]:
            break
        path = f"/alerts/active?profile_id=A1&limit=2&cursor={body['next_cursor']}"
    assert seen == [f"al-{n}" for n in (5, 4, 3, 2, 1, 0)]
    # A cursor is bound to its tenant and profile.
    first = api("GET", "/alerts/active?profile_id=A1&limit=2")[1]["next_cursor"]
    other = Client(local_stack, f"{seeded}-other")
    for client, profile in ((other, "A1"), (api, "A2")):
        status, body = client("GET", f"/alerts/active?profile_id={profile}&cursor={first}")
        assert status == 422 and body["detail"][0]["loc"][-1] == "cursor"


def test_lifecycle_get_acknowledge_resolve(local_stack: LocalStack, seeded: str) -> None:
    api, bob = Client(local_stack, seeded), Client(local_stack, seeded, "bob")
    status, acked = api("PATCH", "/alerts/al-1/acknowledge", {"acknowledged_by": "mallory"})
    assert status == 200 and acked["status"] == "acknowledged"
    assert acked["acknowledged_by"] == "ana"  # from the token, never the body
    # Acknowledging again is idempotent: the first acknowledgement stands.
    assert bob("PATCH", "/alerts/al-1/acknowledge") == (200, acked)
    status, done = bob("PATCH", "/alerts/al-1/resolve", {"notes": "budget raised"})
    assert status == 200 and done["status"] == "resolved" and done["resolved_by"] == "bob"
    assert done["acknowledged_by"] == "ana" and done["resolution_minutes"] > 0
    assert api("PATCH", "/alerts/al-1/resolve", {"notes": "again"})[0] == 409
    assert api("PATCH", "/alerts/al-1/acknowledge")[0] == 409
    status, whole = api("GET", "/alerts/al-1")
    assert status == 200 and whole["resolution_notes"] == "budget raised"
    history = [(h["previous"], h["status"], h["by"]) for h in whole["history"]]
    assert history == [("open", "acknowledged", "ana"), ("acknowledged", "resolved", "bob")]
    assert "al-1" not in _ids(api("GET", "/alerts/active?profile_id=A1")[1])


def test_concurrent_resolves_end_with_one_resolution(local_stack: LocalStack, seeded: str) -> None:
    results: list[tuple[int, Any]] = []
    users = [Client(local_stack, seeded, f"user-{i}") for i in range(2)]
    barrier = threading.Barrier(len(users))

    def resolve(client: Client) -> None:
        barrier.wait()
        results.append(client("PATCH", "/alerts/al-3/resolve", {"notes": client.token or ""}))

    threads = [threading.Thread(target=resolve, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200, 409]
    winner = next(body for status, body in results if status == 200)
    stored = AlertStore().get(seeded, "al-3")
    assert stored is not None and stored.status is AlertStatus.RESOLVED
    assert stored.resolved_by == winner["resolved_by"]
    changes = HistoryStore().of_alert(seeded, "al-3")
    assert [(c.status, c.by) for c in changes] == [(AlertStatus.RESOLVED, winner["resolved_by"])]


def test_feedback_is_stored_as_a_label(local_stack: LocalStack, seeded: str) -> None:
    api = Client(local_stack, seeded)
    status, label = api("POST", "/alerts/al-2/feedback", {"is_anomaly": False, "note": "promo"})
    assert status == 201 and label["by"] == "ana"
    stored = FeedbackStore().get(seeded, "A1", "al-2")
    assert stored is not None and (stored.is_anomaly, stored.note) == (False, "promo")
    assert stored.entity_type == "campaign" and stored.score == 0.9
    status, alert = api("GET", "/alerts/al-2")  # the label comes back with the alert
    assert status == 200 and alert["feedback"]["is_anomaly"] is False
    assert api("GET", "/alerts/al-1")[1]["feedback"] is None  # never labelled


def test_another_tenant_sees_and_changes_nothing(local_stack: LocalStack, seeded: str) -> None:
    other = Client(local_stack, f"{seeded}-other")
    for method, path, body in (
        ("GET", "/alerts/al-0", None),
        ("PATCH", "/alerts/al-0/acknowledge", None),
        ("PATCH", "/alerts/al-0/resolve", {"notes": "mine now"}),
        ("POST", "/alerts/al-0/feedback", {"is_anomaly": True}),
    ):
        assert other(method, path, body)[0] == 404, path
    assert other("GET", "/alerts/active?profile_id=A1") == (200, {"items": [], "next_cursor": None})
    stored = AlertStore().get(seeded, "al-0")
    assert stored is not None and stored.status is AlertStatus.OPEN
    assert FeedbackStore().get(f"{seeded}-other", "A1", "al-0") is None
    assert Client(local_stack, seeded)("GET", "/alerts/nope")[0] == 404


def test_no_token_is_401(local_stack: LocalStack) -> None:
    anonymous = Client(local_stack, None)
    for method, path in (
        ("GET", "/alerts/active?profile_id=A1"),
        ("GET", "/alerts/al-0"),
        ("PATCH", "/alerts/al-0/acknowledge"),
        ("PATCH", "/alerts/al-0/resolve"),
        ("POST", "/alerts/al-0/feedback"),
    ):
        assert anonymous(method, path)[0] == 401, path


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/alerts/active?profile_id=A1&severity=bad", None, "severity"),
        ("GET", "/alerts/active?profile_id=A1&limit=0", None, "limit"),
        ("GET", "/alerts/active?profile_id=A1&limit=1000", None, "limit"),
        ("GET", "/alerts/active?profile_id=A1&cursor=not-a-cursor", None, "cursor"),
        ("GET", "/alerts/active", None, "profile_id"),
        ("PATCH", "/alerts/al-0/resolve", {}, "notes"),
        ("PATCH", "/alerts/al-0/resolve", b'{"notes": "x"', "body"),
        ("POST", "/alerts/al-0/feedback", {"is_anomaly": "maybe"}, "is_anomaly"),
        ("POST", "/alerts/al-0/feedback", b"{not json", "body"),
    ],
)
def test_invalid_input_is_422_naming_the_field(
    local_stack: LocalStack,
    seeded: str,
    method: str,
    path: str,
    body: bytes | dict[str, Any] | None,
    field: str,
) -> None:
    status, answer = Client(local_stack, seeded)(method, path, body)
    assert status == 422, answer
    assert field in answer["detail"][0]["loc"], answer
    stored = AlertStore().get(seeded, "al-0")
    assert stored is not None and stored.status is AlertStatus.OPEN  # nothing changed
