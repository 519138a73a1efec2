"""Red team: a registry file names a regime's statute and the law's conditions fall away."""

from __future__ import annotations

import gc
import pathlib

import pytest

import purposeful
from purposeful import SENSITIVE, Actor, PurposeViolation

ENTRY = """
[[purpose]]
id = "child-safety"
title = "Child safety"
description = "Keeping you safe."
benefit = "You are safe."
bases = [{{ kind = "statute", act = "{act}", section = "{section}"{extra} }}]
"""


@pytest.mark.parametrize(
    ("act", "section", "extra"),
    [
        ("Oranga Tamariki Act 1989", "66c", ""),  # lower-case section letter
        ("Oranga Tamariki Act 1989", "s 66C", ""),  # the way the docs write it
        ("Oranga Tamariki Act 1989 ", "66C", ""),  # a trailing space
        ("Family Violence Act 2018", "20 ", ""),
        ("Family Violence Act 2018", "20", ", agency_kinds = []"),  # an empty list of conditions
        ("Family Violence Act 2018", "20", ", roles = []"),
    ],
)
def test_red_registry_file_statute_spelling_drops_the_laws_conditions(
    tmp_path: pathlib.Path, act: str, section: str, extra: str
) -> None:
    path = tmp_path / "purposes.toml"
    path.write_text(ENTRY.format(act=act, section=section, extra=extra), encoding="utf-8")
    registry = purposeful.PurposeRegistry.from_toml(path)
    [basis] = registry.get("child-safety").bases
    # the file names s 66C / s 20 and writes no (or empty) conditions: the law's conditions apply
    assert basis.restricted, basis
    assert basis.needs_justification, basis


def test_red_registry_file_statute_read_by_anyone_without_justification(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "purposes.toml"
    path.write_text(
        ENTRY.format(act="Oranga Tamariki Act 1989", section="66c", extra=""), encoding="utf-8"
    )
    registry = purposeful.PurposeRegistry.from_toml(
        path, extends=purposeful.PurposeRegistry.default()
    )
    purposeful.configure(registry=registry)
    [basis] = registry.get("child-safety").bases

    @purposeful.record(subject="client_id")
    class Concern:
        client_id: str
        concern: str = purposeful.field(purposes={"child-safety": basis}, sensitivity=SENSITIVE)

    concern = Concern("C-1", "(concern)")
    try:
        # an agency of no kind, a caseworker, no justification: refused under s 66C
        with (
            pytest.raises(PurposeViolation),
            purposeful.use("child-safety", actor=Actor("staff-1", "caseworker", SENSITIVE)),
        ):
            _ = concern.concern
    finally:  # the record type must not outlive the test: its purpose is this file's alone
        del concern, Concern
        gc.collect()
