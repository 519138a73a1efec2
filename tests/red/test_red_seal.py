"""A red team's findings against sealed slots and the record kinds around them, each kept as
the behaviour that now holds. (The seal's own findings, a managed subject written unsealed
and a seal opened by an application's ``enc_hook``, are in tests/kinds/test_c_serialisers.py;
a subclass standing in front of a guard in tests/kinds/test_subclass_shadows.py.)"""

from __future__ import annotations

import dataclasses

import attrs
import pytest

import purposeful
from purposeful import ServiceAgreement
from purposeful.errors import AnnotationError, ManagedValueError

PURPOSE = "service-delivery.case-management"
AGREEMENT = ServiceAgreement("Red seal agreement")
SUBJECT = "NHI-ZZZ9999"


def test_a_long_value_quoted_cut_short_by_a_converter_is_scrubbed() -> None:
    """``int()`` quotes only the first 200 characters of its argument's repr: the scrub
    matched whole quotes only, so a long value's opening reached the message."""

    @purposeful.record(subject="client_id")
    class RedScore:
        client_id: str
        score: int = purposeful.field(purposes={PURPOSE: AGREEMENT}, converter=int)

    value = "history of self-harm since 2019; " * 10
    with pytest.raises(ManagedValueError) as raised:
        RedScore("C-1", value)
    assert value[:24] not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None


def test_a_converter_quoting_a_piece_of_the_value_is_scrubbed() -> None:
    """Found by a second red team: a converter that splits its input quotes the one item it
    could not convert, which is neither the value's repr nor its opening."""

    @purposeful.record(subject="client_id")
    class RedCodes:
        client_id: str
        codes: list[int] = purposeful.field(
            purposes={PURPOSE: AGREEMENT}, converter=lambda s: [int(x) for x in s.split(",")]
        )

    with pytest.raises(ManagedValueError) as raised:
        RedCodes("C-1", "401,NHI-ABC1234,17")
    assert "NHI-ABC1234" not in str(raised.value)


def test_a_subjects_validator_error_does_not_quote_the_raw_id() -> None:
    @purposeful.record(subject="client_id")
    class RedValidated:
        client_id: str = attrs.field(validator=attrs.validators.matches_re(r"C-\d+"))
        notes: str = purposeful.field(purposes={PURPOSE: AGREEMENT})

    with pytest.raises(ManagedValueError, match="or the subject") as raised:
        RedValidated(SUBJECT, "notes")
    assert SUBJECT not in str(raised.value)


def test_a_dataclass_subjects_post_init_error_does_not_quote_the_raw_id() -> None:
    @purposeful.record(subject="client_id")
    @dataclasses.dataclass(slots=True)
    class RedPostInit:
        client_id: str
        notes: str = purposeful.field(purposes={PURPOSE: AGREEMENT})

        def __post_init__(self) -> None:
            if not self.client_id.startswith("C-"):
                raise ValueError(f"not a client id: {self.client_id!r}")

    with pytest.raises(ManagedValueError) as raised:
        RedPostInit(SUBJECT, "notes")
    assert SUBJECT not in str(raised.value)


def test_a_record_that_caches_its_hash_is_refused() -> None:
    """With ``cache_hash=True`` one hash in a scope answered every later hash undecided,
    outside any scope too: an "is the value X?" oracle."""
    with pytest.raises(AnnotationError, match="cache_hash=True"):

        @purposeful.record(subject="client_id")
        @attrs.frozen(cache_hash=True)
        class RedCachedHash:
            client_id: str
            notes: str = purposeful.field(purposes={PURPOSE: AGREEMENT})

    @purposeful.record(subject="client_id")
    @attrs.frozen(cache_hash=True)
    class RedCachedHashPlain:
        """No managed field: its hash reads nothing a scope decides."""

        client_id: str
        region: str

    assert hash(RedCachedHashPlain("C-1", "Otago")) == hash(RedCachedHashPlain("C-1", "Otago"))
