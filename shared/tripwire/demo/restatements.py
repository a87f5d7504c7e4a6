"""Attribution lag and restatements: what an account's orders and sales looked like when each
day was first reported, before Amazon restated it.

Amazon attributes a click's orders up to ~48 h late and restates the last
``LATE_ATTRIBUTION_DAYS`` days, so a day seen at age 0, 1 or 2 shows only part of what it
settles at. The generator models it as nested binomial thinning of each keyword-day's
settled orders (an order seen at age a is still there at age a + 1), with shares
``LAG_CURVE`` — on purpose not ``tripwire.features.lag.DEFAULT_CURVE``, so the detector's
default is not the truth it is judged on. Sales follow their orders (the same share of the
day's sales as of its orders).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tripwire.demo.config import GeneratorConfig
from tripwire.demo.incidents import LATE_ATTRIBUTION_DAYS
from tripwire.service.backtest import FirstSeenSeries
from tripwire.service.series import ProfileSeries


class _Account(Protocol):
    """What ``first_seen_series`` reads of a ``GeneratedAccount`` (which holds a FirstSeen)."""

    @property
    def entities(self) -> list[dict[str, str]]: ...
    @property
    def metrics(self) -> npt.NDArray[np.void]: ...
    @property
    def config(self) -> GeneratorConfig: ...
    @property
    def first_seen(self) -> FirstSeen | None: ...


LAG_CURVE: tuple[float, ...] = (0.62, 0.86, 0.96)  # share of settled orders seen at age 0, 1, 2

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FirstSeen:
    """Orders and sales of every (day, keyword) as reported at each age before settling."""

    orders: IntArray  # (LATE_ATTRIBUTION_DAYS, D, K): [a] = as reported at age a
    sales: FloatArray  # (LATE_ATTRIBUTION_DAYS, D, K) dollars


def first_seen(
    orders: IntArray,
    sales: FloatArray,
    rng: np.random.Generator,
    curve: tuple[float, ...] = LAG_CURVE,
) -> FirstSeen:
    """Thin settled (D, K) orders back through the ages, oldest first."""
    assert len(curve) == LATE_ATTRIBUTION_DAYS
    seen_orders = np.zeros((len(curve), *orders.shape), dtype=np.int64)
    later, later_share = orders, 1.0
    for age in range(len(curve) - 1, -1, -1):
        later = rng.binomial(later, curve[age] / later_share).astype(np.int64)
        seen_orders[age], later_share = later, curve[age]
    share = np.divide(seen_orders, orders, out=np.zeros(seen_orders.shape), where=orders > 0)
    return FirstSeen(seen_orders, np.round(sales[None] * share, 2))


def first_seen_series(account: _Account, profile: ProfileSeries) -> FirstSeenSeries | None:
    """The account's first-seen orders and sales rolled up to every entity of the profile
    (leaves sum into each ancestor), in the profile's row and day order."""
    seen = account.first_seen
    if seen is None:
        return None
    parent = {e["entity_id"]: e["parent_id"] or None for e in account.entities}
    row = {e.entity_id: i for i, e in enumerate(profile.entities)}
    keywords = list(dict.fromkeys(account.metrics["entity_id"].tolist()))
    ages, days = seen.orders.shape[0], seen.orders.shape[1]
    offset = (account.config.start - profile.first_day).days
    orders = np.zeros((ages, len(profile.entities), profile.days))
    sales = np.zeros_like(orders)
    for k, keyword in enumerate(keywords):
        node: str | None = keyword
        while node:
            orders[:, row[node], offset : offset + days] += seen.orders[:, :, k]
            sales[:, row[node], offset : offset + days] += seen.sales[:, :, k]
            node = parent.get(node)
    return FirstSeenSeries(orders, sales)
