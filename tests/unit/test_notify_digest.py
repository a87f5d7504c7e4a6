"""Which day the digest covers, from the EventBridge event."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from tripwire.notify.digest import day_to_digest

EVENT = Path(__file__).resolve().parents[2] / "events" / "digest_schedule.json"


def test_the_schedule_digests_the_day_before_it_fired() -> None:
    assert day_to_digest(json.loads(EVENT.read_text())) == date(2026, 3, 14)


def test_a_hand_sent_event_names_its_day() -> None:
    event = {**json.loads(EVENT.read_text()), "detail": {"day": "2026-01-31"}}
    assert day_to_digest(event) == date(2026, 1, 31)
