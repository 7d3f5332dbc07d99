"""Connection rules: who manages them, where DuckDB files may live, secrets at rest, engines."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from gnomon import events, policy
from gnomon.connections import repository as repo
from gnomon.connections.schemas import (
    Connection,
    ConnectionCreate,
    ConnectionTest,
    ConnectionUpdate,
)
from gnomon.engine import ConnectionSpec, Engine
from gnomon.errors import Conflict, GnomonError, Invalid, Issue, NotFound
from gnomon.principal import Principal
from gnomon.runtime import Runtime
from gnomon.util import new_id, utcnow

FILE_DIALECTS = {"duckdb", "sqlite"}
SERVER_DIALECTS = {"postgres", "mysql"}


class _ConnectionData(BaseModel):
    connection: dict[str, Any]


events.register("connection.created", "A connection was created.", _ConnectionData)
events.register("connection.updated", "A connection's settings changed.", _ConnectionData)
events.register("connection.deleted", "A connection was deleted.", _ConnectionData)
events.register(
    "connection.refreshed",
    "Data behind a connection was refreshed; its cached results were dropped.",
    _ConnectionData,
)


def to_schema(row: dict[str, Any]) -> Connection:
    return Connection.model_validate(
        {
            "id": row["id"],
            "name": row["name"],
            "dialect": row["dialect"],
            "host": row["host"],
            "port": row["port"],
            "database": row["database"],
            "username": row["username"],
            "has_password": row["password_enc"] is not None,
            "schema": row["db_schema"],
            "query_timeout_s": row["query_timeout_s"],
            "max_rows": row["max_rows"],
            "version": row["version"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
    )


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return to_schema(row).model_dump(mode="json", by_alias=True)


def _secret_context(row: dict[str, Any]) -> str:
    # Binds a ciphertext to its connection: copied into another row it will not decrypt.
    return f"connection:{row['id']}"


def _check_target(runtime: Runtime, values: dict[str, Any], issues: list[Issue]) -> None:
    dialect = values["dialect"]
    if dialect in FILE_DIALECTS:
        database = values.get("database")
        if not database:
            issues.append(
                Issue(
                    f"a {dialect} connection needs the file path in `database`",
                    ("database",),
                    code="missing",
                )
            )
            return
        if database == ":memory:":
            return
        resolved = Path(database).expanduser().resolve()
        allowed = runtime.settings.duckdb_allowed_dirs
        if not any(resolved == d or d in resolved.parents for d in allowed):
            issues.append(
                Issue(
                    f"{database} is outside the directories connections may open",
                    ("database",),
                    code="path_not_allowed",
                    hint="allow its directory with GNOMON_DUCKDB_PATHS",
                )
            )
    else:
        for name in ("host", "database"):
            if not values.get(name):
                issues.append(
                    Issue(f"a {dialect} connection needs `{name}`", (name,), code="missing")
                )


def spec_for(runtime: Runtime, row: dict[str, Any]) -> ConnectionSpec:
    password = (
        runtime.secrets.decrypt(row["password_enc"], context=_secret_context(row))
        if row["password_enc"]
        else None
    )
    return ConnectionSpec(
        dialect=row["dialect"],
        database=row["database"],
        host=row["host"],
        port=row["port"],
        user=row["username"],
        password=password,
        schema=row["db_schema"],
        query_timeout_s=row["query_timeout_s"],
        max_rows=row["max_rows"],
    )


def engine_for(runtime: Runtime, row: dict[str, Any], spec: ConnectionSpec | None = None) -> Engine:
    """The engine of a connection row; ``spec``: its :func:`spec_for`, when the caller kept it
    (which spares decrypting the password again)."""
    return runtime.engines.get(row["id"], spec or spec_for(runtime, row))


# The role each connection action needs (DESIGN.md §3).
ACTION_ROLES = {
    "view": ("VIEWER", "viewing the connection"),
    "query": ("RESTRICTED_QUERIER", "querying"),
    "raw_sql": ("QUERIER", "running SQL"),
    "model": ("MODELER", "editing the model"),
    "admin": ("CONNECTION_ADMIN", "managing the connection"),
}


def require_role(session: Session, principal: Principal, row: dict[str, Any], action: str) -> str:
    role = policy.effective_connection_role(session, principal, row["name"])
    if role == "NO_ACCESS":
        # A connection the caller may not see at all does not exist for them.
        raise NotFound(f"connection {row['id']} not found")
    minimum, what = ACTION_ROLES[action]
    return policy.require_connection_role(session, principal, row["name"], minimum, what)


def get_row(session: Session, principal: Principal, connection_id: str) -> dict[str, Any]:
    row = repo.get(session, principal.org_id, connection_id)
    if row is None:
        raise NotFound(f"connection {connection_id} not found")
    require_role(session, principal, row, "view")
    return row


def get_row_by_name(session: Session, principal: Principal, name: str) -> dict[str, Any]:
    row = repo.get_by_name(session, principal.org_id, name)
    if row is None:
        raise NotFound(f"connection '{name}' not found")
    require_role(session, principal, row, "view")
    return row


def create(
    session: Session, principal: Principal, runtime: Runtime, body: ConnectionCreate
) -> Connection:
    policy.require_org_admin(principal, "creating a connection")
    values = body.model_dump(by_alias=False)
    issues: list[Issue] = []
    if repo.get_by_name(session, principal.org_id, body.name) is not None:
        raise Conflict(f"a connection named '{body.name}' exists")
    _check_target(runtime, values, issues)
    if issues:
        raise Invalid("cannot create the connection", issues)
    now = utcnow()
    row: dict[str, Any] = {
        "id": new_id(),
        "org_id": principal.org_id,
        "name": body.name,
        "dialect": body.dialect,
        "host": body.host,
        "port": body.port,
        "database": body.database,
        "username": body.username,
        "password_enc": None,
        "db_schema": body.schema_,
        "query_timeout_s": body.query_timeout_s,
        "max_rows": body.max_rows,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    if body.password is not None:
        row["password_enc"] = runtime.secrets.encrypt(body.password, context=_secret_context(row))
    repo.insert_connection(session, row)
    events.emit(
        session,
        principal,
        events.Event("connection.created", "connection", row["id"], {"connection": _snapshot(row)}),
    )
    return to_schema(row)


def create_system(
    session: Session, org_id: str, *, name: str, dialect: str, database: str
) -> dict[str, Any]:
    """A connection made by gnomon itself (the demo's ``main_db``), without policy checks."""
    now = utcnow()
    row: dict[str, Any] = {
        "id": new_id(),
        "org_id": org_id,
        "name": name,
        "dialect": dialect,
        "host": None,
        "port": None,
        "database": database,
        "username": None,
        "password_enc": None,
        "db_schema": None,
        "query_timeout_s": 300.0,
        "max_rows": 100_000,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    repo.insert_connection(session, row)
    return row


def list_connections(
    session: Session, principal: Principal, *, sort: str, descending: bool, offset: int, limit: int
) -> tuple[list[Connection], int]:
    if principal.is_org_admin:
        rows, total = repo.list_connections(
            session, principal.org_id, sort=sort, descending=descending, offset=offset, limit=limit
        )
        return [to_schema(r) for r in rows], total
    # Members see the connections they hold a role on; an org has few, so filter then page.
    rows, _ = repo.list_connections(
        session, principal.org_id, sort=sort, descending=descending, offset=0, limit=10_000
    )
    visible = [
        r
        for r in rows
        if policy.effective_connection_role(session, principal, r["name"]) != "NO_ACCESS"
    ]
    return [to_schema(r) for r in visible[offset : offset + limit]], len(visible)


def get(session: Session, principal: Principal, connection_id: str) -> Connection:
    return to_schema(get_row(session, principal, connection_id))


def update(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    connection_id: str,
    body: ConnectionUpdate,
) -> Connection:
    row = get_row(session, principal, connection_id)
    require_role(session, principal, row, "admin")
    changes = body.model_dump(exclude_unset=True, by_alias=False)
    nulls = [
        k for k in ("name", "query_timeout_s", "max_rows") if k in changes and changes[k] is None
    ]
    if nulls:
        raise Invalid(
            "cannot update the connection", [Issue(f"{k} cannot be null", (k,)) for k in nulls]
        )
    if not changes:
        return to_schema(row)
    renamed = "name" in changes and changes["name"] != row["name"]
    if renamed and repo.get_by_name(session, principal.org_id, changes["name"]) is not None:
        raise Conflict(f"a connection named '{changes['name']}' exists")
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "password":
            values["password_enc"] = (
                runtime.secrets.encrypt(value, context=_secret_context(row)) if value else None
            )
        elif key == "schema_":
            values["db_schema"] = value
        else:
            values[key] = value
    merged = {**row, **values}
    issues: list[Issue] = []
    _check_target(runtime, merged, issues)
    if issues:
        raise Invalid("cannot update the connection", issues)
    values["version"] = row["version"] + 1
    values["updated_at"] = utcnow()
    repo.update_connection(session, principal.org_id, connection_id, values)
    after = {**row, **values}
    events.emit(
        session,
        principal,
        events.Event(
            "connection.updated",
            "connection",
            connection_id,
            {"connection": _snapshot(after)},
            changes=events.diff(_snapshot(row), _snapshot(after)),
        ),
    )
    runtime.engines.invalidate(connection_id)
    runtime.cache.invalidate_tag(f"conn:{connection_id}")
    return to_schema(after)


def delete(session: Session, principal: Principal, runtime: Runtime, connection_id: str) -> None:
    row = get_row(session, principal, connection_id)
    require_role(session, principal, row, "admin")
    users = repo.models_using(session, principal.org_id, connection_id)
    if users:
        raise Conflict(
            f"connection '{row['name']}' is used by models: {', '.join(sorted(users))}",
            details=[{"models": sorted(users)}],
        )
    repo.delete_connection(session, principal.org_id, connection_id)
    events.emit(
        session,
        principal,
        events.Event(
            "connection.deleted", "connection", connection_id, {"connection": _snapshot(row)}
        ),
    )
    runtime.engines.invalidate(connection_id)
    runtime.cache.invalidate_tag(f"conn:{connection_id}")


def test(
    session: Session, principal: Principal, runtime: Runtime, connection_id: str
) -> ConnectionTest:
    row = get_row(session, principal, connection_id)
    require_role(session, principal, row, "query")
    started = time.perf_counter()
    try:
        engine_for(runtime, row).test()
    except GnomonError as exc:
        return ConnectionTest(
            ok=False, duration_ms=(time.perf_counter() - started) * 1000, message=exc.message
        )
    return ConnectionTest(
        ok=True, duration_ms=(time.perf_counter() - started) * 1000, message="connected"
    )


def refresh(
    session: Session, principal: Principal, runtime: Runtime, connection_id: str
) -> Connection:
    """The seed's "data refreshed" trigger: drop this connection's cached results."""
    row = get_row(session, principal, connection_id)
    require_role(session, principal, row, "query")
    repo.bump_version(session, principal.org_id, connection_id)
    row = {**row, "version": row["version"] + 1}
    runtime.cache.invalidate_tag(f"conn:{connection_id}")
    events.emit(
        session,
        principal,
        events.Event(
            "connection.refreshed", "connection", connection_id, {"connection": _snapshot(row)}
        ),
    )
    return to_schema(row)
