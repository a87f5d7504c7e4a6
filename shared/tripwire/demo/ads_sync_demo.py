"""How the demo's data arrives: nobody uploads it — the Amazon Ads API sync fetches it.

The demo account is served by the local Amazon Ads stand-in (``demo_book``: the generator's
account as ``spTargeting`` rows). Its profile is connected once over the API
(``PUT /profiles/{id}/connection``: credentials to Secrets Manager), then every daily
schedule tick syncs it through the production client: the first pulls its history (as far
back as Amazon keeps it; reports created, polled, downloaded as gzip JSON, imported), every
later one re-pulls the last days, so restated sales replace the provisional ones — and then
the profile's scan runs, once scans are switched on.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tripwire.demo.ads_book import SyntheticAdsBook
from tripwire.demo.config import GeneratorConfig
from tripwire.domain.connections import MAX_HISTORY
from tripwire.domain.metrics import Interval
from tripwire.store.metrics import MetricStore

ADS_PROFILE = "3000000001"
CLIENT_ID, CLIENT_SECRET = "amzn1.application-oa2-client.demo", "demo-client-secret"
REFRESH_TOKEN = "Atzr|demo-advertiser"
SALES = 3  # the position of sales in a stored PPC point
# The ids the sync stores for the generator's (``ingest.ads_api``); the account is the profile.
STORED_PREFIX = {"portfolio": "pf-", "campaign": "cp-", "keyword": "kw-"}

Tick = Callable[[dt.date], list[dict[str, Any]]]


def demo_book(
    keywords: int = 1000, days: int = 120, seed: int = 7, campaigns: int = 40
) -> SyntheticAdsBook:
    """The demo advertiser: the generator's account, served under ``ADS_PROFILE``."""
    config = GeneratorConfig(seed=seed, keywords=keywords, days=days, campaigns=campaigns)
    return SyntheticAdsBook(config, ads_profile_id=ADS_PROFILE)


def stored_ids(book: SyntheticAdsBook) -> dict[str, str]:
    """The generator's entity id -> the id the sync stores it under."""
    return {
        e["entity_id"]: STORED_PREFIX.get(e["entity_type"], "") + e["entity_id"]
        for e in book.account.entities
    }


def _call(api: str, token: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(api + path, data, headers, method=method)
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.loads(answer.read())


def _account_sales(tenant: str, profile: str, day: dt.date) -> float | None:
    start = dt.datetime.combine(day, dt.time())
    series = MetricStore().read_window(tenant, profile, Interval.D1, [profile], start, start)
    point = series.get(profile, {}).get(day.isoformat())
    return None if point is None else float(point[SALES])


def connect(tenant: str, api: str, token: str, provider: Any, profile: str, days: int) -> str:
    """Register the advertiser with the stand-in and connect ``profile`` to it over the API,
    the first sync to reach back ``days`` (at most what Amazon keeps); one line saying so."""
    provider.account(REFRESH_TOKEN, CLIENT_ID, CLIENT_SECRET, ADS_PROFILE)
    credentials: dict[str, Any] = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    credentials |= {"refresh_token": REFRESH_TOKEN, "ads_profile_id": ADS_PROFILE}
    credentials["history_days"] = min(days, MAX_HISTORY)
    shown = _call(api, token, "PUT", f"/profiles/{profile}/connection", credentials)
    leaked = CLIENT_SECRET in json.dumps(shown) or REFRESH_TOKEN in json.dumps(shown)
    return (
        f"PUT /profiles/{profile}/connection → {shown['status']} (region {shown['region']}, "
        f"Ads profile {shown['ads_profile_id']}, first sync reaches back "
        f"{shown['history_days']} days, later ones re-pull {shown['lookback_days']}); "
        f"credentials in the answer: {leaked}"
    )


@dataclass
class Ticked:
    runs: list[dict[str, Any]]  # the scan runs the tick started (after their syncs)
    lines: list[str]


def sync_tick(
    tenant: str,
    api: str,
    token: str,
    provider: Any,
    tick: Tick,
    profile: str,
    day: dt.date,
    label: str,
    watch: dt.date | None = None,
) -> Ticked:
    """One daily schedule tick on ``day`` (the stand-in's today): the profile's sync, then
    its scan if scans are on. Describes what the sync pulled, the Amazon Ads calls it made
    and, for ``watch``, the account's sales before and after (a restatement)."""
    began = time.perf_counter()
    asked = len(provider.requests)
    provider.today = day
    before = _account_sales(tenant, profile, watch) if watch else None
    runs = tick(day)
    state = _call(api, token, "GET", f"/profiles/{profile}/connection")
    calls = Counter(_kind(path) for _, path in provider.requests[asked:])
    lines = [
        f"schedule tick {day} → {label} ({time.perf_counter() - began:.1f}s): sync "
        f"{state['last_sync_rows']:,} rows for {state['last_sync_first']} … "
        f"{state['last_sync_last']}, status {state['status']}; Amazon Ads calls: "
        + ", ".join(f"{k} {n}" for k, n in sorted(calls.items()))
    ]
    after = _account_sales(tenant, profile, watch) if watch else None
    if watch and before is not None and after is not None and after != before:
        lines.append(
            f"  {watch}: account sales {before:,.2f} (provisional) → {after:,.2f} "
            "(restated, replacing the provisional point)"
        )
    return Ticked([r for r in runs if r.get("profile_id") == profile], lines)


def _kind(path: str) -> str:
    if path.startswith("/auth/"):
        return "token"
    if path.startswith("/download/"):
        return "downloads"
    if path == "/reporting/reports":
        return "report requests"
    return "polls" if path.startswith("/reporting/reports/") else path
