"""The semantic model a document's tiles are checked and run against (owned by modeling)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gnomon.errors import Invalid, Issue, NotFound
from gnomon.modeling.service import LoadedModel, load_model
from gnomon.runtime import Runtime


def model_for(
    session: Session,
    runtime: Runtime,
    org_id: str,
    *,
    model_id: str | None = None,
    connection: str | None = None,
    required: bool,
    where: tuple[str | int, ...] = ("model_id",),
) -> LoadedModel | None:
    """The model by id, by connection, else the org's default. Missing and ``required`` → 422
    (a tile cannot be checked without one); missing and not required → None."""
    try:
        return load_model(session, runtime, org_id, model_id=model_id, connection=connection)
    except NotFound as exc:
        if model_id is not None or required:
            raise Invalid(exc.message, [Issue(exc.message, where, code="not_found")]) from exc
        return None
