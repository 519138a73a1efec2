"""One person's access history (`access_history`): the same answer the report gives about
them, from the ledgers alone, without building the rest of the report."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from _audit_inputs import (
    PERSON_REASONS,
    REASON,
    HandPart,
    HandScope,
    ledger_line,
    ledger_text,
    ledger_v1_line,
)
from _records import CASE_MANAGEMENT, CASEWORKER, FakeConsent, case
from purposeful import use
from purposeful.audit import Ledger, PseudonymKey
from purposeful.audit.history import SubjectQuery, access_history
from purposeful.audit.report import build_report
from purposeful.errors import ReportInputError

KEY = PseudonymKey("feed0002", hashlib.sha256(b"purposeful tests: access history").digest())
OLD_KEY = PseudonymKey("feed0003", hashlib.sha256(b"purposeful tests: an older key").digest())
PEOPLE = ("client-A", "client-B", "client-C")
PSEUDONYMS = tuple(KEY.pseudonym(person) for person in PEOPLE)
FIELDS = ("Client.name", "Client.health_note", "Case.diagnosis")


def test_a_persons_history_lists_the_scopes_that_read_them_with_their_own_fields(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    with Ledger(path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        purposeful.configure(sinks=[ledger], pseudonymise=KEY.pseudonym)
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case(client_id="C-1").diagnosis
            other = case(client_id="C-2")
            _ = other.diagnosis, other.address
    answer = access_history(SubjectQuery.for_subject("C-1", [KEY]), [path])
    (access,) = answer.accesses
    assert (access.purpose, access.actor_id, access.actor_role) == (
        CASE_MANAGEMENT,
        CASEWORKER.id,
        CASEWORKER.role,
    )
    assert access.fields_read == ("Case.diagnosis",)
    assert answer.complete
    assert access_history(SubjectQuery.for_subject("C-3", [KEY]), [path]).accesses == ()


def test_a_missing_ledger_is_found_before_any_ledger_is_read(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("not a ledger line\n")
    missing = tmp_path / "missing.jsonl"
    with pytest.raises(ReportInputError) as caught:
        access_history(SubjectQuery.for_subject(PEOPLE[0], [KEY]), [damaged, missing])
    assert caught.value.path == missing


def test_a_damaged_ledger_line_is_an_input_error_naming_the_line(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("not a ledger line\n")
    with pytest.raises(ReportInputError) as caught:
        access_history(SubjectQuery.for_subject(PEOPLE[0], [KEY]), [damaged])
    assert (caught.value.path, caught.value.line) == (damaged, 1)


def test_the_access_history_loads_neither_the_report_builder_nor_its_renderers() -> None:
    script = (
        "import json, sys\n"
        "import purposeful.audit.history\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('purposeful.audit'))))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
        ).stdout
    )
    assert "purposeful.audit.report.reading" in loaded
    assert "purposeful.audit.report.building" not in loaded
    assert "purposeful.audit.report.rendering" not in loaded


# --- reads that enforce mode would have refused ----------------------------------------------


def answer_of(tmp_path: Path, scopes: list[HandScope], person: int = 0) -> tuple[object, ...]:
    """(fields read, fields marked would-deny) of each access of PEOPLE[*person*], from a
    ledger holding every part of *scopes*, checked to be the report's answer too."""
    path = tmp_path / "marks.jsonl"
    lines = [ledger_line(scope, n) for scope in scopes for n in range(len(scope.parts))]
    path.write_text(ledger_text(lines))
    query = SubjectQuery.for_subject(PEOPLE[person], [KEY])
    answer = access_history(query, [path])
    assert answer == build_report(ledgers=[path], subject=query).subject
    return tuple((access.fields_read, access.fields_would_deny) for access in answer.accesses)


A, B, C = PSEUDONYMS
NOTE, NAME = "Client.health_note", "Client.name"


def test_a_would_deny_in_one_part_marks_the_persons_read_of_the_field_in_a_later_part(
    tmp_path: Path,
) -> None:
    """A scope decides a field once: the purpose's would-deny, sent with the part that
    first read the field (B's), holds for A's read of it in the next part."""
    scope = HandScope(
        "a1" * 12,
        (
            HandPart({B: frozenset({NOTE})}, refusals=(("would-deny", NOTE, 1),)),
            HandPart({A: frozenset({NOTE, NAME})}),
        ),
    )
    assert answer_of(tmp_path, [scope]) == (((NOTE, NAME), (NOTE,)),)


def test_a_would_deny_on_a_field_the_person_was_not_read_for_marks_nothing(
    tmp_path: Path,
) -> None:
    scope = HandScope(
        "a2" * 12,
        (
            HandPart(
                {A: frozenset({NAME}), B: frozenset({NOTE})},
                refusals=(("would-deny", NOTE, 1),),
            ),
        ),
    )
    assert answer_of(tmp_path, [scope]) == (((NAME,), ()),)
    assert answer_of(tmp_path, [scope], person=1) == (((NOTE,), (NOTE,)),)


def test_a_field_denied_in_enforce_mode_is_never_a_read_nor_marked(tmp_path: Path) -> None:
    scope = HandScope(
        "a3" * 12,
        (HandPart({A: frozenset({NAME})}, refusals=(("denied", NOTE, 1),)),),
    )
    assert answer_of(tmp_path, [scope]) == (((NAME,), ()),)


def test_inputs_without_refusal_events_or_per_person_reads_mark_nothing(tmp_path: Path) -> None:
    """Older inputs: a format-1 line says whom but not which fields for whom; a span
    without its events (cut by the SDK's limits) says nothing of the decision."""
    scope = HandScope(
        "a4" * 12, (HandPart({A: frozenset({NOTE})}, refusals=(("would-deny", NOTE, 1),)),)
    )
    path = tmp_path / "v1.jsonl"
    path.write_text(ledger_text([ledger_v1_line(scope)], format=1))
    (access,) = access_history(SubjectQuery.for_subject(PEOPLE[0], [KEY]), [path]).accesses
    assert (access.fields_read, access.fields_known, access.fields_would_deny) == ((), False, ())
    line = ledger_line(scope, 0)
    line["decisions"] = []  # no decision kept: the read is there, the would-deny is not
    path.write_text(ledger_text([line]))
    (access,) = access_history(SubjectQuery.for_subject(PEOPLE[0], [KEY]), [path]).accesses
    assert (access.fields_read, access.fields_would_deny) == ((NOTE,), ())


@pytest.mark.parametrize(
    ("reads", "refused", "unlisted", "marked"),
    [
        ({A: {NOTE}}, 1, 0, True),  # one person read for it: the decision was theirs
        ({A: {NOTE}, B: {NOTE}}, 2, 0, True),  # everyone it lists reading it was refused
        ({A: {NOTE}, B: {NOTE}}, 1, 0, False),  # one of two: whose is not said
        ({A: {NOTE}, B: {NAME}}, 1, 0, True),  # B was not read for it
        ({A: {NOTE}}, 1, 2, False),  # people read but not listed may be the one refused
    ],
)
def test_a_would_deny_that_turned_on_the_person_marks_them_only_where_the_part_shows_it(
    tmp_path: Path, reads: dict[str, set[str]], refused: int, unlisted: int, marked: bool
) -> None:
    scope = HandScope(
        "a5" * 12,
        (
            HandPart(
                {who: frozenset(fields) for who, fields in reads.items()},
                unlisted=unlisted,
                refusals=(("would-deny", NOTE, refused),),
                reasons=PERSON_REASONS,
            ),
        ),
    )
    assert answer_of(tmp_path, [scope]) == (((NOTE,), (NOTE,) if marked else ()),)


def test_a_would_deny_that_turned_on_someone_in_an_earlier_part_does_not_mark_the_person(
    tmp_path: Path,
) -> None:
    """Consent is decided per person, and a part may go out between a read's decision
    and its note: the refusal in part 0 may be A's (read in part 1) or B's, so neither is
    marked."""
    scope = HandScope(
        "a6" * 12,
        (
            HandPart(
                {B: frozenset({NOTE})},
                refusals=(("would-deny", NOTE, 1),),
                reasons=PERSON_REASONS,
            ),
            HandPart({A: frozenset({NOTE})}),
        ),
    )
    assert answer_of(tmp_path, [scope]) == (((NOTE,), ()),)
    assert answer_of(tmp_path, [scope], person=1) == (((NOTE,), ()),)


def test_monitor_mode_scopes_written_in_parts_mark_what_enforce_would_refuse(
    tmp_path: Path,
) -> None:
    """End to end, through the ledger: a monitor-mode scope of three parts (one read a
    part) reads C-1's diagnosis, which funder reporting may not use, then C-2's; a scope
    reads case notes without consent for C-2 only."""
    path = tmp_path / "audit.jsonl"
    signing_key = Ed25519PrivateKey.generate()
    with Ledger(path, signing_key=signing_key) as ledger:
        purposeful.configure(
            sinks=[ledger],
            pseudonymise=KEY.pseudonym,
            mode=purposeful.Mode.MONITOR,
            flush_reads=1,
            consent=FakeConsent({("C-1", CASE_MANAGEMENT)}),
        )
        with use("funder-reporting", actor=CASEWORKER):
            _ = case(client_id="C-1").diagnosis
            _ = case(client_id="C-2").address
            _ = case(client_id="C-2").diagnosis
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case(client_id="C-2").case_notes
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case(client_id="C-1").case_notes
    marks = {}
    for person in ("C-1", "C-2"):
        query = SubjectQuery.for_subject(person, [KEY])
        answer = access_history(query, [path])
        # verified, through the index: the parts that do not name the person are read too
        assert access_history(query, [path], public_key=signing_key.public_key()) == answer
        marks[person] = [(a.purpose, a.fields_read, a.fields_would_deny) for a in answer.accesses]
    assert marks == {
        "C-1": [
            ("funder-reporting", ("Case.diagnosis",), ("Case.diagnosis",)),
            (CASE_MANAGEMENT, ("Case.case_notes",), ()),
        ],
        "C-2": [
            ("funder-reporting", ("Case.address", "Case.diagnosis"), ("Case.diagnosis",)),
            (CASE_MANAGEMENT, ("Case.case_notes",), ("Case.case_notes",)),
        ],
    }


# --- the same answer as the report's -------------------------------------------------------

refusals = st.lists(
    st.tuples(st.just("would-deny"), st.sampled_from(FIELDS), st.integers(1, 2)),
    max_size=2,
    unique_by=lambda refusal: refusal[1],
)
parts = st.builds(
    HandPart,
    reads=st.dictionaries(
        st.sampled_from(PSEUDONYMS), st.frozensets(st.sampled_from(FIELDS), max_size=2), max_size=3
    ),
    unlisted=st.sampled_from((0, 0, 0, 2)),
    after=st.integers(min_value=0, max_value=7200).map(lambda s: timedelta(seconds=s)),
    refusals=refusals.map(tuple),
    reasons=st.sampled_from([(REASON,), PERSON_REASONS]),
)
scopes = st.lists(
    st.tuples(
        st.lists(parts, min_size=1, max_size=3),
        st.sampled_from(("whole", "whole", "cut short", "a part lost", "format 1", "old key")),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60)
@given(written=scopes, seed=st.randoms(use_true_random=False))
def test_the_history_is_the_reports_answer_about_the_person(
    written: list[tuple[list[HandPart], str]], seed: random.Random
) -> None:
    lines = []
    for number, (scope_parts, how) in enumerate(written):
        scope = HandScope(f"{number:024x}", tuple(scope_parts), final=how != "cut short")
        if how == "format 1":
            lines.append(ledger_v1_line(scope))
            continue
        kept = range(len(scope_parts))
        if how == "a part lost" and len(scope_parts) > 1:
            kept = range(1, len(scope_parts))
        for n in kept:
            line = ledger_line(scope, n)
            if how == "old key":
                line["subjects"] = [OLD_KEY.pseudonym("someone") for _ in line["subjects"]]
            lines.append(line)
    seed.shuffle(lines)
    with tempfile.TemporaryDirectory() as folder:
        halves = [Path(folder) / "first.jsonl", Path(folder) / "second.jsonl"]
        halves[0].write_text(ledger_text(lines[: len(lines) // 2]))
        halves[1].write_text(ledger_text(lines[len(lines) // 2 :]))
        for person in PEOPLE:
            query = SubjectQuery.for_subject(person, [KEY])
            answer = access_history(query, halves)
            assert answer == build_report(ledgers=halves, subject=query).subject
            for access in answer.accesses:  # marks only what was read for the person
                assert set(access.fields_would_deny) <= set(access.fields_read)
