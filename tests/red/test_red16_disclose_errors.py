"""Red team 16: `purposeful.disclose` detaches its own refusals from the frames below it
("which hold values and raw subject ids"), but lets any other error through with them: a
correction store (the application's `CorrectionSource`) that fails with its database's own
error leaves the raw subject id among the locals of the library's ``_logged`` frame, and the
disclosed values read so far (``covered``), for an error tracker that records locals."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import purposeful
from _frames import library_frames_holding
from _records import CASEWORKER, Contact
from purposeful import DIRECTLY_RELATED_PURPOSE
from purposeful.sharing import MemorySharingStore, Party, SharingAgreement

SECRET = "SUBJ-RED16-DISCLOSE"
PHONE = "021-RED16-PHONE"

AGREEMENT = SharingAgreement(
    id="red16-share",
    name="Red team sharing",
    parties=[Party("Org A", address="1 Street"), Party("Us", address="2 Street")],
    purposes=["service-delivery"],
    fields=["Contact.phone"],
    basis=DIRECTLY_RELATED_PURPOSE,
    starts=date(2026, 1, 1),
    expires=date(2099, 12, 31),
    review=date(2099, 6, 30),
    description="Red team.",
)


class DatabaseDown(Exception):
    """A driver's own error, as a correction store backed by a database raises it."""


class FailingCorrections:
    def for_subject(self, subject: str) -> list[Any]:
        return []

    def statements(self, subject: str, record: object, field: str) -> list[Any]:
        raise DatabaseDown("the corrections database is down")


def test_a_correction_store_error_leaves_no_subject_id_or_value_in_library_frames() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore(), corrections=FailingCorrections())
    record = Contact(SECRET, PHONE, "someone@example.org")
    with pytest.raises(DatabaseDown) as raised:
        purposeful.disclose(
            record, to="Org A", under=AGREEMENT, purpose="service-delivery", actor=CASEWORKER
        )
    assert library_frames_holding(raised.value.__traceback__, SECRET, PHONE) == []
