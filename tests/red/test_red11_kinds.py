"""Red-team findings against the record kinds (pydantic models, dataclasses) and a
database's own error messages: each test asserts the safe behaviour."""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

import pytest

import purposeful
from purposeful import SENSITIVE, Actor, Managed, ServiceAgreement
from purposeful.consent import MemoryConsentStore
from purposeful.errors import DictStorageWarning

pydantic = pytest.importorskip("pydantic")
from pydantic import BaseModel, ConfigDict, ValidationInfo  # noqa: E402

pytest.importorskip("sqlalchemy")
from sqlalchemy.exc import IntegrityError  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402

warnings.filterwarnings("ignore", category=DictStorageWarning)

AGREEMENT = ServiceAgreement("Red eleven agreement")
WORKER = Actor("staff-r11", role="caseworker", clearance=SENSITIVE)
DELIVERY = "service-delivery"
CASE_MANAGEMENT = "service-delivery.case-management"
SUBJECT = "NHI-RED1111"
PHONE = "021-red11-phone"
DIAGNOSIS = "red11-diagnosis-secret"


# --- pydantic: an undecorated model inheriting two record models -------------------------


@purposeful.record(subject="client_id")
class RedContact(BaseModel):
    client_id: str
    phone: Annotated[str, Managed(purposes={DELIVERY: AGREEMENT})]


@purposeful.record(subject="client_id")
class RedHealth(BaseModel):
    client_id: str
    diagnosis: Annotated[str, Managed(purposes={CASE_MANAGEMENT: AGREEMENT})]


class RedClientView(RedContact, RedHealth):
    """A response model joining two records, not decorated (as a response model that adds
    nothing of its own usually is)."""


def _joined() -> RedClientView:
    return RedClientView(client_id=SUBJECT, phone=PHONE, diagnosis=DIAGNOSIS)


def test_an_undecorated_model_of_two_records_masks_both_in_its_repr() -> None:
    """The subclass takes ``__repr_args__`` from its first record base, which masks that
    base's managed fields only and reads every other field from ``__dict__``: the second
    record's managed value is printed, outside any scope, by repr(), str(), logging and
    error trackers."""
    joined = _joined()
    assert DIAGNOSIS not in repr(joined)
    assert DIAGNOSIS not in str(joined)
    assert PHONE not in repr(joined)


def test_an_undecorated_model_of_two_records_dump_reads_the_second_records_fields() -> None:
    """The deciding serialiser comes from the first record base and decides its managed
    fields only (``isinstance(value, RedContact)``): with those excluded, the second record's
    managed field is emitted from ``__dict__`` with no decision, outside any scope."""
    joined = _joined()
    with pytest.raises(purposeful.NoPurposeScope):
        joined.model_dump(exclude={"phone"})
    with pytest.raises(purposeful.NoPurposeScope):
        joined.model_dump_json(include={"diagnosis"})


def test_an_undecorated_model_of_two_records_dict_reads_the_second_records_fields() -> None:
    """``dict(model)`` reads through the guards only the first record base's managed fields:
    in a scope whose purpose may see the phone but not the diagnosis, the diagnosis is
    handed out undecided."""
    joined = _joined()
    items: dict[str, Any] = {}
    with pytest.raises(purposeful.PurposeViolation), purposeful.use(DELIVERY, actor=WORKER):
        items.update(joined)
    assert DIAGNOSIS not in repr(items)


# --- pydantic: a frozen undecorated subclass of a record that is not frozen -------------


@purposeful.record(subject="client_id")
class RedVisit(BaseModel):
    client_id: str
    summary: Annotated[str, Managed(purposes={DELIVERY: AGREEMENT})]


class RedFrozenVisit(RedVisit):
    """A hashable response model: pydantic gives it a ``__hash__`` of its own, since the
    record's is None."""

    model_config = ConfigDict(frozen=True)


def test_hashing_a_frozen_undecorated_subclass_is_a_read() -> None:
    """pydantic's generated ``__hash__`` hashes the values in ``__dict__``: outside any
    scope it answers "is the summary X?" (``hash(visit) == hash((subject, X))``), the oracle
    that makes hashing a read for every record."""
    visit = RedFrozenVisit(client_id=SUBJECT, summary=DIAGNOSIS)
    with pytest.raises(purposeful.NoPurposeScope):
        hash(visit)


# --- pydantic: validate_assignment hands stored values to validators --------------------

_SEEN: list[Any] = []


@purposeful.record(subject="client_id")
class RedAssigned(BaseModel):
    model_config = ConfigDict(validate_assignment=True)
    client_id: str
    diagnosis: Annotated[str, Managed(purposes={CASE_MANAGEMENT: AGREEMENT})]
    region: str = "Waikato"

    @pydantic.model_validator(mode="before")
    @classmethod
    def _before(cls, data: Any) -> Any:
        _SEEN.append(dict(data) if isinstance(data, dict) else data)
        return data

    @pydantic.field_validator("region")
    @classmethod
    def _region(cls, value: str, info: ValidationInfo) -> str:
        _SEEN.append(dict(info.data))
        return value


def test_validated_assignment_hands_no_stored_managed_value_to_validators() -> None:
    """Assignment is a write, unchecked, outside any scope; with ``validate_assignment``
    pydantic validates the whole model again and gives its validators every stored value
    (a ``mode="before"`` model validator's dict, a field validator's ``info.data``): the
    diagnosis leaves the record with no decision, into code that logs or quotes it."""
    record = RedAssigned(client_id=SUBJECT, diagnosis=DIAGNOSIS)
    _SEEN.clear()
    with contextlib.suppress(purposeful.NoPurposeScope):  # refusing it is safe too
        record.region = "Otago"
    assert DIAGNOSIS not in repr(_SEEN)


# --- dataclasses: an undecorated dataclass inheriting two records -----------------------


@purposeful.record(subject="client_id")
@dataclasses.dataclass
class RedDcContact:
    client_id: str = ""
    phone: str = purposeful.field(purposes={DELIVERY: AGREEMENT}, default="")


@purposeful.record(subject="nhi")
@dataclasses.dataclass
class RedDcHealth:
    nhi: str = ""
    diagnosis: str = purposeful.field(purposes={DELIVERY: AGREEMENT}, default="")


@dataclasses.dataclass
class RedDcBoth(RedDcContact, RedDcHealth):
    pass


def test_an_undecorated_dataclass_of_two_records_masks_both_in_its_repr() -> None:
    """docs/dataclasses.md: an undecorated dataclass subclass inherits "a masked repr". The
    repr it gets masks the first record base's fields only: inside a scope that allows the
    reads, the second base's managed value and its raw subject id are printed (a log line of
    the record, an error tracker's locals)."""
    both = RedDcBoth(client_id="C-1", phone=PHONE, nhi=SUBJECT, diagnosis=DIAGNOSIS)
    with purposeful.use(DELIVERY, actor=WORKER):
        shown = repr(both)
    assert DIAGNOSIS not in shown
    assert SUBJECT not in shown


# --- a PostgreSQL constraint error quotes the failing row ---------------------------------


class RedPgBase(DeclarativeBase):
    pass


@purposeful.record(subject="client_id")
class RedPgVisit(RedPgBase):
    __tablename__ = "red11_pg_visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str]
    summary: Mapped[str] = mapped_column(
        info={"purposeful": Managed(purposes={DELIVERY: AGREEMENT})}
    )
    region: Mapped[str | None] = mapped_column(nullable=False)


def test_a_postgres_constraint_error_quotes_no_value_with_hide_parameters(
    postgres_engine: Any,
) -> None:
    """docs/sqlalchemy.md says ``create_engine(url, hide_parameters=True)`` keeps managed
    values and subject ids out of a failed statement's error. On PostgreSQL the server's
    own message carries ``DETAIL: Failing row contains (...)``: every column of the row, in
    the IntegrityError's text, whatever hide_parameters says."""
    RedPgBase.metadata.create_all(postgres_engine)
    with Session(postgres_engine) as session:
        session.add(RedPgVisit(id=1, client_id=SUBJECT, summary=DIAGNOSIS, region=None))
        with pytest.raises(IntegrityError) as raised:
            session.flush()
    assert DIAGNOSIS not in str(raised.value)
    assert SUBJECT not in str(raised.value)
    assert DIAGNOSIS not in str(raised.value.orig)
    # what to fix is still said: the column and the constraint it broke
    assert 'column "region"' in str(raised.value)
    assert "not-null constraint" in str(raised.value)


# --- pydantic: == between a parametrised generic record and its origin -------------------

Item = TypeVar("Item")


@purposeful.record(subject="client_id")
class RedBox(BaseModel, Generic[Item]):
    client_id: str
    note: Annotated[str, Managed(purposes={DELIVERY: purposeful.CONSENT})]
    extra: Item | None = None


def test_equality_with_a_parametrised_generic_decides_the_other_side() -> None:
    """pydantic compares a ``RedBox[int]`` with a ``RedBox`` (their origins match): the other
    side's consent-bound note must be decided too, or ``==`` tells whether the note of
    someone who gave no consent equals a guess."""
    store = MemoryConsentStore()
    store.give("C-GIVEN", DELIVERY, at=datetime.now(UTC) - timedelta(days=1))
    guess = RedBox[int](client_id="C-GIVEN", note=DIAGNOSIS)
    withheld = RedBox(client_id="C-NONE", note=DIAGNOSIS)
    with (
        pytest.raises(purposeful.PurposeViolation),
        purposeful.use(DELIVERY, actor=WORKER, consent=store),
    ):
        _ = guess == withheld
