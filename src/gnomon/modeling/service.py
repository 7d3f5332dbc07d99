"""Model rules: one default model per org, immutable versions, optimistic concurrency."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from pydantic import BaseModel
from sqlalchemy.orm import Session

from gnomon import events
from gnomon.connections import repository as connections_repo
from gnomon.connections import service as connections
from gnomon.errors import Conflict, Invalid, NotFound
from gnomon.modeling import documents
from gnomon.modeling import repository as repo
from gnomon.modeling.schemas import Model, ModelValidation, ModelVersion, TopicSummary
from gnomon.principal import Principal
from gnomon.runtime import Runtime
from gnomon.semantic import SemanticModel, load_files
from gnomon.util import new_id, utcnow


class _ModelData(BaseModel):
    model: dict[str, Any]
    diff: dict[str, Any]


events.register(
    "model.updated", "A model changed (a new immutable version was written).", _ModelData
)
events.register("model.created", "A model was created.", _ModelData)
events.register("model.deleted", "A model was deleted.", _ModelData)


@dataclass(frozen=True)
class LoadedModel:
    id: str
    name: str
    version: int
    connection_id: str
    connection_name: str
    dialect: str
    is_default: bool
    semantic: SemanticModel
    updated_at: datetime


def files_of(session: Session, org_id: str, m: LoadedModel) -> dict[str, str]:
    return repo.get_files(session, org_id, m.id)


def _semantic(
    session: Session, runtime: Runtime, row: dict[str, Any], *, memory_only: bool = False
) -> SemanticModel | None:
    cached = runtime.models.get((row["id"], row["version"]))
    if cached is None and not memory_only:
        # Stored versions were validated when written; loading skips the rules.
        cached = load_files(repo.get_files(session, row["org_id"], row["id"]), check=False)
        runtime.models.put((row["id"], row["version"]), cached)
    return cached


@overload
def _loaded(session: Session, runtime: Runtime, row: dict[str, Any]) -> LoadedModel: ...


@overload
def _loaded(
    session: Session, runtime: Runtime, row: dict[str, Any], *, memory_only: bool
) -> LoadedModel | None: ...


def _loaded(
    session: Session, runtime: Runtime, row: dict[str, Any], *, memory_only: bool = False
) -> LoadedModel | None:
    semantic = _semantic(session, runtime, row, memory_only=memory_only)
    if semantic is None:
        return None
    return LoadedModel(
        id=row["id"],
        name=row["name"],
        version=row["version"],
        connection_id=row["connection_id"],
        connection_name=row["connection_name"],
        dialect=row["dialect"],
        is_default=bool(row["is_default"]),
        semantic=semantic,
        updated_at=row["updated_at"],
    )


@overload
def load_model(
    session: Session,
    runtime: Runtime,
    org_id: str,
    *,
    model_id: str | None = None,
    connection: str | None = None,
) -> LoadedModel: ...


@overload
def load_model(
    session: Session,
    runtime: Runtime,
    org_id: str,
    *,
    model_id: str | None = None,
    connection: str | None = None,
    memory_only: bool,
) -> LoadedModel | None: ...


def load_model(
    session: Session,
    runtime: Runtime,
    org_id: str,
    *,
    model_id: str | None = None,
    connection: str | None = None,
    memory_only: bool = False,
) -> LoadedModel | None:
    """The model a query or a tile runs against: by id, by connection name, else the default.

    With ``memory_only``, None when that model version is not loaded in memory yet (loading
    parses its files)."""
    if model_id is not None:
        row = repo.get(session, org_id, model_id)
        missing = f"model {model_id} not found"
    elif connection is not None:
        row = repo.get_for_connection(session, org_id, connection)
        missing = f"no model is bound to connection '{connection}'"
    else:
        row = repo.get_default(session, org_id)
        missing = "the organization has no default model yet; create one with POST /api/v1/models"
    if row is None:
        raise NotFound(missing)
    return _loaded(session, runtime, row, memory_only=memory_only)


def to_schema(m: LoadedModel, files: Mapping[str, str]) -> Model:
    enabled = m.semantic.settings.enabled_topics
    settings = m.semantic.settings.model_dump(mode="json", exclude_defaults=True)
    return Model(
        id=m.id,
        name=m.name,
        connection=m.connection_name,
        dialect=m.dialect,
        is_default=m.is_default,
        version=m.version,
        topics=[
            TopicSummary(
                name=name,
                label=topic.label,
                base_view=topic.base_view,
                enabled=enabled is None or name in enabled,
            )
            for name, topic in sorted(m.semantic.topics.items())
        ],
        settings=settings,
        files=dict(files),
        updated_at=m.updated_at,
    )


def present(session: Session, principal: Principal, m: LoadedModel) -> Model:
    """The API's view of a model, files included."""
    return to_schema(m, files_of(session, principal.org_id, m))


def etag(m: LoadedModel) -> str:
    return f'"{m.id}:{m.version}"'


def _require_modeler(session: Session, principal: Principal, m: LoadedModel) -> None:
    row = connections.get_row_by_name(session, principal, m.connection_name)
    connections.require_role(session, principal, row, "model")


def _validated(files: Mapping[str, str]) -> SemanticModel:
    return load_files(files, check=True)


def get(
    session: Session, principal: Principal, runtime: Runtime, model_id: str | None
) -> LoadedModel:
    m = load_model(session, runtime, principal.org_id, model_id=model_id)
    row = connections.get_row_by_name(session, principal, m.connection_name)
    connections.require_role(session, principal, row, "view")
    return m


def _write_version(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    m: LoadedModel,
    new_files: dict[str, str],
    message: str | None,
    change_log: Mapping[str, Any] | None,
) -> LoadedModel:
    diff = documents.file_diff(files_of(session, principal.org_id, m), new_files)
    if not any(diff.values()):
        return m
    now = utcnow()
    version = m.version + 1
    if not repo.advance(
        session,
        principal.org_id,
        m.id,
        expected_version=m.version,
        values={"version": version, "files": new_files, "updated_at": now},
    ):
        raise Conflict(f"model {m.id} changed while this edit was made; reload and retry")
    repo.insert_version(
        session,
        {
            "org_id": principal.org_id,
            "model_id": m.id,
            "version": version,
            "files": new_files,
            "author_id": principal.actor_id,
            "author_label": principal.label,
            "message": message,
            "diff": diff,
            "created_at": now,
        },
    )
    runtime.cache.invalidate_tag(f"model:{m.id}")
    row = repo.get(session, principal.org_id, m.id)
    assert row is not None
    updated = _loaded(session, runtime, row)
    events.emit(
        session,
        principal,
        events.Event(
            "model.updated",
            "model",
            m.id,
            {"model": {"id": m.id, "name": m.name, "version": version}, "diff": diff},
            change_log=change_log,
        ),
    )
    return updated


def update(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    model_id: str | None,
    body: Mapping[str, Any],
    *,
    if_match: str | None,
) -> LoadedModel:
    m = load_model(session, runtime, principal.org_id, model_id=model_id)
    _require_modeler(session, principal, m)
    if if_match is not None and if_match.strip() not in (etag(m), "*"):
        raise Conflict(
            f"model {m.id} is at version {m.version}; If-Match {if_match} is stale",
            details=[{"current_etag": etag(m)}],
        )
    new_files = documents.apply_update(files_of(session, principal.org_id, m), body)
    _validated(new_files)
    message = body.get("message") if isinstance(body.get("message"), str) else None
    change_log = body.get("change_log") if isinstance(body.get("change_log"), Mapping) else None
    return _write_version(session, principal, runtime, m, new_files, message, change_log)


def validate(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    model_id: str | None,
    body: Mapping[str, Any],
) -> ModelValidation:
    """A dry run of :func:`update`: every problem the proposed model has, nothing written."""
    m = load_model(session, runtime, principal.org_id, model_id=model_id)
    _require_modeler(session, principal, m)
    try:
        current = files_of(session, principal.org_id, m)
        new_files = documents.apply_update(current, body) if body else current
        proposed = _validated(new_files)
    except Invalid as exc:
        return ModelValidation(valid=False, issues=exc.details, topics=[])
    broken = _broken_content(session, principal.org_id, proposed)
    return ModelValidation(
        valid=True, issues=[], topics=sorted(proposed.topics), broken_content=broken
    )


# Other domains (content) register a checker that lists what a proposed model would break;
# modeling does not import them, so the dependency points one way only.
ContentChecker = Callable[[Session, str, SemanticModel], list[dict[str, Any]]]
_content_checkers: list[ContentChecker] = []


def register_content_checker(checker: ContentChecker) -> None:
    if checker not in _content_checkers:
        _content_checkers.append(checker)


def _broken_content(session: Session, org_id: str, proposed: SemanticModel) -> list[dict[str, Any]]:
    return [item for check in _content_checkers for item in check(session, org_id, proposed)]


def list_versions(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    model_id: str | None,
    *,
    offset: int,
    limit: int,
) -> tuple[list[ModelVersion], int]:
    m = get(session, principal, runtime, model_id)
    rows, total = repo.list_versions(session, principal.org_id, m.id, offset=offset, limit=limit)
    return [
        ModelVersion(
            version=r["version"],
            author=r["author_label"],
            message=r["message"],
            diff=r["diff"],
            created_at=r["created_at"],
        )
        for r in rows
    ], total


def restore(
    session: Session, principal: Principal, runtime: Runtime, model_id: str | None, version: int
) -> LoadedModel:
    """Restoring writes a new version with the old content: history is never rewritten."""
    m = load_model(session, runtime, principal.org_id, model_id=model_id)
    _require_modeler(session, principal, m)
    old = repo.get_version(session, principal.org_id, m.id, version)
    if old is None:
        raise NotFound(f"model {m.id} has no version {version}")
    return _write_version(
        session, principal, runtime, m, dict(old["files"]), f"restore version {version}", None
    )


def create(
    session: Session, principal: Principal, runtime: Runtime, body: Mapping[str, Any]
) -> LoadedModel:
    name = str(body["name"])
    connection_name = str(body["connection"])
    conn = connections.get_row_by_name(session, principal, connection_name)
    connections.require_role(session, principal, conn, "model")
    if repo.get_by_name(session, principal.org_id, name) is not None:
        raise Conflict(f"a model named '{name}' exists")
    content = {k: v for k, v in body.items() if k not in ("name", "connection")}
    files = documents.apply_update({}, content)
    _validated(files)
    is_default = repo.get_default(session, principal.org_id) is None
    row = insert_model(
        session,
        principal.org_id,
        name=name,
        connection_id=conn["id"],
        files=files,
        is_default=is_default,
        author=principal,
    )
    m = _loaded(session, runtime, row)
    events.emit(
        session,
        principal,
        events.Event(
            "model.created",
            "model",
            m.id,
            {
                "model": {"id": m.id, "name": m.name, "version": 1},
                "diff": documents.file_diff({}, files),
            },
        ),
    )
    return m


def insert_model(
    session: Session,
    org_id: str,
    *,
    name: str,
    connection_id: str,
    files: Mapping[str, str],
    is_default: bool,
    author: Principal | None = None,
) -> dict[str, Any]:
    now = utcnow()
    model_id = new_id()
    repo.insert_model(
        session,
        {
            "id": model_id,
            "org_id": org_id,
            "name": name,
            "connection_id": connection_id,
            "is_default": is_default,
            "version": 1,
            "files": dict(files),
            "created_at": now,
            "updated_at": now,
        },
    )
    repo.insert_version(
        session,
        {
            "org_id": org_id,
            "model_id": model_id,
            "version": 1,
            "files": dict(files),
            "author_id": author.actor_id if author else None,
            "author_label": author.label if author else "system",
            "message": "created",
            "diff": documents.file_diff({}, files),
            "created_at": now,
        },
    )
    row = repo.get(session, org_id, model_id)
    assert row is not None
    return row


def list_models(
    session: Session, principal: Principal, runtime: Runtime, *, offset: int, limit: int
) -> tuple[list[Model], int]:
    rows, total = repo.list_models(session, principal.org_id, offset=offset, limit=limit)
    visible = []
    for row in rows:
        conn = connections_repo.get(session, principal.org_id, row["connection_id"])
        if conn is None:
            continue
        try:
            connections.require_role(session, principal, conn, "view")
        except (NotFound, Exception):
            continue
        visible.append(present(session, principal, _loaded(session, runtime, row)))
    return visible, total if principal.is_org_admin else len(visible)


def delete(session: Session, principal: Principal, runtime: Runtime, model_id: str) -> None:
    m = load_model(session, runtime, principal.org_id, model_id=model_id)
    _require_modeler(session, principal, m)
    if m.is_default:
        raise Conflict("the default model cannot be deleted", details=[{"model_id": m.id}])
    repo.delete_model(session, principal.org_id, m.id)
    runtime.cache.invalidate_tag(f"model:{m.id}")
    events.emit(
        session,
        principal,
        events.Event(
            "model.deleted",
            "model",
            m.id,
            {"model": {"id": m.id, "name": m.name, "version": m.version}, "diff": {}},
        ),
    )
