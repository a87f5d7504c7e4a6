"""What a sync pulls (``service.ads_sync``): the days, the reports they need, the request."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from tripwire.domain.connections import Connection
from tripwire.service.ads_sync import HISTORY_DAYS, ConnectRequest, chunks, days_to_pull

AS_OF = dt.date(2026, 6, 15)
YESTERDAY = AS_OF - dt.timedelta(days=1)


def _connection(**changes: object) -> Connection:
    base = Connection(
        tenant_id="t",
        profile_id="p",
        ads_profile_id="123",
        secret_id="tripwire/amazon-ads/t/p",
        connected_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    )
    return base.model_copy(update=changes)


def test_the_first_sync_reaches_back_the_history_days() -> None:
    first, last = days_to_pull(_connection(), AS_OF)
    assert last == YESTERDAY and (last - first).days + 1 == HISTORY_DAYS


def test_a_daily_sync_re_pulls_the_lookback_days() -> None:
    synced = _connection(last_sync_last=YESTERDAY - dt.timedelta(days=1), lookback_days=3)
    assert days_to_pull(synced, AS_OF) == (YESTERDAY - dt.timedelta(days=2), YESTERDAY)
    longer = synced.model_copy(update={"lookback_days": 14})
    assert days_to_pull(longer, AS_OF)[0] == YESTERDAY - dt.timedelta(days=13)


def test_missed_days_are_caught_up_with_the_days_the_last_sync_left_provisional() -> None:
    # The last sync (lookback 3) ran 10 days ago and pulled up to Y-10: Y-11 and Y-10 had
    # been pulled at ages 2 and 1 only, so they come again with the missed days.
    stale = _connection(last_sync_last=YESTERDAY - dt.timedelta(days=10))
    assert days_to_pull(stale, AS_OF) == (YESTERDAY - dt.timedelta(days=11), YESTERDAY)
    # One missed day: Y-3 was pulled at age 2 only, so it is pulled once more.
    skipped = _connection(last_sync_last=YESTERDAY - dt.timedelta(days=2))
    assert days_to_pull(skipped, AS_OF) == (YESTERDAY - dt.timedelta(days=3), YESTERDAY)
    # Daily syncs: yesterday's sync ended at Y-1, so the window is just the lookback.
    daily = _connection(last_sync_last=YESTERDAY - dt.timedelta(days=1))
    assert days_to_pull(daily, AS_OF) == (YESTERDAY - dt.timedelta(days=2), YESTERDAY)
    ancient = _connection(last_sync_last=YESTERDAY - dt.timedelta(days=400))
    first, _ = days_to_pull(ancient, AS_OF)
    assert (YESTERDAY - first).days + 1 == HISTORY_DAYS


def test_the_first_sync_may_reach_back_to_amazons_retention() -> None:
    first, last = days_to_pull(_connection(history_days=95), AS_OF)
    assert (last - first).days + 1 == 95
    assert len(chunks(first, last)) == 4  # 31 + 31 + 31 + 2


def test_reports_span_at_most_31_days() -> None:
    first = dt.date(2026, 1, 1)
    parts = chunks(first, first + dt.timedelta(days=61))
    assert [(a.isoformat(), b.isoformat()) for a, b in parts] == [
        ("2026-01-01", "2026-01-31"),
        ("2026-02-01", "2026-03-03"),
    ]
    assert chunks(first, first) == [(first, first)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lookback_days": 15}, "lookback_days"),
        ({"lookback_days": 0}, "lookback_days"),
        ({"history_days": 96}, "history_days"),
        ({"region": "SA"}, "region"),
        ({"client_id": "has space"}, "client_id"),
        ({"refresh_token": ""}, "refresh_token"),
        ({"ads_profile_id": "12/34"}, "ads_profile_id"),
        ({"password": "x"}, "password"),
    ],
)
def test_a_bad_request_names_its_field(change: dict[str, object], field: str) -> None:
    body = {"client_id": "c", "client_secret": "s", "refresh_token": "r", "ads_profile_id": "1"}
    with pytest.raises(ValidationError) as raised:
        ConnectRequest.model_validate({**body, **change})
    assert [e["loc"][0] for e in raised.value.errors()] == [field]


def test_secrets_never_print() -> None:
    request = ConnectRequest(
        client_id="c", client_secret="s3cr3t", refresh_token="Atzr|r", ads_profile_id="1"
    )
    assert "s3cr3t" not in repr(request) and "Atzr|r" not in str(request)
    assert "s3cr3t" not in request.model_dump_json()
