"""Labelled incidents planted in the last ``incident_days`` days of the clean traffic.

Each incident is a multiplier on the impression rate, the CPC or the CVR of its keywords for
1–4 days, applied *before* counts are sampled so they stay self-consistent. No keyword-day
carries two incidents, so every label is unambiguous. Roots are picked among entities busy
enough for the incident to be real (a conversion collapse hits a keyword that normally has
orders daily), both in the history and on the incident days themselves. Incidents that only
drop orders/sales are kept out of the last ``LATE_ATTRIBUTION_DAYS`` days, which Amazon
restates (attributed sales arrive up to 48 h late), so no label sits where a detector should
stay provisional.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire.demo.config import GeneratorConfig
from tripwire.demo.hierarchy import IntArray, Layout
from tripwire.demo.traffic import Drivers, FloatArray

LATE_ATTRIBUTION_DAYS = 3  # Amazon restates roughly the last three days of sales and orders.

_LEVELS = ("account", "portfolio", "campaign", "keyword")  # widest first


@dataclass(frozen=True)
class Incident:
    incident_id: str
    kind: str
    level: str  # "keyword" | "campaign" | "portfolio" | "account"
    root_entity: str
    start: datetime.date
    end: datetime.date  # inclusive
    affected: tuple[str, ...]  # keyword ids whose raw metrics were changed
    metrics: tuple[str, ...]  # measures that move, e.g. ("cpc", "spend")
    direction: str  # "up" | "down"
    description: str


@dataclass(frozen=True)
class _Kind:
    kind: str
    level: str
    metrics: tuple[str, ...]
    direction: str
    days: tuple[int, int]  # shortest, longest duration
    imp: tuple[float, float]  # multiplier range on the impression rate
    cpc: tuple[float, float]
    cvr: tuple[float, float]
    min_clicks: float  # a root needs this many expected clicks a day to show the incident
    min_orders: float
    sentence: str
    ctr: tuple[float, float] = (1.0, 1.0)
    # "clicks": CTR moves inversely to impressions (clicks stay); "orders": CVR moves
    # inversely to CTR (the extra clicks never buy). Relations break, counts barely move.
    keep: str = ""
    # Relation incidents stay on keywords whose counts are small enough that no single
    # measure leaves its own noise band: only the combination is odd.
    max_clicks: float = float("inf")

    def shows_at(self, clicks: npt.NDArray[Any], orders: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        """Is this much expected daily traffic enough (and not too much) for the incident?"""
        return (
            (clicks >= self.min_clicks) & (orders >= self.min_orders) & (clicks <= self.max_clicks)
        )


_NO = (1.0, 1.0)
_KINDS = (
    _Kind(
        "account_tracking_outage", "account", ("orders", "sales"), "down", (1, 2),
        _NO, _NO, (0.0, 0.0), 0.0, 0.0,
        "Conversion tracking failed account-wide: orders and sales were 0 on all {n} keywords"
        " while impressions and clicks stayed normal.",
    ),
    _Kind(
        "portfolio_bid_change", "portfolio", ("cpc", "impressions", "spend"), "up", (1, 4),
        (1.35, 1.8), (1.6, 2.0), _NO, 0.0, 0.0,
        "A bid change across portfolio '{name}' ({id}) raised CPC ×{cpc:.1f} and impressions"
        " ×{imp:.1f} on its {n} keywords, pushing spend up.",
    ),
    _Kind(
        "campaign_paused", "campaign",
        ("impressions", "clicks", "spend", "orders", "sales"), "down", (1, 4),
        (0.0, 0.0), _NO, _NO, 30.0, 0.0,
        "Campaign '{name}' ({id}) was paused: its {n} keywords had zero impressions, clicks,"
        " spend, orders and sales.",
    ),
    _Kind(
        "campaign_budget_exhausted", "campaign", ("impressions", "clicks", "spend"), "down",
        (1, 4), (0.0, 0.1), _NO, _NO, 30.0, 0.0,
        "Campaign '{name}' ({id}) ran out of daily budget early: impressions, clicks and spend"
        " fell to ×{imp:.2f} across its {n} keywords.",
    ),
    _Kind(
        "campaign_spend_spike", "campaign", ("cpc", "spend"), "up", (1, 4),
        _NO, (2.5, 3.5), _NO, 30.0, 0.0,
        "Misconfigured bids in campaign '{name}' ({id}) raised CPC ×{cpc:.1f} on all {n}"
        " keywords, so spend spiked.",
    ),
    _Kind(
        "keyword_cpc_spike", "keyword", ("cpc", "spend"), "up", (1, 4),
        _NO, (2.5, 4.0), _NO, 15.0, 0.0,
        "CPC of keyword '{name}' ({id}) jumped ×{cpc:.1f}, pushing its spend up.",
    ),
    _Kind(
        "keyword_conversion_collapse", "keyword", ("orders", "sales"), "down", (1, 4),
        _NO, _NO, (0.0, 0.03), 0.0, 2.0,
        "Keyword '{name}' ({id}) kept its clicks but its orders and sales collapsed to about"
        " zero (conversion ×{cvr:.2f}).",
    ),
    _Kind(
        "keyword_impression_surge", "keyword", ("impressions", "clicks"), "up", (1, 4),
        (4.0, 8.0), _NO, _NO, 3.0, 0.0,
        "Impressions of keyword '{name}' ({id}) surged ×{imp:.1f} and its clicks followed.",
    ),
    _Kind(
        "keyword_zero_impressions", "keyword", ("impressions", "clicks", "spend"), "down",
        (1, 4), (0.0, 0.0), _NO, _NO, 3.0, 0.0,
        "Keyword '{name}' ({id}) suddenly got zero impressions (listing suppressed or out of"
        " stock).",
    ),
)  # fmt: skip
INCIDENT_KINDS = tuple(k.kind for k in _KINDS)

# Broken relations between measures that each stay inside their own noise (planted only
# with ``GeneratorConfig.relation_incidents``): what a per-measure count model cannot see
# and a multivariate or sequence detector might.
_RELATION_KINDS = (
    _Kind(
        "keyword_bot_clicks", "keyword", ("ctr", "clicks", "spend", "cvr", "acos"), "up",
        (2, 4), _NO, _NO, _NO, 6.0, 0.5,
        "Keyword '{name}' ({id}) drew bot clicks: CTR ×{ctr:.2f} on normal impressions, so"
        " clicks and spend rose while orders did not follow (CVR ×{cvr:.2f}).",
        ctr=(1.5, 1.8), keep="orders", max_clicks=25.0,
    ),
    _Kind(
        "keyword_placement_shift", "keyword", ("impressions", "ctr", "cvr", "orders"), "down",
        (2, 4), (1.5, 1.8), _NO, (0.5, 0.65), 6.0, 0.5,
        "Keyword '{name}' ({id}) moved to poorer placements: impressions ×{imp:.2f} at CTR"
        " ×{ctr:.2f} (clicks unchanged) and CVR ×{cvr:.2f}.",
        keep="clicks", max_clicks=25.0,
    ),
)  # fmt: skip
RELATION_KINDS = tuple(k.kind for k in _RELATION_KINDS)

# Slow collapses (planted only with ``GeneratorConfig.attribution_lag``): a busy keyword's
# conversions stop for days — no single day far outside its noise, the run is.
_LAG_KINDS = (
    _Kind(
        "keyword_conversions_stopped", "keyword", ("orders", "sales"), "down", (3, 5),
        _NO, _NO, (0.0, 0.0), 0.0, 3.0,
        "Keyword '{name}' ({id}) kept its clicks but stopped converting: no orders for days"
        " (conversion ×{cvr:.2f}).",
    ),
)  # fmt: skip
LAG_KINDS = tuple(k.kind for k in _LAG_KINDS)


def plant_incidents(
    config: GeneratorConfig, layout: Layout, drivers: Drivers, rng: np.random.Generator
) -> list[Incident]:
    """Place incidents without overlap in (keyword, day) and apply them to the drivers."""
    first = config.days - config.incident_days
    traffic = _Traffic.of(drivers, first)  # before any incident edits the drivers
    busy = np.zeros((config.incident_days, len(layout.keyword_ids)), dtype=bool)
    placed: list[tuple[int, int, Incident]] = []
    used: set[str] = set()
    # Widest incidents first: they need the most free room. Relation kinds come last, so
    # the classic incidents of a seed are the same with or without them.
    kinds = _KINDS + (_RELATION_KINDS if config.relation_incidents else ())
    kinds += _LAG_KINDS if config.attribution_lag else ()
    # Without the lag modelled, orders/sales-only drops stay out of the restated days (no
    # one could confirm them); with it, they may fall there: provisional alerts are asked.
    tail = 0 if config.attribution_lag else LATE_ATTRIBUTION_DAYS
    for kind in kinds:
        need = _incident_count(kind, config)
        if need == 0:
            continue
        cands, floor = _candidates(kind, _roots(kind.level, config, layout), traffic, need)
        for j in range(need):
            # With the lag modelled, the last account outage starts on a provisional day:
            # the case a user most wants told the next morning.
            late = tail == 0 and kind.level == "account" and j == need - 1
            earliest = config.incident_days - LATE_ATTRIBUTION_DAYS + 1 if late else 0
            found = traffic if floor else None
            spot = _find_spot(kind, cands, used, busy, found, rng, tail, earliest)
            if spot is None and floor:  # nothing busy enough is free: take a quieter spot
                spot = _find_spot(kind, cands, used, busy, None, rng, tail, earliest)
            if spot is None:
                continue  # no room left for this kind: plant fewer rather than overlap
            root, start, length = spot
            busy[start : start + length, root.keywords] = True
            used.add(root.entity_id)
            day = slice(first + start, first + start + length)
            incident = _apply(kind, root, day, config, layout, drivers, rng)
            placed.append((start, _LEVELS.index(kind.level), incident))
    placed.sort(key=lambda t: (t[0], t[1], t[2].root_entity, t[2].kind))
    return [
        dataclasses.replace(inc, incident_id=f"{config.account_id}-INC{i + 1:03d}")
        for i, (_, _, inc) in enumerate(placed)
    ]


def _incident_count(kind: _Kind, config: GeneratorConfig) -> int:
    """How many incidents of a kind to plant: at least two, more for larger accounts."""
    if config.incident_days == 0:
        return 0
    if kind in _LAG_KINDS:  # enough slow collapses for their recall to mean something
        return max(4, round(config.keywords / 125))
    if kind.keep:  # relation kinds: enough of them for a per-detector recall to mean something
        return max(4, round(config.keywords / 125))
    if kind.level == "account":
        return 2 if config.incident_days >= 14 else 1
    if kind.level == "portfolio":
        return 0 if config.portfolios == 0 else max(2, config.portfolios // 2)
    if kind.level == "campaign":
        return max(2, round(config.campaigns / 15))
    return max(2, round(config.keywords / 350))


@dataclass(frozen=True)
class _Root:
    entity_id: str
    name: str
    keywords: IntArray  # keyword indices below this root, ascending


def _roots(level: str, config: GeneratorConfig, layout: Layout) -> list[_Root]:
    n_k = len(layout.keyword_ids)
    camp = layout.keyword_campaign
    if level == "account":
        acct = config.account_id
        return _group([acct], [acct], np.zeros(n_k, dtype=np.int64))
    if level == "portfolio":
        port = layout.campaign_portfolio[camp]
        return _group(layout.portfolio_ids, layout.portfolio_names, port)
    if level == "campaign":
        return _group(layout.campaign_ids, layout.campaign_names, camp)
    return _group(layout.keyword_ids, layout.keyword_texts, np.arange(n_k, dtype=np.int64))


def _group(ids: list[str], names: list[str], owner: IntArray) -> list[_Root]:
    """One root per id, holding the keywords whose ``owner`` is its position (-1: none)."""
    order = np.argsort(owner, kind="stable")  # stable: keyword indices stay ascending
    bounds = np.searchsorted(owner[order], np.arange(len(ids) + 1)).tolist()
    return [
        _Root(i, name, order[lo:hi])
        for i, name, lo, hi in zip(ids, names, bounds[:-1], bounds[1:], strict=True)
    ]


@dataclass(frozen=True)
class _Traffic:
    """Expected (noise-free, incident-free) clicks and orders per day and keyword."""

    clicks: FloatArray  # (D, K)
    orders: FloatArray
    first: int  # first day of the incident period

    @classmethod
    def of(cls, drivers: Drivers, first: int) -> _Traffic:
        clicks = drivers.impressions * drivers.ctr
        return cls(clicks, clicks * drivers.cvr, first)

    def busy_enough(self, kind: _Kind, keywords: IntArray, days: slice) -> bool:
        """Does the root carry enough traffic on these days for the incident to show?"""
        n = days.stop - days.start
        clicks = self.clicks[days, keywords].sum() / n
        orders = self.orders[days, keywords].sum() / n
        return bool(kind.shows_at(clicks, orders))


def _candidates(
    kind: _Kind, roots: list[_Root], traffic: _Traffic, need: int
) -> tuple[list[_Root], bool]:
    """Roots that are normally busy enough for the incident to be a real, visible one.

    Returns the roots and whether the traffic floor still applies (False after falling back
    to the busiest roots of a small account)."""
    history = slice(0, traffic.first)
    # Roots of one level partition the keywords: one bincount sums them all.
    label = np.zeros(traffic.clicks.shape[1], dtype=np.int64)
    for i, root in enumerate(roots):
        label[root.keywords] = i
    clicks = np.bincount(label, traffic.clicks[history].mean(axis=0), len(roots))
    orders = np.bincount(label, traffic.orders[history].mean(axis=0), len(roots))
    ok = kind.shows_at(clicks, orders)
    if ok.sum() >= need:
        return [r for r, keep in zip(roots, ok.tolist(), strict=True) if keep], True
    score = orders if kind.min_orders > 0 else clicks
    top = np.argsort(-score, kind="stable")[: max(need * 2, 1)]
    return [roots[i] for i in sorted(top.tolist())], False


def _find_spot(
    kind: _Kind,
    cands: list[_Root],
    used: set[str],
    busy: npt.NDArray[np.bool_],
    traffic: _Traffic | None,
    rng: np.random.Generator,
    restated: int = LATE_ATTRIBUTION_DAYS,
    earliest: int = 0,
) -> tuple[_Root, int, int] | None:
    """A random free (root, start, length), busy enough on those very days when ``traffic``
    is given (drift can make a normally busy keyword quiet for a while). Roots not yet used
    by an incident come first."""
    window = busy.shape[0]
    first = traffic.first if traffic else 0
    length = int(rng.integers(kind.days[0], kind.days[1] + 1))
    # Orders/sales-only drops stay out of the restated days, or no one could confirm them.
    tail = restated if kind.cvr != _NO else 0
    last_start = window - length - tail
    if last_start < 0:
        return None
    order = rng.permutation(len(cands))
    fresh = [cands[i] for i in order if cands[i].entity_id not in used]
    reused = [cands[i] for i in order if cands[i].entity_id in used]
    for root in fresh + reused:
        for start in rng.permutation(last_start + 1).tolist():
            if start < earliest:
                continue
            if busy[start : start + length, root.keywords].any():
                continue
            days = slice(first + start, first + start + length)
            if traffic is None or traffic.busy_enough(kind, root.keywords, days):
                return root, start, length
    return None


def _apply(
    kind: _Kind,
    root: _Root,
    day: slice,
    config: GeneratorConfig,
    layout: Layout,
    drivers: Drivers,
    rng: np.random.Generator,
) -> Incident:
    """Scale the root's keyword rates for the incident days and describe what happened."""
    imp, cpc, cvr = (float(rng.uniform(*r)) for r in (kind.imp, kind.cpc, kind.cvr))
    ctr = float(rng.uniform(*kind.ctr)) if kind.ctr != _NO else 1.0
    if kind.keep == "clicks":
        ctr = 1.0 / imp
    elif kind.keep == "orders":
        cvr = 1.0 / ctr
    cols = root.keywords
    drivers.impressions[day, cols] *= imp
    drivers.ctr[day, cols] *= ctr
    drivers.cpc[day, cols] *= cpc
    drivers.cvr[day, cols] *= cvr
    start = config.start + datetime.timedelta(days=day.start)
    text = kind.sentence.format(
        name=root.name, id=root.entity_id, n=len(cols), imp=imp, cpc=cpc, cvr=cvr, ctr=ctr
    )
    return Incident(
        incident_id="",
        kind=kind.kind,
        level=kind.level,
        root_entity=root.entity_id,
        start=start,
        end=start + datetime.timedelta(days=day.stop - day.start - 1),
        affected=tuple(layout.keyword_ids[i] for i in cols.tolist()),
        metrics=kind.metrics,
        direction=kind.direction,
        description=text,
    )
