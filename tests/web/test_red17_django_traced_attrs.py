"""Django's instrumentation copies the request attributes named in
``OTEL_PYTHON_DJANGO_TRACED_REQUEST_ATTRS`` onto the server span, as their text: its own
documentation's example names ``path_info``, and ``path``, ``GET`` (the query) and ``META``
(every header, the path and the query), like any method (its text names the request with
its path), hold the request's path or query too. The hooks left them there, with the client
id of the path; they now write `HIDDEN` over each."""

from __future__ import annotations

import pytest
from _tracing import leaks
from django.test import Client
from opentelemetry.sdk.trace import TracerProvider
from test_web_tracing_paths import SECRET_IN_QUERY, SUBJECT_IN_PATH, TARGET, django_instrumented

from purposeful.web.tracing import HIDDEN


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the environment variable sets when the middleware's module is imported."""
    from opentelemetry.instrumentation.django.middleware.otel_middleware import _DjangoMiddleware

    monkeypatch.setattr(
        _DjangoMiddleware,
        "_traced_request_attrs",
        ["path_info", "path", "GET", "META", "build_absolute_uri"],
    )


def test_no_traced_request_attribute_shows_the_path_or_query(traced: None) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    with django_instrumented(provider, hooked=True):
        Client().get(TARGET, RAW_URI=TARGET)
    spans = exported.get_finished_spans()
    assert leaks(spans, SUBJECT_IN_PATH, SECRET_IN_QUERY) == []
    (server,) = [s for s in spans if s.kind.name == "SERVER"]
    assert (server.attributes or {}).get("path_info") == HIDDEN
