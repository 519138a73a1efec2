"""A copy for the person, at the point of service: what was just recorded about them.

After an intake or an assessment, a caseworker hands the person a plain-language page of what
was recorded (DPUP asks frontline services to "proactively provide service users with copies
of key forms/data-entry screens"). `copy_for_person` makes it, a `PersonCopy`, from the
records passed in or from the application's registered data sources (`SubjectAccess`):

- every managed field is read inside a purpose scope (the one open, or the *purpose* and
  *actor* given), so every read is decided and audited as any other read; a field the scope
  may not read is left off the page, which says in plain words that it is not shown;
- a field that declares a withholding ground (``withhold=``) is not shown either, and the
  page says why, with the law;
- information the agency marked for safety review (`NeedsReview`) is held back, exactly as
  in a bundle, until a named reviewer's decision covering it (`SafetyReview`) is given: the
  page says that something is held back, never what;
- each item says what it is (the agency's labels, `Wording`), why it is held (its purposes
  and the law each rests on), who may see it (`purposeful.asking.who_may_see`, the rules
  reads are decided by), whether the person had to give it (`purposeful.supply`, IPP 3(1)),
  and what they can do (ask for a correction, IPP 7; withdraw consent; ask for everything,
  IPP 6);
- the copy is a disclosure to the person (Privacy Act 2020, IPP 11(1)(b)): before it is
  handed over, each record's shown fields are appended to the disclosure log (the
  configured ``disclosure_log``, else the `SubjectAccess`'s disclosure store when it is a
  log), and a ``purposeful.disclosure`` event goes out with the scope's report. A copy that
  cannot be logged is not made.

The page itself is built in `_copy_page` from document blocks (escaping by construction).

What this module must not do: put a value or a subject id in a message, a repr, a span or a
log entry (the log holds ids, names and field names); read a field marked for review that no
review covers; or hand over a copy it has not logged.
"""

from __future__ import annotations

import contextlib
import enum
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs

from .. import _trail
from .._config import get_configuration
from .._shared.agency import AgencyDetails
from .._shared.checks import utc_moment
from .._shared.document import Document, render_html, render_markdown, render_text
from .._shared.files import atomic_file
from .._shared.nztime import long_date, nz_time
from ..actors import Actor
from ..asking import Verdict, law_for, who_may_see
from ..audit.conventions import DisclosureAttribute
from ..bases import BasisKind, plain_description
from ..decisions import Outcome
from ..errors import (
    ConfigurationError,
    PurposefulError,
    ReviewPending,
    SubjectAccessError,
    detached,
)
from ..records import FieldPolicy, RecordPolicy, record_policy
from ..scope import Scope, current_scope, use
from ..sensitivity import Level
from ..sharing.values import Disclosure, new_id
from ..supply import Supply
from ..typing import DisclosureLog
from ..withholding import WithholdingGround
from . import _contents
from ._spool import _text as cell_text
from .bundle import to_json
from .page import Wording
from .release import SafetyReview, review_digest
from .request import SubjectAccess, Withhold

__all__ = [
    "TO_THE_PERSON",
    "CopyItem",
    "CopyRecord",
    "ItemStatus",
    "Passage",
    "PersonCopy",
    "copy_for_person",
]

#: How the disclosure log names a copy given to the person: the recipient, the "agreement"
#: (the law it rests on, not an agreement with anyone) and the basis.
TO_THE_PERSON = "The person the information is about"
_LAW_ID = "privacy-act-2020-ipp-11-1-b"
_LAW_NAME = "Privacy Act 2020, IPP 11(1)(b): disclosure to the person concerned"
_BASIS = (
    "disclosure to the individual concerned (Privacy Act 2020, information privacy principle "
    "11(1)(b))"
)

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/#-]{0,99}\Z")
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*\Z")


def _hidden(value: object) -> str:
    return "<hidden>" if value is not None else "None"


def _passage_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("Passage(text=...) takes the agency's text: non-empty text")


def _lang(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, str) or not _LANG.match(value)):
        raise ConfigurationError(
            f"{type(instance).__name__}(lang=...) takes a language tag (BCP 47), such as "
            f"'mi' for te reo Māori or 'en-NZ'"
        )


@attrs.frozen
class Passage:
    """Text the agency supplies for the page, in the page's language or another.

    The library writes its pages in English; an agency adds its own words, such as a
    welcome in te reo Māori (``Passage("Nau mai, haere mai.", lang="mi")``): the page marks
    them with their language, so a screen reader speaks them right. A blank line starts a
    new paragraph. Text, never markup: it is escaped where it is written.

    Attributes:
        text: the passage.
        lang: its language tag (BCP 47); None for the page's own.
    """

    text: str = attrs.field(validator=_passage_text)
    lang: str | None = attrs.field(default=None, validator=_lang)


class ItemStatus(enum.Enum):
    """Whether an item is on the copy, and if not, why."""

    SHOWN = "shown"
    """On the copy, with what was recorded."""
    WITHHELD = "withheld"
    """Not on the copy, on a withholding ground the page gives with its law: the field
    declares one, or a safety reviewer decided it."""
    NOT_READABLE = "not-readable"
    """Not on the copy: the purpose scope it was made in may not read it (a refused read).
    The person can ask for everything held about them (IPP 6)."""


@attrs.frozen
class CopyItem:
    """One item of a record on the copy.

    Attributes:
        record_type: the record type's name.
        field: the field's name.
        label: its plain label (`Wording.field_label`).
        status: whether it is on the copy (`ItemStatus`).
        value: what was recorded, as text; None when it is not on the copy. Hidden in repr.
        purposes: why it is held: each purpose as ``"Title: description"``.
        law: what each purpose's use rests on, in words, with the law cited.
        who: who may see it: each role, with its condition where it has one.
        supply: whether the person had to give it, and what happens if not (IPP 3(1)).
        consent: the titles of the purposes it is used for only with the person's consent.
        ground: the ground it is withheld on (`ItemStatus.WITHHELD`).
        source: where it came from ("from Kāinga Ora's referral of 3 March 2026"), when
            that is known; None otherwise.
    """

    record_type: str
    field: str
    label: str
    status: ItemStatus
    value: str | None = attrs.field(default=None, repr=_hidden)
    purposes: tuple[str, ...] = ()
    law: tuple[str, ...] = ()
    who: tuple[str, ...] = ()
    supply: Supply | None = None
    consent: tuple[str, ...] = ()
    ground: WithholdingGround | None = None
    source: str | None = None

    @property
    def shown(self) -> bool:
        """True if the item is on the copy."""
        return self.status is ItemStatus.SHOWN


@attrs.frozen
class CopyRecord:
    """One record on the copy: its label and its items, in declaration order."""

    record_type: str
    label: str
    items: tuple[CopyItem, ...]


@attrs.frozen
class PersonCopy:
    """A copy for the person of what was recorded about them (`copy_for_person`).

    Render it with `html` (large print with ``large_print=True``), `markdown` or `text`,
    or write it to a file with `write`. Its repr shows no value.

    Attributes:
        reference: the agency's reference for the copy.
        agency: who gives it, and how to reach its privacy officer.
        made: when it was made (UTC).
        records: what was recorded, record by record.
        held_back: True when information marked for safety review is held back until a
            reviewer has looked at it.
        passages: the agency's own text for the page, in its language.
        disclosures: the ids of the disclosure log's entries for this copy, one a record.
        wording: the page's wording (`Wording`: labels, phrases, greeting, language).
    """

    reference: str
    agency: AgencyDetails
    made: datetime
    records: tuple[CopyRecord, ...]
    held_back: bool
    passages: tuple[Passage, ...]
    disclosures: tuple[str, ...]
    wording: Wording = attrs.field(repr=False)

    @property
    def items(self) -> tuple[CopyItem, ...]:
        """Every item of every record, in order."""
        return tuple(item for record in self.records for item in record.items)

    def document(self, *, large_print: bool = False) -> Document:
        """The copy as document blocks (`purposeful._shared.document`)."""
        from ._copy_page import copy_document

        return copy_document(self, large_print=large_print)

    def html(self, *, large_print: bool = False) -> str:
        """The copy as one self-contained, printable HTML page."""
        return render_html(self.document(large_print=large_print))

    def markdown(self) -> str:
        """The copy as Markdown."""
        return render_markdown(self.document())

    def text(self) -> str:
        """The copy as plain text."""
        return render_text(self.document())

    def write(
        self,
        target: str | Path,
        *,
        format: str = "html",
        large_print: bool = False,
        overwrite: bool = False,
    ) -> Path:
        """Write the copy to *target*, atomically: a file is whole or not there.

        Args:
            format: ``"html"``, ``"markdown"`` or ``"text"``.
            large_print: for HTML, the large-print style.
            overwrite: replace *target* if it exists.

        Raises:
            ConfigurationError: an unknown format.
            SubjectAccessError: *target* exists (without *overwrite*), its folder does not,
                or it could not be written; nothing was written.
        """
        renderers = {
            "html": lambda: self.html(large_print=large_print),
            "markdown": self.markdown,
            "text": self.text,
        }
        if format not in renderers:
            raise ConfigurationError(
                f"PersonCopy.write(format=...) takes 'html', 'markdown' or 'text', not {format!r}"
            )
        data = renderers[format]().encode("utf-8")
        path = Path(target).absolute()
        if not path.parent.is_dir():
            raise SubjectAccessError(f"cannot write {path}: its folder does not exist")
        if path.exists() and not overwrite:
            raise SubjectAccessError(
                f"{path} exists; nothing was replaced. Choose another name, or pass overwrite=True"
            )
        try:
            with atomic_file(path, overwrite=overwrite) as file:
                file.write(data)
        except FileExistsError:
            raise SubjectAccessError(
                f"{path} appeared while the copy was being written; nothing was replaced"
            ) from None
        except OSError as exc:
            raise SubjectAccessError(
                f"could not write {path} ({exc.strerror or type(exc).__name__}); check free "
                f"space and permissions; nothing was written"
            ) from None
        return path


def copy_for_person(
    access: SubjectAccess,
    subject: str,
    *,
    reference: str,
    records: Iterable[object] | None = None,
    purpose: str | None = None,
    actor: Actor | None = None,
    roles: Mapping[str, Level] | None = None,
    review: SafetyReview | None = None,
    passages: Sequence[Passage] = (),
    at: datetime | None = None,
) -> PersonCopy:
    """A copy for the person of what was recorded about them, read in a purpose scope and
    logged as a disclosure to them (Privacy Act 2020, IPP 11(1)(b)).

    Args:
        access: the application's `SubjectAccess`: its agency, wording, data sources,
            disclosure store and the information it marks for safety review.
        subject: the person's identifier, as the records' subject field holds it.
        reference: the agency's reference for the copy, e.g. ``"INTAKE-2026-0107"``; also
            the reference a safety review of it is made under.
        records: the records to copy (what was just recorded); default: every record the
            registered data sources yield for *subject*.
        purpose: the purpose of the scope the fields are read in; default: the open
            scope's.
        actor: who reads them and hands the copy over; default: the open scope's.
        roles: the agency's roles and their clearances, for "who may see it"
            (``{"caseworker": SENSITIVE}``); default: the actor's role only.
        review: a reviewer's decision about the information marked for safety review,
            made under *reference* (`SubjectAccess.review` of an `AccessRequest` with
            this reference); without one, that information is held back.
        passages: the agency's own text for the page (a greeting in te reo Māori, say).
        at: when the copy is made (timezone-aware); default now.

    Raises:
        ConfigurationError: no purpose or actor (and no scope open), a bad reference, no
            disclosure log, or an argument of the wrong kind.
        SubjectAccessError: a record that is not a purposeful record or is about someone
            else, a source that failed, or a value that cannot be written as text.
        ReviewPending: *review* does not cover the marked information as it is now.
        StoreError: the disclosure log could not record the copy; no copy is made.
    """
    try:
        return _copy(
            access, subject, reference, records, purpose, actor, roles, review, passages, at
        )
    except PurposefulError as error:
        # raised here, not in the frames below, which hold values and the subject id
        raise detached(error) from error.__cause__


def _copy(
    access: SubjectAccess,
    subject: str,
    reference: str,
    records: Iterable[object] | None,
    purpose: str | None,
    actor: Actor | None,
    roles: Mapping[str, Level] | None,
    review: SafetyReview | None,
    passages: Sequence[Passage],
    at: datetime | None,
) -> PersonCopy:
    if not isinstance(access, SubjectAccess):
        raise ConfigurationError(
            "copy_for_person() takes the application's SubjectAccess as its first argument"
        )
    if not isinstance(subject, str) or not subject:
        raise ConfigurationError(
            "copy_for_person(subject) is the person's identifier as your records hold it "
            "(a non-empty string)"
        )
    if not isinstance(reference, str) or not _REFERENCE.match(reference):
        raise ConfigurationError(
            "copy_for_person(reference=...) takes the copy's reference, such as "
            "'INTAKE-2026-0107': letters, digits and . _ / # -, up to 100 characters"
        )
    if review is not None and not isinstance(review, SafetyReview):
        raise ConfigurationError(
            "copy_for_person(review=...) takes a SafetyReview (ReviewSheet.decide())"
        )
    chosen_passages = tuple(passages)
    if not all(isinstance(passage, Passage) for passage in chosen_passages):
        raise ConfigurationError("copy_for_person(passages=...) takes Passage values")
    made = datetime.now(UTC) if at is None else utc_moment(at, "at=", ConfigurationError)
    scope = current_scope()
    if scope is not None and scope.closed:
        scope = None
    purpose = purpose if purpose is not None else (scope.purpose.id if scope else None)
    actor = actor if actor is not None else (scope.actor if scope else None)
    if purpose is None or actor is None:
        raise ConfigurationError(
            "copy_for_person() reads the fields in a purpose scope: pass purpose= and actor=, "
            "or call it inside `with purposeful.use(purpose, actor=...)`"
        )
    if not isinstance(actor, Actor):
        raise ConfigurationError("copy_for_person(actor=...) takes a purposeful.Actor")
    log = _disclosure_log(access)
    who_roles: Mapping[str, Level] = (
        dict(roles) if roles is not None else {actor.role: actor.clearance}
    )
    found = _records(access, subject, records)
    marked = _marked(access, found)
    rules = _review_rules(access, reference, review, marked)
    reader = _Reader(access, who_roles, rules)
    copied: list[CopyRecord] = []
    logged: list[str] = []
    # the open scope, when the copy is for its purpose and actor (its report holds the
    # reads and the disclosure); otherwise a scope of the copy's own
    same = scope is not None and scope.purpose.id == purpose and scope.actor == actor
    opened: contextlib.AbstractContextManager[Scope] = (
        contextlib.nullcontext(scope) if same and scope is not None else use(purpose, actor=actor)
    )
    with opened as own:
        for obj in found:
            copied.append(reader.record(obj, own, held=marked.held(obj, review)))
        config = get_configuration()
        for obj, record in zip(found, copied, strict=True):
            shown = tuple(item.field for item in record.items if item.shown)
            if not shown:
                continue
            policy = record_policy(type(obj))
            disclosure = log.log(
                Disclosure(
                    id=new_id(),
                    subject=subject,
                    at=made,
                    recipient=TO_THE_PERSON,
                    agreement=_LAW_ID,
                    agreement_name=_LAW_NAME,
                    purpose=own.purpose.id,
                    basis=_BASIS,
                    record_type=policy.name,
                    record_key=policy.key_of(obj),
                    fields=shown,
                )
            )
            logged.append(disclosure.id)
            pseudonym = (
                _trail.pseudonym_of(subject, config) if _trail.has_receivers(config) else None
            )
            own.note_disclosure(_audited(disclosure, pseudonym))
    return PersonCopy(
        reference=reference,
        agency=access.agency,
        made=made,
        records=tuple(copied),
        held_back=marked.any_held(review),
        passages=chosen_passages,
        disclosures=tuple(logged),
        wording=access.wording,
    )


def _disclosure_log(access: SubjectAccess) -> DisclosureLog:
    """Where the copy is logged: the configured disclosure log, else the `SubjectAccess`'s
    disclosure store when it is a log."""
    log = get_configuration().disclosure_log
    if log is None and isinstance(access.disclosures, DisclosureLog):
        log = access.disclosures
    if log is None:
        raise ConfigurationError(
            "a copy for the person is a disclosure to them (IPP 11(1)(b)) and is logged "
            "before it is handed over: configure a disclosure log first, e.g. "
            "purposeful.configure(disclosure_log=SQLiteSharingStore(path))"
        )
    return log


def _records(access: SubjectAccess, subject: str, records: Iterable[object] | None) -> list[object]:
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
class _Marked:
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


def _marked(access: SubjectAccess, records: list[object]) -> _Marked:
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
            items.append((policy.name, policy.key_of(obj), values))
        by_record[id(obj)] = (fields, whole)
    return _Marked(by_record, tuple(items), bool(items))


def _review_rules(
    access: SubjectAccess, reference: str, review: SafetyReview | None, marked: _Marked
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


class _Reader:
    """Reads records into copy items, in one scope; who may see each field is asked once a
    record type."""

    def __init__(
        self,
        access: SubjectAccess,
        roles: Mapping[str, Level],
        rules: Mapping[type, tuple[Withhold, ...]],
    ) -> None:
        self.wording = access.wording
        self.roles = roles
        self.rules = rules
        self._who: dict[str, dict[str, tuple[str, ...]]] = {}

    def record(self, obj: object, scope: Any, *, held: tuple[tuple[str, ...], bool]) -> CopyRecord:
        policy = record_policy(type(obj))
        held_fields, whole = held
        items: list[CopyItem] = []
        if not whole:
            key = policy.key_of(obj)
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
        self, policy: RecordPolicy, obj: object, name: str, scope: Any, key: str
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
        return CopyItem(policy.name, name, label, ItemStatus.SHOWN, value, **about)

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
            described = plain_description(basis)
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
        data = to_json(value)
    except ValueError:
        problem = SubjectAccessError(
            f"the {field!r} field of a {record_type} record holds a value that cannot be "
            f"written as text (such as a very long integer); no copy was made"
        )
    else:
        return cell_text(data)
    raise problem  # outside the handler: the cause may quote the value


def _audited(disclosure: Disclosure, pseudonym: str | None) -> dict[str, Any]:
    """The copy's disclosure as the audit trail gives it: ids, names and codes, never
    values; the person by pseudonym only (left out without one)."""
    audited: dict[str, Any] = {
        DisclosureAttribute.ID: disclosure.id,
        DisclosureAttribute.AGREEMENT: disclosure.agreement,
        DisclosureAttribute.RECIPIENT: disclosure.recipient,
        DisclosureAttribute.RECORD_TYPE: disclosure.record_type,
        DisclosureAttribute.FIELDS: list(disclosure.fields),
        DisclosureAttribute.STATEMENTS_COUNT: 0,
    }
    if pseudonym is not None:
        audited[DisclosureAttribute.SUBJECT] = pseudonym
    return audited
