"""The WSGI middleware: called as a server calls it, and behind a real waitress server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.util import setup_testing_defaults

import httpx2 as httpx
import pytest
from _webkit import (
    CASE_MANAGEMENT,
    CASEWORKER,
    CLERK,
    INTAKE_ACTOR,
    SECRET_DIAGNOSIS,
    claim_headers,
    client,
    leaks,
    trust_store,
)

import purposeful
from _records import RecordingSink
from purposeful import Actor
from purposeful.errors import ConfigurationError, UnknownPurpose
from purposeful.web import no_purpose
from purposeful.web.wsgi import PurposeMiddleware

TABLE = {"/cases": CASE_MANAGEMENT, "/service": "service-delivery", "/health": no_purpose}


def actor(environ: dict[str, Any]) -> Actor | None:
    return {"caseworker": CASEWORKER, "clerk": CLERK}.get(environ.get("HTTP_X_USER", ""))


class Body:
    """A lazy body that notes the scope each chunk was made in, and its close."""

    def __init__(self, chunks: Callable[[], Iterator[bytes]], events: list[str]) -> None:
        self._chunks = chunks
        self.events = events

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks():
            scope = purposeful.current_scope()
            self.events.append(f"chunk:{scope.purpose.id if scope else None}")
            yield chunk

    def close(self) -> None:
        self.events.append("close")


def application(events: list[str]) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path.endswith("/diagnosis"):
            body = json.dumps({"diagnosis": client().diagnosis}).encode()
            start_response("200 OK", [("content-type", "application/json")])
            return [body]
        if path.endswith("/stream"):
            start_response("200 OK", [("content-type", "text/plain")])

            def chunks() -> Iterator[bytes]:
                yield b"first;"
                yield client().diagnosis.encode()

            return Body(chunks, events)
        scope = purposeful.current_scope()
        found = (
            {"purpose": None}
            if scope is None
            else {
                "purpose": scope.purpose.id,
                "actor": scope.actor.id,
                "upstream": scope.upstream.service if scope.upstream else None,
            }
        )
        start_response("200 OK", [("content-type", "application/json")])
        return [json.dumps(found).encode()]

    return app


def call(
    app: Callable[..., Iterable[bytes]], path: str, **headers: str
) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {"PATH_INFO": path}
    setup_testing_defaults(environ)
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got["status"], got["headers"] = status, dict(headers)
        return lambda data: None

    body = app(environ, start_response)
    try:
        content = b"".join(body)
    finally:
        closer = getattr(body, "close", None)
        if closer is not None:
            closer()
    return got["status"], got["headers"], content


def middleware(events: list[str] | None = None, **options: Any) -> PurposeMiddleware:
    options.setdefault("purposes", TABLE)
    return PurposeMiddleware(
        application(events if events is not None else []), actor=actor, **options
    )


def test_a_prefix_opens_its_purpose_for_the_whole_body(sink: RecordingSink) -> None:
    events: list[str] = []
    status, _, content = call(middleware(events), "/cases/9/stream", x_user="caseworker")
    assert status == "200 OK"
    assert content == b"first;" + SECRET_DIAGNOSIS.encode()
    assert events == [f"chunk:{CASE_MANAGEMENT}", f"chunk:{CASE_MANAGEMENT}", "close"]
    assert len(sink.reports) == 1
    assert purposeful.current_scope() is None


def test_the_longest_prefix_wins_on_segment_boundaries() -> None:
    table = {"/": "service-delivery", "/cases": CASE_MANAGEMENT, "/health": no_purpose}
    app = middleware(purposes=table)
    assert json.loads(call(app, "/cases/1", x_user="clerk")[2])["purpose"] == CASE_MANAGEMENT
    assert json.loads(call(app, "/casesx", x_user="clerk")[2])["purpose"] == "service-delivery"
    assert json.loads(call(app, "/health")[2]) == {"purpose": None}


def test_a_callable_declares_per_request() -> None:
    app = middleware(
        purposes=lambda environ: CASE_MANAGEMENT if environ["PATH_INFO"] == "/a" else None
    )
    assert json.loads(call(app, "/a", x_user="clerk")[2])["purpose"] == CASE_MANAGEMENT
    assert json.loads(call(app, "/b", x_user="clerk")[2]) == {"purpose": None}


def test_a_refusal_before_the_body_is_a_403_problem() -> None:
    status, headers, content = call(middleware(), "/cases/1/diagnosis", x_user="clerk")
    assert status == "403 Forbidden"
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(content)["reason_codes"] == ["clearance-too-low"]
    assert leaks(content) == []


def test_no_actor_is_a_401_problem_with_a_challenge() -> None:
    status, headers, _ = call(middleware(), "/cases/1")
    assert status == "401 Unauthorized"
    assert headers["www-authenticate"] == 'Bearer realm="purposeful"'


def test_require_purposes_checks_the_routes_at_construction() -> None:
    with pytest.raises(ConfigurationError, match=r"declare no purpose: /reports\."):
        middleware(require_purposes=True, routes=["/cases/1", "/health", "/reports"])
    app = middleware(require_purposes=True, routes=["/cases/1"])
    with pytest.raises(ConfigurationError):
        call(app, "/elsewhere")


def test_a_misspelt_purpose_in_the_table_fails_at_construction() -> None:
    with pytest.raises(UnknownPurpose):
        middleware(purposes={"/x": "service-delivery.case-managment"})
    with pytest.raises(ConfigurationError, match=r"purpose id or purposeful\.web\.no_purpose"):
        middleware(purposes={"/x": 3})


def test_a_covering_claim_opens_with_the_callers_actor() -> None:
    headers = claim_headers(CASE_MANAGEMENT)
    app = middleware(trust=trust_store())
    _, _, content = call(app, "/cases/1", baggage=headers["baggage"])
    assert json.loads(content) == {
        "purpose": CASE_MANAGEMENT,
        "actor": INTAKE_ACTOR.id,
        "upstream": "intake",
    }
    assert call(app, "/cases/1", baggage="purposeful=forged")[0] == "401 Unauthorized"


def serve(app: Callable[..., Iterable[bytes]]) -> tuple[Any, int, threading.Thread]:
    from waitress.server import create_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, port, thread


def test_behind_waitress_a_refusal_while_streaming_cuts_the_body() -> None:
    events: list[str] = []
    server, port, thread = serve(middleware(events))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            ok = http.get("/cases/1", headers={"x-user": "clerk"})
            assert ok.json()["actor"] == CLERK.id
            got = b""
            with http.stream("GET", "/cases/1/stream", headers={"x-user": "clerk"}) as answer:
                assert answer.status_code == 200
                chunks = answer.iter_bytes()
                got += next(chunks)
                with pytest.raises(httpx.HTTPError):
                    got += b"".join(chunks)
        assert leaks(got) == []
        deadline = time.monotonic() + 10
        while "close" not in events and time.monotonic() < deadline:
            time.sleep(0.01)
        assert events[-1] == "close"
    finally:
        server.close()
        thread.join(10)
