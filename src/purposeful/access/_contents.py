"""What a subject-access bundle holds: one person's records read once, and its members written.

Private to the access package: it reads the person's values without a decision (IPP 6), so
the only way to it is `SubjectAccess.build`.

`SubjectAccess.build` (in `request`) checks what it was asked and makes a `BundleContents`;
this module reads every source for the person into spools (refusing a record about anyone
else, and stopping at information marked for safety review that no review covers), then
writes the members: records and their field notes, consent, disclosures, corrections, what
was withheld and why, the other answers (neither confirm nor deny, release on conditions or
in another form), the access history, the page and the manifest.

What this module must not do: put a personal value or the subject id in a message; read a
record through a purpose scope (giving people their own information is not a use); or hold
more than one record type's values in memory at once.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .._config import declared_records, get_configuration
from .._shared.keys import signing_key_id
from ..bases import BasisKind, described_to_person
from ..errors import AnnotationError, ReviewPending, SubjectAccessError
from ..records import RecordPolicy, record_policy
from ..typing import ProvenanceSource
from ..withholding import WithholdingGround
from . import bundle as _bundle
from ._parts import Parts, iso, provenance_of
from ._spool import ANOTHER_WAY, TypeSpool
from .answers import NCND_SECTION, NeitherConfirmNorDeny, ReleaseAs
from .bundle import STATEMENTS_COLUMN, BundleInfo, dumps
from .page import Page, Section, render_page
from .release import review_digest

if TYPE_CHECKING:
    from ..corrections.values import Correction
    from .request import AccessRequest, SubjectAccess, Withhold


__all__ = ["PROGRESS_EVERY", "BundleContents", "Progress", "Rules", "present", "records_of"]

Progress = Callable[[int], None]
"""Told how many records have been read so far, every thousand and at the end."""

PROGRESS_EVERY = 1000

Rules = Mapping[type, Sequence[Any]]
"""The privacy officer's decisions for one request, by record type: `Withhold`,
`NeitherConfirmNorDeny` and `ReleaseAs` values."""

#: The marks a field's cell carries for the answers that are not withholding: they are
#: never counted in withheld.json.
_NCND = WithholdingGround("neither-confirm-nor-deny", NCND_SECTION, "Neither confirmed nor denied.")
_ANOTHER_WAY = WithholdingGround(ANOTHER_WAY, "s 56", "Given to you another way.")

Grounds = tuple[WithholdingGround, ...]
"""The grounds something is withheld on: a field's declared ground first, then the
request's decisions in the order given, each once."""

#: What withheld.json says was withheld, by kind.
_WHAT = {
    "record": "a whole record",
    "field": "a field's value",
    "correction": "a correction request",
}


@attrs.frozen
class Withheld:
    """One kind of thing withheld on one ground: a whole record (field None), a field's
    value, or a correction request (about *field*, or about a whole record when None)."""

    kind: str
    record_type: str
    field: str | None
    ground: WithholdingGround


class BundleContents(Parts):
    """One bundle being built: records read once into spools, then the zip written."""

    def __init__(
        self,
        access: SubjectAccess,
        request: AccessRequest,
        rules: Rules,
        progress: Progress | None,
        *,
        answers: Sequence[NeitherConfirmNorDeny | ReleaseAs] = (),
        draft: bool = False,
    ) -> None:
        self.access = access
        self.request = request
        self.answers = tuple(answers)
        self.draft = draft
        self.rules = rules
        self.progress = progress
        self.spools: dict[RecordPolicy, TypeSpool] = {}
        self.withheld: dict[tuple[str, str, str | None, str], tuple[Withheld, int]] = {}
        self.withheld_total = 0  # each thing once, however many grounds it is withheld on
        self.registry = access._registry or get_configuration().registry
        self.corrections = (
            list(access.corrections.for_subject(request.subject)) if access.corrections else []
        )
        self.statements: dict[tuple[str, str, str], list[dict[str, str | None]]] = {}
        self.provenance_rows: list[list[str]] = []  # "where this came from", per item
        # the corrections shown in corrections.json; set once the records are read
        self.shown_corrections: list[tuple[Correction, bool]] = []
        for correction in self.corrections:
            if correction.statement is None:
                continue
            where = (correction.record_type, correction.record_key, correction.field)
            self.statements.setdefault(where, []).append(
                {
                    "statement": correction.statement,
                    "made": iso(correction.statement_at),
                    "correction": correction.id,
                }
            )
        log = access.disclosures
        if isinstance(log, ProvenanceSource):
            # the statements that came with information from a partner (IPP 7, kept by
            # prefill): read with the field they came with, as the agency's own are
            for kept in provenance_of(log, request.subject, "build the bundle"):
                for field, said in kept.statements:
                    where = (kept.record_type, kept.record_key, field)
                    self.statements.setdefault(where, []).extend(
                        {"statement": text, "received": iso(kept.received_at), "from": kept.source}
                        for text in said
                    )
        self.total = 0
        self.matched: set[object] = set()
        self.released: dict[ReleaseAs, int] = {}
        self.not_confirmed = 0  # things left out under s 47: counted nowhere the person sees
        self.given_otherwise = 0  # things given another way (s 56), not in the bundle
        # information marked for safety review: (type, key, values) of each item, and names
        self.review_items: list[tuple[str, str, dict[str, Any]]] = []
        self.review_names: set[str] = set()

    def close(self) -> None:
        for spool in self.spools.values():
            spool.close()

    # --- reading ---

    def read_records(self) -> None:
        subject = self.request.subject
        for name, fetch in self.access.sources.items():
            for obj in records_of(name, fetch, subject):
                self._add(name, obj)
        if self.progress is not None:
            self.progress(self.total)
        self._check_review()
        self._withhold_corrections()
        for rules in self.rules.values():
            for rule in rules:
                if rule not in self.matched and not isinstance(rule, NeitherConfirmNorDeny):
                    raise SubjectAccessError(
                        f"{_describe(rule)} matched none of the person's records, so it "
                        f"decides nothing; check the record's key (keys compare as text) "
                        f"and type, or leave the decision out. Nothing was written"
                    )

    def _check_review(self) -> None:
        """Stop unless every item marked for safety review is covered by the review
        recorded with the request, as the reviewer read it."""
        if not self.review_items:
            return
        names = tuple(sorted(self.review_names))
        review = self.request.review
        if review is None:
            raise ReviewPending(
                f"the person's records hold information marked for safety review "
                f"({', '.join(names)}), and the request records no review of it. Have a "
                f"named reviewer read it (SubjectAccess.review) and record their decision "
                f"with the request (AccessRequest(review=sheet.decide(by=...))). Nothing was "
                f"written",
                marked=names,
            )
        expected = review_digest(
            self.access._review_secret, self.request.request_id, review.by, self.review_items
        )
        if not hmac.compare_digest(review.covers, expected):
            raise ReviewPending(
                f"the information marked for safety review ({', '.join(names)}) changed "
                f"since it was reviewed: something was added or edited. Review it again "
                f"(SubjectAccess.review) and record the new decision with the request. "
                f"Nothing was written",
                marked=names,
            )

    def _add(self, source: str, obj: object) -> None:
        policy = record_policy(type(obj))
        key = policy.key_of(obj)
        type_name = policy.name
        marked = self.access.marked_for_review(policy)
        if marked is not None:
            self._note_review(policy, obj, key, marked)
        whole, withheld = self._grounds(policy, key, match=True)
        if any(ground is _NCND for ground in whole):
            # neither confirmed nor denied: nothing of it, not even its type's empty table,
            # may differ from a bundle of a person without it
            self._count("record", type_name, None, whole)
            self._tick()
            return
        spool = self.spools.get(policy)
        if spool is None:
            wording = self.access.wording
            spool = self.spools[policy] = TypeSpool(
                policy, "", wording.sample_rows, label=lambda f: wording.field_label(type_name, f)
            )
        if whole:
            self._count("record", type_name, None, whole)
            self._tick()
            return
        for field, grounds in withheld.items():
            self._count("field", type_name, field, grounds)
        # a withheld field's statements are withheld with it (counted with the corrections)
        statements = {
            field: items
            for field in spool.names
            if field not in withheld and (items := self.statements.get((type_name, key, field)))
        }
        spool.add(obj, source, key, withheld, statements)
        self._tick()

    def _note_review(
        self, policy: RecordPolicy, obj: object, key: str, marked: tuple[tuple[str, ...], bool]
    ) -> None:
        """Note a record holding information marked for review (read without a decision,
        as the bundle reads it), as `SubjectAccess.review` notes it."""
        fields, whole = marked
        values = {name: _raw(policy, obj, name) for name in fields}
        if whole or any(present(value) for value in values.values()):
            self.review_items.append((policy.name, key, values))
            if whole:
                self.review_names.add(policy.name)
            else:
                self.review_names.update(
                    f"{policy.name}.{name}" for name, value in values.items() if present(value)
                )

    def _grounds(
        self, policy: RecordPolicy, key: str, *, match: bool = False
    ) -> tuple[Grounds, dict[str, Grounds]]:
        """The grounds the record *key* of *policy* is withheld on whole (empty if it is
        not), and each withheld field's grounds: a declared ground first, then every
        decision for this request that applies, each ground once. With *match*, the
        decisions that apply are noted as having matched a record."""
        whole: list[WithholdingGround] = []
        fields: dict[str, list[WithholdingGround]] = {}
        for field_policy in policy.fields.values():
            if field_policy.withhold is not None:
                fields[field_policy.name] = [field_policy.withhold]
        for rule in self.rules.get(policy.cls, ()):
            if rule.key is not None and rule.key != key:
                continue
            if match:
                self.matched.add(rule)
            if isinstance(rule, ReleaseAs):
                if match:
                    self.released[rule] = self.released.get(rule, 0) + 1
                if rule.form is None:
                    continue  # on conditions: given in the bundle
                ground = _ANOTHER_WAY
            elif isinstance(rule, NeitherConfirmNorDeny):
                ground = _NCND
            else:
                ground = rule.ground
            grounds = whole if rule.field is None else fields.setdefault(rule.field, [])
            if all(found.id != ground.id for found in grounds):
                grounds.append(ground)
        return _withheld_first(whole), {
            field: _withheld_first(grounds) for field, grounds in fields.items()
        }

    def _withhold_corrections(self) -> None:
        """Decide which correction requests the bundle shows.

        A request about a withheld record or field is withheld with it, on the same grounds
        (counted in withheld.json, never shown): its note, statement and the value asked
        for are about what is withheld. A request about another field of a record whose
        key is withheld is shown without the key. A request about a record no source
        yielded is judged by its type's declarations and this request's decisions all the
        same.
        """
        policies: dict[str, list[RecordPolicy]] = {}
        known = [*self.spools, *(record_policy(cls) for cls in self.rules)]
        known += [record_policy(cls) for cls in declared_records()]
        for policy in known:
            found = policies.setdefault(policy.name, [])
            if policy not in found:
                found.append(policy)
        for correction in self.corrections:
            whole: Grounds = ()
            fields: dict[str, Grounds] = {}
            for policy in policies.get(correction.record_type, []):
                more_whole, more_fields = self._grounds(policy, correction.record_key)
                whole = _union(whole, more_whole)
                for field, grounds in more_fields.items():
                    fields[field] = _union(fields.get(field, ()), grounds)
            if whole:
                self._count("correction", correction.record_type, None, whole)
            elif correction.field in fields:
                self._count(
                    "correction", correction.record_type, correction.field, fields[correction.field]
                )
            else:
                key_withheld = any(
                    policy.key in fields for policy in policies.get(correction.record_type, [])
                )
                self.shown_corrections.append((correction, key_withheld))

    def _count(self, kind: str, record_type: str, field: str | None, grounds: Grounds) -> None:
        """Count one thing withheld, under each of its grounds. A thing neither confirmed
        nor denied is counted nowhere the person sees; one given another way, with the
        answers."""
        if any(ground is _NCND for ground in grounds):
            self.not_confirmed += 1
            return
        if all(ground is _ANOTHER_WAY for ground in grounds):
            self.given_otherwise += 1
            return
        self.withheld_total += 1
        for ground in grounds:
            where = (kind, record_type, field, ground.id)
            found = self.withheld.get(where)
            item = found[0] if found else Withheld(kind, record_type, field, ground)
            self.withheld[where] = (item, (found[1] if found else 0) + 1)

    def _tick(self) -> None:
        self.total += 1
        if self.progress is not None and self.total % PROGRESS_EVERY == 0:
            self.progress(self.total)

    # --- writing ---

    def write(self, file: IO[bytes], key: Ed25519PrivateKey, created: datetime) -> BundleInfo:
        zip_writer = _bundle.ZipWriter(file)
        try:
            return self._write(zip_writer, key, created)
        except BaseException:
            zip_writer.abandon()
            raise

    def _write(
        self, zip_writer: _bundle.ZipWriter, key: Ed25519PrivateKey, created: datetime
    ) -> BundleInfo:
        request = self.request
        members = _bundle.member_names(self.spools)
        spools = sorted(self.spools.values(), key=lambda s: members[s.policy])
        for spool in spools:
            spool.member = members[spool.policy]
        self._write_records(zip_writer, spools)
        for spool in spools:
            size, chunks = spool.csv_chunks()
            zip_writer.add(spool.member, size, chunks)
        consents, consent_rows = self._consents()
        zip_writer.add_bytes(_bundle.CONSENTS, dumps(consents))
        disclosures, disclosure_rows = self._disclosures()
        zip_writer.add_bytes(_bundle.DISCLOSURES, dumps(disclosures))
        corrections, correction_rows = self._corrections()
        zip_writer.add_bytes(_bundle.CORRECTIONS, dumps(corrections))
        withheld, withheld_rows = self._withheld()
        zip_writer.add_bytes(_bundle.WITHHELD, dumps(withheld))
        answers, ncnd_rows, other_rows = self._answers()
        access: tuple[dict[str, Any], list[list[str]], tuple[str, ...]] | None = None
        if self.access.ledgers:
            access = self._access_history()
            zip_writer.add_bytes(_bundle.ACCESS_HISTORY, dumps(access[0]))
        files = [entry.name for entry in zip_writer.entries] + [
            _bundle.INDEX,
            _bundle.MANIFEST,
            _bundle.SIGNATURE,
        ]
        say = self.access.wording.say
        page = Page(
            agency=self.access.agency,
            wording=self.access.wording,
            request_id=request.request_id,
            received=request.received,
            due=request.due,
            holdings=[self._holding(spool) for spool in spools],
            consents=_section(say("Consent history"), _CONSENT_HEADER, consent_rows),
            disclosures=_section(say("Disclosures"), _DISCLOSURE_HEADER, disclosure_rows),
            provenance=_section(say("Where this came from"), _FROM_HEADER, self.provenance_rows),
            corrections=_section(say("Correction requests"), _CORRECTION_HEADER, correction_rows),
            withheld=_section(say("Information withheld"), _WITHHELD_HEADER, withheld_rows),
            ncnd=_section(say("Neither confirmed nor denied"), _NCND_HEADER, ncnd_rows),
            other_forms=_section(
                say("Given on conditions or another way"), _OTHER_FORMS_HEADER, other_rows
            ),
            draft=self.draft,
            requester=request.requester.kind if request.requester is not None else None,
            access=_section(say("Uses of your information"), _ACCESS_HEADER, access[1])
            if access
            else None,
            access_complete=not access[2] if access else True,
            access_gaps=access[2] if access else (),
            files=sorted(files),
            not_included=frozenset(
                name
                for name, connected in (
                    ("consents", self.access.consent),
                    ("disclosures", self.access.disclosures),
                    ("corrections", self.access.corrections),
                    ("access", self.access.ledgers),
                )
                if not connected
            ),
        )
        zip_writer.add_bytes(_bundle.INDEX, _bundle.utf8(render_page(page)))
        # by the CSV's name: the type's name, made unique
        records = {spool.stem: spool.count for spool in spools if spool.count}
        manifest = dumps(
            _bundle.manifest_document(
                agency=self.access.agency.name,
                request_id=request.request_id,
                received=request.received,
                due=request.due,
                created=created,
                subject=self.access.pseudonym(request.subject),
                records=records,
                files=zip_writer.entries,
                draft=self.draft,
                requester=_requester(request),
                answers=answers,
            )
        )
        entries = tuple(zip_writer.entries)
        zip_writer.add_bytes(_bundle.MANIFEST, manifest)
        zip_writer.add_bytes(_bundle.SIGNATURE, dumps(_bundle.signature_document(manifest, key)))
        zip_writer.close()
        return BundleInfo(
            path=Path(),
            request_id=request.request_id,
            subject=self.access.pseudonym(request.subject),
            created=created,
            key_id=signing_key_id(key),
            records=records,
            withheld=self.withheld_total,
            files=entries,
            encrypted=False,
            sha256="",
            draft=self.draft,
        )

    def _write_records(self, zip_writer: _bundle.ZipWriter, spools: list[TypeSpool]) -> None:
        parts: list[tuple[int, Iterable[bytes]]] = []
        head = {"format": "purposeful-records", "format_version": 1}
        opening = dumps(head, pretty=False)[:-2] + b',"record_types":['
        parts.append((len(opening), [opening]))
        for number, spool in enumerate(spools):
            meta = self._type_meta(spool)
            text = dumps(meta, pretty=False)[:-2] + b',"records":[\n'
            if number:
                text = b",\n" + text
            size, chunks = spool.json_chunks()
            parts += [(len(text), [text]), (size, chunks), (3, [b"\n]}"])]
        parts.append((3, [b"]}\n"]))
        total = sum(size for size, _ in parts)
        zip_writer.add(_bundle.RECORDS, total, (chunk for _, chunks in parts for chunk in chunks))

    def _type_meta(self, spool: TypeSpool) -> dict[str, Any]:
        policy = spool.policy
        fields = []
        for name in spool.names:
            managed = policy.fields.get(name)
            entry: dict[str, Any] = {"name": name}
            if name == policy.subject:
                entry["role"] = "your identifier"
            elif name == policy.key and policy.key != policy.subject:
                entry["role"] = "record identifier"
            if managed is not None:
                entry["purposes"] = [
                    {
                        "id": purpose.id,
                        "title": purpose.title,
                        "description": purpose.description,
                        "benefit": purpose.benefit,
                        "basis": basis.describe(),
                        "basis_kind": basis.kind.value,
                    }
                    for purpose, basis in managed.purposes.values()
                ]
                entry["consent_needed_for"] = sorted(
                    set(managed.consent_for)
                    | {
                        ident
                        for ident, (_, basis) in managed.purposes.items()
                        if basis.kind is BasisKind.CONSENT
                    }
                )
                entry["sensitivity"] = managed.sensitivity.name
                entry["category"] = (
                    {"id": managed.category.id, "title": managed.category.title}
                    if managed.category
                    else None
                )
                entry["withheld_on"] = managed.withhold.id if managed.withhold else None
            fields.append(entry)
        return {
            "type": policy.name,
            "label": self.access.wording.label(policy.name),
            "csv": spool.member,
            "sources": list(spool.sources),
            "subject_field": policy.subject,
            "key_field": policy.key,
            "fields": fields,
            "count": spool.count,
        }

    def _holding(self, spool: TypeSpool) -> tuple[str, list[Section]]:
        policy = spool.policy
        type_name = policy.name
        wording = self.access.wording
        say = wording.say
        label = wording.label(type_name)
        why: list[list[str]] = []
        for name in spool.names:
            shown_name = wording.field_label(type_name, name)
            managed = policy.fields.get(name)
            if managed is None:
                use = say("Used to keep your records together") if name == policy.subject else ""
                why.append([shown_name, use, "", "", ""])
                continue
            why.append(
                [
                    shown_name,
                    "\n".join(
                        f"{purpose.title}: {purpose.description}"
                        for purpose, _ in managed.purposes.values()
                    ),
                    "\n".join(described_to_person(b) for _, b in managed.purposes.values()),
                    managed.category.title if managed.category else "",
                    managed.sensitivity.name,
                ]
            )
        shown = len(spool.sample)
        note = ""
        if spool.count > shown:
            note = (
                say("The first {shown} of {count} are listed here; all of them are in {file}.")
                .replace("{shown}", f"{shown:,}")
                .replace("{count}", f"{spool.count:,}")
                .replace("{file}", spool.member)
            )
        header = [wording.field_label(type_name, name) for name in spool.names]
        sections = [
            Section(
                f"{label}: {say('what each item is used for')}",
                ("Item", "Used for", "Basis", "Kind of information", "Sensitivity"),
                why,
            ),
            Section(
                f"{label}: {say('your records')} ({spool.count:,})",
                [*header, STATEMENTS_COLUMN],
                spool.sample,
                note,
            ),
        ]
        return label, sections

    def _withheld(self) -> tuple[dict[str, Any], list[list[str]]]:
        entries, rows = [], []
        rank = list(_WHAT)
        for (kind, record_type, field, ground_id), (item, count) in sorted(
            self.withheld.items(),
            key=lambda kv: (kv[0][1], kv[0][2] or "", rank.index(kv[0][0]), kv[0][3]),
        ):
            entries.append(
                {
                    "record_type": record_type,
                    "field": field,
                    "what": _WHAT[kind],
                    "count": count,
                    "ground": ground_id,
                    "act": item.ground.act,
                    "section": item.ground.section,
                    "reason": item.ground.reason,
                }
            )
            wording = self.access.wording
            label = wording.label(record_type)
            plural = "s" if count != 1 else ""
            if kind == "correction":
                shown = wording.field_label(record_type, field) if field else ""
                about = f"{shown} in a {label} record" if field else f"a {label} record"
                what = f"{count:,} correction request{plural} about {about}"
            else:
                what = self._what(record_type, field, count)
            rows.append([what, item.ground.reason, item.ground.cite()])
        return {"withheld": entries}, rows

    def _what(self, record_type: str, field: str | None, count: int) -> str:
        """ "3 Case note records", or "Text in 3 Case note records", for the page."""
        wording = self.access.wording
        what = f"{count:,} {wording.label(record_type)} record{'s' if count != 1 else ''}"
        if field is not None:
            what = f"{wording.field_label(record_type, field)} in {what}"
        return what


_CONSENT_HEADER = ("When", "About", "Choice", "Made by", "Ends")
_DISCLOSURE_HEADER = ("When", "Given to", "For", "Basis", "Under the agreement", "What")
_FROM_HEADER = ("What", "Where it came from", "Under the agreement", "Received")
_CORRECTION_HEADER = (
    "Asked",
    "What",
    "You asked for",
    "Outcome",
    "Our note",
    "Your statement",
    "Who we told",
)
_WITHHELD_HEADER = ("What", "Why", "Law")
_NCND_HEADER = ("About", "Why", "Law")
_OTHER_FORMS_HEADER = ("What", "How you get it", "Conditions", "Law")
_ACCESS_HEADER = ("When", "Why", "Who (role)", "What was read")


def _describe(rule: Withhold | ReleaseAs) -> str:
    where = [rule.record_type.__qualname__]
    where += ["key=..."] if rule.key is not None else []  # a key may be a subject id
    where += [f"field={rule.field!r}"] if rule.field is not None else []
    return f"{type(rule).__name__}({', '.join(where)})"


def _section(caption: str, header: Sequence[str], rows: list[list[str]]) -> Section | None:
    return Section(caption, header, rows) if rows else None


def _policy_of(obj: object) -> RecordPolicy | None:
    try:
        return record_policy(type(obj))
    except AnnotationError:
        return None


def records_of(
    source: str, fetch: Callable[[str], Iterable[object]], subject: str
) -> Iterator[object]:
    """The records data source *source* yields for *subject*, each checked to be a
    purposeful record about them.

    Raises:
        SubjectAccessError: the source failed, or yielded something that is not a record,
            or a record about someone else (naming the source and type, never the record).
    """
    try:
        records = iter(fetch(subject))
    except Exception as exc:
        raise _source_failed(source) from exc
    while True:
        try:
            obj = next(records)
        except StopIteration:
            return
        except Exception as exc:
            raise _source_failed(source) from exc
        policy = _policy_of(obj)
        if policy is None:
            raise SubjectAccessError(
                f"data source {source!r} yielded a {type(obj).__name__}, which is not a "
                f"purposeful record; yield instances of @purposeful.record classes"
            )
        if policy.subject_of(obj) != subject:
            raise SubjectAccessError(
                f"data source {source!r} yielded a {policy.name} record about "
                f"someone other than the person asked about; nothing was written. Fix the "
                f"source's query: a bundle must never hold another person's information"
            )
        yield obj


def _source_failed(name: str) -> SubjectAccessError:
    return SubjectAccessError(
        f"data source {name!r} failed while reading records (see the cause above); nothing "
        f"was written. Fix the source, then build the bundle again"
    )


def _union(first: Grounds, second: Grounds) -> Grounds:
    """*first*, then what *second* adds, each ground once."""
    ids = {ground.id for ground in first}
    return first + tuple(ground for ground in second if ground.id not in ids)


def _withheld_first(grounds: list[WithholdingGround]) -> Grounds:
    """*grounds*, without the mark of "given another way" when the thing is withheld on a
    ground of its own: withholding wins."""
    if _ANOTHER_WAY in grounds and any(g is not _ANOTHER_WAY and g is not _NCND for g in grounds):
        return tuple(g for g in grounds if g is not _ANOTHER_WAY)
    return tuple(grounds)


def _raw(policy: RecordPolicy, obj: object, name: str) -> object:
    """*name*'s value on *obj*, read without a decision (the bundle's read)."""
    managed = policy.fields.get(name)
    return managed._raw(obj) if managed is not None else getattr(obj, name, None)


def present(value: object) -> bool:
    """A marked field holds something to review: not None, and not empty."""
    if value is None:
        return False
    if isinstance(value, str | bytes | list | tuple | set | frozenset | dict):
        return len(value) > 0
    return True


def _requester(request: AccessRequest) -> dict[str, Any] | None:
    """Who asked and which s 57 checks are recorded, for the manifest (no references)."""
    requester = request.requester
    if requester is None:
        return None
    return {
        "kind": requester.kind,
        "authorisation": requester.authorisation.value if requester.authorisation else None,
        "checks": [
            name
            for name in ("identity", "no_threat", "delivery")
            if getattr(request, name) is not None
        ],
    }
