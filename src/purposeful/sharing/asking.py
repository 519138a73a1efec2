"""Asking before sharing: "may I share this?", answered from the rules `disclose` applies.

``purposeful.may_share(Client, "address", agreement=housing, party="Kāinga Ora",
role="caseworker", clearance=SENSITIVE)`` answers what `disclose` would do with that field
of such a record, before anything is disclosed:

1. the agreement's terms, checked by the function `disclose` checks them with
   (`exchange.disclosure_terms`: in force on the day, the party named, the purpose allowed,
   the basis one this agency and actor may rely on, with the justification it needs); a
   refusal is explained in the words `DisclosureRefused` uses;
2. whether the agreement covers the field (`SharingAgreement.covers`);
3. the field's own decision for the purpose, made as the disclosure's scope makes it
   (`purposeful.asking.type_decision`: the purpose declared, the clearance, the field's
   basis, consent). A disclosure withholds what its purpose may not see, whatever the
   mode, so a disclosure is never a would-deny.

Asked about a type, it reads no value, logs nothing and needs no scope. Asked about a named
person (``subject=``: is their consent in force?), the consent checker is asked in a scope
of the disclosure's purpose, actor and justification, as `disclose` asks it, and the
decision joins that scope's report, never the id.

What this module must not do: disclose, log a disclosure, read a managed value, or decide a
rule itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._config import get_configuration
from ..actors import Actor
from ..asking import (
    Answer,
    Verdict,
    actor_for,
    explanation_of,
    field_policy,
    law_for,
    person_decision,
    subject_text,
    type_decision,
    verdict_of,
)
from ..bases import plain_description
from ..care import CareNeed, flags_of, needs_for
from ..decisions import Decision, Outcome, Reason
from ..errors import ConfigurationError
from ..purposes import Purpose
from ..scope import current_scope, use
from ..sensitivity import Level
from .agreements import Party, SharingAgreement
from .exchange import _represented, disclosure_terms

__all__ = ["may_share"]

#: The reason code of a field the agreement does not cover: `disclose` leaves it out.
NOT_COVERED = "not-covered"
#: The reason code of a basis that needs a justification none was given for.
_JUSTIFICATION = "justification-missing"


def may_share(
    record_type: type | str,
    field: str,
    *,
    agreement: SharingAgreement,
    party: Party | str,
    purpose: Purpose | str | None = None,
    role: str | None = None,
    clearance: Level | None = None,
    actor: Actor | None = None,
    at: datetime | None = None,
    justification: str | None = None,
    subject: str | None = None,
) -> Answer:
    """May *field* of *record_type* be disclosed to *party* under *agreement*? Answered
    from the rules `disclose` applies, before anything is disclosed.

    Args:
        record_type: a record class, or its name (``"Client"``).
        field: a managed field's name.
        agreement: the sharing agreement.
        party: the receiving party, or its name.
        purpose: the purpose of the disclosure; default as `disclose`: the open scope's, or
            the agreement's only purpose.
        role, clearance: who would disclose: a role and its clearance; or *actor*.
        actor: who would disclose; default: the open scope's actor, when neither this nor a
            role is given.
        at: when (timezone-aware); default now.
        justification: a reference to the recorded reasons, for a basis that needs a belief
            on reasonable grounds; default as `disclose`: the open scope's, for the same
            actor and a purpose within the scope's.
        subject: the person whose record it would be, to ask whether their consent is in
            force; an audited use, asked in a scope of the disclosure's own (``actor=``
            needed).

    Returns:
        An `Answer` with `Answer.agreement` and `Answer.party` set; its basis is the
        agreement's, its law the disclosure's (IPP 11) and the field's use's (IPP 10).

    Raises:
        ConfigurationError: not an agreement, an unknown record type or field, no actor,
            no purpose to be found, a bad justification reference, a subject id that is not
            text.
        UnknownPurpose: a purpose the registry does not have.
    """
    if not isinstance(agreement, SharingAgreement):
        raise ConfigurationError("may_share(agreement=...) takes a SharingAgreement")
    policy = field_policy(record_type, field)
    if subject is not None:
        subject_text(subject, asking="may_share")
    scope = current_scope()
    anyone = role is not None or clearance is not None
    if subject is not None and actor is None and (anyone or scope is None):
        raise ConfigurationError(
            "a question about a person is an audited use: pass actor= (who would disclose), "
            "or ask inside their open scope, not with role= and clearance="
        )
    asker: Actor | None = None
    if actor is not None or anyone or scope is None:
        asker = actor_for(actor, role, clearance, asking="may_share")
    terms = disclosure_terms(
        policy.record.name, party, agreement, purpose, asker, at, justification
    )
    config = get_configuration()
    resolved = config.registry.resolve(terms.purpose)
    justified = terms.justification is not None
    refused = () if terms.refusal is None else terms.refusal.reasons
    hard_terms = [reason for reason in refused if reason != _JUSTIFICATION]
    covered = agreement.covers(policy)
    asked = False
    if subject is not None and terms.refusal is None and covered:
        with use(resolved, actor=terms.actor, justification=terms.justification) as own:
            decision = person_decision(policy, own, subject)
        needs_consent = policy.check(resolved, terms.actor)[2]
        asked = needs_consent
    else:
        decision, needs_consent = type_decision(policy, resolved, terms.actor, justified=justified)
    if decision.reasons:  # a disclosure's projection withholds, whatever the mode
        decision = policy.decision(
            Outcome.WITHHELD,
            decision.purpose,
            decision.actor,
            decision.basis,
            decision.reasons,
            decision.consent,
        )
    field_verdict = verdict_of(decision, needs_consent=needs_consent, asked=asked)
    reasons = [*refused]
    said = []
    if hard_terms:
        said.append(str(terms.refusal) + ".")
    if not covered:
        reasons.append(NOT_COVERED)
        said.append(_not_covered(policy.record.name, policy.name, agreement))
    reasons += [code for code in decision.reason_codes if code not in reasons]
    if field_verdict is Verdict.NO:
        said.append(decision.explain())
    care, stop = _care_note(config, terms.purpose, agreement, subject, terms.at)
    if stop is not None:  # what disclose refuses for this person, whatever is passed to it
        reasons.append(stop)
        said.append(care)
    if said:
        verdict = Verdict.NO
    elif _JUSTIFICATION in refused or field_verdict is Verdict.WITH_JUSTIFICATION:
        verdict = Verdict.WITH_JUSTIFICATION
    elif field_verdict is Verdict.WITH_CONSENT:
        verdict = Verdict.WITH_CONSENT
    else:
        verdict = Verdict.YES
    if not said:
        said.append(_shared(decision, terms.name, agreement))
        said.append(
            explanation_of(decision, field_verdict, needs_consent=needs_consent, asked=asked)
        )
        if care:
            said.append(care)
        if _JUSTIFICATION in refused:
            said.append(
                f"The agreement's basis, {agreement.basis.describe()}, needs a belief on "
                f"reasonable grounds: pass justification= a reference to where it is recorded, "
                f'such as "REF-123".'
            )
    law = dict.fromkeys((*law_for(agreement.basis, disclosure=True), *law_for(decision.basis)))
    return Answer(
        verdict=verdict,
        record_type=policy.record.name,
        field=policy.name,
        purpose=resolved,
        role=terms.actor.role,
        clearance=terms.actor.clearance,
        basis=agreement.basis,
        reasons=tuple(reasons),
        explanation=" ".join(said),
        law=tuple(law),
        mode=config.mode_for(resolved, policy.record.cls),
        needs_consent=needs_consent,
        needs_justification=agreement.basis.needs_justification
        or (decision.basis is not None and decision.basis.needs_justification),
        consent=decision.consent,
        decision=decision,
        agreement=agreement.id,
        party=terms.name,
    )


def _care_note(
    config: Any, purpose: str, agreement: SharingAgreement, subject: str | None, at: datetime
) -> tuple[str, str | None]:
    """What `disclose` would also need for a person who needs more care (`purposeful.care`):
    for a type, for whom; for a named person, for them (never which flag they carry). The
    reason code is set when `disclose` refuses the named person whatever it is passed: their
    flags could not be found out, or the agreement counts only a representative's consent
    and none is in force (or the consent checker failed)."""
    wanted = config.registry.care_for(purpose) + agreement.care
    if not wanted:
        return "", None
    if subject is None:
        parts = []
        for requirement in wanted:
            flags = ", ".join(sorted(requirement.flags))
            what = "; ".join(n.describe() for n in sorted(requirement.needs, key=_code))
            parts.append(f"for people flagged {flags}: {what}")
        return (
            "A disclosure about a person who needs more care also needs, "
            + "; and ".join(parts)
            + " (checked when it is disclosed).",
            None,
        )
    source = config.care_flags
    if source is None:
        return "", None
    found = flags_of(source, [subject])
    if found is None:
        return (
            "Whether this person needs more care could not be found out (the care flag "
            "source failed): a disclosure is refused until it can be.",
            Reason.CARE_FLAGS_UNAVAILABLE.value,
        )
    needs = needs_for(wanted, found[subject])
    if not needs:
        return "", None
    words = "; ".join(n.describe() for n in sorted(needs, key=_code))
    note = f"This person needs more care: a disclosure also needs {words}."
    # the agreement's own representative requirement is checked at disclosure (the
    # purpose's holds on the fields, decided above)
    if CareNeed.REPRESENTATIVE_CONSENT in needs_for(agreement.care, found[subject]):
        represented = _represented(subject, purpose, at)
        if represented is None:
            return (
                f"{note} The consent store could not be asked whether a representative's "
                f"consent is in force: a disclosure is refused until it can be.",
                Reason.CONSENT_CHECK_FAILED.value,
            )
        if not represented:
            return (
                f"{note} No representative's consent is in force, so a disclosure is refused.",
                Reason.REPRESENTATIVE_CONSENT_NEEDED.value,
            )
    return note, None


def _code(need: CareNeed) -> str:
    return need.value


def _not_covered(record_type: str, field: str, agreement: SharingAgreement) -> str:
    covers = [*agreement.fields, *(f"the {c} category" for c in agreement.categories)]
    return (
        f"{agreement.name!r} does not cover {record_type}.{field}, so a disclosure under it "
        f"leaves it out (it covers {', '.join(covers)})."
    )


def _shared(decision: Decision, party: str, agreement: SharingAgreement) -> str:
    field = decision.field.replace("_", " ")
    return (
        f"{field} may be shared with {party} under {agreement.name!r}, on the basis of "
        f"{plain_description(agreement.basis)}."
    )
