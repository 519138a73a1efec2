"""One OTLP JSON attribute list, read by key and type, for the trace file reader
(`purposeful.audit.report.reading`): ``[{"key": …, "value": {<kind>Value: …}}, …]``.

What this module must not do: quote a value in an error (errors name the key, the place
and the problem: a foreign attribute may hold anything); decode a value before it is asked
for, so attributes the report does not read may have any form.
"""

from __future__ import annotations

from typing import Final, NoReturn

from ._json import Where as _Where
from ._json import integer as _integer
from ._json import json_kind as _kind
from ._json import json_object as _object

__all__ = ["Attributes"]

_ATTRIBUTE_KINDS: Final = {
    "stringValue": "a string (stringValue)",
    "intValue": "a whole number (intValue)",
    "boolValue": "true or false (boolValue)",
    "arrayValue": "an array of strings (arrayValue)",
}


class Attributes:
    """A list of OTLP JSON ``{"key": …, "value": {<kind>Value: …}}``, read by key and type.

    Values are decoded only when asked for, so attributes the report does not read (another
    library's, say) can have any form.
    """

    def __init__(self, raw: object, where: _Where, at: str) -> None:
        self._where, self._at = where, at
        self._values: dict[str, object] = {}
        if not isinstance(raw, list):
            where.fail(f"is a JSON {_kind(raw)}, not a list of key-value objects", at)
        for i, item in enumerate(raw):
            pair = _object(item, where, f"{at}[{i}]")
            key = pair.get("key")
            if not isinstance(key, str):
                where.fail("has no key (a string)", f"{at}[{i}]")
            self._values[key] = pair.get("value")

    def _value(self, key: str, kind: str) -> tuple[bool, object]:
        """Whether *key* is present, and the content of its *kind* value."""
        if key not in self._values:
            return False, None
        value = self._values[key]
        if not isinstance(value, dict) or kind not in value:
            found = " or ".join(map(str, value)) if isinstance(value, dict) else _kind(value)
            self._where.fail(f"{key} must be {_ATTRIBUTE_KINDS[kind]}, not {found}", self._at)
        return True, value[kind]

    def fail(self, problem: str) -> NoReturn:
        """Raise a `ReportInputError` about these attributes."""
        self._where.fail(problem, self._at)

    def _missing(self, key: str) -> NoReturn:
        self._where.fail(f"has no {key}; is this a span purposeful made?", self._at)

    def optional_boolean(self, key: str) -> bool | None:
        present, value = self._value(key, "boolValue")
        if present and not isinstance(value, bool):
            self._where.fail(f"{key} must be true or false", self._at)
        return value if isinstance(value, bool) else None

    def optional_string(self, key: str) -> str | None:
        present, value = self._value(key, "stringValue")
        if present and not isinstance(value, str):
            self._where.fail(f"{key} must be a string", self._at)
        return value if isinstance(value, str) else None

    def string(self, key: str) -> str:
        value = self.optional_string(key)
        if value is None:
            self._missing(key)
        return value

    def optional_integer(self, key: str) -> int | None:
        present, value = self._value(key, "intValue")
        if not present:
            return None
        number = _integer(value)
        if number is None or number < 0:
            self._where.fail(f"{key} must be a whole number, 0 or more", self._at)
        return number

    def integer(self, key: str) -> int:
        value = self.optional_integer(key)
        if value is None:
            self._missing(key)
        return value

    def optional_strings(self, key: str) -> tuple[str, ...] | None:
        present, value = self._value(key, "arrayValue")
        if not present:
            return None
        array = value if isinstance(value, dict) else None
        items = array.get("values", []) if array is not None else None
        if not isinstance(items, list):
            self._where.fail(f"{key} must be an array of strings", self._at)
        strings: list[str] = []
        for item in items:
            text = item.get("stringValue") if isinstance(item, dict) else None
            if not isinstance(text, str):
                self._where.fail(f"{key} must be an array of strings", self._at)
            strings.append(text)
        return tuple(strings)

    def optional_text_or_strings(self, key: str) -> str | tuple[str, ...] | None:
        """An array of strings, or one string (a later edition's form of some lists)."""
        value = self._values.get(key)
        if isinstance(value, dict) and "arrayValue" not in value and "stringValue" in value:
            text = value["stringValue"]
            if not isinstance(text, str):
                self._where.fail(f"{key} must be a string or an array of strings", self._at)
            return text
        return self.optional_strings(key)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.optional_strings(key)
        if value is None:
            self._missing(key)
        return value
