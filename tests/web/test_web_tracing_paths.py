"""The server span of a request names its route, never the request's path or query, when
the instrumentations are given the hooks of `purposeful.web.tracing`.

A path such as ``/clients/C-1003`` holds a client id, and the scope's span, a child of the
server span, holds that client's pseudonym: a trace that shows both pairs them. Every test
here requests a path holding a sentinel id (and a query holding a sentinel value) through
the real instrumentation, exported by the SDK, and searches every span's name, attributes
and events for them, under each ``OTEL_SEMCONV_STABILITY_OPT_IN`` setting (which decides
which URL attributes the instrumentations set: ``http.target`` and ``http.url`` by default,
``url.path``, ``url.query`` and ``url.full`` with ``http``, all of them with ``http/dup``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast
from urllib.parse import quote, unquote_to_bytes
from wsgiref.util import setup_testing_defaults

import pytest
from _tracing import leaks, opt_in, server_span
from _webkit import CASE_MANAGEMENT, CASEWORKER, WebClient
from django.test import AsyncClient, Client, override_settings
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware as AsgiMiddleware
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware as WsgiMiddleware
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from purposeful.audit.conventions import SPAN_NAME
from purposeful.web import purpose
from purposeful.web.asgi import PurposeMiddleware
from purposeful.web.tracing import (
    HIDDEN,
    asgi_span_details,
    hide_asgi_path,
    hide_django_path,
    hide_django_route,
    hide_path,
    hide_wsgi_path,
)

SUBJECT_IN_PATH = "SUBJECT-PATH-7f3a"
SECRET_IN_QUERY = "SENTINEL-Q"
TARGET = f"/clients/{SUBJECT_IN_PATH}?name={SECRET_IN_QUERY}"
NOWHERE = f"/nowhere/{SUBJECT_IN_PATH}?name={SECRET_IN_QUERY}"

#: What the server span shows for the path of TARGET, and the span's name, per instrumentation.
ROUTES = {
    "fastapi": ("/clients/{client_id}", "GET /clients/{client_id}"),
    "asgi": (HIDDEN, "GET"),
    "django": ("clients/<str:client_id>", "GET clients/<str:client_id>"),
    "django-asgi": ("clients/<str:client_id>", "GET clients/<str:client_id>"),
    "wsgi": (HIDDEN, "GET"),
}
#: The instrumentations a purpose scope (and so a pseudonym) runs under here.
SCOPED = {"fastapi", "django", "django-asgi"}

Provider = tuple[TracerProvider, InMemorySpanExporter]


# The applications: a detail route whose path holds the client's id, under each
# instrumentation, with or without the hooks.


def fastapi_app(provider: TracerProvider, *, hooked: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/clients/{client_id}")
    @purpose(CASE_MANAGEMENT)
    async def detail(client_id: str) -> dict[str, str]:
        return {"diagnosis": WebClient(client_id, "asthma", "").diagnosis}

    app.add_middleware(PurposeMiddleware, actor=lambda request: CASEWORKER)
    hook = hide_asgi_path if hooked else None
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, server_request_hook=hook)
    return app


def asgi_app(provider: TracerProvider, *, hooked: bool) -> AsgiMiddleware:
    async def detail(request: Request) -> JSONResponse:
        return JSONResponse({})

    app = Starlette(routes=[Route("/clients/{client_id}", detail)])
    if not hooked:
        return AsgiMiddleware(app, tracer_provider=provider)
    return AsgiMiddleware(
        app,
        tracer_provider=provider,
        server_request_hook=hide_asgi_path,
        default_span_details=asgi_span_details,
    )


@contextlib.contextmanager
def django_instrumented(provider: TracerProvider, *, hooked: bool) -> Iterator[None]:
    from django.conf import settings as django_settings

    hooks: dict[str, Any] = (
        {"request_hook": hide_django_path, "response_hook": hide_django_route} if hooked else {}
    )
    with override_settings(MIDDLEWARE=list(django_settings.MIDDLEWARE)):
        DjangoInstrumentor().instrument(tracer_provider=provider, **hooks)
        try:
            yield
        finally:
            DjangoInstrumentor().uninstrument()


def wsgi_get(provider: TracerProvider, target: str, *, hooked: bool, raw_uri: bool = True) -> int:
    """*target* through the WSGI instrumentation, with the environ a server makes (gunicorn
    also sets RAW_URI, the request line's target, which the instrumentation prefers)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("content-type", "text/plain")])
        return [b"ok"]

    hook = hide_wsgi_path if hooked else None
    middleware = WsgiMiddleware(app, request_hook=hook, tracer_provider=provider)
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "QUERY_STRING": query}
    environ["PATH_INFO"] = path_info(path)
    if raw_uri:
        environ["RAW_URI"] = target
    setup_testing_defaults(environ)
    status: list[str] = []
    body = middleware(environ, lambda s, headers, exc_info=None: status.append(s))
    b"".join(body)
    return int(status[0].split()[0])


def path_info(path: str) -> str:
    """PATH_INFO as WSGI gives it: percent-decoded, as latin-1 characters of UTF-8 bytes."""
    return unquote_to_bytes(path).decode("latin-1")


def get(framework: str, provider: TracerProvider, target: str, *, hooked: bool = True) -> int:
    """Request *target* from the application of *framework*; its status."""
    headers = {"x-user": "caseworker"}
    if framework == "fastapi":
        with TestClient(fastapi_app(provider, hooked=hooked)) as http:
            return http.get(target).status_code
    if framework == "asgi":
        with TestClient(asgi_app(provider, hooked=hooked)) as http:
            return http.get(target).status_code
    if framework == "django":
        with django_instrumented(provider, hooked=hooked):
            return Client().get(target, headers=headers, RAW_URI=target).status_code
    if framework == "django-asgi":
        with django_instrumented(provider, hooked=hooked):
            return asyncio.run(AsyncClient().get(target, headers=headers)).status_code
    assert framework == "wsgi"
    return wsgi_get(provider, target, hooked=hooked)


def assert_shows(server: ReadableSpan, route: str, name: str) -> None:
    """The server span's URL attributes show *route* for the path, and no query."""
    attributes = dict(server.attributes or {})
    paths = [key for key in ("http.target", "url.path") if key in attributes]
    urls = [key for key in ("http.url", "url.full") if key in attributes]
    assert paths or urls, f"no URL attribute on {server.name!r}: {attributes}"
    assert {key: attributes[key] for key in paths} == dict.fromkeys(paths, route)
    for key in urls:
        assert str(attributes[key]).endswith("://testserver/" + route.removeprefix("/")), key
    if "url.query" in attributes:
        assert attributes["url.query"] == HIDDEN
    assert server.name == name


@pytest.mark.parametrize("framework", list(ROUTES))
def test_the_server_span_names_the_route_not_the_path_nor_the_query(
    framework: str, semconv: str, spans: Provider
) -> None:
    provider, exporter = spans
    assert get(framework, provider, TARGET) == 200
    finished = list(exporter.get_finished_spans())
    assert leaks(finished, SUBJECT_IN_PATH, SECRET_IN_QUERY) == []
    server = server_span(finished)
    route, name = ROUTES[framework]
    if framework == "wsgi":  # the test environ's host is 127.0.0.1, not testserver
        attributes = dict(server.attributes or {})
        assert attributes.get("http.target", route) == attributes.get("url.path", route) == route
        assert server.name == name
    else:
        assert_shows(server, route, name)
    if framework in SCOPED:  # the pseudonym's span is there, under the server span
        (scope_span,) = [span for span in finished if span.name == SPAN_NAME]
        assert scope_span.parent is not None
        assert scope_span.parent.span_id == server.context.span_id


@pytest.mark.parametrize("framework", list(ROUTES))
def test_without_the_hooks_the_server_span_shows_the_id_in_the_path(
    framework: str, semconv: str, spans: Provider
) -> None:
    """What the hooks are for: the instrumentations, as configured by default, record the
    path (here holding the client's id) on the server span, beside the pseudonym."""
    provider, exporter = spans
    assert get(framework, provider, TARGET, hooked=False) == 200
    finished = list(exporter.get_finished_spans())
    assert leaks(finished, SUBJECT_IN_PATH) != []
    if framework in SCOPED:
        assert [span for span in finished if span.name == SPAN_NAME]


def test_the_generic_asgi_middleware_names_its_child_spans_before_any_hook(
    spans: Provider,
) -> None:
    """Why the generic middleware also needs `asgi_span_details`: its ``http send`` spans
    are named from the server span's first name, which the hook cannot reach."""
    provider, exporter = spans

    async def detail(request: Request) -> JSONResponse:
        return JSONResponse({})

    app = Starlette(routes=[Route("/clients/{client_id}", detail)])
    hooked = AsgiMiddleware(app, tracer_provider=provider, server_request_hook=hide_asgi_path)
    with TestClient(hooked) as http:
        assert http.get(TARGET).status_code == 200
    finished = list(exporter.get_finished_spans())
    assert leaks([server_span(finished)], SUBJECT_IN_PATH, SECRET_IN_QUERY) == []
    assert {name for name, _ in leaks(finished, SUBJECT_IN_PATH)} == {
        f"GET /clients/{SUBJECT_IN_PATH} http send"
    }


@pytest.mark.parametrize("framework", ["fastapi", "django", "django-asgi"])
def test_a_request_no_route_matches_shows_the_placeholder(
    framework: str, semconv: str, spans: Provider
) -> None:
    provider, exporter = spans
    assert get(framework, provider, NOWHERE) == 404
    finished = list(exporter.get_finished_spans())
    assert leaks(finished, SUBJECT_IN_PATH, SECRET_IN_QUERY) == []
    assert_shows(server_span(finished), HIDDEN, "GET")


def test_a_django_request_without_raw_uri_shows_the_placeholder_in_its_url(
    spans: Provider,
) -> None:
    """Without RAW_URI (Django's test client, some servers) the WSGI attributes carry the
    whole URL (``http.url``) by default, not the target."""
    provider, exporter = spans
    with opt_in(""), django_instrumented(provider, hooked=True):
        assert Client().get(NOWHERE).status_code == 404
    server = server_span(exporter.get_finished_spans())
    assert (server.attributes or {})["http.url"] == f"http://testserver/{HIDDEN}"
    assert leaks([server], SUBJECT_IN_PATH, SECRET_IN_QUERY) == []


@pytest.mark.parametrize("raw_uri", [True, False], ids=["raw-uri", "no-raw-uri"])
def test_a_wsgi_request_shows_the_placeholder(raw_uri: bool, semconv: str, spans: Provider) -> None:
    provider, exporter = spans
    assert wsgi_get(provider, TARGET, hooked=True, raw_uri=raw_uri) == 200
    server = server_span(exporter.get_finished_spans())
    assert leaks([server], SUBJECT_IN_PATH, SECRET_IN_QUERY) == []
    assert server.name == "GET"
    attributes = dict(server.attributes or {})
    for key in ("http.target", "url.path", "url.query"):
        assert attributes.get(key, HIDDEN) == HIDDEN
    for key in ("http.url", "url.full"):
        assert attributes.get(key, f"http://127.0.0.1/{HIDDEN}") == f"http://127.0.0.1/{HIDDEN}"


# Any id at all: escapes, unicode, a "?" or "#" inside the segment, a "/" (no route then).

MARK = "Zq7f3aMARK"
QUERY_MARK = "Qz9e1bMARK"
ANY_TEXT = st.text(max_size=8) | st.text(alphabet="%?#/&=+ .~-_\u00e9\u4e2d\U0001f600", max_size=8)


def segments() -> st.SearchStrategy[tuple[str, str]]:
    """An id holding MARK anywhere within it, and a query value holding QUERY_MARK."""
    return st.tuples(
        st.builds(lambda a, b: a + MARK + b, ANY_TEXT, ANY_TEXT),
        st.builds(lambda a, b: a + QUERY_MARK + b, ANY_TEXT, ANY_TEXT),
    )


def url_for(segment: str, value: str) -> str:
    return f"/clients/{quote(segment, safe='')}?name={quote(value, safe='')}"


def assert_never_shown(finished: list[ReadableSpan], segment: str, value: str) -> None:
    secrets = (MARK, QUERY_MARK, segment, quote(segment, safe=""), value)
    assert leaks(finished, *secrets) == []


def test_no_id_in_a_path_reaches_a_span_under_fastapi(spans: Provider) -> None:
    provider, exporter = spans
    with opt_in("http/dup"), TestClient(fastapi_app(provider, hooked=True)) as http:

        @settings(max_examples=40)
        @given(segments())
        def check(case: tuple[str, str]) -> None:
            segment, value = case
            exporter.clear()
            assert http.get(url_for(segment, value)).status_code in (200, 404)
            assert_never_shown(list(exporter.get_finished_spans()), segment, value)

        check()


def test_no_id_in_a_path_reaches_a_span_under_django(spans: Provider) -> None:
    provider, exporter = spans
    with opt_in("http/dup"), django_instrumented(provider, hooked=True):
        http = Client()

        @settings(max_examples=40)
        @given(segments())
        def check(case: tuple[str, str]) -> None:
            segment, value = case
            exporter.clear()
            target = url_for(segment, value)
            response = http.get(target, headers={"x-user": "caseworker"}, RAW_URI=target)
            assert response.status_code in (200, 404)
            assert_never_shown(list(exporter.get_finished_spans()), segment, value)

        check()


@settings(max_examples=40)
@given(segments())
def test_no_id_in_a_path_reaches_a_span_under_wsgi(case: tuple[str, str]) -> None:
    segment, value = case
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with opt_in("http/dup"):
        wsgi_get(provider, url_for(segment, value), hooked=True)
    assert_never_shown(list(exporter.get_finished_spans()), segment, value)


# The core, on spans made directly.


def one_span(attributes: dict[str, str], route: str | None, name: str | None = None) -> Any:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = provider.get_tracer("test").start_span("GET /clients/C-1003", attributes=attributes)
    hide_path(span, route, name)
    span.end()
    (finished,) = exporter.get_finished_spans()
    return finished


def test_only_the_url_attributes_a_span_has_are_written() -> None:
    finished = one_span({"http.target": "/clients/C-1003?x=1", "http.method": "GET"}, None)
    assert dict(finished.attributes) == {"http.target": HIDDEN, "http.method": "GET"}
    assert finished.name == "GET /clients/C-1003"  # renamed only when asked


def test_a_full_url_keeps_its_scheme_and_host() -> None:
    url = "https://REDACTED:REDACTED@example.org:8443/clients/C-1003?name=Aroha#top"
    finished = one_span({"url.full": url, "url.query": "name=Aroha"}, "/clients/{id}", "GET")
    assert dict(finished.attributes) == {
        "url.full": "https://REDACTED:REDACTED@example.org:8443/clients/{id}",
        "url.query": HIDDEN,
    }
    assert finished.name == "GET"


def test_a_url_that_does_not_parse_becomes_the_placeholder() -> None:
    finished = one_span({"http.url": "http://[C-1003/clients"}, None)
    assert dict(finished.attributes) == {"http.url": HIDDEN}


def test_a_span_that_is_not_recording_is_left_alone() -> None:
    hide_path(trace.NonRecordingSpan(trace.INVALID_SPAN_CONTEXT), "/x", "GET")


def test_a_span_whose_attributes_cannot_be_read_gets_every_url_attribute() -> None:
    """Another SDK's span: it may hold any of them, so all are written."""

    class Opaque:
        def __init__(self) -> None:
            self.written: dict[str, object] = {}

        def is_recording(self) -> bool:
            return True

        def set_attribute(self, key: str, value: object) -> None:
            self.written[key] = value

        def update_name(self, name: str) -> None:
            self.written["name"] = name

    span = Opaque()
    hide_path(cast(trace.Span, span), "/clients/{id}", "GET /clients/{id}")
    assert span.written == {
        "http.target": "/clients/{id}",
        "url.path": "/clients/{id}",
        "http.url": "/clients/{id}",
        "url.full": "/clients/{id}",
        "url.query": HIDDEN,
        "name": "GET /clients/{id}",
    }


@pytest.mark.parametrize(
    ("scope", "name"),
    [
        ({"type": "http", "method": "GET", "path": "/clients/C-1003"}, "GET"),
        ({"type": "http", "method": "BREW", "path": "/pot/C-1003"}, "HTTP"),
        ({"type": "websocket", "path": "/live/C-1003"}, "WEBSOCKET"),
    ],
)
def test_the_generic_asgi_span_is_named_without_the_path(scope: dict[str, str], name: str) -> None:
    assert asgi_span_details(scope) == (name, {})
