"""Lawful bases: values with a kind and a plain-language description, and their TOML form."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from purposeful.bases import (
    AUTHORISED_BY_PERSON,
    BASIS_TYPES,
    CONSENT,
    DIRECTLY_RELATED_PURPOSE,
    FAMILY_VIOLENCE_ACT_S20,
    NON_IDENTIFYING,
    ORANGA_TAMARIKI_ACT_S66C,
    SERIOUS_THREAT,
    AuthorisedByPerson,
    BasisKind,
    Consent,
    DirectlyRelatedPurpose,
    InformationSharingAgreement,
    LawfulBasis,
    NonIdentifying,
    SeriousThreat,
    ServiceAgreement,
    Statute,
    parse_basis,
    plain_description,
)
from purposeful.errors import ConfigurationError

# describe() -------------------------------------------------------------------------------


def test_statute_describes_act_and_section() -> None:
    assert Statute("Oranga Tamariki Act 1989", "66C").describe() == "Oranga Tamariki Act 1989 s 66C"


def test_oranga_tamariki_constant_is_s66c_for_child_welfare_agencies_and_independent_persons() -> (
    None
):
    assert (
        Statute(
            "Oranga Tamariki Act 1989",
            "66C",
            agency_kinds=["child-welfare-and-protection"],
            roles=["independent-person"],
            needs_justification=True,
        )
        == ORANGA_TAMARIKI_ACT_S66C
    )
    assert ORANGA_TAMARIKI_ACT_S66C.describe() == "Oranga Tamariki Act 1989 s 66C"
    assert ORANGA_TAMARIKI_ACT_S66C.who_may_rely() == (
        "child welfare and protection agencies and independent persons"
    )


def test_family_violence_constant_is_s20_for_family_violence_agencies_and_practitioners() -> None:
    assert (
        Statute(
            "Family Violence Act 2018",
            "20",
            agency_kinds=("family-violence",),
            roles=("social-services-practitioner",),
            needs_justification=True,
        )
        == FAMILY_VIOLENCE_ACT_S20
    )
    assert FAMILY_VIOLENCE_ACT_S20.describe() == "Family Violence Act 2018 s 20"
    assert FAMILY_VIOLENCE_ACT_S20.who_may_rely() == (
        "family violence agencies and social services practitioners"
    )


def test_a_statute_without_conditions_may_be_relied_on_by_anyone() -> None:
    statute = Statute("Oranga Tamariki Act 1989", "66C")
    assert statute != ORANGA_TAMARIKI_ACT_S66C
    assert not statute.restricted
    assert not statute.needs_justification
    assert statute.may_rely("caseworker", frozenset())
    assert statute.who_may_rely() == "anyone"


@pytest.mark.parametrize(
    ("statute", "role", "kinds", "may"),
    [
        (ORANGA_TAMARIKI_ACT_S66C, "caseworker", {"child-welfare-and-protection"}, True),
        (ORANGA_TAMARIKI_ACT_S66C, "independent-person", set(), True),
        (ORANGA_TAMARIKI_ACT_S66C, "caseworker", {"family-violence"}, False),
        (ORANGA_TAMARIKI_ACT_S66C, "social-services-practitioner", set(), False),
        (FAMILY_VIOLENCE_ACT_S20, "caseworker", {"family-violence"}, True),
        (FAMILY_VIOLENCE_ACT_S20, "social-services-practitioner", set(), True),
        (FAMILY_VIOLENCE_ACT_S20, "caseworker", {"child-welfare-and-protection"}, False),
        (FAMILY_VIOLENCE_ACT_S20, "Social Services Practitioner", set(), False),
    ],
)
def test_only_the_agencies_and_roles_a_statute_names_may_rely_on_it(
    statute: Statute, role: str, kinds: set[str], may: bool
) -> None:
    assert statute.may_rely(role, kinds) is may


@pytest.mark.parametrize(
    "basis",
    [DIRECTLY_RELATED_PURPOSE, AUTHORISED_BY_PERSON, NON_IDENTIFYING, CONSENT],
    ids=repr,
)
def test_the_everyday_bases_need_no_justification(basis: LawfulBasis) -> None:
    assert basis.needs_justification is False


def test_serious_threat_always_needs_a_justification() -> None:
    assert SERIOUS_THREAT.needs_justification is True
    assert SeriousThreat().needs_justification is True


@pytest.mark.parametrize(
    ("basis", "principles"),
    [
        (DIRECTLY_RELATED_PURPOSE, ("IPP 10(1)(a)", "IPP 11(1)(a)", "directly related")),
        (AUTHORISED_BY_PERSON, ("IPP 10(1)(c)", "IPP 11(1)(c)", "authorisation")),
        (
            NON_IDENTIFYING,
            ("IPP 10(1)(b)", "IPP 11(1)(h)", "does not identify", "statistics or research"),
        ),
    ],
    ids=repr,
)
def test_the_everyday_bases_describe_themselves_naming_the_principle(
    basis: LawfulBasis, principles: tuple[str, ...]
) -> None:
    text = basis.describe()
    assert "Privacy Act 2020" in text
    for words in principles:
        assert words in text
    assert plain_description(basis) == text


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


def test_serious_threat_is_worded_as_the_act_words_it() -> None:
    text = SERIOUS_THREAT.describe()
    assert "IPP 10(1)(f)" in text
    assert "IPP 11(1)(f)" in text
    assert "belief on reasonable grounds" in text
    assert "necessary to prevent or lessen a serious threat" in text
    assert "public health or public safety" in text
    assert "the life or health of any individual" in text


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
        (
            DIRECTLY_RELATED_PURPOSE,
            BasisKind.DIRECTLY_RELATED_PURPOSE,
            "directly-related-purpose",
        ),
        (AUTHORISED_BY_PERSON, BasisKind.AUTHORISED_BY_PERSON, "authorised-by-person"),
        (NON_IDENTIFYING, BasisKind.NON_IDENTIFYING, "non-identifying"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_each_basis_has_its_stable_kind(basis: Any, kind: BasisKind, value: str) -> None:
    assert basis.kind is kind
    assert basis.kind.value == value


def test_every_basis_kind_has_exactly_one_basis_type() -> None:
    kinds = [EXAMPLES[cls].kind for cls in BASIS_TYPES]
    assert sorted(k.value for k in kinds) == sorted(k.value for k in BasisKind)


#: One value of each basis type.
EXAMPLES: dict[type[Any], LawfulBasis] = {
    DirectlyRelatedPurpose: DIRECTLY_RELATED_PURPOSE,
    AuthorisedByPerson: AUTHORISED_BY_PERSON,
    NonIdentifying: NON_IDENTIFYING,
    Consent: CONSENT,
    Statute: Statute("A 2000", "1"),
    ServiceAgreement: ServiceAgreement("S"),
    InformationSharingAgreement: InformationSharingAgreement("I"),
    SeriousThreat: SERIOUS_THREAT,
}


# validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"agency_kinds": "family-violence"}, r"agency_kinds takes a list"),
        ({"agency_kinds": 5}, r"agency_kinds takes a list"),
        ({"agency_kinds": ["Family Violence"]}, r"lower-case words joined by hyphens"),
        ({"agency_kinds": ["family-violence-"]}, r"lower-case words joined by hyphens"),
        ({"agency_kinds": [None]}, r"lower-case words joined by hyphens"),
        ({"roles": "caseworker"}, r"roles takes a list"),
        ({"roles": [""]}, r"roles holds actor roles"),
        ({"roles": [7]}, r"roles holds actor roles"),
        ({"needs_justification": "yes"}, r"needs_justification must be True or False"),
        ({"needs_justification": 1}, r"needs_justification must be True or False"),
    ],
    ids=repr,
)
def test_statute_rejects_malformed_conditions(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Statute("Family Violence Act 2018", "20", **changes)


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
        ("directly-related-purpose", DIRECTLY_RELATED_PURPOSE),
        ("authorised-by-person", AUTHORISED_BY_PERSON),
        ({"kind": "non-identifying"}, NON_IDENTIFYING),
        ("oranga-tamariki-act-s66c", ORANGA_TAMARIKI_ACT_S66C),
        ("family-violence-act-s20", FAMILY_VIOLENCE_ACT_S20),
        (
            {"kind": "statute", "act": "Oranga Tamariki Act 1989", "section": "66C"},
            ORANGA_TAMARIKI_ACT_S66C,
        ),
        (
            {
                "kind": "statute",
                "act": "Children's Act 2014",
                "section": "15",
                "agency_kinds": ["childrens-agency"],
            },
            Statute("Children's Act 2014", "15", agency_kinds=["childrens-agency"]),
        ),
        (
            {"kind": "statute", "act": "A 2000", "section": "1", "needs_justification": True},
            Statute("A 2000", "1", needs_justification=True),
        ),
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
            "takes act, section; got act, section, year "
            r"\(it may also take agency_kinds, needs_justification, roles\)",
        ),
        ({"kind": "directly-related-purpose", "purpose": "x"}, "takes no other keys; got purpose"),
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


def test_an_unknown_kind_names_the_ready_made_statutes_too() -> None:
    with pytest.raises(ConfigurationError, match="oranga-tamariki-act-s66c, family-violence"):
        parse_basis("s66c")


def test_an_unknown_kind_that_is_not_short_text_is_not_quoted() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_basis({"kind": "x" * 200})
    assert "x" * 61 not in str(info.value)
    with pytest.raises(ConfigurationError, match="kind of type list"):
        parse_basis({"kind": ["consent"]})


# the TOML form, round trip ---------------------------------------------------------------


def toml_of(basis: LawfulBasis) -> str:
    """*basis* written as a registry file writes it: ``basis = <value>``."""
    if isinstance(basis, Statute):
        entries = {
            "kind": "statute",
            "act": basis.act,
            "section": basis.section,
            "agency_kinds": list(basis.agency_kinds),
            "roles": list(basis.roles),
            "needs_justification": basis.needs_justification,
        }
    elif isinstance(basis, ServiceAgreement | InformationSharingAgreement):
        entries = {"kind": basis.kind.value, "name": basis.name}
    else:
        return f"basis = {json.dumps(basis.kind.value)}"
    body = ", ".join(
        f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in entries.items()
    )
    return f"basis = {{ {body} }}"


@pytest.mark.parametrize(
    "basis",
    [
        *EXAMPLES.values(),
        ORANGA_TAMARIKI_ACT_S66C,
        FAMILY_VIOLENCE_ACT_S20,
        Statute("Data and Statistics Act 2022", "24"),
    ],
    ids=repr,
)
def test_every_basis_kind_reads_back_from_toml_as_itself_and_describes_alike(
    basis: LawfulBasis,
) -> None:
    parsed = parse_basis(tomllib.loads(toml_of(basis))["basis"])
    assert parsed == basis
    assert parsed.describe() == basis.describe()
    assert parsed.describe().strip()


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30
).filter(str.strip)
_KINDS = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
_BASES: st.SearchStrategy[LawfulBasis] = st.one_of(
    st.sampled_from(list(EXAMPLES.values())),
    st.builds(
        Statute,
        _TEXT,
        _TEXT,
        agency_kinds=st.lists(_KINDS, max_size=3),
        roles=st.lists(_TEXT, max_size=3),
        needs_justification=st.booleans(),
    ),
    st.builds(ServiceAgreement, _TEXT),
    st.builds(InformationSharingAgreement, _TEXT),
)


@given(_BASES)
def test_any_basis_round_trips_through_its_toml_form(basis: LawfulBasis) -> None:
    parsed = parse_basis(tomllib.loads(toml_of(basis))["basis"])
    # a bare statute table naming s 66C or s 20 is the ready-made value; nothing else changes
    assert parsed == basis or (
        isinstance(basis, Statute) and not basis.restricted and not basis.needs_justification
    )
    assert type(parsed) is type(basis)


# what a TOML file can hold: strings, numbers, booleans, lists and tables
_TOML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
_NEAR_BASES = st.fixed_dictionaries(
    {"kind": st.sampled_from([k.value for k in BasisKind])},
    optional={
        "act": _TOML_VALUES,
        "section": _TOML_VALUES,
        "name": _TOML_VALUES,
        "agency_kinds": _TOML_VALUES | st.lists(_KINDS | st.text(max_size=8), max_size=3),
        "roles": _TOML_VALUES | st.lists(st.text(max_size=8), max_size=3),
        "needs_justification": _TOML_VALUES,
        "other": _TOML_VALUES,
    },
)


@given(_TOML_VALUES | _NEAR_BASES | st.sampled_from(["oranga-tamariki-act-s66c", "consent"]))
def test_parse_basis_gives_a_basis_or_a_configuration_error_for_anything(value: Any) -> None:
    try:
        parsed = parse_basis(value)
    except ConfigurationError:
        return  # a typed error, and nothing else, for what is not a basis
    assert isinstance(parsed, BASIS_TYPES)
    assert parsed.describe().strip()


@pytest.mark.parametrize(
    "conditions",
    [
        {"agency_kinds": ["family-violence"]},  # no justification: looser than the law
        {"roles": ["caseworker"]},
        {"needs_justification": False},
    ],
)
def test_a_file_may_not_write_other_conditions_for_a_statute_the_law_conditions(
    conditions: dict[str, object],
) -> None:
    table = {"kind": "statute", "act": "Family Violence Act 2018", "section": "s 20", **conditions}
    with pytest.raises(ConfigurationError, match="family-violence-act-s20"):
        parse_basis(table)
