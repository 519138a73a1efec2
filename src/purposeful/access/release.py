"""Before information goes to the person: who asked, the s 57 checks, and the safety review.

The Privacy Act 2020 s 57 asks three things of an agency before it gives access: that it is
satisfied of the requester's identity; that it does not give access when it has reasonable
grounds to believe the request is made under threat of physical or mental harm; and that the
information reaches only the requester, or their agent, who needs the person's written
authority or other proper authorisation. An `AccessRequest` records them:

- `Requester`: who asked, the person or an agent, with a reference to the agent's authority;
- `Check`: one check as made: who made it, how, and where its evidence is (references, never
  values), for each of ``identity``, ``no_threat`` and ``delivery``.

A bundle for release is refused (`purposeful.errors.ReleaseChecksMissing`) until all four
are recorded; a draft (``build(..., draft=True)``) is marked as one and needs none.

Some information must be looked at by a person before it goes out at all, whatever the
request: a family-violence risk flag, the notes of a safety plan. The agency marks it in its
`SubjectAccess` setup (`NeedsReview`, not on the field), and a bundle that would hold any of
it is refused (`purposeful.errors.ReviewPending`) until a named reviewer has looked at it
(`SubjectAccess.review`: read under the review purpose, ``access.safety-review`` by default,
decided and audited as every read is) and decided (`ReviewSheet.decide`): release it, or
withhold it on a ground of s 49(1)(a), (b) or (c) or s 53(b). The decision, a `SafetyReview`,
is recorded with the request. It covers what the reviewer saw: a marked item added or
changed after the review makes the bundle wait for a new one.

People who need more care (`purposeful.care`): the purpose ``access`` (the purpose of
answering a person's requests, in the default pack) can require, for flagged people, a
safety review before release (``AccessRequest.review``, even when nothing is marked) and a
second person's approval (``AccessRequest.approved_by``, someone other than whoever made a
s 57 check or the review). `care_before_release` stops a bundle for release without them;
what it says names what is needed, never the flag. A representative's consent is not a
release requirement: giving people their own information rests on IPP 6, not on consent.

A bundle for release records what it needed (`record_release`): when it has been written,
a ``purposeful.disclosure`` event goes out under ``access`` to the configured sinks (the span
sink, the ledger) with the request's reference, the person's pseudonym, how many records it
holds and, for a person who needs more care, the codes of the care needs met, the approver's
id and the safety review's reference. Never the flag, and nothing of it in the bundle. A
release that cannot be recorded is not left on disk: the bundle is recorded once whole on
disk and before it takes its name, which it takes only once recorded.

What this module must not do: hold a value or an identifier in a repr or a message (the
references here are the agency's own, and are shown only to the agency).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .. import _trail
from .._config import get_configuration
from .._shared.checks import same_person
from ..actors import Actor
from ..care import CareNeed, flags_of, needs_for
from ..errors import (
    AnnotationError,
    AuditSinkError,
    ConfigurationError,
    ReleaseChecksMissing,
    ReviewPending,
    UnknownPurpose,
)
from ..records import RecordPolicy, record_policy
from ..scope import current_scope, use
from ..sensitivity import UNCLASSIFIED
from ..withholding import SAFETY_REVIEW_GROUNDS, WithholdingGround
from .bundle import to_json

__all__ = [
    "RELEASE_PURPOSE",
    "REVIEW_PURPOSE",
    "Authorisation",
    "Check",
    "NeedsReview",
    "Requester",
    "ReviewItem",
    "ReviewSheet",
    "SafetyReview",
    "care_before_release",
    "is_reference",
    "record_release",
    "review_digest",
]

REVIEW_PURPOSE = "access.safety-review"
"""The purpose a reviewer reads marked information under, from the default purpose pack."""

RELEASE_PURPOSE = "access"
"""The purpose whose care requirements a release meets (`care_before_release`), and under
which the release is audited (`record_release`)."""

RELEASE_LAW = "privacy-act-2020-ipp-6"
"""How the audit trail names what a release rests on: access to one's own information."""
TO_THE_REQUESTER = "The person the information is about, or their agent"
"""How the audit trail names whom a release went to."""
RELEASED_BUNDLE = "subject-access-bundle"
"""The record type the audit trail gives a release: the whole bundle, not one record."""
RELEASE_ROLE = "subject-access"
"""The role of the actor a release is audited under when none is given or open: the staff
member who made the delivery check, who hands the bundle over."""

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/#-]{0,99}\Z")


def is_reference(value: object) -> bool:
    """Whether *value* is a reference as a release's checks and copies take it: a letter or
    digit, then letters, digits and ``. _ / # -``, up to 100 characters, no spaces."""
    return isinstance(value, str) and _REFERENCE.match(value) is not None


def _reference(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.default is None:
        return
    if not is_reference(value):
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} takes a reference, such as "
            f"'staff-0007' or 'ID-CHECK-2026-0042': letters, digits and . _ / # -, up to "
            f"100 characters, no spaces. Keep the evidence itself in the agency's records"
        )


class Authorisation(enum.Enum):
    """How an agent is authorised to receive a person's information (s 57)."""

    WRITTEN_AUTHORITY = "written-authority"
    """The person's written authority."""
    OTHER = "other-proper-authorisation"
    """Other proper authorisation, such as a court order or an enduring power of attorney
    that is in effect."""


@attrs.frozen
class Requester:
    """Who asked: the person themselves, or an agent acting for them.

    Use `Requester.person()` or `Requester.agent_for(...)`.

    Attributes:
        agent: True when an agent asked for the person.
        authorisation: for an agent, how they are authorised.
        authority: for an agent, a reference to the authority (the signed letter, the order)
            in the agency's records.
    """

    agent: bool = False
    authorisation: Authorisation | None = None
    authority: str | None = attrs.field(default=None, validator=_reference)

    def __attrs_post_init__(self) -> None:
        if self.agent and (self.authorisation is None or self.authority is None):
            raise ConfigurationError(
                "Requester.agent_for(...) needs the agent's authorisation and a reference to "
                "it (s 57): Requester.agent_for(Authorisation.WRITTEN_AUTHORITY, "
                "authority='AUTH-0042')"
            )
        if self.agent and not isinstance(self.authorisation, Authorisation):
            raise ConfigurationError(
                "Requester.agent_for(authorisation) takes an Authorisation, such as "
                "Authorisation.WRITTEN_AUTHORITY"
            )
        if not self.agent and (self.authorisation is not None or self.authority is not None):
            raise ConfigurationError(
                "Requester.person() takes no authority: the person asked for themselves; "
                "use Requester.agent_for(...) for someone acting for them"
            )

    @classmethod
    def person(cls) -> Requester:
        """The person the information is about asked for it themselves."""
        return cls()

    @classmethod
    def agent_for(cls, authorisation: Authorisation, *, authority: str) -> Requester:
        """An agent asked for the person, authorised as *authorisation* (see `authority`)."""
        return cls(True, authorisation, authority)

    @property
    def kind(self) -> str:
        """``"person"`` or ``"agent"``, as the manifest gives it."""
        return "agent" if self.agent else "person"

    @classmethod
    def parse(cls, text: str) -> Requester:
        """``"person"``, or ``"agent:AUTHORISATION:REFERENCE"`` (AUTHORISATION is
        ``written-authority`` or ``other-proper-authorisation``), as the command line
        takes it.

        Raises:
            ConfigurationError: anything else.
        """
        if text == "person":
            return cls.person()
        kind, _, rest = text.partition(":")
        authorisation, _, authority = rest.partition(":")
        choices = {item.value: item for item in Authorisation}
        if kind != "agent" or authorisation not in choices or not authority:
            raise ConfigurationError(
                "a requester is 'person', or 'agent:written-authority:REFERENCE' or "
                "'agent:other-proper-authorisation:REFERENCE' (a reference to the authority "
                "in your records)"
            )
        return cls.agent_for(choices[authorisation], authority=authority)


@attrs.frozen
class Check:
    """One check made before access is given (s 57), as the agency recorded it.

    Attributes:
        by: a reference to who made it, e.g. ``"staff-0007"``.
        how: a short code for how, e.g. ``"photo-id-sighted"``, ``"asked-in-private"``,
            ``"encrypted-to-requester-key"``.
        evidence: a reference to where the evidence is kept, if anywhere.
    """

    by: str = attrs.field(validator=_reference)
    how: str = attrs.field(validator=_reference)
    evidence: str | None = attrs.field(default=None, validator=_reference)

    @classmethod
    def parse(cls, text: str) -> Check:
        """``"BY:HOW"`` or ``"BY:HOW:EVIDENCE"``, as the command line takes it.

        Raises:
            ConfigurationError: another form, or a part that is not a reference.
        """
        parts = text.split(":") if isinstance(text, str) else []
        if len(parts) not in (2, 3):
            raise ConfigurationError(
                "a check is BY:HOW or BY:HOW:EVIDENCE, references such as "
                "'staff-0007:photo-id-sighted:IDV-0042'"
            )
        return cls(*parts)


#: The s 57 checks a bundle for release needs, by `AccessRequest` attribute, and what each
#: is for: the message of `ReleaseChecksMissing` says so.
RELEASE_CHECKS: Mapping[str, str] = {
    "requester": "who asked: Requester.person(), or Requester.agent_for(...) with a reference "
    "to their written authority or other proper authorisation",
    "identity": "that the requester's identity was confirmed: identity=Check(by=..., how=...)",
    "no_threat": "that there are no reasonable grounds to believe the request is made under "
    "threat of physical or mental harm: no_threat=Check(by=..., how=...)",
    "delivery": "how the bundle will reach only the requester (or their agent): "
    "delivery=Check(by=..., how=...)",
}


@attrs.frozen
class NeedsReview:
    """Information that a person must review before any bundle holds it: every record of
    *record_type*, or one field of it.

    Attributes:
        record_type: the record class.
        field: the field; None for whole records.
    """

    record_type: type
    field: str | None = None

    def __attrs_post_init__(self) -> None:
        policy = _policy(self.record_type, "NeedsReview")
        if self.field is not None and self.field not in policy.fields:
            managed = ", ".join(policy.fields) or "none"
            raise ConfigurationError(
                f"NeedsReview(field={self.field!r}): {policy.name} has no managed field of "
                f"that name (a reviewer's read must be decided and audited); managed fields: "
                f"{managed}"
            )

    @property
    def name(self) -> str:
        """``"Type"`` or ``"Type.field"``, as `ReviewPending` names it."""
        name = record_policy(self.record_type).name
        return name if self.field is None else f"{name}.{self.field}"


def _hidden(value: object) -> str:
    return "<hidden>"


@attrs.frozen
class ReviewItem:
    """One record holding information marked for review, as the reviewer read it.

    Attributes:
        record_type: the record type's name.
        key: the record's key (hidden in repr: it may be the person's id).
        values: the marked fields' values, by field name (hidden in repr).
    """

    record_type: str
    key: str = attrs.field(repr=_hidden)
    values: Mapping[str, Any] = attrs.field(repr=_hidden)


@attrs.frozen
class SafetyReview:
    """A reviewer's decision about the information marked for review, recorded with the
    request (`AccessRequest.review`). Make it with `ReviewSheet.decide`.

    Attributes:
        by: a reference to the reviewer, e.g. ``"staff-0009"``.
        covers: what was reviewed (`review_digest` of the items the reviewer read): a
            bundle waits for a new review when the marked information changed since.
        withhold: what the reviewer withheld, each on a ground of s 49(1)(a), (b), (c) or
            s 53(b); everything else marked was released.
    """

    by: str = attrs.field(validator=_reference)
    covers: str = attrs.field(repr=False)
    withhold: tuple[Any, ...] = attrs.field(default=(), converter=tuple)

    def __attrs_post_init__(self) -> None:
        from .request import Withhold

        for rule in self.withhold:
            if not isinstance(rule, Withhold):
                raise ConfigurationError(
                    f"SafetyReview(withhold=...) takes Withhold values, not {type(rule).__name__}"
                )
            if not _review_ground(rule.ground):
                raise ConfigurationError(
                    f"a safety review withholds on a ground of the Privacy Act 2020 "
                    f"{', '.join(SAFETY_REVIEW_GROUNDS)}; {rule.ground.cite()} is not one. "
                    f"Decide other grounds with build(withhold=...)"
                )


def _review_ground(ground: WithholdingGround) -> bool:
    return ground.within(*SAFETY_REVIEW_GROUNDS)


@attrs.frozen
class ReviewSheet:
    """What a reviewer read for one request (`SubjectAccess.review`).

    Attributes:
        request_id: the request.
        items: each record holding marked information, with the marked values.
        covers: `review_digest` of *items*.
    """

    request_id: str
    items: tuple[ReviewItem, ...] = attrs.field(repr=lambda items: f"<{len(items)} items>")
    covers: str = attrs.field(repr=False)
    #: the id of the reviewer who read the items: the one who decides
    reviewer: str = ""

    def decide(self, *, by: str | None = None, withhold: Iterable[Any] = ()) -> SafetyReview:
        """The reviewer's decision: *withhold* (`Withhold` values on a ground of s 49(1)(a),
        (b), (c) or s 53(b)), and release everything else marked. *by* is the reviewer who
        read the items (their actor id, the default); nobody else decides on them.

        Raises:
            ConfigurationError: *by* is not the reviewer who read them, a bad reference, or
                a ground a safety review cannot use.
        """
        if by is not None and by != self.reviewer:
            raise ConfigurationError(
                "a safety review is decided by the reviewer who read the information "
                "(SubjectAccess.review(reviewer=...)), not by another: have them decide, or "
                "have the other person review it"
            )
        return SafetyReview(by=self.reviewer, covers=self.covers, withhold=tuple(withhold))


def review_digest(
    secret: bytes,
    request_id: str,
    reviewer: str,
    items: Iterable[tuple[str, str, Mapping[str, Any]]],
) -> str:
    """An HMAC-SHA256, under *secret* (the `SubjectAccess`'s own), over the request, the
    reviewer and (record type, key, marked values) of each item, in any order: what a
    review covered, and that *reviewer* read it through `SubjectAccess.review` (nobody
    without the secret can make one, and no value can be guessed from it). The same for the
    reviewer's read and the bundle's."""
    lines = sorted(
        json.dumps([record_type, key, to_json(dict(values))], sort_keys=True, ensure_ascii=True)
        for record_type, key, values in items
    )
    digest = hmac.new(secret, digestmod=hashlib.sha256)
    digest.update(json.dumps([request_id, reviewer]).encode("utf-8") + b"\n")
    for line in lines:
        digest.update(line.encode("ascii") + b"\n")
    return digest.hexdigest()


def _policy(record_type: object, what: str) -> RecordPolicy:
    try:
        return record_policy(record_type)  # type: ignore[arg-type]
    except (AnnotationError, TypeError) as exc:
        raise ConfigurationError(f"{what}(record_type=...): {exc}") from None


def care_before_release(request: Any, releaser: Actor | None = None) -> frozenset[CareNeed]:
    """Check that *request* (an `AccessRequest`) records what `RELEASE_PURPOSE`'s care
    requirements need for its person, and return those needs (empty for most people).
    *releaser* is who releases it (`release_actor`): their approval is not a second
    person's.

    Raises:
        ReviewPending: a safety review is needed and none is recorded with the request.
        ReleaseChecksMissing: a second person's approval is needed and none is recorded,
            or it is by whoever releases it or by someone who made a s 57 check or the
            review (``missing`` holds ``"approved_by"``); or the care flag source failed
            (``"care_flags"``).
    """
    config = get_configuration()
    try:
        wanted = config.registry.care_for(RELEASE_PURPOSE)
    except UnknownPurpose:
        return frozenset()
    source = config.care_flags
    if not wanted or source is None:
        return frozenset()
    where = f"request {request.request_id} cannot be answered yet"
    found = flags_of(source, [request.subject])
    if found is None:
        raise ReleaseChecksMissing(
            f"{where}: it needs to be known whether this person needs more care, and the "
            f"care flag source could not be asked (its failure is logged on the "
            f"'purposeful' logger). Nothing was written",
            missing=("care_flags",),
        )
    needs = needs_for(wanted, found[request.subject])
    if CareNeed.SAFETY_REVIEW in needs and request.review is None:
        raise ReviewPending(
            f"{where}: this person needs more care, and a safety review must be recorded "
            f"before release, even of records nothing is marked in: have a named reviewer "
            f"read them (SubjectAccess.review) and record their decision with the request "
            f"(AccessRequest(review=sheet.decide(...))). Nothing was written",
            marked=(),
        )
    if CareNeed.SECOND_REVIEWER in needs:
        others = {
            check.by
            for check in (request.identity, request.no_threat, request.delivery, request.review)
            if check is not None
        }
        if releaser is not None:
            others.add(releaser.id)
        if request.approved_by is None or any(
            same_person(request.approved_by, other) for other in others
        ):
            same = (
                " (not someone who made a s 57 check or the review, nor whoever releases it)"
            ) * (request.approved_by is not None)
            raise ReleaseChecksMissing(
                f"{where}: this person needs more care, and a second staff member must "
                f"approve the release{same}: record AccessRequest(approved_by=...) with a "
                f"reference to them. Nothing was written",
                missing=("approved_by",),
            )
    return needs


def release_actor(request: Any, actor: Actor | None) -> Actor:
    """Who a release of *request* is audited as: *actor*; else the open scope's actor; else
    the staff member who made the delivery check (role `RELEASE_ROLE`), who hands it over."""
    if actor is not None:
        if not isinstance(actor, Actor):
            raise ConfigurationError("build(actor=...) takes a purposeful.Actor")
        return actor
    scope = current_scope()
    if scope is not None and not scope.closed:
        return scope.actor
    return Actor(request.delivery.by, RELEASE_ROLE, UNCLASSIFIED)


def record_release(request: Any, needs: frozenset[CareNeed], records: int, actor: Actor) -> None:
    """Record that a bundle answering *request* (an `AccessRequest`) was released: a
    ``purposeful.disclosure`` event in a scope of `RELEASE_PURPOSE` for *actor*, sent to the
    configured sinks when it closes. It holds the request's reference, the person's pseudonym
    (when a pseudonymiser is configured), *records* (how many the bundle holds) and, for
    *needs* (what `care_before_release` found), their codes, the approver's id and the
    reference of the safety review (what it covers). Never the flags.

    Raises:
        AuditSinkError: a sink failed to take it (the caller removes the bundle).
        UnknownPurpose: the registry has no `RELEASE_PURPOSE`.
    """
    from ..audit.conventions import DisclosureAttribute as D
    from ..sharing.values import new_id

    config = get_configuration()
    audited: dict[str, Any] = {
        D.ID: new_id(),
        D.AGREEMENT: RELEASE_LAW,
        D.RECIPIENT: TO_THE_REQUESTER,
        D.RECORD_TYPE: RELEASED_BUNDLE,
        D.FIELDS: [],
        D.STATEMENTS_COUNT: 0,
        D.REQUEST: request.request_id,
        D.RECORDS_COUNT: records,
    }
    if _trail.has_receivers(config):
        pseudonym = _trail.pseudonym_of(request.subject, config)
        if pseudonym is not None:
            audited[D.SUBJECT] = pseudonym
    if needs:
        audited[D.CARE_NEEDS] = sorted(need.value for need in needs)
        if CareNeed.SECOND_REVIEWER in needs:
            audited[D.CARE_SECOND_REVIEWER] = request.approved_by
        if CareNeed.SAFETY_REVIEW in needs and request.review is not None:
            audited[D.CARE_SAFETY_REVIEW] = request.review.covers
    with use(RELEASE_PURPOSE, actor=actor) as scope:
        scope.note_disclosure(audited)


def unrecorded(request_id: str, error: AuditSinkError) -> AuditSinkError:
    """The error a release that could not be recorded raises: its bundle was not put in
    place."""
    return AuditSinkError(
        f"the release of request {request_id} could not be recorded in the audit trail, so "
        f"no bundle was written (a file already at its path is left as it was) and nothing "
        f"was released; a sink that did take the record holds a release that did not take "
        f"place: {error} Build it again once the sink takes reports"
    )
