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
from typing import Any

import httpx
import pytest
from _loopback import TIMEOUT, Service, serve
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


@pytest.fixture
def service_a() -> Iterator[Service]:
    yield from serve()


@pytest.fixture
def service_b() -> Iterator[Service]:
    yield from serve()


@pytest.fixture
def ipv6_service() -> Iterator[Service]:
    try:
        server = Service("::1", socket.AF_INET6)
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    server.server_close()
    yield from serve("::1", socket.AF_INET6)


def _claimed(echoed: dict[str, list[str]]) -> bool:
    return any(CLAIM_KEY in value for value in echoed["baggage"])


def _claim_of(echoed: dict[str, list[str]]) -> object:
    return extract([("baggage", value) for value in echoed["baggage"]], TRUST)


# --- an IPv6 literal -------------------------------------------------------------------------


def test_a_service_at_an_ipv6_literal_gets_its_claim(ipv6_service: Service) -> None:
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


def _both(a: Service, b: Service) -> Outbound:
    return Outbound(KEY, {a.origin: "intake", b.origin: "case-management"})


def test_an_httpx_request_sent_again_to_another_origin_begins_a_chain_of_its_own(
    service_a: Service, service_b: Service
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
    service_a: Service, service_b: Service, shared: str
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
    service_a: Service, service_b: Service
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
    service_a: Service, service_b: Service
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


# --- requests: a PreparedRequest sent from two threads, or used again -------------------------


class _SlowRedirect(BaseHTTPRequestHandler):
    """``/flip`` answered first with a redirect to ``server.to``, whose one-byte body is
    held until ``server.release`` is set; then with 200. Anything else: the baggage."""

    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        server: Any = self.server
        if self.path == "/flip":
            with server.lock:
                server.flips += 1
                first = server.flips == 1
            if first:
                self.send_response(302)
                self.send_header("Location", server.to)
                self.send_header("Content-Length", "1")
                self.end_headers()
                self.wfile.flush()
                server.release.wait(TIMEOUT)
                self.wfile.write(b"x")
                return
        body = json.dumps({"baggage": self.headers.get_all("baggage") or []}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_prepared_request_sent_from_two_threads_keeps_each_threads_redirect_chain(
    service_b: Service,
) -> None:
    """One ``PreparedRequest`` sent from two threads (a worker pool polling one URL): the
    first is redirected to B, and while its client reads the redirect, the second is
    answered 200. That answer ends the second thread's chain, never the first's: B gets no
    claim."""
    requests = pytest.importorskip("requests")
    from concurrent.futures import ThreadPoolExecutor

    flipping: Any = ThreadingHTTPServer(("127.0.0.1", 0), _SlowRedirect)
    flipping.daemon_threads = True
    flipping.flips, flipping.lock = 0, threading.Lock()
    flipping.release, flipping.to = threading.Event(), f"{service_b.origin}/echo"
    serving = threading.Thread(target=flipping.serve_forever, daemon=True)
    serving.start()
    origin = f"http://127.0.0.1:{flipping.server_address[1]}"
    outbound = Outbound(KEY, {origin: "intake", service_b.origin: "case-management"})
    redirected = threading.Event()
    try:
        with requests.Session() as session:
            session.mount("http://", outbound.requests_adapter())
            prepared = session.prepare_request(requests.Request("GET", f"{origin}/flip"))

            def redirected_first() -> dict[str, list[str]]:
                with use(CASE_MANAGEMENT, actor=CASEWORKER):
                    answer = session.send(prepared, timeout=TIMEOUT)
                return answer.json()  # type: ignore[no-any-return]

            def answered_second() -> int:
                assert redirected.wait(TIMEOUT)
                try:
                    with use(CASE_MANAGEMENT, actor=CASEWORKER):
                        return session.send(prepared, timeout=TIMEOUT).status_code
                finally:
                    flipping.release.set()

            with ThreadPoolExecutor(2) as pool:
                first = pool.submit(redirected_first)
                while flipping.flips < 1 and not first.done():
                    threading.Event().wait(0.01)
                redirected.set()
                second = pool.submit(answered_second)
                assert second.result(TIMEOUT * 2) == 200
                echoed = first.result(TIMEOUT * 2)
    finally:
        flipping.release.set()
        flipping.shutdown()
        serving.join(timeout=TIMEOUT)
        flipping.server_close()
    assert not _claimed(echoed)


def test_a_prepared_requests_hooks_stay_hooks_after_a_redirect_not_followed(
    service_a: Service, service_b: Service
) -> None:
    """A redirect answered with ``allow_redirects=False`` leaves the chain open (the
    caller may follow ``response.next`` by hand); the request's hooks, given to a new
    ``requests.Request``, are still only hooks, not an event requests refuses with a
    ValueError. The new request shares the open chain, so it is taken for the redirect's
    follow-up: B gets no claim, as the redirect's target would not."""
    requests = pytest.importorskip("requests")
    service_a.redirects["/go"] = (302, f"{service_b.origin}/echo")
    with requests.Session() as session:
        session.mount("http://", _both(service_a, service_b).requests_adapter())
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            first = session.get(f"{service_a.origin}/go", allow_redirects=False, timeout=TIMEOUT)
            again = requests.Request("GET", f"{service_b.origin}/echo", hooks=first.request.hooks)
            echoed = session.send(session.prepare_request(again), timeout=TIMEOUT).json()
    assert first.status_code == 302
    assert echoed["baggage"] == []


def test_a_chain_that_ended_at_another_adapter_leaves_no_origin_for_a_copy(
    service_a: Service, service_b: Service
) -> None:
    """A's redirect led to a host another adapter of the session serves, which answered:
    the chain ended there. A copy of the request, pointed at B, which redirects to A, is a
    chain of its own: A gets no claim."""
    requests = pytest.importorskip("requests")
    port = service_a.server_address[1]
    service_a.redirects["/go"] = (302, f"http://localhost:{port}/echo")
    service_b.redirects["/go"] = (302, f"{service_a.origin}/echo")
    with requests.Session() as session:
        session.mount("http://", _both(service_a, service_b).requests_adapter())
        session.mount(f"http://localhost:{port}", requests.adapters.HTTPAdapter())
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            prepared = session.prepare_request(requests.Request("GET", f"{service_a.origin}/go"))
            assert session.send(prepared, timeout=TIMEOUT).status_code == 200
            copy = prepared.copy()
            copy.prepare_url(f"{service_b.origin}/go", None)
            echoed = session.send(copy, timeout=TIMEOUT).json()
    assert not _claimed(echoed)


# --- an internationalised host --------------------------------------------------------------


def test_a_service_whose_host_has_macrons_gets_its_claim() -> None:
    """httpx and requests send ``tūhono.agency.example`` as ``xn--thono-lfb.agency.example``;
    the allow-list kept the host as written, so the service got no claim and answered every
    call 401."""
    requests = pytest.importorskip("requests")
    outbound = Outbound(KEY, {"https://tūhono.agency.example": "case-management"})
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("baggage", ""))
        return httpx.Response(200)

    with (
        httpx.Client(
            transport=httpx.MockTransport(answer), event_hooks=outbound.httpx_hooks()
        ) as client,
        use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        client.get("https://tūhono.agency.example/clients")
        client.get("https://TŪHONO.agency.example/clients")
        client.get("https://tuhono.agency.example/clients")  # another host: no claim
    assert [CLAIM_KEY in each for each in sent] == [True, True, False]
    prepared = requests.Request("GET", "https://tūhono.agency.example/clients").prepare()
    assert outbound.audience_for(prepared.url) == "case-management"


def test_an_allow_list_host_that_is_no_domain_name_is_a_configuration_error() -> None:
    from purposeful.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="ASCII form"):
        Outbound(KEY, {"https://bad\u200d\u0301host.example": "case-management"})


# --- a trust store's purposes ---------------------------------------------------------------


def test_a_misspelt_purpose_a_caller_may_assert_fails_when_the_trust_store_is_made() -> None:
    """``purposes={"service-delivry"}`` refused every claim from intake with a 403 at run
    time; an unknown purpose is an error where it is declared."""
    from purposeful.errors import ConfigurationError

    misspelt = TrustedService(
        "intake", [KEY.public_key], SENSITIVE, purposes={"service-delivery", "service-delivry"}
    )
    with pytest.raises(ConfigurationError, match="'service-delivry'") as raised:
        TrustStore("case-management", [misspelt])
    assert "'service-delivery'" not in str(raised.value)
    known = TrustedService("intake", [KEY.public_key], SENSITIVE, purposes={"service-delivery"})
    assert TrustStore("case-management", [known]).services == (known,)
