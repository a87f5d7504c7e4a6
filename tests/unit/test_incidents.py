"""Incident groups across scans: the rule (in memory) and its DynamoDB store (in-process)."""

from __future__ import annotations

import datetime

import pytest

from tripwire.domain.alerts import Impact, Relation, RootCause, Severity
from tripwire.domain.entities import EntityType
from tripwire.domain.metrics import Interval
from tripwire.rootcause import GroupMember, IncidentBook, assign, group_id, onset_runs, period_key
from tripwire.rootcause.incidents import ordinal, shift, summarise
from tripwire.service.incidents import assign_and_record
from tripwire.store.incidents import IncidentStore

_PAUSE = "Inherited from campaign C1 (1 level up): impressions fell 97% across 5 of 5 keywords"


def _cause(root: str, relation: Relation = Relation.ANCESTOR) -> RootCause:
    kind = EntityType.CAMPAIGN if root.startswith("C") and "K" not in root else EntityType.KEYWORD
    sentence = _PAUSE if relation is Relation.ANCESTOR else f"Campaign {root} itself: paused"
    return RootCause(
        entity_id=root,
        entity_type=kind,
        relation=relation,
        hops=1,
        confidence=0.9,
        sentence=sentence,
    )


def _pause(day: str, keywords: int = 3, severity: Severity = Severity.HIGH) -> list[GroupMember]:
    """One day of campaign C1's pause: its keywords and the campaign itself alert."""
    members = [GroupMember(f"C1K{k}", day, severity, (_cause("C1"),)) for k in range(keywords)]
    return [*members, GroupMember("C1", day, Severity.LOW, (_cause("C1", Relation.SELF),))]


def test_a_three_day_incident_scanned_day_by_day_is_one_group() -> None:
    book = IncidentBook()
    ids = set()
    for day in ("2026-11-20", "2026-11-21", "2026-11-22"):
        ids |= set(
            book.add(
                _pause(day, severity=Severity.CRITICAL if day.endswith("21") else Severity.HIGH)
            ).values()
        )
    assert ids == {group_id("C1", "2026-11-20")}
    (group,) = book.groups()
    assert (group.first_period, group.last_period) == ("2026-11-20", "2026-11-22")
    assert (group.members, group.affected, group.severity) == (12, 4, Severity.CRITICAL)
    assert group.root_type is EntityType.CAMPAIGN
    # the campaign's own alert describes the incident
    assert group.summary == (
        "2026-11-20..2026-11-22: 12 alerts on 4 entities traced to campaign C1 (worst critical):"
        " paused"
    )


def test_a_redelivered_scan_lands_in_the_same_group_and_counts_nothing_twice() -> None:
    book = IncidentBook()
    first = book.add(_pause("2026-11-20"))
    again = book.add(_pause("2026-11-20"))
    assert first == again
    assert [(g.members, g.affected) for g in book.groups()] == [(4, 4)]


def test_a_quiet_day_keeps_the_group_two_open_a_new_one() -> None:
    book = IncidentBook()
    book.add(_pause("2026-11-20"))
    assert set(book.add(_pause("2026-11-22")).values()) == {group_id("C1", "2026-11-20")}
    assert set(book.add(_pause("2026-11-25")).values()) == {group_id("C1", "2026-11-25")}
    assert [g.first_period for g in book.groups()] == ["2026-11-25", "2026-11-20"]


def test_a_period_settled_late_joins_the_group_it_belongs_to() -> None:
    # day 20 is re-scanned (settled) on day 23, after days 21 and 22 opened the group
    book = IncidentBook()
    book.add(_pause("2026-11-21"))
    book.add(_pause("2026-11-22"))
    late = book.add([GroupMember("C1K9", "2026-11-20", Severity.MEDIUM, (_cause("C1"),))])
    assert set(late.values()) == {group_id("C1", "2026-11-21")}
    (group,) = book.groups()
    assert (group.first_period, group.members) == ("2026-11-20", 9)


def test_different_roots_are_different_groups() -> None:
    members = [*_pause("2026-11-20"), GroupMember("C2K1", "2026-11-20", Severity.LOW, ())]
    assignment = assign([], members)
    assert assignment.group_of[("C2K1", "2026-11-20")] == group_id("C2K1", "2026-11-20")
    assert len({b.group_id for b in assignment.batches}) == 2


def test_onsets_count_the_periods_an_entity_kept_alerting() -> None:
    alerting = {"2026-11-18": {"C1"}, "2026-11-19": {"C1", "K1"}, "2026-11-17": {"C1", "K1"}}
    runs = onset_runs(alerting, "2026-11-20", ["C1", "K1", "K2"])
    # C1 alerted the three days before (its anomaly began 2026-11-17); K1's run broke on the 18th
    assert runs.tolist() == [3, 1, 0]
    book = IncidentBook()
    book.add(_pause("2026-11-20"))
    assert book.onsets("2026-11-21", ["C1", "C1K0", "C2"]).tolist() == [1, 1, 0]


def test_periods_are_spelled_and_counted_per_interval() -> None:
    day = datetime.datetime(2026, 11, 20, 13, 0)
    assert period_key(day) == "2026-11-20"
    assert period_key(day, Interval.H1) == "2026-11-20T13:00:00"
    assert shift("2026-11-20T13:00:00", -2, Interval.H1) == "2026-11-20T11:00:00"
    assert ordinal("2026-11-21") - ordinal("2026-11-20") == 1
    assert shift("2026-03-01", -1) == "2026-02-28"


# -- the store, DynamoDB in-process ------------------------------------------------------------


@pytest.fixture
def store(moto_aws: None) -> IncidentStore:
    return IncidentStore()


def test_the_store_keeps_one_group_across_scans_and_redeliveries(store: IncidentStore) -> None:
    for day in ("2026-11-20", "2026-11-21", "2026-11-20", "2026-11-22", "2026-11-22"):
        ids = assign_and_record("t1", "p1", _pause(day), store=store)
        assert set(ids.values()) == {group_id("C1", "2026-11-20")}
    (group,) = store.groups("t1", "p1")
    assert (group.first_period, group.last_period) == ("2026-11-20", "2026-11-22")
    assert (group.members, group.affected, group.severity) == (12, 4, Severity.HIGH)
    assert group.summary.startswith("2026-11-20..2026-11-22: 12 alerts on 4 entities")
    assert store.get("t1", "p1", group.group_id) == group
    assert store.groups("t2", "p1") == []  # tenants never meet
    assert store.groups("t1", "p1", since="2026-11-23") == []
    assert store.alerting("t1", "p1", "2026-11-21", "2026-11-22") == {
        "2026-11-21": {"C1", "C1K0", "C1K1", "C1K2"},
        "2026-11-22": {"C1", "C1K0", "C1K1", "C1K2"},
    }
    before = store.alerting("t1", "p1", "2026-11-16", "2026-11-22")
    assert onset_runs(before, "2026-11-23", ["C1", "C9"]).tolist() == [3, 0]


def test_a_stale_writer_never_lowers_the_stored_counts(store: IncidentStore) -> None:
    store.record("t1", "p1", assign([], _pause("2026-11-20", keywords=5)).batches)
    # a concurrent delivery that derived the group before the other's members landed
    stale = summarise(assign([], _pause("2026-11-20", keywords=2)).batches)
    store._derive("t1#p1", stale)
    (group,) = store.groups("t1", "p1")
    assert (group.members, group.affected) == (6, 6)


# -- impact: the root's, summed over periods, never over nested members ----------------------


def _costly(day: str, keywords: dict[str, float], campaign: float | None) -> list[GroupMember]:
    """A day of C1's pause with what each alert cost (the campaign's includes its keywords')."""
    members = [
        GroupMember(k, day, Severity.HIGH, (_cause("C1"),), Impact(revenue_impact=v))
        for k, v in keywords.items()
    ]
    if campaign is not None:
        cause = RootCause(**{**_cause("C1", Relation.SELF).model_dump(), "entity_name": "Garden"})
        impact = Impact(revenue_impact=campaign, sales_at_risk=campaign, provisional=True)
        members.append(GroupMember("C1", day, Severity.LOW, (cause,), impact, "Garden"))
    return members


def test_an_incident_costs_its_roots_impact_not_the_sum_over_nested_members() -> None:
    book = IncidentBook()
    book.add(_costly("2026-11-20", {"C1K0": 60.0, "C1K1": 40.0}, campaign=100.0))
    (group,) = book.groups()
    assert group.impact is not None
    assert group.impact.revenue_impact == 100.0  # not 200: the keywords are inside C1
    assert group.impact.provisional
    assert group.root_label == "campaign 'Garden' (C1)"
    assert "traced to campaign 'Garden' (C1)" in group.summary


def test_a_day_the_root_did_not_alert_counts_its_largest_member_once() -> None:
    book = IncidentBook()
    book.add(_costly("2026-11-20", {"C1K0": 60.0, "C1K1": 40.0}, campaign=100.0))
    book.add(_costly("2026-11-21", {"C1K0": 30.0, "C1K1": 70.0}, campaign=None))
    (group,) = book.groups()
    assert group.impact is not None and group.impact.revenue_impact == 170.0


def test_the_store_keeps_the_incidents_impact_and_root_name(store: IncidentStore) -> None:
    assign_and_record("acme", "A1", _costly("2026-11-20", {"C1K0": 60.0}, campaign=100.0))
    assign_and_record("acme", "A1", _costly("2026-11-21", {"C1K0": 30.0, "C1K1": 70.0}, None))
    (group,) = store.groups("acme", "A1")
    assert group.impact is not None and group.impact.revenue_impact == 170.0
    assert group.root_name == "Garden"


def test_the_store_keeps_a_periods_largest_member_view_until_the_root_itself_alerts(
    store: IncidentStore,
) -> None:
    def cost() -> float:
        (group,) = store.groups("acme", "A1")
        return group.revenue_impact

    assign_and_record("acme", "A1", _costly("2026-11-20", {"C1K0": 30.0}, campaign=None))
    assign_and_record("acme", "A1", _costly("2026-11-20", {"C1K1": 70.0}, campaign=None))
    assert cost() == 70.0
    assign_and_record("acme", "A1", _costly("2026-11-20", {"C1K2": 20.0}, campaign=None))
    assert cost() == 70.0  # a later, smaller view does not lower it
    assign_and_record("acme", "A1", _costly("2026-11-20", {}, campaign=50.0))
    assert cost() == 50.0  # the root's own view wins: it holds its keywords' money
