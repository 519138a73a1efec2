"""A response body that keeps its request's purpose scope open until it is consumed or
closed, for the synchronous servers (WSGI, Django): the scope lives in the request
thread's context, which the server iterates the body in. A streamed body is made after the
application returned, in the server instrumentation's context, which may hold the inbound
claim in OpenTelemetry's baggage: each step of it runs without (`otel_baggage_without_claim`).

What this module must not do: close the scope twice, or lose the error a body raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from opentelemetry import context as otel_context

from ..propagation.baggage import otel_baggage_without_claim
from ..scope import use

T = TypeVar("T")

#: An open scope: its `use`, and the tracing context it was opened in (so its span's
#: parent is the request's span, even when the server span has ended before the body).
Entry = tuple[use, otel_context.Context]


def open_scope(scope: use) -> Entry:
    scope.__enter__()
    return scope, otel_context.get_current()


def close_scope(entry: Entry, error: BaseException | None) -> None:
    scope, tracing = entry
    token = otel_context.attach(tracing)
    try:
        scope.__exit__(type(error) if error is not None else None, error, None)
    finally:
        otel_context.detach(token)


class ClosingBody(Generic[T]):
    """*body*, inside the scope of *entry* (if any); the scope closes when the body ends,
    raises or is closed (``close()``, which every WSGI server calls), once. Each step of the
    body, and its close, runs with no purpose claim in OpenTelemetry's baggage."""

    def __init__(self, body: Iterable[T], entry: Entry | None) -> None:
        self._body = body
        self._iterator: Iterator[T] | None = None
        self._entry: Entry | None = entry

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        try:
            with otel_baggage_without_claim():
                if self._iterator is None:
                    self._iterator = iter(self._body)
                return next(self._iterator)
        except StopIteration:
            self._finish(None)
            raise
        except BaseException as error:
            self._finish(error)
            raise

    def close(self) -> None:
        try:
            closer = getattr(self._body, "close", None)
            if closer is not None:
                with otel_baggage_without_claim():
                    closer()
        finally:
            self._finish(None)

    def _finish(self, error: BaseException | None) -> None:
        entry, self._entry = self._entry, None
        if entry is not None:
            close_scope(entry, error)
