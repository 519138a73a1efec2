"""Django: a purpose scope around each view, by middleware or by a view decorator.

Add ``"purposeful.web.django.PurposeMiddleware"`` to ``MIDDLEWARE`` after
``AuthenticationMiddleware`` (so the actor callable can read ``request.user``) and
configure it in ``settings.PURPOSEFUL_WEB``:

- ``"ACTOR"`` (required): the dotted path of a callable given the ``HttpRequest`` and
  returning a `purposeful.Actor` or None;
- ``"TRUST"``: the dotted path of a `purposeful.propagation.TrustStore` (or of a callable
  without arguments returning one), to accept signed purpose claims;
- ``"IGNORE_INBOUND"``: read no claim even with a trust store;
- ``"REQUIRE_PURPOSES"``: every URL pattern's view must declare a purpose or
  `no_purpose`; checked when the middleware loads;
- ``"EXEMPT"``: URL pattern names or namespaces (``"health"``) that need no declaration
  (a `PurposeAdminSite`'s views are declared: do not exempt the admin);
- ``"WWW_AUTHENTICATE"``: the challenge a 401 carries.

The middleware opens the scope in ``process_view`` (after every ``process_request``, so
after authentication and CSRF), and closes it when the response is complete: at once for
an ordinary response, and when a ``StreamingHttpResponse``'s content has been consumed or
closed for a streaming one. `purpose_view` does the same for one view without the
middleware. Refusals are answered with RFC 9457 problems.

Needs Django; WSGI-served views (the scope lives in the request thread's context).
What this module must not do: log a path or a header.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, Final

from .._config import get_configuration
from ..actors import Actor
from ..errors import (
    ConfigurationError,
    MissingExtra,
    NoActor,
    PurposeClaimRefused,
    PurposefulError,
    PurposeViolation,
)
from ..propagation.baggage import otel_baggage_holds_claim, otel_baggage_without_claim
from ..purposes import Purpose
from ._closing import ClosingBody, Entry, close_scope, open_scope
from ._declare import OPENS_SCOPE, _Exempt, declared_purpose, opens_scope_itself
from .policy import RequestPolicy, undeclared_routes_error
from .problems import DEFAULT_CHALLENGE, PROBLEM_CONTENT_TYPE, problem_for

try:
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse, HttpResponseBase
    from django.urls import URLPattern, URLResolver, get_resolver
    from django.utils.module_loading import import_string
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise MissingExtra(
        "purposeful.web.django needs Django: pip install django "
        "(purposeful[web] adds nothing it needs)",
        extra="web",
    ) from error

__all__ = ["PurposeMiddleware", "purpose_view"]


_SETTING: Final = "PURPOSEFUL_WEB"
_REFUSALS: Final = (PurposeViolation, NoActor, PurposeClaimRefused)
_MAX_DEPTH: Final = 16
#: Where the middleware keeps a request's open scope between ``process_view`` and the end.
_OPEN: Final = "_purposeful_open"

ActorSource = Callable[[HttpRequest], "Actor | None"]


class _Gate:
    """The configuration both the middleware and the view decorator work from."""

    def __init__(self, options: dict[str, Any]) -> None:
        unknown = set(options) - {
            "ACTOR",
            "TRUST",
            "IGNORE_INBOUND",
            "REQUIRE_PURPOSES",
            "EXEMPT",
            "WWW_AUTHENTICATE",
        }
        if unknown:
            raise ConfigurationError(
                f"settings.{_SETTING} has unknown keys: {', '.join(sorted(unknown))}; it takes "
                f"ACTOR, TRUST, IGNORE_INBOUND, REQUIRE_PURPOSES, EXEMPT and WWW_AUTHENTICATE"
            )
        actor = options.get("ACTOR")
        self.actor: ActorSource = _load(actor, "ACTOR") if isinstance(actor, str) else actor  # type: ignore[assignment]
        if not callable(self.actor):
            raise ConfigurationError(
                f"settings.{_SETTING}['ACTOR'] must be the dotted path of a callable given the "
                f"request and returning a purposeful.Actor or None"
            )
        trust = options.get("TRUST")
        if isinstance(trust, str):
            trust = _load(trust, "TRUST")
        if callable(trust):
            trust = trust()
        self.policy = RequestPolicy(
            trust=trust,
            ignore_inbound=bool(options.get("IGNORE_INBOUND", False)),
            www_authenticate=str(options.get("WWW_AUTHENTICATE", DEFAULT_CHALLENGE)),
        )
        self.require = bool(options.get("REQUIRE_PURPOSES", False))
        self.exempt = frozenset(options.get("EXEMPT", ()))

    @classmethod
    def from_settings(cls) -> _Gate:
        return cls(dict(getattr(settings, _SETTING, {})))

    def exempted(self, request: HttpRequest) -> bool:
        match = request.resolver_match
        if match is None:
            return False
        return match.url_name in self.exempt or any(n in self.exempt for n in match.namespaces)

    def open(
        self, request: HttpRequest, declared: str | _Exempt | None
    ) -> Entry | HttpResponse | None:
        """Open the request's scope (its `use` and the tracing context it was opened in),
        answer a problem, or None for no scope."""
        match = request.resolver_match
        route = (match.route if match is not None else "") or "?"
        try:
            actor = self.actor(request) if isinstance(declared, str) else None
            headers = (
                {"baggage": request.headers["baggage"]} if "baggage" in request.headers else {}
            )
            opening = self.policy.decide(declared, actor, headers, route=route)
        except _REFUSALS as error:
            return self.answer(error)
        if opening is None:
            return None
        return open_scope(opening.use())

    def answer(self, error: PurposefulError) -> HttpResponse:
        problem = problem_for(error, www_authenticate=self.policy.www_authenticate)
        assert problem is not None
        response = HttpResponse(
            problem.body(), status=problem.status, content_type=PROBLEM_CONTENT_TYPE
        )
        for name, value in problem.headers:
            response[name] = value
        return response

    def finish(
        self, response: HttpResponseBase, entry: Entry | None, error: BaseException | None
    ) -> HttpResponseBase:
        """Close the view's scope (if it opened one) now, or, for streamed content, when it
        is consumed or closed; streamed content, scope or not, is made without the inbound
        claim in OpenTelemetry's baggage (`ClosingBody`)."""
        if not getattr(response, "streaming", False) or getattr(response, "is_async", False):
            if entry is not None:
                close_scope(entry, error)
            return response
        if entry is None and not otel_baggage_holds_claim():
            return response  # unwrapped: a FileResponse keeps its file for sendfile
        streaming: Any = response
        streaming.streaming_content = ClosingBody(streaming.streaming_content, entry)
        return response


class PurposeMiddleware:
    """Open a purpose scope around each view, as its ``@purpose`` declares.

    Raises:
        ConfigurationError: when it loads, for ``settings.PURPOSEFUL_WEB`` that is wrong,
            and with ``REQUIRE_PURPOSES`` for URL patterns whose views declare no purpose.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.gate = _Gate.from_settings()
        if self.gate.require or self.gate.exempt:
            missing, names = _survey(self.gate.exempt)
            unknown = sorted(self.gate.exempt - names)
            if unknown:
                raise ConfigurationError(
                    f"settings.{_SETTING}['EXEMPT'] names {', '.join(map(repr, unknown))}, "
                    f"which no URL pattern or namespace has: EXEMPT takes URL pattern names "
                    f"(path(..., name=...)) and namespaces ('admin'), not paths"
                )
            if missing and self.gate.require:
                raise undeclared_routes_error(
                    missing,
                    framework="Django",
                    exempt=f"name its URL pattern in settings.{_SETTING}['EXEMPT']",
                )

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            with otel_baggage_without_claim():
                response = self.get_response(request)
        except BaseException as error:
            entry = request.__dict__.pop(_OPEN, None)
            if entry is not None:
                close_scope(entry[0], error)
            raise
        entry = request.__dict__.pop(_OPEN, None)
        if entry is None:
            return self.gate.finish(response, None, None)
        return self.gate.finish(response, entry[0], entry[1])

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if _opens_scope_itself(view_func) or self.gate.exempted(request):
            return None
        declared = declared_purpose(view_func)
        if declared is None and self.gate.require:
            match = request.resolver_match
            raise undeclared_routes_error([match.route if match else "?"], framework="Django")
        opened = self.gate.open(request, declared)
        if isinstance(opened, HttpResponse):
            return opened
        if opened is not None:
            request.__dict__[_OPEN] = [opened, None]
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        entry = request.__dict__.get(_OPEN)
        if entry is not None:
            entry[1] = exception
        if isinstance(exception, _REFUSALS):
            return self.gate.answer(exception)
        return None


def purpose_view(
    purpose: Purpose | str,
    *,
    actor: ActorSource | None = None,
    trust: Any = None,
    ignore_inbound: bool | None = None,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Open a purpose scope around one view, without the middleware.

    Args:
        actor: the actor callable; default: ``settings.PURPOSEFUL_WEB["ACTOR"]``.
        trust: a `purposeful.propagation.TrustStore`; default: the setting's ``TRUST``.
        ignore_inbound: default: the setting's ``IGNORE_INBOUND``.

    Raises:
        UnknownPurpose: the purpose is not in the registry (at import).
    """
    declared = get_configuration().registry.resolve(purpose).id

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def run(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            options = dict(getattr(settings, _SETTING, {}))
            options.pop("REQUIRE_PURPOSES", None)
            if actor is not None:
                options["ACTOR"] = actor
            if trust is not None:
                options["TRUST"] = trust
            if ignore_inbound is not None:
                options["IGNORE_INBOUND"] = ignore_inbound
            gate = _Gate(options)
            opened = gate.open(request, declared)
            if isinstance(opened, HttpResponse):
                return opened
            assert opened is not None
            try:
                response = view(request, *args, **kwargs)
            except _REFUSALS as error:
                close_scope(opened, error)
                return gate.answer(error)
            except BaseException as error:
                close_scope(opened, error)
                raise
            return gate.finish(response, opened, None)

        setattr(run, OPENS_SCOPE, True)
        return run

    return decorate


def undeclared(*, exempt: Iterable[str] = ()) -> list[str]:
    """The URL patterns (as routes) whose views declare neither a purpose nor `no_purpose`,
    leaving out those named, or in a namespace named, in *exempt*."""
    return _survey(frozenset(exempt))[0]


def _survey(skip: frozenset[str]) -> tuple[list[str], set[str]]:
    """The undeclared URL patterns (see `undeclared`), and every URL name and namespace."""
    found: list[str] = []
    names: set[str] = set()

    def walk(patterns: Iterable[Any], prefix: str, depth: int) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace:
                    names.add(pattern.namespace)
                if pattern.namespace in skip or depth >= _MAX_DEPTH:
                    continue
                walk(pattern.url_patterns, prefix + str(pattern.pattern), depth + 1)
            elif isinstance(pattern, URLPattern):
                if pattern.name:
                    names.add(pattern.name)
                if pattern.name in skip:
                    continue
                view = pattern.callback
                if _opens_scope_itself(view) or declared_purpose(view) is not None:
                    continue
                found.append("/" + prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "", 0)
    return found, names


def _opens_scope_itself(view: Any) -> bool:
    """True when *view* opens its own scope: a scoped view, or any view of a
    `PurposeAdminSite` (a model admin's URL wrapper calls the site's scoped `admin_view`
    per request, and carries no marker of its own). The load-time survey and
    `PurposeMiddleware.process_view` must agree, or a view counted as declared at load is
    refused as undeclared when it is requested."""
    return opens_scope_itself(view) or opens_scope_itself(_admin_site(view))


def _admin_site(view: Any) -> Any:
    """The admin site serving *view* (a site's own view, its login page, or a model
    admin's view), if it is one.

    A site's views are wrapped (``admin_site`` on the wrapper, ``model_admin`` on a model
    admin's), so each calls the site's ``admin_view``; the login page alone is routed as
    the site's bound method. Any other method of the site routed as it is (a view a site
    of one's own adds in ``get_urls`` without ``admin_view``) calls no ``admin_view``, so
    opens no scope: it is not the site's."""
    model_admin = getattr(view, "model_admin", None)
    site = getattr(view, "admin_site", None) or getattr(model_admin, "admin_site", None)
    if site is None and getattr(view, "__name__", None) == "login":
        site = getattr(view, "__self__", None)
    return site


def _load(path: str, key: str) -> Any:
    try:
        return import_string(path)
    except ImportError:
        raise ConfigurationError(
            f"settings.{_SETTING}[{key!r}] names {path!r}, which cannot be imported; give the "
            f"dotted path of an object in an importable module"
        ) from None
