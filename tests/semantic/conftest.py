"""Fixtures for the semantic-layer tests: the test model (orders / line_items / customers /
products / tags through a many_to_many bridge) and the same small dataset loaded into DuckDB,
SQLite, PostgreSQL (schema ``gnomon_semantic_test``) and MariaDB (database of that name).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import duckdb
import pytest

from gnomon.semantic import SemanticModel, load_files

ORDERS_VIEW = """
schema: gnomon_semantic_test
table_name: orders
label: Orders
dimensions:
  id: {primary_key: true, type: number}
  customer_id: {type: number}
  status: {label: Order status}
  amount: {type: number, hidden: true}
  created_at: {timeframes: [raw, date, week, month, quarter, year]}
  amount_band: {sql: "case when ${amount} > 100 then 'big' else 'small' end"}
measures:
  count: {aggregate_type: count}
  total_revenue: {sql: "${amount}", aggregate_type: sum, format: usdcurrency_2}
  shipped_revenue:
    sql: ${amount}
    aggregate_type: sum
    filters: {status: {is: shipped}}
  average_order: {sql: "${total_revenue} / nullif(${count}, 0)", format: usdcurrency_2}
  average_amount: {sql: "${amount}", aggregate_type: average}
  median_amount: {sql: "${amount}", aggregate_type: median}
  p90_amount: {sql: "${amount}", aggregate_type: percentile, percentile: 0.9}
  customer_count: {sql: "${customer_id}", aggregate_type: count_distinct}
  max_amount: {sql: "${amount}", aggregate_type: max}
  revenue_growth:
    period_over_period: {measure: total_revenue, periods: 1, output: percent_change}
    format: percent_1
  previous_revenue:
    period_over_period: {measure: total_revenue, periods: 1, output: value}
"""

LINE_ITEMS_VIEW = """
schema: gnomon_semantic_test
table_name: line_items
dimensions:
  id: {primary_key: true, type: number}
  order_id: {type: number}
  product_id: {type: number}
  quantity: {type: number}
  price: {type: number}
measures:
  count: {aggregate_type: count}
  total_quantity: {sql: "${quantity}", aggregate_type: sum}
  line_revenue: {sql: "${quantity} * ${price}", aggregate_type: sum}
  order_amount_once:
    sql: ${orders.amount}
    aggregate_type: sum_distinct_on
    custom_primary_key_sql: ${order_id}
"""

CUSTOMERS_VIEW = """
schema: gnomon_semantic_test
table_name: customers
dimensions:
  id: {primary_key: true, type: number}
  name: {}
  region: {}
  tier: {}
measures:
  count: {aggregate_type: count}
"""

PRODUCTS_VIEW = """
schema: gnomon_semantic_test
table_name: products
dimensions:
  id: {primary_key: true, type: number}
  name: {}
  category: {}
  cost: {type: number}
measures:
  count: {aggregate_type: count}
  total_cost: {sql: "${cost}", aggregate_type: sum}
"""

PRODUCT_TAGS_VIEW = """
schema: gnomon_semantic_test
table_name: product_tags
dimensions:
  product_id: {type: number}
  tag_id: {type: number}
"""

TAGS_VIEW = """
schema: gnomon_semantic_test
table_name: tags
dimensions:
  id: {primary_key: true, type: number}
  label: {}
measures:
  count: {aggregate_type: count}
"""

RELATIONSHIPS = """
- join_from_view: orders
  join_to_view: customers
  on_sql: ${orders.customer_id} = ${customers.id}
  relationship_type: many_to_one
- join_from_view: line_items
  join_to_view: orders
  on_sql: ${line_items.order_id} = ${orders.id}
  relationship_type: many_to_one
- join_from_view: line_items
  join_to_view: products
  on_sql: ${line_items.product_id} = ${products.id}
  relationship_type: many_to_one
- join_from_view: products
  join_to_view: product_tags
  on_sql: ${products.id} = ${product_tags.product_id}
  relationship_type: one_to_many
- join_from_view: product_tags
  join_to_view: tags
  on_sql: ${product_tags.tag_id} = ${tags.id}
  relationship_type: many_to_one
"""

SALES_TOPIC = """
base_view: orders
label: Sales
joins:
  customers: {}
  line_items:
    products:
      product_tags:
        tags: {}
default_time_dimension: orders.created_at
"""

CUSTOMER_TOPIC = """
base_view: customers
joins:
  orders: {}
fields: [customers.*, orders.*, -orders.amount_band]
"""

SECURE_TOPIC = """
base_view: orders
joins: {customers: {}}
access_filters:
  - {field: customers.region, user_attribute: region}
"""

MODEL_SETTINGS = """
week_start_day: monday
caching_policy: {default_max_age: 3600}
ai_chat_topics: [sales]
"""

FILES: dict[str, str] = {
    "orders.view": ORDERS_VIEW,
    "line_items.view.yaml": LINE_ITEMS_VIEW,
    "customers.view": CUSTOMERS_VIEW,
    "products.view": PRODUCTS_VIEW,
    "product_tags.view": PRODUCT_TAGS_VIEW,
    "tags.view": TAGS_VIEW,
    "relationships": RELATIONSHIPS,
    "sales.topic": SALES_TOPIC,
    "customer_orders.topic": CUSTOMER_TOPIC,
    "secure_sales.topic": SECURE_TOPIC,
    "model": MODEL_SETTINGS,
}


# ---- the dataset ------------------------------------------------------------------------------
# Deliberate fan-out: customer 1 has four orders, most orders have several line items, product 1
# carries two tags (many_to_many through product_tags), customer 4 has no orders, order 12 has
# no line items, product 4 has no tags.

CUSTOMERS = [
    (1, "Ada", "west", "gold"),
    (2, "Bob", "east", "silver"),
    (3, "Cy", "west", "silver"),
    (4, "Di", "north", "gold"),
]
ORDERS = [  # id, customer_id, status, amount, created_at
    (1, 1, "shipped", 120.00, "2023-12-05 10:00:00"),
    (2, 2, "shipped", 80.00, "2023-12-20 23:30:00"),
    (3, 1, "pending", 45.50, "2024-01-03 08:15:00"),
    (4, 3, "shipped", 200.00, "2024-01-15 12:00:00"),
    (5, 2, "cancelled", 30.00, "2024-01-31 18:45:00"),
    (6, 1, "shipped", 150.25, "2024-02-01 00:30:00"),
    (7, 3, "pending", 99.99, "2024-02-14 14:00:00"),
    (8, 2, "shipped", 60.00, "2024-02-29 09:00:00"),
    (9, 1, "shipped", 310.00, "2024-03-10 16:20:00"),
    (10, 3, "cancelled", 15.00, "2024-03-25 11:11:00"),
    (11, 2, "shipped", 75.50, "2024-04-02 07:00:00"),
    (12, 3, "pending", 40.00, "2024-03-30 22:00:00"),
]
PRODUCTS = [
    (1, "Widget", "hardware", 5.0),
    (2, "Gadget", "hardware", 8.0),
    (3, "Manual", "books", 2.0),
    (4, "Sticker", "misc", 0.5),
]
LINE_ITEMS = [  # id, order_id, product_id, quantity, price
    (1, 1, 1, 2, 30.0),
    (2, 1, 2, 1, 60.0),
    (3, 2, 3, 4, 20.0),
    (4, 3, 1, 1, 45.5),
    (5, 4, 1, 5, 20.0),
    (6, 4, 2, 2, 50.0),
    (7, 4, 4, 10, 0.0),
    (8, 5, 3, 3, 10.0),
    (9, 6, 2, 1, 100.25),
    (10, 6, 3, 1, 50.0),
    (11, 7, 1, 3, 33.33),
    (12, 8, 4, 6, 10.0),
    (13, 9, 1, 4, 50.0),
    (14, 9, 2, 1, 60.0),
    (15, 9, 3, 5, 10.0),
    (16, 10, 4, 3, 5.0),
    (17, 11, 2, 1, 75.5),
]
TAGS = [(1, "popular"), (2, "sale"), (3, "new")]
PRODUCT_TAGS = [(1, 1), (1, 2), (2, 1), (3, 3)]

TABLES: dict[str, tuple[list[tuple[str, str]], list[tuple[Any, ...]]]] = {
    "customers": (
        [
            ("id", "INTEGER"),
            ("name", "VARCHAR(40)"),
            ("region", "VARCHAR(40)"),
            ("tier", "VARCHAR(40)"),
        ],
        CUSTOMERS,
    ),
    "orders": (
        [
            ("id", "INTEGER"),
            ("customer_id", "INTEGER"),
            ("status", "VARCHAR(40)"),
            ("amount", "DECIMAL(10,2)"),
            ("created_at", "TIMESTAMP"),
        ],
        ORDERS,
    ),
    "products": (
        [
            ("id", "INTEGER"),
            ("name", "VARCHAR(40)"),
            ("category", "VARCHAR(40)"),
            ("cost", "DECIMAL(10,2)"),
        ],
        PRODUCTS,
    ),
    "line_items": (
        [
            ("id", "INTEGER"),
            ("order_id", "INTEGER"),
            ("product_id", "INTEGER"),
            ("quantity", "INTEGER"),
            ("price", "DECIMAL(10,2)"),
        ],
        LINE_ITEMS,
    ),
    "tags": ([("id", "INTEGER"), ("label", "VARCHAR(40)")], TAGS),
    "product_tags": ([("product_id", "INTEGER"), ("tag_id", "INTEGER")], PRODUCT_TAGS),
}
SCHEMA = "gnomon_semantic_test"


def _ddl(name: str, column_type: Callable[[str], str]) -> str:
    cols, _ = TABLES[name]
    return (
        f"CREATE TABLE {SCHEMA}.{name} ("
        + ", ".join(f"{c} {column_type(t)}" for c, t in cols)
        + ")"
    )


def _rows(name: str) -> list[tuple[Any, ...]]:
    return TABLES[name][1]


Runner = Callable[[str], list[tuple[Any, ...]]]


def _load(cursor: Any, placeholder: str, column_type: Callable[[str], str]) -> None:
    for name in TABLES:
        cursor.execute(_ddl(name, column_type))
        width = len(TABLES[name][0])
        marks = ", ".join([placeholder] * width)
        cursor.executemany(f"INSERT INTO {SCHEMA}.{name} VALUES ({marks})", _rows(name))


def _duckdb() -> Iterator[Runner]:
    con = duckdb.connect()
    con.execute(f"CREATE SCHEMA {SCHEMA}")
    _load(con, "?", lambda t: t)
    yield lambda sql: [tuple(r) for r in con.execute(sql).fetchall()]
    con.close()


def _sqlite() -> Iterator[Runner]:
    con = sqlite3.connect(":memory:")
    con.execute(f"ATTACH DATABASE ':memory:' AS {SCHEMA}")
    cur = con.cursor()
    _load(cur, "?", lambda t: "REAL" if t.startswith("DECIMAL") else t)
    con.commit()
    yield lambda sql: [tuple(r) for r in con.execute(sql).fetchall()]
    con.close()


def _postgres() -> Iterator[Runner]:
    import psycopg

    url = os.environ.get(
        "GNOMON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ).replace("postgresql+psycopg://", "postgresql://")
    con = psycopg.connect(url, autocommit=True)
    con.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    con.execute(f"CREATE SCHEMA {SCHEMA}")
    with con.cursor() as cur:
        _load(cur, "%s", lambda t: t)
    yield lambda sql: [tuple(r) for r in con.execute(sql.replace("%", "%%")).fetchall()]
    con.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    con.close()


def _mysql() -> Iterator[Runner]:
    import pymysql

    url = urlparse(
        os.environ.get("GNOMON_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
    )
    con = pymysql.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        autocommit=True,
    )
    with con.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {SCHEMA}")
        cur.execute(f"CREATE DATABASE {SCHEMA}")
        _load(cur, "%s", lambda t: "DATETIME" if t == "TIMESTAMP" else t)

    def run(sql: str) -> list[tuple[Any, ...]]:
        with con.cursor() as cur:
            cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]

    yield run
    with con.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {SCHEMA}")
    con.close()


ENGINES: dict[str, Callable[[], Iterator[Runner]]] = {
    "duckdb": _duckdb,
    "sqlite": _sqlite,
    "postgres": _postgres,
    "mysql": _mysql,
}


@pytest.fixture(scope="session")
def semantic_model() -> SemanticModel:
    return load_files(FILES)


@pytest.fixture(scope="module")
def warehouses() -> Iterator[dict[str, Runner]]:
    """The dataset loaded into DuckDB, SQLite, PostgreSQL and MariaDB."""
    gens = {name: make() for name, make in ENGINES.items()}
    runners = {name: next(gen) for name, gen in gens.items()}
    yield runners
    for gen in gens.values():
        for _ in gen:
            pass
