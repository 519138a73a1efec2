"""Red team: a disclosure or a copy for the person logged before its own scope's audit
failed is handed back on the error (``AuditSinkError.result``); what the red team found
around it is kept here, each a test that failed before its fix."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import purposeful
from purposeful import DIRECTLY_RELATED_PURPOSE, SENSITIVE, Actor, ServiceAgreement, cli
from purposeful.access import AgencyDetails, PersonCopy, SubjectAccess, copy_for_person
from purposeful.errors import AuditSinkError, StoreError
from purposeful.sharing import Disclosed, MemorySharingStore, SharingAgreement
from purposeful.sharing.values import Disclosure

DELIVERY = ServiceAgreement("Service delivery agreement")
PERSON = "C-RED-HANDED-3310"
NAME = "Mere Tipene (red handed)"
CASEWORKER = Actor("staff-17", "caseworker", SENSITIVE)
AT = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


@purposeful.record(subject="client_id")
class RedHandedIntake:
    client_id: str
    name: str = purposeful.field(
        purposes={
            "service-delivery": DELIVERY,
            "service-delivery.referral": DIRECTLY_RELATED_PURPOSE,
        }
    )


REFERRALS = SharingAgreement(
    id="red-handed-referrals",
    name="Red handed referrals",
    parties=["Te Whare Āwhina", "Kāinga Ora"],
    purposes=["service-delivery.referral"],
    fields=["RedHandedIntake.name"],
    basis=DIRECTLY_RELATED_PURPOSE,
    # in force now, whenever the tests run: disclose discloses now
    starts=date.today() - timedelta(days=365),
    expires=date.today() + timedelta(days=3 * 365),
    review=date.today() + timedelta(days=365),
)
ACCESS = SubjectAccess(agency=AgencyDetails("Te Whare Āwhina", email="privacy@example.nz"))


class Down:
    """A sink whose collector is down; its message names the person, as a careless one would."""

    def emit(self, report: object) -> None:
        raise ConnectionError(f"collector down while sending {PERSON}")


class Interrupted:
    def emit(self, report: object) -> None:
        raise KeyboardInterrupt


def disclose() -> Disclosed:
    return purposeful.disclose(
        RedHandedIntake(PERSON, NAME), to="Kāinga Ora", under=REFERRALS, actor=CASEWORKER
    )


def copy(**changes: Any) -> PersonCopy:
    arguments: dict[str, Any] = {
        "reference": "INTAKE-RED-1",
        "records": [RedHandedIntake(PERSON, NAME)],
        "purpose": "service-delivery",
        "actor": CASEWORKER,
        "at": AT,
    }
    arguments.update(changes)
    return copy_for_person(ACCESS, PERSON, **arguments)


@pytest.mark.parametrize("make", [disclose, copy], ids=["disclose", "copy"])
def test_the_sinks_own_exception_keeps_no_frame(make: Any) -> None:
    """Fixed: the error handed back chained the scope's AuditSinkError, and behind it the
    sink's exception kept its traceback: the trail's frame, whose configuration reaches the
    stores and every raw subject id in them."""
    purposeful.configure(disclosure_log=MemorySharingStore(), sinks=[Down()])
    with pytest.raises(AuditSinkError) as raised:
        make()
    chain: list[BaseException] = []
    cause: BaseException | None = raised.value
    while cause is not None:
        chain.append(cause)
        cause = cause.__cause__
    assert [type(error) for error in chain] == [AuditSinkError, ConnectionError]
    assert chain[1].__traceback__ is None
    assert PERSON not in str(raised.value)
    assert NAME not in str(raised.value)


def test_the_notes_of_the_audit_failure_are_kept() -> None:
    failed = AuditSinkError("2 audit sink(s) failed")
    failed.add_note("purposeful: 1 more part(s) of the scope's report also failed")
    made = object()
    with (
        pytest.raises(AuditSinkError) as raised,
        purposeful._trail.handed_back("disclosure", ["d-1"], [made]),
    ):
        raise failed
    assert raised.value.__notes__ == failed.__notes__
    assert raised.value.result is made


class InterruptingKey:
    """A pseudonymiser that passes the configuration's probe, then is interrupted."""

    def __call__(self, subject: str) -> str:
        if subject == PERSON:
            raise KeyboardInterrupt
        return "k:probe"


@pytest.mark.parametrize("make", [disclose, copy], ids=["disclose", "copy"])
def test_an_interrupt_after_the_log_and_before_the_scope_closes_says_so_too(make: Any) -> None:
    """Fixed (a review's finding): an interrupt between the log write and the end of the
    scope's block (the pseudonym of the disclosure event) named no entry, or fewer than the
    log held."""
    log = MemorySharingStore()
    purposeful.configure(disclosure_log=log, sinks=[Down()], pseudonymise=InterruptingKey())
    with pytest.raises(KeyboardInterrupt) as raised:
        make()
    entries = [entry.id for entry in log.disclosures(PERSON)]
    assert entries
    notes = "\n".join(raised.value.__notes__)
    assert all(entry in notes for entry in entries)


@pytest.mark.parametrize("make", [disclose, copy], ids=["disclose", "copy"])
def test_an_interrupt_as_the_scope_closes_says_what_the_log_holds(make: Any) -> None:
    """Fixed: a sink interrupted (KeyboardInterrupt, SystemExit) after the log took the
    disclosure: the log held an entry nobody got, and the interrupt said nothing of it."""
    log = MemorySharingStore()
    purposeful.configure(disclosure_log=log, sinks=[Interrupted()])
    with pytest.raises(KeyboardInterrupt) as raised:
        make()
    [entry] = log.disclosures(PERSON)
    assert any(entry.id in note and "not handed over" in note for note in raised.value.__notes__)


class OwnLog:
    """A disclosure log of the agency's own, with no ``log_all``: its disk fills up."""

    def __init__(self) -> None:
        self.kept: list[Disclosure] = []

    def log(self, disclosure: Disclosure) -> Disclosure:
        if self.kept:
            raise StoreError("disk full")
        self.kept.append(disclosure)
        return disclosure

    def for_subject(self, subject: str) -> list[object]:
        return []


def test_a_log_of_your_own_that_fails_midway_says_which_entries_it_kept() -> None:
    """Fixed: entry by entry, the first of two entries stayed in the log and the error did
    not say so: the log said the person had a copy that was never made."""
    log = OwnLog()
    purposeful.configure(disclosure_log=log)
    two = [RedHandedIntake(PERSON, NAME), RedHandedIntake(PERSON, NAME)]
    with pytest.raises(StoreError) as raised:
        copy(records=two)
    [kept] = log.kept
    notes = "\n".join(raised.value.__notes__)
    assert kept.id in notes
    assert "1 of the copy's 2 entries" in notes


def test_copy_write_writes_the_copy_it_logged_and_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fixed: ``purposeful copy write`` with a failing sink logged the copy, wrote no page
    and told the user to hand over ``error.result``; run again, it logged a second one."""
    log = MemorySharingStore()
    purposeful.configure(disclosure_log=log, sinks=[Down()])
    access = SubjectAccess(agency=AgencyDetails("Te Whare Āwhina", email="privacy@example.nz"))
    access.register("intake", lambda subject: [RedHandedIntake(subject, NAME)])
    monkeypatch.setattr("purposeful.cli.copy._load_app", lambda spec: access)
    monkeypatch.setenv("RED_HANDED_SUBJECT", PERSON)
    out = tmp_path / "copy.html"
    argv = ["copy", "write", "app:access", "--reference", "INTAKE-RED-2"]
    argv += ["--subject-env", "RED_HANDED_SUBJECT", "--purpose", "service-delivery"]
    argv += ["--actor", "staff-17", "--role", "caseworker", "--clearance", "SENSITIVE"]
    assert cli.main([*argv, "--out", str(out)]) == 2
    [entry] = log.disclosures(PERSON)
    assert NAME in out.read_text(encoding="utf-8")
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert str(out) in line
    assert entry.id in line
    assert "ConnectionError" in line
    assert "error.result" not in line
    assert PERSON not in captured.out + captured.err
    assert NAME not in captured.out + captured.err
