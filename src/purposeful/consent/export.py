"""Export a consent history as ISO/IEC TS 27560 consent records.

One JSON-ready record per event, shaped after ISO/IEC TS 27560:2023 (consent record
information structure) as the W3C Data Privacy Vocabulary (DPV) guide implements it: DPV
property names where the vocabulary has one (``hasDataSubject``, ``hasPurpose``,
``hasConsentStatus``, ``isIndicatedBy``, ``isIndicatedAtTime``, ``hasIndicationMethod``,
``hasNotice``), and plain names for what DPV does not name.

Someone acting for the person is typed with DPV's own term where one fits, and their
relationship, evidence reference and verification are given with it:

- a parent: ``dpv:ParentOfDataSubject``;
- a guardian or a welfare guardian: ``dpv:GuardianOfDataSubject``;
- an attorney (for personal care and welfare, or for property), someone with the person's
  written authority, or another court appointment: ``representative-of-data-subject``, a
  plain name, since DPV has no term for them.

DPV's ``Representative`` is a controller's representative, a different thing, so it is
never used. Events recorded before representatives carried their authority
(`LegacyRepresentative`) keep their recorded ``authority`` and ``detail`` instead, and no
verification.

The records hold the subject identifier: they are for the person's own subject-access
bundle, not for logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..decisions import ConsentState
from ..purposes import PurposeRegistry
from .events import Agency, ConsentEvent, LegacyRepresentative, Relationship, Representative

__all__ = ["DPV_REPRESENTATIVES", "SCHEMA", "UNTYPED_REPRESENTATIVE", "export_records"]

SCHEMA = "ISO/IEC TS 27560:2023; DPV consent record"

_DPV_STATUS = {
    ConsentState.GIVEN: "dpv:ConsentGiven",
    ConsentState.REFUSED: "dpv:ConsentRefused",
    ConsentState.WITHDRAWN: "dpv:ConsentWithdrawn",
    ConsentState.REVOKED: "dpv:ConsentRevoked",
    ConsentState.EXPIRED: "dpv:ConsentExpired",
    ConsentState.RENEWED: "dpv:RenewedConsentGiven",
}

#: The DPV entity type of a representative, for the relationships DPV names.
DPV_REPRESENTATIVES = {
    Relationship.PARENT: "dpv:ParentOfDataSubject",
    Relationship.GUARDIAN: "dpv:GuardianOfDataSubject",
    Relationship.WELFARE_GUARDIAN: "dpv:GuardianOfDataSubject",
}

#: The type of a representative DPV has no term for (an attorney, a written authority,
#: another court appointment).
UNTYPED_REPRESENTATIVE = "representative-of-data-subject"


def export_records(
    events: Sequence[ConsentEvent], registry: PurposeRegistry
) -> list[dict[str, Any]]:
    """The events as consent records, in the order recorded."""
    return [_record(event, registry) for event in events]


def _record(event: ConsentEvent, registry: PurposeRegistry) -> dict[str, Any]:
    purpose = registry.get(event.purpose) if event.purpose in registry else None
    by = event.by
    indicated_by: dict[str, Any]
    if isinstance(by, Representative):
        indicated_by = {
            "type": DPV_REPRESENTATIVES.get(by.relationship, UNTYPED_REPRESENTATIVE),
            "relationship": by.relationship.value,
            "evidence": by.evidence,
            "verified_by": by.verified_by,
            "verified_at": by.verified_at.isoformat(),
        }
        if by.incapacity is not None:
            indicated_by["incapacity"] = {
                "at": by.incapacity.at.isoformat(),
                "evidence": by.incapacity.evidence,
            }
    elif isinstance(by, LegacyRepresentative):
        indicated_by = {
            "type": DPV_REPRESENTATIVES.get(by.relationship, UNTYPED_REPRESENTATIVE),
            "relationship": by.relationship.value,
            "authority": by.authority,
        }
        if by.detail:
            indicated_by["detail"] = by.detail
    elif isinstance(by, Agency):
        indicated_by = {"type": "dpv:DataController", "actor": by.actor, "reason": by.reason}
    else:
        indicated_by = {"type": "dpv:DataSubject"}
    record: dict[str, Any] = {
        "schema_version": SCHEMA,
        "record_id": event.event_id,
        "hasDataSubject": event.subject,
        "hasPurpose": {
            "id": event.purpose,
            "title": purpose.title if purpose else None,
            "description": purpose.description if purpose else None,
        },
        "hasConsentStatus": _DPV_STATUS[event.state],
        "state": event.state.value,
        "isIndicatedBy": indicated_by,
        "isIndicatedAtTime": event.at.isoformat(),
        "hasIndicationMethod": event.method.value,
        "hasNotice": {"version": event.notice_version},
        "expiry_time": event.expires_at.isoformat() if event.expires_at else None,
        "evidence": event.evidence,
    }
    return record
