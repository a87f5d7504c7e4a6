"""Alert groups → topic messages and Slack Block Kit (no AWS)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from tripwire.domain.alerts import (
    Alert,
    Attribution,
    Direction,
    Impact,
    Relation,
    RootCause,
    Severity,
)
from tripwire.domain.entities import EntityType
from tripwire.notify.messages import GroupMessage, attributes, group_messages, parse, subject
from tripwire.notify.slack import payload, render_text

EVENTS = Path(__file__).resolve().parents[2] / "events"


def sns_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "notifier_sns.json").read_text())
    return event


def _alert(n: int, entity: str, severity: Severity, group: str | None, root: str = "C1") -> Alert:
    cause = RootCause(
        entity_id=root,
        entity_type=EntityType.CAMPAIGN,
        relation=Relation.ANCESTOR if entity != root else Relation.SELF,
        hops=0 if entity == root else 1,
        confidence=0.8,
        sentence=f"Campaign {root} ran out of budget",
    )
    return Alert(
        alert_id=f"al-{n}",
        tenant_id="acme",
        profile_id="A1",
        entity_id=entity,
        entity_type=EntityType.CAMPAIGN if entity == root else EntityType.KEYWORD,
        period=datetime(2026, 3, 14),
        score=0.9999 + n * 1e-6,
        threshold=0.999,
        severity=severity,
        explanation=[
            Attribution(
                feature="clicks", contribution=-0.1, direction=Direction.BELOW, expected=9, actual=1
            ),
            Attribution(
                feature="impressions",
                contribution=0.7,
                direction=Direction.BELOW,
                expected=1000,
                actual=20,
            ),
        ],
        root_causes=[cause],
        group_id=group,
        run_id="run-1",
        created_at=datetime(2026, 3, 15, 6),
    )


def test_one_message_per_group_described_by_the_root_causes_own_alert() -> None:
    alerts = [
        _alert(1, "K1", Severity.CRITICAL, "G-a"),
        _alert(2, "C1", Severity.MEDIUM, "G-a"),
        _alert(3, "K2", Severity.LOW, "G-a"),
        _alert(4, "K9", Severity.LOW, None),  # no group: a group of its own
    ]
    messages = group_messages(alerts, link_base="https://tw.example.com/")
    assert [m.group_id for m in messages] == ["G-a", "al-4"]  # worst first
    group = messages[0]
    assert group.severity is Severity.CRITICAL  # the group's worst, not the lead's
    assert group.alert_id == "al-2" and group.entity_id == "C1"  # the root's own alert leads
    assert group.alert_count == 3 and sorted(group.alert_ids) == ["al-1", "al-2", "al-3"]
    assert group.what == "impressions below normal on campaign C1 and 2 related alerts"
    assert group.root_cause == "Campaign C1 ran out of budget"
    assert group.top_explanation is not None
    assert group.top_explanation.startswith("impressions was 20.00 against an expected 1,000")
    assert "88% of the anomaly score" in group.top_explanation  # |0.7| / (0.7 + 0.1)
    assert group.link == "https://tw.example.com/#/alerts/al-2"


def test_without_the_roots_alert_the_worst_member_leads() -> None:
    members = [_alert(1, "K1", Severity.LOW, "G"), _alert(2, "K2", Severity.HIGH, "G")]
    (message,) = group_messages(members)
    assert message.alert_id == "al-2" and message.severity is Severity.HIGH


def test_attributes_let_subscribers_filter_on_tenant_profile_and_severity() -> None:
    (message,) = group_messages([_alert(1, "K1", Severity.CRITICAL, "G")])
    assert attributes(message) == {
        "kind": {"DataType": "String", "StringValue": "alert_group"},
        "tenant": {"DataType": "String", "StringValue": "acme"},
        "profile": {"DataType": "String", "StringValue": "A1"},
        "severity": {"DataType": "String", "StringValue": "critical"},
    }
    assert subject(message).startswith("[Tripwire critical] impressions below normal")
    assert len(subject(message)) < 100


def test_sample_sns_event_renders_every_part_slack_must_show() -> None:
    record = sns_event()["Records"][0]["Sns"]
    message = parse(record["Message"])
    assert isinstance(message, GroupMessage)
    assert record["MessageAttributes"]["severity"]["Value"] == message.severity.value
    body = payload(message)
    blocks = body["blocks"]
    assert blocks[0]["type"] == "header" and message.what in blocks[0]["text"]["text"]
    text = json.dumps(blocks)
    for part in (message.where, message.how_bad, message.root_cause, message.top_explanation):
        assert part is not None and json.dumps(part)[1:-1] in text
    (button,) = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert button["url"] == message.link == "https://tripwire.example.com/#/alerts/al-sample-1"
    assert body["text"].startswith("[critical]")  # the notification line


def test_rendered_text_reads_like_the_slack_message() -> None:
    message = parse(sns_event()["Records"][0]["Sns"]["Message"])
    shown = render_text(payload(message))
    assert shown.splitlines()[0].startswith("== :red_circle: impressions below normal on campaign")
    assert "*Root cause*\nCampaign C-2001 ran out of budget" in shown
    assert "[Open alert] https://tripwire.example.com/#/alerts/al-sample-1" in shown


def test_blocks_stay_within_slack_limits() -> None:
    alert = _alert(1, "K1", Severity.LOW, "G")
    long = alert.root_causes[0].model_copy(update={"sentence": "x" * 5000})
    (message,) = group_messages([alert.model_copy(update={"root_causes": [long]})])
    for block in payload(message)["blocks"]:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150


def test_user_text_cannot_ping_a_channel() -> None:
    alert = _alert(1, "K1", Severity.LOW, "G")
    cause = alert.root_causes[0].model_copy(update={"sentence": "Campaign <!channel> & co"})
    (message,) = group_messages([alert.model_copy(update={"root_causes": [cause]})])
    body = payload(message)
    assert "<!channel>" not in json.dumps(body["blocks"])
    assert "&lt;!channel&gt; &amp; co" in json.dumps(body["blocks"])
    assert "*Root cause*\nCampaign <!channel> & co" in render_text(body)  # shown as typed


# -- names and impact: what a person reads first ------------------------------------------


def _costly(n: int, entity: str, group: str, revenue: float, name: str = "") -> Alert:
    impact = Impact(currency="EUR", revenue_impact=revenue, sales_at_risk=revenue, provisional=True)
    alert = _alert(n, entity, Severity.HIGH, group, root=entity)
    return alert.model_copy(update={"impact": impact, "entity_name": name})


def test_groups_rank_by_impact_before_severity_and_read_by_name() -> None:
    cheap = _alert(1, "C1", Severity.CRITICAL, "G-cheap").model_copy(
        update={"impact": Impact(currency="EUR", revenue_impact=5.0, wasted_spend=5.0)}
    )
    costly = _costly(2, "C2", "G-costly", 5678.0, "Garden | SP | Broad | Tools")
    messages = group_messages([cheap, costly])
    assert [m.group_id for m in messages] == ["G-costly", "G-cheap"]
    top = messages[0]
    assert "campaign 'Garden | SP | Broad | Tools' (C2)" in top.what
    assert "campaign 'Garden | SP | Broad | Tools' (C2)" in top.where
    assert top.impact_text == "sales at risk €5,678 (provisional)"
    assert subject(top).startswith("[Tripwire high] EUR 5,678 - impressions below normal")
    assert subject(top).isascii()
    text = render_text(payload(top))
    assert "Impact" in text and "sales at risk €5,678 (provisional)" in text
    assert "Garden | SP | Broad | Tools" in text


def test_a_groups_impact_is_its_roots_not_the_sum_over_its_nested_members() -> None:
    campaign = _costly(1, "C1", "G-a", 100.0)
    keywords = [
        _alert(n, f"K{n}", Severity.LOW, "G-a").model_copy(
            update={"impact": Impact(revenue_impact=60.0, sales_at_risk=60.0)}
        )
        for n in (2, 3)
    ]
    (message,) = group_messages([campaign, *keywords])
    assert message.impact is not None and message.impact.revenue_impact == 100.0


def test_a_group_over_several_days_adds_up_its_days() -> None:
    first = _costly(1, "C1", "G-a", 100.0)
    second = _costly(2, "C1", "G-a", 40.0).model_copy(update={"period": datetime(2026, 3, 15)})
    keyword = _alert(3, "K1", Severity.LOW, "G-a").model_copy(
        update={"impact": Impact(currency="EUR", revenue_impact=60.0, sales_at_risk=60.0)}
    )
    (message,) = group_messages([first, second, keyword])
    assert message.impact is not None and message.impact.revenue_impact == 140.0
