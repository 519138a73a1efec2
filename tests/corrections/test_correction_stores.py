"""The correction stores (IPP 7): every behaviour runs against each backend (`store` fixture:
memory, SQLite, PostgreSQL). The SQLite file and several processes are in
test_correction_sqlite.py, what only PostgreSQL must do in test_correction_postgres.py.

Personal text in the property test is wrapped in a marker character (a snowman) that appears
nowhere in purposeful's messages, so a marker found in any output can only have leaked.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _corrections import (
    DAY,
    NZ,
    OFFICER,
    OTHER,
    SUBJECT,
    T0,
    CorrectionProfile,
    NotARecord,
    Note,
    ask,
    messages,
    note,
    nothing,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.vendor.pretty import pretty

import purposeful
from purposeful.corrections import (
    BaseCorrectionStore,
    Correction,
    CorrectionStatus,
    MemoryCorrectionStore,
    SQLiteCorrectionStore,
)
from purposeful.errors import (
    ConfigurationError,
    CorrectionStoreError,
    InvalidCorrection,
    PurposefulError,
    StoreClosed,
    UnknownCorrection,
)
from purposeful.typing import CorrectionSource

# --- requests ---


def test_every_store_is_a_correction_source(store: BaseCorrectionStore) -> None:
    assert isinstance(store, CorrectionSource)
    assert not store.closed
    purposeful.configure(corrections=store)
    assert purposeful.get_configuration().corrections is store


def test_configure_takes_a_store_with_requests_and_statements() -> None:
    class StatementsOnly:
        def statements(
            self, subject: str, record: object = None, field: object = None
        ) -> list[Correction]:
            return []

    with pytest.raises(ConfigurationError, match=r"needs for_subject\(subject\) and statements"):
        purposeful.configure(corrections=StatementsOnly())  # type: ignore[arg-type]


def test_a_request_reads_back_equal(store: BaseCorrectionStore) -> None:
    made = store.request_correction(
        SUBJECT, note(), "address", "14 Cuba Street", "I moved in May", at=T0.astimezone(NZ)
    )
    assert (made.subject, made.record_type, made.record_key, made.field) == (
        SUBJECT,
        "Note",
        "N-1",
        "address",
    )
    assert (made.requested, made.reason) == ("14 Cuba Street", "I moved in May")
    assert made.requested_at == T0
    assert made.requested_at.utcoffset() == timedelta(0)
    assert made.status is CorrectionStatus.REQUESTED
    assert (made.decided_at, made.decided_by, made.decision_note) == (None, None, None)
    assert (made.statement, made.statement_at) == (None, None)
    assert len(made.id) == 32
    assert int(made.id, 16) >= 0
    assert store.get(made.id) == made
    assert store.for_subject(SUBJECT) == [made]
    assert store.for_subject(OTHER) == []
    assert store.pending() == [made]
    assert store.statements(SUBJECT) == []


def test_any_field_managed_or_not_may_be_corrected_and_empty_asks_for_removal(
    store: BaseCorrectionStore,
) -> None:
    key = store.request_correction(SUBJECT, note(), "note_id", "N-2", "wrong note number", at=T0)
    plain = store.request_correction(
        SUBJECT, CorrectionProfile(SUBJECT), "preferred_name", "", "please remove it", at=T0
    )
    assert (key.field, key.record_key) == ("note_id", "N-1")
    assert (plain.record_type, plain.record_key, plain.requested) == (
        "CorrectionProfile",
        SUBJECT,
        "",
    )
    assert store.get(plain.id).requested == ""


def test_the_time_defaults_to_now(store: BaseCorrectionStore) -> None:
    before = datetime.now(UTC)
    made = ask(store, at=None)
    applied = store.apply(made.id, nothing, by=OFFICER)
    assert applied.decided_at is not None
    assert before <= made.requested_at <= applied.decided_at <= datetime.now(UTC)


def test_for_subject_and_pending_are_oldest_first_then_in_the_order_recorded(
    store: BaseCorrectionStore,
) -> None:
    later = ask(store, note(note_id="N-1"), at=T0 + DAY)
    earlier = ask(store, note(note_id="N-2"), at=T0)
    tie = ask(store, note(note_id="N-3"), at=T0)
    theirs = ask(store, note(OTHER), at=T0 - DAY, subject=OTHER)
    assert store.for_subject(SUBJECT) == [earlier, tie, later]
    assert store.for_subject(OTHER) == [theirs]
    assert store.pending() == [theirs, earlier, tie, later]
    store.decline(tie.id, by=OFFICER, reason="the note was right", at=T0 + DAY)
    assert store.pending() == [theirs, earlier, later]
    assert [c.id for c in store.for_subject(SUBJECT)] == [earlier.id, tie.id, later.id]


# --- applying ---


def test_apply_calls_update_once_with_the_request_then_records_it_applied(
    store: BaseCorrectionStore,
) -> None:
    made = ask(store)
    calls: list[Correction] = []
    applied = store.apply(
        made.id, calls.append, by=OFFICER, note="address updated in CMS", at=T0.astimezone(NZ) + DAY
    )
    assert calls == [made]
    assert applied.status is CorrectionStatus.APPLIED
    assert (applied.decided_by, applied.decision_note) == ("staff-0042", "address updated in CMS")
    assert applied.decided_at == T0 + DAY
    assert applied.decided_at.utcoffset() == timedelta(0)
    assert applied.statement is None
    assert store.get(made.id) == applied
    assert store.pending() == []
    by_id = store.apply(ask(store).id, nothing, by="staff-0099", at=T0)
    assert (by_id.decided_by, by_id.decision_note) == ("staff-0099", None)


@pytest.mark.parametrize(
    "error",
    [RuntimeError("CMS is down"), sqlite3.OperationalError("database is locked"), KeyError("x")],
    ids=["runtime", "sqlite3", "key"],
)
def test_a_failing_update_leaves_the_request_pending_and_its_error_unchanged(
    store: BaseCorrectionStore, error: Exception
) -> None:
    made = ask(store)

    def update(correction: Correction) -> None:
        raise error

    with pytest.raises(type(error)) as caught:
        store.apply(made.id, update, by=OFFICER, at=T0)
    assert caught.value is error
    assert store.get(made.id) == made
    assert store.pending() == [made]
    assert store.apply(made.id, nothing, by=OFFICER, at=T0).status is CorrectionStatus.APPLIED


def test_an_update_that_uses_the_store_is_refused_and_changes_nothing(
    store: BaseCorrectionStore,
) -> None:
    made = ask(store)
    with pytest.raises(CorrectionStoreError, match="callback used the"):
        store.apply(made.id, lambda c: store.get(c.id), by=OFFICER, at=T0)
    with pytest.raises(CorrectionStoreError, match="callback used the"):
        store.apply(made.id, lambda c: store.close(), by=OFFICER, at=T0)
    assert not store.closed
    assert store.get(made.id) == made
    assert store.apply(made.id, nothing, by=OFFICER, at=T0).status is CorrectionStatus.APPLIED


def test_threads_deciding_one_request_at_once_leave_exactly_one_winner(
    store: BaseCorrectionStore,
) -> None:
    made = ask(store)
    updates: list[str] = []
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def decide(number: int) -> None:
        start.wait()
        try:
            if number % 2:
                store.apply(made.id, lambda c: updates.append(str(number)), by=f"staff-{number}")
            else:
                store.decline(made.id, by=f"staff-{number}", reason="accurate as it stands")
        except InvalidCorrection:
            outcomes.append("refused")
        else:
            outcomes.append(str(number))

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winners = [o for o in outcomes if o != "refused"]
    assert len(outcomes) == 6
    assert len(winners) == 1
    decided = store.get(made.id)
    assert decided.decided_by == f"staff-{winners[0]}"
    assert updates == (winners if decided.status is CorrectionStatus.APPLIED else [])


# --- declining, and statements of correction ---


def test_decline_without_a_statement_then_attach_one(store: BaseCorrectionStore) -> None:
    made = ask(store)
    declined = store.decline(made.id, by=OFFICER, reason="the address was verified", at=T0 + DAY)
    assert declined.status is CorrectionStatus.DECLINED
    assert (declined.decided_at, declined.decided_by) == (T0 + DAY, "staff-0042")
    assert declined.decision_note == "the address was verified"
    assert (declined.statement, declined.statement_at) == (None, None)
    assert store.statements(SUBJECT) == []
    stated = store.attach_statement(made.id, "I have not lived there since May", at=T0 + 2 * DAY)
    assert (stated.statement, stated.statement_at) == (
        "I have not lived there since May",
        T0 + 2 * DAY,
    )
    assert stated.status is CorrectionStatus.DECLINED
    assert store.get(made.id) == stated
    assert store.statements(SUBJECT) == [stated]


def test_decline_with_a_statement_attaches_it_at_the_decision(store: BaseCorrectionStore) -> None:
    made = ask(store)
    declined = store.decline(
        made.id, by="staff-0099", reason="verified", statement="I disagree", at=T0
    )
    assert (declined.statement, declined.statement_at) == ("I disagree", T0)
    assert store.get(made.id) == declined
    assert store.statements(SUBJECT) == [declined]


def test_a_statement_is_attached_to_a_declined_request_once(store: BaseCorrectionStore) -> None:
    pending = ask(store)
    applied = store.apply(ask(store).id, nothing, by=OFFICER, at=T0)
    declined = store.decline(ask(store).id, by=OFFICER, reason="verified", at=T0)
    with_one = store.decline(ask(store).id, by=OFFICER, reason="ok", statement="no", at=T0)
    for correction, state in [(pending, "is requested"), (applied, "is applied")]:
        with pytest.raises(InvalidCorrection, match=state) as caught:
            store.attach_statement(correction.id, "I disagree", at=T0)
        assert "record a new request" in str(caught.value)
    store.attach_statement(declined.id, "first", at=T0)
    for correction in (declined, with_one):
        with pytest.raises(InvalidCorrection, match="has had one since 2026-03-02"):
            store.attach_statement(correction.id, "second", at=T0)
    assert store.get(declined.id).statement == "first"
    assert store.get(with_one.id).statement == "no"
    assert store.get(pending.id) == pending
    assert store.get(applied.id) == applied


def test_a_request_is_decided_once(store: BaseCorrectionStore) -> None:
    applied = store.apply(ask(store).id, nothing, by=OFFICER, at=T0)
    declined = store.decline(ask(store).id, by=OFFICER, reason="verified", at=T0 + DAY)
    calls: list[Correction] = []
    for done, state in [(applied, "applied on 2026-03-02"), (declined, "declined on 2026-03-03")]:
        with pytest.raises(InvalidCorrection, match=f"already {state}"):
            store.apply(done.id, calls.append, by=OFFICER)
        with pytest.raises(InvalidCorrection, match=f"already {state}.*record a new request"):
            store.decline(done.id, by=OFFICER, reason="changed my mind")
        assert store.get(done.id) == done
    assert calls == []


def test_a_decision_cannot_come_before_the_request_nor_a_statement_before_the_decision(
    store: BaseCorrectionStore,
) -> None:
    made = ask(store, at=T0)
    calls: list[Correction] = []
    with pytest.raises(InvalidCorrection, match=r"requested on 2026-03-02.*on or after"):
        store.apply(made.id, calls.append, by=OFFICER, at=T0 - DAY)
    with pytest.raises(InvalidCorrection, match="requested on 2026-03-02"):
        store.decline(made.id, by=OFFICER, reason="verified", at=T0 - timedelta(microseconds=1))
    assert calls == []
    store.decline(made.id, by=OFFICER, reason="verified", at=T0 + DAY)
    with pytest.raises(InvalidCorrection, match="declined on 2026-03-03"):
        store.attach_statement(made.id, "I disagree", at=T0)
    assert store.get(made.id).statement is None


def test_statements_are_narrowed_to_a_record_and_a_field(store: BaseCorrectionStore) -> None:
    def declined(record: object, field: str, statement: str | None = "I disagree") -> Correction:
        subject = purposeful.record_policy(type(record)).subject_of(record)
        made = store.request_correction(subject, record, field, "new", "wrong", at=T0)
        return store.decline(made.id, by=OFFICER, reason="verified", statement=statement, at=T0)

    address = declined(note(note_id="N-1"), "address")
    key = declined(note(note_id="N-1"), "note_id")
    other_note = declined(note(note_id="N-2"), "address")
    profile = declined(CorrectionProfile(SUBJECT), "preferred_name")
    declined(note(note_id="N-1"), "address", statement=None)  # no statement: nothing travels
    declined(note(OTHER, "N-1"), "address")  # someone else's
    ask(store)  # still pending
    store.apply(ask(store).id, nothing, by=OFFICER, at=T0)

    assert store.statements(SUBJECT) == [address, key, other_note, profile]
    assert store.statements(SUBJECT, note(note_id="N-1")) == [address, key]
    assert store.statements(SUBJECT, note(note_id="N-1"), "address") == [address]
    assert store.statements(SUBJECT, field="address") == [address, other_note]
    assert store.statements(SUBJECT, CorrectionProfile(SUBJECT)) == [profile]
    assert store.statements(SUBJECT, note(note_id="N-9")) == []
    assert address.applies_to("Note", "N-1")
    assert address.applies_to("Note", "N-1", "address")
    assert not address.applies_to("Note", "N-1", "note_id")
    assert not address.applies_to("Note", "N-2")
    assert not address.applies_to("CorrectionProfile", "N-1")
    with pytest.raises(InvalidCorrection, match="about someone else"):
        store.statements(OTHER, note())
    with pytest.raises(InvalidCorrection, match=r"no field by that name.*client_id, note_id"):
        store.statements(SUBJECT, note(), "diagnosis")
    with pytest.raises(InvalidCorrection, match="record instance"):
        store.statements(SUBJECT, Note)


# --- what is refused ---


def test_an_unknown_id_is_refused_by_every_method(store: BaseCorrectionStore) -> None:
    missing = uuid.uuid4().hex
    calls: list[Callable[[str], object]] = [
        store.get,
        lambda ident: store.apply(ident, nothing, by=OFFICER),
        lambda ident: store.decline(ident, by=OFFICER, reason="verified"),
        lambda ident: store.attach_statement(ident, "I disagree"),
    ]
    for call in calls:
        with pytest.raises(UnknownCorrection, match=f"'{missing}'.*request_correction"):
            call(missing)
        with pytest.raises(UnknownCorrection) as caught:
            call(SUBJECT)  # a subject id passed by mistake is not echoed
        assert SUBJECT not in str(caught.value)
        assert "32 hexadecimal digits" in str(caught.value)
        with pytest.raises(UnknownCorrection):
            call(7)  # type: ignore[arg-type]


def test_a_record_about_someone_else_is_refused_without_naming_anyone(
    store: BaseCorrectionStore,
) -> None:
    with pytest.raises(InvalidCorrection, match="the Note record is about someone else") as caught:
        store.request_correction(OTHER, note(SUBJECT), "address", "new", "wrong", at=T0)
    assert SUBJECT not in str(caught.value)
    assert OTHER not in str(caught.value)
    assert store.for_subject(OTHER) == store.for_subject(SUBJECT) == []


def test_a_field_the_record_does_not_have_is_refused_with_the_fields_it_has(
    store: BaseCorrectionStore,
) -> None:
    for field in ("diagnosis", "Address", ""):
        with pytest.raises(InvalidCorrection, match="Note has no field by that name") as caught:
            store.request_correction(SUBJECT, note(), field, "new", "wrong", at=T0)
        assert "its fields: client_id, note_id, address" in str(caught.value)
    assert store.pending() == []


@pytest.mark.parametrize(
    ("record", "shown"),
    [
        ({"client_id": SUBJECT}, "not dict; pass a record instance"),
        (NotARecord(), "not NotARecord; pass a record instance"),
        (None, "not NoneType"),
        (Note, "not the class Note"),
    ],
    ids=["dict", "plain-object", "none", "the-class"],
)
def test_only_a_record_instance_is_accepted(
    store: BaseCorrectionStore, record: object, shown: str
) -> None:
    with pytest.raises(InvalidCorrection, match=shown):
        store.request_correction(SUBJECT, record, "address", "new", "wrong", at=T0)
    assert store.pending() == []


def test_naive_datetimes_are_refused_everywhere(store: BaseCorrectionStore) -> None:
    naive = datetime(2026, 3, 2, 9, 30)
    made = ask(store)
    declined = store.decline(ask(store).id, by=OFFICER, reason="verified", at=T0)
    calls: list[Callable[[], object]] = [
        lambda: ask(store, at=naive),
        lambda: store.apply(made.id, nothing, by=OFFICER, at=naive),
        lambda: store.decline(made.id, by=OFFICER, reason="verified", at=naive),
        lambda: store.attach_statement(declined.id, "I disagree", at=naive),
        lambda: ask(store, at="2026-03-02T09:30:00+13:00"),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(InvalidCorrection, match="aware datetime"):
            call()
    assert store.pending() == [made]
    assert store.get(declined.id) == declined


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s, c: s.request_correction("", note(""), "address", "x", "y"), "subject="),
        (lambda s, c: s.request_correction(SUBJECT, note(), "address", "x", ""), "reason="),
        (lambda s, c: s.request_correction(SUBJECT, note(), "address", "x", "  "), "reason="),
        (lambda s, c: s.request_correction(SUBJECT, note(), "address", None, "y"), "NoneType"),
        (lambda s, c: s.apply(c.id, nothing, by=""), "by="),
        (lambda s, c: s.apply(c.id, nothing, by=7), "by="),
        (lambda s, c: s.apply(c.id, nothing, by=OFFICER, note=""), "note="),
        (lambda s, c: s.apply(c.id, "update", by=OFFICER), "update callback"),
        (lambda s, c: s.decline(c.id, by=OFFICER, reason=""), "reason="),
        (lambda s, c: s.decline(c.id, by=OFFICER, reason="ok", statement=""), "statement="),
        (lambda s, c: s.attach_statement(c.id, ""), "statement="),
        (lambda s, c: s.for_subject(""), "subject="),
        (lambda s, c: s.statements(SUBJECT, field=3), "field="),
    ],
)
def test_malformed_arguments_are_refused_and_change_nothing(
    store: BaseCorrectionStore,
    call: Callable[[BaseCorrectionStore, Correction], object],
    match: str,
) -> None:
    made = ask(store)
    with pytest.raises(InvalidCorrection, match=match):
        call(store, made)
    assert store.for_subject(SUBJECT) == [made]


def assert_refused_before_writing(store: BaseCorrectionStore, bad: str, what: str) -> None:
    """Every argument that is stored, holding *bad*, is refused; nothing is written."""
    made = ask(store)
    declined = store.decline(ask(store).id, by=OFFICER, reason="verified", at=T0)
    calls: list[tuple[Callable[[], object], str]] = [
        (lambda: ask(store, note(f"C{bad}1"), subject=f"C{bad}1"), "subject="),
        (lambda: ask(store, note(note_id=f"N{bad}1")), "the Note record's key"),
        (lambda: store.request_correction(SUBJECT, note(), "address", bad, "why"), "requested="),
        (lambda: store.request_correction(SUBJECT, note(), "address", "", f"a{bad}"), "reason="),
        (lambda: store.apply(made.id, nothing, by=f"staff{bad}"), "by="),
        (lambda: store.apply(made.id, nothing, by=OFFICER, note=f"n{bad}"), "note="),
        (lambda: store.decline(made.id, by=OFFICER, reason=f"r{bad}"), "reason="),
        (lambda: store.decline(made.id, by=OFFICER, reason="ok", statement=bad), "statement="),
        (lambda: store.attach_statement(declined.id, f"s{bad}"), "statement="),
    ]
    for call, named in calls:
        with pytest.raises(InvalidCorrection, match=f"{named}.* holds {what}, which a") as caught:
            call()
        assert bad not in str(caught.value)
    assert store.for_subject(SUBJECT) == [made, declined]
    assert store.pending() == [made]
    assert store.for_subject(f"C{bad}1") == []
    assert store.statements(f"C{bad}1") == []


def test_an_unpaired_surrogate_is_refused_before_anything_is_written(
    store: BaseCorrectionStore,
) -> None:
    assert_refused_before_writing(store, "\ud800", "an unpaired surrogate")


def test_a_nul_character_is_kept_unless_the_store_is_postgresql(
    store: BaseCorrectionStore,
) -> None:
    if type(store).__name__.startswith("Postgres"):  # its text cannot hold one
        assert_refused_before_writing(store, "\x00", "a NUL character")
        return
    record = note("C\x001", "N\x001")
    made = store.request_correction("C\x001", record, "address", "\x00", "a\x00b", at=T0)
    declined = store.decline(made.id, by=OFFICER, reason="r\x00", statement="s\x00", at=T0)
    assert store.for_subject("C\x001") == [declined]
    assert store.statements("C\x001", record, "address") == [declined]
    kept = (declined.record_key, declined.requested, declined.statement)
    assert kept == ("N\x001", "\x00", "s\x00")


def test_an_id_that_is_not_a_correction_id_finds_nothing(store: BaseCorrectionStore) -> None:
    ask(store)
    for ident in ("a" * 31 + "\x00", "\ud800" * 32, "A" * 32):
        with pytest.raises(UnknownCorrection, match="32 hexadecimal digits"):
            store.get(ident)


def test_a_closed_store_raises_store_closed_for_everything(store: BaseCorrectionStore) -> None:
    made = ask(store)
    with store as entered:
        assert entered is store
    assert store.closed
    store.close()  # harmless
    calls: list[Callable[[], object]] = [
        lambda: ask(store),
        lambda: store.apply(made.id, nothing, by=OFFICER),
        lambda: store.decline(made.id, by=OFFICER, reason="verified"),
        lambda: store.attach_statement(made.id, "I disagree"),
        lambda: store.get(made.id),
        lambda: store.for_subject(SUBJECT),
        lambda: store.statements(SUBJECT),
        lambda: store.pending(),
        store.__enter__,
    ]
    for call in calls:
        with pytest.raises(StoreClosed, match="is closed; open the store again"):
            call()


def test_the_repr_shows_only_the_id_record_type_field_and_status(
    store: BaseCorrectionStore,
) -> None:
    made = store.decline(
        ask(store).id, by=OFFICER, reason="verified", statement="I disagree", at=T0
    )
    expected = (
        f"Correction(id={made.id!r}, record_type='Note', field='address', "
        f"status=CorrectionStatus.DECLINED)"
    )
    assert repr(made) == str(made) == pretty(made) == expected
    assert repr([made]) == f"[{expected}]"


# --- nothing personal leaks ---

MARK = "\u2603"
personal = st.text(st.characters(categories=["L"]), min_size=4).map(lambda s: f"{MARK}{s}{MARK}")


def open_store(kind: str, request: pytest.FixtureRequest) -> BaseCorrectionStore:
    """A new store of *kind*; a PostgreSQL one in the test's schema."""
    if kind == "memory":
        return MemoryCorrectionStore()
    if kind == "sqlite":
        folder: Path = request.getfixturevalue("tmp_path")
        return SQLiteCorrectionStore(folder / f"{uuid.uuid4().hex}.sqlite3")
    from purposeful.corrections.postgres import PostgresCorrectionStore

    dsn, schema = request.getfixturevalue("postgres_schema")
    return PostgresCorrectionStore(dsn, schema=schema)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=personal, other=personal, requested=personal, reason=personal, statement=personal)
def test_no_message_or_repr_holds_a_subject_requested_value_reason_or_statement(
    kind: str,
    request: pytest.FixtureRequest,
    subject: str,
    other: str,
    requested: str,
    reason: str,
    statement: str,
) -> None:
    assume(subject != other)
    secrets = (subject, other, requested, reason, statement)
    store = open_store(kind, request)
    texts: list[str] = []

    def refused(call: Callable[[], object]) -> None:
        with pytest.raises(PurposefulError) as caught:
            call()
        texts.append(messages(caught.value))

    record = note(subject)
    with store:
        refused(lambda: store.request_correction(other, record, "address", requested, reason))
        refused(lambda: store.request_correction(subject, record, requested, requested, reason))
        refused(lambda: store.request_correction(subject, {subject: requested}, "x", "y", reason))
        refused(lambda: store.request_correction(subject, record, "address", requested, ""))
        as_bytes: Any = requested.encode()
        refused(lambda: store.request_correction(subject, record, "address", as_bytes, reason))
        refused(lambda: ask(store, record, at=datetime(2026, 1, 1), subject=subject))
        made = store.request_correction(subject, record, "address", requested, reason, at=T0)
        texts.append(repr(made))
        for ident in (subject, requested, reason):
            refused(functools.partial(store.get, ident))
        refused(lambda: store.apply(made.id, lambda c: store.for_subject(subject), by=OFFICER))
        refused(lambda: store.attach_statement(made.id, statement))
        refused(lambda: store.decline(made.id, by=OFFICER, reason=reason, at=T0 - DAY))
        declined = store.decline(made.id, by=OFFICER, reason=reason, statement=statement, at=T0)
        refused(lambda: store.attach_statement(made.id, statement))
        refused(lambda: store.apply(made.id, nothing, by=OFFICER))
        refused(lambda: store.statements(other, record))
        refused(lambda: store.statements(subject, record, requested))
        texts += [repr(declined), pretty(declined), repr(store.for_subject(subject))]
        texts += [repr(store.statements(subject, record)), repr(store.pending())]
    refused(lambda: store.for_subject(subject))
    for text in texts:
        assert MARK not in text
        assert not any(secret in text for secret in secrets)
