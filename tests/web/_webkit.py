"""What the web tests share: a record with sentinel values, actors, keys and claims.

Every value of `WebClient` is a sentinel: a test that searches a response, a log line or a
span for them finds any leak.
"""

from __future__ import annotations

from collections.abc import Mapping

import purposeful
from purposeful import IN_CONFIDENCE, SENSITIVE, Actor, ServiceAgreement
from purposeful.propagation import ServiceKey, TrustedService, TrustStore, inject

CASE_MANAGEMENT = "service-delivery.case-management"
AGREEMENT = ServiceAgreement("Web service agreement")

SUBJECT = "SUBJECT-ID-7f3a9c"
SECRET_DIAGNOSIS = "SENTINEL-DIAGNOSIS-51b2"
SECRET_ADDRESS = "SENTINEL-ADDRESS-88e0"
SENTINELS = (SUBJECT, SECRET_DIAGNOSIS, SECRET_ADDRESS)

CASEWORKER = Actor("web-staff-0042", "caseworker", SENSITIVE)
CLERK = Actor("web-staff-0100", "clerk", IN_CONFIDENCE)

INTAKE_KEY = ServiceKey.generate("intake")
STRANGER_KEY = ServiceKey.generate("intake")  # the same name, a key no one trusts
INTAKE_ACTOR = Actor("intake-staff-7", "intake-worker", SENSITIVE)


@purposeful.record(subject="client_id")
class WebClient:
    """``diagnosis``: case management only, SENSITIVE; ``address``: service delivery."""

    client_id: str
    diagnosis: str = purposeful.field(
        purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE, category="health"
    )
    address: str = purposeful.field(purposes={"service-delivery": AGREEMENT}, category="contact")


def client() -> WebClient:
    return WebClient(SUBJECT, SECRET_DIAGNOSIS, SECRET_ADDRESS)


def trust_store(purposes: set[str] | None = None) -> TrustStore:
    return TrustStore(
        "case-management",
        [TrustedService("intake", [INTAKE_KEY.public_key], SENSITIVE, purposes=purposes)],
    )


def claim_headers(
    purpose: str,
    *,
    key: ServiceKey = INTAKE_KEY,
    actor: Actor = INTAKE_ACTOR,
    audience: str = "case-management",
) -> dict[str, str]:
    """The headers a caller sends from inside a scope of *purpose*, and its scope id under
    the key ``"x-test-scope-id"`` (not a header a real caller sends)."""
    headers: dict[str, str] = {}
    with purposeful.use(purpose, actor=actor) as scope:
        inject(headers, key, audience=audience)
        scope_id = scope.id
    return {**headers, "x-test-scope-id": scope_id}


def leaks(text: str | bytes | Mapping[str, object]) -> list[str]:
    """The sentinels found in *text*."""
    as_text = text.decode() if isinstance(text, bytes) else str(text)
    return [sentinel for sentinel in SENTINELS if sentinel in as_text]
