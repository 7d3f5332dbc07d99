"""Fixtures for engine tests: real databases on loopback, URLs from the CI environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from gnomon.engine import ConnectionSpec, create_engine, spec_from_url
from gnomon.engine.duckdb_engine import DuckDBEngine
from gnomon.engine.sql_engines import MySQLEngine, PostgresEngine

DEFAULT_URLS = {
    "GNOMON_TEST_POSTGRES_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "GNOMON_TEST_MYSQL_URL": "mysql+pymysql://root@127.0.0.1:3306/test",
    "GNOMON_TEST_REDIS_URL": "redis://127.0.0.1:6379/0",
}


def _url(name: str) -> str:
    return os.environ.get(name) or DEFAULT_URLS[name]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return _url("GNOMON_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def mysql_url() -> str:
    return _url("GNOMON_TEST_MYSQL_URL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return _url("GNOMON_TEST_REDIS_URL")


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[PostgresEngine]:
    engine = create_engine(spec_from_url(postgres_url))
    assert isinstance(engine, PostgresEngine)
    yield engine
    engine.close()


@pytest.fixture
def mysql(mysql_url: str) -> Iterator[MySQLEngine]:
    engine = create_engine(spec_from_url(mysql_url))
    assert isinstance(engine, MySQLEngine)
    yield engine
    engine.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A DuckDB file with one typed table, written and closed before engines open it."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """
        create table orders as
        select i as id,
               'customer ' || (i % 3) as customer,
               (i * 1.25)::decimal(10, 2) as amount,
               i * 0.5 as ratio,
               i % 2 = 0 as is_even,
               date '2024-01-01' + i::int as created_on,
               timestamp '2024-01-01 08:00:00' + to_hours(i::int) as created_at
        from range(10) t(i)
        """
    )
    con.close()
    return path


@pytest.fixture
def duck(warehouse: Path) -> Iterator[DuckDBEngine]:
    engine = create_engine(ConnectionSpec("duckdb", database=str(warehouse)))
    assert isinstance(engine, DuckDBEngine)
    yield engine
    engine.close()
