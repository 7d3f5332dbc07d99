"""Time grains, timezone conversion and period shifts, per SQL dialect, as data.

sqlglot transpiles a generic ``DATE_TRUNC`` to every dialect, but not always correctly for
calendar work (weeks on MySQL, SQLite's lack of DATE_TRUNC, BigQuery's DATE vs TIMESTAMP
functions, a week that starts on a day other than Monday). So each dialect's SQL is written
here once, *in that dialect*, as a template with ``{x}`` for the input expression; it is
parsed with sqlglot in the same dialect (cached) and the input node is grafted in, so that
``.sql(dialect=d)`` gives back the dialect's own SQL.

Template parameters besides ``{x}`` come from fixed tables, never from users: ``{k}`` is the
week start as days after Monday (0..6), ``{wsname}`` its name (BigQuery), ``{n}`` a period
count (an ``int``), ``{src}``/``{tgt}`` timezone names (validated, then inserted as string
literal nodes).

Semantics (identical on every dialect; see docs/filters.md):

* ``second``, ``minute``, ``hour`` truncate to a timestamp (SQLite: ISO text).
* ``date``, ``week``, ``month``, ``quarter``, ``year`` return a DATE (SQLite: 'YYYY-MM-DD').
* ``week`` starts on ``week_start``; ``day_of_week_num`` is 1 for ``week_start`` .. 7.
* ``hour_of_day`` 0-23, ``day_of_month`` 1-31, ``month_num`` 1-12, ``quarter_of_year`` 1-4.

Examples:
    >>> truncate(exp.column("created_at"), "week", "mysql", week_start="sunday").sql("mysql")
    'DATE_SUB(DATE(created_at), INTERVAL ((WEEKDAY(created_at) + 7 - 6) % 7) DAY)'
    >>> truncate(exp.column("created_at"), "month", "sqlite").sql("sqlite")
    "DATE(created_at, 'start of month')"
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

import sqlglot
from sqlglot import exp

from gnomon.errors import Invalid, Issue
from gnomon.semantic.expressions import strip_positions
from gnomon.semantic.filters_dates import WEEKDAYS, zone
from gnomon.semantic.filters_spec import FieldKind
from gnomon.semantic.timegrains_sql import CONVERT_TZ, SHIFT, SHIFT_UNITS, TRUNCATE, TZ_ALIASES

GRAINS: tuple[str, ...] = (
    "raw",
    "second",
    "minute",
    "hour",
    "date",
    "week",
    "month",
    "quarter",
    "year",
    "hour_of_day",
    "day_of_week_num",
    "day_of_month",
    "month_num",
    "quarter_of_year",
)
DIALECTS: tuple[str, ...] = (
    "duckdb",
    "sqlite",
    "postgres",
    "mysql",
    "snowflake",
    "bigquery",
    "trino",
    "spark",
    "clickhouse",
)

_RESULT_KIND: Final[dict[str, FieldKind]] = {
    "raw": "timestamp",
    "second": "timestamp",
    "minute": "timestamp",
    "hour": "timestamp",
    "date": "date",
    "week": "date",
    "month": "date",
    "quarter": "date",
    "year": "date",
    "hour_of_day": "number",
    "day_of_week_num": "number",
    "day_of_month": "number",
    "month_num": "number",
    "quarter_of_year": "number",
}

_X: Final = "__gnomon_x__"
_SRC: Final = "__gnomon_src__"
_TGT: Final = "__gnomon_tgt__"
_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")
_UTC_NAMES: Final = frozenset({"utc", "etc/utc", "gmt", "etc/gmt", "z", "+00:00", "-00:00"})


class TimeGrainError(Invalid):
    """A grain, dialect or timezone operation that cannot be expressed (for example a
    timezone conversion on SQLite, which has no timezone database)."""

    code = "invalid_time_operation"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, [Issue(message=message, code=self.code, hint=hint)])


def grain_result_kind(grain: str) -> FieldKind:
    """What a grain's values are: ``date``, ``timestamp`` or ``number``.

    >>> grain_result_kind("quarter"), grain_result_kind("hour"), grain_result_kind("month_num")
    ('date', 'timestamp', 'number')
    """
    _check_grain(grain)
    return _RESULT_KIND[grain]


def _check_grain(grain: str) -> None:
    if grain not in _RESULT_KIND:
        raise TimeGrainError(f"unknown time grain {grain!r}", hint="one of " + ", ".join(GRAINS))


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise TimeGrainError(
            f"unsupported dialect {dialect!r}", hint="one of " + ", ".join(DIALECTS)
        )


def _week_offset(week_start: str) -> int:
    try:
        return WEEKDAYS[week_start.strip().lower()]
    except KeyError:
        raise TimeGrainError(
            f"unknown week start {week_start!r}", hint="one of " + ", ".join(WEEKDAYS)
        ) from None


@lru_cache(maxsize=1024)
def _parsed(dialect: str, text: str) -> exp.Expr:
    """A template, with its parameters filled in, parsed once per dialect."""
    return strip_positions(sqlglot.parse_one(text, read=dialect))


def _fill(
    dialect: str,
    template: str,
    expr: exp.Expression,
    *,
    params: dict[str, str] | None = None,
    strings: dict[str, str] | None = None,
) -> exp.Expression:
    text = template.replace("{x}", _X)
    for name, value in (params or {}).items():
        text = text.replace("{" + name + "}", value)
    tree = _parsed(dialect, text).copy()
    literals = {f"__gnomon_{k}__": v for k, v in (strings or {}).items()}

    def graft(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.name == _X and not node.table:
            return expr.copy()
        if isinstance(node, exp.Literal) and node.is_string and node.this in literals:
            return exp.Literal.string(literals[node.this])
        return node

    out = tree.transform(graft, copy=False)  # ``tree`` is already a private copy
    if not isinstance(out, exp.Expression):  # pragma: no cover - sqlglot invariant
        raise TypeError(f"unexpected sqlglot node {type(out).__name__}")
    return out


def truncate(
    expr: exp.Expression, grain: str, dialect: str, *, week_start: str = "monday"
) -> exp.Expression:
    """``expr`` at ``grain`` in ``dialect``'s own SQL (weeks start on ``week_start``).

    >>> truncate(exp.column("ts"), "quarter", "duckdb").sql("duckdb")
    "CAST(DATE_TRUNC('QUARTER', ts) AS DATE)"
    """
    _check_grain(grain)
    _check_dialect(dialect)
    k = _week_offset(week_start)
    params = {"k": str(k), "wsname": week_start.strip().upper()}
    return _fill(dialect, TRUNCATE[dialect][grain], expr, params=params)


def _same_zone(a: str, b: str) -> bool:
    return a == b or (a.lower() in _UTC_NAMES and b.lower() in _UTC_NAMES)


def _check_zone(name: str) -> str:
    """A timezone as written by the user: an IANA name or a ``±HH:MM`` offset."""
    if _OFFSET.match(name) or name.lower() in _UTC_NAMES:
        return name
    zone(name)  # raises a FilterError naming the problem
    return name


def convert_timezone(
    expr: exp.Expression, *, source_tz: str, target_tz: str, dialect: str
) -> exp.Expression:
    """A naive timestamp stored as ``source_tz`` wall time, as ``target_tz`` wall time.

    The input is taken as a timestamp *without* time zone holding ``source_tz`` wall-clock
    values (the common warehouse convention: UTC); the result is naive too. When the zones
    are the same the expression is returned unchanged. SQLite has no timezone support, so a
    conversion there raises :class:`TimeGrainError`. MySQL/MariaDB resolve named zones only
    when their timezone tables are loaded (otherwise CONVERT_TZ returns NULL); UTC is
    therefore written as the offset ``'+00:00'``, and offsets such as ``'+05:30'`` always work.

    >>> convert_timezone(exp.column("ts"), source_tz="UTC", target_tz="Asia/Tokyo",
    ...                  dialect="snowflake").sql("snowflake")
    "CONVERT_TIMEZONE('UTC', 'Asia/Tokyo', ts)"
    """
    _check_dialect(dialect)
    src, tgt = _check_zone(source_tz), _check_zone(target_tz)
    if _same_zone(src, tgt):
        return expr
    template = CONVERT_TZ.get(dialect)
    if template is None:
        raise TimeGrainError(
            f"{dialect} has no timezone support: cannot convert from {src} to {tgt}",
            hint="store timestamps in the query timezone, or query without a timezone",
        )
    aliases = TZ_ALIASES.get(dialect, {})
    strings = {"src": aliases.get(src.lower(), src), "tgt": aliases.get(tgt.lower(), tgt)}
    return _fill(dialect, template, expr, strings=strings)


def shift(expr: exp.Expression, grain: str, periods: int, dialect: str) -> exp.Expression:
    """``expr`` moved by ``periods`` whole ``grain`` periods (negative: back in time), for
    period-over-period comparisons. Weeks are 7 days and quarters 3 months; month arithmetic
    clamps to the last day of a shorter month on every dialect (SQLite, which rolls over,
    is clamped explicitly), so shifting a raw value and then truncating it lands in the right
    period. A DATE stays a DATE on MySQL, BigQuery, Trino, Spark, Snowflake and ClickHouse;
    DuckDB and PostgreSQL return a TIMESTAMP at midnight, SQLite 'YYYY-MM-DD HH:MM:SS' text.

    >>> shift(exp.column("d"), "quarter", -1, "mysql").sql("mysql")
    "DATE_ADD(d, INTERVAL '-3' MONTH)"
    """
    _check_dialect(dialect)
    if grain not in SHIFT_UNITS:
        raise TimeGrainError(
            f"cannot shift by grain {grain!r}", hint="one of " + ", ".join(SHIFT_UNITS)
        )
    if isinstance(periods, bool) or not isinstance(periods, int):
        raise TimeGrainError(f"periods must be an integer, got {periods!r}")
    unit, factor = SHIFT_UNITS[grain]
    template = SHIFT[dialect]["time" if unit in ("second", "minute", "hour") else unit]
    n = periods * factor
    params = {"n": str(n), "unit": unit.upper(), "units": unit + "s", "sn": f"{n:+d}"}
    return _fill(dialect, template.replace("{Unit}", unit.capitalize()), expr, params=params)
