"""Filling our records from a partner's referral, with where each field came from kept.

Run against every sharing store (`store`: memory, SQLite, PostgreSQL). A referral that does
not fit its agreement is refused with every problem named and nothing written: not the
record, not the store.
"""

from __future__ import annotations

import json
import sqlite3
import string
import warnings
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import attrs
import pydantic
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
    Tenure,
    TUOApplication,
    TUOFrozen,
    TUOReferral,
    agreement,
    consent_for,
)
from hypothesis import given
from hypothesis import strategies as st

import purposeful
from purposeful import CONSENT
from purposeful.errors import (
    ConfigurationError,
    DictStorageWarning,
    PurposefulError,
    ReferralInvalid,
    SharingStoreError,
    StoreError,
)
from purposeful.sharing import (
    BaseSharingStore,
    CollectionStatus,
    MemorySharingStore,
    Provenance,
    SQLiteSharingStore,
    prefill,
)

PAYLOAD: dict[str, Any] = {
    "name": NAME,
    "phone": PHONE,
    "born": "1990-03-03",
    "tenure": "renting",
    "people": 3,
    "urgent": True,
}
RENAMED = {"name": "full_name"}


def application() -> TUOApplication:
    return TUOApplication(SUBJECT, "A-1")


def filled(record: TUOApplication) -> dict[str, Any]:
    """The record's referral fields, read in a referral scope."""
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        return {
            name: getattr(record, name)
            for name in ("full_name", "phone", "born", "tenure", "people", "urgent")
        }


@pytest.fixture(autouse=True)
def _consent() -> None:
    purposeful.configure(consent=consent_for(SUBJECT))


def fill(record: object, payload: dict[str, Any] | None = None, **options: Any) -> Provenance:
    options.setdefault("source", SENDER)
    options.setdefault("under", agreement())
    options.setdefault("fields", RENAMED)
    options.setdefault("at", RECEIVED)
    return prefill(record, PAYLOAD if payload is None else payload, **options)


def test_prefill_fills_the_record_field_by_field_and_keeps_where_from(
    store: BaseSharingStore,
) -> None:
    purposeful.configure(disclosure_log=store)
    record = application()
    kept = fill(record, referred=date(2026, 5, 11), reference="a" * 32)
    assert filled(record) == {
        "full_name": NAME,
        "phone": PHONE,
        "born": date(1990, 3, 3),
        "tenure": Tenure.RENTING,
        "people": 3,
        "urgent": True,
    }
    assert kept.describe() == "from Te Whare Āwhina's referral of 11 May 2026"
    assert kept.fields == ("full_name", "phone", "born", "tenure", "people", "urgent")
    assert (kept.source, kept.agreement, kept.agreement_name) == (
        "Te Whare Āwhina",
        "tuo-housing-referrals",
        "Housing referrals",
    )
    assert store.provenance(SUBJECT) == [kept]
    assert store.provenance(SUBJECT, "TUOApplication", "A-1") == [kept]
    assert store.provenance(SUBJECT, "TUOApplication", "A-2") == []
    assert store.provenance("someone-else") == []
    # the IPP 3A collection, recorded in the same write
    [collected] = store.still_to_be_told(SUBJECT)
    assert collected.id == kept.collection
    assert (collected.source, collected.record_type, collected.record_key) == (
        "Te Whare Āwhina",
        "TUOApplication",
        "A-1",
    )


def test_the_store_keeps_names_never_values(store: BaseSharingStore) -> None:
    purposeful.configure(disclosure_log=store)
    kept = fill(application())
    for shown in (repr(kept), repr(store.provenance(SUBJECT)), kept.describe()):
        assert NAME not in shown
        assert PHONE not in shown
        assert SUBJECT not in shown


def test_without_a_referral_date_it_is_the_new_zealand_day_received() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    kept = fill(application())
    assert kept.referred_on is None
    assert kept.describe() == "from Te Whare Āwhina's referral of 13 May 2026"


def test_a_referral_before_ipp_3a_is_recorded_with_the_exception() -> None:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    kept = fill(application(), at=datetime(2026, 3, 3, tzinfo=UTC))
    assert store.still_to_be_told() == []
    [collected] = store.collections(SUBJECT)
    assert collected.status is CollectionStatus.EXCEPTION
    assert collected.id == kept.collection


def test_python_values_are_taken_as_they_are() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    record = application()
    fill(record, {"born": date(1990, 3, 3), "tenure": Tenure.OWNED, "name": NAME})
    assert filled(record)["born"] == date(1990, 3, 3)
    assert filled(record)["tenure"] is Tenure.OWNED


def test_a_disclosed_payload_fills_the_partners_record_end_to_end() -> None:
    log = MemorySharingStore()
    purposeful.configure(disclosure_log=log)
    theirs = TUOReferral(SUBJECT, "R-1", NAME, PHONE, date(1990, 3, 3), Tenure.NONE, 2)
    sent = purposeful.disclose(theirs, to=RECEIVER, under=agreement(), actor=CASEWORKER)
    record = application()
    kept = fill(record, sent.to_json(), reference=sent.reference)
    assert kept.reference == sent.reference
    assert filled(record)["full_name"] == NAME
    assert filled(record)["tenure"] is Tenure.NONE


texts = st.text(alphabet=string.ascii_letters + " -āēīōū", min_size=1, max_size=20)


@given(
    name=texts,
    phone=st.none() | texts,
    born=st.none() | st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 1, 1)),
    tenure=st.none() | st.sampled_from(Tenure),
    people=st.none() | st.integers(0, 20),
    urgent=st.booleans(),
)
def test_what_disclose_sends_fills_the_same_values_back(**values: Any) -> None:
    purposeful.reset_configuration()
    purposeful.configure(disclosure_log=MemorySharingStore(), consent=consent_for(SUBJECT))
    theirs = TUOReferral(SUBJECT, "R-1", **values)
    sent = purposeful.disclose(theirs, to=RECEIVER, under=agreement(), actor=CASEWORKER)
    record = application()
    fill(record, json.loads(json.dumps(sent.to_json())))  # as it arrives, over the wire
    values["full_name"] = values.pop("name")
    assert filled(record) == values


# --- refusals: every problem named, nothing written ---


def refused(store: BaseSharingStore, payload: dict[str, Any], **options: Any) -> ReferralInvalid:
    purposeful.configure(disclosure_log=store)
    record = application()
    with pytest.raises(ReferralInvalid) as caught:
        fill(record, payload, **options)
    assert filled(record) == {
        "full_name": None,
        "phone": None,
        "born": None,
        "tenure": None,
        "people": None,
        "urgent": False,
    }
    assert store.provenance(SUBJECT) == []
    assert store.collections(SUBJECT) == []
    text = messages(caught.value)
    assert NAME not in text
    assert PHONE not in text
    assert SUBJECT not in text
    return caught.value


def test_a_party_not_in_the_agreement_is_refused(store: BaseSharingStore) -> None:
    error = refused(store, PAYLOAD, source="Oranga Tamariki")
    assert error.reasons == ("party-not-in-agreement",)
    assert "'Oranga Tamariki' is not a party to it" in str(error)


def test_a_field_not_ours_or_not_covered_is_refused(store: BaseSharingStore) -> None:
    error = refused(store, PAYLOAD | {"notes": "x", "address": "y"})
    assert set(error.reasons) == {"not-covered", "unknown-field"}
    assert error.fields == ("notes", "address")
    assert "does not cover TUOApplication.notes" in str(error)
    assert "'address' is not a managed field of TUOApplication" in str(error)


def test_a_key_that_is_not_a_field_name_is_refused_without_echoing_it() -> None:
    error = refused(MemorySharingStore(), {PHONE: "x"})
    assert error.reasons == ("unknown-field",)
    assert error.fields == ()


def test_a_value_of_the_wrong_type_is_refused(store: BaseSharingStore) -> None:
    error = refused(store, PAYLOAD | {"people": "three", "born": "3 March 1990"})
    assert error.reasons == ("wrong-type",)
    assert error.fields == ("born", "people")
    assert "'people' should be a whole number or null, not text" in str(error)


def test_an_agreement_not_in_force_or_another_purpose_is_refused() -> None:
    error = refused(MemorySharingStore(), PAYLOAD, referred=date(2028, 1, 5))
    assert error.reasons == ("agreement-expired",)
    error = refused(MemorySharingStore(), PAYLOAD, purpose="service-delivery.case-management")
    assert "purpose-not-in-agreement" in error.reasons


def test_an_empty_referral_is_refused() -> None:
    assert refused(MemorySharingStore(), {}).reasons == ("empty",)


wrong_values = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.lists(st.integers(), max_size=2), st.booleans()
)


@given(st.sampled_from(["name", "phone"]), wrong_values)
def test_any_non_text_value_for_a_text_field_is_refused(field: str, value: object) -> None:
    purposeful.reset_configuration()
    purposeful.configure(consent=consent_for(SUBJECT))
    refused(MemorySharingStore(), {field: value})


@given(st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12))
def test_any_field_the_record_does_not_manage_is_refused(name: str) -> None:
    if name in {"name", "phone", "born", "tenure", "people", "urgent"}:
        return
    purposeful.reset_configuration()
    purposeful.configure(consent=consent_for(SUBJECT))
    error = refused(MemorySharingStore(), {name: "x"})
    assert set(error.reasons) <= {"unknown-field", "not-covered"}


# --- the record and the store ---


def test_a_frozen_record_is_a_configuration_error_and_nothing_is_written() -> None:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    with pytest.raises(ConfigurationError, match="frozen"):
        prefill(TUOFrozen(SUBJECT), {"phone": PHONE}, source=SENDER, under=agreement())
    assert store.provenance(SUBJECT) == []


class BrokenStore(MemorySharingStore):
    """A store whose provenance write fails."""

    def _append_provenance(self, provenance: Any, collection: Any) -> None:
        raise SharingStoreError("the store failed")


def test_a_store_that_cannot_write_leaves_the_record_as_it_was() -> None:
    purposeful.configure(disclosure_log=BrokenStore())
    record = application()
    with pytest.raises(StoreError):
        fill(record)
    assert filled(record)["full_name"] is None
    assert filled(record)["phone"] is None


def test_a_record_without_a_subject_is_refused_untouched() -> None:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    record = TUOApplication("", "A-1")
    with pytest.raises(ConfigurationError, match="no subject id"):
        fill(record)
    assert store.still_to_be_told() == []
    # nobody's consent covers a record without a subject: read it in monitor mode
    purposeful.configure(record_modes={TUOApplication: purposeful.Mode.MONITOR})
    assert filled(record)["phone"] is None


def test_a_reference_a_store_cannot_keep_is_refused_untouched() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    record = application()
    with pytest.raises(ConfigurationError, match="NUL"):
        fill(record, reference="REF\x00")
    assert filled(record)["phone"] is None


def test_without_a_sharing_store_prefill_says_how_to_configure_one() -> None:
    with pytest.raises(ConfigurationError, match="configure a sharing store"):
        fill(application())


def test_bad_arguments_are_configuration_errors() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    with pytest.raises(ConfigurationError, match="mapping"):
        prefill(application(), [("name", NAME)], source=SENDER, under=agreement())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="SharingAgreement"):
        prefill(application(), PAYLOAD, source=SENDER, under="x")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"datetime\.date"):
        fill(application(), referred=datetime(2026, 5, 1, tzinfo=UTC))
    with pytest.raises(ConfigurationError, match=r"naive|aware|timezone"):
        fill(application(), at=datetime(2026, 5, 1))


def test_provenance_arguments_are_checked(store: BaseSharingStore) -> None:
    with pytest.raises(ConfigurationError, match="together"):
        store.provenance(SUBJECT, "TUOApplication")
    with pytest.raises(ConfigurationError, match="Provenance"):
        store.record_provenance("not one")  # type: ignore[arg-type]


# --- schema versions: a store written before provenance was kept ---


def test_a_version_1_sqlite_store_is_migrated_and_keeps_what_it_had(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with SQLiteSharingStore(path) as store:
        store.record_collection(
            SUBJECT, record_type="TUOApplication", record_key="A-0", source="x", purpose=REFERRAL
        )
    with sqlite3.connect(path) as connection:  # as version 1 left it
        connection.execute("DROP TABLE provenance")
        for column in ("care_needs", "second_reviewer", "safety_review"):  # version 3's
            connection.execute(f"ALTER TABLE disclosures DROP COLUMN {column}")
        connection.execute("ALTER TABLE collections DROP COLUMN statements")  # version 4's
        connection.execute("PRAGMA user_version = 1")
    connection.close()
    with SQLiteSharingStore(path) as store:
        purposeful.configure(disclosure_log=store)
        kept = fill(application())
        assert store.provenance(SUBJECT) == [kept]
        assert len(store.collections(SUBJECT)) == 2
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (4,)
    connection.close()


def test_a_version_1_postgres_store_is_migrated(postgres_schema: tuple[str, str]) -> None:
    psycopg = pytest.importorskip("psycopg")
    from purposeful.sharing.postgres import SCHEMA_VERSION, VERSION_TABLE, PostgresSharingStore

    dsn, schema = postgres_schema
    PostgresSharingStore(dsn, schema=schema).close()
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP TABLE "{schema}".provenance')
        for column in ("care_needs", "second_reviewer", "safety_review"):  # version 3's
            connection.execute(f'ALTER TABLE "{schema}".disclosures DROP COLUMN {column}')
        connection.execute(f'ALTER TABLE "{schema}".collections DROP COLUMN statements')
        connection.execute(f'UPDATE "{schema}".{VERSION_TABLE} SET version = 1')
    with PostgresSharingStore(dsn, schema=schema) as store:
        purposeful.configure(disclosure_log=store)
        kept = fill(application())
        assert store.provenance(SUBJECT) == [kept]
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute(f'SELECT version FROM "{schema}".{VERSION_TABLE}').fetchone()
    assert row == (SCHEMA_VERSION,) == (4,)


def test_a_damaged_provenance_row_is_store_corrupt(tmp_path: Path) -> None:
    from purposeful.errors import StoreCorrupt

    path = tmp_path / "damaged.sqlite3"
    with SQLiteSharingStore(path) as store:
        purposeful.configure(disclosure_log=store)
        fill(application())
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE provenance SET fields = 'not json'")
    connection.close()
    with SQLiteSharingStore(path) as store, pytest.raises(StoreCorrupt):
        store.provenance(SUBJECT)


def _refuse_phone(record: Any, attribute: Any, value: Any) -> Any:
    """The agency's own validator, which raises what it likes (and names the value)."""
    if attribute.name == "phone" and value is not None:
        raise LookupError(f"no such exchange for {value}")
    return value


@purposeful.record(subject="client_id", key="application_id")
@attrs.define(on_setattr=_refuse_phone)
class TUOValidated:
    client_id: str
    application_id: str
    full_name: str | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="identity", default=None
    )
    phone: str | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="contact", default=None
    )


def test_a_setter_raising_anything_leaves_the_record_as_it_was() -> None:
    """A validator of the agency's own raising an exception of any kind: what was set is
    put back, nothing is recorded, and the error is typed and holds no value."""
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    record = TUOValidated(SUBJECT, "A-1")
    with pytest.raises(PurposefulError) as refused:
        fill(record, {"name": "Aroha Te Ao", "phone": PHONE})
    assert PHONE not in str(refused.value)
    assert store.provenance(SUBJECT) == []
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        assert record.full_name is None
        assert record.phone is None


# --- a partner's values the record's types cannot take ---


@purposeful.record(subject="client_id", key="application_id")
class TUOTagged:
    client_id: str
    application_id: str
    tags: set[Any] | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="household", default=None
    )
    income: float | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="household", default=None
    )
    needs: list[str] | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="household", default=None
    )
    weekly: Decimal | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="household", default=None
    )


def test_a_set_field_given_items_a_set_cannot_hold_is_refused_as_wrong_type() -> None:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    record = TUOTagged(SUBJECT, "A-1")
    with pytest.raises(ReferralInvalid) as refused:
        prefill(record, {"tags": [["a"], {"b": 1}]}, source=SENDER, under=agreement())
    assert refused.value.reasons == ("wrong-type",)
    assert refused.value.fields == ("tags",)
    assert store.provenance(SUBJECT) == []


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_nan_or_an_infinity_for_a_number_field_is_refused_as_wrong_type(number: float) -> None:
    """No JSON number is NaN or infinite, though a lenient parser (Python's json) hands
    them over; the schema says "number", and a record filled with NaN compares unequal
    to itself."""
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    record = TUOTagged(SUBJECT, "A-1")
    with pytest.raises(ReferralInvalid) as refused:
        prefill(
            record, json.loads(json.dumps({"income": number})), source=SENDER, under=agreement()
        )
    assert refused.value.reasons == ("wrong-type",)
    assert "'income' should be a number or null, not NaN or an infinity" in str(refused.value)
    assert store.provenance(SUBJECT) == []
    prefill(record, {"income": 412.5}, source=SENDER, under=agreement())
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        assert record.income == 412.5


def test_a_list_with_an_item_of_the_wrong_type_says_what_each_item_should_be() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    with pytest.raises(ReferralInvalid) as refused:
        prefill(
            TUOTagged(SUBJECT, "A-1"),
            {"needs": ["housing", 3], "tags": "x"},
            source=SENDER,
            under=agreement(),
        )
    assert refused.value.reasons == ("wrong-type",)
    message = str(refused.value)
    assert (
        "'needs' should be a list (each item text (a JSON string)) or null, not a list with "
        "an item of another kind" in message
    )
    assert "'tags' should be a list (each item any value) or null, not text" in message


# --- a value the record's own validation refuses ---

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id", key="application_id")
    class TUOModel(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(validate_assignment=True)

        client_id: str
        application_id: str
        full_name: Annotated[
            str | None,
            purposeful.Managed(purposes={REFERRAL: CONSENT}, category="identity"),
            pydantic.Field(max_length=12),
        ] = None
        people: Annotated[
            int | None,
            purposeful.Managed(purposes={REFERRAL: CONSENT}, category="household"),
            pydantic.Field(ge=1),
        ] = None

    @purposeful.record(subject="client_id")
    class TUOFrozenModel(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(frozen=True)

        client_id: str
        phone: Annotated[
            str | None, purposeful.Managed(purposes={REFERRAL: CONSENT}, category="contact")
        ] = None


def test_a_value_the_models_constraints_refuse_is_the_referrals_fault() -> None:
    """The partner's value is of the field's JSON type, but the model's own constraint
    refuses it: the referral does not fit (ReferralInvalid, which a service answers the
    partner with), not a mistake in the agency's set-up, and nothing is filled."""
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    record = TUOModel(client_id=SUBJECT, application_id="A-1")
    with pytest.raises(ReferralInvalid) as refused:
        fill(record, {"name": "Aroha Te Ao Mārama Ngata", "people": 3})
    assert refused.value.reasons == ("value-refused",)
    assert refused.value.fields == ("name",)
    assert "Aroha" not in str(refused.value)
    assert "'name' was refused by TUOModel.full_name's own validation" in str(refused.value)
    assert store.provenance(SUBJECT) == []
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        assert (record.full_name, record.people) == (None, None)
    with pytest.raises(ReferralInvalid) as refused:
        fill(record, {"name": "Aroha", "people": 0})
    assert refused.value.fields == ("people",)
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        assert (record.full_name, record.people) == (None, None)


def test_a_frozen_pydantic_model_is_a_configuration_error() -> None:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    with pytest.raises(ConfigurationError, match="because the record is frozen"):
        prefill(
            TUOFrozenModel(client_id=SUBJECT), {"phone": PHONE}, source=SENDER, under=agreement()
        )
    assert store.provenance(SUBJECT) == []


def _refuse_short(record: Any, attribute: Any, value: Any) -> Any:
    """The agency's own check of a phone number: a ValueError, naming the value."""
    if attribute.name == "phone" and value is not None and not value.startswith("+64"):
        raise ValueError(f"{value} is not in international form")
    return value


@purposeful.record(subject="client_id", key="application_id")
@attrs.define(on_setattr=_refuse_short)
class TUOChecked:
    client_id: str
    application_id: str
    phone: str | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="contact", default=None
    )


def test_a_value_an_attrs_validator_refuses_is_the_referrals_fault() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore())
    with pytest.raises(ReferralInvalid) as refused:
        fill(TUOChecked(SUBJECT, "A-1"), {"phone": PHONE})
    assert refused.value.reasons == ("value-refused",)
    assert PHONE not in str(refused.value)


def test_a_decimal_field_is_filled_with_a_decimal_never_the_text_it_came_as() -> None:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    record = TUOTagged(SUBJECT, "A-1")
    prefill(record, {"weekly": "412.50"}, source=SENDER, under=agreement())
    with purposeful.use(REFERRAL, actor=CASEWORKER):
        assert record.weekly == Decimal("412.50")
        assert isinstance(record.weekly, Decimal)
    for wrong in ("four hundred", [412], {"amount": "412.50"}):
        with pytest.raises(ReferralInvalid) as refused:
            prefill(TUOTagged(SUBJECT, "A-2"), {"weekly": wrong}, source=SENDER, under=agreement())
        assert refused.value.reasons == ("wrong-type",)
