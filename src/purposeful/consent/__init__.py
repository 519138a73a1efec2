"""Consent: per subject and purpose, given, refused, withdrawn, revoked, expired or renewed.

DPUP's Mana Whakahaere principle asks that people can act on choices about their
information; some of them are children or adults with dementia, and someone may act for
them. Whether someone may is decided case by case, never by age: a `Representative` records
the kind of authority, its evidence, who verified it and when (and, for an attorney for
personal care and welfare, the recorded `Incapacity` without which they cannot act).

The history is append-only; the current state is derived from it by the rules in
`purposeful.consent.rules`. Stores:

- `MemoryConsentStore`, for tests;
- `SQLiteConsentStore`, the embedded default: one file, durable, safe with several
  processes;
- `PostgresConsentStore` (``purposeful[postgres]``), for several services sharing one store.

Wire one into enforcement with ``purposeful.configure(consent=store)``.
"""

from ..decisions import ConsentState, ConsentStatus
from .events import (
    NEVER,
    Agency,
    ConsentEvent,
    ConsentMethod,
    Incapacity,
    LegacyRepresentative,
    Person,
    Relationship,
    Representative,
)
from .export import export_records
from .memory import MemoryConsentStore
from .rules import status_at
from .sqlite import SQLiteConsentStore
from .store import BaseConsentStore, ConsentStore, ExpiringConsent

__all__ = [
    "NEVER",
    "Agency",
    "BaseConsentStore",
    "ConsentEvent",
    "ConsentMethod",
    "ConsentState",
    "ConsentStatus",
    "ConsentStore",
    "ExpiringConsent",
    "Incapacity",
    "LegacyRepresentative",
    "MemoryConsentStore",
    "Person",
    "Relationship",
    "Representative",
    "SQLiteConsentStore",
    "export_records",
    "status_at",
]
