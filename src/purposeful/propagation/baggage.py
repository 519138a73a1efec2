"""The purpose claim in the W3C ``baggage`` header: put in, taken out, never forwarded.

A claim is one list-member of the baggage (https://www.w3.org/TR/baggage/), ``purposeful=``
and its token; every other member is left as it was. `inject` adds the claim of the scope
open here, for one audience; `extract` finds and verifies the claim of an inbound request.

Two rules keep staff roles away from third parties. A claim is never read into
OpenTelemetry's own baggage, whose propagators forward baggage to every outbound host; and
`inject` removes any claim already in a carrier before it adds its own, so an inbound claim
is never passed on: each hop signs its own, for its own audience, from its own scope.

What this module must not do: quote a header, a token or another member in a message; read
more than the W3C limits (8,192 bytes, 180 members) of any header.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import datetime, timedelta
from typing import Final

from ..errors import ConfigurationError, UntrustedClaim
from ..scope import current_scope
from .claims import PurposeClaim, TrustStore, sign_claim
from .keys import ServiceKey, check_service_name

__all__ = [
    "BAGGAGE_HEADER",
    "CLAIM_KEY",
    "extract",
    "inject",
    "otel_baggage_without_claim",
    "remove_claim",
]

#: The header's name (lower case; HTTP header names are case-insensitive).
BAGGAGE_HEADER: Final = "baggage"
#: The baggage member's key that holds a purpose claim.
CLAIM_KEY: Final = "purposeful"
#: The W3C limits a receiver must accept at least: more is not read.
MAX_BAGGAGE_BYTES: Final = 8192
MAX_MEMBERS: Final = 180
#: The lifetime of a claim `inject` makes, unless told.
DEFAULT_LIFETIME: Final = timedelta(seconds=30)


def _members(value: str) -> list[str]:
    return [member.strip() for member in value.split(",") if member.strip()]


def _key(member: str) -> str:
    return member.split("=", 1)[0].strip()


def _baggage_values(carrier: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[str]:
    """Every value of the carrier's baggage header(s), in order (names case-insensitive)."""
    pairs = carrier.items() if isinstance(carrier, Mapping) else carrier
    return [
        value for name, value in pairs if isinstance(name, str) and name.lower() == BAGGAGE_HEADER
    ]


def extract(
    carrier: Mapping[str, str] | Iterable[tuple[str, str]],
    trust: TrustStore,
    *,
    now: datetime | None = None,
) -> PurposeClaim | None:
    """The verified purpose claim in *carrier*'s baggage, or None if it holds none.

    *carrier* is a request's headers: any mapping of names to values (case-insensitive
    names), or the (name, value) pairs of a header list, where a header may repeat.

    Raises:
        UntrustedClaim: the claim is malformed, unsigned, forged, expired, signed with an
            unknown key or meant for another service; or the baggage holds more than one
            claim, or is longer than the W3C limits while holding one (status 401).
        ClaimPurposeRefused: the claim's purpose is unknown here, or its purpose or actor
            role is not one the caller may assert (status 403).
    """
    values = [value for value in _baggage_values(carrier) if isinstance(value, str)]
    if not any(CLAIM_KEY in value for value in values):
        return None
    # the limits before anything is split: a huge header costs one pass over it, no copies
    if sum(len(value) + 1 for value in values) > MAX_BAGGAGE_BYTES + 1:
        raise _too_long()
    joined = ",".join(values)
    members = _members(joined)
    claims = [member for member in members if _key(member) == CLAIM_KEY]
    if not claims:
        return None
    if len(joined.encode("utf-8", "replace")) > MAX_BAGGAGE_BYTES or len(members) > MAX_MEMBERS:
        raise _too_long()
    if len(claims) > 1:
        raise UntrustedClaim(
            "the baggage holds more than one purpose claim; a caller sends one (reason malformed)",
            reason="malformed",
        )
    _, _, token = claims[0].partition("=")
    if ";" in token:
        raise UntrustedClaim(
            "a purpose claim's baggage member has properties; it has none (reason malformed)",
            reason="malformed",
        )
    token = token.strip()
    if not token:
        raise UntrustedClaim(
            "the baggage names a purpose claim but holds no signed token (reason unsigned)",
            reason="unsigned",
        )
    return trust.verify(token, now=now)


def _too_long() -> UntrustedClaim:
    return UntrustedClaim(
        f"the baggage header that holds a purpose claim is longer than the W3C limits "
        f"({MAX_BAGGAGE_BYTES} bytes, {MAX_MEMBERS} members); it was not read (reason "
        f"malformed)",
        reason="malformed",
    )


def remove_claim(carrier: MutableMapping[str, str]) -> None:
    """Take any purpose claim out of *carrier*'s baggage; every other member stays."""
    _put(carrier, _take(carrier))


def _take(carrier: MutableMapping[str, str]) -> list[str]:
    """Remove every baggage header from *carrier*; their members but purpose claims."""
    names = [name for name in carrier if isinstance(name, str) and name.lower() == BAGGAGE_HEADER]
    kept = [
        member for name in names for member in _members(carrier[name]) if _key(member) != CLAIM_KEY
    ]
    for name in names:
        del carrier[name]
    return kept


def _put(carrier: MutableMapping[str, str], members: list[str]) -> None:
    if members:
        carrier[BAGGAGE_HEADER] = ",".join(members)


def inject(
    carrier: MutableMapping[str, str],
    key: ServiceKey,
    *,
    audience: str,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: datetime | None = None,
) -> bool:
    """Put the claim of the scope open here, for the service *audience*, into *carrier*'s
    baggage (for a task queue's message headers, or any transport with headers).

    Any claim already there is removed first, so an inbound claim is never forwarded.
    Other baggage members are kept.

    Returns:
        True if a claim was added; False if no purpose scope is open here (then the
        carrier holds no claim at all).

    Raises:
        ConfigurationError: *audience* is not a service name, *lifetime* is not a positive
            timedelta of at most an hour, or the claim would be too long.
    """
    check_service_name(audience, "audience")
    if not isinstance(lifetime, timedelta) or not timedelta(0) < lifetime <= timedelta(hours=1):
        raise ConfigurationError("a claim's lifetime must be a timedelta over 0 and up to 1 hour")
    kept = _take(carrier)
    scope = current_scope()
    added = scope is not None and not scope.closed
    if scope is not None and added:
        token = sign_claim(
            key,
            audience=audience,
            purpose=scope.purpose,
            actor=scope.actor,
            scope_id=scope.id,
            lifetime=lifetime,
            now=now,
        )
        kept.append(f"{CLAIM_KEY}={token}")
    _put(carrier, kept)
    return added


def otel_baggage_holds_claim() -> bool:
    """True if OpenTelemetry's baggage in force holds a purpose claim (an OpenTelemetry
    server instrumentation copied the inbound one there)."""
    from opentelemetry import baggage

    return baggage.get_baggage(CLAIM_KEY) is not None


@contextlib.contextmanager
def otel_baggage_without_claim() -> Iterator[None]:
    """Inside, OpenTelemetry's baggage holds no purpose claim.

    An OpenTelemetry server instrumentation copies the inbound ``baggage`` header, claim and
    all, into OpenTelemetry's baggage, and its client instrumentations write that baggage
    to every outbound request, after purposeful's hooks have run: an inbound claim (an
    actor's id and role) would reach every host the request calls. The web middleware
    handles each request inside this, so the claim never leaves with OpenTelemetry's
    baggage; wrap a task queue's handler in it too if its consumer is instrumented.
    """
    from opentelemetry import baggage
    from opentelemetry import context as otel_context

    if baggage.get_baggage(CLAIM_KEY) is None:
        yield
        return
    token = otel_context.attach(baggage.remove_baggage(CLAIM_KEY))
    try:
        yield
    finally:
        otel_context.detach(token)
