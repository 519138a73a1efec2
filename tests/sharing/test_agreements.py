"""Sharing agreements: made in code or TOML, checked against the registries and the declared
record types when made, with errors that name what is wrong (and the line, for a file)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

import purposeful
from purposeful import (
    CONSENT,
    FAMILY_VIOLENCE_ACT_S20,
    ORANGA_TAMARIKI_ACT_S66C,
    SENSITIVE,
    InformationSharingAgreement,
    ServiceAgreement,
)
from purposeful.errors import AgreementError, RegistryFileError
from purposeful.sharing.agreements import Party, SharingAgreement, load_agreements

DELIVERY = ServiceAgreement("Service delivery agreement")  # not a basis to share on


@purposeful.record(subject="client_id")
class AgreementReferral:
    client_id: str
    name: str = purposeful.field(
        purposes={"service-delivery.referral": CONSENT}, category="identity"
    )
    phone: str = purposeful.field(
        purposes={"service-delivery.referral": CONSENT}, category="contact"
    )
    notes: str = purposeful.field(
        purposes={"care-and-protection": ORANGA_TAMARIKI_ACT_S66C}, sensitivity=SENSITIVE
    )


US = Party("Te Whare Āwhina", address="12 Rata Street, Hamilton")
PARTNER = Party("Kāinga Ora", address="PO Box 2628, Wellington")


def agreement(**changes: Any) -> SharingAgreement:
    values: dict[str, Any] = {
        "id": "housing-referrals",
        "name": "Housing referrals",
        "parties": (US, PARTNER),
        "purposes": ("service-delivery.referral",),
        "basis": InformationSharingAgreement("Housing support referrals AISA"),
        "starts": date(2026, 1, 1),
        "expires": date(2027, 12, 31),
        "review": date(2027, 6, 30),
        "fields": ("AgreementReferral.name",),
        "categories": ("contact",),
    }
    values.update(changes)
    return SharingAgreement(**values)


def test_an_agreement_covers_its_fields_and_categories_and_nothing_else() -> None:
    made = agreement()
    fields = purposeful.record_policy(AgreementReferral).fields
    assert made.covers(fields["name"])  # by name
    assert made.covers(fields["phone"])  # by category
    assert not made.covers(fields["notes"])
    assert made.party("Kāinga Ora") == PARTNER
    assert made.party("Oranga Tamariki") is None
    assert made.in_force(date(2026, 1, 1))
    assert made.in_force(date(2027, 12, 31))
    assert not made.in_force(date(2028, 1, 1))
    assert made.allows_purpose("service-delivery.referral")
    assert not made.allows_purpose("service-delivery")
    assert "Part 7" in made.describe()


def test_a_statute_is_a_basis_and_a_service_agreement_is_not() -> None:
    agreement(basis=FAMILY_VIOLENCE_ACT_S20)
    with pytest.raises(AgreementError, match=r"a Statute, .* not ServiceAgreement"):
        agreement(basis=DELIVERY)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "Housing Referrals"}, "lower-case words joined by hyphens"),
        ({"parties": (US,)}, "at least two parties"),
        ({"parties": (US, US)}, "names a party twice"),
        ({"starts": date(2028, 1, 1)}, "expires before it starts"),
        ({"review": date(2029, 1, 1)}, "review date must fall between"),
        ({"purposes": ()}, "names no purposes"),
        ({"purposes": ("housing",)}, "purpose 'housing', which the registry does not have"),
        ({"categories": ("address",)}, "data category 'address'"),
        (
            {"fields": ("AgreementReferral.address",), "categories": ()},
            "'AgreementReferral.address', which is not",
        ),
        ({"fields": ("Unknown.name",), "categories": ()}, "import the module"),
        ({"fields": (), "categories": ()}, "covers nothing"),
        ({"starts": "2026-01-01"}, "must be a date"),
        ({"fields": ("AgreementReferral.notes",)}, "not declared for any of its purposes"),
        ({"purposes": 3}, "take a list of names"),
        ({"parties": 3}, "takes a list of parties"),
    ],
)
def test_a_wrong_agreement_is_refused_when_made(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(AgreementError, match=message):
        agreement(**changes)


AGREEMENTS_TOML = """
version = 1

[[agreement]]
id = "housing-referrals"
name = "Housing referrals"
description = "Referring people who need housing support."
parties = [
  { name = "Te Whare Āwhina", address = "12 Rata Street, Hamilton" },
  { name = "Kāinga Ora", address = "PO Box 2628, Wellington" },
]
purposes = ["service-delivery.referral"]
fields = ["AgreementReferral.name"]
categories = ["contact"]
basis = { kind = "information-sharing-agreement", name = "Housing support referrals AISA" }
starts = 2026-01-01
expires = 2027-12-31
review = 2027-06-30

[[agreement]]
id = "child-safety"
name = "Child safety"
parties = ["Te Whare Āwhina", "Oranga Tamariki"]
purposes = ["care-and-protection"]
fields = ["AgreementReferral.notes"]
basis = { kind = "statute", act = "Oranga Tamariki Act 1989", section = "66C" }
starts = 2026-01-01
expires = 2030-12-31
review = 2028-01-01
"""


def test_agreements_load_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "agreements.toml"
    path.write_text(AGREEMENTS_TOML, encoding="utf-8")
    housing, safety = load_agreements(path)
    assert housing == agreement(description="Referring people who need housing support.")
    assert safety.basis == ORANGA_TAMARIKI_ACT_S66C
    assert safety.parties == (Party("Te Whare Āwhina"), Party("Oranga Tamariki"))


@pytest.mark.parametrize(
    ("edit", "message", "line"),
    [
        (('purposes = ["care-and-protection"]', 'purposes = ["child-safety"]'), "child-safety", 20),
        (("starts = 2026-01-01\nexpires = 2030", 'starts = "soon"\nexpires = 2030'), "date", 20),
        (('kind = "statute"', 'kind = "bylaw"'), "unknown lawful basis kind", 20),
        (("review = 2028-01-01", "review = 2028-01-01\nowner = 'me'"), "unknown key", 20),
        (('id = "child-safety"', 'id = "housing-referrals"'), "declared twice", 20),
        (('[[agreement]]\nid = "child', '[[agreements]]\nid = "child'), "unknown table", 20),
        (("review = 2028-01-01", "review = 2028-01-01\ndescription = 5"), "description", 20),
        (("review = 2028-01-01", "review = 2028-01-01\ndescription = [1]"), "description", 20),
        (('fields = ["AgreementReferral.notes"]', "fields = [5]"), "fields", 20),
        (('name = "Child safety"', "name = 5"), "name", 20),
        (('parties = ["Te Whare Āwhina", "Oranga Tamariki"]', "parties = 5"), "parties", 20),
        (('parties = ["Te Whare Āwhina", "Oranga Tamariki"]', "parties = [5, 6]"), "party", 20),
        (
            ('parties = ["Te Whare Āwhina", "Oranga Tamariki"]', 'parties = [{ name = 5 }, "B"]'),
            "name",
            20,
        ),
        (('purposes = ["care-and-protection"]', "purposes = [5]"), "purposes", 20),
        (('purposes = ["care-and-protection"]', "purposes = 5"), "purposes", 20),
    ],
)
def test_a_wrong_entry_in_a_file_names_the_file_and_line(
    tmp_path: Path, edit: tuple[str, str], message: str, line: int
) -> None:
    path = tmp_path / "agreements.toml"
    text = AGREEMENTS_TOML.replace(*edit)
    assert text != AGREEMENTS_TOML
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryFileError, match=message) as caught:
        load_agreements(path)
    assert str(path) in str(caught.value)
    assert caught.value.line == line


def test_an_agreement_file_nested_too_deeply_is_a_registry_file_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    with pytest.raises(RegistryFileError, match="nested too deeply") as caught:
        load_agreements(deep)
    assert caught.value.path == str(deep)


def test_an_agreement_description_that_is_not_text_is_refused() -> None:
    with pytest.raises(AgreementError, match="description"):
        agreement(description=5)


def test_a_file_that_is_missing_or_not_toml_is_a_registry_file_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryFileError, match="cannot read the file"):
        load_agreements(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[agreement]\n", encoding="utf-8")
    with pytest.raises(RegistryFileError, match="not valid TOML"):
        load_agreements(bad)
