"""The content validator: every tile the current (or a proposed) model cannot answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from gnomon.content import access, tiles
from gnomon.content import repository as repo
from gnomon.content.models import model_for
from gnomon.content.schemas import ContentProblem
from gnomon.modeling import repository as models_repo
from gnomon.principal import Principal
from gnomon.runtime import Runtime
from gnomon.semantic import SemanticModel


def _problems(doc: Mapping[str, Any], model: SemanticModel, dialect: str) -> list[ContentProblem]:
    stored: Sequence[Mapping[str, Any]] = doc["tiles"] or []
    out = []
    for issue in tiles.check_tiles(model, dialect, stored):
        index = int(issue.path[1])
        tile = stored[index]
        inner = issue.path[3:]
        out.append(
            ContentProblem(
                document_id=doc["id"],
                identifier=doc["identifier"],
                document_name=doc["name"],
                tile_id=str(tile["id"]),
                tile_index=index,
                tile_title=str(tile.get("title", "")),
                field=tiles.field_of(tile["query"], inner),
                reason=issue.message,
                code=issue.code,
                path=list(issue.path),
            )
        )
    return out


def validate_content(
    session: Session, principal: Principal, runtime: Runtime
) -> list[ContentProblem]:
    """Problems in the documents the caller can open, each against the model it is bound to."""
    who = access.caller(session, principal)
    docs = [
        d
        for d in repo.live_documents(session, principal.org_id)
        if who.can(who.document_role(d), "view")
    ]
    models: dict[str | None, Any] = {}
    out: list[ContentProblem] = []
    for doc in docs:
        key = doc["model_id"]
        if key not in models:
            try:
                models[key] = model_for(
                    session, runtime, principal.org_id, model_id=key, required=False
                )
            except Exception:
                models[key] = None
        loaded = models[key]
        if loaded is None:
            for i, tile in enumerate(doc["tiles"] or []):
                if tile.get("query"):
                    out.append(
                        ContentProblem(
                            document_id=doc["id"],
                            identifier=doc["identifier"],
                            document_name=doc["name"],
                            tile_id=str(tile["id"]),
                            tile_index=i,
                            tile_title=str(tile.get("title", "")),
                            field=None,
                            reason=f"the document's model {key} no longer exists",
                            code="model_not_found",
                            path=["tiles", i],
                        )
                    )
            continue
        out += _problems(doc, loaded.semantic, loaded.dialect)
    return out


def broken_content(
    session: Session, org_id: str, model: SemanticModel, *, model_id: str | None = None
) -> list[dict[str, Any]]:
    """What ``model`` would break if it replaced the model documents are bound to.

    ``model_id`` None means the organization's default model (what ``POST /model/validate``
    checks without a model id): documents bound to it, and documents bound to no model.
    """
    if model_id is None:
        default = models_repo.get_default(session, org_id)
        model_id = default["id"] if default is not None else None
    docs = repo.live_documents(session, org_id, model_ids=[model_id, None])
    dialect = model.settings.dialect or "duckdb"
    return [p.model_dump() for d in docs for p in _problems(d, model, dialect)]
