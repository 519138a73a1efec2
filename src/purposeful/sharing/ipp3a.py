"""IPP 3A exceptions as values: which one an agency relied on when it did not tell a person
about information collected from someone else.

IPP 3A of the Privacy Act 2020 (s 22; inserted by the Privacy Amendment Act 2025, for
information collected on or after 1 May 2026) sets out when the agency need not make the
person aware of a collection: the person is already aware; the information is publicly
available; not telling would not prejudice the person's interests; telling would prejudice
the maintenance of the law or court proceedings; telling would prejudice the purpose of the
collection; or telling is not reasonably practicable. An agent holding information for
another agency (s 11) is not collecting it. The law asks the agency to record which one
applied, so it is recorded as one of these values, never as free text, with an optional
*reference* (a file note's id) to where the agency keeps its reasons.

The sharing store keeps the exception relied on as text (`Collection.how`) in one canonical
form (`ExceptionReliedOn.text`), and takes only these values (or that text). Deciding that
an exception applies stays with the agency.

What this module must not do: put the text a caller stored, or gave, in an error message
(it may hold personal information); guess which exception free text meant.
"""

from __future__ import annotations

import enum
import re

import attrs

from ..errors import UnknownIPP3AException

__all__ = ["ExceptionReliedOn", "IPP3AException", "exception_text"]


class IPP3AException(enum.Enum):
    """Why a person was not made aware of a collection (IPP 3A); the values are stable."""

    ALREADY_AWARE = "already-aware"
    """The person is already aware of the matters IPP 3A asks us to tell them."""
    PUBLICLY_AVAILABLE = "publicly-available"
    """The information is publicly available."""
    NO_PREJUDICE = "no-prejudice"
    """Not telling the person would not prejudice their interests."""
    MAINTENANCE_OF_LAW = "maintenance-of-law"
    """Telling them would prejudice the maintenance of the law, or court proceedings."""
    PREJUDICES_PURPOSE = "prejudices-purpose"
    """Telling them would prejudice the purpose of the collection."""
    NOT_PRACTICABLE = "not-practicable"
    """Telling them is not reasonably practicable in the circumstances."""
    AGENT = "agent"
    """We hold the information only as an agent for another agency (s 11), so we did not
    collect it: the agency we act for is the one to tell the person."""
    BEFORE_IN_FORCE = "before-in-force"
    """It was collected before 1 May 2026, when IPP 3A came into force, so IPP 3A does not
    apply (what `purposeful.receive` records for an earlier collection)."""

    def describe(self) -> str:
        """The exception in plain words, for a privacy team's records."""
        return _WORDS[self]

    def cite(self) -> str:
        """Where the law says it."""
        if self is IPP3AException.AGENT:
            return "Privacy Act 2020 s 11"
        if self is IPP3AException.BEFORE_IN_FORCE:
            return "Privacy Amendment Act 2025 (IPP 3A applies from 1 May 2026)"
        return "Privacy Act 2020 s 22, IPP 3A"


_WORDS = {
    IPP3AException.ALREADY_AWARE: "the person is already aware of the collection",
    IPP3AException.PUBLICLY_AVAILABLE: "the information is publicly available",
    IPP3AException.NO_PREJUDICE: "not telling the person would not prejudice their interests",
    IPP3AException.MAINTENANCE_OF_LAW: (
        "telling the person would prejudice the maintenance of the law or court proceedings"
    ),
    IPP3AException.PREJUDICES_PURPOSE: (
        "telling the person would prejudice the purpose of the collection"
    ),
    IPP3AException.NOT_PRACTICABLE: "telling the person is not reasonably practicable",
    IPP3AException.AGENT: "held only as an agent for another agency, so not collected by us",
    IPP3AException.BEFORE_IN_FORCE: "collected before IPP 3A came into force (1 May 2026)",
}

#: What `purposeful.receive` wrote for an earlier collection before exceptions were values:
#: its meaning is exact, so it is read as `IPP3AException.BEFORE_IN_FORCE`.
_RECEIVED_BEFORE = "collected before IPP 3A came into force (1 May 2026)"

_PREFIX = "ipp3a:"
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#-]{0,99}")
_TEXT = re.compile(r"ipp3a:(?P<exception>[a-z-]+)(?:;ref=(?P<reference>[^;\s]+))?")


def _values() -> str:
    return ", ".join(e.value for e in IPP3AException)


def _exception(value: object) -> IPP3AException:
    if isinstance(value, IPP3AException):
        return value
    if isinstance(value, str):
        for member in IPP3AException:
            if value == member.value:
                return member
    raise UnknownIPP3AException(
        f"the IPP 3A exception relied on is one of purposeful.sharing.IPP3AException "
        f"({_values()}), not free text or a {type(value).__name__}; put the reasons in a "
        f"file note and pass its id as reference="
    )


def _reference(
    instance: ExceptionReliedOn, attribute: attrs.Attribute[str | None], value: object
) -> None:
    if value is not None and not (isinstance(value, str) and _REFERENCE.fullmatch(value)):
        raise UnknownIPP3AException(
            "reference= takes an identifier of where the reasons are kept (a file note's "
            "id such as 'FN-2291': letters, digits and . _ : / # -, up to 100 characters), "
            "not free text"
        )


@attrs.frozen
class ExceptionReliedOn:
    """The IPP 3A exception an agency relied on for one collection, and where its reasons
    are kept.

    Attributes:
        exception: which exception (`IPP3AException`, or its value such as
            ``"already-aware"``).
        reference: an identifier of the agency's record of its reasons (a file note's id),
            if any; never the reasons themselves.

    Raises:
        UnknownIPP3AException: an exception that is not an `IPP3AException`, or a reference
            that is not an identifier.
    """

    exception: IPP3AException = attrs.field(converter=_exception)
    reference: str | None = attrs.field(default=None, validator=_reference, kw_only=True)

    @property
    def text(self) -> str:
        """The canonical text the sharing store keeps: ``ipp3a:already-aware`` or
        ``ipp3a:already-aware;ref=FN-2291``."""
        text = _PREFIX + self.exception.value
        return text if self.reference is None else f"{text};ref={self.reference}"

    def describe(self) -> str:
        """The exception in plain words, with its reference if any."""
        said = f"{self.exception.describe()} ({self.exception.cite()})"
        return said if self.reference is None else f"{said}; reasons: {self.reference}"

    @classmethod
    def parse(cls, text: str) -> ExceptionReliedOn:
        """Read the text the sharing store keeps (`text`).

        The text `purposeful.receive` recorded for a collection before 1 May 2026 is read
        as `IPP3AException.BEFORE_IN_FORCE`. Any other text is refused: which exception
        free text meant is for the agency to say, not for the library to guess.

        Raises:
            UnknownIPP3AException: text that is not an exception recorded as a value.
        """
        if text == _RECEIVED_BEFORE:
            return cls(IPP3AException.BEFORE_IN_FORCE)
        found = _TEXT.fullmatch(text) if isinstance(text, str) else None
        if found is not None:
            try:
                return cls(found["exception"], reference=found["reference"])
            except UnknownIPP3AException:
                pass
        raise UnknownIPP3AException(
            f"the exception recorded is free text, not one of purposeful.sharing."
            f"IPP3AException ({_values()}); read Collection.how for what was recorded, "
            f"and record exceptions with record_exception()"
        ) from None


def exception_text(exception: object) -> str:
    """The canonical text the store keeps for *exception*: an `ExceptionReliedOn`, an
    `IPP3AException` or its value, or text in that canonical form.

    Raises:
        UnknownIPP3AException: anything else, free text included.
    """
    if isinstance(exception, ExceptionReliedOn):
        return exception.text
    if isinstance(exception, IPP3AException):
        return ExceptionReliedOn(exception).text
    if isinstance(exception, str):
        if any(exception == member.value for member in IPP3AException):
            return ExceptionReliedOn(exception).text
        try:
            return ExceptionReliedOn.parse(exception).text
        except UnknownIPP3AException:
            pass
    raise UnknownIPP3AException(
        f"the IPP 3A exception relied on is a purposeful.sharing.IPP3AException "
        f"({_values()}) or an ExceptionReliedOn, not free text or a "
        f"{type(exception).__name__}; put the reasons in a file note and pass "
        f"ExceptionReliedOn(exception, reference=<its id>)"
    ) from None
