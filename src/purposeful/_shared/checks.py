"""The checks the library repeats: non-empty text, aware datetimes, text a store can keep, and
a pretty-printer hook that never shows more than ``repr``.

Each check is a predicate: it answers, and the caller raises its own error (its room's
class, with a message that names the argument or attribute and says what to pass). So
``if not is_text(reason): raise InvalidCorrection("reason= takes ...")`` reads the same in
every room, while each room keeps its own error tree and wording.

What this module must not do: raise, hold state, import a room, or build a message that
quotes the value it checked (the value may be personal).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from typing_extensions import TypeIs

__all__ = [
    "EPOCH",
    "Printer",
    "SafeRepr",
    "encodable",
    "is_aware",
    "is_module_name",
    "is_text",
    "plain_id",
    "recordable",
    "repr_pretty",
    "same_person",
    "storable",
    "utc_moment",
]


def is_module_name(value: object) -> TypeIs[str]:
    """Whether *value* is a dotted module name (``myagency.records``, ``tūroro.records``:
    names as Python takes them, macrons included): importlib answers anything else (``""``,
    ``".x"``) with a ValueError or a TypeError of its own."""
    return isinstance(value, str) and all(part.isidentifier() for part in value.split("."))


def same_person(one: str, other: str) -> bool:
    """Whether two staff ids name the same person: compared without spaces at either end,
    invisible characters, case, compatibility forms (full-width letters and digits) or the
    kind of dash, so that someone's own id, padded, cased or typed otherwise, is never taken
    for a second person's (a second reviewer, a release's approval)."""
    return plain_id(one) == plain_id(other)


def plain_id(text: str) -> str:
    """*text*, an id typed by a person, as `same_person` compares it: NFKC, without
    invisible characters (format characters and the other default-ignorable ones: variation
    selectors, fillers) or spaces at either end, every dash-like mark (the minus sign, the
    katakana prolonged sound mark a Japanese keyboard gives for ``-``) a hyphen-minus, the
    Turkish dotted and dotless i an i, case folded. Plain ASCII takes a short path."""
    if text.isascii():
        return text.strip().lower()
    kept = []
    for c in unicodedata.normalize("NFKC", text):
        kind = unicodedata.category(c)
        if kind == "Pd" or c in _DASHES:
            kept.append("-")
        elif c in _TURKISH_I:
            kept.append("i")
        elif kind != "Cf" and not _ignorable(c):
            kept.append(c)
    return "".join(kept).strip().casefold()


#: Marks typed for a dash that are not in Unicode's dash category (Pd) and that NFKC leaves
#: alone: the minus sign, the hyphen bullet, the modifier minus, the prolonged sound marks.
_DASHES = frozenset("\u2212\u2043\u02d7\u30fc\uff70")
_TURKISH_I = frozenset("\u0130\u0131")  # İ ı: casefold keeps them apart from i


def _ignorable(c: str) -> bool:
    """Whether *c* is a default-ignorable code point Unicode does not count as a format
    character (it renders as nothing): combining grapheme joiner, Hangul fillers,
    variation selectors, the braille blank, Mongolian free variation selectors."""
    point = ord(c)
    return (
        point in (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0)
        or 0x180B <= point <= 0x180F
        or 0xFE00 <= point <= 0xFE0F
        or 0xE0100 <= point <= 0xE01EF
    )


#: The Unix epoch, aware: what stores count microseconds from, and what spans count
#: nanoseconds from.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The moments purposeful records run from `EPOCH` to (not including) `LATEST`, in UTC:
#: every store, a span's nanoseconds in 64 bits and every New Zealand date hold them, so a
#: time accepted once never fails later (``datetime.max`` as "never" made bundles fail).
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
#: How the range is said in messages.
RECORDABLE = "from 1970 to 2199 (UTC)"


def is_text(value: object) -> TypeIs[str]:
    """True if *value* is a string holding something other than whitespace."""
    return isinstance(value, str) and bool(value.strip())


def is_aware(value: object) -> TypeIs[datetime]:
    """True if *value* is a datetime that knows its offset from UTC.

    A datetime whose ``tzinfo`` answers None for its offset is naive too (``utcoffset()``
    is what arithmetic and comparisons use), so this asks for the offset, not the tzinfo.
    """
    return isinstance(value, datetime) and value.utcoffset() is not None


def recordable(moment: datetime) -> datetime | None:
    """*moment* (aware) in UTC, as a plain `datetime`, or None when it falls outside
    [`EPOCH`, `LATEST`) (including a moment too near the ends of ``datetime``'s own range to
    convert) or its zone gives no offset.

    The moment is rebuilt as a plain `datetime` from its fields and its offset is asked for
    once, so a subclass's own arithmetic or comparisons, or a zone whose offset changes
    from call to call, decide nothing here or later."""
    plain = datetime(
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
        fold=moment.fold,
    )
    try:
        offset = moment.tzinfo.utcoffset(moment) if moment.tzinfo is not None else None
        if type(offset) is not timedelta:
            return None
        utc = (plain - offset).replace(tzinfo=UTC)
    except (OverflowError, ValueError, TypeError):
        return None
    return utc if EPOCH <= utc < LATEST else None


def utc_moment(moment: object, what: str, error: Callable[[str], Exception]) -> datetime:
    """*moment* in UTC, if it is an aware datetime within the times purposeful records;
    else raise ``error(message)`` naming *what* (``"at="``, ``"Disclosure.at"``)."""
    if not is_aware(moment):
        raise error(
            f"{what} takes a timezone-aware datetime; pass an aware datetime, e.g. "
            f"datetime.now(UTC)"
        )
    utc = recordable(moment)
    if utc is None:
        raise error(f"{what} is outside the times purposeful records, {RECORDABLE}")
    return utc


def encodable(text: str) -> bool:
    """True if *text* has a UTF-8 encoding: it holds no unpaired surrogate (which no file,
    database or JSON document can keep)."""
    # ASCII (the common case, checked in C) holds no surrogates.
    return text.isascii() or not any("\ud800" <= ch <= "\udfff" for ch in text)


def storable(text: str) -> bool:
    """True if every store can keep *text*: it is `encodable` and holds no NUL character
    (PostgreSQL's text cannot)."""
    return "\x00" not in text and encodable(text)


class Printer(Protocol):
    """The part of a pretty printer (IPython's, hypothesis's) that `repr_pretty` uses."""

    def text(self, obj: str) -> None:
        """Write *obj*."""
        ...


def repr_pretty(self: object, printer: Printer, cycle: bool) -> None:
    """A ``_repr_pretty_`` that prints ``repr(self)`` and nothing else.

    IPython and hypothesis (printing a falsifying example) use ``_repr_pretty_`` when a
    class has one and otherwise walk the attributes, which would show what a careful
    ``__repr__`` leaves out. Assign it in a class body, ``_repr_pretty_ = repr_pretty``, or
    inherit `SafeRepr`.
    """
    printer.text(repr(self))


class SafeRepr:
    """A mixin for values whose ``repr`` leaves personal attributes out: pretty printers
    print that ``repr`` too (`repr_pretty`). It adds no attributes (empty ``__slots__``)."""

    __slots__ = ()

    _repr_pretty_ = repr_pretty
