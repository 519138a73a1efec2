"""A client span records the response's headers after the request hook has run: told to
capture them (``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE``), httpx's and
requests' instrumentations put a redirect's ``Location`` (``/clients/C-1003/notes/``) on
the span of its hop, past `hide_client_url`, which ran when the span started."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from _tracing import client_spans, leaks
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from purposeful.web.tracing import HIDDEN, ahide_client_url, hide_client_url

SUBJECT_IN_PATH = "SUBJECT-REDIRECT-41ac"
SECRET_IN_QUERY = "SENTINEL-RQ"
URL = f"http://notes.agency.example/clients/{SUBJECT_IN_PATH}/notes?name={SECRET_IN_QUERY}"
#: The answer to the first hop: a redirect to the same person's notes, with a slash.
MOVED = f"/clients/{SUBJECT_IN_PATH}/notes/?name={SECRET_IN_QUERY}"

Provider = tuple[TracerProvider, InMemorySpanExporter]


@pytest.fixture(autouse=True)
def captured_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The instrumentations read which headers to capture when they instrument."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_REQUEST", ".*")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_CLIENT_RESPONSE", ".*")


def _answer(request: httpx.Request) -> httpx.Response:
    if not request.url.path.endswith("/"):
        return httpx.Response(
            302, headers={"location": MOVED, "content-location": MOVED, "link": f"<{MOVED}>"}
        )
    return httpx.Response(200, json={"notes": []})


def _httpx(provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    client = httpx.Client(transport=httpx.MockTransport(_answer), follow_redirects=True)
    HTTPXClientInstrumentor.instrument_client(
        client, tracer_provider=provider, request_hook=hide_client_url
    )
    try:
        assert client.get(URL).status_code == 200
    finally:
        client.close()


def _httpx_async(provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    async def call() -> None:
        client = httpx.AsyncClient(transport=httpx.MockTransport(_answer), follow_redirects=True)
        HTTPXClientInstrumentor.instrument_client(
            client, tracer_provider=provider, request_hook=ahide_client_url
        )
        try:
            assert (await client.get(URL)).status_code == 200
        finally:
            await client.aclose()

    asyncio.run(call())


def _requests(provider: TracerProvider) -> None:
    instrumentation = pytest.importorskip("opentelemetry.instrumentation.requests")
    import requests
    from requests.adapters import BaseAdapter

    class Answering(BaseAdapter):  # type: ignore[misc]
        """An adapter answering as `_answer` does, with no network."""

        def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
            answer = _answer(httpx.Request(request.method or "GET", request.url or ""))
            response = requests.Response()
            response.status_code = answer.status_code
            response.headers.update(answer.headers)
            response.url = request.url or ""
            response.request = request
            response._content = answer.content
            return response

        def close(self) -> None:
            pass

    instrumentor = instrumentation.RequestsInstrumentor()
    instrumentor.instrument(tracer_provider=provider, request_hook=hide_client_url)
    try:
        with requests.Session() as session:
            session.mount("http://", Answering())
            # requests follows redirects inside the instrumented call, its hops untraced:
            # the redirect itself, not followed, is the span that shows its Location
            assert session.get(URL, allow_redirects=False).status_code == 302
    finally:
        instrumentor.uninstrument()


CALLS: dict[str, Callable[[TracerProvider], None]] = {
    "httpx": _httpx,
    "httpx-async": _httpx_async,
    "requests": _requests,
}


@pytest.mark.parametrize("client", list(CALLS))
def test_a_redirects_location_is_hidden_on_the_client_span_of_its_hop(
    client: str,
    semconv: str,
    spans: Provider,
) -> None:
    provider, exporter = spans
    CALLS[client](provider)
    hops = client_spans(exporter)
    assert len(hops) == (1 if client == "requests" else 2)  # httpx: a span for each hop
    assert leaks(hops, SUBJECT_IN_PATH, SECRET_IN_QUERY) == []
    first = dict(hops[0].attributes or {})
    assert first["http.response.header.location"] == (HIDDEN,)
    assert first["http.response.header.content_location"] == (HIDDEN,)
