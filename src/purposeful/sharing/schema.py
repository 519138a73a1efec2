"""What an agreement lets a party send, as JSON: a JSON Schema a partner validates against.

A sharing agreement already says which fields may be shared and why. `referral_schema`
writes that as a JSON Schema (draft 2020-12) a partner agency can validate a referral
payload with, whatever language its systems are written in:

- one object schema per record type the agreement covers (in ``$defs``), each with the
  covered fields as properties and no others (``additionalProperties: false``), none of
  them required (a field the person has not consented to share is left out of a
  disclosure) but at least one present;
- each field's JSON type from its annotation (`str`, `int`, `float`, `bool`, `date`,
  `datetime`, `Decimal` (as text), an `enum.Enum`, `typing.Literal`, lists and tuples of
  those, any of them optional); a type the library cannot say in JSON (a class of the
  agency's own) is accepted as any JSON value and named in ``x-purposeful-type``;
- plain labels (``title``, ``description``) and ``x-purposeful-*`` keys: the agreement, its
  parties, purposes and basis, and each field's purposes, data category, sensitivity and
  whether it needs the person's consent;
- the member ``"statements-of-correction"`` (`STATEMENTS`), which carries the statements
  of correction that go with the fields sent (IPP 7): an object keyed by the fields, each
  an array of non-empty strings, naming only fields the payload carries. Its name has a
  hyphen, so it can be no field's name (a field's name is an identifier).

`json_value` turns what `disclose` hands over into that JSON form (dates as ISO 8601 text,
enums by value), and `FieldType.accept` checks a value received in it and gives back the
Python value (`purposeful.sharing.referrals.prefill` uses it).

What this module must not do: read a record, or put a value in a schema, a message or a
repr (the schema is made from declarations only).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import types
import typing
import urllib.parse
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

import attrs

from .._config import declared_records
from .._hierarchy import covers
from .._shared.checks import is_text, storable
from ..bases import BasisKind
from ..corrections.values import MAX_STATEMENT_LENGTH
from ..errors import AgreementError
from ..records import FieldPolicy, RecordPolicy, record_policy
from .values import is_field_name

__all__ = [
    "DRAFT",
    "MAX_STATEMENTS",
    "MAX_STATEMENT_LENGTH",
    "STATEMENTS",
    "FieldType",
    "field_type",
    "json_kind",
    "json_value",
    "read_statements",
    "referral_schema",
    "shareable",
    "statements_schema",
]

#: The JSON Schema dialect the schemas are written in.
DRAFT = "https://json-schema.org/draft/2020-12/schema"

#: The payload member that carries the statements of correction going with the fields
#: (IPP 7): field name → the statements, in order. A field's name is a Python identifier,
#: which never holds a hyphen, so no record field can be called this.
STATEMENTS = "statements-of-correction"
#: The most statements of correction a payload may carry for one field.
MAX_STATEMENTS = 100

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# an ISO 8601 date and time with its offset (a time with none is ambiguous across agencies)
# (an offset may carry seconds, as Python writes a local mean time: +11:39:04)
_MOMENT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)$"
)
_MOMENT = re.compile(_MOMENT_PATTERN[1:-1] + r"\Z")
# a Decimal as `json_value` writes it (str(Decimal)): "412.50", "-3", "1E+3"
_DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
_DECIMAL = re.compile(_DECIMAL_PATTERN[1:-1] + r"\Z")


@attrs.frozen
class FieldType:
    """A field's type as JSON can say it.

    Attributes:
        kind: ``"string"``, ``"integer"``, ``"number"``, ``"boolean"``, ``"date"``,
            ``"date-time"``, ``"decimal"`` (a `Decimal`, as text), ``"enum"``, ``"array"``
            or ``"any"``.
        nullable: None is a value it takes.
        choices: for an enum or a literal, (JSON value, Python value) of each choice.
        items: for an array, its items' type.
        name: the Python type's name, for ``x-purposeful-type``.
        sequence: for an array, the Python type it comes back as (``list``, ``tuple``,
            ``set`` or ``frozenset``).
    """

    kind: str
    nullable: bool = False
    choices: tuple[tuple[Any, Any], ...] = ()
    items: FieldType | None = None
    name: str = ""
    sequence: type = list

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of a value of this type."""
        found: dict[str, Any]
        if self.kind in ("string", "integer", "number", "boolean"):
            found = {"type": self.kind}
        elif self.kind == "date":
            found = {"type": "string", "format": "date", "pattern": _DATE_PATTERN}
        elif self.kind == "date-time":
            found = {"type": "string", "format": "date-time", "pattern": _MOMENT_PATTERN}
        elif self.kind == "decimal":
            found = {"type": "string", "pattern": _DECIMAL_PATTERN}
        elif self.kind == "enum":
            found = {"enum": [value for value, _ in self.choices]}
        elif self.kind == "array":
            assert self.items is not None
            found = {"type": "array", "items": self.items.schema()}
        else:
            return {"x-purposeful-type": self.name} if self.name else {}
        if self.nullable:
            if "enum" in found:
                found["enum"] = [*found["enum"], None]
            else:
                found = {"anyOf": [found, {"type": "null"}]}
        return found

    def accept(self, value: object) -> tuple[bool, Any]:
        """(True, the Python value) if *value*, in its JSON form or as the Python value,
        is one of this type; (False, None) if not. Never raises, never keeps *value*."""
        if value is None:
            return self.nullable or self.kind == "any", None
        kind = self.kind
        if kind == "any":
            return True, value
        if kind == "string":
            return isinstance(value, str), value
        if kind == "boolean":
            return isinstance(value, bool), value
        if kind == "integer":
            # JSON Schema counts 3.0 as an integer, and a JSON parser may hand it over so
            if isinstance(value, float) and value.is_integer():
                return True, int(value)
            return isinstance(value, int) and not isinstance(value, bool), value
        if kind == "number":
            # NaN and the infinities are no JSON number (a lenient parser hands them over)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            return number and (not isinstance(value, float) or math.isfinite(value)), value
        if kind == "date":
            return _date(value)
        if kind == "date-time":
            return _moment(value)
        if kind == "decimal":
            return _decimal(value)
        if kind == "enum":
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # JSON Schema's enum counts 3.0 equal to 3
            for shown, member in self.choices:
                if value is member or (type(value) is type(shown) and value == shown):
                    return True, member
            return False, None
        if kind == "array" and isinstance(value, list | tuple):
            assert self.items is not None
            converted = []
            for item in value:
                ok, python = self.items.accept(item)
                if not ok:
                    return False, None
                converted.append(python)
            try:
                return True, self.sequence(converted)
            except TypeError:  # an item a set cannot hold (a list, an object): not one
                return False, None
        return False, None

    def describe(self) -> str:
        """What a value of this type is, in words (for an error message)."""
        words = {
            "string": "text (a JSON string)",
            "integer": "a whole number",
            "number": "a number",
            "boolean": "true or false",
            "date": "a date (YYYY-MM-DD)",
            "date-time": "a date and time with its offset (ISO 8601)",
            "decimal": 'a decimal number written as text (such as "412.50")',
            "enum": "one of " + ", ".join(repr(value) for value, _ in self.choices),
            "any": "any value",
        }.get(self.kind, "")
        if self.kind == "array":
            assert self.items is not None
            words = f"a list (each item {self.items.describe()})"
        return f"{words} or null" if self.nullable else words


def _date(value: object) -> tuple[bool, Any]:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return True, value
    if isinstance(value, str) and _DATE.match(value):
        try:
            return True, dt.date.fromisoformat(value)
        except ValueError:
            return False, None
    return False, None


def _decimal(value: object) -> tuple[bool, Any]:
    if isinstance(value, Decimal):
        return value.is_finite(), value
    if isinstance(value, str) and _DECIMAL.match(value):
        return True, Decimal(value)
    return False, None


def _moment(value: object) -> tuple[bool, Any]:
    if isinstance(value, dt.datetime):
        return value.tzinfo is not None and value.utcoffset() is not None, value
    if isinstance(value, str) and _MOMENT.match(value):
        try:
            return True, dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False, None
    return False, None


_SIMPLE: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    dt.datetime: "date-time",
    dt.date: "date",
}


def _type_of(annotation: Any) -> FieldType:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(members) < len(typing.get_args(annotation))
        if len(members) == 1:
            return attrs.evolve(_type_of(members[0]), nullable=nullable)
        return FieldType("any", name=" | ".join(_name(m) for m in members))
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        if all(isinstance(v, str | int | bool) for v in values):
            return FieldType("enum", choices=tuple((v, v) for v in values), name="Literal")
    if origin in (list, tuple, frozenset, set) or annotation in (list, tuple):
        arguments = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        items = _type_of(arguments[0]) if len(set(arguments)) == 1 else FieldType("any")
        # the Python collection it comes back as: a set field is filled with a set
        sequence = next(
            (kind for kind in (tuple, frozenset, set) if origin is kind or annotation is kind),
            list,
        )
        return FieldType("array", items=items, name=_name(annotation), sequence=sequence)
    if isinstance(annotation, type):
        if issubclass(annotation, Decimal):
            return FieldType("decimal", name=annotation.__qualname__)
        if issubclass(annotation, enum.Enum):
            choices = tuple((member.value, member) for member in annotation)
            if all(isinstance(value, str | int) for value, _ in choices):
                return FieldType("enum", choices=choices, name=annotation.__qualname__)
        for python, kind in _SIMPLE.items():
            if issubclass(annotation, python):
                return FieldType(kind, name=annotation.__qualname__)
    return FieldType("any", name=_name(annotation))


def _name(annotation: Any) -> str:
    return getattr(annotation, "__qualname__", None) or str(annotation)


def field_type(field: FieldPolicy) -> FieldType:
    """The JSON type of *field*, from its record's annotations (any JSON value when the
    annotation cannot be resolved)."""
    cls = field.record.cls
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception:  # a name only the declaring function knew: say nothing of its type
        hints = {}
    if field.name not in hints:
        return FieldType("any")
    return _type_of(hints[field.name])


def json_value(value: object) -> Any:
    """*value* as the JSON form the schemas describe: a date or datetime as ISO 8601 text,
    an enum member by its value, a tuple or set as a list, a `Decimal` as text; the rest
    as it is."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return json_value(value.value)
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    return value


def shareable(field: FieldPolicy, purposes: tuple[str, ...]) -> bool:
    """True if *field* is declared for one of *purposes*, or for a purpose within one: a
    disclosure for one of them could include it."""
    return any(covers(d, p) or covers(p, d) for d in field.purposes for p in purposes)


def _humane(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _field_schema(field: FieldPolicy, agreement: Any) -> dict[str, Any]:
    found = field_type(field).schema()
    relevant = {
        ident: (purpose, basis)
        for ident, (purpose, basis) in field.purposes.items()
        if any(covers(ident, p) or covers(p, ident) for p in agreement.purposes)
    }
    uses = [f"{purpose.title}: {purpose.description}" for purpose, _ in relevant.values()]
    kind = f"{field.category.title}. " if field.category is not None else ""
    found["title"] = _humane(field.name)
    found["description"] = f"{kind}Shared for {'; '.join(uses)}" if uses else kind.strip()
    found["x-purposeful-purposes"] = sorted(field.purposes)
    # the basis each use the agreement allows rests on, for the receiving agency's notice
    found["x-purposeful-bases"] = {
        ident: basis.describe() for ident, (_, basis) in sorted(relevant.items())
    }
    found["x-purposeful-sensitivity"] = field.sensitivity.name
    if field.category is not None:
        found["x-purposeful-category"] = field.category.id
    consent = bool(field.consent_for) or any(
        basis.kind is BasisKind.CONSENT for _, basis in field.purposes.values()
    )
    found["x-purposeful-consent-needed"] = consent
    return found


def statements_schema(names: list[str]) -> dict[str, Any]:
    """The JSON Schema of the `STATEMENTS` member of a payload carrying fields *names*: an
    object keyed by some of them, each an array of 1 to `MAX_STATEMENTS` strings holding
    something other than whitespace and no NUL character, of at most
    `MAX_STATEMENT_LENGTH` characters."""

    def statements() -> dict[str, Any]:  # one of its own for each field
        return {
            "type": "array",
            "items": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_STATEMENT_LENGTH,
                # something other than whitespace, and no NUL character, which no store
                # can keep (prefill refuses it): the same as prefill asks
                "pattern": r"^[^\u0000]*[^\s\u0000][^\u0000]*$",
            },
            "minItems": 1,
            "maxItems": MAX_STATEMENTS,
        }

    return {
        "type": "object",
        "title": "Statements of correction",
        "description": (
            "For a field sent, the statements of correction the person asked to be attached "
            "to it when a correction was declined (Privacy Act 2020, IPP 7): read them with "
            "the field. Absent when no field sent has one."
        ),
        "properties": {name: statements() for name in names},
        "additionalProperties": False,
        "minProperties": 1,
        "x-purposeful-statements": True,
    }


def _record_schema(policy: RecordPolicy, fields: list[FieldPolicy], agreement: Any) -> Any:
    names = [field.name for field in fields]
    properties = {field.name: _field_schema(field, agreement) for field in fields}
    properties[STATEMENTS] = statements_schema(names)
    return {
        "type": "object",
        "title": _humane(policy.name.rpartition(".")[2]),
        "description": (
            f"The fields of a {policy.name} record that {agreement.name} lets one party "
            f"send another; any may be left out. The statements of correction that go "
            f"with the fields sent are under {STATEMENTS!r}."
        ),
        "properties": properties,
        "additionalProperties": False,
        "minProperties": 1,
        # a statement goes with a field sent: naming one requires the field
        "allOf": [
            {
                "if": {"required": [STATEMENTS], "properties": {STATEMENTS: {"required": [name]}}},
                "then": {"required": [name]},
            }
            for name in names
        ],
        "x-purposeful-record-type": policy.name,
    }


def _pointer(name: str) -> str:
    """*name* as a JSON Pointer token in a URI fragment (RFC 6901): a record named
    ``"housing/referral"`` or ``"50%"`` is still found."""
    return urllib.parse.quote(name.replace("~", "~0").replace("/", "~1"), safe="~")


def referral_schema(agreement: Any, record_type: type | str | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of what *agreement* lets one party send another.

    Args:
        agreement: a `SharingAgreement`.
        record_type: only this record type (a record class or its name); default every
            declared record type with a field the agreement covers.

    Returns:
        A JSON-ready dict: validate a payload (``Disclosed.to_json()``) against it with any
        draft 2020-12 validator.

    Raises:
        AgreementError: *agreement* is not a `SharingAgreement`, or covers no field of the
            record types asked for (import the modules that declare them first).
    """
    from .agreements import SharingAgreement

    if not isinstance(agreement, SharingAgreement):
        raise AgreementError("referral_schema() takes a SharingAgreement")
    policies = [record_policy(cls) for cls in declared_records()]
    if record_type is not None:
        named = isinstance(record_type, type)
        wanted = record_policy(record_type).name if named else record_type  # type: ignore[arg-type]
        policies = [policy for policy in policies if policy.name == wanted]
    defs: dict[str, Any] = {}
    for policy in sorted(policies, key=lambda p: p.name):
        fields = [
            field
            for field in policy.fields.values()
            if agreement.covers(field) and shareable(field, agreement.purposes)
        ]
        if fields:
            defs[policy.name] = _record_schema(policy, fields, agreement)
    if not defs:
        which = f"record type {record_type!r}" if record_type is not None else "record type"
        raise AgreementError(
            f"agreement {agreement.id!r} covers no field of a declared {which} for its "
            f"purposes; import the module that declares the records first"
        )
    refs = [{"$ref": f"#/$defs/{_pointer(name)}"} for name in defs]
    suffix = f":{next(iter(defs))}" if record_type is not None else ""
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": f"urn:purposeful:agreement:{agreement.id}{suffix}",
        "title": f"{agreement.name}: what may be sent",
        "description": agreement.description or agreement.describe(),
        "x-purposeful-agreement": agreement.id,
        "x-purposeful-parties": [party.name for party in agreement.parties],
        "x-purposeful-purposes": list(agreement.purposes),
        "x-purposeful-basis": agreement.basis.describe(),
        "x-purposeful-basis-kind": agreement.basis.kind.value,
        "x-purposeful-starts": agreement.starts.isoformat(),
        "x-purposeful-expires": agreement.expires.isoformat(),
        "$defs": defs,
    }
    if len(refs) == 1:
        schema.update(refs[0])
    else:
        schema["anyOf"] = refs
    return schema


def read_statements(
    member: object, carried: Collection[str], fault: Callable[..., None]
) -> dict[str, tuple[str, ...]]:
    """The statements of correction of a referral's `STATEMENTS` *member*: its field → the
    statements, as the schema (`statements_schema`) describes them. Each problem is passed
    to ``fault(reason, problem[, field])``, in words that never hold a value, with the
    reason ``statement-malformed``, ``statement-for-field-not-carried`` or
    ``statement-too-large``. *carried* holds the referral's fields (their names); a
    statement may go only with one of them."""
    where = f"the statements of correction ({STATEMENTS!r})"
    if not isinstance(member, Mapping):
        fault(
            "statement-malformed",
            f"{where} should be an object of field names to lists of statements, not "
            f"{json_kind(member)}",
        )
        return {}
    if not member:
        fault(
            "statement-malformed",
            f"{where} are an empty object: leave the member out when there are none",
        )
        return {}
    if len(member) > len(carried):  # never walk more of it than the referral holds
        fault("statement-for-field-not-carried", f"{where} name more fields than it carries")
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for key, said in member.items():
        if not is_field_name(key):
            fault("statement-malformed", f"{where} hold a key that is not a field name")
            continue
        if key not in carried:
            fault(
                "statement-for-field-not-carried",
                f"{where} hold some for {key!r}, which it does not carry: a statement is "
                f"read with the field it goes with",
                key,
            )
            continue
        problem = _statement_problem(said)
        if problem is not None:
            reason, words = problem
            fault(reason, f"{where} for {key!r} {words}", key)
            continue
        found[key] = tuple(str.__str__(text) for text in said)
    return found


def _statement_problem(said: object) -> tuple[str, str] | None:
    """(reason, what is wrong) if *said* is not a field's statements of correction."""
    if not isinstance(said, list | tuple) or not said:
        return "statement-malformed", (
            f"should be a list of one or more statements (text), not {json_kind(said)}"
            if not isinstance(said, list | tuple)
            else "should be a list of one or more statements (text), not an empty list"
        )
    if len(said) > MAX_STATEMENTS:
        return "statement-too-large", f"are more than the {MAX_STATEMENTS} a field may carry"
    for text in said:
        if not is_text(text):
            return "statement-malformed", "should each be text with something in it"
        if len(text) > MAX_STATEMENT_LENGTH:
            return "statement-too-large", (
                f"hold one longer than {MAX_STATEMENT_LENGTH:,} characters"
            )
        if not storable(text):
            return "statement-malformed", (
                "hold a NUL character or an unpaired surrogate, which cannot be kept"
            )
    return None


def json_kind(value: object) -> str:
    """What kind of value *value* is, in JSON's words (never the value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN or an infinity, which JSON has no number for"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"
