"""Data categories and CategoryRegistry: declared in code or TOML, validated when built."""

from __future__ import annotations

import textwrap
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import purposeful
from purposeful.categories import CategoryRegistry, DataCategory
from purposeful.errors import (
    ConfigurationError,
    DuplicateIdentifier,
    InvalidIdentifier,
    RegistryFileError,
    UnknownCategory,
    UnknownParent,
)

# helpers ----------------------------------------------------------------------------------

ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def follows_id_grammar(text: str) -> bool:
    """The id grammar, written independently of the library."""
    return all(
        word and set(word) <= ID_CHARACTERS
        for level in text.split(".")
        for word in level.split("-")
    )


words = st.text(alphabet=sorted(ID_CHARACTERS), min_size=1, max_size=6)
levels = st.lists(words, min_size=1, max_size=3).map("-".join)
valid_ids = st.lists(levels, min_size=1, max_size=4).map(".".join)


def lineage_of(ident: str) -> list[str]:
    parts = ident.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def sample_registry() -> CategoryRegistry:
    return CategoryRegistry(
        [
            DataCategory("health", "Health", "Physical and mental health."),
            DataCategory("health.mental-health", "Mental health"),
            DataCategory("health.mental-health.addiction", "Addiction"),
            DataCategory("health.disability", "Disability"),
            DataCategory("contact", "Contact details"),
        ]
    )


def write(tmp_path: Path, *parts: str, name: str = "categories.toml") -> Path:
    """Write the parts, each dedented, one after another, as a UTF-8 file."""
    path = tmp_path / name
    path.write_text("".join(textwrap.dedent(part) for part in parts), encoding="utf-8")
    return path


def load_error(path: Path | str, **kwargs: Any) -> RegistryFileError:
    with pytest.raises(RegistryFileError) as info:
        CategoryRegistry.from_toml(path, **kwargs)
    return info.value


def assert_located(error: RegistryFileError, path: Path, line: int | None) -> None:
    assert isinstance(error, ConfigurationError)
    assert isinstance(error, ValueError)
    assert error.path == str(path)
    assert error.line == line
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert str(error).startswith(where)


# Lines 1-7; the next entry appended starts at line 8. The only header here is at line 3.
PREAMBLE = """\
# Data categories for Example Trust.

[[category]]
id = "housing"
title = "Housing"
description = "Where the person lives and their tenancy."

"""

DEFAULT_CATEGORY_IDS = [
    "identity",
    "contact",
    "health",
    "health.mental-health",
    "health.disability",
    "family-violence",
    "ethnicity",
    "ethnicity.iwi-affiliation",
    "household",
    "financial",
    "justice",
    "case-notes",
]


# DataCategory -----------------------------------------------------------------------------


def test_category_keeps_what_it_was_declared_with() -> None:
    category = DataCategory("health.mental-health", "Mental health", "Diagnoses and care.")
    assert category.id == "health.mental-health"
    assert category.title == "Mental health"
    assert category.description == "Diagnoses and care."
    assert str(category) == "health.mental-health"


def test_category_description_is_optional() -> None:
    assert DataCategory("contact", "Contact details").description == ""


def test_category_is_an_immutable_hashable_value() -> None:
    assert DataCategory("contact", "Contact") == DataCategory("contact", "Contact")
    assert len({DataCategory("contact", "Contact"), DataCategory("contact", "Contact")}) == 1
    with pytest.raises(AttributeError):
        DataCategory("contact", "Contact").title = "Other"  # type: ignore[misc]


def test_child_category_is_within_its_parent_and_grandparent() -> None:
    addiction = DataCategory("health.mental-health.addiction", "Addiction")
    assert addiction.within("health.mental-health")
    assert addiction.within("health")
    assert addiction.within(DataCategory("health", "Health"))


def test_parent_category_is_not_within_its_child() -> None:
    health = DataCategory("health", "Health")
    assert not health.within("health.mental-health")
    assert not health.within(DataCategory("health.mental-health", "Mental health"))


def test_category_is_within_itself() -> None:
    assert DataCategory("health", "Health").within("health")


def test_category_is_not_within_a_sibling_or_an_id_that_only_shares_a_prefix() -> None:
    assert not DataCategory("health.disability", "D").within("health.mental-health")
    assert not DataCategory("health-records", "H").within("health")
    assert not DataCategory("healthcare.visits", "H").within("health")
    assert not DataCategory("health", "H").within("health-records")


@given(valid_ids, valid_ids)
def test_a_dotted_descendant_is_within_its_ancestor_but_not_the_reverse(
    parent: str, rest: str
) -> None:
    child = DataCategory(f"{parent}.{rest}", "Child")
    assert child.within(parent)
    assert not DataCategory(parent, "Parent").within(child)
    assert not DataCategory(f"{parent}-{rest}", "Sibling").within(parent)


@pytest.mark.parametrize(
    "ident",
    ["", "Health", "mental_health", "health.", ".health", "health..mental", "whānau", "a b"],
    ids=repr,
)
def test_malformed_category_id_is_rejected(ident: str) -> None:
    with pytest.raises(InvalidIdentifier, match=r"data category id .* is malformed"):
        DataCategory(ident, "Title")


@given(st.text().filter(lambda text: not follows_id_grammar(text)))
def test_any_text_outside_the_id_grammar_is_rejected_as_a_category_id(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        DataCategory(text, "Title")


@given(valid_ids)
def test_any_valid_category_id_is_accepted_with_its_ancestors(ident: str) -> None:
    chain = lineage_of(ident)
    registry = CategoryRegistry(DataCategory(a, a.upper()) for a in reversed(chain))
    assert registry.get(ident).id == ident
    assert [c.id for c in registry.ancestors(ident)] == chain[1:]


@pytest.mark.parametrize("title", ["", "  ", None, 3], ids=repr)
def test_empty_or_non_text_category_title_is_rejected(title: Any) -> None:
    with pytest.raises(ConfigurationError, match="'contact' needs a non-empty title"):
        DataCategory("contact", title)


# CategoryRegistry -------------------------------------------------------------------------


def test_category_registry_built_in_code_keeps_declaration_order() -> None:
    registry = sample_registry()
    assert [c.id for c in registry] == [
        "health",
        "health.mental-health",
        "health.mental-health.addiction",
        "health.disability",
        "contact",
    ]
    assert len(registry) == 5
    assert "contact" in registry
    assert "identity" not in registry


def test_duplicate_category_is_rejected() -> None:
    with pytest.raises(DuplicateIdentifier, match="data category 'contact' is declared twice"):
        CategoryRegistry([DataCategory("contact", "A"), DataCategory("contact", "B")])


def test_category_without_declared_parent_is_rejected() -> None:
    with pytest.raises(UnknownParent, match="has no parent 'health'"):
        CategoryRegistry([DataCategory("health.mental-health", "Mental health")])


def test_category_children_and_ancestors() -> None:
    registry = sample_registry()
    assert [c.id for c in registry.children("health")] == [
        "health.mental-health",
        "health.disability",
    ]
    assert [c.id for c in registry.ancestors("health.mental-health.addiction")] == [
        "health.mental-health",
        "health",
    ]
    assert registry.children("contact") == ()


def test_category_resolve_by_id_and_by_category() -> None:
    registry = sample_registry()
    assert registry.resolve("contact") is registry.get("contact")
    assert registry.resolve(DataCategory("contact", "Contact details")) is registry.get("contact")


def test_category_resolve_unknown_lists_every_known_id() -> None:
    registry = sample_registry()
    with pytest.raises(UnknownCategory, match="unknown data category 'ethnicity'") as info:
        registry.resolve("ethnicity")
    for category in registry:
        assert category.id in str(info.value)
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, ConfigurationError)


def test_category_resolve_of_an_undeclared_category_is_unknown() -> None:
    with pytest.raises(UnknownCategory):
        sample_registry().resolve(DataCategory("identity", "Identity"))


@pytest.mark.parametrize("value", [None, 3, ["contact"]], ids=repr)
def test_category_resolve_rejects_a_value_that_is_neither_id_nor_category(value: Any) -> None:
    with pytest.raises(UnknownCategory, match="unknown data category"):
        sample_registry().resolve(value)


def test_category_ancestors_of_unknown_id_is_unknown_category() -> None:
    with pytest.raises(UnknownCategory):
        sample_registry().ancestors("health.nutrition")


def test_category_extend_adds_and_replaces_without_changing_the_original() -> None:
    base = sample_registry()
    extended = base.extend(
        [DataCategory("contact", "Contact and address"), DataCategory("contact.email", "Email")]
    )
    assert isinstance(extended, CategoryRegistry)
    assert extended.get("contact").title == "Contact and address"
    assert "contact.email" in extended
    assert base.get("contact").title == "Contact details"
    assert "contact.email" not in base


# the default categories -------------------------------------------------------------------


@pytest.mark.parametrize(
    "ident",
    [
        "health",
        "health.mental-health",
        "contact",
        "identity",
        "family-violence",
        "ethnicity",
        "ethnicity.iwi-affiliation",
    ],
)
def test_default_categories_include(ident: str) -> None:
    category = CategoryRegistry.default().get(ident)
    assert category.title.strip()


def test_default_categories_are_exactly_those_of_the_toml_in_order() -> None:
    assert [c.id for c in CategoryRegistry.default()] == DEFAULT_CATEGORY_IDS


def test_default_iwi_affiliation_is_within_ethnicity() -> None:
    registry = CategoryRegistry.default()
    assert registry.get("ethnicity.iwi-affiliation").within(registry.get("ethnicity"))
    assert registry.children("ethnicity") == (registry.get("ethnicity.iwi-affiliation"),)


def test_default_categories_are_cached_and_equal_to_a_fresh_load() -> None:
    assert CategoryRegistry.default() is CategoryRegistry.default()
    fresh = CategoryRegistry.from_toml(files("purposeful") / "data" / "nz_social_services.toml")
    assert fresh == CategoryRegistry.default()
    assert purposeful.CategoryRegistry.default() is CategoryRegistry.default()


# TOML: valid files ------------------------------------------------------------------------


def test_valid_category_file_loads_every_category(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[category]]
        id = "housing.tenancy"
        title = "Tenancy"

        [[purpose]]
        id = "outreach"
        title = "Outreach"
        description = "D"
        benefit = "B"
        """,
    )
    registry = CategoryRegistry.from_toml(path)
    assert list(registry) == [
        DataCategory("housing", "Housing", "Where the person lives and their tenancy."),
        DataCategory("housing.tenancy", "Tenancy"),
    ]
    assert CategoryRegistry.from_toml(str(path)) == registry


def test_category_file_extending_the_default_adds_and_replaces(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [[category]]
        id = "health.medication"
        title = "Medication"

        [[category]]
        id = "case-notes"
        title = "Case notes and file notes"
        """,
    )
    default = CategoryRegistry.default()
    registry = CategoryRegistry.from_toml(path, extends=default)
    assert len(registry) == len(default) + 1
    assert registry.get("health.medication").within("health")
    assert registry.get("case-notes").title == "Case notes and file notes"
    assert default.get("case-notes").title == "Case notes"


# TOML: located errors ---------------------------------------------------------------------


def test_malformed_category_toml_reports_the_parser_line(tmp_path: Path) -> None:
    path = write(tmp_path, PREAMBLE, '[[category]]\nid = "a"\ntitle = \n')
    error = load_error(path)
    assert_located(error, path, 10)
    assert "not valid TOML" in str(error)


def test_malformed_category_id_in_a_file_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, PREAMBLE, '[[category]]\nid = "Mental_Health"\ntitle = "M"\n')
    error = load_error(path)
    assert_located(error, path, 8)
    assert "'Mental_Health' is malformed" in str(error)


def test_duplicate_category_in_a_file_is_located_at_the_second_entry(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[category]]
        id = "contact"
        title = "Contact"

        [[category]]
        id = "housing"
        title = "Housing again"
        """,
    )
    error = load_error(path)
    assert_located(error, path, 12)
    assert "'housing' is declared twice (first declared at line 3)" in str(error)


def test_unknown_parent_category_in_a_file_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        PREAMBLE,
        """\
        [[category]]
        id = "contact"
        title = "Contact"

        [[category]]
        id = "health.medication"
        title = "Medication"
        """,
    )
    error = load_error(path)
    assert_located(error, path, 12)
    assert "'health.medication' has no parent 'health'" in str(error)


def test_unknown_key_in_a_category_entry_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path, PREAMBLE, '[[category]]\nid = "contact"\ntitle = "C"\nsensitivity = "high"\n'
    )
    error = load_error(path)
    assert_located(error, path, 8)
    assert "unknown key(s) sensitivity; allowed keys are description, id, title" in str(error)


def test_missing_category_title_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, PREAMBLE, '[[category]]\nid = "contact"\ndescription = "C"\n')
    error = load_error(path)
    assert_located(error, path, 8)
    assert "data category 'contact' is missing title" in str(error)


@pytest.mark.parametrize("title", ['""', '"  "', "5"])
def test_empty_or_non_text_category_title_in_a_file_is_located(tmp_path: Path, title: str) -> None:
    path = write(tmp_path, PREAMBLE, f'[[category]]\nid = "contact"\ntitle = {title}\n')
    error = load_error(path)
    assert_located(error, path, 8)
    assert "'title' must be a non-empty string" in str(error)


def test_non_text_category_description_in_a_file_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, PREAMBLE, '[[category]]\nid = "contact"\ntitle = "C"\ndescription = 1\n')
    error = load_error(path)
    assert_located(error, path, 8)
    assert "'description' must be text" in str(error)


def test_missing_category_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    error = load_error(path)
    assert_located(error, path, None)
    assert "cannot read the file" in str(error)


def test_non_utf8_category_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "categories.toml"
    path.write_bytes(b'[[category]]\nid = "household"\ntitle = "Wh\xe2nau"\n')
    error = load_error(path)
    assert_located(error, path, None)
    assert "not UTF-8" in str(error)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('# Categories\ncategory = "health"\n', 2),
        ('[category]\nid = "health"\ntitle = "Health"\n', 1),
    ],
    ids=["string", "single-table"],
)
def test_category_not_written_as_an_array_of_tables_is_located(
    tmp_path: Path, text: str, line: int
) -> None:
    path = write(tmp_path, text)
    error = load_error(path)
    assert_located(error, path, line)
    assert "'category' must be an array of tables" in str(error)


def test_a_file_nested_too_deeply_is_a_registry_file_error_naming_it(tmp_path: Path) -> None:
    # tomllib recurses once a level: a crafted file must not raise RecursionError
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    error = load_error(deep)
    assert error.path == str(deep)
    assert "nested too deeply" in str(error)
