"""Whom one person's information was shared with: a disclosure names the person whose record
it was by pseudonym (never the id), and ``audit report --subject`` lists, per access, what
was disclosed of their records, on every engine; a disclosure that names nobody (older
inputs, no pseudonymiser) is counted, and the answer says it is incomplete."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import purposeful
from _audit_inputs import (
    MONDAY,
    HandPart,
    HandScope,
    attribute,
    ledger_line,
    ledger_text,
    span,
    traces_text,
)
from purposeful.audit import (
    Ledger,
    PseudonymKey,
    SpanSink,
    TraceFileExporter,
    generate_keys,
    load_pseudonym_key,
)
from purposeful.audit.conventions import DisclosureAttribute
from purposeful.audit.history import SubjectDisclosure, SubjectQuery, access_history
from purposeful.audit.report import (
    ReportDatabase,
    build_report,
    read_ledger,
    read_otlp_json,
    render_html,
    render_text,
)
from purposeful.audit.report.exports import write_csv
from purposeful.audit.report.records import Entry, ScopeRecord
from purposeful.cli import main
from purposeful.errors import AuditSinkError, ReportInputError
from purposeful.sharing import MemorySharingStore, disclose
from purposeful.sharing.agreements import Party, SharingAgreement

REFERRAL = "service-delivery.referral"
SHARING = purposeful.AUTHORISED_BY_PERSON


@purposeful.record(subject="client_id", key="referral_id")
class SharedReferral:
    client_id: str
    referral_id: str
    name: str = purposeful.field(purposes={REFERRAL: SHARING})
    phone: str = purposeful.field(purposes={REFERRAL: SHARING})
    notes: str = purposeful.field(purposes={REFERRAL: SHARING})


US = Party("Te Whare Āwhina", address="12 Rata Street, Hamilton")
PARTNER = Party("Kāinga Ora", address="PO Box 2628, Wellington")
AGREEMENT = SharingAgreement(
    id="housing-referrals",
    name="Housing referrals",
    parties=(US, PARTNER),
    purposes=(REFERRAL,),
    basis=SHARING,
    # in force now, whenever the tests run: disclose discloses now
    starts=date.today() - timedelta(days=365),
    expires=date.today() + timedelta(days=3 * 365),
    review=date.today() + timedelta(days=365),
    fields=("SharedReferral.name", "SharedReferral.phone"),
)
CASEWORKER = purposeful.Actor("staff-17", "caseworker", purposeful.SENSITIVE)
SUBJECT = "C-3310"
OTHER = "C-4410"
SHARED = "shared with Kāinga Ora under housing-referrals: name, phone"
KEY = PseudonymKey("feed0002", hashlib.sha256(b"purposeful tests: disclosures").digest())


@pytest.fixture
def sharing_log() -> Iterator[MemorySharingStore]:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    yield store
    store.close()


def referral(subject: str = SUBJECT) -> SharedReferral:
    return SharedReferral(subject, "R-1", "Mere Tipene", "021 555 0199", "private notes")


def disclosed(
    folder: Path,
    pseudonymise: Callable[[str], str] | None,
    *subjects: str,
    raises: type[Exception] | None = None,
) -> tuple[Path, Path, Ed25519PrivateKey]:
    """Disclose the referral of each of *subjects*, with *pseudonymise* configured, into a
    trace file and a signed ledger in *folder*."""
    traces, ledger_path = folder / "traces.jsonl", folder / "audit.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(TraceFileExporter(traces)))  # type: ignore[arg-type]
    signing_key = Ed25519PrivateKey.generate()
    with Ledger(ledger_path, signing_key=signing_key) as ledger:
        purposeful.configure(sinks=[SpanSink(provider), ledger], pseudonymise=pseudonymise)
        for subject in subjects:
            if raises is None:
                disclose(referral(subject), to=PARTNER, under=AGREEMENT, actor=CASEWORKER)
            else:
                with pytest.raises(raises):
                    disclose(referral(subject), to=PARTNER, under=AGREEMENT, actor=CASEWORKER)
        purposeful.configure(sinks=[], pseudonymise=None)
    provider.shutdown()
    return traces, ledger_path, signing_key


def disclosure_events(traces: Path) -> list[dict[str, Any]]:
    """The attributes of every disclosure event in *traces*, as plain values."""
    found = []
    for line in traces.read_text(encoding="utf-8").splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                for one in scope["spans"]:
                    for event in one.get("events", []):
                        if event["name"] == "purposeful.disclosure":
                            found.append(
                                {
                                    pair["key"]: next(iter(pair["value"].values()))
                                    for pair in event["attributes"]
                                }
                            )
    return found


def ledger_disclosures(ledger: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()]
    return [entry for line in lines for entry in line.get("disclosures", [])]


# --- what the trail records -------------------------------------------------------------------


def test_a_disclosure_names_the_person_by_pseudonym_in_the_span_and_the_ledger_never_by_id(
    sharing_log: MemorySharingStore, tmp_path: Path
) -> None:
    traces, ledger, _ = disclosed(tmp_path, KEY.pseudonym, SUBJECT)
    [event] = disclosure_events(traces)
    assert event[DisclosureAttribute.SUBJECT] == KEY.pseudonym(SUBJECT)
    [entry] = ledger_disclosures(ledger)
    assert entry[DisclosureAttribute.SUBJECT] == KEY.pseudonym(SUBJECT)
    for written in (traces.read_bytes(), ledger.read_bytes()):
        assert SUBJECT.encode() not in written
        assert b"Mere" not in written


def test_without_a_pseudonymiser_a_disclosure_names_nobody(
    sharing_log: MemorySharingStore, tmp_path: Path
) -> None:
    traces, ledger, _ = disclosed(tmp_path, None, SUBJECT)
    [event] = disclosure_events(traces)
    [entry] = ledger_disclosures(ledger)
    assert DisclosureAttribute.SUBJECT not in event
    assert DisclosureAttribute.SUBJECT not in entry
    assert event[DisclosureAttribute.RECIPIENT] == "Kāinga Ora"


def leaking(subject: str) -> str:
    """A pseudonymiser that passes the probe at configure() but hands the ids of clients
    back (in upper case): the leak check must catch it."""
    return subject.upper() if subject.startswith("C-") else f"p:{len(subject)}"


def test_a_leaking_pseudonymiser_leaves_the_subject_out_and_no_raw_id_anywhere(
    sharing_log: MemorySharingStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # the disclosure's scope reads the record too, and its report fails for the same leak:
    # that failure (an AuditSinkError when the scope closes) is the scope's, as before
    traces, ledger, _ = disclosed(tmp_path, leaking, SUBJECT, raises=AuditSinkError)
    [event] = disclosure_events(traces)
    [entry] = ledger_disclosures(ledger)
    assert DisclosureAttribute.SUBJECT not in event
    assert DisclosureAttribute.SUBJECT not in entry
    for written in (traces.read_bytes(), ledger.read_bytes()):
        assert SUBJECT.encode() not in written
        assert SUBJECT.upper().encode() not in written
    said = [record.getMessage() for record in caplog.records]
    assert any("a disclosure was recorded without the pseudonym" in text for text in said)
    assert not any(SUBJECT in text for text in said)


def test_a_pseudonymiser_that_fails_costs_the_disclosure_its_subject_not_the_disclosure(
    sharing_log: MemorySharingStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    failed: list[str] = []

    def flaky(subject: str) -> str:  # fails once, for the disclosure, then recovers
        if subject == SUBJECT and not failed:
            failed.append(subject)
            raise RuntimeError("key store unreachable")
        return KEY.pseudonym(subject)

    traces, ledger, _ = disclosed(tmp_path, flaky, SUBJECT)  # no exception
    [event] = disclosure_events(traces)
    assert DisclosureAttribute.SUBJECT not in event
    assert DisclosureAttribute.SUBJECT not in ledger_disclosures(ledger)[0]
    assert [entry.subject for entry in sharing_log.disclosures(SUBJECT)] == [SUBJECT]
    assert any("RuntimeError" in record.getMessage() for record in caplog.records)


# --- the answer about one person --------------------------------------------------------------


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return generate_keys(tmp_path / "keys").pseudonym_key


def report(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> str:
    status = main(["audit", "report", *map(str, argv)])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    return out


def test_subject_shows_whom_the_persons_record_was_shared_with_on_every_engine(
    sharing_log: MemorySharingStore,
    tmp_path: Path,
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = load_pseudonym_key(key_file, env=None)
    traces, ledger, _ = disclosed(tmp_path, key.pseudonym, SUBJECT, OTHER)
    ask = ["--subject", SUBJECT, "--key-file", key_file]
    for where in ([traces], ["--ledger", ledger]):
        page = report(capsys, *where, *ask, "--engine", "stream")
        assert report(capsys, *where, *ask, "--engine", "duckdb") == page
        assert SHARED in page
        assert page.count("shared with") == 1  # the other person's disclosure is not shown
        assert "Complete:" in page
        assert SUBJECT not in page
        assert OTHER not in page
    report(capsys, traces, *ask, "--html", tmp_path / "page.html")
    assert SHARED in (tmp_path / "page.html").read_text(encoding="utf-8")


def test_the_person_asked_about_gets_their_disclosures_in_the_ledger_index_answer_too(
    sharing_log: MemorySharingStore, tmp_path: Path
) -> None:
    (tmp_path / "named").mkdir()
    _, ledger, signing_key = disclosed(tmp_path / "named", KEY.pseudonym, SUBJECT, OTHER)
    query = SubjectQuery.for_subject(SUBJECT, [KEY])
    plain = access_history(query, [ledger])
    indexed = access_history(query, [ledger], public_key=signing_key.public_key())
    assert indexed == plain
    (access,) = plain.accesses
    assert access.disclosures == (
        SubjectDisclosure("Kāinga Ora", "housing-referrals", "SharedReferral", ("name", "phone")),
    )
    assert plain.complete


def test_a_disclosure_without_a_pseudonym_is_counted_in_the_indexed_answer_too(
    sharing_log: MemorySharingStore, tmp_path: Path
) -> None:
    ledger = tmp_path / "audit.jsonl"
    signing_key = Ed25519PrivateKey.generate()
    with Ledger(ledger, signing_key=signing_key) as writer:
        for pseudonymise in (None, KEY.pseudonym):  # one disclosure names nobody
            purposeful.configure(sinks=[writer], pseudonymise=pseudonymise)
            disclose(referral(OTHER), to=PARTNER, under=AGREEMENT, actor=CASEWORKER)
        purposeful.configure(sinks=[], pseudonymise=None)
    query = SubjectQuery.for_subject(SUBJECT, [KEY])
    for _ in range(2):  # writes the index, then answers from it
        answer = access_history(query, [ledger], public_key=signing_key.public_key())
        assert answer == access_history(query, [ledger])
        assert answer.unattributed_disclosures == 1
        assert not answer.complete
        assert answer.accesses == ()


# --- hand-written inputs: older ones, and scopes that disclosed without reading -------------

PERSON = KEY.pseudonym(SUBJECT)
SOMEONE = KEY.pseudonym(OTHER)


def disclosure(
    subject: str | None, recipient: str = "MSD", fields: tuple[str, ...] = ("a",)
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        DisclosureAttribute.ID: f"d-{recipient}-{subject}",
        DisclosureAttribute.AGREEMENT: "AISA-2026",
        DisclosureAttribute.RECIPIENT: recipient,
        DisclosureAttribute.RECORD_TYPE: "Case",
        DisclosureAttribute.FIELDS: list(fields),
        DisclosureAttribute.STATEMENTS_COUNT: 0,
    }
    if subject is not None:
        entry[DisclosureAttribute.SUBJECT] = subject
    return entry


def as_event(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "timeUnixNano": "0",
        "name": "purposeful.disclosure",
        "attributes": [attribute(key, value) for key, value in entry.items()],
    }


def inputs(folder: Path, scopes: list[tuple[HandScope, list[dict[str, Any]]]]) -> tuple[Path, Path]:
    """Each scope (written whole) with its disclosures, as a ledger and as a trace file."""
    lines, spans = [], []
    for scope, disclosures in scopes:
        line, one = ledger_line(scope, 0), span(scope, 0)
        if disclosures:
            line["disclosures"] = disclosures
        one["events"] += [as_event(entry) for entry in disclosures]
        lines.append(line)
        spans.append(one)
    ledger, traces = folder / "audit.jsonl", folder / "traces.jsonl"
    ledger.write_text(ledger_text(lines), encoding="utf-8")
    traces.write_text(traces_text(spans), encoding="utf-8")
    return ledger, traces


def scope(n: int, reads: dict[str, frozenset[str]]) -> HandScope:
    return HandScope(f"{n:024x}", (HandPart(reads),), opened=MONDAY + timedelta(minutes=n))


def test_a_scope_that_disclosed_the_persons_record_without_reading_it_is_an_access(
    tmp_path: Path,
) -> None:
    ledger, traces = inputs(
        tmp_path,
        [
            (scope(1, {SOMEONE: frozenset({"Case.a"})}), [disclosure(PERSON, "MSD", ("b", "a"))]),
            (scope(2, {PERSON: frozenset({"Case.a"})}), [disclosure(SOMEONE, "IR")]),
        ],
    )
    query = SubjectQuery.for_subject(SUBJECT, [KEY])
    for built in (
        build_report(ledgers=[ledger], subject=query),
        build_report([traces], subject=query),
    ):
        assert built.subject is not None
        first, second = built.subject.accesses
        assert first.fields_read == ()
        assert first.disclosures == (SubjectDisclosure("MSD", "AISA-2026", "Case", ("a", "b")),)
        assert second.fields_read == ("Case.a",)
        assert second.disclosures == ()  # IR got someone else's record
        assert built.subject.complete
        text = render_text(built)
        assert "shared with MSD under AISA-2026: a, b" in text
        assert "IR" not in text
        assert "shared with MSD under AISA-2026: a, b" in render_html(built)


def test_disclosures_that_name_nobody_are_counted_and_make_the_answer_incomplete(
    tmp_path: Path,
) -> None:
    ledger, traces = inputs(
        tmp_path,
        [
            (scope(1, {PERSON: frozenset({"Case.a"})}), [disclosure(None), disclosure(None, "IR")]),
            (scope(2, {SOMEONE: frozenset({"Case.a"})}), [disclosure("raw-id-123")]),
        ],
    )
    query = SubjectQuery.for_subject(SUBJECT, [KEY])
    for built in (
        build_report(ledgers=[ledger], subject=query),
        build_report([traces], subject=query),
    ):
        assert built.subject is not None
        assert built.subject.unattributed_disclosures == 3
        assert not built.subject.complete
        (access,) = built.subject.accesses
        assert access.disclosures == ()
        said = " ".join(render_text(built).split())
        assert (
            "Incomplete: 3 disclosures to other agencies do not say whose record they were" in said
        )
        assert "raw-id-123" not in said


def test_the_csv_export_of_the_answer_has_what_was_shared(tmp_path: Path) -> None:
    ledger, _ = inputs(
        tmp_path,
        [
            (
                scope(1, {PERSON: frozenset({"Case.a"})}),
                [disclosure(PERSON), disclosure(PERSON, "IR")],
            )
        ],
    )
    built = build_report(ledgers=[ledger], subject=SubjectQuery.for_subject(SUBJECT, [KEY]))
    write_csv(built, tmp_path / "tables")
    with (tmp_path / "tables" / "subject_accesses.csv").open(encoding="utf-8") as file:
        (row,) = csv.DictReader(file)
    assert row["shared"] == (
        "shared with IR under AISA-2026: a; shared with MSD under AISA-2026: a"
    )


def test_an_archive_without_the_disclosure_subject_is_refused_with_a_typed_error(
    tmp_path: Path,
) -> None:
    ledger, _ = inputs(
        tmp_path, [(scope(1, {PERSON: frozenset({"Case.a"})}), [disclosure(PERSON)])]
    )
    archive = tmp_path / "archive"
    with ReportDatabase.from_files(ledgers=[ledger]) as database:
        database.to_parquet(archive)
    table = archive / "part_disclosures.parquet"
    older = tmp_path / "older.parquet"
    duckdb.sql(
        f"COPY (SELECT * EXCLUDE (subject, subject_key_id) FROM read_parquet('{table}')) "
        f"TO '{older}' (FORMAT parquet)"
    )
    older.replace(table)
    with pytest.raises(ReportInputError, match="convert the inputs again"):
        ReportDatabase.from_parquet(archive)


# --- the readers: any JSON value where the subject goes ---------------------------------------


def read_back(
    reader: Callable[[Path], Iterator[Entry]], path: Path
) -> tuple[ReportInputError | None, list[ScopeRecord]]:
    """What *reader* makes of *path*: the scopes, or the error it raised."""
    try:
        return None, [entry for entry in reader(path) if isinstance(entry, ScopeRecord)]
    except ReportInputError as error:
        return error, []


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=80, deadline=None)
@given(value=_JSON)
def test_any_json_value_as_a_ledger_disclosures_subject_is_read_or_named_by_line(
    tmp_path_factory: pytest.TempPathFactory, value: object
) -> None:
    line = ledger_line(scope(1, {PERSON: frozenset({"Case.a"})}), 0)
    line["disclosures"] = [{**disclosure(None), DisclosureAttribute.SUBJECT: value}]
    path = tmp_path_factory.mktemp("ledger") / "audit.jsonl"
    path.write_text(ledger_text([line]), encoding="utf-8")
    error, entries = read_back(read_ledger, path)
    if error is not None:
        assert (error.path, error.line) == (path, 2)
        assert DisclosureAttribute.SUBJECT in str(error)
    else:
        assert isinstance(value, str)
        assert entries[0].disclosures[0].subject == value


@settings(max_examples=80, deadline=None)
@given(value=_JSON)
def test_any_json_value_as_a_disclosure_events_subject_is_read_or_named_by_line(
    tmp_path_factory: pytest.TempPathFactory, value: object
) -> None:
    one = span(scope(1, {PERSON: frozenset({"Case.a"})}), 0)
    event = as_event(disclosure(None))
    event["attributes"].append({"key": DisclosureAttribute.SUBJECT, "value": value})
    one["events"].append(event)
    path = tmp_path_factory.mktemp("traces") / "traces.jsonl"
    path.write_text(traces_text([one]), encoding="utf-8")
    error, entries = read_back(read_otlp_json, path)
    if error is not None:
        assert (error.path, error.line) == (path, 1)
    else:
        assert entries[0].disclosures[0].subject in (None, value)


def test_a_disclosure_events_subject_string_value_is_read(tmp_path: Path) -> None:
    one = span(scope(1, {PERSON: frozenset({"Case.a"})}), 0)
    one["events"].append(as_event(disclosure(PERSON)))
    path = tmp_path / "traces.jsonl"
    path.write_text(traces_text([one]), encoding="utf-8")
    [entry] = [found for found in read_otlp_json(path) if hasattr(found, "disclosures")]
    assert entry.disclosures[0].subject == PERSON
