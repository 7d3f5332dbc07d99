"""The filter language: parsing, SQL shape per dialect, and filters executed on real engines."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from gnomon.errors import GnomonError, Invalid
from gnomon.semantic.filters import (
    Condition,
    FieldKind,
    FilterError,
    FilterSpec,
    filter_to_sql,
    parse_date_range,
    parse_filter,
)

# A Sunday, noon UTC: "this week" differs between monday and sunday week starts.
NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


def parse(value: Any, kind: FieldKind, **kw: Any) -> FilterSpec:
    kw.setdefault("now", NOW)
    return parse_filter(value, kind=kind, **kw)


def only(spec: FilterSpec) -> Condition:
    assert len(spec.conditions) == 1, spec
    assert not spec.groups
    return spec.conditions[0]


# --- parsing: values and operator objects --------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("shipped", "string", Condition("eq", ("shipped",))),
        ("Acme, Inc.", "string", Condition("eq", ("Acme, Inc.",))),
        (42, "string", Condition("eq", ("42",))),
        (None, "string", Condition("is_null")),
        (["a", "b"], "string", Condition("in", ("a", "b"))),
        ([], "number", Condition("in", ())),
        ({"is": "shipped"}, "string", Condition("eq", ("shipped",))),
        ({"not": ["cancelled"]}, "string", Condition("not_in", ("cancelled",))),
        ({"not": "cancelled"}, "string", Condition("ne", ("cancelled",))),
        ({"is": False}, "boolean", Condition("eq", (False,))),
        ({"is": None}, "number", Condition("is_null")),
        ({"not": None}, "number", Condition("not_null")),
        ({"is_null": False}, "number", Condition("not_null")),
        ({"greater_than": "10"}, "number", Condition("gt", (10,))),
        ({"less_than_or_equal": 2.5}, "number", Condition("lte", (2.5,))),
        ({"between": [1, 10]}, "number", Condition("between", (1, 10))),
        ({"contains": "acme"}, "string", Condition("contains", ("acme",))),
        ({"not_contains": "acme"}, "string", Condition("contains", ("acme",), negate=True)),
        ({"in": "solo"}, "string", Condition("in", ("solo",))),
        ("1.25", "number", Condition("eq", (Decimal("1.25"),))),
        ("yes", "boolean", Condition("eq", (True,))),
        ("false", "boolean", Condition("eq", (False,))),
        (1, "boolean", Condition("eq", (True,))),
    ],
)
def test_values_and_operator_objects(value: Any, kind: FieldKind, expected: Condition) -> None:
    assert only(parse(value, kind)) == expected


def test_operator_object_keys_are_and_ed() -> None:
    spec = parse({"gte": 10, "lt": 20}, "number")
    assert spec == FilterSpec((Condition("gte", (10,)), Condition("lt", (20,))))
    assert spec.any_of is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (">100", FilterSpec((Condition("gt", (100,)),))),
        (">=10", FilterSpec((Condition("gte", (10,)),))),
        ("<5", FilterSpec((Condition("lt", (5,)),))),
        ("<= -2.5", FilterSpec((Condition("lte", (Decimal("-2.5"),)),))),
        ("!=3", FilterSpec((Condition("ne", (3,)),))),
        ("1 to 10", FilterSpec((Condition("between", (1, 10)),))),
        ("10 to 1", FilterSpec((Condition("between", (1, 10)),))),
        ("not 5", FilterSpec((Condition("ne", (5,)),))),
        ("not 1 to 10", FilterSpec((Condition("between", (1, 10), negate=True),))),
        ("null", FilterSpec((Condition("is_null"),))),
        ("NOT NULL", FilterSpec((Condition("not_null"),))),
        ("5", FilterSpec((Condition("eq", (5,)),))),
        ("1, 2, 3", FilterSpec((Condition("in", (1, 2, 3)),))),
        (
            ">10, <2",
            FilterSpec((Condition("gt", (10,)), Condition("lt", (2,))), any_of=True),
        ),
        ("[1, 10)", FilterSpec((Condition("gte", (1,)), Condition("lt", (10,))))),
        ("(5,]", FilterSpec((Condition("gt", (5,)),))),
    ],
)
def test_number_filter_strings(text: str, expected: FilterSpec) -> None:
    assert parse(text, "number") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("contains acme", Condition("contains", ("acme",))),
        ("starts with O'", Condition("starts_with", ("O'",))),
        ("ends with Inc.", Condition("ends_with", ("Inc.",))),
        ("not contains x", Condition("contains", ("x",), negate=True)),
        ("not shipped", Condition("ne", ("shipped",))),
        ("null", Condition("is_null")),
        ("not null", Condition("not_null")),
        # Keywords are lower-case: a capitalised value stays a value.
        ("Not applicable", Condition("eq", ("Not applicable",))),
        ("Smith, John", Condition("eq", ("Smith, John",))),
    ],
)
def test_string_filter_strings(text: str, expected: Condition) -> None:
    assert only(parse(text, "string")) == expected


def test_list_items_are_values_not_filter_strings() -> None:
    assert only(parse(["contains x", "null"], "string")) == Condition("in", ("contains x", "null"))


def test_null_inside_a_list_means_null() -> None:
    spec = parse(["a", None], "string")
    assert spec == FilterSpec((Condition("in", ("a",)), Condition("is_null")), any_of=True)


# --- parsing: dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", Condition("eq", (date(2024, 6, 30),))),
        ("yesterday", Condition("eq", (date(2024, 6, 29),))),
        ("tomorrow", Condition("eq", (date(2024, 7, 1),))),
        # 90 days ending today, today included.
        ("last 90 days", Condition("between", (date(2024, 4, 2), date(2024, 7, 1)))),
        ("last 1 day", Condition("eq", (date(2024, 6, 30),))),
        ("last 3 months", Condition("between", (date(2024, 4, 1), date(2024, 7, 1)))),
        ("last 2 quarters", Condition("between", (date(2024, 1, 1), date(2024, 7, 1)))),
        ("last 2 years", Condition("between", (date(2023, 1, 1), date(2025, 1, 1)))),
        ("last 2 weeks", Condition("between", (date(2024, 6, 17), date(2024, 7, 1)))),
        ("next 2 months", Condition("between", (date(2024, 6, 1), date(2024, 8, 1)))),
        ("3 days ago", Condition("eq", (date(2024, 6, 27),))),
        ("2 months ago", Condition("between", (date(2024, 4, 1), date(2024, 5, 1)))),
        ("1 week from now", Condition("between", (date(2024, 7, 1), date(2024, 7, 8)))),
        ("this week", Condition("between", (date(2024, 6, 24), date(2024, 7, 1)))),
        ("this month", Condition("between", (date(2024, 6, 1), date(2024, 7, 1)))),
        ("this quarter", Condition("between", (date(2024, 4, 1), date(2024, 7, 1)))),
        ("this year", Condition("between", (date(2024, 1, 1), date(2025, 1, 1)))),
        ("last week", Condition("between", (date(2024, 6, 17), date(2024, 6, 24)))),
        ("last month", Condition("between", (date(2024, 5, 1), date(2024, 6, 1)))),
        ("last quarter", Condition("between", (date(2024, 1, 1), date(2024, 4, 1)))),
        ("last year", Condition("between", (date(2023, 1, 1), date(2024, 1, 1)))),
        ("next week", Condition("between", (date(2024, 7, 1), date(2024, 7, 8)))),
        ("next quarter", Condition("between", (date(2024, 7, 1), date(2024, 10, 1)))),
        ("2024-02-29", Condition("eq", (date(2024, 2, 29),))),
        ("2024-02", Condition("between", (date(2024, 2, 1), date(2024, 3, 1)))),
        ("2024", Condition("between", (date(2024, 1, 1), date(2025, 1, 1)))),
        ("2024-Q4", Condition("between", (date(2024, 10, 1), date(2025, 1, 1)))),
        ("2024/12/31", Condition("eq", (date(2024, 12, 31),))),
        # The end of "A to B" is inclusive at its own precision.
        ("2024-01-01 to 2024-12-31", Condition("between", (date(2024, 1, 1), date(2025, 1, 1)))),
        ("2024-01 to 2024-03", Condition("between", (date(2024, 1, 1), date(2024, 4, 1)))),
        ("7 days ago to today", Condition("between", (date(2024, 6, 23), date(2024, 7, 1)))),
        ("before 2024-03", Condition("lt", (date(2024, 3, 1),))),
        ("after 2024-03", Condition("gte", (date(2024, 4, 1),))),
        ("on or after 2024-03", Condition("gte", (date(2024, 3, 1),))),
        ("on or before 2024-03", Condition("lt", (date(2024, 4, 1),))),
        ("before today", Condition("lt", (date(2024, 6, 30),))),
        ("not 2024-06", Condition("between", (date(2024, 6, 1), date(2024, 7, 1)), negate=True)),
        ("not today", Condition("ne", (date(2024, 6, 30),))),
        ("null", Condition("is_null")),
        ("not null", Condition("not_null")),
        ("  Last   7  DAYS ", Condition("between", (date(2024, 6, 24), date(2024, 7, 1)))),
    ],
)
def test_date_filter_strings(text: str, expected: Condition) -> None:
    assert only(parse(text, "date")) == expected


@pytest.mark.parametrize(
    ("week_start", "start"),
    [
        ("monday", date(2024, 6, 24)),
        ("tuesday", date(2024, 6, 25)),
        ("wednesday", date(2024, 6, 26)),
        ("thursday", date(2024, 6, 27)),
        ("friday", date(2024, 6, 28)),
        ("saturday", date(2024, 6, 29)),
        ("sunday", date(2024, 6, 30)),
    ],
)
def test_week_start_moves_this_week(week_start: str, start: date) -> None:
    cond = only(parse("this week", "date", week_start=week_start))
    assert cond.op == "between"
    assert cond.values[0] == start
    assert (cond.values[1] - cond.values[0]).days == 7


def test_timestamp_ranges_are_half_open_datetimes() -> None:
    assert only(parse("yesterday", "timestamp")) == Condition(
        "between", (datetime(2024, 6, 29), datetime(2024, 6, 30))
    )
    assert only(parse("last 24 hours", "timestamp")) == Condition(
        "between", (datetime(2024, 6, 29, 13), datetime(2024, 6, 30, 13))
    )


def test_relative_dates_use_the_query_timezone() -> None:
    # 20:00 UTC on June 30 is already July 1 in Tokyo, still June 30 in New York.
    late = datetime(2024, 6, 30, 20, 0, tzinfo=UTC)
    assert only(parse("today", "date", now=late, timezone="Asia/Tokyo")).values == (
        date(2024, 7, 1),
    )
    assert only(parse("today", "date", now=late, timezone="America/New_York")).values == (
        date(2024, 6, 30),
    )


def test_iso_timestamp_with_offset_is_converted_to_query_timezone() -> None:
    # The seed sends JavaScript Date objects, serialised as ISO strings ending in Z.
    spec = parse({"gte": "2024-06-01T12:34:56.789Z"}, "timestamp", timezone="Europe/Paris")
    assert only(spec) == Condition("gte", (datetime(2024, 6, 1, 14, 34, 56, 789000),))
    naive = parse({"gte": "2024-06-01 08:00"}, "timestamp", timezone="Europe/Paris")
    assert only(naive) == Condition("gte", (datetime(2024, 6, 1, 8, 0),))


def test_date_only_value_on_a_timestamp_is_the_whole_day() -> None:
    assert only(parse("2024-06-01", "timestamp")) == Condition(
        "between", (datetime(2024, 6, 1), datetime(2024, 6, 2))
    )


def test_operators_on_periods_respect_the_whole_period() -> None:
    spec = parse({"gt": "2024-03", "lte": "2024-05"}, "date")
    assert spec.conditions == (
        Condition("gte", (date(2024, 4, 1),)),
        Condition("lt", (date(2024, 6, 1),)),
    )


def test_in_list_of_months_on_a_timestamp_is_or_of_ranges() -> None:
    spec = parse({"in": ["2024-01", "2024-03"], "not_null": True}, "timestamp")
    assert spec.conditions == (Condition("not_null"),)
    assert spec.groups == (
        FilterSpec(
            (
                Condition("between", (datetime(2024, 1, 1), datetime(2024, 2, 1))),
                Condition("between", (datetime(2024, 3, 1), datetime(2024, 4, 1))),
            ),
            any_of=True,
        ),
    )


def test_python_date_and_datetime_values_are_accepted() -> None:
    assert only(parse(date(2024, 6, 1), "date")) == Condition("eq", (date(2024, 6, 1),))
    aware = datetime(2024, 6, 1, 0, 0, tzinfo=UTC)
    assert only(parse({"lt": aware}, "timestamp", timezone="America/New_York")) == Condition(
        "lt", (datetime(2024, 5, 31, 20, 0),)
    )


def test_default_now_is_the_current_time() -> None:
    before = datetime.now(UTC).date()
    value = only(parse_filter("today", kind="date")).values[0]
    after = datetime.now(UTC).date()
    assert value in (before, after)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["2024-01-01", "2024-03-31"], ("between", datetime(2024, 1, 1), datetime(2024, 4, 1))),
        (
            {"start": "2024-01-01", "end": "2024-03-31"},
            ("between", datetime(2024, 1, 1), datetime(2024, 4, 1)),
        ),
        ({"start": "2024-04"}, ("gte", datetime(2024, 4, 1))),
        ([None, "2024-03"], ("lt", datetime(2024, 4, 1))),
        ("this quarter", ("between", datetime(2024, 4, 1), datetime(2024, 7, 1))),
        (
            ["2024-01-01T00:00:00Z", "2024-01-02T06:00:00Z"],
            ("between", datetime(2024, 1, 1), datetime(2024, 1, 2, 6)),
        ),
    ],
)
def test_date_range_forms(value: Any, expected: tuple[Any, ...]) -> None:
    spec = parse_date_range(value, timezone="UTC", now=NOW, week_start="monday")
    cond = only(spec)
    assert (cond.op, *cond.values) == expected


def test_date_range_none_filters_nothing() -> None:
    spec = parse_date_range(None, timezone="UTC", now=NOW, week_start="monday")
    assert spec.is_empty
    assert filter_to_sql(spec, exp.column("ts"), kind="timestamp").sql() == "TRUE"


def test_date_range_on_a_date_field() -> None:
    spec = parse_date_range(
        ["2024-01-01", "2024-01-31"], timezone="UTC", now=NOW, week_start="monday", kind="date"
    )
    assert only(spec) == Condition("between", (date(2024, 1, 1), date(2024, 2, 1)))


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "fragment"),
    [
        ({"like": "x"}, "string", "unknown filter operator 'like'"),
        ("abc", "number", "'abc'"),
        ({"gt": "ten"}, "number", "not a number"),
        (True, "number", "not a number"),
        (float("nan"), "number", "finite"),
        ("maybe", "boolean", "not a boolean"),
        ({"gt": True}, "boolean", "does not apply to a boolean"),
        ({"contains": "1"}, "number", "only applies to string fields"),
        ("2024-13-01", "date", "not a valid date"),
        ("someday", "date", "cannot read 'someday' as a date"),
        ("last 0 days", "date", "at least 1"),
        ("this hour", "date", "inside a day"),
        ({"between": [1, 2, 3]}, "number", "between needs two values"),
        ({"gt": [1, 2]}, "number", "needs a single value"),
        ("2024-05 to 2024-01", "date", "ends before it starts"),
        ({}, "string", "empty operator object"),
    ],
)
def test_bad_filters_raise_filter_error(value: Any, kind: FieldKind, fragment: str) -> None:
    with pytest.raises(FilterError) as info:
        parse(value, kind)
    assert fragment in info.value.message
    assert isinstance(info.value, Invalid)
    assert isinstance(info.value, GnomonError)
    assert info.value.issues[0].code == "invalid_filter"


def test_unknown_operator_lists_the_valid_ones() -> None:
    with pytest.raises(FilterError) as info:
        parse({"like": "x"}, "string")
    assert info.value.hint is not None
    for op in ("eq", "not_in", "greater_than", "starts_with", "is_null"):
        assert op in info.value.hint


@pytest.mark.parametrize(
    "kw",
    [{"timezone": "Mars/Olympus"}, {"week_start": "someday"}, {"kind": "geometry"}],
)
def test_bad_context_is_rejected(kw: dict[str, Any]) -> None:
    args: dict[str, Any] = {"kind": "date", "now": NOW} | kw
    with pytest.raises(FilterError):
        parse_filter("today", **args)


# --- SQL shape -----------------------------------------------------------------------------


def sql(value: Any, kind: FieldKind, dialect: str, column: str = "c") -> str:
    return filter_to_sql(parse(value, kind), exp.column(column), kind=kind).sql(dialect=dialect)


@pytest.mark.parametrize(
    ("value", "kind", "dialect", "expected"),
    [
        ({"not": ["cancelled"]}, "string", "duckdb", "(NOT c IN ('cancelled') OR c IS NULL)"),
        ([], "string", "postgres", "FALSE"),
        ({"not_in": []}, "string", "postgres", "TRUE"),
        ("null", "number", "mysql", "c IS NULL"),
        ("not null", "number", "sqlite", "NOT c IS NULL"),
        ("1 to 10", "number", "postgres", "c BETWEEN 1 AND 10"),
        (
            "2024-06",
            "date",
            "sqlite",
            "c >= DATE('2024-06-01') AND c < DATE('2024-07-01')",
        ),
        (
            "2024-06",
            "timestamp",
            "mysql",
            "c >= CAST('2024-06-01 00:00:00' AS DATETIME) AND c < CAST('2024-07-01 00:00:00' AS"
            " DATETIME)",
        ),
        (
            {"gte": "2024-06-01T12:34:56.789Z"},
            "timestamp",
            "postgres",
            "c >= CAST('2024-06-01 12:34:56.789000' AS TIMESTAMP)",
        ),
        ({"is": False}, "boolean", "duckdb", "c = FALSE"),
        ("contains 50%", "string", "postgres", "POSITION(LOWER('50%') IN LOWER(c)) > 0"),
        ("contains 50%", "string", "mysql", "LOCATE(LOWER('50%'), LOWER(c)) > 0"),
        ("contains 50%", "string", "bigquery", "INSTR(LOWER(c), LOWER('50%')) > 0"),
        ("contains 50%", "string", "snowflake", "CHARINDEX(LOWER('50%'), LOWER(c)) > 0"),
        (
            "starts with a_b",
            "string",
            "duckdb",
            "SUBSTRING(LOWER(c), 1, LENGTH(LOWER('a_b'))) = LOWER('a_b')",
        ),
        (
            "ends with x",
            "string",
            "sqlite",
            "SUBSTRING(LOWER(c), LENGTH(LOWER(c)) - LENGTH(LOWER('x')) + 1) = LOWER('x')",
        ),
    ],
)
def test_sql_per_dialect(value: Any, kind: FieldKind, dialect: str, expected: str) -> None:
    assert sql(value, kind, dialect) == expected


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite", "postgres", "mysql", "bigquery"])
def test_injection_attempts_stay_literals(dialect: str) -> None:
    evil = "x' OR 1=1 --"
    tree = filter_to_sql(parse(evil, "string"), exp.column("c"), kind="string")
    literals = [lit.this for lit in tree.find_all(exp.Literal)]
    assert literals == [evil]
    assert "OR 1=1 --'" in tree.sql(dialect=dialect)  # the quote is escaped inside the literal
    assert not tree.find(exp.Or)


def test_filter_to_sql_does_not_mutate_the_column() -> None:
    column = exp.column("status", table="orders")
    filter_to_sql(parse({"not": ["a", "b"]}, "string"), column, kind="string")
    assert column.parent is None
    assert column.sql() == "orders.status"


# --- executed on real engines --------------------------------------------------------------

ROWS: list[tuple[Any, ...]] = [
    (1, "Acme, Inc.", Decimal("100"), True, date(2024, 6, 30), datetime(2024, 6, 30, 23, 30)),
    (2, "50% off_sale", Decimal("5"), False, date(2024, 6, 24), datetime(2024, 6, 24, 0, 0)),
    (3, "acme labs", Decimal("10.5"), True, date(2024, 4, 2), datetime(2024, 4, 1, 23, 59, 59)),
    (4, None, None, None, None, None),
    (5, "O'Brien", Decimal("250"), False, date(2024, 1, 1), datetime(2023, 12, 31, 12, 0)),
    (6, "shipped", Decimal("-3"), True, date(2024, 7, 1), datetime(2024, 7, 1, 0, 0)),
    (7, "5000 offXsale", Decimal("1000"), False, date(2023, 6, 15), datetime(2024, 6, 29, 8)),
]
ALL = {r[0] for r in ROWS}

CREATE = {
    "duckdb": "CREATE TEMP TABLE t (id INT, name VARCHAR, amount DECIMAL(10,2), flag BOOLEAN,"
    " day DATE, ts TIMESTAMP)",
    "sqlite": "CREATE TEMP TABLE t (id INTEGER, name TEXT, amount REAL, flag INTEGER,"
    " day TEXT, ts TEXT)",
    "postgres": "CREATE TEMP TABLE t (id INT, name TEXT, amount NUMERIC(10,2), flag BOOLEAN,"
    " day DATE, ts TIMESTAMP)",
    "mysql": "CREATE TEMPORARY TABLE t (id INT, name VARCHAR(100), amount DECIMAL(10,2),"
    " flag BOOLEAN, day DATE, ts DATETIME)",
}


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    def conv(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat(sep=" ")
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, Decimal):
            return float(v)
        return v

    return tuple(conv(v) for v in row)


class Db:
    """One engine holding table ``t``; ``ids(where)`` runs ``SELECT id FROM t WHERE ...``."""

    def __init__(self, dialect: str, run: Callable[[str], list[tuple[Any, ...]]]) -> None:
        self.dialect = dialect
        self._run = run

    def ids(self, where: exp.Expression) -> set[int]:
        query = exp.select("id").from_("t").where(where).sql(dialect=self.dialect)
        return {int(r[0]) for r in self._run(query)}


def _sqlalchemy_db(dialect: str, url: str) -> Iterator[Db]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.execute(sa.text(CREATE[dialect]))
        conn.execute(
            sa.text("INSERT INTO t VALUES (:a, :b, :c, :d, :e, :f)"),
            [dict(zip("abcdef", r, strict=True)) for r in ROWS],
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
        con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", ROWS)
        yield Db("duckdb", lambda q: con.execute(q).fetchall())
        con.close()
    elif name == "sqlite":
        lite = sqlite3.connect(":memory:")
        lite.execute(CREATE["sqlite"])
        lite.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", map(_sqlite_row, ROWS))
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


CASES: list[tuple[str, FieldKind, Any, set[int], dict[str, Any]]] = [
    ("name", "string", "Acme, Inc.", {1}, {}),
    ("name", "string", "contains acme", {1, 3}, {}),
    ("name", "string", "contains 50%", {2}, {}),
    ("name", "string", "contains f_s", {2}, {}),
    ("name", "string", "starts with ACME", {1, 3}, {}),
    ("name", "string", "starts with o'", {5}, {}),
    ("name", "string", "ends with SALE", {2, 7}, {}),
    ("name", "string", "ends with _sale", {2}, {}),
    ("name", "string", "not contains acme", {2, 4, 5, 6, 7}, {}),
    ("name", "string", "not Acme, Inc.", ALL - {1}, {}),
    ("name", "string", {"not": ["shipped"]}, ALL - {6}, {}),
    ("name", "string", {"is": "shipped"}, {6}, {}),
    ("name", "string", "null", {4}, {}),
    ("name", "string", "not null", ALL - {4}, {}),
    ("name", "string", ["shipped", "O'Brien"], {5, 6}, {}),
    ("name", "string", ["shipped", None], {4, 6}, {}),
    ("name", "string", [], set(), {}),
    ("name", "string", {"not_in": []}, ALL, {}),
    ("name", "string", "x' OR 1=1 --", set(), {}),
    ("name", "string", {"contains": ["labs", "off"]}, {2, 3, 7}, {}),
    ("amount", "number", ">100", {5, 7}, {}),
    ("amount", "number", ">=10", {1, 3, 5, 7}, {}),
    ("amount", "number", "<5", {6}, {}),
    ("amount", "number", "1 to 10", {2}, {}),
    ("amount", "number", "not 5", ALL - {2}, {}),
    ("amount", "number", "5", {2}, {}),
    ("amount", "number", "100, 250", {1, 5}, {}),
    ("amount", "number", ">500, <0", {6, 7}, {}),
    ("amount", "number", "[10, 100)", {3}, {}),
    ("amount", "number", {"between": [5, 100]}, {1, 2, 3}, {}),
    ("amount", "number", {"not_between": [5, 100]}, {4, 5, 6, 7}, {}),
    ("amount", "number", {"gt": 5, "lt": 250}, {1, 3}, {}),
    ("amount", "number", {"gte": "1000"}, {7}, {}),
    ("amount", "number", 10.5, {3}, {}),
    ("amount", "number", "null", {4}, {}),
    ("flag", "boolean", True, {1, 3, 6}, {}),
    ("flag", "boolean", "no", {2, 5, 7}, {}),
    ("flag", "boolean", {"is": False}, {2, 5, 7}, {}),
    ("flag", "boolean", {"not": True}, {2, 4, 5, 7}, {}),
    ("day", "date", "today", {1}, {}),
    ("day", "date", "last 7 days", {1, 2}, {}),
    ("day", "date", "last 90 days", {1, 2, 3}, {}),
    ("day", "date", "this week", {1, 2}, {}),
    ("day", "date", "this week", {1, 6}, {"week_start": "sunday"}),
    ("day", "date", "this quarter", {1, 2, 3}, {}),
    ("day", "date", "next month", {6}, {}),
    ("day", "date", "2024-01-01 to 2024-06-24", {2, 3, 5}, {}),
    ("day", "date", "before 2024", {7}, {}),
    ("day", "date", "after 2024-06", {6}, {}),
    ("day", "date", "on or after 2024-06-30", {1, 6}, {}),
    ("day", "date", "2024", {1, 2, 3, 5, 6}, {}),
    ("day", "date", "2024-06", {1, 2}, {}),
    ("day", "date", "not 2024-06", {3, 4, 5, 6, 7}, {}),
    ("day", "date", ["2024-06-30", "2024-01-01"], {1, 5}, {}),
    ("day", "date", {"gte": "2024-06-24", "lt": "2024-07-01"}, {1, 2}, {}),
    ("day", "date", {"in": ["2024-06", "2023"]}, {1, 2, 7}, {}),
    ("day", "date", "null", {4}, {}),
    ("ts", "timestamp", "today", {1}, {}),
    ("ts", "timestamp", "yesterday", {7}, {}),
    ("ts", "timestamp", "last 2 days", {1, 7}, {}),
    ("ts", "timestamp", "2024-04-01", {3}, {}),
    ("ts", "timestamp", "this quarter", {1, 2, 3, 7}, {}),
    ("ts", "timestamp", "last 36 hours", {7}, {}),
    ("ts", "timestamp", {"gte": "2024-06-30T00:00:00Z"}, {1, 6}, {}),
    ("ts", "timestamp", {"gte": "2024-06-30T03:30:00+00:00"}, {1, 6}, {"timezone": "Asia/Tokyo"}),
    ("ts", "timestamp", "today", {6}, {"timezone": "Asia/Tokyo", "now": NOW.replace(hour=20)}),
    ("ts", "timestamp", {"in": ["2024-06-24", "2023-12"]}, {2, 5}, {}),
    ("ts", "timestamp", {"eq": "2024-06-24 00:00:00"}, {2}, {}),
    ("ts", "timestamp", {"lte": "2024-06-24T00:00:00"}, {2, 3, 5}, {}),
]


@pytest.mark.parametrize(
    ("column", "kind", "value", "expected", "kw"),
    CASES,
    ids=[f"{c[0]}:{c[2]!r}:{c[4]}" for c in CASES],
)
def test_filters_execute(
    db: Db, column: str, kind: FieldKind, value: Any, expected: set[int], kw: dict[str, Any]
) -> None:
    where = filter_to_sql(parse(value, kind, **kw), exp.column(column), kind=kind)
    assert db.ids(where) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["2024-06-24", "2024-06-30"], {1, 2, 7}),
        ({"start": "2024-04-01", "end": None}, {1, 2, 3, 6, 7}),
        ("last 7 days", {1, 2, 7}),
        ({"start": "2023-12-31T12:00:00Z", "end": "2024-04-01T23:59:59Z"}, {5}),
    ],
)
def test_date_range_executes(db: Db, value: Any, expected: set[int]) -> None:
    spec = parse_date_range(value, timezone="UTC", now=NOW, week_start="monday")
    assert db.ids(filter_to_sql(spec, exp.column("ts"), kind="timestamp")) == expected


def test_date_range_on_a_date_column_executes(db: Db) -> None:
    spec = parse_date_range(
        ["2024-06-24", "2024-06-30"], timezone="UTC", now=NOW, week_start="monday", kind="date"
    )
    assert db.ids(filter_to_sql(spec, exp.column("day"), kind="date")) == {1, 2}


def test_date_range_with_iso_instants_on_a_date_field_keeps_whole_days() -> None:
    # What a JavaScript client sends for "this quarter": start and end-of-day instants.
    spec = parse_date_range(
        {"start": "2024-04-01T00:00:00.000Z", "end": "2024-06-30T23:59:59.999Z"},
        timezone="UTC",
        now=NOW,
        week_start="monday",
        kind="date",
    )
    assert only(spec) == Condition("between", (date(2024, 4, 1), date(2024, 7, 1)))


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2099, 12, 1)),
    unit=st.sampled_from(["day", "week", "month", "quarter", "year"]),
    week_start=st.sampled_from(["monday", "wednesday", "saturday", "sunday"]),
)
def test_this_period_contains_now_and_last_period_ends_where_it_starts(
    moment: datetime, unit: str, week_start: str
) -> None:
    now = moment.replace(tzinfo=UTC)
    this = only(parse_filter(f"this {unit}", kind="timestamp", now=now, week_start=week_start))
    last = only(parse_filter(f"last {unit}", kind="timestamp", now=now, week_start=week_start))
    if unit == "day":
        assert this == Condition(
            "between", (datetime.combine(moment.date(), datetime.min.time()), this.values[1])
        )
    low, high = this.values
    assert low <= moment < high
    assert last.values[1] == low
    assert last.values[0] < low
