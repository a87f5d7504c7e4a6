"""The reporting-lag curve: what share of a period's settled orders and sales Amazon has
reported when the period is ``age`` days old.

Amazon attributes sales up to ~48 h late and restates roughly the last
``LATE_ATTRIBUTION_PERIODS`` days, so a provisional day's figures are a fraction of what
they settle at. A profile's curve is learnt from its restatements — the first-seen figure
of each (entity, day) at the age it was first imported, against the settled one — with
``DEFAULT_CURVE`` as the prior (``PRIOR_ORDERS`` pseudo-orders per age), so a young profile
starts from the default and its own history takes over as restatements accumulate.

DEFAULT_CURVE (ages 0, 1, 2): 0.70, 0.90, 0.97 of the settled orders. Amazon documents only
the window ("up to 48 hours", "restated for ~3 days"), not the shares; these are a
conservative reading of it (most orders of an ad click are placed within hours, a tail
within two days), and the learnt curve replaces them per profile.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tripwire.features.ppc import LATE_ATTRIBUTION_PERIODS

FloatArray = npt.NDArray[np.float64]

DEFAULT_CURVE: tuple[float, ...] = (0.70, 0.90, 0.97)
PRIOR_ORDERS = 50.0  # the default curve weighs as much as this many restated orders per age
_FLOOR = 0.05  # a share is never learnt below this (a day with no orders at all seen yet)

assert len(DEFAULT_CURVE) == LATE_ATTRIBUTION_PERIODS


def learn_curve(
    ages: npt.ArrayLike,
    first_seen: npt.ArrayLike,
    settled: npt.ArrayLike,
    prior: Sequence[float] = DEFAULT_CURVE,
) -> tuple[float, ...]:
    """The curve from restatements, one entry per (entity, day): the age at which its orders
    were first seen, how many, and how many it settled at. Shares pooled per age, shrunk
    towards ``prior``, never falling with age."""
    age = np.asarray(ages, dtype=np.int64)
    final = np.asarray(settled, dtype=np.float64)
    first = np.minimum(np.asarray(first_seen, dtype=np.float64), final)
    keep = (age >= 0) & (age < len(prior)) & (final > 0)
    seen = np.bincount(age[keep], first[keep], len(prior))
    total = np.bincount(age[keep], final[keep], len(prior))
    shares = (seen + PRIOR_ORDERS * np.asarray(prior)) / (total + PRIOR_ORDERS)
    shares = np.maximum.accumulate(np.clip(shares, _FLOOR, 1.0))
    return tuple(float(s) for s in shares)


def completeness(
    periods: int, latest_age: int, curve: Sequence[float] = DEFAULT_CURVE
) -> FloatArray:
    """(periods,) share of settled orders reported so far for each period of a window whose
    last period is ``latest_age`` days old (older periods are older by their offset)."""
    ages = latest_age + np.arange(periods - 1, -1, -1)
    out = np.ones(periods)
    young = ages < len(curve)
    out[young] = np.asarray(curve)[ages[young]]
    return out
