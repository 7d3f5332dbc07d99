"""A direct path through FastAPI for the hottest endpoint's well-formed requests.

For every request FastAPI reads the body, solves the dependency graph (an exit stack, a cache,
a loop over every parameter), validates and then calls the endpoint. That machinery is general
and costs a few hundred microseconds, which for ``POST /queries/run`` on a warm cache is a
third of the request. :class:`DirectRoute` is an ``APIRoute`` (so the route is documented,
matched and wrapped in the exception handlers exactly like any other) whose handler does the
same steps itself for the one shape of endpoint it accepts: a JSON body model, the
``Request``, the calling principal and the runtime.

Only a request whose body FastAPI would accept takes the direct path: JSON that parses and
validates. Anything else (another content type, a body FastAPI would reject, dependency
overrides in tests) goes through FastAPI's own handler, so every error is exactly FastAPI's,
found in the same order of checks.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
import pydantic
from fastapi import Request, Response
from fastapi.routing import APIRoute

from gnomon.api.deps import bearer, current_principal, get_runtime, runtime_dependency

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class DirectRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        full = super().get_route_handler()
        dependant = self.dependant
        resolvers = {d.call: d.name or "" for d in dependant.dependencies}
        model = dependant.body_params[0].field_info.annotation if dependant.body_params else None
        if (
            len(dependant.body_params) != 1
            or not (isinstance(model, type) and issubclass(model, pydantic.BaseModel))
            or set(resolvers) != {current_principal, runtime_dependency}
            or dependant.request_param_name is None
            or dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
        ):
            raise TypeError(
                f"{self.path}: a DirectRoute takes a body model, the Request, the "
                "principal and the runtime, nothing else"
            )
        body_model: type[pydantic.BaseModel] = model
        endpoint = self.endpoint
        names = (
            dependant.body_params[0].name,
            dependant.request_param_name,
            resolvers[current_principal],
            resolvers[runtime_dependency],
        )

        async def handler(request: Request) -> Response:
            if (
                request.headers.get("content-type") != "application/json"
                or request.app.dependency_overrides  # tests that swap a dependency
            ):
                return await full(request)
            raw = await request.body()  # kept by the request: FastAPI's handler can read it again
            try:
                body = body_model.model_validate(orjson.loads(raw))
            except (orjson.JSONDecodeError, pydantic.ValidationError):
                return await full(request)
            principal = await current_principal(request, await bearer(request))
            values = (body, request, principal, get_runtime(request))
            response: Response = await endpoint(**dict(zip(names, values, strict=True)))
            return response

        return handler
