"""Lawful bases: why an agency may use or disclose a piece of information for a purpose.

Bases are values, never strings. Each has a `kind` (for grouping and machine-readable audit),
`describe()` for people, and `needs_justification`: whether each use on it must be able to
point at a recorded reason (``use(..., justification="REF-123")``). The kinds cover what New
Zealand social services rely on, the everyday ones first (Privacy Act 2020 s 22, IPP 10 for
use and IPP 11 for disclosure):

- `DirectlyRelatedPurpose`: the purpose the information was collected for, or a directly
  related one (IPP 10(1)(a), IPP 11(1)(a)): most joint referrals and MoUs;
- `AuthorisedByPerson`: the person authorised it (IPP 10(1)(c), IPP 11(1)(c));
- `NonIdentifying`: a form that does not identify the person, or statistics or research not
  published in an identifying form (IPP 10(1)(b), IPP 11(1)(h));
- `Consent`: the person's consent (or their representative's), checked per person in a
  consent store;
- `Statute`: an Act and section, and who may rely on it: the Oranga Tamariki Act 1989 s 66C
  (child welfare and protection agencies and independent persons) and the Family Violence
  Act 2018 s 20 (family violence agencies and social services practitioners), each with a
  belief on reasonable grounds (`ORANGA_TAMARIKI_ACT_S66C`, `FAMILY_VIOLENCE_ACT_S20`);
- `ServiceAgreement`: a contract or outcome agreement with a funder;
- `InformationSharingAgreement`: an approved information sharing agreement under Part 7 of
  the Privacy Act 2020, a rare Order in Council, not the ordinary basis of a referral;
- `SeriousThreat`: the serious-threat exception, IPP 10(1)(f) and IPP 11(1)(f), which always
  needs a recorded justification.

A basis of kind `Consent` on a field makes the field need consent for that purpose.
This module holds values only; it never checks consent, an actor or an agency itself (the
scope and `purposeful.disclose` do, from `Statute.may_rely` and `needs_justification`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeAlias

import attrs

from ._shared.checks import is_text
from .errors import ConfigurationError

__all__ = [
    "AUTHORISED_BY_PERSON",
    "CONSENT",
    "DIRECTLY_RELATED_PURPOSE",
    "FAMILY_VIOLENCE_ACT_S20",
    "NON_IDENTIFYING",
    "ORANGA_TAMARIKI_ACT_S66C",
    "SERIOUS_THREAT",
    "AuthorisedByPerson",
    "BasisKind",
    "Consent",
    "DirectlyRelatedPurpose",
    "InformationSharingAgreement",
    "LawfulBasis",
    "NonIdentifying",
    "SeriousThreat",
    "ServiceAgreement",
    "Statute",
    "described_to_person",
    "parse_basis",
    "plain_description",
]


class BasisKind(enum.Enum):
    """The kinds of lawful basis; the value is the stable machine-readable name."""

    CONSENT = "consent"
    STATUTE = "statute"
    SERVICE_AGREEMENT = "service-agreement"
    INFORMATION_SHARING_AGREEMENT = "information-sharing-agreement"
    SERIOUS_THREAT = "serious-threat"
    DIRECTLY_RELATED_PURPOSE = "directly-related-purpose"
    AUTHORISED_BY_PERSON = "authorised-by-person"
    NON_IDENTIFYING = "non-identifying"


#: An agency kind, as `Statute.agency_kinds` and ``configure(agency_kinds=...)`` name it.
_KIND = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


def is_agency_kind(value: object) -> bool:
    """True if *value* is an agency kind: lower-case words joined by hyphens
    (``"child-welfare-and-protection"``)."""
    return isinstance(value, str) and _KIND.match(value) is not None


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not is_text(value):
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be a non-empty string"
        )


@attrs.frozen
class DirectlyRelatedPurpose:
    """The purpose the information was collected for, or one directly related to it:
    Privacy Act 2020 IPP 10(1)(a) for use, IPP 11(1)(a) for disclosure. The everyday basis
    of a joint referral or a memorandum of understanding."""

    @property
    def kind(self) -> BasisKind:
        return BasisKind.DIRECTLY_RELATED_PURPOSE

    @property
    def needs_justification(self) -> bool:
        return False

    def describe(self) -> str:
        return (
            "the purpose the information was collected for, or a directly related one "
            "(Privacy Act 2020, IPP 10(1)(a) and IPP 11(1)(a))"
        )


@attrs.frozen
class AuthorisedByPerson:
    """The person the information is about authorised the use or disclosure: Privacy Act
    2020 IPP 10(1)(c) and IPP 11(1)(c).

    The library does not look the authorisation up per person; to have each read checked
    against a consent store, use `Consent` (or ``purposeful.field(consent=True)``).
    """

    @property
    def kind(self) -> BasisKind:
        return BasisKind.AUTHORISED_BY_PERSON

    @property
    def needs_justification(self) -> bool:
        return False

    def describe(self) -> str:
        return (
            "the authorisation of the person it is about "
            "(Privacy Act 2020, IPP 10(1)(c) and IPP 11(1)(c))"
        )


@attrs.frozen
class NonIdentifying:
    """Use or disclosure in a form that does not identify the person, or for statistics or
    research not published in a form that could reasonably identify them: Privacy Act 2020
    IPP 10(1)(b) and IPP 11(1)(h)."""

    @property
    def kind(self) -> BasisKind:
        return BasisKind.NON_IDENTIFYING

    @property
    def needs_justification(self) -> bool:
        return False

    def describe(self) -> str:
        return (
            "use in a form that does not identify the person, or for statistics or research "
            "not published in a form that could identify them "
            "(Privacy Act 2020, IPP 10(1)(b) and IPP 11(1)(h))"
        )


@attrs.frozen
class Consent:
    """The person's consent, or a recorded representative's, for this purpose."""

    @property
    def kind(self) -> BasisKind:
        return BasisKind.CONSENT

    @property
    def needs_justification(self) -> bool:
        return False

    def describe(self) -> str:
        return "the person's consent"


def _kinds(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigurationError(
            'Statute.agency_kinds takes a list of agency kinds, e.g. ["family-violence"]'
        )
    kinds = tuple(value)
    for kind in kinds:
        if not is_agency_kind(kind):
            raise ConfigurationError(
                "Statute.agency_kinds holds agency kinds written as lower-case words joined "
                'by hyphens, e.g. "child-welfare-and-protection"'
            )
    return kinds


def _roles(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigurationError(
            'Statute.roles takes a list of actor roles, e.g. ["social-services-practitioner"]'
        )
    roles = tuple(value)
    if not all(is_text(role) for role in roles):
        raise ConfigurationError("Statute.roles holds actor roles, each a non-empty string")
    return roles


def _flag(instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    if not isinstance(value, bool):
        raise ConfigurationError(f"Statute.{attribute.name} must be True or False")


def _words(name: str) -> str:
    return name.replace("-", " ").replace("_", " ")


def _plural(name: str) -> str:
    words = _words(name)
    return words if words.endswith("s") else words + "s"


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@attrs.frozen
class Statute:
    """A provision of an Act that authorises or requires the use, and who may rely on it.

    Args:
        act: the Act's short title with its year, e.g. ``"Oranga Tamariki Act 1989"``.
        section: the section, e.g. ``"66C"``.
        agency_kinds: the kinds of agency that may rely on it (``"family-violence"``); an
            agency says what it is with ``purposeful.configure(agency_kinds=...)``.
        roles: the actor roles that may rely on it wherever they work
            (``"social-services-practitioner"``), matched exactly against `Actor.role`.
        needs_justification: whether each use needs a recorded justification, as a belief
            on reasonable grounds does: ``use(..., justification="REF-123")``.

    With neither *agency_kinds* nor *roles* anyone may rely on it. With either, only an
    agency of one of the kinds or an actor in one of the roles may: a read or a disclosure
    by anyone else is refused.

    Raises:
        ConfigurationError: an empty act or section, or a malformed kind, role or flag.
    """

    act: str = attrs.field(validator=_non_empty)
    section: str = attrs.field(validator=_non_empty)
    agency_kinds: tuple[str, ...] = attrs.field(default=(), converter=_kinds)
    roles: tuple[str, ...] = attrs.field(default=(), converter=_roles)
    needs_justification: bool = attrs.field(default=False, validator=_flag)

    @property
    def kind(self) -> BasisKind:
        return BasisKind.STATUTE

    @property
    def restricted(self) -> bool:
        """True if only some agencies or roles may rely on it."""
        return bool(self.agency_kinds or self.roles)

    def may_rely(self, role: str, agency_kinds: Collection[str]) -> bool:
        """True if an actor in *role*, at an agency of *agency_kinds*, may rely on it."""
        if not self.restricted:
            return True
        return role in self.roles or any(kind in agency_kinds for kind in self.agency_kinds)

    def who_may_rely(self) -> str:
        """Who may rely on it, in plain words: ``"child welfare and protection agencies and
        independent persons"``; ``"anyone"`` when it is not restricted."""
        if not self.restricted:
            return "anyone"
        who = [f"{_words(kind)} agencies" for kind in self.agency_kinds]
        who += [_plural(role) for role in self.roles]
        return _and(who)

    def describe(self) -> str:
        return f"{self.act} s {self.section}"


@attrs.frozen
class ServiceAgreement:
    """A service or outcome agreement with a funder, named as the parties know it."""

    name: str = attrs.field(validator=_non_empty)

    @property
    def kind(self) -> BasisKind:
        return BasisKind.SERVICE_AGREEMENT

    @property
    def needs_justification(self) -> bool:
        return False

    def describe(self) -> str:
        return f"the service agreement {self.name!r}"


@attrs.frozen
class InformationSharingAgreement:
    """An approved information sharing agreement under Part 7 of the Privacy Act 2020.

    These are made by Order in Council and are rare; a referral or an MoU between agencies
    usually rests on `DirectlyRelatedPurpose` or `AuthorisedByPerson` instead.
    """

    name: str = attrs.field(validator=_non_empty)

    @property
    def kind(self) -> BasisKind:
        return BasisKind.INFORMATION_SHARING_AGREEMENT

    @property
    def needs_justification(self) -> bool:
        return False

    def describe(self) -> str:
        return f"the approved information sharing agreement {self.name!r} (Privacy Act 2020 Part 7)"


@attrs.frozen
class SeriousThreat:
    """The serious-threat exception: Privacy Act 2020 IPP 10(1)(f) and IPP 11(1)(f).

    It needs a belief, on reasonable grounds, that the use or disclosure is necessary to
    prevent or lessen a serious threat (s 7) to public health or safety, or to the life or
    health of any individual: every use on it needs a recorded justification.
    """

    @property
    def kind(self) -> BasisKind:
        return BasisKind.SERIOUS_THREAT

    @property
    def needs_justification(self) -> bool:
        return True

    def describe(self) -> str:
        return (
            "a belief on reasonable grounds that it is necessary to prevent or lessen a "
            "serious threat to public health or public safety, or to the life or health of "
            "any individual (Privacy Act 2020, IPP 10(1)(f) and IPP 11(1)(f))"
        )


LawfulBasis: TypeAlias = (
    DirectlyRelatedPurpose
    | AuthorisedByPerson
    | NonIdentifying
    | Consent
    | Statute
    | ServiceAgreement
    | InformationSharingAgreement
    | SeriousThreat
)
BASIS_TYPES = (
    DirectlyRelatedPurpose,
    AuthorisedByPerson,
    NonIdentifying,
    Consent,
    Statute,
    ServiceAgreement,
    InformationSharingAgreement,
    SeriousThreat,
)

CONSENT = Consent()
SERIOUS_THREAT = SeriousThreat()
DIRECTLY_RELATED_PURPOSE = DirectlyRelatedPurpose()
AUTHORISED_BY_PERSON = AuthorisedByPerson()
NON_IDENTIFYING = NonIdentifying()
#: Oranga Tamariki Act 1989 s 66C: sharing for the well-being and safety of children and
#: young persons; only child welfare and protection agencies and independent persons may
#: rely on it, with a belief on reasonable grounds.
ORANGA_TAMARIKI_ACT_S66C = Statute(
    "Oranga Tamariki Act 1989",
    "66C",
    agency_kinds=("child-welfare-and-protection",),
    roles=("independent-person",),
    needs_justification=True,
)
#: Family Violence Act 2018 s 20: sharing for family violence purposes; only family
#: violence agencies and social services practitioners may rely on it, with a belief on
#: reasonable grounds.
FAMILY_VIOLENCE_ACT_S20 = Statute(
    "Family Violence Act 2018",
    "20",
    agency_kinds=("family-violence",),
    roles=("social-services-practitioner",),
    needs_justification=True,
)

#: The ready-made bases a registry file may name by themselves, as it names ``"consent"``.
_NAMED: dict[str, LawfulBasis] = {
    "oranga-tamariki-act-s66c": ORANGA_TAMARIKI_ACT_S66C,
    "family-violence-act-s20": FAMILY_VIOLENCE_ACT_S20,
}
#: The statutes whose conditions the law sets, by (act, section): a registry file's table
#: that names one without conditions means the ready-made value.
_REGIMES: dict[tuple[str, str], Statute] = {}


def _regime_key(act: object, section: object) -> tuple[str, str]:
    """(act, section) as a file may spell them: case, spacing, and a leading "s" or
    "section" on the section do not matter (``"s 66c"`` names s 66C)."""
    act_text = " ".join(str(act).split()).casefold()
    section_text = "".join(str(section).split()).casefold()
    for prefix in ("section", "s."):
        section_text = section_text.removeprefix(prefix)
    if section_text[:1] == "s" and section_text[1:2].isdigit():
        section_text = section_text[1:]
    return act_text, section_text


_REGIMES.update(
    (_regime_key(basis.act, basis.section), basis)
    for basis in _NAMED.values()
    if isinstance(basis, Statute)
)
#: Each kind's class, the keys its table must have, and the keys it may have.
_TABLES: dict[BasisKind, tuple[type[Any], frozenset[str], frozenset[str]]] = {
    BasisKind.CONSENT: (Consent, frozenset(), frozenset()),
    BasisKind.STATUTE: (
        Statute,
        frozenset({"act", "section"}),
        frozenset({"agency_kinds", "roles", "needs_justification"}),
    ),
    BasisKind.SERVICE_AGREEMENT: (ServiceAgreement, frozenset({"name"}), frozenset()),
    BasisKind.INFORMATION_SHARING_AGREEMENT: (
        InformationSharingAgreement,
        frozenset({"name"}),
        frozenset(),
    ),
    BasisKind.SERIOUS_THREAT: (SeriousThreat, frozenset(), frozenset()),
    BasisKind.DIRECTLY_RELATED_PURPOSE: (DirectlyRelatedPurpose, frozenset(), frozenset()),
    BasisKind.AUTHORISED_BY_PERSON: (AuthorisedByPerson, frozenset(), frozenset()),
    BasisKind.NON_IDENTIFYING: (NonIdentifying, frozenset(), frozenset()),
}


def plain_description(basis: LawfulBasis) -> str:
    """*basis* described for a page or a notice: as `describe()`, with an agreement's name
    in quotation marks as it is, not as Python writes it (``'...'``, escapes and all). The
    document renderer escapes what it must where it writes the text."""
    if isinstance(basis, ServiceAgreement):
        return f"the service agreement “{basis.name}”"
    if isinstance(basis, InformationSharingAgreement):
        return (
            f"the approved information sharing agreement “{basis.name}” (Privacy Act 2020 Part 7)"
        )
    return basis.describe()


def described_to_person(basis: LawfulBasis) -> str:
    """*basis* as a page addressed to the person it is about says it: ``your consent``,
    ``your authorisation``; any other as `plain_description`."""
    if basis.kind is BasisKind.CONSENT:
        return "your consent"
    if basis.kind is BasisKind.AUTHORISED_BY_PERSON:
        return "your authorisation"
    return plain_description(basis)


def parse_basis(value: Any) -> LawfulBasis:
    """Parse a basis as written in a registry file.

    A kind that takes no details stands alone: ``"directly-related-purpose"``,
    ``"authorised-by-person"``, ``"non-identifying"``, ``"consent"``, ``"serious-threat"``;
    so do the ready-made statutes ``"oranga-tamariki-act-s66c"`` and
    ``"family-violence-act-s20"``. The others are tables:
    ``{ kind = "statute", act = "...", section = "..." }``, optionally with
    ``agency_kinds = [...]``, ``roles = [...]`` and ``needs_justification = true``;
    ``{ kind = "service-agreement", name = "..." }``;
    ``{ kind = "information-sharing-agreement", name = "..." }``.

    A statute table that names the Oranga Tamariki Act 1989 s 66C or the Family Violence Act
    2018 s 20, however it spells them (case, spacing, ``"s 66C"``), is the ready-made value,
    with the conditions the law sets; one that also writes other conditions for it is
    refused.

    Raises:
        ConfigurationError: an unknown kind, a missing or unknown detail, or a detail of the
            wrong type.
    """
    if isinstance(value, str):
        if value in _NAMED:
            return _NAMED[value]
        value = {"kind": value}
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"a lawful basis must be a string or a table, not {type(value).__name__}"
        )
    kind = value.get("kind")
    details = {k: v for k, v in value.items() if k != "kind"}
    try:
        parsed = BasisKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in BasisKind)
        named = ", ".join(_NAMED)
        if kind is None or (isinstance(kind, str) and len(kind) <= 60):
            shown = repr(kind)
        else:
            shown = f"of type {type(kind).__name__}" if not isinstance(kind, str) else "given"
        raise ConfigurationError(
            f"unknown lawful basis kind {shown}; use one of: {kinds} (or a ready-made "
            f"statute: {named})"
        ) from None
    cls, needed, optional = _TABLES[parsed]
    keys = set(details)
    if not needed <= keys or not keys <= needed | optional:
        want = ", ".join(sorted(needed)) if needed else "no other keys"
        got = ", ".join(sorted(str(key) for key in keys)) or "none"
        also = f" (it may also take {', '.join(sorted(optional))})" if optional else ""
        raise ConfigurationError(f"a lawful basis of kind {kind!r} takes {want}; got {got}{also}")
    if parsed is BasisKind.STATUTE:
        regime = _REGIMES.get(_regime_key(details["act"], details["section"]))
        if regime is not None:
            # the law says who may rely on these, however the file names them; conditions
            # written for one must be the law's (an empty list is none written)
            conditions = {k: details[k] for k in keys & optional if details[k] != []}
            as_written = Statute(regime.act, regime.section, **conditions) if conditions else regime
            written = sorted(conditions)
            if as_written != regime:
                raise ConfigurationError(
                    f"{regime.describe()} sets who may rely on it, and with what belief: a "
                    f"registry file names it without {', '.join(written)}, which would "
                    f"change what the law says; remove them, or write the ready-made "
                    f"{next(n for n, b in _NAMED.items() if b is regime)!r}"
                )
            return regime
    basis: LawfulBasis = cls(**details)
    return basis
