"""The local stack's digest rules: the daily digest from 06:00 UTC, the weekly one on Mondays,
each once, with the events the deployed rules send."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tripwire.local.poller import DigestTicker
from tripwire.notify.digest import day_to_digest, is_weekly, week_to_digest

MONDAY = datetime(2026, 3, 16, tzinfo=UTC)


def ticker(start: datetime) -> tuple[DigestTicker, list[dict[str, Any]], list[datetime]]:
    now = [start]
    sent: list[dict[str, Any]] = []
    digests = DigestTicker(
        invoke_function=lambda name, event: sent.append(event) or {"name": name},
        clock=lambda: now[0],
    )
    return digests, sent, now


def test_daily_at_six_and_weekly_on_monday_each_once() -> None:
    digests, sent, now = ticker(MONDAY.replace(hour=5, minute=59))
    digests.tick()
    assert sent == []
    now[0] = MONDAY.replace(hour=6)
    digests.tick()
    daily, weekly = sent
    assert not is_weekly(daily) and day_to_digest(daily) == date(2026, 3, 15)
    assert is_weekly(weekly) and week_to_digest(weekly) == date(2026, 3, 9)
    now[0] = MONDAY.replace(hour=23)
    digests.tick()
    assert len(sent) == 2
    now[0] = MONDAY.replace(day=17, hour=6)  # Tuesday: the daily one only
    digests.tick()
    assert len(sent) == 3 and not is_weekly(sent[2])


def test_a_stack_started_after_six_waits_for_the_next_day() -> None:
    digests, sent, now = ticker(MONDAY.replace(hour=10))
    digests.tick()
    assert sent == []
    now[0] = MONDAY.replace(day=17, hour=6, minute=1)
    digests.tick()
    assert [day_to_digest(e) for e in sent] == [date(2026, 3, 16)]
