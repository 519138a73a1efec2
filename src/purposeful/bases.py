"""Lawful bases: why an agency may use a piece of information for a purpose.

Bases are values, never strings. Each has a `kind` (for grouping and machine-readable audit)
and `describe()` for people. The kinds cover what New Zealand social services rely on:

- `Consent`: the person's consent (or their representative's);
- `Statute`: an Act and section, such as the Oranga Tamariki Act 1989 s 66C or the Family
  Violence Act 2018 s 20;
- `ServiceAgreement`: a contract or outcome agreement with a funder;
- `InformationSharingAgreement`: an approved information sharing agreement under Part 7 of
  the Privacy Act 2020;
- `SeriousThreat`: the serious-threat exception, IPP 10(1)(f) and IPP 11(1)(f).

A basis of kind `Consent` on a field makes the field need consent for that purpose.
This module holds values only; it never checks consent itself.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeAlias

import attrs

from ._shared.checks import is_text
from .errors import ConfigurationError

__all__ = [
    "CONSENT",
    "FAMILY_VIOLENCE_ACT_S20",
    "ORANGA_TAMARIKI_ACT_S66C",
    "SERIOUS_THREAT",
    "BasisKind",
    "Consent",
    "InformationSharingAgreement",
    "LawfulBasis",
    "SeriousThreat",
    "ServiceAgreement",
    "Statute",
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


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not is_text(value):
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be a non-empty string"
        )


@attrs.frozen
class Consent:
    """The person's consent, or a recorded representative's, for this purpose."""

    @property
    def kind(self) -> BasisKind:
        return BasisKind.CONSENT

    def describe(self) -> str:
        return "the person's consent"


@attrs.frozen
class Statute:
    """A provision of an Act that authorises or requires the use.

    Args:
        act: the Act's short title with its year, e.g. ``"Oranga Tamariki Act 1989"``.
        section: the section, e.g. ``"66C"``.
    """

    act: str = attrs.field(validator=_non_empty)
    section: str = attrs.field(validator=_non_empty)

    @property
    def kind(self) -> BasisKind:
        return BasisKind.STATUTE

    def describe(self) -> str:
        return f"{self.act} s {self.section}"


@attrs.frozen
class ServiceAgreement:
    """A service or outcome agreement with a funder, named as the parties know it."""

    name: str = attrs.field(validator=_non_empty)

    @property
    def kind(self) -> BasisKind:
        return BasisKind.SERVICE_AGREEMENT

    def describe(self) -> str:
        return f"the service agreement {self.name!r}"


@attrs.frozen
class InformationSharingAgreement:
    """An approved information sharing agreement under Part 7 of the Privacy Act 2020."""

    name: str = attrs.field(validator=_non_empty)

    @property
    def kind(self) -> BasisKind:
        return BasisKind.INFORMATION_SHARING_AGREEMENT

    def describe(self) -> str:
        return f"the approved information sharing agreement {self.name!r} (Privacy Act 2020 Part 7)"


@attrs.frozen
class SeriousThreat:
    """The serious-threat exception: Privacy Act 2020 IPP 10(1)(f) and IPP 11(1)(f)."""

    @property
    def kind(self) -> BasisKind:
        return BasisKind.SERIOUS_THREAT

    def describe(self) -> str:
        return "a serious threat to someone's life, health or safety (IPP 10(1)(f), IPP 11(1)(f))"


LawfulBasis: TypeAlias = (
    Consent | Statute | ServiceAgreement | InformationSharingAgreement | SeriousThreat
)
BASIS_TYPES = (Consent, Statute, ServiceAgreement, InformationSharingAgreement, SeriousThreat)

CONSENT = Consent()
SERIOUS_THREAT = SeriousThreat()
ORANGA_TAMARIKI_ACT_S66C = Statute("Oranga Tamariki Act 1989", "66C")
FAMILY_VIOLENCE_ACT_S20 = Statute("Family Violence Act 2018", "20")


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


def parse_basis(value: Any) -> LawfulBasis:
    """Parse a basis as written in a registry file.

    ``"consent"`` and ``"serious-threat"`` stand alone; the others are tables:
    ``{ kind = "statute", act = "Family Violence Act 2018", section = "20" }``,
    ``{ kind = "service-agreement", name = "..." }``,
    ``{ kind = "information-sharing-agreement", name = "..." }``.

    Raises:
        ConfigurationError: an unknown kind or missing detail.
    """
    if isinstance(value, str):
        value = {"kind": value}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"a lawful basis must be a string or a table, not {value!r}")
    kind = value.get("kind")
    details = {k: v for k, v in value.items() if k != "kind"}
    kinds = ", ".join(k.value for k in BasisKind)
    try:
        parsed = BasisKind(kind)
    except ValueError:
        raise ConfigurationError(
            f"unknown lawful basis kind {kind!r}; use one of: {kinds}"
        ) from None
    fields: dict[BasisKind, tuple[type[Any], tuple[str, ...]]] = {
        BasisKind.CONSENT: (Consent, ()),
        BasisKind.STATUTE: (Statute, ("act", "section")),
        BasisKind.SERVICE_AGREEMENT: (ServiceAgreement, ("name",)),
        BasisKind.INFORMATION_SHARING_AGREEMENT: (InformationSharingAgreement, ("name",)),
        BasisKind.SERIOUS_THREAT: (SeriousThreat, ()),
    }
    cls, needed = fields[parsed]
    if set(details) != set(needed):
        want = ", ".join(needed) if needed else "no other keys"
        got = ", ".join(sorted(details)) or "none"
        raise ConfigurationError(f"a lawful basis of kind {kind!r} takes {want}; got {got}")
    basis: LawfulBasis = cls(**details)
    return basis
