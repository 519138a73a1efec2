"""An instrumentation told to capture headers (``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_
SERVER_REQUEST=".*"``, a common setting) records ``Referer`` (another page's path, with its
client id and query), ``X-Original-URI`` (the request's own path, as a proxy saw it) and,
for a redirect, ``Location``, on the server span: the hooks of `purposeful.web.tracing`
left them there, the path and its id with them. They now write `HIDDEN` over each such
header they find, and `URL_HEADERS`, given to the instrumentation as the fields it
sanitises, hides the response's ``Location``, which the ASGI middleware records after every
hook has run."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient

from purposeful.web.tracing import HIDDEN, URL_HEADERS, hide_asgi_path, hide_django_route

SUBJECT = "SUBJECT-HEADER-8c1d"
OTHER = "SUBJECT-REFERER-2e9a"


def _server_span_text(sanitised: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", ".*")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE", ".*")
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    api = FastAPI()

    @api.post("/clients/{client_id}/notes")
    def note(client_id: str) -> RedirectResponse:
        return RedirectResponse(f"/clients/{client_id}", status_code=303)

    FastAPIInstrumentor.instrument_app(
        api,
        tracer_provider=provider,
        server_request_hook=hide_asgi_path,
        http_capture_headers_sanitize_fields=list(URL_HEADERS) if sanitised else None,
    )
    headers = {"referer": f"https://app/clients/{OTHER}?q=x", "x-original-uri": f"/c/{SUBJECT}"}
    with TestClient(api) as http:
        http.post(f"/clients/{SUBJECT}/notes", headers=headers, follow_redirects=False)
    (server,) = [s for s in exported.get_finished_spans() if s.kind.name == "SERVER"]
    return repr((server.name, dict(server.attributes or {})))


def test_the_hook_hides_the_request_headers_that_carry_a_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _server_span_text(sanitised=False, monkeypatch=monkeypatch)
    assert OTHER not in text
    assert f"'http.request.header.x_original_uri': ('{HIDDEN}',)" in text


def test_the_sanitised_url_headers_hide_a_redirects_location(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _server_span_text(sanitised=True, monkeypatch=monkeypatch)
    assert SUBJECT not in text
    assert OTHER not in text


def test_the_django_response_hook_hides_a_captured_location() -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    span = provider.get_tracer("t").start_span("GET")
    span.set_attribute("http.response.header.location", [f"/clients/{SUBJECT}"])
    span.set_attribute("http.response.header.content_type", ["text/html"])
    hide_django_route(span, object(), object())
    span.end()
    (ended,) = exported.get_finished_spans()
    assert dict(ended.attributes or {}) == {
        "http.response.header.location": (HIDDEN,),
        "http.response.header.content_type": ("text/html",),
    }
