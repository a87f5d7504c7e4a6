"""`tripwire demo`: the main job on the embedded default — the local stack.

Starts moto server, the API gateway, the scan queue with its poller, the alerts topic with a
local Slack and the Amazon Ads stand-in on 127.0.0.1. The demo account (generated, with
planted incidents) is an advertiser the stand-in serves: its profile is connected over the
API and the daily schedule fills it — the first tick's sync pulls its history through the
production client. Then its models are trained into the registry (S3) on the days before
the incident period and its daily scan is switched on through the API; the next day's tick
re-pulls the last days (restated sales replace provisional ones) and scans — the real
fan-out path: scheduler → SQS → poller → worker. Nothing was detected since training, so
that scan catches up on every day of the incident period (then the learner's half-space
trees learn its settled days: one line); the tick after re-pulls and rescans the restated
days. It prints the alert groups, the Slack messages sent, the deliveries per channel
(Slack, e-mail, SMS captured by moto server's SNS, LINE through its stand-in), the planted
incidents, a market of tickers (generated OHLCV bars with planted anomalies) with its
alerts, the same advertiser's Marketing Stream hours scanned hourly, and how to open the API.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from functools import partial
from pathlib import Path
from typing import Any

from tripwire.demo.ads_book import SyntheticAdsBook
from tripwire.demo.ads_hours import show_hourly
from tripwire.demo.ads_sync_demo import (
    ADS_PROFILE,
    Ticked,
    connect,
    demo_book,
    stored_ids,
    sync_tick,
)
from tripwire.demo.channels import set_demo_channels, show_deliveries
from tripwire.demo.generator import Incident
from tripwire.demo.market_book import SyntheticBook, show_market_demo
from tripwire.domain import Alert, DetectionRun, Severity
from tripwire.domain.metrics import Interval
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.service.fanout import progress
from tripwire.service.models import current_trees
from tripwire.service.train import train_profile
from tripwire.store.batch import batch_get
from tripwire.store.incidents import IncidentStore
from tripwire.store.items import from_item
from tripwire.store.provision import aws_client
from tripwire.store.tables import ALERTS
from tripwire.telemetry import logger

TENANT = "demo"
SHOWN = 15
SLACK_SHOWN = 3


def run_demo(keywords: int = 1000, days: int = 120, seed: int = 7) -> int:
    started = time.perf_counter()
    # The handlers log one JSON line per invocation; the demo prints what matters instead.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    logger.setLevel(os.environ["POWERTOOLS_LOG_LEVEL"])  # created at import, before the line above
    book = demo_book(keywords, days, seed)
    with (
        tempfile.TemporaryDirectory(prefix="tripwire-demo-") as folder,
        # Its own state folder, so the demo runs beside a `tripwire local up` in another shell.
        LocalStack(
            directory=Path(folder) / "stack",
            echo_slack=False,
            market_book=SyntheticBook(),
            ads_book=book,
        ) as stack,
    ):
        print(f"local stack: API {stack.api_url} · AWS (moto server) {stack.aws_endpoint}")
        account = book.account
        config = account.config
        profile = config.account_id
        print(
            f"demo advertiser: {keywords} keywords × {days} days of Sponsored Products, "
            f"served by the Amazon Ads stand-in as Ads profile {ADS_PROFILE}"
        )
        token = issue_token(TENANT, "demo", directory=stack.directory)
        print(connect(TENANT, stack.api_url, token, stack.ads, profile, days))
        first = config.start + datetime.timedelta(days=days - config.incident_days)
        last = book.last_day
        today = last + datetime.timedelta(days=1)
        tick = partial(sync_tick, TENANT, stack.api_url, token, stack.ads, stack.scan, profile)
        for line in tick(today, "first sync: the history").lines:
            print(line)
        print(train_profile(TENANT, profile, first - datetime.timedelta(days=1)).summary())
        _switch_scans_on(stack.api_url, token, profile)
        set_demo_channels(stack.api_url, token, profile)
        trees = current_trees(TENANT, profile)
        today += datetime.timedelta(days=1)
        runs = _scheduled_scan(tick(today, "sync, then the scan", watch=last), today)
        _show_learning(profile, trees[0] if trees else None)
        alerts = _alerts_of(runs)
        _show_alerts(alerts)
        today += datetime.timedelta(days=1)
        _show_rescan(tick(today, "sync, then the scan again", watch=last), today)
        _show_slack(stack)
        show_deliveries(stack, alerts)
        _show_incidents(account.incidents, stored_ids(book))
        _show_market(stack, token)
        _show_hourly(stack, token, profile, book, today)
        _show_api(stack.api_url)
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


def _switch_scans_on(api_url: str, token: str, profile: str) -> None:
    request = urllib.request.Request(
        f"{api_url}/profiles/{profile}/schedule",
        data=json.dumps({"enabled": True}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        print(f"PUT /profiles/{profile}/schedule → {response.status} {json.loads(response.read())}")


def _scheduled_scan(ticked: Ticked, day: datetime.date) -> list[DetectionRun]:
    """The scan a daily tick ran after the sync: scheduler → queue → poller → worker."""
    for line in ticked.lines:
        print(line)
    runs = [progress(r["tenant_id"], r["run_id"]) for r in ticked.runs]
    for run in filter(None, runs):
        print(
            f"scheduled scan for {day} (scheduler → SQS → worker): "
            f"{run.rows_processed} series-periods detected since training, "
            f"{run.anomalies_found} new alerts, run {run.run_id} {run.status.value}"
        )
    return [r for r in runs if r is not None]


def _show_learning(profile: str, before: str | None) -> None:
    """The learner's work after the scan: which periods the trees learnt, old → new."""
    trees = current_trees(TENANT, profile)
    if before is None or trees is None or trees[0] == before:
        print("learner: nothing learnt")
        return
    after, meta = trees
    print(
        f"learner: half-space trees learnt the settled days through {meta['learnt_through']} "
        f"({meta['learnt_periods']} since training), version {before[:12]} → {after[:12]}"
    )


def _alerts_of(runs: list[DetectionRun]) -> list[Alert]:
    ids = [(run.tenant_id, a) for run in runs for a in run.alert_ids]
    keys = [{"pk": {"S": f"{tenant}#{alert}"}} for tenant, alert in ids]
    items = batch_get(aws_client("dynamodb"), ALERTS.name, keys)
    return sorted((from_item(Alert, i) for i in items), key=lambda a: (a.period, a.entity_id))


def _show_alerts(alerts: list[Alert]) -> None:
    counts = Counter(a.severity for a in alerts)
    by_severity = ", ".join(f"{counts[s]} {s.value}" for s in reversed(Severity))
    groups: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        groups[alert.group_id or alert.alert_id].append(alert)
    print(f"\n{len(alerts)} alerts ({by_severity}) in {len(groups)} incident groups")
    if not alerts:
        return
    tenant, profile = alerts[0].tenant_id, alerts[0].profile_id
    found = [g for g in IncidentStore().groups(tenant, profile) if g.group_id in groups]
    ranked = sorted(found, key=lambda g: (-g.revenue_impact, -g.severity.rank, -g.members))
    print(f"the {min(SHOWN, len(ranked))} costliest incidents:")
    for group in ranked[:SHOWN]:
        members = groups[group.group_id]
        worst = max(members, key=lambda a: (a.severity.rank, a.score))
        span = group.first_period
        if group.last_period != span:
            span += f"..{group.last_period}"
        count = f"{group.members} alert{'s' if group.members != 1 else ''}"
        print(f"  {group.headline} · {span} · {count}")
        print(f"      {group.cause}")
        for item in worst.explanation[:2]:
            print(
                f"      {worst.entity_id:<12} {item.feature:<12} {item.direction.value:<5} "
                f"expected {item.expected:>10.2f}  actual {item.actual:>10.2f}  "
                f"(Shapley {item.contribution:+.3f})"
            )


def _show_rescan(ticked: Ticked, day: datetime.date) -> None:
    """The next day's tick: the sync re-pulls the last days (restated sales replace the
    provisional ones), and the scan re-evaluates what changed; nothing is detected twice."""
    print()
    for line in ticked.lines:
        print(line)
    for started in ticked.runs:
        run = progress(started["tenant_id"], started["run_id"])
        if run is not None:
            note = "; ".join(run.warnings) or "no warnings"
            print(f"scheduled scan for {day}: {run.anomalies_found} new alerts — {note}")


def _show_slack(stack: LocalStack) -> None:
    from tripwire.notify.slack import render_text

    local = stack.notifications
    if local is None:
        return
    messages = local.slack_messages
    print(f"\n{len(messages)} Slack messages sent (one per new alert group); the first few:")
    for body in messages[:SLACK_SHOWN]:
        print("  " + render_text(body).replace("\n", "\n  "))


def _show_incidents(incidents: list[Incident], stored: dict[str, str]) -> None:
    print(f"\n{len(incidents)} incidents were planted in the account (the truth file):")
    for i in incidents:
        print(f"  {i.start} {i.kind:<30} {stored[i.root_entity]:<13} {i.description}")


def _show_market(stack: LocalStack, token: str) -> None:
    """The second kind of user: tickers backfilled by symbol from the market data source
    (the stack's stand-in serves synthetic bars with planted anomalies and a split)."""
    began = time.perf_counter()
    print("\nmarket tickers: backfilled by symbol from the market data stand-in")

    def api(method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        request = urllib.request.Request(
            stack.api_url + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    assert isinstance(stack.market.book, SyntheticBook)
    for line in show_market_demo(TENANT, api, stack.drain, stack.market.book):
        print(line)
    print(f"market section took {time.perf_counter() - began:.1f}s")


def _show_hourly(
    stack: LocalStack, token: str, profile: str, book: SyntheticAdsBook, day: datetime.date
) -> None:
    """The same advertiser by the hour: Marketing Stream (subscribed by the first sync)."""
    print("\nMarketing Stream by the hour: the same advertiser, scanned hourly")
    hourly = lambda at: stack.scan(at.date(), intervals=(Interval.H1,))  # noqa: E731
    for line in show_hourly(
        TENANT, profile, stack.api_url, token, book, stack.ads, stack.drain_stream, hourly, day
    ):
        print(line)


def _show_api(api_url: str) -> None:
    with urllib.request.urlopen(f"{api_url}/health", timeout=10) as response:
        print(f"\nGET {api_url}/health → {response.status} {json.loads(response.read())}")
    print(
        "To explore the API yourself: `tripwire local up` in one shell, then\n"
        "  tripwire demo-data out/ && tripwire import --entities out/entities.csv "
        "--metrics out/metrics.csv --tenant acme\n"
        "  tripwire train --tenant acme --profile A1 --end 2026-03-31\n"
        "  TOKEN=$(tripwire local token --tenant acme --user you)\n"
        '  curl -X PUT -H "Authorization: Bearer $TOKEN" -d \'{"enabled": true}\' '
        "'<api>/profiles/A1/schedule'\n"
        "  tripwire local scan --date 2026-03-31     # the daily schedule, now\n"
        "  curl -H \"Authorization: Bearer $TOKEN\" '<api>/alerts/active?profile_id=A1'\n"
        '  curl -X POST -H "Authorization: Bearer $TOKEN" '
        '-d \'{"profile_id": "A1", "period": "90d"}\' \'<api>/backfill\''
    )
