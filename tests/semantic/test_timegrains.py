"""Time grains per dialect: golden SQL for every dialect x grain, and truncation, shifts and
timezone conversion executed on DuckDB, SQLite, PostgreSQL and MariaDB against a Python
reference."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import sqlalchemy as sa
import sqlglot
from sqlglot import exp

from gnomon.errors import Invalid
from gnomon.semantic.filters import FilterError
from gnomon.semantic.timegrains import (
    DIALECTS,
    GRAINS,
    TimeGrainError,
    convert_timezone,
    grain_result_kind,
    shift,
    truncate,
)

GOLDEN = Path(__file__).parent / "golden_timegrains" / "timegrains.json"
WEEK_STARTS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def render_all() -> dict[str, dict[str, str]]:
    """Everything the golden file pins, rendered now (regenerate the file from this)."""
    x = exp.column("ts")
    out: dict[str, dict[str, str]] = {}
    for d in DIALECTS:
        cases = {g: truncate(x, g, d).sql(dialect=d) for g in GRAINS}
        cases["week@sunday"] = truncate(x, "week", d, week_start="sunday").sql(dialect=d)
        cases["week@thursday"] = truncate(x, "week", d, week_start="thursday").sql(dialect=d)
        cases["day_of_week_num@sunday"] = truncate(
            x, "day_of_week_num", d, week_start="sunday"
        ).sql(dialect=d)
        for g in ("hour", "date", "week", "month", "quarter", "year"):
            cases[f"shift:{g}:-1"] = shift(x, g, -1, d).sql(dialect=d)
        if d != "sqlite":
            cases["tz:UTC->Europe/Paris"] = convert_timezone(
                x, source_tz="UTC", target_tz="Europe/Paris", dialect=d
            ).sql(dialect=d)
        out[d] = cases
    return out


def test_golden_sql_for_every_dialect_and_grain() -> None:
    golden = json.loads(GOLDEN.read_text())
    rendered = render_all()
    assert set(golden) == set(DIALECTS)
    for d in DIALECTS:
        assert set(golden[d]) >= set(GRAINS), d
        assert rendered[d] == golden[d], d


@pytest.mark.parametrize("dialect", DIALECTS)
def test_rendered_sql_is_stable_native_sql(dialect: str) -> None:
    """What we emit parses back, in the same dialect, to the same SQL."""
    for name, sql in render_all()[dialect].items():
        assert sqlglot.parse_one(sql, read=dialect).sql(dialect=dialect) == sql, name


def test_grain_result_kinds() -> None:
    kinds = {g: grain_result_kind(g) for g in GRAINS}
    assert {g for g, k in kinds.items() if k == "date"} == {
        "date",
        "week",
        "month",
        "quarter",
        "year",
    }
    assert {g for g, k in kinds.items() if k == "timestamp"} == {"raw", "second", "minute", "hour"}
    assert kinds["day_of_week_num"] == "number"


def test_input_expression_is_grafted_not_shared() -> None:
    column = exp.column("created_at", table="orders")
    tree = truncate(column, "month", "postgres")
    assert tree.sql("postgres") == "CAST(DATE_TRUNC('MONTH', orders.created_at) AS DATE)"
    assert column.parent is None
    # The cached template is not altered by grafting.
    assert truncate(exp.column("b"), "month", "postgres").sql("postgres") == (
        "CAST(DATE_TRUNC('MONTH', b) AS DATE)"
    )


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: truncate(exp.column("x"), "fortnight", "duckdb"), "unknown time grain"),
        (lambda: truncate(exp.column("x"), "week", "oracle"), "unsupported dialect"),
        (lambda: truncate(exp.column("x"), "week", "duckdb", week_start="someday"), "week start"),
        (lambda: shift(exp.column("x"), "hour_of_day", 1, "duckdb"), "cannot shift"),
        (
            lambda: convert_timezone(
                exp.column("x"), source_tz="UTC", target_tz="Europe/Paris", dialect="sqlite"
            ),
            "sqlite has no timezone support",
        ),
    ],
)
def test_errors(call: Callable[[], exp.Expression], fragment: str) -> None:
    with pytest.raises(TimeGrainError) as info:
        call()
    assert fragment in info.value.message
    assert isinstance(info.value, Invalid)


def test_unknown_timezone_is_rejected() -> None:
    with pytest.raises(FilterError):
        convert_timezone(exp.column("x"), source_tz="UTC", target_tz="Mars/Base", dialect="mysql")


def test_same_zone_is_a_no_op_even_on_sqlite() -> None:
    x = exp.column("ts")
    assert convert_timezone(x, source_tz="UTC", target_tz="Etc/UTC", dialect="sqlite") is x


def test_mysql_writes_utc_as_an_offset() -> None:
    tree = convert_timezone(exp.column("ts"), source_tz="UTC", target_tz="+05:30", dialect="mysql")
    assert tree.sql("mysql") == "CONVERT_TZ(ts, '+00:00', '+05:30')"


# --- executed ------------------------------------------------------------------------------

STAMPS: list[datetime] = [
    datetime(2023, 12, 31, 23, 59, 59),
    datetime(2024, 1, 1, 0, 0, 0),
    datetime(2024, 2, 29, 6, 7, 8),
    datetime(2024, 3, 31, 12, 34, 56),
    datetime(2024, 5, 31, 7, 0, 0),
    datetime(2024, 4, 1, 0, 0, 1),
    datetime(2024, 6, 30, 18, 0, 0),
    datetime(2024, 7, 1, 0, 0, 0),
    datetime(2024, 9, 30, 23, 0, 0),
    datetime(2024, 10, 1, 1, 2, 3),
    datetime(2024, 12, 29, 10, 0, 0),
    datetime(2024, 12, 30, 10, 0, 0),
    datetime(2025, 1, 4, 23, 59, 0),
    datetime(2021, 1, 3, 5, 5, 5),
] + [datetime(2024, 6, 24, 15, 45, 30) + timedelta(days=i) for i in range(7)]

CREATE = {
    "duckdb": "CREATE TEMP TABLE g (id INT, ts TIMESTAMP, d DATE)",
    "sqlite": "CREATE TEMP TABLE g (id INTEGER, ts TEXT, d TEXT)",
    "postgres": "CREATE TEMP TABLE g (id INT, ts TIMESTAMP, d DATE)",
    "mysql": "CREATE TEMPORARY TABLE g (id INT, ts DATETIME, d DATE)",
}


def normalise(value: Any) -> Any:
    """Engine values as comparable text/ints (SQLite returns text, the others objects)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return int(value)
    return value


def reference(ts: datetime, grain: str, week_start: str) -> Any:
    k = WEEK_STARTS.index(week_start)
    day = ts.date()
    refs: dict[str, Callable[[], Any]] = {
        "raw": lambda: ts,
        "second": lambda: ts.replace(microsecond=0),
        "minute": lambda: ts.replace(second=0, microsecond=0),
        "hour": lambda: ts.replace(minute=0, second=0, microsecond=0),
        "date": lambda: day,
        "week": lambda: day - timedelta(days=(day.weekday() - k) % 7),
        "month": lambda: day.replace(day=1),
        "quarter": lambda: day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1),
        "year": lambda: day.replace(month=1, day=1),
        "hour_of_day": lambda: ts.hour,
        "day_of_week_num": lambda: (day.weekday() - k) % 7 + 1,
        "day_of_month": lambda: day.day,
        "month_num": lambda: day.month,
        "quarter_of_year": lambda: (day.month - 1) // 3 + 1,
    }
    return normalise(refs[grain]())


class Db:
    def __init__(self, dialect: str, run: Callable[[str], list[tuple[Any, ...]]]) -> None:
        self.dialect = dialect
        self._run = run

    def column(self, expression: exp.Expression) -> dict[int, Any]:
        """``SELECT id, <expression> FROM g`` as {id: normalised value}."""
        query = exp.select("id", expression).from_("g").sql(dialect=self.dialect)
        return {int(r[0]): normalise(r[1]) for r in self._run(query)}


def _rows() -> list[tuple[Any, ...]]:
    return [(i, ts, ts.date()) for i, ts in enumerate(STAMPS)]


def _sqlalchemy_db(dialect: str, url: str) -> Iterator[Db]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.execute(sa.text(CREATE[dialect]))
        conn.execute(
            sa.text("INSERT INTO g VALUES (:i, :ts, :d)"),
            [{"i": i, "ts": ts, "d": d} for i, ts, d in _rows()],
        )
        yield Db(dialect, lambda q: [tuple(r) for r in conn.execute(sa.text(q))])
        conn.rollback()
    engine.dispose()


@pytest.fixture(scope="module", params=["duckdb", "sqlite", "postgres", "mysql"])
def db(request: pytest.FixtureRequest) -> Iterator[Db]:
    name = request.param
    if name == "duckdb":
        con = duckdb.connect()
        con.execute(CREATE["duckdb"])
        con.executemany("INSERT INTO g VALUES (?, ?, ?)", _rows())
        yield Db("duckdb", lambda q: con.execute(q).fetchall())
        con.close()
    elif name == "sqlite":
        lite = sqlite3.connect(":memory:")
        lite.execute(CREATE["sqlite"])
        lite.executemany(
            "INSERT INTO g VALUES (?, ?, ?)",
            [(i, ts.isoformat(sep=" "), d.isoformat()) for i, ts, d in _rows()],
        )
        yield Db("sqlite", lambda q: lite.execute(q).fetchall())
        lite.close()
    elif name == "postgres":
        url = os.environ.get(
            "GNOMON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
        yield from _sqlalchemy_db("postgres", url)
    else:
        url = os.environ.get("GNOMON_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
        yield from _sqlalchemy_db("mysql", url)


GRAIN_CASES = [(g, "monday") for g in GRAINS if g not in ("week", "day_of_week_num")] + [
    (g, ws) for g in ("week", "day_of_week_num") for ws in WEEK_STARTS
]


@pytest.mark.parametrize(("grain", "week_start"), GRAIN_CASES)
def test_truncation_matches_python_on_timestamps(db: Db, grain: str, week_start: str) -> None:
    got = db.column(truncate(exp.column("ts"), grain, db.dialect, week_start=week_start))
    expected = {i: reference(ts, grain, week_start) for i, ts in enumerate(STAMPS)}
    assert got == expected


DATE_GRAINS = ["date", "month", "quarter", "year", "day_of_month", "month_num", "quarter_of_year"]


@pytest.mark.parametrize(
    ("grain", "week_start"),
    [(g, "monday") for g in DATE_GRAINS]
    + [(g, ws) for g in ("week", "day_of_week_num") for ws in ("monday", "wednesday", "sunday")],
)
def test_truncation_matches_python_on_dates(db: Db, grain: str, week_start: str) -> None:
    got = db.column(truncate(exp.column("d"), grain, db.dialect, week_start=week_start))
    expected = {i: reference(ts, grain, week_start) for i, ts in enumerate(STAMPS)}
    assert got == expected


def _months(d: date, n: int) -> date:
    index = d.year * 12 + d.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def reference_date(ts: datetime, grain: str) -> date:
    value = reference(ts, grain, "monday")
    assert isinstance(value, str)
    return date.fromisoformat(value)


SHIFTS: dict[str, Callable[[date, int], date]] = {
    "date": lambda d, n: d + timedelta(days=n),
    "week": lambda d, n: d + timedelta(days=7 * n),
    "month": _months,
    "quarter": lambda d, n: _months(d, 3 * n),
    "year": lambda d, n: _months(d, 12 * n),
}


@pytest.mark.parametrize(
    ("grain", "periods"),
    [
        ("date", 3),
        ("date", -40),
        ("week", -1),
        ("month", -1),
        ("month", 13),
        ("quarter", 1),
        ("quarter", -4),
        ("year", -1),
    ],
)
def test_shift_of_truncated_dates(db: Db, grain: str, periods: int) -> None:
    """Period-over-period: this period's start moved by N periods."""
    value = shift(truncate(exp.column("ts"), grain, db.dialect), grain, periods, db.dialect)
    got = {i: str(v)[:10] for i, v in db.column(value).items()}
    want = {
        i: SHIFTS[grain](reference_date(ts, grain), periods).isoformat()
        for i, ts in enumerate(STAMPS)
    }
    assert got == want


@pytest.mark.parametrize(
    ("grain", "periods"),
    [("month", -1), ("month", 1), ("quarter", -1), ("year", -1), ("week", -1), ("date", -1)],
)
@pytest.mark.parametrize("column", ["ts", "d"])
def test_shift_raw_value_then_truncate(db: Db, grain: str, periods: int, column: str) -> None:
    """The compiler's order for period-over-period: shift the raw value, then truncate. Month
    arithmetic must clamp (2024-03-31 minus a month is in February, also on SQLite)."""
    shifted = shift(exp.column(column), grain, periods, db.dialect)
    got = db.column(truncate(shifted, grain, db.dialect))
    want = {
        i: SHIFTS[grain](reference_date(ts, grain), periods).isoformat()
        for i, ts in enumerate(STAMPS)
    }
    assert got == want


def test_shift_by_hours(db: Db) -> None:
    value = shift(truncate(exp.column("ts"), "hour", db.dialect), "hour", -5, db.dialect)
    got = {i: str(v)[:19] for i, v in db.column(value).items()}
    want = {
        i: (ts.replace(minute=0, second=0) - timedelta(hours=5)).isoformat(sep=" ")
        for i, ts in enumerate(STAMPS)
    }
    assert got == want


# Zones each engine resolves: MariaDB without timezone tables only knows offsets (and UTC,
# which the mysql templates write as '+00:00'); SQLite knows none.
ZONES: dict[str, list[tuple[str, str]]] = {
    "duckdb": [("UTC", "Europe/Paris"), ("UTC", "America/New_York"), ("Asia/Kolkata", "UTC")],
    "postgres": [("UTC", "Europe/Paris"), ("UTC", "America/New_York"), ("Asia/Kolkata", "UTC")],
    "mysql": [("UTC", "+05:30"), ("+00:00", "-03:00"), ("+01:00", "UTC")],
}


def test_timezone_conversion_executes(db: Db) -> None:
    if db.dialect == "sqlite":
        with pytest.raises(TimeGrainError):
            convert_timezone(
                exp.column("ts"), source_tz="UTC", target_tz="Europe/Paris", dialect="sqlite"
            )
        return
    for source, target in ZONES[db.dialect]:
        value = convert_timezone(
            exp.column("ts"), source_tz=source, target_tz=target, dialect=db.dialect
        )
        got = {i: str(v)[:19] for i, v in db.column(value).items()}
        want = {i: _py_convert(ts, source, target) for i, ts in enumerate(STAMPS)}
        assert got == want, (source, target)


def _zone(name: str) -> tzinfo:
    if name[0] in "+-":
        sign = 1 if name[0] == "+" else -1
        return timezone(sign * timedelta(hours=int(name[1:3]), minutes=int(name[4:6])))
    return ZoneInfo(name)


def _py_convert(ts: datetime, source: str, target: str) -> str:
    aware = ts.replace(tzinfo=_zone(source)).astimezone(_zone(target))
    return aware.replace(tzinfo=None).isoformat(sep=" ")
