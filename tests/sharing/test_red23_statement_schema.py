"""The agreement's JSON Schema and `prefill` agree on a statement of correction: a partner
that validates its payload against the schema is not refused by prefill for a statement
(a NUL character, which no store can keep, passed the schema and was refused)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from _tell_us_once import (
    NAME,
    RECEIVED,
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
from purposeful.errors import ReferralInvalid
from purposeful.sharing import STATEMENTS, MemorySharingStore, prefill

SCHEMA = agreement().json_schema(TUOReferral)


def _schema_takes(payload: dict[str, Any]) -> bool:
    return jsonschema.Draft202012Validator(SCHEMA).is_valid(payload)


def _prefill_takes(payload: dict[str, Any]) -> bool:
    purposeful.configure(consent=consent_for(SUBJECT), disclosure_log=MemorySharingStore())
    try:
        prefill(
            TUOApplication(SUBJECT, "A-1"),
            payload,
            source=SENDER,
            under=agreement(),
            fields={"name": "full_name"},
            at=RECEIVED,
        )
    except ReferralInvalid:
        return False
    return True


@pytest.mark.parametrize("said", ["a\x00b", "\x00", " \x00 ", "x\x00"])
def test_a_statement_with_a_nul_character_is_refused_by_the_schema_too(said: str) -> None:
    payload = {"name": NAME, STATEMENTS: {"name": [said]}}
    assert not _prefill_takes(payload)
    assert not _schema_takes(payload)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(said=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12))
def test_the_schema_and_prefill_agree_on_a_statement(said: str) -> None:
    payload = {"name": NAME, STATEMENTS: {"name": [said]}}
    assert _schema_takes(payload) == _prefill_takes(payload)
