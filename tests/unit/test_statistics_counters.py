"""What an alert adds to its profile's counters, and how a status change moves them."""

from __future__ import annotations

from datetime import UTC, datetime

from tripwire.domain import Alert, RootCause, Severity
from tripwire.domain.alerts import AlertStatus, with_resolution
from tripwire.store.statistics import (
    TOTAL,
    change,
    combine,
    contribution,
    day_entities_sk,
    update_actions,
)

PK = "acme#A1"
OPENED = Alert(
    alert_id="al-1",
    tenant_id="acme",
    profile_id="A1",
    entity_id="K1",
    entity_type="keyword",
    period=datetime(2026, 3, 1),
    score=0.99,
    threshold=0.9,
    severity=Severity.HIGH,
    root_causes=[
        RootCause(
            entity_id="C1",
            entity_type="campaign",
            relation="ancestor",
            hops=1,
            confidence=0.8,
            sentence="campaign C1 ran out of budget",
        )
    ],
    run_id="run-1",
    created_at=datetime(2026, 3, 2, 6, 0),
)


def test_a_new_alert_counts_in_the_total_its_day_and_its_entity() -> None:
    shard = day_entities_sk(OPENED.period.date(), "K1")
    assert shard.startswith("DAY#2026-03-01#") and len(shard) == len("DAY#2026-03-01#00")
    assert contribution(OPENED) == {
        (PK, TOTAL): {"n#open#high": 1},
        (PK, "DAY#2026-03-01"): {"raised#high": 1},
        (PK, shard): {"e#keyword#K1": 1},
        (PK, "ENTITY#K1"): {"alerts": 1, "sev#high": 1, "cause#ancestor#campaign#C1": 1},
    }


def test_acknowledging_moves_status_and_adds_the_time_to_acknowledge() -> None:
    at = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    acked = OPENED.model_copy(
        update={"status": AlertStatus.ACKNOWLEDGED, "acknowledged_by": "ana", "acknowledged_at": at}
    )
    assert change(OPENED, acked) == {
        (PK, TOTAL): {"n#open#high": -1, "n#acknowledged#high": 1, "ack_n": 1, "ack_minutes": 90},
        (PK, "DAY#2026-03-02"): {"acknowledged": 1},
    }


def test_resolving_after_acknowledging_keeps_the_acknowledgement_counted_once() -> None:
    acked = OPENED.model_copy(
        update={
            "status": AlertStatus.ACKNOWLEDGED,
            "acknowledged_by": "ana",
            "acknowledged_at": datetime(2026, 3, 2, 7, 0),
        }
    )
    resolved = with_resolution(acked, "bob", "fixed", datetime(2026, 3, 3, 6, 0))
    assert change(acked, resolved) == {
        (PK, TOTAL): {
            "n#acknowledged#high": -1,
            "n#resolved#high": 1,
            "resolve_n": 1,
            "resolve_minutes": 1440,
        },
        (PK, "DAY#2026-03-03"): {"resolved": 1},
    }


def test_no_change_moves_nothing_and_a_sum_drops_zeros() -> None:
    assert change(OPENED, OPENED) == {}
    assert combine((contribution(OPENED), 1.0), (contribution(OPENED), -1.0)) == {}
    twice = combine((contribution(OPENED), 1.0), (contribution(OPENED), 1.0))
    assert twice[(PK, TOTAL)] == {"n#open#high": 2}


def test_counter_items_are_moved_with_add_only() -> None:
    actions = update_actions({(PK, TOTAL): {"ack_n": 1, "ack_minutes": 90.5}})
    update = actions[0]["Update"]
    assert update["Key"] == {"pk": {"S": PK}, "sk": {"S": TOTAL}}
    assert update["UpdateExpression"] == "ADD #a0 :v0, #a1 :v1"
    assert update["ExpressionAttributeNames"] == {"#a0": "ack_n", "#a1": "ack_minutes"}
    assert update["ExpressionAttributeValues"] == {":v0": {"N": "1"}, ":v1": {"N": "90.5"}}
