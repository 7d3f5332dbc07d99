"""``/api/v1/model`` (the org's default model) and ``/api/v1/models/{id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response

from gnomon.api.deps import CurrentPrincipal, CurrentRuntime, Page, ReadSession, WriteSession
from gnomon.api.envelope import Many, One, many, one
from gnomon.api.errors import common_responses
from gnomon.modeling import service
from gnomon.modeling.schemas import Model, ModelCreate, ModelUpdate, ModelValidation, ModelVersion
from gnomon.principal import Principal
from gnomon.semantic import model_json_schema

router = APIRouter(tags=["model"], responses=common_responses())

IfMatch = Annotated[str | None, Header(description="ETag of the version being edited.")]
Version = Annotated[int, Path(ge=1, le=1_000_000)]


def _one(
    response: Response, session: ReadSession, principal: Principal, m: service.LoadedModel
) -> dict[str, Any]:
    response.headers["ETag"] = service.etag(m)
    return one(service.present(session, principal, m))


@router.get("/model", name="model_get", response_model=One[Model])
def get_default_model(
    response: Response, session: ReadSession, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> Any:
    return _one(response, session, principal, service.get(session, principal, runtime, None))


@router.put("/model", name="model_update", response_model=One[Model])
def update_default_model(
    body: ModelUpdate,
    response: Response,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    if_match: IfMatch = None,
) -> Any:
    m = service.update(
        session, principal, runtime, None, body.model_dump(exclude_unset=True), if_match=if_match
    )
    return _one(response, session, principal, m)


@router.post("/model/validate", name="model_validate", response_model=One[ModelValidation])
def validate_default_model(
    body: ModelUpdate, session: ReadSession, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> Any:
    return one(
        service.validate(session, principal, runtime, None, body.model_dump(exclude_unset=True))
    )


@router.get("/model/versions", name="model_versions", response_model=Many[ModelVersion])
def default_model_versions(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    page: Page,
) -> Any:
    items, total = service.list_versions(
        session, principal, runtime, None, offset=page.offset, limit=page.per_page
    )
    return many(request, items, total, page)


@router.post("/model/versions/{version}/restore", name="model_restore", response_model=One[Model])
def restore_default_model(
    version: Version,
    response: Response,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    return _one(
        response, session, principal, service.restore(session, principal, runtime, None, version)
    )


@router.get("/model/schema", name="model_json_schema", response_model=One[dict[str, Any]])
def model_schema() -> Any:
    """The JSON Schema of model documents, for editors."""
    return one(model_json_schema())


@router.get("/models", name="models_list", response_model=Many[Model])
def list_models(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    page: Page,
) -> Any:
    items, total = service.list_models(
        session, principal, runtime, offset=page.offset, limit=page.per_page
    )
    return many(request, items, total, page)


@router.post("/models", name="models_create", status_code=201, response_model=One[Model])
def create_model(
    body: ModelCreate,
    response: Response,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    return _one(
        response, session, principal, service.create(session, principal, runtime, body.model_dump())
    )


@router.get("/models/{model_id}", name="models_get", response_model=One[Model])
def get_model(
    model_id: str,
    response: Response,
    session: ReadSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    return _one(response, session, principal, service.get(session, principal, runtime, model_id))


@router.put("/models/{model_id}", name="models_update", response_model=One[Model])
def update_model(
    model_id: str,
    body: ModelUpdate,
    response: Response,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    if_match: IfMatch = None,
) -> Any:
    m = service.update(
        session,
        principal,
        runtime,
        model_id,
        body.model_dump(exclude_unset=True),
        if_match=if_match,
    )
    return _one(response, session, principal, m)


@router.delete("/models/{model_id}", name="models_delete", status_code=204, response_class=Response)
def delete_model(
    model_id: str, session: WriteSession, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> Response:
    service.delete(session, principal, runtime, model_id)
    return Response(status_code=204)


@router.post(
    "/models/{model_id}/validate", name="models_validate", response_model=One[ModelValidation]
)
def validate_model(
    model_id: str,
    body: ModelUpdate,
    session: ReadSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    return one(
        service.validate(session, principal, runtime, model_id, body.model_dump(exclude_unset=True))
    )


@router.get(
    "/models/{model_id}/versions", name="models_versions", response_model=Many[ModelVersion]
)
def model_versions(
    model_id: str,
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    page: Page,
) -> Any:
    items, total = service.list_versions(
        session, principal, runtime, model_id, offset=page.offset, limit=page.per_page
    )
    return many(request, items, total, page)


@router.post(
    "/models/{model_id}/versions/{version}/restore",
    name="models_restore",
    response_model=One[Model],
)
def restore_model(
    model_id: str,
    version: Version,
    response: Response,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    return _one(
        response,
        session,
        principal,
        service.restore(session, principal, runtime, model_id, version),
    )
