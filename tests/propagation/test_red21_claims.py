"""Outbound claims where the calling code reuses what it built: an IPv6 service, an httpx
request or its ``extensions`` sent again, a requests ``PreparedRequest`` sent from two
threads or copied. Real services on loopback: each answers a path it was told to redirect
with that redirect, and anything else with the baggage it was sent."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _records import CASE_MANAGEMENT, CASEWORKER
from purposeful import SENSITIVE, use
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
TIMEOUT = 5


class _Service(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, family: socket.AddressFamily) -> None:
        self.address_family = family
        #: path -> (status, Location) for the paths this service redirects
        self.redirects: dict[str, tuple[int, str]] = {}
        super().__init__((host, 0), _RedirectOrEcho)

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}"


class _RedirectOrEcho(BaseHTTPRequestHandler):
    server: _Service

    def do_GET(self) -> None:
        redirect = self.server.redirects.get(self.path)
        if redirect is not None:
            self.send_response(redirect[0])
            self.send_header("Location", redirect[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"baggage": self.headers.get_all("baggage") or []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(
    host: str = "127.0.0.1", family: socket.AddressFamily = socket.AF_INET
) -> Iterator[_Service]:
    server = _Service(host, family)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(timeout=TIMEOUT)
    server.server_close()


@pytest.fixture
def service_a() -> Iterator[_Service]:
    yield from _serve()


@pytest.fixture
def service_b() -> Iterator[_Service]:
    yield from _serve()


@pytest.fixture
def ipv6_service() -> Iterator[_Service]:
    try:
        server = _Service("::1", socket.AF_INET6)
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    server.server_close()
    yield from _serve("::1", socket.AF_INET6)


def _claimed(echoed: dict[str, list[str]]) -> bool:
    return any(CLAIM_KEY in value for value in echoed["baggage"])


def _claim_of(echoed: dict[str, list[str]]) -> object:
    return extract([("baggage", value) for value in echoed["baggage"]], TRUST)


# --- an IPv6 literal -------------------------------------------------------------------------


def test_a_service_at_an_ipv6_literal_gets_its_claim(ipv6_service: _Service) -> None:
    """The origin the hooks keep for a chain is read again for each request; written
    without the brackets (``http://::1:8001``) it is no origin at all, and every request
    to the service counted as a redirect: the service answered each one 401."""
    outbound = Outbound(KEY, {ipv6_service.origin: "case-management"})
    requests = pytest.importorskip("requests")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        with httpx.Client(event_hooks=outbound.httpx_hooks(), timeout=TIMEOUT) as client:
            by_httpx = client.get(f"{ipv6_service.origin}/echo").json()
        with requests.Session() as session:
            session.mount("http://", outbound.requests_adapter())
            by_requests = session.get(f"{ipv6_service.origin}/echo", timeout=TIMEOUT).json()
    assert _claim_of(by_httpx) is not None
    assert _claim_of(by_requests) is not None


@given(st.ip_addresses(v=6), st.integers(1, 65535), st.sampled_from(["http", "https"]))
def test_an_origin_is_the_origin_of_itself(address: object, port: int, scheme: str) -> None:
    from purposeful.propagation.outbound import origin_of

    origin = origin_of(f"{scheme}://[{address}]:{port}/clients")
    assert origin is not None
    assert origin_of(origin) == origin
    assert Outbound(KEY, {origin: "case-management"}).audience_for(origin) == "case-management"


# --- httpx: a request, or its extensions, used again -----------------------------------------


def _both(a: _Service, b: _Service) -> Outbound:
    return Outbound(KEY, {a.origin: "intake", b.origin: "case-management"})


def test_an_httpx_request_sent_again_to_another_origin_begins_a_chain_of_its_own(
    service_a: _Service, service_b: _Service
) -> None:
    """A request sent once to B, then pointed at A (a failover, a retry to another
    instance) and sent again: A's redirect to B is a redirect, whatever B was asked before."""
    service_a.redirects["/go"] = (302, f"{service_b.origin}/echo")
    with (
        httpx.Client(
            event_hooks=_both(service_a, service_b).httpx_hooks(),
            timeout=TIMEOUT,
            follow_redirects=True,
        ) as client,
        use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        request = client.build_request("GET", f"{service_b.origin}/echo")
        direct = client.send(request).json()
        request.url = httpx.URL(f"{service_a.origin}/go")
        redirected = client.send(request).json()
        again = client.get(f"{service_b.origin}/echo").json()
    assert _claim_of(direct) is not None
    assert not _claimed(redirected)
    assert _claim_of(again) is not None


@pytest.mark.parametrize("shared", ["copied", "the same dict"])
def test_httpx_extensions_used_again_carry_no_origin_from_one_request_to_the_next(
    service_a: _Service, service_b: _Service, shared: str
) -> None:
    """A request built with an earlier request's ``extensions`` (copied, as httpx 0.28 and
    later do, or the same dict, as httpx 0.27 keeps the caller's ``extensions={"timeout":
    ...}``) is a chain of its own: it neither claims for the earlier request's origin at a
    redirect nor loses its own claim."""
    service_a.redirects["/go"] = (302, f"{service_b.origin}/echo")

    def send(client: httpx.Client, url: str, extensions: dict[str, object]) -> httpx.Response:
        request = client.build_request("GET", url, extensions=extensions)
        if shared == "the same dict":
            request.extensions = extensions
        return client.send(request)

    with (
        httpx.Client(
            event_hooks=_both(service_a, service_b).httpx_hooks(),
            timeout=TIMEOUT,
            follow_redirects=True,
        ) as client,
        use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        extensions: dict[str, object] = {"timeout": httpx.Timeout(TIMEOUT).as_dict()}
        first = send(client, f"{service_b.origin}/echo", extensions)
        if shared == "copied":
            extensions = first.request.extensions
        redirected = send(client, f"{service_a.origin}/go", extensions).json()
        direct = send(client, f"{service_b.origin}/echo", extensions).json()
    assert _claim_of(first.json()) is not None
    assert not _claimed(redirected)
    assert _claim_of(direct) is not None


def test_an_async_httpx_request_sent_again_begins_a_chain_of_its_own(
    service_a: _Service, service_b: _Service
) -> None:
    import asyncio

    service_a.redirects["/go"] = (302, f"{service_b.origin}/echo")

    async def calls() -> tuple[object, object]:
        async with httpx.AsyncClient(
            event_hooks=_both(service_a, service_b).httpx_async_hooks(),
            timeout=TIMEOUT,
            follow_redirects=True,
        ) as client:
            with use(CASE_MANAGEMENT, actor=CASEWORKER):
                request = client.build_request("GET", f"{service_b.origin}/echo")
                direct = (await client.send(request)).json()
                request.url = httpx.URL(f"{service_a.origin}/go")
                redirected = (await client.send(request)).json()
        return direct, redirected

    direct, redirected = asyncio.run(asyncio.wait_for(calls(), 30))
    assert _claim_of(direct) is not None  # type: ignore[arg-type]
    assert not _claimed(redirected)  # type: ignore[arg-type]


def test_httpx_following_next_request_by_hand_is_still_a_redirect(
    service_a: _Service, service_b: _Service
) -> None:
    service_a.redirects["/go"] = (307, f"{service_b.origin}/echo")
    with (
        httpx.Client(
            event_hooks=_both(service_a, service_b).httpx_hooks(), timeout=TIMEOUT
        ) as client,
        use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        first = client.get(f"{service_a.origin}/go")
        assert first.next_request is not None
        followed = client.send(first.next_request).json()
    assert not _claimed(followed)
