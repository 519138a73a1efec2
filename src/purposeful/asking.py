"""Asking before acting: "may I use this?", answered from the rules a read is decided by.

``purposeful.may_use(Client, "address", "funder-reporting", role="analyst",
clearance=IN_CONFIDENCE)`` answers what a read of that field, for that purpose, by that
role, would meet, before anyone reads it: yes, no, only with the person's consent, only with
a recorded justification, or (in monitor mode) a read let through and recorded as a
would-deny. The `Answer` names the lawful basis relied on, explains itself in the words a
refusal uses (`Decision.explain`), and cites the law it rests on.

The answer is made by the functions a read is decided by (`Scope.decide`): the field's own
check (`FieldPolicy.check`: the purpose declared, the clearance, whether consent is needed),
who may rely on the basis and whether it needs a justification (`basis_reasons`), the
consent checker asked through the scope's own `ConsentAnswers`, the mode the configuration
gives the record type (`Configuration.mode_for`), and the decision value the field makes
(`FieldPolicy.decision`). There is no second copy of a rule here, only their composition.

- Asked about a **type**, it reads no value, needs no scope, and records nothing.
- Asked about a **named person** (``subject=``: is their consent in force?), the question is
  itself a use of information about them: it is asked in the open scope (or one opened for
  it from ``purpose`` and ``actor``), the consent checker is asked as a read would ask it,
  and the decision joins that scope's report, never the subject id. It is recorded as
  withheld, with the reasons a read would meet: nothing was read, so the audit trail counts
  it as neither a read nor a violation. The report lists the person (their pseudonym) with
  no field read, so a review of who looked at one person's information finds the
  question.

"Do we hold this already?" (`already_held`), asked by a form before it asks the person again, is
not a question about rules but a read: made in the open scope, decided and recorded like any
read of the field (refused where the scope's purpose may not use it), it answers whether a
value is held, never the value.

`who_may_see` tabulates the answers for a record type's fields, per purpose and role; the
notices embed it. `purposeful.may_share` (in `purposeful.sharing`) answers the same question
for a disclosure under an agreement, from the rules `disclose` applies.

What this module must not do: read a managed value other than through `already_held`'s checked read,
decide a rule itself, or put a subject
id in an answer, an exception message or a report.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from ._config import declared_records, get_configuration
from ._consent import _representative_flags
from ._scope import Scope
from .actors import Actor
from .bases import BasisKind, LawfulBasis, Statute, plain_description
from .decisions import (
    ConsentStatus,
    Decision,
    Mode,
    Outcome,
    Reason,
    _lower_first,
    basis_reasons,
)
from .errors import AnnotationError, ConfigurationError
from .purposes import Purpose, PurposeRegistry
from .records import FieldPolicy, RecordPolicy, _importable, record_policy
from .scope import current_scope, use
from .sensitivity import Level

__all__ = [
    "Answer",
    "Verdict",
    "actor_for",
    "already_held",
    "field_policy",
    "law_for",
    "may_use",
    "person_decision",
    "subject_text",
    "type_decision",
    "who_may_see",
]

#: The actor id of a question about a type: it reaches no audit trail (nothing is recorded).
QUESTION_ACTOR_ID = "question"


class Verdict(enum.Enum):
    """What a use or a disclosure would meet; the value is the stable code."""

    YES = "yes"
    NO = "no"
    WITH_CONSENT = "with-consent"
    """Only for a person whose consent for the purpose is in force when it is read."""
    WITH_JUSTIFICATION = "with-justification"
    """Only with a recorded justification (a belief on reasonable grounds): the scope's
    ``justification=`` reference."""
    WOULD_DENY = "would-deny"
    """Not allowed; in monitor mode a read is let through and recorded as a would-deny."""


@attrs.frozen
class Answer:
    """The answer to "may I use (or share) this?": what a read (or `disclose`) would meet.

    Names and codes only, never a value or a subject id: it is safe to print and log.

    Attributes:
        verdict: yes, no, with consent, with a justification, or would-deny (monitor mode).
        record_type: the record type's name.
        field: the field's name.
        purpose: the purpose asked about.
        role: the role of the actor asked about.
        clearance: that actor's clearance.
        basis: the lawful basis the use (or the disclosure) rests on, when there is one.
        reasons: the reason codes of a refusal, as decisions and `DisclosureRefused` give
            them (``"clearance-too-low"``, ``"agreement-expired"``); those a condition
            lifts (consent, a justification) included.
        explanation: plain words for a caseworker: the words a refusal uses.
        law: what the answer rests on: IPP numbers and Act sections.
        mode: the mode a read of the field is decided in.
        needs_consent: True when the person's consent is checked for this use.
        needs_justification: True when the use needs a recorded justification.
        consent: for a question about a named person, what the consent checker said.
        decision: the decision a read would be given (for a type, as if no consent were
            asked); None when a disclosure is refused before any field is decided.
        agreement: for a disclosure, the agreement's id.
        party: for a disclosure, the receiving party's name.
    """

    verdict: Verdict
    record_type: str
    field: str
    purpose: Purpose
    role: str
    clearance: Level
    basis: LawfulBasis | None
    reasons: tuple[str, ...]
    explanation: str
    law: tuple[str, ...]
    mode: Mode
    needs_consent: bool = False
    needs_justification: bool = False
    consent: ConsentStatus | None = None
    decision: Decision | None = None
    agreement: str | None = None
    party: str | None = None

    @property
    def allowed(self) -> bool:
        """True when the answer is an unconditional yes."""
        return self.verdict is Verdict.YES

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready values (``purposeful ask ... --json``)."""
        found: dict[str, Any] = {
            "verdict": self.verdict.value,
            "record_type": self.record_type,
            "field": self.field,
            "purpose": self.purpose.id,
            "role": self.role,
            "clearance": self.clearance.name,
            "basis": None if self.basis is None else self.basis.kind.value,
            "basis_description": None if self.basis is None else plain_description(self.basis),
            "reasons": list(self.reasons),
            "explanation": self.explanation,
            "law": list(self.law),
            "mode": self.mode.value,
            "needs_consent": self.needs_consent,
            "needs_justification": self.needs_justification,
        }
        if self.consent is not None:
            found["consent"] = {
                "in_force": self.consent.in_force,
                "state": None if self.consent.state is None else self.consent.state.value,
                "purpose": self.consent.purpose,
            }
        if self.agreement is not None:
            found["agreement"] = self.agreement
            found["party"] = self.party
        return found


#: The paragraphs of IPP 10 (use) and IPP 11 (disclosure) each kind of basis is; the
#: Privacy Act 2020 text as /work/shared/DOMAIN.md checked it.
_PARAGRAPHS: dict[BasisKind, tuple[str, str]] = {
    BasisKind.DIRECTLY_RELATED_PURPOSE: ("IPP 10(1)(a)", "IPP 11(1)(a)"),
    BasisKind.AUTHORISED_BY_PERSON: ("IPP 10(1)(c)", "IPP 11(1)(c)"),
    BasisKind.CONSENT: ("IPP 10(1)(c)", "IPP 11(1)(c)"),
    BasisKind.NON_IDENTIFYING: ("IPP 10(1)(b)", "IPP 11(1)(h)"),
    BasisKind.SERIOUS_THREAT: ("IPP 10(1)(f)", "IPP 11(1)(f)"),
}


def law_for(basis: LawfulBasis | None, *, disclosure: bool = False) -> tuple[str, ...]:
    """What a use (or, with *disclosure*, a disclosure) on *basis* rests on in law.

    The everyday bases are paragraphs of IPP 10 (use) and IPP 11 (disclosure) of the
    Privacy Act 2020: a directly related purpose (10(1)(a), 11(1)(a)), the person's
    authorisation, which their consent is (10(1)(c), 11(1)(c)), a form that does not
    identify them (10(1)(b), 11(1)(h)), the serious-threat exception (10(1)(f), 11(1)(f)). A
    statute is its Act and section; an approved information sharing agreement, Part 7. A
    service agreement is a contract, not law: the answer rests on the principle itself.
    """
    principle = "Privacy Act 2020, IPP 11" if disclosure else "Privacy Act 2020, IPP 10"
    if basis is None:
        return (principle,)
    paragraphs = _PARAGRAPHS.get(basis.kind)
    if paragraphs is not None:
        return (f"Privacy Act 2020, {paragraphs[1 if disclosure else 0]}",)
    if isinstance(basis, Statute):
        return (basis.describe(),)
    if basis.kind is BasisKind.INFORMATION_SHARING_AGREEMENT:
        return ("Privacy Act 2020 Part 7",)
    return (principle,)


def field_policy(record_type: type | str, field: str) -> FieldPolicy:
    """The policy of managed *field* of *record_type* (a record class, or its name as
    decisions give it: ``"Client"``). A name means the class its module declares now (after
    a reload, not the replaced one).

    Raises:
        AnnotationError: a class that is not a purposeful record.
        ConfigurationError: no declared record type has that name, or it has no managed
            field of that name.
    """
    record = _record(record_type)
    found = record.fields.get(field) if isinstance(field, str) else None
    if found is None:
        managed = ", ".join(record.fields) or "none"
        plain = isinstance(field, str) and field in record.names
        what = "is not a managed field" if plain else "is not a field"
        raise ConfigurationError(
            f"{record.name}.{field if isinstance(field, str) else '?'} {what} of {record.name}: "
            f"ask about one of its managed fields ({managed})"
        )
    return found


def _record(record_type: type | str) -> RecordPolicy:
    if isinstance(record_type, type):
        return record_policy(record_type)
    if not isinstance(record_type, str):
        raise AnnotationError(
            f"ask about a record class or its name, not {type(record_type).__name__}"
        )
    policies = [record_policy(cls) for cls in declared_records()]
    named = [policy for policy in policies if policy.name == record_type]
    if named:
        # a class its module no longer declares (reloaded, or from a module that is gone)
        # is alive until collected: the name means the one its module leads to now, else
        # the last declared
        current = [policy for policy in named if _importable(policy.cls)]
        return (current or named)[-1]
    names = ", ".join(sorted({p.name for p in policies})) or "none"
    raise ConfigurationError(
        f"no declared record type is called {record_type!r}; import the module that declares "
        f"it first (declared now: {names})"
    )


def actor_for(
    actor: Actor | None, role: str | None, clearance: Level | None, *, asking: str
) -> Actor:
    """The actor a question is about: *actor*, or one made of *role* and *clearance*.

    Raises:
        ConfigurationError: both or neither given, or values of the wrong kind.
    """
    if actor is not None:
        if role is not None or clearance is not None:
            raise ConfigurationError(f"{asking}() takes actor=, or role= and clearance=, not both")
        if not isinstance(actor, Actor):
            raise ConfigurationError(
                f"{asking}(actor=) takes a purposeful.Actor, not {type(actor).__name__}"
            )
        return actor
    if role is None or clearance is None:
        raise ConfigurationError(
            f"{asking}() asks about someone: pass role= and clearance= (a role and its "
            f"sensitivity level, e.g. role='caseworker', clearance=purposeful.SENSITIVE), "
            f"or actor="
        )
    return Actor(QUESTION_ACTOR_ID, role, clearance)


def type_decision(
    policy: FieldPolicy, purpose: Purpose, actor: Actor, *, justified: bool
) -> tuple[Decision, bool]:
    """The decision a read of *policy*'s field under *purpose* by *actor* would be given,
    without asking anyone's consent, and whether consent would be asked.

    Made as `Scope.decide` makes it: `FieldPolicy.check`, then `basis_reasons` for who may
    rely on the basis and whether it needs a justification (*justified*: one is recorded),
    then the mode of the field's record type for a refusal, then `FieldPolicy.decision`.
    """
    config = get_configuration()
    reasons, basis, needs_consent = policy.check(purpose, actor)
    if basis is not None:
        reasons += basis_reasons(basis, actor, config.agency_kinds, justified)
    return _decision(policy, purpose, actor, basis, reasons, None, config.mode_for), needs_consent


def person_decision(policy: FieldPolicy, scope: Scope, subject: str) -> Decision:
    """The decision a read of *policy*'s field in *scope*, of a record of *subject*, would
    be given, consent asked as that read asks it (the scope's `ConsentAnswers`, once per
    person per scope, as of the scope's opening). The question joins the scope's report as a
    withheld decision, with the reasons a read would meet: nothing was read, so it counts
    as neither a read nor a violation. Neither keeps the subject id past the scope's
    close."""
    config = scope._config
    purpose, actor = scope.purpose, scope.actor
    reasons, basis, needs_consent = policy.check(purpose, actor)
    if basis is not None:
        reasons += basis_reasons(basis, actor, config.agency_kinds, scope.justification is not None)
    consent: ConsentStatus | None = None
    if needs_consent:
        consent_reasons, consent = scope._consent_answers().of(subject)
        reasons += consent_reasons
    decision = _decision(policy, purpose, actor, basis, reasons, consent, config.mode_for)
    # noted as withheld, whatever the answer: nothing was read, so the audit trail counts no
    # read and no violation; its reasons (none for a yes) say what a read would have met
    noted = policy.decision(Outcome.WITHHELD, purpose, actor, basis, reasons, consent)
    key = ("asked", policy, subject if needs_consent else "")
    if key not in scope._decided:
        scope._made(policy, None, noted, key)  # keyed apart: the inline sets stay untouched
        if scope._closed:  # closed on another thread while this was asked: keep no id
            scope.raced_close()
    # a question naming a person is a use of information about them, whether or not the
    # answer turned on their consent: the report lists them, with no field read
    scope.note_person(subject)
    return decision


def _decision(
    policy: FieldPolicy,
    purpose: Purpose,
    actor: Actor,
    basis: LawfulBasis | None,
    reasons: tuple[Reason, ...],
    consent: ConsentStatus | None,
    mode_for: Any,
) -> Decision:
    outcome = Outcome.ALLOWED
    if reasons:
        mode = mode_for(purpose, policy.record.cls)
        outcome = Outcome.WOULD_DENY if mode is Mode.MONITOR else Outcome.DENIED
    return policy.decision(outcome, purpose, actor, basis, reasons, consent)


#: The reasons a condition lifts: a consent in force, a recorded justification.
_CONDITIONS = frozenset({Reason.JUSTIFICATION_MISSING, Reason.CONSENT_NOT_HELD})
#: The reason a person's own answer makes hard: their consent is not in force.
_CONSENT = frozenset({Reason.CONSENT_NOT_HELD})


def verdict_of(decision: Decision, *, needs_consent: bool, asked: bool) -> Verdict:
    """The verdict a decision gives: a hard refusal is no (would-deny in monitor mode); a
    missing justification, with a justification; consent not asked (*asked* false) but
    needed, with consent; else yes."""
    hard = [r for r in decision.reasons if r not in _CONDITIONS or (asked and r in _CONSENT)]
    if hard:
        return Verdict.WOULD_DENY if decision.outcome is Outcome.WOULD_DENY else Verdict.NO
    if Reason.JUSTIFICATION_MISSING in decision.reasons:
        return Verdict.WITH_JUSTIFICATION
    if needs_consent and not asked:
        return Verdict.WITH_CONSENT
    return Verdict.YES


def explanation_of(
    decision: Decision, verdict: Verdict, *, needs_consent: bool, asked: bool = False
) -> str:
    """Plain words for *verdict*: a refusal's own explanation (`Decision.explain`), and for
    a condition, what a use on the basis needs."""
    field = decision.field.replace("_", " ")
    purpose = _lower_first(decision.purpose.title) if decision.purpose else "this purpose"
    if verdict in (Verdict.NO, Verdict.WOULD_DENY):
        said = decision.explain()
        if verdict is Verdict.WOULD_DENY:
            said += (
                " In monitor mode a read is let through and recorded as a would-deny; "
                "in enforce mode it is refused."
            )
        return said
    allowed = attrs.evolve(decision, outcome=Outcome.ALLOWED, reasons=()).explain()
    extra = []
    if verdict is Verdict.WITH_JUSTIFICATION:
        extra.append(
            "A use on that basis must record the justification for the belief on reasonable "
            "grounds it rests on: open the scope with a reference to where it is recorded "
            '(justification="REF-123").'
        )
    if needs_consent and not asked:
        extra.append(
            f"It needs the person's consent for {purpose}: a read of {field} is allowed only "
            f"for a person whose consent is in force, checked for each person when it is read."
        )
        if get_configuration().consent is None:
            extra.append(
                "No consent store is configured, so such a read is refused unless its scope "
                "is given one (use(..., consent=...))."
            )
        if decision.purpose is not None:
            flags = _representative_flags(decision.purpose)
            if flags:
                extra.append(
                    f"For people who need more care ({', '.join(sorted(flags))}), only "
                    f"consent given by a representative whose authority was verified counts."
                )
    elif decision.consent is not None and decision.consent.in_force:
        extra.append(f"The person's consent is in force: {decision.consent.describe()}.")
    return " ".join([allowed, *extra])


def answer_of(
    decision: Decision,
    *,
    needs_consent: bool,
    asked: bool,
    mode: Mode,
) -> Answer:
    """The `Answer` a decision gives for a use; in monitor mode, a condition's explanation
    says what a read without it meets."""
    assert decision.purpose is not None
    assert decision.actor is not None
    verdict = verdict_of(decision, needs_consent=needs_consent, asked=asked)
    explanation = explanation_of(decision, verdict, needs_consent=needs_consent, asked=asked)
    if mode is Mode.MONITOR and verdict in (Verdict.WITH_CONSENT, Verdict.WITH_JUSTIFICATION):
        explanation += (
            " In monitor mode a read without it is let through and recorded as a would-deny; "
            "in enforce mode it is refused."
        )
    return Answer(
        verdict=verdict,
        record_type=decision.record_type,
        field=decision.field,
        purpose=decision.purpose,
        role=decision.actor.role,
        clearance=decision.actor.clearance,
        basis=decision.basis,
        reasons=decision.reason_codes,
        explanation=explanation,
        law=law_for(decision.basis),
        mode=mode,
        needs_consent=needs_consent,
        needs_justification=decision.basis is not None and decision.basis.needs_justification,
        consent=decision.consent,
        decision=decision,
    )


def may_use(
    record_type: type | str,
    field: str,
    purpose: Purpose | str | None = None,
    *,
    role: str | None = None,
    clearance: Level | None = None,
    actor: Actor | None = None,
    subject: str | None = None,
) -> Answer:
    """May *field* of *record_type* be used for *purpose* by *role* (with *clearance*), or
    by *actor*? Answered from the rules a read is decided by, before anyone reads.

    Args:
        record_type: a record class, or its name (``"Client"``).
        field: a managed field's name.
        purpose: a `Purpose` or its id; with *subject* inside an open scope, default: the
            scope's.
        role, clearance: who would use it: a role and its clearance (a sensitivity level).
        actor: or the `Actor` itself; a question about a person needs one.
        subject: the person whose record it would be, to ask whether their consent is in
            force. The question is itself an audited use: it is asked in the open scope of
            the same purpose and actor, or in one opened for it (``purpose`` and ``actor``
            given); its decision joins that scope's report, never the id.

    Returns:
        An `Answer`: its verdict, basis, explanation and the law it rests on.

    Raises:
        ConfigurationError: an unknown record type or field, a field that is not managed,
            no actor (or both an actor and a role), a question about a person with no scope
            to ask in and no purpose and actor to open one.
        UnknownPurpose: a purpose the registry does not have.
        AnnotationError: a class that is not a purposeful record.
    """
    policy = field_policy(record_type, field)
    config = get_configuration()
    if subject is not None:
        return _about_person(policy, purpose, role, clearance, actor, subject)
    if purpose is None:
        raise ConfigurationError(
            f"may_use() needs the purpose {policy.record.name}.{policy.name} would be used for"
        )
    asker = actor_for(actor, role, clearance, asking="may_use")
    resolved = config.registry.resolve(purpose)
    decision, needs_consent = type_decision(policy, resolved, asker, justified=False)
    mode = config.mode_for(resolved, policy.record.cls)
    return answer_of(decision, needs_consent=needs_consent, asked=False, mode=mode)


def _about_person(
    policy: FieldPolicy,
    purpose: Purpose | str | None,
    role: str | None,
    clearance: Level | None,
    actor: Actor | None,
    subject: str,
) -> Answer:
    subject_text(subject, asking="may_use")
    if role is not None or clearance is not None:
        raise ConfigurationError(
            "a question about a person is an audited use: ask it as the actor who would use "
            "the field (actor=, or inside their open scope), not with role= and clearance="
        )
    scope = current_scope()
    if scope is not None and not scope.closed:
        ident = purpose.id if isinstance(purpose, Purpose) else purpose
        if ident in (None, scope.purpose.id) and actor in (None, scope.actor):
            return _in_scope(policy, scope, subject)
    if purpose is None or actor is None:
        raise ConfigurationError(
            "a question about a person is an audited use: ask it inside "
            "`with purposeful.use(purpose, actor=...)`, or pass purpose= and actor= to open "
            "a scope for it"
        )
    asker = actor_for(actor, None, None, asking="may_use")
    with use(purpose, actor=asker) as own:
        return _in_scope(policy, own, subject)


def subject_text(subject: object, *, asking: str) -> str:
    """*subject*, the id of the person a question is about, checked to be text as a read
    gives it (`RecordPolicy.subject_of`); the message never holds it.

    Raises:
        ConfigurationError: not text.
    """
    if not isinstance(subject, str):
        raise ConfigurationError(
            f"{asking}(subject=) takes the person's id as text, not {type(subject).__name__}"
        )
    return subject


def _in_scope(policy: FieldPolicy, scope: Scope, subject: str) -> Answer:
    decision = person_decision(policy, scope, subject)
    needs_consent = policy.check(scope.purpose, scope.actor)[2]
    mode = scope._config.mode_for(scope.purpose, policy.record.cls)
    return answer_of(decision, needs_consent=needs_consent, asked=needs_consent, mode=mode)


def who_may_see(
    records: Iterable[type | str] | type | str | None = None,
    *,
    roles: Mapping[str, Level] | Iterable[Actor],
    purposes: Iterable[Purpose | str] | Purpose | str | None = None,
) -> tuple[Answer, ...]:
    """Who may see what: for each managed field of *records*, each purpose and each role,
    the answer `may_use` gives. Names only; no value is read.

    Args:
        records: a record class (or name), or several; default: every declared record
            type.
        roles: each role with its clearance (``{"caseworker": SENSITIVE}``), or actors.
        purposes: the purpose (or purposes) to ask about; default: those the record type's
            fields are declared for, in the registry's order.

    Returns:
        The answers, by record type, field, purpose and role, in that order.

    Raises:
        ConfigurationError: no roles, or what `may_use` raises.
        AnnotationError: a value in *records* that is no record class or name.
    """
    if records is None:  # by name: a reloaded record type as its module declares it now
        chosen: list[type | str] = [record_policy(cls).name for cls in declared_records()]
    elif isinstance(records, type | str) or not isinstance(records, Iterable):
        chosen = [records]  # `_record` says what a value that is no record type is
    else:
        chosen = list(records)
    actors = _actors(roles)
    config = get_configuration()
    if isinstance(purposes, Purpose | str):
        purposes = [purposes]
    asked = None if purposes is None else [config.registry.resolve(p) for p in purposes]
    found: list[Answer] = []
    seen: set[str] = set()
    for record_type in chosen:
        record = _record(record_type)
        if record.name in seen:
            continue
        seen.add(record.name)
        wanted = asked if asked is not None else _declared_purposes(record, config.registry)
        for name in record.fields:
            for purpose in wanted:
                for asker in actors:
                    found.append(may_use(record.cls, name, purpose, actor=asker))
    return tuple(found)


def _actors(roles: Mapping[str, Level] | Iterable[Actor]) -> list[Actor]:
    if isinstance(roles, Mapping):
        actors = [
            actor_for(None, role, level, asking="who_may_see") for role, level in roles.items()
        ]
    elif isinstance(roles, Iterable) and not isinstance(roles, str):
        actors = [actor_for(a, None, None, asking="who_may_see") for a in roles]
    else:
        actors = []
    if not actors:
        raise ConfigurationError(
            "who_may_see(roles=) takes each role with its clearance, e.g. "
            "{'caseworker': purposeful.SENSITIVE}, or a list of actors"
        )
    return actors


def _declared_purposes(record: RecordPolicy, registry: PurposeRegistry) -> list[Purpose]:
    declared = {ident for field in record.fields.values() for ident in field.purposes}
    return [p for p in registry if p.id in declared]


def already_held(
    held: object | Callable[[str], Iterable[object]],
    field: str,
    *,
    subject: str | None = None,
) -> bool:
    """Do we hold this already? True if a value of *field* is held (not None and not
    empty), so a form need not ask the person for it again; never the value itself.

    The answer is a checked read, made in the open purpose scope: decided and recorded like
    any read of the field, and refused (`PurposeViolation`, in enforce mode) where the
    scope's purpose, or the actor's clearance, may not use it.

    Args:
        held: a record (an instance of a `purposeful.record` class), or a data source: a
            callable that, given a subject id, yields that person's records (as a
            subject-access bundle's data sources do).
        field: for a record, its managed field's name (``"phone"``); for a data source,
            ``"RecordType.field"``: every record of that type it yields is read until one
            holds a value, and records of other types are not read.
        subject: for a data source, the person to look up.

    Raises:
        NoPurposeScope: asked outside a purpose scope.
        PurposeViolation: the scope's purpose (or actor) may not use the field.
        ConfigurationError: not a managed field, a data source asked without
            ``subject=`` or with a field that is not ``"RecordType.field"``, or one that
            yields a record about someone else.
        AnnotationError: *held* is neither a record nor a callable.
    """
    if callable(held) and not isinstance(held, type) and not _is_record(held):
        return _source_holds(held, field, subject)
    if subject is not None:
        raise ConfigurationError(
            "already_held(record, field) reads the record it is given: subject= is for a "
            "data source"
        )
    policy = field_policy(type(held), field)
    # the guarded read: the scope decides and records it, and refuses it where it must
    return _present(getattr(held, policy.name))


def _is_record(obj: object) -> bool:
    try:
        record_policy(type(obj))
    except AnnotationError:
        return False
    return True


def _source_holds(fetch: Callable[[str], Iterable[object]], field: str, subject: object) -> bool:
    if not isinstance(subject, str) or not subject:
        raise ConfigurationError(
            "already_held(data_source, 'RecordType.field', subject=...) needs the person to "
            "look up, as their id (text)"
        )
    record_type, dot, name = field.rpartition(".") if isinstance(field, str) else ("", "", "")
    if not dot:
        raise ConfigurationError(
            "already_held() asks a data source about 'RecordType.field', such as 'Client.phone'"
        )
    policy = field_policy(record_type, name)
    for found in _fetched(fetch, subject):
        ours = type(found) is policy.record.cls or _named(found) == policy.record.name
        if not ours:
            continue
        if record_policy(type(found)).subject_of(found) != subject:
            # a source whose query is wrong: their record is not read, nor answered from
            raise ConfigurationError(
                f"already_held(): the data source yielded a {policy.record.name} record about "
                f"someone other than the person asked about; nothing of it was read. Fix the "
                f"source's "
                f"query: it must yield only that person's records"
            )
        if _present(getattr(found, name)):
            return True
    return False


def _fetched(fetch: Callable[[str], Iterable[object]], subject: str) -> Iterator[object]:
    """What *fetch* yields for *subject*; a source that fails is a typed error naming its
    exception's type only (its message, a KeyError's say, may be the subject id)."""
    try:
        records = iter(fetch(subject))
        while True:
            try:
                found = next(records)
            except StopIteration:
                return
            yield found
    except GeneratorExit:
        raise
    except Exception as exc:
        failed = type(exc).__name__
    raise ConfigurationError(
        f"already_held(): the data source failed ({failed}); nothing was answered. Fix the "
        f"source, or call it yourself to see the error"
    )


def _named(obj: object) -> str | None:
    try:
        return record_policy(type(obj)).name
    except AnnotationError:
        return None


def _present(value: object) -> bool:
    """Held: not None, and not empty."""
    if value is None:
        return False
    if isinstance(value, str | bytes | list | tuple | set | frozenset | dict):
        return len(value) > 0
    return True
