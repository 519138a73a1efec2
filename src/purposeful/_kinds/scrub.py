"""Error messages of a record kind's own validators and converters that would quote a
managed value: found here, so the kind can raise one that names the field instead."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["quoted", "quotes", "scrubbed"]


def scrubbed(
    exc: Exception, cls: type, managed: frozenset[str], given: dict[str, Any]
) -> str | None:
    """The message to raise instead of *exc* if it quotes a managed value given, else None."""
    values = [v for n, v in given.items() if n in managed]
    if not values:
        return None
    text = str(exc)
    found = (
        any(a is v for a in exc.args for v in values)
        or any(getattr(a, "name", None) in managed for a in exc.args)  # attrs' validators
        or any(quoted(quote, text) for v in values for quote in quotes(v))
    )
    if not found:
        return None
    return (
        f"a value given for a managed field (or the subject) of {cls.__qualname__} was "
        f"refused by its validator or converter ({type(exc).__name__}); the message is not "
        f"shown because it quotes the value. Check the values against the fields' validators"
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
