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
from _audit_inputs import HandPart, HandScope, ledger_line, ledger_text, ledger_v1_line
from _records import CASE_MANAGEMENT, CASEWORKER, case
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


# --- the same answer as the report's -------------------------------------------------------

parts = st.builds(
    HandPart,
    reads=st.dictionaries(
        st.sampled_from(PSEUDONYMS), st.frozensets(st.sampled_from(FIELDS), max_size=2), max_size=3
    ),
    unlisted=st.sampled_from((0, 0, 0, 2)),
    after=st.integers(min_value=0, max_value=7200).map(lambda s: timedelta(seconds=s)),
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
            assert (
                access_history(query, halves) == build_report(ledgers=halves, subject=query).subject
            )
