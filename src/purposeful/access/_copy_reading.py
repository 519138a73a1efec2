"""Reading the records for a copy for the person (`copies`): which records, what is held
back for a safety review, and each field as an item of the copy.

Private to the access package: `copy_for_person` calls it inside the purpose scope the copy
is read in. Every managed field it shows is decided and noted by that scope (a refused one
becomes an item said not to be shown); a field marked for safety review that no review
covers is not read, only checked for presence, as a bundle checks it; a field that declares
a withholding ground is not read at all.

What this module must not do: put a value or a subject id in a message; read a field marked
for review that no review covers through the scope; or name such a field on the copy.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from .._shared.nztime import long_date, nz_time
from ..asking import Verdict, law_for, who_may_see
from ..bases import BasisKind, described_to_person
from ..decisions import Outcome
from ..errors import ConfigurationError, PurposefulError, ReviewPending, SubjectAccessError
from ..records import FieldPolicy, RecordPolicy, record_policy
from ..scope import Scope
from ..sensitivity import Level
from ..typing import ProvenanceSource
from ..withholding import WithholdingGround
from . import _contents
from ._parts import provenance_of
from ._spool import _text as cell_text
from .bundle import to_json
from .copies import CopyItem, CopyRecord, ItemStatus
from .release import SafetyReview, review_digest
from .request import SubjectAccess, Withhold

__all__ = ["Marked", "Reader", "marked", "origins", "records_for", "review_rules"]


def records_for(
    access: SubjectAccess, subject: str, records: Iterable[object] | None
) -> list[object]:
    """The records to copy, each checked to be a purposeful record about *subject*."""
    if records is None:
        if not len(access.sources):
            raise SubjectAccessError(
                "no data source is registered and no records were passed: pass records=[...] "
                "or register a data source with @access.source('name')"
            )
        return [
            obj
            for name, fetch in access.sources.items()
            for obj in _contents.records_of(name, fetch, subject)
        ]
    if isinstance(records, str | bytes) or not isinstance(records, Iterable):
        raise ConfigurationError("copy_for_person(records=...) takes a list of records")
    found = list(records)
    for obj in found:
        try:
            policy = record_policy(type(obj))
        except PurposefulError:
            raise SubjectAccessError(
                f"copy_for_person(records=...) holds a {type(obj).__name__}, which is not a "
                f"purposeful record; pass instances of @purposeful.record classes"
            ) from None
        if policy.subject_of(obj) != subject:
            raise SubjectAccessError(
                f"copy_for_person(records=...) holds a {policy.name} record about someone "
                f"other than the person the copy is for; nothing was read or logged. A copy "
                f"must never hold another person's information"
            )
    return found


@attrs.frozen
class Marked:
    """The records holding information marked for safety review, as the bundle notes them:
    (record, fields marked and present, whole) by the record's identity, and the items a
    review digest covers."""

    by_record: Mapping[int, tuple[tuple[str, ...], bool]]
    items: tuple[tuple[str, str, dict[str, Any]], ...]
    present: bool

    def held(self, obj: object, review: SafetyReview | None) -> tuple[tuple[str, ...], bool]:
        """The fields of *obj* held back, and whether the whole record is."""
        if review is not None:
            return (), False
        return self.by_record.get(id(obj), ((), False))

    def any_held(self, review: SafetyReview | None) -> bool:
        return review is None and self.present


def marked(access: SubjectAccess, records: list[object]) -> Marked:
    by_record: dict[int, tuple[tuple[str, ...], bool]] = {}
    items: list[tuple[str, str, dict[str, Any]]] = []
    for obj in records:
        policy = record_policy(type(obj))
        marked = access.marked_for_review(policy)
        if marked is None:
            continue
        fields, whole = marked
        # every marked field is left out until reviewed, held or not, so that what the page
        # names does not tell which records hold something to review
        # read without a decision, only to see whether there is anything to review, as
        # the bundle does: never shown, never kept past the digest
        values = {name: _contents._raw(policy, obj, name) for name in fields}
        present = tuple(name for name, value in values.items() if _contents.present(value))
        if whole or present:
            items.append((policy.name, _key(policy, obj), values))
        by_record[id(obj)] = (fields, whole)
    return Marked(by_record, tuple(items), bool(items))


def review_rules(
    access: SubjectAccess, reference: str, review: SafetyReview | None, marked: Marked
) -> Mapping[type, tuple[Withhold, ...]]:
    """The reviewer's decisions, by record class, once the review is checked to cover the
    marked information as it is now."""
    if review is None:
        return {}
    expected = review_digest(access._review_secret, reference, review.by, marked.items)
    if not hmac.compare_digest(review.covers, expected):
        names = sorted({record_type for record_type, _, _ in marked.items})
        raise ReviewPending(
            f"the review given does not cover the information marked for safety review as "
            f"it is now ({', '.join(names) or 'nothing is marked'}): it was made for another "
            f"reference, or something was added or edited since. Review it again under this "
            f"copy's reference (SubjectAccess.review), or leave review= out to hold it back",
            marked=tuple(names),
        )
    rules: dict[type, list[Withhold]] = {}
    for rule in review.withhold:
        rules.setdefault(rule.record_type, []).append(rule)
    return {cls: tuple(found) for cls, found in rules.items()}


def origins(*logs: object, subject: str) -> Mapping[tuple[str, str, str], str]:
    """Where fields of *subject*'s records came from, by (record type, record key, field):
    "from Kāinga Ora's referral of 3 March 2026", the latest referral winning, read from the
    first of *logs* that keeps provenance (a sharing store, `purposeful.sharing.prefill`)."""
    log = next((log for log in logs if isinstance(log, ProvenanceSource)), None)
    if log is None:
        return {}
    lines: dict[tuple[str, str, str], str] = {}
    for kept in provenance_of(log, subject, "make the copy"):  # oldest first: later wins
        for field in kept.fields:
            lines[(kept.record_type, kept.record_key, field)] = kept.describe()
    return lines


class Reader:
    """Reads records into copy items, in one scope; who may see each field is asked once a
    record type."""

    def __init__(
        self,
        access: SubjectAccess,
        roles: Mapping[str, Level],
        rules: Mapping[type, tuple[Withhold, ...]],
        origins: Mapping[tuple[str, str, str], str],
    ) -> None:
        self.wording = access.wording
        self.roles = roles
        self.rules = rules
        self.origins = origins
        self._who: dict[str, dict[str, tuple[str, ...]]] = {}

    def record(
        self, obj: object, scope: Scope, *, held: tuple[tuple[str, ...], bool]
    ) -> CopyRecord:
        """*obj* as a record of the copy, without the fields *held* back (a whole record
        held back is left out by the caller)."""
        policy = record_policy(type(obj))
        held_fields = held[0]
        items: list[CopyItem] = []
        key = _key(policy, obj)
        for name in policy.names:
            if name in held_fields or name == policy.subject:
                # held back until reviewed: not read, not named, and neither are the
                # marked fields with nothing in them, which would tell which are held;
                # the subject id is for our systems, not news to the person
                continue
            item = self._item(policy, obj, name, scope, key)
            if item is not None:
                items.append(item)
        return CopyRecord(policy.name, self.wording.label(policy.name), tuple(items))

    def _item(
        self, policy: RecordPolicy, obj: object, name: str, scope: Scope, key: str
    ) -> CopyItem | None:
        """The item for field *name*; None when nothing is recorded in it (None)."""
        wording = self.wording
        label = wording.field_label(policy.name, name)
        managed = policy.fields.get(name)
        if managed is None:  # not managed: the library makes no claim about it
            raw = getattr(obj, name, None)
            if raw is None:
                return None
            return CopyItem(
                policy.name, name, label, ItemStatus.SHOWN, _shown(raw, policy.name, name)
            )
        about = self._about(managed)
        ground = managed.withhold or self._decided_ground(policy, name, key)
        if ground is not None:
            return CopyItem(
                policy.name, name, label, ItemStatus.WITHHELD, None, ground=ground, **about
            )
        decision = scope.decide(managed, obj, refusal=Outcome.WITHHELD)
        if not decision.allowed:
            return CopyItem(policy.name, name, label, ItemStatus.NOT_READABLE, None, **about)
        scope.read(managed, obj)  # noted: handed out to the record's person
        raw = managed._raw(obj)
        if raw is None:
            return None
        value = _shown(raw, policy.name, name)
        source = self.origins.get((policy.name, key, name))
        return CopyItem(policy.name, name, label, ItemStatus.SHOWN, value, source=source, **about)

    def _decided_ground(
        self, policy: RecordPolicy, name: str, key: str
    ) -> WithholdingGround | None:
        for rule in self.rules.get(policy.cls, ()):
            if (rule.key is None or rule.key == key) and rule.field in (None, name):
                return rule.ground
        return None

    def _about(self, managed: FieldPolicy) -> dict[str, Any]:
        """What the page says of a managed field, from its declaration only."""
        say = self.wording.say
        purposes, law = [], []
        for purpose, basis in managed.purposes.values():
            purposes.append(f"{purpose.title}: {purpose.description}")
            cited = "; ".join(law_for(basis))
            # the page speaks to the person: their consent, their authorisation
            described = described_to_person(basis)
            described = say(described)
            law.append(
                f"{purpose.title}: {described}" + ("" if cited in described else f" ({cited})")
            )
        consent = tuple(
            purpose.title
            for ident, (purpose, basis) in managed.purposes.items()
            if basis.kind is BasisKind.CONSENT or ident in managed.consent_for
        )
        return {
            "purposes": tuple(purposes),
            "law": tuple(law),
            "who": tuple(say(text) for text in self._who_of(managed)),
            "supply": managed.supply,
            "consent": consent,
        }

    def _who_of(self, managed: FieldPolicy) -> tuple[str, ...]:
        by_field = self._who.get(managed.record.name)
        if by_field is None:
            by_field = self._who[managed.record.name] = _who_may_see(managed.record.cls, self.roles)
        return by_field.get(managed.name, ())


#: A basis that is the person's own choice, as the page says it to them.
#: The answers that let a role see a field, best first, and what the page adds to the role.
_SEES = {
    Verdict.YES: "",
    Verdict.WITH_CONSENT: " (with your consent)",
    Verdict.WITH_JUSTIFICATION: " (only with a recorded reason, to keep someone safe)",
}


def _who_may_see(cls: type, roles: Mapping[str, Level]) -> dict[str, tuple[str, ...]]:
    """For each managed field of *cls*: each role that may see it for some purpose, with
    the condition of its best answer (`who_may_see`, the rules reads are decided by)."""
    best: dict[str, dict[str, Verdict]] = {}
    rank = list(_SEES)
    for answer in who_may_see(cls, roles=roles):
        if answer.verdict not in _SEES:
            continue
        found = best.setdefault(answer.field, {})
        current = found.get(answer.role)
        if current is None or rank.index(answer.verdict) < rank.index(current):
            found[answer.role] = answer.verdict
    return {
        field: tuple(f"{role}{_SEES[verdict]}" for role, verdict in verdicts.items())
        for field, verdicts in best.items()
    }


def _shown(value: object, record_type: str, field: str) -> str:
    """*value* as the person reads it: a date the New Zealand way, text as it is, anything
    else as the bundle writes it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return nz_time(value) if value.tzinfo is not None else value.isoformat(sep=" ")
    if isinstance(value, date):
        return long_date(value)
    if isinstance(value, str):
        return value
    try:
        # JSON text is where a very long integer fails (Python's digit limit), so both
        return cell_text(to_json(value))
    except ValueError:
        problem = SubjectAccessError(
            f"the {field!r} field of a {record_type} record holds a value that cannot be "
            f"written as text (such as a very long integer); no copy was made"
        )
    raise problem  # outside the handler: the cause may quote the value


def _key(policy: RecordPolicy, obj: object) -> str:
    """*obj*'s key as text, or `SubjectAccessError` (never the key) if it cannot be."""
    try:
        return policy.key_of(obj)
    except ValueError:
        problem = SubjectAccessError(
            f"the key of a {policy.name} record cannot be written as text (such as a very "
            f"long integer); no copy was made"
        )
    raise problem  # outside the handler: the cause may quote the key
