"""The Query API and the model through the SDK, against the demo organization."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from gnomon.client import BadRequestError, Gnomon, NotFoundError, QueryResult, ValidationError

SEED_QUERY = {
    "name": "revenue_summary",
    "topic": "revenue_analytics",
    "dimensions": ["date_month"],
    "measures": ["total_revenue"],
    "sorts": ["date_month"],
    "limit": 3,
}


def test_run_returns_rows_and_meta(demo: Gnomon) -> None:
    result = demo.queries.run(SEED_QUERY)
    assert isinstance(result, QueryResult)
    assert result.name == "revenue_summary"
    assert result.columns == ["date_month", "total_revenue"]
    assert len(result) == 3
    months = [row["date_month"] for row in result]
    assert months == sorted(months)
    assert result.sql is not None
    assert "sum" in result.sql.lower()


def test_to_arrow_types_columns_from_meta_fields(demo: Gnomon) -> None:
    table = demo.queries.run(SEED_QUERY).to_arrow()
    assert table.column_names == ["date_month", "total_revenue"]
    assert table.schema.field("date_month").type == pa.date32()
    assert table.schema.field("total_revenue").type == pa.float64()
    assert isinstance(table.column("date_month")[0].as_py(), dt.date)


def test_arrow_and_csv_from_the_server_match_the_json_rows(demo: Gnomon) -> None:
    rows = demo.queries.run(SEED_QUERY).rows
    table = demo.queries.run_arrow(SEED_QUERY)
    assert table.num_rows == len(rows)
    assert [float(v) for v in table.column("total_revenue").to_pylist()] == [
        r["total_revenue"] for r in rows
    ]
    csv_text = demo.queries.run_csv(SEED_QUERY)
    assert csv_text.splitlines()[0] == "date_month,total_revenue"
    assert len(csv_text.strip().splitlines()) == len(rows) + 1


def test_unknown_field_is_a_validation_error_with_details(demo: Gnomon) -> None:
    with pytest.raises((ValidationError, BadRequestError)) as info:
        demo.queries.run(topic="revenue_analytics", measures=["no_such_measure"])
    assert info.value.details
    assert info.value.request_id


def test_model_get_validate_versions(demo: Gnomon) -> None:
    model = demo.model.get()
    assert "revenue_analytics.topic" in model.files
    assert demo.model.validate({"files": model.files})["valid"] is True
    broken = dict(model.files)
    broken["orders.view"] = broken["orders.view"] + "\nmeasures: {bad: {aggregate_type: nope}}\n"
    verdict = demo.model.validate({"files": broken})
    assert verdict["valid"] is False
    assert verdict["issues"]
    versions = demo.model.versions()
    assert versions
    assert versions[-1].version == 1


def test_every_org_starts_with_the_demo_model_and_unknown_ids_are_not_found(gn: Gnomon) -> None:
    assert gn.model.get().connection == "main_db"
    with pytest.raises(NotFoundError):
        gn.model.get(model_id="00000000-0000-0000-0000-000000000000")
