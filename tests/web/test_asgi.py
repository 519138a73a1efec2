"""The ASGI middleware on real Starlette and FastAPI applications (TestClient and httpx)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx2 as httpx
import pytest
from _webkit import (
    CASE_MANAGEMENT,
    CASEWORKER,
    CLERK,
    INTAKE_ACTOR,
    SECRET_DIAGNOSIS,
    STRANGER_KEY,
    claim_headers,
    client,
    leaks,
    trust_store,
)
from fastapi import BackgroundTasks, FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import StreamingResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

import purposeful
from _records import RecordingSink
from purposeful import IN_CONFIDENCE, SENSITIVE, Actor, Mode
from purposeful.errors import ConfigurationError, UnknownPurpose
from purposeful.web import no_purpose, purpose
from purposeful.web.asgi import PurposeMiddleware

ACTORS = {"caseworker": CASEWORKER, "clerk": CLERK}


def current_actor(request: Request) -> Actor | None:
    if "x-actor-id" in request.headers:
        return Actor(request.headers["x-actor-id"], "caseworker", SENSITIVE)
    return ACTORS.get(request.headers.get("x-actor", ""))


def where() -> dict[str, object]:
    scope = purposeful.current_scope()
    if scope is None:
        return {"purpose": None}
    upstream = scope.upstream
    return {
        "purpose": scope.purpose.id,
        "actor": scope.actor.id,
        "clearance": scope.actor.clearance.name,
        "upstream": None if upstream is None else [upstream.service, upstream.scope_id],
    }


def build(**options: object) -> FastAPI:
    app = FastAPI()

    @app.get("/cases/{case_id}/where")
    @purpose(CASE_MANAGEMENT)
    async def case_where(case_id: str) -> dict[str, object]:
        return where()

    @app.get("/cases/{case_id}/where-sync")
    @purpose(CASE_MANAGEMENT)
    def case_where_sync(case_id: str) -> dict[str, object]:
        return where()

    @app.get("/cases/{case_id}/diagnosis")
    @purpose(CASE_MANAGEMENT)
    def diagnosis(case_id: str) -> dict[str, str]:
        return {"diagnosis": client().diagnosis}

    @app.get("/service/where")
    @purpose("service-delivery")
    async def service_where() -> dict[str, object]:
        return where()

    @app.get("/health")
    @no_purpose
    async def health() -> dict[str, object]:
        return where()

    @app.get("/undeclared")
    async def undeclared() -> dict[str, object]:
        return where()

    @app.get("/undeclared/diagnosis")
    async def undeclared_diagnosis() -> dict[str, str]:
        return {"diagnosis": client().diagnosis}

    app.add_middleware(PurposeMiddleware, actor=current_actor, **options)  # type: ignore[arg-type]
    return app


@pytest.fixture
def app() -> FastAPI:
    return build()


def test_a_declared_route_runs_in_its_purpose_with_the_applications_actor(app: FastAPI) -> None:
    with TestClient(app) as http:
        answer = http.get("/cases/1/where", headers={"x-actor": "caseworker"})
    assert answer.status_code == 200
    assert answer.json() == {
        "purpose": CASE_MANAGEMENT,
        "actor": CASEWORKER.id,
        "clearance": "SENSITIVE",
        "upstream": None,
    }


def test_a_sync_endpoint_sees_the_scope_too(app: FastAPI) -> None:
    with TestClient(app) as http:
        answer = http.get("/cases/1/where-sync", headers={"x-actor": "clerk"})
    assert answer.json()["actor"] == CLERK.id
    assert answer.json()["purpose"] == CASE_MANAGEMENT


def test_a_read_the_purpose_allows_is_answered_and_reported_once(
    app: FastAPI, sink: RecordingSink
) -> None:
    with TestClient(app) as http:
        answer = http.get("/cases/1/diagnosis", headers={"x-actor": "caseworker"})
    assert answer.json() == {"diagnosis": SECRET_DIAGNOSIS}
    assert len(sink.reports) == 1
    assert sink.reports[0].purpose is not None
    assert sink.reports[0].purpose.id == CASE_MANAGEMENT
    assert [d.field for d in sink.decisions] == ["diagnosis"]


def test_a_refused_read_is_a_403_problem_that_names_no_value(app: FastAPI) -> None:
    with TestClient(app) as http:
        answer = http.get("/cases/1/diagnosis", headers={"x-actor": "clerk"})
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == "https://purposeful.dev/problems/purpose-violation"
    assert body["status"] == 403
    assert body["reason_codes"] == ["clearance-too-low"]
    assert body["purpose"] == CASE_MANAGEMENT
    assert body["record_type"] == "WebClient"
    assert body["field"] == "diagnosis"
    assert "diagnosis" in body["detail"]
    assert leaks(answer.content) == []
    assert CLERK.id not in answer.text


def test_a_purpose_route_without_an_actor_is_a_401_problem_with_a_challenge(
    app: FastAPI, sink: RecordingSink
) -> None:
    with TestClient(app) as http:
        answer = http.get("/cases/1/where")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="purposeful"'
    assert answer.json()["type"] == "https://purposeful.dev/problems/no-actor"
    assert sink.reports == []  # no scope was opened


def test_the_challenge_is_the_applications_own() -> None:
    with TestClient(build(www_authenticate='Bearer realm="agency"')) as http:
        answer = http.get("/cases/1/where")
    assert answer.headers["www-authenticate"] == 'Bearer realm="agency"'


def test_an_exempt_route_runs_without_a_scope(app: FastAPI) -> None:
    with TestClient(app) as http:
        assert http.get("/health").json() == {"purpose": None}


def test_an_undeclared_route_runs_without_a_scope_and_its_reads_are_unscoped(
    app: FastAPI,
) -> None:
    with TestClient(app) as http:
        assert http.get("/undeclared", headers={"x-actor": "caseworker"}).json() == {
            "purpose": None
        }
        refused = http.get("/undeclared/diagnosis", headers={"x-actor": "caseworker"})
    assert refused.status_code == 403
    assert refused.json()["reason_codes"] == ["no-scope"]


def test_in_monitor_mode_an_undeclared_routes_reads_are_reported(
    app: FastAPI, sink: RecordingSink
) -> None:
    purposeful.configure(mode=Mode.MONITOR)
    with TestClient(app) as http:
        answer = http.get("/undeclared/diagnosis")
    assert answer.json() == {"diagnosis": SECRET_DIAGNOSIS}
    purposeful.audit.flush()
    assert [d.reason_codes for d in sink.decisions] == [("no-scope",)]


def test_a_misspelt_purpose_fails_at_import() -> None:
    with pytest.raises(UnknownPurpose):

        @purpose("service-delivery.case-managment")
        def endpoint() -> None: ...


def test_require_purposes_fails_startup_listing_the_undeclared_routes() -> None:
    app = build(require_purposes=True)
    with pytest.raises(ConfigurationError) as caught, TestClient(app):
        pass
    message = str(caught.value)
    assert "/undeclared, /undeclared/diagnosis" in message
    assert "@purposeful.web.purpose" in message
    assert "/docs" not in message
    assert "/openapi.json" not in message
    assert "/health" not in message


def test_require_purposes_passes_when_every_route_declares() -> None:
    app = FastAPI()

    @app.get("/a")
    @purpose(CASE_MANAGEMENT)
    async def a() -> None: ...

    app.add_middleware(PurposeMiddleware, actor=current_actor, require_purposes=True)
    with TestClient(app) as http:
        assert http.get("/docs").status_code == 200
        assert http.get("/openapi.json").status_code == 200


def test_require_purposes_without_startup_refuses_the_undeclared_route_itself() -> None:
    http = TestClient(build(require_purposes=True), raise_server_exceptions=False)
    assert http.get("/undeclared").status_code == 500
    assert http.get("/health").status_code == 200


def test_a_mounted_router_is_searched_and_checked() -> None:
    @purpose(CASE_MANAGEMENT)
    async def inner(request: Request) -> JSONResponse:
        return JSONResponse(where())

    async def loose(request: Request) -> JSONResponse:
        return JSONResponse(where())

    app = Starlette(
        routes=[Mount("/api", routes=[Route("/cases/{id}", inner), Route("/loose", loose)])]
    )
    app.add_middleware(PurposeMiddleware, actor=current_actor)
    with TestClient(app) as http:
        found = http.get("/api/cases/3", headers={"x-actor": "caseworker"}).json()
    assert found["purpose"] == CASE_MANAGEMENT
    strict = Starlette(routes=app.routes)
    strict.add_middleware(PurposeMiddleware, actor=current_actor, require_purposes=True)
    with (
        pytest.raises(ConfigurationError, match=r"routes declare no purpose: /api/loose\."),
        TestClient(strict),
    ):
        pass


def test_an_async_actor_callable_is_awaited() -> None:
    async def actor(request: Request) -> Actor | None:
        await asyncio.sleep(0)
        return CLERK

    app = FastAPI()

    @app.get("/x")
    @purpose(CASE_MANAGEMENT)
    async def x() -> dict[str, object]:
        return where()

    app.add_middleware(PurposeMiddleware, actor=actor)
    with TestClient(app) as http:
        assert http.get("/x").json()["actor"] == CLERK.id


def test_an_actor_callable_that_returns_something_else_is_a_configuration_error() -> None:
    app = FastAPI()

    @app.get("/x")
    @purpose(CASE_MANAGEMENT)
    async def x() -> None: ...

    app.add_middleware(PurposeMiddleware, actor=lambda request: "staff-1")
    with TestClient(app) as http, pytest.raises(ConfigurationError, match=r"purposeful\.Actor"):
        http.get("/x")


def _refusing_actor(request: Request) -> Actor:
    """An actor callable that refuses a login the FastAPI way: raising HTTPException."""
    if request.headers.get("authorization") != "Bearer good":
        raise HTTPException(401, "token expired", headers={"WWW-Authenticate": "Bearer"})
    return CASEWORKER


def test_an_actor_callable_raising_fastapis_http_exception_is_answered_with_it() -> None:
    """Raised out of a middleware it was Starlette's 500, with a note blaming middleware
    order; it is answered as FastAPI's handler answers it in an endpoint."""
    app = FastAPI()

    @app.get("/x")
    @purpose(CASE_MANAGEMENT)
    async def x() -> dict[str, object]:
        return where()

    app.add_middleware(PurposeMiddleware, actor=_refusing_actor)
    with TestClient(app, raise_server_exceptions=True) as http:
        refused = http.get("/x", headers={"authorization": "Bearer bad"})
        assert refused.status_code == 401
        assert refused.json() == {"detail": "token expired"}
        assert refused.headers["www-authenticate"] == "Bearer"
        assert http.get("/x", headers={"authorization": "Bearer good"}).json()["actor"] == (
            CASEWORKER.id
        )


def test_an_http_exception_from_the_actor_callable_goes_to_the_applications_handler() -> None:
    seen: list[int] = []

    async def own_handler(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        seen.append(error.status_code)
        return JSONResponse({"problem": "login again"}, status_code=error.status_code)

    app = FastAPI(exception_handlers={StarletteHTTPException: own_handler})

    @app.get("/x")
    @purpose(CASE_MANAGEMENT)
    async def x() -> None: ...

    app.add_middleware(PurposeMiddleware, actor=_refusing_actor)
    with TestClient(app) as http:
        refused = http.get("/x")
    assert (refused.status_code, refused.json(), seen) == (401, {"problem": "login again"}, [401])


def test_a_sync_handler_of_the_http_exception_runs_off_the_event_loop() -> None:
    """As Starlette runs a sync exception handler: in its thread pool, so a slow one (a
    database lookup for the login page) never blocks the event loop."""
    threads: list[str] = []

    def own_handler(request: Request, error: Exception) -> JSONResponse:
        threads.append(threading.current_thread().name)
        return JSONResponse({"problem": "login again"}, status_code=401)

    app = FastAPI(exception_handlers={StarletteHTTPException: own_handler})

    @app.get("/x")
    @purpose(CASE_MANAGEMENT)
    async def x() -> dict[str, object]:
        threads.append(threading.current_thread().name)  # the event loop's thread
        return where()

    app.add_middleware(PurposeMiddleware, actor=_refusing_actor)
    with TestClient(app) as http:
        refused = http.get("/x")
        http.get("/x", headers={"authorization": "Bearer good"})
    assert (refused.status_code, refused.json()) == (401, {"problem": "login again"})
    handler_thread, loop_thread = threads
    assert handler_thread != loop_thread


def test_an_http_exception_from_the_actor_callable_on_plain_starlette_is_plain_text() -> None:
    async def x(request: Request) -> JSONResponse:
        return JSONResponse(where())

    app = Starlette(routes=[Route("/x", purpose(CASE_MANAGEMENT)(x))])
    app.add_middleware(PurposeMiddleware, actor=_refusing_actor)
    with TestClient(app) as http:
        refused = http.get("/x")
    assert (refused.status_code, refused.text) == (401, "token expired")
    assert refused.headers["www-authenticate"] == "Bearer"


# --- streaming and background tasks ---------------------------------------------------------


def streaming_app(events: list[str]) -> FastAPI:
    app = FastAPI()

    def note(label: str) -> None:
        scope = purposeful.current_scope()
        events.append(f"{label}:{scope.purpose.id if scope else None}")

    @app.get("/stream")
    @purpose(CASE_MANAGEMENT)
    async def stream(background: BackgroundTasks) -> StreamingResponse:
        background.add_task(note, "background")

        async def body() -> AsyncIterator[bytes]:
            for n in range(3):
                note(f"chunk{n}")
                yield client().diagnosis.encode()[:4]

        return StreamingResponse(body(), background=background)

    @app.get("/stream-refused")
    @purpose(CASE_MANAGEMENT)
    async def stream_refused() -> StreamingResponse:
        def body() -> Iterator[bytes]:
            yield b"first chunk;"
            yield client().diagnosis.encode()  # refused for a clerk, mid-stream

        return StreamingResponse(body())

    app.add_middleware(PurposeMiddleware, actor=current_actor)
    return app


def test_a_streamed_body_and_background_tasks_run_in_the_scope_reported_once_after(
    sink: RecordingSink,
) -> None:
    events: list[str] = []

    class Watching(RecordingSink):
        def emit(self, report: purposeful.ScopeReport) -> None:
            events.append("report")
            super().emit(report)

    watching = Watching()
    purposeful.configure(sinks=[watching])
    with TestClient(streaming_app(events)) as http:
        answer = http.get("/stream", headers={"x-actor": "caseworker"})
    assert answer.content == SECRET_DIAGNOSIS.encode()[:4] * 3
    assert events == [
        f"chunk0:{CASE_MANAGEMENT}",
        f"chunk1:{CASE_MANAGEMENT}",
        f"chunk2:{CASE_MANAGEMENT}",
        f"background:{CASE_MANAGEMENT}",
        "report",
    ]
    assert len(watching.reports) == 1


def test_a_refusal_while_streaming_cuts_the_stream_and_keeps_the_status() -> None:
    """A real server: the status and first chunk are out; the client sees the body end
    before its chunked encoding does."""
    import socket
    import threading

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        streaming_app([]), host="127.0.0.1", port=port, log_level="critical", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started
        got = b""
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
            http.stream("GET", "/stream-refused", headers={"x-actor": "clerk"}) as answer,
        ):
            assert answer.status_code == 200
            chunks = answer.iter_bytes()
            got += next(chunks)
            with pytest.raises(httpx.RemoteProtocolError):
                got += b"".join(chunks)
        assert got == b"first chunk;"
        assert leaks(got) == []
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_refusal_while_streaming_raises_in_the_server(sink: RecordingSink) -> None:
    with (
        TestClient(streaming_app([])) as http,
        pytest.raises(purposeful.PurposeViolation),
    ):
        http.get("/stream-refused", headers={"x-actor": "clerk"})
    assert sink.reports[-1].failed


# --- websockets and concurrency -------------------------------------------------------------


def test_a_websocket_passes_through_without_a_scope() -> None:
    app = FastAPI()

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_json(where())
        await socket.close()

    app.add_middleware(PurposeMiddleware, actor=current_actor, require_purposes=True)
    with TestClient(app) as http, http.websocket_connect("/ws") as socket:
        assert socket.receive_json() == {"purpose": None}


def test_concurrent_requests_never_see_each_others_scope() -> None:
    asyncio.run(concurrent_requests())


async def concurrent_requests() -> None:
    app = FastAPI()

    @app.get("/slow/{n}")
    @purpose(CASE_MANAGEMENT)
    async def slow(n: int) -> dict[str, object]:
        before = where()
        await asyncio.sleep(0.001 * (n % 5))
        return {"before": before, "after": where()}

    @app.get("/slow-sync/{n}")
    @purpose(CASE_MANAGEMENT)
    def slow_sync(n: int) -> dict[str, object]:
        time.sleep(0.001 * (n % 3))
        return {"before": where(), "after": where()}

    app.add_middleware(PurposeMiddleware, actor=current_actor)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

        async def call(n: int) -> tuple[int, dict[str, object]]:
            path = f"/slow/{n}" if n % 2 else f"/slow-sync/{n}"
            answer = await http.get(path, headers={"x-actor-id": f"staff-{n}"})
            return n, answer.json()

        results = await asyncio.wait_for(asyncio.gather(*(call(n) for n in range(60))), 30)
    for n, body in results:
        assert body["before"]["actor"] == f"staff-{n}"  # type: ignore[index]
        assert body["after"]["actor"] == f"staff-{n}"  # type: ignore[index]


# --- purpose claims ---------------------------------------------------------------------------


def claims_app(**options: object) -> FastAPI:
    return build(trust=trust_store(), **options)


def test_a_claim_the_routes_purpose_covers_opens_the_callers_purpose_actor_and_scope() -> None:
    headers = claim_headers(CASE_MANAGEMENT)
    with TestClient(claims_app()) as http:
        answer = http.get("/service/where", headers={"baggage": headers["baggage"]})
    assert answer.status_code == 200
    assert answer.json() == {
        "purpose": CASE_MANAGEMENT,  # the caller's own, narrower than the route's
        "actor": INTAKE_ACTOR.id,
        "clearance": "SENSITIVE",
        "upstream": ["intake", headers["x-test-scope-id"]],
    }


def test_a_claim_wins_over_the_applications_actor() -> None:
    headers = claim_headers(CASE_MANAGEMENT)
    with TestClient(claims_app()) as http:
        answer = http.get(
            "/cases/1/where", headers={"baggage": headers["baggage"], "x-actor": "clerk"}
        )
    assert answer.json()["actor"] == INTAKE_ACTOR.id


def test_an_undeclared_route_opens_the_claims_own_purpose() -> None:
    headers = claim_headers("service-delivery")
    with TestClient(claims_app()) as http:
        answer = http.get("/undeclared", headers={"baggage": headers["baggage"]})
    assert answer.json()["purpose"] == "service-delivery"


def test_an_exempt_route_ignores_a_claim() -> None:
    with TestClient(claims_app()) as http:
        assert http.get("/health", headers={"baggage": "purposeful=forged"}).json() == {
            "purpose": None
        }


def test_a_claim_the_routes_purpose_does_not_cover_is_a_403_problem_recorded_without_the_header(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A broader purpose than the route's would widen what one hop reads: a scope of
    ``service-delivery`` cannot read what only case management may, so a claim for it
    must not open a case-management route."""
    headers = claim_headers("service-delivery")
    with TestClient(claims_app()) as http, caplog.at_level(logging.WARNING, "purposeful"):
        answer = http.get("/cases/1/where", headers={"baggage": headers["baggage"]})
    assert answer.status_code == 403
    body = answer.json()
    assert body["type"] == "https://purposeful.dev/problems/claim-purpose-refused"
    assert body["reason"] == "purpose-not-covering"
    assert body["asked_purpose"] == "service-delivery"
    assert body["required_purpose"] == CASE_MANAGEMENT
    assert CASE_MANAGEMENT in body["detail"]
    assert "service-delivery" in body["detail"]
    assert "purpose-not-covering" in caplog.text
    assert "/cases/{case_id}/where" in caplog.text
    token = headers["baggage"].partition("=")[2]
    assert token not in caplog.text
    assert token not in answer.text


def test_in_monitor_mode_a_claim_that_does_not_cover_is_recorded_and_the_request_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    purposeful.configure(purpose_modes={CASE_MANAGEMENT: Mode.MONITOR})
    headers = claim_headers("service-delivery")
    with TestClient(claims_app()) as http, caplog.at_level(logging.WARNING, "purposeful"):
        answer = http.get(
            "/cases/1/where", headers={"baggage": headers["baggage"], "x-actor": "clerk"}
        )
    assert answer.status_code == 200
    assert answer.json() == {
        "purpose": CASE_MANAGEMENT,
        "actor": CLERK.id,  # the application's own actor, not the claim's
        "clearance": "IN-CONFIDENCE",
        "upstream": None,
    }
    assert "not honoured (monitor mode)" in caplog.text


def test_a_claim_for_a_purpose_the_caller_may_not_assert_is_a_403() -> None:
    app = build(trust=trust_store(purposes={"research"}))
    headers = claim_headers(CASE_MANAGEMENT)
    with TestClient(app) as http:
        answer = http.get("/cases/1/where", headers={"baggage": headers["baggage"]})
    assert answer.status_code == 403
    assert answer.json()["reason"] == "purpose-not-trusted"


def test_ignore_inbound_reads_no_claim() -> None:
    with TestClient(claims_app(ignore_inbound=True)) as http:
        answer = http.get(
            "/cases/1/where", headers={"baggage": "purposeful=forged", "x-actor": "clerk"}
        )
    assert answer.json()["actor"] == CLERK.id


def test_a_claims_clearance_is_capped_by_the_trust_store() -> None:
    from _webkit import INTAKE_KEY

    from purposeful.propagation import TrustedService, TrustStore

    capped = TrustStore(
        "case-management", [TrustedService("intake", [INTAKE_KEY.public_key], IN_CONFIDENCE)]
    )
    headers = claim_headers(CASE_MANAGEMENT)
    with TestClient(build(trust=capped)) as http:
        answer = http.get("/cases/1/diagnosis", headers={"baggage": headers["baggage"]})
    assert answer.status_code == 403
    assert answer.json()["reason_codes"] == ["clearance-too-low"]


def test_several_baggage_headers_are_read_together() -> None:
    headers = claim_headers(CASE_MANAGEMENT)
    with TestClient(claims_app()) as http:
        answer = http.get(
            "/cases/1/where",
            headers=[("baggage", "tenant=a"), ("baggage", headers["baggage"])],
        )
    assert answer.json()["actor"] == INTAKE_ACTOR.id


def test_a_problem_body_is_json_with_the_rfc_9457_members(app: FastAPI) -> None:
    with TestClient(app) as http:
        answer = http.get("/cases/1/where")
    body = json.loads(answer.content)
    assert {"type", "title", "status", "detail"} <= set(body)
    assert int(answer.headers["content-length"]) == len(answer.content)


def _router_app(*, require: bool, declare_all: bool) -> FastAPI:
    """Routes in an APIRouter included under a prefix, one router inside another."""
    from fastapi import APIRouter

    outer, inner = APIRouter(prefix="/v2"), APIRouter(prefix="/in")

    @outer.get("/cases/{case_id}/where")
    @purpose(CASE_MANAGEMENT)
    async def outer_where(case_id: str) -> dict[str, object]:
        return where()

    @inner.get("/service/where")
    @purpose("service-delivery")
    def inner_where() -> dict[str, object]:
        return where()

    if not declare_all:

        @inner.get("/forgotten")
        async def forgotten() -> dict[str, object]:
            return where()

    outer.include_router(inner)
    app = FastAPI()
    app.include_router(outer)
    app.add_middleware(PurposeMiddleware, actor=current_actor, require_purposes=require)
    return app


def test_routes_of_included_routers_are_found_and_opened() -> None:
    with TestClient(_router_app(require=True, declare_all=True)) as http:
        outer = http.get("/v2/cases/1/where", headers={"x-actor": "caseworker"})
        inner = http.get("/v2/in/service/where", headers={"x-actor": "caseworker"})
        nobody = http.get("/v2/cases/1/where")
    assert (outer.status_code, outer.json()["purpose"]) == (200, CASE_MANAGEMENT)
    assert (inner.status_code, inner.json()["purpose"]) == (200, "service-delivery")
    assert nobody.status_code == 401


def test_an_undeclared_route_of_an_included_router_fails_startup_by_its_full_path() -> None:
    with (
        pytest.raises(ConfigurationError, match=r"/v2/in/forgotten"),
        TestClient(_router_app(require=True, declare_all=False)),
    ):
        pass
    with TestClient(_router_app(require=False, declare_all=False)) as http:
        assert http.get("/v2/in/forgotten").json() == {"purpose": None}


def test_a_static_files_mount_is_exempted_by_its_mount_path(tmp_path: object) -> None:
    from pathlib import Path

    from starlette.staticfiles import StaticFiles

    folder = Path(str(tmp_path))
    (folder / "site.css").write_text("body {}")
    app = build(require_purposes=True, exempt=["/static", "/undeclared", "/undeclared/diagnosis"])
    app.mount("/static", StaticFiles(directory=folder))
    with TestClient(app) as http:
        assert http.get("/static/site.css").text == "body {}"


def test_a_mounted_fastapi_apps_own_docs_need_no_declaration() -> None:
    sub = FastAPI()

    @sub.get("/where")
    @purpose(CASE_MANAGEMENT)
    async def sub_where() -> dict[str, object]:
        return where()

    app = FastAPI()
    app.mount("/sub", sub)
    app.add_middleware(PurposeMiddleware, actor=current_actor, require_purposes=True)
    with TestClient(app) as http:
        assert http.get("/sub/docs").status_code == 200
        assert http.get("/sub/openapi.json").status_code == 200
        answer = http.get("/sub/where", headers={"x-actor": "caseworker"})
    assert answer.json()["purpose"] == CASE_MANAGEMENT


@pytest.mark.parametrize("mode", [Mode.ENFORCE, Mode.MONITOR])
@pytest.mark.parametrize(
    ("baggage", "reason"),
    [
        ("purposeful=not-a-token", "malformed"),
        ("purposeful=", "unsigned"),
        (None, "unknown-key"),
    ],
)
def test_an_untrusted_claim_is_always_a_401(
    mode: Mode, baggage: str | None, reason: str, sink: RecordingSink
) -> None:
    purposeful.configure(mode=mode)
    if baggage is None:
        baggage = claim_headers(CASE_MANAGEMENT, key=STRANGER_KEY)["baggage"]
        sink.reports.clear()  # the caller's own scope
    with TestClient(claims_app()) as http:
        answer = http.get("/cases/1/where", headers={"baggage": baggage, "x-actor": "clerk"})
    assert answer.status_code == 401
    body = answer.json()
    assert body["type"] == "https://purposeful.dev/problems/untrusted-claim"
    assert body["reason"] == reason
    assert body["asked_purpose"] is None
    assert "www-authenticate" in answer.headers
    assert sink.reports == []
