"""A record with no subject id is read under a consent decision that names nobody.

Its read is counted and never listed, but its would-deny decision goes out with the
others: the scope's would-deny decisions on the field then outnumber the people it lists
who were refused, and can equal the people it lists reading the field while one of them
had consented.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, FakeConsent, case
from purposeful import use
from purposeful.audit import Ledger, PseudonymKey
from purposeful.audit.history import SubjectQuery, access_history

KEY = PseudonymKey.generate()


@pytest.mark.xfail(
    strict=True,
    reason="the trail does not say that a read was of a record with no subject id, nor "
    "which would-deny decision was about it: attributing around it needs a new attribute "
    "in the spans and ledger lines (how many unnamed records were read per field)",
)
def test_a_person_who_consented_is_not_marked_by_a_record_with_no_subject(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    with Ledger(path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        purposeful.configure(
            sinks=[ledger],
            pseudonymise=KEY.pseudonym,
            mode=purposeful.Mode.MONITOR,
            consent=FakeConsent({("C-9", CASE_MANAGEMENT)}),
        )
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            for who in ("C-1", "C-9", None):
                _ = case(client_id=who).case_notes
    query = SubjectQuery.for_subject("C-9", [KEY])
    (access,) = access_history(query, [path]).accesses
    assert access.fields_read == ("Case.case_notes",)
    assert access.fields_would_deny == ()
