"""Consent: per subject and purpose, given, refused, withdrawn, revoked, expired or renewed.

DPV's Mana Whakahaere principle asks that people can act on choices about their
information; some of them are children or adults with dementia, so a representative can act
for them. The history is append-only; the current state is derived from it by the rules in
`purposeful.consent.rules`. Stores:

- `MemoryConsentStore`, for tests;
- `SQLiteConsentStore`, the embedded default: one file, durable, safe with several
  processes;
- `PostgresConsentStore` (``purposeful[postgres]``), for several services sharing one store.

Wire one into enforcement with ``purposeful.configure(consent=store)``.
"""

from ..decisions import ConsentState, ConsentStatus
from .events import (
    Agency,
    ConsentEvent,
    ConsentMethod,
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
    "Agency",
    "BaseConsentStore",
    "ConsentEvent",
    "ConsentMethod",
    "ConsentState",
    "ConsentStatus",
    "ConsentStore",
    "ExpiringConsent",
    "MemoryConsentStore",
    "Person",
    "Relationship",
    "Representative",
    "SQLiteConsentStore",
    "export_records",
    "status_at",
]
