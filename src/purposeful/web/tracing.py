"""Server spans that name the route, never the request's path or query.

The frameworks' OpenTelemetry instrumentations record the request's path and query on the
server span (``http.target``, ``http.url``, ``url.path``, ``url.query``, ``url.full``,
which of them depending on ``OTEL_SEMCONV_STABILITY_OPT_IN``), and the generic ASGI and
WSGI middlewares name the span after the path (``GET /clients/C-1003``). A path often holds
a client id, and the scope's span (``purposeful.use``) is a child of that server span with
the client's keyed pseudonym: anyone who can read traces could pair the two, and the
pseudonyms would no longer hide anyone. These hooks, passed to the instrumentations, write
the route template over every such attribute instead (``/clients/{client_id}``), or
`HIDDEN` where no route is known (a 404, plain WSGI), and name the span by its method and
route:

- `hide_asgi_path`: ``server_request_hook`` of ``FastAPIInstrumentor.instrument_app`` and
  of the ASGI ``OpenTelemetryMiddleware`` (with `asgi_span_details` as its
  ``default_span_details``, which names its spans before they start);
- `hide_django_path` and `hide_django_route`: ``request_hook`` and ``response_hook`` of
  ``DjangoInstrumentor().instrument``;
- `hide_wsgi_path`: ``request_hook`` of the WSGI ``OpenTelemetryMiddleware``;
- `hide_client_url` and `ahide_client_url`: ``request_hook`` and ``async_request_hook`` of
  ``HTTPXClientInstrumentor``, and ``request_hook`` of ``RequestsInstrumentor``: the client
  span of a call to another service records the URL it calls
  (``http://case.agency.example/clients/C-1003/notes``), in the same trace as both
  services' scope spans.

Needs only the OpenTelemetry API. What this module must not do: import a web framework or
the OpenTelemetry SDK, or add to a span a URL attribute it did not have.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import unquote, unquote_plus, urlsplit

from opentelemetry.trace import Span, Status

__all__ = [
    "HIDDEN",
    "URL_HEADERS",
    "ahide_client_url",
    "asgi_span_details",
    "hide_asgi_path",
    "hide_client_url",
    "hide_django_path",
    "hide_django_route",
    "hide_path",
    "hide_wsgi_path",
]

#: What stands for the path, and for the query, where no route template is known.
HIDDEN: Final = "(hidden)"

#: The attributes that hold the path (and, for ``http.target``, the query) alone.
_PATHS: Final = ("http.target", "url.path")
#: The attributes that hold the whole URL: its scheme and host are kept.
_URLS: Final = ("http.url", "url.full")
_QUERY: Final = "url.query"
_ROUTE: Final = "http.route"
#: The headers that carry a URL (a path, a query): another page's (``Referer``), the
#: request's own as a proxy saw it (``X-Original-URI``), a redirect's (``Location``,
#: ``Refresh``), related pages' (``Link``: the next page of a list, say). An
#: instrumentation told to capture headers (``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*``)
#: records them as ``http.request.header.referer`` and the like: the hooks write `HIDDEN`
#: over those they find. Give them to the instrumentation as its sanitised fields too
#: (``http_capture_headers_sanitize_fields=URL_HEADERS``): the ASGI and WSGI middlewares
#: record response headers after every hook has run.
URL_HEADERS: Final = (
    "referer",
    "location",
    "content-location",
    "link",
    "refresh",
    "x-original-uri",
    "x-original-url",
    "x-forwarded-uri",
    "x-forwarded-path",
    "x-rewrite-url",
    "x-envoy-original-path",
)
_HEADER_ATTRIBUTES: Final = frozenset(
    f"http.{side}.header.{name.replace('-', '_')}"
    for side in ("request", "response")
    for name in URL_HEADERS
)
#: A captured ``baggage`` header (``http.request.header.baggage``): a purpose claim in it
#: (the caller's actor id and role, and a token that this service accepts until it
#: expires) is taken out; its other members stay.
_BAGGAGE_ATTRIBUTES: Final = frozenset(
    {"http.request.header.baggage", "http.response.header.baggage"}
)
#: The methods a span is named by; any other is named ``HTTP``, as the instrumentations do.
_METHODS: Final = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)


def hide_path(span: Span, route: str | None = None, name: str | None = None) -> None:
    """Write *route* (or `HIDDEN`) over the path and query attributes *span* holds.

    ``http.target`` and ``url.path`` become the route, ``url.query`` becomes `HIDDEN`, and
    ``http.url`` and ``url.full`` keep their scheme and host with the route as their path
    and no query; a captured header that carries a URL (`URL_HEADERS`: ``Referer``,
    ``Location``...) becomes `HIDDEN`, and a captured ``baggage`` header loses its purpose
    claim (its other members stay). Only the attributes the span has are written, so the
    span keeps the semantic conventions the instrumentation chose; a recording span whose attributes
    cannot be read (not the SDK's) gets all five, as a leak is worse than an extra
    attribute. If *name* is given, the span is renamed to it. The hooks below call this;
    call it from a hook of your own for another instrumentation.
    """
    if not span.is_recording():
        return
    shown = _attributes(span)
    path = route or HIDDEN
    for key in _PATHS:
        if shown is None or key in shown:
            span.set_attribute(key, path)
    for key in _URLS:
        if shown is None or key in shown:
            span.set_attribute(key, _with_path(None if shown is None else shown[key], path))
    if shown is None or _QUERY in shown:
        span.set_attribute(_QUERY, HIDDEN)
    for key in _HEADER_ATTRIBUTES.intersection(shown or ()):
        value = shown[key] if shown is not None else None
        count = len(value) if isinstance(value, tuple | list) else 1
        span.set_attribute(key, [HIDDEN] * count)
    for key in _BAGGAGE_ATTRIBUTES.intersection(shown or ()):
        assert shown is not None
        span.set_attribute(key, _without_claim(shown[key]))
    if name is not None:
        span.update_name(name)


def hide_asgi_path(span: Span, scope: Mapping[str, Any]) -> None:
    """ASGI ``server_request_hook``: the server span shows the route, not the path.

    The route is the span's ``http.route``, which FastAPI's instrumentation sets from the
    matched route before this hook runs; the generic middleware knows none, so its span
    shows `HIDDEN` and is renamed from ``GET /clients/C-1003`` to ``GET``.
    """
    route = _route(span)
    hide_path(span, route, _name(scope.get("method"), route, scope.get("type")))


def asgi_span_details(scope: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """``default_span_details`` of the generic ASGI ``OpenTelemetryMiddleware``: the
    request's method (``GET``) as the span's name, not the method and path.

    The middleware names its server span, and the ``http send`` and ``http receive``
    spans under it, before any hook runs: without this, those children keep the path in
    their names. (FastAPI's instrumentation names them by the route already.)
    """
    return _name(scope.get("method"), None, scope.get("type")), {}


def hide_django_path(span: Span, request: object) -> None:
    """Django ``request_hook``: the server span shows `HIDDEN` for the path.

    The route is not resolved yet when this runs; `hide_django_route`, the response hook,
    writes it once it is. (Django's instrumentation names the span by the route already.)
    The request's attributes the instrumentation copied onto the span
    (``OTEL_PYTHON_DJANGO_TRACED_REQUEST_ATTRS``) that hold its path or query (``path_info``,
    ``path``, ``GET``, ``META``, a method, whose text names the request with its path)
    become `HIDDEN` too.
    """
    hide_path(span, _route(span))
    _hide_traced_attributes(span, request)


def hide_django_route(span: Span, request: object, response: object) -> None:
    """Django ``response_hook``: the server span shows the matched URL pattern
    (``clients/<str:client_id>``), or `HIDDEN` if none matched."""
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None)
    hide_path(span, route if isinstance(route, str) and route else _route(span))


def hide_wsgi_path(span: Span, environ: Mapping[str, Any]) -> None:
    """WSGI ``request_hook``: the server span shows `HIDDEN` for the path (WSGI knows no
    routes) and is renamed from ``GET /clients/C-1003`` to ``GET``."""
    hide_path(span, None, _name(environ.get("REQUEST_METHOD"), None, None))


def hide_client_url(span: Span, request: object = None) -> None:
    """Client ``request_hook`` (httpx's and requests' instrumentations): the client span
    shows the host it called with `HIDDEN` for the path, never the path or query.

    An outgoing request knows no route template, so ``http.url`` and ``url.full`` become
    ``http://notes.agency.example/(hidden)`` and ``url.query`` `HIDDEN`; the span keeps its
    name (the method alone). The instrumentations record the response, or the call's
    exception, on the span after this hook has run: what they set then is watched too. A
    captured header that carries a URL (a redirect's ``Location``, `URL_HEADERS`) becomes
    `HIDDEN`, and so does the URL called, its path or its query wherever they show in a
    text (an exception's message and stack trace, the span's status: requests' connection
    errors name the URL). A captured ``baggage`` header shows no purpose claim: httpx's
    instrumentation records it after `Outbound`'s hook added one. For httpx's
    ``AsyncClient``, give ``async_request_hook``
    `ahide_client_url`.
    """
    if not span.is_recording():
        return
    texts = _url_texts(span, request)
    hide_path(span, None)
    _watch(span, texts)


async def ahide_client_url(span: Span, request: object = None) -> None:
    """`hide_client_url` as httpx's ``async_request_hook``, which must be a coroutine."""
    hide_client_url(span, request)


def _url_texts(span: Span, request: object) -> list[str]:
    """The texts that show the URL *request* calls (the span's URL attributes' and the
    request's own): the URL, its path with and without the query, the query, each as sent
    and decoded; the longest first, so that the URL is hidden whole where it shows."""
    shown = _attributes(span) or {}
    urls = [shown.get(key) for key in _URLS]
    called = getattr(request, "url", None)
    urls.append(str(called) if called is not None else None)
    return sorted(_forms(urls), key=len, reverse=True)


def _forms(urls: Iterable[object]) -> set[str]:
    """Each of *urls* (the texts among them), its path with and without the query and its
    query, each as written and decoded."""
    texts: set[str] = set()
    for url in urls:
        if not isinstance(url, str):
            continue
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for text in (url, target, parts.path, parts.query):
            for form in (text, unquote(text), unquote_plus(text)):
                if len(form.strip("/")) > 1:  # "/" alone names no one
                    texts.add(form)
    return texts


#: An absolute URL in an exception's message (``Invalid URL 'http://...'``).
_ABSOLUTE_URL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def _exception_urls(exception: BaseException) -> list[object]:
    """The URLs *exception* and the exceptions it was raised from or during name: the
    request and response they carry (requests' and httpx's errors; a response's redirects
    too), urllib3's ``url`` (a path, as it sent it), and any absolute URL in their messages.
    requests follows redirects inside one client span: a later hop's error quotes a URL
    the request hook never saw."""
    urls: list[object] = []
    seen: set[int] = set()
    waiting: list[BaseException | None] = [exception]
    while waiting:
        error = waiting.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        responses = [_quietly(error, "response")]
        history = getattr(responses[0], "history", None)
        responses += list(history) if isinstance(history, list | tuple) else []
        requests = [_quietly(error, "request")]
        requests += [_quietly(response, "request") for response in responses]
        for each in (*requests, *responses):
            url = _quietly(each, "url")
            urls.append(str(url) if url is not None else None)
        urls += [_quietly(error, "url"), _quietly(error, "location")]
        with contextlib.suppress(Exception):  # an error whose str() fails quotes nothing
            urls += _ABSOLUTE_URL.findall(str(error))
        waiting += [error.__cause__, error.__context__]
    return urls


def _quietly(owner: object, name: str) -> Any:
    """``owner.name``, or None where reading it raises (httpx's ``request`` of an error
    raised without one)."""
    try:
        return getattr(owner, name, None)
    except Exception:  # a property that raises holds nothing to hide
        return None


def _scrubbed(value: Any, texts: list[str]) -> Any:
    """*value* with `HIDDEN` for each of *texts* in it (in each text of a sequence)."""
    if isinstance(value, str):
        for text in texts:
            value = value.replace(text, HIDDEN)
        return value
    if isinstance(value, tuple | list):
        return type(value)(_scrubbed(each, texts) for each in value)
    return value


def _without_claim(value: Any) -> Any:
    """A captured ``baggage`` header's value (a text, or a sequence of them: one for each
    header, or for each member where an instrumentation splits at commas) without a purpose
    claim member; a text that held only the claim is left out."""
    if isinstance(value, tuple | list):
        kept = [(each, _without_claim(each)) for each in value]
        return [scrubbed for each, scrubbed in kept if scrubbed or not each]
    if not isinstance(value, str):
        return value
    from ..propagation.baggage import remove_claim

    carrier = {"baggage": value}
    remove_claim(carrier)
    return carrier.get("baggage", "")


def _watch(span: Span, texts: list[str]) -> None:
    """Hide what the instrumentation records on *span* after the request hook: `HIDDEN`
    over a URL attribute or a URL-carrying header, and over each of *texts* (the URL
    called) in any other attribute, an event's attributes (an exception's message and
    stack trace), the status's description and the name. An exception recorded adds the
    URLs it names (`_exception_urls`: a redirect's, with requests) to *texts* first. Done
    by shadowing the span's own methods; a span that takes no attributes of its own is left
    as it is."""
    set_attribute = span.set_attribute
    add_event = span.add_event
    record_exception = span.record_exception
    set_status = span.set_status
    update_name = span.update_name

    def hidden(key: str, value: Any) -> Any:
        if key in _PATHS or key == _QUERY:
            return HIDDEN
        if key in _URLS:
            return _with_path(value, HIDDEN)
        if key in _HEADER_ATTRIBUTES:
            return [HIDDEN] * (len(value) if isinstance(value, tuple | list) else 1)
        if key in _BAGGAGE_ATTRIBUTES:
            return _without_claim(value)
        return _scrubbed(value, texts)

    def watched_attribute(key: str, value: Any) -> None:
        set_attribute(key, hidden(key, value))

    def watched_attributes(attributes: Mapping[str, Any]) -> None:
        for key, value in attributes.items():
            watched_attribute(key, value)

    def watched_event(name: str, attributes: Any = None, *args: Any, **kwargs: Any) -> None:
        if isinstance(attributes, Mapping):
            attributes = {key: _scrubbed(value, texts) for key, value in attributes.items()}
        add_event(_scrubbed(name, texts), attributes, *args, **kwargs)

    def watched_exception(exception: BaseException, *args: Any, **kwargs: Any) -> None:
        learned = _forms(_exception_urls(exception)).difference(texts)
        if learned:
            texts[:] = sorted([*texts, *learned], key=len, reverse=True)
        record_exception(exception, *args, **kwargs)

    def watched_status(status: Any, description: str | None = None) -> None:
        if isinstance(status, Status) and status.description:
            status = Status(status.status_code, _scrubbed(status.description, texts))
        set_status(status, _scrubbed(description, texts))

    def watched_name(name: str) -> None:
        update_name(_scrubbed(name, texts))

    try:
        span.set_attribute = watched_attribute  # type: ignore[method-assign]
        span.set_attributes = watched_attributes  # type: ignore[method-assign]
        span.add_event = watched_event  # type: ignore[method-assign]
        span.record_exception = watched_exception  # type: ignore[method-assign]
        span.set_status = watched_status  # type: ignore[method-assign]
        span.update_name = watched_name  # type: ignore[method-assign]
    except (AttributeError, TypeError):  # pragma: no cover - a span with __slots__
        pass


#: Django's request attributes whose text holds the path or the query (or every header).
_DJANGO_REQUEST: Final = frozenset(
    {"path", "path_info", "get_full_path", "GET", "META", "environ", "scope", "headers"}
)
#: The attribute namespaces the instrumentations' own conventions use: `hide_path`'s.
_CONVENTIONS: Final = ("http.", "url.", "net.", "server.", "client.", "network.", "user_agent.")


def _hide_traced_attributes(span: Span, request: object) -> None:
    """Write `HIDDEN` over the attributes of *span* the instrumentation copied from
    *request* that hold its path or query: by name, or by holding the path's text."""
    shown = _attributes(span)
    if not shown or not span.is_recording():
        return
    paths = {getattr(request, name, None) for name in ("path", "path_info")}
    texts = [path for path in paths if isinstance(path, str) and path.strip("/")]
    for key, value in list(shown.items()):
        if key.startswith(_CONVENTIONS):
            continue
        named = key in _DJANGO_REQUEST or key.replace("_", "-").lower() in URL_HEADERS
        if named or (isinstance(value, str) and any(text in value for text in texts)):
            span.set_attribute(key, HIDDEN)


def _attributes(span: Span) -> Mapping[str, object] | None:
    """The span's attributes, where the span shows them (the SDK's spans do)."""
    shown = getattr(span, "attributes", None)
    return shown if isinstance(shown, Mapping) else None


def _route(span: Span) -> str | None:
    """The route template the instrumentation set on *span*, if any."""
    route = (_attributes(span) or {}).get(_ROUTE)
    return route if isinstance(route, str) and route else None


def _with_path(url: object, path: str) -> str:
    """*url*'s scheme and host with *path*, and no query or fragment."""
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or not parts.netloc:
        return path
    return f"{parts.scheme}://{parts.netloc}/{path.removeprefix('/')}"


def _name(method: object, route: str | None, kind: object) -> str:
    """``METHOD route``, or ``METHOD`` alone; a request without a method (a websocket) is
    named by the route or its kind."""
    if isinstance(method, str) and method.strip():
        verb = method.strip().upper()
        verb = verb if verb in _METHODS else "HTTP"
        return f"{verb} {route}" if route else verb
    if route:
        return route
    return kind.upper() if isinstance(kind, str) and kind else "HTTP"
