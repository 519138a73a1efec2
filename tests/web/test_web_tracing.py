"""The scope's span is a child of the request's server span when the framework's
OpenTelemetry instrumentation is installed (the SDK in tests only)."""

from __future__ import annotations

from _webkit import CASE_MANAGEMENT, CASEWORKER, claim_headers, trust_store
from django.test import Client, override_settings
from fastapi import FastAPI
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient

from purposeful.audit.conventions import CLAIM_REFUSED_EVENT, SPAN_NAME, RequestAttribute
from purposeful.web import purpose
from purposeful.web.asgi import PurposeMiddleware


def parent_of(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None
    return next(s for s in spans if s.context.span_id == span.parent.span_id)


def test_under_the_fastapi_instrumentation_the_scope_span_is_a_child_of_the_server_span(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    app = FastAPI()

    @app.get("/cases/{case_id}")
    @purpose(CASE_MANAGEMENT)
    async def case(case_id: str) -> dict[str, str]:
        return {}

    @app.get("/service")
    @purpose("service-delivery.referral")  # a sibling of case management: neither covers
    async def service() -> dict[str, str]:
        return {}

    app.add_middleware(PurposeMiddleware, actor=lambda request: CASEWORKER, trust=trust_store())
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    narrow = claim_headers(CASE_MANAGEMENT)["baggage"]
    exporter.clear()
    with TestClient(app) as http:
        assert http.get("/cases/1").status_code == 200
        assert http.get("/service", headers={"baggage": narrow}).status_code == 403
    finished = list(exporter.get_finished_spans())
    scope_span = next(s for s in finished if s.name == SPAN_NAME)
    server = parent_of(scope_span, finished)
    assert server.name == "GET /cases/{case_id}"
    assert server.kind.name == "SERVER"
    refused = [
        (span.name, event.attributes)
        for span in finished
        for event in span.events
        if event.name == CLAIM_REFUSED_EVENT
    ]
    assert refused == [
        (
            "GET /service",
            {
                RequestAttribute.CLAIM_REASON: "purpose-not-covering",
                RequestAttribute.CLAIM_OUTCOME: "refused",
                RequestAttribute.ROUTE: "/service",
            },
        )
    ]


def test_under_the_django_instrumentation_the_scope_span_is_a_child_of_the_server_span(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    from django.conf import settings

    with override_settings(MIDDLEWARE=list(settings.MIDDLEWARE)):
        DjangoInstrumentor().instrument(tracer_provider=provider)
        try:
            http = Client()
            assert http.get("/cases/3/where", headers={"x-user": "caseworker"}).status_code == 200
            streamed = http.get("/cases/stream", headers={"x-user": "caseworker"})
            b"".join(streamed.streaming_content)  # type: ignore[attr-defined]
            streamed.close()
        finally:
            DjangoInstrumentor().uninstrument()
    finished = list(exporter.get_finished_spans())
    scope_spans = [s for s in finished if s.name == SPAN_NAME]
    assert len(scope_spans) == 2
    for scope_span in scope_spans:
        server = parent_of(scope_span, finished)
        assert server.kind.name == "SERVER"


def test_an_inbound_claim_never_reaches_opentelemetrys_baggage_inside_the_request(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    """The server instrumentation copies the inbound baggage, claim and all, into
    OpenTelemetry's baggage, which client instrumentations write to every outbound host:
    inside the request, the middleware keeps the claim out of it, other members in."""
    from opentelemetry import baggage, propagate

    provider, _ = spans
    app = FastAPI()
    seen: dict[str, object] = {}

    @app.get("/cases/{case_id}")
    @purpose(CASE_MANAGEMENT)
    async def case(case_id: str) -> dict[str, str]:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # what an instrumented client would send anywhere
        seen.update(claim=baggage.get_baggage("purposeful"), outbound=carrier.get("baggage"))
        return {}

    app.add_middleware(PurposeMiddleware, actor=lambda request: CASEWORKER, trust=trust_store())
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    inbound = claim_headers(CASE_MANAGEMENT)["baggage"]
    with TestClient(app) as http:
        response = http.get("/cases/1", headers={"baggage": f"tenant=waikato,{inbound}"})
    assert response.status_code == 200
    assert seen == {"claim": None, "outbound": "tenant=waikato"}
