"""The pure parts of the alerts API: cursors, request models, caller, transition rules."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tripwire.api import cursor
from tripwire.api.context import caller_of
from tripwire.api.schemas import ActiveQuery, FeedbackBody, ResolveBody
from tripwire.domain import Alert, AlertStatus, Severity
from tripwire.service.alerts import AlertConflict, acknowledged, resolved

T0 = datetime(2026, 3, 1, 6, 0)
KEY = f"{T0.isoformat()}#al-1"


def _alert(**update: object) -> Alert:
    alert = Alert(
        alert_id="al-1",
        tenant_id="t1",
        profile_id="A1",
        entity_id="K1",
        entity_type="keyword",
        period=T0,
        score=0.9,
        threshold=0.5,
        severity=Severity.HIGH,
        run_id="run-1",
        created_at=T0,
    )
    return alert.model_copy(update=update)


def test_cursor_round_trip_and_opacity() -> None:
    token = cursor.encode(KEY, "t1", "A1")
    assert cursor.decode(token, "t1", "A1") == KEY
    assert "t1" not in base64.urlsafe_b64decode(token + "==").decode()  # tenant not exposed


@pytest.mark.parametrize(("tenant", "profile"), [("t2", "A1"), ("t1", "A2")])
def test_cursor_of_another_tenant_or_profile_is_refused(tenant: str, profile: str) -> None:
    with pytest.raises(cursor.InvalidCursor):
        cursor.decode(cursor.encode(KEY, "t1", "A1"), tenant, profile)


def _b64(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!",
        "x" * 600,
        _b64([1]),
        _b64({"v": 2, "s": "x", "k": KEY}),
        _b64({"v": 1, "s": "x", "k": "t2#A1#high"}),  # not a sort key
        _b64({"v": 1, "s": 1, "k": KEY}),
    ],
)
def test_malformed_cursors_are_refused(token: str) -> None:
    with pytest.raises(cursor.InvalidCursor):
        cursor.parse(token)


@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_cleanly(token: str) -> None:
    with contextlib.suppress(cursor.InvalidCursor):  # any other exception would be a 500
        assert set(cursor.parse(token)) == {"scope", "key"}


def test_active_query_defaults_bounds_and_filters() -> None:
    query = ActiveQuery.model_validate({"profile_id": "A1", "entity_id": "K1", "limit": "7"})
    assert (query.limit, query.severity, query.where()) == (7, None, {"entity_id": "K1"})
    assert ActiveQuery.model_validate({"profile_id": "A1"}).limit == 50
    for bad in ({"limit": "0"}, {"limit": "201"}, {"severity": "bad"}, {"cursor": "zz"}):
        with pytest.raises(ValidationError) as error:
            ActiveQuery.model_validate({"profile_id": "A1", **bad})
        assert error.value.errors()[0]["loc"] == (next(iter(bad)),)
    with pytest.raises(ValidationError):
        ActiveQuery.model_validate({"profile_id": "A1#x"})  # '#' would forge keys


def test_bodies_are_strict() -> None:
    assert ResolveBody.model_validate({"notes": " fixed "}).notes == "fixed"
    assert FeedbackBody.model_validate({"is_anomaly": False}).note == ""
    for model, body in (
        (ResolveBody, {}),
        (ResolveBody, {"notes": "  "}),
        (ResolveBody, {"notes": "x", "resolved_by": "someone"}),
        (FeedbackBody, {"is_anomaly": "yes"}),
        (FeedbackBody, {"is_anomaly": 1}),
    ):
        with pytest.raises(ValidationError):
            model.model_validate(body)


def test_caller_comes_from_claims_only() -> None:
    def event(claims: dict[str, str]) -> dict[str, object]:
        return {"requestContext": {"authorizer": {"jwt": {"claims": claims}}}}

    id_token = {"token_use": "id"}
    me = caller_of(
        event({"custom:tenant_id": "t1", "sub": "u-1", "cognito:username": "ana"} | id_token)
    )
    assert (me.tenant, me.user) == ("t1", "ana")
    assert caller_of(event({"custom:tenant_id": "t1", "sub": "u-1"} | id_token)).user == "u-1"
    refused = (
        {"sub": "u-1", "token_use": "id"},
        {"custom:tenant_id": "t#1", "sub": "u", "token_use": "id"},
        {},
        # an access token (or one without token_use) of the same pool, tenant claim and all
        {"custom:tenant_id": "t1", "sub": "u-1", "token_use": "access"},
        {"custom:tenant_id": "t1", "sub": "u-1"},
    )
    for claims in refused:
        with pytest.raises(UnauthorizedError):
            caller_of(event(claims))
    with pytest.raises(UnauthorizedError):
        caller_of({"requestContext": {}})


def test_acknowledge_rules() -> None:
    at = T0 + timedelta(minutes=5)
    first = acknowledged(_alert(), "ana", at)
    assert (first.status, first.acknowledged_by, first.acknowledged_at) == (
        AlertStatus.ACKNOWLEDGED,
        "ana",
        at,
    )
    assert acknowledged(first, "bob", at + timedelta(hours=1)) == first  # idempotent
    with pytest.raises(AlertConflict):
        acknowledged(_alert(status=AlertStatus.RESOLVED), "ana", at)


def test_resolve_rules_and_minutes() -> None:
    at = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)  # aware, while created_at is naive UTC
    done = resolved(acknowledged(_alert(), "ana", at), "bob", "bid fixed", at)
    assert done.status is AlertStatus.RESOLVED and done.acknowledged_by == "ana"
    assert (done.resolved_by, done.resolution_notes, done.resolution_minutes) == (
        "bob",
        "bid fixed",
        150.0,
    )
    with pytest.raises(AlertConflict):
        resolved(done, "ana", "again", at)
