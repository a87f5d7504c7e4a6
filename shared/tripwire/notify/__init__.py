"""Notifications: alert groups and digests on the SNS topic, Slack rendering and posting."""

from tripwire.notify.messages import DigestCounts, GroupMessage, group_messages
from tripwire.notify.publisher import TOPIC_ENV, NotificationFailed, publish_new_groups

__all__ = [
    "TOPIC_ENV",
    "DigestCounts",
    "GroupMessage",
    "NotificationFailed",
    "group_messages",
    "publish_new_groups",
]
