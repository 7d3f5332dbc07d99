"""Export and import of documents and folders between gnomon environments.

A bundle is self-contained: the dashboard definition (tiles, default filters, folder path,
permissions by group name), the part of the source model its tiles need, and a checksum. Its
``uid`` (the source document's id, or the id it was itself imported from) is what makes
import idempotent: importing the same bundle again updates the document it created.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from gnomon import events
from gnomon.content import access, documents, folders, tiles
from gnomon.content import grants_repository as grepo
from gnomon.content import repository as repo
from gnomon.content.models import model_for
from gnomon.content.roles import normalise_role
from gnomon.content.schemas import DocumentCreate, FolderRef, TileIn
from gnomon.content.schemas_bundle import (
    EXPORT_VERSION,
    BundleDashboard,
    BundleDocumentInfo,
    BundlePayload,
    DocumentImport,
    ExportBundle,
    ImportResult,
    WorkbookField,
    WorkbookModel,
    WorkbookTopic,
)
from gnomon.errors import Conflict, Invalid, Issue
from gnomon.principal import Principal
from gnomon.runtime import Runtime
from gnomon.semantic import Dimension, SemanticModel, Topic
from gnomon.util import utcnow


def checksum(dashboard: Mapping[str, Any], workbook: Mapping[str, Any] | None) -> str:
    """sha256 over the canonical JSON of the definition (without its checksum) and model."""
    body = {k: v for k, v in dashboard.items() if k != "checksum"}
    canonical = json.dumps(
        {"dashboard": body, "workbook_model": workbook or {}}, sort_keys=True, default=str
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------- workbook model


def _topic_views(topic: Topic) -> list[str]:
    out = [topic.base_view]

    def walk(joins: Any) -> None:
        if isinstance(joins, Mapping):
            for name, sub in joins.items():
                out.append(str(name))
                walk(sub)

    walk(topic.joins)
    return list(dict.fromkeys(out))


def _find_field(model: SemanticModel, topic: Topic, name: str) -> tuple[str, str] | None:
    """``(view, field)`` a tile's field name refers to in a topic (best effort: exact
    ``view.field``, else a bare name, else a ``<time dimension>_<grain>`` name)."""
    name = name.split("[", 1)[0].lstrip("-")
    candidates = [name]
    if "_" in name:
        candidates.append(name.rsplit("_", 1)[0])
    for cand in candidates:
        if "." in cand:
            view_name, field_name = cand.split(".", 1)
            view = model.views.get(view_name)
            if view is not None and view.field(field_name) is not None:
                return view_name, field_name
            continue
        for view_name in _topic_views(topic):
            view = model.views.get(view_name)
            if view is not None and view.field(cand) is not None:
                return view_name, cand
    return None


def _query_names(query: Mapping[str, Any]) -> list[str]:
    names = [*query.get("dimensions", []), *query.get("measures", [])]
    names += [k for k in query.get("filters", {}) if k != "date_range"]
    for s in query.get("sorts", []):
        names.append(str(s.get("field") if isinstance(s, Mapping) else s))
    return names


def workbook_model(
    model: SemanticModel,
    connection: str | None,
    model_name: str | None,
    dialect: str | None,
    stored_tiles: Sequence[Mapping[str, Any]],
    default_filters: Mapping[str, Any],
) -> WorkbookModel:
    topics: dict[str, WorkbookTopic] = {}
    for tile in stored_tiles:
        query = tile.get("query")
        if not query:
            continue
        topic = model.topics.get(query["topic"])
        if topic is None:
            continue
        entry = topics.setdefault(query["topic"], WorkbookTopic(base_view=topic.base_view))
        for name in [*_query_names(query), *default_filters]:
            found = _find_field(model, topic, str(name))
            if found is None:
                continue
            view, field_name = found
            fld = model.views[view].field(field_name)
            assert fld is not None
            entry.fields[f"{view}.{field_name}"] = WorkbookField(
                kind="dimension" if isinstance(fld, Dimension) else "measure",
                type=fld.field_type if isinstance(fld, Dimension) else None,
                sql=fld.sql,
                aggregate_type=None if isinstance(fld, Dimension) else fld.aggregate_type,
                label=fld.label,
            )
    return WorkbookModel(connection=connection, model=model_name, dialect=dialect, topics=topics)


# ---------------------------------------------------------------- export


def export_document(
    session: Session, principal: Principal, runtime: Runtime, doc_id: str
) -> ExportBundle:
    who = access.caller(session, principal)
    row = documents.visible_document(session, who, doc_id, "export")
    org = principal.org_id
    folder = repo.get_folder(session, org, row["folder_id"]) if row["folder_id"] else None
    folder_path = folder["path"] if folder else None
    loaded = model_for(session, runtime, org, model_id=row["model_id"], required=False)
    stored = list(row["tiles"] or [])
    workbook = (
        workbook_model(
            loaded.semantic,
            loaded.connection_name,
            loaded.name,
            loaded.dialect,
            stored,
            row["default_filters"] or {},
        )
        if loaded is not None
        else WorkbookModel()
    )
    perms = access.permission_map(
        session, org, grepo.grants_on(session, org, "document", row["id"])
    )
    definition = BundleDashboard(
        uid=row["origin_id"] or row["id"],
        identifier=row["identifier"],
        name=row["name"],
        description=row["description"],
        labels=list(row["labels"] or []),
        default_filters=dict(row["default_filters"] or {}),
        tiles=[TileIn.model_validate(t) for t in stored],
        folder_path=folder_path,
        permissions=dict(perms),
    )
    wb = workbook.model_dump(mode="json")
    digest = checksum(definition.model_dump(mode="json"), wb)
    definition = definition.model_copy(update={"checksum": digest})
    return ExportBundle(
        export_version=EXPORT_VERSION,
        exported_at=utcnow(),
        document=BundleDocumentInfo(
            id=row["id"],
            identifier=row["identifier"],
            name=row["name"],
            folder_path=folder_path,
            connection=workbook.connection,
            model=workbook.model,
            version=row["version"],
        ),
        dashboard=BundlePayload(dashboard=definition, workbook_model=workbook),
        workbook_model=workbook,
        folder_path=folder_path,
        permissions=dict(perms),
        checksum=digest,
    )


# ---------------------------------------------------------------- import


def _unwrap(body: DocumentImport) -> tuple[BundleDashboard, WorkbookModel | None]:
    if isinstance(body.dashboard, BundlePayload):
        return body.dashboard.dashboard, body.dashboard.workbook_model or body.workbook_model
    return body.dashboard, body.workbook_model


def _target_folder(body: DocumentImport, definition: BundleDashboard) -> str | None:
    if isinstance(body.folder, FolderRef):
        return body.folder.path
    if isinstance(body.folder, str):
        return body.folder
    return definition.folder_path


def _warn(message: str, path: tuple[str | int, ...], code: str) -> dict[str, Any]:
    return Issue(message, path, code=code).as_dict()


def _drift(
    model: SemanticModel, workbook: WorkbookModel | None, topic_mapping: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Fields whose definition in the target differs from the source (kind or type)."""
    out: list[dict[str, Any]] = []
    for topic_name, topic in (workbook.topics if workbook else {}).items():
        for ref, src in topic.fields.items():
            if "." not in ref:
                continue
            view_name, field_name = ref.split(".", 1)
            view = model.views.get(view_name)
            fld = view.field(field_name) if view is not None else None
            if fld is None:
                continue
            kind = "dimension" if isinstance(fld, Dimension) else "measure"
            typ = fld.field_type if isinstance(fld, Dimension) else None
            if kind != src.kind or (src.type is not None and typ != src.type):
                out.append(
                    _warn(
                        f"{ref} is a {typ or kind} in the target but was a {src.type or src.kind}",
                        ("workbook_model", "topics", topic_mapping.get(topic_name, topic_name)),
                        "field_changed",
                    )
                )
    return out


def import_document(
    session: Session, principal: Principal, runtime: Runtime, body: DocumentImport
) -> ImportResult:
    org = principal.org_id
    definition, workbook = _unwrap(body)
    strict = body.validation_mode == "strict"
    issues: list[Issue] = []
    warnings: list[dict[str, Any]] = []
    prefix: tuple[str | int, ...] = (
        ("dashboard", "dashboard") if isinstance(body.dashboard, BundlePayload) else ("dashboard",)
    )

    if definition.checksum is not None and definition.checksum != checksum(
        definition.model_dump(mode="json"), workbook.model_dump(mode="json") if workbook else None
    ):
        message = "the bundle's checksum does not match its content (edited after export?)"
        if strict:
            issues.append(Issue(message, (*prefix, "checksum"), code="checksum_mismatch"))
        else:
            warnings.append(_warn(message, (*prefix, "checksum"), "checksum_mismatch"))

    # The target model: the mapped connection's, else the default one.
    source_conn = workbook.connection if workbook else None
    target_conn = body.connection_mapping.get(source_conn, source_conn) if source_conn else None
    loaded = None
    if target_conn is not None:
        try:
            loaded = model_for(
                session,
                runtime,
                org,
                connection=target_conn,
                required=True,
                where=("connection_mapping", source_conn or ""),
            )
        except Invalid as exc:
            if source_conn in body.connection_mapping:
                issues += exc.issues
            else:
                warnings.append(
                    _warn(
                        f"no model on connection '{target_conn}' here; using the default model",
                        ("connection_mapping",),
                        "connection_not_found",
                    )
                )
    if loaded is None:
        loaded = model_for(session, runtime, org, required=False)

    raw_tiles: list[TileIn] = []
    for tile in definition.tiles:
        if tile.query is not None and tile.query.topic in body.topic_mapping:
            query = tile.query.model_copy(update={"topic": body.topic_mapping[tile.query.topic]})
            tile = tile.model_copy(update={"query": query})
        raw_tiles.append(tile)
    stored, shape = tiles.build_tiles(raw_tiles, prefix=(*prefix, "tiles"))
    issues += shape
    broken: list[dict[str, Any]] = []
    if loaded is not None:
        found = tiles.check_tiles(
            loaded.semantic, loaded.dialect, stored, prefix=(*prefix, "tiles")
        )
        if strict:
            issues += found
        else:
            broken = [i.as_dict() for i in found]
        warnings += _drift(loaded.semantic, workbook, body.topic_mapping)
    elif any(t.get("query") for t in stored):
        issues.append(
            Issue(
                "the organization has no model to import tiles into",
                ("workbook_model",),
                code="not_found",
            )
        )

    # Grants by group name: the target may not have every group; those are skipped, not fatal.
    known: dict[str, str] = {}
    names = list(definition.permissions)
    present = grepo.groups_by_name(session, org, [n for n in names if "@" not in n])
    emails = grepo.users_by_email(session, org, [n for n in names if "@" in n])
    for name, role in definition.permissions.items():
        if name in present or name.lower() in emails:
            known[name] = role
        else:
            warnings.append(
                _warn(
                    f"no group or user {name!r} here; grant skipped",
                    (*prefix, "permissions", name),
                    "unknown_grantee",
                )
            )
    if issues:
        raise Invalid(f"the bundle cannot be imported: {len(issues)} problem(s)", issues)

    folder_path = _target_folder(body, definition)
    folder_path = folders.normalise_path(folder_path) if folder_path else None
    create_body = DocumentCreate(
        name=definition.name,
        description=definition.description,
        folder=FolderRef(path=folder_path, create_if_missing=True)
        if folder_path and folder_path != "/"
        else None,
        default_filters=definition.default_filters,
        permissions=known,
        tiles=raw_tiles,
        labels=definition.labels,
        model_id=loaded.id if loaded is not None else None,
    )

    existing = repo.document_by_origin(session, org, definition.uid)
    if existing is None:
        existing = repo.get_document(session, org, definition.identifier)
    if existing is not None and existing["deleted_at"] is not None and body.on_conflict != "copy":
        existing = existing if existing["identifier"] == definition.identifier else None
    after = {
        "name": definition.name,
        "description": definition.description,
        "folder_path": folder_path,
        "default_filters": definition.default_filters,
        "labels": list(dict.fromkeys(definition.labels)),
        "tiles": stored,
        "permissions": {k: normalise_role(v) for k, v in known.items()},
    }
    if existing is None or body.on_conflict == "copy":
        action = "created" if existing is None else "copied"
        diff = {k: {"before": None, "after": v} for k, v in after.items()}
        if body.dry_run:
            return ImportResult(
                action=action, dry_run=True, diff=diff, warnings=warnings, broken=broken
            )
        identifier = documents.unique_identifier(session, org, definition.identifier)
        doc = documents.create(
            session,
            principal,
            runtime,
            create_body.model_copy(update={"identifier": identifier}),
            origin_id=definition.uid if existing is None else None,
            check=strict,
        )
        return ImportResult(
            action=action, dry_run=False, document=doc, diff=diff, warnings=warnings, broken=broken
        )

    if body.on_conflict == "fail":
        raise Conflict(
            f"document {existing['identifier']} already exists here",
            details=[
                {
                    "id": existing["id"],
                    "identifier": existing["identifier"],
                    "code": "already_exists",
                }
            ],
        )
    who = access.caller(session, principal)
    current_folder = (
        repo.get_folder(session, org, existing["folder_id"]) if existing["folder_id"] else None
    )
    before = {
        "name": existing["name"],
        "description": existing["description"],
        "folder_path": current_folder["path"] if current_folder else None,
        "default_filters": existing["default_filters"] or {},
        "labels": list(existing["labels"] or []),
        "tiles": existing["tiles"] or [],
        "permissions": access.permission_map(
            session, org, grepo.grants_on(session, org, "document", existing["id"])
        ),
    }
    diff = events.diff(before, after)
    if existing["deleted_at"] is not None:
        diff["deleted_at"] = {"before": existing["deleted_at"].isoformat(), "after": None}
    action = "updated" if diff else "unchanged"
    if body.dry_run or not diff:
        current = documents.to_schemas(session, who, [existing])[0]
        return ImportResult(
            action=action,
            dry_run=body.dry_run,
            document=current,
            diff=diff,
            warnings=warnings,
            broken=broken,
        )
    if existing["deleted_at"] is not None:
        documents.restore(session, principal, existing["id"])
    put = create_body.model_copy(update={"identifier": None})
    fields = {
        "name",
        "description",
        "default_filters",
        "labels",
        "tiles",
        "permissions",
        "model_id",
    }
    fields.add("folder")
    put = DocumentCreate.model_validate(put.model_dump(exclude_none=False))
    put.__pydantic_fields_set__ = set(fields)
    doc = documents.replace(
        session,
        principal,
        runtime,
        existing["id"],
        put,
        check=strict,
        extra={"origin_id": existing["origin_id"] or definition.uid}
        if existing["id"] != definition.uid
        else None,
    )
    return ImportResult(
        action=action, dry_run=False, document=doc, diff=diff, warnings=warnings, broken=broken
    )
