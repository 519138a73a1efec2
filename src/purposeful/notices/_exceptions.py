"""Recording and reading back the IPP 3A exception an agency relied on for a collection.

The exceptions themselves, and the one text the sharing store keeps for each, are values of
`purposeful.sharing.ipp3a` (`IPP3AException`, `ExceptionReliedOn`), which cite the law. This
module records one (`record_exception`, which checks it against the collection's date) and
reads it back (`exception_relied_on`). Deciding that an exception applies stays with the
agency.

What this module must not do: put the text a caller stored, or gave, in an error message
(it may hold personal information); guess which exception free text meant.
"""

from __future__ import annotations

from datetime import datetime

from .._shared.nztime import nz_date
from ..errors import UnknownIPP3AException
from ..sharing.exchange import IPP_3A_IN_FORCE
from ..sharing.ipp3a import ExceptionReliedOn, IPP3AException
from ..sharing.store import BaseSharingStore
from ..sharing.values import Collection, CollectionStatus

__all__ = ["ExceptionReliedOn", "IPP3AException", "exception_relied_on", "record_exception"]


def exception_relied_on(collection: Collection) -> ExceptionReliedOn | None:
    """The IPP 3A exception *collection* was resolved under; None if it was not (the
    person is still to be told, or was told).

    Raises:
        UnknownIPP3AException: the exception was recorded as free text (see
            `ExceptionReliedOn.parse`).
    """
    if collection.status is not CollectionStatus.EXCEPTION or collection.how is None:
        return None
    return ExceptionReliedOn.parse(collection.how)


def record_exception(
    log: BaseSharingStore,
    collection_id: str,
    exception: IPP3AException | str,
    *,
    reference: str | None = None,
    at: datetime | None = None,
) -> Collection:
    """Record that the person will not be told of collection *collection_id*, under
    *exception*: it comes off the list of people still to be told.

    Args:
        log: the sharing store that holds the collection.
        exception: the exception relied on: an `IPP3AException`, or its value.
        reference: an identifier of the agency's record of its reasons (a file note's id).
        at: when the exception was decided on (aware); default now.

    Returns:
        The collection, resolved; `exception_relied_on` reads the exception back.

    Raises:
        UnknownIPP3AException: free text or another value for *exception*, a reference that
            is not an identifier, or `BEFORE_IN_FORCE` for a collection on or after
            1 May 2026.
        SharingStoreError: no collection still to be told has that id.
        ConfigurationError: a bad *at*.
    """
    relied = ExceptionReliedOn(exception, reference=reference)
    if relied.exception is IPP3AException.BEFORE_IN_FORCE:
        pending = {c.id: c for c in log.still_to_be_told()}.get(collection_id)
        if pending is not None and nz_date(pending.collected_at) >= IPP_3A_IN_FORCE:
            raise UnknownIPP3AException(
                f"collection {collection_id} was made on or after 1 May 2026, when IPP 3A "
                f"came into force; choose the exception that applies"
            )
    return log.mark_exception(collection_id, exception=relied.text, at=at)
