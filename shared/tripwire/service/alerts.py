"""Alert use cases: list, read, acknowledge, resolve, label.

The transition rules are pure functions; ``AlertService`` reads, applies a rule and
stores the result with its history record in one conditional transaction. When the
alert changed in between, it re-reads and decides again, so concurrent users end with
one outcome (two resolvers: one resolution and one conflict). The same transaction moves
the profile's statistics counters (status by severity, times to acknowledge and resolve),
so a change is counted exactly when it is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tripwire.domain.alerts import (
    Alert,
    AlertStatus,
    Feedback,
    Severity,
    StatusChange,
    pattern_kind,
    with_resolution,
)
from tripwire.domain.deliveries import Delivery
from tripwire.store.alerts import AlertStore, StaleAlert
from tripwire.store.deliveries import DeliveryStore
from tripwire.store.feedback import FeedbackStore
from tripwire.store.history import HistoryStore

Rule = Callable[[Alert, datetime], Alert]
ATTEMPTS = 5  # re-reads after a concurrent change; each one means someone else progressed


class AlertNotFound(LookupError):
    """No such alert for this tenant (another tenant's alert is not found either)."""


class AlertConflict(Exception):
    """The alert's status does not allow the change."""


def acknowledged(alert: Alert, by: str, at: datetime) -> Alert:
    """Open → acknowledged. Acknowledging again is idempotent: the first acknowledgement
    stands (who and when), so a retried request gets the same answer."""
    if alert.status is AlertStatus.RESOLVED:
        raise AlertConflict(f"alert {alert.alert_id} is resolved")
    if alert.status is AlertStatus.ACKNOWLEDGED:
        return alert
    update = {"status": AlertStatus.ACKNOWLEDGED, "acknowledged_by": by, "acknowledged_at": at}
    return alert.model_copy(update=update)


def resolved(alert: Alert, by: str, notes: str, at: datetime) -> Alert:
    """Open or acknowledged → resolved, once; resolving again is a conflict."""
    if alert.status is AlertStatus.RESOLVED:
        raise AlertConflict(f"alert {alert.alert_id} is already resolved")
    return with_resolution(alert, by, notes, at)


@dataclass
class AlertService:
    alerts: AlertStore
    history: HistoryStore
    feedback: FeedbackStore
    deliveries: DeliveryStore

    @classmethod
    def default(cls) -> AlertService:
        return cls(AlertStore(), HistoryStore(), FeedbackStore(), DeliveryStore())

    def active(
        self,
        tenant: str,
        profile: str,
        *,
        severities: Sequence[Severity] = tuple(Severity),
        where: Mapping[str, str] | None = None,
        limit: int = 50,
        after: str | None = None,
    ) -> tuple[list[Alert], str | None]:
        return self.alerts.active_page(
            tenant, profile, severities=severities, where=where, limit=limit, before=after
        )

    def get(self, tenant: str, alert_id: str) -> tuple[Alert, list[StatusChange]]:
        return self._get(tenant, alert_id), self.history.of_alert(tenant, alert_id)

    def deliveries_of(self, alert: Alert) -> list[Delivery]:
        """Where the alert's group was announced: one record per channel tried."""
        return self.deliveries.of_group(alert.tenant_id, alert.group_id or alert.alert_id)

    def label_of(self, alert: Alert) -> Feedback | None:
        """The user's latest label of ``alert`` (real anomaly or not), if any."""
        return self.feedback.get(alert.tenant_id, alert.profile_id, alert.alert_id)

    def acknowledge(self, tenant: str, alert_id: str, user: str) -> Alert:
        def rule(alert: Alert, at: datetime) -> Alert:
            return acknowledged(alert, user, at)

        return self._transition(tenant, alert_id, rule, user)

    def resolve(self, tenant: str, alert_id: str, user: str, notes: str) -> Alert:
        def rule(alert: Alert, at: datetime) -> Alert:
            return resolved(alert, user, notes, at)

        return self._transition(tenant, alert_id, rule, user, notes)

    def label(self, tenant: str, alert_id: str, user: str, is_anomaly: bool, note: str) -> Feedback:
        alert = self._get(tenant, alert_id)
        feedback = Feedback(
            **alert.model_dump(include={"tenant_id", "profile_id", "alert_id", "entity_id"}),
            entity_type=alert.entity_type,
            interval=alert.interval,
            period=alert.period,
            score=alert.score,
            model_versions=alert.model_versions,
            is_anomaly=is_anomaly,
            kind=pattern_kind([a.model_dump() for a in alert.explanation]),
            note=note,
            by=user,
            at=datetime.now(UTC),
        )
        self.feedback.put(feedback)
        return feedback

    def _get(self, tenant: str, alert_id: str) -> Alert:
        alert = self.alerts.get(tenant, alert_id)
        if alert is None:
            raise AlertNotFound(alert_id)
        return alert

    def _transition(
        self, tenant: str, alert_id: str, rule: Rule, user: str, notes: str | None = None
    ) -> Alert:
        for _ in range(ATTEMPTS):
            before = self._get(tenant, alert_id)
            at = datetime.now(UTC)
            after = rule(before, at)
            if after.status is before.status:
                return after  # nothing changes, nothing to record
            change = StatusChange(
                tenant_id=tenant,
                alert_id=alert_id,
                status=after.status,
                previous=before.status,
                at=at,
                by=user,
                notes=notes,
            )
            try:
                self.alerts.transition(before, after, change)
            except StaleAlert:
                continue  # someone else changed it: decide again on what is stored now
            return after
        raise AlertConflict(f"alert {alert_id} keeps changing; try again")
