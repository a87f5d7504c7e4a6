"""Marketing Stream on the local stack, end to end: a connected profile's first sync
subscribes it (the production client against the Ads stand-in), the stand-in delivers hourly
records to the stream queue, the real stream_ingest function merges them, and the hourly
schedule's tick scans them — a campaign whose budget runs out at 14:00 is an alert of the
15:00 tick, with its root cause. Redelivered records change nothing."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from tripwire.demo.ads_hours import show_hourly
from tripwire.demo.ads_sync_demo import connect, demo_book, sync_tick
from tripwire.domain.metrics import Interval
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.alerts import AlertStore
from tripwire.store.connections import ConnectionStore
from tripwire.store.runs import RunStore
from tripwire.store.schedule import ScheduleStore

pytestmark = pytest.mark.xdist_group("ads_stream")


def test_a_budget_out_at_14_00_is_an_alert_of_the_15_00_hourly_scan(
    local_stack: LocalStack,
) -> None:
    tenant = f"stream-{uuid.uuid4().hex[:8]}"
    token = issue_token(tenant, "demo", directory=local_stack.directory)
    book = demo_book(keywords=200, days=70, seed=11, campaigns=8)
    profile = book.account.config.account_id
    api, provider = local_stack.api_url, local_stack.ads
    kept = provider.book
    provider.book = book
    try:
        connect(tenant, api, token, provider, profile, days=70)
        for later in (1, 2):  # the history, then the next day's re-pull
            day = book.last_day + dt.timedelta(days=later)
            sync_tick(tenant, api, token, provider, local_stack.scan, profile, day, "sync")
        lines = list(
            show_hourly(
                tenant,
                profile,
                local_stack.api_url,
                token,
                book,
                local_stack.ads,
                local_stack.drain_stream,
                lambda at: local_stack.scan(at.date(), intervals=(Interval.H1,)),
            )
        )
    finally:
        local_stack.ads.book = kept
        local_stack.ads.today = None
        # connected profiles are synced by every daily tick, whoever's test fires it
        ConnectionStore().delete(tenant, profile)
        ScheduleStore().set(tenant, profile, False, interval=Interval.H1)
    text = "\n".join(lines)
    print(text)
    assert set(local_stack.ads.subscriptions[book.ads_profile_id]) == {
        "sp-traffic",
        "sp-conversion",
    }
    assert "before any hour streamed → 422" in text  # no hourly data: refused
    assert re.search(r"\{interval 1h\} → 200", text)  # one streamed hour later: accepted
    assert "14:00 the budget runs out" in text and re.search(r"impressions 0\b", text)
    ticks = re.findall(r"hourly tick (\d\d:\d\d) → 1 run, (\d+) alert", text)
    assert [t for t, _ in ticks] == ["14:00", "15:00"]
    assert int(ticks[1][1]) >= 1  # the budget-out hour is alerted by the next hour's scan
    redelivered = re.search(r"impressions (\d+) → (\d+) \(nothing counted twice\)", text)
    assert redelivered is not None
    before, after = redelivered.groups()
    assert before == after
    # the alert: the campaign whose budget ran out, at 14:00, as its incident's root cause
    runs = RunStore().of_profile(tenant, profile)
    hourly = [r for r in runs if r.alert_ids]
    alerts = AlertStore().get_many(tenant, [a for r in hourly for a in r.alert_ids]).values()
    stopped = [a for a in alerts if a.interval is Interval.H1 and a.period.hour == 14]
    assert stopped, text
    roots = {c.entity_id for a in stopped for c in a.root_causes[:1]} | {
        a.entity_id for a in stopped if not a.root_causes
    }
    assert any(r.startswith("cp-") for r in roots), roots
