"""An agreement as a JSON Schema (draft 2020-12): what one party may send another.

Checked with a real validator (`jsonschema`): every payload `disclose` hands over
validates; a payload with a field the agreement does not cover, or a value of the wrong
type, does not.
"""

from __future__ import annotations

import json
import string
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest
from _tell_us_once import (
    CASEWORKER,
    NAME,
    RECEIVER,
    SUBJECT,
    Tenure,
    TUOApplication,
    TUOReferral,
    agreement,
    consent_for,
)
from hypothesis import given
from hypothesis import strategies as st

import purposeful
from purposeful.cli import main
from purposeful.corrections import MemoryCorrectionStore
from purposeful.errors import AgreementError
from purposeful.sharing import STATEMENTS, MemorySharingStore, referral_schema
from purposeful.sharing.schema import (
    MAX_STATEMENT_LENGTH,
    MAX_STATEMENTS,
    _type_of,
    json_value,
)

VALIDATOR = jsonschema.Draft202012Validator


def valid(payload: object, schema: dict[str, Any]) -> bool:
    return VALIDATOR(schema, format_checker=VALIDATOR.FORMAT_CHECKER).is_valid(payload)


def test_the_schema_is_a_valid_draft_2020_12_schema_naming_the_agreement() -> None:
    schema = agreement().json_schema()
    VALIDATOR.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:purposeful:agreement:tuo-housing-referrals"
    assert schema["x-purposeful-agreement"] == "tuo-housing-referrals"
    assert schema["x-purposeful-parties"] == ["Te Whare Āwhina", "Kāinga Ora"]
    assert schema["x-purposeful-purposes"] == ["service-delivery.referral"]
    assert schema["x-purposeful-basis-kind"] == "authorised-by-person"
    assert schema["description"] == "Referring people who need housing support."
    json.dumps(schema)  # JSON-ready as it is


def test_each_covered_field_has_its_type_label_and_declarations() -> None:
    fields = referral_schema(agreement(), TUOReferral)["$defs"]["TUOReferral"]["properties"]
    covered = {"name", "phone", "born", "tenure", "people", "urgent"}
    assert set(fields) == covered | {STATEMENTS}
    # the statements of correction: an object keyed by the fields covered, and no others
    assert set(fields[STATEMENTS]["properties"]) == covered
    assert fields[STATEMENTS]["additionalProperties"] is False
    assert fields["name"]["type"] == "string"
    assert fields["name"]["title"] == "Name"
    assert "Referral" in fields["name"]["description"]
    assert fields["name"]["x-purposeful-category"] == "identity"
    assert fields["name"]["x-purposeful-consent-needed"] is True
    assert fields["name"]["x-purposeful-sensitivity"] == "IN-CONFIDENCE"
    assert list(fields["name"]["x-purposeful-bases"]) == ["service-delivery.referral"]
    assert "consent" in fields["name"]["x-purposeful-bases"]["service-delivery.referral"]
    assert fields["phone"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert fields["born"]["anyOf"][0]["format"] == "date"
    assert fields["tenure"]["enum"] == ["renting", "owned", "none", None]
    assert fields["people"]["anyOf"][0] == {"type": "integer"}
    assert fields["urgent"]["type"] == "boolean"


def test_a_field_outside_the_agreement_or_its_purposes_is_not_in_the_schema() -> None:
    record = referral_schema(agreement(), TUOReferral)["$defs"]["TUOReferral"]
    assert "history" not in record["properties"]  # case notes: neither covered nor referral
    assert record["additionalProperties"] is False
    narrow = agreement(categories=[], fields=["TUOReferral.name"])
    properties = narrow.json_schema()["$defs"]["TUOReferral"]["properties"]
    assert set(properties) == {"name", STATEMENTS}
    assert set(properties[STATEMENTS]["properties"]) == {"name"}


def test_every_record_type_it_covers_is_offered_when_none_is_named() -> None:
    schema = agreement().json_schema()
    assert {"TUOReferral", "TUOApplication"} <= set(schema["$defs"])
    assert {"$ref": "#/$defs/TUOReferral"} in schema["anyOf"]


def test_a_literal_is_an_enum() -> None:
    fields = referral_schema(agreement(), "TUOApplication")["$defs"]["TUOApplication"]
    assert fields["properties"]["priority"]["enum"] == ["low", "high", None]


def test_an_agreement_covering_nothing_of_the_type_asked_for_is_an_agreement_error() -> None:
    with pytest.raises(AgreementError, match="covers no field of a declared record type 'Nope'"):
        referral_schema(agreement(), "Nope")
    with pytest.raises(AgreementError, match="takes a SharingAgreement"):
        referral_schema("tuo-housing-referrals")


def disclosed(record: TUOReferral) -> dict[str, Any]:
    purposeful.configure(disclosure_log=MemorySharingStore(), consent=consent_for(SUBJECT))
    sent = purposeful.disclose(record, to=RECEIVER, under=agreement(), actor=CASEWORKER)
    return sent.to_json()


texts = st.text(alphabet=string.ascii_letters + " -āēīōū", min_size=1, max_size=20)
referrals = st.builds(
    TUOReferral,
    client_id=st.just(SUBJECT),
    referral_id=st.just("R-1"),
    name=texts,
    phone=st.none() | texts,
    born=st.none() | st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 1, 1)),
    tenure=st.none() | st.sampled_from(Tenure),
    people=st.none() | st.integers(0, 20),
    urgent=st.booleans(),
    history=texts,
)


@given(referrals)
def test_every_payload_disclose_hands_over_validates(record: TUOReferral) -> None:
    payload = disclosed(record)
    assert "history" not in payload
    assert valid(payload, agreement().json_schema())


@given(referrals, st.sampled_from(["history", "address", "iwi", "client_id"]), texts)
def test_a_payload_with_a_field_outside_the_agreement_fails(
    record: TUOReferral, extra: str, value: str
) -> None:
    payload = disclosed(record) | {extra: value}
    assert not valid(payload, agreement().json_schema())


WRONG: dict[str, Any] = {
    "name": [1, None, True, ["x"], {"a": 1}],
    "born": ["3 March 1990", 19900303, "1990-3-3", True],
    "tenure": ["Renting", 1, True],
    "people": ["four", 2.5, True],
    "urgent": ["yes", 1, None],
}


@given(referrals, st.sampled_from(sorted(WRONG)), st.data())
def test_a_payload_with_a_value_of_the_wrong_type_fails(
    record: TUOReferral, field: str, data: st.DataObject
) -> None:
    payload = disclosed(record)
    payload[field] = data.draw(st.sampled_from(WRONG[field]))
    assert not valid(payload, referral_schema(agreement(), TUOReferral))


def test_an_empty_payload_fails() -> None:
    assert not valid({}, agreement().json_schema())


# --- the statements of correction (IPP 7) ---


def test_no_record_field_can_be_named_as_the_statements_member() -> None:
    assert not STATEMENTS.isidentifier()  # a field's name is an identifier


def test_a_payload_carrying_statements_of_correction_validates() -> None:
    purposeful.configure(disclosure_log=MemorySharingStore(), consent=consent_for(SUBJECT))
    corrections = MemoryCorrectionStore()
    purposeful.configure(corrections=corrections)
    record = TUOReferral(SUBJECT, "R-1", NAME, "021 555 0199")
    asked = corrections.request_correction(SUBJECT, record, "phone", "021 000 0000", "old")
    corrections.decline(asked.id, by="staff-02", reason="verified", statement="It changed.")
    sent = purposeful.disclose(record, to=RECEIVER, under=agreement(), actor=CASEWORKER)
    payload = sent.to_json()
    assert payload[STATEMENTS] == {"phone": ["It changed."]}
    assert valid(payload, agreement().json_schema())
    assert valid(payload, referral_schema(agreement(), TUOReferral))


#: Members the schema refuses, each with the payload's fields it goes with.
BAD_STATEMENTS: list[Any] = [
    ["It changed."],  # not an object
    "It changed.",
    {},  # an empty object: the member is left out when there are none
    {"phone": "It changed."},  # not a list
    {"phone": []},
    {"phone": [""]},
    {"phone": ["   "]},
    {"phone": [1]},
    {"phone": [["It changed."]]},
    {"history": ["It changed."]},  # a field the agreement does not cover
    {"address": ["It changed."]},  # not a field at all
    {"tenure": ["It changed."]},  # a field the payload does not carry
    {"phone": ["x"] * (MAX_STATEMENTS + 1)},
    {"phone": ["x" * (MAX_STATEMENT_LENGTH + 1)]},
]


@pytest.mark.parametrize("member", BAD_STATEMENTS, ids=repr)
def test_a_malformed_statements_member_fails(member: Any) -> None:
    payload = {"name": NAME, "phone": "021 555 0199", STATEMENTS: member}
    assert not valid(payload, agreement().json_schema())


def test_statements_at_their_limits_validate() -> None:
    payload = {
        "name": NAME,
        "phone": "021 555 0199",
        STATEMENTS: {
            "phone": ["x"] * MAX_STATEMENTS,
            "name": ["y" * MAX_STATEMENT_LENGTH, " z "],
        },
    }
    assert valid(payload, agreement().json_schema())
    assert not valid({STATEMENTS: {"phone": ["x"]}}, agreement().json_schema())


# --- the command ---


RECORDS = "tuo_schema_records"


@pytest.fixture
def records_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / f"{RECORDS}.py").write_text(
        "from _tell_us_once import TUOApplication, TUOReferral, agreement\nHOUSING = agreement()\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    return RECORDS


def test_the_command_prints_the_schema(
    records_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command = ["agreement", "schema", "tuo-housing-referrals", "--records", records_module]
    status = main([*command, "--type", "TUOApplication"])
    assert status == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == referral_schema(agreement(), TUOApplication)


def test_the_command_writes_a_file_once(
    records_module: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "schema.json"
    command = ["agreement", "schema", "tuo-housing-referrals", "--records", records_module]
    assert main([*command, "--out", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8"))["$defs"]
    capsys.readouterr()
    assert main([*command, "--out", str(target)]) == 2
    assert "exists; give --force" in capsys.readouterr().err
    assert main([*command, "--out", str(target), "--force"]) == 0


def test_the_command_names_an_unknown_agreement_in_one_line(
    records_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agreement", "schema", "nope", "--records", records_module]) == 2
    err = capsys.readouterr().err
    assert "no agreement has the id 'nope'" in err
    assert "tuo-housing-referrals" in err
    assert err.count("\n") == 1
    assert NAME not in err


def test_the_command_says_when_it_cannot_write_in_one_line(
    records_module: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "schema.json"
    command = ["agreement", "schema", "tuo-housing-referrals", "--records", records_module]
    assert main([*command, "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err
    assert err.count("\n") == 1
    assert not target.parent.exists()


# --- what a partner sends is outside input: accept never raises ---

ANNOTATIONS: list[Any] = [
    str,
    int,
    float,
    bool,
    date,
    Decimal,
    Tenure,
    Literal["low", "high"],
    list[str],
    list[Any],
    tuple[int, ...],
    tuple[str, int],
    set[Any],
    set[str],
    frozenset[Any],
    frozenset[date],
    set[list[str]],
    dict[str, Any],
    str | None,
    set[Any] | None,
    list[set[Any]] | None,
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["2026-03-03", "2026-03-03T09:00:00+13:00", "renting", "low"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.sampled_from(ANNOTATIONS), json_values)
def test_accepting_any_json_value_gives_an_answer_never_an_error(
    annotation: Any, value: object
) -> None:
    ok, _ = _type_of(annotation).accept(value)
    assert ok in (True, False)


def test_a_set_given_items_it_cannot_hold_is_not_of_its_type() -> None:
    assert _type_of(set[Any]).accept([[1], {"a": 1}]) == (False, None)
    assert _type_of(frozenset[Any]).accept([["x"]]) == (False, None)
    assert _type_of(set[Any]).accept(["a", 1, "a"]) == (True, {"a", 1})


def test_nan_and_the_infinities_are_not_numbers() -> None:
    for number in (float("nan"), float("inf"), float("-inf")):
        assert _type_of(float).accept(number)[0] is False
        assert _type_of(int).accept(number)[0] is False
    assert _type_of(float).accept(1e308) == (True, 1e308)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_a_decimal_goes_out_as_text_the_schema_takes_and_comes_back_equal(
    value: Decimal,
) -> None:
    kind = _type_of(Decimal | None)
    sent = json_value(value)
    assert isinstance(sent, str)
    assert valid(sent, kind.schema())
    ok, back = kind.accept(sent)
    assert ok
    assert isinstance(back, Decimal)
    assert back == value


def test_a_decimal_field_refuses_what_is_not_a_decimal_written_as_text() -> None:
    kind = _type_of(Decimal)
    for wrong in ("abc", "NaN", "Infinity", "1,5", "", [1], {"a": 1}, True, Decimal("NaN")):
        assert kind.accept(wrong)[0] is False
        if isinstance(wrong, str):  # the partner's validator refuses it too
            assert not valid(wrong, kind.schema())
