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
claims) into RFC 9457 problem responses, wherever they are raised.

Needs FastAPI. What this module must not do: log a path or a header.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from .._config import get_configuration
from ..actors import Actor
from ..errors import MissingExtra, NoActor, PurposeClaimRefused, PurposefulError, PurposeViolation
from ..propagation.baggage import otel_baggage_without_claim
from ..purposes import Purpose
from ..scope import Scope
from .policy import RequestPolicy
from .problems import DEFAULT_CHALLENGE, PROBLEM_CONTENT_TYPE, problem_for

try:
    from fastapi import Depends, FastAPI, Request
    from fastapi.responses import Response
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
    403) raised by an endpoint or dependency of *app* with RFC 9457 problem responses."""

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

    for kind in (PurposeViolation, NoActor, PurposeClaimRefused):
        app.add_exception_handler(kind, answer)
