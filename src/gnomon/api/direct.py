"""A direct path for the hottest endpoint's well-formed requests.

For every request Starlette and FastAPI run an exception middleware, an exit-stack middleware,
the router, the route's request/response wrappers with two more exit stacks, then FastAPI reads
the body, solves the dependency graph (a cache, a loop over every parameter), validates and
calls the endpoint. That machinery is general and, with the CPU caches cold after a warehouse
query, costs about half a millisecond, which for ``POST /queries/run`` answered from the cache
is most of the request. Two pieces take the hot endpoint's requests past it:

* :class:`DirectRoute` is an ``APIRoute`` (documented and matched like any other) whose
  :meth:`~DirectRoute.direct` does FastAPI's steps itself for the one shape of endpoint it
  accepts: a JSON body model, the ``Request``, the calling principal and the runtime;
* :class:`DirectLane`, the innermost of gnomon's middleware (so request ids, access logs,
  metrics, body and rate limits and idempotency apply as to any request), hands a direct
  route's requests to :meth:`~DirectRoute.direct` before Starlette's routing, and answers the
  errors it raises with the application's own exception handlers.

Only a request whose body FastAPI would accept takes the direct path: JSON that parses and
validates. Anything else (another content type, a body FastAPI would reject, dependency
overrides in tests) is declined and goes through FastAPI from the start (the lane replays the
body it read), so every such error is exactly FastAPI's, found in the same order of checks.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

import orjson
import pydantic
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from gnomon.api.deps import bearer, current_principal, get_runtime, runtime_dependency
from gnomon.api.middleware import replay_body

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# Starlette's exception handlers: sync or async.
ErrorHandler = Callable[[Request, Exception], Response | Awaitable[Response]]

# Validated bodies remembered per route: dashboards and monitors send the same few bodies again
# and again, and validating one costs more than looking it up when the CPU caches are cold.
MAX_REMEMBERED_BODIES = 1024
REMEMBERED_BODY_BYTES = 4096


class DirectRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
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
        self._body_model: type[pydantic.BaseModel] = model
        # Validation depends on nothing but the bytes, so a frozen model's instance can be
        # shared by every request that sends the same body (see _validated).
        self._bodies: dict[bytes, pydantic.BaseModel] | None = (
            {} if model.model_config.get("frozen") else None
        )
        self._names = (
            dependant.body_params[0].name,
            dependant.request_param_name,
            resolvers[current_principal],
            resolvers[runtime_dependency],
        )

    async def direct(self, request: Request) -> Response | None:
        """The endpoint's response, or None (declined) when FastAPI must handle the request:
        not JSON, a body that does not parse or validate, dependency overrides in place."""
        if (
            request.headers.get("content-type") != "application/json"
            or request.app.dependency_overrides  # tests that swap a dependency
        ):
            return None
        raw = await request.body()  # kept by the request, for FastAPI if it is declined
        body = self._validated(raw)
        if body is None:
            return None
        principal = await current_principal(request, await bearer(request))
        values = (body, request, principal, get_runtime(request))
        response: Response = await self.endpoint(**dict(zip(self._names, values, strict=True)))
        return response

    def _validated(self, raw: bytes) -> pydantic.BaseModel | None:
        """The body model of ``raw``; None when it does not parse or validate."""
        bodies = self._bodies
        body = bodies.get(raw) if bodies is not None else None
        if body is not None:
            return body
        try:
            body = self._body_model.model_validate(orjson.loads(raw))
        except (orjson.JSONDecodeError, pydantic.ValidationError):
            return None
        if bodies is not None and len(raw) <= REMEMBERED_BODY_BYTES:
            if len(bodies) >= MAX_REMEMBERED_BODIES:
                bodies.clear()
            bodies[raw] = body
        return body

    def get_route_handler(self) -> Handler:
        # Requests that reach the route through Starlette's routing (the lane is not installed,
        # or declined) take the direct path too when they can.
        full = super().get_route_handler()

        async def handler(request: Request) -> Response:
            return await self.direct(request) or await full(request)

        return handler


class DirectLane:
    """Pure ASGI: a direct route's requests go to :meth:`DirectRoute.direct` without
    Starlette's exception middleware and routing; declined ones go on, body replayed."""

    def __init__(
        self, app: ASGIApp, application: FastAPI, routes: Mapping[str, DirectRoute]
    ) -> None:
        """``routes``: each direct route by the path the application serves it at."""
        self.app = app
        self.application = application
        self.routes: Mapping[tuple[str, str], DirectRoute] = {
            (method, path): route
            for path, route in routes.items()
            for method in route.methods or ()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (
            self.routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        )
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route  # what Starlette's routing would set (metrics label by name)
        request = Request(scope, receive, send)
        try:
            response = await route.direct(request)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise  # as Starlette: the server-error middleware answers it
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        if response is None:
            body = await request.body()
            await self.app(scope, replay_body(body, receive), send)
            return
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> ErrorHandler | None:
        handlers = self.application.exception_handlers
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None  # the catch-all belongs to the server-error middleware
            if cls in handlers:
                return handlers[cls]
        return None
