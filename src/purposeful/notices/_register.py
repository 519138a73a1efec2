"""The machine-readable register: what the notice says, as JSON a program can check.

The register is the published record that `check_drift` compares the code with, so its
shape is a format with a name and a version (`REGISTER_FORMAT`, `REGISTER_FORMAT_VERSION`).
Add keys freely; renaming or removing one is a new format version.

It holds declarations only: names of record types, fields, purposes, categories, parties
and grounds. Never a value read from a record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..bases import LawfulBasis
from ..purposes import Purpose

if TYPE_CHECKING:
    from ..sharing.agreements import SharingAgreement
    from ._notice import Notice, NoticeField, NoticeRecord

__all__ = ["REGISTER_FORMAT", "REGISTER_FORMAT_VERSION", "register", "register_body"]

#: The ``format`` of a register: what `check_drift` expects to find.
REGISTER_FORMAT = "purposeful.notice-register"
#: The register's format version; a register of a later version is refused, not guessed at.
REGISTER_FORMAT_VERSION = 1


def _basis(basis: LawfulBasis) -> dict[str, str]:
    return {"kind": basis.kind.value, "description": basis.describe()}


def _purpose(notice: Notice, purpose: Purpose) -> dict[str, Any]:
    retention = notice.retention(purpose)
    return {
        "id": purpose.id,
        "title": purpose.title,
        "description": purpose.description,
        "benefit": purpose.benefit,
        "bases": [_basis(b) for b in purpose.bases],
        "retention": retention.describe() if retention is not None else None,
        # every field code may read for the purpose (declared for it or an ancestor): what
        # the notice lists under it
        "fields": [f.qualified_name for f, _ in notice.fields_for(purpose.id)],
    }


def _field(notice: Notice, field: NoticeField) -> dict[str, Any]:
    return {
        "name": field.name,
        "label": notice.wording.field_label(field.record_type, field.name),
        "category": field.category.id if field.category is not None else None,
        "sensitivity": field.sensitivity.name,
        "purposes": [
            {
                "id": use.purpose.id,
                "title": use.purpose.title,
                "basis": _basis(use.basis),
                "needs_consent": use.needs_consent,
            }
            for use in field.uses
        ],
        "consent": list(field.consent),
        "withhold": field.withhold.id if field.withhold is not None else None,
        "supply": (
            {"kind": field.supply.kind, "consequence": field.supply.consequence}
            if field.supply is not None
            else None
        ),
    }


def _record(notice: Notice, record: NoticeRecord) -> dict[str, Any]:
    return {
        "type": record.name,
        "label": notice.wording.label(record.name),
        "module": record.module,
        "subject_field": record.subject,
        "fields": [_field(notice, f) for f in record.fields],
    }


def _agreement(notice: Notice, agreement: SharingAgreement) -> dict[str, Any]:
    return {
        "id": agreement.id,
        "name": agreement.name,
        "description": agreement.description,
        "parties": [
            {"name": p.name, "address": p.address, "contact": p.contact} for p in agreement.parties
        ],
        "purposes": [{"id": p, "title": notice.purpose_title(p)} for p in agreement.purposes],
        "fields": list(agreement.fields),
        "categories": list(agreement.categories),
        "basis": _basis(agreement.basis),
        "starts": agreement.starts.isoformat(),
        "expires": agreement.expires.isoformat(),
        "review": agreement.review.isoformat(),
    }


def register_body(notice: Notice) -> dict[str, Any]:
    """Everything the register says except its format and version (what the digest covers)."""
    agency = notice.agency
    purposes = {p.id: p for p in notice.purposes()}
    for agreement in notice.agreements:
        for ident in agreement.purposes:
            found = notice.purpose(ident)
            if found is not None:
                purposes.setdefault(ident, found)
    used_categories = {f.category.id: f.category for f in notice.fields() if f.category}
    for agreement in notice.agreements:
        for ident in agreement.categories:
            category = notice.categories.as_mapping().get(ident)
            if category is not None:
                used_categories.setdefault(ident, category)
    return {
        "agency": {
            "name": agency.name,
            "email": agency.email,
            "phone": agency.phone,
            "postal_address": agency.postal_address,
            "website": agency.website,
            "privacy_officer": agency.privacy_officer,
        },
        "purposes": [_purpose(notice, p) for p in purposes.values()],
        "categories": [
            {"id": c.id, "title": c.title, "description": c.description}
            for c in used_categories.values()
        ],
        "records": [_record(notice, r) for r in notice.records],
        "agreements": [_agreement(notice, a) for a in notice.agreements],
    }


def register(notice: Notice) -> dict[str, Any]:
    """The register of *notice*, JSON-ready (only dicts, lists, strings, bools and None)."""
    return {
        "format": REGISTER_FORMAT,
        "format_version": REGISTER_FORMAT_VERSION,
        "notice_version": notice.version,
        "generated_by": f"purposeful {__version__}",
        **register_body(notice),
    }
