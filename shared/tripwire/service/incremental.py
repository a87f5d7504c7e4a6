"""Which periods a scan scores, for which series: only what has not been detected yet.

Each series remembers the range of periods it has been detected over, ``[first, last]``
(``store.metadata``). A scheduled scan then scores:

- the periods after ``last`` up to the latest loaded one, at most ``MAX_CATCHUP`` of them
  (a profile switched off for months catches up through a backfill, not one message); a
  series never detected starts after its models' training window (``fresh_start``);
- the period that has just *settled* (``LATE_ATTRIBUTION_PERIODS`` before the latest): it
  was scored with provisional sales when it was new, and is re-scored now that Amazon's
  restatements are in.

A backfill (an explicit range) scores the range's periods outside ``[first, last]``, or all
of them when forced. A period is provisional when it is one of the latest
``LATE_ATTRIBUTION_PERIODS`` loaded.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tripwire.features.ppc import LATE_ATTRIBUTION_PERIODS

MAX_CATCHUP = 35  # periods a scheduled scan catches up on (older ones: backfill)
Day = datetime.date
_ONE = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Detected:
    """The periods a series has been detected over (None: never)."""

    first: Day | None = None
    last: Day | None = None

    def covers(self, day: Day) -> bool:
        return self.first is not None and self.last is not None and self.first <= day <= self.last

    def extended(self, lo: Day, hi: Day) -> Detected:
        """After detecting [lo, hi]: the union when it stays one unbroken range, else the
        range that keeps the latest periods (a gap must never count as detected)."""
        if self.first is None or self.last is None:
            return Detected(lo, hi)
        if lo <= self.last + _ONE and hi >= self.first - _ONE:
            return Detected(min(lo, self.first), max(hi, self.last))
        return self if self.last >= hi else Detected(lo, hi)


@dataclass
class Plan:
    latest: Day | None  # the latest period loaded (None: no data at all)
    rows: int
    # period → which rows it is scored for (ascending periods)
    periods: dict[Day, npt.NDArray[np.bool_]] = field(default_factory=dict)
    catchup_capped: bool = False

    def provisional(self, day: Day) -> bool:
        assert self.latest is not None
        return (self.latest - day).days < LATE_ATTRIBUTION_PERIODS

    def span(self) -> tuple[Day, Day] | None:
        return (min(self.periods), max(self.periods)) if self.periods else None

    def detected_span(self, row: int) -> tuple[Day, Day] | None:
        days = [d for d, rows in self.periods.items() if rows[row]]
        return (min(days), max(days)) if days else None


def plan_scan(
    detected: Sequence[Detected], latest: Day | None, fresh_start: Day | None = None
) -> Plan:
    """A scheduled scan: the new periods of each series, and those just settled.

    A series never detected starts at ``fresh_start`` (see ``fresh_start``), else at the
    latest period."""
    plan = Plan(latest, len(detected))
    if latest is None:
        return plan
    lag = datetime.timedelta(days=LATE_ATTRIBUTION_PERIODS)
    settled = latest - lag
    oldest = latest - datetime.timedelta(days=MAX_CATCHUP - 1)
    for row, state in enumerate(detected):
        last = state.last
        if last is not None and last >= latest:
            continue
        start = last + _ONE if last is not None else min(fresh_start or latest, latest)
        if start < oldest:
            start, plan.catchup_capped = oldest, True
        days = [start + datetime.timedelta(days=i) for i in range((latest - start).days + 1)]
        if last is None:
            if start == latest:  # a first look at the latest period: the settled one too
                days.append(settled)
        else:
            # Periods the previous scan (its latest was ``last``) scored provisional that
            # have settled since: re-scored with their restated sales.
            day = max(last - lag + _ONE, oldest)
            while day <= min(last, settled):
                days.append(day)
                day += _ONE
        for day in days:
            _mark(plan, day, row)
    plan.periods = dict(sorted(plan.periods.items()))
    return plan


def fresh_start(detected: Sequence[Detected], trained_until: Day | None) -> Day | None:
    """Where a series never detected starts: where its slice's other series go on (so
    a new keyword costs no extra periods), or — in a slice never scanned — right after the
    models' training window, whose periods nothing has looked at yet."""
    lasts = [d.last for d in detected if d.last is not None]
    if lasts:
        return min(lasts) + _ONE
    return trained_until + _ONE if trained_until is not None else None


def plan_range(
    detected: Sequence[Detected], start: Day, end: Day, latest: Day | None, *, force: bool
) -> Plan:
    """An explicit range (backfill, API detection): its periods not yet detected (or all)."""
    plan = Plan(latest, len(detected))
    if latest is None:
        return plan
    end = min(end, latest)
    for offset in range((end - start).days + 1):
        day = start + datetime.timedelta(days=offset)
        for row, state in enumerate(detected):
            if force or not state.covers(day):
                _mark(plan, day, row)
    return plan


def _mark(plan: Plan, day: Day, row: int) -> None:
    rows = plan.periods.get(day)
    if rows is None:
        rows = plan.periods[day] = np.zeros(plan.rows, dtype=bool)
    rows[row] = True
