"""ASGI: a purpose scope around each HTTP request to a Starlette or FastAPI application.

`PurposeMiddleware` is pure ASGI (no ``BaseHTTPMiddleware``): the scope is opened in the
request's own task, around the whole call of the application, so the endpoint (``async
def`` in the task, plain ``def`` in the thread pool with a copy of its context), a
``StreamingResponse``'s body and Starlette's background tasks all run inside it, and its
report is sent once, after all of them. It finds the endpoint by matching the request
against the routes of the router it wraps, as the router will (into mounted routers, to a
bounded depth), and reads the endpoint's `purposeful.web.purpose` declaration. The router
is found by following the wrapped application's ``.app`` (or ``.application``) attributes
to a Starlette (or FastAPI) application or router, so the middleware works added
(``app.add_middleware``) or wrapped around the application (``PurposeMiddleware(app,
...)``); failing that, it is ``scope["app"]``'s if that application's middleware stack
holds this middleware, and with none it refuses to run (`ConfigurationError`), never
letting a declared route run without its own scope.

Needs Starlette (FastAPI brings it). What this module must not do: log a request's path or
a header (route templates only), or change a response that has started.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, Final

from ..actors import Actor
from ..errors import (
    ConfigurationError,
    MissingExtra,
    NoActor,
    PurposeClaimRefused,
    PurposefulError,
    PurposeViolation,
)
from ..propagation.baggage import otel_baggage_without_claim
from ._declare import EXEMPT, declared_purpose
from ._encoders import shield
from .policy import RequestPolicy, undeclared_routes_error
from .problems import DEFAULT_CHALLENGE, Problem, problem_for

try:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import BaseRoute, Host, Match, Mount, Router, WebSocketRoute
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise MissingExtra(
        "purposeful.web.asgi needs Starlette (FastAPI installs it): pip install starlette, "
        "or pip install 'purposeful[web]' fastapi",
        extra="web",
    ) from error

__all__ = ["DEFAULT_EXEMPT", "PurposeMiddleware", "undeclared"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ActorSource = Callable[[Request], "Actor | Awaitable[Actor | None] | None"]

#: FastAPI's own documentation routes, exempt unless the application says otherwise.
DEFAULT_EXEMPT: Final = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")
#: How deep mounted routers are searched for the endpoint.
_MAX_DEPTH: Final = 8
#: How many ``.app`` attributes are followed from the wrapped application to its router.
_MAX_WRAPPERS: Final = 64
#: The errors answered with a problem while no response has started.
_REFUSALS: Final = (PurposeViolation, NoActor, PurposeClaimRefused)


class PurposeMiddleware:
    """Open a purpose scope around each HTTP request, as its route declares.

    ``app.add_middleware(PurposeMiddleware, actor=current_actor)``; add it before (so
    inside) an authentication middleware whose result the actor callable reads. Wrapping
    the application, ``PurposeMiddleware(app, actor=current_actor)``, works the same: there,
    outside the application's error middleware (which answers any exception with a 500
    before raising it on), a 500 response is held back until the application returns, so a
    refusal is still answered with its problem and any other error with the 500.

    Args:
        app: the ASGI application to wrap: a Starlette or FastAPI application or router, or
            middleware that keeps the application it wraps in its ``.app`` (or
            ``.application``) attribute, as Starlette's do. The routes are matched against
            its router's.
        actor: called with the request (a Starlette ``Request`` whose body cannot be read)
            on a route that declares a purpose; returns the `Actor` acting, or None (the
            request is answered 401). It may be ``async def``; a plain ``def`` runs on the
            event loop, so keep it quick.
        trust: a `purposeful.propagation.TrustStore`: accept signed purpose claims from the
            services it names. None: no claim is read.
        ignore_inbound: read no purpose claim even with a trust store.
        require_purposes: every HTTP route must declare a purpose or `no_purpose`; checked
            at lifespan start-up, which fails with a `ConfigurationError` listing the routes
            (and, if start-up was skipped, on the first request to such a route).
        exempt: route templates that need no declaration (default: FastAPI's ``/docs``,
            ``/docs/oauth2-redirect``, ``/redoc`` and ``/openapi.json``, and whatever the
            application names as its docs URLs).
        www_authenticate: the challenge a 401 carries.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        actor: ActorSource,
        trust: Any = None,
        ignore_inbound: bool = False,
        require_purposes: bool = False,
        exempt: Iterable[str] = DEFAULT_EXEMPT,
        www_authenticate: str = DEFAULT_CHALLENGE,
    ) -> None:
        self.app = app
        self._actor = actor
        self._policy = RequestPolicy(
            trust=trust, ignore_inbound=ignore_inbound, www_authenticate=www_authenticate
        )
        self._require = require_purposes
        self._exempt = frozenset(exempt)
        self._router, self._application = _wrapped_router(app)
        shield()  # a FastAPI application's jsonable_encoder reads records through their guards

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            checked = self._check_at_startup(scope.get("app"), send)  # as it came: not as
            await self.app(scope, receive, checked)  # the application sets it, out of reach
            return
        if kind != "http":  # a websocket: no scope, and no inbound claim to forward
            with otel_baggage_without_claim():
                await self.app(scope, receive, send)
            return
        routes, application = self._routing(scope.get("app"))
        found = _find(routes, scope, 0)
        if found is None:  # no route: the router answers 404 or 405 (a handler of its own)
            with otel_baggage_without_claim():
                await self.app(scope, receive, send)
            return
        endpoint, template = found
        declared = EXEMPT if _added_by_framework(endpoint) else declared_purpose(endpoint)
        if declared is None and self._require and template not in self._exempt_for(application):
            raise undeclared_routes_error([template], framework="ASGI")
        try:
            actor = await self._actor_for(scope) if isinstance(declared, str) else None
            outcome = self._policy.decide(declared, actor, _baggage(scope), route=template)
        except _REFUSALS as error:
            await self._refuse(send, error)
            return
        except HTTPException as error:  # the actor callable refused the login itself
            response = await _answer(error, application, scope, receive)
            await response(scope, receive, send)
            return
        started = False
        held: list[Message] = []  # a wrapped application's 500, perhaps a refusal's

        async def watched(message: Message) -> None:
            nonlocal started
            if held or (
                self._application is not None
                and message["type"] == "http.response.start"
                and message.get("status") == 500
            ):
                held.append(message)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            with otel_baggage_without_claim():
                if outcome is None:
                    await self.app(scope, receive, watched)
                else:
                    async with outcome.use():
                        await self.app(scope, receive, watched)
        except _REFUSALS as error:
            if started:  # the status is sent: the stream is cut, as for any error
                raise
            await self._refuse(send, error)  # not the 500 the application's error page sent
            return
        except Exception:
            await _send_all(send, held)
            raise
        await _send_all(send, held)

    async def _refuse(self, send: Send, error: PurposefulError) -> None:
        problem = problem_for(error, www_authenticate=self._policy.www_authenticate)
        assert problem is not None
        await _send_problem(send, problem)

    async def _actor_for(self, scope: Scope) -> Actor | None:
        try:
            found = self._actor(Request(scope))
            if inspect.isawaitable(found):
                found = await found
        except (PurposefulError, HTTPException):
            raise
        except Exception as error:
            error.add_note(
                "purposeful: the actor callable of PurposeMiddleware failed. If it reads "
                "request.user or request.auth, add PurposeMiddleware before your "
                "authentication middleware: the middleware added last runs first"
            )
            raise
        return found

    def _routing(self, in_scope: object) -> tuple[list[BaseRoute], object]:
        """The routes a request is matched against, and the application (for its docs
        URLs): the wrapped router's, else those of *in_scope* (``scope["app"]`` as the
        middleware is called); with neither, an error."""
        if self._router is not None:
            found = self._application
            return list(self._router.routes), in_scope if found is None else found
        application = in_scope
        router = getattr(application, "router", None)
        # scope["app"] is the application this middleware was added to only if its stack
        # holds it: wrapped around an application mounted in another, scope["app"] is the
        # outer one, whose routes would give a request another route's purpose
        if isinstance(router, Router) and _holds(
            getattr(application, "middleware_stack", None), self
        ):
            return list(router.routes), application
        raise ConfigurationError(
            "PurposeMiddleware found no Starlette or FastAPI router to match requests "
            f"against: it wraps {type(self.app).__qualname__}, whose .app attributes lead "
            "to none, and the request's scope names no application. Declared routes would "
            "run without their purpose. Add it with app.add_middleware(PurposeMiddleware, "
            "actor=...), or wrap the application itself (PurposeMiddleware(app, actor=...)) "
            "or middleware that keeps the application it wraps in its .app attribute"
        )

    def _exempt_for(self, app: object) -> frozenset[str]:
        named = (
            getattr(app, name, None)
            for name in ("docs_url", "redoc_url", "openapi_url", "swagger_ui_oauth2_redirect_url")
        )
        return self._exempt | {url for url in named if isinstance(url, str)}

    def _check_at_startup(self, in_scope: object, send: Send) -> Send:
        """*send*, checking every route's declaration before start-up is reported done."""
        failed = False

        async def checked(message: Message) -> None:
            nonlocal failed
            if message["type"] == "lifespan.startup.complete":
                error = self._startup_error(in_scope)
                if error is not None:
                    failed = True
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    raise error
            elif message["type"] == "lifespan.startup.failed" and failed:
                return  # the application reporting the error raised above: said already
            await send(message)

        return checked

    def _startup_error(self, in_scope: object) -> ConfigurationError | None:
        """Why start-up must fail: no router to match requests against, or (with
        ``require_purposes``) routes that declare no purpose."""
        try:
            routes, application = self._routing(in_scope)
        except ConfigurationError as error:
            return error
        if not self._require:
            return None
        missing = undeclared(routes, exempt=self._exempt_for(application))
        return undeclared_routes_error(missing, framework="ASGI") if missing else None


def undeclared(routes: Iterable[BaseRoute], *, exempt: Iterable[str] = ()) -> list[str]:
    """The templates of the HTTP routes that declare neither a purpose nor `no_purpose`.

    Mounted routers are searched (to a bounded depth); a mounted application that is not a
    router (static files) is one route, declared by marking the application.
    """
    skip = frozenset(exempt)
    found: list[str] = []

    def check(endpoint: object, path: str) -> None:
        if path in skip or endpoint is None or _added_by_framework(endpoint):
            return
        if declared_purpose(endpoint) is None:
            found.append(path or "/")

    def walk(routes: Iterable[BaseRoute], prefix: str, depth: int) -> None:
        for route in routes:
            if isinstance(route, WebSocketRoute):
                continue
            if hasattr(route, "effective_route_contexts"):  # FastAPI's included router
                for context in route.effective_route_contexts():
                    inner = context.original_route
                    if isinstance(inner, WebSocketRoute):
                        continue
                    endpoint = context.endpoint or getattr(inner, "endpoint", None)
                    if isinstance(inner, Mount | Host):
                        endpoint = inner.app
                    check(endpoint, prefix + context.path)
                continue
            path = prefix + getattr(route, "path", "")
            if isinstance(route, Mount | Host) and route.routes:
                if depth < _MAX_DEPTH and path not in skip:
                    walk(route.routes, path, depth + 1)
                continue
            check(
                route.app if isinstance(route, Mount | Host) else getattr(route, "endpoint", None),
                path,
            )

    walk(routes, "", 0)
    return found


def _wrapped_router(app: object) -> tuple[Router | None, Starlette | None]:
    """The router *app* routes with, following ``.app`` attributes through middleware to a
    Starlette (or FastAPI) application or a router, and the application if one was met."""
    for _ in range(_MAX_WRAPPERS):
        if isinstance(app, Starlette):
            return app.router, app
        if isinstance(app, Router):
            return app, None
        app = _inner(app)
        if app is None:
            break
    return None, None


def _inner(app: object) -> object:
    """The application *app*, a middleware, wraps: its ``.app`` (Starlette's middleware and
    most others) or ``.application``; None if it names none."""
    for name in ("app", "application"):
        inner = getattr(app, name, None)
        if inner is not None:
            return inner
    return None


def _holds(stack: object, middleware: object) -> bool:
    """Whether *middleware* is in the chain of applications *stack* wraps."""
    for _ in range(_MAX_WRAPPERS):
        if stack is middleware:
            return True
        if stack is None:
            return False
        stack = _inner(stack)
    return False


async def _answer(
    error: HTTPException, application: object, scope: Scope, receive: Receive
) -> Response:
    """The response to an ``HTTPException`` the actor callable raised (FastAPI's way to
    refuse a login: ``raise HTTPException(401, ...)``): the application's own handler for it,
    by status code then by class, as Starlette picks one; else Starlette's default. Raised
    out of a middleware, Starlette would answer it 500."""
    handlers = getattr(application, "exception_handlers", None)
    handlers = handlers if isinstance(handlers, dict) else {}
    # those keyed by 500 or Exception are the application's crash page (Starlette's
    # ServerErrorMiddleware), never asked about an HTTPException
    handler = handlers.get(error.status_code) if error.status_code != 500 else None
    if handler is None:
        handler = next(
            (handlers[k] for k in type(error).__mro__ if k in handlers and k is not Exception),
            None,
        )
    if handler is None:
        if error.status_code in {204, 304}:
            return Response(status_code=error.status_code, headers=error.headers)
        return PlainTextResponse(error.detail, status_code=error.status_code, headers=error.headers)
    request = Request(scope, receive)
    if _coroutine(handler):
        response = await handler(request, error)
    else:  # as Starlette runs a sync handler: in its thread pool, off the event loop
        response = await run_in_threadpool(handler, request, error)
    if inspect.isawaitable(response):
        response = await response
    return response  # type: ignore[no-any-return]


def _coroutine(handler: object) -> bool:
    """Whether *handler* is an ``async def`` function (a partial of one, or an object whose
    ``__call__`` is one, too)."""
    while isinstance(handler, functools.partial):
        handler = handler.func
    call = type(handler).__call__ if not inspect.isroutine(handler) else None
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)


def _find(routes: list[BaseRoute], scope: Scope, depth: int) -> tuple[object, str] | None:
    """The endpoint the router will call for *scope*, and its route's template (a mounted
    application's mount path)."""
    if depth > _MAX_DEPTH:
        return None
    for route in routes:
        select = getattr(route, "_match", None)
        if select is not None and hasattr(route, "effective_route_contexts"):
            # FastAPI's included router (0.16x): its own selection knows the prefixes
            match, child, inner, context = select(scope)
            if match is not Match.FULL or inner is None:
                continue
            if hasattr(inner, "effective_route_contexts"):
                return _find([inner], scope, depth + 1)
            endpoint = child.get("endpoint", getattr(inner, "endpoint", None))
            if isinstance(inner, Mount | Host) and not inner.routes:
                endpoint = inner.app
            template = getattr(context, "path", None) or getattr(inner, "path", "")
            return endpoint, str(template)
        match, child = route.matches(scope)
        if match is not Match.FULL:
            continue
        path = getattr(route, "path", "")
        if isinstance(route, Mount | Host):
            inner_routes = route.routes
            if not inner_routes:
                return route.app, path
            found = _find(list(inner_routes), {**scope, **child}, depth + 1)
            return (found[0], path + found[1]) if found is not None else None
        return child.get("endpoint"), path
    return None


def _added_by_framework(endpoint: object) -> bool:
    """A route FastAPI adds itself (its docs and OpenAPI schema, in any mounted app too):
    it reads no records, so it needs no declaration."""
    return getattr(endpoint, "__module__", None) == "fastapi.applications"


def _baggage(scope: Scope) -> dict[str, str]:
    values = [
        value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"baggage"
    ]
    return {"baggage": ", ".join(values)} if values else {}


async def _send_all(send: Send, messages: list[Message]) -> None:
    for message in messages:
        await send(message)


async def _send_problem(send: Send, problem: Problem) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": problem.status,
            "headers": [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in problem.response_headers()
            ],
        }
    )
    await send({"type": "http.response.body", "body": problem.body()})
