"""Short sessions in the market calendars: each rule at its boundaries."""

from __future__ import annotations

import datetime as dt

import pytest

from tripwire.domain.calendars import CALENDARS, MarketCalendar

US, JP, TH = CALENDARS["US"], CALENDARS["JP"], CALENDARS["TH"]
HALF = 3.5 / 6.5  # a US early close at 13:00: 09:30-13:00 of 09:30-16:00


def share(calendar: MarketCalendar, day: str) -> float:
    return calendar.session_share(dt.date.fromisoformat(day))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("1995-07-03", HALF),  # 4 July on a Tuesday: Monday 3 July closes at 13:00
        ("2000-07-03", HALF),  # 4 July on a Tuesday
        ("1997-07-03", HALF),  # 4 July on a Friday: Thursday 3 July
        ("1998-07-03", 0.0),  # 4 July on a Saturday: Friday 3 July is the holiday itself
        ("1994-07-01", 1.0),  # 4 July on a Monday: no early close on the Friday before
        ("1996-07-03", 1.0),  # 1996: the day after instead (NYSE's one-off) ...
        ("1996-07-05", HALF),  # ... Friday 5 July
        ("1995-11-24", HALF),  # the day after Thanksgiving, 13:00 since 1993
        ("1992-11-27", 4.5 / 6.5),  # ... at 14:00 in 1992
        ("1991-11-29", 1.0),  # ... and a full session before
        ("2001-12-24", HALF),  # Christmas on a Tuesday: Monday 24 Dec closes at 13:00
        ("2006-12-22", 1.0),  # Christmas on a Monday: the 24th is a Sunday, Friday is full
        ("2004-12-24", 0.0),  # Christmas on a Saturday: Friday the 24th is the holiday
        ("1995-07-05", 1.0),  # an ordinary session
        ("1995-07-08", 0.0),  # a Saturday
    ],
)
def test_us_early_closes_at_their_rule_boundaries(day: str, expected: float) -> None:
    assert share(US, day) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("1995-01-04", 2 / 4.5),  # the year's first session: morning only
        ("1995-12-29", 2 / 4.5),  # the year's last session (a Friday)
        ("1995-01-05", 1.0),  # the second session
        ("2008-12-30", 2 / 4.5),  # the last half-day year-end session
        ("2009-01-05", 2 / 4.5),  # the last half-day year-start session
        ("2009-12-30", 1.0),  # full days from 30 Dec 2009 ...
        ("2010-01-04", 1.0),  # ... and 4 Jan 2010
    ],
)
def test_jpx_half_day_first_and_last_sessions_until_2009(day: str, expected: float) -> None:
    assert share(JP, day) == pytest.approx(expected)


def test_set_has_no_known_short_sessions() -> None:
    days = TH.sessions(dt.date(1999, 12, 1), dt.date(2000, 1, 31))
    assert days and set(TH.session_shares(days)) == {1.0}
