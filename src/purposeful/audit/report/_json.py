"""The JSON shapes an audit input is made of, checked, and the place in a file a problem is
raised at: one `ReportInputError` naming the file, the line and what was wrong, never the
value (`reading` reads trace files and ledgers with these)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import NoReturn

import attrs

from ..._shared.checks import EPOCH
from ...errors import ReportInputError
from ..ledger.format import parse_time

_INTEGER = re.compile(r"-?[0-9]{1,19}\Z")


@attrs.frozen
class Where:
    """A place in an input file, to raise a `ReportInputError` at."""

    path: Path
    line: int | None

    def fail(self, problem: str, at: str = "") -> NoReturn:
        raise ReportInputError(
            f"{at}: {problem}" if at else problem, path=self.path, line=self.line
        )


def json_kind(value: object) -> str:
    """The JSON name of *value*'s type, for a message that must not quote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def json_object(value: object, where: Where, at: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        where.fail(f"is a JSON {json_kind(value)}, not an object", at)
    return value


def json_list(container: Mapping[str, object], key: str, where: Where, at: str) -> list[object]:
    """The list under *key*; a missing key is an empty list, as OTLP JSON leaves them out."""
    value = container.get(key, [])
    if not isinstance(value, list):
        where.fail(f"{key} is a JSON {json_kind(value)}, not an array", at)
    return value


def strings(values: list[object], where: Where, key: str, at: str = "") -> tuple[str, ...]:
    strings = tuple(value for value in values if isinstance(value, str))
    if len(strings) != len(values):
        where.fail(f"{key} must be an array of strings", at)
    return strings


def text(container: Mapping[str, object], key: str, where: Where, at: str = "") -> str:
    value = container.get(key)
    if not isinstance(value, str):
        where.fail(f"{key} is missing or not a string", at)
    return value


def optional_count(container: Mapping[str, object], key: str, where: Where) -> int | None:
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        where.fail(f"{key} must be a whole number, 0 or more")
    return value


def integer(value: object) -> int | None:
    """An OTLP JSON int64: a decimal string, or (from lenient writers) a JSON number."""
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


#: The first nanosecond past what a datetime can hold (year 9999): later is malformed.
LAST_NANOSECOND = 253_402_300_800 * 1_000_000_000


def from_nanoseconds(value: object, where: Where, at: str) -> datetime:
    nanoseconds = integer(value)
    if nanoseconds is None or nanoseconds < 0 or nanoseconds >= LAST_NANOSECOND:
        where.fail("must be nanoseconds since the Unix epoch (a decimal string)", at)
    return EPOCH + timedelta(microseconds=nanoseconds // 1000)


def from_iso(value: object, where: Where, key: str) -> datetime:
    moment = parse_time(value) if isinstance(value, str) else None
    if moment is None:
        where.fail(f"{key} must be an ISO 8601 time, such as 2026-03-05T01:02:03.000004Z")
    return moment
