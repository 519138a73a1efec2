"""A hold register shared by several services (`PostgresHoldStore`, as docs/retention.md
offers it) holds each service's legal holds. A hold one service places on its own record
type names nothing another service's sources hold or its process declares, and that
service's `dispose_due` refuses to run while the hold is in force: a legal hold that may
last years stops every disposal run of every other service on the register (IPP 9).

In one process a hold on another service's record type cannot be told from a slip in
typing one's own (which must stop the run), so the service names the record types the
others keep holds on (`other_record_types=`); the refusal says so, and never to release a
hold that may be another service's.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from _retention import REGISTRY, DictSource, RetainedNote, RetainedVisit, sources_of
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from purposeful.audit import Ledger, PseudonymKey
from purposeful.errors import ConfigurationError
from purposeful.holds import MemoryHoldStore
from purposeful.retention import dispose_due

TODAY = date(2026, 6, 1)


def test_another_services_hold_in_a_shared_register_does_not_stop_this_services_runs(
    tmp_path: Path,
) -> None:
    notes, visits = DictSource(), DictSource()
    for n in range(2):
        notes.add(RetainedNote(f"P-{n}", f"n{n}", "t"), date(2020, 1, 1))
        visits.add(RetainedVisit(f"P-{n}", f"v{n}", "t"), date(2020, 1, 1))
    shared = MemoryHoldStore()  # as a PostgresHoldStore both services open
    # placed by the benefits service, on its own record type, declared in its process only
    shared.place(reason="court order", by="benefits-officer", record_type="BenefitApplication")
    shared.place(reason="inquiry", by="records-officer", record_type="RetainedNote")
    with Ledger(tmp_path / "audit.jsonl", signing_key=Ed25519PrivateKey.generate()) as ledger:
        summary = dispose_due(
            sources_of(case_notes=notes, visits=visits),
            ledger=ledger,
            by="records-officer",
            today=TODAY,
            registry=REGISTRY,
            holds=shared,
            pseudonymise=PseudonymKey.generate().pseudonym,
            other_record_types=["BenefitApplication"],
        )
    assert notes.disposed == []  # this service's own hold holds
    assert len(visits.disposed) == 2
    assert dict(summary.held) == {("case-notes", "RetainedNote"): 2}


def test_without_naming_them_the_refusal_says_not_to_release_another_services_hold(
    tmp_path: Path,
) -> None:
    notes, visits = DictSource(), DictSource()
    visits.add(RetainedVisit("P-1", "v1", "t"), date(2020, 1, 1))
    shared = MemoryHoldStore()
    hold = shared.place(
        reason="court order", by="benefits-officer", record_type="BenefitApplication"
    )
    with (
        Ledger(tmp_path / "audit.jsonl", signing_key=Ed25519PrivateKey.generate()) as ledger,
        pytest.raises(ConfigurationError) as refused,
    ):
        dispose_due(
            sources_of(case_notes=notes, visits=visits),
            ledger=ledger,
            by="records-officer",
            today=TODAY,
            registry=REGISTRY,
            holds=shared,
            pseudonymise=PseudonymKey.generate().pseudonym,
        )
    message = str(refused.value)
    assert hold.id in message
    assert "do not release it" in message
    assert "other_record_types=" in message
    assert "--other-record-type" in message
    assert visits.disposed == []


@pytest.mark.parametrize("given", ["BenefitApplication", [1], None])
def test_other_record_types_takes_a_list_of_names(tmp_path: Path, given: object) -> None:
    with (
        Ledger(tmp_path / "audit.jsonl", signing_key=Ed25519PrivateKey.generate()) as ledger,
        pytest.raises(ConfigurationError, match="other_record_types"),
    ):
        dispose_due(
            sources_of(case_notes=DictSource(), visits=DictSource()),
            ledger=ledger,
            by="records-officer",
            today=TODAY,
            registry=REGISTRY,
            pseudonymise=PseudonymKey.generate().pseudonym,
            other_record_types=given,  # type: ignore[arg-type]
        )
