"""Reading registry files (TOML) with errors that name the file and line.

Registry files are reviewed by privacy teams, so a mistake must point at the entry. `tomllib`
reports positions only for syntax errors; for a well-formed file with a bad entry we find the
line of the entry's ``[[table]]`` header by counting headers, which is exact for the
array-of-tables form the registry files use.

This module only parses and locates. It never builds purposes or categories itself.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

from ._hierarchy import Hierarchy
from ._shared.checks import is_text
from .errors import ConfigurationError, RegistryFileError

T = TypeVar("T")
_TABLES = frozenset({"category", "purpose"})
R = TypeVar("R", bound="Hierarchy[Any]")


def read_table_array(
    source: Path | str | Traversable, table: str, allowed: frozenset[str] = _TABLES
) -> tuple[str, list[tuple[int | None, Mapping[str, Any]]]]:
    """Parse *source* and return its name and the entries of ``[[table]]`` with their lines.

    Raises:
        RegistryFileError: the file is missing, unreadable, not TOML, or the key is not an
            array of tables.
    """
    if not isinstance(source, str | Path | Traversable):
        raise RegistryFileError(
            f"expected a path (str or pathlib.Path), not {type(source).__name__}",
            path=repr(source)[:80],
        )
    name = str(source)
    try:
        path = Path(source) if isinstance(source, str) else source
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryFileError(
            f"cannot read the file ({exc.strerror or exc}); check the path and permissions",
            path=name,
        ) from None
    except UnicodeDecodeError:
        raise RegistryFileError("the file is not UTF-8 text; save it as UTF-8", path=name) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _line_of(str(exc))
        raise RegistryFileError(f"not valid TOML: {exc}", path=name, line=line) from None
    except RecursionError:
        raise RegistryFileError(
            "arrays or tables are nested too deeply to read; a registry file nests a few "
            "levels at most: check the file is the one you meant",
            path=name,
        ) from None
    entries = data.get(table, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise RegistryFileError(
            f"'{table}' must be an array of tables, written as [[{table}]] headers",
            path=name,
            line=_first_key_line(text, table),
        )
    # Top-level scalars are free metadata (a version, an owner); tables are structure, and
    # an unknown one is most likely a misspelt [[purpose]] or [[category]].
    unknown = sorted(k for k, v in data.items() if k not in allowed and isinstance(v, dict | list))
    if unknown:
        holds = " and ".join(f"[[{name}]]" for name in sorted(allowed))
        raise RegistryFileError(
            f"unknown table(s) {', '.join(unknown)}; this file holds {holds} tables (check "
            f"the spelling)",
            path=name,
            line=_first_key_line(text, unknown[0]),
        )
    if not entries:
        raise RegistryFileError(
            f"the file has no [[{table}]] tables; add at least one entry", path=name
        )
    lines = _header_lines(text, table)
    located = [(lines[i] if i < len(lines) else None, e) for i, e in enumerate(entries)]
    return name, located


def load_registry(
    source: Path | str | Traversable,
    table: str,
    build: Callable[[Mapping[str, Any]], Any],
    registry: type[R],
    extends: R | None,
) -> R:
    """Load the ``[[table]]`` entries of *source* into a new *registry* (or onto *extends*).

    Raises:
        RegistryFileError: anything wrong with the file or an entry, located where possible.
    """
    name, entries = read_table_array(source, table)
    items = list(build_entries(name, entries, build))
    reject_duplicates(name, entries, registry.kind)
    try:
        return extends.extend(items) if extends is not None else registry(items)
    except ConfigurationError as exc:
        bad = next((i.id for i in items if repr(i.id) in str(exc)), None)
        raise RegistryFileError(str(exc), path=name, line=locate_id(name, entries, bad)) from None


def build_entries(
    name: str,
    entries: list[tuple[int | None, Mapping[str, Any]]],
    build: Callable[[Mapping[str, Any]], T],
) -> Iterator[T]:
    """Build each entry, turning any `ConfigurationError` into a located `RegistryFileError`."""
    for line, entry in entries:
        try:
            yield build(entry)
        except RegistryFileError:
            raise
        except ConfigurationError as exc:
            raise RegistryFileError(str(exc), path=name, line=line) from None


def locate_id(
    name: str, entries: list[tuple[int | None, Mapping[str, Any]]], ident: object
) -> int | None:
    """The line of the entry whose ``id`` is *ident*, for errors raised after building."""
    for line, entry in entries:
        if entry.get("id") == ident:
            return line
    return None


def reject_duplicates(
    name: str, entries: list[tuple[int | None, Mapping[str, Any]]], kind: str
) -> None:
    """Raise `RegistryFileError` at the line of the second entry with an already-seen id."""
    seen: dict[object, int | None] = {}
    for line, entry in entries:
        ident = entry.get("id")
        if ident in seen:
            first = f" (first declared at line {seen[ident]})" if seen[ident] else ""
            raise RegistryFileError(
                f"{kind} {ident!r} is declared twice{first}; keep one entry", path=name, line=line
            )
        seen[ident] = line


def expect_keys(
    entry: Mapping[str, Any], kind: str, required: set[str], optional: set[str]
) -> None:
    """Raise `ConfigurationError` for a missing required key or an unknown key."""
    label = f"{kind} {entry.get('id', '(no id)')!r}"
    missing = sorted(required - entry.keys())
    if missing:
        raise ConfigurationError(f"{label} is missing {', '.join(missing)}; add it to the entry")
    unknown = sorted(entry.keys() - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise ConfigurationError(
            f"{label} has unknown key(s) {', '.join(unknown)}; allowed keys are {allowed}"
        )


def expect_str(entry: Mapping[str, Any], key: str, kind: str) -> str:
    value = entry[key]
    if not is_text(value):
        raise ConfigurationError(
            f"{kind} {entry.get('id', '(no id)')!r}: '{key}' must be a non-empty string"
        )
    return value


def _header_lines(text: str, table: str) -> list[int]:
    header = re.compile(r"^\s*\[\[\s*" + re.escape(table) + r"\s*\]\]")
    return [n for n, line in enumerate(text.splitlines(), start=1) if header.match(line)]


def _first_key_line(text: str, key: str) -> int | None:
    """The line of a top-level ``key = ...``, or of a ``[key]``, ``[key.sub]`` or ``[[key]]``
    table header."""
    name = re.escape(key)
    assignment = re.compile(r"^\s*(?:" + name + r'|"' + name + r'")\s*[=.]')
    header = re.compile(r"^\s*\[\[?\s*(?:" + name + r'|"' + name + r'")\s*[\].]')
    any_header = re.compile(r"^\s*\[")
    at_top = True
    for n, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            return n
        if any_header.match(line):
            at_top = False
        elif at_top and assignment.match(line):
            return n
    return None


def _line_of(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
