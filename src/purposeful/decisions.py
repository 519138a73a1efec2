"""Decisions: the outcome of a use of a managed field, and the report of a whole scope.

A `Decision` says whether a read was allowed, refused, or (in monitor mode) let through
although it would have been refused. It carries machine-readable `Reason` codes and a
plain-language `Decision.explain()` a caseworker understands. A `ScopeReport` aggregates the
decisions of one purpose scope for the audit sinks.

Neither ever holds a field's value or a subject identifier: only names of fields, record
types, purposes, roles and levels. That is what makes them safe to log, export and show.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import attrs

from ._shared.nztime import long_date, nz_date
from .actors import Actor
from .bases import LawfulBasis, Statute
from .categories import DataCategory
from .errors import ConfigurationError
from .purposes import Purpose
from .sensitivity import Level

__all__ = [
    "CallSite",
    "ConsentState",
    "ConsentStatus",
    "Decision",
    "Mode",
    "Outcome",
    "Reason",
    "ScopeReport",
    "Upstream",
]


class Mode(enum.Enum):
    """What happens when a read is not allowed."""

    ENFORCE = "enforce"
    """Refuse the read with `PurposeViolation` (the default)."""
    MONITOR = "monitor"
    """Hand the value back and record a would-deny decision, for incremental adoption."""


class Outcome(enum.Enum):
    """What a decision did."""

    ALLOWED = "allowed"
    DENIED = "denied"
    WOULD_DENY = "would-deny"
    """Not allowed, but let through because the mode was monitor."""
    WITHHELD = "withheld"
    """Left out of a projection; not a violation, since nothing tried to read it."""


class Reason(enum.Enum):
    """Why a read was not allowed; the value is the stable machine-readable code."""

    PURPOSE_NOT_DECLARED = "purpose-not-declared"
    CLEARANCE_TOO_LOW = "clearance-too-low"
    CONSENT_NOT_HELD = "consent-not-held"
    NO_CONSENT_CHECKER = "no-consent-checker"
    CONSENT_CHECK_FAILED = "consent-check-failed"
    NO_SCOPE = "no-scope"
    SCOPE_CLOSED = "scope-closed"
    NOT_ENTITLED_TO_BASIS = "not-entitled-to-basis"
    """The use rests on a statute that only some agencies or roles may rely on, and neither
    the agency (``configure(agency_kinds=...)``) nor the actor's role is one of them."""
    JUSTIFICATION_MISSING = "justification-missing"
    """The use rests on a basis that needs a belief on reasonable grounds (a statute that
    says so, or the serious-threat exception), and the scope records no justification."""
    REPRESENTATIVE_CONSENT_NEEDED = "representative-consent-needed"
    """The purpose counts only a verified representative's consent for this person (a care
    requirement, `purposeful.care`), and the consent in force is not one."""
    CARE_FLAGS_UNAVAILABLE = "care-flags-unavailable"
    """The purpose has a care requirement, and whether this person needs more care could
    not be found out: the configured care flag source failed."""


def basis_reasons(
    basis: LawfulBasis | None, actor: Actor, agency_kinds: Collection[str], justified: bool
) -> tuple[Reason, ...]:
    """The reasons *basis* refuses a use by *actor* at an agency of *agency_kinds*, in a
    scope that has (*justified*) or has not a recorded justification; empty when it does not.

    A `Statute` with conditions may be relied on only by the agencies and roles it names
    (Oranga Tamariki Act 1989 s 66C, Family Violence Act 2018 s 20); a basis that
    `needs_justification` needs the scope's ``justification=``.
    """
    if basis is None:
        return ()
    reasons: tuple[Reason, ...] = ()
    if isinstance(basis, Statute) and not basis.may_rely(actor.role, agency_kinds):
        reasons += (Reason.NOT_ENTITLED_TO_BASIS,)
    if basis.needs_justification and not justified:
        reasons += (Reason.JUSTIFICATION_MISSING,)
    return reasons


class ConsentState(enum.Enum):
    """The consent states of the W3C Data Privacy Vocabulary (DPV); values are stable codes."""

    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    """Withdrawn by the person (or their representative)."""
    REVOKED = "revoked"
    """Ended by someone else, such as the agency."""
    EXPIRED = "expired"
    RENEWED = "renewed"

    @property
    def in_force(self) -> bool:
        return self in (ConsentState.GIVEN, ConsentState.RENEWED)


@attrs.frozen
class ConsentStatus:
    """What a consent checker knows about one person's consent for one purpose at a time.

    It names no one: the subject is the caller's to know.

    Attributes:
        in_force: True when consent covering the purpose is in force.
        state: the state that decides, or None when no consent was ever recorded.
        purpose: the id of the purpose the deciding consent is about (the purpose asked,
            or an ancestor whose consent covers it).
        since: when that state began (given, withdrawn, expired, …).
        expires_at: when a consent in force will expire, if it will.
    """

    in_force: bool
    state: ConsentState | None = None
    purpose: str | None = None
    since: datetime | None = None
    expires_at: datetime | None = None

    def describe(self) -> str:
        """Plain words for an explanation: which consent is missing or when it ended."""
        if self.state is None:
            return "no consent has been recorded"
        when = f" on {long_date(nz_date(self.since))}" if self.since else ""
        about = f" (for {self.purpose})" if self.purpose else ""
        words = {
            ConsentState.REFUSED: "consent was refused",
            ConsentState.WITHDRAWN: "consent was withdrawn",
            ConsentState.REVOKED: "consent was revoked",
            ConsentState.EXPIRED: "consent expired",
            ConsentState.GIVEN: "consent was given",
            ConsentState.RENEWED: "consent was renewed",
        }
        return f"{words[self.state]}{about}{when}"


def _label(name: str) -> str:
    return name.replace("_", " ")


def _lower_first(title: str) -> str:
    """'Funder reporting' → 'funder reporting', but leave 'Oranga Tamariki …' alone."""
    if len(title) > 1 and title[0].isupper() and title[1].islower():
        _head, _, rest = title.partition(" ")
        if not rest or rest[:1].islower():
            return title[0].lower() + title[1:]
    return title


def _either(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


@attrs.frozen(repr=False)
class Decision:
    """The outcome of one use of one managed field.

    Attributes:
        outcome: allowed, denied, would-deny (monitor mode) or withheld (projection).
        record_type: the record class's qualified name.
        field: the field's name.
        purpose: the scope's purpose, or None for a read outside any scope.
        actor: who read, or None outside any scope.
        sensitivity: the field's sensitivity level.
        category: the field's data category, if declared.
        basis: the lawful basis the use rests on, when the purpose is declared for the field.
        reasons: why it was not allowed; empty when allowed.
        declared: the purposes the field is declared for, for the explanation.
        consent: what the consent checker said, for a field that needed consent.
    """

    outcome: Outcome
    record_type: str
    field: str
    purpose: Purpose | None
    actor: Actor | None
    sensitivity: Level
    category: DataCategory | None = None
    basis: LawfulBasis | None = None
    reasons: tuple[Reason, ...] = ()
    declared: tuple[Purpose, ...] = ()
    consent: ConsentStatus | None = None

    @property
    def allowed(self) -> bool:
        """True when the value was handed back because the use is allowed."""
        return self.outcome is Outcome.ALLOWED

    @property
    def violation(self) -> bool:
        """True for a refused read or a monitor-mode would-deny."""
        return self.outcome in (Outcome.DENIED, Outcome.WOULD_DENY)

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.value for r in self.reasons)

    def explain(self) -> str:
        """A plain-language sentence or two for a caseworker; never holds a value."""
        field = _label(self.field)
        if not self.reasons:
            purpose = _lower_first(self.purpose.title) if self.purpose else "this purpose"
            basis = f" on the basis of {self.basis.describe()}" if self.basis else ""
            return f"{field} may be used for {purpose}{basis}."
        return " ".join(self._explain_reason(r, field) for r in self.reasons)

    def _explain_reason(self, reason: Reason, field: str) -> str:
        purpose = _lower_first(self.purpose.title) if self.purpose else ""
        role = self.actor.role if self.actor else ""
        if reason is Reason.PURPOSE_NOT_DECLARED:
            allowed = _either([_lower_first(p.title) for p in self.declared])
            if not allowed:
                return f"{field} is not declared for any purpose, so not for {purpose}."
            return f"{field} may be used for {allowed}, not for {purpose}."
        if reason is Reason.CLEARANCE_TOO_LOW:
            clearance = self.actor.clearance.name if self.actor else "no"
            return (
                f"{field} is classified {self.sensitivity.name}, above the {clearance} "
                f"clearance of the {role} role."
            )
        if reason is Reason.CONSENT_NOT_HELD:
            detail = f": {self.consent.describe()}" if self.consent is not None else ""
            return (
                f"{field} may be used for {purpose} only with the person's consent, "
                f"and none is in force{detail}."
            )
        if reason is Reason.CONSENT_CHECK_FAILED:
            return (
                f"{field} needs the person's consent for {purpose}, and the consent store "
                f"could not be asked."
            )
        if reason is Reason.NO_CONSENT_CHECKER:
            return (
                f"{field} needs the person's consent for {purpose}, and no consent store "
                f"is configured to check it."
            )
        if reason is Reason.REPRESENTATIVE_CONSENT_NEEDED:
            detail = f" ({self.consent.describe()})" if self.consent is not None else ""
            return (
                f"{field} may be used for {purpose} only with consent, and this person needs "
                f"more care: only consent given by a representative whose authority was "
                f"verified counts, and the consent in force{detail} was not given by one."
            )
        if reason is Reason.CARE_FLAGS_UNAVAILABLE:
            return (
                f"{field} may be used for {purpose} only once it is known whether this "
                f"person needs more care, and that could not be found out."
            )
        if reason is Reason.SCOPE_CLOSED:
            return f"{field} was read after its purpose scope had closed."
        if reason is Reason.NOT_ENTITLED_TO_BASIS and isinstance(self.basis, Statute):
            return (
                f"{field} may be used for {purpose} on the basis of "
                f"{self.basis.describe()}, which only {self.basis.who_may_rely()} may rely "
                f"on; neither this agency nor the {role} role is one of them."
            )
        if reason is Reason.JUSTIFICATION_MISSING and self.basis is not None:
            return (
                f"{field} may be used for {purpose} on the basis of "
                f"{self.basis.describe()}; a use on that basis must record the justification "
                f"for the belief on reasonable grounds it rests on, and this one records none."
            )
        return f"{field} was read without saying why: outside any purpose scope."

    def __repr__(self) -> str:
        purpose = repr(self.purpose.id) if self.purpose else "no scope"
        role = f" by {self.actor.role}" if self.actor else ""
        why = f": {', '.join(self.reason_codes)}" if self.reasons else ""
        return (
            f"<Decision {self.outcome.value} {self.record_type}.{self.field} "
            f"for {purpose}{role}{why}>"
        )

    def remedy(self) -> str:
        """What a developer can do about a refusal, for exception messages."""
        hints = {
            Reason.PURPOSE_NOT_DECLARED: (
                "If this use is intended, declare the purpose on the field; otherwise read it "
                "under a declared purpose, or use purposeful.project() to get only what this "
                "purpose may see."
            ),
            Reason.CLEARANCE_TOO_LOW: (
                f"Read it as an actor cleared to at least {self.sensitivity.name}."
            ),
            Reason.CONSENT_NOT_HELD: (
                "Record the person's consent for this purpose first, or use a purpose that "
                "does not need consent."
            ),
            Reason.CONSENT_CHECK_FAILED: (
                "Check that the consent store is open and reachable; the failure is logged on "
                "the 'purposeful' logger."
            ),
            Reason.NO_CONSENT_CHECKER: (
                "Configure a consent store with purposeful.configure(consent=...)."
            ),
            Reason.REPRESENTATIVE_CONSENT_NEEDED: (
                "Record the consent from the person's representative: "
                "store.give(subject, purpose, by=Representative(...))."
            ),
            Reason.CARE_FLAGS_UNAVAILABLE: (
                "Check that the care flag source (purposeful.configure(care_flags=...)) is "
                "reachable; its failure is logged on the 'purposeful' logger."
            ),
            Reason.NO_SCOPE: (
                "Wrap the code that reads it in `with purposeful.use(purpose, actor=...)`, or "
                "carry the scope into threads with purposeful.carry_scope()."
            ),
            Reason.SCOPE_CLOSED: (
                "Finish the work before the `with purposeful.use(...)` block ends, or open a "
                "new scope for it."
            ),
            Reason.NOT_ENTITLED_TO_BASIS: (
                "If this agency is one the law names, say so with "
                "purposeful.configure(agency_kinds=[...]); otherwise read it as an actor in a "
                "role the law names, or rest the use on a basis this agency may rely on."
            ),
            Reason.JUSTIFICATION_MISSING: (
                "Record why the use is needed, and open the scope with a reference to that "
                'record: purposeful.use(purpose, actor=..., justification="REF-123").'
            ),
        }
        return " ".join(hints[r] for r in self.reasons)

    def message(self) -> str:
        """The full exception text: what, why, and how to fix it."""
        where = f"{self.record_type}.{self.field}"
        under = f" under {self.purpose.id!r}" if self.purpose else ""
        return f"{where}{under}: {self.explain()} {self.remedy()}".rstrip()


#: A service name, as trust stores name services; a scope id, as `Scope.id` makes them.
_SERVICE_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_SCOPE_ID = re.compile(r"[0-9a-f]{8,64}")


def _service_name(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or _SERVICE_NAME.fullmatch(value) is None:
        raise ConfigurationError(
            "Upstream.service must be a service name: 1 to 100 ASCII letters, digits, '-', "
            "'.' or '_'"
        )


def _scope_id(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or _SCOPE_ID.fullmatch(value) is None:
        raise ConfigurationError(
            "Upstream.scope_id must be a scope id as Scope.id gives it: 8 to 64 lower-case "
            "hex digits"
        )


@attrs.frozen
class Upstream:
    """The scope in another service that this one works for: the caller's service name and
    its scope id, as a verified purpose claim says (`purposeful.propagation`).

    A scope opened with ``use(..., upstream=...)`` carries it into its report, its span
    (``purposeful.scope.upstream.*``) and its ledger line, so that a privacy team can follow
    one request across services. Names and ids only, never a value.

    Attributes:
        service: the calling service, as the trust store names it (``"intake"``).
        scope_id: the caller's scope id.
    """

    service: str = attrs.field(validator=_service_name)
    scope_id: str = attrs.field(validator=_scope_id)


#: A justification reference: a short identifier, never free text (it reaches spans and logs).
_JUSTIFICATION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._:/#-]{0,62}[A-Za-z0-9])?")


def check_justification(value: object) -> str:
    """*value* if it is a justification reference as ``use(..., justification=)`` takes it:
    1 to 64 ASCII letters, digits and ``- _ . : / #``, starting and ending with a letter or
    digit (``"REF-123"``, ``"FV/2026/0042"``).

    Raises:
        ConfigurationError: anything else; the message never quotes the value, which may
            be the free text a reference must not be.
    """
    if isinstance(value, str) and _JUSTIFICATION.fullmatch(value) is not None:
        return value
    what = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
    raise ConfigurationError(
        f"use(..., justification=) takes a reference to where the justification is "
        f'recorded, such as "REF-123": 1 to 64 letters, digits, "-", "_", ".", ":", "/" or '
        f'"#", with no spaces, not the reasons themselves (got {what}). It reaches the '
        f"audit trail; write the reasons in the record it refers to"
    )


@attrs.frozen
class CallSite:
    """Where in the code reads outside any scope came from: no value, only a place.

    Attributes:
        file: the source file, as the code object names it.
        function: the function's qualified name.
        line: the line number.
    """

    file: str
    function: str
    line: int


@attrs.frozen
class ScopeReport:
    """What one purpose scope decided and read, handed to each `AuditSink`.

    A scope that closes within the flush bounds (``purposeful.configure(flush_reads=1000,
    flush_seconds=1.0)``) gives one report when it closes. A longer one gives several
    *parts*, each sent when its oldest read is *flush_seconds* old or it holds *flush_reads*
    new reads, so that a crash loses at most that much; the last part is sent when the
    scope closes. The parts share `scope_id`; each holds what is new since the part before
    (decisions, reads, people, counts), so the scope is the union of its parts.

    Reads outside any open scope are reported in aggregate (monitor mode's would-deny
    reads): one report per thread or task, call site and time window, whose `counts` say
    how many reads each decision stands for. A refused read outside any scope is reported
    alone. Either kind has `purpose` and `actor` None.

    Attributes:
        purpose: the scope's purpose.
        actor: who acted.
        opened_at: when the scope opened (the same on every part); timezone-aware UTC.
        closed_at: when the scope closed, or, for a part that is not the last, when the
            part was sent.
        decisions: the distinct decisions first made in this part, in order. A field read
            many times in one scope is decided once; a field that needs consent is decided
            once per subject.
        failed: True if the scope exited with an exception (on its last part).
        subject_counts: per record type, how many distinct people's records had data handed
            out in this part (allowed or would-deny reads, and projected fields).
        subject_count: how many distinct people that is, across record types.
        mode: the scope's mode when it opened (global, or its purpose's); a record type can
            still have its own (``record_modes``), which each decision's outcome shows.
            None for reads outside any scope.
        disclosures: what the scope disclosed to partner agencies (`purposeful.disclose`):
            for each, its id, agreement, recipient, record type and fields; never values.
        subjects: the keyed pseudonyms of those people, when a pseudonymiser is configured
            (``purposeful.configure(pseudonymise=key.pseudonym)``); never raw identifiers.
        scope_id: the scope's id, shared by its parts; unique across processes.
        part: the part's number: 0, 1, 2, ...
        final: True on the scope's last part, sent when it closed (or, for reads outside
            any scope, when their window ended).
        fields_read: the fields whose values were handed back in this part, for anyone, as
            ``RecordType.field``.
        reads: for each pseudonym in `subjects`, the fields read from that person's records
            in this part. Empty without a pseudonymiser: the report cannot say whose
            records were read, only how many people's.
        counts: aligned with `decisions`, how many reads each stands for; empty means one
            each (a scope decides a field once). Set for reads outside any scope.
        site: for reads outside any scope, where in the code they came from.
        upstream: the scope in another service this scope worked for (`Upstream`), when it
            was opened under a purpose that came with the request; else None.
        justification: the reference to the recorded justification the scope was opened
            with (``use(..., justification="REF-123")``), for uses that need a belief on
            reasonable grounds; else None. A reference only, never the reasons themselves.
    """

    purpose: Purpose | None
    actor: Actor | None
    opened_at: datetime
    closed_at: datetime
    decisions: tuple[Decision, ...]
    failed: bool = False
    subject_counts: Mapping[str, int] = attrs.field(factory=dict)
    subject_count: int = 0
    subjects: frozenset[str] = frozenset()
    mode: Mode | None = None
    disclosures: tuple[Mapping[str, Any], ...] = ()
    scope_id: str = ""
    part: int = 0
    final: bool = True
    fields_read: frozenset[str] = frozenset()
    reads: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    counts: tuple[int, ...] = ()
    site: CallSite | None = None
    upstream: Upstream | None = None
    justification: str | None = None

    @property
    def violations(self) -> tuple[Decision, ...]:
        """The denied and would-deny decisions."""
        return tuple(d for d in self.decisions if d.violation)

    def count_of(self, index: int) -> int:
        """How many reads ``decisions[index]`` stands for."""
        return self.counts[index] if self.counts else 1
