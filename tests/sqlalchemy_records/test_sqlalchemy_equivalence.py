"""Property: a SQLAlchemy record decides every read exactly as the equivalent attrs record,
for every purpose, every field, both modes, every clearance and consent held or not."""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import Any

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column  # noqa: E402

import purposeful  # noqa: E402
from purposeful import (  # noqa: E402
    CONSENT,
    IN_CONFIDENCE,
    RESTRICTED,
    SENSITIVE,
    UNCLASSIFIED,
    Actor,
    Managed,
    Mode,
    Purpose,
    ServiceAgreement,
)
from purposeful.errors import DictStorageWarning  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
#: name → declaration, the same for both kinds
DECLARATIONS: dict[str, Any] = {
    "notes": Managed(purposes={"service-delivery": AGREEMENT}),
    "needs": Managed(
        purposes={"service-delivery.case-management": CONSENT, "funder-reporting": AGREEMENT},
        sensitivity=SENSITIVE,
    ),
    "income": Managed(
        purposes={"service-delivery": AGREEMENT, "service-improvement": AGREEMENT},
        sensitivity=RESTRICTED,
        consent=("service-improvement",),
    ),
    "contact": Managed(purposes={"research": CONSENT}, sensitivity=UNCLASSIFIED),
}
VALUES = {name: f"value-of-{name}" for name in DECLARATIONS}


class EquivalenceBase(DeclarativeBase):
    pass


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    class EquivalentRow(EquivalenceBase):
        __tablename__ = "equivalent_row"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        notes: Mapped[str] = mapped_column(info={"purposeful": DECLARATIONS["notes"]})
        needs: Mapped[str] = mapped_column(info={"purposeful": DECLARATIONS["needs"]})
        income: Mapped[str] = mapped_column(info={"purposeful": DECLARATIONS["income"]})
        contact: Mapped[str] = mapped_column(info={"purposeful": DECLARATIONS["contact"]})


def _same_declaration(name: str) -> Any:
    tag = DECLARATIONS[name]
    return purposeful.field(purposes=tag.purposes, sensitivity=tag.sensitivity, consent=tag.consent)


@purposeful.record(subject="client_id")
class EquivalentAttrs:
    client_id: str
    notes: str = _same_declaration("notes")
    needs: str = _same_declaration("needs")
    income: str = _same_declaration("income")
    contact: str = _same_declaration("contact")


class Consents:
    """Consent held by the subjects in *held*, for every purpose."""

    def __init__(self, held: set[str]) -> None:
        self.held = held

    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        return subject in self.held


PURPOSES = [p.id for p in purposeful.get_configuration().registry]
LEVELS = [UNCLASSIFIED, IN_CONFIDENCE, SENSITIVE, RESTRICTED]


def _decide(record: Any, purpose: str, actor: Actor) -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for name in DECLARATIONS:
        with purposeful.use(purpose, actor=actor) as scope:
            try:
                value = getattr(record, name)
            except purposeful.PurposeViolation:
                value = None
            assert value in (None, VALUES[name])
        decision = scope.decisions[0]
        found.append((name, decision.outcome.value, decision.reason_codes))
    return found


@settings(max_examples=60)
@given(
    purpose=st.sampled_from(PURPOSES),
    clearance=st.sampled_from(LEVELS),
    mode=st.sampled_from([Mode.ENFORCE, Mode.MONITOR]),
    consented=st.booleans(),
)
def test_decisions_are_identical_to_the_equivalent_attrs_record(
    purpose: str, clearance: Any, mode: Mode, consented: bool
) -> None:
    purposeful.configure(mode=mode, consent=Consents({"C-1"} if consented else set()))
    actor = Actor("staff-1", role="caseworker", clearance=clearance)
    row = EquivalentRow(client_id="C-1", **VALUES)
    plain = EquivalentAttrs(client_id="C-1", **VALUES)
    try:
        assert _decide(row, purpose, actor) == _decide(plain, purpose, actor)
    finally:
        purposeful.reset_configuration()
