"""A small NGO's case-management flow, end to end, on purposeful's embedded defaults.

Run it with ``python examples/frontline_service.py``. It shows:

1. a caseworker reading what case management may use;
2. a funder report refused, with the explanation a caseworker would see;
3. a legacy export run in monitor mode: let through, and recorded as would-deny;
4. a projection that minimises a record to what a referral partner may see;
5. consent for research given by a parent, used, withdrawn, and the next scope refused,
   with consent kept in the embedded SQLite store (a local file);
6. the audit reports every scope produced: decisions, never values;
7. the audit trail: every scope as an OpenTelemetry span (printed to the console as it
   closes) and a line in a tamper-evident ledger, which verifies; a tampered copy does not;
8. the privacy team's question, answered from the ledger: who read Aroha's information,
   when, and for what purpose (``purposeful audit report --subject``);
9. Aroha is referred to a housing partner under a sharing agreement: only what the
   agreement covers and referral may use goes, logged before it goes; a party outside the
   agreement is refused with an explanation;
10. asking first: may a field be used or shared, on what basis and under what law; and a
   person's consent asked as an audited use;
11. after her intake, the caseworker prints Aroha a copy of what was recorded: each item
   with why it is held, who may see it and whether she had to give it; read in the
   case-management scope, logged as a disclosure to her (IPP 11(1)(b)), the reporter's name
   withheld (s 53(b)), in large print with a welcome in te reo Māori;
12. Aroha asks for her information (IPP 6): a signed bundle of her client record and case
   notes, with the name of the person who reported a concern withheld (Privacy Act s 53), a
   correction she asked for declined with her statement of correction attached (IPP 7), her
   consent history and the referral; it verifies, and a tampered copy does not;
13. tell us once: Kāinga Ora's referral back pre-fills Aroha's contact details, checked
   against the agreement's JSON Schema terms, with where they came from kept; "do we hold
   her phone already?" is answered as a checked read, never the number;
14. the quarterly funder report: a table of clients by programme and iwi, computed inside
   the funder-reporting purpose, small counts suppressed and every count randomly rounded to
   base 3 (RR3), with a community-sensitivity note;
15. the privacy notice and the machine-readable register, generated from the annotations
   and the agreement, written to disk, with who may see what;
16. people who need more care: Manaia is a child, flagged by the agency's own rule; research
   counts only a representative's consent for him (the default pack's example), so his own
   is not enough, and his mother's is;
17. retention (IPP 9) of records from the old system: a purpose with no period keeps the
   records until the privacy team sets one; then what is past retention is disposed of, a
   legal hold keeps Manaia's, and each disposal leaves evidence in the ledger, which
   verifies;
18. a breach (Privacy Act Part 6): staff-17's password was used by someone else for a day;
   the ledger says how many people, which information and purposes it reached, and what it
   cannot see; the people are named into a file only, and the decision stays a person's;
19. a release for someone who needs more care: Aroha now carries a family-violence safety
   flag, so her bundle waits for a safety review and a second staff member's approval; the
   audit trail records the needs met, the approver and the review, and the bundle she gets
   says nothing of them.

Spans need the OpenTelemetry SDK: ``pip install ".[examples]"``. Set
``OTEL_EXPORTER_OTLP_ENDPOINT`` (e.g. ``http://localhost:4318``) to also send them to your
collector with the official OTLP exporter.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import attrs
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)

import purposeful
from purposeful import (
    AUTHORISED_BY_PERSON,
    CONSENT,
    IN_CONFIDENCE,
    ORANGA_TAMARIKI_ACT_S66C,
    SENSITIVE,
    SERIOUS_THREAT,
    Actor,
    Mode,
    ScopeReport,
    ServiceAgreement,
    Statute,
    cli,
)
from purposeful.access import (
    AccessRequest,
    AgencyDetails,
    Check,
    Extension,
    ExtensionGround,
    NeedsReview,
    NeitherConfirmNorDeny,
    Passage,
    Requester,
    ResponseClock,
    SubjectAccess,
    TimeLimit,
    Wording,
    copy_for_person,
    verify_bundle,
)
from purposeful.audit import (
    KeyFiles,
    Ledger,
    SpanSink,
    generate_keys,
    load_pseudonym_key,
    load_public_key,
    load_signing_key,
    verify_ledger,
)
from purposeful.care import CareFlag
from purposeful.consent import ConsentMethod, Relationship, Representative
from purposeful.consent.sqlite import SQLiteConsentStore
from purposeful.corrections import SQLiteCorrectionStore
from purposeful.insights import crosstab
from purposeful.notices import (
    IPP3AException,
    build_notice,
    exception_relied_on,
    record_exception,
)
from purposeful.sharing import STATEMENTS, Party, SharingAgreement, SQLiteSharingStore
from purposeful.supply import Mandatory, Voluntary
from purposeful.withholding import ANOTHER_PERSONS_AFFAIRS, MAINTENANCE_OF_THE_LAW

DELIVERY = ServiceAgreement("Service delivery agreement")
FUNDING = ServiceAgreement("Funding agreement")


@purposeful.record(subject="client_id")
class Client:
    """A client of Te Whare Āwhina, a community support service."""

    client_id: str
    name: str = purposeful.field(
        purposes={"service-delivery": DELIVERY, "service-delivery.referral": CONSENT},
        category="identity",
        supply=Mandatory("Without it we cannot give you the service."),  # IPP 3(1)
    )
    iwi: str = purposeful.field(
        purposes={"service-delivery": DELIVERY, "funder-reporting": FUNDING},
        category="ethnicity.iwi-affiliation",
        supply=Voluntary("It makes no difference to the help you get."),
    )
    diagnosis: str = purposeful.field(
        purposes={
            "service-delivery.case-management": DELIVERY,
            "care-and-protection": ORANGA_TAMARIKI_ACT_S66C,
        },
        sensitivity=SENSITIVE,
        category="health.mental-health",
    )
    wellbeing_score: int = purposeful.field(
        purposes={"service-delivery": DELIVERY, "research": CONSENT},
        category="health",
        default=0,
    )
    programme: str = purposeful.field(
        purposes={"service-delivery": DELIVERY, "funder-reporting": FUNDING},
        default="Whānau support",
    )
    region: str = "Waikato"


@purposeful.record(subject="client_id", key="note_id")
class CaseNote:
    """A caseworker's note about a client."""

    client_id: str
    note_id: str
    written_on: date
    text: str = purposeful.field(
        purposes={"service-delivery.case-management": DELIVERY}, sensitivity=SENSITIVE
    )
    # Who reported a concern is someone else's information: never given to the client.
    reported_by: str | None = purposeful.field(
        purposes={
            "care-and-protection": ORANGA_TAMARIKI_ACT_S66C,
            # read before a bundle is released, to check it is safe to (Privacy Act s 57)
            "access.safety-review": Statute("Privacy Act 2020", "57"),
        },
        sensitivity=SENSITIVE,
        withhold=ANOTHER_PERSONS_AFFAIRS,
        default=None,
    )


CLIENTS = {
    "C-1001": Client("C-1001", "Aroha Ngata", "Ngāti Maniapoto", "generalised anxiety", 6),
    "C-1002": Client("C-1002", "Manaia Ngata", "Ngāti Maniapoto", "none recorded", 8),
}
NOTES = [
    CaseNote("C-1001", "N-1", date(2026, 9, 2), "First meeting; housing is the priority."),
    CaseNote(
        "C-1001",
        "N-2",
        date(2026, 10, 14),
        "A neighbour reported a concern; visited, all well.",
        reported_by="Hemi, next door",
    ),
]


class CollectingSink:
    """An audit sink that keeps each scope's report; real deployments export spans."""

    def __init__(self) -> None:
        self.reports: list[ScopeReport] = []

    def emit(self, report: ScopeReport) -> None:
        self.reports.append(report)


def heading(text: str) -> None:
    print(f"\n== {text} ==")


def one_line(span: ReadableSpan) -> str:
    """A compact console line per span; the SDK's default prints the whole span as JSON."""
    attributes = dict(span.attributes or {})
    purpose = attributes.get("purposeful.purpose", "(no scope)")
    fields = ",".join(attributes.get("purposeful.fields_read", ())) or "-"  # type: ignore[arg-type]
    role = attributes.get("purposeful.actor.role", "-")
    return (
        f"  [span {span.name}] purpose={purpose} role={role} "
        f"read={fields} people={attributes.get('purposeful.subjects.count')} "
        f"denied={attributes.get('purposeful.denied.count')} "
        f"would_deny={attributes.get('purposeful.would_deny.count')}\n"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        keys = generate_keys(Path(folder, "keys"))
        spans = TracerProvider()
        spans.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(formatter=one_line)))
        if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):  # your collector, via official OTLP
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            spans.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        ledger = Ledger(Path(folder, "audit.jsonl"), signing_key=load_signing_key(keys.signing_key))
        consent = SQLiteConsentStore(Path(folder, "consent.sqlite3"))
        sink = CollectingSink()
        purposeful.configure(
            sinks=[sink, SpanSink(spans), ledger],
            consent=consent,
            pseudonymise=load_pseudonym_key(keys.pseudonym_key).pseudonym,
        )
        try:
            run(consent, sink)
            ledger.close()
            show_the_ledger(ledger.path, keys.public_key)
            heading("8. Who read Aroha's information? (purposeful audit report --subject)")
            question = ["--subject", "C-1001", "--key-file", str(keys.pseudonym_key)]
            cli.main(["audit", "report", "--ledger", str(ledger.path), *question])
            # the ledger is closed and verified: later scopes go to the spans and the sink
            purposeful.configure(sinks=[sink, SpanSink(spans)])
            with SQLiteSharingStore(Path(folder, "sharing.sqlite3")) as sharing:
                purposeful.configure(disclosure_log=sharing)
                refer_to_housing_partner()
                ask_before_acting()
                print_a_copy_for_aroha(Path(folder), sharing)
                answer_access_request(Path(folder), keys, consent, sharing, ledger.path)
                tell_us_once(sharing)
            report_to_the_funder()
            publish_the_notice(Path(folder))
            care_for_a_child(consent)
            dispose_past_retention(ledger.path, keys)
            assess_a_breach(Path(folder), keys, ledger.path)
            release_with_care(Path(folder), keys, sink)
        finally:
            ledger.close()
            consent.close()
            spans.shutdown()
            purposeful.reset_configuration()


class ClientFlags:
    """Where the agency keeps who needs more care (a query on its own records, in real
    life): its own rule decides who is a child or young person; the law has no age rule."""

    def __init__(self, flags: dict[str, set[str]]) -> None:
        self.flags = flags

    def care_flags(self, subjects: list[str]) -> dict[str, set[str]]:
        return {s: self.flags[s] for s in subjects if s in self.flags}


def care_for_a_child(consent: SQLiteConsentStore) -> None:
    heading("16. People who need more care: a child's research consent")
    purposeful.configure(care_flags=ClientFlags({"C-1002": {CareFlag.CHILD_OR_YOUNG_PERSON}}))
    researcher = Actor("staff-31", "researcher", IN_CONFIDENCE)
    manaia = CLIENTS["C-1002"]
    consent.give("C-1002", "research", notice_version="research-2026-01")  # by himself
    try:
        with purposeful.use("research", actor=researcher):
            print(manaia.wellbeing_score)
    except purposeful.PurposeViolation as refusal:
        print("His own consent:", ", ".join(refusal.decision.reason_codes))
        print("Refused:", refusal.decision.explain())
    mother = Representative(
        Relationship.PARENT,
        evidence="intake/2026-0117",
        verified_by="staff-07",
        verified_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    consent.give("C-1002", "research", by=mother, notice_version="research-2026-01")
    with purposeful.use("research", actor=researcher):
        print("With his mother's consent, wellbeing score:", manaia.wellbeing_score)
    purposeful.configure(care_flags=None)


def release_with_care(folder: Path, keys: KeyFiles, sink: CollectingSink) -> None:
    heading("19. A release for someone who needs more care records what it needed")
    purposeful.configure(care_flags=ClientFlags({"C-1001": {CareFlag.FAMILY_VIOLENCE_SAFETY}}))
    access = SubjectAccess(agency=AGENCY, pseudonym_keys=load_pseudonym_key(keys.pseudonym_key))
    access.register("clients", lambda subject: iter([CLIENTS[subject]]))
    checked = Check(by="staff-02", how="photo-id-sighted")
    request = AccessRequest(
        "SAR-2027-0007", "C-1001", received=date(2027, 2, 1), requester=Requester.person(),
        identity=checked, no_threat=checked, delivery=checked, approved_by="staff-05",
    )  # fmt: skip
    reviewer = Actor("staff-09", "privacy-officer", SENSITIVE)
    request = attrs.evolve(request, review=access.review(request, reviewer=reviewer).decide())
    seen = len(sink.reports)
    target = folder / "aroha-2027.zip"
    access.build(request, target, signing_key=load_signing_key(keys.signing_key))
    [released] = [d for r in sink.reports[seen:] for d in r.disclosures if d.get(RELEASED)]
    needs = ", ".join(released["purposeful.disclosure.care.needs"])
    approver = released["purposeful.disclosure.care.second_reviewer"]
    print(f"Recorded: release of {released[RELEASED]}, needs met: {needs}; approved by {approver}")
    with zipfile.ZipFile(target) as bundle:
        said = b"".join(bundle.read(name) for name in bundle.namelist())
    print("The bundle mentions the review or the approver:", b"staff-05" in said)
    purposeful.configure(care_flags=None)


#: The audit key of a released bundle's request (`DisclosureAttribute.REQUEST`).
RELEASED = "purposeful.disclosure.request"


def dispose_past_retention(ledger_path: Path, keys: KeyFiles) -> None:
    heading("17. Retention (IPP 9): what is past retention, disposed of with evidence")
    from purposeful import PurposeRegistry, Retention
    from purposeful.audit.ledger import read_disposals, unfinished_disposals
    from purposeful.holds import MemoryHoldStore
    from purposeful.retention import (
        Dated,
        RetentionSource,
        RetentionSources,
        dispose_due,
        retention_due,
        rule_for,
    )

    # the agency's store (a copy: the other steps keep theirs), and when each record's
    # retention runs from: the client's last contact, the day a note was written
    store: dict[tuple[str, str], Client | CaseNote] = {
        **{(c.client_id, ""): c for c in CLIENTS.values()},
        **{(n.client_id, n.note_id): n for n in NOTES},
    }
    # this step's records came over from the agency's old system: written in 2017
    last_contact = {"C-1001": date(2017, 10, 14), "C-1002": date(2017, 9, 2)}

    def every() -> Iterator[Dated]:
        for record in list(store.values()):
            when = record.written_on.replace(year=2017) if isinstance(record, CaseNote) else None
            yield Dated(record, when or last_contact[record.client_id])

    def dispose(record: object, method: object) -> None:
        key = getattr(record, "note_id", "")
        store.pop((getattr(record, "client_id", ""), key), None)

    sources = RetentionSources()
    sources.register("case-management", RetentionSource(every, dispose))
    report = retention_due(sources)
    default = PurposeRegistry.default()
    kept = sum(report.kept.values())
    print(f"Default pack: {len(report.due)} due, {kept} kept, because", end=" ")
    print(rule_for("care-and-protection", default).describe())
    periods = {  # example periods the privacy team set, not law
        "care-and-protection": Retention(years=7, after="the case closes"),
        "research": Retention(years=5, after="the study ends"),
        "access": Retention(years=2, after="the request is answered"),
    }
    registry = default.extend(
        [attrs.evolve(default.get(ident), retention=period) for ident, period in periods.items()]
    )
    holds = MemoryHoldStore()
    holds.place(reason="Family Court proceedings", by="staff-07", subject="C-1002")
    with Ledger(ledger_path, signing_key=load_signing_key(keys.signing_key)) as ledger:
        summary = dispose_due(sources, ledger=ledger, by="staff-07", registry=registry, holds=holds)
    print(f"Disposed of {sum(summary.disposed.values())}; held {sum(summary.held.values())}")
    last = list(read_disposals(ledger_path))[-1]
    print(f"Evidence: {last.stage} {last.record_type}, kept until {last.kept_until}, {last.rule}")
    print("Unfinished disposals:", unfinished_disposals(ledger_path))
    result = verify_ledger(ledger_path, load_public_key(keys.public_key))
    print("Verify the ledger:", result.ok, "/ C-1001 in it:", "C-1001" in ledger_path.read_text())


def show_the_ledger(ledger: Path, public_key: Path) -> None:
    heading("7. The tamper-evident ledger")
    result = verify_ledger(ledger, load_public_key(public_key))
    print("Verify the ledger:", result.describe().replace(str(ledger.parent), "..."))
    tampered = ledger.with_name("tampered.jsonl")
    shutil.copy(ledger, tampered)
    shutil.copy(
        ledger.with_name(ledger.name + ".checkpoints"),
        tampered.with_name(tampered.name + ".checkpoints"),
    )
    lines = tampered.read_text(encoding="utf-8").splitlines(keepends=True)
    # Someone rewrites history: the funder report's scope (line 3) now claims another purpose.
    lines[2] = lines[2].replace('"funder-reporting"', '"service-improvement"')
    tampered.write_text("".join(lines), encoding="utf-8")
    result = verify_ledger(tampered, load_public_key(public_key))
    print("Verify a copy with line 3 edited:", result.describe().replace(str(ledger.parent), "..."))


US = Party("Te Whare Āwhina", address="12 Rata Street, Hamilton 3204")
HOUSING = SharingAgreement(
    id="housing-referrals",
    name="Housing support referrals",
    parties=[US, Party("Kāinga Ora", address="PO Box 2628, Wellington 6140")],
    purposes=["service-delivery.referral"],
    fields=["Client.name", "Client.iwi"],
    # the person's own authorisation (IPP 11(1)(c)): an approved information sharing
    # agreement (Part 7) is a rare Order in Council, not the ordinary basis of a referral
    basis=AUTHORISED_BY_PERSON,
    starts=date(2026, 1, 1),
    expires=date(2027, 12, 31),
    review=date(2027, 6, 30),
    description="Referring people who need a home to Kāinga Ora, with their agreement.",
)
AGENCY = AgencyDetails(
    "Te Whare Āwhina",
    email="privacy@tewhareawhina.example.nz",
    phone="07 555 0100",
    postal_address="12 Rata Street, Hamilton 3204",
)


def refer_to_housing_partner() -> None:
    heading("9. A referral to Kāinga Ora under the housing agreement")
    caseworker = Actor("staff-17", "caseworker", SENSITIVE)
    sent = purposeful.disclose(CLIENTS["C-1001"], to="Kāinga Ora", under=HOUSING, actor=caseworker)
    print("Sent to Kāinga Ora:", sorted(sent), "- left out:", ", ".join(sent.left_out))
    print(
        f"Logged: {sent.disclosure.agreement} / {sent.disclosure.purpose} / "
        f"{', '.join(sent.disclosure.fields)}"
    )
    # sent with the referral, so Kāinga Ora can quote them when it replies about it
    print(f"Our reference for it: {len(sent.reference)} hex digits; record key {sent.record_key}")
    # a referral back in: Manaia's record, from Kāinga Ora. He already knows (he brought it
    # himself), so IPP 3A's exception is recorded as a value, with the file note's id
    log = purposeful.get_configuration().disclosure_log
    assert log is not None
    collected = purposeful.receive(
        CLIENTS["C-1002"], source="Kāinga Ora", purpose="service-delivery.referral"
    )
    resolved = record_exception(
        log, collected.id, IPP3AException.ALREADY_AWARE, reference="FN-2291"
    )
    print("Received; not told because:", exception_relied_on(resolved).describe())
    try:
        purposeful.disclose(
            CLIENTS["C-1001"], to="Oranga Tamariki", under=HOUSING, actor=caseworker
        )
    except purposeful.DisclosureRefused as refusal:
        print("Refused:", refusal)


@purposeful.record(subject="client_id")
class ContactDetails:
    """How to reach a client: filled from a partner's referral where it sent them."""

    client_id: str
    phone: str | None = purposeful.field(
        purposes={"service-delivery": DELIVERY, "service-delivery.referral": CONSENT},
        category="contact",
        default=None,
    )
    email: str | None = purposeful.field(
        purposes={"service-delivery": DELIVERY, "service-delivery.referral": CONSENT},
        category="contact",
        default=None,
    )


def tell_us_once(sharing: SQLiteSharingStore) -> None:
    heading("13. Tell us once: Kāinga Ora's referral back pre-fills her contact details")
    caseworker = Actor("staff-17", "caseworker", SENSITIVE)
    replies = attrs.evolve(HOUSING, id="housing-replies", fields=[], categories=["contact"])
    schema = replies.json_schema(ContactDetails)  # what Kāinga Ora validates against
    sent = schema["$defs"]["ContactDetails"]["properties"]  # the fields, and the statements
    print("The agreement lets them send:", sorted(name for name in sent if name != STATEMENTS))
    contact = ContactDetails("C-1001")
    kept = purposeful.prefill(
        contact,
        {"phone": "027 555 0142"},  # their payload, as JSON
        source="Kāinga Ora",
        under=replies,
        referred=date(2026, 11, 3),
    )
    print(f"Filled {', '.join(kept.fields)}, {kept.describe()}")
    print("Kept in the store:", [p.describe() for p in sharing.provenance("C-1001")])
    try:
        purposeful.prefill(contact, {"phone": 275550142}, source="Kāinga Ora", under=replies)
    except purposeful.errors.ReferralInvalid as refused:
        print("A malformed referral fills nothing:", ", ".join(refused.reasons))
    with purposeful.use("service-delivery", actor=caseworker):
        print("Do we hold her phone already?", purposeful.already_held(contact, "phone"))
        people = lambda subject: [contact]  # noqa: E731 - a data source, as bundles take them
        print(
            "Her email?", purposeful.already_held(people, "ContactDetails.email", subject="C-1001")
        )
    try:
        with purposeful.use("funder-reporting", actor=caseworker):
            purposeful.already_held(contact, "phone")
    except purposeful.PurposeViolation as refusal:
        print("Asked for funder reporting:", ", ".join(refusal.decision.reason_codes))


def ask_before_acting() -> None:
    heading("10. Asking first: may I use or share this?")
    caseworker = Actor("staff-17", "caseworker", SENSITIVE)
    # about a type: no value read, no scope needed, nothing recorded
    answer = purposeful.may_use(
        Client,
        "diagnosis",
        "funder-reporting",
        role="funder-reporting-job",
        clearance=IN_CONFIDENCE,
    )
    print(f"Diagnosis for the funder report? {answer.verdict.value}: {answer.explanation}")
    answer = purposeful.may_use(Client, "diagnosis", "care-and-protection", actor=caseworker)
    print(f"Diagnosis for care and protection? {answer.verdict.value} ({'; '.join(answer.law)})")
    shared = purposeful.may_share(
        Client, "name", agreement=HOUSING, party="Kāinga Ora", actor=caseworker
    )
    print(f"Aroha's name to Kāinga Ora? {shared.verdict.value} ({'; '.join(shared.law)})")
    # about a person: an audited use, asked in the scope it serves, recorded without her id
    with purposeful.use("service-delivery.referral", actor=caseworker):
        about = purposeful.may_use(Client, "name", subject="C-1001")
    print(f"Is Aroha's consent to referral in force? {about.verdict.value}: {about.explanation}")


def print_a_copy_for_aroha(folder: Path, sharing: SQLiteSharingStore) -> None:
    heading("11. After her intake, a copy for Aroha of what was recorded")
    access = SubjectAccess(
        agency=AGENCY,
        wording=Wording(record_labels={"Client": "Your client record", "CaseNote": "Case notes"}),
    )
    caseworker = Actor("staff-17", "caseworker", SENSITIVE)
    with purposeful.use("service-delivery.case-management", actor=caseworker):
        copy = copy_for_person(
            access,
            "C-1001",
            reference="INTAKE-2026-0107",
            records=[CLIENTS["C-1001"], NOTES[1]],
            roles={"caseworker": SENSITIVE, "funder-reporting-job": IN_CONFIDENCE},
            passages=[Passage("Nau mai, haere mai ki Te Whare Āwhina.", lang="mi")],
        )
    page = copy.write(folder / "copy-INTAKE-2026-0107.html", large_print=True).read_text("utf-8")
    name = copy.items[0]
    print(f"{name.label}: had to give it: {name.supply.mandatory if name.supply else '-'}")
    print(f"  who may see it: {', '.join(name.who)}")
    logged = [d for d in sharing.disclosures("C-1001") if d.id in copy.disclosures]
    print(f"Logged as {len(logged)} disclosures to her under {logged[0].agreement}")
    print("The reporter's name on her copy:", "Hemi" in page, "/ why not:", "s 53(b)" in page)
    print('Large print, lang="mi" on the welcome:', "18pt" in page, 'lang="mi"' in page)


def report_to_the_funder() -> None:
    heading("14. The quarterly funder report: suppressed and randomly rounded (RR3)")
    # this quarter's clients: how many of each iwi in each programme
    quarter = {
        ("Whānau support", "Ngāti Maniapoto"): 23,
        ("Whānau support", "Waikato-Tainui"): 17,
        ("Whānau support", "Ngāti Raukawa"): 9,
        ("Whānau support", "Ngāti Hauā"): 4,
        ("Housing navigation", "Ngāti Maniapoto"): 14,
        ("Housing navigation", "Waikato-Tainui"): 11,
        ("Housing navigation", "Ngāti Raukawa"): 2,
        ("Housing navigation", "Ngāti Hauā"): 10,
    }
    clients = []
    for (programme, iwi), count in quarter.items():
        for _ in range(count):
            clients.append(Client(f"C-{2000 + len(clients)}", "-", iwi, "-", programme=programme))
    job = Actor("job-funder-q4", "funder-reporting-job", IN_CONFIDENCE)
    table = crosstab(
        clients, ("programme", "iwi"), purpose="funder-reporting", actor=job, seed=20261124
    )
    print(table.to_markdown())


def publish_the_notice(folder: Path) -> None:
    heading("15. The privacy notice and register, generated from the annotations")
    notice = build_notice(
        agency=AGENCY,
        records=[Client, CaseNote],
        agreements=[HOUSING],
        roles={"caseworker": SENSITIVE, "funder-reporting-job": IN_CONFIDENCE},
    )
    written = notice.write(folder / "notice")
    for kind, path in sorted(written.items()):
        print(f"  {kind:<9} {path.name}")
    lines = written["markdown"].read_text(encoding="utf-8").splitlines()
    print("\n".join(lines[:6]))
    # IPP 3(1): whether each item must be given, and what happens if it is not
    print(next(line for line in lines if "Without it we cannot give you the service" in line))


def assess_a_breach(folder: Path, keys: KeyFiles, ledger: Path) -> None:
    heading("18. staff-17's password was used by someone else for a day: assess the breach")
    from purposeful.breach import Compromise, Trail, assess, assessment_document, name_people
    from purposeful.breach import render_text as render_page

    now = datetime.now(UTC)
    compromise = Compromise(now - timedelta(days=1), now, actors={"staff-17"})
    # engine="duckdb" with purposeful[report]; the standard library's SQLite needs nothing
    with Trail.from_files(ledgers=[ledger], engine="stdlib") as trail:
        found = assess(trail, compromise, records=[Client, CaseNote])
    print(f"{found.people} people; read: {', '.join(found.fields)}")
    print(
        f"categories: {', '.join(found.categories)}; sensitivity: {', '.join(found.sensitivities)}"
    )
    page = render_page(assessment_document(found))
    weigh = page[page.index("Serious harm: factors to weigh") :].splitlines()
    print(" ".join(" ".join(weigh[3:6]).split()))  # the first factor, and what the trail says
    # the people, only into the file the privacy officer names
    named = name_people(
        found, CLIENTS, [load_pseudonym_key(keys.pseudonym_key)], folder / "people.txt"
    )
    print(named.describe().replace(str(folder), "..."))


def answer_access_request(
    folder: Path,
    keys: KeyFiles,
    consent: SQLiteConsentStore,
    sharing: SQLiteSharingStore,
    ledger: Path,
) -> None:
    heading("12. Aroha asks for her information (IPP 6) and a correction (IPP 7)")
    corrections = SQLiteCorrectionStore(folder / "corrections.sqlite3")
    access = SubjectAccess(
        agency=AGENCY,
        consent=consent,
        corrections=corrections,
        disclosures=sharing,
        ledgers=[ledger],
        pseudonym_keys=load_pseudonym_key(keys.pseudonym_key),
        wording=Wording(record_labels={"Client": "Your client record", "CaseNote": "Case notes"}),
        # who reported a concern waits for a named reviewer before any bundle goes out
        safety_review=[NeedsReview(CaseNote, "reported_by")],
    )

    @access.source("clients")
    def clients(subject: str) -> Iterator[Client]:
        if subject in CLIENTS:
            yield CLIENTS[subject]

    @access.source("case-notes")
    def case_notes(subject: str) -> Iterator[CaseNote]:
        yield from (note for note in NOTES if note.client_id == subject)

    request = AccessRequest(
        "SAR-2026-0042",
        "C-1001",
        received=date(2026, 12, 10),
        # before release, s 57: who asked, and the checks, as references to the evidence
        requester=Requester.person(),
        identity=Check(by="staff-02", how="photo-id-sighted", evidence="IDV-2026-0042"),
        no_threat=Check(by="staff-02", how="asked-in-private"),
        delivery=Check(by="staff-02", how="collected-in-person"),
    )
    print(
        f"Request {request.request_id} received 10 December 2026: transfer by "
        f"{request.transfer_due:%d %B %Y}, answer by {request.due:%d %B %Y}."
    )
    # s 48: the agency must consult the family's iwi provider first, so it extends the limit
    # for its decision, with notice to her within 20 working days of receipt
    consulting = Extension(
        TimeLimit.DECISION, ExtensionGround.CONSULTATIONS, 10, notice_sent=date(2026, 12, 17)
    )
    extended = attrs.evolve(request, extensions=[consulting])
    print(f"Extended under s 48(1)(b): answer by {extended.due:%d %B %Y}. The notice begins:")
    print("  " + extended.clock.notice(consulting).split(". ", 1)[1])
    asked = corrections.request_correction(
        "C-1001",
        CLIENTS["C-1001"],
        "diagnosis",
        requested="anxiety after a bereavement",
        reason="I was grieving, not unwell",
    )
    corrections.decline(
        asked.id,
        by="staff-02",
        reason="the entry records the clinician's assessment at the time",
        statement="I do not agree with this diagnosis: I was grieving my father.",
    )
    print(
        "Correction to Client.diagnosis:",
        corrections.get(asked.id).status.value,
        "with her statement of correction attached.",
    )
    # a correction request runs its own clock (ss 62, 63) and records the decision (s 64)
    decided = corrections.get(asked.id)
    clock = ResponseClock.for_correction(decided)
    print(
        f"Its clock: decision due by {clock.due:%d %B %Y} (s 63); corrected: "
        f"{decided.decision.corrected}, statement attached: {decided.decision.statement_attached}"
    )
    bundle = folder / "SAR-2026-0042.zip"
    signing_key = load_signing_key(keys.signing_key)
    try:
        access.build(request, bundle, signing_key=signing_key)
    except purposeful.errors.ReviewPending as waiting:
        print("Before release, a safety review of:", ", ".join(waiting.marked))
    reviewer = Actor("staff-09", "privacy-officer", SENSITIVE)
    sheet = access.review(request, reviewer=reviewer)  # read under access.safety-review
    request = attrs.evolve(request, review=sheet.decide())  # the name stays withheld (s 53(b))
    print(f"Reviewed by {reviewer.id}: {len(sheet.items)} item; the bundle may go out.")
    # whether the police have asked about her is neither confirmed nor denied (s 47): the
    # bundle reads the same whether or not such a note exists
    police = NeitherConfirmNorDeny(
        CaseNote, MAINTENANCE_OF_THE_LAW, "whether the police have asked us about you", key="P-1"
    )
    info = access.build(request, bundle, signing_key=signing_key, answers=[police])
    corrections.close()
    print(
        f"Bundle: {', '.join(f'{count} {kind}' for kind, count in info.records.items())}; "
        f"{info.withheld} values withheld; members:"
    )
    for entry in info.files:
        print(f"  {entry.name:<24} {entry.size:>7,} bytes  sha256 {entry.sha256[:16]}…")
    with zipfile.ZipFile(bundle) as archive:
        withheld = archive.read("withheld.json").decode()
        notes_csv = archive.read("records/CaseNote.csv").decode()
        history = json.loads(archive.read("access-history.json"))
        everything = b"".join(archive.read(name) for name in archive.namelist())
    print(
        "withheld.json says why, never what:",
        "s 53" in withheld,
        "/ reporter's name in the bundle:",
        "Hemi" in everything.decode(),
    )
    print(
        "Her statement travels with the field:", "I was grieving my father" in everything.decode()
    )
    print(
        "Neither confirmed nor denied, on her page:",
        "whether the police have asked us about you" in everything.decode(),
    )
    print("CaseNote.csv, row 2:", notes_csv.splitlines()[2])
    # who looked at her information: her own fields only, never her son's read beside them
    print("When her information was looked at (access-history.json):")
    for access in history["accesses"]:
        why = access["purpose_title"] or access["purpose"] or "outside any purpose"
        print(f"  {why} ({access['role'] or '-'}): {', '.join(access['fields_read'])}")
    print("Complete:", history["complete"])
    verified = verify_bundle(bundle, load_public_key(keys.public_key))
    print(f"Verify the bundle: ok, {len(verified.files)} files, signed by key {verified.key_id}")
    tampered = bundle.with_name("tampered.zip")
    with zipfile.ZipFile(bundle) as original, zipfile.ZipFile(tampered, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "records/Client.csv":
                data = data.replace(b"generalised anxiety", b"no concern recorded")
            copy.writestr(item, data)
    try:
        verify_bundle(tampered, load_public_key(keys.public_key))
    except purposeful.errors.BundleInvalid as failure:
        print("Verify a copy with one cell edited:", failure)


def run(consent: SQLiteConsentStore, sink: CollectingSink) -> None:
    aroha = CLIENTS["C-1001"]
    consent.give("C-1001", "service-delivery.referral", notice_version="referral-2026-02")
    caseworker = Actor("staff-17", "caseworker", SENSITIVE)
    reporting_job = Actor("job-funder-q3", "funder-reporting-job", IN_CONFIDENCE)

    heading("1. A caseworker reads what case management may use")
    with purposeful.use("service-delivery.case-management", actor=caseworker):
        print(f"Working with {aroha.name} ({aroha.iwi}); current focus: {aroha.diagnosis}.")
        manaia = CLIENTS["C-1002"]  # her son: his name and wellbeing, not his diagnosis
        print(f"Her son {manaia.name}, wellbeing score {manaia.wellbeing_score}.")
    print("In a log line the record shows no managed values:", repr(aroha))

    heading("2. The quarterly funder report asks for diagnoses")
    try:
        with purposeful.use("funder-reporting", actor=reporting_job):
            print("iwi affiliation is agreed with the funder:", aroha.iwi)
            print(aroha.diagnosis)
    except purposeful.PurposeViolation as refusal:
        print("Refused:", refusal.decision.explain())
        print("Reason codes:", ", ".join(refusal.decision.reason_codes))

    # care and protection rests on the Oranga Tamariki Act 1989 s 66C: only a child welfare
    # and protection agency may rely on it, with its belief on reasonable grounds recorded
    try:
        with purposeful.use("care-and-protection", actor=caseworker):
            print(aroha.diagnosis)
    except purposeful.PurposeViolation as refusal:
        print("Under s 66C, refused:", ", ".join(refusal.decision.reason_codes))
    purposeful.configure(agency_kinds=["child-welfare-and-protection"])
    with purposeful.use("care-and-protection", actor=caseworker, justification="OT-2026-0117"):
        print("With the belief recorded (OT-2026-0117), s 66C allows:", aroha.diagnosis)
    purposeful.configure(agency_kinds=[])
    print("Serious threat needs its belief recorded too:", SERIOUS_THREAT.describe()[:72] + "…")

    heading("3. A legacy export, run in monitor mode while the team adopts purposeful")
    purposeful.configure(record_modes={Client: Mode.MONITOR})
    legacy_row = [aroha.client_id, aroha.name, aroha.diagnosis]  # no scope: a legacy path
    purposeful.audit.flush()  # the export is done: send its reads now, not within a second
    print(f"The export still works ({len(legacy_row)} columns); the reads were recorded.")
    purposeful.configure(record_modes={})

    heading("4. A referral to a partner service, minimised")
    with purposeful.use("service-delivery.referral", actor=caseworker):
        referral = purposeful.project(aroha)
    print("Sent:", sorted(referral))
    for field, decision in referral.withheld.items():
        print(f"Withheld {field}: {decision.explain()}")

    heading("5. Research consent, given by a parent, then withdrawn")
    manaia = CLIENTS["C-1002"]
    # Whether a parent may act for their child is decided case by case (the Act has no age
    # rule): record the evidence the caseworker checked, who checked it and when.
    mother = Representative(
        Relationship.PARENT,
        evidence="intake/2026-0117",
        verified_by="staff-07",
        verified_at=datetime.now(UTC),
    )
    researcher = Actor("staff-31", "researcher", IN_CONFIDENCE)
    consent.give(
        "C-1002",
        "research",
        by=mother,
        method=ConsentMethod.WRITTEN,
        notice_version="research-2026-01",
        expires_at=datetime.now(UTC) + timedelta(days=365),
    )
    with purposeful.use("research", actor=researcher):
        print("Wellbeing score for the outcomes study:", manaia.wellbeing_score)
    consent.withdraw("C-1002", "research", by=mother)
    print("The parent withdrew consent; the next research scope is refused:")
    try:
        with purposeful.use("research", actor=researcher):
            print(manaia.wellbeing_score)
    except purposeful.PurposeViolation as refusal:
        print("Refused:", refusal.decision.explain())
    print("Consent history:", [event.state.value for event in consent.history("C-1002")])

    heading("6. What the audit trail holds: decisions, never values")
    for report in sink.reports:
        purpose = report.purpose.id if report.purpose else "(no scope)"
        actor = report.actor.role if report.actor else "-"
        print(f"- {purpose} by {actor}:")
        for decision in report.decisions:
            codes = f" [{', '.join(decision.reason_codes)}]" if decision.reasons else ""
            where = f"{decision.record_type}.{decision.field}"
            print(f"    {decision.outcome.value:>10}  {where}{codes}")


if __name__ == "__main__":
    main()
