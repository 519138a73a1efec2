"""Answering an access request (IPP 6): the request, its clock, and the agency's setup.

An agency sets up one `SubjectAccess` for its application: who it is, where its records come
from (`SubjectAccess.source`), its consent, correction and disclosure stores and audit
ledgers. Each request is an `AccessRequest`: a reference, the person's identifier and the
day it arrived, which fixes the day the answer is due (`ResponseClock`). `build` checks what
it was asked, then has `_contents` (private: it reads values without a decision) read the
person's records and write the signed bundle (`purposeful.access.bundle`), withholding what
the fields declare and what the privacy officer decided for this request (`Withhold`), and
with them the correction requests about what is withheld.

Before a bundle goes to anyone, the request records who asked and the checks of s 57
(`purposeful.access.release`): a bundle for release without them is refused
(`ReleaseChecksMissing`); a draft is marked as one. Information the agency marked for safety
review (`NeedsReview`) stops every build (`ReviewPending`) until a named reviewer has read it,
under the review purpose (`SubjectAccess.review`, audited as every read is), and their
decision is recorded with the request. The answers besides giving and withholding (neither
confirm nor deny, release on conditions or in another form) are `purposeful.access.answers`.

Reading records for a bundle is not a use for a purpose: the values are read directly, not
through a purpose scope, because giving people their own information is what IPP 6 asks.
What must not happen is giving them someone else's: every record a source yields is checked
to be about the person asked about, and one that is not stops the build
(`SubjectAccessError`), naming the source and the record type, never the record.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .._config import get_configuration
from .._hierarchy import covers
from .._shared.agency import AgencyDetails
from .._shared.checks import is_text, utc_moment
from .._shared.files import atomic_file
from .._shared.keys import PseudonymKey
from ..actors import Actor
from ..errors import (
    AnnotationError,
    AuditSinkError,
    BundleError,
    ConfigurationError,
    ReleaseChecksMissing,
    SubjectAccessError,
    UnknownPurpose,
)
from ..purposes import PurposeRegistry
from ..records import RecordPolicy, record_policy
from ..scope import use
from ..typing import ConsentSource, CorrectionSource, DisclosureSource
from ..withholding import WithholdingGround
from . import _contents, encryption
from . import bundle as _bundle
from ._contents import Progress, Rules
from .answers import NeitherConfirmNorDeny, ReleaseAs
from .bundle import BundleInfo
from .clock import Extension, ResponseClock, _extensions
from .page import Wording
from .release import (
    RELEASE_CHECKS,
    RELEASE_PURPOSE,
    REVIEW_PURPOSE,
    Check,
    NeedsReview,
    Requester,
    ReviewItem,
    ReviewSheet,
    SafetyReview,
    _reference,
    care_before_release,
    record_release,
    release_actor,
    review_digest,
    unrecorded,
)
from .sources import Fetch, Sources

if TYPE_CHECKING:
    from pyrage.x25519 import Recipient


__all__ = ["AccessRequest", "SubjectAccess", "Withhold"]

#: What an error after a release was recorded adds: the bundle did not take its name.
_RECORDED = (
    ", though the audit trail had recorded its release (it was recorded once the bundle was "
    "whole on disk, just before it took its name)"
)


def _request_id(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value) or len(value) > 200:
        raise ConfigurationError(
            "AccessRequest.request_id must be the request's reference, non-empty text of up "
            "to 200 characters, e.g. 'SAR-2026-0042'"
        )


def _subject(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            "AccessRequest.subject must be the person's identifier as your records hold it "
            "(a non-empty string; convert other ids with str())"
        )


@attrs.frozen
class AccessRequest:
    """One person's request for their information.

    Who asked, and the checks the Privacy Act 2020 s 57 asks for before access is given,
    are recorded as the request goes along (``attrs.evolve(request, identity=...)``); a
    bundle for release needs them all (`SubjectAccess.build`).

    Attributes:
        requester: who asked: `Requester.person()`, or `Requester.agent_for(...)` with a
            reference to the agent's written authority or other proper authorisation.
        identity: how the requester's identity was confirmed, and by whom (`Check`).
        no_threat: the check that there are no reasonable grounds to believe the request is
            made under threat of physical or mental harm (`Check`).
        delivery: how the answer will reach only the requester, or their agent (`Check`).
        review: the safety review of the information marked for one (`SafetyReview`).
        approved_by: a reference to a second staff member who approved the release, where
            the person needs more care and the ``access`` purpose requires it
            (`purposeful.access.release.care_before_release`).
        request_id: the agency's reference for the request (goes in the bundle).
        subject: the person's identifier, as the records' subject field holds it. Never
            shown: ``repr()`` hides it and the bundle's manifest holds its pseudonym.
        received: the day the request arrived (a `date`, in New Zealand).
        extended_by: deprecated: working days the time limit for the answer was extended
            by. Give *extensions* instead; it goes in the next release.
        extensions: the extensions of its time limits (`Extension`, s 48), if any.
    """

    request_id: str = attrs.field(validator=_request_id)
    subject: str = attrs.field(validator=_subject, repr=lambda _: "<subject>")
    received: date
    extended_by: int = 0
    extensions: tuple[Extension, ...] = attrs.field(default=(), kw_only=True, converter=_extensions)
    clock: ResponseClock = attrs.field(init=False)

    @clock.default
    def _clock(self) -> ResponseClock:
        return ResponseClock(self.received, self.extended_by, extensions=self.extensions)

    @property
    def due(self) -> date:
        """The last day to answer: the 20th working day after *received* (s 44), plus any
        extensions of it (s 48)."""
        return self.clock.due

    @property
    def transfer_due(self) -> date:
        """The last day to transfer the request to another agency: the 10th working day
        (s 43), plus any extensions of it (s 48)."""
        return self.clock.transfer_due

    # Who asked, and the s 57 checks: recorded before release (keyword arguments).
    requester: Requester | None = attrs.field(default=None, kw_only=True)
    identity: Check | None = attrs.field(default=None, kw_only=True)
    no_threat: Check | None = attrs.field(default=None, kw_only=True)
    delivery: Check | None = attrs.field(default=None, kw_only=True)
    review: SafetyReview | None = attrs.field(default=None, kw_only=True)
    approved_by: str | None = attrs.field(default=None, kw_only=True, validator=_reference)

    def __attrs_post_init__(self) -> None:
        for name, kind in (
            ("requester", Requester),
            ("identity", Check),
            ("no_threat", Check),
            ("delivery", Check),
            ("review", SafetyReview),
        ):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise ConfigurationError(
                    f"AccessRequest({name}=...) takes a {kind.__name__}, not {type(value).__name__}"
                )

    def missing_checks(self) -> tuple[str, ...]:
        """The s 57 records a bundle for release still needs, by attribute name."""
        return tuple(name for name in RELEASE_CHECKS if getattr(self, name) is None)


def _optional_key(key: object) -> str | None:
    """Record keys compare as text (`RecordPolicy.key_of`): ``key=102`` means ``"102"``."""
    return None if key is None else str(key)


@attrs.frozen
class Withhold:
    """A decision to withhold, for one request: a whole record, a field of one record, or a
    field of every record of a type.

    Attributes:
        record_type: the record class.
        ground: the ground relied on.
        key: the record's key (`record(key=...)`); None for every record of the type.
        field: the field withheld; None for the whole record.
    """

    record_type: type
    ground: WithholdingGround
    # A key may be the subject id (the default key): never shown.
    key: str | None = attrs.field(
        default=None, converter=_optional_key, repr=lambda key: "<key>" if key else "None"
    )
    field: str | None = None

    def __attrs_post_init__(self) -> None:
        try:
            policy = record_policy(self.record_type)
        except AnnotationError as exc:
            raise ConfigurationError(f"Withhold(record_type=...): {exc}") from None
        if not isinstance(self.ground, WithholdingGround):
            raise ConfigurationError(
                "Withhold(ground=...) takes a WithholdingGround, such as "
                "purposeful.withholding.ANOTHER_PERSONS_AFFAIRS"
            )
        names = list(policy.names)
        if self.field is not None and self.field not in names:
            raise ConfigurationError(
                f"Withhold(field={self.field!r}): {policy.name} has no such "
                f"field; choose one of: {', '.join(names)}"
            )
        if self.field is None and self.key is None:
            raise ConfigurationError(
                f"Withhold({policy.name}) names neither a record (key=) nor a "
                f"field (field=): withholding every record of a type is not an answer; "
                f"name what is withheld"
            )


class SubjectAccess:
    """How one application answers access requests.

    Args:
        agency: who answers, and how the person reaches them.
        consent: the consent store, for ``consents.json``.
        corrections: the correction store, for ``corrections.json`` and the statements of
            correction that travel with fields.
        disclosures: the disclosure log, for ``disclosures.json``.
        ledgers: audit ledger files, for ``access-history.json`` (left out when none).
            With *ledger_public_key*, each is verified before it is used; without it, a
            bundle reports what they say: verify them first (``purposeful audit verify``).
        pseudonym_keys: the pseudonym key (or keys, newest first) the ledgers were written
            with; the first also makes the manifest's pseudonym. Default: the configured
            pseudonymiser (``configure(pseudonymise=...)``) for the manifest.
        wording: the page's wording (`Wording`).
        registry: the purposes, for their descriptions; default: the configured registry.
        ledger_public_key: the public key the ledgers sign their checkpoints with. Given,
            each ledger is verified (a bundle is refused with `LedgerUnverified` for one that
            does not), and the person's access history is read through the ledger's
            verified index (``<ledger>.index``, written by ``purposeful audit verify`` or on
            first use): only the lines that name them, not the whole ledger.
        safety_review: the information a person must review before any bundle holds it
            (`NeedsReview`: record types, or fields). Each field reviewed must declare a
            purpose covering *review_purpose*, so that the reviewer's read is decided and
            audited.
        review_purpose: the purpose a reviewer reads it under; default
            ``access.safety-review`` (in the default purpose pack).

    Raises:
        ConfigurationError: a bad argument; a field marked for review that does not declare
            the review purpose (the message names it and says what to add).
    """

    def __init__(
        self,
        *,
        agency: AgencyDetails,
        consent: ConsentSource | None = None,
        corrections: CorrectionSource | None = None,
        disclosures: DisclosureSource | None = None,
        ledgers: Iterable[str | os.PathLike[str]] = (),
        pseudonym_keys: PseudonymKey | Sequence[PseudonymKey] = (),
        wording: Wording | None = None,
        registry: PurposeRegistry | None = None,
        ledger_public_key: Ed25519PublicKey | None = None,
        safety_review: Iterable[NeedsReview] = (),
        review_purpose: str = REVIEW_PURPOSE,
    ) -> None:
        if not isinstance(agency, AgencyDetails):
            raise ConfigurationError(
                "SubjectAccess(agency=...) takes AgencyDetails(name=..., email=...)"
            )
        for name, value, protocol in (
            ("consent", consent, ConsentSource),
            ("corrections", corrections, CorrectionSource),
            ("disclosures", disclosures, DisclosureSource),
        ):
            if value is not None and not isinstance(value, protocol):
                raise ConfigurationError(
                    f"SubjectAccess({name}=...) does not look like a {name} store: "
                    f"{type(value).__name__} lacks the methods of {protocol.__name__}"
                )
        keys = (pseudonym_keys,) if isinstance(pseudonym_keys, PseudonymKey) else pseudonym_keys
        self.agency = agency
        self.consent = consent
        self.corrections = corrections
        self.disclosures = disclosures
        self.ledgers = tuple(Path(p) for p in ledgers)
        self.pseudonym_keys = tuple(keys)
        if any(not isinstance(key, PseudonymKey) for key in self.pseudonym_keys):
            raise ConfigurationError(
                "SubjectAccess(pseudonym_keys=...) takes PseudonymKey values "
                "(purposeful.audit.load_pseudonym_key)"
            )
        if self.ledgers and not self.pseudonym_keys:
            raise ConfigurationError(
                "SubjectAccess(ledgers=...) needs pseudonym_keys=: the ledgers name people "
                "by pseudonym, made with those keys"
            )
        if ledger_public_key is not None and not isinstance(ledger_public_key, Ed25519PublicKey):
            raise ConfigurationError(
                "SubjectAccess(ledger_public_key=...) takes the Ed25519PublicKey the ledgers "
                "sign their checkpoints with (purposeful.audit.load_public_key)"
            )
        self.ledger_public_key = ledger_public_key
        self.wording = wording if wording is not None else Wording()
        self._registry = registry
        self.sources = Sources()
        self.review_purpose = review_purpose
        self._marked = _marks(safety_review, review_purpose, registry)
        #: what makes a review's digest this object's own (`review_digest`): a review is
        #: recorded for a bundle this `SubjectAccess` builds
        self._review_secret = secrets.token_bytes(32)

    def marked_for_review(self, policy: RecordPolicy) -> tuple[tuple[str, ...], bool] | None:
        """The fields of *policy*'s records marked for safety review, and whether the
        whole record is; None when nothing of it is."""
        return self._marked.get(policy.cls)

    def review(self, request: AccessRequest, *, reviewer: Actor) -> ReviewSheet:
        """Read the person's information marked for safety review, as *reviewer*, under the
        review purpose: each read is decided and audited as any other read is.

        Returns what was read (`ReviewSheet`); its `ReviewSheet.decide` makes the decision
        to record with the request (``attrs.evolve(request, review=sheet.decide(...))``).

        Raises:
            PurposeViolation: the reviewer may not read a field (clearance, consent), in
                enforce mode.
            SubjectAccessError: a source failed, or yielded a record about someone else.
            ConfigurationError: *reviewer* is not an `Actor`.
        """
        if not isinstance(request, AccessRequest):
            raise ConfigurationError("review() takes an AccessRequest as its first argument")
        if not isinstance(reviewer, Actor):
            raise ConfigurationError(
                "review(reviewer=...) takes the reviewer's purposeful.Actor: the read is "
                "audited under their role"
            )
        items: list[ReviewItem] = []
        with use(self.review_purpose, actor=reviewer):
            for name, fetch in self.sources.items():
                for obj in _contents.records_of(name, fetch, request.subject):
                    policy = record_policy(type(obj))
                    marked = self._marked.get(policy.cls)
                    if marked is None:
                        continue
                    fields, whole = marked
                    values = {field: getattr(obj, field) for field in fields}
                    if whole or any(_contents.present(value) for value in values.values()):
                        items.append(ReviewItem(policy.name, policy.key_of(obj), values))
        digest = review_digest(
            self._review_secret,
            request.request_id,
            reviewer.id,
            ((item.record_type, item.key, item.values) for item in items),
        )
        return ReviewSheet(request.request_id, tuple(items), digest, reviewer.id)

    def source(self, name: str) -> Callable[[Fetch], Fetch]:
        """Decorator: register the decorated function as data source *name*."""

        def register(fetch: Fetch) -> Fetch:
            self.sources.register(name, fetch)
            return fetch

        return register

    def register(self, name: str, fetch: Fetch) -> None:
        """Register *fetch* as data source *name* (see `Sources.register`)."""
        self.sources.register(name, fetch)

    def pseudonym(self, subject: str) -> str:
        """The person's pseudonym, as the manifest gives it."""
        if self.pseudonym_keys:
            return self.pseudonym_keys[0].pseudonym(subject)
        pseudonymise = get_configuration().pseudonymise
        if pseudonymise is None:
            raise ConfigurationError(
                "a bundle names the person by pseudonym: give SubjectAccess(pseudonym_keys=...) "
                "or configure(pseudonymise=key.pseudonym)"
            )
        return pseudonymise(subject)

    def build(
        self,
        request: AccessRequest,
        target: str | os.PathLike[str],
        *,
        signing_key: Ed25519PrivateKey,
        created: datetime | None = None,
        withhold: Iterable[Withhold] = (),
        answers: Iterable[NeitherConfirmNorDeny | ReleaseAs] = (),
        draft: bool = False,
        encrypt_to: str | bytes | Recipient | None = None,
        overwrite: bool = False,
        progress: Progress | None = None,
        actor: Actor | None = None,
    ) -> BundleInfo:
        """Write the signed bundle answering *request* to *target*.

        Args:
            request: the request.
            target: the bundle file to write; its directory must exist.
            signing_key: the agency's Ed25519 signing key (`purposeful.audit.load_signing_key`).
            created: the time the manifest gives; default now. Give it to build the same
                bytes again.
            withhold: what the privacy officer decided to withhold for this request, on top
                of the fields that declare ``withhold=`` (a decision on such a field adds
                its ground: the bundle states both). The correction requests about what is
                withheld are withheld with it, on the same grounds.
            answers: the other answers decided for this request: `NeitherConfirmNorDeny`
                (s 47) and `ReleaseAs` (on conditions or in another form, ss 54–56).
            draft: build a draft for the agency's own review: the manifest and the page say
                it is not an answer, and the s 57 records are not needed. Without it, the
                request must record who asked and each s 57 check.
            encrypt_to: a passphrase, or the recipient's age public key
                (`purposeful.access.load_recipient_public_key`), to encrypt the whole file
                for delivery as an age file (`purposeful.access.encryption`; needs
                ``purposeful[age]``).
            overwrite: replace *target* if it exists.
            progress: told how many records have been read, as they are read.
            actor: who releases it, for the audit trail; default the open scope's actor,
                else the staff member who made the delivery check.

        A bundle for release (not a draft) is recorded once written: a
        ``purposeful.disclosure`` event under the ``access`` purpose with the request's
        reference, the person's pseudonym, the record count and the care needs met
        (`purposeful.access.release.record_release`). The bundle itself says nothing of them.

        Raises:
            ReleaseChecksMissing: not a draft, and the request does not record who asked or
                an s 57 check; the message names each one missing. Or the person needs more
                care, and the second person's approval the ``access`` purpose requires is
                missing (`care_before_release`).
            ReviewPending: the person's records hold information marked for safety review
                that no review recorded with the request covers (or it changed since); or
                the person needs more care and the ``access`` purpose requires a safety
                review, and none is recorded.
            SubjectAccessError: no data source is registered; a source failed or yielded
                something that is not a record, or a record about someone else; the
                disclosure log gave something that is not a `DisclosureEntry`; a value
                cannot be written as text (an integer of over 4,300 digits); *target*
                exists or its directory does not; *target* is a file a configured audit
                sink writes (a ledger, its checkpoints), even with *overwrite*; the
                bundle is larger than
                `purposeful.access.encryption.PASSPHRASE_BUNDLE_LIMIT` and *encrypt_to* is a
                passphrase. Nothing is written.
            ConfigurationError: a bad argument (a key that is not Ed25519, a naive time, an
                *encrypt_to* that is neither a passphrase nor an age public key).
            MissingExtra: *encrypt_to* is given and pyrage is not installed.
            AuditSinkError: an audit sink failed to take the record of a bundle for release;
                the bundle did not take *target*'s name (a file already there is left as it
                was), so nothing unrecorded is released. An interrupt (``KeyboardInterrupt``)
                while the release is recorded leaves it so too, and carries a note saying so.
        """
        if not isinstance(request, AccessRequest):
            raise ConfigurationError("build() takes an AccessRequest as its first argument")
        if not isinstance(signing_key, Ed25519PrivateKey):
            raise ConfigurationError(
                "build(signing_key=...) takes an Ed25519 private key "
                "(purposeful.audit.load_signing_key)"
            )
        if not draft and (missing := request.missing_checks()):
            raise ReleaseChecksMissing(
                f"request {request.request_id} cannot be answered yet: before access is given, "
                f"the Privacy Act 2020 s 57 needs "
                + "; ".join(f"{name}: {RELEASE_CHECKS[name]}" for name in missing)
                + ". Record them on the AccessRequest, or build a draft (draft=True) for "
                "review. Nothing was written",
                missing=missing,
            )
        releaser = None if draft else release_actor(request, actor)
        needs = frozenset() if draft else care_before_release(request, releaser)
        if not draft:
            try:
                get_configuration().registry.resolve(RELEASE_PURPOSE)
            except UnknownPurpose:
                raise ConfigurationError(
                    f"a bundle for release is audited under the purpose {RELEASE_PURPOSE!r}, "
                    f"which the purpose registry does not declare: add it (the default pack "
                    f"has it), or build a draft (draft=True)"
                ) from None
        chosen = tuple(answers)
        for answer in chosen:
            if not isinstance(answer, NeitherConfirmNorDeny | ReleaseAs):
                raise ConfigurationError(
                    f"build(answers=...) takes NeitherConfirmNorDeny and ReleaseAs values, not "
                    f"{type(answer).__name__}"
                )
        secret = None if encrypt_to is None else encryption.bundle_secret(encrypt_to)
        created = (
            datetime.now(UTC)
            if created is None
            else utc_moment(created, "build(created=...)", ConfigurationError)
        )
        if not len(self.sources):
            raise SubjectAccessError(
                "no data source is registered: register each place records about people come "
                "from with @access.source('name') before building a bundle"
            )
        path = Path(target).absolute()
        _bundle.check_target(path, overwrite)
        _bundle.check_not_trail(path)  # up front: nothing is read for a bundle never written
        reviewed = request.review.withhold if request.review is not None else ()
        rules = _rules([*withhold, *reviewed], chosen)
        recorded = False

        def record() -> None:  # once the bundle is whole on disk, before it takes its name
            nonlocal recorded
            if releaser is None:
                return
            try:
                record_release(request, needs, sum(info.records.values()), releaser)
            except AuditSinkError:
                raise
            except BaseException as exc:  # an interrupt: the sinks before it took the record
                exc.add_note(
                    f"the bundle of request {request.request_id} did not take the name {path} "
                    f"(a file already there is left as it was), so nothing was released, "
                    f"though the audit trail may have recorded its release"
                )
                raise
            recorded = True

        with contextlib.ExitStack() as stack:
            writer = _contents.BundleContents(
                self, request, rules, progress, answers=chosen, draft=bool(draft)
            )
            stack.callback(writer.close)
            writer.read_records()
            try:
                if secret is None:
                    with atomic_file(path, overwrite=overwrite, before_in_place=record) as file:
                        info = writer.write(file, signing_key, created)
                else:
                    plain = stack.enter_context(tempfile.TemporaryFile())
                    info = writer.write(plain, signing_key, created)
                    plain.seek(0)
                    encryption.write_encrypted(
                        plain, path, secret, overwrite=overwrite, before_in_place=record
                    )
            except AuditSinkError as error:
                raise unrecorded(request.request_id, error) from error
            except FileExistsError:
                raise SubjectAccessError(
                    f"{path} appeared while the bundle was being built; nothing was replaced"
                    f"{_RECORDED if recorded else ''}. Choose another name, or pass "
                    f"overwrite=True"
                ) from None
            except BundleError as exc:  # too large for a passphrase: nothing was written
                raise SubjectAccessError(f"could not encrypt the bundle {path}: {exc}") from None
            except OSError as exc:
                raise SubjectAccessError(
                    f"could not write the bundle {path} ({exc.strerror or type(exc).__name__}); "
                    f"check free space and permissions; nothing was written"
                    f"{_RECORDED if recorded else ''}"
                ) from None
        return attrs.evolve(
            info, path=path, encrypted=encrypt_to is not None, sha256=_bundle.file_sha256(path)
        )


def _rules(
    withhold: Iterable[Withhold], answers: Iterable[NeitherConfirmNorDeny | ReleaseAs]
) -> Rules:
    rules: dict[type, list[Withhold | NeitherConfirmNorDeny | ReleaseAs]] = {}
    for rule in withhold:
        if not isinstance(rule, Withhold):
            raise ConfigurationError(
                f"build(withhold=...) takes Withhold values, not {type(rule).__name__}"
            )
        rules.setdefault(rule.record_type, []).append(rule)
    for answer in answers:
        rules.setdefault(answer.record_type, []).append(answer)
    return rules


def _marks(
    marks: Iterable[NeedsReview], purpose: str, registry: PurposeRegistry | None
) -> dict[type, tuple[tuple[str, ...], bool]]:
    """The fields to review by record class, and whether whole records are; each managed
    field reviewed must declare a purpose covering *purpose*."""
    marks = tuple(marks)
    if not marks:
        return {}
    (registry or get_configuration().registry).resolve(purpose)
    found: dict[type, tuple[set[str], bool]] = {}
    for mark in marks:
        if not isinstance(mark, NeedsReview):
            raise ConfigurationError(
                f"SubjectAccess(safety_review=...) takes NeedsReview values, not "
                f"{type(mark).__name__}"
            )
        policy = record_policy(mark.record_type)
        fields, whole = found.get(policy.cls, (set(), False))
        if mark.field is None:
            fields, whole = set(policy.names), True
        else:
            fields.add(mark.field)
        found[policy.cls] = (fields, whole)
        reviewed = policy.fields if mark.field is None else {mark.field: policy.fields[mark.field]}
        for name, field in reviewed.items():
            if not any(covers(declared, purpose) for declared in field.purposes):
                raise ConfigurationError(
                    f"{policy.name}.{name} is marked for safety review, but does not declare "
                    f"the purpose {purpose!r}, so the reviewer could not read it: add "
                    f"{purpose!r}: Statute('Privacy Act 2020', '57') to its purposes"
                )
    return {
        cls: (tuple(name for name in record_policy(cls).names if name in fields), whole)
        for cls, (fields, whole) in found.items()
    }
