"""Language tags: the check that a page's ``lang`` (and a passage's) is one a browser and a
screen reader can use.

A screen reader chooses its voice and pronunciation by the ``lang`` of the page and of each
passage. A tag it cannot read (``"English"``, ``"en_NZ"``) makes it read te reo Māori or
English with the wrong voice, or fall back to its own default: an accessibility failure
(WCAG 2.2, 3.1.1 and 3.1.2) that nothing on the page shows. So the agency's wording is
checked when it is made, not when a person first hears the page.

`is_language_tag` accepts the well-formed tags of BCP 47 (RFC 5646) whose language is a
two- or three-letter code: ``"en"``, ``"en-NZ"``, ``"mi"``, ``"mi-NZ"``, ``"sm"``,
``"zh-Hant-TW"``, ``"sr-Latn-RS"``. It checks the form, not the registry: ``"qq"`` is
well-formed but names no language.

What this module must not do: raise, or build a message (the caller does, in its own
room's error class).
"""

from __future__ import annotations

import re

__all__ = ["LANGUAGE_TAG_HINT", "is_language_tag"]

#: What a language tag is, for a message: "X.lang must be " + this.
LANGUAGE_TAG_HINT = (
    "a language tag (BCP 47) such as 'en-NZ', 'mi' or 'sm' (a two- or three-letter "
    "language code, then any subtags joined by hyphens)"
)

_TAG = re.compile(
    r"""
    [a-z]{2,3}(?:-[a-z]{3}){0,3}              # language, with up to three extended subtags
    (?:-[a-z]{4})?                            # script: Latn, Hant
    (?:-(?:[a-z]{2}|[0-9]{3}))?               # region: NZ, 419
    (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*  # variants
    (?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*       # extensions
    (?:-x(?:-[a-z0-9]{1,8})+)?                # private use
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)


def is_language_tag(value: object) -> bool:
    """Whether *value* is a well-formed BCP 47 language tag with a two- or three-letter
    language code (its form only, not whether the registry lists it)."""
    return isinstance(value, str) and _TAG.fullmatch(value) is not None
