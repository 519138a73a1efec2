"""Red team: the copy for the person, the agreement's JSON Schema, pre-fill from a referral
and `holds`, attacked at the point of service."""

from __future__ import annotations

import importlib
import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from _records import RecordingSink
from purposeful import AUTHORISED_BY_PERSON, SENSITIVE, Actor, ServiceAgreement, cli
from purposeful.access import AgencyDetails, Passage, SubjectAccess, Wording, copy_for_person
from purposeful.asking import already_held as holds
from purposeful.bases import DirectlyRelatedPurpose
from purposeful.errors import (
    ConfigurationError,
    NoPurposeScope,
    PurposeViolation,
    ReferralInvalid,
    StoreError,
    SubjectAccessError,
)
from purposeful.sharing import MemorySharingStore, Party, SharingAgreement, prefill
from purposeful.sharing.sqlite import SQLiteSharingStore

REFERRAL = "service-delivery.referral"
PLAIN = DirectlyRelatedPurpose()
INTAKE = ServiceAgreement("Intake agreement")
CASEWORKER = Actor("staff-17", "caseworker", SENSITIVE)
AT = datetime(2026, 6, 1, tzinfo=UTC)


@purposeful.record(subject="client_id", key="ref")
class RedPosReferral:
    client_id: str
    ref: str
    count: int | None = purposeful.field(
        purposes={REFERRAL: PLAIN}, category="household", default=None
    )
    share: float | None = purposeful.field(
        purposes={REFERRAL: PLAIN}, category="household", default=None
    )
    flag: bool | None = purposeful.field(
        purposes={REFERRAL: PLAIN}, category="household", default=None
    )
    name: str | None = purposeful.field(
        purposes={REFERRAL: PLAIN}, category="identity", default=None
    )
    born: date | None = purposeful.field(
        purposes={REFERRAL: PLAIN}, category="identity", default=None
    )
    seen: datetime | None = purposeful.field(
        purposes={REFERRAL: PLAIN}, category="household", default=None
    )
    tags: frozenset[str] | None = purposeful.field(
        purposes={REFERRAL: PLAIN}, category="household", default=None
    )


AGREEMENT = SharingAgreement(
    id="red-pos",
    name="Red referrals",
    parties=[Party("Te Whare Awhina"), Party("Kainga Ora")],
    purposes=[REFERRAL],
    categories=["identity", "household"],
    basis=AUTHORISED_BY_PERSON,
    starts=date(2026, 1, 1),
    expires=date(2027, 12, 31),
    review=date(2027, 6, 30),
)


def _schema() -> dict[str, Any]:
    return AGREEMENT.json_schema(RedPosReferral)


def _prefills(payload: dict[str, Any]) -> bool:
    try:
        prefill(
            RedPosReferral("C-1", "R-1"),
            payload,
            source="Te Whare Awhina",
            under=AGREEMENT,
            at=AT,
        )
    except ReferralInvalid:
        return False
    return True


def _schema_accepts(payload: dict[str, Any]) -> bool:
    try:
        jsonschema.validate(payload, _schema(), format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError:
        return False
    return True


# --- the schema and prefill must agree ---------------------------------------------------


def test_red_an_integral_json_number_is_an_integer_to_both() -> None:
    """JSON Schema counts 3.0 as an integer (and a JSON parser may hand over 3.0); prefill
    refused what the schema accepted."""
    purposeful.configure(disclosure_log=MemorySharingStore())
    assert _schema_accepts({"count": 3.0})
    assert _prefills({"count": 3.0})
    record = RedPosReferral("C-1", "R-2")
    prefill(record, {"count": 3.0}, source="Te Whare Awhina", under=AGREEMENT, at=AT)
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        assert record.count == 3
        assert type(record.count) is int
    assert not _prefills({"count": 3.5})
    assert not _schema_accepts({"count": 3.5})


def test_red_a_set_field_is_filled_with_a_set_not_a_list() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    record = RedPosReferral("C-1", "R-3")
    prefill(record, {"tags": ["a", "b"]}, source="Te Whare Awhina", under=AGREEMENT, at=AT)
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        assert record.tags == frozenset({"a", "b"})
        assert type(record.tags) is frozenset


def test_red_the_schema_takes_a_moment_whose_offset_has_seconds() -> None:
    """`disclose` wrote 1850-01-01T00:00:00+11:39:04 (Auckland's local mean time), and
    the schema refused it."""
    offset = timezone(timedelta(hours=11, minutes=39, seconds=4))
    record = RedPosReferral("C-1", "R-4", seen=datetime(1850, 1, 1, tzinfo=offset))
    purposeful.configure(disclosure_log=MemorySharingStore())
    sent = purposeful.disclose(record, to="Kainga Ora", under=AGREEMENT, actor=CASEWORKER)
    payload = sent.to_json()
    jsonschema.validate(payload, _schema())
    assert _prefills(payload)


_JSONISH = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.integers(min_value=-(2**40), max_value=2**40).map(float),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.dates().map(date.isoformat),
    st.dates().map(lambda day: day.isoformat() + "\n"),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.lists(st.text(max_size=3), max_size=3),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(["count", "share", "flag", "name", "born", "tags"]), value=_JSONISH)
def test_red_the_schema_accepts_exactly_what_prefill_accepts(field: str, value: Any) -> None:
    """A partner validating with the schema (formats asserted) and prefill agree on every
    value."""
    purposeful.configure(disclosure_log=MemorySharingStore())
    if value is None:
        # a null is valid (the partner holds nothing there) and fills nothing: a referral
        # with nothing in it is refused as empty (test_red_a_referral_that_holds_nothing_...)
        assert _schema_accepts({field: value})
        assert not _prefills({field: value})
        return
    assert _schema_accepts({field: value}) == _prefills({field: value})


_ZONES = st.one_of(
    st.just(UTC),
    st.integers(min_value=-14 * 3600 + 1, max_value=14 * 3600 - 1).map(
        lambda seconds: timezone(timedelta(seconds=seconds))
    ),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.none() | st.integers(),
    share=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    name=st.none() | st.text(),
    born=st.none() | st.dates(),
    seen=st.none() | st.datetimes(timezones=_ZONES),
    tags=st.none() | st.frozensets(st.text(max_size=4), max_size=3),
)
def test_red_the_schema_accepts_whatever_disclose_produces(
    count: int | None,
    share: float | None,
    name: str | None,
    born: date | None,
    seen: datetime | None,
    tags: frozenset[str] | None,
) -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    record = RedPosReferral("C-1", "R-5", count, share, None, name, born, seen, tags)
    sent = purposeful.disclose(record, to="Kainga Ora", under=AGREEMENT, actor=CASEWORKER)
    payload = sent.to_json()
    if not any(value is not None for value in payload.values()):
        return
    jsonschema.validate(payload, _schema())
    assert _prefills({k: v for k, v in payload.items() if v is not None})


# --- prefill writes everything or nothing -------------------------------------------------


class _FailingStore(MemorySharingStore):
    def record_provenance(self, provenance: Any, collection: Any) -> Any:
        raise StoreError("the store is down")


def test_red_a_failing_store_leaves_the_record_as_it_was() -> None:
    purposeful.configure(disclosure_log=_FailingStore())
    record = RedPosReferral("C-1", "R-6", name="(before)")
    with pytest.raises(StoreError):
        prefill(record, {"name": "(after)", "count": 2}, source="Kainga Ora", under=AGREEMENT)
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        assert (record.name, record.count) == ("(before)", None)


def test_red_prefill_messages_name_no_value() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    secret = "Aroha-Ngata-021-555-0101"
    with pytest.raises(ReferralInvalid) as refused:
        prefill(
            RedPosReferral("C-SECRET-9", "R-7"),
            {"count": secret, "born": secret, "tags": [secret, 1], "flag": secret},
            source="Kainga Ora",
            under=AGREEMENT,
        )
    assert secret not in str(refused.value)
    assert "C-SECRET-9" not in str(refused.value)
    # no library frame below the entry point (whose arguments are the caller's) is kept,
    # in the error or in what it was raised from, for an error tracker to record
    seen: list[BaseException] = []
    chain: list[BaseException | None] = [refused.value]
    while chain:
        error = chain.pop()
        if error is None or any(error is known for known in seen):
            continue
        seen.append(error)
        frames = error.__traceback__
        while frames is not None:
            code = frames.tb_frame.f_code
            if "purposeful" in code.co_filename and code.co_name != "prefill":
                assert secret not in repr(frames.tb_frame.f_locals), code.co_name
            frames = frames.tb_next
        chain += [error.__cause__, error.__context__]


# --- holds ---------------------------------------------------------------------------------


def test_red_holds_refuses_outside_a_scope_and_outside_the_purpose() -> None:
    record = RedPosReferral("C-1", "R-8", name="(held)")
    with pytest.raises(NoPurposeScope):
        holds(record, "name")
    with (
        pytest.raises(PurposeViolation),
        purposeful.use("service-delivery.case-management", actor=CASEWORKER),
    ):
        holds(lambda subject: [record], "RedPosReferral.name", subject="C-1")
    with pytest.raises(NoPurposeScope):
        holds(lambda subject: [record], "RedPosReferral.name", subject="C-1")


# --- the copy ------------------------------------------------------------------------------


@purposeful.record(subject="client_id", key="ref")
class RedPosIntake:
    client_id: str
    ref: str
    name: str = purposeful.field(purposes={"service-delivery": INTAKE}, category="identity")


def _access() -> SubjectAccess:
    return SubjectAccess(
        agency=AgencyDetails("Te Whare <b>Awhina</b>", email="privacy@example.nz"),
        wording=Wording(record_labels={"RedPosIntake": "Your <i>intake</i>"}),
    )


def test_red_the_copy_page_escapes_every_value_label_and_passage() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    intake = RedPosIntake("C-1", "I-1", "<script>alert(1)</script>")
    with purposeful.use("service-delivery", actor=CASEWORKER):
        copy = copy_for_person(
            _access(),
            "C-1",
            reference="INTAKE-1",
            records=[intake],
            passages=[Passage("<img src=x onerror=alert(1)>", lang="mi")],
            at=AT,
        )
    page = copy.html()
    for raw in ("<script>", "<img", "<b>", "<i>"):
        assert raw not in page
    assert "&lt;script&gt;" in page


def _full_after_one(path: Path) -> SQLiteSharingStore:
    """A SQLite sharing store whose disclosure log takes one entry, then fails (a trigger:
    the database refuses the insert, as a full disk or a constraint would)."""
    store = SQLiteSharingStore(path)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TRIGGER full BEFORE INSERT ON disclosures "
            "WHEN (SELECT count(*) FROM disclosures) >= 1 "
            "BEGIN SELECT RAISE(ABORT, 'the log is full'); END"
        )
    return store


def test_red_a_copy_that_is_not_made_leaves_no_disclosure_logged(tmp_path: Path) -> None:
    """Finding (fixed): each record's entry was appended on its own, so when the second
    could not be logged no copy was made but the first entry stayed, saying values went to
    the person. A copy is now logged in one transaction (`log_all`)."""
    log = _full_after_one(tmp_path / "sharing.sqlite3")
    purposeful.configure(disclosure_log=log)
    records = [RedPosIntake("C-1", "I-1", "(one)"), RedPosIntake("C-1", "I-2", "(two)")]
    with (
        pytest.raises(StoreError),
        purposeful.use("service-delivery", actor=CASEWORKER),
    ):
        copy_for_person(_access(), "C-1", reference="INTAKE-2", records=records, at=AT)
    assert log.disclosures("C-1") == []
    log.close()


class _OwnLog:
    """A disclosure log of an agency's own, with no ``log_all``."""

    def __init__(self) -> None:
        self.logged: list[Any] = []

    def log(self, disclosure: Any) -> Any:
        self.logged.append(disclosure)
        return disclosure

    def for_subject(self, subject: str) -> list[Any]:
        return []


def test_red_a_log_of_your_own_is_written_entry_by_entry() -> None:
    """What the docs say of a log without ``log_all``: one entry per record, in order."""
    log = _OwnLog()
    purposeful.configure(disclosure_log=log)
    records = [RedPosIntake("C-1", "I-1", "(one)"), RedPosIntake("C-1", "I-2", "(two)")]
    with purposeful.use("service-delivery", actor=CASEWORKER):
        copy = copy_for_person(_access(), "C-1", reference="INTAKE-4", records=records, at=AT)
    assert [d.record_key for d in log.logged] == ["I-1", "I-2"]
    assert copy.disclosures == tuple(d.id for d in log.logged)


def test_red_cli_logs_no_disclosure_when_the_page_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`copy write` to a file that exists, without --overwrite, logged a disclosure to the
    person and then wrote nothing: the log said they had been given what they never got."""
    log = MemorySharingStore()
    purposeful.configure(disclosure_log=log)
    access = _access()
    access.register("intake", lambda subject: [RedPosIntake(subject, "I-1", "(name)")])
    monkeypatch.setattr("purposeful.cli.copy._load_app", lambda spec: access)
    monkeypatch.setenv("RED_POS_SUBJECT", "C-SECRET-77")
    out = tmp_path / "copy.html"
    out.write_text("already here", encoding="utf-8")
    base = ["copy", "write", "app:access", "--reference", "INTAKE-3"]
    who = ["--subject-env", "RED_POS_SUBJECT", "--purpose", "service-delivery"]
    who += ["--actor", "staff-17", "--role", "caseworker", "--clearance", "SENSITIVE"]
    assert cli.main([*base, *who, "--out", str(out)]) == 2
    assert log.disclosures("C-SECRET-77") == []
    assert out.read_text(encoding="utf-8") == "already here"
    assert cli.main([*base, *who, "--out", str(tmp_path / "no" / "copy.html")]) == 2
    assert log.disclosures("C-SECRET-77") == []
    assert cli.main([*base, *who, "--out", str(tmp_path), "--overwrite"]) == 2  # a folder
    assert log.disclosures("C-SECRET-77") == []
    captured = capsys.readouterr()
    assert "C-SECRET-77" not in captured.out + captured.err
    assert "(name)" not in captured.out + captured.err


def test_red_holds_does_not_answer_for_one_person_from_anothers_record(
    sink: RecordingSink,
) -> None:
    """A data source whose query is wrong yields someone else's record: `holds` read it
    and answered True for the person asked about, who holds nothing."""
    other = RedPosReferral("C-OTHER", "R-9", name="(theirs)")
    with (
        purposeful.use(REFERRAL, actor=CASEWORKER),
        pytest.raises(ConfigurationError) as refused,
    ):
        holds(lambda subject: [other], "RedPosReferral.name", subject="C-1")
    assert "C-OTHER" not in str(refused.value)
    assert "C-1" not in str(refused.value)
    purposeful.audit.flush()
    assert all(not report.fields_read for report in sink.reports)  # theirs was not read


def test_red_prefill_refuses_a_frozen_record_and_keeps_nothing() -> None:
    @purposeful.record(subject="client_id", key="ref", frozen=True)
    class RedPosFrozen:
        client_id: str
        ref: str
        name: str | None = purposeful.field(
            purposes={REFERRAL: PLAIN}, category="identity", default=None
        )

    log = MemorySharingStore()
    purposeful.configure(disclosure_log=log)
    record = RedPosFrozen("C-1", "F-1")
    with pytest.raises(ConfigurationError):
        prefill(record, {"name": "(new)"}, source="Kainga Ora", under=AGREEMENT, at=AT)
    assert log.provenance("C-1") == []
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        assert record.name is None


def test_red_the_copy_its_log_entry_and_event_hold_no_value_or_subject_id(
    sink: RecordingSink,
) -> None:
    log = MemorySharingStore()
    purposeful.configure(disclosure_log=log)
    intake = RedPosIntake("C-SECRET-41", "I-1", "Aroha-Secret-Name")
    with purposeful.use("service-delivery", actor=CASEWORKER):
        copy = copy_for_person(
            _access(), "C-SECRET-41", reference="INTAKE-4", records=[intake], at=AT
        )
    purposeful.audit.flush()
    [entry] = log.disclosures("C-SECRET-41")
    shown = [repr(copy), str(copy.items), repr(entry), repr(sink.reports)]
    for text in shown:
        assert "Aroha-Secret-Name" not in text
        assert "C-SECRET-41" not in text
    assert "C-SECRET-41" not in copy.text()  # the subject id is for our systems only


def test_red_provenance_and_collection_show_no_subject_id() -> None:
    log = MemorySharingStore()
    purposeful.configure(disclosure_log=log)
    record = RedPosReferral("C-SECRET-42", "R-10")
    kept = prefill(
        record, {"name": "Aroha-Secret-Name"}, source="Kainga Ora", under=AGREEMENT, at=AT
    )
    texts = [repr(kept), kept.describe(), repr(log.provenance("C-SECRET-42"))]
    texts.append(repr(log.still_to_be_told("C-SECRET-42")))
    for text in texts:
        assert "C-SECRET-42" not in text
        assert "Aroha-Secret-Name" not in text


@purposeful.record(subject="client_id", key="ref")
class RedPosCount:
    client_id: str
    ref: int
    visits: int = 0


@pytest.mark.parametrize(
    "record",
    [RedPosCount("C-1", 1, 10**5000), RedPosCount("C-1", 10**5000)],
    ids=["value", "key"],
)
def test_red_a_value_too_long_to_write_is_a_typed_error_and_logs_nothing(
    record: RedPosCount,
) -> None:
    """A very long integer (past Python's digit limit) ended the copy in a bare ValueError
    from json.dumps or str(), not the SubjectAccessError the docstring promises."""
    log = MemorySharingStore()
    purposeful.configure(disclosure_log=log)
    with (
        pytest.raises(SubjectAccessError) as refused,
        purposeful.use("service-delivery", actor=CASEWORKER),
    ):
        copy_for_person(_access(), "C-1", reference="INTAKE-5", records=[record], at=AT)
    frames = refused.value.__traceback__
    while frames is not None:  # no library frame below the entry point, holding the value
        code = frames.tb_frame.f_code
        assert "purposeful" not in code.co_filename or code.co_name == "copy_for_person"
        frames = frames.tb_next
    assert log.disclosures("C-1") == []


def test_red_roles_that_are_not_a_mapping_are_a_configuration_error() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    with (
        pytest.raises(ConfigurationError),
        purposeful.use("service-delivery", actor=CASEWORKER),
    ):
        copy_for_person(
            _access(),
            "C-1",
            reference="INTAKE-6",
            records=[RedPosIntake("C-1", "I-1", "(n)")],
            roles=["caseworker"],  # type: ignore[arg-type]
        )


@purposeful.record(subject="client_id", name="red-pos/referral 50%~")
class RedPosOddlyNamed:
    client_id: str
    name: str = purposeful.field(purposes={REFERRAL: PLAIN}, category="identity")


def test_red_the_schema_refers_to_a_record_whose_name_holds_pointer_characters() -> None:
    """A record named with '/' or '%' made a `$ref` that points nowhere: every validation
    against the schema failed with an unresolvable reference."""
    schema = AGREEMENT.json_schema("red-pos/referral 50%~")
    jsonschema.validate({"name": "(n)"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": 1}, schema)


def test_red_do_we_hold_this_already_is_still_a_function_once_retention_is_imported() -> None:
    """`purposeful.holds` once named both the function and the hold register's package:
    importing the package (purposeful.retention does) rebound the name to the module. The
    function is `purposeful.already_held`; `purposeful.holds` is the package."""
    importlib.import_module("purposeful.retention")  # an application with retention
    importlib.import_module("purposeful.holds.memory")
    assert callable(purposeful.already_held)
    assert purposeful.already_held is purposeful.asking.already_held
    assert hasattr(purposeful.holds, "MemoryHoldStore")


def test_red_a_referral_that_holds_nothing_for_a_field_does_not_erase_ours() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    sent = purposeful.disclose(
        RedPosReferral("C-1", "R-11", name="(their name)"),
        to="Kainga Ora",
        under=AGREEMENT,
        actor=CASEWORKER,
    )
    ours = RedPosReferral("C-1", "A-1", count=4)  # the household size we already hold
    prefill(ours, sent.to_json(), source="Te Whare Awhina", under=AGREEMENT, at=AT)
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        assert ours.name == "(their name)"
        assert ours.count == 4
