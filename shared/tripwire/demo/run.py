"""`tripwire demo`: the main job on the embedded default — the local stack.

Starts moto server, the API gateway, the scan queue with its poller and the alerts topic
with a local Slack on 127.0.0.1; generates the demo account, imports it over real HTTP,
trains its models into the registry (S3) on the days before the incident period, switches
its daily scan on through the API, and ticks the schedule on the last day — the real
fan-out path: scheduler → SQS → poller → worker. Nothing was detected since training, so
that first scan catches up on every day of the incident period (then the learner's
half-space trees learn its settled days: one line); a second tick finds nothing new. It
prints the alert groups, the Slack messages sent, the deliveries per channel (Slack, e-mail,
SMS captured by moto server's SNS, LINE through its stand-in), then loads a market of tickers
(generated OHLCV bars with planted anomalies) and shows its alerts, and how to open the API.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from tripwire.demo.ads_book import SyntheticAdsBook
from tripwire.demo.ads_hours import show_hourly
from tripwire.demo.ads_sync_demo import PROFILE as ADS_DEMO_PROFILE
from tripwire.demo.ads_sync_demo import demo_book, show_ads_sync
from tripwire.demo.channels import set_demo_channels, show_deliveries
from tripwire.demo.generator import GeneratorConfig, Incident, generate, write
from tripwire.demo.market_book import SyntheticBook, show_market_demo
from tripwire.domain import Alert, DetectionRun, Severity
from tripwire.domain.metrics import Interval
from tripwire.ingest.importer import import_account
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
    with (
        tempfile.TemporaryDirectory(prefix="tripwire-demo-") as folder,
        # Its own state folder, so the demo runs beside a `tripwire local up` in another shell.
        LocalStack(
            directory=Path(folder) / "stack",
            echo_slack=False,
            market_book=SyntheticBook(),
            ads_book=demo_book(),
        ) as stack,
    ):
        print(f"local stack: API {stack.api_url} · AWS (moto server) {stack.aws_endpoint}")
        config = GeneratorConfig(seed=seed, keywords=keywords, days=days)
        account = generate(config)
        paths = write(account, Path(folder))
        profile = account.config.account_id
        print(f"demo account: {keywords} keywords × {days} days → {folder}")
        print(
            import_account(
                TENANT, profile, paths["entities"], paths["metrics"], progress=True
            ).summary()
        )

        first = config.start + datetime.timedelta(days=days - account.config.incident_days)
        last = config.start + datetime.timedelta(days=days - 1)
        print(train_profile(TENANT, profile, first - datetime.timedelta(days=1)).summary())
        token = issue_token(TENANT, "demo", directory=stack.directory)
        _switch_scans_on(stack.api_url, token, profile)
        set_demo_channels(stack.api_url, token, profile)
        trees = current_trees(TENANT, profile)
        runs = _scheduled_scan(stack, last)
        _show_learning(profile, trees[0] if trees else None)
        alerts = _alerts_of(runs)
        _show_alerts(alerts)
        _show_rescan(stack, last)
        _show_slack(stack)
        show_deliveries(stack, alerts)
        _show_incidents(account.incidents)
        _show_market(stack, token)
        _show_ads_sync(stack, token)
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


def _scheduled_scan(stack: LocalStack, day: datetime.date) -> list[DetectionRun]:
    """One schedule tick: scheduler → queue → poller → worker, as at 06:00 on ``day``."""
    began = time.perf_counter()
    runs = [progress(r["tenant_id"], r["run_id"]) for r in stack.scan(day)]
    took = time.perf_counter() - began
    for run in filter(None, runs):
        print(
            f"scheduled scan for {day} (scheduler → SQS → worker, {took:.1f}s): "
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
                f"      {worst.entity_id:<10} {item.feature:<12} {item.direction.value:<5} "
                f"expected {item.expected:>10.2f}  actual {item.actual:>10.2f}  "
                f"(Shapley {item.contribution:+.3f})"
            )


def _show_rescan(stack: LocalStack, last: datetime.date) -> None:
    """The schedule firing again with no new data: nothing is detected twice."""
    for started in stack.scan(last):
        run = progress(started["tenant_id"], started["run_id"])
        if run is not None:
            note = "; ".join(run.warnings) or "no warnings"
            print(f"\nscheduled scan again for {last}: {run.anomalies_found} new alerts — {note}")


def _show_slack(stack: LocalStack) -> None:
    from tripwire.notify.slack import render_text

    local = stack.notifications
    if local is None:
        return
    messages = local.slack_messages
    print(f"\n{len(messages)} Slack messages sent (one per new alert group); the first few:")
    for body in messages[:SLACK_SHOWN]:
        print("  " + render_text(body).replace("\n", "\n  "))


def _show_incidents(incidents: list[Incident]) -> None:
    print(f"\n{len(incidents)} incidents were planted in the account (the truth file):")
    for i in incidents:
        print(f"  {i.start} {i.kind:<30} {i.root_entity:<10} {i.description}")


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


def _show_ads_sync(stack: LocalStack, token: str) -> None:
    """The third way data arrives: nobody uploads it — the Amazon Ads API sync fetches it."""
    print("\nAmazon Ads API: a second advertiser, connected once and synced on schedule")
    tick = lambda day: stack.scan(day)  # noqa: E731  (a schedule tick: sync messages → worker)
    for line in show_ads_sync(TENANT, stack.api_url, token, stack.ads, tick):
        print(line)
    print("\nMarketing Stream by the hour: the same advertiser, scanned hourly")
    book = stack.ads.book
    assert isinstance(book, SyntheticAdsBook)
    hourly = lambda at: stack.scan(at.date(), intervals=(Interval.H1,))  # noqa: E731
    for line in show_hourly(
        TENANT, ADS_DEMO_PROFILE, stack.api_url, token, book, stack.ads, stack.drain_stream, hourly
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
