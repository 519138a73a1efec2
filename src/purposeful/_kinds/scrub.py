"""Error messages that would quote a managed value or a subject id: a record kind's own
validators' and converters' (found here, so the kind can raise one that names the field
instead), and a database's (`database_error`, cleaned in place)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["database_error", "parameter_values", "quoted", "quotes", "scrubbed"]


def scrubbed(
    exc: Exception, cls: type, managed: frozenset[str], given: dict[str, Any]
) -> str | None:
    """The message to raise instead of *exc* if it quotes a managed value given, else None."""
    values = {n: v for n, v in given.items() if n in managed}
    if not values:
        return None
    text = str(exc)
    # attrs' validators give the field itself (an Attribute, with its name)
    named = {n for a in exc.args if (n := getattr(a, "name", None)) in managed}
    found = sorted(
        name
        for name, value in values.items()
        if name in named
        or any(a is value for a in exc.args)
        or any(quoted(quote, text) for quote in quotes(value))
    )
    if not found and not named:
        return None
    fields = ", ".join(found or sorted(named))
    return (
        f"a value given for {fields} (a managed field or the subject) of {cls.__qualname__} "
        f"was refused by its validator or converter ({type(exc).__name__}); the message is "
        f"not shown because it quotes the value. Check the value against the field's "
        f"validators and type"
    )


#: A piece of a value (split at spaces and punctuation) this long or longer, quoted whole
#: in a message, counts as a quote: a converter that splits its input quotes the piece it
#: could not convert (``int()`` of one item of "401,NHI-ABC1234,17").
_PIECE = 5
_SEPARATORS = re.compile(r"[\s,;:|/()\[\]{}'\"]+")


def quotes(value: Any) -> list[str]:
    """How a message may quote *value*: its repr, its text, or a piece of its text."""
    try:
        texts = [repr(value), str(value)]
    except Exception:
        return []
    pieces = [p for p in _SEPARATORS.split(texts[1][:4096]) if len(p) >= _PIECE]
    return [t for t in texts if t] + pieces


#: A long value may be quoted cut short (``int()`` quotes 200 characters of its repr): its
#: first this many characters found in a message count as a quote.
_OPENING = 24


def quoted(quote: str, text: str) -> bool:
    """True if *quote* stands in *text* as a whole word (a short value, like 9, only so), or
    a long one's opening does."""
    if len(quote) > _OPENING:
        return quote[:_OPENING] in text
    if len(quote) >= 4:
        return quote in text
    return re.search(rf"(?<![\w]){re.escape(quote)}(?![\w])", text) is not None


#: PostgreSQL's detail of a refused row, ``Failing row contains (…)`` (every column) or
#: ``Key (…)=(…)`` (a key's values), and all that follows it: a value holding a line break
#: carries the row on over the next lines.
_DETAIL = re.compile(r"^DETAIL:.*", re.MULTILINE | re.DOTALL)


def database_error(exc: BaseException, values: Iterable[Any]) -> None:
    """Take the values of the rows a database's error *exc* quotes out of it, in place, and
    out of the driver's error it was raised from: PostgreSQL's ``DETAIL:`` (the failing
    row, a key's value) is removed with all that follows it, and each of *values* (the
    statement's parameters: managed values, subject ids) the rest still quotes is replaced
    by ``<value>``. The class, the chain and the traceback stay, so code that catches
    ``IntegrityError`` works as before; an exit exception (an interrupt, a cancellation) is
    left alone, and so is the driver's own diagnostics object (psycopg's ``diag``,
    psycopg2's ``pgerror``)."""
    if not isinstance(exc, Exception):
        return
    quoting = sorted(
        {q for v in values if v is not None for q in quotes(v) if q}, key=len, reverse=True
    )
    for error in (exc, exc.__cause__, getattr(exc, "orig", None)):
        if not isinstance(error, Exception) or not error.args:
            continue
        first = error.args[0]
        if not isinstance(first, str):
            continue
        text = _DETAIL.sub("", first).rstrip("\n")
        for quote in quoting:
            if quoted(quote, text):
                text = _unquoted(quote, text)
        if text != first:
            error.args = (text, *error.args[1:])


def _unquoted(quote: str, text: str) -> str:
    """*text* with *quote* (as `quoted` finds it) replaced by ``<value>``."""
    if len(quote) > _OPENING:
        text = text.replace(quote, _VALUE)
        return re.sub(re.escape(quote[:_OPENING]) + r"[^\s\"')]*", _VALUE, text)
    if len(quote) >= 4:
        return text.replace(quote, _VALUE)
    return re.sub(rf"(?<![\w]){re.escape(quote)}(?![\w])", _VALUE, text)


#: What a value quoted in a database's message is replaced by.
_VALUE = "<value>"


def parameter_values(parameters: Any, many: bool) -> list[Any]:
    """The values of a statement's *parameters*: one row (a sequence or a mapping), or, if
    *many*, a sequence of rows."""
    rows = list(parameters or ()) if many else [parameters]
    found: list[Any] = []
    for row in rows:
        if isinstance(row, Mapping):
            found.extend(row.values())
        elif isinstance(row, list | tuple):
            found.extend(row)
        elif row is not None:
            found.append(row)
    return found
