"""Every HTML page purposeful writes for a person to read, built from fictitious data for
the accessibility audit: the subject-access page (every part filled in, and as a real bundle
writes it), the privacy notice (with a "who may see what" section, and with nothing
declared), and the audit report page (with its chart, and the answer about one person).

The record types here have names of their own in the test suite (agreements and notices
find record types by name).
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import purposeful
from _audit_inputs import MONDAY, HandPart, HandScope, write_ledger, write_traces
from purposeful import (
    CONSENT,
    IN_CONFIDENCE,
    ORANGA_TAMARIKI_ACT_S66C,
    RESTRICTED,
    SENSITIVE,
    InformationSharingAgreement,
    ServiceAgreement,
)
from purposeful.access import AccessRequest, AgencyDetails, Check, Requester, SubjectAccess
from purposeful.access.page import Page, Section, Wording, render_page
from purposeful.audit import PseudonymKey
from purposeful.audit.history import SubjectQuery
from purposeful.audit.report import Report, build_report, render_html
from purposeful.notices import NoticeWording, build_notice
from purposeful.sharing.agreements import Party, SharingAgreement
from purposeful.supply import Mandatory, Voluntary
from purposeful.withholding import ANOTHER_PERSONS_AFFAIRS

AGENCY = AgencyDetails(
    name="Te Puna Tautoko",
    email="privacy@tepunatautoko.example.nz",
    phone="06 555 0142",
    postal_address="PO Box 311, Whanganui 4540",
    website="https://tepunatautoko.example.nz/privacy",
)
#: An agency whose name, email and web addresses are long: they must wrap on a narrow screen.
LONG_AGENCY = AgencyDetails(
    name="Te Rūnanga o Ngāti Whakaue ki Maketū Whānau Ora Charitable Trust",
    email="privacy.officer.subject.access@tepunatautokowhanaungatanga.example.nz",
    website="https://tepunatautokowhanaungatanga.example.nz/privacy/subject-access/how-to-ask",
    privacy_officer="Kaitiaki Pārongo (Privacy Officer)",
)
SERVICE = ServiceAgreement("Service agreement")
REFERRAL = "service-delivery.referral"
SUBJECT = "client-A11Y-private"


@purposeful.record(subject="client_id")
class ReadableIntake:
    """One per person: what an intake records."""

    client_id: str
    preferred_name: str = purposeful.field(
        purposes={"service-delivery": SERVICE},
        category="identity",
        supply=Mandatory("Without it we cannot give you the service."),
    )
    address: str = purposeful.field(
        purposes={"service-delivery": SERVICE, REFERRAL: CONSENT},
        category="contact",
        supply=Voluntary("We can still help you, but we cannot refer you for housing."),
    )
    wellbeing: str = purposeful.field(
        purposes={"service-delivery.case-management": CONSENT},
        category="health.mental-health",
        sensitivity=SENSITIVE,
    )


@purposeful.record(subject="client_id", key="note_id")
class ReadableCaseNote:
    """Many per person; who notified us is withheld whenever the person asks."""

    client_id: str
    note_id: str
    text: str = purposeful.field(
        purposes={"service-delivery.case-management": SERVICE}, category="case-notes"
    )
    notifier: str = purposeful.field(
        purposes={"care-and-protection": ORANGA_TAMARIKI_ACT_S66C},
        sensitivity=RESTRICTED,
        category="family-violence",
        withhold=ANOTHER_PERSONS_AFFAIRS,
    )


RECORDS = (ReadableIntake, ReadableCaseNote)

HOUSING = SharingAgreement(
    id="a11y-housing-referrals",
    name="Housing referrals",
    parties=[
        Party("Te Puna Tautoko", "14 Victoria Avenue, Whanganui"),
        Party("Kāinga Ora", "7 Waterloo Quay, Wellington 6011"),
    ],
    purposes=[REFERRAL],
    basis=InformationSharingAgreement("Joint referrals AISA"),
    starts=date(2026, 1, 1),
    expires=date(2028, 6, 30),
    review=date(2027, 6, 30),
    fields=["ReadableIntake.address"],
    description="When you ask us to, we refer you to Kāinga Ora for housing.",
)

# --- the subject-access page ---------------------------------------------------------------


def full_bundle_page(agency: AgencyDetails = AGENCY) -> str:
    """The subject-access page with every part filled in: a draft, asked by someone acting
    for the person, with things withheld, neither confirmed nor denied, given on conditions,
    and an incomplete access history."""
    holdings = [
        (
            "Intake",
            [
                Section(
                    caption="Intake: what each piece of information is for",
                    header=["Information", "Used for", "Basis", "Sensitivity"],
                    rows=[
                        ["Preferred name", "Service delivery", "Service agreement", "Personal"],
                        ["Wellbeing", "Case management", "Your consent", "Sensitive"],
                    ],
                ),
                Section(
                    caption="Intake: your records",
                    header=["Preferred name", "Address", "Wellbeing"],
                    rows=[["Aroha", "12 Kōwhai Street, Whanganui", "Settling in well."]],
                ),
            ],
        ),
        (
            "Case notes",
            [
                Section(
                    caption="Case notes: your records",
                    header=["Reference", "What your caseworker wrote"],
                    rows=[[f"N-{n}", f"Met at home, visit {n}."] for n in range(1, 4)],
                    note="The other 47 are in records/ReadableCaseNote.csv.",
                )
            ],
        ),
    ]
    page = Page(
        agency=agency,
        wording=Wording(),
        request_id="SAR-2026-0107",
        received=date(2026, 3, 2),
        due=date(2026, 3, 30),
        holdings=holdings,
        consents=Section(
            caption="Your consent choices",
            header=["When", "Purpose", "Choice", "Recorded by"],
            rows=[["3 March 2026", "Housing referrals", "given", "staff-0042"]],
        ),
        disclosures=Section(
            caption="Who we shared your information with",
            header=["When", "To", "What", "Why"],
            rows=[["4 March 2026", "Kāinga Ora", "Address (Intake)", "Housing referral"]],
        ),
        corrections=Section(
            caption="Corrections you asked for",
            header=["Asked", "Information", "Outcome"],
            rows=[["5 March 2026", "Address (Intake)", "declined"]],
        ),
        withheld=Section(
            caption="What we did not give you",
            header=["Information", "Why", "The law"],
            rows=[["Notifier (Case note)", "Another person's affairs", "s 53(a)"]],
        ),
        access=Section(
            caption="When your information was looked at",
            header=["When", "Why", "What was read", "Who"],
            rows=[["6 March 2026, 9:30 am", "Case management", "Wellbeing", "caseworker"]],
        ),
        access_complete=False,
        access_gaps=["subjects-capped", "parts-missing"],
        files=["records.json", "records/ReadableIntake.csv", "manifest.json", "manifest.sig"],
        draft=True,
        requester="agent",
        ncnd=Section(
            caption="What we neither confirm nor deny",
            header=["About", "Why", "The law"],
            rows=[["Police referrals", "Could prejudice an investigation", "s 47(a)"]],
        ),
        other_forms=Section(
            caption="Information given on conditions",
            header=["Information", "How", "The law"],
            rows=[["Psychologist's report", "Read with your GP", "s 56"]],
        ),
    )
    return render_page(page)


def empty_bundle_page() -> str:
    """The subject-access page with nothing found, and the stores not connected."""
    page = Page(
        agency=AgencyDetails(name="Te Puna Tautoko", email="privacy@tepunatautoko.example.nz"),
        wording=Wording(),
        request_id="SAR-2026-0108",
        received=date(2026, 3, 2),
        due=date(2026, 3, 30),
        holdings=[],
        consents=None,
        disclosures=None,
        corrections=None,
        withheld=None,
        access=None,
        access_complete=True,
        files=["records.json", "manifest.json", "manifest.sig"],
        not_included=frozenset({"consents", "disclosures", "corrections", "access"}),
    )
    return render_page(page)


def _records(subject: str) -> Iterator[object]:
    yield ReadableIntake(subject, "Aroha", "12 Kōwhai Street", "Settling in well.")
    for number in (1, 2, 3):
        yield ReadableCaseNote(subject, f"N-{number}", f"Met at home, visit {number}.", "Hidden")


def built_bundle_page(directory: Path) -> str:
    """``index.html`` as `SubjectAccess.build` writes it into a real bundle."""
    access = SubjectAccess(
        agency=AGENCY,
        pseudonym_keys=PseudonymKey("a1100001", hashlib.sha256(b"a11y pseudonyms").digest()),
    )
    access.register("case-management", _records)
    check = Check(by="staff-7", how="photo-id-sighted", evidence="IDV-0107")
    request = AccessRequest(
        "SAR-2026-0109",
        SUBJECT,
        date(2026, 3, 2),
        requester=Requester.person(),
        identity=check,
        no_threat=Check(by="staff-7", how="asked-in-private"),
        delivery=Check(by="staff-7", how="encrypted-to-requester-key"),
    )
    info = access.build(
        request,
        directory / "bundle.zip",
        signing_key=Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"a11y").digest()),
        created=datetime(2026, 3, 20, 2, 30, tzinfo=UTC),
    )
    with zipfile.ZipFile(info.path) as bundle:
        return bundle.read("index.html").decode("utf-8")


#: Text anyone could have written: markup, a bidirectional override, a control character,
#: a word too long for any screen, emoji and macrons.
HOSTILE = (
    "<b>Ngā</b> mihi & \u202egnp.exe\x1b[31m "
    + "Whakawhanaungatanga" * 8
    + " 🌿 <script>alert(1)</script>"
)


def hostile_bundle_page() -> str:
    """The subject-access page with `HOSTILE` in the agency's wording, a record type's
    label, every table cell and a note."""
    wording = Wording(
        greeting=HOSTILE,
        intro=HOSTILE,
        record_labels={"ReadableCaseNote": HOSTILE},
        phrases={"Reference": HOSTILE},
    )
    section = Section(caption=HOSTILE, header=[HOSTILE, "Text"], rows=[[HOSTILE, HOSTILE]])
    page = Page(
        agency=AgencyDetails(name=HOSTILE, email=HOSTILE, privacy_officer=HOSTILE),
        wording=wording,
        request_id=HOSTILE,
        received=date(2026, 3, 2),
        due=date(2026, 3, 30),
        holdings=[(HOSTILE, [attrs.evolve(section, note=HOSTILE)])],
        consents=section,
        disclosures=section,
        corrections=None,
        withheld=section,
        access=section,
        access_complete=True,
        files=[HOSTILE],
    )
    return render_page(page)


# --- the privacy notice --------------------------------------------------------------------


def notice_page(agency: AgencyDetails = AGENCY) -> str:
    """The privacy notice of `RECORDS` and `HOUSING`, with a "who may see what" section."""
    notice = build_notice(
        agency=agency,
        records=RECORDS,
        agreements=[HOUSING],
        roles={"caseworker": SENSITIVE, "receptionist": IN_CONFIDENCE},
    )
    return notice.to_html()


def hostile_notice_page() -> str:
    """The privacy notice with `HOSTILE` as the agency's name and in its wording."""
    wording = NoticeWording(
        greeting=HOSTILE,
        intro=HOSTILE,
        record_labels={"ReadableIntake": HOSTILE},
        field_labels={"ReadableIntake.address": HOSTILE},
    )
    agency = AgencyDetails(name=HOSTILE, email=HOSTILE, privacy_officer=HOSTILE)
    return build_notice(agency=agency, records=RECORDS, wording=wording).to_html()


def empty_notice_page() -> str:
    """The privacy notice of an agency that has declared nothing yet."""
    return build_notice(agency=AGENCY, records=()).to_html()


# --- the audit report ----------------------------------------------------------------------


def _scopes() -> list[HandScope]:
    reads = {"p-1": frozenset({"ReadableIntake.wellbeing"}), "p-2": frozenset({"X.y"})}
    return [
        HandScope(f"s-{n}", (HandPart(reads=reads),), opened=MONDAY + timedelta(hours=n))
        for n in range(6)
    ] + [
        HandScope(
            "s-refused",
            (HandPart(refusals=(("denied", "ReadableCaseNote.notifier", 2),)),),
            actor="staff-0099",
            role="administrator",
            purpose="service-delivery",
        ),
        HandScope(
            "s-unscoped",
            (HandPart(unlisted=1, unlisted_fields=frozenset({"ReadableIntake.address"})),),
            purpose=None,
            actor=None,
            role=None,
            site=("app/views.py", "export", 42),
        ),
    ]


def report(directory: Path) -> Report:
    """The audit report of a trace file and a ledger: eight scopes over six hours."""
    traces = write_traces(directory / "traces.jsonl", _scopes()[:4])
    ledger = write_ledger(directory / "ledger.jsonl", _scopes()[4:])
    return build_report([traces], [ledger])


def report_page(directory: Path) -> str:
    """The audit report page of `report`, with its chart."""
    return render_html(report(directory))


def subject_report_page(directory: Path) -> str:
    """The audit report page answering about one person (no chart)."""
    traces = write_traces(directory / "traces.jsonl", _scopes())
    key = PseudonymKey("a1100001", hashlib.sha256(b"a11y pseudonyms").digest())
    query = SubjectQuery.for_subject(SUBJECT, [key])
    return render_html(build_report([traces], subject=query))


# --- the copy for the person ---------------------------------------------------------------


def copy_page(*, large_print: bool = False, hostile: bool = False) -> str:
    """A copy for the person as `copy_for_person` writes it: shown, refused and withheld
    items, and a welcome in te reo Māori."""
    from purposeful.access import Passage, copy_for_person
    from purposeful.sharing import MemorySharingStore

    text = HOSTILE if hostile else "Met at home, visit 1."
    access = SubjectAccess(agency=AGENCY)
    records = [
        ReadableIntake(SUBJECT, HOSTILE if hostile else "Aroha", "12 Kōwhai Street", "Well."),
        ReadableCaseNote(SUBJECT, "N-1", text, "Hidden"),
    ]
    caseworker = purposeful.Actor("staff-17", "caseworker", IN_CONFIDENCE)
    with (
        purposeful.configured(disclosure_log=MemorySharingStore()),
        purposeful.use("service-delivery.case-management", actor=caseworker),
    ):
        copy = copy_for_person(
            access,
            SUBJECT,
            reference="INTAKE-2026-0107",
            records=records,
            roles={"caseworker": IN_CONFIDENCE, "team-leader": SENSITIVE},
            passages=[Passage("Nau mai, haere mai ki Te Puna Tautoko.", lang="mi")],
            at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        )
    return copy.html(large_print=large_print)
