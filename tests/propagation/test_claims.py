"""Signed purpose claims: made from the scope open here, verified against a trust store, and
refused with a typed error for every way one can be wrong, never quoting the header."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, SUPERVISOR
from purposeful import IN_CONFIDENCE, RESTRICTED, SENSITIVE, Actor, use
from purposeful.errors import (
    ClaimPurposeRefused,
    ConfigurationError,
    KeyFileError,
    PurposeClaimRefused,
    UntrustedClaim,
)
from purposeful.propagation import (
    CLAIM_KEY,
    ServiceKey,
    TrustedService,
    TrustStore,
    Upstream,
    extract,
    generate_service_key,
    inject,
    load_service_key,
    load_service_public_key,
    remove_claim,
    sign_claim,
)

INTAKE = ServiceKey.generate("intake")
ROGUE = ServiceKey.generate("intake")  # the same name, a key nobody trusts
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def trust(**options: object) -> TrustStore:
    return TrustStore(
        "case-management",
        [TrustedService("intake", [INTAKE.public_key], max_clearance=SENSITIVE)],
        **options,  # type: ignore[arg-type]
    )


def claim_headers(
    key: ServiceKey = INTAKE,
    *,
    audience: str = "case-management",
    actor: Actor = CASEWORKER,
    purpose: str = CASE_MANAGEMENT,
    lifetime: timedelta = timedelta(seconds=30),
    at: datetime = NOW,
) -> dict[str, str]:
    headers: dict[str, str] = {}
    with use(purpose, actor=actor) as scope:
        assert inject(headers, key, audience=audience, lifetime=lifetime, now=at)
        headers["x-scope-id"] = scope.id
    return headers


def test_a_claim_carries_the_purpose_actor_and_scope_to_the_service_that_trusts_it() -> None:
    headers = claim_headers()
    claim = extract(headers, trust(), now=NOW + timedelta(seconds=1))
    assert claim is not None
    assert claim.purpose.id == CASE_MANAGEMENT
    assert claim.actor == CASEWORKER
    assert claim.service == "intake"
    assert claim.upstream == Upstream("intake", headers["x-scope-id"])
    assert claim.key_id == INTAKE.key_id
    assert claim.expires_at - claim.issued_at == timedelta(seconds=30)


def test_the_claimed_clearance_is_capped_at_what_the_caller_may_assert() -> None:
    claim = extract(claim_headers(actor=SUPERVISOR), trust(), now=NOW)
    assert SUPERVISOR.clearance == RESTRICTED
    assert claim is not None
    assert claim.actor.clearance == SENSITIVE
    lower = Actor("staff-1", "admin", IN_CONFIDENCE)
    claim = extract(claim_headers(actor=lower), trust(), now=NOW)
    assert claim is not None
    assert claim.actor.clearance == IN_CONFIDENCE


def test_no_claim_in_the_baggage_is_none_and_other_members_are_kept() -> None:
    assert extract({}, trust()) is None
    assert extract({"Baggage": "tenant=waikato,purposefulness=high"}, trust()) is None
    headers = {"BAGGAGE": "tenant=waikato"}
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        inject(headers, INTAKE, audience="case-management", now=NOW)
    assert list(headers) == ["baggage"]
    assert headers["baggage"].startswith("tenant=waikato,purposeful=1.")
    assert extract(list(headers.items()), trust(), now=NOW) is not None


def test_inject_never_forwards_a_claim_it_did_not_make() -> None:
    inbound = claim_headers()
    inbound["baggage"] = "tenant=waikato," + inbound["baggage"]
    forwarded = dict(inbound)
    assert not inject(forwarded, INTAKE, audience="case-management")  # no scope here
    assert forwarded["baggage"] == "tenant=waikato"
    stripped = dict(inbound)
    remove_claim(stripped)
    assert stripped["baggage"] == "tenant=waikato"
    only = claim_headers()
    remove_claim(only)
    assert "baggage" not in only


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h: {"baggage": h["baggage"].replace("1.", "2.", 1)}, "malformed"),
        (lambda h: {"baggage": f"{CLAIM_KEY}="}, "unsigned"),
        (lambda h: {"baggage": f"{CLAIM_KEY}=;x=1"}, "malformed"),
        (lambda h: {"baggage": h["baggage"] + ";ttl=3"}, "malformed"),
        (lambda h: {"baggage": h["baggage"] + "," + h["baggage"]}, "malformed"),
        (lambda h: claim_headers(ROGUE), "unknown-key"),
        (lambda h: claim_headers(audience="funder-reporting"), "wrong-audience"),
        (lambda h: claim_headers(at=NOW - timedelta(minutes=5)), "expired"),
        (lambda h: claim_headers(at=NOW + timedelta(minutes=5)), "not-yet-valid"),
        (lambda h: claim_headers(lifetime=timedelta(minutes=10)), "lifetime-too-long"),
        (lambda h: {"baggage": "x=" + "y" * 9000 + "," + h["baggage"]}, "malformed"),
    ],
)
def test_every_untrusted_claim_is_refused_with_its_reason(change: object, reason: str) -> None:
    headers = change(claim_headers())  # type: ignore[operator]
    with pytest.raises(UntrustedClaim) as caught:
        extract(headers, trust(), now=NOW)
    assert caught.value.reason == reason
    assert caught.value.status == 401
    _quotes_nothing(caught.value, headers)


def test_a_claim_with_any_byte_changed_is_refused() -> None:
    headers = claim_headers()
    token = headers["baggage"].split("=", 1)[1]
    for index in range(len(token)):
        for other in ("A", "-", "0"):
            if token[index] == other:
                continue
            forged = token[:index] + other + token[index + 1 :]
            with pytest.raises(UntrustedClaim):
                extract({"baggage": f"{CLAIM_KEY}={forged}"}, trust(), now=NOW)


def test_a_rewritten_payload_signed_by_nobody_trusted_is_refused() -> None:
    token = claim_headers()["baggage"].split("=", 1)[1]
    version, key_id, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["clearance"] = "TOP SECRET"
    body["purpose"] = "service-delivery"
    forged_payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    forged = f"{version}.{key_id}.{forged_payload}.{signature}"
    with pytest.raises(UntrustedClaim) as caught:
        extract({"baggage": f"{CLAIM_KEY}={forged}"}, trust(), now=NOW)
    assert caught.value.reason == "bad-signature"


def test_a_signature_without_the_claim_prefix_is_not_a_claim() -> None:
    token = claim_headers()["baggage"].split("=", 1)[1]
    signed = token.rsplit(".", 1)[0]
    bare = INTAKE.private_key.sign(signed.encode())  # what another use of the key would sign
    raw = base64.urlsafe_b64encode(bare).rstrip(b"=").decode()
    with pytest.raises(UntrustedClaim) as caught:
        extract({"baggage": f"{CLAIM_KEY}={signed}.{raw}"}, trust(), now=NOW)
    assert caught.value.reason == "bad-signature"


def test_a_purpose_unknown_here_or_not_trusted_from_the_caller_is_refused_403() -> None:
    token = sign_claim(
        INTAKE,
        audience="case-management",
        purpose=purposeful.Purpose("intake-only", "Intake", "An intake purpose", "Help"),
        actor=CASEWORKER,
        scope_id="s-1",
        lifetime=timedelta(seconds=30),
        now=NOW,
    )
    with pytest.raises(ClaimPurposeRefused) as caught:
        extract({"baggage": f"{CLAIM_KEY}={token}"}, trust(), now=NOW)
    assert (caught.value.reason, caught.value.status) == ("unknown-purpose", 403)
    narrow = TrustStore(
        "case-management",
        [TrustedService("intake", [INTAKE.public_key], SENSITIVE, purposes={"research"})],
    )
    with pytest.raises(ClaimPurposeRefused) as caught:
        extract(claim_headers(), narrow, now=NOW)
    assert caught.value.reason == "purpose-not-trusted"
    wide = TrustStore(
        "case-management",
        [TrustedService("intake", [INTAKE.public_key], SENSITIVE, purposes={"service-delivery"})],
    )
    assert extract(claim_headers(), wide, now=NOW) is not None


def test_a_role_the_caller_may_not_assert_is_refused_403_and_not_quoted() -> None:
    """A clearance can be capped; a role cannot: without ``roles=`` a compromised caller
    could claim the one role an agency's own statute is restricted to."""
    store = TrustStore(
        "case-management",
        [TrustedService("intake", [INTAKE.public_key], SENSITIVE, roles={"caseworker"})],
    )
    claim = extract(claim_headers(actor=CASEWORKER), store, now=NOW)
    assert claim is not None
    assert claim.actor.role == "caseworker"
    chief = Actor("staff-9", "chief-executive-delegate", SENSITIVE)
    with pytest.raises(ClaimPurposeRefused) as caught:
        extract(claim_headers(actor=chief), store, now=NOW)
    assert (caught.value.reason, caught.value.status) == ("role-not-trusted", 403)
    assert "chief-executive-delegate" not in str(caught.value)
    assert "caseworker" in str(caught.value)  # what it may assert, from this side's list
    anyone = TrustStore(
        "case-management", [TrustedService("intake", [INTAKE.public_key], SENSITIVE)]
    )
    assert extract(claim_headers(actor=chief), anyone, now=NOW) is not None


@pytest.mark.parametrize("names", ["caseworker", ["caseworker", ""], [3]])
@pytest.mark.parametrize("what", ["roles", "purposes"])
def test_trusted_roles_and_purposes_are_collections_of_names(what: str, names: object) -> None:
    """A plain string is refused: it would be taken for the set of its letters, and every
    claim of the caller refused with a message about letters."""
    with pytest.raises(ConfigurationError, match=f"{what} must be a collection of names"):
        TrustedService("intake", [INTAKE.public_key], SENSITIVE, **{what: names})  # type: ignore[arg-type]


def test_a_rotated_key_is_trusted_beside_the_old_one() -> None:
    new = ServiceKey.generate("intake")
    store = TrustStore(
        "case-management",
        [TrustedService("intake", [INTAKE.public_key, new.public_key], SENSITIVE)],
    )
    assert extract(claim_headers(INTAKE), store, now=NOW) is not None
    assert extract(claim_headers(new), store, now=NOW) is not None


def test_a_trust_store_is_declared_correctly_or_not_at_all() -> None:
    entry = TrustedService("intake", [INTAKE.public_key], SENSITIVE)
    with pytest.raises(ConfigurationError, match="twice"):
        TrustStore("case-management", [entry, entry])
    with pytest.raises(ConfigurationError, match="own"):
        TrustStore(
            "case-management",
            [entry, TrustedService("referrals", [INTAKE.public_key], SENSITIVE)],
        )
    with pytest.raises(ConfigurationError):
        TrustedService("intake", [], SENSITIVE)
    with pytest.raises(ConfigurationError):
        TrustedService("intake", [INTAKE.public_key], "SENSITIVE")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        TrustStore("case management", [])
    with pytest.raises(ConfigurationError):
        TrustStore("case-management", [], max_age=timedelta(days=1))
    with pytest.raises(ConfigurationError):
        ServiceKey("intake", "not a key")  # type: ignore[arg-type]
    with use(CASE_MANAGEMENT, actor=CASEWORKER), pytest.raises(ConfigurationError):
        inject({}, INTAKE, audience="case-management", lifetime=timedelta(0))


@given(st.text(max_size=300))
def test_any_baggage_is_none_a_claim_or_a_typed_refusal(value: str) -> None:
    for headers in ({"baggage": value}, {"baggage": f"{CLAIM_KEY}={value}"}):
        try:
            extract(headers, trust(), now=NOW)
        except PurposeClaimRefused as refused:
            _quotes_nothing(refused, headers)


@given(st.binary(min_size=1, max_size=300))
def test_any_payload_under_a_valid_envelope_is_a_typed_refusal(payload: bytes) -> None:
    text = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    token = f"1.{INTAKE.key_id}.{text}.{'A' * 86}"
    with pytest.raises(UntrustedClaim):
        extract({"baggage": f"{CLAIM_KEY}={token}"}, trust(), now=NOW)


def test_the_service_key_files_are_written_safely_and_read_back(tmp_path: Path) -> None:
    private, public, key_id = generate_service_key(tmp_path / "keys")
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(public).st_mode) == 0o644
    key = load_service_key("intake", private)
    assert key.key_id == key_id
    assert load_service_public_key(public) == key.public_key
    assert key_id in repr(key)
    assert "PRIVATE" not in repr(key)
    with pytest.raises(KeyFileError, match="already holds"):
        generate_service_key(tmp_path / "keys")
    with pytest.raises(KeyFileError):
        load_service_public_key(private)
    encrypted, _, _ = generate_service_key(tmp_path / "locked", passphrase="correct horse")
    assert load_service_key("intake", encrypted, passphrase="correct horse").service == "intake"


def test_the_service_key_comes_from_the_environment_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    private, _, key_id = generate_service_key(tmp_path)
    monkeypatch.setenv("PURPOSEFUL_SERVICE_KEY", private.read_text())
    assert load_service_key("intake").key_id == key_id


def _quotes_nothing(error: Exception, headers: dict[str, str]) -> None:
    """The message names reasons, services and key ids, never the header's content."""
    message = str(error)
    for value in headers.values():
        for member in value.split(","):
            token = member.partition("=")[2]
            if len(token) > 12:
                assert token not in message
    assert CASEWORKER.id not in message


def test_the_service_key_loaders_point_at_service_keys_never_at_the_ledger_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from purposeful.audit import generate_keys

    ledger_keys = generate_keys(tmp_path / "agency")
    with pytest.raises(KeyFileError, match="keys service") as caught:
        load_service_key("intake", ledger_keys.signing_key)
    assert "ledger" in str(caught.value)
    with pytest.raises(KeyFileError, match=r"keys service") as caught:
        load_service_key("intake", tmp_path / "missing.pem")
    monkeypatch.delenv("PURPOSEFUL_SERVICE_KEY", raising=False)
    with pytest.raises(KeyFileError) as caught:
        load_service_key("intake")
    assert "service-key.pem" in str(caught.value)
    assert "signing-key" not in str(caught.value)
    with pytest.raises(KeyFileError) as caught:
        load_service_key("intake", ledger_keys.pseudonym_key)
    assert "service-key.pem" in str(caught.value)
    private, _, _ = generate_service_key(tmp_path / "intake")
    with pytest.raises(KeyFileError) as caught:
        load_service_public_key(private)
    assert "service-key.pub.pem" in str(caught.value)
