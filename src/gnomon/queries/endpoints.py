"""``/api/v1/queries``: run topic queries (JSON, CSV, Arrow), raw SQL, history."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from gnomon.api import writers
from gnomon.api.deps import CurrentPrincipal, CurrentRuntime, Page, ReadSession, get_store
from gnomon.api.direct import DirectRoute
from gnomon.api.envelope import Many, many
from gnomon.api.errors import common_responses
from gnomon.api.offload import offload
from gnomon.api.streaming import read_ahead
from gnomon.engine import iter_arrow_ipc, iter_csv
from gnomon.principal import Principal
from gnomon.queries import service
from gnomon.queries.recording import DeferredRecords
from gnomon.queries.schemas import HistoryEntry, QueryResult, QueryRun, SqlRun
from gnomon.runtime import Runtime
from gnomon.store.db import Store

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


@asynccontextmanager
async def _recording(request: Request, principal: Principal) -> AsyncIterator[DeferredRecords]:
    """The request's history recorder. Rows recorded with events (errors, slow queries) are
    written when the block ends, returned or raised, before the response: outside the pool and
    through the writer gate (:mod:`gnomon.api.writers`), shielded from cancellation."""
    runtime: Runtime = request.app.state.runtime
    records = runtime.history.deferred(principal)
    try:
        yield records
    finally:
        if records.pending:
            with anyio.CancelScope(shield=True):
                await writers.run_writing(get_store(request), records.write)


async def run_recorded(
    request: Request, principal: Principal, work: Callable[[service.Recorder], T]
) -> T:
    """``work(record)`` on the query threads, its history written as :func:`_recording` says."""
    async with _recording(request, principal) as records:
        return await offload(partial(work, records.record))


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


async def run_query(
    body: QueryRun,
    request: Request,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Response:
    """Run a topic query (the seed's body as written). ``Accept: text/csv`` or
    ``application/vnd.apache.arrow.stream`` for other formats."""
    arrow = ARROW in request.headers.get("accept", "") and not body.plan_only
    async with _recording(request, principal) as records:
        outcome = await _run_topic_query(
            get_store(request), principal, runtime, body, records, arrow
        )
    return _respond(request, outcome)


# The hot path: its well-formed requests skip FastAPI's request machinery (gnomon.api.direct).
router.add_api_route(
    "/run",
    run_query,
    methods=["POST"],
    name="queries_run",
    response_model=QueryResult,
    responses=RESULT_CONTENT,
    route_class_override=DirectRoute,
)


async def _run_topic_query(
    store: Store,
    principal: Principal,
    runtime: Runtime,
    body: QueryRun,
    records: DeferredRecords,
    arrow: bool,
) -> service.QueryOutcome:
    record = records.record
    if runtime.local_reads and store.loop_engine is not None:
        # Every read is local (an SQLite file and the in-process cache): everything but the
        # warehouse round trip runs on the event loop, where it costs less than the two hops
        # to a worker thread and back would. A cached answer needs no thread at all.
        session = store.loop_session()
        try:
            step = service.begin(
                session, principal, runtime, body, record=record, arrow=arrow, memory_only=True
            )
        finally:
            if session.in_transaction():  # it read something the memo does not keep
                session.close()
        if isinstance(step, service.Execution):
            return service.finish(runtime, step, await offload(step.execute))
        if step is not None:
            return step
    # Everything else (a networked store or cache, a model version to parse, a system topic,
    # an Arrow stream) runs the whole path on the query threads.

    def run() -> service.QueryOutcome:
        with store.read_sessions() as session:
            return service.run(session, principal, runtime, body, record=record, arrow=arrow)

    return await offload(run)


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
