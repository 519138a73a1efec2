"""Every error purposeful raises, in one tree.

Catch `PurposefulError` for anything from the library, or a precise leaf::

    PurposefulError
    ├── ConfigurationError (ValueError)        a declaration or setting is wrong
    │   ├── InvalidIdentifier                  a purpose or category id is malformed
    │   ├── DuplicateIdentifier                the same id is declared twice
    │   ├── UnknownParent                      a dotted id whose parent is not declared
    │   ├── UnknownPurpose                     a purpose the registry does not have
    │   ├── UnknownCategory                    a data category the registry does not have
    │   ├── RegistryFileError                  a TOML file is malformed (names file and line)
    │   ├── IncomparableLevels (TypeError)     sensitivity levels from two different scales
    │   ├── KeyFileError                       a key file or variable is missing, bad or unsafe
    │   │   └── PassphraseError                a signing key's passphrase is wrong or missing
    │   ├── AnnotationError                    an annotated record class is declared wrongly
    │   ├── AgreementError                     a sharing agreement is declared wrongly
    │   ├── DisclosureTimeError                disclose(at=...) is not the time it is made
    │   ├── UnknownIPP3AException              not one of IPP 3A's exceptions (free text)
    │   └── TimeZoneDataMissing                New Zealand's time zone cannot be loaded
    ├── PurposeViolation (PermissionError)     a read was refused; carries the `Decision`
    │   └── NoPurposeScope                     a managed field was read outside any scope
    ├── SubjectChangeRefused (AttributeError)  a record's subject id may not be changed
    ├── ManagedValueError (ValueError)         a managed field's value failed its validator
    │                     (TypeError)
    ├── DisclosureRefused (PermissionError)    a disclosure the agreement does not allow
    ├── ReferralInvalid (ValueError)           a referral received does not fit its agreement
    ├── PurposeClaimRefused (PermissionError)  a purpose that came with a request was refused
    │   ├── UntrustedClaim                     unsigned, malformed, expired, forged, unknown key
    │   └── ClaimPurposeRefused                its purpose or role is not one accepted here
    ├── NoActor (PermissionError)              a request on a purpose route has no actor
    ├── AuditSinkError                         an audit sink failed to take a scope report
    ├── LedgerError                            the audit ledger cannot do what was asked
    │   ├── LedgerClosed                       the ledger was closed
    │   ├── LedgerCorrupt                      the file is not a ledger, or its tail is damaged
    │   ├── LedgerKeyMismatch (ValueError)     the signing key is not the one the ledger uses
    │   ├── LedgerLocked                       another writer has the ledger open
    │   ├── LedgerUnverified                   a ledger an answer needs does not verify
    │   └── LedgerIndexError                   a ledger's verified index cannot be written
    ├── ReportInputError                       a report's input is bad (names file and line)
    ├── ConsentError                           something about recorded consent
    │   ├── InvalidConsentEvent (ValueError)   an event that cannot be recorded as given
    │   └── ConsentStoreError (StoreError)     a consent store cannot do what was asked
    ├── CorrectionError                        something about a correction request (IPP 7)
    │   ├── UnknownCorrection (LookupError)    no correction request has that id
    │   ├── InvalidCorrection (ValueError)     a request or decision that cannot be recorded
    │   └── CorrectionStoreError (StoreError)  a correction store cannot do what was asked
    ├── SharingStoreError (StoreError)         a disclosure log cannot do what was asked
    ├── RetentionError                         retention or disposal cannot do as asked
    │   ├── DisposalFailed                     a data source could not dispose of a record
    │   ├── UnknownHold (LookupError)          no hold has that id
    │   └── HoldStoreError (StoreError)        a hold store cannot do what was asked
    ├── NoticeError                            a published notice cannot be read or compared
    ├── StoreError                             a store cannot do what was asked; nothing written
    │   ├── StoreClosed                        the store was closed
    │   ├── StoreCorrupt                       the store's file or tables are not a store
    │   ├── StoreVersionError                  the store was written by a newer purposeful
    │   └── StoreUnavailable                   the store could not be reached or locked
    ├── UnsupportedDate (ValueError)           a date the working-day calendar does not cover
    ├── BreachAssessmentError                  a breach assessment cannot be made as asked
    │   ├── BreachWindowError (ValueError)     the window is naive, empty or reversed
    │   └── UnknownCompromised (LookupError)   a role or record type the trail never recorded
    ├── SubjectAccessError                     a subject-access bundle cannot be built as asked
    │   ├── ReleaseChecksMissing               a bundle for release lacks an s 57 check
    │   └── ReviewPending                      items marked for safety review are not reviewed
    ├── MissingExtra (ImportError)             a feature's optional package is not installed
    └── BundleError                            a bundle cannot be read, decrypted or trusted
        ├── BundleInvalid                      verification failed; names the member and why
        └── BundleDecryptionError              wrong passphrase or key, or a damaged envelope

Every message names the thing, says what was wrong and how to fix it. No message ever holds
a field's value or a subject's identifier: only names of purposes, fields, record types,
roles and sensitivity levels, which are declarations, not personal information. No message
ever holds key material either: a key error names the file or environment variable, never
its content.

This module imports nothing from the rest of the package at run time, so every other module
can import it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from .decisions import Decision

__all__ = [
    "AgreementError",
    "AnnotationError",
    "AuditSinkError",
    "BreachAssessmentError",
    "BreachWindowError",
    "BundleDecryptionError",
    "BundleError",
    "BundleInvalid",
    "ClaimPurposeRefused",
    "ConfigurationError",
    "ConsentError",
    "ConsentStoreError",
    "CorrectionError",
    "CorrectionStoreError",
    "DictStorageWarning",
    "DisclosureRefused",
    "DisclosureTimeError",
    "DisposalFailed",
    "DuplicateIdentifier",
    "HoldStoreError",
    "IncomparableLevels",
    "InvalidConsentEvent",
    "InvalidCorrection",
    "InvalidIdentifier",
    "KeyFileError",
    "LedgerClosed",
    "LedgerCorrupt",
    "LedgerError",
    "LedgerIndexError",
    "LedgerKeyMismatch",
    "LedgerLocked",
    "LedgerUnverified",
    "ManagedValueError",
    "MissingExtra",
    "NoActor",
    "NoPurposeScope",
    "NoticeError",
    "PassphraseError",
    "PurposeClaimRefused",
    "PurposeViolation",
    "PurposefulError",
    "ReferralInvalid",
    "RegistryFileError",
    "ReleaseChecksMissing",
    "ReportInputError",
    "RetentionError",
    "ReviewPending",
    "ScopeOrderWarning",
    "SharingStoreError",
    "StoreClosed",
    "StoreCorrupt",
    "StoreError",
    "StoreUnavailable",
    "StoreVersionError",
    "SubjectAccessError",
    "SubjectChangeRefused",
    "TimeZoneDataMissing",
    "UnknownCategory",
    "UnknownCompromised",
    "UnknownCorrection",
    "UnknownHold",
    "UnknownIPP3AException",
    "UnknownParent",
    "UnknownPurpose",
    "UnsupportedDate",
    "UntrustedClaim",
]


class PurposefulError(Exception):
    """Base class of every error raised by purposeful.

    Every error pickles with the arguments it was made with (and any attribute set since),
    so it crosses a process pool or a pytest-xdist worker unchanged, whatever its
    constructor takes.
    """

    _made_with: tuple[tuple[Any, ...], dict[str, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def __init__(self: PurposefulError, *args: Any, **kwargs: Any) -> None:
            if not hasattr(self, "_made_with"):  # the outermost constructor's arguments
                self._made_with = (args, kwargs)
            init(self, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[assignment]

    def __reduce__(self) -> str | tuple[Any, ...]:
        made_with = getattr(self, "_made_with", None)
        if made_with is None:  # a constructor that takes the message only
            return super().__reduce__()
        args, kwargs = made_with
        return functools.partial(type(self), **kwargs), args, self.__dict__


def detached(error: BaseException) -> BaseException:
    """*error* with the traceback it has so far dropped, and its cause's: re-raised at a
    public entry point, it shows none of the library frames below, whose locals may hold
    values or raw subject ids (error trackers record locals)."""
    if error.__cause__ is not None:
        error.__cause__.with_traceback(None)
    if error.__context__ is not None:
        error.__context__.with_traceback(None)
    return error.with_traceback(None)


class ConfigurationError(PurposefulError, ValueError):
    """A declaration or a setting is wrong; raised at definition or load time."""


class InvalidIdentifier(ConfigurationError):
    """A purpose or category id does not have the dotted lower-case form."""


class DuplicateIdentifier(ConfigurationError):
    """The same purpose or category id is declared twice in one registry."""


class UnknownParent(ConfigurationError):
    """A dotted id names a parent that the registry does not declare."""


class UnknownPurpose(ConfigurationError, LookupError):
    """A purpose id is not in the registry."""


class UnknownCategory(ConfigurationError, LookupError):
    """A data category id is not in the registry."""


class RegistryFileError(ConfigurationError):
    """A registry file cannot be read or holds a malformed entry.

    Attributes:
        path: the file.
        line: the 1-based line of the offending entry, where it can be found, else None.
    """

    def __init__(self, message: str, *, path: Path | str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class IncomparableLevels(ConfigurationError, TypeError):
    """Two sensitivity levels from different scales were compared."""


class AnnotationError(ConfigurationError):
    """A record class annotated with `purposeful.record` is declared wrongly."""


class KeyFileError(ConfigurationError):
    """A key cannot be loaded or written as asked; nothing was written.

    Raised for a key file or key environment variable that is missing, unreadable, open to
    other users, not a key of the expected kind, or malformed, and for new keys that would
    replace existing ones. The message names the file or variable and what to do; it never
    holds key material.

    Attributes:
        source: the file (a `Path`) or environment variable (``"$NAME"``) concerned, or
            None when no key was given at all.
    """

    def __init__(self, message: str, *, source: Path | str | None) -> None:
        super().__init__(message)
        self.source = source


class PassphraseError(KeyFileError):
    """A private key is encrypted and no passphrase was given, or the passphrase is wrong.

    Also raised when a passphrase is given for a key that is not encrypted, so that a key
    believed to be protected but stored in the clear is noticed.
    """


class PurposeViolation(PurposefulError, PermissionError):
    """A managed field was read in a way its declaration does not allow.

    Attributes:
        decision: the `Decision` that refused the read, with machine-readable reasons and
            `Decision.explain()` for people. It never holds the field's value.
    """

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.message())
        self.decision = decision


class NoPurposeScope(PurposeViolation):
    """A managed field was read outside any `purposeful.use(...)` scope."""


class SubjectChangeRefused(PurposefulError, AttributeError):
    """A record's subject identifier was assigned or deleted after it was set.

    Consent, the audit trail and subject-access bundles follow the subject field, so a
    record's values cannot be moved to another person by rewriting it: build a new record.
    """


class ManagedValueError(PurposefulError, ValueError, TypeError):
    """A value given for a managed field was refused by the field's validator or converter.

    Raised instead of the validator's own error when that error quotes the value; the
    message names the record type, never the value. It is both a `ValueError` and a
    `TypeError`, the two errors validators raise, so existing handlers still catch it.

    Also raised when a slotted record's sealed storage is pickled on its own, outside its
    record (code that reads slots from memory met it): serialise the record instead.
    """


class DictStorageWarning(UserWarning):
    """A record keeps its values in an instance ``__dict__``: ``vars(record)`` and
    ``record.__dict__`` reach them undecided (see "What is a read" in the docs)."""


class ScopeOrderWarning(UserWarning):
    """Scopes were closed in another order than they were opened (for example a generator
    that opened one was abandoned); each was closed and reported, the inner ones as failed."""


class AuditSinkError(PurposefulError):
    """One or more audit sinks raised while taking a scope report.

    Every other sink still received the report; the first failure is the ``__cause__``.

    Attributes:
        result: what the call had made and logged before the audit of its own scope
            failed, to hand over rather than make again (a `purposeful.access.PersonCopy`
            from ``copy_for_person``, a `purposeful.sharing.Disclosed` from ``disclose``);
            the message says so. None for every other failure: nothing was logged, or the
            failure came at the exit of a scope of yours, after the call had returned what
            it made.
    """

    result: object = None


class LedgerError(PurposefulError):
    """The tamper-evident audit ledger cannot do what was asked.

    Raised by `purposeful.audit.ledger.Ledger`. Verifying a ledger returns a `VerifyResult`
    that says what is wrong; it raises only when the index it was asked to write cannot be
    (`LedgerIndexError`), and an access history raises `LedgerUnverified` for a ledger that
    does not verify.
    """


class LedgerClosed(LedgerError):
    """The ledger was closed; open a new `Ledger` on the same file to continue its chain."""


class LedgerCorrupt(LedgerError):
    """The file is not a ledger, or its last line or checkpoints are damaged.

    Nothing was written. Run ``purposeful audit verify`` on the ledger to find the first
    line that breaks and why.
    """


class LedgerKeyMismatch(LedgerError, ValueError):
    """The signing key given is not the key the ledger was created with."""


class LedgerLocked(LedgerError):
    """Another process, or another `Ledger` in this one, has the ledger open for appending."""


class LedgerUnverified(LedgerError):
    """A ledger that an answer (a person's access history) was asked of does not verify.

    Nothing was answered from it. The message says what `VerifyResult.describe` says: the
    file, the first line that breaks and why; ``purposeful audit verify`` says the same.
    """


class LedgerIndexError(LedgerError):
    """The verified index of a ledger could not be written (`verify_ledger` with
    ``index=``). The ledger's own verdict is not lost: the message starts with it.
    """


class ReportInputError(PurposefulError):
    """An input of ``purposeful audit report`` is missing, unreadable or malformed.

    Nothing is skipped: the report stops at the first thing it cannot read. The message
    names the file, the line where it can be found and, inside a line, the JSON path; it
    never quotes the input.

    Attributes:
        path: the file.
        line: the 1-based line, where it can be found, else None.
    """

    def __init__(self, message: str, *, path: Path | str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class StoreError(PurposefulError):
    """A store (consent, corrections) cannot do what was asked; nothing was written."""


class StoreClosed(StoreError):
    """The store was closed; open a new one."""


class StoreCorrupt(StoreError):
    """The store's file or tables are not a purposeful store of that kind, or are damaged."""


class StoreVersionError(StoreError):
    """The store was written by a newer version of purposeful; upgrade to read it."""


class StoreUnavailable(StoreError):
    """The store could not be reached, or stayed locked by another writer too long."""


class ConsentError(PurposefulError):
    """Base class of errors about recorded consent."""


class InvalidConsentEvent(ConsentError, ValueError):
    """A consent event is wrong in itself or does not fit the history; nothing was written."""


class ConsentStoreError(ConsentError, StoreError):
    """A consent store cannot do what was asked; nothing was written."""


class CorrectionError(PurposefulError):
    """Base class of errors about correction requests (IPP 7)."""


class UnknownCorrection(CorrectionError, LookupError):
    """No correction request has the id given."""


class InvalidCorrection(CorrectionError, ValueError):
    """A correction request or decision cannot be recorded as given (a field the record does
    not manage, a request already decided, a statement for a request not declined…);
    nothing was written."""


class CorrectionStoreError(CorrectionError, StoreError):
    """A correction store cannot do what was asked; nothing was written."""


class RetentionError(PurposefulError):
    """Base class of errors about retention and disposal (IPP 9)."""


class DisposalFailed(RetentionError):
    """A data source's disposal hook failed for a record: the ledger holds the disposal as
    begun and not done, and the record is due again at the next run."""


class UnknownHold(RetentionError, LookupError):
    """No hold has the id given."""


class HoldStoreError(RetentionError, StoreError):
    """A hold store cannot do what was asked; nothing was written."""


class AgreementError(ConfigurationError):
    """A sharing agreement is declared wrongly: an unknown purpose, field or category, a
    party named twice, dates out of order, a basis that cannot carry a disclosure. Raised
    when the agreement is made or loaded, naming the file and line for TOML."""


class DisclosureTimeError(ConfigurationError):
    """`disclose(at=...)` given a time further from this machine's clock than clocks drift
    (`purposeful.sharing.exchange.DISCLOSURE_SKEW`). `disclose` hands the record over when it
    is called, so the agreement is checked, and the disclosure logged, at that time; a time
    in the past or the future would check an agreement that is not in force now and log a
    time that is not when it happened. Nothing was disclosed or logged."""


class DisclosureRefused(PurposefulError, PermissionError):
    """A disclosure the agreement does not allow: expired or not yet in force, a party not in
    it, a purpose it lacks, or nothing it covers. Nothing was disclosed or logged.

    Attributes:
        reasons: the reason codes, e.g. ``("agreement-expired",)``.
    """

    def __init__(self, message: str, *, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons


class ReferralInvalid(PurposefulError, ValueError):
    """A referral received from a partner does not fit the agreement it came under: a
    party the agreement does not name, an agreement not in force or a purpose it does not
    allow, a field it does not cover or that is not one of ours, or a value of the wrong
    type. Nothing was filled or recorded. The message names fields and types, never a value.

    Attributes:
        reasons: the reason codes, e.g. ``("unknown-field", "wrong-type")``.
        fields: the names of the fields at fault (names that are not identifiers are left
            out: they may not be names at all).
    """

    def __init__(
        self, message: str, *, reasons: tuple[str, ...] = (), fields: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.reasons = reasons
        self.fields = fields


class PurposeClaimRefused(PurposefulError, PermissionError):
    """A purpose that came with a request from another service (a signed purpose claim in
    the W3C ``baggage`` header, `purposeful.propagation`) was refused. Nothing was opened
    under it. The message never quotes the header.

    Attributes:
        reason: a reason code, e.g. ``"expired"`` or ``"purpose-not-covering"``.
        status: the HTTP status a web service answers with: 401 when the claim cannot be
            trusted, 403 when it is trusted but does not allow what was asked.
        asked_purpose: the id of the purpose the claim asked for, when it is one this
            service declares and the refusal is about it, else None.
        required_purpose: the id of the purpose the route declares, when the refusal is
            about it, else None.
    """

    status = 403

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        asked_purpose: str | None = None,
        required_purpose: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.asked_purpose = asked_purpose
        self.required_purpose = required_purpose


class UntrustedClaim(PurposeClaimRefused):
    """A purpose claim that cannot be trusted: unsigned, malformed, expired or not yet
    valid, signed by a key the trust store does not hold, tampered with, or meant for
    another service."""

    status = 401


class ClaimPurposeRefused(PurposeClaimRefused):
    """A trusted purpose claim whose purpose this service does not accept here: unknown in
    its registry, not one it trusts the caller to assert, or not covering the purpose the
    route declares; or whose actor role it does not trust the caller to assert."""


class NoActor(PurposefulError, PermissionError):
    """A request reached a route that declares a purpose, but the application's
    authentication gave no actor (and no trusted purpose claim came with it). Web services
    answer it with 401."""


class SharingStoreError(StoreError):
    """A disclosure log cannot do what was asked; nothing was written."""


class NoticeError(PurposefulError):
    """A published notice or register cannot be read, or is not one purposeful wrote."""


class UnsupportedDate(PurposefulError, ValueError):
    """A date the working-day calendar does not cover (its Matariki table ends), or that is
    not a date at all. The calendar never guesses."""


class BreachAssessmentError(PurposefulError):
    """A breach assessment (Privacy Act 2020, Part 6) cannot be made as asked: nothing named
    as compromised, an output that exists, an input that cannot be read. Nothing is left
    half-written, and no message holds a subject identifier."""


class BreachWindowError(BreachAssessmentError, ValueError):
    """The window of a breach assessment is not a window: a naive time (say the offset, or
    give New Zealand time), or an end that is not after its start."""


class UnknownCompromised(BreachAssessmentError, LookupError):
    """A role or record type named as compromised is one the audit trail never recorded;
    the message suggests the close names it did record."""


class SubjectAccessError(PurposefulError):
    """A subject-access bundle cannot be built as asked: an unknown or failing source, a
    source that yields a record about someone else, an output that exists; nothing is left
    half-written."""


class MissingExtra(PurposefulError, ImportError):
    """A feature needs an optional package that is not installed, such as pyrage for
    encrypted bundles. The message names the extra that installs it.

    Attributes:
        extra: the extra to install, as in ``pip install 'purposeful[age]'``.
    """

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.extra = extra


class BundleError(PurposefulError):
    """A subject-access bundle cannot be read, decrypted or trusted."""


class BundleInvalid(BundleError):
    """Verifying a bundle failed. The message names the member and what is wrong with it.

    Attributes:
        member: the member that failed (``"manifest.json"``, ``"records.json"``, …), or None
            when the failure is about the file as a whole (not a zip, truncated).
        problem: what was wrong, without the member's name.
    """

    def __init__(self, problem: str, *, member: str | None = None) -> None:
        super().__init__(f"{member}: {problem}" if member is not None else problem)
        self.member = member
        self.problem = problem


class BundleDecryptionError(BundleError):
    """An encrypted bundle cannot be decrypted: the wrong passphrase or key, no secret given,
    or an envelope that was damaged or cut short. Nothing is written."""


class UnknownIPP3AException(ConfigurationError):
    """An IPP 3A exception given or recorded as something other than one of
    `purposeful.notices.IPP3AException`'s values (free text, say), or with a reference that
    is not an identifier. The message lists the values; it never quotes the text, which may
    hold personal information."""


class TimeZoneDataMissing(ConfigurationError):
    """New Zealand's time zone (``Pacific/Auckland``) cannot be loaded: neither the
    ``tzdata`` package nor the system has usable time zone data for it. Install ``tzdata``;
    dates are never quietly taken in another zone."""


class ReleaseChecksMissing(SubjectAccessError):
    """A bundle for release was asked for, but the request does not record who asked or a
    check the Privacy Act 2020 s 57 requires before access is given. The message names each
    missing check; build a draft (``draft=True``) until they are recorded.

    Attributes:
        missing: the missing checks, by name (``"requester"``, ``"identity"``,
            ``"no_threat"``, ``"delivery"``).
    """

    def __init__(self, message: str, *, missing: tuple[str, ...]) -> None:
        super().__init__(message)
        self.missing = missing


class ReviewPending(SubjectAccessError):
    """The person's records hold information marked for safety review, and no reviewer's
    decision about it is recorded with the request (or the information changed since).
    The message and *marked* name the record types and fields, never a value.

    Attributes:
        marked: the record types and fields (``"Type"`` or ``"Type.field"``) waiting.
    """

    def __init__(self, message: str, *, marked: tuple[str, ...]) -> None:
        super().__init__(message)
        self.marked = marked
