"""Hostile purpose claims: what a buggy or compromised peer, or an eavesdropper, can send,
answered with a typed refusal and bounded work, never a crash or a value in the trail."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from _records import CASE_MANAGEMENT, CASEWORKER
from purposeful import SENSITIVE, use
from purposeful.errors import ConfigurationError, PurposeClaimRefused, UntrustedClaim
from purposeful.propagation import (
    CLAIM_KEY,
    ServiceKey,
    TrustedService,
    TrustStore,
    Upstream,
    extract,
    inject,
    sign_claim,
)

INTAKE = ServiceKey.generate("intake")
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _trust() -> TrustStore:
    return TrustStore(
        "case-management", [TrustedService("intake", [INTAKE.public_key], max_clearance=SENSITIVE)]
    )


def _purpose():  # the registry's purpose object, through the public API
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        return scope.purpose


def _token(**overrides: object) -> str:
    options: dict[str, object] = {
        "audience": "case-management",
        "purpose": _purpose(),
        "actor": CASEWORKER,
        "scope_id": "4900611881a8e83c00000000",
        "lifetime": timedelta(seconds=30),
        "now": NOW,
    }
    options.update(overrides)
    return sign_claim(INTAKE, **options)  # type: ignore[arg-type]


def test_a_claim_dated_past_year_9999_is_a_typed_refusal_not_a_valueerror() -> None:
    """A claim dated past what a datetime holds (year 9999) is a typed 401, not a crash."""
    far = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    token = _token(now=far, lifetime=timedelta(hours=1))
    with pytest.raises(UntrustedClaim):
        extract({"baggage": f"{CLAIM_KEY}={token}"}, _trust(), now=far)


def test_a_claim_with_a_blank_actor_id_or_role_is_a_typed_refusal() -> None:
    """A signed claim whose actor id or role is blank is malformed (401), not a configuration
    error."""
    blank = SimpleNamespace(id="   ", role="caseworker", clearance=SENSITIVE)
    token = _token(actor=blank)
    with pytest.raises(UntrustedClaim) as refused:
        extract({"baggage": f"{CLAIM_KEY}={token}"}, _trust(), now=NOW)
    assert refused.value.reason == "malformed"


def test_a_claim_has_exactly_one_token_spelling() -> None:
    """A signature has one spelling: the spare bits of its last base64 character must be zero,
    so nothing that tells claims apart by their text (a replay cache) can be fooled."""
    token = _token()
    last = token[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    accepted = []
    for other in alphabet:
        if other == last:
            continue
        try:
            extract({"baggage": f"{CLAIM_KEY}={token[:-1]}{other}"}, _trust(), now=NOW)
        except PurposeClaimRefused:
            continue
        accepted.append(other)
    assert accepted == []


def test_extract_reads_no_more_than_the_w3c_limits_of_a_huge_baggage() -> None:
    """A baggage over the W3C limits is refused before it is split: a huge task-queue header
    costs one pass over it, not memory in proportion."""
    value = f"{CLAIM_KEY}=x," + ",".join(f"m{i}=v" for i in range(400_000))
    tracemalloc.start()
    try:
        with pytest.raises(UntrustedClaim):
            extract({"baggage": value}, _trust(), now=NOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = len(value)
    assert peak < 2 * size, f"extract used {peak / 1e6:.0f} MB for a {size / 1e6:.1f} MB header"


def test_a_claims_scope_must_be_a_scope_id_not_free_text() -> None:
    """A claim's scope id reaches the receiver's span, ledger and report: it must be a scope id,
    never free text that could carry a name or a value."""
    token = _token(scope_id="C-4410 Aroha Ngata, diagnosis: generalised anxiety")
    with pytest.raises(UntrustedClaim):
        extract({"baggage": f"{CLAIM_KEY}={token}"}, _trust(), now=NOW)


def test_upstream_refuses_a_scope_id_that_is_not_one() -> None:
    """`Upstream` itself takes scope ids only, from any caller."""
    with pytest.raises(ConfigurationError):
        Upstream(service="intake", scope_id="C-4410 Aroha Ngata, diagnosis: anxiety")


def test_inject_roundtrip_still_works() -> None:
    """A genuine claim still goes through, so the refusals above are for their own reasons."""
    headers: dict[str, str] = {}
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert inject(headers, INTAKE, audience="case-management")
    assert extract(headers, _trust()) is not None
