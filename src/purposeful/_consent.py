"""Asking a consent checker about people, safely: the one place a scope calls one.

`ConsentAnswers` is a scope's: it asks about each person once, as of the scope's opening,
and forgets every answer (they are keyed by raw subject ids) when the scope closes.

A checker that fails refuses the read (reason ``consent-check-failed``) and is logged
without the subject; one that answers anything but a `ConsentStatus` or ``True`` fails
closed. A checker that is declared wrongly (returns the wrong type) is a configuration
error, raised.
"""

from __future__ import annotations

import logging
from datetime import datetime

from .decisions import ConsentStatus, Reason
from .errors import ConfigurationError
from .purposes import Purpose
from .typing import ConsentChecker

Answer = tuple[tuple[Reason, ...], ConsentStatus | None]

__all__ = ["ConsentAnswers", "ask_consent"]

_log = logging.getLogger("purposeful")


def ask_consent(checker: ConsentChecker, subject: str, purpose: Purpose, at: datetime) -> Answer:
    """The checker's answer for *subject* under *purpose* as of *at*: the reasons to refuse
    (none when consent is in force) and the status, when the checker gives one."""
    try:
        status_of = getattr(checker, "consent_status", None)
        if status_of is not None:
            status = status_of(subject, purpose, at)
            if not isinstance(status, ConsentStatus):
                raise ConfigurationError(
                    f"{type(checker).__name__}.consent_status must return a "
                    f"purposeful.ConsentStatus, not {type(status).__name__}"
                )
            return ((() if status.in_force else (Reason.CONSENT_NOT_HELD,)), status)
        # a yes/no checker: anything but True (a truthy string, None) fails closed
        in_force = checker.consent_in_force(subject, purpose, at)
        return ((() if in_force is True else (Reason.CONSENT_NOT_HELD,)), None)
    except ConfigurationError:
        raise
    except Exception as exc:
        _log.error(
            "purposeful: the consent checker %s failed (%s) under %r; the read is refused",
            type(checker).__name__,
            type(exc).__name__,
            purpose.id,
        )
        return ((Reason.CONSENT_CHECK_FAILED,), None)


class ConsentAnswers:
    """One scope's consent answers: the checker is asked about each person once, as of
    *at* (the scope's opening)."""

    __slots__ = ("_answers", "_at", "_checker", "_purpose")

    def __init__(self, checker: ConsentChecker | None, purpose: Purpose, at: datetime) -> None:
        self._checker = checker
        self._purpose = purpose
        self._at = at
        self._answers: dict[str, Answer] = {}

    def of(self, subject: str) -> Answer:
        """The reasons to refuse a read that needs *subject*'s consent (none when it is in
        force), and the status when the checker gives one."""
        found = self._answers.get(subject)
        if found is not None:
            return found
        if self._checker is None:
            found = ((Reason.NO_CONSENT_CHECKER,), None)
        elif not subject:  # a record without a subject id has no one to have consented
            found = ((Reason.CONSENT_NOT_HELD,), None)
        else:
            found = ask_consent(self._checker, subject, self._purpose, self._at)
        self._answers[subject] = found
        return found

    def __len__(self) -> int:
        """How many people's answers are held."""
        return len(self._answers)

    def clear(self) -> None:
        """Forget every answer (and so every subject id): the scope closed."""
        self._answers.clear()
