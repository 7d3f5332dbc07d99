"""Calendar arithmetic and the date/time part of the filter language.

Everything here works on *naive local* datetimes: the query's timezone is applied once, when
``now`` and offset-carrying ISO strings enter (:func:`to_local`), so that "today" or "this
week" mean what the person asking sees on their wall clock, and the database compares against
values that the compiler has already converted to the same timezone.

A date expression evaluates to a :class:`Span`: either an *instant* (a value written with a
time of day) or a half-open range ``[start, end)`` of whole periods (a day, a month, ...).
Keeping the period, not just its first moment, is what lets ``"2024-03"`` mean the whole of
March, ``"after 2024"`` mean from 2025 on, and ``"A to B"`` include all of ``B``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gnomon.semantic.filters_spec import Condition, FieldKind, FilterError

DATE_FORMS_HELP: Final = (
    "accepted date forms: YYYY-MM-DD, YYYY-MM, YYYY, YYYY-Qn, an ISO timestamp, 'today', "
    "'yesterday', 'tomorrow', 'this|last|next <unit>', 'last|next N <units>', "
    "'N <units> ago', 'N <units> from now', 'A to B', 'before X', 'after X', "
    "'on or before X', 'on or after X', 'not X', 'null', 'not null' "
    "(units: minute, hour, day, week, month, quarter, year)"
)

WEEKDAYS: Final[dict[str, int]] = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}

# Unit names as users write them (singular and plural) -> canonical unit.
UNITS: Final[dict[str, str]] = {
    **{u: u for u in ("minute", "hour", "day", "week", "month", "quarter", "year")},
    **{u + "s": u for u in ("minute", "hour", "day", "week", "month", "quarter", "year")},
}


@dataclass(frozen=True)
class Span:
    """What a date expression denotes: an instant, or the whole periods ``[start, end)``."""

    start: datetime
    end: datetime | None = None  # None: an instant (a value written with a time of day)

    @property
    def is_instant(self) -> bool:
        return self.end is None

    @property
    def stop(self) -> datetime:
        """First moment after the span (for an instant: the instant itself)."""
        return self.start if self.end is None else self.end


@dataclass(frozen=True)
class DateContext:
    """The wall clock a relative date is evaluated against."""

    now: datetime  # naive, local to ``timezone``
    timezone: str
    week_start: int  # 0 = monday ... 6 = sunday

    @property
    def today(self) -> datetime:
        return self.now.replace(hour=0, minute=0, second=0, microsecond=0)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise FilterError(
            f"unknown timezone {name!r}",
            hint="use an IANA name such as 'UTC', 'Europe/Paris' or 'America/New_York'",
        ) from err


def week_start_index(name: str) -> int:
    try:
        return WEEKDAYS[name.strip().lower()]
    except (KeyError, AttributeError) as err:
        raise FilterError(
            f"unknown week start {name!r}", hint="one of " + ", ".join(WEEKDAYS)
        ) from err


def to_local(value: datetime, tz: str) -> datetime:
    """An aware datetime converted to ``tz`` and made naive; a naive one is already local."""
    if value.tzinfo is None:
        return value
    return value.astimezone(zone(tz)).replace(tzinfo=None)


def make_context(now: datetime | None, tz: str, week_start: str) -> DateContext:
    current = now if now is not None else datetime.now(UTC)
    if current.tzinfo is None:
        # A naive ``now`` is taken as UTC, like the default: callers pass server clocks.
        current = current.replace(tzinfo=UTC)
    return DateContext(to_local(current, tz), tz, week_start_index(week_start))


# --- calendar arithmetic -------------------------------------------------------------------


def _add_months(value: datetime, months: int) -> datetime:
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return value.replace(year=year, month=month + 1, day=min(value.day, last_day))


_STEP: Final[dict[str, Callable[[datetime, int], datetime]]] = {
    "minute": lambda v, n: v + timedelta(minutes=n),
    "hour": lambda v, n: v + timedelta(hours=n),
    "day": lambda v, n: v + timedelta(days=n),
    "week": lambda v, n: v + timedelta(weeks=n),
    "month": lambda v, n: _add_months(v, n),
    "quarter": lambda v, n: _add_months(v, 3 * n),
    "year": lambda v, n: _add_months(v, 12 * n),
}


def add_periods(value: datetime, unit: str, n: int) -> datetime:
    """``value`` moved by ``n`` whole units; ``value`` must be a period start for months+."""
    return _STEP[unit](value, n)


def period_start(value: datetime, unit: str, week_start: int) -> datetime:
    """First moment of the ``unit`` containing ``value`` (weeks begin on ``week_start``)."""
    midnight = value.replace(hour=0, minute=0, second=0, microsecond=0)
    starts: dict[str, Callable[[], datetime]] = {
        "minute": lambda: value.replace(second=0, microsecond=0),
        "hour": lambda: value.replace(minute=0, second=0, microsecond=0),
        "day": lambda: midnight,
        "week": lambda: midnight - timedelta(days=(value.weekday() - week_start) % 7),
        "month": lambda: midnight.replace(day=1),
        "quarter": lambda: midnight.replace(month=(value.month - 1) // 3 * 3 + 1, day=1),
        "year": lambda: midnight.replace(month=1, day=1),
    }
    return starts[unit]()


def period(value: datetime, unit: str, week_start: int) -> Span:
    start = period_start(value, unit, week_start)
    return Span(start, add_periods(start, unit, 1))


# --- absolute dates ------------------------------------------------------------------------

_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?q([1-4])$")
_DAY = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_TIME = re.compile(
    r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}[t ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}(:?\d{2})?)?$"
)


def _checked_date(year: int, month: int, day: int, text: str) -> datetime:
    try:
        return datetime(year, month, day)
    except ValueError as err:
        raise FilterError(f"{text!r} is not a valid date", hint=DATE_FORMS_HELP) from err


def parse_absolute(text: str, tz: str) -> Span | None:
    """An absolute date/period/timestamp, or None when ``text`` is not one."""
    t = text.strip().lower()
    if m := _YEAR.match(t):
        start = _checked_date(int(m[1]), 1, 1, text)
        return Span(start, add_periods(start, "year", 1))
    if m := _QUARTER.match(t):
        start = _checked_date(int(m[1]), 3 * int(m[2]) - 2, 1, text)
        return Span(start, add_periods(start, "quarter", 1))
    if m := _MONTH.match(t):
        start = _checked_date(int(m[1]), int(m[2]), 1, text)
        return Span(start, add_periods(start, "month", 1))
    if m := _DAY.match(t):
        start = _checked_date(int(m[1]), int(m[2]), int(m[3]), text)
        return Span(start, start + timedelta(days=1))
    if _TIME.match(t):
        try:
            parsed = datetime.fromisoformat(t.upper().replace("/", "-"))
        except ValueError as err:
            raise FilterError(f"{text!r} is not a valid timestamp", hint=DATE_FORMS_HELP) from err
        return Span(to_local(parsed, tz))
    return None


def span_of_value(value: object, tz: str) -> Span | None:
    """Python date/datetime objects as spans (a date is its whole day)."""
    if isinstance(value, datetime):
        return Span(to_local(value, tz))
    if isinstance(value, date):
        start = datetime(value.year, value.month, value.day)
        return Span(start, start + timedelta(days=1))
    return None


# --- relative dates ------------------------------------------------------------------------

_UNIT_RE = "(" + "|".join(sorted(UNITS, key=len, reverse=True)) + ")"
_NUM = r"(\d+|an?|one)"
_NAMED: Final[dict[str, tuple[str, int]]] = {
    "today": ("day", 0),
    "yesterday": ("day", -1),
    "tomorrow": ("day", 1),
}
_THIS = re.compile(rf"^(this|last|next|previous|current)\s+{_UNIT_RE}$")
_AGO = re.compile(rf"^{_NUM}\s+{_UNIT_RE}\s+(ago|from now)$")
_LAST_N = re.compile(rf"^(last|next|past)\s+{_NUM}\s+{_UNIT_RE}$")
_SHIFT: Final[dict[str, int]] = {"this": 0, "current": 0, "last": -1, "previous": -1, "next": 1}


def _count(text: str) -> int:
    return 1 if text in ("a", "an", "one") else int(text)


def parse_point(text: str, ctx: DateContext) -> Span:
    """One date expression that denotes a single period or instant (no ranges, no operators).

    ``today``/``yesterday``/``tomorrow``; ``now``; ``this|last|next <unit>`` (the current, the
    previous complete, the next period); ``N <units> ago`` / ``N <units> from now`` (the single
    period N units away); absolute dates.
    """
    t = " ".join(text.strip().lower().split())
    if t in _NAMED:
        unit, n = _NAMED[t]
        return _shifted(ctx, unit, n)
    if t == "now":
        return Span(ctx.now)
    if m := _THIS.match(t):
        return _shifted(ctx, UNITS[m[2]], _SHIFT[m[1]])
    if m := _AGO.match(t):
        n = _count(m[1])
        return _shifted(ctx, UNITS[m[2]], -n if m[3] == "ago" else n)
    absolute = parse_absolute(t, ctx.timezone)
    if absolute is None:
        raise FilterError(f"cannot read {text!r} as a date", hint=DATE_FORMS_HELP)
    return absolute


def _shifted(ctx: DateContext, unit: str, n: int) -> Span:
    start = add_periods(period_start(ctx.now, unit, ctx.week_start), unit, n)
    return Span(start, add_periods(start, unit, 1))


def parse_last_n(text: str, ctx: DateContext) -> Span | None:
    """``last N <units>``: N periods ending with the current one, current one included.

    ``last 90 days`` on 2024-06-30 is 2024-04-02 .. 2024-06-30 (today counts as one of the 90);
    ``last 3 months`` in June is April, May and June. ``next N <units>`` mirrors it: the
    current period and the N-1 after it. Returns None when ``text`` has another shape.
    """
    t = " ".join(text.strip().lower().split())
    m = _LAST_N.match(t)
    if m is None:
        return None
    n, unit = _count(m[2]), UNITS[m[3]]
    if n < 1:
        raise FilterError(f"{text!r}: the count must be at least 1", hint=DATE_FORMS_HELP)
    current = period_start(ctx.now, unit, ctx.week_start)
    if m[1] == "next":
        return Span(current, add_periods(current, unit, n))
    return Span(add_periods(current, unit, 1 - n), add_periods(current, unit, 1))


# --- spans as conditions -------------------------------------------------------------------


def _on_kind(value: datetime, kind: FieldKind, text: str) -> date | datetime:
    """A boundary as the field's kind; a date field cannot take a boundary inside a day."""
    if kind != "date":
        return value
    if value.time() != datetime.min.time():
        raise FilterError(
            f"{text!r} falls inside a day, which a date field cannot represent",
            hint="use whole days (or a timestamp field) for hour and minute filters",
        )
    return value.date()


def span_condition(span: Span, kind: FieldKind, text: str, *, negate: bool = False) -> Condition:
    """``field is in span``: equality for an instant or a single day of a date field,
    otherwise a half-open ``between``."""
    if span.end is None:
        value = span.start.date() if kind == "date" else span.start
        return Condition("ne" if negate else "eq", (value,))
    if kind == "date" and span.end - span.start == timedelta(days=1):
        day = _on_kind(span.start, kind, text)
        return Condition("ne" if negate else "eq", (day,))
    low, high = _on_kind(span.start, kind, text), _on_kind(span.end, kind, text)
    return Condition("between", (low, high), negate=negate)


def span_compare(op: str, span: Span, kind: FieldKind, text: str) -> Condition:
    """Comparison against a whole period: ``> March`` means from April on, ``<= March`` up to
    the end of March; against an instant the comparison is the plain one."""
    if span.end is None:
        value = span.start.date() if kind == "date" else span.start
        return Condition(op, (value,))  # type: ignore[arg-type]
    bound = {"gt": ("gte", span.end), "gte": ("gte", span.start)}
    bound |= {"lt": ("lt", span.start), "lte": ("lt", span.end)}
    new_op, at = bound[op]
    return Condition(new_op, (_on_kind(at, kind, text),))  # type: ignore[arg-type]


def span_between(low: Span, high: Span, kind: FieldKind, text: str) -> Condition:
    """From the start of ``low`` to the end of ``high`` (all of ``high`` included; when
    ``high`` is an instant it is the exclusive end)."""
    start, stop = low.start, high.stop
    if kind == "date":
        # A date field is compared in whole days: a start inside a day takes that day, an
        # end inside a day keeps that day (ISO ends such as 23:59:59.999Z are common).
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if stop.time() != datetime.min.time():
            stop = stop.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    if stop < start:
        raise FilterError(f"{text!r}: the range ends before it starts", hint=DATE_FORMS_HELP)
    return Condition("between", (_on_kind(start, kind, text), _on_kind(stop, kind, text)))


# --- the date filter-string grammar --------------------------------------------------------

_COMPARE_WORDS: Final[tuple[tuple[str, str], ...]] = (
    ("on or before ", "lte"),
    ("on or after ", "gte"),
    ("before ", "lt"),
    ("after ", "gt"),
)


def parse_date_string(text: str, kind: FieldKind, ctx: DateContext) -> Condition:
    """A date filter string (see ``docs/filters.md``) as one condition."""
    t = " ".join(text.strip().lower().split())
    if t == "null":
        return Condition("is_null")
    if t == "not null":
        return Condition("not_null")
    if t.startswith("not "):
        inner = parse_date_string(t[4:], kind, ctx)
        if inner.op in ("is_null", "not_null"):
            return Condition("not_null" if inner.op == "is_null" else "is_null")
        if inner.op == "eq":
            return Condition("ne", inner.values)
        return Condition(inner.op, inner.values, negate=not inner.negate)
    for word, op in _COMPARE_WORDS:
        if t.startswith(word):
            return span_compare(op, parse_point(t[len(word) :], ctx), kind, text)
    if " to " in t:
        left, right = t.split(" to ", 1)
        return span_between(parse_point(left, ctx), parse_point(right, ctx), kind, text)
    last_n = parse_last_n(t, ctx)
    if last_n is not None:
        return span_condition(last_n, kind, text)
    return span_condition(parse_point(t, ctx), kind, text)
