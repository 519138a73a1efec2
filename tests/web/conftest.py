"""Django is configured once for the whole run (settings.configure), before any web test
imports it, by the settings module the record tests share (`_django_settings`); its URLconf
is `_django_app`. The tracing tests share `spans` and `semconv` (helpers in `_tracing`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _tracing import SETTINGS, opt_in
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import _django_settings
import purposeful
from purposeful.audit import SpanSink

_django_settings.configure()


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """An SDK tracer provider exporting to memory, with purposeful's `SpanSink` on it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    purposeful.configure(sinks=[SpanSink(provider)])
    yield provider, exporter
    provider.shutdown()


@pytest.fixture(params=list(SETTINGS), ids=list(SETTINGS))
def semconv(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test, under each OTEL_SEMCONV_STABILITY_OPT_IN setting of the instrumentations."""
    with opt_in(SETTINGS[request.param]):
        yield request.param
