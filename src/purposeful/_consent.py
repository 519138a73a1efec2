"""Asking a consent checker about one person, safely: the one place a scope calls one.

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

__all__ = ["ask_consent"]

_log = logging.getLogger("purposeful")


def ask_consent(
    checker: ConsentChecker, subject: str, purpose: Purpose, at: datetime
) -> tuple[tuple[Reason, ...], ConsentStatus | None]:
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
