"""The PPC feature set, declared once: five raw measures and five zero-safe ratios.

Definitions (per entity and period; every ratio is 0 when its denominator is 0, so no
division by zero and no NaN or inf ever reaches a model):

* ``ctr``  = clicks / impressions          (click-through rate)
* ``cpc``  = spend / clicks                (cost per click, $)
* ``acos`` = spend / sales                 (advertising cost of sales); spend with no sales
  is capped at ``ACOS_CAP`` (1,000 %), the value a user reads as "spend, no sales"
* ``cvr``  = orders / clicks               (conversion rate)
* ``roas`` = sales / spend                 (return on ad spend)

Raw values are cleaned first: NaN and negatives become 0, +inf becomes a large finite
number. Ratios are computed from rolled-up sums, never summed themselves.

Sales and orders are attributed late (Amazon restates roughly the last
``LATE_ATTRIBUTION_PERIODS`` days), so ``SALES_SIDE`` names the features whose drops are
provisional in those periods.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tripwire.domain.metrics import PPC_MEASURES

FloatArray = npt.NDArray[np.float64]

RAW: tuple[str, ...] = PPC_MEASURES  # impressions, clicks, spend, sales, orders
DERIVED: tuple[str, ...] = ("ctr", "cpc", "acos", "cvr", "roas")
FEATURES: tuple[str, ...] = RAW + DERIVED
INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURES)}

COUNT_MEASURES: tuple[str, ...] = ("impressions", "clicks", "orders")
MONEY_MEASURES: tuple[str, ...] = ("spend", "sales")

ACOS_CAP = 10.0
LATE_ATTRIBUTION_PERIODS = 3
# Features that fall when late-attributed sales or orders are still missing (acos rises).
SALES_SIDE: tuple[str, ...] = ("sales", "orders", "cvr", "roas")
SALES_SIDE_RISING: tuple[str, ...] = ("acos",)

_FINITE_MAX = 1e15  # larger than any real account's yearly spend


def clean(raw: npt.ArrayLike) -> FloatArray:
    """Raw measures as finite, non-negative float64 (NaN and negatives → 0)."""
    arr = np.asarray(raw, dtype=np.float64)
    return np.clip(np.nan_to_num(arr, nan=0.0, posinf=_FINITE_MAX, neginf=0.0), 0.0, _FINITE_MAX)


def ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    """num / den where den > 0, else 0 (element-wise, no warnings)."""
    out = np.zeros(np.broadcast(num, den).shape)
    with np.errstate(over="ignore"):  # a huge ratio is clipped by the caller
        np.divide(num, den, out=out, where=den > 0)
    return np.minimum(out, _FINITE_MAX)


def derive(raw: npt.ArrayLike) -> FloatArray:
    """(..., 5) raw measures in ``RAW`` order → (..., 10) features in ``FEATURES`` order."""
    x = clean(raw)
    if x.shape[-1] != len(RAW):
        raise ValueError(f"expected {len(RAW)} raw measures on the last axis, got {x.shape}")
    imp, clicks, spend, sales, orders = (x[..., i] for i in range(len(RAW)))
    acos = np.where((sales <= 0) & (spend > 0), ACOS_CAP, np.minimum(ratio(spend, sales), ACOS_CAP))
    derived = np.stack(
        [
            ratio(clicks, imp),
            ratio(spend, clicks),
            acos,
            ratio(orders, clicks),
            ratio(sales, spend),
        ],
        axis=-1,
    )
    return np.asarray(np.clip(np.concatenate([x, derived], axis=-1), 0.0, _FINITE_MAX))
