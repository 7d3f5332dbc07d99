"""Period-over-period: the previous period's filter, computed in Python.

The previous-period block reads the *same* rows the current block would read one period
earlier: its filters on the compared time dimension have their date bounds moved back by
``periods`` grains (so the first period of a filtered range still gets its predecessor, which
lies outside the range), and its period labels are moved forward by the same amount so they
line up with the current periods. Moving the bounds (not the column) keeps the predicate
sargable and avoids engine differences in month arithmetic on raw timestamps.
"""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from gnomon.semantic.filters import Condition, FilterSpec

_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_FIXED = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "date": timedelta(days=1),
    "week": timedelta(weeks=1),
}


def _move(value: Any, grain: str, periods: int) -> Any:
    if not isinstance(value, date):
        return value
    if grain in _FIXED:
        return value + _FIXED[grain] * periods
    months = _MONTHS[grain] * periods
    total = value.year * 12 + value.month - 1 + months
    year, month = divmod(total, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def shift_spec(spec: FilterSpec, grain: str, periods: int) -> FilterSpec:
    """``spec`` with every date/datetime bound moved by ``periods`` grains (clamped to month
    ends, like the engines do).

    >>> from gnomon.semantic.filters import parse_date_range
    >>> s = parse_date_range(["2024-01-31", "2024-03-31"], timezone="UTC", now=None,
    ...                      week_start="monday")
    >>> [c.values for c in shift_spec(s, "month", -1).conditions][0][0]
    datetime.datetime(2023, 12, 31, 0, 0)
    """

    def cond(c: Condition) -> Condition:
        return replace(c, values=tuple(_move(v, grain, periods) for v in c.values))

    return FilterSpec(
        conditions=tuple(cond(c) for c in spec.conditions),
        any_of=spec.any_of,
        groups=tuple(shift_spec(g, grain, periods) for g in spec.groups),
    )


__all__ = ["shift_spec"]
