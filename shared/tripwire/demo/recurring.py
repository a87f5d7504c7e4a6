"""Recurring behaviours a PPC manager knows are fine and a weekly baseline cannot learn.

Planted only with ``GeneratorConfig.recurring_patterns``, in the history and the incident
period alike, on keywords no keyword- or campaign-level incident touches (and never on a
day an incident touches the keyword), so the incidents and their labels stay as they were.
They are *not* incidents: an alert on them is a false alert, the kind a user labels "not an
anomaly" — and, unlike the noise, the kind that comes back on the same keyword the same way.

* **Recurring promotion** (``keyword_promotion``): a coupon or Lightning Deal on a keyword
  every ``PROMOTION_PERIODS`` days (one of them per keyword, never a multiple of 7, so no
  weekday profile absorbs it), one day each time: the deal badge wins placements
  (impressions ×3–5), shoppers click (CTR ×1.5–2) and buy (CVR ×2–3) — clicks, orders and
  sales jump together. The same deal each time: the multipliers are drawn once per
  keyword.
* **Payday bid rule** (``payday_bid_rule``): a rule raises a keyword's bids on the 1st and
  the 15th of each month (US paydays; the budget is topped up then): CPC ×2–3 and
  impressions ×1.3–1.6 for the day, so spend jumps while orders barely follow. Twice a
  month, so a 30-day incident period holds it twice.

Keywords carrying a pattern are busy ones (at least ``MIN_CLICKS`` expected clicks a day in
the history), or a day's jump would drown in Poisson noise and no one would be alerted.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np

from tripwire.demo.config import GeneratorConfig
from tripwire.demo.hierarchy import Layout
from tripwire.demo.incidents import Incident
from tripwire.demo.traffic import Drivers

RECURRING_KINDS = ("keyword_promotion", "payday_bid_rule")
PROMOTION_PERIODS = (5, 6, 8, 9, 10)  # days between a keyword's deals
PAYDAYS = (1, 15)  # days of the month the bid rule fires
MIN_CLICKS = 5.0


@dataclass(frozen=True)
class RecurringPattern:
    kind: str  # one of RECURRING_KINDS
    keyword: str  # the keyword id it recurs on
    days: tuple[datetime.date, ...]  # every day it was on, history and incident period
    description: str


def plant_recurring(
    config: GeneratorConfig,
    layout: Layout,
    drivers: Drivers,
    incidents: list[Incident],
    rng: np.random.Generator,
) -> list[RecurringPattern]:
    """Pick busy keywords free of keyword/campaign incidents, scale their rates on the
    pattern days (skipping any day an incident holds the keyword) and describe them."""
    index = {k: i for i, k in enumerate(layout.keyword_ids)}
    held = np.zeros(drivers.impressions.shape, dtype=bool)  # (day, keyword) an incident holds
    taken: set[int] = set()
    for inc in incidents:
        cols = [index[k] for k in inc.affected]
        first = (inc.start - config.start).days
        held[first : first + (inc.end - inc.start).days + 1, cols] = True
        if inc.level in ("keyword", "campaign"):
            taken.update(cols)
    history = config.days - config.incident_days
    clicks = (drivers.impressions[:history] * drivers.ctr[:history]).mean(axis=0)
    busy = [k for k in np.flatnonzero(clicks >= MIN_CLICKS).tolist() if k not in taken]
    n_promo = max(4, round(config.keywords / 50))
    n_payday = max(2, round(config.keywords / 125))
    if len(busy) < n_promo + n_payday:  # a small account: share its busy keywords alike
        n_payday = len(busy) * n_payday // (n_promo + n_payday)
        n_promo = len(busy) - n_payday
    picked = rng.permutation(busy)[: n_promo + n_payday].tolist()
    dates = [config.start + datetime.timedelta(d) for d in range(config.days)]
    out = []
    for j, k in enumerate(sorted(picked[:n_promo]) + sorted(picked[n_promo:])):
        if j < n_promo:
            period = int(rng.choice(PROMOTION_PERIODS))
            phase = int(rng.integers(period))
            on = [d for d in range(config.days) if d % period == phase]
            imp, ctr, cvr = (float(rng.uniform(*r)) for r in ((3, 5), (1.5, 2), (2, 3)))
            cpc = 1.0
            kind = "keyword_promotion"
            text = (
                f"A deal on keyword '{layout.keyword_texts[k]}' ({layout.keyword_ids[k]}) every "
                f"{period} days: impressions ×{imp:.1f}, CTR ×{ctr:.1f}, CVR ×{cvr:.1f}."
            )
        else:
            on = [d for d in range(config.days) if dates[d].day in PAYDAYS]
            imp, cpc = float(rng.uniform(1.3, 1.6)), float(rng.uniform(2, 3))
            ctr = cvr = 1.0
            kind = "payday_bid_rule"
            text = (
                f"A bid rule raises keyword '{layout.keyword_texts[k]}' ({layout.keyword_ids[k]})"
                f" on paydays (the 1st and 15th): CPC ×{cpc:.1f}, impressions ×{imp:.1f}."
            )
        on = [d for d in on if not held[d, k]]
        drivers.impressions[on, k] *= imp
        drivers.ctr[on, k] *= ctr
        drivers.cpc[on, k] *= cpc
        drivers.cvr[on, k] *= cvr
        keyword = layout.keyword_ids[k]
        out.append(RecurringPattern(kind, keyword, tuple(dates[d] for d in on), text))
    return out
