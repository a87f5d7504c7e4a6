"""What goes on the alerts topic: one message per alert group, and the daily digest.

A group is the alerts sharing a ``group_id`` (one root cause in one period; an alert
without a group is a group of its own). Its message is described by its *lead* alert —
the root entity's own alert if it is in the group, else the worst one — and carries, as
text a person reads and as fields a program reads: what happened, where, how bad, the
root-cause sentence, the top explanation and a link to the alert.

Message attributes (tenant, profile, severity, kind) let subscribers filter without
reading the body: the e-mail subscription takes ``severity = critical`` only.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field

from tripwire.domain.alerts import Alert, Attribution, Impact, Severity, impact_text, total_impact

LINK_ENV = "TRIPWIRE_DASHBOARD_URL"  # the dashboard: CloudFront in AWS, <api>/app/ locally
EMAIL_ENV = "TRIPWIRE_EMAIL_SUBSCRIBED"  # "1" when the topic has the e-mail subscription
EMAIL_FILTER = {"severity": ["critical"]}  # its filter policy (infra and the local stack)
MAX_LISTED_ALERTS = 50  # keeps a message far below SNS's 256 KB


class GroupMessage(BaseModel):
    kind: Literal["alert_group"] = "alert_group"
    tenant_id: str
    profile_id: str
    group_id: str
    period: str
    severity: Severity  # the group's worst
    what: str
    where: str
    how_bad: str
    root_cause: str | None
    top_explanation: str | None
    link: str
    alert_id: str  # the lead alert
    entity_id: str
    entity_type: str
    score: float
    alert_count: int
    alert_ids: list[str] = Field(default_factory=list)
    entity_name: str = ""
    impact: Impact | None = None  # the root's own, else the largest member's (they nest)
    impact_text: str = ""  # "wasted spend $1,234 · sales at risk $5,678 (provisional)"

    @property
    def revenue_impact(self) -> float:
        return self.impact.revenue_impact if self.impact else 0.0


class DigestCounts(BaseModel):
    """One profile's day: what was raised, what is still open, how fast things got fixed."""

    kind: Literal["digest"] = "digest"
    tenant_id: str
    profile_id: str
    day: str  # ISO date the digest covers (yesterday, UTC)
    raised: dict[str, int]  # alerts raised that day, by severity (every severity listed)
    raised_total: int
    unresolved_critical: int  # critical alerts still open now, whenever raised
    resolved: int  # alerts resolved that day
    mean_minutes_to_resolve: float | None  # over those; None when nothing was resolved
    # incidents running that day, costliest first: "critical · campaign 'X' (C1) · …"
    top_incidents: list[str] = Field(default_factory=list)


class WeeklyDigest(BaseModel):
    """One profile's week (Monday to Sunday, UTC) against the week before."""

    kind: Literal["weekly_digest"] = "weekly_digest"
    tenant_id: str
    profile_id: str
    week: str  # ISO date of the Monday the week starts
    raised: int  # alerts raised for the week's periods
    raised_before: int  # … for the week before's
    incidents: int  # incidents that started in the week
    incidents_before: int
    resolved: int  # alerts resolved in the week
    mttr_minutes: float | None  # mean minutes from raised to resolved, over those; None: none
    mttr_before: float | None
    # incidents running in the week, costliest first: "critical · campaign 'X' (C1) · …"
    top_incidents: list[str] = Field(default_factory=list)


def trend(now: float | None, before: float | None) -> str:
    """ "12 (▲ 50% on 8)", "0 (▼ 100% on 3)", "5 (new)": a week against the one before."""
    if now is None:
        return "—"
    text = f"{now:,.0f}"
    if before is None or before == 0:
        return text + (" (new)" if now and before == 0 else "")
    change = (now - before) / before
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    return f"{text} ({arrow} {abs(change):.0%} on {before:,.0f})"


class ConnectionLost(BaseModel):
    """A profile's data source stopped working for good (a revoked Amazon Ads refresh
    token): nothing new arrives until someone connects it again. Sent once per loss."""

    kind: Literal["connection_lost"] = "connection_lost"
    tenant_id: str
    profile_id: str
    provider: str
    reason: str
    action: str


TopicMessage = GroupMessage | DigestCounts | WeeklyDigest | ConnectionLost


def group_key(alert: Alert) -> str:
    return alert.group_id or alert.alert_id


def groups_of(alerts: Iterable[Alert]) -> dict[tuple[str, str], list[Alert]]:
    """Alerts by (tenant, group), each group's alerts in a stable order."""
    groups: dict[tuple[str, str], list[Alert]] = defaultdict(list)
    for alert in alerts:
        groups[(alert.tenant_id, group_key(alert))].append(alert)
    for members in groups.values():
        members.sort(key=lambda a: a.alert_id)
    return dict(groups)


def lead_alert(members: list[Alert]) -> Alert:
    """The alert that describes the group: the root cause's own, else the worst."""
    worst = max(members, key=lambda a: (a.severity.rank, a.score, a.alert_id))
    if worst.root_causes:
        root = worst.root_causes[0].entity_id
        own = [a for a in members if a.entity_id == root]
        if own:
            return max(own, key=lambda a: (a.severity.rank, a.score))
    return worst


def group_impact(members: list[Alert], lead: Alert) -> Impact | None:
    """The group's impact summed over its periods: in each, its root's own alert's, else its
    largest member's — a keyword's money is inside its campaign's, so a sum over members
    would count it twice."""
    root = lead.root_causes[0].entity_id if lead.root_causes else lead.entity_id
    by_period: dict[datetime, list[Alert]] = defaultdict(list)
    for alert in members:
        if alert.impact is not None:
            by_period[alert.period].append(alert)
    picked = []
    for alerts in by_period.values():
        pool = [a for a in alerts if a.entity_id == root] or alerts
        picked.append(max(pool, key=lambda a: a.revenue_impact).impact)
    return total_impact(i for i in picked if i is not None)


def top_attribution(alert: Alert) -> Attribution | None:
    if not alert.explanation:
        return None
    return max(alert.explanation, key=lambda a: abs(a.contribution))


def explanation_text(alert: Alert) -> str | None:
    top = top_attribution(alert)
    if top is None:
        return None
    total = sum(abs(a.contribution) for a in alert.explanation) or 1.0
    share = abs(top.contribution) / total
    return (
        f"{top.feature} was {_number(top.actual)} against an expected {_number(top.expected)}"
        f" ({top.direction.value} normal; {share:.0%} of the anomaly score)"
    )


def alert_link(alert_id: str, base: str | None = None) -> str:
    """The dashboard's view of the alert (a browser has no token for the API itself)."""
    root = (base if base is not None else os.environ.get(LINK_ENV, "")).rstrip("/")
    return f"{root}/#/alerts/{quote(alert_id, safe='')}"


def group_message(members: list[Alert], *, link_base: str | None = None) -> GroupMessage:
    lead = lead_alert(members)
    worst = max((a.severity for a in members), key=lambda s: s.rank)
    top = top_attribution(lead)
    others = len(members) - 1
    what = f"{top.feature} {top.direction.value} normal" if top else "anomaly"
    what += f" on {lead.label}"
    if others:
        what += f" and {others} related alert{'s' if others != 1 else ''}"
    period = lead.period.date().isoformat() if lead.period.hour == 0 else lead.period.isoformat()
    impact = group_impact(members, lead)
    cost = impact_text(impact)
    return GroupMessage(
        tenant_id=lead.tenant_id,
        profile_id=lead.profile_id,
        group_id=group_key(lead),
        period=period,
        severity=worst,
        what=what,
        where=f"profile {lead.profile_id} · {lead.label} · {period}",
        how_bad=(
            f"{worst.value} · score {lead.score:.6f} · "
            f"{len(members)} alert{'s' if len(members) != 1 else ''}"
        ),
        root_cause=lead.root_causes[0].sentence if lead.root_causes else None,
        top_explanation=explanation_text(lead),
        link=alert_link(lead.alert_id, link_base),
        alert_id=lead.alert_id,
        entity_id=lead.entity_id,
        entity_type=lead.entity_type.value,
        score=lead.score,
        alert_count=len(members),
        alert_ids=[a.alert_id for a in members][:MAX_LISTED_ALERTS],
        entity_name=lead.entity_name,
        impact=impact,
        impact_text=cost,
    )


def group_messages(alerts: Iterable[Alert], *, link_base: str | None = None) -> list[GroupMessage]:
    """One message per group among ``alerts``, costliest first, then worst."""
    messages = [group_message(m, link_base=link_base) for m in groups_of(alerts).values()]
    messages.sort(key=lambda m: (-m.revenue_impact, -m.severity.rank, m.period, m.group_id))
    return messages


def attributes(message: TopicMessage) -> dict[str, dict[str, str]]:
    """SNS message attributes subscribers filter on."""
    values = {"kind": message.kind, "tenant": message.tenant_id, "profile": message.profile_id}
    if isinstance(message, GroupMessage):
        values["severity"] = message.severity.value
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}


def mailed(message: TopicMessage) -> bool:
    """Does the e-mail subscription take this message (``EMAIL_FILTER`` on its attributes)?"""
    if os.environ.get(EMAIL_ENV) != "1":
        return False
    values = {k: v["StringValue"] for k, v in attributes(message).items()}
    return all(values.get(name) in allowed for name, allowed in EMAIL_FILTER.items())


def subject(message: TopicMessage) -> str:
    """The e-mail subject (SNS: ASCII, under 100 characters)."""
    if isinstance(message, GroupMessage):
        text = f"[Tripwire {message.severity.value}] {message.what}"
        impact = message.impact
        if impact is not None and impact.revenue_impact >= 0.5:  # the cost first, in ASCII
            cost = f"{impact.currency} {impact.revenue_impact:,.0f}"
            text = f"[Tripwire {message.severity.value}] {cost} - {message.what}"
    elif isinstance(message, ConnectionLost):
        text = f"[Tripwire] {message.provider} disconnected: profile {message.profile_id}"
    elif isinstance(message, WeeklyDigest):
        text = f"[Tripwire] Weekly digest {message.profile_id} week of {message.week}"
    else:
        text = f"[Tripwire] Daily digest {message.profile_id} {message.day}"
    return text.encode("ascii", "replace").decode()[:99]


def parse(body: str | dict[str, Any]) -> TopicMessage:
    """A message body from the topic, back into its model (kind decides which)."""
    data = json.loads(body) if isinstance(body, str) else body
    if data.get("kind") == "digest":
        return DigestCounts.model_validate(data)
    if data.get("kind") == "weekly_digest":
        return WeeklyDigest.model_validate(data)
    if data.get("kind") == "connection_lost":
        return ConnectionLost.model_validate(data)
    return GroupMessage.model_validate(data)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
