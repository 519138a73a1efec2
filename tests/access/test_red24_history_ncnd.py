"""The access history says nothing of information under a neither-confirm-nor-deny answer
(s 47): a field of a type or field so answered is not listed as read, nor marked as read
where policy said it should not be, and a use that read only such information is not
shown, as a disclosure of it is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _bundles import (
    OTHER,
    PSEUDONYM_KEY,
    SUBJECT,
    CaseNote,
    build_bundle,
    members,
    note,
    records_source,
    subject_access,
)

from _audit_inputs import HandPart, HandScope, write_ledger
from purposeful.access import NeitherConfirmNorDeny
from purposeful.withholding import ANOTHER_PERSONS_AFFAIRS

MINE, THEIRS = PSEUDONYM_KEY.pseudonym(SUBJECT), PSEUDONYM_KEY.pseudonym(OTHER)


def _history(tmp_path: Path, read: set[str], answer: NeitherConfirmNorDeny) -> tuple[Any, str]:
    """A monitor-mode scope that read *read* of the person's, every field a would-deny."""
    scope = HandScope(
        "6d" * 12,
        (
            HandPart(
                {MINE: frozenset(read), THEIRS: frozenset({"Profile.iwi"})},
                refusals=tuple(("would-deny", field, 1) for field in sorted(read)),
            ),
        ),
        purpose="funder-reporting",
    )
    ledger = write_ledger(tmp_path / "audit.jsonl", [scope])
    access = subject_access(ledgers=[ledger], pseudonym_keys=PSEUDONYM_KEY)
    contents = members(build_bundle(tmp_path / "b.zip", access, answers=[answer]).path)
    return json.loads(contents["access-history.json"]), contents["index.html"].decode()


@pytest.mark.parametrize(
    "answer",
    [
        NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, "case notes"),
        NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, "case notes", field="text"),
    ],
)
def test_a_field_neither_confirmed_nor_denied_is_not_said_to_be_read(
    tmp_path: Path, answer: NeitherConfirmNorDeny
) -> None:
    document, page = _history(tmp_path, {"CaseNote.text", "Profile.preferred_name"}, answer)
    (use,) = document["accesses"]
    assert use["fields_read"] == ["Profile.preferred_name"]
    assert use["fields_would_deny"] == ["Profile.preferred_name"]
    assert "CaseNote" not in json.dumps(document)
    assert "Text (Case note)" not in page


def test_a_use_that_read_only_what_is_neither_confirmed_nor_denied_is_not_shown(
    tmp_path: Path,
) -> None:
    answer = NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, "case notes")
    document, page = _history(tmp_path, {"CaseNote.text"}, answer)
    assert document["accesses"] == []
    assert "Text (Case note)" not in page


@pytest.mark.xfail(
    strict=True,
    reason="the ledgers record which fields a use read of the person's, not of which record: "
    "a neither-confirm-nor-deny answer about one record cannot be told apart in the history",
)
def test_a_use_that_read_only_a_record_neither_confirmed_nor_denied_is_not_shown(
    tmp_path: Path,
) -> None:
    scope = HandScope("6e" * 12, (HandPart({MINE: frozenset({"CaseNote.text"})}),))
    ledger = write_ledger(tmp_path / "audit.jsonl", [scope])
    access = subject_access(records_source(note(1)), ledgers=[ledger], pseudonym_keys=PSEUDONYM_KEY)
    answer = NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, "a case note", key="N-1")
    contents = members(build_bundle(tmp_path / "b.zip", access, answers=[answer]).path)
    assert json.loads(contents["access-history.json"])["accesses"] == []
