"""A profile's stored metrics as one dense (entities × days × measures) array.

The scan, training and backtest paths all score dense arrays; a leaf with no stored point
for a day counts as zero that day (Amazon omits rows without activity).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tripwire.domain.entities import Entity
from tripwire.domain.metrics import PPC_MEASURES, Interval
from tripwire.features.lag import DEFAULT_CURVE
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore, Series


@dataclass(frozen=True)
class ProfileSeries:
    """Every entity's daily (or hourly) raw measures as one dense array."""

    entities: list[Entity]
    first_day: datetime.date
    raw: npt.NDArray[np.float64]  # (n_entities, n_periods, 5) in PPC_MEASURES order
    currency: str = "USD"  # the profile's: what impact is counted in
    # Share of settled orders reported at ages 0, 1, 2 (``features.lag``): learnt from the
    # first-seen figures the metrics table keeps (``service.scoring.read_window``).
    lag_curve: tuple[float, ...] = DEFAULT_CURVE
    interval: Interval = Interval.D1
    first_hour: int = 0  # an hourly series' first period is this hour of ``first_day``

    @property
    def days(self) -> int:
        return int(self.raw.shape[1])

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.combine(self.first_day, datetime.time(self.first_hour))

    def index_of(self, period: datetime.date) -> int:
        if self.interval is Interval.H1:
            assert isinstance(period, datetime.datetime)
            return int((period - self.start).total_seconds()) // 3600
        return (period - self.first_day).days

    def day(self, index: int) -> datetime.date:
        return self.first_day + datetime.timedelta(days=index)

    def hour(self, index: int) -> datetime.datetime:
        return self.start + datetime.timedelta(hours=index)

    def season_of(self, period: datetime.date) -> int:
        """The period's place in the baseline's rhythm: its weekday, or hour of the week."""
        if self.interval is Interval.H1:
            assert isinstance(period, datetime.datetime)
            return period.weekday() * 24 + period.hour
        return period.weekday()


class UnknownProfile(LookupError):
    """The tenant has no hierarchy stored for this profile."""


def dense(
    entities: Sequence[Entity],
    series: Mapping[str, Series],
    first: datetime.date,
    days: int,
) -> npt.NDArray[np.float64]:
    raw = np.zeros((len(entities), days, len(PPC_MEASURES)))
    for row, entity in enumerate(entities):
        points = series.get(entity.entity_id, {})
        cols = [(datetime.date.fromisoformat(p[:10]) - first).days for p in points]
        keep = [i for i, c in enumerate(cols) if 0 <= c < days]
        if keep:
            values = list(points.values())
            raw[row, [cols[i] for i in keep]] = np.array([values[i] for i in keep], dtype=float)
    return raw


def load_series(
    tenant: str,
    profile: str,
    end: datetime.date,
    days: int,
    *,
    catalog: CatalogStore | None = None,
    metrics: MetricStore | None = None,
) -> ProfileSeries:
    """The ``days`` periods ending at ``end`` (inclusive) for every entity of the profile."""
    _, entities = (catalog or CatalogStore()).get_hierarchy(tenant, profile)
    if not entities:
        raise UnknownProfile(profile)
    first = end - datetime.timedelta(days=days - 1)
    window = (metrics or MetricStore()).read_window(
        tenant,
        profile,
        Interval.D1,
        [e.entity_id for e in entities],
        datetime.datetime.combine(first, datetime.time()),
        datetime.datetime.combine(end, datetime.time()),
    )
    return ProfileSeries(list(entities), first, dense(entities, window, first, days))
