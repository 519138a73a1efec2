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

pytest.importorskip("starlette")
pytest.importorskip("opentelemetry.instrumentation.asgi")

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
