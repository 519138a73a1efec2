"""A would-deny that turned on the person is attributed from the whole scope, not a part.

A scope decides a read before it notes whose record it was, and a part can be sent in
between (the room for the next record's reads, or the flusher on another thread): a
person's consent decision then travels in one part and their read in the next. Counted
part by part, the decisions of one part could then be as many as the people it lists
reading the field while one of those people had consented, and the answer about that
person would say their information was used against policy.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, FakeConsent, case
from purposeful import use
from purposeful.audit import Ledger, PseudonymKey
from purposeful.audit.history import SubjectQuery, access_history
from purposeful.audit.report import ReportDatabase, build_report

KEY = PseudonymKey.generate()
NOTES = "Case.case_notes"


def monitored(path: Path, people: list[str], consented: set[str]) -> Ed25519PrivateKey:
    """A monitor-mode case-management scope reading each of *people*'s case notes, in
    parts of at most four reads, where only *consented* gave consent."""
    signing_key = Ed25519PrivateKey.generate()
    with Ledger(path, signing_key=signing_key) as ledger:
        purposeful.configure(
            sinks=[ledger],
            pseudonymise=KEY.pseudonym,
            mode=purposeful.Mode.MONITOR,
            flush_reads=5,
            consent=FakeConsent({(who, CASE_MANAGEMENT) for who in consented}),
        )
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            for who in people:
                _ = case(client_id=who).case_notes
    return signing_key


def marks(path: Path, signing_key: Ed25519PrivateKey, who: str) -> tuple[str, ...]:
    """The fields marked for *who*, the same from every reader of the ledger."""
    query = SubjectQuery.for_subject(who, [KEY])
    (access,) = access_history(query, [path]).accesses
    assert access.fields_read == (NOTES,)
    answers = [
        access_history(query, [path], public_key=signing_key.public_key()),
        build_report(ledgers=[path], subject=query).subject,
    ]
    with ReportDatabase.from_files(ledgers=[path]) as database:
        answers.append(database.report(subject=query).subject)
    for answer in answers:
        assert answer is not None
        assert answer.accesses[0].fields_would_deny == access.fields_would_deny
    return access.fields_would_deny


def test_a_person_who_consented_is_not_marked_by_a_decision_sent_ahead_of_its_read(
    tmp_path: Path,
) -> None:
    """C-2's refusal is decided before its read is noted, and goes out with C-1's and
    C-9's part: one of that part's two readers consented, and neither may be marked."""
    path = tmp_path / "audit.jsonl"
    signing_key = monitored(path, ["C-1", "C-9", "C-2"], consented={"C-9"})
    assert marks(path, signing_key, "C-9") == ()


def test_everyone_refused_across_parts_is_marked(tmp_path: Path) -> None:
    """Every person the scope read was refused: each is marked, whichever part carried
    their decision."""
    path = tmp_path / "audit.jsonl"
    people = ["C-1", "C-2", "C-3", "C-4"]
    signing_key = monitored(path, people, consented=set())
    for who in people:
        assert marks(path, signing_key, who) == (NOTES,)
