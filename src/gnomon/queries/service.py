"""Running a topic query: model → access → compile → cache → engine → history and events.

The service never commits. History rows and query events must be written even when the query
fails (that is when they matter most), so they go through a ``Recorder`` the caller supplies,
which writes them in a unit of work of its own.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from gnomon import events
from gnomon.connections import service as connections
from gnomon.engine import (
    ArrowStream,
    CachedResult,
    Column,
    ConnectionSpec,
    cache_key,
    rows_to_json_bytes,
)
from gnomon.errors import Forbidden, GnomonError, Invalid, Issue, NotFound, QueryError
from gnomon.identity import service_access
from gnomon.modeling import service as modeling
from gnomon.principal import Principal
from gnomon.queries import repository as repo
from gnomon.queries.schemas import SEMANTIC_FIELDS, QueryRun, SqlRun
from gnomon.queries.system import ORG_ATTRIBUTE, SYSTEM_TOPICS, system_model
from gnomon.runtime import Runtime
from gnomon.semantic import AccessContext, CompiledQuery, SemanticModel, compile_query
from gnomon.store.memo import remembered
from gnomon.util import utcnow
from gnomon.webhooks import service as webhooks
from gnomon.webhooks.catalog import QueryErrorData, SlowQueryData

DEFAULT_TTL_S = 3600.0


# (history row, events to emit) → written by the caller in its own transaction.
Recorder = Callable[[dict[str, Any], list[events.Event]], None]


@dataclass
class QueryOutcome:
    sql: str
    topic: str
    fields: list[dict[str, Any]]
    columns: list[Column] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    data_json: bytes = b"[]"
    cache_hit: bool = False
    duration_ms: float = 0.0
    truncated: bool = False
    name: str | None = None
    model_id: str | None = None
    plan: dict[str, Any] | None = None
    arrow: ArrowStream | None = None

    def meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "fields": self.fields,
            "sql": self.sql,
            "cache_hit": self.cache_hit,
            "duration_ms": round(self.duration_ms, 3),
            "row_count": len(self.rows),
            "truncated": self.truncated,
            "name": self.name,
            "topic": self.topic,
            "model_id": self.model_id,
        }
        if self.plan is not None:
            out["plan"] = self.plan
        return out

    def json_bytes(self) -> bytes:
        """The response body, with the (possibly cached) data array spliced in unchanged."""
        meta = self.meta()
        try:
            encoded = orjson.dumps(meta, default=str)
        except orjson.JSONEncodeError:  # what orjson refuses in a plan (a non-string key)
            encoded = json.dumps(meta, separators=(",", ":"), default=str).encode()
        return b'{"data":' + self.data_json + b',"meta":' + encoded + b"}"


def _error_type(exc: GnomonError) -> str:
    if isinstance(exc, QueryError):
        return exc.error_type
    if isinstance(exc, (Forbidden, NotFound)):
        return "permission_denied"
    if isinstance(exc, Invalid):
        return "invalid_query"
    return "database_error"


def _fingerprint(access: AccessContext) -> str:
    if access.unrestricted:
        return "unrestricted"
    payload = json.dumps(sorted((k, sorted(v)) for k, v in access.attributes.items()))
    return hashlib.sha256(payload.encode()).hexdigest()


def _ttl(model: SemanticModel, topic: str) -> float:
    settings = model.settings
    policy_name = (
        getattr(model.topics.get(topic), "cache_policy", None) or settings.default_cache_policy
    )
    if policy_name and policy_name in settings.cache_policies:
        policy = settings.cache_policies[policy_name]
        if isinstance(policy, dict):
            for key in ("max_age", "max_cache_age", "default_max_age"):
                if isinstance(policy.get(key), (int, float)):
                    return float(policy[key])
    if settings.caching_policy and settings.caching_policy.default_max_age is not None:
        return float(settings.caching_policy.default_max_age)
    return DEFAULT_TTL_S


def _access_for(
    session: Session, principal: Principal, run_as: str | None
) -> tuple[AccessContext, dict[str, Any] | None]:
    """The access context and the user the query runs as (None for an organization key)."""
    if run_as is not None:
        if principal.kind not in ("organization", "system"):
            raise Forbidden("user_id (run as another user) is for organization keys only")
        attributes = service_access.access_context_for_user(session, principal.org_id, run_as)
        if not attributes:
            raise Invalid(
                "cannot run as that user", [Issue(f"user {run_as} not found", ("user_id",))]
            )
        email = attributes.get("gnomon_user_email", (None,))[0]
        return AccessContext(attributes), {"id": run_as, "email": email}
    attributes, unrestricted = service_access.access_context_for(session, principal)
    user = None
    if principal.user_id is not None:
        user = {"id": principal.user_id, "email": principal.label}
    return AccessContext(attributes, unrestricted=unrestricted), user


def _sql_hash(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


@dataclass
class _Run:
    """What is known about a run so far; turned into the history row and events at the end."""

    principal: Principal
    body_name: str | None
    topic: str | None
    user: dict[str, Any] | None
    started: float = field(default_factory=time.perf_counter)
    model_id: str | None = None
    connection_id: str | None = None
    connection_name: str | None = None
    fields: list[str] = field(default_factory=list)
    sql_hash: str | None = None

    def history(
        self, *, status: str, rows: int, cache_hit: bool, error_type: str | None
    ) -> dict[str, Any]:
        return {
            "org_id": self.principal.org_id,
            "user_id": (self.user or {}).get("id"),
            "user_label": (self.user or {}).get("email") or self.principal.label,
            "key_id": self.principal.key_id,
            "model_id": self.model_id,
            "connection_id": self.connection_id,
            "topic": self.topic,
            "name": self.body_name,
            "fields": self.fields,
            "sql_hash": self.sql_hash,
            "duration_ms": (time.perf_counter() - self.started) * 1000,
            "row_count": rows,
            "cache_hit": cache_hit,
            "status": status,
            "error_type": error_type,
            "created_at": utcnow(),
        }

    def common(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "user": self.user,
            "sql_hash": self.sql_hash,
            "query_name": self.body_name,
            "connection": self.connection_name,
        }

    def record_failure(self, exc: GnomonError, record: Recorder) -> None:
        """The history row and the ``query.error`` event of a failed run."""
        error_type = _error_type(exc)
        data = QueryErrorData(error_type=error_type, message=exc.message, **self.common())
        event = events.Event("query.error", "query", self.sql_hash, data.model_dump(mode="json"))
        record(
            self.history(status="error", rows=0, cache_hit=False, error_type=error_type), [event]
        )


def run(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    body: QueryRun,
    *,
    record: Recorder,
    arrow: bool = False,
) -> QueryOutcome:
    """Run a topic query. Raises domain errors; records history and events either way."""
    step = begin(session, principal, runtime, body, record=record, arrow=arrow)
    assert step is not None  # only memory_only=True gives up
    if isinstance(step, Execution):
        return finish(runtime, step, step.execute())
    return step


def _record_success(
    state: _Run, outcome: QueryOutcome, record: Recorder, *, slow_after_s: float | None
) -> None:
    """The history row of a run that answered, with ``query.slow_execution`` when it ran on
    a database for at least ``slow_after_s`` (the organization's threshold; None for runs that
    executed nothing: a plan, a cache hit)."""
    entry = state.history(
        status="ok", rows=len(outcome.rows), cache_hit=outcome.cache_hit, error_type=None
    )
    emitted: list[events.Event] = []
    seconds = entry["duration_ms"] / 1000
    if slow_after_s is not None and state.sql_hash is not None and seconds >= slow_after_s:
        data = SlowQueryData(
            execution_time=round(seconds, 3), threshold_s=slow_after_s, **state.common()
        )
        emitted.append(
            events.Event(
                "query.slow_execution", "query", state.sql_hash, data.model_dump(mode="json")
            )
        )
    record(entry, emitted)


@dataclass(frozen=True)
class _Prepared:
    """A topic query up to the warehouse: whom it runs as, its model, connection, SQL, cache
    key and the organization's slow-query threshold. Remembered between requests (see
    :func:`_prepared`), so never changed: each run makes its own :class:`QueryOutcome`."""

    user: dict[str, Any] | None
    loaded: modeling.LoadedModel
    conn: dict[str, Any]
    spec: ConnectionSpec  # the connection's, password decrypted: once per prepared query
    compiled: CompiledQuery
    access: AccessContext
    sql_hash: str
    cache_key: str
    slow_after_s: float

    def adopt(self, state: _Run) -> None:
        state.user = self.user
        state.model_id = self.loaded.id
        state.connection_id = self.conn["id"]
        state.connection_name = self.conn["name"]
        state.sql_hash = self.sql_hash
        state.fields = [f.name for f in self.compiled.fields]

    def outcome(self, body: QueryRun) -> QueryOutcome:
        compiled = self.compiled
        return QueryOutcome(
            sql=compiled.sql,
            topic=compiled.topic,
            fields=[f.as_dict() for f in compiled.fields],
            name=body.name,
            model_id=self.loaded.id,
        )


# What decides a prepared query besides the caller: the semantic fields, and which model,
# connection and user it runs against.
_PREPARE_FIELDS = SEMANTIC_FIELDS | {"model_id", "connection", "user_id"}
# Larger bodies are prepared every time rather than kept as part of a memo key.
_REMEMBERED_BODY_BYTES = 4096


def _prepared(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    body: QueryRun,
    state: _Run,
    *,
    memory_only: bool,
) -> _Prepared | None:
    """:func:`_prepare`, remembered (on the event loop; gnomon.store.memo) until the store
    changes or the minute ends (relative filters resolve against the time), for the same
    caller and the same body: dashboards and monitors send the same queries again and again."""
    now = utcnow()
    request = body.model_dump_json(include=_PREPARE_FIELDS, exclude_none=True)

    def prepare(reads: Session) -> _Prepared | None:
        return _prepare(reads, principal, runtime, body, state, now, memory_only=memory_only)

    if len(request) > _REMEMBERED_BODY_BYTES:
        prepared = prepare(session)
    else:
        caller = (
            principal.org_id,
            principal.kind,
            principal.is_org_admin,
            principal.label,
            principal.key_id,
            principal.user_id,
            principal.scopes,
        )
        key = ("prepared query", caller, request, now.replace(second=0, microsecond=0))
        prepared = remembered(session, key, prepare)
    if prepared is not None:
        prepared.adopt(state)
    return prepared


def _prepare(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    body: QueryRun,
    state: _Run,
    now: datetime,
    *,
    memory_only: bool = False,
) -> _Prepared | None:
    """Access, model, connection and role checks, compile. With ``memory_only``, None instead
    of loading a model version that is not in memory yet. ``state`` learns each part as it is
    known, for the history row of a run that fails half-way."""
    access, state.user = _access_for(session, principal, body.user_id)
    loaded = modeling.load_model(
        session,
        runtime,
        principal.org_id,
        model_id=body.model_id,
        connection=body.connection,
        memory_only=memory_only,
    )
    if loaded is None:
        return None
    state.model_id = loaded.id
    conn = connections.get_row_by_name(session, principal, loaded.connection_name)
    connections.require_role(session, principal, conn, "query")
    state.connection_id = conn["id"]
    state.connection_name = conn["name"]
    compiled = _compile(runtime, loaded, body, access, now)
    state.sql_hash = _sql_hash(compiled.sql)
    key = cache_key(
        sql=compiled.sql,
        connection_id=conn["id"],
        connection_version=str(conn["version"]),
        access_fingerprint=_fingerprint(access),
    )
    threshold = webhooks.slow_query_threshold(session, principal.org_id)
    spec = connections.spec_for(runtime, conn)
    return _Prepared(
        state.user, loaded, conn, spec, compiled, access, state.sql_hash, key, threshold
    )


@dataclass
class Execution:
    """A compiled topic query that has to go to the warehouse.

    :meth:`execute` is the round trip: it blocks, so it belongs in a worker thread, and it needs
    no metadata session. :func:`finish` (cache, history, events) is the bookkeeping after it.
    Splitting them lets a caller on an event loop do everything but the round trip without a
    hop to a thread.
    """

    body: QueryRun
    state: _Run
    prepared: _Prepared
    outcome: QueryOutcome
    runtime: Runtime
    record: Recorder

    def execute(self) -> CachedResult:
        """The query on the warehouse and its JSON ``data`` array; a failure is recorded."""
        try:
            # Here rather than before: the first query on a connection opens its engine, and
            # opening a DuckDB file takes tens of milliseconds.
            prepared = self.prepared
            engine = connections.engine_for(self.runtime, prepared.conn, prepared.spec)
            result = engine.execute(prepared.compiled.sql, compiled=True)
        except GnomonError as exc:
            self.state.record_failure(exc, self.record)
            raise
        return CachedResult(
            result.columns,
            result.rows,
            time.time(),
            truncated=result.truncated,
            duration_ms=result.duration_ms,
            data_json=rows_to_json_bytes(result.columns, result.rows, self.state.fields),
        )


def begin(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    body: QueryRun,
    *,
    record: Recorder,
    arrow: bool = False,
    memory_only: bool = False,
) -> QueryOutcome | Execution | None:
    """A topic query up to the warehouse: its outcome when the warehouse is not needed (a plan,
    a cache hit, an Arrow stream to read, a system topic, which reads the metadata store),
    otherwise the :class:`Execution` to run.

    Raises domain errors and records them. With ``memory_only`` it touches nothing but memory
    and a few prepared reads of the store, so that a caller on an event loop can use it, and
    gives up (None, having recorded nothing) when more is needed: a model version not loaded
    yet, a system topic, an Arrow stream.
    """
    if memory_only and (arrow or body.topic in SYSTEM_TOPICS):
        return None
    state = _Run(principal, body.name, body.topic, None)
    system = body.topic in SYSTEM_TOPICS
    try:
        if system:
            outcome = _run_system_topic(session, principal, runtime, body, state)
        else:
            prepared = _prepared(session, principal, runtime, body, state, memory_only=memory_only)
            if prepared is None:
                return None
            step = _without_warehouse(runtime, body, prepared, state, record, arrow=arrow)
            if isinstance(step, Execution):
                return step
            outcome = step
    except GnomonError as exc:
        state.record_failure(exc, record)
        raise
    # A system topic's query ran on the store: it can be slow too.
    slow_after_s = (
        webhooks.slow_query_threshold(session, principal.org_id)
        if system and not body.plan_only
        else None
    )
    _record_success(state, outcome, record, slow_after_s=slow_after_s)
    return outcome


def _without_warehouse(
    runtime: Runtime,
    body: QueryRun,
    prepared: _Prepared,
    state: _Run,
    record: Recorder,
    *,
    arrow: bool,
) -> QueryOutcome | Execution:
    compiled, outcome = prepared.compiled, prepared.outcome(body)
    if body.plan_only:
        outcome.plan = compiled.plan.describe()
        return outcome
    if arrow:
        engine = connections.engine_for(runtime, prepared.conn, prepared.spec)
        outcome.arrow = engine.stream_arrow(compiled.sql)
        return outcome
    if body.cache == "normal":
        hit = runtime.cache.get(prepared.cache_key)
        if hit is not None:
            _fill(outcome, compiled, hit, cache_hit=True)
            return outcome
    return Execution(body, state, prepared, outcome, runtime, record)


def finish(runtime: Runtime, execution: Execution, result: CachedResult) -> QueryOutcome:
    """After :meth:`Execution.execute`: cache the result, record the run, answer."""
    prepared, state = execution.prepared, execution.state
    if execution.body.cache != "bypass":
        tags = [f"conn:{prepared.conn['id']}", f"model:{prepared.loaded.id}"]
        ttl = _ttl(prepared.loaded.semantic, prepared.compiled.topic)
        runtime.cache.set(prepared.cache_key, result, ttl, tags)
    outcome = execution.outcome
    _fill(outcome, prepared.compiled, result, cache_hit=False)
    _record_success(state, outcome, execution.record, slow_after_s=prepared.slow_after_s)
    return outcome


def _compile(
    runtime: Runtime,
    loaded: modeling.LoadedModel,
    body: QueryRun,
    access: AccessContext,
    now: datetime,
) -> CompiledQuery:
    # Relative filters ("last 7 days") resolve against now: a compiled query is reused for
    # the rest of the minute. The body's semantic part as pydantic serialises it (its field
    # order is fixed; the same filters given in another order only miss the cache).
    key = (
        loaded.id,
        loaded.version,
        loaded.dialect,
        body.model_dump_json(include=SEMANTIC_FIELDS, exclude_none=True),
        _fingerprint(access),
        now.replace(second=0, microsecond=0),
    )
    compiled: CompiledQuery | None = runtime.compiled.get(key)
    if compiled is None:
        compiled = compile_query(
            loaded.semantic, body.semantic_request(), dialect=loaded.dialect, access=access, now=now
        )
        runtime.compiled.put(key, compiled)
    return compiled


def _fill(
    outcome: QueryOutcome, compiled: CompiledQuery, result: CachedResult, *, cache_hit: bool
) -> None:
    outcome.columns = list(result.columns)
    outcome.rows = list(result.rows)
    outcome.truncated = result.truncated
    outcome.cache_hit = cache_hit
    outcome.duration_ms = 0.0 if cache_hit else result.duration_ms
    names = [f.name for f in compiled.fields]
    outcome.data_json = result.data_json or rows_to_json_bytes(result.columns, result.rows, names)


def _run_system_topic(
    session: Session, principal: Principal, runtime: Runtime, body: QueryRun, state: _Run
) -> QueryOutcome:
    """System topics read the metadata store, always scoped to the caller's organization."""
    # Before this session reads anything (its snapshot starts at the first read), so the
    # caller's own recent queries are in what it reads.
    runtime.history.flush()
    _access, state.user = _access_for(session, principal, body.user_id)
    dialect = session.get_bind().dialect.name
    dialect = "postgres" if dialect == "postgresql" else dialect
    access = AccessContext({ORG_ATTRIBUTE: (principal.org_id,)})
    compiled = compile_query(
        system_model(), body.semantic_request(), dialect=dialect, access=access, now=utcnow()
    )
    state.sql_hash = _sql_hash(compiled.sql)
    state.fields = [f.name for f in compiled.fields]
    outcome = QueryOutcome(
        sql=compiled.sql,
        topic=compiled.topic,
        fields=[f.as_dict() for f in compiled.fields],
        name=body.name,
    )
    if body.plan_only:
        outcome.plan = compiled.plan.describe()
        return outcome
    started = time.perf_counter()
    rows, truncated = repo.run_compiled(session, compiled.sql, body.limit or 100_000)
    columns = [Column(f.name, f.type) for f in compiled.fields]
    outcome.columns = columns
    outcome.rows = rows
    outcome.truncated = truncated
    outcome.duration_ms = (time.perf_counter() - started) * 1000
    outcome.data_json = rows_to_json_bytes(columns, rows, state.fields)
    return outcome


def run_sql(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    body: SqlRun,
    *,
    record: Recorder,
    arrow: bool = False,
) -> QueryOutcome:
    """Raw SQL for QUERIER and up. Callers bound by access filters cannot use it: a raw
    statement could read around the row-level filters their queries get."""
    state = _Run(principal, body.name, None, None)
    try:
        access, state.user = _access_for(session, principal, None)
        conn = connections.get_row_by_name(session, principal, body.connection)
        connections.require_role(session, principal, conn, "raw_sql")
        state.connection_id = conn["id"]
        state.connection_name = conn["name"]
        state.sql_hash = _sql_hash(body.sql)
        if not access.unrestricted:
            raise Forbidden("users with access filters cannot run raw SQL; query a topic instead")
        engine = connections.engine_for(runtime, conn)
        if arrow:
            # Streamed, batch by batch: memory stays bounded whatever the result size.
            stream = engine.stream_arrow(body.sql)
            record(state.history(status="ok", rows=0, cache_hit=False, error_type=None), [])
            return QueryOutcome(sql=body.sql, topic="", fields=[], name=body.name, arrow=stream)
        result = engine.execute(body.sql, max_rows=body.limit)
    except GnomonError as exc:
        state.record_failure(exc, record)
        raise
    names = [c.name for c in result.columns]
    state.fields = names
    record(state.history(status="ok", rows=len(result.rows), cache_hit=False, error_type=None), [])
    return QueryOutcome(
        sql=body.sql,
        topic="",
        fields=[
            {"name": c.name, "type": c.type, "label": None, "format": None} for c in result.columns
        ],
        columns=list(result.columns),
        rows=list(result.rows),
        data_json=rows_to_json_bytes(result.columns, result.rows, names),
        duration_ms=result.duration_ms,
        truncated=result.truncated,
        name=body.name,
    )


def history(
    session: Session, principal: Principal, *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Admins see the organization's history; users see their own."""
    owner = None if principal.is_org_admin else (principal.user_id or "")
    return repo.list_history(session, principal.org_id, user_id=owner, offset=offset, limit=limit)
