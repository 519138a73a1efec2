"""Lawful bases: values with a kind and a plain-language description, and their TOML form."""

from __future__ import annotations

from typing import Any

import pytest

from purposeful.bases import (
    BASIS_TYPES,
    CONSENT,
    FAMILY_VIOLENCE_ACT_S20,
    ORANGA_TAMARIKI_ACT_S66C,
    SERIOUS_THREAT,
    BasisKind,
    Consent,
    InformationSharingAgreement,
    SeriousThreat,
    ServiceAgreement,
    Statute,
    parse_basis,
)
from purposeful.errors import ConfigurationError

# describe() -------------------------------------------------------------------------------


def test_statute_describes_act_and_section() -> None:
    assert Statute("Oranga Tamariki Act 1989", "66C").describe() == "Oranga Tamariki Act 1989 s 66C"


def test_oranga_tamariki_constant_is_s66c() -> None:
    assert Statute("Oranga Tamariki Act 1989", "66C") == ORANGA_TAMARIKI_ACT_S66C
    assert ORANGA_TAMARIKI_ACT_S66C.describe() == "Oranga Tamariki Act 1989 s 66C"


def test_family_violence_constant_is_s20_of_the_2018_act() -> None:
    assert Statute("Family Violence Act 2018", "20") == FAMILY_VIOLENCE_ACT_S20
    assert FAMILY_VIOLENCE_ACT_S20.describe() == "Family Violence Act 2018 s 20"


def test_consent_describes_the_persons_consent() -> None:
    assert CONSENT.describe() == "the person's consent"


def test_service_agreement_describes_its_name() -> None:
    basis = ServiceAgreement("Whānau Ora outcome agreement")
    assert basis.describe() == "the service agreement 'Whānau Ora outcome agreement'"


def test_information_sharing_agreement_names_part_7_of_the_privacy_act() -> None:
    basis = InformationSharingAgreement("Family Violence AISA")
    assert basis.describe() == (
        "the approved information sharing agreement 'Family Violence AISA' "
        "(Privacy Act 2020 Part 7)"
    )


def test_serious_threat_mentions_both_ipp_exceptions() -> None:
    text = SERIOUS_THREAT.describe()
    assert "IPP 10(1)(f)" in text
    assert "IPP 11(1)(f)" in text
    assert "serious threat" in text


@pytest.mark.parametrize(
    ("basis", "kind", "value"),
    [
        (CONSENT, BasisKind.CONSENT, "consent"),
        (ORANGA_TAMARIKI_ACT_S66C, BasisKind.STATUTE, "statute"),
        (ServiceAgreement("S"), BasisKind.SERVICE_AGREEMENT, "service-agreement"),
        (
            InformationSharingAgreement("I"),
            BasisKind.INFORMATION_SHARING_AGREEMENT,
            "information-sharing-agreement",
        ),
        (SERIOUS_THREAT, BasisKind.SERIOUS_THREAT, "serious-threat"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_each_basis_has_its_stable_kind(basis: Any, kind: BasisKind, value: str) -> None:
    assert basis.kind is kind
    assert basis.kind.value == value


def test_every_basis_kind_has_exactly_one_basis_type() -> None:
    kinds = [cls(*(["x"] * len(cls.__attrs_attrs__))).kind for cls in BASIS_TYPES]
    assert sorted(k.value for k in kinds) == sorted(k.value for k in BasisKind)


# validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("act", "section"),
    [("", "66C"), ("Oranga Tamariki Act 1989", ""), ("   ", "66C"), ("Act 1989", "  ")],
)
def test_statute_rejects_empty_act_or_section(act: str, section: str) -> None:
    with pytest.raises(ConfigurationError, match=r"Statute\.(act|section) must be a non-empty"):
        Statute(act, section)


@pytest.mark.parametrize(("act", "section"), [(1989, "66C"), ("Act 1989", 66), (None, "1")])
def test_statute_rejects_non_string_act_or_section(act: Any, section: Any) -> None:
    with pytest.raises(ConfigurationError):
        Statute(act, section)


@pytest.mark.parametrize("cls", [ServiceAgreement, InformationSharingAgreement])
@pytest.mark.parametrize("name", ["", "  ", None, 7])
def test_named_agreements_reject_empty_or_non_string_names(cls: type[Any], name: Any) -> None:
    with pytest.raises(ConfigurationError, match=rf"{cls.__name__}\.name must be a non-empty"):
        cls(name)


# values -----------------------------------------------------------------------------------


def test_bases_are_equal_by_content_and_hash_alike() -> None:
    assert Statute("A 2000", "1") == Statute("A 2000", "1")
    assert hash(Statute("A 2000", "1")) == hash(Statute("A 2000", "1"))
    assert Consent() == CONSENT
    assert hash(Consent()) == hash(CONSENT)
    assert SeriousThreat() == SERIOUS_THREAT
    assert ServiceAgreement("S") == ServiceAgreement("S")
    assert len({Statute("A 2000", "1"), Statute("A 2000", "1"), CONSENT, Consent()}) == 2


def test_bases_with_different_content_are_different() -> None:
    assert Statute("A 2000", "1") != Statute("A 2000", "2")
    assert Statute("A 2000", "1") != Statute("B 2000", "1")
    assert ServiceAgreement("S") != ServiceAgreement("T")


def test_bases_of_different_kinds_with_the_same_name_are_different() -> None:
    assert ServiceAgreement("X") != InformationSharingAgreement("X")
    assert CONSENT != SERIOUS_THREAT


def test_bases_are_immutable() -> None:
    basis = Statute("A 2000", "1")
    with pytest.raises(AttributeError):
        basis.section = "2"  # type: ignore[misc]


# parse_basis ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("consent", CONSENT),
        ("serious-threat", SERIOUS_THREAT),
        ({"kind": "consent"}, CONSENT),
        ({"kind": "serious-threat"}, SERIOUS_THREAT),
        (
            {"kind": "statute", "act": "Family Violence Act 2018", "section": "20"},
            FAMILY_VIOLENCE_ACT_S20,
        ),
        ({"kind": "service-agreement", "name": "Funding"}, ServiceAgreement("Funding")),
        (
            {"kind": "information-sharing-agreement", "name": "AISA"},
            InformationSharingAgreement("AISA"),
        ),
    ],
    ids=repr,
)
def test_parse_basis_reads_every_written_form(written: Any, expected: Any) -> None:
    assert parse_basis(written) == expected


@pytest.mark.parametrize("kind", ["contract", "Consent", "", "statute-law"])
def test_parse_basis_rejects_an_unknown_kind_and_lists_the_known_ones(kind: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown lawful basis kind") as info:
        parse_basis(kind)
    for known in BasisKind:
        assert known.value in str(info.value)


def test_parse_basis_rejects_a_table_without_kind() -> None:
    with pytest.raises(ConfigurationError, match="unknown lawful basis kind None"):
        parse_basis({"act": "Family Violence Act 2018", "section": "20"})


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("statute", "takes act, section; got none"),
        ({"kind": "statute", "act": "Family Violence Act 2018"}, "takes act, section; got act"),
        (
            {"kind": "statute", "act": "A 2000", "section": "1", "year": "2000"},
            "takes act, section; got act, section, year",
        ),
        ("service-agreement", "takes name; got none"),
        ({"kind": "service-agreement", "title": "S"}, "takes name; got title"),
        ("information-sharing-agreement", "takes name; got none"),
        ({"kind": "consent", "name": "x"}, "takes no other keys; got name"),
        ({"kind": "serious-threat", "section": "10"}, "takes no other keys; got section"),
    ],
    ids=repr,
)
def test_parse_basis_rejects_wrong_keys_for_the_kind(written: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_basis(written)


def test_parse_basis_passes_on_validation_of_the_details() -> None:
    with pytest.raises(ConfigurationError, match=r"Statute\.act must be a non-empty"):
        parse_basis({"kind": "statute", "act": "", "section": "20"})


@pytest.mark.parametrize("written", [5, None, 1.5, True, ["consent"], ("consent",)], ids=repr)
def test_parse_basis_rejects_values_that_are_neither_string_nor_table(written: Any) -> None:
    with pytest.raises(ConfigurationError, match="must be a string or a table"):
        parse_basis(written)
