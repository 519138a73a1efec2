"""Statements of correction travel with the payload (IPP 7): `Disclosed.to_json()` carries
them under `STATEMENTS`; `prefill` keeps those of the fields it fills with where the fields
came from, and `receive` keeps them with the collection, in every sharing store. A
malformed member is a `ReferralInvalid`, never a crash, and nothing is written.
"""

from __future__ import annotations

import json
import sqlite3
import string
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from _sharing import messages
from _tell_us_once import (
    CASEWORKER,
    NAME,
    PHONE,
    RECEIVED,
    RECEIVER,
    REFERRAL,
    SENDER,
    SUBJECT,
    TUOApplication,
    TUOReferral,
    agreement,
    consent_for,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from purposeful.corrections import MemoryCorrectionStore
from purposeful.errors import ConfigurationError, ReferralInvalid, StoreCorrupt
from purposeful.sharing import (
    STATEMENTS,
    BaseSharingStore,
    MemorySharingStore,
    Provenance,
    SQLiteSharingStore,
    prefill,
)
from purposeful.sharing.schema import MAX_STATEMENT_LENGTH, MAX_STATEMENTS

PAYLOAD: dict[str, Any] = {"name": NAME, "phone": PHONE, "people": 3}
RENAMED = {"name": "full_name"}
SAID = "STATEMENT-my-number-changed-private"
#: The reason codes of a malformed statements member.
STATEMENT_REASONS = {
    "statement-malformed",
    "statement-for-field-not-carried",
    "statement-too-large",
}


@pytest.fixture(autouse=True)
def _consent() -> None:
    purposeful.configure(consent=consent_for(SUBJECT))


def fill(record: object, payload: dict[str, Any], **options: Any) -> Provenance:
    options.setdefault("source", SENDER)
    options.setdefault("under", agreement())
    options.setdefault("fields", RENAMED)
    options.setdefault("at", RECEIVED)
    return prefill(record, payload, **options)


def test_statements_are_kept_with_where_the_fields_came_from_by_our_names(
    store: BaseSharingStore,
) -> None:
    purposeful.configure(disclosure_log=store)
    payload = PAYLOAD | {STATEMENTS: {"phone": [SAID, "and again"], "name": ["spelt Mere"]}}
    kept = fill(TUOApplication(SUBJECT, "A-1"), payload)
    assert dict(kept.statements) == {"phone": (SAID, "and again"), "full_name": ("spelt Mere",)}
    assert kept.statements_for("phone") == (SAID, "and again")
    assert kept.statements_for("people") == ()
    assert store.provenance(SUBJECT) == [kept]  # every store keeps them, exactly
    assert store.provenance(SUBJECT)[0].statements == kept.statements
    assert SAID not in repr(kept) + repr(store.provenance(SUBJECT)) + kept.describe()


def test_without_the_member_nothing_changes(store: BaseSharingStore) -> None:
    purposeful.configure(disclosure_log=store)
    kept = fill(TUOApplication(SUBJECT, "A-1"), PAYLOAD)
    assert kept.statements == ()
    assert store.provenance(SUBJECT) == [kept]


def test_a_statement_goes_from_the_correction_store_to_the_partners_provenance() -> None:
    """End to end: declined with a statement here, disclosed, sent as JSON, filled there."""
    log = MemorySharingStore()
    corrections = MemoryCorrectionStore()
    purposeful.configure(disclosure_log=log, corrections=corrections)
    theirs = TUOReferral(SUBJECT, "R-1", NAME, PHONE)
    asked = corrections.request_correction(SUBJECT, theirs, "phone", "021 000 0000", "old")
    corrections.decline(asked.id, by="staff-02", reason="verified", statement=SAID)
    sent = purposeful.disclose(theirs, to=RECEIVER, under=agreement(), actor=CASEWORKER)
    assert sent.statements == {"phone": (SAID,)}
    payload = json.loads(json.dumps(sent.to_json()))  # as it arrives, over the wire
    assert payload[STATEMENTS] == {"phone": [SAID]}
    jsonschema.validate(payload, agreement().json_schema(TUOReferral))
    kept = fill(TUOApplication(SUBJECT, "A-1"), payload, reference=sent.reference)
    assert kept.statements_for("phone") == (SAID,)
    # the log says the disclosure carried it: nobody is still to be told of it
    assert log.parties_to_tell(corrections.get(asked.id)) == []


def test_a_payload_without_statements_is_as_it_was() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore(), corrections=MemoryCorrectionStore())
    sent = purposeful.disclose(
        TUOReferral(SUBJECT, "R-1", NAME, PHONE), to=RECEIVER, under=agreement(), actor=CASEWORKER
    )
    assert STATEMENTS not in sent.to_json()
    assert set(sent.to_json()) == set(sent)


def test_a_statement_of_a_field_sent_as_null_is_not_kept_as_nothing_is_filled() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    kept = fill(
        TUOApplication(SUBJECT, "A-1"),
        {"name": NAME, "phone": None, STATEMENTS: {"phone": [SAID]}},
    )
    assert kept.fields == ("full_name",)
    assert kept.statements == ()


def refused(store: BaseSharingStore, payload: dict[str, Any]) -> ReferralInvalid:
    """Prefill *payload*: refused, nothing filled or written, no value in the message."""
    purposeful.configure(disclosure_log=store)
    record = TUOApplication(SUBJECT, "A-1")
    with pytest.raises(ReferralInvalid) as caught:
        fill(record, payload)
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        assert (record.full_name, record.phone, record.people) == (None, None, None)
    assert store.provenance(SUBJECT) == []
    assert store.collections(SUBJECT) == []
    text = messages(caught.value)
    for secret in (NAME, PHONE, SUBJECT, SAID, "x" * 50):
        assert secret not in text
    return caught.value


MALFORMED: list[tuple[Any, str, tuple[str, ...]]] = [
    ([SAID], "statement-malformed", ()),  # not an object
    (SAID, "statement-malformed", ()),
    (None, "statement-malformed", ()),
    ({}, "statement-malformed", ()),  # left out when there are none
    ({"phone": SAID}, "statement-malformed", ("phone",)),  # not a list
    ({"phone": []}, "statement-malformed", ("phone",)),
    ({"phone": [""]}, "statement-malformed", ("phone",)),
    ({"phone": [" \n "]}, "statement-malformed", ("phone",)),
    ({"phone": [1]}, "statement-malformed", ("phone",)),
    ({"phone": [[SAID]]}, "statement-malformed", ("phone",)),
    ({"phone": [{"text": SAID}]}, "statement-malformed", ("phone",)),
    ({"phone": [SAID + "\x00"]}, "statement-malformed", ("phone",)),  # no store keeps it
    ({"phone": [SAID + "\ud800"]}, "statement-malformed", ("phone",)),
    ({"phone\x00": [SAID]}, "statement-malformed", ()),  # a key that is no field name
    ({SAID + " ": [SAID]}, "statement-malformed", ()),
    ({"tenure": [SAID]}, "statement-for-field-not-carried", ("tenure",)),
    ({"address": [SAID]}, "statement-for-field-not-carried", ("address",)),
    ({"full_name": [SAID]}, "statement-for-field-not-carried", ("full_name",)),  # our name
    ({f"f{n}": [SAID] for n in range(10)}, "statement-for-field-not-carried", ()),
    ({"phone": [SAID] * (MAX_STATEMENTS + 1)}, "statement-too-large", ("phone",)),
    ({"phone": ["x" * (MAX_STATEMENT_LENGTH + 1)]}, "statement-too-large", ("phone",)),
]


@pytest.mark.parametrize(("member", "reason", "fields"), MALFORMED, ids=repr)
def test_a_malformed_statements_member_is_refused_with_its_reason(
    member: Any, reason: str, fields: tuple[str, ...]
) -> None:
    error = refused(MemorySharingStore(), PAYLOAD | {STATEMENTS: member})
    assert error.reasons == (reason,)
    assert error.fields == fields
    assert repr(STATEMENTS) in str(error)


def test_a_malformed_member_is_refused_in_every_store_as_well(store: BaseSharingStore) -> None:
    error = refused(store, PAYLOAD | {STATEMENTS: {"tenure": [SAID], "phone": [""]}})
    assert set(error.reasons) == {"statement-for-field-not-carried", "statement-malformed"}


def test_a_huge_member_is_refused_without_walking_it() -> None:
    class Endless(dict[str, Any]):
        def items(self) -> Any:
            raise AssertionError("walked")

    huge = Endless({f"f{n}": [SAID] for n in range(100_000)})
    assert refused(MemorySharingStore(), PAYLOAD | {STATEMENTS: huge}).reasons == (
        "statement-for-field-not-carried",
    )


def test_statements_are_checked_when_a_provenance_is_made() -> None:
    base: dict[str, Any] = {
        "id": "a" * 32,
        "subject": SUBJECT,
        "record_type": "TUOApplication",
        "record_key": "A-1",
        "fields": ("phone",),
        "source": "Te Whare Āwhina",
        "agreement": "tuo-housing-referrals",
        "agreement_name": "Housing referrals",
        "purpose": REFERRAL,
        "received_at": RECEIVED,
    }
    assert Provenance(**base, statements={"phone": [SAID]}).statements == (("phone", (SAID,)),)
    for bad in ({"people": [SAID]}, {"phone": []}, {"phone": SAID}, {"phone": [" "]}, SAID):
        with pytest.raises(ConfigurationError) as caught:
            Provenance(**base, statements=bad)
        assert SAID not in str(caught.value)


# --- properties over any JSON ---


def _outcome(record: object, payload: dict[str, Any]) -> Provenance | ReferralInvalid:
    """What prefill kept, or the `ReferralInvalid` it raised (any other error fails)."""
    try:
        return fill(record, payload)
    except ReferralInvalid as error:
        return error


#: Any JSON value; its text is marked (a character no identifier holds), so a message that
#: shows any of it is found out.
MARK = "§"
marked = st.text(max_size=12).map(lambda text: MARK + text)
keys = st.sampled_from(["name", "phone", "people", "tenure", "history", "full_name"]) | marked
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | marked,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(member=json_values | st.dictionaries(keys, json_values, max_size=4))
def test_any_json_for_the_member_is_kept_exactly_or_refused_with_a_reason(member: Any) -> None:
    purposeful.reset_configuration()
    store = MemorySharingStore()
    purposeful.configure(consent=consent_for(SUBJECT), disclosure_log=store)
    kept = _outcome(TUOApplication(SUBJECT, "A-1"), PAYLOAD | {STATEMENTS: member})
    if isinstance(kept, ReferralInvalid):
        assert set(kept.reasons) <= STATEMENT_REASONS
        assert MARK not in messages(kept)
        assert store.provenance(SUBJECT) == []
        return
    assert dict(kept.statements) == {
        RENAMED.get(field, field): tuple(said) for field, said in member.items()
    }
    assert store.provenance(SUBJECT) == [kept]


VALIDATOR = jsonschema.Draft202012Validator
texts = st.text(alphabet=string.ascii_letters + " \n-āē", max_size=6)
statement_members = st.dictionaries(
    st.sampled_from(["name", "phone", "people", "tenure", "history", "address"]),
    st.lists(texts, max_size=3) | texts,
    max_size=4,
)


@settings(max_examples=300)
@given(member=statement_members)
def test_prefill_takes_the_member_exactly_when_the_agreements_schema_does(
    member: dict[str, Any],
) -> None:
    """The schema describes the member exactly: a partner validating with it knows what
    prefill will take."""
    purposeful.reset_configuration()
    purposeful.configure(consent=consent_for(SUBJECT), disclosure_log=MemorySharingStore())
    payload = PAYLOAD | {STATEMENTS: member}
    schema = agreement().json_schema(TUOReferral)
    taken = not isinstance(_outcome(TUOApplication(SUBJECT, "A-1"), payload), ReferralInvalid)
    assert taken == VALIDATOR(schema).is_valid(payload)


# --- schema version 4: a store written before statements were kept ---


def test_a_version_3_sqlite_store_is_migrated_and_reads_its_provenance_with_none(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v3.sqlite3"
    with SQLiteSharingStore(path) as store:
        purposeful.configure(disclosure_log=store)
        before = fill(TUOApplication(SUBJECT, "A-1"), PAYLOAD)
    with sqlite3.connect(path) as connection:  # as version 3 left it
        connection.execute("ALTER TABLE provenance DROP COLUMN statements")
        connection.execute("ALTER TABLE collections DROP COLUMN statements")
        connection.execute("PRAGMA user_version = 3")
    connection.close()
    with SQLiteSharingStore(path) as store:
        purposeful.configure(disclosure_log=store)
        assert store.provenance(SUBJECT) == [before]
        after = fill(TUOApplication(SUBJECT, "A-2"), PAYLOAD | {STATEMENTS: {"phone": [SAID]}})
        assert store.provenance(SUBJECT) == [before, after]
        assert [c.statements for c in store.collections(SUBJECT)] == [(), ()]
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (4,)
    connection.close()


def test_a_version_3_postgres_store_is_migrated(postgres_schema: tuple[str, str]) -> None:
    psycopg = pytest.importorskip("psycopg")
    from purposeful.sharing.postgres import SCHEMA_VERSION, VERSION_TABLE, PostgresSharingStore

    dsn, schema = postgres_schema
    with PostgresSharingStore(dsn, schema=schema) as store:
        purposeful.configure(disclosure_log=store)
        before = fill(TUOApplication(SUBJECT, "A-1"), PAYLOAD)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'ALTER TABLE "{schema}".provenance DROP COLUMN statements')
        connection.execute(f'ALTER TABLE "{schema}".collections DROP COLUMN statements')
        connection.execute(f'UPDATE "{schema}".{VERSION_TABLE} SET version = 3')
    with PostgresSharingStore(dsn, schema=schema) as store:
        purposeful.configure(disclosure_log=store)
        assert store.provenance(SUBJECT) == [before]
        after = fill(TUOApplication(SUBJECT, "A-2"), PAYLOAD | {STATEMENTS: {"phone": [SAID]}})
        assert store.provenance(SUBJECT) == [before, after]
        assert [c.statements for c in store.collections(SUBJECT)] == [(), ()]
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute(f'SELECT version FROM "{schema}".{VERSION_TABLE}').fetchone()
    assert row == (SCHEMA_VERSION,) == (4,)


def test_a_damaged_statements_column_is_store_corrupt_and_shows_no_statement(
    tmp_path: Path,
) -> None:
    path = tmp_path / "damaged.sqlite3"
    with SQLiteSharingStore(path) as store:
        purposeful.configure(disclosure_log=store)
        fill(TUOApplication(SUBJECT, "A-1"), PAYLOAD | {STATEMENTS: {"phone": [SAID]}})
    for damaged in ("not json", '{"phone": ["x"]}', '[["phone", "x"]]', '[["history", ["x"]]]'):
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE provenance SET statements = ?", (damaged,))
        connection.close()
        with SQLiteSharingStore(path) as store, pytest.raises(StoreCorrupt) as raised:
            store.provenance(SUBJECT)
        assert SAID not in messages(raised.value)


# --- receive: a referral in that the agency filled its record from itself ---


def test_receive_keeps_the_statements_with_the_collection(store: BaseSharingStore) -> None:
    purposeful.configure(disclosure_log=store)
    record = TUOApplication(SUBJECT, "A-1", full_name=NAME, phone=PHONE)
    collected = purposeful.receive(
        record, source=SENDER, purpose=REFERRAL, at=RECEIVED, statements={"phone": [SAID]}
    )
    assert dict(collected.statements) == {"phone": (SAID,)}
    assert store.collections(SUBJECT) == [collected]
    assert store.still_to_be_told(SUBJECT)[0].statements == (("phone", (SAID,)),)
    resolved = store.mark_told(collected.id, how="letter")
    assert resolved.statements == collected.statements  # kept when it is resolved
    assert SAID not in repr(collected) + repr(store.collections(SUBJECT))


def test_receive_without_statements_keeps_none() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    collected = purposeful.receive(
        TUOApplication(SUBJECT, "A-1", phone=PHONE), source=SENDER, purpose=REFERRAL
    )
    assert collected.statements == ()


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ({"tenure": [SAID]}, "statement-for-field-not-carried"),  # holds nothing
        ({"address": [SAID]}, "statement-for-field-not-carried"),  # no such field
        ({"phone": SAID}, "statement-malformed"),
        ([SAID], "statement-malformed"),
        ({}, "statement-malformed"),
        ({"phone": ["x" * (MAX_STATEMENT_LENGTH + 1)]}, "statement-too-large"),
    ],
    ids=repr,
)
def test_receive_refuses_statements_that_do_not_fit_the_record(
    store: BaseSharingStore, member: Any, reason: str
) -> None:
    purposeful.configure(disclosure_log=store)
    record = TUOApplication(SUBJECT, "A-1", full_name=NAME, phone=PHONE)
    with pytest.raises(ReferralInvalid) as caught:
        purposeful.receive(record, source=SENDER, purpose=REFERRAL, statements=member)
    assert caught.value.reasons == (reason,)
    assert store.collections(SUBJECT) == []
    text = messages(caught.value)
    for secret in (NAME, PHONE, SUBJECT, SAID, "x" * 50):
        assert secret not in text


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(member=json_values | st.dictionaries(keys, json_values, max_size=4))
def test_receive_keeps_any_json_member_exactly_or_refuses_it_with_a_reason(member: Any) -> None:
    purposeful.reset_configuration()
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    record = TUOApplication(SUBJECT, "A-1", full_name=NAME, phone=PHONE, people=3)
    try:
        collected = purposeful.receive(record, source=SENDER, purpose=REFERRAL, statements=member)
    except ReferralInvalid as error:
        refusal: ReferralInvalid | None = error
    else:
        refusal = None
        # None is what payload.get(STATEMENTS) gives when there are none
        kept = {} if member is None else {k: tuple(v) for k, v in member.items()}
        assert dict(collected.statements) == kept
        assert store.collections(SUBJECT) == [collected]
    if refusal is not None:
        assert set(refusal.reasons) <= STATEMENT_REASONS
        assert MARK not in messages(refusal)
        assert store.collections(SUBJECT) == []
