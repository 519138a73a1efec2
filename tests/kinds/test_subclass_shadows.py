"""A subclass of a record cannot stand in front of a managed field's guard.

Found by a red team: an ordinary ``@dataclass`` subclass that only gave a managed field
another default kept the default on the subclass, in front of the inherited guard, and the
value went to the instance ``__dict__``: attribute reads, ``vars()``, pickling and msgspec
all handed it out undecided, while the repr still showed ``<managed>``. Every subclass of an
attrs or dataclass record is now checked as it is made.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import attrs
import pytest

import purposeful
from purposeful import ServiceAgreement
from purposeful.errors import AnnotationError, DictStorageWarning

PURPOSE = "service-delivery.case-management"
ACTOR = purposeful.Actor("staff-1", "caseworker", purposeful.SENSITIVE)
SECRET = "disclosed family violence"


def _managed(**options: Any) -> Any:
    return purposeful.field(purposes={PURPOSE: ServiceAgreement("Agreement")}, **options)


@purposeful.record(subject="client_id")
@dataclasses.dataclass(slots=True)
class ShadowNote:
    client_id: str
    text: str = _managed(default="")


@purposeful.record(subject="client_id")
class ShadowAttrsNote:
    client_id: str
    text: str = _managed(default="")


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    @dataclasses.dataclass
    class ShadowDictNote:
        client_id: str
        text: str = _managed(default="")

    @purposeful.record(subject="client_id", slots=False)
    class ShadowAttrsDictNote:
        client_id: str
        text: str = _managed(default="")


BASES = [ShadowNote, ShadowDictNote, ShadowAttrsNote, ShadowAttrsDictNote]


def _plain_default(base: type) -> type:
    if dataclasses.is_dataclass(base):

        @dataclasses.dataclass
        class PhoneNote(base):  # type: ignore[valid-type,misc]
            text: str = "(phone call)"

        return PhoneNote

    @attrs.define(slots=False)
    class AttrsPhoneNote(base):  # type: ignore[valid-type,misc]
        text: str = "(phone call)"

    return AttrsPhoneNote


def _class_attribute(base: type) -> type:
    class Plain(base):  # type: ignore[valid-type,misc]
        text = None

    return Plain


def _own_slot(base: type) -> type:
    class Slotted(base):  # type: ignore[valid-type,misc]
        __slots__ = ("text",)

    return Slotted


def _property(base: type) -> type:
    class Shown(base):  # type: ignore[valid-type,misc]
        @property
        def text(self) -> str:
            return "shown"

    return Shown


def _mixin_before(base: type) -> type:
    class Defaults:
        text = "(phone call)"

    class Mixed(Defaults, base):  # type: ignore[valid-type,misc]
        pass

    return Mixed


SHADOWS: dict[str, Callable[[type], type]] = {
    "a plain default": _plain_default,
    "a class attribute": _class_attribute,
    "a slot of its own": _own_slot,
    "a property": _property,
    "a mixin listed before the record": _mixin_before,
}


@pytest.mark.parametrize("base", BASES, ids=lambda cls: cls.__qualname__)
@pytest.mark.parametrize("shadow", SHADOWS.values(), ids=SHADOWS.keys())
def test_a_subclass_standing_in_front_of_a_guard_is_refused(
    base: type, shadow: Callable[[type], type]
) -> None:
    with pytest.raises(AnnotationError, match=r"text.* in front of the guard") as raised:
        shadow(base)
    assert base.__qualname__ in str(raised.value)


@pytest.mark.parametrize("base", BASES, ids=lambda cls: cls.__qualname__)
def test_a_mixin_listed_after_the_record_stands_behind_the_guard(base: type) -> None:
    class Defaults:
        text = "(phone call)"

    class Mixed(base, Defaults):  # type: ignore[valid-type,misc]
        pass

    note = Mixed("c-1", SECRET)
    with pytest.raises(purposeful.NoPurposeScope):
        note.text  # noqa: B018
    with purposeful.use(PURPOSE, actor=ACTOR):
        assert note.text == SECRET


@pytest.mark.parametrize("base", BASES, ids=lambda cls: cls.__qualname__)
def test_a_subclass_that_adds_fields_keeps_the_guards(base: type) -> None:
    if dataclasses.is_dataclass(base):

        @dataclasses.dataclass
        class Longer(base):  # type: ignore[valid-type,misc]
            extra: str = "plain"

    else:

        @attrs.define(slots=base is not ShadowAttrsDictNote)
        class Longer(base):  # type: ignore[valid-type,misc]
            extra: str = "plain"

    note = Longer("c-1", SECRET)
    with pytest.raises(purposeful.NoPurposeScope):
        note.text  # noqa: B018
    with purposeful.use(PURPOSE, actor=ACTOR):
        assert note.text == SECRET


@pytest.mark.filterwarnings("ignore::purposeful.errors.DictStorageWarning")
@pytest.mark.parametrize("base", BASES, ids=lambda cls: cls.__qualname__)
def test_a_decorated_subclass_may_declare_a_managed_field_again(base: type) -> None:
    if dataclasses.is_dataclass(base):

        @purposeful.record(subject="client_id")
        @dataclasses.dataclass
        class Again(base):  # type: ignore[valid-type,misc]
            text: str = _managed(default="(phone call)")

    else:

        @purposeful.record(subject="client_id", slots=base is not ShadowAttrsDictNote)
        class Again(base):  # type: ignore[valid-type,misc]
            text: str = _managed(default="(phone call)")

    note = Again("c-1", SECRET)
    with pytest.raises(purposeful.NoPurposeScope):
        note.text  # noqa: B018
    with purposeful.use(PURPOSE, actor=ACTOR):
        assert note.text == SECRET


# --- what the class-creation check cannot see: caught when the first instance is made ---


def test_a_redeclared_field_left_undecorated_is_refused_at_the_first_instance() -> None:
    """Found by a second red team: ``purposeful.field(default=...)`` passes the check when
    the class is made (it is a declaration), but without ``@purposeful.record`` the
    ``@dataclass`` that follows puts the plain default on the class, in front of the guard."""

    @dataclasses.dataclass
    class UndecoratedNote(ShadowNote):
        text: str = _managed(default="(phone call)")

    with pytest.raises(AnnotationError, match=r"UndecoratedNote with @purposeful\.record"):
        UndecoratedNote("c-1", SECRET)


@pytest.mark.parametrize("base", BASES, ids=lambda cls: cls.__qualname__)
def test_a_base_that_skips_init_subclass_does_not_switch_the_check_off(base: type) -> None:
    class Registry(base):  # type: ignore[valid-type,misc]
        known: ClassVar[list[type]] = []

        @classmethod
        def __init_subclass__(cls, **kwargs: Any) -> None:
            Registry.known.append(cls)  # no super().__init_subclass__()

    class PhoneNote(Registry):
        text = "(phone call)"

    with pytest.raises(AnnotationError, match="in front of the guard"):
        PhoneNote("c-1", SECRET)


@pytest.mark.parametrize("base", BASES, ids=lambda cls: cls.__qualname__)
def test_a_shadow_put_on_a_subclass_after_it_was_made_is_refused_at_its_first_instance(
    base: type,
) -> None:
    class Later(base):  # type: ignore[valid-type,misc]
        pass

    type.__setattr__(Later, "text", None)  # a class decorator's setattr(cls, name, default)
    with pytest.raises(AnnotationError, match="in front of the guard"):
        Later("c-1", SECRET)


def test_a_record_with_a_new_of_its_own_still_builds_and_checks() -> None:
    class Counted:
        made = 0

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            Counted.made += 1
            return super().__new__(cls)

    @purposeful.record(subject="client_id")
    class CountedNote(Counted):
        client_id: str
        text: str = _managed(default="")

    class Later(CountedNote):
        pass

    note = CountedNote("c-1", SECRET)
    assert Counted.made == 1
    with purposeful.use(PURPOSE, actor=ACTOR):
        assert note.text == SECRET
    type.__setattr__(Later, "text", None)
    with pytest.raises(AnnotationError):
        Later("c-1", SECRET)
    assert Counted.made == 1  # refused before the object was made


@pytest.mark.parametrize("base", BASES, ids=lambda cls: cls.__qualname__)
def test_a_record_class_still_shows_the_fields_it_takes(base: type) -> None:
    """The check's ``__new__`` sits beside ``__init__``, and ``inspect.signature`` reads a
    ``__new__`` first: hypothesis' ``from_type``, FastAPI's dependencies and IDEs read it."""
    assert list(inspect.signature(base).parameters) == ["client_id", "text"]

    class Plain(base):  # type: ignore[valid-type,misc]
        pass

    assert list(inspect.signature(Plain).parameters) == ["client_id", "text"]
