"""What the sharing store tests share: people, times, and a disclosure or collection to log.

Not a test module: test_sharing_stores.py and test_sharing_sqlite.py import it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from purposeful.sharing import BaseSharingStore, Collection, Disclosure
from purposeful.sharing.values import new_id

SUBJECT = "client-7Q4X-private"
OTHER = "client-8R5Y-private"
KEY = "N-1-private-key"
T0 = datetime(2026, 5, 4, 9, 30, 15, 123456, tzinfo=UTC)
DAY = timedelta(days=1)
NZ = timezone(timedelta(hours=12), "NZST")
HOUSING = "Kāinga Ora"
POLICE = "NZ Police"


def disclosure(**changes: Any) -> Disclosure:
    """A disclosure of note N-1's address and phone to Kāinga Ora, changed as asked."""
    values: dict[str, Any] = {
        "id": new_id(),
        "subject": SUBJECT,
        "at": T0,
        "recipient": HOUSING,
        "agreement": "housing-referrals",
        "agreement_name": "Housing referrals",
        "purpose": "service-delivery.referral",
        "basis": "approved information sharing agreement: Housing support referrals AISA",
        "record_type": "Note",
        "record_key": KEY,
        "fields": ("address", "phone"),
    }
    values.update(changes)
    return Disclosure(**values)


def collect(store: BaseSharingStore, subject: str = SUBJECT, **changes: Any) -> Collection:
    values: dict[str, Any] = {
        "record_type": "Referral",
        "record_key": KEY,
        "source": POLICE,
        "purpose": "service-delivery.referral",
        "law": "Family Violence Act 2018 s 20",
        "at": T0,
    }
    values.update(changes)
    return store.record_collection(subject, **values)


def messages(error: BaseException) -> str:
    """The text of an exception and of everything chained to it."""
    texts = []
    seen: BaseException | None = error
    while seen is not None:
        texts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    return "\n".join(texts)
