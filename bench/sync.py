"""Amazon Ads sync throughput on the local stack: profiles per minute and rows per second
through the whole path — the schedule's sync messages, the scan worker's production client
against the Amazon Ads stand-in over HTTP (LWA token, report create, polls, gzip download),
the ads_api import into moto server.

Two rounds, as in production: the first sync of each profile (its 62-day history, two
reports) and a daily sync (3 days re-pulled, one report). Profiles are synced, not scanned
(no model is trained), so the figures are the sync's own.

    python bench/sync.py [--profiles 4] [--keywords 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import uuid

from tripwire.demo.ads_book import SyntheticAdsBook
from tripwire.demo.config import GeneratorConfig
from tripwire.local.stack import LocalStack
from tripwire.service.ads_sync import ConnectRequest, connect
from tripwire.store.connections import ConnectionStore

ADS_PROFILE = "1000000001"


def _round(stack: LocalStack, day: dt.date, tenants: list[str]) -> tuple[float, int]:
    stack.ads.today = day
    started = time.perf_counter()
    syncs = [r for r in stack.scan(day) if r["tenant_id"] in tenants]
    seconds = time.perf_counter() - started
    assert len(syncs) == len(tenants), syncs
    rows = 0
    for tenant in tenants:
        connection = ConnectionStore().get(tenant, "acme")
        assert connection is not None and connection.last_sync_at is not None, connection
        rows += connection.last_sync_rows
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=4)
    parser.add_argument("--keywords", type=int, default=500)
    args = parser.parse_args()
    book = SyntheticAdsBook(
        GeneratorConfig(keywords=args.keywords, campaigns=max(1, args.keywords // 25), days=90),
        ads_profile_id=ADS_PROFILE,
    )
    with LocalStack(notifications=False, ads_book=book) as stack:
        tenants = []
        for i in range(args.profiles):
            tenant, token = f"bench-{uuid.uuid4().hex[:6]}", f"Atzr|bench-{i}"
            stack.ads.account(token, "client", "secret", ADS_PROFILE)
            request = ConnectRequest(
                client_id="client",
                client_secret="secret",
                refresh_token=token,
                ads_profile_id=ADS_PROFILE,
            )
            connect(tenant, "acme", request, by="bench")
            tenants.append(tenant)
        day = book.last_day
        first_s, first_rows = _round(stack, day, tenants)
        daily_s, daily_rows = _round(stack, day + dt.timedelta(days=1), tenants)
        calls = len(stack.ads.requests)
    print(f"{args.profiles} profiles × {args.keywords} keywords, scan worker polling one queue")
    for name, seconds, rows in (
        ("first sync (62 days)", first_s, first_rows),
        ("daily sync (3 days)", daily_s, daily_rows),
    ):
        print(
            f"{name:>22}: {args.profiles / seconds * 60:8.1f} profiles/min  "
            f"{rows / seconds:10,.0f} rows/s  ({rows:,} rows in {seconds:.1f}s)"
        )
    print(f"Amazon Ads stand-in requests: {calls} (tokens, creates, polls, downloads)")


if __name__ == "__main__":
    main()
