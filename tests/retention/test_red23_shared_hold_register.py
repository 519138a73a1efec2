"""A hold register shared by several services (`PostgresHoldStore`, as docs/retention.md
offers it) holds each service's legal holds. A hold one service places on its own record
type names nothing another service's sources hold or its process declares, and that
service's `dispose_due` refuses to run while the hold is in force: a legal hold that may
last years stops every disposal run of every other service on the register (IPP 9).

Recorded as a strict xfail: in one process a hold on another service's record type cannot
be told from a slip in typing one's own (which must stop the run), so telling them apart
needs the register to know more (which service, or which record types, a hold is for).
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


@pytest.mark.xfail(
    strict=True,
    raises=ConfigurationError,
    reason="a hold on another service's record type, in a register several services share, "
    "is refused as a slip that holds nothing: every run of this service stops until it is "
    "released (telling the two apart is a design change to the hold register)",
)
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
        )
    assert notes.disposed == []  # this service's own hold holds
    assert len(visits.disposed) == 2
    assert dict(summary.held) == {("case-notes", "RetainedNote"): 2}
