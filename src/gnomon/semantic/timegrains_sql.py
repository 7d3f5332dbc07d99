"""The per-dialect SQL behind ``timegrains``: one template per (dialect, grain), each written
in that dialect's own SQL. ``{x}`` is the input expression; see ``timegrains`` for the other
placeholders. Week arithmetic is "days back to the week start": with ``k`` the week start as
days after Monday, a day whose Monday-based weekday is ``w`` is ``(w - k + 7) % 7`` days after
the start of its week. Each engine numbers weekdays differently, hence the constants:

* ISO (Mon=1..Sun=7: DuckDB ISODOW, PostgreSQL ISODOW, Snowflake DAYOFWEEKISO, Trino
  DAY_OF_WEEK, ClickHouse toDayOfWeek): ``(iso + 6 - k) % 7``
* MySQL WEEKDAY (Mon=0..Sun=6): ``(wd + 7 - k) % 7``
* Sunday-first (Sun=0..Sat=6: SQLite %w; Sun=1..Sat=7: BigQuery/Spark DAYOFWEEK):
  ``(w + 13 - k) % 7`` and ``(d + 12 - k) % 7``
"""

from __future__ import annotations

from typing import Final

_ISO_BACK = "({dow} + 6 - {{k}}) % 7"


def _iso(dow: str) -> str:
    return _ISO_BACK.format(dow=dow)


TRUNCATE: Final[dict[str, dict[str, str]]] = {
    "duckdb": {
        "raw": "{x}",
        "second": "DATE_TRUNC('SECOND', {x})",
        "minute": "DATE_TRUNC('MINUTE', {x})",
        "hour": "DATE_TRUNC('HOUR', {x})",
        "date": "CAST({x} AS DATE)",
        "week": "CAST({x} AS DATE) - CAST(" + _iso("ISODOW({x})") + " AS INT)",
        "month": "CAST(DATE_TRUNC('MONTH', {x}) AS DATE)",
        "quarter": "CAST(DATE_TRUNC('QUARTER', {x}) AS DATE)",
        "year": "CAST(DATE_TRUNC('YEAR', {x}) AS DATE)",
        "hour_of_day": "CAST(EXTRACT(HOUR FROM {x}) AS INT)",
        "day_of_week_num": "CAST(" + _iso("ISODOW({x})") + " + 1 AS INT)",
        "day_of_month": "CAST(EXTRACT(DAY FROM {x}) AS INT)",
        "month_num": "CAST(EXTRACT(MONTH FROM {x}) AS INT)",
        "quarter_of_year": "CAST(EXTRACT(QUARTER FROM {x}) AS INT)",
    },
    "postgres": {
        "raw": "{x}",
        "second": "DATE_TRUNC('SECOND', {x})",
        "minute": "DATE_TRUNC('MINUTE', {x})",
        "hour": "DATE_TRUNC('HOUR', {x})",
        "date": "CAST({x} AS DATE)",
        "week": "CAST({x} AS DATE) - CAST(" + _iso("EXTRACT(ISODOW FROM {x})") + " AS INT)",
        "month": "CAST(DATE_TRUNC('MONTH', {x}) AS DATE)",
        "quarter": "CAST(DATE_TRUNC('QUARTER', {x}) AS DATE)",
        "year": "CAST(DATE_TRUNC('YEAR', {x}) AS DATE)",
        "hour_of_day": "CAST(EXTRACT(HOUR FROM {x}) AS INT)",
        "day_of_week_num": "CAST(" + _iso("EXTRACT(ISODOW FROM {x})") + " + 1 AS INT)",
        "day_of_month": "CAST(EXTRACT(DAY FROM {x}) AS INT)",
        "month_num": "CAST(EXTRACT(MONTH FROM {x}) AS INT)",
        "quarter_of_year": "CAST(EXTRACT(QUARTER FROM {x}) AS INT)",
    },
    "mysql": {
        "raw": "{x}",
        "second": "CAST(DATE_FORMAT({x}, '%Y-%m-%d %H:%i:%s') AS DATETIME)",
        "minute": "CAST(DATE_FORMAT({x}, '%Y-%m-%d %H:%i:00') AS DATETIME)",
        "hour": "CAST(DATE_FORMAT({x}, '%Y-%m-%d %H:00:00') AS DATETIME)",
        "date": "DATE({x})",
        "week": "DATE_SUB(DATE({x}), INTERVAL ((WEEKDAY({x}) + 7 - {k}) % 7) DAY)",
        "month": "DATE_SUB(DATE({x}), INTERVAL (DAYOFMONTH({x}) - 1) DAY)",
        "quarter": "DATE_ADD(MAKEDATE(YEAR({x}), 1), INTERVAL ((QUARTER({x}) - 1) * 3) MONTH)",
        "year": "MAKEDATE(YEAR({x}), 1)",
        "hour_of_day": "HOUR({x})",
        "day_of_week_num": "(WEEKDAY({x}) + 7 - {k}) % 7 + 1",
        "day_of_month": "DAYOFMONTH({x})",
        "month_num": "MONTH({x})",
        "quarter_of_year": "QUARTER({x})",
    },
    "sqlite": {
        "raw": "{x}",
        "second": "STRFTIME('%Y-%m-%d %H:%M:%S', {x})",
        "minute": "STRFTIME('%Y-%m-%d %H:%M:00', {x})",
        "hour": "STRFTIME('%Y-%m-%d %H:00:00', {x})",
        "date": "DATE({x})",
        "week": "DATE({x}, '-' || ((CAST(STRFTIME('%w', {x}) AS INTEGER) + 13 - {k}) % 7)"
        " || ' days')",
        "month": "DATE({x}, 'start of month')",
        "quarter": "DATE({x}, 'start of year', '+' || ((CAST(STRFTIME('%m', {x}) AS INTEGER)"
        " - 1) / 3 * 3) || ' months')",
        "year": "DATE({x}, 'start of year')",
        "hour_of_day": "CAST(STRFTIME('%H', {x}) AS INTEGER)",
        "day_of_week_num": "(CAST(STRFTIME('%w', {x}) AS INTEGER) + 13 - {k}) % 7 + 1",
        "day_of_month": "CAST(STRFTIME('%d', {x}) AS INTEGER)",
        "month_num": "CAST(STRFTIME('%m', {x}) AS INTEGER)",
        "quarter_of_year": "(CAST(STRFTIME('%m', {x}) AS INTEGER) + 2) / 3",
    },
    "snowflake": {
        "raw": "{x}",
        "second": "DATE_TRUNC('SECOND', {x})",
        "minute": "DATE_TRUNC('MINUTE', {x})",
        "hour": "DATE_TRUNC('HOUR', {x})",
        "date": "CAST({x} AS DATE)",
        "week": "DATEADD(DAY, -MOD(DAYOFWEEKISO({x}) + 6 - {k}, 7), CAST({x} AS DATE))",
        "month": "CAST(DATE_TRUNC('MONTH', {x}) AS DATE)",
        "quarter": "CAST(DATE_TRUNC('QUARTER', {x}) AS DATE)",
        "year": "CAST(DATE_TRUNC('YEAR', {x}) AS DATE)",
        "hour_of_day": "HOUR({x})",
        "day_of_week_num": "MOD(DAYOFWEEKISO({x}) + 6 - {k}, 7) + 1",
        "day_of_month": "DAYOFMONTH({x})",
        "month_num": "MONTH({x})",
        "quarter_of_year": "QUARTER({x})",
    },
    "bigquery": {
        # CAST to DATETIME/DATE accepts DATE, DATETIME and TIMESTAMP alike, so one template
        # serves all three column types (TIMESTAMP is read in UTC; convert_timezone first).
        "raw": "{x}",
        "second": "DATETIME_TRUNC(CAST({x} AS DATETIME), SECOND)",
        "minute": "DATETIME_TRUNC(CAST({x} AS DATETIME), MINUTE)",
        "hour": "DATETIME_TRUNC(CAST({x} AS DATETIME), HOUR)",
        "date": "CAST({x} AS DATE)",
        "week": "DATE_TRUNC(CAST({x} AS DATE), WEEK({wsname}))",
        "month": "DATE_TRUNC(CAST({x} AS DATE), MONTH)",
        "quarter": "DATE_TRUNC(CAST({x} AS DATE), QUARTER)",
        "year": "DATE_TRUNC(CAST({x} AS DATE), YEAR)",
        "hour_of_day": "EXTRACT(HOUR FROM {x})",
        "day_of_week_num": "MOD(EXTRACT(DAYOFWEEK FROM {x}) + 12 - {k}, 7) + 1",
        "day_of_month": "EXTRACT(DAY FROM {x})",
        "month_num": "EXTRACT(MONTH FROM {x})",
        "quarter_of_year": "EXTRACT(QUARTER FROM {x})",
    },
    "trino": {
        "raw": "{x}",
        "second": "DATE_TRUNC('SECOND', {x})",
        "minute": "DATE_TRUNC('MINUTE', {x})",
        "hour": "DATE_TRUNC('HOUR', {x})",
        "date": "CAST({x} AS DATE)",
        "week": "DATE_ADD('DAY', -(" + _iso("DAY_OF_WEEK({x})") + "), CAST({x} AS DATE))",
        "month": "CAST(DATE_TRUNC('MONTH', {x}) AS DATE)",
        "quarter": "CAST(DATE_TRUNC('QUARTER', {x}) AS DATE)",
        "year": "CAST(DATE_TRUNC('YEAR', {x}) AS DATE)",
        "hour_of_day": "HOUR({x})",
        "day_of_week_num": _iso("DAY_OF_WEEK({x})") + " + 1",
        "day_of_month": "DAY({x})",
        "month_num": "MONTH({x})",
        "quarter_of_year": "QUARTER({x})",
    },
    "spark": {
        "raw": "{x}",
        "second": "DATE_TRUNC('SECOND', {x})",
        "minute": "DATE_TRUNC('MINUTE', {x})",
        "hour": "DATE_TRUNC('HOUR', {x})",
        "date": "CAST({x} AS DATE)",
        "week": "DATE_SUB(CAST({x} AS DATE), (DAYOFWEEK({x}) + 12 - {k}) % 7)",
        "month": "CAST(DATE_TRUNC('MONTH', {x}) AS DATE)",
        "quarter": "CAST(DATE_TRUNC('QUARTER', {x}) AS DATE)",
        "year": "CAST(DATE_TRUNC('YEAR', {x}) AS DATE)",
        "hour_of_day": "HOUR({x})",
        "day_of_week_num": "(DAYOFWEEK({x}) + 12 - {k}) % 7 + 1",
        "day_of_month": "DAYOFMONTH({x})",
        "month_num": "MONTH({x})",
        "quarter_of_year": "QUARTER({x})",
    },
    "clickhouse": {
        "raw": "{x}",
        "second": "toStartOfInterval({x}, INTERVAL 1 SECOND)",
        "minute": "toStartOfMinute({x})",
        "hour": "toStartOfHour({x})",
        "date": "toDate({x})",
        "week": "toDate({x}) - " + _iso("toDayOfWeek({x})"),
        "month": "toDate(toStartOfMonth({x}))",
        "quarter": "toDate(toStartOfQuarter({x}))",
        "year": "toDate(toStartOfYear({x}))",
        "hour_of_day": "toHour({x})",
        "day_of_week_num": _iso("toDayOfWeek({x})") + " + 1",
        "day_of_month": "toDayOfMonth({x})",
        "month_num": "toMonth({x})",
        "quarter_of_year": "toQuarter({x})",
    },
}

# Timezone conversion of a naive timestamp holding source wall time to target wall time.
# SQLite is absent on purpose: it has no timezone database.
CONVERT_TZ: Final[dict[str, str]] = {
    "duckdb": "({x} AT TIME ZONE '__gnomon_src__') AT TIME ZONE '__gnomon_tgt__'",
    "postgres": "({x} AT TIME ZONE '__gnomon_src__') AT TIME ZONE '__gnomon_tgt__'",
    "mysql": "CONVERT_TZ({x}, '__gnomon_src__', '__gnomon_tgt__')",
    "snowflake": "CONVERT_TIMEZONE('__gnomon_src__', '__gnomon_tgt__', {x})",
    "bigquery": "DATETIME(TIMESTAMP({x}, '__gnomon_src__'), '__gnomon_tgt__')",
    "trino": "CAST(WITH_TIMEZONE({x}, '__gnomon_src__') AT TIME ZONE '__gnomon_tgt__'"
    " AS TIMESTAMP)",
    "spark": "FROM_UTC_TIMESTAMP(TO_UTC_TIMESTAMP({x}, '__gnomon_src__'), '__gnomon_tgt__')",
    # ClickHouse DateTime values are instants; the column's own zone is the source.
    "clickhouse": "toTimeZone({x}, '__gnomon_tgt__')",
}

# Names a dialect does not resolve by itself: MariaDB/MySQL without timezone tables know no
# named zone, but always know offsets, and UTC is the one zone used everywhere.
TZ_ALIASES: Final[dict[str, dict[str, str]]] = {
    "mysql": dict.fromkeys(("utc", "etc/utc", "gmt", "etc/gmt", "z"), "+00:00"),
}

# Shift grains -> (unit, multiplier): weeks are 7 days and quarters 3 months everywhere, so
# only day, month and sub-day units have to exist in every dialect.
SHIFT_UNITS: Final[dict[str, tuple[str, int]]] = {
    "second": ("second", 1),
    "minute": ("minute", 1),
    "hour": ("hour", 1),
    "date": ("day", 1),
    "day": ("day", 1),
    "week": ("day", 7),
    "month": ("month", 1),
    "quarter": ("month", 3),
    "year": ("month", 12),
}

# {n}: signed count, {sn}: count with explicit sign, {unit}: DAY/MONTH/HOUR..., {units}:
# days/months/hours..., {Unit}: Day/Month/Hour...
SHIFT: Final[dict[str, dict[str, str]]] = {
    "duckdb": {
        "day": "{x} + INTERVAL ({n}) {unit}",
        "month": "{x} + INTERVAL ({n}) {unit}",
        "time": "{x} + INTERVAL ({n}) {unit}",
    },
    "postgres": {
        "day": "{x} + INTERVAL '{n} {unit}'",
        "month": "{x} + INTERVAL '{n} {unit}'",
        "time": "{x} + INTERVAL '{n} {unit}'",
    },
    "mysql": {
        "day": "DATE_ADD({x}, INTERVAL {n} {unit})",
        "month": "DATE_ADD({x}, INTERVAL {n} {unit})",
        "time": "DATE_ADD({x}, INTERVAL {n} {unit})",
    },
    # SQLite rolls month overflow over (Mar 31 - 1 month = Mar 2) where every other engine
    # clamps to the month's last day: MIN() with the last day of the target month clamps.
    "sqlite": {
        "day": "DATETIME({x}, '{sn} {units}')",
        "month": "MIN(DATETIME({x}, '{sn} {units}'), DATETIME({x}, 'start of month',"
        " '{sn} {units}', '+1 months', '-1 days'))",
        "time": "DATETIME({x}, '{sn} {units}')",
    },
    "snowflake": {
        "day": "DATEADD({unit}, {n}, {x})",
        "month": "DATEADD({unit}, {n}, {x})",
        "time": "DATEADD({unit}, {n}, {x})",
    },
    "bigquery": {
        "day": "DATE_ADD({x}, INTERVAL {n} {unit})",
        "month": "DATE_ADD({x}, INTERVAL {n} {unit})",
        "time": "DATETIME_ADD(CAST({x} AS DATETIME), INTERVAL {n} {unit})",
    },
    "trino": {
        "day": "DATE_ADD('{unit}', {n}, {x})",
        "month": "DATE_ADD('{unit}', {n}, {x})",
        "time": "DATE_ADD('{unit}', {n}, {x})",
    },
    "spark": {
        "day": "DATE_ADD({x}, {n})",
        "month": "ADD_MONTHS({x}, {n})",
        "time": "{x} + INTERVAL {n} {unit}",
    },
    "clickhouse": {
        "day": "add{Unit}s({x}, {n})",
        "month": "add{Unit}s({x}, {n})",
        "time": "add{Unit}s({x}, {n})",
    },
}
