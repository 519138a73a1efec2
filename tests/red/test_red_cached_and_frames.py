"""A red team's findings against the record kinds, each kept as the behaviour that now holds:

- a cached property kept what it computed from a managed field on the record (attrs turns
  one into an unsealed slot; a dataclass, pydantic or SQLAlchemy record keeps it in its
  ``__dict__``), so after one allowed read it was handed out outside any scope and under
  purposes the field does not serve, with no decision: now refused at declaration;
- a bulk read refused inside a scope (``attrs.asdict``, ``evolve``, ``dataclasses.replace``
  ...) left what it had read, the raw subject id among it, in its frame's locals, for an
  error tracker that records locals: the scope's exit now clears those frames;
- an undecorated pydantic subclass of a record could switch ``hide_input_in_errors`` off
  again, and its validation errors quoted the managed value and the subject id: forced on.
"""

from __future__ import annotations

import dataclasses
import functools
import traceback
import warnings
from collections.abc import Callable
from typing import Annotated, Any

import attrs
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import purposeful
from purposeful import SENSITIVE, Actor, Managed, ServiceAgreement
from purposeful.errors import AnnotationError, DictStorageWarning, PurposeViolation

PURPOSE = "service-delivery.case-management"
AGREEMENT = ServiceAgreement("Red cache agreement")
ACTOR = Actor("staff-red", "caseworker", SENSITIVE)
#: Made at run time, so no constant of a test's code holds it (a frame's code is not its locals).
SUBJECT = "".join(["C-", "7741", "-NZ"])
NAME = "".join(["Aroha ", "Ngata"])

pytestmark = pytest.mark.filterwarnings("ignore::purposeful.errors.DictStorageWarning")


def _managed(**kwargs: Any) -> Any:
    return purposeful.field(purposes={PURPOSE: AGREEMENT}, **kwargs)


# --- cached properties --------------------------------------------------------------------


def _attrs_slotted() -> type:
    class RedCachedAttrs:
        client_id: str
        diagnosis: str = _managed()

        @functools.cached_property
        def label(self) -> str:
            return self.diagnosis.title()

    return RedCachedAttrs


def _attrs_decorated_first() -> type:
    """attrs has turned the cached property into a slot and a ``__getattr__`` already."""

    @attrs.define
    class RedCachedAttrsFirst:
        client_id: str
        diagnosis: str = _managed()

        @functools.cached_property
        def label(self) -> str:
            return self.diagnosis.title()

    return RedCachedAttrsFirst


def _attrs_dict() -> type:
    @attrs.define(slots=False)
    class RedCachedAttrsDict:
        client_id: str
        diagnosis: str = _managed()

        @functools.cached_property
        def label(self) -> str:
            return self.diagnosis.title()

    return RedCachedAttrsDict


def _dataclass(slots: bool) -> Callable[[], type]:
    def make() -> type:
        class RedCachedDataclass:
            client_id: str
            diagnosis: str = _managed()

            @functools.cached_property
            def label(self) -> str:
                return self.diagnosis.title()

        return dataclasses.dataclass(slots=slots)(RedCachedDataclass)

    make.__name__ = f"_dataclass_slots_{slots}"
    return make


def _mixin() -> type:
    class Labels:
        @functools.cached_property
        def label(self) -> str:
            return str(self.diagnosis).title()  # type: ignore[attr-defined]

    @attrs.define(slots=False)
    class RedCachedFromMixin(Labels):
        client_id: str
        diagnosis: str = _managed()

    return RedCachedFromMixin


def _pydantic() -> type:
    class RedCachedModel(BaseModel):
        client_id: str
        diagnosis: Annotated[str, Managed(purposes={PURPOSE: AGREEMENT})]

        @functools.cached_property
        def label(self) -> str:
            return self.diagnosis.title()

    return RedCachedModel


def _django_style() -> type:
    """Django's own ``cached_property`` (a class of its own, not functools'), on a record."""
    from django.utils.functional import cached_property

    @attrs.define(slots=False)
    class RedCachedDjangoStyle:
        client_id: str
        diagnosis: str = _managed()

        @cached_property
        def label(self) -> str:
            return self.diagnosis.title()

    return RedCachedDjangoStyle


class reify:  # Pyramid's name, which is what is recognised
    """Pyramid's ``reify`` (werkzeug's and the ``cached_property`` package's are the same):
    a non-data descriptor that keeps what it computed in the instance ``__dict__``."""

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        self.wrapped = wrapped
        self.name = wrapped.__name__

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.wrapped(obj)
        return value


def _reify_style() -> type:
    """Found by a third red team: other libraries' caching descriptors passed."""

    @attrs.define(slots=False)
    class RedCachedReify:
        client_id: str
        diagnosis: str = _managed()

        @reify
        def label(self) -> str:
            return self.diagnosis.title()

    return RedCachedReify


def _sqlalchemy() -> type:
    class Base(DeclarativeBase):
        pass

    class RedCachedRow(Base):
        __tablename__ = "red_cached_rows"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        diagnosis: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={PURPOSE: AGREEMENT})}
        )

        @functools.cached_property
        def label(self) -> str:
            return self.diagnosis.title()

    return RedCachedRow


@pytest.mark.parametrize(
    "make",
    [
        _attrs_slotted,
        _attrs_decorated_first,
        _attrs_dict,
        _dataclass(slots=True),
        _dataclass(slots=False),
        _mixin,
        _pydantic,
        _django_style,
        _reify_style,
        _sqlalchemy,
    ],
    ids=lambda make: make.__name__,
)
def test_a_record_with_a_cached_property_is_refused_at_declaration(
    make: Callable[[], type],
) -> None:
    if make is _django_style:
        pytest.importorskip("django")
    cls = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        with pytest.raises(AnnotationError, match=r"label is a cached property.*@property"):
            purposeful.record(subject="client_id")(cls)


def test_the_refused_cache_no_longer_hands_a_value_out() -> None:
    """The finding itself: with a ``@property`` instead, as the refusal says, a read outside
    any scope is refused, and a scope of another purpose decides (and refuses) it."""

    @purposeful.record(subject="client_id")
    class RedUncached:
        client_id: str
        diagnosis: str = _managed()

        @property
        def label(self) -> str:
            return self.diagnosis.title()

    record = RedUncached(SUBJECT, "generalised anxiety")
    with purposeful.use(PURPOSE, actor=ACTOR):
        assert record.label == "Generalised Anxiety"
    with pytest.raises(PurposeViolation):
        _ = record.label
    with purposeful.use("funder-reporting", actor=ACTOR), pytest.raises(PurposeViolation):
        _ = record.label


@pytest.mark.parametrize("decorate", [attrs.define, dataclasses.dataclass], ids=["attrs", "dc"])
def test_a_subclass_adding_a_cached_property_is_refused(decorate: Any) -> None:
    if decorate is attrs.define:

        @purposeful.record(subject="client_id")
        class RedCacheBase:
            client_id: str
            diagnosis: str = _managed()

        base: type = RedCacheBase
    else:

        @purposeful.record(subject="client_id")
        @dataclasses.dataclass
        class RedCacheDcBase:
            client_id: str
            diagnosis: str = _managed()

        base = RedCacheDcBase

    with pytest.raises(AnnotationError, match="label is a cached property"):

        class Sub(base):  # type: ignore[valid-type,misc]
            @functools.cached_property
            def label(self) -> str:
                return str(self.diagnosis)


def test_an_undecorated_pydantic_subclass_with_a_cached_property_is_refused() -> None:
    @purposeful.record(subject="client_id")
    class RedCacheModelBase(BaseModel):
        client_id: str
        diagnosis: Annotated[str, Managed(purposes={PURPOSE: AGREEMENT})]

    with pytest.raises(AnnotationError, match="label is a cached property"):

        class RedCacheModelSub(RedCacheModelBase):
            @functools.cached_property
            def label(self) -> str:
                return self.diagnosis.title()


def test_a_record_without_a_managed_field_may_cache() -> None:
    @purposeful.record(subject="client_id")
    class RedNothingManaged:
        client_id: str
        region: str

        @functools.cached_property
        def upper(self) -> str:
            return self.region.upper()

    assert RedNothingManaged("C-1", "north").upper == "NORTH"


# --- the frames of a refused bulk read --------------------------------------------------------


@purposeful.record(subject="client_id")
class RedBulkAttrs:
    client_id: str
    name: str = purposeful.field(purposes={"service-delivery": AGREEMENT})
    diagnosis: str = _managed()


@purposeful.record(subject="client_id")
@dataclasses.dataclass(slots=True)
class RedBulkDataclass:
    client_id: str
    name: str = purposeful.field(purposes={"service-delivery": AGREEMENT})
    diagnosis: str = _managed()


BULK = [
    (RedBulkAttrs, attrs.asdict),
    (RedBulkAttrs, attrs.astuple),
    (RedBulkAttrs, attrs.evolve),
    (RedBulkDataclass, dataclasses.asdict),
    (RedBulkDataclass, dataclasses.astuple),
    (RedBulkDataclass, dataclasses.replace),
]


def _locals_text(error: BaseException) -> str:
    return "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())


@pytest.mark.parametrize(("cls", "operation"), BULK, ids=lambda x: getattr(x, "__qualname__", ""))
def test_a_bulk_read_refused_in_a_scope_leaves_no_id_or_value_in_its_frames(
    cls: type, operation: Callable[[Any], Any]
) -> None:
    """``diagnosis`` is refused under plain service delivery, after the subject and the name
    were read into the function's result."""

    def handler() -> None:
        record = cls(SUBJECT, NAME, "anxiety")
        with purposeful.use("service-delivery", actor=ACTOR):
            operation(record)

    with pytest.raises(PurposeViolation) as refused:
        handler()
    text = _locals_text(refused.value)
    assert SUBJECT not in text
    assert NAME not in text
    assert "record = " in text  # the caller's own frame keeps its locals (its masked record)


class AppError(Exception):
    """An application's own error, as a web framework's ``HTTPException``."""


def _translated(record: Any) -> None:
    try:
        attrs.asdict(record)
    except PurposeViolation as refusal:
        raise AppError("forbidden") from refusal


def _raised_while_handling(record: Any) -> None:
    try:
        attrs.asdict(record)
    except PurposeViolation:
        raise AppError("forbidden") from None  # the refusal stays its __context__


def _in_a_mixed_group(record: Any) -> None:
    errors: list[Exception] = [ValueError("another task failed")]
    try:
        attrs.asdict(record)
    except PurposeViolation as refusal:
        errors.append(refusal)
    raise ExceptionGroup("tasks", errors)


@pytest.mark.parametrize("handle", [_translated, _raised_while_handling, _in_a_mixed_group])
def test_a_refusal_behind_another_error_leaves_no_id_or_value_in_its_frames(
    handle: Callable[[Any], None],
) -> None:
    """Found by a third red team: only the refusal leaving the scope was cleared, not one
    an application translated (``raise HTTPException(403) from refusal``), one an error
    raised while handling it, or one in a group with other errors."""
    record = RedBulkAttrs(SUBJECT, NAME, "anxiety")
    scope = purposeful.use("service-delivery", actor=ACTOR)
    with pytest.raises((AppError, ExceptionGroup)) as raised, scope:
        handle(record)
    text = _locals_text(raised.value)
    assert SUBJECT not in text
    assert NAME not in text


def test_a_bulk_read_allowed_in_a_scope_is_untouched() -> None:
    with purposeful.use(PURPOSE, actor=ACTOR):
        assert attrs.asdict(RedBulkAttrs(SUBJECT, NAME, "anxiety"))["diagnosis"] == "anxiety"


# --- pydantic's validation errors ------------------------------------------------------------


def test_an_undecorated_pydantic_subclass_cannot_show_inputs_again() -> None:
    @purposeful.record(subject="client_id")
    class RedHiddenClient(BaseModel):
        model_config = ConfigDict(hide_input_in_errors=False)
        client_id: str
        diagnosis: Annotated[str, Managed(purposes={PURPOSE: AGREEMENT}), Field(max_length=20)]

    class RedHiddenClientIn(RedHiddenClient):  # a request model: not decorated
        model_config = ConfigDict(hide_input_in_errors=False, str_strip_whitespace=True)
        channel: str = "web"

    value = "".join(["disclosed family ", "violence, safety plan"])
    for model in (RedHiddenClient, RedHiddenClientIn):
        with pytest.raises(ValidationError) as invalid:
            model(client_id=[SUBJECT], diagnosis=value)
        assert value not in str(invalid.value)
        assert SUBJECT not in str(invalid.value)
    assert RedHiddenClientIn(client_id=" c-1 ", diagnosis="x").client_id == "c-1"  # its own config


def test_a_records_own_pydantic_init_subclass_still_runs() -> None:
    made: list[str] = []

    @purposeful.record(subject="client_id")
    class RedRegistering(BaseModel):
        client_id: str
        diagnosis: Annotated[str, Managed(purposes={PURPOSE: AGREEMENT})]

        @classmethod
        def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
            super().__pydantic_init_subclass__(**kwargs)
            made.append(cls.__name__)

    class RedRegistered(RedRegistering):
        extra: str = ""

    assert made == ["RedRegistered"]


# --- a getter with no Python frame above it ---------------------------------------------------


def _raised_in_a_bare_thread(read: Callable[[Any], Any], record: object) -> BaseException:
    """What *read* (a C callable) raises, called on *record* first thing in a new thread:
    no Python frame stands above the getter, as on the first call of a greenlet (SQLAlchemy's
    ``awaitable_attrs``)."""
    import _thread
    import sys
    import threading

    caught: list[BaseException] = []
    done = threading.Event()

    def hook(unraisable: Any) -> None:
        caught.append(unraisable.exc_value)
        done.set()

    previous = sys.unraisablehook
    sys.unraisablehook = hook
    try:
        _thread.start_new_thread(read, (record,))
        assert done.wait(10), "the read raised nothing"
    finally:
        sys.unraisablehook = previous
    return caught[0]


def test_a_refusal_with_no_frame_above_the_getter_is_the_typed_refusal() -> None:
    """Found by a red team: ``await row.awaitable_attrs.note`` under SQLAlchemy's
    AsyncSession turned every refusal into ``ValueError: call stack is not deep enough``, a
    500 where the web integrations answer a 403, and a crash in monitor mode."""
    import operator

    record = RedBulkAttrs(SUBJECT, NAME, "anxiety")
    raised = _raised_in_a_bare_thread(operator.attrgetter("diagnosis"), record)
    assert isinstance(raised, purposeful.errors.NoPurposeScope), repr(raised)
