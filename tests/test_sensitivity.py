"""Sensitivity scales and levels, and the validation of actors that hold a clearance."""

from __future__ import annotations

import operator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import purposeful
from purposeful.actors import Actor
from purposeful.errors import ConfigurationError, IncomparableLevels
from purposeful.sensitivity import (
    CONFIDENTIAL,
    IN_CONFIDENCE,
    NZ_CLASSIFICATION,
    RESTRICTED,
    SECRET,
    SENSITIVE,
    TOP_SECRET,
    UNCLASSIFIED,
    Level,
    Scale,
)

NZ_ORDER = [
    "UNCLASSIFIED",
    "IN-CONFIDENCE",
    "SENSITIVE",
    "RESTRICTED",
    "CONFIDENTIAL",
    "SECRET",
    "TOP SECRET",
]

nz_levels = st.sampled_from(list(NZ_CLASSIFICATION))


# the NZ scale -----------------------------------------------------------------------------


def test_nz_scale_lists_the_seven_classifications_lowest_first() -> None:
    assert [level.name for level in NZ_CLASSIFICATION] == NZ_ORDER
    assert len(NZ_CLASSIFICATION) == 7


def test_nz_constants_are_the_scales_levels_in_order() -> None:
    constants = [
        UNCLASSIFIED,
        IN_CONFIDENCE,
        SENSITIVE,
        RESTRICTED,
        CONFIDENTIAL,
        SECRET,
        TOP_SECRET,
    ]
    assert constants == list(NZ_CLASSIFICATION)
    assert [str(level) for level in constants] == NZ_ORDER
    assert UNCLASSIFIED < IN_CONFIDENCE < SENSITIVE < RESTRICTED < CONFIDENTIAL < SECRET
    assert SECRET < TOP_SECRET


def test_nz_scale_lowest_and_highest() -> None:
    assert NZ_CLASSIFICATION.lowest is UNCLASSIFIED
    assert NZ_CLASSIFICATION.highest is TOP_SECRET


def test_nz_levels_are_reexported_from_the_package() -> None:
    assert purposeful.SENSITIVE is SENSITIVE
    assert purposeful.NZ_CLASSIFICATION is NZ_CLASSIFICATION


@given(nz_levels, nz_levels)
def test_comparing_any_two_nz_levels_agrees_with_their_rank(a: Level, b: Level) -> None:
    ra, rb = NZ_ORDER.index(a.name), NZ_ORDER.index(b.name)
    assert (a < b) is (ra < rb)
    assert (a <= b) is (ra <= rb)
    assert (a > b) is (ra > rb)
    assert (a >= b) is (ra >= rb)
    assert (a == b) is (ra == rb)
    assert (a != b) is (ra != rb)


@given(nz_levels)
def test_nz_level_is_found_by_its_name(level: Level) -> None:
    assert NZ_CLASSIFICATION[level.name] is level
    assert level in NZ_CLASSIFICATION


def test_unknown_level_name_is_a_configuration_error_listing_the_levels() -> None:
    with pytest.raises(ConfigurationError, match="has no level 'TOP-SECRET'") as info:
        NZ_CLASSIFICATION["TOP-SECRET"]
    message = str(info.value)
    assert "nz-government" in message
    for name in NZ_ORDER:
        assert name in message


def test_level_names_are_case_sensitive() -> None:
    with pytest.raises(ConfigurationError):
        NZ_CLASSIFICATION["sensitive"]


def test_levels_are_hashable_values() -> None:
    assert len({SENSITIVE, NZ_CLASSIFICATION["SENSITIVE"], SECRET}) == 2


# custom scales ----------------------------------------------------------------------------


def test_custom_scale_orders_levels_as_given() -> None:
    tiers = Scale("tiers", ["public", "internal", "private"])
    assert tiers["public"] < tiers["internal"] < tiers["private"]
    assert tiers["private"] >= tiers["private"]
    assert not tiers["private"] < tiers["public"]
    assert tiers.lowest.name == "public"
    assert tiers.highest.name == "private"
    assert [level.name for level in tiers] == ["public", "internal", "private"]


def test_single_level_scale_is_allowed() -> None:
    only = Scale("only", ["one"])
    assert only.lowest is only.highest
    assert only["one"] <= only["one"]


def test_scale_accepts_a_tuple_of_names() -> None:
    assert len(Scale("t", ("a", "b"))) == 2


def test_scale_repr_names_the_scale_and_its_levels() -> None:
    assert repr(Scale("tiers", ["a", "b"])) == "Scale('tiers', ['a', 'b'])"


@pytest.mark.parametrize(
    "compare",
    [
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["lt", "le", "gt", "ge"],
)
def test_comparing_levels_of_two_scales_raises_incomparable_levels(compare: Any) -> None:
    tiers = Scale("tiers", ["public", "internal", "private"])
    with pytest.raises(IncomparableLevels, match="cannot compare SENSITIVE") as info:
        compare(SENSITIVE, tiers["private"])
    assert "tiers" in str(info.value)
    assert "nz-government" in str(info.value)


def test_incomparable_levels_can_be_caught_as_type_error() -> None:
    tiers = Scale("tiers", ["public"])
    with pytest.raises(TypeError):
        _ = tiers["public"] < UNCLASSIFIED


def test_levels_of_two_scales_are_never_equal() -> None:
    tiers = Scale("tiers", ["UNCLASSIFIED"])
    assert tiers["UNCLASSIFIED"] != UNCLASSIFIED
    assert tiers["UNCLASSIFIED"] not in NZ_CLASSIFICATION


@pytest.mark.parametrize("other", [1, "SECRET", None], ids=repr)
def test_ordering_a_level_against_a_non_level_is_a_type_error(other: Any) -> None:
    with pytest.raises(TypeError):
        operator.lt(SENSITIVE, other)
    with pytest.raises(TypeError):
        operator.ge(SENSITIVE, other)


@pytest.mark.parametrize(
    ("name", "levels"),
    [("tiers", []), ("tiers", ()), ("", ["a"])],
    ids=["no-levels", "empty-tuple", "no-name"],
)
def test_scale_needs_a_name_and_at_least_one_level(name: str, levels: list[str]) -> None:
    with pytest.raises(ConfigurationError, match="needs a name and at least one level"):
        Scale(name, levels)


@pytest.mark.parametrize(
    "levels",
    [["a", "a"], ["a", "b", "a"], ["a", ""], [""], ["a", 5]],
    ids=repr,
)
def test_scale_rejects_repeated_or_empty_level_names(levels: list[Any]) -> None:
    with pytest.raises(ConfigurationError, match="empty or repeated level name"):
        Scale("tiers", levels)


# actors -----------------------------------------------------------------------------------


def test_actor_holds_id_role_and_clearance() -> None:
    actor = Actor("staff-0042", "caseworker", SENSITIVE)
    assert actor.id == "staff-0042"
    assert actor.role == "caseworker"
    assert actor.clearance is SENSITIVE


def test_actor_is_an_immutable_value() -> None:
    actor = Actor("staff-0042", "caseworker", SENSITIVE)
    assert actor == Actor("staff-0042", "caseworker", SENSITIVE)
    assert hash(actor) == hash(Actor("staff-0042", "caseworker", SENSITIVE))
    with pytest.raises(AttributeError):
        actor.clearance = TOP_SECRET  # type: ignore[misc]


def test_actor_accepts_a_level_from_a_custom_scale() -> None:
    tiers = Scale("tiers", ["public", "private"])
    assert Actor("job-1", "batch", tiers["private"]).clearance.name == "private"


@pytest.mark.parametrize("ident", ["", "   ", None, 42], ids=repr)
def test_actor_rejects_an_empty_or_non_string_id(ident: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"Actor\.id must be a non-empty string"):
        Actor(ident, "caseworker", SENSITIVE)


@pytest.mark.parametrize("role", ["", "\t", None], ids=repr)
def test_actor_rejects_an_empty_role(role: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"Actor\.role must be a non-empty string"):
        Actor("staff-0042", role, SENSITIVE)


@pytest.mark.parametrize("clearance", ["SENSITIVE", 2, None], ids=repr)
def test_actor_rejects_a_clearance_that_is_not_a_level(clearance: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"Actor\.clearance must be a sensitivity Level"):
        Actor("staff-0042", "caseworker", clearance)
