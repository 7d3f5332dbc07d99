from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gnomon.engine import ConnectionSpec, EnginePool, create_engine, spec_from_url
from gnomon.errors import QueryError


def test_same_key_and_spec_share_one_engine(warehouse: Path) -> None:
    pool = EnginePool()
    spec = ConnectionSpec("duckdb", database=str(warehouse))
    try:
        assert pool.get("c1", spec) is pool.get("c1", spec)
        assert len(pool) == 1
    finally:
        pool.close_all()


def test_changed_spec_replaces_and_closes_old_engine(warehouse: Path) -> None:
    pool = EnginePool()
    spec = ConnectionSpec("duckdb", database=str(warehouse))
    try:
        old = pool.get("c1", spec)
        new = pool.get("c1", replace(spec, max_rows=5))
        assert new is not old
        with pytest.raises(QueryError):
            old.execute("select 1")
        assert new.execute("select count(*) from orders").rows == [(10,)]
    finally:
        pool.close_all()


def test_invalidate_closes_engine(warehouse: Path) -> None:
    pool = EnginePool()
    spec = ConnectionSpec("duckdb", database=str(warehouse))
    engine = pool.get("c1", spec)
    pool.invalidate("c1")

    assert len(pool) == 0
    with pytest.raises(QueryError):
        engine.execute("select 1")
    pool.invalidate("never-there")


def test_spec_max_rows_is_the_default_cap(warehouse: Path) -> None:
    engine = create_engine(ConnectionSpec("duckdb", database=str(warehouse), max_rows=4))
    try:
        result = engine.execute("select id from orders")
        assert len(result.rows) == 4
        assert result.truncated is True
    finally:
        engine.close()


def test_unknown_dialect_is_invalid() -> None:
    with pytest.raises(QueryError) as err:
        create_engine(ConnectionSpec("oracle"))

    assert err.value.error_type == "invalid_query"


def test_spec_from_url() -> None:
    spec = spec_from_url("postgresql+psycopg://u:secret@db.example:6543/wh", schema="mart")

    assert spec == ConnectionSpec(
        "postgres",
        database="wh",
        host="db.example",
        port=6543,
        user="u",
        password="secret",
        schema="mart",
    )
    assert "secret" not in repr(spec)
    assert spec_from_url("duckdb:///:memory:").database == ":memory:"
    assert spec_from_url("mariadb+pymysql://root@h/x").dialect == "mysql"
