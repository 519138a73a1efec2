"""`purposeful.testing.undecorated_records`: the classes that declare managed fields but
were never decorated, so are plain (their fields read with no decision). The decorator is
forgotten silently for attrs classes, dataclasses and pydantic models; a test can now
assert there are none."""

from __future__ import annotations

import dataclasses
import gc
from typing import Annotated

import attrs
import pydantic
import pytest

import purposeful
from purposeful import Managed, ServiceAgreement
from purposeful._policies import POLICY_ATTR
from purposeful.errors import DictStorageWarning
from purposeful.testing import undecorated_records

AGREEMENT = ServiceAgreement("Service delivery agreement")
HERE = __name__


def _managed() -> Managed:  # type: ignore[valid-type]
    return Managed(purposes={"service-delivery": AGREEMENT})


def _names() -> list[str]:
    return [entry.split(" ")[0].rsplit(".", 1)[1] for entry in undecorated_records(HERE)]


def test_a_forgotten_decorator_on_each_kind_is_listed_with_its_fields() -> None:
    @attrs.define
    class ForgotAttrs:
        client_id: str
        notes: str = purposeful.field(purposes={"service-delivery": AGREEMENT})
        region: str = "Wellington"

    @dataclasses.dataclass
    class ForgotDataclass:
        client_id: str
        notes: str = dataclasses.field(metadata={"purposeful": _managed()})

    class ForgotPydantic(pydantic.BaseModel):
        client_id: str
        notes: Annotated[str, _managed()]
        phone: Annotated[str, _managed()]

    found = undecorated_records(HERE)
    assert f"{HERE}.{ForgotAttrs.__qualname__} (notes)" in found
    assert f"{HERE}.{ForgotDataclass.__qualname__} (notes)" in found
    assert f"{HERE}.{ForgotPydantic.__qualname__} (notes, phone)" in found
    # what it reports is true: the forgotten class hands the value out undecided
    assert ForgotAttrs("c-1", "kept").notes == "kept"


def test_decorated_records_and_their_subclasses_are_not_listed() -> None:
    @purposeful.record(subject="client_id")
    class Decorated:
        client_id: str
        notes: str = purposeful.field(purposes={"service-delivery": AGREEMENT})

    class DecoratedModel(pydantic.BaseModel):
        client_id: str
        notes: Annotated[str, _managed()]

    with pytest.warns(DictStorageWarning):
        purposeful.record(subject="client_id")(DecoratedModel)

    class Sub(Decorated):
        pass

    names = _names()
    assert "Decorated" not in names
    assert "DecoratedModel" not in names
    assert "Sub" not in names


def test_classes_without_managed_fields_are_not_listed() -> None:
    @attrs.define
    class Plain:
        client_id: str
        notes: str = attrs.field(metadata={"other": 1})

    assert "Plain" not in _names()


def test_the_modules_named_bound_the_search() -> None:
    @attrs.define
    class Elsewhere:
        client_id: str
        notes: str = purposeful.field(purposes={"service-delivery": AGREEMENT})

    assert "Elsewhere" in _names()
    assert undecorated_records("no_such_application") == []
    assert all(not entry.startswith(f"{HERE}.") for entry in undecorated_records(HERE + "_other"))


def test_the_library_itself_declares_no_undecorated_record() -> None:
    import purposeful.access
    import purposeful.consent  # noqa: F401

    assert undecorated_records("purposeful") == []


def test_a_class_gone_is_not_listed() -> None:
    def make() -> None:
        @attrs.define
        class Gone:
            client_id: str
            notes: str = purposeful.field(purposes={"service-delivery": AGREEMENT})

    make()
    gc.collect()
    assert "Gone" not in _names()


@pytest.mark.parametrize("kind", ["attrs", "dataclass", "pydantic"])
def test_looking_changes_nothing(kind: str) -> None:
    if kind == "attrs":

        @attrs.define
        class Looked:
            client_id: str
            notes: str = purposeful.field(purposes={"service-delivery": AGREEMENT})

    elif kind == "dataclass":

        @dataclasses.dataclass
        class Looked:  # type: ignore[no-redef]
            client_id: str
            notes: str = dataclasses.field(metadata={"purposeful": _managed()})

    else:

        class Looked(pydantic.BaseModel):  # type: ignore[no-redef]
            client_id: str
            notes: Annotated[str, _managed()]

    before = dict(vars(Looked))
    undecorated_records(HERE)
    assert dict(vars(Looked)) == before
    assert not any(POLICY_ATTR in vars(k) for k in Looked.__mro__)
