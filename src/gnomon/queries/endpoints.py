"""``/api/v1/queries``: run topic queries (JSON, CSV, Arrow), raw SQL, history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from gnomon.api import writers
from gnomon.api.deps import CurrentPrincipal, CurrentRuntime, Page, ReadSession, get_store
from gnomon.api.envelope import Many, many
from gnomon.api.errors import common_responses
from gnomon.api.streaming import read_ahead
from gnomon.engine import iter_arrow_ipc, iter_csv
from gnomon.principal import Principal
from gnomon.queries import service
from gnomon.queries.schemas import HistoryEntry, QueryResult, QueryRun, SqlRun
from gnomon.runtime import Runtime

T = TypeVar("T")

router = APIRouter(prefix="/queries", tags=["queries"], responses=common_responses())

CSV = "text/csv"
ARROW = "application/vnd.apache.arrow.stream"
RESULT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            CSV: {"schema": {"type": "string"}},
            ARROW: {"schema": {"type": "string", "format": "binary"}},
        }
    },
    504: {"description": "The query hit its timeout and was cancelled."},
}


async def run_recorded(
    request: Request, principal: Principal, work: Callable[[service.Recorder], T]
) -> T:
    """``work(record)`` in the thread pool. History rows it records with events (errors, slow
    queries) are written afterwards, outside the pool and through the writer gate
    (:mod:`gnomon.api.writers`), whether ``work`` returned or raised, before the response."""
    runtime: Runtime = request.app.state.runtime
    records = runtime.history.deferred(principal)
    try:
        return await run_in_threadpool(work, records.record)
    finally:
        if records.pending:
            with anyio.CancelScope(shield=True):
                await writers.run_writing(get_store(request), records.write)


def _respond(request: Request, outcome: service.QueryOutcome) -> Response:
    accept = request.headers.get("accept", "")
    names = [f["name"] for f in outcome.fields]
    # Streamed bodies are produced in a worker thread ahead of the socket (see read_ahead).
    if outcome.arrow is not None:
        stream = outcome.arrow
        return StreamingResponse(read_ahead(lambda: iter_arrow_ipc(stream)), media_type=ARROW)
    if CSV in accept:
        return StreamingResponse(
            read_ahead(lambda: iter_csv(outcome.columns, outcome.rows, names)),
            media_type=CSV,
            headers={"X-Gnomon-Cache-Hit": str(outcome.cache_hit).lower()},
        )
    return Response(outcome.json_bytes(), media_type="application/json")


@router.post("/run", name="queries_run", response_model=QueryResult, responses=RESULT_CONTENT)
async def run_query(
    body: QueryRun,
    request: Request,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Response:
    """Run a topic query (the seed's body as written). ``Accept: text/csv`` or
    ``application/vnd.apache.arrow.stream`` for other formats."""
    arrow = ARROW in request.headers.get("accept", "") and not body.plan_only
    # A repeated query is answered from memory on the event loop when every read it needs is
    # local: the hop to a worker thread would cost more than the answer. Everything else (and
    # any doubt) runs the full path in the thread pool.
    store = get_store(request)
    if runtime.local_reads and store.loop_sessions is not None and not arrow:
        # A cached answer records no events: its history row only goes to the queue.
        record = runtime.history.deferred(principal).record
        with store.loop_sessions() as loop_session:
            outcome = service.cached_answer(loop_session, principal, runtime, body, record=record)
        if outcome is not None:
            return _respond(request, outcome)

    def run(record: service.Recorder) -> service.QueryOutcome:
        # Its own read session, in the worker thread: a cached answer above needs none.
        with store.read_sessions() as session:
            return service.run(session, principal, runtime, body, record=record, arrow=arrow)

    return _respond(request, await run_recorded(request, principal, run))


@router.post("/sql", name="queries_sql", response_model=QueryResult, responses=RESULT_CONTENT)
async def run_sql(
    body: SqlRun,
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Response:
    """Raw SQL on a connection (QUERIER role; not for users with access filters)."""
    arrow = ARROW in request.headers.get("accept", "")

    def run(record: service.Recorder) -> service.QueryOutcome:
        return service.run_sql(session, principal, runtime, body, record=record, arrow=arrow)

    return _respond(request, await run_recorded(request, principal, run))


@router.get("/history", name="queries_history", response_model=Many[HistoryEntry])
def query_history(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    page: Page,
) -> Any:
    runtime.history.flush()
    rows, total = service.history(session, principal, offset=page.offset, limit=page.per_page)
    items = [
        HistoryEntry(
            id=r["id"],
            created_at=r["created_at"],
            user_id=r["user_id"],
            user=r["user_label"],
            topic=r["topic"],
            name=r["name"],
            fields=list(r["fields"] or []),
            sql_hash=r["sql_hash"],
            duration_ms=r["duration_ms"],
            row_count=r["row_count"],
            cache_hit=bool(r["cache_hit"]),
            status=r["status"],
            error_type=r["error_type"],
        )
        for r in rows
    ]
    return many(request, items, total, page)
