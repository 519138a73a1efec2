"""Names made readable: a class or field name as a person would say it.

``"CaseNote"`` → ``"Case note"``, ``"health_note"`` → ``"Health note"``: the fallback
wherever a page names a record type or a field the agency gave no label for.

What this module must not do: import a room, or see a value (it is given names only).
"""

from __future__ import annotations

import re

__all__ = ["humane"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def humane(name: str) -> str:
    """*name* in words: ``"CaseNote"`` → ``"Case note"``; ``"date_of_birth"`` →
    ``"Date of birth"``; an acronym stays (``"IRD_number"`` → ``"IRD number"``)."""
    words = _CAMEL.sub(" ", name).replace("_", " ").split()
    if not words:
        return name
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[0].upper() + text[1:]
