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


def quotes(value: Any) -> list[str]:
    """How a message may quote *value*: its repr, or its text when long enough not to
    match by chance."""
    try:
        texts = [repr(value), str(value)]
    except Exception:
        return []
    return [t for t in texts if t]


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
