"""The demo's hourly part of the Amazon Ads section: Marketing Stream by the hour.

The connected profile (``ads_sync_demo``) was subscribed to Marketing Stream by its first
sync. Its streamed keywords' hours are drawn here: each keyword's day (its mean over the
book's last two weeks) spread over the hours by a daily rhythm, with Poisson and binomial
noise. Two weeks of them are the history the hour-of-week baseline needs; they are written
straight to the store, since 8,000 records a day through the local queue would take minutes
(in AWS they are the stream's own first two weeks). Then live hours go the whole way — the
stand-in delivers them to the stream queue, the real stream_ingest function merges them —
and the hourly schedule ticks: at 14:00 one campaign's budget runs out (its keywords stop
serving), and the 15:00 tick alerts on it, root cause and all.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from tripwire.demo.ads_book import SyntheticAdsBook
from tripwire.domain.entities import Profile
from tripwire.domain.metrics import Interval
from tripwire.ingest.importer import import_parsed
from tripwire.local.ads_provider import conversion, traffic
from tripwire.store.catalog import CatalogStore
from tripwire.store.incidents import IncidentStore
from tripwire.store.metrics import MetricStore
from tripwire.store.stream import StreamStore

HISTORY_DAYS = 14
STREAMED_CAMPAIGNS = 3  # the campaigns whose keywords stream (the rest: daily reports only)
BUDGET_OUT_HOUR = 14  # the budget of the first streamed campaign runs out at 14:00
Tick = Callable[[dt.datetime], list[dict[str, Any]]]


def _rhythm(hour: int) -> float:
    """Share of a day's traffic in ``hour`` × 24: quiet nights, busy afternoons (mean 1)."""
    raw = [0.25 + max(0.0, math.sin((h - 6) / 24 * 2 * math.pi)) for h in range(24)]
    return 24 * raw[hour] / sum(raw)


@dataclass(frozen=True)
class Keyword:
    ids: dict[str, str]  # campaign_id, ad_group_id, keyword_id, keyword_text
    impressions: float  # a mean day's
    ctr: float
    cpc: float
    cvr: float
    order_value: float


def streamed_keywords(book: SyntheticAdsBook) -> list[Keyword]:
    """The first ``STREAMED_CAMPAIGNS`` campaigns' keywords, with their last two weeks' means."""
    last = book.last_day
    rows = book(book.ads_profile_id, last - dt.timedelta(days=HISTORY_DAYS - 1), last)
    campaigns = sorted({r["campaignId"] for r in rows})[:STREAMED_CAMPAIGNS]
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0] * 5)
    ids: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["campaignId"] not in campaigns:
            continue
        key = row["keywordId"]
        ids[key] = {
            "campaign_id": row["campaignId"],
            "ad_group_id": row["adGroupId"],
            "keyword_id": key,
            "keyword_text": row["keyword"],
        }
        for i, name in enumerate(("impressions", "clicks", "cost", "sales7d", "purchases7d")):
            sums[key][i] += float(row[name])
    keywords = []
    for key, (imp, clk, cost, sales, orders) in sorted(sums.items()):
        keywords.append(
            Keyword(
                ids[key],
                imp / HISTORY_DAYS,
                clk / imp if imp else 0.0,
                cost / clk if clk else 0.5,
                orders / clk if clk else 0.0,
                sales / orders if orders else 20.0,
            )
        )
    return keywords


def draw_hour(
    keywords: list[Keyword], hour: dt.datetime, rng: np.random.Generator, stopped: str | None
) -> dict[str, tuple[float, float, float, float, float]]:
    """keyword id → (impressions, clicks, spend, sales, orders) of one hour; ``stopped``'s
    keywords serve nothing (its budget ran out)."""
    drawn: dict[str, tuple[float, float, float, float, float]] = {}
    for k in keywords:
        rate = 0.0 if k.ids["campaign_id"] == stopped else k.impressions / 24 * _rhythm(hour.hour)
        impressions = int(rng.poisson(rate))
        clicks = int(rng.binomial(impressions, min(k.ctr, 1.0)))
        orders = int(rng.binomial(clicks, min(k.cvr, 1.0)))
        spend = round(clicks * k.cpc, 2)
        drawn[k.ids["keyword_id"]] = (impressions, clicks, spend, orders * k.order_value, orders)
    return drawn


def seed_history(
    tenant: str, profile: str, keywords: list[Keyword], end: dt.datetime, seed: int
) -> int:
    """The streamed keywords' hours before ``end`` (two weeks), written as hourly points
    through the import (leaves and roll-ups); returns the keyword-hours written."""
    rng = np.random.default_rng(seed)
    leaves: dict[str, dict[str, tuple[float, ...]]] = defaultdict(dict)
    hour = end - dt.timedelta(days=HISTORY_DAYS)
    while hour < end:
        for keyword, values in draw_hour(keywords, hour, rng, None).items():
            leaves[f"kw-{keyword}"][hour.isoformat()] = values
        hour += dt.timedelta(hours=1)
    catalog = CatalogStore()
    stored = catalog.get_profile(tenant, profile) or Profile(tenant_id=tenant, profile_id=profile)
    import_parsed(stored, [], dict(leaves), rows=0, skipped=[], interval=Interval.H1)
    return sum(len(points) for points in leaves.values())


def records_of(
    ads_profile: str, hour: dt.datetime, keywords: list[Keyword], drawn: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """What Marketing Stream sends for an hour: a traffic record per keyword that served, a
    conversion record per keyword that sold."""
    out = []
    for k in keywords:
        imp, clk, spend, sales, orders = drawn[k.ids["keyword_id"]]
        if imp:
            out.append(traffic(ads_profile, hour, k.ids, int(imp), int(clk), spend))
        if orders:
            out.append(conversion(ads_profile, hour, k.ids, sales, int(orders)))
    return out


def _campaign_hour(tenant: str, profile: str, campaign: str, hour: dt.datetime) -> float:
    window = MetricStore().read_window(tenant, profile, Interval.H1, [campaign], hour, hour)
    return float(window[campaign].get(hour.isoformat(), (0.0,))[0])


def _schedule_hourly(api: str, token: str, profile: str) -> tuple[int, Any]:
    """``PUT /profiles/{id}/schedule`` asking for hourly scans: (status, answer)."""
    body = json.dumps({"enabled": True, "interval": "1h"}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(
        f"{api}/profiles/{profile}/schedule", body, headers, method="PUT"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def show_hourly(
    tenant: str,
    profile: str,
    api: str,
    token: str,
    book: SyntheticAdsBook,
    provider: Any,
    drain_stream: Callable[[], None],
    tick: Tick,
    day: dt.date | None = None,
) -> Iterator[str]:
    """Seed the hourly history, stream live hours on ``day`` (default: two days after the
    book's last), switch hourly scans on, tick twice."""
    began = time.perf_counter()
    schedule_hourly = partial(_schedule_hourly, api, token, profile)
    subscribed = provider.subscriptions.get(book.ads_profile_id, {})
    yield (
        "Marketing Stream subscriptions (made by the first sync, POST /streams/subscriptions): "
        + ", ".join(f"{d} → {s[0][:24]}…" for d, s in sorted(subscribed.items()))
    )
    keywords = streamed_keywords(book)
    day = day or book.last_day + dt.timedelta(days=2)  # the day of the second sync
    first_live = dt.datetime.combine(day, dt.time(BUDGET_OUT_HOUR - 1))
    written = seed_history(tenant, profile, keywords, first_live, seed=5)
    yield (
        f"hourly history: {len(keywords)} keywords of {STREAMED_CAMPAIGNS} campaigns × "
        f"{HISTORY_DAYS} days = {written:,} keyword-hours (seeded in the store)"
    )
    status, answer = schedule_hourly()
    why = answer.get("message") or answer.get("detail") or answer
    yield f"PUT /profiles/{profile}/schedule {{interval 1h}} before any hour streamed → {status}"
    yield f"  {why}"
    rng = np.random.default_rng(17)
    stopped = keywords[0].ids["campaign_id"]
    delivered: list[dict[str, Any]] = []
    for offset, label in ((0, "a normal hour"), (1, "the budget runs out")):
        hour = first_live + dt.timedelta(hours=offset)
        drawn = draw_hour(keywords, hour, rng, stopped if offset else None)
        delivered = records_of(book.ads_profile_id, hour, keywords, drawn)
        sent = provider.deliver(book.ads_profile_id, delivered)
        drain_stream()
        shown = _campaign_hour(tenant, profile, f"cp-{stopped}", hour)
        yield (
            f"{hour:%H:%M} {label}: {sent} stream records → queue → stream_ingest; "
            f"campaign cp-{stopped} impressions {shown:.0f}"
        )
        if offset == 0:
            status, answer = schedule_hourly()
            yield f"PUT /profiles/{profile}/schedule {{interval 1h}} → {status} {answer}"
        at = hour + dt.timedelta(hours=1)
        yield f"hourly tick {at:%H:%M} → {_alerts_line(tenant, profile, tick(at))}"
    serving = "cp-" + keywords[-1].ids["campaign_id"]  # a campaign still serving
    before = _campaign_hour(tenant, profile, serving, hour)
    provider.deliver(book.ads_profile_id, delivered)  # Amazon delivers at least once
    drain_stream()
    after = _campaign_hour(tenant, profile, serving, hour)
    yield (
        f"the {hour:%H:%M} records delivered again: campaign impressions {before:.0f} → "
        f"{after:.0f} (nothing counted twice); latest streamed hour "
        f"{StreamStore().latest_hour(tenant, profile)}"
    )
    for group in IncidentStore().groups(tenant, profile):
        if group.first_period.startswith(day.isoformat() + "T"):
            yield f"  {group.headline} · {group.first_period} · {group.members} alerts"
            yield f"      {group.cause}"
    yield f"hourly part took {time.perf_counter() - began:.1f}s"


def _alerts_line(tenant: str, profile: str, runs: list[dict[str, Any]]) -> str:
    from tripwire.service.fanout import progress

    found = [progress(r["tenant_id"], r["run_id"]) for r in runs if r["profile_id"] == profile]
    alerts = sum(len(run.alert_ids) for run in found if run is not None)
    return f"{len(found)} run, {alerts} alert{'s' if alerts != 1 else ''}"
