"""Red team 5: the roles a trusted caller may assert (`TrustedService.roles`)."""

from __future__ import annotations

import pytest
from test_claims import INTAKE, NOW, claim_headers

from _records import CASEWORKER
from purposeful import SENSITIVE
from purposeful.errors import ClaimPurposeRefused
from purposeful.propagation import TrustedService, TrustStore, extract


def test_roles_given_as_a_generator_are_kept_not_emptied() -> None:
    """`_roles` checks ``all(isinstance(role, str) and role for role in value)`` and then
    builds ``frozenset(value)``: a one-shot iterable (a generator over a settings list, a
    ``map``) is used up by the check, and the service is trusted for no role at all, with
    no error. Every claim from it is then refused 403 role-not-trusted, and the message
    says 'trusts it for the roles  only'."""
    configured = ["caseworker", "supervisor"]
    entry = TrustedService(
        "intake", [INTAKE.public_key], SENSITIVE, roles=(role for role in configured)
    )
    assert entry.roles == frozenset(configured)
    store = TrustStore("case-management", [entry])
    try:
        claim = extract(claim_headers(actor=CASEWORKER), store, now=NOW)
    except ClaimPurposeRefused as refused:  # pragma: no cover - the failure being shown
        pytest.fail(f"a trusted role was refused: {refused}")
    assert claim is not None
    assert claim.actor.role == "caseworker"
