"""Declaring a route's purpose: the `purpose` and `no_purpose` decorators, and reading them.

A decorator marks the endpoint or view itself (an attribute on the function or class) and
hands it back unchanged, so a framework that inspects the endpoint's signature (FastAPI)
sees the same function, whichever order the decorators are stacked in. The purpose id is
resolved against the registry in force when the decorator runs, so a misspelt id fails
when the module is imported, not on the first request.

What this module must not do: import a web framework, or open a scope.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, TypeVar

from .._config import get_configuration
from ..errors import ConfigurationError
from ..purposes import Purpose
from ._encoders import shield

__all__ = ["EXEMPT", "declared_purpose", "no_purpose", "purpose"]

T = TypeVar("T")

_ATTRIBUTE: Final = "__purposeful_purpose__"
#: Set by a decorator that opens the scope itself (`purposeful.web.django.purpose_view`):
#: a middleware leaves such a view alone.
OPENS_SCOPE: Final = "__purposeful_opens_scope__"


class _Exempt:
    """The mark of a route explicitly declared to need no purpose scope."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "purposeful.web.no_purpose"


EXEMPT: Final = _Exempt()


def purpose(purpose_id: Purpose | str) -> Callable[[T], T]:
    """Declare the purpose a route's requests are served for.

    ``@purpose("service-delivery.case-management")`` on an endpoint or view: the web
    integrations open a scope of that purpose around each request to it, with the actor the
    application's authentication gives (or a trusted purpose claim's).

    Raises:
        UnknownPurpose: the purpose is not in the configured registry (at import).
    """
    resolved = get_configuration().registry.resolve(purpose_id)

    def mark(endpoint: T) -> T:
        _set(endpoint, resolved.id)
        shield()  # a FastAPI endpoint's return value: read through the records' guards
        return endpoint

    return mark


def no_purpose(endpoint: T) -> T:
    """Declare that a route needs no purpose scope (a health check, static files, docs).

    Its requests run as they would without purposeful: no scope is opened and no purpose
    claim is read. A managed field read there is an unscoped read, refused in enforce mode.
    """
    _set(endpoint, EXEMPT)
    return endpoint


def _set(endpoint: object, value: object) -> None:
    try:
        setattr(endpoint, _ATTRIBUTE, value)
    except (AttributeError, TypeError):
        raise ConfigurationError(
            f"cannot mark {type(endpoint).__name__} with a purpose: it takes no attributes; "
            f"decorate the function or class that serves the route"
        ) from None


def declared_purpose(endpoint: object) -> str | _Exempt | None:
    """The purpose id *endpoint* declares, `EXEMPT` for `no_purpose`, or None for neither.

    Looks through ``functools.wraps`` wrappers, partials, bound methods, and the function
    a Django class-based view's ``as_view()`` makes (to its ``view_class``, the class
    decorated). A class declares only with its own mark: a subclass of a declared view is
    another view, which may serve another use, and declares nothing until it says so.
    """
    seen = 0
    current: Any = endpoint
    while current is not None and seen < 16:  # bounded: a wrapper chain could loop
        seen += 1
        # a class declares on itself: a subclass does not inherit its base's declaration
        own = vars(current) if isinstance(current, type) else None
        found = own.get(_ATTRIBUTE) if own is not None else getattr(current, _ATTRIBUTE, None)
        if isinstance(found, str | _Exempt):
            return found
        if isinstance(current, functools.partial):
            current = current.func
        elif hasattr(current, "__func__"):
            current = current.__func__
        elif hasattr(current, "__wrapped__"):
            current = current.__wrapped__
        else:
            view_class = getattr(current, "view_class", None)
            current = view_class if isinstance(view_class, type) else None
    return None


def opens_scope_itself(endpoint: object) -> bool:
    """True when *endpoint* opens its purpose scope itself (a scoped view decorator)."""
    return getattr(endpoint, OPENS_SCOPE, False) is True
