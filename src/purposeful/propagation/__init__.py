"""Purposes across services: signed purpose claims in the W3C ``baggage`` header.

A service that calls another of the agency's services under a purpose sends a claim: the
purpose, the actor's id, role and clearance, and its scope id, signed with a key of its own
(`ServiceKey`). The receiving service verifies it against its `TrustStore`, caps the
clearance at what it trusts the caller to assert, and opens its scope under the caller's
purpose and actor, noting the caller's scope (`Upstream`) in its report. The web
middleware (`purposeful.web`) does all of it per request; `inject` and `extract` carry a
claim through a task queue or any other transport with headers. See the "Across services"
page of the docs for the threat model.
"""

from __future__ import annotations

from ..decisions import Upstream
from .baggage import (
    BAGGAGE_HEADER,
    CLAIM_KEY,
    extract,
    inject,
    otel_baggage_without_claim,
    remove_claim,
)
from .claims import PurposeClaim, TrustedService, TrustStore, sign_claim
from .keys import (
    SERVICE_KEY_ENV,
    SERVICE_KEY_FILE,
    SERVICE_PUBLIC_KEY_FILE,
    ServiceKey,
    generate_service_key,
    load_service_key,
    load_service_public_key,
)
from .outbound import Outbound

__all__ = [
    "BAGGAGE_HEADER",
    "CLAIM_KEY",
    "SERVICE_KEY_ENV",
    "SERVICE_KEY_FILE",
    "SERVICE_PUBLIC_KEY_FILE",
    "Outbound",
    "PurposeClaim",
    "ServiceKey",
    "TrustStore",
    "TrustedService",
    "Upstream",
    "extract",
    "generate_service_key",
    "inject",
    "load_service_key",
    "load_service_public_key",
    "otel_baggage_without_claim",
    "remove_claim",
    "sign_claim",
]
