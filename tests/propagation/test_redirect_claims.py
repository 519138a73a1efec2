"""A redirect never takes a purpose claim to an origin the caller did not ask for: two of the
agency's services on loopback, A answering with redirects and B echoing what it was sent,
called through httpx (sync and async) and requests. Both clients drop ``Authorization`` on a
redirect to another origin; the claim goes the same way, or A could make the caller act
under its scope at B (a 307 keeps a POST body)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import pytest
import requests
from _loopback import Service, serve

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
TRUST = TrustStore(
    "case-management",
    [TrustedService("intake", [KEY.public_key], SENSITIVE)],
)


@pytest.fixture(scope="module")
def service_a() -> Iterator[Service]:
    yield from serve()


@pytest.fixture(scope="module")
def service_b() -> Iterator[Service]:
    yield from serve()


def _redirect(service: Service, to: Service, status: int) -> str:
    """The URL of a path of *service* that redirects to *to* with *status*."""
    path = f"/to/{to.server_address[1]}/{status}"
    service.redirects[path] = (status, f"{to.origin}/echo")
    return f"{service.origin}{path}"


Call = Callable[[str, str], dict[str, object]]  # (method, url) -> what the last hop echoed


def _httpx(outbound: Outbound) -> Call:
    def call(method: str, url: str) -> dict[str, object]:
        with (
            httpx.Client(
                event_hooks=outbound.httpx_hooks(), timeout=5, follow_redirects=True
            ) as client,
            use(CASE_MANAGEMENT, actor=CASEWORKER),
        ):
            answer = client.request(method, url, content=b"x" * 10)
        return answer.json()  # type: ignore[no-any-return]

    return call


def _httpx_async(outbound: Outbound) -> Call:
    def call(method: str, url: str) -> dict[str, object]:
        async def inner() -> dict[str, object]:
            async with httpx.AsyncClient(
                event_hooks=outbound.httpx_async_hooks(), timeout=5, follow_redirects=True
            ) as client:
                with use(CASE_MANAGEMENT, actor=CASEWORKER):
                    answer = await client.request(method, url, content=b"x" * 10)
            return answer.json()  # type: ignore[no-any-return]

        return asyncio.run(inner())

    return call


def _requests(outbound: Outbound) -> Call:
    def call(method: str, url: str) -> dict[str, object]:
        with requests.Session() as session:
            session.mount("http://", outbound.requests_adapter())
            with use(CASE_MANAGEMENT, actor=CASEWORKER):
                answer = session.request(method, url, data=b"x" * 10, timeout=5)
        return answer.json()  # type: ignore[no-any-return]

    return call


CLIENTS = {"httpx": _httpx, "httpx-async": _httpx_async, "requests": _requests}


def _both_allowed(a: Service, b: Service) -> Outbound:
    return Outbound(KEY, {a.origin: "intake", b.origin: "case-management"})


def _claim_at(echoed: dict[str, object]) -> object:
    baggage = echoed["baggage"]
    assert isinstance(baggage, list)
    return extract([("baggage", value) for value in baggage], TRUST)


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize(("method", "status"), [("GET", 302), ("GET", 303), ("POST", 307)])
def test_a_redirect_to_another_agency_service_carries_no_claim(
    service_a: Service, service_b: Service, client: str, method: str, status: int
) -> None:
    call = CLIENTS[client](_both_allowed(service_a, service_b))
    echoed = call(method, _redirect(service_a, service_b, status))
    assert not any(CLAIM_KEY in value for value in echoed["baggage"])  # type: ignore[attr-defined]
    if status == 307:  # the body went on all the same: the client's choice, not the claim's
        assert echoed["body"] == 10


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_the_same_service_called_directly_gets_its_claim(
    service_a: Service, service_b: Service, client: str
) -> None:
    call = CLIENTS[client](_both_allowed(service_a, service_b))
    assert _claim_at(call("GET", f"{service_b.origin}/echo")) is not None


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_redirect_within_one_origin_keeps_the_claim(service_a: Service, client: str) -> None:
    outbound = Outbound(KEY, {service_a.origin: "case-management"})
    echoed = CLIENTS[client](outbound)("GET", _redirect(service_a, service_a, 302))
    assert _claim_at(echoed) is not None


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_third_party_cannot_redirect_a_caller_into_an_agency_service(
    service_b: Service, client: str
) -> None:
    """``localhost`` plays a third party: off the allow-list, it redirects to B, which is on
    it. The caller asked for the third party; B gets no claim."""
    outbound = Outbound(KEY, {service_b.origin: "case-management"})
    third_party = _redirect(service_b, service_b, 302).replace("127.0.0.1", "localhost")
    echoed = CLIENTS[client](outbound)("GET", third_party)
    assert not any(CLAIM_KEY in value for value in echoed["baggage"])  # type: ignore[attr-defined]


def test_a_requests_session_claims_again_after_a_redirect_chain(
    service_a: Service, service_b: Service
) -> None:
    """The chain's first origin is kept with the request only while it is redirected: the
    same session's next request to B, and a prepared request sent again, are claimed."""
    with requests.Session() as session:
        session.mount("http://", _both_allowed(service_a, service_b).requests_adapter())
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            session.get(_redirect(service_a, service_b, 302), timeout=5)
            direct = session.get(f"{service_b.origin}/echo", timeout=5).json()
            prepared = session.prepare_request(requests.Request("GET", f"{service_b.origin}/echo"))
            first = session.send(prepared, timeout=5).json()
            again = session.send(prepared, timeout=5).json()
    assert _claim_at(direct) is not None
    assert _claim_at(first) is not None
    assert _claim_at(again) is not None


def test_apply_claims_only_for_the_origin_asked_for() -> None:
    outbound = Outbound(
        KEY, {"https://a.agency.example": "intake", "https://b.agency.example": "case-management"}
    )
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        asked_b: dict[str, str] = {}
        assert outbound.apply(
            "https://b.agency.example/x", asked_b, asked="https://b.agency.example:443/y"
        )
        led: dict[str, str] = {"baggage": f"tenant=a,{CLAIM_KEY}=1.x"}
        assert not outbound.apply(
            "https://b.agency.example/x", led, asked="https://a.agency.example/go"
        )
    assert CLAIM_KEY in asked_b["baggage"]
    assert led == {"baggage": "tenant=a"}
