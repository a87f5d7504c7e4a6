"""What the demo's hourly history would cost through Marketing Stream on the local stack.

The demo's hourly section (``demo/ads_hours.py``) writes its streamed keywords' two weeks of
hours straight to the store (through the import: leaves and roll-ups). The alternative is the
real path: the same hours as ``sp-traffic`` / ``sp-conversion`` records, delivered by the
Amazon Ads stand-in to the local stream queue and merged by the real ``stream_ingest``
function. Both on one stack, for the demo advertiser's streamed keywords: the direct write of
the 14 days (the reference), and ``--days`` of hours through the queue (the days before
them), extrapolated to 14.

    python bench/stream_history.py [--days 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from tripwire.demo.ads_hours import (
    HISTORY_DAYS,
    draw_hour,
    records_of,
    seed_history,
    streamed_keywords,
)
from tripwire.demo.ads_sync_demo import ADS_PROFILE, connect, demo_book, sync_tick
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack

TENANT = "bench-stream"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=1)
    args = parser.parse_args()
    book = demo_book()
    profile = book.account.config.account_id
    keywords = streamed_keywords(book)
    with LocalStack(notifications=False, ads_book=book) as stack:
        token = issue_token(TENANT, "bench", directory=stack.directory)
        # A one-day first sync: enough to subscribe the profile to Marketing Stream.
        connect(TENANT, stack.api_url, token, stack.ads, profile, days=1)
        day = book.last_day + dt.timedelta(days=1)
        sync_tick(TENANT, stack.api_url, token, stack.ads, stack.scan, profile, day, "sync")
        end = dt.datetime.combine(day + dt.timedelta(days=2), dt.time(13))

        began = time.perf_counter()
        written = seed_history(TENANT, profile, keywords, end, seed=5)
        direct = time.perf_counter() - began

        rng = np.random.default_rng(5)
        hour = end - dt.timedelta(days=HISTORY_DAYS + args.days)
        sent = 0
        began = time.perf_counter()
        for _ in range(24 * args.days):  # hour by hour, as Amazon delivers them
            drawn = draw_hour(keywords, hour, rng, None)
            sent += stack.ads.deliver(ADS_PROFILE, records_of(ADS_PROFILE, hour, keywords, drawn))
            stack.drain_stream()
            hour += dt.timedelta(hours=1)
        streamed = time.perf_counter() - began

    whole = streamed / args.days * HISTORY_DAYS
    print(f"{len(keywords)} streamed keywords; {HISTORY_DAYS} days = {written:,} keyword-hours")
    print(f"direct write of {HISTORY_DAYS} days (reference):  {direct:8.1f} s")
    print(
        f"through the stream queue, {args.days} day(s):  {streamed:8.1f} s "
        f"({sent:,} records, {sent / streamed:,.0f} records/s)"
    )
    print(
        f"through the stream queue, {HISTORY_DAYS} days (×{HISTORY_DAYS / args.days:g}): "
        f"{whole:8.1f} s = {whole / direct:.1f}× the direct write, +{whole - direct:.1f} s"
    )


if __name__ == "__main__":
    main()
