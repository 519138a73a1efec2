"""The ASGI middleware wrapped around the application (``PurposeMiddleware(app, ...)``) works
as it does added with ``app.add_middleware``: the route's purpose is opened, in enforce and
monitor mode; with no router to match requests against it fails loudly, never running a
declared route without its scope."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _webkit import CASE_MANAGEMENT, CASEWORKER, CLERK, SECRET_DIAGNOSIS, client
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp

import purposeful
from _records import RecordingSink
from purposeful import Actor, Mode
from purposeful.errors import ConfigurationError
from purposeful.web import no_purpose, purpose
from purposeful.web.asgi import PurposeMiddleware

ACTORS = {"caseworker": CASEWORKER, "clerk": CLERK}


def current_actor(request: Request) -> Actor | None:
    return ACTORS.get(request.headers.get("x-actor", ""))


def where() -> dict[str, object]:
    scope = purposeful.current_scope()
    if scope is None:
        return {"purpose": None}
    return {"purpose": scope.purpose.id, "actor": scope.actor.id}


def routes_app(*, undeclared: bool = False) -> FastAPI:
    app = FastAPI()

    @app.get("/cases/{case_id}/where")
    @purpose(CASE_MANAGEMENT)
    async def case_where(case_id: str) -> dict[str, object]:
        return where()

    @app.get("/cases/{case_id}/diagnosis")
    @purpose(CASE_MANAGEMENT)
    def diagnosis(case_id: str) -> dict[str, str]:
        return {"diagnosis": client().diagnosis}

    @app.get("/health")
    @no_purpose
    async def health() -> dict[str, object]:
        return where()

    if undeclared:

        @app.get("/undeclared")
        async def not_declared() -> dict[str, object]:
            return where()

    return app


def added(app: FastAPI, **options: object) -> ASGIApp:
    app.add_middleware(PurposeMiddleware, actor=current_actor, **options)  # type: ignore[arg-type]
    return app


def wrapped(app: FastAPI, **options: object) -> ASGIApp:
    return PurposeMiddleware(app, actor=current_actor, **options)  # type: ignore[arg-type]


def wrapped_around_cors(app: FastAPI, **options: object) -> ASGIApp:
    inner = CORSMiddleware(app, allow_origins=["https://example.govt.nz"])
    return PurposeMiddleware(inner, actor=current_actor, **options)  # type: ignore[arg-type]


APPLY = pytest.mark.parametrize(
    "apply", [added, wrapped, wrapped_around_cors], ids=["added", "wrapped", "around-cors"]
)
Apply = Callable[..., ASGIApp]


@APPLY
@pytest.mark.parametrize("mode", [Mode.ENFORCE, Mode.MONITOR])
def test_a_declared_route_runs_in_its_purpose_with_the_applications_actor(
    apply: Apply, mode: Mode
) -> None:
    purposeful.configure(mode=mode)
    with TestClient(apply(routes_app(), require_purposes=True)) as http:
        answer = http.get("/cases/1/where", headers={"x-actor": "caseworker"})
        health = http.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"purpose": CASE_MANAGEMENT, "actor": CASEWORKER.id}
    assert health.json() == {"purpose": None}


@APPLY
def test_in_enforce_mode_a_refused_read_is_a_403_and_no_actor_a_401(apply: Apply) -> None:
    with TestClient(apply(routes_app())) as http:
        refused = http.get("/cases/1/diagnosis", headers={"x-actor": "clerk"})
        anonymous = http.get("/cases/1/where")
        allowed = http.get("/cases/1/diagnosis", headers={"x-actor": "caseworker"})
    assert refused.status_code == 403
    assert refused.json()["reason_codes"] == ["clearance-too-low"]
    assert refused.json()["purpose"] == CASE_MANAGEMENT
    assert anonymous.status_code == 401
    assert anonymous.json()["type"] == "https://purposeful.dev/problems/no-actor"
    assert allowed.json() == {"diagnosis": SECRET_DIAGNOSIS}


@APPLY
def test_in_monitor_mode_a_read_is_recorded_with_its_purpose_and_actor(
    apply: Apply, sink: RecordingSink
) -> None:
    purposeful.configure(mode=Mode.MONITOR)
    with TestClient(apply(routes_app())) as http:
        answer = http.get("/cases/1/diagnosis", headers={"x-actor": "clerk"})
    assert answer.json() == {"diagnosis": SECRET_DIAGNOSIS}
    purposeful.audit.flush()
    [decision] = sink.decisions
    assert decision.purpose is not None
    assert decision.purpose.id == CASE_MANAGEMENT
    assert decision.actor == CLERK
    assert decision.reason_codes == ("clearance-too-low",)


@APPLY
def test_require_purposes_fails_start_up_on_an_undeclared_route(apply: Apply) -> None:
    with (
        pytest.raises(ConfigurationError, match="/undeclared"),
        TestClient(apply(routes_app(undeclared=True), require_purposes=True)),
    ):
        pass  # pragma: no cover - start-up fails


def test_a_wrapped_starlette_application_and_router_are_matched_too() -> None:
    @purpose(CASE_MANAGEMENT)
    async def case_where(request: Request) -> JSONResponse:
        return JSONResponse(where())

    starlette = Starlette(routes=[Route("/cases/{case_id}/where", case_where)])
    inner = Starlette(routes=[Route("/where", case_where)])
    outer = Starlette(routes=[Mount("/sub", app=PurposeMiddleware(inner, actor=current_actor))])
    for target in (starlette, starlette.router):
        with TestClient(PurposeMiddleware(target, actor=current_actor)) as http:
            answer = http.get("/cases/1/where", headers={"x-actor": "caseworker"})
        assert answer.json() == {"purpose": CASE_MANAGEMENT, "actor": CASEWORKER.id}
    with TestClient(outer) as http:  # mounted: the wrapped router is matched, not the outer
        answer = http.get("/sub/where", headers={"x-actor": "caseworker"})
    assert answer.json() == {"purpose": CASE_MANAGEMENT, "actor": CASEWORKER.id}


class Opaque:
    """Middleware that hides the application it wraps (no ``.app`` attribute)."""

    def __init__(self, app: ASGIApp) -> None:
        self._inner = app

    async def __call__(self, scope: object, receive: object, send: object) -> None:
        await self._inner(scope, receive, send)  # type: ignore[arg-type]


def test_with_no_router_to_match_against_start_up_fails_with_how_to_fix_it() -> None:
    middleware = PurposeMiddleware(Opaque(routes_app()), actor=current_actor)
    with (
        pytest.raises(ConfigurationError, match=r"app\.add_middleware\(PurposeMiddleware"),
        TestClient(middleware),
    ):
        pass  # pragma: no cover - start-up fails


def test_with_no_router_a_request_fails_rather_than_run_without_its_scope() -> None:
    middleware = PurposeMiddleware(Opaque(routes_app()), actor=current_actor)
    http = TestClient(middleware)  # no lifespan: the first request finds it out
    with pytest.raises(ConfigurationError, match="no Starlette or FastAPI router"):
        http.get("/cases/1/where", headers={"x-actor": "caseworker"})
    http = TestClient(middleware, raise_server_exceptions=False)
    assert http.get("/cases/1/where", headers={"x-actor": "caseworker"}).status_code == 500


@APPLY
def test_any_other_error_is_still_the_applications_500(apply: Apply) -> None:
    app = routes_app()

    @app.get("/broken")
    @purpose(CASE_MANAGEMENT)
    async def broken() -> None:
        raise RuntimeError("not a refusal")

    @app.get("/teapot-500")
    @purpose(CASE_MANAGEMENT)
    async def chosen() -> JSONResponse:
        return JSONResponse({"status": "chosen"}, status_code=500)

    with TestClient(apply(app), raise_server_exceptions=False) as http:
        answer = http.get("/broken", headers={"x-actor": "caseworker"})
        chosen_answer = http.get("/teapot-500", headers={"x-actor": "caseworker"})
    assert answer.status_code == 500
    assert answer.text == "Internal Server Error"
    assert chosen_answer.status_code == 500
    assert chosen_answer.json() == {"status": "chosen"}


class KeepsItAs:
    """A pure-ASGI middleware that keeps the application it wraps under *name*."""

    def __init__(self, application: ASGIApp, name: str) -> None:
        setattr(self, name, application)
        self._inner = application

    async def __call__(self, scope: object, receive: object, send: object) -> None:
        await self._inner(scope, receive, send)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "status"), [("application", 200), ("wrapped", 500)])
def test_a_wrapped_app_mounted_in_another_never_takes_the_outer_routes_purpose(
    name: str, status: int
) -> None:
    """Found by a third red team: wrapped through a middleware that keeps its application
    under another name than ``.app``, the middleware fell back to ``scope["app"]``, the
    OUTER application when mounted, and gave a request the purpose of the outer route with
    the same path. It now follows ``.application`` too, and with no router at all refuses
    (a ``ConfigurationError``: a 500), never another route's purpose."""

    @purpose(CASE_MANAGEMENT)
    async def outer_where(request: Request) -> JSONResponse:
        return JSONResponse(where())

    @purpose("funder-reporting")
    async def inner_where(request: Request) -> JSONResponse:
        return JSONResponse(where())

    inner = Starlette(routes=[Route("/where", inner_where)])
    middleware = PurposeMiddleware(KeepsItAs(inner, name), actor=current_actor)
    outer = Starlette(routes=[Route("/where", outer_where), Mount("/sub", app=middleware)])
    headers = {"x-actor": "caseworker"}
    answer = TestClient(outer, raise_server_exceptions=False).get("/sub/where", headers=headers)
    assert answer.status_code == status
    if status == 200:
        assert answer.json()["purpose"] == "funder-reporting"
