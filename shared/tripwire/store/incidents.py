"""The incidents table: a profile's incident groups, persisted across scans.

Items (keys in tables.py), partition ``{tenant}#{profile}``:

- ``G#{group}`` the group: root entity and type, the set of periods it spans, and the
  fields derived from its members (first/last period, worst severity, member and affected
  counts, cause sentence, summary);
- ``M#{period}#{group}`` its member entities in one period, as a string set with the
  severities seen, so ``ADD`` makes a redelivered scan a no-op.

``record`` writes members first (set unions), then the group's period set, then re-derives
the group from all its member items and stores the result only if it does not count fewer
members than what is stored (``members <= :n``): retries and concurrent deliveries converge
and no count ever goes down or doubles. The grouping rule itself is
``tripwire.rootcause.incidents.assign`` (``tripwire.service.incidents`` applies it).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from tripwire.domain.alerts import Impact, Severity
from tripwire.domain.entities import EntityType
from tripwire.domain.incidents import GroupBatch, IncidentGroup, summarise
from tripwire.store import keys
from tripwire.store.batch import Item, batch_get, query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.tables import INCIDENTS

_GROUP, _MEMBERS = "G", "M"


def group_sk(group_id: str) -> str:
    return f"{_GROUP}{keys.SEP}{group_id}"


def members_sk(period: str, group_id: str) -> str:
    return f"{_MEMBERS}{keys.SEP}{period}{keys.SEP}{group_id}"


def _expires(period: str) -> int:
    last = datetime.datetime.fromisoformat(period).replace(tzinfo=datetime.UTC)
    return int((last + datetime.timedelta(days=INCIDENTS.ttl_days or 90)).timestamp())


class IncidentStore(DynamoStore):
    # -- reads ----------------------------------------------------------------------------

    def groups(
        self, tenant: str, profile: str, *, since: str | None = None, limit: int | None = None
    ) -> list[IncidentGroup]:
        """The profile's groups, newest last period first, worst first; ``since``: only
        groups still running at or after that period."""
        params: dict[str, Any] = {}
        values: dict[str, Any] = {
            ":pk": {"S": keys.profile_pk(tenant, profile)},
            ":g": {"S": f"{_GROUP}{keys.SEP}"},
        }
        if since is not None:
            params["FilterExpression"] = "attribute_not_exists(#l) OR #l >= :s"
            params["ExpressionAttributeNames"] = {"#l": "last_period"}
            values[":s"] = {"S": since}
        items = query_all(
            self._client,
            TableName=INCIDENTS.name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :g)",
            ExpressionAttributeValues=values,
            **params,
        )
        found = sorted(
            (_group(item) for item in items),
            key=lambda g: (g.last_period, g.severity.rank, g.members),
            reverse=True,
        )
        return found[:limit] if limit is not None else found

    def get(self, tenant: str, profile: str, group_id: str) -> IncidentGroup | None:
        item = self._client.get_item(
            TableName=INCIDENTS.name,
            Key={"pk": {"S": keys.profile_pk(tenant, profile)}, "sk": {"S": group_sk(group_id)}},
        ).get("Item")
        return _group(item) if item else None

    def alerting(self, tenant: str, profile: str, first: str, last: str) -> dict[str, set[str]]:
        """Period → entities with an alert in it, for the periods [first, last]."""
        items = query_all(
            self._client,
            TableName=INCIDENTS.name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":pk": {"S": keys.profile_pk(tenant, profile)},
                ":a": {"S": f"{_MEMBERS}{keys.SEP}{first}"},
                ":b": {"S": f"{_MEMBERS}{keys.SEP}{last}{keys.SEP}~"},
            },
            ProjectionExpression="#p, #e",
            ExpressionAttributeNames={"#p": "period", "#e": "entities"},
        )
        out: dict[str, set[str]] = {}
        for item in items:
            out.setdefault(item["period"]["S"], set()).update(item["entities"]["SS"])
        return out

    # -- writes ---------------------------------------------------------------------------

    def record(
        self, tenant: str, profile: str, batches: Sequence[GroupBatch]
    ) -> list[IncidentGroup]:
        """Add the batches to their groups; returns the touched groups as now stored."""
        pk = keys.profile_pk(tenant, profile)
        for batch in batches:
            self._add_members(pk, batch)
        periods: dict[str, set[str]] = {}
        for gid, batch in {b.group_id: b for b in batches}.items():
            periods[gid] = self._add_periods(
                pk, batch, {b.period for b in batches if b.group_id == gid}
            )
        return self._rederive(pk, periods)

    def restate(
        self, tenant: str, profile: str, group_id: str, period: str, root: str, impact: Impact
    ) -> IncidentGroup | None:
        """The settled impact of a period in which the group's root itself alerted, then the
        group re-derived; None (nothing changed) when ``root`` is not that group's root."""
        pk = keys.profile_pk(tenant, profile)
        key = {"pk": {"S": pk}, "sk": {"S": members_sk(period, group_id)}}
        current = self._client.get_item(TableName=INCIDENTS.name, Key=key, ConsistentRead=True)
        if current.get("Item", {}).get("root_entity", {}).get("S") != root:
            return None
        if not self._set_impact(key, impact, root=True):
            return None  # the root did not alert in that period: its members' view stands
        head = self._client.get_item(
            TableName=INCIDENTS.name,
            Key={"pk": {"S": pk}, "sk": {"S": group_sk(group_id)}},
            ConsistentRead=True,
        ).get("Item", {})
        spans = set(head.get("periods", {}).get("SS", [])) | {period}
        return next(iter(self._rederive(pk, {group_id: spans})), None)

    def _rederive(self, pk: str, periods: Mapping[str, set[str]]) -> list[IncidentGroup]:
        """Each group's fields from all its member items, stored."""
        wanted = [
            {"pk": {"S": pk}, "sk": {"S": members_sk(p, gid)}}
            for gid, spans in periods.items()
            for p in sorted(spans)
        ]
        by_group: dict[str, list[GroupBatch]] = {}
        for item in batch_get(self._client, INCIDENTS.name, wanted, ConsistentRead=True):
            by_group.setdefault(item["group_id"]["S"], []).append(_batch(item))
        return [self._derive(pk, summarise(found)) for found in by_group.values()]

    def _add_members(self, pk: str, batch: GroupBatch) -> None:
        values: dict[str, Any] = {
            ":e": {"SS": sorted(batch.entities)},
            ":s": {"SS": [batch.severity.value]},
            ":g": {"S": batch.group_id},
            ":r": {"S": batch.root_entity},
            ":p": {"S": batch.period},
            ":c": {"S": batch.cause},
            ":x": {"N": str(_expires(batch.period))},
        }
        # the root's own alert describes the incident best: it overrides another's view
        fields = {"group_id": ":g", "root_entity": ":r", "period": ":p", "expires_at": ":x"}
        if batch.root_type is not None:
            fields["root_type"] = ":rt"
            values[":rt"] = {"S": batch.root_type.value}
        if batch.root_alerted:
            fields["described"] = ":t"
            values[":t"] = {"BOOL": True}
        if batch.root_name:
            fields["root_name"] = ":rn"
            values[":rn"] = {"S": batch.root_name}
        sets = ", ".join(f"#{name} = {value}" for name, value in fields.items())
        # the root's own alert describes the incident best: it overrides another's view
        cause = ":c" if batch.root_alerted else "if_not_exists(#cause, :c)"
        names = {f"#{n}": n for n in [*fields, "cause", "entities", "severities"]}
        key = {"pk": {"S": pk}, "sk": {"S": members_sk(batch.period, batch.group_id)}}
        self._client.update_item(
            TableName=INCIDENTS.name,
            Key=key,
            UpdateExpression=f"ADD #entities :e, #severities :s SET {sets}, #cause = {cause}",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        if batch.impact is not None:
            self._set_impact(key, batch.impact, root=batch.root_alerted)

    def _set_impact(self, key: Mapping[str, Any], impact: Impact, *, root: bool) -> bool:
        """A period's impact: the root's own always wins; without it, the largest seen."""
        condition = (
            "#described = :t"
            if root
            else "attribute_not_exists(#described) AND "
            "(attribute_not_exists(#revenue) OR #revenue < :v)"
        )
        try:
            self._client.update_item(
                TableName=INCIDENTS.name,
                Key=dict(key),
                UpdateExpression="SET #impact = :i, #revenue = :v",
                ConditionExpression=condition,
                ExpressionAttributeNames={
                    "#impact": "impact",
                    "#revenue": "revenue_impact",
                    "#described": "described",
                },
                ExpressionAttributeValues={
                    ":i": {"S": impact.model_dump_json()},
                    ":v": {"N": repr(float(impact.revenue_impact))},
                    **({":t": {"BOOL": True}} if root else {}),
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _add_periods(self, pk: str, batch: GroupBatch, periods: set[str]) -> set[str]:
        values: dict[str, Any] = {
            ":p": {"SS": sorted(periods)},
            ":g": {"S": batch.group_id},
            ":r": {"S": batch.root_entity},
        }
        sets = "#group_id = :g, #root_entity = :r"
        names = {"#periods": "periods", "#group_id": "group_id", "#root_entity": "root_entity"}
        if batch.root_type is not None:
            sets += ", #root_type = :rt"
            names["#root_type"] = "root_type"
            values[":rt"] = {"S": batch.root_type.value}
        response = self._client.update_item(
            TableName=INCIDENTS.name,
            Key={"pk": {"S": pk}, "sk": {"S": group_sk(batch.group_id)}},
            UpdateExpression=f"ADD #periods :p SET {sets}",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return set(response["Attributes"]["periods"]["SS"])

    def _derive(self, pk: str, group: IncidentGroup) -> IncidentGroup:
        fields: dict[str, Any] = {
            "first_period": {"S": group.first_period},
            "last_period": {"S": group.last_period},
            "severity": {"S": group.severity.value},
            "members": {"N": str(group.members)},
            "affected": {"N": str(group.affected)},
            "cause": {"S": group.cause},
            "summary": {"S": group.summary},
            "root_name": {"S": group.root_name},
            "impact": {"S": group.impact.model_dump_json() if group.impact else ""},
            "expires_at": {"N": str(_expires(group.last_period))},
        }
        try:
            self._client.update_item(
                TableName=INCIDENTS.name,
                Key={"pk": {"S": pk}, "sk": {"S": group_sk(group.group_id)}},
                UpdateExpression="SET " + ", ".join(f"#{n} = :{n}" for n in fields),
                # a concurrent delivery may already have stored a fuller view: keep it
                ConditionExpression="attribute_not_exists(#members) OR #members <= :members",
                ExpressionAttributeNames={f"#{n}": n for n in fields},
                ExpressionAttributeValues={f":{n}": v for n, v in fields.items()},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        return group


# -- items ----------------------------------------------------------------------------------


def _batch(item: Mapping[str, Any]) -> GroupBatch:
    kind = item.get("root_type", {}).get("S")
    return GroupBatch(
        group_id=item["group_id"]["S"],
        root_entity=item["root_entity"]["S"],
        root_type=EntityType(kind) if kind else None,
        period=item["period"]["S"],
        entities=frozenset(item["entities"]["SS"]),
        severity=_worst(Severity(s) for s in item["severities"]["SS"]),
        cause=item.get("cause", {}).get("S", ""),
        root_alerted=bool(item.get("described", {}).get("BOOL", False)),
        root_name=item.get("root_name", {}).get("S", ""),
        impact=_impact(item),
    )


def _group(item: Item) -> IncidentGroup:
    """A group head; one whose derived fields a crashed write never set falls back to its
    period set (the next delivery of that scan derives them)."""
    periods = sorted(item.get("periods", {}).get("SS", []))
    kind = item.get("root_type", {}).get("S")
    return IncidentGroup(
        group_id=item["group_id"]["S"],
        root_entity=item["root_entity"]["S"],
        root_type=EntityType(kind) if kind else None,
        first_period=item.get("first_period", {}).get("S") or periods[0],
        last_period=item.get("last_period", {}).get("S") or periods[-1],
        severity=Severity(item.get("severity", {}).get("S", Severity.LOW.value)),
        members=int(item.get("members", {}).get("N", "0")),
        affected=int(item.get("affected", {}).get("N", "0")),
        cause=item.get("cause", {}).get("S", ""),
        root_name=item.get("root_name", {}).get("S", ""),
        impact=_impact(item),
    )


def _impact(item: Item | Mapping[str, Any]) -> Impact | None:
    text = item.get("impact", {}).get("S", "")
    return Impact.model_validate_json(text) if text else None


def _worst(severities: Iterable[Severity]) -> Severity:
    return max(severities, key=lambda s: s.rank)
