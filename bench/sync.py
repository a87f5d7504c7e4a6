"""Amazon Ads sync throughput on the local stack: profiles per minute and rows per second
through the whole path — the schedule's sync messages, the scan worker's production client
against the Amazon Ads stand-in over HTTP (LWA token, report create, polls, gzip download),
the ads_api import into moto server.

Two rounds, as in production: the first sync of each profile (its 62-day history, two
reports) and a daily sync (3 days re-pulled, one report). Profiles are synced, not scanned
(no model is trained), so the figures are the sync's own.

The issue's other figure, an hourly scan of a 10,000-keyword profile end to end, is
``bench/hourly_scan.py``; ``--hourly`` runs it here too, after the sync rounds, on its own
fresh stack (about 10 minutes on this machine).

    python bench/sync.py [--profiles 4] [--keywords 500] [--hourly]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import uuid
from pathlib import Path

from tripwire.demo.ads_book import SyntheticAdsBook
from tripwire.demo.config import GeneratorConfig
from tripwire.local.stack import LocalStack
from tripwire.service.ads_sync import ConnectRequest, connect
from tripwire.store.connections import ConnectionStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hourly_scan  # bench/hourly_scan.py

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
    parser.add_argument("--hourly", action="store_true", help="also bench/hourly_scan.py")
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
    if not args.hourly:
        print("hourly scan of a 10,000-keyword profile: --hourly, or python bench/hourly_scan.py")
        return
    print("\nhourly scan (bench/hourly_scan.py):")
    hourly_scan.run(keywords=10_000, reference_keywords=1_000)


if __name__ == "__main__":
    main()
