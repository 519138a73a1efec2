"""The client span of a call to another service names the host it called, never the path or
the query, when httpx's instrumentation is given `hide_client_url` (and `ahide_client_url`).

A service calling another for a person puts the person's id in the path
(``/clients/C-1003/notes``), and the client span sits in the same trace as the scope spans
of both services, which hold that person's pseudonym: a trace that shows both pairs them.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from _tracing import client_span, leaks
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from purposeful.web.tracing import HIDDEN, ahide_client_url, hide_client_url

SUBJECT_IN_PATH = "SUBJECT-CLIENT-9c1d"
SECRET_IN_QUERY = "SENTINEL-CQ"
URL = f"http://notes.agency.example/clients/{SUBJECT_IN_PATH}/notes?name={SECRET_IN_QUERY}"

Provider = tuple[TracerProvider, InMemorySpanExporter]


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"notes": []})


def _sync(provider: TracerProvider, hooked: bool) -> None:
    client = httpx.Client(transport=httpx.MockTransport(_answer))
    hooks = {"request_hook": hide_client_url} if hooked else {}
    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider, **hooks)
    try:
        assert client.get(URL).status_code == 200
    finally:
        client.close()


def _async(provider: TracerProvider, hooked: bool) -> None:
    async def call() -> None:
        client = httpx.AsyncClient(transport=httpx.MockTransport(_answer))
        hooks = {"request_hook": ahide_client_url} if hooked else {}  # a coroutine: async
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider, **hooks)
        try:
            assert (await client.get(URL)).status_code == 200
        finally:
            await client.aclose()

    asyncio.run(call())


@pytest.mark.parametrize("call", [_sync, _async], ids=["sync", "async"])
def test_the_client_span_names_the_host_not_the_path_nor_the_query(
    call: object, semconv: str, spans: Provider
) -> None:
    provider, exporter = spans
    call(provider, True)  # type: ignore[operator]
    assert leaks(exporter.get_finished_spans(), SUBJECT_IN_PATH, SECRET_IN_QUERY) == []
    attributes = dict(client_span(exporter).attributes or {})
    urls = [key for key in ("http.url", "url.full") if key in attributes]
    assert urls, attributes
    for key in urls:
        assert attributes[key] == f"http://notes.agency.example/{HIDDEN}"


@pytest.mark.parametrize("call", [_sync, _async], ids=["sync", "async"])
def test_without_the_hook_the_client_span_shows_the_id_in_the_url(
    call: object, spans: Provider
) -> None:
    provider, exporter = spans
    call(provider, False)  # type: ignore[operator]
    assert leaks(exporter.get_finished_spans(), SUBJECT_IN_PATH) != []
