"""The hold register: what stops records being disposed of (IPP 9).

A hold is a legal hold a person enters (who, why, until when) or a pending access or
correction request. `purposeful.retention` shows held records as held, and disposes of
none of them.

- `Hold`, `HoldKind`: the values (`values`);
- `BaseHoldStore`: the rules, shared by every backend (`store`);
- `MemoryHoldStore` (`memory`) and `SQLiteHoldStore` (`sqlite`): the backends; and
  `purposeful.holds.postgres.PostgresHoldStore`, for several services sharing one register
  (needs ``pip install 'purposeful[postgres]'``; import it from its module).

What this package must not do: show a subject id or a hold's reason in a repr or an error
message; delete a hold (a released one stays, as the record of why disposal waited).
"""

from .memory import MemoryHoldStore
from .sqlite import SQLiteHoldStore
from .store import BaseHoldStore
from .values import Hold, HoldKind

__all__ = ["BaseHoldStore", "Hold", "HoldKind", "MemoryHoldStore", "SQLiteHoldStore"]
