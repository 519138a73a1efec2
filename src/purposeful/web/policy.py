"""The framework-neutral decision for one request: open a purpose scope, or refuse.

Every web integration asks `RequestPolicy.decide` with what it knows about the request:
the purpose its route declares (or none), the actor the application's authentication gave
(or none), and its headers. The answer is an `Open` (the purpose, actor and upstream scope
to open ``purposeful.use`` with) or None (run the request without a scope); a refusal is
raised (`NoActor`, `UntrustedClaim`, `ClaimPurposeRefused`), for the integration to answer
with its problem (`purposeful.web.problem_for`). The rules, in order:

1. With a trust store (and ``ignore_inbound`` false), a purpose claim in the ``baggage``
   header is verified (`purposeful.propagation.extract`). One that cannot be trusted is
   refused (401), in every mode: a forgery is not a purpose judgement. One whose purpose
   this service does not accept is refused (403).
2. A trusted claim on a route that declares a purpose must be for that purpose or a
   narrower one under it: the route's purpose must cover the caller's. Then the scope opens
   under the caller's own purpose, with the claim's actor (its clearance already capped by
   the trust store) and the caller's scope as its upstream, so one hop never reads more than
   the caller's scope could: a scope reads what its purpose and the purposes above it are
   declared for, so a route of a narrower purpose than the caller's would widen it. A claim
   the route's purpose does not cover is refused (403, reason ``purpose-not-covering``); in
   monitor mode (the route purpose's configured mode) it is recorded and the request goes
   on as if it had come without one.
3. A trusted claim on a route that declares no purpose opens a scope under the claim's own
   purpose.
4. Otherwise a route that declares a purpose opens it with the application's actor; with
   no actor the request is refused (401, `NoActor`). A route that declares none runs
   without a scope.

Every claim refused or not honoured is recorded: a log line on the ``purposeful`` logger
and a ``purposeful.claim_refused`` event on the current OpenTelemetry span, each with the
reason code and the route's template only, never the header or the request's path.

What this module must not do: import a web framework; quote a header; log a path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import attrs
from opentelemetry import trace

from .._config import get_configuration
from ..actors import Actor
from ..audit.conventions import CLAIM_REFUSED_EVENT, RequestAttribute
from ..decisions import Mode, Upstream
from ..errors import ClaimPurposeRefused, ConfigurationError, NoActor, PurposeClaimRefused
from ..purposes import Purpose
from ..scope import use
from ._declare import EXEMPT, _Exempt
from .problems import DEFAULT_CHALLENGE

if TYPE_CHECKING:
    from ..propagation import TrustStore

__all__ = ["Open", "RequestPolicy", "undeclared_routes_error"]

_log = logging.getLogger("purposeful")


@attrs.frozen
class Open:
    """Open a scope for the request: ``use(purpose, actor=actor, upstream=upstream)``."""

    purpose: Purpose
    actor: Actor
    upstream: Upstream | None = None

    def use(self) -> use:
        """The `purposeful.use` that opens it."""
        return use(self.purpose, actor=self.actor, upstream=self.upstream)


@attrs.frozen
class RequestPolicy:
    """What a web integration was configured with, and the decision for each request.

    Args:
        trust: the services whose signed purpose claims this one accepts, or None to read
            no claim.
        ignore_inbound: read no claim even with a trust store.
        www_authenticate: the challenge a 401 carries in ``WWW-Authenticate``.
    """

    trust: TrustStore | None = None
    ignore_inbound: bool = False
    www_authenticate: str = DEFAULT_CHALLENGE

    @property
    def reads_claims(self) -> bool:
        return self.trust is not None and not self.ignore_inbound

    def decide(
        self,
        declared: str | _Exempt | None,
        actor: Actor | None,
        headers: Mapping[str, str],
        *,
        route: str,
    ) -> Open | None:
        """Open a scope, or run without one (None); raise to refuse the request.

        Args:
            declared: the route's purpose id, `EXEMPT` (`no_purpose`), or None.
            actor: the application's actor for the request, or None.
            headers: the request's headers; only ``baggage`` is read. Several ``baggage``
                headers must be joined with ``", "`` first.
            route: the route's template, for the record of a refused claim (never a path).

        Raises:
            UntrustedClaim: a purpose claim came that cannot be trusted (answer 401).
            ClaimPurposeRefused: a trusted claim's purpose or actor role is not accepted
                here (403).
            NoActor: the route declares a purpose and no one is acting (401).
            ConfigurationError: *actor* is not an `Actor`.
        """
        if declared is EXEMPT:
            return None
        registry = get_configuration().registry
        required = registry.resolve(declared) if isinstance(declared, str) else None
        trust = self.trust
        if trust is not None and not self.ignore_inbound and _has_baggage(headers):
            from ..propagation import extract

            try:
                claim = extract(headers, trust)
            except PurposeClaimRefused as error:
                _record(error.reason, route, outcome="refused")
                raise
            if claim is not None:
                asked = registry.resolve(claim.purpose)
                if required is None:
                    return Open(asked, claim.actor, claim.upstream)
                if required.covers(asked):
                    return Open(asked, claim.actor, claim.upstream)
                refusal = ClaimPurposeRefused(
                    f"the purpose claim asks for {asked.id!r}, which {required.id!r}, the "
                    f"purpose this route declares, does not cover: a route serves its own "
                    f"purpose and the purposes under it, never a broader one, so that no hop "
                    f"reads more than the caller could; the calling service must ask for "
                    f"{required.id!r} or a purpose under it",
                    reason="purpose-not-covering",
                    asked_purpose=asked.id,
                    required_purpose=required.id,
                )
                monitored = get_configuration().mode_for(required, object) is Mode.MONITOR
                _record(refusal.reason, route, outcome="monitored" if monitored else "refused")
                if not monitored:
                    raise refusal
        if required is None:
            return None
        if actor is None:
            raise NoActor(
                f"the route {route} serves the purpose {required.id!r} but the request has "
                f"no actor: authenticate, or call it with a trusted purpose claim"
            )
        if not isinstance(actor, Actor):
            raise ConfigurationError(
                f"the web integration's actor callable must return a purposeful.Actor or "
                f"None, not {type(actor).__name__}"
            )
        return Open(required, actor)


def _has_baggage(headers: Mapping[str, str]) -> bool:
    if "baggage" in headers:
        return True
    return any(name.lower() == "baggage" for name in headers)


def _record(reason: str, route: str, *, outcome: str) -> None:
    """Record a refused (or, in monitor mode, unhonoured) claim: codes and route only."""
    _log.warning(
        "purposeful: purpose claim %s (%s) on route %s",
        "refused" if outcome == "refused" else "not honoured (monitor mode)",
        reason,
        route,
    )
    trace.get_current_span().add_event(
        CLAIM_REFUSED_EVENT,
        {
            RequestAttribute.CLAIM_REASON: reason,
            RequestAttribute.CLAIM_OUTCOME: outcome,
            RequestAttribute.ROUTE: route,
        },
    )


def undeclared_routes_error(
    routes: Iterable[str], *, framework: str, exempt: str = "list it in the middleware's exempt="
) -> ConfigurationError:
    """The start-up error for routes that declare neither a purpose nor `no_purpose`;
    *exempt* says how this framework's middleware exempts a route."""
    listed = ", ".join(sorted(set(routes)))
    return ConfigurationError(
        f"require_purposes is on, but these {framework} routes declare no purpose: {listed}. "
        f"Decorate each endpoint with @purposeful.web.purpose('<purpose id>'), or with "
        f"@purposeful.web.no_purpose if it reads no managed data (a health check, static "
        f"files), or {exempt}"
    )
