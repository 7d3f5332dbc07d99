"""One demo warehouse per test session (scale 0.2: ~400 customers), opened read-only, and the
demo model loaded (and validated) once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from gnomon.demo import WarehouseInfo, build_warehouse, model_files
from gnomon.semantic.loader import load_files
from gnomon.semantic.model import SemanticModel

# A fixed day keeps expected dates stable; it is a Sunday late in a quarter, which exercises
# weekend seasonality and a partly elapsed quarter.
TODAY = date(2026, 11, 29)


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> WarehouseInfo:
    path: Path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    return build_warehouse(path, today=TODAY, seed=7, scale=0.2)


@pytest.fixture
def con(warehouse: WarehouseInfo) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(warehouse.path), read_only=True)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture(scope="session")
def demo_model() -> SemanticModel:
    """The shipped model, through the loader with every validation rule on."""
    return load_files(model_files())


@pytest.fixture
def customer_id(con: duckdb.DuckDBPyConnection) -> int:
    """The real (non-test) customer with the most orders."""
    row = con.execute(
        "select o.customer_id from main.orders o join main.customers c on c.id = o.customer_id "
        "where not c.is_test group by 1 order by count(*) desc, 1 limit 1"
    ).fetchone()
    assert row is not None
    return int(row[0])
