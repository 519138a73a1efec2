"""An inbound purpose claim never stays in OpenTelemetry's baggage, whatever part of an ASGI
application the request reaches: a websocket, or a path no route matches (the router's
own 404 handler). OpenTelemetry's server instrumentation copies the inbound ``baggage``
header there, and its client instrumentations write that baggage to every host the
application calls: the caller's actor id and role, and a token that can be replayed to this
service until it expires."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("opentelemetry.instrumentation.asgi")

from fastapi import Depends
from opentelemetry import propagate
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

import purposeful
from purposeful import SENSITIVE, Actor
from purposeful.propagation import CLAIM_KEY, ServiceKey, TrustedService, TrustStore, inject
from purposeful.web.asgi import PurposeMiddleware

KEY = ServiceKey.generate("intake")
TRUST = TrustStore("case-management", [TrustedService("intake", [KEY.public_key], SENSITIVE)])


def _outbound_baggage() -> str:
    """What an instrumented client would send to any host from here."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("baggage", "")


def _application(seen: dict[str, str]) -> Any:
    async def socket(websocket: WebSocket) -> None:
        seen["websocket"] = _outbound_baggage()
        await websocket.accept()
        await websocket.close()

    async def not_found(request: Request, error: Exception) -> Response:
        seen["not found"] = _outbound_baggage()
        return PlainTextResponse("not found", status_code=404)

    application = Starlette(
        routes=[WebSocketRoute("/updates", socket)],
        exception_handlers={404: not_found},
    )
    provider = TracerProvider()
    served = OpenTelemetryMiddleware(
        PurposeMiddleware(application, actor=lambda request: None, trust=TRUST),
        tracer_provider=provider,
    )
    return served, provider


def _baggage_header() -> list[tuple[bytes, bytes]]:
    inbound: dict[str, str] = {}
    with purposeful.use(
        "service-delivery.case-management", actor=Actor("staff-0042", "caseworker", SENSITIVE)
    ):
        inject(inbound, KEY, audience="case-management")
    return [(b"baggage", f"tenant=waikato,{inbound['baggage']}".encode())]


def _scope(kind: str, path: str) -> dict[str, Any]:
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "ws" if kind == "websocket" else "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": _baggage_header(),
        "server": ("case.agency.example", 80),
        "client": ("10.0.0.1", 50000),
        "subprotocols": [],
    }


async def _call(served: Any, kind: str, path: str) -> list[dict[str, Any]]:
    incoming = (
        [{"type": "websocket.connect"}]
        if kind == "websocket"
        else [{"type": "http.request", "body": b"", "more_body": False}]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(served(_scope(kind, path), receive, send), 10)
    return sent


@pytest.mark.parametrize(
    ("kind", "path", "where"),
    [("websocket", "/updates", "websocket"), ("http", "/no/such/route", "not found")],
)
def test_an_inbound_claim_is_not_in_opentelemetrys_baggage_outside_a_declared_route(
    kind: str, path: str, where: str
) -> None:
    seen: dict[str, str] = {}
    served, provider = _application(seen)
    try:
        asyncio.run(_call(served, kind, path))
    finally:
        provider.shutdown()
    assert seen[where] == "tenant=waikato"
    assert CLAIM_KEY not in seen[where]


# --- a captured baggage header on a span -------------------------------------------------------


def _claim_headers() -> dict[str, str]:
    return {"baggage": _baggage_header()[0][1].decode()}


@pytest.mark.parametrize("client", ["httpx", "httpx-async"])
def test_a_captured_baggage_header_shows_no_claim_on_the_client_span(
    client: str, spans: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told to capture request headers (``.*``, a common setting), httpx's instrumentation
    records ``baggage`` after `Outbound`'s hook added the claim: the actor's id and role,
    and a token the called service accepts until it expires, went to the tracing backend."""
    import httpx
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    from purposeful.propagation import Outbound
    from purposeful.web.tracing import ahide_client_url, hide_client_url

    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST", ".*")
    provider, exporter = spans
    outbound = Outbound(KEY, {"https://case.agency.example": "case-management"})
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("baggage", ""))
        return httpx.Response(200)

    caseworker = Actor("staff-0042", "caseworker", SENSITIVE)
    url = "https://case.agency.example/clients"
    if client == "httpx":
        with httpx.Client(
            transport=httpx.MockTransport(answer), event_hooks=outbound.httpx_hooks()
        ) as http:
            HTTPXClientInstrumentor.instrument_client(
                http, tracer_provider=provider, request_hook=hide_client_url
            )
            with purposeful.use("service-delivery.case-management", actor=caseworker):
                http.get(url, headers={"baggage": "tenant=waikato"})
    else:

        async def call() -> None:
            async with httpx.AsyncClient(
                transport=httpx.MockTransport(answer), event_hooks=outbound.httpx_async_hooks()
            ) as http:
                HTTPXClientInstrumentor.instrument_client(
                    http, tracer_provider=provider, request_hook=ahide_client_url
                )
                with purposeful.use("service-delivery.case-management", actor=caseworker):
                    await http.get(url, headers={"baggage": "tenant=waikato"})

        asyncio.run(asyncio.wait_for(call(), 10))
    assert CLAIM_KEY in sent[0]  # the called service got its claim
    (span,) = [s for s in exporter.get_finished_spans() if s.kind.name == "CLIENT"]
    attributes = dict(span.attributes or {})
    assert attributes["http.request.header.baggage"] == ("tenant=waikato",)
    assert not any(CLAIM_KEY in str(value) for value in attributes.values())


def test_a_captured_baggage_header_shows_no_claim_on_the_server_span(
    spans: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi import FastAPI
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from starlette.testclient import TestClient

    from purposeful.web import purpose
    from purposeful.web.tracing import hide_asgi_path

    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", ".*")
    provider, exporter = spans
    api = FastAPI()

    @api.get("/clients/{client_id}")
    @purpose("service-delivery")
    def read(client_id: str) -> dict[str, str]:
        return {}

    api.add_middleware(PurposeMiddleware, actor=lambda request: None, trust=TRUST)
    FastAPIInstrumentor.instrument_app(
        api, tracer_provider=provider, server_request_hook=hide_asgi_path
    )
    with TestClient(api) as http:
        assert http.get("/clients/C-1", headers=_claim_headers()).status_code == 200
    (server,) = [s for s in exporter.get_finished_spans() if s.kind.name == "SERVER"]
    attributes = dict(server.attributes or {})
    assert attributes["http.request.header.baggage"] == ("tenant=waikato",)
    assert not any(CLAIM_KEY in str(value) for value in attributes.values())


# --- the FastAPI dependency alone ---------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="design: the purpose_scope dependency keeps the claim out of OpenTelemetry's "
    "baggage only on the routes that use it; nothing of purposeful runs on the others "
    "unless the application adds a middleware (PurposeMiddleware, or one that wraps each "
    "request in otel_baggage_without_claim)",
)
def test_with_the_dependency_alone_a_route_without_it_forwards_no_claim() -> None:
    from fastapi import FastAPI
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from starlette.testclient import TestClient

    from purposeful.web.fastapi import install_problem_handlers, purpose_scope

    scoped = purpose_scope(actor=lambda: None, trust=TRUST)
    api = FastAPI()
    install_problem_handlers(api)
    seen: dict[str, str] = {}

    @api.get("/cases")
    async def cases(scope: Any = Depends(scoped("service-delivery"))) -> dict[str, str]:  # noqa: B008
        seen["with the dependency"] = _outbound_baggage()
        return {}

    @api.get("/health")
    async def health() -> dict[str, str]:
        seen["without it"] = _outbound_baggage()
        return {}

    provider = TracerProvider()
    FastAPIInstrumentor.instrument_app(api, tracer_provider=provider)
    try:
        with TestClient(api) as http:
            assert http.get("/cases", headers=_claim_headers()).status_code == 200
            assert http.get("/health", headers=_claim_headers()).status_code == 200
    finally:
        provider.shutdown()
    assert seen["with the dependency"] == "tenant=waikato"
    assert seen["without it"] == "tenant=waikato"
