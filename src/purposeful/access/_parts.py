"""The parts of a subject-access bundle besides the records: consent, disclosures,
corrections, the other answers and the access history, each as its JSON document and the
page's rows.

Private to the access package: a mixin of `_contents.BundleContents`, which reads the
records and writes the bundle; these parts read the stores and the audit ledgers.

What this module must not do: put a personal value or the subject id in a message, or show
a correction request about something withheld (`BundleContents` decides which to show).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from .._shared.nztime import nz_time
from ..errors import SubjectAccessError
from ..records import record_policy
from ..typing import ProvenanceSource
from . import bundle as _bundle
from .answers import NCND_SECTION, NeitherConfirmNorDeny, ReleaseAs

if TYPE_CHECKING:
    from ..audit.history import SubjectAnswer
    from ..corrections.values import Correction
    from ..purposes import PurposeRegistry
    from ..sharing.values import CorrectionNotice, Provenance
    from .request import AccessRequest, SubjectAccess

__all__ = ["Parts", "iso"]


class Parts:
    """The bundle's other parts, for `BundleContents`."""

    access: SubjectAccess
    request: AccessRequest
    registry: PurposeRegistry
    shown_corrections: list[tuple[Correction, bool]]
    released: dict[ReleaseAs, int]
    answers: tuple[NeitherConfirmNorDeny | ReleaseAs, ...]
    #: the page's "where this came from" lines, once the disclosures are read
    provenance_rows: list[list[str]]

    def _what(self, record_type: str, field: str | None, count: int) -> str:
        raise NotImplementedError

    def _consents(self) -> tuple[dict[str, Any], list[list[str]]]:
        consent = self.access.consent
        if consent is None:
            return {"included": False, "records": []}, []
        subject = self.request.subject
        rows = []
        for event in consent.history(subject):
            purpose = self.registry.get(event.purpose) if event.purpose in self.registry else None
            rows.append(
                [
                    nz_time(event.at),
                    purpose.title if purpose else event.purpose,
                    self.access.wording.say(event.state.value),
                    self.access.wording.say(_by(event.by)),
                    nz_time(event.expires_at) if event.expires_at else "",
                ]
            )
        from ..consent.export import SCHEMA

        return {"included": True, "schema": SCHEMA, "records": consent.export(subject)}, rows

    def _unconfirmed(self, name: str) -> bool:
        """True if *name* (``"Type.field"``) is under a neither-confirm-nor-deny answer for
        its whole type or its field (of every record: a disclosure does not say which)."""
        record_type, _, field = name.partition(".")
        for rule in self.answers:
            if not isinstance(rule, NeitherConfirmNorDeny) or rule.key is not None:
                continue
            if record_policy(rule.record_type).name == record_type and rule.field in (None, field):
                return True
        return False

    def _disclosures(self) -> tuple[dict[str, Any], list[list[str]]]:
        from ..sharing.values import DisclosureEntry

        log = self.access.disclosures
        if log is None:
            return {"included": False, "disclosures": []}, []
        entries, rows = [], []
        try:
            found = list(log.for_subject(self.request.subject))
        except Exception as exc:
            raise SubjectAccessError(
                "the disclosure log failed while reading the person's disclosures (see the "
                "cause above); nothing was written. Fix the log, then build the bundle again"
            ) from exc
        for entry in found:
            if not isinstance(entry, DisclosureEntry):
                raise SubjectAccessError(
                    f"the disclosure log ({type(log).__name__}) gave a "
                    f"{type(entry).__name__} where a DisclosureEntry "
                    f"(purposeful.sharing.DisclosureEntry) belongs; nothing was written. Fix "
                    f"the log's for_subject() to yield DisclosureEntry values"
                )
            shown = [name for name in entry.fields if not self._unconfirmed(name)]
            if not shown:  # all of it neither confirmed nor denied: the entry would say so
                continue
            entry = attrs.evolve(entry, fields=tuple(shown))
            purpose = self.registry.get(entry.purpose) if entry.purpose in self.registry else None
            entries.append(
                {
                    "at": iso(entry.at),
                    "recipient": entry.recipient,
                    "purpose": entry.purpose,
                    "purpose_title": purpose.title if purpose else None,
                    "basis": entry.basis,
                    "agreement": entry.agreement,
                    "fields": list(entry.fields),
                }
            )
            rows.append(
                [
                    nz_time(entry.at),
                    entry.recipient,
                    purpose.title if purpose else entry.purpose,
                    entry.basis,
                    entry.agreement or "",
                    "\n".join(self.access.wording.item_label(field) for field in entry.fields),
                ]
            )
        found_json: dict[str, Any] = {"included": True, "disclosures": entries}
        if isinstance(log, ProvenanceSource):
            found_json["received"], self.provenance_rows = self._received(log)
        return found_json, rows

    def _received(self, log: ProvenanceSource) -> tuple[list[dict[str, Any]], list[list[str]]]:
        """Where information came from (a sharing store's ``provenance``): for
        disclosures.json, and a "where this came from" line per item on the page."""
        entries, rows = [], []
        label = self.access.wording.item_label
        for kept in provenance_of(log, self.request.subject, "build the bundle"):
            shown = [
                field
                for field in kept.fields
                if not self._unconfirmed(f"{kept.record_type}.{field}")
                and not self._unconfirmed_record(kept.record_type, kept.record_key)
            ]
            if not shown:
                continue
            entries.append(
                {
                    "received": iso(kept.received_at),
                    "referral_date": kept.day.isoformat(),
                    "from": kept.source,
                    "agreement": kept.agreement_name,
                    "purpose": kept.purpose,
                    "fields": [f"{kept.record_type}.{field}" for field in shown],
                    "said": kept.describe(),
                }
            )
            said = kept.describe()
            rows.append(
                [
                    "\n".join(label(f"{kept.record_type}.{field}") for field in shown),
                    said[:1].upper() + said[1:],
                    kept.agreement_name,
                    nz_time(kept.received_at),
                ]
            )
        return entries, rows

    def _unconfirmed_record(self, record_type: str, key: str) -> bool:
        """True if one record (*record_type*, *key*) is under a neither-confirm-nor-deny
        answer."""
        return any(
            isinstance(rule, NeitherConfirmNorDeny)
            and rule.key == key
            and rule.field is None
            and record_policy(rule.record_type).name == record_type
            for rule in self.answers
        )

    def _corrections(self) -> tuple[dict[str, Any], list[list[str]]]:
        if self.access.corrections is None:
            return {"included": False, "corrections": []}, []
        entries, rows = [], []
        for c, key_withheld in self.shown_corrections:
            told = self._told_of(c.id)
            entries.append(
                {
                    "id": c.id,
                    "record_type": c.record_type,
                    "record_key": None if key_withheld else c.record_key,
                    "field": c.field,
                    "requested": c.requested,
                    "reason": c.reason,
                    "requested_at": iso(c.requested_at),
                    "status": c.status.value,
                    "decided_at": iso(c.decided_at),
                    "decision_note": c.decision_note,
                    "statement_of_correction": c.statement,
                    "statement_at": iso(c.statement_at),
                    # IPP 7: the parties it had been disclosed to that were told of it (None:
                    # the disclosure source does not keep that)
                    "told": None
                    if told is None
                    else [{"recipient": n.recipient, "told_at": iso(n.told_at)} for n in told],
                }
            )
            rows.append(
                [
                    nz_time(c.requested_at),
                    f"{self.access.wording.label(c.record_type)}: "
                    f"{self.access.wording.field_label(c.record_type, c.field)}",
                    c.requested,
                    self.access.wording.say(c.status.value),
                    c.decision_note or "",
                    c.statement or "",
                    "\n".join(f"{n.recipient} ({nz_time(n.told_at)})" for n in told or ()),
                ]
            )
        return {"included": True, "corrections": entries}, rows

    def _told_of(self, correction_id: str) -> list[CorrectionNotice] | None:
        """The parties recorded as told of the correction (IPP 7), oldest first; None when
        the disclosure source keeps no such record (no source, or one without ``notices``).

        Raises:
            SubjectAccessError: the source failed, or gave something else; nothing was
                written.
        """
        from ..sharing.values import CorrectionNotice

        try:
            notices = getattr(self.access.disclosures, "notices", None)
            if notices is None:
                return None
            found = list(notices(correction_id))
        except Exception as exc:
            raise SubjectAccessError(
                "the disclosure log failed while reading whom a correction was told to (see "
                "the cause above); nothing was written. Fix the log, then build the bundle "
                "again"
            ) from exc
        if not all(isinstance(notice, CorrectionNotice) for notice in found):
            raise SubjectAccessError(
                f"the disclosure log ({type(self.access.disclosures).__name__}) gave "
                f"something other than a CorrectionNotice (purposeful.sharing.CorrectionNotice) "
                f"from notices(); nothing was written. Fix the log's notices()"
            )
        if any(notice.correction_id != correction_id for notice in found):
            # another correction's parties (perhaps another person's): never shown
            raise SubjectAccessError(
                f"the disclosure log ({type(self.access.disclosures).__name__}) gave, from "
                f"notices(), a notice of a correction other than the one asked about; "
                f"nothing was written. Fix the log's notices() to give only the notices of "
                f"the correction it is given"
            )
        return found

    def _answers(self) -> tuple[list[dict[str, Any]], list[list[str]], list[list[str]]]:
        """The other answers, for the manifest (in the order given), and the page's rows.

        An answer that neither confirms nor denies is stated the same whether or not it
        left anything out: no record type, no count."""
        entries: list[dict[str, Any]] = []
        ncnd_rows: list[list[str]] = []
        other_rows: list[list[str]] = []
        say = self.access.wording.say
        for rule in self.answers:
            if isinstance(rule, NeitherConfirmNorDeny):
                ground = rule.ground
                entries.append(
                    {
                        "answer": "neither-confirm-nor-deny",
                        "about": rule.about,
                        "act": ground.act,
                        "section": NCND_SECTION,
                        "ground": ground.id,
                        "ground_section": ground.section,
                        "reason": ground.reason,
                    }
                )
                ncnd_rows.append([rule.about, ground.reason, rule.cite()])
                continue
            policy = record_policy(rule.record_type)
            count = self.released.get(rule, 0)
            entries.append(
                {
                    "answer": "release-in-another-form"
                    if rule.form is not None
                    else "release-with-conditions",
                    "record_type": policy.name,
                    "field": rule.field,
                    "count": count,
                    "form": rule.form.value if rule.form is not None else None,
                    "conditions": rule.conditions,
                    "act": "Privacy Act 2020",
                    "section": "s 56" if rule.form is not None else "ss 54–56",
                }
            )
            how = (
                say(rule.form.describe()) if rule.form is not None else say("It is in this bundle.")
            )
            other_rows.append(
                [
                    self._what(policy.name, rule.field, count),
                    how,
                    rule.conditions or "",
                    rule.cite(),
                ]
            )
        return entries, ncnd_rows, other_rows

    def _access_history(self) -> tuple[dict[str, Any], list[list[str]], tuple[str, ...]]:
        """``access-history.json``, the page's rows, and why the history may be incomplete.

        Each use lists the fields read from this person's records, never what the same
        scope read from other people's, and which of them were read in monitor mode under
        a decision enforce mode would have refused (``"fields_would_deny"``: used where
        policy said they should not have been). Where the ledger does not say (lines
        written before purposeful recorded reads per person), the use says the fields are
        not known (``"fields_known": false``) rather than list the scope's fields as if
        they were the person's.
        """
        from ..audit.history import SubjectQuery, access_history

        query = SubjectQuery.for_subject(self.request.subject, self.access.pseudonym_keys)
        answer = access_history(
            query, self.access.ledgers, public_key=self.access.ledger_public_key
        )
        wording = self.access.wording
        entries, rows = [], []
        for access in answer.accesses:
            purpose = (
                self.registry.get(access.purpose)
                if access.purpose is not None and access.purpose in self.registry
                else None
            )
            # a type or field neither confirmed nor denied is not said to have been read;
            # a use that read nothing else is not shown, as a disclosure of it is not
            fields = [field for field in access.fields_read if not self._unconfirmed(field)]
            if access.fields_known and access.fields_read and not fields:
                continue
            would_deny = [field for field in access.fields_would_deny if field in fields]
            entries.append(
                {
                    "opened": iso(access.opened),
                    "closed": iso(access.closed),
                    "purpose": access.purpose,
                    "purpose_title": purpose.title if purpose else None,
                    "role": access.actor_role,
                    "fields_read": fields,
                    "fields_known": access.fields_known,
                    "parts_missing": access.parts_missing,
                    "fields_would_deny": would_deny,
                }
            )
            refused = set(would_deny)
            shown = [
                wording.item_label(field)
                + (f" {wording.access_would_deny}" if field in refused else "")
                for field in fields
            ]
            what = [*shown] if access.fields_known else [*shown, wording.access_fields_unknown]
            if access.parts_missing:
                what.append(wording.access_more_possible)
            rows.append(
                [
                    nz_time(access.opened),
                    purpose.title if purpose else (access.purpose or "outside any purpose"),
                    access.actor_role or "",
                    "\n".join(what),
                ]
            )
        gaps = _access_gaps(answer)
        document = {
            "included": True,
            "complete": answer.complete,
            "incomplete_because": list(gaps),
            "accesses": entries,
        }
        return document, rows, gaps


def _access_gaps(answer: SubjectAnswer) -> tuple[str, ...]:
    """Why *answer* may not show every use of the person's information, as codes.

    Empty exactly when the answer is complete. The page words each (`Wording.access_gap`).
    """
    gaps = (
        ("subjects-not-recorded", answer.scopes_without_subjects),
        ("subjects-not-listed", answer.unlisted_scopes),
        ("subjects-capped", answer.overflowed_scopes),
        ("other-keys", len(answer.other_key_ids)),
        ("subjects-not-pseudonyms", answer.non_pseudonym_scopes),
        ("fields-not-per-person", answer.unitemised_scopes),
        ("parts-missing", answer.incomplete_scopes),
    )
    return tuple(code for code, count in gaps if count)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return _bundle.utc_iso(moment)


def _by(by: object) -> str:
    kind = getattr(by, "kind", "person")
    relationship = getattr(by, "relationship", None)
    if relationship is not None:
        return f"representative ({relationship.value})"
    return "you" if kind == "person" else str(kind)


def provenance_of(log: ProvenanceSource, subject: str, again: str) -> list[Provenance]:
    """Every `Provenance` *log* keeps about *subject*, oldest first, each checked to be one.

    Raises:
        SubjectAccessError: the store failed, or gave something else, or another person's;
            *again* says what to do once it is fixed ("build the bundle"). Nothing was
            written.
    """
    from ..sharing.values import Provenance

    try:
        found = list(log.provenance(subject))
    except Exception as exc:
        raise SubjectAccessError(
            f"the sharing store failed while reading where the person's information came "
            f"from (see the cause above); nothing was written. Fix the store, then {again} "
            f"again"
        ) from exc
    for kept in found:
        if not isinstance(kept, Provenance):
            raise SubjectAccessError(
                f"the disclosure log ({type(log).__name__}) gave a {type(kept).__name__} "
                f"where a Provenance (purposeful.sharing.Provenance) belongs; nothing was "
                f"written. Fix its provenance() to return Provenance values"
            )
        if kept.subject != subject:
            raise SubjectAccessError(
                f"the disclosure log ({type(log).__name__}) gave, from provenance(), where "
                f"someone else's information came from; nothing was written. Fix its "
                f"provenance() to return only the person's: a bundle must never hold "
                f"another person's information"
            )
    return found
