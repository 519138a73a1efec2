"""The drift check: does the code now do something the published notice does not tell?

A notice is only honest while the code matches it. `check_drift` compares a `Notice` built
from the code as it is now with the register published with the last notice, and lists
every way the code now goes further than what people were told. Each is a `Drift`:

=========================  =================================================================
kind                       what changed since the notice was published
=========================  =================================================================
new-field                  a managed field the register does not list (one drift for each
                           purpose it is used for)
new-purpose                a field is used for a purpose the register does not list for it
                           (a listed purpose covers its descendants, so narrowing
                           ``service-delivery`` to ``service-delivery.referral`` is not drift)
new-category               a field now holds a data category outside the one listed for it
consent-dropped            a use the register says needs consent no longer does
now-mandatory              a field is now mandatory to supply, which the register does not
                           say (it says voluntary, or nothing)
supply-undeclared          a managed field does not declare whether supplying it is
                           voluntary or mandatory (IPP 3(1)); reported whatever the register
                           says, until the field declares it
new-agreement              a sharing agreement the register does not list
new-recipient              a listed agreement names a party the register does not
new-sharing-purpose        a listed agreement allows sharing for a purpose it did not
new-shared-information     a listed agreement covers a field or category it did not
=========================  =================================================================

What is not drift: anything removed or narrowed (a field, a purpose, an agreement, a party
dropped; consent newly asked for). The published notice then says more than the code does,
which misleads nobody about what is done with their information; publish a new notice to
tidy it up. Wording, labels, bases other than consent, sensitivity, dates and the wording
of a consequence of not supplying a field are not compared either: they change what the
notice says, not what is done.

A published register that cannot be read, is not JSON, is not a purposeful register, or
lacks what the check needs, is a `NoticeError` naming the file and the place in it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import attrs

from .._hierarchy import covers
from .._shared.agency import AgencyDetails
from ..errors import ConfigurationError, NoticeError
from ..supply import Mandatory, Voluntary
from ._notice import Notice, NoticeField
from ._register import REGISTER_FORMAT, REGISTER_FORMAT_VERSION

__all__ = ["Drift", "DriftKind", "PublishedRegister", "check_drift", "read_register"]


class DriftKind(enum.Enum):
    """How the code goes further than the published notice; the value is stable."""

    NEW_FIELD = "new-field"
    NEW_PURPOSE = "new-purpose"
    NEW_CATEGORY = "new-category"
    CONSENT_DROPPED = "consent-dropped"
    NOW_MANDATORY = "now-mandatory"
    SUPPLY_UNDECLARED = "supply-undeclared"
    NEW_AGREEMENT = "new-agreement"
    NEW_RECIPIENT = "new-recipient"
    NEW_SHARING_PURPOSE = "new-sharing-purpose"
    NEW_SHARED_INFORMATION = "new-shared-information"


@attrs.frozen
class Drift:
    """One way the code goes further than the published notice.

    Attributes:
        kind: what changed (see the module's table).
        record_type, field: the field concerned, if any.
        purpose: the purpose id concerned, if any.
        category: the data category id concerned, if any.
        agreement: the agreement id concerned, if any.
        party: the party concerned (`DriftKind.NEW_RECIPIENT`).
    """

    kind: DriftKind
    record_type: str | None = None
    field: str | None = None
    purpose: str | None = None
    category: str | None = None
    agreement: str | None = None
    party: str | None = None

    def describe(self) -> str:
        """One line for people: what the code does that the published notice does not say."""
        where = f"{self.record_type}.{self.field}"
        kind = self.kind
        if kind is DriftKind.NEW_FIELD:
            return (
                f"{where} is a new field, used for {self.purpose!r}, which the published "
                f"notice does not mention"
            )
        if kind is DriftKind.NEW_PURPOSE:
            return (
                f"{where} is now used for {self.purpose!r}, which the published notice does "
                f"not mention for it"
            )
        if kind is DriftKind.NEW_CATEGORY:
            return (
                f"{where} now holds {self.category!r} information, which the published notice "
                f"does not say"
            )
        if kind is DriftKind.CONSENT_DROPPED:
            return (
                f"{where} is now used for {self.purpose!r} without consent; the published "
                f"notice says that use needs consent"
            )
        if kind is DriftKind.NOW_MANDATORY:
            return f"{where} is now mandatory to supply, which the published notice does not say"
        if kind is DriftKind.SUPPLY_UNDECLARED:
            return (
                f"{where} does not say whether supplying it is voluntary or mandatory, which "
                f"the notice must tell (IPP 3(1)); declare it: purposeful.field(..., "
                f"supply=purposeful.supply.Voluntary('what happens if the person does not "
                f"give it')), or supply=purposeful.supply.Mandatory('...')"
            )
        agreement = f"agreement {self.agreement!r}"
        if kind is DriftKind.NEW_AGREEMENT:
            return f"{agreement} is not in the published notice"
        if kind is DriftKind.NEW_RECIPIENT:
            return (
                f"{agreement} now names party {self.party!r}, which the published notice does not"
            )
        if kind is DriftKind.NEW_SHARING_PURPOSE:
            return (
                f"{agreement} now allows sharing for {self.purpose!r}, which the published "
                f"notice does not mention for it"
            )
        what = repr(where) if self.field is not None else f"data category {self.category!r}"
        return f"{agreement} now covers {what}, which the published notice does not mention"

    def __str__(self) -> str:
        return self.describe()


@attrs.frozen
class PublishedField:
    """A field as the published register lists it.

    Attributes:
        supply: ``"voluntary"``, ``"mandatory"``, or None when the register does not say
            (the field declared nothing, or the register predates the key).
    """

    purposes: frozenset[str]
    consent: frozenset[str]
    category: str | None
    supply: str | None = None


@attrs.frozen
class PublishedAgreement:
    """An agreement as the published register lists it."""

    parties: frozenset[str]
    purposes: frozenset[str]
    fields: frozenset[str]
    categories: frozenset[str]


@attrs.frozen(eq=False)
class PublishedRegister:
    """A published register, read and checked by `read_register`.

    Attributes:
        source: the file it came from (or "the published register" for a mapping).
        notice_version: the version of the notice it was published with.
        agency: the agency it names.
        records: record type → field name → `PublishedField`.
        agreements: agreement id → `PublishedAgreement`.
    """

    source: str
    notice_version: str
    agency: AgencyDetails
    records: Mapping[str, Mapping[str, PublishedField]]
    agreements: Mapping[str, PublishedAgreement]


_SUPPLY_KINDS = (Voluntary.kind, Mandatory.kind)


class _Reader:
    """Checks the shape of a register, naming the file and the place of the first fault."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> NoReturn:
        place = f"{where}: " if where else ""
        raise NoticeError(
            f"{self.source}: {place}{problem}; check against a register.json written by "
            f"'purposeful notice build' (Notice.write)"
        )

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(where, "expected an object")
        return value

    def items(self, value: object, where: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(where, "expected a list")
        return value

    def key(self, value: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in value:
            self.fail(where, f"{key!r} is missing")
        return value[key]

    def text(self, value: Mapping[str, Any], key: str, where: str) -> str:
        found = self.key(value, key, where)
        if not isinstance(found, str):
            self.fail(f"{where}.{key}" if where else key, "expected text")
        return found

    def optional_text(self, value: Mapping[str, Any], key: str, where: str) -> str | None:
        found = value.get(key)
        if found is not None and not isinstance(found, str):
            self.fail(f"{where}.{key}" if where else key, "expected text or null")
        return found

    def texts(self, value: Mapping[str, Any], key: str, where: str) -> frozenset[str]:
        here = f"{where}.{key}"
        found = self.items(self.key(value, key, where), here)
        if not all(isinstance(item, str) for item in found):
            self.fail(here, "expected a list of text")
        return frozenset(found)

    def supply(self, value: Mapping[str, Any], where: str) -> str | None:
        found = value.get("supply")
        if found is None:
            return None
        here = f"{where}.supply"
        kind = self.mapping(found, here).get("kind")
        if kind not in _SUPPLY_KINDS:
            self.fail(f"{here}.kind", f"expected one of {', '.join(_SUPPLY_KINDS)}")
        return str(kind)

    def ids(self, value: Mapping[str, Any], key: str, where: str) -> frozenset[str]:
        here = f"{where}.{key}"
        found = self.items(self.key(value, key, where), here)
        return frozenset(
            self.text(self.mapping(item, f"{here}[{n}]"), "id", f"{here}[{n}]")
            for n, item in enumerate(found)
        )


def _load(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NoticeError(
            f"cannot read the published register {path} ({exc.strerror or exc}); check the path"
        ) from None
    except UnicodeDecodeError:
        raise NoticeError(f"{path}: not UTF-8 text; is it the register.json?") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NoticeError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            f"publish the register.json that 'purposeful notice build' wrote"
        ) from None
    except RecursionError:
        raise NoticeError(
            f"{path}: its arrays or objects are nested too deeply to be a register; publish "
            f"the register.json that 'purposeful notice build' wrote"
        ) from None


def read_register(source: Path | str | Mapping[str, Any]) -> PublishedRegister:
    """Read a published register (``register.json``) and check its shape.

    Args:
        source: the file, or its content already parsed from JSON.

    Raises:
        NoticeError: the file cannot be read or is not JSON, it is not a purposeful
            register, it was written by a newer purposeful, or it lacks what the drift check
            needs. The message names the file and the place in it.
    """
    data: object
    if isinstance(source, Mapping):
        name, data = "the published register", source
    else:
        path = Path(source)
        name, data = str(path), _load(path)
    reader = _Reader(name)
    top = reader.mapping(data, "")
    if top.get("format") != REGISTER_FORMAT:
        reader.fail("", f"not a purposeful notice register ('format' is not {REGISTER_FORMAT!r})")
    version = top.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        reader.fail("format_version", "expected a whole number")
    if version > REGISTER_FORMAT_VERSION:
        reader.fail(
            "format_version",
            f"written by a newer purposeful (format {version}; this one reads up to "
            f"{REGISTER_FORMAT_VERSION}): upgrade purposeful",
        )
    notice_version = reader.text(top, "notice_version", "")
    details = reader.mapping(reader.key(top, "agency", ""), "agency")
    contact = {
        key: reader.optional_text(details, key, "agency")
        for key in ("email", "phone", "postal_address", "website")
    }
    officer = reader.optional_text(details, "privacy_officer", "agency") or "Privacy Officer"
    try:
        agency = AgencyDetails(
            name=reader.text(details, "name", "agency"), privacy_officer=officer, **contact
        )
    except ConfigurationError as exc:
        reader.fail("agency", str(exc))

    records: dict[str, dict[str, PublishedField]] = {}
    for n, entry in enumerate(reader.items(reader.key(top, "records", ""), "records")):
        where = f"records[{n}]"
        record = reader.mapping(entry, where)
        fields = records.setdefault(reader.text(record, "type", where), {})
        for m, item in enumerate(reader.items(reader.key(record, "fields", where), where)):
            here = f"{where}.fields[{m}]"
            field = reader.mapping(item, here)
            fields[reader.text(field, "name", here)] = PublishedField(
                purposes=reader.ids(field, "purposes", here),
                consent=reader.texts(field, "consent", here),
                category=reader.optional_text(field, "category", here),
                supply=reader.supply(field, here),
            )
    agreements: dict[str, PublishedAgreement] = {}
    for n, entry in enumerate(reader.items(reader.key(top, "agreements", ""), "agreements")):
        where = f"agreements[{n}]"
        agreement = reader.mapping(entry, where)
        parties = reader.items(reader.key(agreement, "parties", where), f"{where}.parties")
        agreements[reader.text(agreement, "id", where)] = PublishedAgreement(
            parties=frozenset(
                reader.text(
                    reader.mapping(p, f"{where}.parties[{k}]"), "name", f"{where}.parties[{k}]"
                )
                for k, p in enumerate(parties)
            ),
            purposes=reader.ids(agreement, "purposes", where),
            fields=reader.texts(agreement, "fields", where),
            categories=reader.texts(agreement, "categories", where),
        )
    return PublishedRegister(name, notice_version, agency, records, agreements)


def _field_drift(notice: Notice, published: PublishedRegister) -> list[Drift]:
    found: list[Drift] = []
    for field in notice.fields():
        named = {"record_type": field.record_type, "field": field.name}
        found += _changes(field, published.records.get(field.record_type, {}).get(field.name))
        if field.supply is None:
            found.append(Drift(DriftKind.SUPPLY_UNDECLARED, **named))
    return found


def _changes(field: NoticeField, before: PublishedField | None) -> list[Drift]:
    """How *field* goes further than the register's entry for it (*before*)."""
    named = {"record_type": field.record_type, "field": field.name}
    if before is None:
        return [Drift(DriftKind.NEW_FIELD, purpose=u.purpose.id, **named) for u in field.uses]
    found = [
        Drift(DriftKind.NEW_PURPOSE, purpose=use.purpose.id, **named)
        for use in field.uses
        if not any(covers(p, use.purpose.id) for p in before.purposes)
    ]
    category = field.category
    if category is not None and (before.category is None or not category.within(before.category)):
        found.append(Drift(DriftKind.NEW_CATEGORY, category=category.id, **named))
    found += [
        Drift(DriftKind.CONSENT_DROPPED, purpose=purpose, **named)
        for purpose in sorted(before.consent)
        if field.use_for(purpose) is not None and not field.needs_consent_for(purpose)
    ]
    if field.supply is not None and field.supply.mandatory and before.supply != Mandatory.kind:
        found.append(Drift(DriftKind.NOW_MANDATORY, **named))
    return found


def _agreement_drift(notice: Notice, published: PublishedRegister) -> list[Drift]:
    found: list[Drift] = []
    for agreement in notice.agreements:
        named = {"agreement": agreement.id}
        before = published.agreements.get(agreement.id)
        if before is None:
            found.append(Drift(DriftKind.NEW_AGREEMENT, **named))
            continue
        found += [
            Drift(DriftKind.NEW_RECIPIENT, party=party.name, **named)
            for party in agreement.parties
            if party.name not in before.parties
        ]
        found += [
            Drift(DriftKind.NEW_SHARING_PURPOSE, purpose=purpose, **named)
            for purpose in agreement.purposes
            if not any(covers(p, purpose) for p in before.purposes)
        ]
        for qualified in agreement.fields:
            if qualified in before.fields:
                continue
            current = notice.field(qualified)
            category = current.category if current is not None else None
            if category is not None and any(category.within(c) for c in before.categories):
                continue
            record_type, _, name = qualified.rpartition(".")
            found.append(
                Drift(
                    DriftKind.NEW_SHARED_INFORMATION, record_type=record_type, field=name, **named
                )
            )
        found += [
            Drift(DriftKind.NEW_SHARED_INFORMATION, category=category, **named)
            for category in agreement.categories
            if not any(covers(c, category) for c in before.categories)
        ]
    return found


def check_drift(
    published: Path | str | Mapping[str, Any] | PublishedRegister, notice: Notice
) -> list[Drift]:
    """What *notice* (built from the code now) says that the published register does not.

    Args:
        published: the published ``register.json``: a path, its parsed content, or a
            `PublishedRegister`.
        notice: the notice built from the code as it is now.

    Returns:
        Every `Drift`, fields first (in the notice's order), then agreements; empty when
        the published notice still tells everything the code does.

    Raises:
        NoticeError: the published register cannot be read or is malformed (see
            `read_register`).
    """
    register = published if isinstance(published, PublishedRegister) else read_register(published)
    return [*_field_drift(notice, register), *_agreement_drift(notice, register)]
