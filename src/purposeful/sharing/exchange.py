"""Disclosing a record to a partner agency under an agreement, and only what it covers.

``purposeful.disclose(record, to=party, under=agreement)`` is the one door information goes
out by:

1. the agreement must be in force today (New Zealand date), name the party, and allow the
   purpose; otherwise `DisclosureRefused` explains which, and nothing goes out;
2. the record is projected for the purpose (`purposeful.project`, inside a purpose scope,
   so every field is decided, consent included, and audited) and cut down to the fields the
   agreement covers: minimised twice, by purpose and by agreement;
3. the statements of correction attached to those fields (IPP 7) go with them;
4. for a person who needs more care (`purposeful.care`), what the purpose or the agreement
   needs first is there: a second reviewer (``second_reviewer=``, someone other than the
   actor), a safety review (``safety_review=``, a reference to where it is recorded), a
   representative's consent; otherwise `DisclosureRefused` says what is missing, in words
   that never name the person's flags;
5. the disclosure is appended to the durable disclosure log (``configure(disclosure_log=
   ...)``, a `purposeful.sharing` store) before anything is handed over: a disclosure that
   could not be logged is not made;
6. it goes out with the report of the purpose scope it was made in (a scope of its own, in
   the scope current when it is made): an event ``purposeful.disclosure`` on the scope's span
   (`SpanSink`), naming the agreement, the party, the record type and the fields, and a
   ``disclosures`` entry in its ledger line; the person whose record it was only by
   pseudonym (with a pseudonymiser configured), so that the audit report can tell them
   whom their information was shared with. The care needs met go with it (their codes, the
   second reviewer's id and the safety review's reference, never the flags), and the log
   keeps them on the disclosure for the agency's own reads (`Disclosure.care_needs`); the
   person's bundle (`Disclosure.entry`) never shows them.

Information received from a partner (a referral in) is recorded with `receive`: the log
keeps where it came from, with the statements of correction that came with it (IPP 7),
and, under IPP 3A, the person is put on the list of people still to be told
(`purposeful.sharing` stores' ``still_to_be_told``).

What this module must not do: hand over a field the agreement does not cover, disclose
without logging first, or keep or log a value it handed over.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from .. import _trail
from .._config import get_configuration
from .._shared.checks import same_person, utc_moment
from .._shared.nztime import nz_date
from ..actors import Actor
from ..care import CareNeed, CareRequirement, flags_of, needs_for
from ..decisions import check_justification
from ..errors import (
    ConfigurationError,
    DisclosureRefused,
    DisclosureTimeError,
    PurposefulError,
    ReferralInvalid,
    detached,
)
from ..minimisation import project
from ..purposes import Purpose
from ..records import RecordPolicy, record_policy
from ..scope import Scope, current_scope, use
from ..typing import DisclosureLog
from .agreements import Party, SharingAgreement
from .ipp3a import IPP3AException
from .store import BaseSharingStore
from .values import Collection, Disclosure, new_id

_log = logging.getLogger("purposeful")

__all__ = [
    "DISCLOSURE_SKEW",
    "IPP_3A_IN_FORCE",
    "Disclosed",
    "Terms",
    "disclose",
    "disclosure_terms",
    "receive",
]

#: IPP 3A applies to information collected on or after this day.
IPP_3A_IN_FORCE = date(2026, 5, 1)

#: How far `disclose(at=...)` may be from this machine's clock (clocks drift): a disclosure
#: is made, checked against its agreement and logged when `disclose` is called.
DISCLOSURE_SKEW = timedelta(minutes=5)


class Disclosed(Mapping[str, Any]):
    """What was handed over: a read-only mapping of the covered fields' values.

    Attributes:
        disclosure: the log entry (ids, party, agreement, purpose, fields; no values).
        statements: for each field handed over holding a value that has one, the
            statements of correction that go with it (a field handed over as None carries
            none).
        left_out: the record's managed fields not handed over (names only).

    ``repr()`` lists field names only, never values.
    """

    __slots__ = ("_values", "disclosure", "left_out", "statements")

    def __init__(
        self,
        values: dict[str, Any],
        disclosure: Disclosure,
        statements: Mapping[str, tuple[str, ...]],
        left_out: tuple[str, ...],
    ) -> None:
        self._values = values
        self.disclosure = disclosure
        self.statements = statements
        self.left_out = left_out

    @property
    def reference(self) -> str:
        """Our reference for this disclosure (its log entry's id): send it, with
        `record_key`, along with what was handed over, so the partner can quote both when
        it replies about the referral it received; ``log.disclosures(subject)`` holds the
        entry with that id."""
        return self.disclosure.id

    @property
    def record_key(self) -> str:
        """The key of the record handed over, as our records and the log name it."""
        return self.disclosure.record_key

    def to_json(self) -> dict[str, Any]:
        """What was handed over in its JSON form (dates as ISO 8601 text, enums by value):
        the payload the agreement's schema (`SharingAgreement.json_schema`) describes.

        The statements of correction that go with the fields (IPP 7) travel in it, under
        the member `purposeful.sharing.STATEMENTS` (``"statements-of-correction"``: field
        name → the statements, in order), which no field can be named (field names are
        identifiers, which have no hyphen). It is absent when no field has one."""
        from .schema import STATEMENTS, json_value

        payload = {name: json_value(value) for name, value in self._values.items()}
        said = {
            name: list(self.statements[name]) for name in self._values if self.statements.get(name)
        }
        if said:
            payload[STATEMENTS] = said
        return payload

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return (
            f"<Disclosed {self.disclosure.record_type} to {self.disclosure.recipient!r} under "
            f"{self.disclosure.agreement!r}: fields={list(self._values)!r}>"
        )


def disclose(
    record: object,
    *,
    to: Party | str,
    under: SharingAgreement,
    purpose: Purpose | str | None = None,
    actor: Actor | None = None,
    at: datetime | None = None,
    justification: str | None = None,
    second_reviewer: Actor | str | None = None,
    safety_review: str | None = None,
) -> Disclosed:
    """Hand *record* to party *to* under agreement *under*: only what the agreement covers
    and the purpose allows, with its statements of correction, logged first.

    Args:
        record: an instance of a `purposeful.record` class.
        to: the receiving party, or its name.
        under: the agreement.
        purpose: the purpose of the disclosure; default: the open scope's purpose, or the
            agreement's only purpose.
        actor: who discloses; default: the open scope's actor.
        at: when (timezone-aware); default now. The record is handed over when
            `disclose` is called, so *at* may differ from this machine's clock by
            `DISCLOSURE_SKEW` (5 minutes) at most. To record a disclosure made earlier,
            outside purposeful, log it with the disclosure log's ``log(Disclosure(...))``;
            to ask about another time, use `purposeful.may_share` (``at=``).
        justification: a reference to the recorded reasons for a disclosure whose basis
            needs a belief on reasonable grounds (``"REF-123"``, as ``use`` takes it);
            default: the open scope's, when the same actor discloses for the scope's
            purpose or one within it.
        second_reviewer: for a person who needs more care, when the purpose or the
            agreement needs a second reviewer: who approved the disclosure (an `Actor` or
            their id), someone other than *actor*.
        safety_review: for a person who needs more care, when the purpose or the agreement
            needs a safety review: a reference to where the review is recorded
            (``"SR-2026-0042"``).

    Raises:
        DisclosureRefused: the agreement is not in force, does not name the party or the
            purpose, rests on a statute this agency and actor may not rely on, needs a
            justification none was given for, or covers none of the fields the purpose
            allows; or the person needs more care and a second reviewer, a safety review
            or a representative's consent that the purpose or agreement needs is missing
            (reason codes ``second-reviewer-needed``, ``safety-review-needed``,
            ``representative-consent-needed``, ``care-flags-unavailable``, and
            ``consent-check-failed`` when the consent checker failed). Nothing is logged.
        ConfigurationError: no disclosure log is configured, no actor, or a bad argument
            (a justification that is not a short reference among them).
        DisclosureTimeError: *at* is not now, give or take `DISCLOSURE_SKEW`; nothing was
            disclosed or logged.
        StoreError: the log could not record it; nothing was disclosed.
        AuditSinkError: an audit sink or the pseudonymiser failed as the disclosure's own
            scope closed, after the log took it: the error's ``result`` is the `Disclosed`
            to hand over (disclosing again would log it twice).
    """
    try:
        return _disclose(
            record, to, under, purpose, actor, at, justification, second_reviewer, safety_review
        )
    except PurposefulError as error:
        # raised here, not in the frames below, which hold values and raw subject ids
        raise detached(error) from error.__cause__
    except BaseException as error:  # a store's own error, an interrupt: the frames below
        # keep their lines, never their locals (values, raw subject ids)
        traceback.clear_frames(error.__traceback__)
        raise


def _disclose(
    record: object,
    to: Party | str,
    under: SharingAgreement,
    purpose: Purpose | str | None,
    actor: Actor | None,
    at: datetime | None,
    justification: str | None,
    second_reviewer: Actor | str | None = None,
    safety_review: str | None = None,
) -> Disclosed:
    if not isinstance(under, SharingAgreement):
        raise ConfigurationError("disclose(under=...) takes a SharingAgreement")
    policy = record_policy(type(record))
    log = get_configuration().disclosure_log
    if log is None:
        raise ConfigurationError(
            "disclose() records every disclosure: configure a disclosure log first, e.g. "
            "purposeful.configure(disclosure_log=SQLiteSharingStore(path))"
        )
    at, now = _now(at)
    terms = disclosure_terms(policy.name, to, under, purpose, actor, at, justification)
    if terms.refusal is None and nz_date(now) != nz_date(at):
        # at= is within the skew but on another New Zealand day: the agreement must be in
        # force now too, when the record is handed over, not only on at='s day
        terms = attrs.evolve(
            terms,
            refusal=disclosure_terms(
                policy.name, to, under, purpose, actor, now, justification
            ).refusal,
        )
    if terms.refusal is not None:
        raise terms.refusal
    party, purpose_id, actor = terms.party, terms.purpose, terms.actor
    at, justification = terms.at, terms.justification
    assert party is not None
    care = _care_met(
        policy.name, policy.subject_of(record), party, under, purpose_id, actor, at,
        second_reviewer, safety_review,
    )  # fmt: skip
    # A scope of its own: the fields are decided (consent included) and audited there, and
    # the disclosure goes out with its report, as an event on its span.
    logged: list[str] = []
    made: list[Disclosed] = []
    with (
        _trail.handed_back("disclosure", logged, made),
        use(purpose_id, actor=actor, justification=justification) as scope,
    ):
        made.append(_logged(scope, record, policy, party, under, purpose_id, at, care, log, logged))
    return made[0]


def _logged(
    scope: Scope,
    record: object,
    policy: RecordPolicy,
    party: Party,
    under: SharingAgreement,
    purpose_id: str,
    at: datetime,
    care: dict[str, Any],
    log: DisclosureLog,
    logged: list[str],
) -> Disclosed:
    """What `disclose` hands over, read in its own *scope*, and logged (its log entry's id
    added to *logged* as soon as the log took it)."""
    projection = project(record)
    covered = {
        field: value
        for field, value in projection.items()
        if field in policy.fields and under.covers(policy.fields[field])
    }
    if not covered:
        withheld = sorted(
            f"{field} ({', '.join(decision.reason_codes)})"
            for field, decision in projection.withheld.items()
            if under.covers(policy.fields[field])
        )
        why = f"; withheld for this purpose: {', '.join(withheld)}" if withheld else ""
        raise DisclosureRefused(
            f"cannot disclose {policy.name} to {party.name!r} under "
            f"{under.name!r}: it covers none of the fields {purpose_id!r} may use of this "
            f"record{why}",
            reasons=("nothing-covered",),
        )
    subject = policy.subject_of(record)
    statements: dict[str, tuple[str, ...]] = {}
    attached: list[str] = []
    corrections = get_configuration().corrections
    if corrections is not None:
        for field, value in covered.items():
            if value is None:
                # handed over as holding nothing: no value to read a statement with, so the
                # partner keeps none (prefill, receive) and the log must not say it went
                continue
            found = corrections.statements(subject, record, field)
            said = [(c.id, c.statement) for c in found if c.statement is not None]
            if said:
                statements[field] = tuple(statement for _, statement in said)
                attached += [ident for ident, _ in said]
    disclosure = log.log(
        Disclosure(
            id=new_id(),
            subject=subject,
            at=at,
            recipient=party.name,
            agreement=under.id,
            agreement_name=under.name,
            purpose=purpose_id,
            basis=under.basis.describe(),
            record_type=policy.name,
            record_key=policy.key_of(record),
            fields=tuple(covered),
            statements=tuple(attached),
            care_needs=care.get(_CARE_NEEDS, ()),
            second_reviewer=care.get(_CARE_SECOND_REVIEWER),
            safety_review=care.get(_CARE_SAFETY_REVIEW),
        )
    )
    logged.append(disclosure.id)
    config = get_configuration()
    # only for a report that goes somewhere, as the scope's own pseudonyms
    pseudonym = _trail.pseudonym_of(subject, config) if _trail.has_receivers(config) else None
    scope.note_disclosure({**disclosure.audited(pseudonym), **care})
    left_out = tuple(field for field in policy.fields if field not in covered)
    return Disclosed(covered, disclosure, statements, left_out)


#: The audit's keys for the care needs met (`purposeful.audit.conventions.DisclosureAttribute`;
#: the sharing package sits below audit, so it spells them itself). The log keeps them too.
_CARE_NEEDS = "purposeful.disclosure.care.needs"
_CARE_SECOND_REVIEWER = "purposeful.disclosure.care.second_reviewer"
_CARE_SAFETY_REVIEW = "purposeful.disclosure.care.safety_review"

#: A reference to a recorded safety review: no spaces, so never the review's text.
_REVIEW_REFERENCE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._:/#-]{0,62}[A-Za-z0-9])?\Z")


def _care_met(
    record_type: str,
    subject: str,
    party: Party,
    under: SharingAgreement,
    purpose: str,
    actor: Actor,
    at: datetime,
    second_reviewer: Actor | str | None,
    safety_review: str | None,
) -> dict[str, Any]:
    """Check what the purpose and the agreement need first for a person who needs more
    care; return what the audit records of it (codes and references, never the flags).

    Raises:
        DisclosureRefused: something needed is missing; the message says what, never why.
        ConfigurationError: a malformed *safety_review* or *second_reviewer*.
    """
    reviewer = second_reviewer.id if isinstance(second_reviewer, Actor) else second_reviewer
    if reviewer is not None and (not isinstance(reviewer, str) or not reviewer.strip()):
        raise ConfigurationError("disclose(second_reviewer=...) takes an Actor or their id")
    if safety_review is not None and (
        not isinstance(safety_review, str) or not _REVIEW_REFERENCE.match(safety_review)
    ):
        raise ConfigurationError(
            "disclose(safety_review=...) takes a reference to the recorded review, such as "
            '"SR-2026-0042": 1 to 64 letters, digits and "-", "_", ".", ":", "/" or "#", no '
            "spaces; write the review itself in the record it refers to"
        )
    config = get_configuration()
    # a purpose's representative-consent requirement holds where consent is asked: on the
    # fields that need consent, decided in the disclosure's scope like every read
    wanted = (
        *(
            CareRequirement(r.flags, r.needs - {CareNeed.REPRESENTATIVE_CONSENT})
            for r in config.registry.care_for(purpose)
            if r.needs - {CareNeed.REPRESENTATIVE_CONSENT}
        ),
        *under.care,
    )
    source = config.care_flags
    if not wanted or source is None:
        return {}
    where = f"cannot disclose {record_type} to {party.name!r} under {under.name!r}"
    flags = flags_of(source, [subject])
    if flags is None:
        raise DisclosureRefused(
            f"{where}: it needs to be known whether this person needs more care, and the care "
            f"flag source could not be asked (its failure is logged on the 'purposeful' logger)",
            reasons=("care-flags-unavailable",),
        )
    needs = needs_for(wanted, flags[subject])
    if not needs:
        return {}
    reasons, problems = [], []
    if CareNeed.SECOND_REVIEWER in needs and (reviewer is None or same_person(reviewer, actor.id)):
        reasons.append("second-reviewer-needed")
        problems.append(
            "a second staff member, other than whoever discloses, must approve it: pass "
            "second_reviewer= who approved"
            + (" (the actor cannot approve their own disclosure)" if reviewer else "")
        )
    if CareNeed.SAFETY_REVIEW in needs and safety_review is None:
        reasons.append("safety-review-needed")
        problems.append(
            "a safety review must be recorded first: pass safety_review= a reference to it"
        )
    represented = (
        _represented(subject, purpose, at) if CareNeed.REPRESENTATIVE_CONSENT in needs else True
    )
    if represented is None:
        reasons.append("consent-check-failed")
        problems.append(
            "only consent given by a representative whose authority was verified counts, and "
            "the consent store could not be asked (its failure is logged on the 'purposeful' "
            "logger)"
        )
    elif not represented:
        reasons.append("representative-consent-needed")
        problems.append(
            "only consent given by a representative whose authority was verified counts, and "
            "none is in force: record it with by=Representative(...)"
        )
    if reasons:
        raise DisclosureRefused(
            f"{where}: this person needs more care, and {'; and '.join(problems)}",
            reasons=tuple(reasons),
        )
    if (
        CareNeed.SECOND_REVIEWER in needs
        and not isinstance(second_reviewer, Actor)
        and not _REVIEW_REFERENCE.match(str(reviewer))
    ):  # it goes to the log, the span and the ledger: an id, never a description
        raise ConfigurationError(
            'disclose(second_reviewer=...) takes an Actor or their staff id, such as "staff-02": '
            '1 to 64 letters, digits and "-", "_", ".", ":", "/" or "#", no spaces; keep who '
            "they are in the agency's records"
        )
    audited: dict[str, Any] = {_CARE_NEEDS: sorted(n.value for n in needs)}
    if CareNeed.SECOND_REVIEWER in needs:
        audited[_CARE_SECOND_REVIEWER] = reviewer
    if CareNeed.SAFETY_REVIEW in needs:
        audited[_CARE_SAFETY_REVIEW] = safety_review
    return audited


def _represented(subject: str, purpose: str, at: datetime) -> bool | None:
    """True if a representative's consent covering *purpose* is in force for *subject*;
    None if the consent checker failed (logged without the subject)."""
    config = get_configuration()
    method = getattr(config.consent, "consent_statuses_represented", None)
    if method is None:
        return False
    try:
        found = method([subject], config.registry.get(purpose), at)
    except PurposefulError:
        raise
    except Exception as exc:
        _log.error(
            "purposeful: the consent checker %s failed (%s) under %r; the disclosure is refused",
            type(config.consent).__name__,
            type(exc).__name__,
            purpose,
        )
        return None
    status = found.get(subject) if isinstance(found, Mapping) else None
    return bool(getattr(status, "in_force", False) is True)


@attrs.frozen
class Terms:
    """A disclosure's terms, checked against its agreement (`disclosure_terms`).

    Attributes:
        purpose: the purpose id it is for.
        actor: who discloses.
        justification: the justification reference it relies on, if any.
        name: the receiving party's name, as given.
        party: that party in the agreement, or None when it is not one.
        at: when (UTC).
        refusal: what `disclose` raises for these terms, or None when the agreement allows
            them (the fields are decided after).
    """

    purpose: str
    actor: Actor
    justification: str | None
    name: str
    party: Party | None
    at: datetime
    refusal: DisclosureRefused | None


def disclosure_terms(
    record_type: str,
    to: Party | str,
    under: SharingAgreement,
    purpose: Purpose | str | None,
    actor: Actor | None,
    at: datetime | None,
    justification: str | None,
) -> Terms:
    """Check a disclosure of a *record_type* record against agreement *under*, as
    `disclose` does before it decides any field: in force on the day (New Zealand date),
    the party named, the purpose allowed, the basis one this agency and actor may rely on,
    with the justification it needs. `purposeful.may_share` asks the same.

    Purpose, actor and justification default as `disclose` documents.

    Raises:
        ConfigurationError: no purpose or actor to be found, or a bad argument.
    """
    if actor is not None and not isinstance(actor, Actor):
        raise ConfigurationError(
            f"disclose(actor=...) takes a purposeful.Actor (id, role and clearance), not "
            f"{type(actor).__name__}"
        )
    at = _aware(at)
    scope = current_scope()
    purpose_id = _purpose_id(purpose, under, scope)
    actor = actor if actor is not None else (scope.actor if scope is not None else None)
    if actor is None:
        raise ConfigurationError(
            "disclose() needs the actor who discloses: pass actor=, or call it inside "
            "`with purposeful.use(purpose, actor=...)`"
        )
    if justification is None and scope is not None and not scope.closed:
        # the scope's reference, only for the same actor and a use it covers: another
        # person's reasons, or reasons recorded for another use, justify nothing here
        within = purpose_id == scope.purpose.id or purpose_id.startswith(f"{scope.purpose.id}.")
        if scope.actor == actor and within:
            justification = scope.justification
    elif justification is not None:
        justification = check_justification(justification)
    name = to.name if isinstance(to, Party) else to
    party = under.party(name)
    reasons, problems = [], []
    day = nz_date(at)
    if day < under.starts:
        reasons.append("agreement-not-started")
        problems.append(f"it starts on {under.starts.isoformat()}")
    if day > under.expires:
        reasons.append("agreement-expired")
        problems.append(f"it expired on {under.expires.isoformat()}")
    if party is None:
        reasons.append("party-not-in-agreement")
        names = ", ".join(p.name for p in under.parties)
        problems.append(f"{name!r} is not a party to it (its parties: {names})")
    if not under.allows_purpose(purpose_id):
        reasons.append("purpose-not-in-agreement")
        problems.append(
            f"it does not allow sharing for {purpose_id!r} (only {', '.join(under.purposes)})"
        )
    agency_kinds = get_configuration().agency_kinds
    for reason, problem in under.basis_refusals(
        actor, agency_kinds, justified=justification is not None
    ):
        reasons.append(reason)
        problems.append(problem)
    refusal = None
    if reasons:
        refusal = DisclosureRefused(
            f"cannot disclose {record_type} to {name!r} under {under.name!r}: "
            + "; ".join(problems),
            reasons=tuple(reasons),
        )
    return Terms(purpose_id, actor, justification, name, party, at, refusal)


def receive(
    record: object,
    *,
    source: Party | str,
    purpose: Purpose | str,
    law: str | None = None,
    at: datetime | None = None,
    statements: object = None,
) -> Collection:
    """Record that *record* was collected from *source* (a referral in), for *purpose*.

    The log keeps where the information came from. Information collected on or after
    1 May 2026 from someone other than the person puts the person on the list of people
    still to be told (IPP 3A): the fact and purpose of the collection, the recipients, the
    agencies that collected and hold it, any law (*law*) that authorises or requires it,
    and their rights of access and correction. Earlier collections are recorded as an
    exception ("collected before IPP 3A came into force").

    Args:
        statements: the statements of correction that came with the information (IPP 7):
            the partner's payload's ``"statements-of-correction"`` member as it came
            (``payload.get(purposeful.sharing.STATEMENTS)``), field name → statements, for
            fields of *record* that hold a value. They are kept on the collection
            (`Collection.statements`), to be read with the information.

    Raises:
        ReferralInvalid: *statements* is not as the agreement's JSON Schema describes it,
            or names a field of *record* that holds nothing (reason codes
            ``statement-malformed``, ``statement-for-field-not-carried``,
            ``statement-too-large``); nothing was recorded.
        ConfigurationError: no disclosure log is configured, or a bad argument.
        StoreError: the log could not record it.
    """
    try:
        return _receive(record, source, purpose, law, at, statements)
    except PurposefulError as error:
        # raised here, not in the frames below, which hold the raw subject id
        raise detached(error) from error.__cause__
    except BaseException as error:  # a store's own error, an interrupt: the frames below
        # keep their lines, never their locals
        traceback.clear_frames(error.__traceback__)
        raise


def _receive(
    record: object,
    source: Party | str,
    purpose: Purpose | str,
    law: str | None,
    at: datetime | None,
    statements: object,
) -> Collection:
    policy = record_policy(type(record))
    log = get_configuration().disclosure_log
    if not isinstance(log, BaseSharingStore):
        raise ConfigurationError(
            "receive() records where information came from: configure a sharing store "
            "first, e.g. purposeful.configure(disclosure_log=SQLiteSharingStore(path))"
        )
    at = _aware(at)
    registry = get_configuration().registry
    purpose_id = registry.resolve(purpose).id
    name = source.name if isinstance(source, Party) else source
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError("receive(source=...) takes the party it came from, or its name")
    before = nz_date(at) < IPP_3A_IN_FORCE
    said = _statements_received(record, policy, statements, name) if statements is not None else {}
    return log.record_collection(
        policy.subject_of(record),
        record_type=policy.name,
        record_key=policy.key_of(record),
        source=name,
        purpose=purpose_id,
        law=law,
        at=at,
        exception=IPP3AException.BEFORE_IN_FORCE if before else None,
        statements=said,
    )


def _statements_received(
    record: object, policy: RecordPolicy, member: object, source: str
) -> dict[str, tuple[str, ...]]:
    """The statements of correction *member* holds for fields of *record* that hold a value,
    or `ReferralInvalid` naming every problem (never a value)."""
    from .schema import read_statements

    # which fields hold something: a check of the record's own values, never a read of one
    held = {name for name, field in policy.fields.items() if field._raw(record) is not None}
    reasons: list[str] = []
    problems: list[str] = []
    fields: list[str] = []

    def fault(reason: str, problem: str, field: str | None = None) -> None:
        if reason not in reasons:
            reasons.append(reason)
        problems.append(problem)
        if field is not None and field not in fields:
            fields.append(field)

    said = read_statements(member, held, fault)
    if problems:
        raise ReferralInvalid(
            f"the statements of correction received from {source!r} with the {policy.name} "
            f"record do not fit it, so nothing was recorded: " + "; ".join(problems),
            reasons=tuple(reasons),
            fields=tuple(fields),
        )
    return said


def _purpose_id(purpose: Purpose | str | None, under: SharingAgreement, scope: Any) -> str:
    if purpose is not None:
        return get_configuration().registry.resolve(purpose).id
    if scope is not None and not scope.closed:
        return str(scope.purpose.id)
    if len(under.purposes) == 1:
        return under.purposes[0]
    raise ConfigurationError(
        f"agreement {under.name!r} allows several purposes ({', '.join(under.purposes)}): "
        f"pass purpose=, or disclose inside `with purposeful.use(purpose, actor=...)`"
    )


def _now(at: datetime | None) -> tuple[datetime, datetime]:
    """*at* (aware, in UTC), when it is now give or take `DISCLOSURE_SKEW` (default now),
    and this machine's clock.

    Raises:
        DisclosureTimeError: *at* is further from this machine's clock than that.
    """
    now = datetime.now(UTC)
    if at is None:
        return now, now
    at = _aware(at)
    off = at - now
    if abs(off) <= DISCLOSURE_SKEW:
        return at, now
    way = "before" if off < timedelta(0) else "after"
    raise DisclosureTimeError(
        f"disclose(at=...) is {_span(abs(off))} {way} this machine's clock: disclose hands "
        f"the record over when it is called, so it checks the agreement and logs the "
        f"disclosure at that time, and at= may differ from it by {_span(DISCLOSURE_SKEW)} at "
        f"most (clocks drift). Leave at= out. To record a disclosure made earlier outside "
        f"purposeful, log it with the disclosure log's log(Disclosure(...)), which hands "
        f"nothing over; to ask whether one would be allowed at another time, use "
        f"purposeful.may_share(..., at=...). Nothing was disclosed or logged"
    )


def _span(span: timedelta) -> str:
    """*span* in whole seconds, as ``H:MM:SS`` (or with days)."""
    return str(timedelta(seconds=round(span.total_seconds())))


def _aware(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return utc_moment(at, "at=", ConfigurationError)
