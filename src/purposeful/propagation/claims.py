"""Purpose claims: what one service asserts to another about the scope it calls from, signed.

A claim says: service *iss* calls service *aud* under purpose *purpose*, for actor *actor*
(role *role*, clearance *clearance*), from its scope *scope*, between *iat* and *exp*. It
travels as one W3C baggage member (`purposeful.propagation.baggage`), whose value is a token::

    1.<key id>.<payload>.<signature>

*payload* is the claim as compact JSON, base64url without padding; *signature* is Ed25519
over ``purposeful purpose claim 1`` + a newline + ``1.<key id>.<payload>``, base64url. The
prefix separates these signatures from every other signature purposeful makes (ledger
checkpoints, bundles): none of them is ever a valid claim, nor a claim one of them.

What a signature proves: that a service holding the key named by the key id made this claim
for this audience and this time window, and that nothing in it was changed. What it does
not prove: that the actor really is who the caller says (the caller authenticated them; the
receiver trusts the caller to), or that this is the first time the claim is presented: a
claim can be replayed to the same audience until it expires. Keep lifetimes short (the
default is 30 seconds, and a trust store refuses claims that live longer than its
``max_age``, 60 seconds by default) and send claims only over TLS inside the agency.

What this module must not do: put a token, an actor id or any header content in an
exception message or a log line (messages name reason codes, services and key ids only).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .._config import get_configuration
from .._shared.keys import signing_key_id
from ..actors import Actor
from ..decisions import Upstream
from ..errors import ClaimPurposeRefused, ConfigurationError, UnknownPurpose, UntrustedClaim
from ..purposes import Purpose
from ..sensitivity import NZ_CLASSIFICATION, Level, Scale
from .keys import ServiceKey, check_service_name

__all__ = ["PurposeClaim", "TrustStore", "TrustedService", "sign_claim"]

_VERSION: Final = "1"
_DOMAIN: Final = b"purposeful purpose claim 1\n"
#: The longest token accepted: W3C baggage as a whole is at most 8,192 bytes.
MAX_TOKEN: Final = 4096
_TOKEN: Final = re.compile(r"1\.([0-9a-f]{8})\.([A-Za-z0-9_-]{1,3900})\.([A-Za-z0-9_-]{86})")
_TEXT_LIMIT: Final = 200
#: The first second past what a datetime can hold (year 10000): a time after it is malformed.
_LAST_SECOND: Final = 253_402_300_800
_TEXTS: Final = ("aud", "iss", "purpose", "actor", "role", "clearance", "scope")
_KEYS: Final = frozenset({*_TEXTS, "iat", "exp"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@attrs.frozen
class PurposeClaim:
    """A verified purpose claim: who calls, under which purpose, for whom.

    Attributes:
        purpose: the caller's purpose, a purpose this service's registry has.
        actor: the caller's actor, with the clearance capped at what this service trusts
            the caller to assert.
        service: the calling service, as the trust store names it.
        upstream: the calling service and its scope id, for `purposeful.use(upstream=...)`.
        key_id: the id of the key that signed it.
        issued_at, expires_at: its validity window (UTC).
    """

    purpose: Purpose
    actor: Actor
    service: str
    upstream: Upstream
    key_id: str
    issued_at: datetime
    expires_at: datetime


def sign_claim(
    key: ServiceKey,
    *,
    audience: str,
    purpose: Purpose,
    actor: Actor,
    scope_id: str,
    lifetime: timedelta,
    now: datetime | None = None,
) -> str:
    """The token of a claim by *key*'s service to *audience*, valid for *lifetime* from now."""
    issued = int((now or datetime.now(UTC)).timestamp())
    body = {
        "aud": audience,
        "iss": key.service,
        "purpose": purpose.id,
        "actor": actor.id,
        "role": actor.role,
        "clearance": actor.clearance.name,
        "scope": scope_id,
        "iat": issued,
        "exp": issued + max(1, int(lifetime.total_seconds())),
    }
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    signed = f"{_VERSION}.{key.key_id}.{payload}"
    if len(signed) + 87 > MAX_TOKEN:
        raise ConfigurationError(
            f"a purpose claim to {audience!r} would be longer than {MAX_TOKEN} bytes: an actor "
            f"id, role or scope id is too long; keep each under {_TEXT_LIMIT} characters"
        )
    return f"{signed}.{_b64(key.private_key.sign(_DOMAIN + signed.encode('ascii')))}"


def _service(_: object, __: attrs.Attribute[str], value: object) -> None:
    check_service_name(value)


def _purposes(value: Iterable[str] | None) -> frozenset[str] | None:
    return _names(value, "purposes", "{'service-delivery'}")


def _roles(value: Iterable[str] | None) -> frozenset[str] | None:
    return _names(value, "roles", "{'caseworker', 'supervisor'}")


def _names(value: Iterable[str] | None, what: str, example: str) -> frozenset[str] | None:
    """`TrustedService`'s *what*: a collection of names, or None for any (a plain string is
    refused: it would be taken for the set of its letters)."""
    if value is None:
        return None
    found = () if isinstance(value, str) else tuple(value)  # once: a generator is used up
    if isinstance(value, str) or not all(isinstance(n, str) and n for n in found):
        raise ConfigurationError(
            f"TrustedService.{what} must be a collection of names, such as {example}, or "
            f"None for any"
        )
    return frozenset(found)


def _level_of(_: object, __: attrs.Attribute[Level], level: object) -> None:
    if not isinstance(level, Level):
        raise ConfigurationError(
            f"TrustedService.max_clearance must be a sensitivity Level such as "
            f"purposeful.SENSITIVE, not {type(level).__name__}"
        )


def _public_keys(value: Iterable[Ed25519PublicKey]) -> tuple[Ed25519PublicKey, ...]:
    keys = tuple(value)
    if not keys or not all(isinstance(key, Ed25519PublicKey) for key in keys):
        raise ConfigurationError(
            "TrustedService.public_keys must be one or more Ed25519 public keys (load each "
            "with purposeful.propagation.load_service_public_key)"
        )
    return keys


@attrs.frozen
class TrustedService:
    """A service this one trusts to assert purposes, and how far.

    Args:
        service: its name, as its claims name their issuer.
        public_keys: its public keys; several while a key is rotated (add the new key, let
            the caller switch, then drop the old one).
        max_clearance: the highest clearance it may assert for an actor; a claim for more
            is capped to this, never refused or raised.
        purposes: the purposes it may assert (each covers its descendants); None for any
            purpose this service's registry has.
        roles: the actor roles it may assert; a claim naming another is refused. None for
            any role: then a statute this service restricts to some roles (without a
            recorded justification, which a claim cannot carry) trusts the caller's word
            for the role.
    """

    service: str = attrs.field(validator=_service)
    public_keys: tuple[Ed25519PublicKey, ...] = attrs.field(converter=_public_keys)
    max_clearance: Level = attrs.field(validator=_level_of)
    purposes: frozenset[str] | None = attrs.field(default=None, converter=_purposes)
    roles: frozenset[str] | None = attrs.field(default=None, converter=_roles)


def _window(value: object, what: str) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0) or value > timedelta(hours=1):
        raise ConfigurationError(f"TrustStore {what} must be a timedelta from 0 to 1 hour")
    return value


class TrustStore:
    """The services this one trusts, and the checks an inbound claim must pass.

    Args:
        service: this service's own name: a claim must be addressed to it.
        trusted: the services it trusts (`TrustedService`).
        max_age: the longest lifetime a claim may have (``exp - iat``); longer is refused.
        skew: how far the clocks of two services may differ.
        scale: the sensitivity scale claimed clearances are named on.

    Raises:
        ConfigurationError: a service name is malformed or given twice, two services
            share a key (each service has its own), or a service's ``purposes`` names a
            purpose the configured registry does not have (a misspelt id would refuse
            every claim at run time).
    """

    def __init__(
        self,
        service: str,
        trusted: Iterable[TrustedService],
        *,
        max_age: timedelta = timedelta(seconds=60),
        skew: timedelta = timedelta(seconds=5),
        scale: Scale = NZ_CLASSIFICATION,
    ) -> None:
        self.service = check_service_name(service)
        self.max_age = _window(max_age, "max_age")
        self.skew = _window(skew, "skew")
        self.scale = scale
        self._services: dict[str, TrustedService] = {}
        self._keys: dict[str, tuple[TrustedService, Ed25519PublicKey]] = {}
        for entry in trusted:
            if not isinstance(entry, TrustedService):
                raise ConfigurationError(
                    f"TrustStore takes TrustedService entries, not {type(entry).__name__}"
                )
            if entry.service in self._services:
                raise ConfigurationError(f"TrustStore lists the service {entry.service!r} twice")
            if entry.max_clearance not in scale:
                raise ConfigurationError(
                    f"the max_clearance of {entry.service!r} is not on the scale {scale.name!r}"
                )
            _check_purposes(entry)
            self._services[entry.service] = entry
            for key in entry.public_keys:
                key_id = signing_key_id(key)
                if key_id in self._keys:
                    raise ConfigurationError(
                        f"the key {key_id} is listed for {self._keys[key_id][0].service!r} and "
                        f"{entry.service!r}: each service signs with a key of its own"
                    )
                self._keys[key_id] = (entry, key)

    @property
    def services(self) -> tuple[TrustedService, ...]:
        return tuple(self._services.values())

    def verify(self, token: str, *, now: datetime | None = None) -> PurposeClaim:
        """The claim in *token*, verified, with its actor's clearance capped.

        Raises:
            UntrustedClaim: malformed, unknown key, bad signature, another audience, expired,
                not yet valid, or living longer than ``max_age`` (status 401).
            ClaimPurposeRefused: its purpose is unknown here, or its purpose or actor role
                is not one the caller may assert (status 403).
        """
        match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
        if match is None:
            raise _untrusted("malformed", "is not a purpose claim token this version reads")
        key_id, payload, signature = match.groups()
        found = self._keys.get(key_id)
        if found is None:
            raise _untrusted(
                "unknown-key",
                f"is signed with the key {key_id}, which this service's trust store does not "
                f"hold; add the caller's public key (service-key.pub.pem) to the trust store",
            )
        caller, public_key = found
        signed = token[: match.start(3) - 1].encode("ascii")
        try:
            raw_signature = _unb64(signature)
            if _b64(raw_signature) != signature:  # one spelling per signature, no spare bits
                raise InvalidSignature
            public_key.verify(raw_signature, _DOMAIN + signed)
        except (InvalidSignature, binascii.Error, ValueError):
            raise _untrusted("bad-signature", "does not match its signature") from None
        body = _body(payload)
        if body["iss"] != caller.service:
            raise _untrusted("bad-signature", f"names another issuer than {caller.service!r}")
        if body["aud"] != self.service:
            raise _untrusted(
                "wrong-audience", f"was made for another service than {self.service!r}"
            )
        issued = datetime.fromtimestamp(body["iat"], UTC)
        expires = datetime.fromtimestamp(body["exp"], UTC)
        moment = now or datetime.now(UTC)
        if expires - issued > self.max_age or expires <= issued:
            raise _untrusted(
                "lifetime-too-long",
                f"from {caller.service!r} lives longer than this service accepts "
                f"({int(self.max_age.total_seconds())} s); shorten the caller's lifetime",
            )
        # differences, not sums: a time near the calendar's end plus the skew would overflow
        if moment - expires > self.skew:
            raise _untrusted("expired", f"from {caller.service!r} has expired")
        if issued - moment > self.skew:
            raise _untrusted(
                "not-yet-valid",
                f"from {caller.service!r} is not valid yet: are the two services' clocks apart?",
            )
        purpose = self._purpose(body["purpose"], caller)
        clearance = self._clearance(body["clearance"], caller)
        try:
            actor = Actor(body["actor"], body["role"], clearance)
            upstream = Upstream(caller.service, body["scope"])
        except ConfigurationError:
            raise _untrusted(
                "malformed", "names an actor, role or scope id that is not one"
            ) from None
        if caller.roles is not None and actor.role not in caller.roles:
            raise ClaimPurposeRefused(
                f"{caller.service!r} may not assert that actor role here: this service "
                f"trusts it for the roles {', '.join(sorted(caller.roles))} only; if it "
                f"should, add the role to its TrustedService(roles=...)",
                reason="role-not-trusted",
            )
        return PurposeClaim(
            purpose=purpose,
            actor=actor,
            service=caller.service,
            upstream=upstream,
            key_id=key_id,
            issued_at=issued,
            expires_at=expires,
        )

    def _purpose(self, ident: str, caller: TrustedService) -> Purpose:
        try:
            purpose = get_configuration().registry.resolve(ident)
        except UnknownPurpose:
            raise ClaimPurposeRefused(
                f"a purpose claim from {caller.service!r} names a purpose this service's "
                f"registry does not have; the two services must share their purpose "
                f"declarations",
                reason="unknown-purpose",
            ) from None
        if caller.purposes is not None and not any(
            ident == allowed or ident.startswith(allowed + ".") for allowed in caller.purposes
        ):
            raise ClaimPurposeRefused(
                f"{caller.service!r} may not assert the purpose {ident!r} here: this "
                f"service trusts it for {', '.join(sorted(caller.purposes))} only",
                reason="purpose-not-trusted",
                asked_purpose=ident,
            )
        return purpose

    def _clearance(self, name: str, caller: TrustedService) -> Level:
        try:
            claimed = self.scale[name]
        except ConfigurationError:
            raise _untrusted(
                "malformed", f"names a clearance not on the scale {self.scale.name!r}"
            ) from None
        return min(claimed, caller.max_clearance)


def _check_purposes(entry: TrustedService) -> None:
    """Every purpose *entry* may assert is one the configured registry has: checked when
    the trust store is made, not found at run time as a 403 for every claim."""
    if entry.purposes is None:
        return
    registry = get_configuration().registry
    unknown = []
    for ident in sorted(entry.purposes):
        try:
            registry.resolve(ident)
        except UnknownPurpose:
            unknown.append(ident)
    if unknown:
        raise ConfigurationError(
            f"TrustedService {entry.service!r} may assert purposes this service's registry "
            f"does not have: {', '.join(map(repr, unknown))}; correct the ids, or declare "
            f"the purposes (purposeful.configure(registry=...)) before making the trust store"
        )


def _untrusted(reason: str, problem: str) -> UntrustedClaim:
    return UntrustedClaim(f"a purpose claim {problem} (reason {reason})", reason=reason)


def _body(payload: str) -> dict[str, Any]:
    """The claim's fields, each checked: short printable text, or whole seconds."""
    try:
        body = json.loads(_unb64(payload))
    except (ValueError, binascii.Error, RecursionError):
        raise _untrusted("malformed", "has a payload that is not JSON") from None
    if not isinstance(body, dict) or set(body) != _KEYS:
        raise _untrusted("malformed", f"must hold exactly {', '.join(sorted(_KEYS))}")
    for name in _TEXTS:
        value = body[name]
        if not isinstance(value, str) or not value or len(value) > _TEXT_LIMIT:
            raise _untrusted("malformed", f"has a {name} that is not short text")
        if not value.isprintable():
            raise _untrusted("malformed", f"has a {name} with control characters")
    for name in ("iat", "exp"):
        value = body[name]
        if type(value) is not int or not 0 <= value < _LAST_SECOND:
            raise _untrusted("malformed", f"has an {name} that is not whole seconds")
    return body
