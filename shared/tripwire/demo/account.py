"""What ``generate`` returns: the entities, the keyword metrics table and the planted truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tripwire.demo.config import GeneratorConfig
from tripwire.demo.incidents import Incident
from tripwire.demo.recurring import RecurringPattern
from tripwire.demo.restatements import FirstSeen
from tripwire.demo.traffic import Counts

METRIC_COLUMNS = ("date", "entity_id", "impressions", "clicks", "spend", "sales", "orders")


@dataclass(frozen=True)
class GeneratedAccount:
    """The account: entity rows (parents before children), keyword metrics, planted truth.

    ``metrics`` is a numpy structured array with the fields of ``METRIC_COLUMNS`` (dtype
    ``metrics_dtype(width)``: date datetime64[D], entity_id str, impressions/clicks/orders
    int64, spend/sales float64 dollars rounded to cents), one row per keyword per day, sorted
    by date then entity_id, so ``metrics.reshape(config.days, -1)`` is day × keyword.
    """

    entities: list[dict[str, str]]  # entity_id, entity_type, parent_id, name
    metrics: npt.NDArray[np.void]
    incidents: list[Incident]
    config: GeneratorConfig
    # Orders and sales as first reported (``config.attribution_lag``), before restatement.
    first_seen: FirstSeen | None = None
    # Recurring behaviours that are not incidents (``config.recurring_patterns``).
    recurring: tuple[RecurringPattern, ...] = ()


def metrics_dtype(id_width: int = 16) -> np.dtype[np.void]:
    """The structured dtype of ``GeneratedAccount.metrics`` (entity ids up to ``id_width``;
    the generator uses the width of its longest id)."""
    return np.dtype(
        [
            ("date", "datetime64[D]"),
            ("entity_id", f"U{id_width}"),
            ("impressions", np.int64),
            ("clicks", np.int64),
            ("spend", np.float64),
            ("sales", np.float64),
            ("orders", np.int64),
        ]
    )


METRICS_DTYPE = metrics_dtype()


def metrics_table(
    config: GeneratorConfig, keyword_ids: list[str], counts: Counts
) -> npt.NDArray[np.void]:
    """Day × keyword counts as one structured row per keyword per day."""
    n_d, n_k = counts.impressions.shape
    width = max(len(k) for k in keyword_ids)
    out = np.empty(n_d * n_k, dtype=metrics_dtype(width))
    dates = np.datetime64(config.start, "D") + np.arange(n_d)
    # Day-major order with zero-padded ids is exactly "sorted by date then entity_id".
    out["date"] = np.repeat(dates, n_k)
    out["entity_id"] = np.tile(np.asarray(keyword_ids), n_d)
    out["impressions"] = counts.impressions.ravel()
    out["clicks"] = counts.clicks.ravel()
    out["orders"] = counts.orders.ravel()
    out["spend"] = counts.spend_cents.ravel() / 100
    out["sales"] = counts.sales_cents.ravel() / 100
    return out
