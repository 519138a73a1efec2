"""Purposes and PurposeRegistry: declared in code or TOML, validated when built or loaded."""

from __future__ import annotations

import textwrap
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import purposeful
from purposeful.bases import (
    AUTHORISED_BY_PERSON,
    CONSENT,
    DIRECTLY_RELATED_PURPOSE,
    FAMILY_VIOLENCE_ACT_S20,
    NON_IDENTIFYING,
    ORANGA_TAMARIKI_ACT_S66C,
    SERIOUS_THREAT,
    BasisKind,
    InformationSharingAgreement,
    ServiceAgreement,
    Statute,
)
from purposeful.errors import (
    ConfigurationError,
    DuplicateIdentifier,
    InvalidIdentifier,
    RegistryFileError,
    UnknownParent,
    UnknownPurpose,
)
from purposeful.purposes import Purpose, PurposeRegistry, Retention

# helpers ----------------------------------------------------------------------------------

ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def follows_id_grammar(text: str) -> bool:
    """The id grammar, written independently of the library: words of [a-z0-9], joined by
    single hyphens within a level and by single dots between levels."""
    return all(
        word and set(word) <= ID_CHARACTERS
        for level in text.split(".")
        for word in level.split("-")
    )


words = st.text(alphabet=sorted(ID_CHARACTERS), min_size=1, max_size=6)
levels = st.lists(words, min_size=1, max_size=3).map("-".join)
valid_ids = st.lists(levels, min_size=1, max_size=4).map(".".join)


@st.composite
def near_miss_ids(draw: st.DrawFn) -> str:
    """A valid id with one character that breaks the grammar inserted somewhere."""
    ident = draw(valid_ids)
    at = draw(st.integers(min_value=0, max_value=len(ident)))
    bad = draw(st.sampled_from(["A", "Z", "_", " ", ".", "-", "ā", "\n", "/", ":", "é", "\t"]))
    candidate = ident[:at] + bad + ident[at:]
    if follows_id_grammar(candidate):
        candidate = candidate + "."
    return candidate


def make(ident: str, **kwargs: Any) -> Purpose:
    kwargs.setdefault("title", f"Title of {ident}")
    kwargs.setdefault("description", f"What {ident} is, for the person.")
    kwargs.setdefault("benefit", f"How {ident} helps the person.")
    return Purpose(id=ident, **kwargs)


def sample_registry() -> PurposeRegistry:
    return PurposeRegistry(
        [
            make("service-delivery"),
            make("service-delivery.case-management"),
            make("service-delivery.case-management.home-visits"),
            make("service-delivery.referral"),
            make("research", bases=[CONSENT]),
        ]
    )


def write(tmp_path: Path, *parts: str, name: str = "purposes.toml") -> Path:
    """Write the parts, each dedented, one after another, as a UTF-8 file."""
    path = tmp_path / name
    path.write_text("".join(textwrap.dedent(part) for part in parts), encoding="utf-8")
    return path


def load_error(path: Path | str, **kwargs: Any) -> RegistryFileError:
    with pytest.raises(RegistryFileError) as info:
        PurposeRegistry.from_toml(path, **kwargs)
    return info.value


def assert_located(error: RegistryFileError, path: Path, line: int | None) -> None:
    assert isinstance(error, ConfigurationError)
    assert isinstance(error, ValueError)
    assert error.path == str(path)
    assert error.line == line
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert str(error).startswith(where)


# Lines 1-9; the next entry appended starts at line 10. The only header here is at line 4.
PREAMBLE = """\
# Purposes for Example Trust.
# Reviewed by the privacy officer.

[[purpose]]
id = "outreach"
title = "Outreach"
description = "Contacting people who may need our services."
benefit = "People who need help hear about it."

"""

DEFAULT_PURPOSE_IDS = [
    "service-delivery",
    "service-delivery.eligibility-assessment",
    "service-delivery.case-management",
    "service-delivery.referral",
    "care-and-protection",
    "funder-reporting",
    "service-improvement",
    "research",
    "official-statistics",
    "access",
    "access.safety-review",
]


# Purpose ----------------------------------------------------------------------------------


def test_purpose_keeps_what_it_was_declared_with() -> None:
    retention = Retention(years=7, after="the case closes")
    purpose = Purpose(
        id="service-delivery.case-management",
        title="Case management",
        description="Planning your support.",
        benefit="Your caseworker can follow your plan.",
        bases=[CONSENT, ORANGA_TAMARIKI_ACT_S66C],
        retention=retention,
    )
    assert purpose.title == "Case management"
    assert purpose.bases == (CONSENT, ORANGA_TAMARIKI_ACT_S66C)
    assert isinstance(purpose.bases, tuple)
    assert purpose.retention is retention
    assert str(purpose) == "service-delivery.case-management"


def test_purpose_defaults_to_no_bases_and_no_retention() -> None:
    purpose = make("research")
    assert purpose.bases == ()
    assert purpose.retention is None


def test_purpose_parent_id_is_the_part_before_the_last_dot() -> None:
    assert make("a.b.c").parent_id == "a.b"
    assert make("a-b").parent_id is None


def test_purpose_lineage_runs_from_itself_to_the_root() -> None:
    assert make("a.b-c.d").lineage == ("a.b-c.d", "a.b-c", "a")
    assert make("a").lineage == ("a",)


def test_purpose_is_an_immutable_hashable_value() -> None:
    assert make("research") == make("research")
    assert hash(make("research", bases=[CONSENT])) == hash(make("research", bases=[CONSENT]))
    assert make("research") != make("research", title="Other")
    with pytest.raises(AttributeError):
        make("research").title = "Other"  # type: ignore[misc]


def test_parent_covers_child_and_grandchild() -> None:
    parent = make("service-delivery")
    assert parent.covers("service-delivery.case-management")
    assert parent.covers("service-delivery.case-management.home-visits")
    assert parent.covers(make("service-delivery.referral"))


def test_child_does_not_cover_its_parent() -> None:
    child = make("service-delivery.case-management")
    assert not child.covers("service-delivery")
    assert not child.covers(make("service-delivery"))


def test_purpose_covers_itself() -> None:
    assert make("research").covers("research")
    assert make("research").covers(make("research"))


def test_purpose_does_not_cover_siblings_or_ids_that_only_share_a_prefix() -> None:
    assert not make("service-delivery.referral").covers("service-delivery.case-management")
    assert not make("service").covers("service-delivery")
    assert not make("service-delivery").covers("service-delivery-extra.case-management")
    assert not make("research").covers("researcher")


@given(valid_ids, valid_ids)
def test_an_id_covers_each_dotted_descendant_but_not_the_reverse(parent: str, rest: str) -> None:
    child = f"{parent}.{rest}"
    assert make(parent).covers(child)
    assert not make(child).covers(parent)
    assert not make(parent).covers(f"{parent}-{rest}")
    assert not make(parent).covers(f"{parent}{rest}")


# allows_basis -----------------------------------------------------------------------------


def test_purpose_without_bases_allows_any_basis() -> None:
    purpose = make("official-statistics")
    for basis in [CONSENT, SERIOUS_THREAT, ServiceAgreement("S"), Statute("A 2000", "1")]:
        assert purpose.allows_basis(basis)


def test_purpose_allows_only_the_kinds_of_its_bases() -> None:
    purpose = make("care-and-protection", bases=[ORANGA_TAMARIKI_ACT_S66C, SERIOUS_THREAT])
    assert purpose.allows_basis(SERIOUS_THREAT)
    assert purpose.allows_basis(ORANGA_TAMARIKI_ACT_S66C)
    assert purpose.allows_basis(FAMILY_VIOLENCE_ACT_S20)  # same kind: statute
    assert not purpose.allows_basis(CONSENT)
    assert not purpose.allows_basis(ServiceAgreement("S"))
    assert not purpose.allows_basis(InformationSharingAgreement("I"))


def test_ids_with_basis_kind_includes_purposes_without_bases() -> None:
    registry = PurposeRegistry.default()
    consent = registry.ids_with_basis_kind(BasisKind.CONSENT)
    assert "research" in consent
    assert "official-statistics" in consent
    assert "care-and-protection" not in consent
    assert "funder-reporting" not in consent
    assert registry.ids_with_basis_kind(BasisKind.SERIOUS_THREAT) == {
        "care-and-protection",
        "official-statistics",
    }


# errors at definition ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "ident",
    [
        "",
        "Service",
        "service_delivery",
        "service delivery",
        "service..delivery",
        ".service",
        "service.",
        "-service",
        "service-",
        "service--delivery",
        "service.-delivery",
        "māori-health",
        "service\n",
        " service",
        "service/delivery",
    ],
    ids=repr,
)
def test_malformed_id_is_rejected(ident: str) -> None:
    with pytest.raises(InvalidIdentifier, match="is malformed"):
        make(ident)


@pytest.mark.parametrize("ident", [None, 5, b"research", ["research"]], ids=repr)
def test_non_string_id_is_rejected(ident: Any) -> None:
    with pytest.raises(InvalidIdentifier):
        make(ident)


@given(st.text().filter(lambda text: not follows_id_grammar(text)))
def test_any_text_outside_the_id_grammar_is_rejected(text: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        make(text)
    assert isinstance(info.value, ConfigurationError)


@given(near_miss_ids())
def test_a_valid_id_with_one_bad_character_is_rejected(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        make(text)


@given(valid_ids)
def test_any_valid_id_is_accepted_into_a_registry_with_its_ancestors(ident: str) -> None:
    chain = make(ident).lineage
    registry = PurposeRegistry(make(a) for a in reversed(chain))
    assert registry.get(ident).id == ident
    assert tuple(p.id for p in registry.ancestors(ident)) == chain[1:]
    assert all(ancestor.covers(ident) for ancestor in registry.ancestors(ident))


@pytest.mark.parametrize("attribute", ["title", "description", "benefit"])
@pytest.mark.parametrize("value", ["", "   ", "\n", None, 5], ids=repr)
def test_empty_or_non_text_title_description_or_benefit_is_rejected(
    attribute: str, value: Any
) -> None:
    with pytest.raises(ConfigurationError, match=f"needs a non-empty {attribute}"):
        make("research", **{attribute: value})


@pytest.mark.parametrize(
    "bases",
    [["consent"], [CONSENT, 5], [None], [BasisKind.CONSENT], [Retention(years=1)]],
    ids=repr,
)
def test_a_non_basis_in_bases_is_rejected(bases: list[Any]) -> None:
    with pytest.raises(ConfigurationError, match="is not a lawful basis"):
        make("research", bases=bases)


def test_duplicate_id_in_a_registry_is_rejected() -> None:
    with pytest.raises(DuplicateIdentifier, match="'research' is declared twice"):
        PurposeRegistry([make("research"), make("service-delivery"), make("research")])


def test_duplicate_id_is_rejected_even_when_declarations_are_identical() -> None:
    with pytest.raises(DuplicateIdentifier):
        PurposeRegistry([make("research"), make("research")])


def test_child_without_declared_parent_is_rejected() -> None:
    with pytest.raises(UnknownParent, match=r"'research\.kaupapa' has no parent 'research'"):
        PurposeRegistry([make("service-delivery"), make("research.kaupapa")])


def test_grandchild_without_declared_middle_level_is_rejected() -> None:
    with pytest.raises(UnknownParent, match=r"no parent 'a\.b'"):
        PurposeRegistry([make("a"), make("a.b.c")])


def test_children_may_be_declared_before_their_parent() -> None:
    registry = PurposeRegistry([make("a.b"), make("a")])
    assert [p.id for p in registry] == ["a.b", "a"]


# Retention --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retention", "text"),
    [
        (Retention(years=1), "1 year after collection"),
        (Retention(years=7, after="the case closes"), "7 years after the case closes"),
        (Retention(months=1), "1 month after collection"),
        (Retention(months=18), "18 months after collection"),
        (Retention(days=1), "1 day after collection"),
        (Retention(days=30), "30 days after collection"),
        (Retention(years=2, months=6), "2 years, 6 months after collection"),
        (
            Retention(years=1, months=1, days=1, after="the report is delivered"),
            "1 year, 1 month, 1 day after the report is delivered",
        ),
        (Retention(years=2, days=3), "2 years, 3 days after collection"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_retention_describes_its_period_and_event(retention: Retention, text: str) -> None:
    assert retention.describe() == text


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"years": 0, "months": 0, "days": 0},
        {"years": -1},
        {"years": 1, "months": -1},
        {"days": -30},
        {"years": 1.5},
        {"years": "7"},
        {"years": True},
        {"months": None},
    ],
    ids=repr,
)
def test_retention_rejects_a_period_that_is_not_positive_whole_units(
    kwargs: dict[str, Any],
) -> None:
    with pytest.raises(ConfigurationError, match="retention period needs"):
        Retention(**kwargs)


@pytest.mark.parametrize("after", ["", "   ", 5, None], ids=repr)
def test_retention_rejects_an_empty_or_non_text_event(after: Any) -> None:
    # describe() would otherwise read "1 year after " or "1 year after 5".
    with pytest.raises(ConfigurationError):
        Retention(years=1, after=after)


# PurposeRegistry --------------------------------------------------------------------------


def test_registry_built_in_code_keeps_declaration_order() -> None:
    registry = sample_registry()
    assert len(registry) == 5
    assert [p.id for p in registry] == [
        "service-delivery",
        "service-delivery.case-management",
        "service-delivery.case-management.home-visits",
        "service-delivery.referral",
        "research",
    ]
    assert "research" in registry
    assert "nothing" not in registry
    assert make("research", bases=[CONSENT]) not in registry  # membership is by id


def test_empty_registry_is_allowed() -> None:
    registry = PurposeRegistry()
    assert len(registry) == 0
    with pytest.raises(UnknownPurpose, match=r"use one of: \(none\)"):
        registry.get("research")


def test_registry_as_mapping_is_a_copy() -> None:
    registry = sample_registry()
    mapping = registry.as_mapping()
    assert mapping["research"] is registry.get("research")
    mapping.pop("research")  # type: ignore[attr-defined]
    assert "research" in registry


def test_children_are_direct_children_in_declaration_order() -> None:
    registry = sample_registry()
    assert [p.id for p in registry.children("service-delivery")] == [
        "service-delivery.case-management",
        "service-delivery.referral",
    ]
    assert [p.id for p in registry.children("service-delivery.case-management")] == [
        "service-delivery.case-management.home-visits"
    ]
    assert registry.children("research") == ()


def test_ancestors_are_nearest_first() -> None:
    registry = sample_registry()
    assert [p.id for p in registry.ancestors("service-delivery.case-management.home-visits")] == [
        "service-delivery.case-management",
        "service-delivery",
    ]
    assert registry.ancestors("research") == ()


def test_ancestors_of_an_unknown_id_is_unknown_purpose() -> None:
    with pytest.raises(UnknownPurpose, match=r"unknown purpose 'service-delivery\.nope'"):
        sample_registry().ancestors("service-delivery.nope")


def test_resolve_by_id_returns_the_registrys_purpose() -> None:
    registry = sample_registry()
    assert registry.resolve("research") is registry.get("research")


def test_resolve_by_an_equal_purpose_returns_the_registrys_purpose() -> None:
    registry = sample_registry()
    assert registry.resolve(make("research", bases=[CONSENT])) is registry.get("research")


def test_resolve_rejects_a_purpose_that_differs_from_the_declaration() -> None:
    with pytest.raises(UnknownPurpose, match="'research' differs from the registry"):
        sample_registry().resolve(make("research", title="Something else"))


def test_resolve_rejects_a_purpose_the_registry_does_not_have() -> None:
    with pytest.raises(UnknownPurpose):
        sample_registry().resolve(make("marketing"))


def test_resolve_unknown_id_lists_every_known_id() -> None:
    registry = sample_registry()
    with pytest.raises(UnknownPurpose, match="unknown purpose 'marketing'") as info:
        registry.resolve("marketing")
    for purpose in registry:
        assert purpose.id in str(info.value)
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, ConfigurationError)


def test_resolve_does_not_treat_a_child_or_parent_as_the_purpose() -> None:
    registry = PurposeRegistry([make("service-delivery")])
    with pytest.raises(UnknownPurpose):
        registry.resolve("service-delivery.case-management")


@pytest.mark.parametrize("value", [None, 5, BasisKind.CONSENT], ids=repr)
def test_resolve_rejects_a_value_that_is_neither_id_nor_purpose(value: Any) -> None:
    with pytest.raises(UnknownPurpose, match="unknown purpose"):
        sample_registry().resolve(value)


def test_extend_adds_purposes_and_leaves_the_original_unchanged() -> None:
    base = sample_registry()
    extended = base.extend([make("research.kaupapa-maori"), make("funder-reporting")])
    assert isinstance(extended, PurposeRegistry)
    assert len(extended) == 7
    assert "research.kaupapa-maori" in extended
    assert "research.kaupapa-maori" not in base
    assert len(base) == 5


def test_extend_replaces_a_purpose_with_the_same_id() -> None:
    base = sample_registry()
    replacement = make("research", title="Research with consent", bases=[CONSENT])
    extended = base.extend([replacement])
    assert extended.get("research") is replacement
    assert base.get("research").title == "Title of research"
    assert len(extended) == len(base)


def test_extend_accepts_another_registry() -> None:
    extra = PurposeRegistry([make("funder-reporting"), make("funder-reporting.quarterly")])
    extended = sample_registry().extend(extra)
    assert "funder-reporting.quarterly" in extended
    assert len(extended) == 7


def test_extend_still_checks_parents() -> None:
    with pytest.raises(UnknownParent):
        sample_registry().extend([make("funder-reporting.quarterly")])


def test_registries_are_equal_by_content_not_order_and_are_unhashable() -> None:
    a = PurposeRegistry([make("a"), make("b")])
    b = PurposeRegistry([make("b"), make("a")])
    assert a == b
    assert a != PurposeRegistry([make("a")])
    with pytest.raises(TypeError):
        hash(a)


# the default pack -------------------------------------------------------------------------


def test_default_pack_has_exactly_the_nine_purposes_of_the_toml_in_order() -> None:
    assert [p.id for p in PurposeRegistry.default()] == DEFAULT_PURPOSE_IDS


@pytest.mark.parametrize("ident", DEFAULT_PURPOSE_IDS)
def test_each_default_purpose_has_a_title_description_and_benefit(ident: str) -> None:
    purpose = PurposeRegistry.default().get(ident)
    assert purpose.title.strip()
    assert purpose.description.strip()
    assert purpose.benefit.strip()
    assert purpose.description != purpose.benefit


def test_default_care_and_protection_rests_on_statutes_and_serious_threat() -> None:
    purpose = PurposeRegistry.default().get("care-and-protection")
    assert purpose.bases == (ORANGA_TAMARIKI_ACT_S66C, FAMILY_VIOLENCE_ACT_S20, SERIOUS_THREAT)
    assert not purpose.allows_basis(CONSENT)


def test_default_pack_reads_bases_and_retention() -> None:
    registry = PurposeRegistry.default()
    assert registry.get("service-delivery").retention == Retention(
        years=7, after="your last contact with the service"
    )
    assert registry.get("service-delivery.referral").bases == (
        DIRECTLY_RELATED_PURPOSE,
        AUTHORISED_BY_PERSON,
        CONSENT,
    )
    assert registry.get("research").bases == (CONSENT, NON_IDENTIFYING)
    assert registry.get("funder-reporting").bases == (ServiceAgreement("Funding agreement"),)
    assert registry.get("official-statistics").bases == ()
    assert registry.get("research").retention is None


def test_default_is_cached_and_equal_to_a_fresh_load() -> None:
    assert PurposeRegistry.default() is PurposeRegistry.default()
    fresh = PurposeRegistry.from_toml(files("purposeful") / "data" / "nz_social_services.toml")
    assert fresh == PurposeRegistry.default()
    assert fresh is not PurposeRegistry.default()


def test_default_is_reexported_from_the_package() -> None:
    assert purposeful.PurposeRegistry.default() is PurposeRegistry.default()


# TOML: valid files ------------------------------------------------------------------------


VALID_FILE = """\
# Purposes for Example Trust.

[[purpose]]
id = "outreach"
title = "Outreach"
description = "Contacting people who may need our services."
benefit = "People who need help hear about it."
bases = [
    "consent",
    "serious-threat",
    { kind = "statute", act = "Family Violence Act 2018", section = "20" },
    { kind = "service-agreement", name = "Outreach agreement" },
    { kind = "information-sharing-agreement", name = "Regional AISA" },
]
retention = { years = 2, months = 6, after = "the last contact" }

[[purpose]]
id = "outreach.home-visits"
title = "Home visits"
description = "Visiting you at home."
benefit = "You get support without travelling."

[[category]]
id = "contact"
title = "Contact details"
"""


def test_valid_file_loads_every_purpose_with_its_details(tmp_path: Path) -> None:
    registry = PurposeRegistry.from_toml(write(tmp_path, VALID_FILE))
    assert [p.id for p in registry] == ["outreach", "outreach.home-visits"]
    assert registry.get("outreach") == Purpose(
        id="outreach",
        title="Outreach",
        description="Contacting people who may need our services.",
        benefit="People who need help hear about it.",
        bases=[
            CONSENT,
            SERIOUS_THREAT,
            FAMILY_VIOLENCE_ACT_S20,
            ServiceAgreement("Outreach agreement"),
            InformationSharingAgreement("Regional AISA"),
        ],
        retention=Retention(years=2, months=6, after="the last contact"),
    )
    visits = registry.get("outreach.home-visits")
    assert visits.bases == ()
    assert visits.retention is None


def test_from_toml_accepts_a_string_path(tmp_path: Path) -> None:
    path = write(tmp_path, VALID_FILE)
    assert PurposeRegistry.from_toml(str(path)) == PurposeRegistry.from_toml(path)


def test_file_without_purposes_is_refused_rather_than_loaded_empty(tmp_path: Path) -> None:
    path = write(tmp_path, '[[category]]\nid = "contact"\ntitle = "Contact"\n')
    with pytest.raises(RegistryFileError, match=r"no \[\[purpose\]\] tables"):
        PurposeRegistry.from_toml(path)


def test_misspelt_purpose_table_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        version = 3

        [[purposes]]
        id = "service-delivery"
        title = "Service delivery"
        description = "Providing the services you came to us for."
        benefit = "You get the support you asked for."
        """,
    )
    with pytest.raises(RegistryFileError, match="unknown table") as caught:
        PurposeRegistry.from_toml(path)
    assert caught.value.line == 3
    assert "purposes" in str(caught.value)


def test_file_extending_the_default_adds_and_replaces(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [[purpose]]
        id = "research.kaupapa-maori"
        title = "Kaupapa Māori research"
        description = "Research led by and for Māori, with your consent."
        benefit = "Research that serves your whānau and community."
        bases = ["consent"]

        [[purpose]]
        id = "official-statistics"
        title = "Official statistics"
        description = "Providing information to Stats NZ."
        benefit = "Communities plan from accurate statistics."
        bases = [{ kind = "statute", act = "Data and Statistics Act 2022", section = "39" }]
        """,
    )
    default = PurposeRegistry.default()
    registry = PurposeRegistry.from_toml(path, extends=default)
    assert len(registry) == len(default) + 1
    assert registry.get("research.kaupapa-maori").bases == (CONSENT,)
    assert registry.get("research").covers(registry.get("research.kaupapa-maori"))
    assert registry.get("official-statistics").bases == (
        Statute("Data and Statistics Act 2022", "39"),
    )
    assert default.get("official-statistics").bases == ()
    assert "research.kaupapa-maori" not in default


# TOML: located errors ---------------------------------------------------------------------


def test_malformed_toml_reports_the_line_from_the_parser(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "second"
        title = "Second
        description = "D"
        benefit = "B"
        """,
    )
    error = load_error(path)
    assert_located(error, path, 12)
    assert "not valid TOML" in str(error)


def test_toml_error_at_end_of_document_names_the_file_without_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, PREAMBLE + "bases = [\n")
    error = load_error(path)
    assert_located(error, path, None)
    assert "not valid TOML" in str(error)


def test_malformed_id_in_a_file_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "Outreach_Team"
        title = "Outreach team"
        description = "D"
        benefit = "B"
        """,
    )
    error = load_error(path)
    assert_located(error, path, 10)
    assert "'Outreach_Team' is malformed" in str(error)


def test_non_string_id_in_a_file_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = 42
        title = "T"
        description = "D"
        benefit = "B"
        """,
    )
    assert_located(load_error(path), path, 10)


def test_duplicate_id_in_a_file_is_located_at_the_second_entry(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "other"
        title = "Other"
        description = "D"
        benefit = "B"

        [[purpose]]
        id = "outreach"
        title = "Outreach again"
        description = "D"
        benefit = "B"
        """,
    )
    error = load_error(path)
    assert_located(error, path, 16)
    assert "'outreach' is declared twice (first declared at line 4)" in str(error)


def test_duplicate_id_in_a_file_is_an_error_even_when_extending(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "outreach"
        title = "Outreach again"
        description = "D"
        benefit = "B"
        """,
    )
    error = load_error(path, extends=PurposeRegistry.default())
    assert_located(error, path, 10)
    assert "declared twice" in str(error)


def test_unknown_parent_in_a_file_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "other"
        title = "Other"
        description = "D"
        benefit = "B"

        [[purpose]]
        id = "housing.emergency"
        title = "Emergency housing"
        description = "D"
        benefit = "B"
        """,
    )
    error = load_error(path)
    assert_located(error, path, 16)
    assert "'housing.emergency' has no parent 'housing'" in str(error)


def test_unknown_parent_is_located_when_it_comes_before_other_entries(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [[purpose]]
        id = "a"
        title = "A"
        description = "D"
        benefit = "B"

        [[purpose]]
        id = "a.b.c"
        title = "C"
        description = "D"
        benefit = "B"

        [[purpose]]
        id = "a.d"
        title = "D"
        description = "D"
        benefit = "B"
        """,
    )
    error = load_error(path)
    assert_located(error, path, 7)
    assert "no parent 'a.b'" in str(error)


def test_child_of_a_default_purpose_needs_extends(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "research.kaupapa-maori"
        title = "Kaupapa Māori research"
        description = "D"
        benefit = "B"
        """,
    )
    assert_located(load_error(path), path, 10)
    registry = PurposeRegistry.from_toml(path, extends=PurposeRegistry.default())
    assert "research.kaupapa-maori" in registry


def test_unknown_parent_when_extending_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "research.kaupapa-maori"
        title = "Kaupapa Māori research"
        description = "D"
        benefit = "B"

        [[purpose]]
        id = "service-delivery.housing.emergency"
        title = "Emergency housing"
        description = "D"
        benefit = "B"
        """,
    )
    error = load_error(path, extends=PurposeRegistry.default())
    assert_located(error, path, 16)
    assert "no parent 'service-delivery.housing'" in str(error)


def test_unknown_key_in_an_entry_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "other"
        title = "Other"
        description = "D"
        benefit = "B"
        retension = { years = 7 }
        """,
    )
    error = load_error(path)
    assert_located(error, path, 10)
    message = str(error)
    assert "unknown key(s) retension" in message
    assert "allowed keys are bases, benefit, care, description, id, retention, title" in message


def test_missing_title_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "other"
        description = "D"
        benefit = "B"
        """,
    )
    error = load_error(path)
    assert_located(error, path, 10)
    assert "purpose 'other' is missing title" in str(error)


def test_missing_id_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        title = "Other"
        description = "D"
        benefit = "B"
        """,
    )
    error = load_error(path)
    assert_located(error, path, 10)
    assert "is missing id" in str(error)


@pytest.mark.parametrize(
    "line",
    ['title = ""', 'title = "   "', "title = 7", "title = []"],
    ids=repr,
)
def test_empty_or_non_text_title_is_located(tmp_path: Path, line: str) -> None:
    path = write(
        tmp_path,
        PREAMBLE + f'[[purpose]]\nid = "other"\n{line}\ndescription = "D"\nbenefit = "B"\n',
    )
    error = load_error(path)
    assert_located(error, path, 10)
    assert "'title' must be a non-empty string" in str(error)


def test_bases_of_the_wrong_type_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "other"
        title = "Other"
        description = "D"
        benefit = "B"
        bases = "consent"
        """,
    )
    error = load_error(path)
    assert_located(error, path, 10)
    assert "'bases' must be a list" in str(error)


def test_unknown_basis_kind_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "other"
        title = "Other"
        description = "D"
        benefit = "B"
        bases = ["consent", "contract"]
        """,
    )
    error = load_error(path)
    assert_located(error, path, 10)
    assert "unknown lawful basis kind 'contract'" in str(error)


def test_statute_without_section_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "other"
        title = "Other"
        description = "D"
        benefit = "B"
        bases = [{ kind = "statute", act = "Family Violence Act 2018" }]
        """,
    )
    error = load_error(path)
    assert_located(error, path, 10)
    assert "takes act, section; got act" in str(error)


def test_basis_that_is_not_a_string_or_table_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[purpose]]
        id = "other"
        title = "Other"
        description = "D"
        benefit = "B"
        bases = [20]
        """,
    )
    assert_located(load_error(path), path, 10)


@pytest.mark.parametrize(
    "retention",
    [
        "retention = 7",
        'retention = "7 years"',
        "retention = { weeks = 2 }",
        'retention = { years = 7, after = "closure", reason = "IPP 9" }',
        "retention = { years = 0 }",
        "retention = {}",
        "retention = { years = -1 }",
        'retention = { years = "7" }',
        "retention = { years = 1.5 }",
        "retention = { years = true }",
        "retention = { years = 7, after = 7 }",
    ],
    ids=repr,
)
def test_bad_retention_table_is_located(tmp_path: Path, retention: str) -> None:
    path = write(
        tmp_path,
        PREAMBLE + f'[[purpose]]\nid = "other"\ntitle = "T"\ndescription = "D"\n'
        f'benefit = "B"\n{retention}\n',
    )
    assert_located(load_error(path), path, 10)


def test_errors_are_located_among_multi_line_entries_and_other_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [[purpose]]
        id = "outreach"
        title = "Outreach"
        description = "D"
        benefit = "B"
        bases = [
            "consent",
            { kind = "service-agreement", name = "Outreach agreement" },
        ]

        [[category]]
        id = "contact"
        title = "Contact"

        [[ purpose ]]  # spaced header, trailing comment
        id = "outreach.door-knocking"
        title = "Door knocking"
        description = "D"
        benefit = "B"
        bases = ["contract"]
        """,
    )
    assert_located(load_error(path), path, 15)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "purposes.toml"
    error = load_error(path)
    assert_located(error, path, None)
    assert "cannot read the file" in str(error)


def test_directory_instead_of_file_names_the_path(tmp_path: Path) -> None:
    error = load_error(tmp_path)
    assert_located(error, tmp_path, None)
    assert "cannot read the file" in str(error)


def test_non_utf8_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "purposes.toml"
    path.write_bytes(
        b'[[purpose]]\nid = "research"\ntitle = "Recherche m\xe9dicale"\n'
        b'description = "D"\nbenefit = "B"\n'
    )
    error = load_error(path)
    assert_located(error, path, None)
    assert "not UTF-8" in str(error)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('# Purposes\n\npurpose = "x"\n', 3),
        ("# Purposes\npurpose = [1, 2]\n", 2),
        ('title = "Example"\n\n[purpose]\nid = "research"\n', 3),
        ('purpose.id = "research"\n', 1),
    ],
    ids=["string", "array-of-numbers", "single-table", "dotted-key"],
)
def test_purpose_not_written_as_an_array_of_tables_is_located(
    tmp_path: Path, text: str, line: int
) -> None:
    path = write(tmp_path, text)
    error = load_error(path)
    assert_located(error, path, line)
    assert "'purpose' must be an array of tables, written as [[purpose]] headers" in str(error)


def test_purpose_key_is_located_after_a_key_that_only_starts_with_purpose(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, 'purpose-owner = "Privacy officer"\npurpose = "x"\n')
    assert_located(load_error(path), path, 2)


def test_purpose_key_is_located_at_the_root_not_inside_another_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [registry]
        purpose = "Purposes for Example Trust"

        [purpose]
        id = "research"
        """,
    )
    assert_located(load_error(path), path, 4)


def test_a_file_nested_too_deeply_is_a_registry_file_error_naming_it(tmp_path: Path) -> None:
    # tomllib recurses once a level: a crafted file must not raise RecursionError
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    error = load_error(deep)
    assert error.path == str(deep)
    assert "nested too deeply" in str(error)
