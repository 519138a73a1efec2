"""Withholding grounds: why an agency may refuse to give a person some of their information.

An access request (IPP 6) is answered with everything held about the person, except what a
ground in Part 4 of the Privacy Act 2020 (ss 49–53) lets the agency withhold. The person is
told that something was withheld and on what ground, never what it was.

A field declares the ground it is withheld on, ``purposeful.field(..., withhold=...)``, when
every value of it is to be withheld from its subject: the identity of someone who reported
a concern about a child is the usual example. A bundle can also withhold whole records, or
fields of one record, case by case (see `purposeful.access`).

The grounds here cite the section only. The sections hold several paragraphs each; an agency
that wants to cite the paragraph it relies on declares its own ground::

    NOTIFIER = WithholdingGround(
        id="notifier-identity",
        section="s 49(1)(a)(ii)",
        reason="Telling you this could lead to someone being harassed.",
    )

Sources: Privacy Act 2020, Part 4, subpart 1 (ss 49–53),
https://www.legislation.govt.nz/act/public/2020/0031/latest/. Whether a ground applies is
a decision for the agency's privacy officer, made for the request at hand; these values
only record the decision.
"""

from __future__ import annotations

import re

import attrs

from ._shared.checks import is_text
from .errors import ConfigurationError

__all__ = [
    "ANOTHER_PERSONS_AFFAIRS",
    "EVALUATIVE_MATERIAL",
    "PROTECTION_OF_INDIVIDUAL",
    "SECURITY_AND_DEFENCE",
    "TRADE_SECRET",
    "WithholdingGround",
]

_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")


def _text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value):
        raise ConfigurationError(
            f"WithholdingGround.{attribute.name} must be a non-empty string, e.g. "
            f"{'s 53' if attribute.name == 'section' else 'a sentence for the person'}"
        )


def _ident(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _ID.match(value):
        raise ConfigurationError(
            "WithholdingGround.id must be lower-case words joined by hyphens, e.g. "
            "'notifier-identity'"
        )


@attrs.frozen
class WithholdingGround:
    """A ground for withholding information from the person it is about.

    Attributes:
        id: a stable machine-readable name, e.g. ``"another-persons-affairs"``.
        section: where the Act gives the ground, e.g. ``"s 53"``.
        reason: the reason, written for the person who asked: it goes in their bundle.
        act: the Act; default the Privacy Act 2020.
    """

    id: str = attrs.field(validator=_ident)
    section: str = attrs.field(validator=_text)
    reason: str = attrs.field(validator=_text)
    act: str = attrs.field(default="Privacy Act 2020", validator=_text)

    def cite(self) -> str:
        """The citation, e.g. ``"Privacy Act 2020 s 53"``."""
        return f"{self.act} {self.section}"


PROTECTION_OF_INDIVIDUAL = WithholdingGround(
    "protection-of-individual",
    "s 49",
    "Giving you this information could put someone's safety or wellbeing at risk, or "
    "could be harmful to you.",
)
"""s 49: for example a serious threat to someone's life, health or safety, harassment, or
information whose release would be contrary to the interests of a child under 16."""

EVALUATIVE_MATERIAL = WithholdingGround(
    "evaluative-material",
    "s 50",
    "This is an opinion or assessment that was given to us in confidence.",
)
"""s 50: evaluative material supplied in confidence."""

SECURITY_AND_DEFENCE = WithholdingGround(
    "security-and-defence",
    "s 51",
    "Giving you this information could harm New Zealand's security, defence or "
    "international relations.",
)
"""s 51: security, defence and international relations."""

TRADE_SECRET = WithholdingGround(
    "trade-secret",
    "s 52",
    "This information would reveal a trade secret or harm someone's commercial position.",
)
"""s 52: trade secrets."""

ANOTHER_PERSONS_AFFAIRS = WithholdingGround(
    "another-persons-affairs",
    "s 53",
    "This information is also about another person, and giving it to you would unfairly "
    "disclose their private affairs.",
)
"""s 53: other reasons, such as the unwarranted disclosure of another person's affairs (the
usual ground for the identity of someone who reported a concern)."""
