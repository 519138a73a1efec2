"""Consent answers on the async path (a prefetch in a worker thread, judged for care, or
cancelled), and purpose claims that leave a service where they should not (a redirect, a
streamed WSGI body)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from wsgiref.util import setup_testing_defaults

import pytest
import requests

import purposeful
from purposeful import CONSENT, SENSITIVE, Actor, ServiceAgreement
from purposeful.consent import MemoryConsentStore
from purposeful.propagation import (
    CLAIM_KEY,
    Outbound,
    ServiceKey,
    TrustedService,
    TrustStore,
    inject,
)

DELIVERY = ServiceAgreement("Service delivery agreement")


@purposeful.record(subject="client_id")
class Tamaiti:
    client_id: str
    born: date
    wellbeing: int = purposeful.field(purposes={"service-delivery": DELIVERY, "research": CONSENT})


class _SlowFlags:
    """A care flag source that says the child is a child, after the test lets it."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.go_on = threading.Event()

    def care_flags(self, subjects: list[str]) -> dict[str, set[str]]:
        self.asked.set()
        self.go_on.wait(5)
        return {subject: {"child-or-young-person"} for subject in subjects}


def test_a_read_while_aprefetch_judges_care_is_not_decided_on_the_childs_own_consent() -> None:
    """`aprefetch_consent` keeps each person's own consent in the scope's answers, then
    (in its worker thread, still) looks up care flags and overrules it for a flagged child.
    A read by another task of the same scope in between takes the child's own consent as
    the answer: research, which counts only a representative's consent for a child, reads
    the child's value."""
    store = MemoryConsentStore()
    flags = _SlowFlags()
    purposeful.configure(consent=store, care_flags=flags)
    store.give("K-1", "research")  # by the child herself: it does not count
    child = Tamaiti("K-1", date(2015, 1, 1), 7)
    researcher = Actor("staff-31", "researcher", SENSITIVE)
    seen: list[object] = []

    async def reader() -> None:
        await asyncio.to_thread(flags.asked.wait, 5)
        # the flags arrive shortly: a read that waits for them is decided on them
        threading.Timer(0.2, flags.go_on.set).start()
        try:
            seen.append(child.wellbeing)
        except purposeful.PurposeViolation as refused:
            seen.append(refused.decision.reason_codes)

    async def view() -> None:
        async with purposeful.use("research", actor=researcher) as scope:
            await asyncio.gather(scope.aprefetch_consent([child]), reader())

    asyncio.run(view())
    assert seen == [("representative-consent-needed",)]


# --- the requests adapter and redirects ---------------------------------------------------


_KEY = ServiceKey.generate("intake")


class _RedirectOrEcho(BaseHTTPRequestHandler):
    """``/go`` redirects to ``localhost`` (a third party here), anything else echoes the
    baggage it was sent."""

    def do_GET(self) -> None:
        if self.path == "/go":
            port = self.server.server_address[1]
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/echo")
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


@pytest.fixture
def redirecting() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RedirectOrEcho)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def test_a_redirect_to_a_host_with_an_adapter_of_its_own_carries_no_claim(
    redirecting: int,
) -> None:
    """The adapter writes the claim into the `PreparedRequest` itself; requests copies that
    request, headers and all, to follow a redirect. When the redirect's host is served by
    another adapter of the session (one mounted for its prefix, with retries say), nothing
    takes the claim out: the actor's id and role reach a host off the allow-list."""
    port = redirecting
    outbound = Outbound(_KEY, {f"http://127.0.0.1:{port}": "case-management"})
    caseworker = Actor("staff-0042", "caseworker", SENSITIVE)
    with requests.Session() as session:
        session.mount("http://", outbound.requests_adapter())
        session.mount(f"http://localhost:{port}", requests.adapters.HTTPAdapter(max_retries=3))
        with purposeful.use("service-delivery.case-management", actor=caseworker):
            answer = session.get(f"http://127.0.0.1:{port}/go", timeout=5)
    assert answer.url.startswith("http://localhost:")
    received = ",".join(answer.json()["baggage"])
    assert CLAIM_KEY not in received


# --- OpenTelemetry's baggage while a WSGI body streams -------------------------------------


def test_an_inbound_claim_is_not_in_opentelemetrys_baggage_while_a_wsgi_body_streams() -> None:
    """The WSGI middleware keeps the inbound claim out of OpenTelemetry's baggage only
    while it calls the application; the body it hands back is iterated afterwards, inside
    the server instrumentation's context, which holds the inbound baggage, claim and all.
    A lazy body that calls another host with an instrumented client (or any code that
    propagates OpenTelemetry's context) sends the caller's actor id and role with it."""
    from opentelemetry import baggage, propagate
    from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
    from opentelemetry.sdk.trace import TracerProvider

    from purposeful.web.wsgi import PurposeMiddleware

    case_management = "service-delivery.case-management"
    trust = TrustStore("case-management", [TrustedService("intake", [_KEY.public_key], SENSITIVE)])
    seen: dict[str, object] = {}

    def app(environ: dict[str, object], start_response: object) -> object:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]

        def body() -> Iterator[bytes]:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)  # what an instrumented client would send anywhere
            seen.update(claim=baggage.get_baggage(CLAIM_KEY), outbound=carrier.get("baggage"))
            yield b"streamed"

        return body()

    wrapped = PurposeMiddleware(
        app, actor=lambda environ: None, purposes={"/cases": case_management}, trust=trust
    )
    provider = TracerProvider()
    served = OpenTelemetryMiddleware(wrapped, tracer_provider=provider)
    inbound: dict[str, str] = {}
    with purposeful.use(case_management, actor=Actor("intake-7", "caseworker", SENSITIVE)):
        inject(inbound, _KEY, audience="case-management")
    environ: dict[str, object] = {
        "PATH_INFO": "/cases/1",
        "HTTP_BAGGAGE": f"tenant=waikato,{inbound['baggage']}",
    }
    setup_testing_defaults(environ)
    statuses: list[str] = []
    result = served(environ, lambda status, headers, *exc: statuses.append(status))
    try:
        assert b"".join(result) == b"streamed"
    finally:
        getattr(result, "close", lambda: None)()
        provider.shutdown()
    assert statuses == ["200 OK"]
    assert seen == {"claim": None, "outbound": "tenant=waikato"}


# --- a cancelled prefetch --------------------------------------------------------------------


class _SlowStore(MemoryConsentStore):
    """A consent store whose batch answer waits until the test lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = threading.Event()
        self.go_on = threading.Event()
        self.answered = threading.Event()

    def consent_statuses_steady(self, subjects, purpose, at):  # type: ignore[no-untyped-def]
        self.asked.set()
        self.go_on.wait(5)
        try:
            return super().consent_statuses_steady(subjects, purpose, at)
        finally:
            self.answered.set()


def test_a_prefetch_cancelled_by_a_timeout_leaves_no_subject_id_in_the_closed_scope() -> None:
    """`aprefetch_consent` forgets its answers if the scope closed while it waited, but
    only when the wait ends normally. Cancelled (a request timeout, a client gone), the
    worker thread goes on and writes raw subject ids into the answers of a scope that has
    closed and cleared them: the scope's promise to forget every subject id at its close
    is broken for as long as anything holds the scope."""
    store = _SlowStore()
    purposeful.configure(consent=store)
    child = Tamaiti("K-2", date(1990, 1, 1), 7)
    researcher = Actor("staff-31", "researcher", SENSITIVE)
    held: list[object] = []

    async def view() -> None:
        async with purposeful.use("research", actor=researcher) as scope:
            held.append(scope)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(scope.aprefetch_consent([child]), 0.05)
        assert scope.closed
        store.go_on.set()  # the worker thread answers after the scope closed

    asyncio.run(view())  # which waits for the worker thread to finish
    assert store.answered.is_set()
    assert len(held[0]._consents) == 0  # type: ignore[attr-defined]
