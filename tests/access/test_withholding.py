"""What a bundle withholds: a withheld record or field takes its correction requests with it
(their notes and statements too), every ground a value is withheld on is stated, a source
that yields something unexpected is a typed error, and the spool that reads values without
a decision is not public.

The bundles are read back with the standard library alone, from the documented format.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from _bundles import (
    SUBJECT,
    CaseNote,
    build_bundle,
    members,
    note,
    records_source,
    subject_access,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import ServiceAgreement
from purposeful.access import Withhold
from purposeful.corrections import MemoryCorrectionStore
from purposeful.errors import SubjectAccessError
from purposeful.sharing import DisclosureEntry
from purposeful.withholding import (
    ANOTHER_PERSONS_AFFAIRS,
    EVALUATIVE_MATERIAL,
    PROTECTION_OF_INDIVIDUAL,
)

NOTES = (1, 2, 3)
FIELDS = ("text", "notifier", "region", "note_id")


def corrected(
    store: MemoryCorrectionStore, number: int, field: str, marker: str, *, decline: bool
) -> str:
    """Ask for *field* of note *number* to change; every text of it carries *marker*."""
    asked = store.request_correction(
        SUBJECT,
        note(number),
        field,
        requested=f"{marker}-asked-for",
        reason=f"{marker}-reason",
    )
    if decline:
        store.decline(
            asked.id,
            by="staff-7",
            reason=f"{marker}-decision-note",
            statement=f"{marker}-statement",
        )
    return asked.id


def texts(contents: dict[str, bytes]) -> dict[str, str]:
    return {name: data.decode("utf-8-sig") for name, data in contents.items()}


def withheld_entries(contents: dict[str, bytes]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(contents["withheld.json"])["withheld"]
    return entries


rules = st.lists(
    st.one_of(
        st.builds(
            lambda number, ground: Withhold(CaseNote, ground, key=f"N-{number}"),
            st.sampled_from(NOTES),
            st.sampled_from([PROTECTION_OF_INDIVIDUAL, EVALUATIVE_MATERIAL]),
        ),
        st.builds(
            lambda number, field, ground: Withhold(
                CaseNote, ground, key=f"N-{number}", field=field
            ),
            st.sampled_from(NOTES),
            st.sampled_from(FIELDS),
            st.sampled_from([PROTECTION_OF_INDIVIDUAL, EVALUATIVE_MATERIAL]),
        ),
        st.builds(
            lambda field, ground: Withhold(CaseNote, ground, field=field),
            st.sampled_from(FIELDS),
            st.sampled_from([PROTECTION_OF_INDIVIDUAL, EVALUATIVE_MATERIAL]),
        ),
    ),
    max_size=3,
    unique=True,
)
corrections = st.lists(
    st.tuples(st.sampled_from(NOTES), st.sampled_from(FIELDS), st.booleans()), max_size=6
)


def is_withheld(number: int, field: str, decisions: list[Withhold]) -> bool:
    if field == "notifier":  # declared withhold=ANOTHER_PERSONS_AFFAIRS
        return True
    for rule in decisions:
        if rule.key not in (None, f"N-{number}"):
            continue
        if rule.field in (None, field):
            return True
    return False


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(decisions=rules, asked=corrections)
def test_no_text_of_a_withheld_fields_corrections_is_in_any_member(
    tmp_path: Path, decisions: list[Withhold], asked: list[tuple[int, str, bool]]
) -> None:
    store = MemoryCorrectionStore()
    withheld, shown = [], []
    for index, (number, field, decline) in enumerate(asked):
        marker = f"CORR{index}X"
        corrected(store, number, field, marker, decline=decline)
        (withheld if is_withheld(number, field, decisions) else shown).append(marker)
    access = subject_access(corrections=store)
    target = tmp_path / f"bundle-{len(list(tmp_path.iterdir()))}.zip"
    info = build_bundle(target, access, withhold=decisions)
    contents = texts(members(info.path))
    for marker in withheld:
        for name, text in contents.items():
            assert marker not in text, f"{name} holds a withheld field's correction"
    listed = json.loads(contents["corrections.json"])["corrections"]
    assert len(listed) == len(shown)
    for marker in shown:
        assert marker in contents["corrections.json"]
    counted = [
        e for e in withheld_entries(members(info.path)) if e["what"] == "a correction request"
    ]
    # each withheld request is counted once under each of its grounds, at least once
    assert sum(e["count"] for e in counted) >= len(withheld)
    assert bool(counted) == bool(withheld)


def test_a_declared_withheld_fields_correction_is_counted_not_shown(tmp_path: Path) -> None:
    store = MemoryCorrectionStore()
    corrected(store, 2, "notifier", "REPORTER", decline=True)
    info = build_bundle(tmp_path / "b.zip", subject_access(corrections=store))
    contents = members(info.path)
    assert not any(b"REPORTER" in data for data in contents.values())
    assert json.loads(contents["corrections.json"])["corrections"] == []
    correction = [e for e in withheld_entries(contents) if e["what"] == "a correction request"]
    assert [(e["record_type"], e["field"], e["count"], e["ground"]) for e in correction] == [
        ("CaseNote", "notifier", 1, ANOTHER_PERSONS_AFFAIRS.id)
    ]
    # three notifier values and one correction request
    assert info.withheld == 4
    page = contents["index.html"].decode()
    assert "1 correction request about Notifier in a" in page


def test_a_withheld_records_corrections_are_withheld_with_it(tmp_path: Path) -> None:
    store = MemoryCorrectionStore()
    corrected(store, 3, "text", "DISPUTED", decline=True)
    corrected(store, 1, "text", "SHOWN", decline=True)
    decisions = [Withhold(CaseNote, PROTECTION_OF_INDIVIDUAL, key="N-3")]
    info = build_bundle(tmp_path / "b.zip", subject_access(corrections=store), withhold=decisions)
    contents = members(info.path)
    assert not any(b"DISPUTED" in data or b"N-3" in data for data in contents.values())
    listed = json.loads(contents["corrections.json"])["corrections"]
    assert [c["record_key"] for c in listed] == ["N-1"]
    correction = [e for e in withheld_entries(contents) if e["what"] == "a correction request"]
    assert [(e["field"], e["count"], e["ground"]) for e in correction] == [
        (None, 1, PROTECTION_OF_INDIVIDUAL.id)
    ]


def test_a_correction_about_a_record_no_source_yields_is_judged_all_the_same(
    tmp_path: Path,
) -> None:
    store = MemoryCorrectionStore()
    corrected(store, 9, "notifier", "GONE", decline=True)
    info = build_bundle(tmp_path / "b.zip", subject_access(corrections=store))
    assert not any(b"GONE" in data for data in members(info.path).values())


def test_a_shown_correction_on_a_record_whose_key_is_withheld_does_not_show_the_key(
    tmp_path: Path,
) -> None:
    store = MemoryCorrectionStore()
    corrected(store, 2, "text", "KEPT", decline=True)
    decisions = [Withhold(CaseNote, PROTECTION_OF_INDIVIDUAL, key="N-2", field="note_id")]
    info = build_bundle(tmp_path / "b.zip", subject_access(corrections=store), withhold=decisions)
    contents = members(info.path)
    assert not any(b"N-2" in data for data in contents.values())
    (listed,) = json.loads(contents["corrections.json"])["corrections"]
    assert listed["record_key"] is None
    assert "KEPT-statement" in listed["statement_of_correction"]


# --- a field withheld on two grounds -------------------------------------------------------


def test_a_decision_on_a_field_withheld_at_declaration_adds_its_ground(tmp_path: Path) -> None:
    """Both grounds are stated: the declared one first, then the request's. A review that
    set one aside would still find the other; each value is counted once in the total."""
    decisions = [Withhold(CaseNote, PROTECTION_OF_INDIVIDUAL, field="notifier")]
    info = build_bundle(tmp_path / "b.zip", withhold=decisions)
    contents = members(info.path)
    entries = [e for e in withheld_entries(contents) if e["field"] == "notifier"]
    assert [(e["ground"], e["count"]) for e in entries] == [
        (ANOTHER_PERSONS_AFFAIRS.id, 3),
        (PROTECTION_OF_INDIVIDUAL.id, 3),
    ]
    assert info.withheld == 3
    records = json.loads(contents["records.json"])["record_types"]
    (notes,) = [t for t in records if t["type"] == "CaseNote"]
    for entry in notes["records"]:
        assert entry["withheld"]["notifier"] == [
            ANOTHER_PERSONS_AFFAIRS.id,
            PROTECTION_OF_INDIVIDUAL.id,
        ]
    cell = f"[withheld: {ANOTHER_PERSONS_AFFAIRS.cite()}; {PROTECTION_OF_INDIVIDUAL.cite()}]"
    assert cell in contents["records/CaseNote.csv"].decode("utf-8-sig")


def test_the_same_ground_declared_and_decided_is_stated_once(tmp_path: Path) -> None:
    decisions = [Withhold(CaseNote, ANOTHER_PERSONS_AFFAIRS, key="N-1", field="notifier")]
    info = build_bundle(tmp_path / "b.zip", withhold=decisions)
    contents = members(info.path)
    entries = [e for e in withheld_entries(contents) if e["field"] == "notifier"]
    assert [(e["ground"], e["count"]) for e in entries] == [(ANOTHER_PERSONS_AFFAIRS.id, 3)]
    assert info.withheld == 3


def test_a_record_withheld_by_two_decisions_states_both_grounds(tmp_path: Path) -> None:
    decisions = [
        Withhold(CaseNote, PROTECTION_OF_INDIVIDUAL, key="N-1"),
        Withhold(CaseNote, EVALUATIVE_MATERIAL, key="N-1"),
    ]
    info = build_bundle(tmp_path / "b.zip", withhold=decisions)
    whole = [e for e in withheld_entries(members(info.path)) if e["what"] == "a whole record"]
    assert sorted(e["ground"] for e in whole) == sorted(
        [PROTECTION_OF_INDIVIDUAL.id, EVALUATIVE_MATERIAL.id]
    )
    assert info.withheld == 1 + 2  # the record, and the notifier of the other two notes


# --- what a source or a value may not be ---------------------------------------------------


class _Log:
    def __init__(self, *entries: object) -> None:
        self.entries = entries

    def for_subject(self, subject: str) -> list[object]:
        return list(self.entries)


def test_a_disclosure_log_yielding_something_else_is_a_typed_error(tmp_path: Path) -> None:
    secret = {"recipient": f"value-of-{SUBJECT}"}
    access = subject_access(disclosures=_Log(secret))
    target = tmp_path / "b.zip"
    with pytest.raises(SubjectAccessError, match="_Log") as caught:
        build_bundle(target, access)
    message = str(caught.value)
    assert "dict" in message
    assert "DisclosureEntry" in message
    assert SUBJECT not in message
    assert "value-of" not in message
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


SERVICE = ServiceAgreement("Service")


@purposeful.record(subject="client_id", key="client_id")
class Tally:
    client_id: str
    count: int = purposeful.field(purposes={"service-delivery": SERVICE})
    extra: object = None


@pytest.mark.parametrize(
    ("field", "value"),
    [("count", 10**5000), ("extra", [1, {"x": -(10**4400)}])],
    ids=["an int", "nested"],
)
def test_a_value_too_large_to_write_is_a_typed_error_naming_type_and_field(
    tmp_path: Path, field: str, value: object
) -> None:
    record = Tally(SUBJECT, **{"count": 1, field: value})  # type: ignore[arg-type]
    target = tmp_path / "b.zip"
    with pytest.raises(SubjectAccessError, match=f"'{field}' field of a Tally record") as caught:
        build_bundle(target, subject_access(records_source(record)))
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None  # the cause may quote the value
    assert SUBJECT not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


# --- no public way to read a value without a decision --------------------------------------


def _public_modules() -> list[Any]:
    import purposeful.access as package

    found = [package]
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            found.append(importlib.import_module(f"purposeful.access.{module.name}"))
    return found


def test_no_public_name_of_the_access_package_reads_values_without_a_decision() -> None:
    from purposeful.access import _contents, _spool

    private = {_spool.TypeSpool, _contents.BundleContents}
    for module in _public_modules():
        for name, value in vars(module).items():
            if name.startswith("_") or inspect.ismodule(value):
                continue
            assert all(value is not it for it in private), (
                f"{module.__name__}.{name} reads values undecided"
            )
    assert not hasattr(importlib.import_module("purposeful.access.bundle"), "TypeSpool")


def test_the_documented_bundle_names_still_work() -> None:
    from purposeful.access import bundle

    for name in bundle.__all__:
        assert getattr(bundle, name) is not None
    assert bundle.neutralise("=1") == "'=1"
    assert isinstance(DisclosureEntry, type)
