"""Dataclass records under hostile use: a slotted subclass of a ``__dict__`` record,
devtools printing, and ``__post_init__`` errors that quote a managed value."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

import purposeful
from purposeful import SENSITIVE, Actor, ServiceAgreement
from purposeful.errors import AnnotationError, DictStorageWarning, ManagedValueError

AGREEMENT = ServiceAgreement("Service delivery agreement")
WORKER = Actor("staff-22", role="caseworker", clearance=SENSITIVE)
SECRET = "hostile-kaitiaki-secret-5772"
SUBJECT = "C-HOSTILE-4411"

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    @dataclasses.dataclass
    class HostileDictVisit:
        client_id: str
        summary: str = purposeful.field(purposes={"service-delivery": AGREEMENT})

    @purposeful.record(subject="client_id")
    @dataclasses.dataclass
    class HostileCheckedDictVisit:
        client_id: str
        summary: str = purposeful.field(purposes={"service-delivery": AGREEMENT})

        def __post_init__(self) -> None:
            if "secret" in self.summary:  # validation lives here for dataclasses
                raise ValueError(f"summary {self.summary!r} may not hold a secret")
            if not self.client_id.startswith("C-"):
                raise ValueError("client ids start with C-")


@purposeful.record(subject="client_id")
@dataclasses.dataclass(slots=True)
class HostileSlottedVisit:
    client_id: str
    summary: str = purposeful.field(purposes={"service-delivery": AGREEMENT})


# --- a slotted subclass of a __dict__ record ------------------------------------------------


def test_an_undecorated_slotted_subclass_of_a_dict_record_is_refused() -> None:
    """@dataclass(slots=True) makes a slot for every field, inherited ones too, and the
    slot would stand in front of the base's guard."""
    with pytest.raises(AnnotationError) as refused:

        @dataclasses.dataclass(slots=True)
        class HostileSlottedExtension(HostileDictVisit):
            channel: str = "web"

    message = str(refused.value)
    assert "makes slots for summary, managed fields of HostileDictVisit" in message
    assert "Leave slots=True off HostileSlottedExtension" in message


def test_a_decorated_slotted_subclass_of_a_dict_record_is_refused_too() -> None:
    with pytest.raises(AnnotationError, match="makes slots for summary"):

        @purposeful.record(subject="client_id")
        @dataclasses.dataclass(slots=True)
        class HostileSlottedRecordExtension(HostileDictVisit):
            channel: str = "web"


def test_a_dict_subclass_of_a_dict_record_keeps_the_guard() -> None:
    @dataclasses.dataclass
    class HostileDictExtension(HostileDictVisit):
        channel: str = "web"

    record = HostileDictExtension(SUBJECT, SECRET)
    with pytest.raises(purposeful.NoPurposeScope):
        _ = record.summary
    with pytest.raises(purposeful.NoPurposeScope):
        dataclasses.asdict(record)
    with purposeful.use("service-delivery", actor=WORKER) as scope:
        shown = repr(record)
    assert shown.endswith(
        "HostileDictExtension(client_id=<subject>, summary=<managed>, channel='web')"
    )
    assert not scope.decisions  # repr is not a read


def test_an_undecorated_subclass_keeps_a_repr_of_its_own() -> None:
    @dataclasses.dataclass
    class HostileOwnReprExtension(HostileDictVisit):
        def __repr__(self) -> str:
            return "a visit"

    assert repr(HostileOwnReprExtension(SUBJECT, SECRET)) == "a visit"


def test_a_slotted_subclass_of_a_slotted_record_keeps_the_guard() -> None:
    @dataclasses.dataclass(slots=True)
    class HostileSlottedChild(HostileSlottedVisit):
        channel: str = "web"

    record = HostileSlottedChild(SUBJECT, SECRET)
    with pytest.raises(purposeful.NoPurposeScope):
        _ = record.summary


# --- devtools -----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [HostileDictVisit, HostileSlottedVisit], ids=lambda c: c.__name__)
@pytest.mark.parametrize("scoped", [False, True], ids=["outside", "inside"])
def test_devtools_printing_a_dataclass_record_is_masked(cls: type, scoped: bool) -> None:
    devtools = pytest.importorskip("devtools")
    record = cls(SUBJECT, SECRET)
    if scoped:
        with purposeful.use("service-delivery", actor=WORKER) as scope:
            text = devtools.pformat(record, highlight=False)
        assert not scope.decisions  # printing is not a read
    else:
        text = devtools.pformat(record, highlight=False)
    assert SECRET not in text
    assert SUBJECT not in text
    assert "summary=<managed>" in text


def test_the_pretty_protocol_yields_the_masked_repr() -> None:
    record = HostileSlottedVisit(SUBJECT, SECRET)
    assert list(record.__pretty__(fmt=repr)) == [repr(record)]  # type: ignore[attr-defined]


# --- __post_init__ errors -----------------------------------------------------------------


def test_a_post_init_error_quoting_a_managed_value_is_replaced() -> None:
    with (
        purposeful.use("service-delivery", actor=WORKER),
        pytest.raises(ValueError, match="refused by its") as bad,
    ):
        HostileCheckedDictVisit(SUBJECT, SECRET)
    assert type(bad.value) is ManagedValueError
    assert SECRET not in str(bad.value)
    assert "HostileCheckedDictVisit" in str(bad.value)
    assert bad.value.__cause__ is None
    assert bad.value.__suppress_context__ or bad.value.__context__ is None


def test_a_post_init_error_quoting_a_keyword_value_is_replaced() -> None:
    with (
        purposeful.use("service-delivery", actor=WORKER),
        pytest.raises(ManagedValueError) as bad,
    ):
        HostileCheckedDictVisit(client_id=SUBJECT, summary=SECRET)
    assert SECRET not in str(bad.value)


def test_a_post_init_error_quoting_no_managed_value_passes_through() -> None:
    with (
        purposeful.use("service-delivery", actor=WORKER),
        pytest.raises(ValueError, match="start with") as bad,
    ):
        HostileCheckedDictVisit("X-1", "a home visit")
    assert type(bad.value) is ValueError
    assert str(bad.value) == "client ids start with C-"


def test_a_post_init_read_outside_a_scope_is_refused() -> None:
    with pytest.raises(purposeful.NoPurposeScope):
        HostileCheckedDictVisit(SUBJECT, SECRET)
