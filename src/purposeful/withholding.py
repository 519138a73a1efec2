"""Withholding grounds: why an agency may refuse to give a person some of their information.

An access request (IPP 6) is answered with everything held about the person, except what a
ground in Part 4 of the Privacy Act 2020 (ss 49–53) lets the agency withhold. The person is
told that something was withheld and on what ground, never what it was.

A field declares the ground it is withheld on, ``purposeful.field(..., withhold=...)``, when
every value of it is to be withheld from its subject: the identity of someone who reported
a concern about a child is the usual example. A bundle can also withhold whole records, or
fields of one record, case by case (see `purposeful.access`).

The grounds of ss 49 and 53 are each a paragraph of their section, and a ground cites the
paragraph it relies on: the interests of another person are s 53(b), not "s 53". A ground
that cites s 49 or s 53 without a paragraph is refused. Ready-made grounds:

- s 49(1)(a), `PROTECTION_OF_INDIVIDUAL`: someone's safety;
- s 49(1)(b), `SERIOUS_HARM_TO_HEALTH`: serious harm to the requester's health, on a health
  practitioner's advice;
- s 49(1)(c), `AGAINST_INTERESTS_OF_CHILD`: the requester is under 16 and giving the
  information would be contrary to their interests;
- s 53(a), `NOT_READILY_RETRIEVABLE`: the information is not readily retrievable, or cannot
  be found;
- s 53(b), `ANOTHER_PERSONS_AFFAIRS`: the interests of another person;
- s 53(c), `MAINTENANCE_OF_THE_LAW`; s 53(d), `LEGAL_PROFESSIONAL_PRIVILEGE`;
- s 53(h), `FRIVOLOUS_OR_TRIVIAL`: a frivolous or vexatious request, or trivial information;
- s 50 `EVALUATIVE_MATERIAL`, s 51 `SECURITY_AND_DEFENCE`, s 52 `TRADE_SECRET`.

An agency that relies on a subparagraph declares its own ground, citing it exactly::

    NOTIFIER = WithholdingGround(
        id="notifier-identity",
        section="s 49(1)(a)(ii)",
        reason="Telling you this could lead to someone being harassed.",
    )

`SAFETY_REVIEW_GROUNDS` are the sections a safety review may withhold on (s 49(1)(a), (b),
(c) and s 53(b)): see `purposeful.access.SafetyReview`.

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
    "AGAINST_INTERESTS_OF_CHILD",
    "ANOTHER_PERSONS_AFFAIRS",
    "EVALUATIVE_MATERIAL",
    "FRIVOLOUS_OR_TRIVIAL",
    "LEGAL_PROFESSIONAL_PRIVILEGE",
    "MAINTENANCE_OF_THE_LAW",
    "NOT_READILY_RETRIEVABLE",
    "PROTECTION_OF_INDIVIDUAL",
    "SAFETY_REVIEW_GROUNDS",
    "SECURITY_AND_DEFENCE",
    "SERIOUS_HARM_TO_HEALTH",
    "TRADE_SECRET",
    "WithholdingGround",
]

_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")
#: Sections whose paragraphs are grounds of their own: a citation names the paragraph.
_BY_PARAGRAPH = re.compile(r"s\s*(49|53)(\(1\))?\s*\Z")


def _text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value):
        raise ConfigurationError(
            f"WithholdingGround.{attribute.name} must be a non-empty string, e.g. "
            f"{'s 53(b)' if attribute.name == 'section' else 'a sentence for the person'}"
        )


def _section(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    _text(instance, attribute, value)
    assert isinstance(value, str)
    if _BY_PARAGRAPH.match(value.strip()):
        raise ConfigurationError(
            f"WithholdingGround.section {value!r} names a section whose paragraphs are each "
            f"a ground: cite the paragraph relied on, e.g. 's 53(b)' (another person's "
            f"affairs) or 's 49(1)(a)'"
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
        section: where the Act gives the ground, to the paragraph, e.g. ``"s 53(b)"``.
        reason: the reason, written for the person who asked: it goes in their bundle.
        act: the Act; default the Privacy Act 2020.
    """

    id: str = attrs.field(validator=_ident)
    section: str = attrs.field(validator=_section)
    reason: str = attrs.field(validator=_text)
    act: str = attrs.field(default="Privacy Act 2020", validator=_text)

    def cite(self) -> str:
        """The citation, e.g. ``"Privacy Act 2020 s 53(b)"``."""
        return f"{self.act} {self.section}"

    def within(self, *sections: str) -> bool:
        """True if the ground is in the Privacy Act 2020 and cites one of *sections* or a
        subparagraph of one: ``s 49(1)(a)(ii)`` is within ``s 49(1)(a)``."""
        return self.act == "Privacy Act 2020" and any(
            self.section == section or self.section.startswith(section + "(")
            for section in sections
        )


PROTECTION_OF_INDIVIDUAL = WithholdingGround(
    "protection-of-individual",
    "s 49(1)(a)",
    "Giving you this information could put someone's life, health or safety at risk.",
)
"""s 49(1)(a): giving the information could endanger someone (a subparagraph, such as the
harassment of (ii), may be cited with a ground of the agency's own)."""

SERIOUS_HARM_TO_HEALTH = WithholdingGround(
    "serious-harm-to-health",
    "s 49(1)(b)",
    "A health practitioner has advised us that giving you this information would be likely "
    "to seriously harm your health.",
)
"""s 49(1)(b): serious harm to the requester's health, on a health practitioner's advice."""

AGAINST_INTERESTS_OF_CHILD = WithholdingGround(
    "against-interests-of-child",
    "s 49(1)(c)",
    "You are under 16, and giving you this information would not be in your interests.",
)
"""s 49(1)(c): the requester is under 16 and giving the information would be contrary to
their interests. The only place the under-16 figure belongs."""

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

NOT_READILY_RETRIEVABLE = WithholdingGround(
    "not-readily-retrievable",
    "s 53(a)",
    "We could not find this information, or it cannot be retrieved with reasonable effort.",
)
"""s 53(a): the information is not readily retrievable, or cannot be found."""

ANOTHER_PERSONS_AFFAIRS = WithholdingGround(
    "another-persons-affairs",
    "s 53(b)",
    "This information is also about another person, and giving it to you would unfairly "
    "disclose their private affairs.",
)
"""s 53(b): the interests of another person, such as the unwarranted disclosure of their
affairs (the usual ground for the identity of someone who reported a concern)."""

MAINTENANCE_OF_THE_LAW = WithholdingGround(
    "maintenance-of-the-law",
    "s 53(c)",
    "Giving you this information could get in the way of the law being upheld, such as an "
    "investigation or a court case.",
)
"""s 53(c): prejudice to the maintenance of the law."""

LEGAL_PROFESSIONAL_PRIVILEGE = WithholdingGround(
    "legal-professional-privilege",
    "s 53(d)",
    "This is legal advice or other communication that is protected by legal privilege.",
)
"""s 53(d): legal professional privilege."""

FRIVOLOUS_OR_TRIVIAL = WithholdingGround(
    "frivolous-or-trivial",
    "s 53(h)",
    "The request for this information is frivolous or vexatious, or the information is trivial.",
)
"""s 53(h): a frivolous or vexatious request, or trivial information."""

SAFETY_REVIEW_GROUNDS = ("s 49(1)(a)", "s 49(1)(b)", "s 49(1)(c)", "s 53(b)")
"""The sections a safety review may withhold on (`WithholdingGround.within`): someone's
safety, the requester's health, a requester under 16, and another person's interests."""
