"""Outbound calls over real HTTP on loopback: httpx (sync and async) and requests send the
claim of the scope open here to the agency's own services only, and strip any claim from a
request to anyone else. The server here only echoes the baggage it was sent."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import requests

from _records import CASE_MANAGEMENT, CASEWORKER
from purposeful import SENSITIVE, use
from purposeful.errors import ConfigurationError
from purposeful.propagation import (
    CLAIM_KEY,
    Outbound,
    ServiceKey,
    TrustedService,
    TrustStore,
    extract,
)

KEY = ServiceKey.generate("intake")
TRUST = TrustStore("case-management", [TrustedService("intake", [KEY.public_key], SENSITIVE)])


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"baggage": self.headers.get_all("baggage") or []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def _outbound(port: int) -> Outbound:
    # the agency's service is 127.0.0.1; "localhost" plays a third party on the same server
    return Outbound(KEY, {f"http://127.0.0.1:{port}": "case-management"})


def _claim_of(echoed: dict[str, list[str]]) -> object:
    return extract([("baggage", value) for value in echoed["baggage"]], TRUST)


def test_httpx_sends_the_claim_to_the_agencys_service_only(port: int) -> None:
    outbound = _outbound(port)
    with httpx.Client(event_hooks=outbound.httpx_hooks(), timeout=5) as client:
        with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
            ours = client.get(f"http://127.0.0.1:{port}/clients").json()
            third = client.get(
                f"http://localhost:{port}/x", headers={"baggage": f"tenant=a,{CLAIM_KEY}=1.x"}
            ).json()
        outside = client.get(f"http://127.0.0.1:{port}/clients").json()
    claim = _claim_of(ours)
    assert claim is not None
    assert claim.upstream.scope_id == scope.id  # type: ignore[attr-defined]
    assert third["baggage"] == ["tenant=a"]
    assert outside["baggage"] == []


def test_an_async_httpx_client_sends_the_claim_of_the_task_that_calls(port: int) -> None:
    outbound = _outbound(port)

    async def call(purposeful_scope: bool) -> dict[str, list[str]]:
        async with httpx.AsyncClient(event_hooks=outbound.httpx_async_hooks(), timeout=5) as c:
            if purposeful_scope:
                async with use(CASE_MANAGEMENT, actor=CASEWORKER):
                    await asyncio.sleep(0)
                    response = await c.get(f"http://127.0.0.1:{port}/")
            else:
                await asyncio.sleep(0)
                response = await c.get(f"http://127.0.0.1:{port}/")
            return response.json()  # type: ignore[no-any-return]

    async def both() -> list[dict[str, list[str]]]:
        return list(await asyncio.gather(call(True), call(False)))

    scoped, unscoped = asyncio.run(both())
    assert _claim_of(scoped) is not None
    assert unscoped["baggage"] == []


def test_requests_sends_the_claim_through_its_adapter(port: int) -> None:
    outbound = _outbound(port)
    with requests.Session() as session:
        session.mount("http://", outbound.requests_adapter())
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            ours = session.get(f"http://127.0.0.1:{port}/", timeout=5).json()
            third = session.get(f"http://localhost:{port}/", timeout=5).json()
    assert _claim_of(ours) is not None
    assert third["baggage"] == []


@pytest.mark.parametrize(
    "origin",
    ["127.0.0.1:8001", "ftp://x.example", "https://x.example/path", "https://", "not a url"],
)
def test_the_allow_list_takes_origins_only(origin: str) -> None:
    with pytest.raises(ConfigurationError, match="origins"):
        Outbound(KEY, {origin: "case-management"})


def test_origins_match_with_default_ports_and_any_case() -> None:
    outbound = Outbound(KEY, {"https://Case.Agency.example": "case-management"})
    assert outbound.audience_for("https://case.agency.example:443/a?b") == "case-management"
    assert outbound.audience_for("HTTPS://CASE.agency.example/") == "case-management"
    assert outbound.audience_for("http://case.agency.example/") is None
    assert outbound.audience_for("https://case.agency.example.evil.example/") is None
    assert outbound.audience_for("https://case.agency.example@evil.example/") is None
    assert outbound.audience_for("https://evil.example/?https://case.agency.example") is None
    assert outbound.audience_for("https://case.agency.example:99999/") is None


def test_the_lifetime_bounds_how_long_a_claim_can_be_replayed(port: int) -> None:
    outbound = Outbound(
        KEY, {f"http://127.0.0.1:{port}": "case-management"}, lifetime=timedelta(seconds=2)
    )
    headers: dict[str, str] = {}
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert outbound.apply(f"http://127.0.0.1:{port}/", headers)
    claim = extract(headers, TRUST)
    assert claim is not None
    assert claim.expires_at - claim.issued_at == timedelta(seconds=2)
