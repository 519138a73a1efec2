"""Red team: a key's pseudonyms made for everyone of a part at once, and a subject-access
release recorded before the bundle takes its name.

1. `purposeful._trail` pseudonymises a part's people all at once when the pseudonymiser is
   a `PseudonymKey`'s own method (and gives everyone who read every field one set of
   names). The reports, spans and ledger lines it makes must say, per person, exactly what
   the person-by-person path says (a plain ``lambda s: key.pseudonym(s)`` takes that path)
   and what was read: many records of a person, two record classes, small parts, people
   only asked about, int ids, str subclasses, empty ids, a key subclass, a key without a
   cache, a cache cleared mid-scope, threads and asyncio tasks in one scope. And no raw
   subject id may be left in a traceback's frames when the pseudonymiser or a sink raises
   or is interrupted.
2. `SubjectAccess.build` records a release once the bundle is whole on disk under a
   temporary name, then puts it in place. Whatever the sink does (fails, raises a
   `BaseException`, writes at the target path), with or without encryption and overwrite,
   through a symlink, the folder holds either the old file untouched or a whole new
   bundle, no temporary file, and a recorded release is a bundle on disk or an error
   saying there is none.

Findings (each kept as the test that found it):

- an interrupt (``KeyboardInterrupt``) inside the pseudonymiser while a scope reports left
  the raw subject id in the traceback: the frame of the key's HMAC (or of the user's own
  pseudonymiser) still held it; fixed in `_trail._pseudonymise`, which clears the locals
  of the frames below it before the interrupt goes on;
- the same where a scope turns a subject that is not exactly a str into its text (at its
  close, or for a part): the comprehension gathering the notes, `_text_of` and
  `_subject_text` kept the raw id; fixed in `Scope._take` and `Scope._gather`;
- a sink interrupted while it took a release's record (after another sink had taken it)
  left the trail holding a release with no bundle, and the interrupt said nothing of it;
  fixed in `SubjectAccess.build`, which adds a note saying no bundle took the name, and in
  the command line, whose one line on an interrupt now carries the note;
- a link to nothing at the path (without ``overwrite``) was said to have "appeared while
  the bundle was being built"; fixed in `check_target`: refused up front as a file there;
- ``overwrite=True`` at the path of the configured ledger (or its checkpoints) replaced
  the whole audit trail with the bundle, the release's record with it; fixed in
  `SubjectAccess.build` (`check_not_trail`): refused up front, nothing written;
- a process killed while a sink takes the release's record leaves the whole signed bundle
  under a hidden temporary name, which the documentation said is never the bundle; the
  documentation now says what such a leftover may be.

Held: the key's own method and a plain pseudonymiser say the same, true, thing per person
(a property over people x classes x fields x orders x part sizes x key kinds), with threads
and tasks, in monitor windows; a subject cannot change between reads; no raw id in a sink's
report, a repr, a log line or a message; every bundle outcome across sink behaviours x
encryption x overwrite x what was at the path; two builds racing for one name; a build
inside an open scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import purposeful
from _records import CASEWORKER, SERVICE_AGREEMENT, RecordingSink
from purposeful import ScopeReport, use
from purposeful.access import AccessRequest, AgencyDetails, Check, Requester, SubjectAccess
from purposeful.audit import Ledger, PseudonymKey, SpanSink
from purposeful.errors import AuditSinkError, SubjectAccessError

KEY = PseudonymKey("0ed30a11", hashlib.sha256(b"red trail release key").digest())
SIGNING = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"red trail signing").digest())
SECRET_ID = "client-rtr-zq81x"  # a raw subject id no frame, message or repr may hold


@purposeful.record(subject="client_id")
class RtrClient:
    client_id: object
    phone: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})
    email: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})
    address: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})


@purposeful.record(subject="client_id")
class RtrVisit:
    client_id: object
    phone: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})
    note: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})


CLASSES: dict[str, tuple[type, tuple[str, ...]]] = {
    "RtrClient": (RtrClient, ("phone", "email", "address")),
    "RtrVisit": (RtrVisit, ("phone", "note")),
}


class Sid(str):
    """A subject id of a str subclass, as an ORM's own id type may be."""


class SubKey(PseudonymKey):
    """A key subclass that keeps the key's own method."""


class OwnKey(PseudonymKey):
    """A key subclass with a method of its own (the same pseudonyms)."""

    def pseudonym(self, subject: str) -> str:
        return super().pseudonym(subject)


def _key(kind: str) -> PseudonymKey:
    if kind == "nocache":
        return PseudonymKey(KEY.key_id, KEY.secret, cache_size=0)
    if kind == "subclass":
        return SubKey(KEY.key_id, KEY.secret)
    if kind == "own-method":
        return OwnKey(KEY.key_id, KEY.secret)
    return PseudonymKey(KEY.key_id, KEY.secret)


#: the ids a record may carry: text, the same text as an int or a str subclass, another
#: case, empty
IDS: tuple[object, ...] = ("P-1", "P-2", "P-3", "", 7, "7", Sid("P-1"), Sid("P-4"), "p-1")


def per_person(reports: Iterable[ScopeReport]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for report in reports:
        assert set(report.reads) == set(report.subjects)
        assert report.subject_count >= len(report.subjects)
        for pseudonym, fields in report.reads.items():
            assert fields <= report.fields_read
            found[pseudonym] |= fields
    return dict(found)


def from_spans(exporter: InMemorySpanExporter) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for span in exporter.get_finished_spans():
        attributes = dict(span.attributes or {})
        fields: Any = attributes["purposeful.fields_read"]
        people = str(attributes["purposeful.subjects"]).split(" ")
        items = str(attributes["purposeful.subjects.fields"]).split(",")
        if people == [""]:
            people, items = [], []
        for pseudonym, positions in zip(people, items, strict=True):
            found[pseudonym] |= {fields[int(i)] for i in str(positions).split()}
    return dict(found)


def from_ledger(path: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for line in path.read_text().splitlines():
        document = json.loads(line)
        if document["type"] != "scope":
            continue
        for pseudonym, positions in zip(document["subjects"], document["reads"], strict=True):
            found[pseudonym] |= {document["fields"][i] for i in positions}
    return dict(found)


# --- 1. what a report says per person -------------------------------------------------------

#: (which id, which class, which field, what to do): read a field, ask about the person
#: (`may_use(..., subject=)`), or clear the key's cache
steps = st.lists(
    st.tuples(
        st.integers(0, len(IDS) - 1),
        st.sampled_from(sorted(CLASSES)),
        st.integers(0, 5),
        st.sampled_from(["read", "read", "read", "ask", "clear"]),
    ),
    max_size=30,
)


def _session(
    tmp: Path,
    pseudonymise: Callable[[str], str],
    key: PseudonymKey,
    plan: list[tuple[int, str, int, str]],
    flush_reads: int,
    fresh_records: bool,
) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, set[str]], list[int]]:
    """Run *plan* in one scope; what the reports, the spans and the ledger say per person,
    and the reports' subject counts."""
    recording = RecordingSink()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    ledger_file = tmp / f"audit-{len(list(tmp.iterdir()))}.jsonl"
    ledger = Ledger(ledger_file, signing_key=SIGNING)
    records: dict[tuple[int, str], object] = {}
    with (
        purposeful.configured(
            sinks=[recording, SpanSink(provider), ledger],
            pseudonymise=pseudonymise,
            flush_reads=flush_reads,
        ),
        use("service-delivery", actor=CASEWORKER),
    ):
        for which, kind, field, action in plan:
            cls, names = CLASSES[kind]
            subject = IDS[which]
            if action == "clear":
                key.clear_cache()
            elif action == "ask":
                purposeful.may_use(cls, names[field % len(names)], subject=str(subject))
            else:
                if fresh_records:
                    record = cls(subject, *["v"] * len(names))
                else:
                    record = records.setdefault((which, kind), cls(subject, *["v"] * len(names)))
                getattr(record, names[field % len(names)])
    ledger.close()
    counts = [report.subject_count for report in recording.reports]
    return per_person(recording.reports), from_spans(exporter), from_ledger(ledger_file), counts


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=steps,
    flush_reads=st.integers(1, 8),
    key_kind=st.sampled_from(["plain", "nocache", "subclass", "own-method"]),
    fresh_records=st.booleans(),
)
def test_a_keys_own_method_and_a_plain_pseudonymiser_say_the_same_true_thing(
    tmp_path_factory: pytest.TempPathFactory,
    plan: list[tuple[int, str, int, str]],
    flush_reads: int,
    key_kind: str,
    fresh_records: bool,
) -> None:
    """People x two record classes x fields x read orders x part sizes x key kinds: the
    reports, the spans and the ledger say, per person, exactly the fields read from their
    records, the same with the key's own method (everyone at once) as with a lambda
    (person by person); a person only asked about is listed with nothing read."""
    key = _key(key_kind)
    expected: dict[str, set[str]] = defaultdict(set)
    for which, kind, field, action in plan:
        text = str(IDS[which])
        if not text or action == "clear":
            continue
        _, names = CLASSES[kind]
        fields = expected[KEY.pseudonym(text)]
        if action == "read":
            fields.add(f"{kind}.{names[field % len(names)]}")
    tmp = tmp_path_factory.mktemp("ledgers")
    keyed = _session(tmp, key.pseudonym, key, plan, flush_reads, fresh_records)
    plain = _session(tmp, lambda s: key.pseudonym(s), key, plan, flush_reads, fresh_records)
    assert keyed == plain
    reports, spans, ledger, _ = keyed
    assert reports == dict(expected)
    assert spans == dict(expected)
    assert ledger == dict(expected)


def test_everyone_reading_every_field_and_one_reading_fewer(sink: RecordingSink) -> None:
    """The shortcut: everyone with as many fields as were read in the part shares one set
    of names. One person who read as many fields, but of another class, must not get the
    names of the fields they did not read."""
    purposeful.configure(pseudonymise=KEY.pseudonym)
    with use("service-delivery", actor=CASEWORKER):
        a, b = RtrClient("A-1", "p", "e", "x"), RtrClient("B-2", "p", "e", "x")
        _ = a.phone, a.email, b.phone, b.email
        visit = RtrVisit("C-3", "p", "n")
        _ = visit.phone, visit.note  # two fields, as many as A and B, none of theirs
    (report,) = sink.reports
    assert report.reads == {
        KEY.pseudonym("A-1"): {"RtrClient.phone", "RtrClient.email"},
        KEY.pseudonym("B-2"): {"RtrClient.phone", "RtrClient.email"},
        KEY.pseudonym("C-3"): {"RtrVisit.phone", "RtrVisit.note"},
    }
    assert report.subject_counts == {"RtrClient": 2, "RtrVisit": 1}


def test_an_int_id_and_its_text_are_one_person_and_an_empty_id_nobody(
    sink: RecordingSink,
) -> None:
    purposeful.configure(pseudonymise=KEY.pseudonym)
    with use("service-delivery", actor=CASEWORKER):
        _ = RtrClient(7, "p", "e", "x").phone
        _ = RtrClient("7", "p", "e", "x").email
        _ = RtrClient(Sid("7"), "p", "e", "x").address
        _ = RtrClient("", "p", "e", "x").address
    (report,) = sink.reports
    assert report.reads == {
        KEY.pseudonym("7"): {"RtrClient.phone", "RtrClient.email", "RtrClient.address"}
    }
    assert report.subject_count == 1


def test_a_records_subject_cannot_change_between_reads(sink: RecordingSink) -> None:
    """Held: a read cannot be put on another person's history by changing the record's
    subject between reads; the change is refused."""
    purposeful.configure(pseudonymise=KEY.pseudonym)
    record = RtrClient("A-1", "p", "e", "x")
    with use("service-delivery", actor=CASEWORKER):
        _ = record.phone
        with pytest.raises(purposeful.PurposefulError):
            record.client_id = "B-2"
        _ = record.email
    assert per_person(sink.reports) == {
        KEY.pseudonym("A-1"): {"RtrClient.phone", "RtrClient.email"}
    }


@pytest.mark.parametrize("flush_reads", [1, 3, 1000])
@pytest.mark.parametrize("key_kind", ["plain", "nocache"])
def test_threads_and_tasks_reading_in_one_scope_are_each_on_their_person(
    sink: RecordingSink, flush_reads: int, key_kind: str
) -> None:
    key = _key(key_kind)
    purposeful.configure(pseudonymise=key.pseudonym, flush_reads=flush_reads)
    people = [f"T-{n}" for n in range(12)]
    expected = {
        KEY.pseudonym(p): {"RtrClient.phone", "RtrClient.email"} if n % 2 else {"RtrClient.phone"}
        for n, p in enumerate(people)
    }

    def read(n: int, subject: str) -> None:
        record = RtrClient(subject, "p", "e", "x")
        _ = record.phone
        if n % 2:
            key.clear_cache()
            _ = record.email

    with use("service-delivery", actor=CASEWORKER):
        workers = [
            threading.Thread(target=purposeful.carry_scope(read), args=(n, p))
            for n, p in enumerate(people)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert per_person(sink.reports) == expected
    sink.reports.clear()

    async def read_async(n: int, subject: str) -> None:
        await asyncio.sleep(0)
        read(n, subject)

    async def main() -> None:
        async with use("service-delivery", actor=CASEWORKER):
            await asyncio.gather(*(read_async(n, p) for n, p in enumerate(people)))

    asyncio.run(main())
    assert per_person(sink.reports) == expected


# --- 1b. no raw id in a traceback's frames ----------------------------------------------------


def _frames(error: BaseException) -> Iterator[FrameType]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb: TracebackType | None = current.__traceback__
        while tb is not None:
            yield tb.tb_frame
            tb = tb.tb_next
        todo += [current.__cause__, current.__context__]


def _holding(error: BaseException, secret: str) -> list[str]:
    """The frames of the library (and of lambdas) in *error*'s tracebacks that hold
    *secret* in a local: as text, or inside a container."""
    found = []
    for frame in _frames(error):
        if frame.f_code.co_filename == __file__ and frame.f_code.co_name != "<lambda>":
            continue
        for name, value in list(frame.f_locals.items()):
            text = value if isinstance(value, str) else None
            if isinstance(value, list | tuple | set | frozenset | dict):
                text = repr(value)
            if text is not None and secret in text:
                found.append(f"{frame.f_code.co_name}:{name}")
    return found


def _called_from(frame: FrameType | None, name: str) -> bool:
    while frame is not None:
        if frame.f_code.co_name == name:
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def _interrupt_on_call(names: set[str], within: str = "") -> Iterator[list[bool]]:
    """Raise KeyboardInterrupt on the first call of a Python function named in *names*
    (called from *within*, if given) once armed, as a signal landing there would."""
    armed = [False]

    def profile(frame: FrameType, event: str, _: object) -> None:
        if (
            armed[0]
            and event == "call"
            and frame.f_code.co_name in names
            and (not within or _called_from(frame, within))
        ):
            armed[0] = False
            raise KeyboardInterrupt

    sys.setprofile(profile)
    try:
        yield armed
    finally:
        sys.setprofile(None)


@pytest.mark.parametrize("how", ["keyed", "lambda"])
def test_an_interrupted_pseudonymiser_leaves_no_raw_id_in_the_traceback(
    sink: RecordingSink, how: str
) -> None:
    """Finding (fixed): the frame the interrupt landed in (the key's HMAC, or the user's
    own pseudonymiser) kept the raw id, reachable from the traceback."""
    key = _key("nocache")
    purposeful.configure(
        pseudonymise=key.pseudonym if how == "keyed" else lambda s: key.pseudonym(s)
    )

    def session() -> None:
        with _interrupt_on_call({"compute"}) as armed, use("service-delivery", actor=CASEWORKER):
            _ = RtrClient(SECRET_ID, "p", "e", "x").phone
            _ = RtrClient("other-person", "p", "e", "x").phone
            armed[0] = True

    with pytest.raises(KeyboardInterrupt) as raised:
        session()
    assert _holding(raised.value, SECRET_ID) == []


@pytest.mark.parametrize("failure", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("how", ["keyed", "lambda"])
def test_a_sink_that_raises_sees_and_leaves_no_raw_id(
    how: str, failure: type[BaseException]
) -> None:
    class Raising:
        def emit(self, report: ScopeReport) -> None:
            assert SECRET_ID not in repr(report)
            raise failure("down")

    purposeful.configure(
        sinks=[Raising()],
        pseudonymise=KEY.pseudonym if how == "keyed" else lambda s: KEY.pseudonym(s),
    )
    expected = AuditSinkError if failure is RuntimeError else KeyboardInterrupt
    with pytest.raises(expected) as raised, use("service-delivery", actor=CASEWORKER):
        _ = RtrClient(SECRET_ID, "p", "e", "x").phone
    assert _holding(raised.value, SECRET_ID) == []
    assert SECRET_ID not in str(raised.value)


def test_a_failing_pseudonymiser_is_logged_without_the_id(
    sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(subject: str) -> str:
        if subject == SECRET_ID:
            raise ValueError(f"cannot pseudonymise {subject}")
        return KEY.pseudonym(subject)

    purposeful.configure(pseudonymise=failing)
    with pytest.raises(AuditSinkError) as raised, use("service-delivery", actor=CASEWORKER):
        _ = RtrClient(SECRET_ID, "p", "e", "x").phone
    assert SECRET_ID not in str(raised.value)
    assert _holding(raised.value, SECRET_ID) == []
    assert SECRET_ID not in repr(sink.reports)
    assert SECRET_ID not in caplog.text


# --- 2. a subject-access release: recorded, then in place ---------------------------------


@purposeful.record(subject="client_id", key="visit_id")
class RtrSarVisit:
    client_id: str
    visit_id: str
    note: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})


REQUEST_ID = "SAR-RTR-0042"
CREATED = datetime(2026, 3, 20, tzinfo=UTC)
CHECKED: dict[str, Any] = {
    "requester": Requester.person(),
    "identity": Check(by="staff-7", how="photo-id-sighted"),
    "no_threat": Check(by="staff-7", how="asked-in-private"),
    "delivery": Check(by="staff-7", how="encrypted-to-requester-key"),
}
#: what a sink that took a release's record but found no bundle may read in the error
NO_BUNDLE = ("no bundle was written", "had recorded its release", "did not take the name")


def _access() -> SubjectAccess:
    found = SubjectAccess(
        agency=AgencyDetails(name="Kōwhai Support Trust", email="privacy@kowhai.example.nz"),
        pseudonym_keys=KEY,
    )

    def visits(subject: str) -> Iterator[object]:
        yield RtrSarVisit(subject, "V-1", "came in for a food parcel")
        yield RtrSarVisit(subject, "V-2", "asked about a budgeting course")

    found.register("visits", visits)
    return found


def _request() -> AccessRequest:
    return AccessRequest(REQUEST_ID, SECRET_ID, date(2026, 3, 2), **CHECKED)


class Released:
    """A sink that takes every report and keeps the releases recorded."""

    def __init__(self) -> None:
        self.releases: list[dict[str, object]] = []

    def emit(self, report: ScopeReport) -> None:
        assert SECRET_ID not in repr(report)
        self.releases += [
            dict(d) for d in report.disclosures if d.get("purposeful.disclosure.request")
        ]


class Behaving:
    """A second sink that does *what* when it is handed a release's record."""

    def __init__(self, what: str, target: Path) -> None:
        self.what, self.target = what, target

    def emit(self, report: ScopeReport) -> None:
        if not report.disclosures:
            return
        if self.what == "fails":
            raise OSError("the collector is down")
        if self.what == "interrupt":
            raise KeyboardInterrupt
        if self.what == "exits":
            raise SystemExit(3)
        if self.what == "writes":  # someone else's file takes the name meanwhile
            self.target.unlink(missing_ok=True)
            self.target.write_bytes(b"someone else's file")
        if self.what == "removes":
            self.target.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def recipient(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object]:
    from purposeful.access import (
        generate_recipient_keys,
        load_recipient_private_key,
        load_recipient_public_key,
    )

    private, public = generate_recipient_keys(tmp_path_factory.mktemp("recipient"))
    return load_recipient_public_key(public), load_recipient_private_key(private)


def _said(error: BaseException | None) -> str:
    if error is None:
        return ""
    return " ".join([str(error), *getattr(error, "__notes__", [])])


@pytest.mark.parametrize("old", ["none", "file", "symlink", "dangling"])
@pytest.mark.parametrize("overwrite", [False, True], ids=["keep", "overwrite"])
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
@pytest.mark.parametrize("what", ["takes", "fails", "interrupt", "exits", "writes", "removes"])
def test_a_release_is_a_whole_bundle_in_place_or_an_error_saying_there_is_none(
    tmp_path: Path,
    recipient: tuple[object, object],
    what: str,
    encrypted: bool,
    overwrite: bool,
    old: str,
) -> None:
    """Whatever the sink does while it takes the release's record, the folder holds the
    old file (or link) untouched, someone else's file, or a whole new bundle; never a
    temporary file; a recorded release is a bundle in place, or an error (or an interrupt's
    note) saying none took its name; no message holds the subject id."""
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "bundle.zip"
    elsewhere = tmp_path / "kept.zip"
    elsewhere.write_bytes(b"the file a link points at")
    if old == "file":
        target.write_bytes(b"the old bundle")
    elif old == "symlink":
        target.symlink_to(elsewhere)
    elif old == "dangling":
        target.symlink_to(tmp_path / "nothing-here.zip")
    before = (
        (os.readlink(target) if target.is_symlink() else target.read_bytes())
        if (old != "none")
        else None
    )
    released = Released()
    purposeful.configure(sinks=[released, Behaving(what, target)], pseudonymise=KEY.pseudonym)
    public, private = recipient
    extra: dict[str, Any] = {"encrypt_to": public} if encrypted else {}
    info = None
    error: BaseException | None = None
    try:
        info = _access().build(
            _request(), target, signing_key=SIGNING, created=CREATED, overwrite=overwrite, **extra
        )
    except (Exception, KeyboardInterrupt, SystemExit) as raised:
        error = raised
    # never a temporary file, whatever happened
    assert sorted(p.name for p in folder.iterdir()) in ([], ["bundle.zip"])
    assert elsewhere.read_bytes() == b"the file a link points at"
    assert SECRET_ID not in _said(error)
    assert error is None or _holding(error, SECRET_ID) == []
    recorded = len(released.releases)
    assert recorded <= 1
    if info is not None:  # released: recorded once, a whole bundle in place
        assert error is None
        assert recorded == 1
        assert not target.is_symlink()
        assert info.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
        checked = purposeful.access.verify_bundle(
            target,
            SIGNING.public_key(),
            private_key=private if encrypted else None,  # type: ignore[arg-type]
        )
        assert checked is not None
        return
    assert error is not None
    if recorded:  # recorded, not released: the error says no bundle took the name
        assert any(words in _said(error) for words in NO_BUNDLE), _said(error)
    # what is at the path is what was there, or what the sink wrote; never a new bundle
    if what == "writes" and recorded:
        assert target.read_bytes() == b"someone else's file"
    elif what == "removes" and recorded:
        assert not target.exists()
    elif before is None:
        assert not target.exists()
        assert not target.is_symlink()
    elif target.is_symlink():
        assert os.readlink(target) == before
    else:
        assert target.read_bytes() == before


def test_a_dangling_link_at_the_path_is_said_to_be_there_not_to_have_appeared(
    tmp_path: Path,
) -> None:
    """Finding (fixed): a link to nothing at the path, there before the build began, was
    said to have "appeared while the bundle was being built"; it is there from the start,
    and is now refused up front like any file already at the path, nothing written or
    recorded."""
    released = Released()
    purposeful.configure(sinks=[released], pseudonymise=KEY.pseudonym)
    target = tmp_path / "bundle.zip"
    target.symlink_to(tmp_path / "nothing-here.zip")
    with pytest.raises(SubjectAccessError, match="already exists") as raised:
        _access().build(_request(), target, signing_key=SIGNING, created=CREATED)
    assert "appeared" not in str(raised.value)
    assert released.releases == []
    assert os.readlink(target) == str(tmp_path / "nothing-here.zip")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.zip"]


def test_two_builds_racing_for_one_name_release_one_and_say_so_of_the_other(
    tmp_path: Path,
) -> None:
    """Both bundles are whole on disk and both releases recorded before either takes the
    name: one takes it, and the other's error says its release was recorded though it
    took no name; no temporary file is left."""
    released = Released()
    meeting = threading.Barrier(2, timeout=30)

    class Meeting:
        def emit(self, report: ScopeReport) -> None:
            if report.disclosures:
                meeting.wait()

    purposeful.configure(sinks=[released, Meeting()], pseudonymise=KEY.pseudonym)
    target = tmp_path / "bundle.zip"
    outcomes: list[object] = []

    def build() -> None:
        try:
            outcomes.append(
                _access().build(_request(), target, signing_key=SIGNING, created=CREATED)
            )
        except SubjectAccessError as error:
            outcomes.append(error)

    workers = [threading.Thread(target=build) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(released.releases) == 2
    errors = [o for o in outcomes if isinstance(o, SubjectAccessError)]
    (info,) = [o for o in outcomes if not isinstance(o, SubjectAccessError)]
    (error,) = errors
    assert "had recorded its release" in str(error)
    assert info.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()  # type: ignore[attr-defined]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.zip"]


def test_a_directory_that_refuses_the_name_after_the_record_says_the_release_was_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The directory refuses the rename (read-only meanwhile: simulated, as root may write
    anywhere): the error says nothing took the name though the trail recorded it, and the
    temporary file is gone."""
    released = Released()
    purposeful.configure(sinks=[released], pseudonymise=KEY.pseudonym)
    target = tmp_path / "bundle.zip"
    target.write_bytes(b"the old bundle")

    def refused(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied")

    class Locking:
        def emit(self, report: ScopeReport) -> None:
            if report.disclosures:
                monkeypatch.setattr(os, "replace", refused)
                monkeypatch.setattr(os, "link", refused)

    purposeful.configure(sinks=[released, Locking()])
    with pytest.raises(SubjectAccessError, match="had recorded its release") as raised:
        _access().build(_request(), target, signing_key=SIGNING, created=CREATED, overwrite=True)
    monkeypatch.undo()
    assert "Permission denied" in str(raised.value)
    assert len(released.releases) == 1
    assert target.read_bytes() == b"the old bundle"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.zip"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes a read-only directory"
)
def test_a_read_only_directory_writes_and_records_nothing(tmp_path: Path) -> None:
    released = Released()
    purposeful.configure(sinks=[released], pseudonymise=KEY.pseudonym)
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(SubjectAccessError, match="nothing was written") as raised:
            _access().build(_request(), folder / "b.zip", signing_key=SIGNING, created=CREATED)
        assert "recorded" not in str(raised.value)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)
    assert released.releases == []


def test_an_interrupt_in_the_releases_pseudonym_leaves_no_raw_id_and_no_bundle(
    tmp_path: Path,
) -> None:
    """The release's pseudonym (`pseudonym_of`) interrupted: no frame keeps the raw id,
    nothing takes the name, the note says so."""
    trail_key = PseudonymKey("0ed30a12", KEY.secret, cache_size=0)
    released = Released()
    purposeful.configure(sinks=[released], pseudonymise=trail_key.pseudonym)
    target = tmp_path / "bundle.zip"
    with _interrupt_on_call({"compute"}, within="record_release") as armed:
        armed[0] = True
        with pytest.raises(KeyboardInterrupt) as raised:
            _access().build(_request(), target, signing_key=SIGNING, created=CREATED)
    assert not armed[0]  # it landed
    assert _holding(raised.value, SECRET_ID) == []
    assert "did not take the name" in _said(raised.value)
    assert released.releases == []
    assert list(tmp_path.iterdir()) == []


APP = """
from purposeful import field, record
from purposeful.access import AgencyDetails, SubjectAccess
from purposeful.audit import PseudonymKey
from _records import SERVICE_AGREEMENT


@record(subject="client_id", key="note_id")
class RtrCliVisit:
    client_id: str
    note_id: str
    text: str = field(purposes={"service-delivery": SERVICE_AGREEMENT})


access = SubjectAccess(
    agency=AgencyDetails("Te Whare Awhina", email="privacy@example.org.nz"),
    pseudonym_keys=PseudonymKey.generate(),
)


@access.source("notes")
def notes(subject):
    yield RtrCliVisit(subject, "N-1", "a visit")
"""


def test_the_command_interrupted_while_the_release_is_recorded_says_what_the_trail_holds(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Finding (fixed): ``purposeful bundle build`` interrupted while a sink took the
    release's record said only that nothing was finished; the trail may hold the release.
    Its one line now says so, and never the person's identifier."""
    from purposeful.audit import generate_keys
    from purposeful.cli import main

    (tmp_path / "rtr_sar_app.py").write_text(APP, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RTR_CLIENT_ID", SECRET_ID)
    generate_keys(tmp_path / "keys")
    target = tmp_path / "out.zip"
    target.write_bytes(b"the old bundle")
    released = Released()
    purposeful.configure(
        sinks=[released, Behaving("interrupt", target)], pseudonymise=KEY.pseudonym
    )
    argv = ["bundle", "build", "rtr_sar_app:access", "--request-id", REQUEST_ID]
    argv += ["--received", "2026-12-10", "--subject-env", "RTR_CLIENT_ID", "--out", "out.zip"]
    argv += ["--signing-key", str(tmp_path / "keys" / "signing-key.pem"), "--overwrite"]
    argv += ["--requester", "person", "--identity", "staff-7:photo-id-sighted"]
    argv += ["--no-threat", "staff-7:asked-in-private", "--delivery", "staff-7:in-person"]
    try:
        assert main(argv) == 130
    finally:
        sys.modules.pop("rtr_sar_app", None)
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "may have recorded its release" in err
    assert SECRET_ID not in err
    assert len(released.releases) == 1
    assert target.read_bytes() == b"the old bundle"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys", "out.zip", "rtr_sar_app.py"]


_KILLED_CHILD = """
import sys, time
from pathlib import Path
sys.path[:0] = [{src!r}, {tests!r}, {red!r}]
import purposeful
import test_red_trail_release as t

folder = Path({folder!r})


class Slow:
    def emit(self, report):
        if report.disclosures:
            (folder.parent / "recording").write_text("now")
            time.sleep(60)


purposeful.configure(sinks=[Slow()], pseudonymise=t.KEY.pseudonym)
t._access().build(t._request(), folder / "bundle.zip", signing_key=t.SIGNING, created=t.CREATED)
"""


def test_a_build_killed_while_the_release_is_recorded_leaves_only_the_documented_leftover(
    tmp_path: Path,
) -> None:
    """A process killed (SIGKILL, out of memory, power cut) while a sink takes the release's
    record leaves the whole bundle under a hidden temporary name, mode 0600, never under
    its own: docs/subject-access.md ("Stopping a command") says so (it said such a file was
    never the bundle)."""
    import signal
    import subprocess
    import time

    folder = tmp_path / "out"
    folder.mkdir()
    here = Path(__file__).resolve().parent
    code = _KILLED_CHILD.format(
        src=str(here.parent.parent / "src"),
        tests=str(here.parent),
        red=str(here),
        folder=str(folder),
    )
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "recording").exists():
            assert child.poll() is None, "the build ended before it recorded the release"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    left = list(folder.iterdir())
    assert not (folder / "bundle.zip").exists()
    assert len(left) == 1
    (leftover,) = left
    assert leftover.name.startswith(".bundle.zip.")
    assert leftover.name.endswith(".tmp")
    assert leftover.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("how", ["keyed", "lambda"])
def test_monitor_reads_outside_any_scope_are_on_each_persons_history(
    sink: RecordingSink, how: str
) -> None:
    """Held: the windows of reads outside any scope (monitor mode) go through the same
    pseudonymising, with int ids, str subclasses and empty ids among them."""
    purposeful.configure(
        mode=purposeful.Mode.MONITOR,
        pseudonymise=KEY.pseudonym if how == "keyed" else lambda s: KEY.pseudonym(s),
    )
    records = [
        RtrClient(7, "p", "e", "x"),
        RtrClient("7", "p", "e", "x"),
        RtrClient(Sid("P-1"), "p", "e", "x"),
        RtrClient("", "p", "e", "x"),
        RtrVisit("P-1", "p", "n"),
    ]
    _ = records[0].phone
    _ = records[1].email
    _ = records[2].address
    _ = records[3].address
    _ = records[4].note
    purposeful.audit.flush()
    assert per_person(sink.reports) == {
        KEY.pseudonym("7"): {"RtrClient.phone", "RtrClient.email"},
        KEY.pseudonym("P-1"): {"RtrClient.address", "RtrVisit.note"},
    }


def test_an_open_scope_and_its_key_show_no_raw_id(
    sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="purposeful")
    key = _key("plain")
    purposeful.configure(pseudonymise=key.pseudonym, flush_reads=1)
    with use("service-delivery", actor=CASEWORKER) as scope:
        record = RtrClient(SECRET_ID, "p", "e", "x")
        _ = record.phone, record.email
        purposeful.may_use(RtrClient, "address", subject=SECRET_ID)
        shown = [repr(scope), repr(key), repr(record), repr(scope.decisions)]
    shown += [repr(report) for report in sink.reports]
    assert not any(SECRET_ID in text for text in shown)
    assert SECRET_ID not in caplog.text


@pytest.mark.parametrize("purpose", ["access", "service-delivery"])
def test_a_build_inside_an_open_scope_records_before_the_name_too(
    tmp_path: Path, purpose: str
) -> None:
    """Held: inside an open scope (of the release's purpose or another), the release is
    sent when its own scope closes, before the bundle takes its name; not held back to
    the outer scope's close, when the bundle would already be out."""
    released = Released()
    purposeful.configure(
        sinks=[released, Behaving("fails", tmp_path / "b.zip")], pseudonymise=KEY.pseudonym
    )
    with use(purpose, actor=CASEWORKER):
        with pytest.raises(AuditSinkError, match="no bundle was written"):
            _access().build(_request(), tmp_path / "b.zip", signing_key=SIGNING, created=CREATED)
        assert len(released.releases) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("what", ["fails", "interrupt", "writes"])
def test_a_passphrase_bundle_is_whole_or_absent_too(tmp_path: Path, what: str) -> None:
    target = tmp_path / "b.zip"
    target.write_bytes(b"the old bundle")
    released = Released()
    purposeful.configure(sinks=[released, Behaving(what, target)], pseudonymise=KEY.pseudonym)
    passphrase = "a long passphrase for the test"

    def build() -> object:
        return _access().build(
            _request(),
            target,
            signing_key=SIGNING,
            created=CREATED,
            overwrite=True,
            encrypt_to=passphrase,
        )

    assert len(released.releases) == 0
    if what == "writes":  # with overwrite, the bundle replaces what the sink wrote
        build()
        assert purposeful.access.verify_bundle(target, SIGNING.public_key(), passphrase=passphrase)
    else:
        with pytest.raises((AuditSinkError, KeyboardInterrupt)) as raised:
            build()
        assert any(words in _said(raised.value) for words in NO_BUNDLE)
        assert target.read_bytes() == b"the old bundle"
    assert len(released.releases) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.zip"]


@pytest.mark.parametrize(
    ("where", "within", "flush_reads"),
    [("_text_of", "_take", 1000), ("_subject_text", "", 1000), ("_text_of", "_gather", 1)],
    ids=["close", "close-text", "part"],
)
def test_an_interrupt_while_a_scope_groups_its_people_leaves_no_raw_id(
    sink: RecordingSink, where: str, within: str, flush_reads: int
) -> None:
    """Finding (fixed): an interrupt landing where a scope turns a subject that is not
    exactly a str into its text (at the close, or for a part) left the raw id in the
    frames of the traceback: the comprehension gathering the notes, `_text_of` and
    `_subject_text`. The scope now clears the frames below it before the interrupt goes
    on."""
    purposeful.configure(pseudonymise=KEY.pseudonym, flush_reads=flush_reads)

    def session() -> None:
        with (
            _interrupt_on_call({where}, within=within) as armed,
            use("service-delivery", actor=CASEWORKER),
        ):
            record = RtrClient(Sid(SECRET_ID), "p", "e", "x")
            armed[0] = True
            _ = record.phone
            _ = RtrClient(Sid("someone-else"), "p", "e", "x").phone
            _ = record.email

    with pytest.raises(KeyboardInterrupt) as raised:
        session()
    assert _holding(raised.value, SECRET_ID) == []


@pytest.mark.parametrize("which", ["ledger", "checkpoints", "link-to-ledger"])
def test_a_release_never_replaces_the_ledger_that_records_it(tmp_path: Path, which: str) -> None:
    """Finding (fixed): ``overwrite=True`` (``--overwrite``) at the path of the configured
    ledger (a slip of the hand) replaced the whole audit trail with the bundle, the
    release's own record with it, and the build succeeded. It is refused up front now,
    nothing written or recorded, the ledger as it was (a link to it is refused too)."""
    ledger = Ledger(tmp_path / "audit.jsonl", signing_key=SIGNING)
    released = Released()
    purposeful.configure(sinks=[ledger, released], pseudonymise=KEY.pseudonym)
    target = {
        "ledger": ledger.path,
        "checkpoints": ledger.checkpoints_path,
        "link-to-ledger": tmp_path / "out.zip",
    }[which]
    if which == "link-to-ledger":
        target.symlink_to(ledger.path)
    kept = ledger.path.read_bytes(), ledger.checkpoints_path.read_bytes()
    for draft in (False, True):  # a draft there would wipe the trail just as well
        with pytest.raises(SubjectAccessError, match="replace the audit trail"):
            _access().build(
                _request(),
                target,
                signing_key=SIGNING,
                created=CREATED,
                overwrite=True,
                draft=draft,
            )
    assert released.releases == []
    assert (ledger.path.read_bytes(), ledger.checkpoints_path.read_bytes()) == kept
    purposeful.configure(sinks=[])
    ledger.close()
    assert purposeful.audit.verify_ledger(ledger.path, SIGNING.public_key()).ok


@pytest.mark.parametrize("how", ["keyed", "lambda"])
def test_parts_the_flusher_sends_while_the_scope_reads_are_true(
    sink: RecordingSink, how: str
) -> None:
    """Held: the flusher thread sends parts (``flush_seconds``) while the scope goes on
    reading, people read again after their part went out, some only asked about."""
    import time

    key = _key("plain")
    purposeful.configure(
        pseudonymise=key.pseudonym if how == "keyed" else lambda s: key.pseudonym(s),
        flush_seconds=0.05,
    )
    names = CLASSES["RtrClient"][1]
    expected: dict[str, set[str]] = defaultdict(set)
    with use("service-delivery", actor=CASEWORKER):
        for step in range(240):
            subject = f"F-{step % 17}"
            if step % 11 == 0:
                purposeful.may_use(RtrClient, "phone", subject=subject)
                expected[KEY.pseudonym(subject)]
                continue
            field = names[(step // 17) % 3]
            _ = getattr(RtrClient(subject, "p", "e", "x"), field)
            expected[KEY.pseudonym(subject)].add(f"RtrClient.{field}")
            if step % 40 == 0:
                key.clear_cache()
            time.sleep(0.002)
    assert len(sink.reports) > 1  # parts went out on the way
    assert per_person(sink.reports) == dict(expected)
