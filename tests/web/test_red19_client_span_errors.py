"""A call that fails records its exception on the client span, after `hide_client_url` has
run: requests' connection errors name the URL called (``Max retries exceeded with url:
/clients/C-1003/notes?name=...``), in the exception event's message and stack trace and in
the span's status; so would any transport's error that quotes its request."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import httpx
import pytest
from _tracing import client_span, leaks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from purposeful.web.tracing import ahide_client_url, hide_client_url

SUBJECT_IN_PATH = "SUBJECT-FAILED-CALL-7d20"
SECRET_IN_QUERY = "SENTINEL-FQ"

Provider = tuple[TracerProvider, InMemorySpanExporter]


def _closed_port() -> int:
    """A local port nothing listens on: a call to it is refused at once."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])


def _url(path: str = f"/clients/{SUBJECT_IN_PATH}/notes", query: str = SECRET_IN_QUERY) -> str:
    return f"http://127.0.0.1:{_closed_port()}{path}?name={query}"


def _refused(request: httpx.Request) -> httpx.Response:
    """A transport whose error quotes the request, as many do."""
    raise httpx.ConnectError(f"cannot reach {request.url}", request=request)


def _httpx(provider: TracerProvider, url: str) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    client = httpx.Client(transport=httpx.MockTransport(_refused))
    HTTPXClientInstrumentor.instrument_client(
        client, tracer_provider=provider, request_hook=hide_client_url
    )
    try:
        with pytest.raises(httpx.ConnectError):
            client.get(url)
    finally:
        client.close()


def _httpx_async(provider: TracerProvider, url: str) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    async def call() -> None:
        client = httpx.AsyncClient(transport=httpx.MockTransport(_refused))
        HTTPXClientInstrumentor.instrument_client(
            client, tracer_provider=provider, request_hook=ahide_client_url
        )
        try:
            with pytest.raises(httpx.ConnectError):
                await client.get(url)
        finally:
            await client.aclose()

    asyncio.run(call())


def _requests(provider: TracerProvider, url: str) -> None:
    instrumentation = pytest.importorskip("opentelemetry.instrumentation.requests")
    import requests

    instrumentor = instrumentation.RequestsInstrumentor()
    instrumentor.instrument(tracer_provider=provider, request_hook=hide_client_url)
    try:
        with pytest.raises(requests.ConnectionError) as refused:
            requests.get(url, timeout=5)
        assert SUBJECT_IN_PATH in str(refused.value) or "%" in url  # it names the URL
    finally:
        instrumentor.uninstrument()


CALLS: dict[str, Callable[[TracerProvider, str], None]] = {
    "httpx": _httpx,
    "httpx-async": _httpx_async,
    "requests": _requests,
}


@pytest.mark.parametrize("client", list(CALLS))
def test_a_failed_calls_exception_and_status_do_not_name_its_path_or_query(
    client: str,
    semconv: str,
    spans: Provider,
) -> None:
    provider, exporter = spans
    CALLS[client](provider, _url())
    span = client_span(exporter)
    assert [event.name for event in span.events] == ["exception"]  # still recorded
    assert leaks([span], SUBJECT_IN_PATH, SECRET_IN_QUERY) == []
    assert SUBJECT_IN_PATH not in (span.status.description or "")
    assert SECRET_IN_QUERY not in (span.status.description or "")


_SEGMENT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=3, max_size=12
).filter(lambda text: text.strip() == text and "/" not in text)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(segment=_SEGMENT, query=_SEGMENT)
def test_an_id_that_needs_quoting_is_hidden_too(segment: str, query: str, spans: Provider) -> None:
    """The error quotes the URL as sent (percent-encoded), the id as the caller wrote it."""
    provider, exporter = spans
    exporter.clear()
    url = str(httpx.URL(_url(f"/clients/{segment}/notes", query)))
    _httpx(provider, url)
    span = client_span(exporter)
    sent = httpx.URL(url)
    shown = [(span.status.description or ""), *(str(v) for v in span.events[0].attributes.values())]  # type: ignore[union-attr]
    for text in shown:
        assert sent.raw_path.decode("ascii") not in text
        assert f"/clients/{segment}/notes" not in text
