"""The bundle's access history (``access-history.json`` and its part of ``index.html``): each
use lists the fields read from the person's own records, never another person's; where the
audit records do not say, the bundle says so; and it says in plain words why the history
may be incomplete.

The ledgers are written by hand (`_audit_inputs`) in the ledger's formats 1 and 2, so these
tests hold the bundle to the format, not to what the writer does today.
"""

from __future__ import annotations

import html
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from _bundles import (
    AGENCY,
    CHECKED,
    OTHER,
    PSEUDONYM_KEY,
    PUBLIC_KEY,
    RECEIVED,
    SIGNING_KEY,
    SUBJECT,
    build_bundle,
    members,
    subject_access,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from _audit_inputs import (
    HandPart,
    HandScope,
    ledger_line,
    ledger_text,
    ledger_v1_line,
    write_ledger,
)
from _records import CASEWORKER, Case, Contact
from purposeful.access import AccessRequest, Wording, verify_bundle
from purposeful.access.page import Page, render_page
from purposeful.audit import Ledger
from purposeful.errors import ConfigurationError

MINE, THEIRS = PSEUDONYM_KEY.pseudonym(SUBJECT), PSEUDONYM_KEY.pseudonym(OTHER)
CASE_MANAGEMENT = "service-delivery.case-management"

#: One caseworker's scope: the person's case note, and someone else's health information.
SHARED = HandScope(
    "5c" * 12,
    (
        HandPart(
            {
                MINE: frozenset({"CaseNote.text"}),
                THEIRS: frozenset({"Profile.iwi", "CaseNote.text"}),
            }
        ),
    ),
)


def history(tmp_path: Path, ledger: Path) -> tuple[dict[str, Any], str]:
    """``access-history.json`` and ``index.html`` of a bundle built from *ledger*, which
    must verify."""
    access = subject_access(ledgers=[ledger], pseudonym_keys=PSEUDONYM_KEY)
    info = build_bundle(tmp_path / "bundle.zip", access)
    verify_bundle(info.path, PUBLIC_KEY)
    contents = members(info.path)
    return json.loads(contents["access-history.json"]), contents["index.html"].decode()


def ledger_of(tmp_path: Path, lines: list[dict[str, Any]], *, format: int = 2) -> Path:
    path = tmp_path / "audit.jsonl"
    path.write_text(ledger_text(lines, format=format), encoding="utf-8")
    return path


def test_each_use_lists_only_the_fields_read_from_the_persons_own_records(
    tmp_path: Path,
) -> None:
    document, page = history(tmp_path, write_ledger(tmp_path / "audit.jsonl", [SHARED]))
    assert document["complete"] is True
    assert document["incomplete_because"] == []
    (use,) = document["accesses"]
    assert use["fields_read"] == ["CaseNote.text"]
    assert (use["fields_known"], use["parts_missing"]) == (True, False)
    assert use["purpose"] == CASE_MANAGEMENT
    assert list(use) == [
        "opened", "closed", "purpose", "purpose_title", "role",
        "fields_read", "fields_known", "parts_missing", "fields_would_deny",
    ]  # fmt: skip
    assert use["fields_would_deny"] == []
    assert "<td>Text (Case note)</td>" in page
    assert "Profile.iwi" not in page
    assert "Profile.iwi" not in json.dumps(document)
    assert html.escape(Wording().access_incomplete) not in page


def test_a_field_read_in_monitor_mode_that_enforce_would_refuse_is_marked_in_the_bundle(
    tmp_path: Path,
) -> None:
    """A monitor-mode scope refused the case note for its purpose: the person's use of it
    is marked, in the JSON and on the page; the other person's field is not shown."""
    monitored = HandScope(
        "6d" * 12,
        (
            HandPart(
                {MINE: frozenset({"CaseNote.text"}), THEIRS: frozenset({"Profile.iwi"})},
                refusals=(("would-deny", "CaseNote.text", 1), ("would-deny", "Profile.iwi", 1)),
            ),
        ),
        purpose="funder-reporting",
    )
    document, page = history(tmp_path, write_ledger(tmp_path / "audit.jsonl", [monitored]))
    (use,) = document["accesses"]
    assert (use["fields_read"], use["fields_would_deny"]) == (["CaseNote.text"], ["CaseNote.text"])
    wording = Wording()
    assert f"<td>{html.escape(f'Text (Case note) {wording.access_would_deny}')}</td>" in page
    assert "Profile.iwi" not in page
    assert "Profile.iwi" not in json.dumps(document)


def test_a_would_deny_of_someone_elses_consent_does_not_mark_the_person(tmp_path: Path) -> None:
    """Two people's case notes read in one part, one would-deny for want of consent: the
    trail does not say whose, so neither is marked."""
    consent = HandScope(
        "7e" * 12,
        (
            HandPart(
                {MINE: frozenset({"CaseNote.text"}), THEIRS: frozenset({"CaseNote.text"})},
                refusals=(("would-deny", "CaseNote.text", 1),),
                reasons=("consent-not-held",),
            ),
        ),
    )
    document, page = history(tmp_path, write_ledger(tmp_path / "audit.jsonl", [consent]))
    (use,) = document["accesses"]
    assert (use["fields_read"], use["fields_would_deny"]) == (["CaseNote.text"], [])
    assert html.escape(Wording().access_would_deny) not in page


def test_older_ledger_lines_say_the_persons_fields_are_not_known(tmp_path: Path) -> None:
    ledger = ledger_of(tmp_path, [ledger_v1_line(SHARED)], format=1)
    document, page = history(tmp_path, ledger)
    (use,) = document["accesses"]
    assert (use["fields_read"], use["fields_known"]) == ([], False)
    assert document["complete"] is False
    assert document["incomplete_because"] == ["fields-not-per-person"]
    wording = Wording()
    # the use is there, and says its fields are not known: not the scope's list as theirs
    assert f"<td>{html.escape(wording.access_fields_unknown)}</td>" in page
    assert "Profile.iwi" not in page
    assert "Profile.iwi" not in json.dumps(document)
    assert html.escape(wording.access_incomplete) in page
    assert f"<li>{html.escape(wording.access_not_itemised)}</li>" in page


def test_a_session_cut_short_says_more_may_have_been_looked_at(tmp_path: Path) -> None:
    running = HandScope(SHARED.scope_id, SHARED.parts, final=False)
    document, page = history(tmp_path, ledger_of(tmp_path, [ledger_line(running, 0)]))
    (use,) = document["accesses"]
    assert (use["fields_read"], use["parts_missing"]) == (["CaseNote.text"], True)
    assert document["complete"] is False
    assert document["incomplete_because"] == ["parts-missing"]
    wording = Wording()
    assert html.escape(f"Text (Case note)\n{wording.access_more_possible}") in page
    assert f"<li>{html.escape(wording.access_cut_short)}</li>" in page


def test_a_session_cut_short_without_the_person_still_makes_the_history_incomplete(
    tmp_path: Path,
) -> None:
    others = HandScope("77" * 12, (HandPart({THEIRS: frozenset({"Profile.iwi"})}),), final=False)
    document, page = history(tmp_path, ledger_of(tmp_path, [ledger_line(others, 0)]))
    assert document["accesses"] == []
    assert (document["complete"], document["incomplete_because"]) == (False, ["parts-missing"])
    assert html.escape(Wording().access_cut_short) in page


def test_each_reason_is_said_once_in_plain_words(tmp_path: Path) -> None:
    nobody_listed = HandScope("11" * 12, (HandPart(unlisted=2),))
    capped = HandScope("22" * 12, (HandPart({THEIRS: frozenset({"Profile.iwi"})}, unlisted=4),))
    before_subjects = ledger_v1_line(SHARED)
    for key in ("subjects", "subjects_count", "subjects_overflow"):
        del before_subjects[key]
    lines = [ledger_line(nobody_listed, 0), ledger_line(capped, 0), before_subjects]
    document, page = history(tmp_path, ledger_of(tmp_path, lines))
    assert document["incomplete_because"] == [
        "subjects-not-recorded", "subjects-not-listed", "subjects-capped",
    ]  # fmt: skip
    wording = Wording()
    # two reasons share one sentence: it is said once
    assert page.count(html.escape(wording.access_not_listed)) == 1
    assert html.escape(wording.access_partly_listed) in page


def test_the_reasons_can_be_reworded_and_an_unknown_one_is_an_error() -> None:
    wording = Wording(access_cut_short="Kua motu ētahi pūkete.")
    assert wording.access_gap("parts-missing") == "Kua motu ētahi pūkete."
    with pytest.raises(ConfigurationError, match="unknown reason 'lost' for an incomplete"):
        wording.access_gap("lost")


def test_a_page_made_without_reasons_says_only_the_lead_sentence() -> None:
    fields = dict.fromkeys(("consents", "disclosures", "corrections", "withheld"))
    page = render_page(
        Page(
            agency=AGENCY,
            wording=Wording(),
            request_id="R-1",
            received=RECEIVED,
            due=RECEIVED,
            holdings=[],
            access=None,
            access_complete=False,
            files=[],
            **fields,
        )
    )
    assert html.escape(Wording().access_incomplete) in page
    assert "<li>" not in page


# --- end to end: real scopes, a real ledger, a bundle per person ------------------------------

PEOPLE = (SUBJECT, OTHER, "client-9Z6W-private")


@settings(max_examples=25, deadline=None)
@given(
    reads=st.lists(
        st.tuples(
            st.sampled_from(PEOPLE),
            st.sampled_from(["Case", "Contact"]),
            st.sampled_from([0, 1]),
        ),
        max_size=20,
    ),
    flush_reads=st.integers(1, 8),
)
def test_a_bundle_lists_exactly_the_fields_scopes_read_from_the_persons_records(
    reads: list[tuple[str, str, int]], flush_reads: int
) -> None:
    """Scopes read random fields of random people's records; each person's bundle lists
    exactly the fields read from their own records, joined over the scopes' parts."""
    fields = {"Case": ("diagnosis", "address"), "Contact": ("phone", "email")}
    truth: dict[str, set[str]] = {person: set() for person in PEOPLE}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.jsonl"
        with (
            Ledger(path, signing_key=SIGNING_KEY) as ledger,
            purposeful.configured(
                sinks=[ledger], pseudonymise=PSEUDONYM_KEY.pseudonym, flush_reads=flush_reads
            ),
            purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER),
        ):
            records = {
                (person, kind): Case(person, "d", "a", "n")
                if kind == "Case"
                else Contact(person, "021", "a@b")
                for person in PEOPLE
                for kind in ("Case", "Contact")
            }
            for person, kind, which in reads:
                name = fields[kind][which]
                getattr(records[(person, kind)], name)
                truth[person].add(f"{kind}.{name}")
        for number, person in enumerate(PEOPLE):
            access = subject_access(ledgers=[path], pseudonym_keys=PSEUDONYM_KEY)
            request = AccessRequest(f"SAR-{number}", person, RECEIVED, **CHECKED)
            info = build_bundle(Path(folder) / f"bundle-{number}.zip", access, request=request)
            document = json.loads(members(info.path)["access-history.json"])
            listed = {field for use in document["accesses"] for field in use["fields_read"]}
            assert listed == truth[person]
            assert len(document["accesses"]) == (1 if truth[person] else 0)
            assert document["complete"] is True
