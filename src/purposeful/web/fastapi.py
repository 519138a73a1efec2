"""FastAPI: a dependency that opens the purpose scope, and handlers that answer refusals.

``scoped = purpose_scope(actor=current_actor)`` makes a factory; ``Depends(scoped(
"service-delivery.case-management"))`` on an endpoint opens that purpose's scope for the
request and gives the endpoint the `Scope`. The dependency is an *async* generator, so
FastAPI runs it in the request's task and the scope it sets is in the context the endpoint
runs in, ``async def`` or plain ``def`` (FastAPI runs those in the thread pool with a copy
of the request's context). A plain ``def`` dependency with ``yield`` around
``purposeful.use`` would not work: FastAPI runs it in a worker thread, and what it sets in
that thread's context never reaches the endpoint.

`install_problem_handlers` turns refusals (`PurposeViolation`, `NoActor`, refused purpose
claims) into RFC 9457 problem responses, wherever they are raised, and a response that does
not match its response model into a 500 problem: FastAPI's own error would quote the values
it was given (a managed value, read in the request's scope) in the server's log and on the
request's span.

Needs FastAPI. What this module must not do: log a path, a header or a value.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import typing
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Annotated, Any

from .._config import get_configuration
from .._refusals import refusal_behind
from ..actors import Actor
from ..errors import MissingExtra, NoActor, PurposeClaimRefused, PurposefulError, PurposeViolation
from ..propagation.baggage import otel_baggage_without_claim
from ..purposes import Purpose
from ..scope import Scope, current_scope
from .policy import RequestPolicy
from .problems import DEFAULT_CHALLENGE, PROBLEM_CONTENT_TYPE, Problem, problem_for

try:
    from fastapi import Depends, FastAPI, Request
    from fastapi.exceptions import ResponseValidationError
    from fastapi.responses import Response
    from pydantic import BaseModel
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise MissingExtra(
        "purposeful.web.fastapi needs FastAPI: pip install fastapi "
        "(purposeful[web] adds nothing it needs)",
        extra="web",
    ) from error

from ._encoders import shield

__all__ = ["install_problem_handlers", "purpose_scope"]

shield()  # jsonable_encoder reads records through their guards

ScopeDependency = Callable[..., AsyncIterator[Scope]]
_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD
_log = logging.getLogger("purposeful")
#: How many failed places of an invalid response the log line names before "and N more".
_NAMED_FAILURES = 5
#: The answer to a response that does not match its model: the server's fault, said plainly.
INVALID_RESPONSE = Problem(
    type="about:blank",
    title="Internal Server Error",
    status=500,
    detail="The server could not build a valid response.",
)


def purpose_scope(
    *,
    actor: Callable[..., Any],
    trust: Any = None,
    ignore_inbound: bool = False,
    www_authenticate: str = DEFAULT_CHALLENGE,
) -> Callable[[Purpose | str], ScopeDependency]:
    """A factory of dependencies that open a purpose scope for a request.

    Args:
        actor: a FastAPI dependency (sync or async, with its own ``Depends``) giving the
            `Actor` acting for the request, or None (answered 401, `NoActor`).
        trust: a `purposeful.propagation.TrustStore`: accept signed purpose claims from the
            services it names (the rules of `purposeful.web.RequestPolicy`).
        ignore_inbound: read no purpose claim even with a trust store.
        www_authenticate: the challenge a 401 carries.

    Returns:
        ``scoped(purpose)``: the dependency for one purpose, resolved now (a misspelt id
        fails at import). Use it as ``Depends(scoped(...))``; it gives the open `Scope`.
        Refusals are raised: `install_problem_handlers` answers them.
    """
    policy = RequestPolicy(
        trust=trust, ignore_inbound=ignore_inbound, www_authenticate=www_authenticate
    )

    def scoped(purpose: Purpose | str) -> ScopeDependency:
        declared = get_configuration().registry.resolve(purpose).id

        async def purpose_scope_dependency(
            request: Request, who: Annotated[Actor | None, Depends(actor)]
        ) -> AsyncIterator[Scope]:
            route = getattr(request.scope.get("route"), "path", None) or "?"
            headers = {"baggage": ", ".join(request.headers.getlist("baggage"))}
            opening = policy.decide(
                declared, who, headers if headers["baggage"] else {}, route=route
            )
            assert opening is not None  # a declared purpose always opens or refuses
            with otel_baggage_without_claim():
                async with opening.use() as scope:
                    yield scope

        purpose_scope_dependency.__qualname__ = f"purpose_scope({declared!r})"
        # Real annotations, not this module's postponed strings: FastAPI reads them, and
        # *actor* is a local it could not resolve by name.
        purpose_scope_dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter("request", _KEYWORD, annotation=Request),
                inspect.Parameter(
                    "who", _KEYWORD, annotation=Annotated[Actor | None, Depends(actor)]
                ),
            ]
        )
        return purpose_scope_dependency

    return scoped


def install_problem_handlers(app: FastAPI, *, www_authenticate: str = DEFAULT_CHALLENGE) -> None:
    """Answer `PurposeViolation` (403), `NoActor` (401) and refused purpose claims (401 or
    403) raised by an endpoint or dependency of *app* with RFC 9457 problem responses.

    Also answer FastAPI's ``ResponseValidationError`` (a response that does not match its
    response model) with a 500 problem, and log where it failed and why (the route's
    template, each failed place and pydantic's error type), never what it was given:
    FastAPI's error quotes every input, which would put a managed value, read in the
    request's scope, in the server's log and on the request's span. A refusal inside the
    response model's validation is still answered as the refusal (403)."""

    async def answer(request: Request, error: Exception) -> Response:
        assert isinstance(error, PurposefulError)
        problem = problem_for(error, www_authenticate=www_authenticate)
        assert problem is not None
        return Response(
            problem.body(),
            status_code=problem.status,
            headers=dict(problem.headers),
            media_type=PROBLEM_CONTENT_TYPE,
        )

    async def invalid_response(request: Request, error: Exception) -> Response:
        assert isinstance(error, ResponseValidationError)
        # a refusal while the response model read a record's attributes (from_attributes):
        # pydantic-core kept only its message, in a get_attribute_error. Under the
        # middleware, whose scope is still open here, this handler answers before the
        # scope's exit could raise the refusal: answer it as the refusal, a 403
        scope = current_scope()
        refusal = refusal_behind(error, [scope] if scope is not None else [])
        if refusal is not None:
            return await answer(request, refusal)
        route = getattr(request.scope.get("route"), "path", None) or "?"
        _log.error(
            "purposeful: the response of %s did not match its response model (%s); its "
            "inputs are not logged, as they may be managed values",
            route,
            failed_places(
                error.errors(), getattr(request.scope.get("route"), "response_model", None)
            ),
        )
        return Response(
            INVALID_RESPONSE.body(),
            status_code=INVALID_RESPONSE.status,
            media_type=PROBLEM_CONTENT_TYPE,
        )

    for kind in (PurposeViolation, NoActor, PurposeClaimRefused):
        app.add_exception_handler(kind, answer)
    app.add_exception_handler(ResponseValidationError, invalid_response)


def failed_places(errors: Sequence[Mapping[str, Any]], model: Any = None) -> str:
    """Where and why a validation failed, as ``response.address: int_parsing``: each
    error's location and type, never its input or its message (a validator's own message
    may quote the value). A location's names are kept only where *model* (the response
    model) declares them, so a dict's keys (a client id, say) show as ``…``, and its numbers
    (a list's positions) only where the model has no mapping keyed by anything but text
    (``dict[int, Client]``'s keys are numbers too)."""
    declared = _declared_names(model, set())
    positions = not _keyed_by_more_than_text(model, set())
    named = [
        f"{'.'.join(_part(part, declared, positions) for part in error.get('loc', ()))}: "
        f"{error.get('type', '?')}"
        for error in errors[:_NAMED_FAILURES]
    ]
    more = len(errors) - _NAMED_FAILURES
    return "; ".join(named) + (f"; and {more} more" if more > 0 else "")


def _part(part: object, declared: set[str], positions: bool) -> str:
    """*part* of a location if it is a declared name, or a number that can only be a
    position in a list (*positions*: no mapping in the model has keys other than text);
    ``…`` otherwise."""
    if isinstance(part, bool):
        return "…"
    if isinstance(part, int):
        return str(part) if positions else "…"
    if part in declared or part in ("response", "body"):
        return str(part)
    return "…"


def _keyed_by_more_than_text(annotation: Any, seen: set[int]) -> bool:
    """Whether *annotation* may hold a mapping whose keys are not text (``dict[int,
    Client]``: its keys, a client number say, are ints in pydantic's locations, as a list's
    positions are), or cannot be read through (a string annotation, a forward reference)."""
    if annotation is None or id(annotation) in seen:
        return False
    seen.add(id(annotation))
    if isinstance(annotation, str | typing.ForwardRef):
        return True
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Literal:
        return False
    if origin is typing.Annotated:
        arguments = arguments[:1]
    if isinstance(origin, type) and issubclass(origin, Mapping):
        key = arguments[0] if arguments else Any
        if typing.get_origin(key) is typing.Annotated:
            key = typing.get_args(key)[0]
        if not (isinstance(key, type) and issubclass(key, str)):
            return True
    inner: list[Any] = list(arguments)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        inner.extend(field.annotation for field in annotation.model_fields.values())
    elif isinstance(annotation, type) and getattr(annotation, "__annotations__", None):
        try:  # a dataclass, a TypedDict, a NamedTuple
            inner.extend(typing.get_type_hints(annotation).values())
        except Exception:  # a name it cannot resolve: what it holds is not known
            return True
    return any(_keyed_by_more_than_text(each, seen) for each in inner)


def _declared_names(annotation: Any, seen: set[int]) -> set[str]:
    """The field names (and aliases) of the pydantic models and dataclasses *annotation*
    holds, at any depth (``list[Client]``, ``Client | None``, a model's own fields)."""
    if annotation is None or id(annotation) in seen:
        return set()
    seen.add(id(annotation))
    names: set[str] = set()
    inner: list[Any] = list(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            names.add(name)
            names.update(a for a in (field.alias, field.validation_alias) if isinstance(a, str))
            inner.append(field.annotation)
    elif dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        for member in dataclasses.fields(annotation):
            names.add(member.name)
            inner.append(member.type)
    for each in inner:
        names |= _declared_names(each, seen)
    return names
