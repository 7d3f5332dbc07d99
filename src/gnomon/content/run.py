"""Running a dashboard: every tile through the Query API's engine, cache and history.

Filters per tile, weakest first: the tile's own, the dashboard's defaults, the run's overrides;
dashboard-level filters only reach tiles whose topic has the field. The caller's access filters
are applied by the query service, exactly as for ``POST /queries/run``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from gnomon.content import access, documents, tiles
from gnomon.content.models import model_for
from gnomon.content.schemas import DocumentRun, DocumentRunResult, TileResult
from gnomon.errors import GnomonError, QueryError
from gnomon.principal import Principal
from gnomon.queries import service as queries
from gnomon.queries.schemas import QueryRun
from gnomon.runtime import Runtime


def run_document(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    doc_id: str,
    body: DocumentRun,
    *,
    record: queries.Recorder,
) -> DocumentRunResult:
    who = access.caller(session, principal)
    row = documents.visible_document(session, who, doc_id, "run")
    dashboard_filters = {**(row["default_filters"] or {}), **body.filters}
    loaded = model_for(session, runtime, principal.org_id, model_id=row["model_id"], required=False)
    wanted = set(body.tiles) if body.tiles is not None else None
    results: list[TileResult] = []
    for tile in row["tiles"] or []:
        base = TileResult(
            id=tile["id"], title=tile.get("title", ""), type=tile["type"], status="skipped"
        )
        query = tile.get("query")
        if (wanted is not None and tile["id"] not in wanted) or not query:
            results.append(base)
            continue
        applied: dict[str, Any] = {}
        if loaded is not None:
            applied, _ = tiles.applicable_filters(
                loaded.semantic, loaded.dialect, query, dashboard_filters
            )
        filters = {**(query.get("filters") or {}), **applied}
        request = {
            **query,
            "filters": filters,
            "name": tile.get("title") or tile["id"],
            "model_id": row["model_id"],
            "cache": body.cache,
        }
        try:
            outcome = queries.run(
                session, principal, runtime, QueryRun.model_validate(request), record=record
            )
        except GnomonError as exc:
            error: dict[str, Any] = {
                "error": exc.code,
                "message": exc.message,
                "details": exc.details,
            }
            if isinstance(exc, QueryError):
                error["error_type"] = exc.error_type
            results.append(
                base.model_copy(update={"status": "error", "error": error, "filters": filters})
            )
            continue
        results.append(
            base.model_copy(
                update={
                    "status": "ok",
                    "data": json.loads(outcome.data_json),
                    "meta": outcome.meta(),
                    "filters": filters,
                }
            )
        )
    return DocumentRunResult(
        document_id=row["id"],
        identifier=row["identifier"],
        name=row["name"],
        filters=dashboard_filters,
        tiles=results,
    )
