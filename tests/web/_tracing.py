"""What the tracing tests share: every setting of the HTTP semantic conventions the
instrumentations read (the `semconv` fixture, in conftest, runs a test under each), and
where a secret shows in exported spans."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator

from opentelemetry.instrumentation._semconv import _OpenTelemetrySemanticConventionStability
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

OPT_IN = "OTEL_SEMCONV_STABILITY_OPT_IN"
SETTINGS = {"default": "", "http": "http", "http-dup": "http/dup"}


@contextlib.contextmanager
def opt_in(value: str) -> Iterator[None]:
    """The instrumentations read OTEL_SEMCONV_STABILITY_OPT_IN once per process: read it
    again with *value*, and afterwards with what it was."""
    saved = os.environ.get(OPT_IN)
    os.environ[OPT_IN] = value
    _OpenTelemetrySemanticConventionStability._initialized = False
    _OpenTelemetrySemanticConventionStability._initialize()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(OPT_IN, None)
        else:
            os.environ[OPT_IN] = saved
        _OpenTelemetrySemanticConventionStability._initialized = False
        _OpenTelemetrySemanticConventionStability._initialize()


def shown(spans: Iterable[ReadableSpan]) -> Iterator[tuple[str, str, str]]:
    """(span name, where, text) for every name, attribute and event attribute of *spans*."""
    for span in spans:
        yield span.name, "name", span.name
        for key, value in (span.attributes or {}).items():
            yield span.name, key, str(value)
        for event in span.events:
            yield span.name, f"event {event.name}", event.name
            for key, value in (event.attributes or {}).items():
                yield span.name, f"event {event.name} {key}", str(value)


def leaks(spans: Iterable[ReadableSpan], *secrets: str) -> list[tuple[str, str]]:
    """Where any of *secrets* shows in *spans*: (span name, where)."""
    return [
        (name, where)
        for name, where, text in shown(spans)
        if any(secret in text for secret in secrets)
    ]


def server_span(spans: Iterable[ReadableSpan]) -> ReadableSpan:
    (server,) = [span for span in spans if span.kind is SpanKind.SERVER]
    return server


def client_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    """The client spans *exporter* holds (an outbound call's, one a traced hop)."""
    return [span for span in exporter.get_finished_spans() if span.kind is SpanKind.CLIENT]


def client_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    """The one client span *exporter* holds."""
    (span,) = client_spans(exporter)
    return span
