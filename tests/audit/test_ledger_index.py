"""The verified index of a ledger: `verify_ledger(index=)` writes it, `access_history` with
the ledger's public key reads one person's lines through it, with the same answer as
reading every line; and an index that is missing, stale, damaged or for another ledger is
rebuilt, never trusted, while a ledger changed under it is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purposeful import SENSITIVE, Actor, Decision, Outcome, Purpose, ScopeReport
from purposeful.audit import Ledger, PseudonymKey
from purposeful.audit.history import SubjectQuery, access_history
from purposeful.audit.ledger import default_checkpoints_path, default_index_path, verify_ledger
from purposeful.errors import ConfigurationError, LedgerIndexError, LedgerUnverified

SIGNING = Ed25519PrivateKey.generate()
PUBLIC = SIGNING.public_key()
KEY = PseudonymKey.generate()
OLD_KEY = PseudonymKey.generate()
PEOPLE = tuple(f"client-{i}" for i in range(6))
RAW_ID = "client-raw-0099"  # written as a subject by a service without a pseudonymiser
WORK = Purpose("service-delivery", title="Work", description="Work", benefit="Work")
START = datetime(2026, 4, 1, tzinfo=UTC)


@st.composite
def scope_reports(draw: st.DrawFn) -> list[ScopeReport]:
    """Scope reports of every kind an answer must weigh: listing the person or not, capped,
    listing nobody, listing a raw id, written under an older key, in parts (some missing)."""
    reports = []
    for number in range(draw(st.integers(1, 25))):
        names = draw(st.lists(st.sampled_from(PEOPLE), max_size=3, unique=True))
        subjects = {
            (OLD_KEY if draw(st.integers(0, 9)) == 0 else KEY).pseudonym(name) for name in names
        }
        if draw(st.integers(0, 12)) == 0:
            subjects.add(RAW_ID)
        extra = draw(st.sampled_from([0, 0, 0, 1, 2]))
        part, final = draw(st.sampled_from([(0, True)] * 4 + [(0, False), (1, False), (1, True)]))
        scope = draw(st.sampled_from([f"{number:032x}", "a" * 32, "b" * 32]))
        field = draw(st.sampled_from(["name", "address", "health"]))
        actor = Actor(f"staff-{number % 3}", role="caseworker", clearance=SENSITIVE)
        decision = Decision(
            outcome=Outcome.ALLOWED,
            record_type="Client",
            field=field,
            purpose=WORK,
            actor=actor,
            sensitivity=SENSITIVE,
        )
        reports.append(
            ScopeReport(
                purpose=WORK,
                actor=actor,
                opened_at=START + timedelta(minutes=number),
                closed_at=START + timedelta(minutes=number, seconds=1),
                decisions=(decision,),
                subject_count=len(subjects) + extra,
                subjects=frozenset(subjects),
                scope_id=scope,
                part=part,
                final=final,
                reads={
                    subject: frozenset({f"Client.{field}"})
                    for subject in subjects
                    if draw(st.booleans())
                },
            )
        )
    return reports


def write(path: Path, reports: list[ScopeReport], every: int) -> None:
    with Ledger(path, signing_key=SIGNING, checkpoint_every=every, fsync="checkpoint") as ledger:
        for report in reports:
            ledger.emit(report)


def answers(paths: list[Path]) -> list[tuple[object, object]]:
    """Each person's answer read line by line, and through the index."""
    found = []
    for name in (*PEOPLE, RAW_ID):
        query = SubjectQuery.for_subject(name, [KEY, OLD_KEY])
        found.append(
            (access_history(query, paths), access_history(query, paths, public_key=PUBLIC))
        )
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scope_reports(), scope_reports(), st.integers(1, 6), st.booleans())
def test_every_persons_history_through_the_index_is_the_history_of_every_line(
    first: list[ScopeReport], second: list[ScopeReport], every: int, indexed_first: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        one, two = Path(folder) / "one.jsonl", Path(folder) / "two.jsonl"
        write(one, first, every)
        write(two, second, every)
        if indexed_first:
            assert verify_ledger(one, PUBLIC, index=default_index_path(one)).ok
        for plain, indexed in answers([one, two]):
            assert indexed == plain
        assert default_index_path(two).exists()


def ledger(folder: Path, count: int = 30, every: int = 5) -> Path:
    path = folder / "audit.jsonl"
    reports = []
    for number in range(count):
        names = (PEOPLE[number % 6], PEOPLE[(number + 1) % 6])
        subjects = frozenset(KEY.pseudonym(name) for name in names)
        reports.append(
            ScopeReport(
                purpose=WORK,
                actor=Actor("staff-1", role="caseworker", clearance=SENSITIVE),
                opened_at=START + timedelta(minutes=number),
                closed_at=START + timedelta(minutes=number, seconds=1),
                decisions=(),
                subject_count=2,
                subjects=subjects,
                scope_id=f"{number:032x}",
                reads=dict.fromkeys(subjects, frozenset({"Client.name"})),
            )
        )
    write(path, reports, every)
    return path


def query(name: str = PEOPLE[0]) -> SubjectQuery:
    return SubjectQuery.for_subject(name, [KEY])


def test_verify_writes_an_index_of_pseudonyms_only(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    raw = ScopeReport(
        purpose=WORK,
        actor=None,
        opened_at=START,
        closed_at=START,
        decisions=(),
        subject_count=2,
        subjects=frozenset({RAW_ID, KEY.pseudonym(PEOPLE[0])}),
    )
    write(path, [raw], 1)
    result = verify_ledger(path, PUBLIC, index=default_index_path(path))
    assert result.ok
    index = default_index_path(path).read_bytes()
    assert KEY.pseudonym(PEOPLE[0]).encode() in index
    assert RAW_ID.encode() not in index
    assert PEOPLE[0].encode() not in index
    header = json.loads(index.partition(b"\n")[0])
    assert header["format"] == "purposeful-ledger-index/2"
    assert header["seq"] == 1
    assert not default_index_path(tmp_path / "other.jsonl").exists()


def test_verify_writes_no_index_unless_asked_or_when_the_ledger_fails(tmp_path: Path) -> None:
    path = ledger(tmp_path)
    assert verify_ledger(path, PUBLIC).ok
    assert not default_index_path(path).exists()
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3] + lines[4:]))
    assert not verify_ledger(path, PUBLIC, index=default_index_path(path)).ok
    assert not default_index_path(path).exists()


def test_an_index_that_cannot_be_written_is_a_typed_error_with_the_verdict(
    tmp_path: Path,
) -> None:
    path = ledger(tmp_path)
    with pytest.raises(LedgerIndexError, match=r"ok: 31 lines verified.*could not be written"):
        verify_ledger(path, PUBLIC, index=tmp_path / "missing" / "audit.index")


def test_the_first_history_builds_the_index_and_the_next_reads_through_it(
    tmp_path: Path,
) -> None:
    path = ledger(tmp_path)
    plain = access_history(query(), [path])
    assert access_history(query(), [path], public_key=PUBLIC) == plain
    index = default_index_path(path)
    assert index.exists()
    before = index.read_bytes()
    assert access_history(query(), [path], public_key=PUBLIC) == plain
    assert index.read_bytes() == before  # read, not rebuilt
    assert len(plain.accesses) == 10


@pytest.mark.parametrize(
    "spoil",
    [
        lambda data: data[:-10],  # cut short
        lambda data: data.replace(b"purposeful-ledger-index/1", b"purposeful-ledger-index/9"),
        lambda data: data.replace(b"0000", b"0001", 1),  # the line table changed
        lambda data: b"not an index\n",
        lambda data: b"",
    ],
    ids=["cut", "another-version", "changed", "not-an-index", "empty"],
)
def test_a_damaged_index_is_rebuilt_never_trusted(tmp_path: Path, spoil: object) -> None:
    path = ledger(tmp_path)
    assert verify_ledger(path, PUBLIC, index=default_index_path(path)).ok
    good = default_index_path(path).read_bytes()
    default_index_path(path).write_bytes(spoil(good))  # type: ignore[operator]
    assert access_history(query(), [path], public_key=PUBLIC) == access_history(query(), [path])
    assert json.loads(default_index_path(path).read_bytes().partition(b"\n")[0]) == json.loads(
        good.partition(b"\n")[0]
    )


def test_a_forged_index_that_hides_a_person_is_caught_by_its_digest(tmp_path: Path) -> None:
    path = ledger(tmp_path)
    assert verify_ledger(path, PUBLIC, index=default_index_path(path)).ok
    index = default_index_path(path)
    data = index.read_bytes()
    name = KEY.pseudonym(PEOPLE[0]).encode()
    index.write_bytes(data.replace(name, name[:-1] + b"0" if name[-1:] != b"0" else b"1"))
    assert access_history(query(), [path], public_key=PUBLIC) == access_history(query(), [path])


def test_the_index_of_another_ledger_is_not_used(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = ledger(tmp_path / "a", count=30)
    two = ledger(tmp_path / "b", count=12)
    assert verify_ledger(two, PUBLIC, index=default_index_path(two)).ok
    shutil.copy(default_index_path(two), default_index_path(one))
    assert access_history(query(), [one], public_key=PUBLIC) == access_history(query(), [one])


def test_lines_after_the_indexed_checkpoint_are_verified_and_read(tmp_path: Path) -> None:
    path = ledger(tmp_path, count=10, every=5)
    assert verify_ledger(path, PUBLIC, index=default_index_path(path)).ok
    first = json.loads(default_index_path(path).read_bytes().partition(b"\n")[0])
    with Ledger(path, signing_key=SIGNING, checkpoint_every=5) as more:
        for number in range(7):
            more.emit(
                ScopeReport(
                    purpose=WORK,
                    actor=None,
                    opened_at=START + timedelta(days=1, minutes=number),
                    closed_at=START + timedelta(days=1, minutes=number),
                    decisions=(),
                    subject_count=1,
                    subjects=frozenset({KEY.pseudonym(PEOPLE[0])}),
                )
            )
    plain = access_history(query(), [path])
    assert access_history(query(), [path], public_key=PUBLIC) == plain
    later = json.loads(default_index_path(path).read_bytes().partition(b"\n")[0])
    assert later["seq"] > first["seq"]  # taken on to the newest checkpoint
    assert access_history(query(), [path], public_key=PUBLIC) == plain


@pytest.mark.parametrize("where", ["the persons line", "a later line", "the tail"])
def test_a_ledger_changed_under_its_index_is_refused(tmp_path: Path, where: str) -> None:
    path = ledger(tmp_path, count=30, every=5)
    assert verify_ledger(path, PUBLIC, index=default_index_path(path)).ok
    lines = path.read_bytes().splitlines(keepends=True)
    if where == "the persons line":  # the same length, read through the index
        at = 1
        lines[at] = lines[at].replace(b'"staff-1"', b'"staff-2"')
    elif where == "a later line":  # the checkpointed line itself
        lines[-1] = lines[-1].replace(b'"staff-1"', b'"staff-9"')
    else:  # deleted lines
        del lines[-3:]
    path.write_bytes(b"".join(lines))
    with pytest.raises(LedgerUnverified, match=r"audit\.jsonl:\d+: (edited|truncated)"):
        access_history(query(), [path], public_key=PUBLIC)


def test_a_ledger_without_checkpoints_is_refused_with_a_key(tmp_path: Path) -> None:
    path = ledger(tmp_path)
    default_checkpoints_path(path).unlink()
    with pytest.raises(LedgerUnverified, match="no-checkpoints"):
        access_history(query(), [path], public_key=PUBLIC)
    assert access_history(query(), [path]).accesses  # without a key, read as ever


def test_a_ledger_verified_with_another_key_is_refused(tmp_path: Path) -> None:
    path = ledger(tmp_path)
    other = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(LedgerUnverified, match="wrong-key"):
        access_history(query(), [path], public_key=other)


def test_a_history_goes_on_without_an_index_it_cannot_write(tmp_path: Path) -> None:
    path = ledger(tmp_path)
    default_index_path(path).mkdir()  # nothing can be written there
    assert access_history(query(), [path], public_key=PUBLIC) == access_history(query(), [path])


def test_the_public_key_must_be_one(tmp_path: Path) -> None:
    path = ledger(tmp_path)
    with pytest.raises(ConfigurationError, match="Ed25519PublicKey"):
        access_history(query(), [path], public_key="not a key")  # type: ignore[arg-type]


def test_audit_verify_writes_the_index_unless_told_not_to(tmp_path: Path) -> None:
    path = ledger(tmp_path)
    public = tmp_path / "public.pem"
    public.write_bytes(
        PUBLIC.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    command = [sys.executable, "-m", "purposeful", "audit", "verify", str(path)]
    run = subprocess.run(
        [*command, "--public-key", str(public), "--no-index"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert not default_index_path(path).exists()
    elsewhere = tmp_path / "kept" / "audit.index"
    elsewhere.parent.mkdir()
    for extra, written in (
        ([], default_index_path(path)),
        (["--index", str(elsewhere)], elsewhere),
    ):
        run = subprocess.run(
            [*command, "--public-key", str(public), *extra],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert written.exists()
