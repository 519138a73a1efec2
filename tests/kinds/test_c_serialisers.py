"""Serialisers written in C, as an agency's stack meets them: msgspec (Litestar's encoder),
orjson (FastAPI's ``ORJSONResponse``) and pydantic-core (``to_json``).

They read a record's storage past its descriptors where they can: msgspec encodes an attrs
class by reading its slots from memory, orjson and msgspec a dataclass's ``__dict__``. A
slotted record's slot holds each managed value sealed (`purposeful._guard.ManagedValue`):
such a reader meets the seal, which it cannot encode, and stops with its own error. Where
they read attributes (a slotted dataclass), they go through the guards, so each value they
hand out was decided. Every kind of the full tier, every declaration, every serialiser,
outside a scope and in one of a drawn purpose: no managed value is handed out undecided.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import pickle
from collections.abc import Callable
from typing import Any

import attrs
import msgspec
import orjson
import pydantic_core
import pytest
from _kinds_registry import PLAIN_VALUE, Declaration, available_kinds, build, declarations, instance
from hypothesis import given, settings
from hypothesis import strategies as st
from test_kind_properties import (
    ACTORS,
    HANDED_OUT,
    PURPOSE_IDS,
    exception_texts,
    scope_or_none,
    subjects,
    tokens_in,
    values_for,
)

import purposeful
from purposeful import PurposeViolation, ServiceAgreement
from purposeful.errors import ManagedValueError
from purposeful.testing import capture_decisions

SLOTTED = tuple(kind for kind in available_kinds() if kind.slotted)
PURPOSE = "service-delivery.case-management"
ACTOR = purposeful.Actor("staff-1", "caseworker", purposeful.SENSITIVE)
SECRET = "Aroha Secret-Name"


def _orjson_through_asdict(record: Any) -> bytes:
    """The recipe the docs give for orjson: the record's own ``asdict`` as its ``default``."""
    as_dict = attrs.asdict if attrs.has(type(record)) else dataclasses.asdict
    return orjson.dumps(record, option=orjson.OPT_PASSTHROUGH_DATACLASS, default=as_dict)


#: each serialiser, as a callable of a record
SERIALISERS: dict[str, Callable[[Any], Any]] = {
    "msgspec.json.encode": msgspec.json.encode,
    "msgspec.msgpack.encode": msgspec.msgpack.encode,
    "msgspec.to_builtins": msgspec.to_builtins,
    "msgspec.json.Encoder(order=sorted)": msgspec.json.Encoder(order="sorted").encode,
    "pydantic_core.to_json": pydantic_core.to_json,
    "pydantic_core.to_jsonable_python": pydantic_core.to_jsonable_python,
    "orjson (the documented default=)": _orjson_through_asdict,
}


def _texts(thing: object) -> list[str]:
    if isinstance(thing, bytes):
        return [thing.decode("utf-8", "replace")]
    return [repr(thing), str(thing)]


@settings(max_examples=25, deadline=None)
@given(
    declaration=declarations(),
    data=st.data(),
    subject=subjects,
    purpose=st.sampled_from(PURPOSE_IDS),
    actor=st.sampled_from(ACTORS),
)
def test_no_c_serialiser_hands_out_a_value_of_a_slotted_record_undecided(
    declaration: Declaration, data: st.DataObject, subject: str, purpose: str, actor: Any
) -> None:
    values = data.draw(values_for(declaration))
    for kind in SLOTTED:
        record = instance(build(kind, declaration), subject, values)
        for name, serialise in SERIALISERS.items():
            for where in (None, purpose):
                place = f"{kind.name}: {name} under {where or 'no scope'}"
                raised: Exception | None = None
                with capture_decisions() as captured:
                    try:
                        with scope_or_none(where, actor):
                            out = serialise(record)
                    except Exception as exc:  # refused, or the serialiser met a seal
                        raised = exc
                if raised is not None:
                    assert not tokens_in(exception_texts(raised)), f"{place} quoted a value"
                    continue
                handed = {d.field for d in captured.decisions if d.outcome in HANDED_OUT}
                leaked = tokens_in(_texts(out)) - {"subject"}
                assert leaked <= handed, f"{place} handed out {leaked - handed} undecided"


# --- what each serialiser does, by name ---


@purposeful.record(subject="client_id")
class SlottedClient:
    client_id: str
    name: str = purposeful.field(purposes={PURPOSE: ServiceAgreement("Agreement")})
    region: str = "Wellington"


@purposeful.record(subject="client_id")
@dataclasses.dataclass(slots=True)
class SlottedDataclassClient:
    client_id: str
    name: str = purposeful.field(purposes={PURPOSE: ServiceAgreement("Agreement")})


@pytest.mark.parametrize("encode", [msgspec.json.encode, msgspec.msgpack.encode])
def test_msgspec_meets_the_seal_of_an_attrs_record_even_where_the_read_is_allowed(
    encode: Callable[[Any], bytes],
) -> None:
    record = SlottedClient("c-1", SECRET)
    with (
        capture_decisions() as captured,
        purposeful.use(PURPOSE, actor=ACTOR),
        pytest.raises(TypeError, match="ManagedValue is unsupported") as raised,
    ):
        encode(record)
    assert SECRET not in str(raised.value)
    assert not captured.decisions  # it read nothing through a guard: nothing was handed out


def test_msgspec_encodes_an_attrs_record_read_through_its_guards() -> None:
    """What the docs say to do instead: the record's own asdict, in the scope."""
    record = SlottedClient("c-1", SECRET)
    with capture_decisions() as captured, purposeful.use(PURPOSE, actor=ACTOR):
        out = msgspec.json.decode(msgspec.json.encode(attrs.asdict(record)))
    assert out == {"client_id": "c-1", "name": SECRET, "region": PLAIN_VALUE}
    assert [d.field for d in captured.decisions] == ["name"]
    with pytest.raises(purposeful.NoPurposeScope):
        attrs.asdict(record)


def test_msgspec_and_pydantic_core_read_a_slotted_dataclass_through_its_guards() -> None:
    record = SlottedDataclassClient("c-1", SECRET)
    for encode in (msgspec.json.encode, pydantic_core.to_json):
        # msgspec raises the refusal itself; pydantic-core wraps it in its own error
        with pytest.raises(Exception, match="read without saying why") as raised:
            encode(record)
        assert SECRET not in str(raised.value)
        with capture_decisions() as captured, purposeful.use(PURPOSE, actor=ACTOR):
            assert SECRET.encode() in encode(record)
        assert [d.field for d in captured.decisions] == ["name"]


def test_orjson_through_the_documented_default_refuses_and_decides() -> None:
    for record in (SlottedClient("c-1", SECRET), SlottedDataclassClient("c-1", SECRET)):
        with pytest.raises(orjson.JSONEncodeError) as raised:
            _orjson_through_asdict(record)
        assert isinstance(raised.value.__cause__, PurposeViolation)
        assert SECRET not in str(raised.value)
        with capture_decisions() as captured, purposeful.use(PURPOSE, actor=ACTOR):
            assert SECRET.encode() in _orjson_through_asdict(record)
        assert [d.field for d in captured.decisions] == ["name"]


def test_orjson_refuses_an_attrs_record_as_any_class_it_does_not_know() -> None:
    with purposeful.use(PURPOSE, actor=ACTOR), pytest.raises(TypeError, match="not JSON"):
        orjson.dumps(SlottedClient("c-1", SECRET))


# --- the seal itself ---


def _seal_of(record: object) -> Any:
    """What code reading interpreter internals finds in a managed slot."""
    found = [o for o in gc.get_referents(record) if type(o).__name__ == "ManagedValue"]
    assert len(found) == 1
    return found[0]


#: what generic fallbacks (msgspec's ``enc_hook``, orjson's ``default``) do with an object
#: they do not know: each gets nothing out of a seal
FALLBACKS: dict[str, Callable[[Any], Any]] = {
    "str": str,
    "format": lambda o: f"{o}",
    ".value": lambda o: o.value,
    "__getstate__": lambda o: o.__getstate__(),
    "__reduce_ex__": lambda o: o.__reduce_ex__(2),
    "__slots__ walk": lambda o: {s: getattr(o, s) for s in o.__slots__},
    "dir walk": lambda o: {n: getattr(o, n) for n in dir(o) if not n.startswith("__")},
    "vars": vars,
    "__dict__": lambda o: o.__dict__,
    "pickle": pickle.dumps,
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("fallback", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_a_fallback_of_the_applications_gets_nothing_out_of_a_seal(
    fallback: Callable[[Any], Any],
) -> None:
    """msgspec hands an object it cannot encode to the application's ``enc_hook``: the ways
    generic hooks open objects find no value (found by a red team: the seal's slot was
    ``.value``, listed in ``__slots__`` and returned by ``__getstate__``)."""
    record = SlottedClient("c-1", SECRET)
    seal = _seal_of(record)
    assert repr(seal) == "<managed>"
    for where in (None, PURPOSE):
        with scope_or_none(where, ACTOR):
            said = [_outcome(fallback, seal), _outcome(msgspec.json.encode, record, fallback)]
        assert not [text for text in said if SECRET in text], where


def _outcome(run: Callable[..., Any], thing: Any, hook: Any = None) -> str:
    """What *run* gives or raises (msgspec's error, or the hook's), as text."""
    try:
        out = run(thing) if hook is None else run(thing, enc_hook=hook)
    except Exception as exc:
        return "".join(exception_texts(exc))
    return out.decode("utf-8", "replace") if isinstance(out, bytes) else repr(out)


def test_the_seal_cannot_be_serialised_or_shown_as_text_on_its_own() -> None:
    seal = _seal_of(SlottedClient("c-1", SECRET))
    for way in (pickle.dumps, copy.copy, copy.deepcopy, str, "{}".format):
        with pytest.raises(ManagedValueError, match="on its own") as raised:
            way(seal)
        assert SECRET not in str(raised.value)


def test_every_slot_of_a_record_holds_its_value_sealed_from_construction_to_assignment() -> None:
    record = SlottedClient("c-1", SECRET)
    seal = _seal_of(record)
    record.name = "Another Name"
    assert _seal_of(record) is not seal
    with purposeful.use(PURPOSE, actor=ACTOR):
        assert record.name == "Another Name"
        clone = copy.deepcopy(record)
        assert pickle.loads(pickle.dumps(record)) == record == clone
        assert attrs.evolve(record, name=SECRET).name == SECRET
        assert purposeful.project(record)["name"] == "Another Name"
    assert _seal_of(clone) is not _seal_of(record)


@purposeful.record(subject="client_id")
class ManagedSubjectClient:
    """An identifier the agency manages as a field too (a national health index number)."""

    client_id: str = purposeful.field(purposes={PURPOSE: ServiceAgreement("Agreement")})
    name: str = purposeful.field(purposes={PURPOSE: ServiceAgreement("Agreement")})


def test_a_managed_subject_is_sealed_and_read_like_any_managed_field() -> None:
    """Found by a red team: the subject's own guard wrote a managed subject unsealed, so
    msgspec put it out and every read of it failed."""
    record = ManagedSubjectClient("NHI-ZZZ0016", SECRET)
    with pytest.raises(TypeError, match="ManagedValue is unsupported"):
        msgspec.json.encode(record)
    with pytest.raises(purposeful.NoPurposeScope):
        record.client_id  # noqa: B018
    with capture_decisions() as captured, purposeful.use(PURPOSE, actor=ACTOR):
        assert record.client_id == "NHI-ZZZ0016"
        assert pickle.loads(pickle.dumps(record)) == record
        assert dict(purposeful.project(record)) == {"client_id": "NHI-ZZZ0016", "name": SECRET}
    assert {d.field for d in captured.decisions} == {"client_id", "name"}
    with pytest.raises(purposeful.errors.SubjectChangeRefused):
        record.client_id = "NHI-ZZZ0024"
