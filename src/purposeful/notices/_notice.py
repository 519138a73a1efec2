"""`Notice` and `build_notice`: the declarations a notice is made of, gathered once.

A `Notice` holds declarations only (record types, their managed fields, purposes, bases,
categories, agreements) and the agency's details and wording. It never holds a record or a
value read from one, so nothing it renders can hold personal information.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from .. import _config
from .._hierarchy import covers, lineage
from .._shared.agency import AgencyDetails
from .._shared.files import replace_together
from ..bases import BasisKind, LawfulBasis
from ..categories import CategoryRegistry, DataCategory
from ..errors import ConfigurationError, NoticeError
from ..purposes import Purpose, PurposeRegistry, Retention
from ..records import FieldPolicy, record_policy
from ..sensitivity import Level
from ..sharing.agreements import SharingAgreement
from ..supply import Supply
from ..withholding import WithholdingGround
from ._fides import crosswalk
from ._register import register as _register
from ._register import register_body
from ._text import notice_html, notice_markdown
from ._wording import NoticeWording

__all__ = ["Notice", "NoticeField", "NoticeRecord", "PurposeUse", "build_notice"]

#: The files `Notice.write` writes, by kind.
FILE_NAMES = {
    "markdown": "notice.md",
    "html": "notice.html",
    "register": "register.json",
    "fides": "fides-dataset.yml",
}


@attrs.frozen
class PurposeUse:
    """One declared use of a field.

    Attributes:
        purpose: the purpose, as the field declares it.
        basis: the lawful basis of the use.
        needs_consent: True if a use for exactly this purpose needs the person's consent.
    """

    purpose: Purpose
    basis: LawfulBasis
    needs_consent: bool


@attrs.frozen
class NoticeField:
    """A managed field, as a notice tells it.

    Attributes:
        record_type: the class name of the record type that declares it.
        name: the field's name.
        uses: its purposes with their bases, in declaration order.
        sensitivity: its level.
        category: its data category, if declared.
        consent: the ids of the purposes whose use needs consent (each covers its
            descendants): those the field names in ``consent=`` and those whose basis is
            consent. Sorted.
        withhold: the ground it is withheld on when the person asks for their information.
        supply: whether supplying it is voluntary or mandatory, and the consequence of not
            supplying it (IPP 3(1)); None when the field does not declare it.
    """

    record_type: str
    name: str
    uses: tuple[PurposeUse, ...]
    sensitivity: Level
    category: DataCategory | None
    consent: tuple[str, ...]
    withhold: WithholdingGround | None
    supply: Supply | None = None

    @property
    def qualified_name(self) -> str:
        """``"RecordType.field"``, as sharing agreements name fields."""
        return f"{self.record_type}.{self.name}"

    def needs_consent_for(self, purpose: str) -> bool:
        """True if a use for *purpose* (a declared purpose or a descendant) needs consent."""
        return any(covers(granted, purpose) for granted in self.consent)

    def use_for(self, purpose: str) -> PurposeUse | None:
        """The declared use that covers *purpose*, if any: the use declared for *purpose*
        itself, else for its nearest ancestor. It is the rule a read is decided by (a
        purpose covers its descendants), so a field has a use for a purpose exactly when
        code may read it for that purpose."""
        by_id = {use.purpose.id: use for use in self.uses}
        return next((by_id[i] for i in lineage(purpose) if i in by_id), None)


@attrs.frozen
class NoticeRecord:
    """A record type, as a notice tells it.

    Attributes:
        name: the class name (``__qualname__``): how agreements and audit name it.
        module: the module that declares it.
        subject: the field that identifies the person.
        fields: its managed fields, in declaration order.
    """

    name: str
    module: str
    subject: str
    fields: tuple[NoticeField, ...]


def _field(record_type: str, policy: FieldPolicy) -> NoticeField:
    uses = []
    consent = set(policy.consent_for)
    for purpose, basis in policy.purposes.values():
        by_basis = basis.kind is BasisKind.CONSENT
        if by_basis:
            consent.add(purpose.id)
        declared = any(covers(granted, purpose.id) for granted in policy.consent_for)
        uses.append(PurposeUse(purpose, basis, by_basis or declared))
    return NoticeField(
        record_type,
        policy.name,
        tuple(uses),
        policy.sensitivity,
        policy.category,
        tuple(sorted(consent)),
        policy.withhold,
        policy.supply,
    )


def _record(cls: type) -> NoticeRecord:
    policy = record_policy(cls)
    name = policy.name
    fields = tuple(_field(name, field) for field in policy.fields.values())
    return NoticeRecord(name, cls.__module__, policy.subject, fields)


@attrs.frozen(eq=False)
class Notice:
    """The plain-language notice, its register and its fides crosswalk, from declarations.

    Build it with `build_notice`. Every output is made from the same declarations:

    - `to_markdown` and `to_html`: the notice for the people the information is about;
    - `register`: the machine-readable register (JSON), which `check_drift` compares with;
    - `fideslang`: the crosswalk to the fides dataset format;
    - `write`: all four, to files.

    Attributes:
        agency: who the notice is from, and how to reach their privacy officer.
        records: the record types, in the order given.
        agreements: the sharing agreements, in the order given.
        registry: the purposes (for the titles of purposes agreements name, and retention).
        categories: the data categories (for the titles of categories agreements cover).
        wording: every sentence the notice says.
        version: the notice's version: the one given, or a digest of everything it says.
        roles: the roles its "who may see what" section tells about, with their clearances;
            empty: no such section.
    """

    agency: AgencyDetails
    records: tuple[NoticeRecord, ...]
    agreements: tuple[SharingAgreement, ...]
    registry: PurposeRegistry
    categories: CategoryRegistry
    wording: NoticeWording
    version: str
    roles: tuple[tuple[str, Level], ...] = ()

    def fields(self) -> Iterator[NoticeField]:
        """Every managed field of every record type."""
        for record in self.records:
            yield from record.fields

    def field(self, qualified_name: str) -> NoticeField | None:
        """The field named ``"RecordType.field"``, if the notice has it."""
        return next((f for f in self.fields() if f.qualified_name == qualified_name), None)

    def purposes(self) -> tuple[Purpose, ...]:
        """Every purpose a field is declared for, and every purpose an agreement shares for
        that some field may be used for; in the registry's order, then the rest."""
        used: dict[str, Purpose] = {}
        for field in self.fields():
            for use in field.uses:
                used.setdefault(use.purpose.id, use.purpose)
        for agreement in self.agreements:
            for ident in agreement.purposes:
                found = self.purpose(ident)
                if found is not None and ident not in used and self.fields_for(ident):
                    used[ident] = found
        ordered = [used.pop(p.id) for p in self.registry if p.id in used]
        return (*ordered, *used.values())

    def fields_for(self, purpose: str) -> tuple[tuple[NoticeField, PurposeUse], ...]:
        """Every field that may be used for *purpose* (a purpose id), with the use that
        covers it: those declared for the purpose or for an ancestor of it, as reads are
        decided. In the notice's order."""
        found = []
        for field in self.fields():
            use = field.use_for(purpose)
            if use is not None:
                found.append((field, use))
        return tuple(found)

    def purpose(self, ident: str) -> Purpose | None:
        """The purpose with id *ident*: from the fields' declarations, else the registry."""
        for field in self.fields():
            for use in field.uses:
                if use.purpose.id == ident:
                    return use.purpose
        return self.registry.as_mapping().get(ident)

    def purpose_title(self, ident: str) -> str:
        """The title of purpose *ident*, or the id when nothing declares it."""
        found = self.purpose(ident)
        return found.title if found is not None else ident

    def category_title(self, ident: str) -> str:
        """The title of data category *ident*, or the id when the registry lacks it."""
        found = self.categories.as_mapping().get(ident)
        return found.title if found is not None else ident

    def retention(self, purpose: Purpose) -> Retention | None:
        """How long information used for *purpose* is kept: its own retention, else the
        nearest ancestor's in the registry."""
        if purpose.retention is not None:
            return purpose.retention
        known = self.registry.as_mapping()
        for ident in lineage(purpose.id)[1:]:
            ancestor = known.get(ident)
            if ancestor is not None and ancestor.retention is not None:
                return ancestor.retention
        return None

    def recipients(self, agreement: SharingAgreement) -> tuple[str, ...]:
        """The names of the parties to *agreement* other than the agency itself."""
        names = tuple(party.name for party in agreement.parties)
        return tuple(name for name in names if name != self.agency.name)

    def to_markdown(self) -> str:
        """The notice as Markdown (UTF-8 text). Every piece of text is escaped, so nothing
        in it becomes a link, emphasis or HTML."""
        return notice_markdown(self)

    def to_html(self) -> str:
        """The notice as one self-contained, accessible HTML document: a ``lang`` on the
        page, headings in order, tables with captions and header cells, no scripts, nothing
        fetched. Every piece of text is escaped."""
        return notice_html(self)

    def register(self) -> dict[str, Any]:
        """The machine-readable register: every field with its purposes, bases, consent,
        sensitivity, category and withholding ground, and every agreement. JSON-ready."""
        return _register(self)

    def fideslang(
        self,
        *,
        fides_key: str | None = None,
        categories: Mapping[str, Iterable[str]] | None = None,
    ) -> dict[str, Any]:
        """The record types as a fides dataset manifest: ``{"dataset": [...]}``.

        Args:
            fides_key: the dataset's key; default: from the agency's name.
            categories: fideslang data categories for data category ids, added to (and
                replacing entries of) `FIDESLANG_CATEGORIES`.

        Raises:
            ConfigurationError: a key that is not a valid fides key.
        """
        return crosswalk(self, fides_key=fides_key, extra_categories=categories)

    def write(self, directory: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``notice.md``, ``notice.html``, ``register.json`` and ``fides-dataset.yml``.

        The directory is created if needed. The four are one version: all are rendered,
        and written whole to disk, before any replaces an older one of its name, so an
        error (a full disk) leaves the older set as it was.
        They are public documents, so they are readable by all (mode 0644).

        ``fides-dataset.yml`` holds JSON, which is YAML: the fides command line reads
        manifests from ``.yml`` files.

        Returns:
            The path of each file, by kind: ``markdown``, ``html``, ``register``, ``fides``.

        Raises:
            NoticeError: the directory or a file cannot be written.
        """
        texts = {
            "markdown": self.to_markdown(),
            "html": self.to_html(),
            "register": _json(self.register()),
            "fides": _json(self.fideslang()),
        }
        folder = Path(directory)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            paths = replace_together(
                folder, {FILE_NAMES[kind]: _utf8(text) for kind, text in texts.items()}, mode=0o644
            )
        except OSError as exc:
            raise NoticeError(
                f"cannot write the notice to {folder} ({exc.strerror or exc}); check that the "
                f"directory can be written. The files there were left as they were"
            ) from None
        return dict(zip(texts, paths, strict=True))


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _utf8(text: str) -> bytes:
    """*text* as UTF-8, as the subject-access bundle writes it: a lone surrogate (text
    decoded badly somewhere upstream) has no UTF-8 form, so it is written as its ``\\udXXX``
    escape, which in a JSON string reads back as the same value, and elsewhere shows what
    was there. (The Markdown and the page show it so already.)"""
    return text.encode("utf-8", "backslashreplace")


def _unique_records(records: Iterable[type]) -> tuple[NoticeRecord, ...]:
    if isinstance(records, type) or not isinstance(records, Iterable):
        raise ConfigurationError(
            "records= takes an iterable of record classes, e.g. records=[Client, CaseNote]"
        )
    found: dict[str, tuple[type, NoticeRecord]] = {}
    for cls in records:
        entry = _record(cls)
        seen = found.get(entry.name)
        if seen is not None and seen[0] is not cls:
            raise ConfigurationError(
                f"two record types are called {entry.name!r} (in {seen[1].module} and "
                f"{entry.module}); notices and agreements name record types by class name, so "
                f"pass records= with one of them"
            )
        found[entry.name] = (cls, entry)
    return tuple(entry for _, entry in found.values())


def _unique_agreements(agreements: Iterable[SharingAgreement]) -> tuple[SharingAgreement, ...]:
    if isinstance(agreements, SharingAgreement) or not isinstance(agreements, Iterable):
        raise ConfigurationError(
            "agreements= takes an iterable of SharingAgreement values, e.g. "
            "agreements=load_agreements('agreements.toml')"
        )
    found: dict[str, SharingAgreement] = {}
    for agreement in agreements:
        if not isinstance(agreement, SharingAgreement):
            raise ConfigurationError(
                f"agreements= holds SharingAgreement values, not {type(agreement).__name__}"
            )
        seen = found.get(agreement.id)
        if seen is not None and seen != agreement:
            raise ConfigurationError(
                f"two different agreements have the id {agreement.id!r}; give each its own id"
            )
        found[agreement.id] = agreement
    return tuple(found.values())


def build_notice(
    *,
    agency: AgencyDetails,
    records: Iterable[type] | None = None,
    agreements: Iterable[SharingAgreement] = (),
    registry: PurposeRegistry | None = None,
    categories: CategoryRegistry | None = None,
    version: str | None = None,
    wording: NoticeWording | None = None,
    roles: Mapping[str, Level] | None = None,
) -> Notice:
    """Gather the declarations a notice is made of.

    Args:
        agency: who the notice is from (`purposeful.access.AgencyDetails`).
        records: the record classes to tell about; default: every record declared so far.
        agreements: the sharing agreements to tell about.
        registry, categories: the purposes and data categories; default: the configured
            ones.
        version: the notice's version, e.g. ``"2026-07"``; default: a digest of everything
            the notice says (``sha256:`` and 16 hex digits), which changes exactly when the
            notice does. Record it as a consent's ``notice_version``.
        wording: every sentence the notice says; default: `NoticeWording()`.
        roles: the roles inside the agency, each with its clearance
            (``{"caseworker": SENSITIVE}``), for a "who may see what" section: per field,
            purpose and role, what `purposeful.may_use` answers. Default: no such section.

    Raises:
        AnnotationError: a class in *records* is not a purposeful record.
        ConfigurationError: two record types with the same class name, two different
            agreements with the same id, or arguments of the wrong kind.
    """
    chosen_roles = _roles(roles)
    if not isinstance(agency, AgencyDetails):
        raise ConfigurationError(
            "agency= takes purposeful.access.AgencyDetails(name=..., email=...)"
        )
    config = _config.get_configuration()
    if registry is not None and not isinstance(registry, PurposeRegistry):
        raise ConfigurationError("registry= must be a purposeful.PurposeRegistry")
    if categories is not None and not isinstance(categories, CategoryRegistry):
        raise ConfigurationError("categories= must be a purposeful.CategoryRegistry")
    if wording is not None and not isinstance(wording, NoticeWording):
        raise ConfigurationError("wording= must be a purposeful.notices.NoticeWording")
    if version is not None and (not isinstance(version, str) or not version.strip()):
        raise ConfigurationError("version= must be non-empty text, e.g. '2026-07'")
    notice = Notice(
        agency=agency,
        records=_unique_records(_config.declared_records() if records is None else records),
        agreements=_unique_agreements(agreements),
        registry=config.registry if registry is None else registry,
        categories=config.categories if categories is None else categories,
        wording=NoticeWording() if wording is None else wording,
        version=version or "",
        roles=chosen_roles,
    )
    if version is None:
        notice = attrs.evolve(notice, version=_digest(notice))
    return notice


def _roles(roles: Mapping[str, Level] | None) -> tuple[tuple[str, Level], ...]:
    if roles is None:
        return ()
    if not isinstance(roles, Mapping) or not all(
        isinstance(role, str) and role.strip() and isinstance(level, Level)
        for role, level in roles.items()
    ):
        raise ConfigurationError(
            "roles= takes each role with its clearance, e.g. {'caseworker': purposeful.SENSITIVE}"
        )
    return tuple(roles.items())


def _digest(notice: Notice) -> str:
    """A digest of what the notice says: its register's content and its wording."""
    wording = {
        a.name: dict(value) if isinstance(value, Mapping) else value
        for a in attrs.fields(NoticeWording)
        for value in (getattr(notice.wording, a.name),)
    }
    content: dict[str, Any] = {"register": register_body(notice), "wording": wording}
    if notice.roles:  # a notice without the section keeps the digest it had
        content["roles"] = [[role, level.name] for role, level in notice.roles]
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(_utf8(text)).hexdigest()[:16]
