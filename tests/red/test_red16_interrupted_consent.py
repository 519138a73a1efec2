"""Red team 16: an interrupt raised while the consent checker is asked (Ctrl-C, a signal
handler's exception, a worker timeout's ``SystemExit``) leaves the raw subject ids of the
people being asked about among the locals of the library's frames in its traceback.

The library clears its frames for an interrupt where it groups and reports reads
(`Scope._gather`, `Scope._take`: "an interrupt: no frame it came through keeps an id"), but
not on the consent path: ``_decide``, ``ConsentAnswers.of``, ``_ask``, ``_ask_checker`` and
``ask_consent`` each hold the subject id (``_ask`` the whole batch of expected people). An
error tracker that records locals (one that reports a worker's ``SystemExit``) sends them on,
although the caller's own frames hold only records, whose repr masks the subject.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

import purposeful
from _frames import library_frames_holding
from _records import CASE_MANAGEMENT, CASEWORKER, Case

SECRET = "SUBJ-RED16-INTERRUPT"


class Interrupted(BaseException):
    """What a signal handler raises in the middle of a slow consent query."""


class InterruptedChecker:
    def consent_in_force(self, subject: str, purpose: object, at: datetime) -> bool:
        raise Interrupted


def _read(record: Case, scope: purposeful.Scope) -> None:
    _ = record.case_notes


def _prefetch(record: Case, scope: purposeful.Scope) -> None:
    scope.prefetch_consent([record])


@pytest.mark.parametrize("how", [_read, _prefetch], ids=["read", "prefetch_consent"])
def test_an_interrupt_in_the_consent_checker_leaves_no_subject_id_in_library_frames(
    how: Callable[[Case, purposeful.Scope], None],
) -> None:
    """What: the consent checker raises a `BaseException` while asked about a record's
    person, on a read of ``case_notes`` (which needs consent) or a prefetch of the records'
    consent. The interrupt must propagate; no library frame of its traceback may hold the
    subject id."""
    purposeful.configure(consent=InterruptedChecker())
    record = Case(SECRET, "dx", "addr", "notes")
    with (
        pytest.raises(Interrupted) as raised,
        purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER) as scope,
    ):
        how(record, scope)
    assert library_frames_holding(raised.value.__traceback__, SECRET) == []


def test_an_interrupt_in_the_consent_checker_during_aprefetch_leaves_no_subject_id() -> None:
    """`Scope.aprefetch_consent` asks in a worker thread: the interrupt comes back through
    the awaited future, with the worker's frames (``prefetch``, ``_ask``...) in its
    traceback."""
    import asyncio

    purposeful.configure(consent=InterruptedChecker())
    record = Case(SECRET, "dx", "addr", "notes")

    async def main() -> BaseException:
        try:
            with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
                await scope.aprefetch_consent([record])
        except Interrupted as error:
            return error
        raise AssertionError("the interrupt was lost")

    error = asyncio.run(main())
    assert library_frames_holding(error.__traceback__, SECRET) == []
