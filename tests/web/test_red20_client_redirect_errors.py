"""requests follows a redirect inside the instrumented call, its hops untraced: the one
client span records the exception of a later hop, which quotes the URL the redirect led to
(``Max retries exceeded with url: /people/C-1003/record``, ``404 Client Error: Not Found
for url: http://.../people/C-1003/record``), a URL `hide_client_url` never saw when the span
started. It is hidden too, wherever the exception or the span's status quotes it."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from _tracing import client_span, leaks
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from purposeful.web.tracing import hide_client_url

requests = pytest.importorskip("requests")
instrumentation = pytest.importorskip("opentelemetry.instrumentation.requests")

SUBJECT_IN_PATH = "SUBJECT-CALLED-3e0b"
SUBJECT_MOVED = "SUBJECT-MOVED-8f12"
SECRET_MOVED = "SENTINEL-MQ"
URL = f"http://notes.agency.example/clients/{SUBJECT_IN_PATH}/notes"
MOVED = f"/people/{SUBJECT_MOVED}/record?name={SECRET_MOVED}"

Provider = tuple[TracerProvider, InMemorySpanExporter]


def _closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])


class Answering(requests.adapters.BaseAdapter):  # type: ignore[misc]
    """notes.agency.example: the first hop is redirected to *moved*; the hop it leads to
    is answered 404 (the person's record is not there)."""

    def __init__(self, moved: str) -> None:
        super().__init__()
        self.moved = moved

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        response = requests.Response()
        response.url = request.url or ""
        response.request = request
        response._content = b""
        if "/clients/" in response.url:
            response.status_code = 302
            response.headers["location"] = self.moved
        else:
            response.status_code = 404
            response.reason = "Not Found"
        return response

    def close(self) -> None:
        pass


def _refused_elsewhere(session: requests.Session) -> None:
    """Redirected to a host that refuses the connection: urllib3's error names the path."""
    session.mount(
        "http://notes.agency.example", Answering(f"http://127.0.0.1:{_closed_port()}{MOVED}")
    )
    with pytest.raises(requests.ConnectionError) as refused:
        session.get(URL, timeout=5)
    assert SUBJECT_MOVED in str(refused.value)  # it names the URL it was led to


def _raised_for_status(session: requests.Session) -> None:
    """A response hook that raises for an error status, on the hop the redirect led to."""
    session.mount("http://notes.agency.example", Answering(MOVED))
    session.hooks["response"].append(lambda response, **kwargs: response.raise_for_status())
    with pytest.raises(requests.HTTPError) as failed:
        session.get(URL, timeout=5)
    assert SUBJECT_MOVED in str(failed.value)


CALLS: dict[str, Callable[[requests.Session], None]] = {
    "refused": _refused_elsewhere,
    "raise_for_status": _raised_for_status,
}


@pytest.mark.parametrize("failure", list(CALLS))
def test_a_redirected_calls_exception_does_not_name_where_it_was_led(
    failure: str,
    semconv: str,
    spans: Provider,
) -> None:
    provider, exporter = spans
    instrumentor = instrumentation.RequestsInstrumentor()
    instrumentor.instrument(tracer_provider=provider, request_hook=hide_client_url)
    try:
        with requests.Session() as session:
            CALLS[failure](session)
    finally:
        instrumentor.uninstrument()
    span = client_span(exporter)
    assert [event.name for event in span.events] == ["exception"]  # still recorded
    assert leaks([span], SUBJECT_IN_PATH, SUBJECT_MOVED, SECRET_MOVED) == []
    for secret in (SUBJECT_MOVED, SECRET_MOVED):
        assert secret not in (span.status.description or "")
