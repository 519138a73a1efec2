"""Correction requests (IPP 7): what a person asked to change, what the agency decided, and
the statement of correction that travels with a field the agency would not change.

- **the values** (`values`): `Correction`, one request and its decision, its
  `CorrectionStatus`, and the `CorrectionDecision` read from it (s 63; on a statement of
  correction, s 64);
- **the rules** (`store`): `BaseCorrectionStore`: requests, `apply` (through the
  application's own update callback), `decline`, `attach_statement`, and the `statements`
  that must be read with a record's fields;
- **the stores** (`memory`, `sqlite`, `postgres`): `MemoryCorrectionStore`, for tests;
  `SQLiteCorrectionStore`, the embedded default: one file, durable, safe with several
  processes; `PostgresCorrectionStore` (``purposeful[postgres]``, imported from
  `purposeful.corrections.postgres`), for several services sharing one store.

Subject-access bundles read a store (``SubjectAccess(corrections=store)``), and
`purposeful.disclose` sends the statements with the fields they are about
(``purposeful.configure(corrections=store)``); both take any `purposeful.typing.
CorrectionSource`.

The Privacy Act's clock for a correction request (ss 62, 63 and 65) is the access
request's, parameterised by kind: ``purposeful.access.ResponseClock.for_correction``.

What this package must not do: put a subject id, a requested value, a reason or a statement
in an error message or a repr; or hold the application's data (the update callback changes
it).
"""

from .memory import MemoryCorrectionStore
from .sqlite import SQLiteCorrectionStore
from .store import BaseCorrectionStore
from .values import Correction, CorrectionDecision, CorrectionStatus

__all__ = [
    "BaseCorrectionStore",
    "Correction",
    "CorrectionDecision",
    "CorrectionStatus",
    "MemoryCorrectionStore",
    "SQLiteCorrectionStore",
]
