"""What an anomaly costs, from the baseline's expected against the actual values.

For one entity and period (an alert), in the profile's currency:

* **wasted spend**: spend above expected that sales did not follow. The extra spend should
  have brought sales at the expected ROAS; the share of that the sales above expected did
  bring is not waste. Spend up with sales following in proportion wastes nothing.
* **sales at risk**: expected minus actual sales (0 when sales held). On a provisional
  period Amazon is still attributing sales, so the figure is marked provisional.
* **performance degradation**: the relative change of the measure that moved most (the
  alert's top explained feature): (actual − expected) / expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire.domain.alerts import Impact
from tripwire.features.ppc import INDEX

_SPEND, _SALES = INDEX["spend"], INDEX["sales"]


def impact(
    expected: npt.NDArray[np.float64],
    actual: npt.NDArray[np.float64],
    explanation: Sequence[Mapping[str, Any]],
    *,
    provisional: bool,
    currency: str,
) -> Impact:
    """One row's impact: ``expected`` and ``actual`` are its (10,) features in natural units,
    ``explanation`` its attributions (feature, contribution, …), strongest anywhere."""
    spend_e, spend_a = float(expected[_SPEND]), float(actual[_SPEND])
    sales_e, sales_a = float(expected[_SALES]), float(actual[_SALES])
    extra_spend = max(spend_a - spend_e, 0.0)
    owed = extra_spend * (sales_e / spend_e) if spend_e > 0 else 0.0  # at the expected ROAS
    gained = max(sales_a - sales_e, 0.0)
    # with no expected ROAS to judge by, any sales gain counts as following
    followed = min(gained / owed, 1.0) if owed > 0 else float(gained > 0)
    wasted = extra_spend * (1.0 - followed)
    at_risk = max(sales_e - sales_a, 0.0)
    measure, degradation = _moved(expected, actual, explanation)
    return Impact(
        currency=currency,
        revenue_impact=round(wasted + at_risk, 2),
        wasted_spend=round(wasted, 2),
        sales_at_risk=round(at_risk, 2),
        provisional=provisional and at_risk > 0,
        measure=measure,
        performance_degradation=degradation,
        expected_spend=round(spend_e, 2),
        actual_spend=round(spend_a, 2),
        expected_sales=round(sales_e, 2),
        actual_sales=round(sales_a, 2),
    )


def _moved(
    expected: npt.NDArray[np.float64],
    actual: npt.NDArray[np.float64],
    explanation: Sequence[Mapping[str, Any]],
) -> tuple[str | None, float]:
    if not explanation:
        return None, 0.0
    top = max(explanation, key=lambda e: abs(float(e["contribution"])))
    feature = str(top["feature"])
    e, a = float(expected[INDEX[feature]]), float(actual[INDEX[feature]])
    if e > 0:
        return feature, round((a - e) / e, 4)
    return feature, 1.0 if a > 0 else 0.0
