"""One record type's part of a subject-access bundle, spooled to disk as it is read.

The bundle reads the person's values directly, without a purpose scope or a decision:
giving people their own information is what IPP 6 asks, not a use. That is why this
module is private to the access package: the only way to it is `SubjectAccess.build`,
which checks every record is about the person asked about and withholds what it must.

What this module must not do: be reachable from a public name; keep more than a few
sample rows in memory; put a value in a message.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any

from ..errors import SubjectAccessError
from ..records import RecordPolicy
from ..withholding import WithholdingGround
from .bundle import STATEMENTS_COLUMN, neutralise, to_json, utf8

__all__ = ["ANOTHER_WAY", "TypeSpool", "withheld_cell"]

#: The id of the mark a field given to the person another way (s 56) carries.
ANOTHER_WAY = "given-another-way"

_CHUNK = 1 << 20


def withheld_cell(grounds: Sequence[WithholdingGround]) -> str:
    """What a CSV cell and the page show where a withheld value would have been (or one
    given to the person another way: ``[given another way: Privacy Act 2020 s 56]``)."""
    word = "given another way" if all(g.id == ANOTHER_WAY for g in grounds) else "withheld"
    return f"[{word}: {'; '.join(ground.cite() for ground in grounds)}]"


class TypeSpool:
    """The ``records.json`` entries and CSV rows of one record type, spooled to disk.

    Args:
        policy: the record type's policy.
        member: the CSV member's name, ``records/<type>.csv``.
        sample_rows: how many rows to keep in memory for the page.
        label: a field's plain name, for the page's rows (the files keep field names).
    """

    def __init__(
        self,
        policy: RecordPolicy,
        member: str,
        sample_rows: int,
        *,
        label: Callable[[str], str] = str,
    ) -> None:
        self.policy = policy
        self._label = label
        self.member = member
        self.names = policy.names
        self.header = (*self.names, STATEMENTS_COLUMN)
        self.count = 0
        self.sources: dict[str, None] = {}
        self.sample: list[list[str]] = []
        self._sample_rows = sample_rows
        # Unnamed (deleted as soon as made), closed by close().
        with _disk():
            self._json: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            with _disk():
                self._csv_bytes: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        except SubjectAccessError:
            self._json.close()
            raise
        # utf-8-sig: a byte order mark first, so spreadsheets read macrons (ā) as UTF-8.
        self._csv_text = io.TextIOWrapper(
            self._csv_bytes, encoding="utf-8-sig", errors="backslashreplace", newline=""
        )
        self._csv = csv.writer(self._csv_text, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        self._csv.writerow(self.header)
        readers: list[tuple[str, Callable[[Any], Any]]] = []
        for name in self.names:
            managed = policy.fields.get(name)
            readers.append((name, managed._raw if managed is not None else _plain(name)))
        self._readers = tuple(readers)

    def add(
        self,
        obj: object,
        source: str,
        key: str,
        withheld: Mapping[str, Sequence[WithholdingGround]],
        statements: Mapping[str, Sequence[Mapping[str, str | None]]],
    ) -> None:
        """Spool one record: its values (withheld fields left out) and its statements.

        Raises:
            SubjectAccessError: a value cannot be written as text (an integer of more
                digits than Python converts, say), naming the record type and field.
        """
        values: dict[str, Any] = {}
        shown: list[str] = []  # for the page: the text as it is (the page escapes it)
        row: list[str] = []  # for the CSV: the same, neutralised
        for name, read in self._readers:
            if name in withheld:
                text = withheld_cell(withheld[name])
                shown.append(text)
                row.append(text)
                continue
            value, text = self._convert(name, read(obj))
            values[name] = value
            shown.append(text)
            row.append(text if isinstance(value, int | float) else neutralise(text))
        # The key names the record; when its field is withheld, so is the key.
        shown_key = None if self.policy.key in withheld else key
        entry: dict[str, Any] = {"source": source, "key": shown_key, "values": values}
        if withheld:
            entry["withheld"] = {
                name: [ground.id for ground in grounds] for name, grounds in withheld.items()
            }
        if statements:
            entry["statements_of_correction"] = statements
        text = "\n".join(
            f"{name}: {item['statement']}" for name, items in statements.items() for item in items
        )
        shown.append(
            "\n".join(
                f"{self._label(name)}: {item['statement']}"
                for name, items in statements.items()
                for item in items
            )
        )
        row.append(neutralise(text))
        line = json.dumps(entry, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        with _disk():
            self._json.write(utf8((",\n" if self.count else "") + line))
            self._csv.writerow(row)
        if len(self.sample) < self._sample_rows:
            self.sample.append(shown)
        self.sources.setdefault(source)
        self.count += 1

    def _convert(self, name: str, raw: object) -> tuple[Any, str]:
        """*raw* as JSON data and as one cell of text."""
        try:
            value = to_json(raw)
            return value, _text(value)
        except ValueError:
            problem = SubjectAccessError(
                f"the {name!r} field of a {self.policy.name} record holds a value that cannot "
                f"be written as text (such as an integer of more than "
                f"{_MAX_DIGITS} digits); nothing was written. Store it in a form people can "
                f"read (text, or a Decimal), then build the bundle again"
            )
        raise problem  # outside the handler: the cause may quote the value

    @property
    def stem(self) -> str:
        """The CSV member's name without ``records/`` and ``.csv``: the type's unique name."""
        return self.member.removeprefix("records/").removesuffix(".csv")

    def json_chunks(self) -> tuple[int, Iterator[bytes]]:
        """The spooled ``records.json`` entries: (size, chunks)."""
        return _replay(self._json)

    def csv_chunks(self) -> tuple[int, Iterator[bytes]]:
        """The CSV member's content: (size, chunks)."""
        with _disk():
            self._csv_text.flush()
        return _replay(self._csv_bytes)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._csv_text.close()
        with contextlib.suppress(OSError):
            self._json.close()


_MAX_DIGITS = 4300  # sys.int_info.default_max_str_digits, where Python has the limit


def _text(value: Any) -> str:
    """A JSON value as one cell of text: text as it is, JSON for anything else."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _plain(name: str) -> Callable[[Any], Any]:
    def read(obj: Any) -> Any:
        return getattr(obj, name, None)

    return read


def _replay(file: IO[bytes]) -> tuple[int, Iterator[bytes]]:
    with _disk():
        size = file.seek(0, os.SEEK_END)  # flushes what is buffered
        file.seek(0)

    def chunks() -> Iterator[bytes]:
        while True:
            with _disk():
                chunk = file.read(_CHUNK)
            if not chunk:
                return
            yield chunk

    return size, chunks()


@contextlib.contextmanager
def _disk() -> Iterator[None]:
    """Turn a failure of the spool's temporary files (a full or missing temporary directory)
    into a `SubjectAccessError` that says where and what to do; no value is in it."""
    try:
        yield
    except OSError as exc:
        raise SubjectAccessError(
            f"cannot spool the bundle's records in the temporary directory "
            f"{tempfile.gettempdir()} ({exc.strerror or type(exc).__name__}); nothing was "
            f"written. Free space there, or point TMPDIR at a disk with room, then build the "
            f"bundle again"
        ) from None
