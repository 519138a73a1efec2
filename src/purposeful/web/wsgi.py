"""WSGI: a purpose scope around each request to any WSGI application.

``PurposeMiddleware(app, actor=..., purposes=...)``: *purposes* maps a request (its
environ) to the purpose it serves, either a table of path prefixes or a callable. The scope
opens before the application is called and closes when the response body has been
iterated or closed (every WSGI server calls ``close()``), so a body produced lazily is
read inside it. A refusal raised before the body starts is answered with an RFC 9457
problem; one raised while the body streams cuts it (the status is sent).

Needs nothing beyond the standard library. What this module must not do: log a path or a
header: a route is named by the prefix it matched.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Final, Protocol, TypeAlias

from .._config import get_configuration
from ..actors import Actor
from ..errors import ConfigurationError, NoActor, PurposeClaimRefused, PurposeViolation
from ..propagation.baggage import otel_baggage_holds_claim, otel_baggage_without_claim
from ._closing import ClosingBody, close_scope, open_scope
from ._declare import EXEMPT, _Exempt, no_purpose
from .policy import RequestPolicy, undeclared_routes_error
from .problems import DEFAULT_CHALLENGE, problem_for

__all__ = ["PurposeMiddleware"]

_REFUSALS: Final = (PurposeViolation, NoActor, PurposeClaimRefused)

Environ: TypeAlias = dict[str, Any]
ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]


class StartResponse(Protocol):
    def __call__(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: ExcInfo | None = ...,
        /,
    ) -> Callable[[bytes], object]: ...


WSGIApp: TypeAlias = Callable[[Environ, StartResponse], Iterable[bytes]]
#: A purpose id, `no_purpose` (exempt), or None (undeclared).
Declared: TypeAlias = "str | Callable[[Any], Any] | None"

_STATUS_TEXT: Final = {401: "401 Unauthorized", 403: "403 Forbidden"}


class PurposeMiddleware:
    """Open a purpose scope around each request to *app*.

    Args:
        app: the WSGI application.
        actor: called with the environ; returns the `Actor` acting, or None (a request
            for a purpose is then answered 401).
        purposes: either a mapping of path prefixes (``"/clients"`` covers ``/clients`` and
            ``/clients/...``, the longest prefix wins) to a purpose id or `no_purpose`, or
            a callable given the environ and returning one of those or None (undeclared).
        trust: a `purposeful.propagation.TrustStore` to accept signed purpose claims from.
        ignore_inbound: read no claim even with a trust store.
        require_purposes: with *routes*, every route must match a prefix of the table
            (checked now); at request time, a request no prefix or callable declares is
            refused with a `ConfigurationError` (a 500 from the server).
        routes: the paths the application serves, to check at construction.
        www_authenticate: the challenge a 401 carries.

    Raises:
        ConfigurationError: a purpose id is not in the registry, or *require_purposes* is
            on and a route in *routes* matches no prefix.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        actor: Callable[[Environ], Actor | None],
        purposes: Mapping[str, Any] | Callable[[Environ], Any],
        trust: Any = None,
        ignore_inbound: bool = False,
        require_purposes: bool = False,
        routes: Iterable[str] = (),
        www_authenticate: str = DEFAULT_CHALLENGE,
    ) -> None:
        self.app = app
        self._actor = actor
        self._policy = RequestPolicy(
            trust=trust, ignore_inbound=ignore_inbound, www_authenticate=www_authenticate
        )
        self._require = require_purposes
        self._table: list[tuple[str, str | _Exempt]] | None = None
        self._purposes: Callable[[Environ], Any] | None = None
        if callable(purposes):
            self._purposes = purposes
        else:
            registry = get_configuration().registry
            table = [
                (prefix.rstrip("/"), _declared(value, registry))
                for prefix, value in purposes.items()
            ]
            self._table = sorted(table, key=lambda row: len(row[0]), reverse=True)
            if require_purposes:
                missing = [route for route in routes if self._match(route) is None]
                if missing:
                    raise undeclared_routes_error(missing, framework="WSGI")

    def _match(self, path: str) -> tuple[str | _Exempt, str] | None:
        assert self._table is not None
        for prefix, declared in self._table:
            if path == prefix or path.startswith(prefix + "/") or not prefix:
                return declared, prefix or "/"
        return None

    def _declaration(self, environ: Environ) -> tuple[str | _Exempt | None, str]:
        if self._table is not None:
            found = self._match(environ.get("PATH_INFO", "") or "/")
            return found if found is not None else (None, "?")
        assert self._purposes is not None
        value = self._purposes(environ)
        declared = None if value is None else _declared(value, get_configuration().registry)
        return declared, "<purposes callable>"

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        declared, route = self._declaration(environ)
        if declared is None and self._require:
            raise undeclared_routes_error([route], framework="WSGI")
        try:
            actor = self._actor(environ) if isinstance(declared, str) else None
            baggage = environ.get("HTTP_BAGGAGE")
            headers = {"baggage": baggage} if baggage else {}
            opening = self._policy.decide(declared, actor, headers, route=route)
        except _REFUSALS as error:
            return self._answer(error, start_response)
        if opening is None:
            with otel_baggage_without_claim():
                body = self.app(environ, start_response)
            # a body made later runs in the instrumentation's context: only if that holds a
            # claim is it wrapped (which would hide wsgi.file_wrapper, a file's sendfile)
            return ClosingBody(body, None) if otel_baggage_holds_claim() else body
        entry = open_scope(opening.use())
        try:
            with otel_baggage_without_claim():
                body = self.app(environ, start_response)
        except _REFUSALS as error:
            close_scope(entry, error)
            return self._answer(error, start_response, sys.exc_info())  # type: ignore[arg-type]
        except BaseException as error:
            close_scope(entry, error)
            raise
        return ClosingBody(body, entry)

    def _answer(
        self,
        error: PurposeViolation | NoActor | PurposeClaimRefused,
        start_response: StartResponse,
        exc_info: ExcInfo | None = None,
    ) -> list[bytes]:
        problem = problem_for(error, www_authenticate=self._policy.www_authenticate)
        assert problem is not None
        status = _STATUS_TEXT.get(problem.status, str(problem.status))
        if exc_info is None:
            start_response(status, problem.response_headers())
        else:
            start_response(status, problem.response_headers(), exc_info)
        return [problem.body()]


def _declared(value: object, registry: Any) -> str | _Exempt:
    if value is no_purpose or value is EXEMPT:
        return EXEMPT
    if isinstance(value, str):
        return str(registry.resolve(value).id)
    raise ConfigurationError(
        f"a WSGI route's purpose must be a purpose id or purposeful.web.no_purpose, not "
        f"{type(value).__name__}"
    )
