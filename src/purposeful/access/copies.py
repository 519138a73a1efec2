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

The records are read into items by the private `_copy_reading`, in the copy's scope; the page
is built by `_copy_page` from document blocks (escaping by construction).

What this module must not do: put a value or a subject id in a message, a repr, a span or a
log entry (the log holds ids, names and field names); read a field marked for review that no
review covers; or hand over a copy it has not logged.
"""

from __future__ import annotations

import contextlib
import enum
import traceback
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from .. import _trail
from .._config import get_configuration
from .._shared.agency import AgencyDetails
from .._shared.checks import utc_moment
from .._shared.document import Document, render_html, render_markdown, render_text
from .._shared.files import atomic_file
from .._shared.language import LANGUAGE_TAG_HINT, is_language_tag
from ..actors import Actor
from ..errors import (
    ConfigurationError,
    PurposefulError,
    SubjectAccessError,
    detached,
)
from ..records import record_policy
from ..scope import Scope, current_scope, use
from ..sensitivity import Level
from ..sharing.values import TO_THE_PERSON_LAW, Disclosure, new_id
from ..supply import Supply
from ..typing import DisclosureLog
from ..withholding import WithholdingGround
from .page import Wording
from .release import SafetyReview, is_reference
from .request import SubjectAccess

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
_LAW_ID = TO_THE_PERSON_LAW
_LAW_NAME = "Privacy Act 2020, IPP 11(1)(b): disclosure to the person concerned"
_BASIS = (
    "disclosure to the individual concerned (Privacy Act 2020, information privacy principle "
    "11(1)(b))"
)


def _hidden(value: object) -> str:
    return "<hidden>" if value is not None else "None"


def _passage_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("Passage(text=...) takes the agency's text: non-empty text")


def _lang(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not is_language_tag(value):
        raise ConfigurationError(
            f"{type(instance).__name__}(lang=...) takes {LANGUAGE_TAG_HINT}; 'mi' is te reo Māori"
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
        AuditSinkError: an audit sink or the pseudonymiser failed as the copy's own scope
            closed, after the log took the copy: the error's ``result`` is the `PersonCopy`
            to hand over (making it again would log it twice). In a scope of the caller's,
            the copy is handed back and the scope's exit raises.
    """
    try:
        return _copy(
            access, subject, reference, records, purpose, actor, roles, review, passages, at
        )
    except PurposefulError as error:
        # raised here, not in the frames below, which hold values and the subject id
        raise detached(error) from error.__cause__
    except BaseException as error:  # an error of another's (a record's, a store's), an
        # interrupt: the frames below keep their lines, never their locals
        traceback.clear_frames(error.__traceback__)
        raise


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
    if not is_reference(reference):
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
    if roles is not None and not (
        isinstance(roles, Mapping) and all(isinstance(role, str) for role in roles)
    ):
        raise ConfigurationError(
            "copy_for_person(roles=...) takes the agency's roles and their clearances, such "
            "as {'caseworker': SENSITIVE}"
        )
    log = _disclosure_log(access)
    who_roles: Mapping[str, Level] = (
        dict(roles) if roles is not None else {actor.role: actor.clearance}
    )
    from ._copy_reading import Reader, marked, origins, records_for, review_rules

    found = records_for(access, subject, records)
    marks = marked(access, found)
    rules = review_rules(access, reference, review, marks)
    reader = Reader(access, who_roles, rules, origins(log, access.disclosures, subject=subject))
    logged: list[str] = []
    # the open scope, when the copy is for its purpose and actor (its report holds the
    # reads and the disclosure); otherwise a scope of the copy's own
    same = scope is not None and scope.purpose.id == purpose and scope.actor == actor
    opened: contextlib.AbstractContextManager[Scope] = (
        contextlib.nullcontext(scope) if same and scope is not None else use(purpose, actor=actor)
    )
    handed: list[PersonCopy] = []
    with _trail.handed_back("copy for the person", logged, handed), opened as own:
        read: list[tuple[object, CopyRecord]] = []
        for obj in found:
            held = marks.held(obj, review)
            if held[1]:
                continue  # a whole record held back: not read, and not named on the copy
            read.append((obj, reader.record(obj, own, held=held)))
        copied = [record for _, record in read]
        made_over: list[Disclosure] = []
        for obj, record in read:
            shown = tuple(item.field for item in record.items if item.shown)
            if not shown:
                continue
            policy = record_policy(type(obj))
            made_over.append(
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
        _log_whole(log, made_over)
        logged += [disclosure.id for disclosure in made_over]  # the log holds them all now
        config = get_configuration()
        pseudonym = _trail.pseudonym_of(subject, config) if _trail.has_receivers(config) else None
        for disclosure in made_over:
            own.note_disclosure(disclosure.audited(pseudonym))
        handed.append(
            PersonCopy(
                reference=reference,
                agency=access.agency,
                made=made,
                records=tuple(copied),
                held_back=marks.any_held(review),
                passages=chosen_passages,
                disclosures=tuple(logged),
                wording=access.wording,
            )
        )
    return handed[0]


def _log_whole(log: DisclosureLog, disclosures: list[Disclosure]) -> None:
    """Log what the copy gave the person, one entry per record: in one transaction, all or
    none, with a log that can (``log_all``: the `purposeful.sharing` stores); entry by entry
    with a log of your own that cannot."""
    log_all = getattr(log, "log_all", None)
    if callable(log_all):
        log_all(disclosures)
        return
    done: list[str] = []
    try:
        for disclosure in disclosures:
            log.log(disclosure)
            done.append(disclosure.id)
    except BaseException as exc:
        if done:  # the copy is not made: say which entries the log keeps all the same
            exc.add_note(
                f"purposeful: the disclosure log kept {len(done)} of the copy's "
                f"{len(disclosures)} entries ({', '.join(done)}), though no copy was made: "
                f"give the log a log_all that writes all or none"
            )
        raise


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
