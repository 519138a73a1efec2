"""Sharing agreements: what an agency agreed with its partners to share, why and how.

DPUP's Mahitahi principle asks agencies to agree with partner agencies what is shared, why
and how, and then to share only that. A `SharingAgreement` is that agreement, as data:

- its **parties** (`Party`: a name and an address, which IPP 3A notices need);
- its **purposes** (ids from the purpose registry): what the shared information is for;
- what it **covers**: fields (``"CaseNote.text"``) or data categories (``"contact"``; a
  category covers its sub-categories);
- its **lawful basis** for disclosing: usually a purpose directly related to the one the
  information was collected for (Privacy Act 2020 IPP 11(1)(a)) or the person's
  authorisation (IPP 11(1)(c)); for research or statistics, a form that does not identify
  the person (IPP 11(1)(h)); a statute and section, such as the Oranga Tamariki Act 1989
  s 66C or the Family Violence Act 2018 s 20, which only the agencies and roles it names may
  rely on; the serious-threat exception (IPP 11(1)(f)); or, rarely, an approved information
  sharing agreement (Privacy Act 2020 Part 7);
- its **start**, **expiry** and **review** dates;
- what it needs first for people who need more care (`purposeful.care.CareRequirement`:
  a second reviewer, a safety review, a representative's consent), on top of what the
  purpose of the disclosure needs.

Agreements are made in code or loaded from a TOML file (`load_agreements`), and checked
against the registries and the declared record types when they are made: a purpose, a
category or a field that does not exist is an `AgreementError` naming it (and, for a file,
the line). `purposeful.sharing.exchange` enforces them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import attrs

from .._config import declared_records, get_configuration
from .._hierarchy import covers
from .._shared.checks import is_text
from .._toml import build_entries, expect_keys, read_table_array
from ..actors import Actor
from ..bases import (
    AuthorisedByPerson,
    DirectlyRelatedPurpose,
    InformationSharingAgreement,
    LawfulBasis,
    NonIdentifying,
    SeriousThreat,
    Statute,
    parse_basis,
)
from ..care import CareRequirement, parse_requirement, requirements
from ..decisions import Reason, basis_reasons
from ..errors import AgreementError, ConfigurationError, RegistryFileError
from ..records import FieldPolicy, record_policy

__all__ = ["Party", "SharingAgreement", "load_agreements"]

_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")
_FIELD = re.compile(r"[A-Za-z_][\w.]*\.[A-Za-z_]\w*\Z")
#: The bases a disclosure under an agreement may rest on: consent and service agreements are
#: bases for a use, not for handing information to another agency.
_BASES = (
    DirectlyRelatedPurpose,
    AuthorisedByPerson,
    NonIdentifying,
    Statute,
    SeriousThreat,
    InformationSharingAgreement,
)


def _text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value):
        raise AgreementError(f"{type(instance).__name__}.{attribute.name} must be non-empty text")


def _optional_text(instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        _text(instance, attribute, value)  # type: ignore[arg-type]


@attrs.frozen
class Party:
    """An agency party to an agreement.

    Attributes:
        name: its name, as people know it.
        address: its address, for the notices IPP 3A asks for.
        contact: how to reach its privacy officer.
    """

    name: str = attrs.field(validator=_text)
    address: str | None = attrs.field(default=None, validator=_optional_text)
    contact: str | None = attrs.field(default=None, validator=_optional_text)


def _party(value: object) -> Party:
    if isinstance(value, Party):
        return value
    if isinstance(value, str):
        return Party(value)
    if isinstance(value, Mapping):
        unknown = set(value) - {"name", "address", "contact"}
        if unknown or "name" not in value:
            raise AgreementError(
                "a party is a name, or a table with name and optionally address and contact"
            )
        return Party(**value)
    raise AgreementError(f"a party is a Party or a name, not {type(value).__name__}")


def _parties(values: Iterable[object]) -> tuple[Party, ...]:
    if isinstance(values, str | Party):
        values = [values]
    if not isinstance(values, Iterable):
        raise AgreementError("parties= takes a list of parties (Party values or names)")
    return tuple(_party(value) for value in values)


def _strings(values: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(values, str):
        return (values,)
    if not isinstance(values, Iterable) or not all(isinstance(v, str) for v in values):
        raise AgreementError(
            "purposes=, fields= and categories= take a list of names, e.g. "
            "['service-delivery.referral']"
        )
    return tuple(values)


def _description(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise AgreementError(
            f"SharingAgreement.description must be text (what is shared and why, in plain "
            f"words; empty for none), not {type(value).__name__}"
        )


def _date(instance: object, attribute: attrs.Attribute[date], value: object) -> None:
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise AgreementError(
            f"SharingAgreement.{attribute.name} must be a date (datetime.date), not "
            f"{type(value).__name__}"
        )


@attrs.frozen
class SharingAgreement:
    """An agreement to share information with partner agencies, checked when it is made.

    Attributes:
        id: a stable name for logs, lower-case words joined by hyphens.
        name: its name, as the parties know it.
        parties: the agencies party to it (at least two: the discloser and a recipient).
        purposes: the purpose ids it allows sharing for (a purpose covers its descendants).
        fields: the fields it covers, as ``"RecordType.field"``.
        categories: the data categories it covers (and their sub-categories).
        basis: what the disclosure rests on: a directly related purpose (IPP 11(1)(a)), the
            person's authorisation (IPP 11(1)(c)), a non-identifying form (IPP 11(1)(h)), a
            statute and section, the serious-threat exception (IPP 11(1)(f)), or an approved
            information sharing agreement (Part 7).
        starts, expires, review: when it takes effect, ends (the last day it is in force),
            and is next reviewed.
        description: what is shared and why, in plain words, for notices.
        care: what a disclosure under it needs first for people who need more care
            (`purposeful.care.CareRequirement` values), on top of its purpose's.

    Raises:
        AgreementError: anything that does not check out, named.
    """

    id: str
    name: str = attrs.field(validator=_text)
    parties: tuple[Party, ...] = attrs.field(converter=_parties)
    purposes: tuple[str, ...] = attrs.field(converter=_strings)
    basis: LawfulBasis
    starts: date = attrs.field(validator=_date)
    expires: date = attrs.field(validator=_date)
    review: date = attrs.field(validator=_date)
    fields: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    description: str = attrs.field(default="", validator=_description)
    care: tuple[CareRequirement, ...] = attrs.field(default=(), converter=requirements)

    def __attrs_post_init__(self) -> None:
        where = f"agreement {self.id!r}"
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise AgreementError(
                f"an agreement's id must be lower-case words joined by hyphens, e.g. "
                f"'referrals-to-kainga-ora', not {self.id!r}"
            )
        if len(self.parties) < 2:
            raise AgreementError(f"{where} needs at least two parties: who shares, and with whom")
        names = [party.name for party in self.parties]
        if len(set(names)) != len(names):
            raise AgreementError(f"{where} names a party twice; name each once")
        if not isinstance(self.basis, _BASES):
            raise AgreementError(
                f"{where}: the basis must be one a disclosure may rest on: "
                f"DIRECTLY_RELATED_PURPOSE (IPP 11(1)(a)), AUTHORISED_BY_PERSON (IPP 11(1)(c)), "
                f"NON_IDENTIFYING (IPP 11(1)(h)), a Statute, SERIOUS_THREAT (IPP 11(1)(f)) or "
                f"an InformationSharingAgreement (Part 7), not {type(self.basis).__name__}"
            )
        if not self.starts < self.expires:
            raise AgreementError(f"{where} expires before it starts; check the dates")
        if not self.starts <= self.review <= self.expires:
            raise AgreementError(
                f"{where}: its review date must fall between its start and its expiry"
            )
        if not self.purposes:
            raise AgreementError(f"{where} names no purposes; name what the sharing is for")
        if not self.fields and not self.categories:
            raise AgreementError(
                f'{where} covers nothing: name the fields ("Client.name") or data '
                f"categories it covers"
            )
        config = get_configuration()
        for purpose in self.purposes:
            if purpose not in config.registry:
                raise AgreementError(
                    f"{where} names purpose {purpose!r}, which the registry does not have"
                )
        for category in self.categories:
            if category not in config.categories:
                raise AgreementError(
                    f"{where} names data category {category!r}, which the registry does not have"
                )
        for name in self.fields:
            field = _find_field(name)
            if field is None:
                raise AgreementError(
                    f"{where} covers {name!r}, which is not a managed field of a declared "
                    f"record type; write 'RecordType.field', and import the module that "
                    f"declares the record before making the agreement"
                )
            if not any(covers(declared, p) for declared in field.purposes for p in self.purposes):
                raise AgreementError(
                    f"{where} covers {name!r}, which is not declared for any of its purposes "
                    f"({', '.join(self.purposes)}), so it could never be shared under it; add "
                    f"the purpose to the field, or leave the field out of the agreement"
                )

    def party(self, name: str | Party) -> Party | None:
        """The party called *name*, or None if it is not a party."""
        wanted = name.name if isinstance(name, Party) else name
        return next((party for party in self.parties if party.name == wanted), None)

    def in_force(self, on: date) -> bool:
        """True if the agreement is in force on *on* (from its start to its expiry)."""
        return self.starts <= on <= self.expires

    def allows_purpose(self, purpose: str) -> bool:
        """True if the agreement names *purpose* or an ancestor of it."""
        return any(purpose == p or purpose.startswith(p + ".") for p in self.purposes)

    def covers(self, field: FieldPolicy) -> bool:
        """True if the agreement covers *field*: by name, or by its data category."""
        if f"{field.record.name}.{field.name}" in self.fields:
            return True
        category = field.category
        return category is not None and any(category.within(c) for c in self.categories)

    def json_schema(self, record_type: type | str | None = None) -> dict[str, Any]:
        """What the agreement lets one party send another, as a JSON Schema (draft
        2020-12) a partner can validate a referral payload against: see
        `purposeful.sharing.referral_schema`.

        Raises:
            AgreementError: it covers no field of the declared record types asked for.
        """
        from .schema import referral_schema

        return referral_schema(self, record_type)

    def describe(self) -> str:
        """``"<name> (<basis>)"``: for explanations and notices."""
        return f"{self.name} ({self.basis.describe()})"

    def basis_refusals(
        self, actor: Actor, agency_kinds: Iterable[str], *, justified: bool
    ) -> tuple[tuple[str, str], ...]:
        """Why *actor*, at an agency of *agency_kinds*, may not disclose on the agreement's
        basis: (reason code, plain words) for each; empty when they may.

        A statute that names who may rely on it (Oranga Tamariki Act 1989 s 66C, Family
        Violence Act 2018 s 20) refuses anyone else (``not-entitled-to-basis``); a basis
        that needs a belief on reasonable grounds refuses a disclosure with no recorded
        justification (``justification-missing``).
        """
        basis = self.basis
        found = []
        for reason in basis_reasons(basis, actor, frozenset(agency_kinds), justified):
            if reason is Reason.NOT_ENTITLED_TO_BASIS and isinstance(basis, Statute):
                found.append(
                    (
                        reason.value,
                        f"its basis, {basis.describe()}, may be relied on only by "
                        f"{basis.who_may_rely()}, and neither this agency nor the "
                        f"{actor.role} role is one of them (if this agency is, say so with "
                        f"purposeful.configure(agency_kinds=[...]))",
                    )
                )
            elif reason is Reason.JUSTIFICATION_MISSING:
                found.append(
                    (
                        reason.value,
                        f"its basis, {basis.describe()}, needs a belief on reasonable grounds, "
                        f"and no justification is recorded: pass justification= a reference "
                        f'to where it is recorded, such as "REF-123"',
                    )
                )
        return tuple(found)


def _find_field(name: str) -> FieldPolicy | None:
    if not isinstance(name, str) or not _FIELD.match(name):
        return None
    type_name, _, field = name.rpartition(".")
    for cls in declared_records():
        if record_policy(cls).name == type_name:
            found = record_policy(cls).fields.get(field)
            if found is not None:
                return found
    return None


_KEYS = {"id", "name", "parties", "purposes", "basis", "starts", "expires", "review"}
_OPTIONAL = {"fields", "categories", "description", "care"}


def _build(entry: Mapping[str, Any]) -> SharingAgreement:
    expect_keys(entry, "agreement", _KEYS, _OPTIONAL)
    values = dict(entry)
    try:
        values["basis"] = parse_basis(entry["basis"])
    except ConfigurationError as exc:
        raise AgreementError(f"agreement {entry.get('id')!r}: {exc}") from None
    care = entry.get("care", [])
    if not isinstance(care, list):
        raise AgreementError(f"agreement {entry.get('id')!r}: 'care' must be a list of tables")
    try:
        values["care"] = [parse_requirement(c, f"agreement {entry.get('id')!r}") for c in care]
    except ConfigurationError as exc:
        raise AgreementError(str(exc)) from None
    return SharingAgreement(**values)


def load_agreements(source: str | Path | Traversable) -> tuple[SharingAgreement, ...]:
    """The ``[[agreement]]`` entries of a TOML file, each checked as `SharingAgreement` is.

    Raises:
        RegistryFileError: the file cannot be read, is not TOML, or an entry is wrong; the
            message names the file and the entry's line.
    """
    name, entries = read_table_array(source, "agreement", frozenset({"agreement"}))
    agreements = tuple(build_entries(name, entries, _build))
    seen: set[str] = set()
    for (line, _), agreement in zip(entries, agreements, strict=True):
        if agreement.id in seen:
            raise RegistryFileError(
                f"agreement {agreement.id!r} is declared twice; keep one entry",
                path=name,
                line=line,
            )
        seen.add(agreement.id)
    return agreements
