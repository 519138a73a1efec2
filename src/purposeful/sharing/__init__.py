"""Sharing with partner agencies (DPUP Mahitahi): agreements, disclosures, referrals in.

- **agreements** (`agreements`): `SharingAgreement` (parties, purposes, the fields or
  categories covered, the lawful basis, start, expiry and review dates), in code or TOML
  (`load_agreements`), checked against the registries when made;
- **disclosing** (`exchange`): ``purposeful.disclose(record, to=party, under=agreement)``
  hands over only what the agreement covers and the purpose allows, with the statements of
  correction, refuses what the agreement does not allow with an explanation, logs every
  disclosure before it is made and marks it on the current span; `receive` records a
  referral in, with the statements of correction that came with it, and IPP 3A's list of
  people still to be told;
- **the log** (`values`, `store`, `memory`, `sqlite`, `postgres`): the durable disclosure
  log, in memory, SQLite (the default) or PostgreSQL (``purposeful[postgres]``): who
  received what, the parties to tell of a correction (IPP 7), and the people to tell of a
  collection (IPP 3A). Subject access bundles read it (``disclosures.json``), as
  `DisclosureEntry` values;
- **tell us once** (`schema`, `referrals`): what an agreement lets a party send, as a JSON
  Schema a partner validates against (`referral_schema`, ``SharingAgreement.json_schema()``);
  ``prefill(record, referral, source=..., under=agreement)`` fills our record from a
  partner's referral, checked against the agreement, and keeps where each field came from
  (`Provenance`, read back with the store's ``provenance(subject)``), with the statements
  of correction that came with it (the payload's `STATEMENTS` member);
- **asking first** (`asking`): ``purposeful.may_share(...)`` answers whether a field may be
  disclosed under an agreement, from the rules `disclose` applies, before anything is.

What this package must not do: hand over a field the agreement does not cover, disclose
without logging, or put a personal value or subject identifier in a message, a span or a
repr.
"""

from .agreements import Party, SharingAgreement, load_agreements
from .asking import may_share
from .exchange import DISCLOSURE_SKEW, IPP_3A_IN_FORCE, Disclosed, disclose, receive
from .ipp3a import ExceptionReliedOn, IPP3AException
from .memory import MemorySharingStore
from .referrals import prefill
from .schema import STATEMENTS, referral_schema
from .sqlite import SQLiteSharingStore
from .store import BaseSharingStore
from .values import (
    Collection,
    CollectionStatus,
    CorrectionNotice,
    Disclosure,
    DisclosureEntry,
    Provenance,
)

__all__ = [
    "DISCLOSURE_SKEW",
    "IPP_3A_IN_FORCE",
    "STATEMENTS",
    "BaseSharingStore",
    "Collection",
    "CollectionStatus",
    "CorrectionNotice",
    "Disclosed",
    "Disclosure",
    "DisclosureEntry",
    "ExceptionReliedOn",
    "IPP3AException",
    "MemorySharingStore",
    "Party",
    "Provenance",
    "SQLiteSharingStore",
    "SharingAgreement",
    "disclose",
    "load_agreements",
    "may_share",
    "prefill",
    "receive",
    "referral_schema",
]
