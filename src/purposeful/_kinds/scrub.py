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
        f"a value given for a managed field of {cls.__qualname__} was refused by its "
        f"validator or converter ({type(exc).__name__}); the message is not shown because it "
        f"quotes the value. Check the values against the fields' validators"
    )


def quotes(value: Any) -> list[str]:
    """How a message may quote *value*: its repr, or its text when long enough not to
    match by chance."""
    try:
        texts = [repr(value), str(value)]
    except Exception:
        return []
    return [t for t in texts if t]


def quoted(quote: str, text: str) -> bool:
    """True if *quote* stands in *text* as a whole word (a short value, like 9, only so)."""
    if len(quote) >= 4:
        return quote in text
    return re.search(rf"(?<![\w]){re.escape(quote)}(?![\w])", text) is not None
