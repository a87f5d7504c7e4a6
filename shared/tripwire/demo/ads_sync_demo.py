"""The demo's Amazon Ads section: a second advertiser whose data nobody uploads.

Its profile is connected over the API (`PUT /profiles/{id}/connection`: credentials to
Secrets Manager), then two schedule ticks sync it through the production client against the
local Amazon Ads stand-in. The first tick pulls the history (reports created, polled,
downloaded as gzip JSON, imported). The next day's tick re-pulls the last days, so the
restated figures replace the provisional ones.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from tripwire.demo.ads_book import SyntheticAdsBook
from tripwire.demo.config import GeneratorConfig
from tripwire.domain.metrics import Interval
from tripwire.store.metrics import MetricStore

PROFILE = "ADS1"
ADS_PROFILE = "3000000001"
CLIENT_ID, CLIENT_SECRET = "amzn1.application-oa2-client.demo", "demo-client-secret"
REFRESH_TOKEN = "Atzr|demo-advertiser"
SALES = 3  # the position of sales in a stored PPC point

Tick = Callable[[dt.date], list[dict[str, Any]]]


def demo_book() -> SyntheticAdsBook:
    config = GeneratorConfig(seed=11, keywords=200, campaigns=8, days=70)
    return SyntheticAdsBook(config, ads_profile_id=ADS_PROFILE)


def _call(api: str, token: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(api + path, data, headers, method=method)
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.loads(answer.read())


def _account_sales(tenant: str, day: dt.date) -> float:
    start = dt.datetime.combine(day, dt.time())
    store = MetricStore()
    series = store.read_window(tenant, PROFILE, Interval.D1, [PROFILE], start, start)
    return float(series[PROFILE][day.isoformat()][SALES])


def show_ads_sync(tenant: str, api: str, token: str, provider: Any, tick: Tick) -> Iterator[str]:
    """Connect, sync twice, and describe what arrived; ``provider`` is the stand-in."""
    began = time.perf_counter()
    provider.account(REFRESH_TOKEN, CLIENT_ID, CLIENT_SECRET, ADS_PROFILE)
    credentials = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    credentials |= {"refresh_token": REFRESH_TOKEN, "ads_profile_id": ADS_PROFILE}
    shown = _call(api, token, "PUT", f"/profiles/{PROFILE}/connection", credentials)
    leaked = CLIENT_SECRET in json.dumps(shown) or REFRESH_TOKEN in json.dumps(shown)
    yield (
        f"PUT /profiles/{PROFILE}/connection → {shown['status']} (region {shown['region']}, "
        f"Ads profile {shown['ads_profile_id']}); credentials in the answer: {leaked}"
    )
    book: SyntheticAdsBook = provider.book
    day, restated = book.last_day + dt.timedelta(days=1), book.last_day  # syncs pull to yesterday
    for label in ("first sync (its history)", "next day's sync (restatements)"):
        asked = len(provider.requests)
        provider.today = day
        before = _account_sales(tenant, restated) if day > restated + dt.timedelta(1) else None
        tick(day)
        state = _call(api, token, "GET", f"/profiles/{PROFILE}/connection")
        calls = Counter(_kind(path) for _, path in provider.requests[asked:])
        yield (
            f"schedule tick {day} → {label}: {state['last_sync_rows']:,} rows for "
            f"{state['last_sync_first']} … {state['last_sync_last']}, status {state['status']}; "
            f"Amazon Ads calls: {', '.join(f'{k} {n}' for k, n in sorted(calls.items()))}"
        )
        if before is not None:
            after = _account_sales(tenant, restated)
            yield (
                f"  {restated}: account sales {before:,.2f} (provisional) → {after:,.2f} "
                "(restated, replacing the provisional point)"
            )
        day += dt.timedelta(days=1)
    yield f"Amazon Ads section took {time.perf_counter() - began:.1f}s"


def _kind(path: str) -> str:
    if path.startswith("/auth/"):
        return "token"
    if path.startswith("/download/"):
        return "downloads"
    if path == "/reporting/reports":
        return "report requests"
    return "polls" if path.startswith("/reporting/reports/") else path
