"""Building a subject-access bundle: what each member holds, that the same inputs give the
same bytes, that the person's data is never live markup or a spreadsheet formula, that
withheld information is nowhere in the bundle, that statements of correction travel with
their field, that a failure leaves nothing behind, and that memory stays flat however many
records the person has.

The bundles are read back with the standard library alone (zipfile, json, csv,
html.parser), from the documented format, never through the writer's own helpers.
"""

from __future__ import annotations

import base64
import csv
import gc
import hashlib
import html
import io
import json
import os
import re
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest
from _bundles import (
    AGENCY,
    CASE_MANAGEMENT,
    CHECKED,
    CREATED,
    NOTIFIER,
    OTHER,
    PSEUDONYM_KEY,
    PUBLIC_KEY,
    RECEIVED,
    REQUEST,
    SIGNING_KEY,
    SUBJECT,
    CaseNote,
    Profile,
    Visit,
    build_bundle,
    local_record_type,
    members,
    note,
    records_source,
    subject_access,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import SENSITIVE, Actor, use
from purposeful._shared.document import visible
from purposeful.access import (
    AccessRequest,
    AgencyDetails,
    SubjectAccess,
    Withhold,
    Wording,
    neutralise,
    verify_bundle,
)
from purposeful.audit import signing_key_id
from purposeful.audit.ledger import Ledger
from purposeful.consent import MemoryConsentStore
from purposeful.corrections import MemoryCorrectionStore
from purposeful.errors import ConfigurationError, SubjectAccessError
from purposeful.sharing import CorrectionNotice, DisclosureEntry
from purposeful.withholding import (
    ANOTHER_PERSONS_AFFAIRS,
    EVALUATIVE_MATERIAL,
    PROTECTION_OF_INDIVIDUAL,
)

HERE = Path(__file__).parent
FIXED_MEMBERS = (
    "records.json",
    "consents.json",
    "disclosures.json",
    "corrections.json",
    "withheld.json",
    "index.html",
    "manifest.json",
    "manifest.sig",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text without unpaired surrogates (a str that has no UTF-8 form; see the test at the end).
TEXT = st.characters(exclude_categories=["Cs"])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory hypothesis examples write their bundle into, one after another."""
    return tmp_path_factory.mktemp("scratch")


@pytest.fixture(scope="module")
def standard(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The members of the bundle of `standard_records` (read-only: do not change it)."""
    return members(build_bundle(tmp_path_factory.mktemp("standard") / "bundle.zip").path)


def records_document(contents: dict[str, bytes]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(contents["records.json"])
    return document


def record_type(contents: dict[str, bytes], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        t for t in records_document(contents)["record_types"] if t["type"] == name
    ]
    (only,) = found
    return only


def records_of(contents: dict[str, bytes], name: str) -> dict[str, dict[str, Any]]:
    """The records.json entries of one type, by key."""
    return {entry["key"]: entry for entry in record_type(contents, name)["records"]}


def csv_rows(contents: dict[str, bytes], member: str) -> list[list[str]]:
    data = contents[member]
    # a byte order mark first, so spreadsheets read the file as UTF-8
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def csv_by_key(contents: dict[str, bytes], member: str, key: str) -> dict[str, dict[str, str]]:
    header, *rows = csv_rows(contents, member)
    return {row[header.index(key)]: dict(zip(header, row, strict=True)) for row in rows}


def page_of(contents: dict[str, bytes]) -> str:
    return contents["index.html"].decode("utf-8")


class Markup(HTMLParser):
    """Everything a browser would treat as markup, in order: tags with their attributes,
    comments, declarations and processing instructions; and the text between them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[Any, ...]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, tuple(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("startend", tag, tuple(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag))

    def handle_comment(self, data: str) -> None:
        self.events.append(("comment", data))

    def handle_decl(self, decl: str) -> None:
        self.events.append(("decl", decl))

    def unknown_decl(self, data: str) -> None:
        self.events.append(("unknown-decl", data))

    def handle_pi(self, data: str) -> None:
        self.events.append(("pi", data))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def markup(page: str) -> Markup:
    parser = Markup()
    parser.feed(page)
    parser.close()
    return parser


def start_tags(page: str) -> list[tuple[str, tuple[tuple[str, str | None], ...]]]:
    return [(event[1], event[2]) for event in markup(page).events if event[0] == "start"]


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


# --- the zip and its manifest ---------------------------------------------------------------


def test_a_bundle_is_a_zip_of_the_documented_members(tmp_path: Path) -> None:
    info = build_bundle(tmp_path / "bundle.zip")
    assert zipfile.is_zipfile(info.path)
    with zipfile.ZipFile(info.path) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert sorted(names) == sorted([*FIXED_MEMBERS, "records/CaseNote.csv", "records/Profile.csv"])
    assert names[-2:] == ["manifest.json", "manifest.sig"]
    for member in infos:
        assert member.date_time == (1980, 1, 1, 0, 0, 0)
        assert member.external_attr >> 16 == 0o100644
        assert member.compress_type == zipfile.ZIP_DEFLATED
    assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()
    assert info.encrypted is False
    assert info.records == {"CaseNote": 3, "Profile": 1}
    assert info.withheld == 3  # the notifier of each case note
    assert info.key_id == signing_key_id(SIGNING_KEY)


def test_the_same_inputs_give_byte_identical_bundles(tmp_path: Path) -> None:
    first = build_bundle(tmp_path / "first.zip")
    (tmp_path / "again").mkdir()
    second = build_bundle(tmp_path / "again" / "second.zip")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256
    later = build_bundle(tmp_path / "later.zip", created=CREATED + timedelta(seconds=1))
    assert later.path.read_bytes() != first.path.read_bytes()  # only the time changed


_BUILD_IN_ANOTHER_PROCESS = """
import sys
from pathlib import Path
from _bundles import build_bundle
print(build_bundle(Path(sys.argv[1])).sha256)
"""


def test_the_same_inputs_give_the_same_bytes_in_another_process(tmp_path: Path) -> None:
    """Another process with another string hash seed (the profile's set of iwi, dicts)."""
    here = build_bundle(tmp_path / "here.zip")
    source = Path(purposeful.__file__).parents[1]
    environment = {
        **os.environ,
        "PYTHONHASHSEED": "12345",
        "PYTHONPATH": os.pathsep.join([str(HERE), str(source)]),
    }
    there = tmp_path / "there.zip"
    subprocess.run(
        [sys.executable, "-c", _BUILD_IN_ANOTHER_PROCESS, str(there)],
        env=environment,
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert there.read_bytes() == here.path.read_bytes()


def test_the_manifest_lists_every_member_with_its_hash_and_size(
    standard: dict[str, bytes],
) -> None:
    manifest = json.loads(standard["manifest.json"])
    assert manifest["format"] == "purposeful-subject-access-bundle"
    assert manifest["format_version"] == 1
    assert manifest["agency"] == AGENCY.name
    assert manifest["request_id"] == REQUEST.request_id
    assert manifest["received"] == RECEIVED.isoformat()
    assert manifest["due"] == REQUEST.due.isoformat()
    assert manifest["created"] == "2026-03-20T02:30:00Z"
    assert manifest["subject"] == PSEUDONYM_KEY.pseudonym(SUBJECT)
    assert manifest["records"] == {"CaseNote": 3, "Profile": 1}
    listed = {item["name"]: item for item in manifest["files"]}
    assert set(listed) == set(standard) - {"manifest.json", "manifest.sig"}
    for name, item in listed.items():
        assert item == {
            "name": name,
            "sha256": hashlib.sha256(standard[name]).hexdigest(),
            "size": len(standard[name]),
        }


def test_the_manifest_names_the_person_by_pseudonym_never_by_id(
    standard: dict[str, bytes],
) -> None:
    assert SUBJECT.encode() not in standard["manifest.json"]
    assert SUBJECT.encode() not in standard["manifest.sig"]
    assert PSEUDONYM_KEY.pseudonym(SUBJECT).encode() in standard["manifest.json"]


def test_manifest_sig_is_an_ed25519_signature_over_the_manifests_exact_bytes(
    standard: dict[str, bytes],
) -> None:
    signature = json.loads(standard["manifest.sig"])
    assert signature["algorithm"] == "Ed25519"
    assert signature["key_id"] == signing_key_id(SIGNING_KEY)
    PUBLIC_KEY.verify(base64.b64decode(signature["signature"]), standard["manifest.json"])


def test_the_manifest_falls_back_to_the_configured_pseudonymiser(tmp_path: Path) -> None:
    purposeful.configure(pseudonymise=PSEUDONYM_KEY.pseudonym)
    access = subject_access(pseudonym_keys=())
    info = build_bundle(tmp_path / "bundle.zip", access)
    assert info.subject == PSEUDONYM_KEY.pseudonym(SUBJECT)
    assert SUBJECT.encode() not in members(info.path)["manifest.json"]


def test_a_bundle_without_any_pseudonymiser_is_refused_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    access = subject_access(pseudonym_keys=())
    with pytest.raises(ConfigurationError, match="pseudonym") as caught:
        build_bundle(tmp_path / "bundle.zip", access)
    assert SUBJECT not in str(caught.value)
    assert leftovers(tmp_path) == []


# --- records.json and the CSVs --------------------------------------------------------------


def test_records_json_holds_each_records_values_source_and_key(
    standard: dict[str, bytes],
) -> None:
    document = records_document(standard)
    assert document["format"] == "purposeful-records"
    assert document["format_version"] == 1
    assert [t["type"] for t in document["record_types"]] == ["CaseNote", "Profile"]
    notes = records_of(standard, "CaseNote")
    assert list(notes) == ["N-1", "N-2", "N-3"]
    assert notes["N-1"]["source"] == "case-management"
    assert notes["N-1"]["values"] == {
        "client_id": SUBJECT,
        "note_id": "N-1",
        "text": "Met at home, visit 1.",
        "region": "Wellington",
    }
    (person,) = records_of(standard, "Profile").values()
    assert person["key"] == SUBJECT
    assert person["values"] == {
        "client_id": SUBJECT,
        "preferred_name": "Aroha",
        "iwi": ["Ngāi Tahu", "Ngāti Porou", "Te Ātiawa"],  # a set, in a fixed order
        "born": "1990-05-17",
    }


def test_records_json_says_what_each_field_is_for_on_what_basis_and_how_sensitive(
    standard: dict[str, bytes],
) -> None:
    notes = record_type(standard, "CaseNote")
    assert notes["label"] == "Case note"
    assert notes["csv"] == "records/CaseNote.csv"
    assert notes["sources"] == ["case-management"]
    assert (notes["subject_field"], notes["key_field"], notes["count"]) == (
        "client_id",
        "note_id",
        3,
    )
    fields = {field["name"]: field for field in notes["fields"]}
    assert list(fields) == ["client_id", "note_id", "text", "notifier", "region"]
    assert fields["client_id"]["role"] == "your identifier"
    assert fields["note_id"]["role"] == "record identifier"
    assert fields["region"] == {"name": "region"}  # a plain attrs field: nothing declared
    text = fields["text"]
    (purpose,) = text["purposes"]
    assert purpose["id"] == CASE_MANAGEMENT
    assert purpose["title"] == "Case management"
    assert purpose["description"]
    assert purpose["benefit"]
    assert purpose["basis"] == "the service agreement 'Service delivery agreement'"
    assert purpose["basis_kind"] == "service-agreement"
    assert text["sensitivity"] == "IN-CONFIDENCE"
    assert text["category"] == {"id": "case-notes", "title": "Case notes"}
    assert text["consent_needed_for"] == []
    assert text["withheld_on"] is None
    notifier = fields["notifier"]
    assert notifier["sensitivity"] == "RESTRICTED"
    assert notifier["withheld_on"] == "another-persons-affairs"
    assert notifier["purposes"][0]["basis_kind"] == "statute"
    iwi = {field["name"]: field for field in record_type(standard, "Profile")["fields"]}["iwi"]
    assert iwi["consent_needed_for"] == [CASE_MANAGEMENT]
    assert iwi["sensitivity"] == "SENSITIVE"


def test_each_record_type_has_a_csv_with_a_header_and_one_row_per_record(
    standard: dict[str, bytes],
) -> None:
    rows = csv_rows(standard, "records/CaseNote.csv")
    assert rows[0] == [
        "client_id",
        "note_id",
        "text",
        "notifier",
        "region",
        "statements of correction",
    ]
    assert rows[1] == [
        SUBJECT,
        "N-1",
        "Met at home, visit 1.",
        "[withheld: Privacy Act 2020 s 53(b)]",
        "Wellington",
        "",
    ]
    assert len(rows) == 4
    assert standard["records/CaseNote.csv"].count(b"\r\n") == 4  # CRLF rows, as RFC 4180
    assert csv_rows(standard, "records/Profile.csv")[1][:2] == [SUBJECT, "Aroha"]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+64 4 123 4567", "'+64 4 123 4567"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\tindent", "'\tindent"),
        ("\rreturn", "'\rreturn"),
        ("plain =1", "plain =1"),
        (" =1", " =1"),
        ("", ""),
    ],
)
def test_neutralise_prefixes_cells_a_spreadsheet_would_run(cell: str, expected: str) -> None:
    assert neutralise(cell) == expected


# --- consents, disclosures, corrections, withheld, access history ---------------------------


def test_without_stores_those_members_say_they_were_not_included(
    standard: dict[str, bytes],
) -> None:
    assert json.loads(standard["consents.json"]) == {"included": False, "records": []}
    assert json.loads(standard["disclosures.json"]) == {"included": False, "disclosures": []}
    assert json.loads(standard["corrections.json"]) == {"included": False, "corrections": []}
    assert "access-history.json" not in standard
    assert "access-history.json" not in page_of(standard)


def test_consents_json_holds_the_persons_history_as_iso_27560_records(tmp_path: Path) -> None:
    store = MemoryConsentStore()
    day = datetime(2026, 1, 5, 1, tzinfo=UTC)
    store.give(SUBJECT, CASE_MANAGEMENT, at=day)
    store.give(OTHER, CASE_MANAGEMENT, at=day)
    store.withdraw(SUBJECT, CASE_MANAGEMENT, at=day + timedelta(days=30))
    info = build_bundle(tmp_path / "bundle.zip", subject_access(consent=store))
    contents = members(info.path)
    document = json.loads(contents["consents.json"])
    assert document["included"] is True
    assert document["schema"].startswith("ISO/IEC TS 27560")
    assert [r["state"] for r in document["records"]] == ["given", "withdrawn"]
    first = document["records"][0]
    assert first["hasDataSubject"] == SUBJECT
    assert first["hasPurpose"]["id"] == CASE_MANAGEMENT
    assert first["hasConsentStatus"] == "dpv:ConsentGiven"
    assert first["isIndicatedBy"] == {"type": "dpv:DataSubject"}
    assert all(OTHER.encode() not in data for data in contents.values())
    assert "What you agreed to" in page_of(contents)
    assert "withdrawn" in page_of(contents)


class Disclosures:
    """A disclosure log: entries about two people."""

    def __init__(self, *entries: tuple[str, DisclosureEntry]) -> None:
        self.entries = entries

    def for_subject(self, subject: str) -> Iterator[DisclosureEntry]:
        return (entry for whom, entry in self.entries if whom == subject)


def disclosure(recipient: str = "Whānau Ora Navigators", **changes: Any) -> DisclosureEntry:
    values: dict[str, Any] = {
        "at": datetime(2026, 2, 10, 22, 15, tzinfo=UTC),
        "recipient": recipient,
        "purpose": "service-delivery.referral",
        "basis": "your consent",
        "fields": ("CaseNote.text", "Profile.preferred_name"),
        "agreement": "ISA-7",
    }
    values.update(changes)
    return DisclosureEntry(**values)


def test_disclosures_json_lists_who_received_the_persons_information(tmp_path: Path) -> None:
    log = Disclosures((SUBJECT, disclosure()), (OTHER, disclosure("Another Agency Ltd")))
    contents = members(build_bundle(tmp_path / "b.zip", subject_access(disclosures=log)).path)
    assert json.loads(contents["disclosures.json"]) == {
        "included": True,
        "disclosures": [
            {
                "at": "2026-02-10T22:15:00Z",
                "recipient": "Whānau Ora Navigators",
                "purpose": "service-delivery.referral",
                "purpose_title": "Referral",
                "basis": "your consent",
                "agreement": "ISA-7",
                "fields": ["CaseNote.text", "Profile.preferred_name"],
            }
        ],
    }
    assert all(b"Another Agency" not in data for data in contents.values())
    page = page_of(contents)
    assert "Whānau Ora Navigators" in page
    # the page names the agreement it was shared under, as "Where this came from" does
    assert "Under the agreement" in page
    assert "ISA-7" in page


def test_access_history_lists_why_and_when_the_persons_information_was_read(
    tmp_path: Path,
) -> None:
    ledger_path = tmp_path / "audit.jsonl"
    caseworker = Actor("staff-0042", "caseworker", SENSITIVE)
    with Ledger(ledger_path, signing_key=SIGNING_KEY) as ledger:
        purposeful.configure(sinks=[ledger], pseudonymise=PSEUDONYM_KEY.pseudonym)
        with use(CASE_MANAGEMENT, actor=caseworker):
            _ = note(1).text
        with use("service-delivery.eligibility-assessment", actor=caseworker):
            _ = Profile(OTHER, "Someone").preferred_name
        purposeful.reset_configuration()
    (tmp_path / "out").mkdir()
    access = subject_access(ledgers=[ledger_path], pseudonym_keys=PSEUDONYM_KEY)
    contents = members(build_bundle(tmp_path / "out" / "bundle.zip", access).path)
    history = json.loads(contents["access-history.json"])
    assert history["included"] is True
    assert history["complete"] is True
    assert history["incomplete_because"] == []
    (access_entry,) = history["accesses"]
    assert access_entry["purpose"] == CASE_MANAGEMENT
    assert access_entry["purpose_title"] == "Case management"
    assert access_entry["role"] == "caseworker"
    assert access_entry["fields_read"] == ["CaseNote.text"]
    assert (access_entry["fields_known"], access_entry["parts_missing"]) == (True, False)
    opened = datetime.fromisoformat(access_entry["opened"].replace("Z", "+00:00"))
    assert abs(opened - datetime.now(UTC)) < timedelta(minutes=10)
    page = page_of(contents)
    assert "When your information was looked at, and why" in page
    assert "<td>Text (Case note)</td>" in page
    listed = {item["name"] for item in json.loads(contents["manifest.json"])["files"]}
    assert "access-history.json" in listed
    everything = b"".join(contents.values())
    assert b"eligibility-assessment" not in everything  # the other person's scope
    assert PSEUDONYM_KEY.pseudonym(OTHER).encode() not in everything


def test_ledgers_need_the_pseudonym_keys_they_were_written_with(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="pseudonym_keys"):
        SubjectAccess(agency=AGENCY, ledgers=[tmp_path / "audit.jsonl"])


# --- index.html -----------------------------------------------------------------------------


def test_the_page_is_a_self_contained_accessible_document(standard: dict[str, bytes]) -> None:
    page = page_of(standard)
    parsed = markup(page)
    starts = [(event[1], dict(event[2])) for event in parsed.events if event[0] == "start"]
    assert starts[0] == ("html", {"lang": "en-NZ"})
    assert re.search(r"<title>Your information held by Kōwhai Support Trust</title>", page)
    tables = [index for index, (tag, _) in enumerate(starts) if tag == "table"]
    assert len(tables) >= 5
    for index in tables:
        assert starts[index + 1][0] == "caption"  # every table says what it is
    headers = [attributes for tag, attributes in starts if tag == "th"]
    assert headers
    assert all(attributes == {"scope": "col"} for attributes in headers)
    # nothing to run and nothing to fetch
    tags = {tag for tag, _ in starts}
    assert not tags & {"script", "img", "link", "iframe", "object", "embed", "form", "a"}
    for _, attributes in starts:
        assert not {"src", "href", "action", "srcset"} & set(attributes)
        assert not any(name.startswith("on") for name in attributes)
    assert "<script" not in page.lower()
    policy = [a for tag, a in starts if tag == "meta" and a.get("http-equiv")]
    assert policy == [
        {
            "http-equiv": "Content-Security-Policy",
            "content": "default-src 'none'; style-src 'unsafe-inline'",
        }
    ]


def test_the_page_explains_the_persons_rights_and_how_to_reach_the_agency(
    standard: dict[str, bytes],
) -> None:
    page = page_of(standard)
    assert "Your rights" in page
    assert "Privacy Commissioner" in page
    assert "ask us to correct" in page
    assert "statement of the correction" in page
    assert "privacy@kowhai.example.nz" in page
    assert "04 123 4567" in page
    assert "reference SAR-2026-0042" in page
    assert "<dt>Received</dt><dd>2 March 2026</dd>" in page
    assert "<dt>Answer due by</dt><dd>30 March 2026</dd>" in page  # 20 working days on
    for name in standard:
        assert f"<li>{name}</li>" in page  # the files section lists every member
    assert "Notifier in 3 Case note records" in page  # the withheld table
    assert "[withheld: Privacy Act 2020 s 53(b)]" in page


def test_the_agencys_wording_labels_and_contact_details_are_used(tmp_path: Path) -> None:
    wording = Wording(
        lang="en-NZ",
        greeting="Tēnā koe",
        title="Ngā kōrero mō koe: {agency}",
        intro="We received your request on {received}; we answer by {due}.",
        record_labels={"CaseNote": "Case notes", "Profile": "About you"},
        rights_heading="What you can do",
        sample_rows=2,
    )
    agency = AgencyDetails(
        name="Kōwhai Support Trust",
        postal_address="PO Box 1, Wellington",
        website="https://kowhai.example.nz/privacy",
        privacy_officer="Pou Matatapu",
    )
    access = subject_access(agency=agency, wording=wording)
    contents = members(build_bundle(tmp_path / "bundle.zip", access).path)
    page = page_of(contents)
    assert "<title>Ngā kōrero mō koe: Kōwhai Support Trust</title>" in page
    assert '<span lang="mi">Tēnā koe</span>' in page
    assert "We received your request on 2 March 2026; we answer by 30 March 2026." in page
    assert "<h3>Case notes</h3>" in page
    assert "<h3>About you</h3>" in page
    assert "<h2>What you can do</h2>" in page
    assert "Contact our Pou Matatapu" in page
    assert "PO Box 1, Wellington" in page
    assert "https://kowhai.example.nz/privacy" in page
    assert "href=" not in page  # shown as text, not a link
    assert "Notifier in 3 Case notes records" in page
    # the page shows two of the three notes and says where the rest are
    assert "The first 2 of 3 are listed here; all of them are in records/CaseNote.csv." in page
    assert "visit 1." in page
    assert "visit 3." not in page
    assert record_type(contents, "CaseNote")["label"] == "Case notes"


# --- untrusted data --------------------------------------------------------------------------

MARKUP = (
    "<",
    ">",
    "&",
    '"',
    "'",
    "<script>alert(1)</script>",
    "</td></tr></table>",
    "<img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<?xml ?>",
    "</title><script>",
    "<style>",
    "<a href='https://evil.example'>",
    "&amp;",
    "&#x3C;script&#x3E;",
    "&lt;",
    "{agency}",
    "\n",
    "\r",
    "\x00",
)
markup_text = (
    st.lists(st.sampled_from(MARKUP) | st.text(TEXT, max_size=4), min_size=1, max_size=6)
    .map("".join)
    .filter(str.strip)
)
VALUES = 16


def page_with(directory: Path, values: list[str]) -> str:
    """The page of a bundle whose person-supplied text is *values*: record values, a
    correction and its statement, a disclosure, and the request's reference."""
    it = iter(values)
    records = [
        CaseNote(SUBJECT, "N-1", next(it), NOTIFIER, next(it)),
        CaseNote(SUBJECT, "N-2", next(it), NOTIFIER, next(it)),
        Profile(SUBJECT, next(it), frozenset({next(it)})),
    ]
    corrections = MemoryCorrectionStore()
    asked = corrections.request_correction(
        SUBJECT, records[0], "text", next(it), next(it), at=CREATED - timedelta(days=9)
    )
    corrections.decline(asked.id, by="staff-0042", reason=next(it), statement=next(it), at=CREATED)
    log = Disclosures(
        (
            SUBJECT,
            disclosure(next(it), purpose=next(it), basis=next(it), fields=(next(it), next(it))),
        )
    )
    reference = "SAR " + next(it).replace("\n", " ").replace("\r", " ")
    access = subject_access(records_source(*records), corrections=corrections, disclosures=log)
    request = AccessRequest(reference[:200], SUBJECT, RECEIVED, **CHECKED)
    info = build_bundle(directory / "page.zip", access, request=request, overwrite=True)
    return page_of(members(info.path))


def test_the_page_names_a_lawful_basis_in_plain_words(tmp_path: Path) -> None:
    page = page_of(members(build_bundle(tmp_path / "b.zip").path))
    assert "the service agreement “Service delivery agreement”" in page
    assert "&#x27;Service delivery agreement&#x27;" not in page  # not Python's repr
    # the page speaks to the person: a field used with consent is used with *your* consent
    assert "your consent" in page
    assert "the person&#x27;s consent" not in page
    assert "the person's consent" not in page


@given(values=st.lists(markup_text, min_size=VALUES, max_size=VALUES))
@settings(max_examples=60)
def test_no_value_is_ever_live_markup_on_the_page(scratch: Path, values: list[str]) -> None:
    page = page_with(scratch, values)
    plain = page_with(scratch, ["x"] * VALUES)
    assert markup(page).events == markup(plain).events
    assert start_tags(page) == start_tags(plain)
    lowered = page.lower()
    for dangerous in ("<script", "<img", "<a ", "<iframe", "<!--", "<![cdata[", "<?"):
        assert dangerous not in lowered
    for value in values[:4]:  # the record values are on the page, as text
        assert html.escape(visible(value)) in page  # what is not printable, as escapes


csv_text = st.one_of(
    st.text(TEXT),
    st.tuples(st.sampled_from(FORMULA_STARTS), st.text(TEXT)).map("".join),
)


@given(texts=st.lists(csv_text, min_size=1, max_size=6), region=csv_text, name=csv_text)
@settings(max_examples=60)
def test_csv_cells_never_start_a_formula_while_records_json_keeps_the_exact_value(
    scratch: Path, texts: list[str], region: str, name: str
) -> None:
    notes = [note(number, text=text, region=region) for number, text in enumerate(texts)]
    access = subject_access(records_source(*notes, Profile(SUBJECT, name)))
    contents = members(build_bundle(scratch / "csv.zip", access, overwrite=True).path)

    def expected(value: str) -> str:
        return "'" + value if value.startswith(FORMULA_STARTS) else value

    rows = csv_by_key(contents, "records/CaseNote.csv", "note_id")
    entries = records_of(contents, "CaseNote")
    for number, text in enumerate(texts):
        key = f"N-{number}"
        assert rows[key]["text"] == expected(text)
        assert rows[key]["region"] == expected(region)
        assert entries[key]["values"]["text"] == text
        assert entries[key]["values"]["region"] == region
    (person,) = csv_rows(contents, "records/Profile.csv")[1:]
    assert person[1] == expected(name)
    assert next(iter(records_of(contents, "Profile").values()))["values"]["preferred_name"] == name
    for member in ("records/CaseNote.csv", "records/Profile.csv"):
        for row in csv_rows(contents, member):
            assert not any(cell.startswith(FORMULA_STARTS) for cell in row)


# --- member names ---------------------------------------------------------------------------


def test_a_record_class_defined_in_a_function_gets_a_safe_member_name(tmp_path: Path) -> None:
    odd = local_record_type()
    access = subject_access(records_source(odd(SUBJECT), note(1)))
    info = build_bundle(tmp_path / "bundle.zip", access)
    contents = members(info.path)
    assert "records/local_record_type._locals_.Odd.csv" in contents
    assert record_type(contents, odd.__qualname__)["csv"] == (
        "records/local_record_type._locals_.Odd.csv"
    )
    verify_bundle(info.path, PUBLIC_KEY)


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..",
        "/etc/cron.d/x",
        "C:\\Windows\\x",
        "a/b\\c",
        "<b>x</b>",
        "名前",
        "-",
    ],
)
def test_member_names_come_from_the_library_whatever_a_record_type_is_called(
    tmp_path: Path, name: str
) -> None:
    odd = local_record_type(name)
    info = build_bundle(tmp_path / "bundle.zip", subject_access(records_source(odd(SUBJECT))))
    contents = members(info.path)
    (csv_member,) = [member for member in contents if member.startswith("records/")]
    assert re.fullmatch(r"records/[A-Za-z0-9_.-]+\.csv", csv_member)
    assert ".." not in csv_member.split("/")
    verify_bundle(info.path, PUBLIC_KEY)
    assert f"<h3>{html.escape(name)}</h3>" in page_of(contents)


def test_two_record_types_with_one_name_get_two_csv_members(tmp_path: Path) -> None:
    first, second = local_record_type(), local_record_type()
    access = subject_access(records_source(first(SUBJECT), second(SUBJECT), second(SUBJECT)))
    contents = members(build_bundle(tmp_path / "bundle.zip", access).path)
    csv_members = sorted(member for member in contents if member.startswith("records/"))
    assert csv_members == [
        "records/local_record_type._locals_.Odd-2.csv",
        "records/local_record_type._locals_.Odd.csv",
    ]
    assert sorted(len(csv_rows(contents, member)) - 1 for member in csv_members) == [1, 2]


def test_two_record_types_with_one_name_are_both_counted(tmp_path: Path) -> None:
    first, second = local_record_type(), local_record_type()
    access = subject_access(records_source(first(SUBJECT), second(SUBJECT), second(SUBJECT)))
    info = build_bundle(tmp_path / "bundle.zip", access)
    assert sum(info.records.values()) == 3
    assert sum(json.loads(members(info.path)["manifest.json"])["records"].values()) == 3


# --- withholding ----------------------------------------------------------------------------


def test_a_field_declared_withheld_is_nowhere_in_the_bundle_but_counted(
    standard: dict[str, bytes],
) -> None:
    for entry in records_of(standard, "CaseNote").values():
        assert "notifier" not in entry["values"]
        assert entry["withheld"] == {"notifier": ["another-persons-affairs"]}
    rows = csv_by_key(standard, "records/CaseNote.csv", "note_id")
    assert {row["notifier"] for row in rows.values()} == {"[withheld: Privacy Act 2020 s 53(b)]"}
    assert json.loads(standard["withheld.json"]) == {
        "withheld": [
            {
                "record_type": "CaseNote",
                "field": "notifier",
                "what": "a field's value",
                "count": 3,
                "ground": "another-persons-affairs",
                "act": "Privacy Act 2020",
                "section": "s 53(b)",
                "reason": ANOTHER_PERSONS_AFFAIRS.reason,
            }
        ]
    }
    for name, data in standard.items():
        assert NOTIFIER.encode() not in data, name


def test_a_whole_record_can_be_withheld_for_one_request(tmp_path: Path) -> None:
    rule = Withhold(CaseNote, EVALUATIVE_MATERIAL, key="N-2")
    info = build_bundle(tmp_path / "bundle.zip", withhold=[rule])
    contents = members(info.path)
    assert list(records_of(contents, "CaseNote")) == ["N-1", "N-3"]
    assert list(csv_by_key(contents, "records/CaseNote.csv", "note_id")) == ["N-1", "N-3"]
    for name, data in contents.items():
        assert b"visit 2." not in data, name
        assert f"{NOTIFIER}-2".encode() not in data, name
        assert b'"N-2"' not in data, name
    assert info.records == {"CaseNote": 2, "Profile": 1}
    assert info.withheld == 3  # the record, and the notifier of the two others
    withheld = json.loads(contents["withheld.json"])["withheld"]
    assert {
        "record_type": "CaseNote",
        "field": None,
        "what": "a whole record",
        "count": 1,
        "ground": "evaluative-material",
        "act": "Privacy Act 2020",
        "section": "s 50",
        "reason": EVALUATIVE_MATERIAL.reason,
    } in withheld
    assert "1 Case note record<" in page_of(contents)


def test_a_field_can_be_withheld_from_every_record_of_a_type(tmp_path: Path) -> None:
    rule = Withhold(CaseNote, PROTECTION_OF_INDIVIDUAL, field="text")
    contents = members(build_bundle(tmp_path / "bundle.zip", withhold=[rule]).path)
    for entry in records_of(contents, "CaseNote").values():
        assert set(entry["values"]) == {"client_id", "note_id", "region"}
        assert entry["withheld"] == {
            "notifier": ["another-persons-affairs"],
            "text": ["protection-of-individual"],
        }
    rows = csv_by_key(contents, "records/CaseNote.csv", "note_id")
    assert {row["text"] for row in rows.values()} == {"[withheld: Privacy Act 2020 s 49(1)(a)]"}
    for name, data in contents.items():
        assert b"Met at home" not in data, name
    counts = {
        (w["field"], w["ground"]): w["count"]
        for w in json.loads(contents["withheld.json"])["withheld"]
    }
    assert counts == {
        ("notifier", "another-persons-affairs"): 3,
        ("text", "protection-of-individual"): 3,
    }


def test_a_field_of_one_record_can_be_withheld(tmp_path: Path) -> None:
    rule = Withhold(CaseNote, PROTECTION_OF_INDIVIDUAL, key="N-3", field="text")
    contents = members(build_bundle(tmp_path / "bundle.zip", withhold=[rule]).path)
    entries = records_of(contents, "CaseNote")
    assert entries["N-1"]["values"]["text"] == "Met at home, visit 1."
    assert "text" not in entries["N-3"]["values"]
    for name, data in contents.items():
        assert b"visit 3." not in data, name


def test_withholding_names_a_record_or_a_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="neither a record"):
        Withhold(CaseNote, ANOTHER_PERSONS_AFFAIRS)
    with pytest.raises(ConfigurationError, match="no such field"):
        Withhold(CaseNote, ANOTHER_PERSONS_AFFAIRS, field="diagnosis")
    with pytest.raises(ConfigurationError, match="WithholdingGround"):
        Withhold(CaseNote, "s 53", key="N-1")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="not a purposeful record"):
        Withhold(dict, ANOTHER_PERSONS_AFFAIRS, key="N-1")
    with pytest.raises(ConfigurationError, match="Withhold values"):
        build_bundle(tmp_path / "bundle.zip", withhold=["N-1"])
    assert leftovers(tmp_path) == []


def test_a_withheld_key_field_is_nowhere_in_the_bundle(tmp_path: Path) -> None:
    secret_keys = [note(1), CaseNote(SUBJECT, "REPORT-BY-NEIGHBOUR-7", "text", NOTIFIER)]
    access = subject_access(records_source(*secret_keys))
    rule = Withhold(CaseNote, ANOTHER_PERSONS_AFFAIRS, field="note_id")
    contents = members(build_bundle(tmp_path / "bundle.zip", access, withhold=[rule]).path)
    for name, data in contents.items():
        assert b"REPORT-BY-NEIGHBOUR-7" not in data, name


# --- statements of correction ---------------------------------------------------------------

STATEMENT = "I was not at home that day; we met at the office."


def corrected_bundle(directory: Path, **more: Any) -> tuple[dict[str, bytes], str]:
    """The standard bundle with a declined correction (and a statement) of note N-1's text,
    an applied one of N-2's region, and another person's declined one."""
    store = MemoryCorrectionStore()
    asked = store.request_correction(
        SUBJECT,
        note(1),
        "text",
        "Met at the office.",
        "It is wrong",
        at=CREATED - timedelta(days=9),
    )
    store.decline(
        asked.id,
        by="staff-0042",
        reason="Our notes were made at the time.",
        statement=STATEMENT,
        at=CREATED - timedelta(days=8),
    )
    applied = store.request_correction(
        SUBJECT, note(2), "region", "Porirua", "I moved", at=CREATED - timedelta(days=7)
    )
    store.apply(applied.id, lambda correction: None, by="staff-0042", at=CREATED)
    others = store.request_correction(
        OTHER, note(1, OTHER), "text", "OTHER-PERSON-ASKS", "x", at=CREATED - timedelta(days=3)
    )
    store.decline(others.id, by="staff-0042", reason="no", statement="OTHER-PERSON-STATEMENT")
    info = build_bundle(directory / "bundle.zip", subject_access(corrections=store, **more))
    return members(info.path), asked.id


def test_a_statement_of_correction_travels_with_its_field(tmp_path: Path) -> None:
    contents, correction_id = corrected_bundle(tmp_path)
    entries = records_of(contents, "CaseNote")
    assert entries["N-1"]["statements_of_correction"] == {
        "text": [
            {
                "statement": STATEMENT,
                "made": (CREATED - timedelta(days=8)).isoformat().replace("+00:00", "Z"),
                "correction": correction_id,
            }
        ]
    }
    assert "statements_of_correction" not in entries["N-2"]
    rows = csv_rows(contents, "records/CaseNote.csv")
    assert rows[0][-1] == "statements of correction"
    assert rows[1][-1] == f"text: {STATEMENT}"
    assert rows[2][-1] == ""
    page = page_of(contents)
    assert f"<td>Text: {html.escape(STATEMENT)}</td>" in page  # with the record
    assert f"<td>{html.escape(STATEMENT)}</td>" in page  # in the corrections table


def test_corrections_json_lists_the_persons_requests_and_decisions(tmp_path: Path) -> None:
    contents, correction_id = corrected_bundle(tmp_path)
    document = json.loads(contents["corrections.json"])
    assert document["included"] is True
    declined, applied = document["corrections"]
    assert declined["id"] == correction_id
    assert (declined["record_type"], declined["record_key"], declined["field"]) == (
        "CaseNote",
        "N-1",
        "text",
    )
    assert declined["status"] == "declined"
    assert declined["requested"] == "Met at the office."
    assert declined["decision_note"] == "Our notes were made at the time."
    assert declined["statement_of_correction"] == STATEMENT
    assert (applied["status"], applied["statement_of_correction"]) == ("applied", None)
    for name, data in contents.items():
        assert b"OTHER-PERSON" not in data, name
        assert OTHER.encode() not in data, name


class ToldLog(Disclosures):
    """A disclosure log that also keeps whom each correction was told to (IPP 7): here,
    Kāinga Ora was told of the first correction the bundle asks about (the declined one)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def notices(self, correction_id: str) -> list[CorrectionNotice]:
        self.asked.append(correction_id)
        if correction_id != self.asked[0]:
            return []
        return [
            CorrectionNotice(
                disclosure_id="d" * 32,
                correction_id=correction_id,
                recipient="Kāinga Ora",
                told_at=datetime(2026, 3, 2, 21, 0, tzinfo=UTC),
                how="email to their privacy officer",
            )
        ]


def test_the_bundle_says_whom_a_correction_was_told_to(tmp_path: Path) -> None:
    """IPP 7: where the agency told the parties it had disclosed a field to of a correction
    or a statement, the person's bundle says who was told, and when."""
    log = ToldLog()
    contents, correction_id = corrected_bundle(tmp_path, disclosures=log)
    assert log.asked[0] == correction_id
    declined, applied = json.loads(contents["corrections.json"])["corrections"]
    assert declined["told"] == [{"recipient": "Kāinga Ora", "told_at": "2026-03-02T21:00:00Z"}]
    assert applied["told"] == []
    page = html.unescape(page_of(contents))
    assert "Who we told" in page
    assert "Kāinga Ora (3 March 2026" in page
    assert "privacy officer" not in page  # how the agency told them is its own note


def test_without_a_log_that_keeps_notices_whom_a_correction_was_told_to_is_not_said(
    tmp_path: Path,
) -> None:
    contents, _ = corrected_bundle(tmp_path, disclosures=Disclosures())
    assert [c["told"] for c in json.loads(contents["corrections.json"])["corrections"]] == [
        None,
        None,
    ]


def test_a_log_whose_notices_fail_stops_the_build(tmp_path: Path) -> None:
    class Failing(Disclosures):
        def notices(self, correction_id: str) -> list[CorrectionNotice]:
            raise OSError("the log is down")

    with pytest.raises(SubjectAccessError, match="whom a correction was told to"):
        corrected_bundle(tmp_path, disclosures=Failing())
    assert leftovers(tmp_path) == []


# --- failures leave nothing -----------------------------------------------------------------


def test_a_record_about_someone_else_stops_the_build_and_is_not_named(tmp_path: Path) -> None:
    access = subject_access(records_source(note(1), note(2, OTHER), note(3)))
    with pytest.raises(SubjectAccessError, match="someone other than") as caught:
        build_bundle(tmp_path / "bundle.zip", access)
    message = str(caught.value)
    assert "'records'" in message
    assert "CaseNote" in message
    assert OTHER not in message
    assert SUBJECT not in message
    assert "N-2" not in message
    assert leftovers(tmp_path) == []


def test_a_source_yielding_something_that_is_not_a_record_stops_the_build(
    tmp_path: Path,
) -> None:
    access = subject_access(records_source(note(1), {"client_id": SUBJECT}))
    with pytest.raises(SubjectAccessError, match="yielded a dict, which is not a purposeful"):
        build_bundle(tmp_path / "bundle.zip", access)
    assert leftovers(tmp_path) == []


def failing_at_once(subject: str) -> list[object]:
    raise ConnectionError(f"cannot read {subject}")


def failing_midway(subject: str) -> Iterator[object]:
    yield note(1, subject)
    raise ConnectionError(f"lost the connection while reading {subject}")


def not_iterable(subject: str) -> None:
    return None


@pytest.mark.parametrize("fetch", [failing_at_once, failing_midway, not_iterable])
def test_a_failing_source_stops_the_build_with_the_cause_chained(
    tmp_path: Path, fetch: Any
) -> None:
    access = subject_access(("case-files", fetch))
    with pytest.raises(SubjectAccessError, match="data source 'case-files' failed") as caught:
        build_bundle(tmp_path / "bundle.zip", access)
    assert isinstance(caught.value.__cause__, ConnectionError | TypeError)
    assert SUBJECT not in str(caught.value)
    assert leftovers(tmp_path) == []


def test_an_existing_target_is_kept_unless_overwrite_is_asked(tmp_path: Path) -> None:
    target = tmp_path / "bundle.zip"
    target.write_bytes(b"an earlier bundle")
    with pytest.raises(SubjectAccessError, match=r"already exists.*overwrite=True"):
        build_bundle(target)
    assert target.read_bytes() == b"an earlier bundle"
    info = build_bundle(target, overwrite=True)
    assert verify_bundle(info.path, PUBLIC_KEY).request_id == REQUEST.request_id
    assert leftovers(tmp_path) == ["bundle.zip"]


def test_a_target_in_a_missing_directory_or_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SubjectAccessError, match="directory does not exist"):
        build_bundle(tmp_path / "missing" / "bundle.zip")
    with pytest.raises(SubjectAccessError, match="is a directory"):
        build_bundle(tmp_path, overwrite=True)
    assert leftovers(tmp_path) == []


def test_a_bundle_needs_a_data_source(tmp_path: Path) -> None:
    access = SubjectAccess(agency=AGENCY, pseudonym_keys=PSEUDONYM_KEY)
    with pytest.raises(SubjectAccessError, match="no data source is registered"):
        build_bundle(tmp_path / "bundle.zip", access)
    assert leftovers(tmp_path) == []


class BrokenLog:
    """A disclosure log that fails: the zip is half written when it is asked."""

    def for_subject(self, subject: str) -> Iterator[DisclosureEntry]:
        raise OSError("the disclosure database is down")


@pytest.mark.parametrize("encrypt_to", [None, "a passphrase"])
def test_a_failure_mid_build_leaves_neither_the_bundle_nor_a_temporary_file(
    tmp_path: Path, encrypt_to: str | None
) -> None:
    access = subject_access(disclosures=BrokenLog())
    with pytest.raises(SubjectAccessError, match="disclosure log failed") as caught:
        build_bundle(tmp_path / "bundle.zip", access, encrypt_to=encrypt_to)
    assert isinstance(caught.value.__cause__, OSError)
    assert leftovers(tmp_path) == []


def test_a_failed_rebuild_keeps_the_earlier_bundle(tmp_path: Path) -> None:
    earlier = build_bundle(tmp_path / "bundle.zip")
    before = earlier.path.read_bytes()
    with pytest.raises(SubjectAccessError, match="disclosure log failed"):
        build_bundle(earlier.path, subject_access(disclosures=BrokenLog()), overwrite=True)
    assert earlier.path.read_bytes() == before
    assert leftovers(tmp_path) == ["bundle.zip"]


def test_a_failed_build_leaves_nothing_for_the_garbage_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: found.append(repr(args.object)))
    with pytest.raises(SubjectAccessError, match="disclosure log failed"):
        build_bundle(tmp_path / "bundle.zip", subject_access(disclosures=BrokenLog()))
    gc.collect()
    assert found == []


def test_build_refuses_a_key_that_is_not_ed25519_and_a_naive_time(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Ed25519"):
        build_bundle(tmp_path / "b.zip", signing_key=PUBLIC_KEY)
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        build_bundle(tmp_path / "b.zip", created=datetime(2026, 3, 20))
    assert leftovers(tmp_path) == []


# --- many records ---------------------------------------------------------------------------


def visits(count: int) -> Callable[[str], Iterator[Visit]]:
    def fetch(subject: str) -> Iterator[Visit]:
        return (Visit(subject, number, f"visit {number}") for number in range(count))

    return fetch


def peak_while_building(directory: Path, count: int) -> int:
    access = subject_access(("visits", visits(count)))
    progress: list[int] = []
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        info = build_bundle(directory / f"{count}.zip", access, progress=progress.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.records == {"Visit": count}
    assert progress[-1] == count
    assert progress[:3] == [1000, 2000, 3000]
    return peak


def test_memory_stays_flat_as_the_number_of_records_grows(tmp_path: Path) -> None:
    small = peak_while_building(tmp_path, 10_000)
    large = peak_while_building(tmp_path, 100_000)
    assert large < 1.5 * small + (1 << 20), (small, large)
    verified = verify_bundle(tmp_path / "100000.zip", PUBLIC_KEY)
    assert verified.records == {"Visit": 100_000}
    with (
        zipfile.ZipFile(tmp_path / "100000.zip") as archive,
        archive.open("records/Visit.csv") as member,
    ):
        lines = sum(1 for _ in io.TextIOWrapper(member, encoding="utf-8", newline=""))
    assert lines == 100_001


# --- personal values ------------------------------------------------------------------------


def test_no_personal_value_is_in_the_build_result_or_the_request(tmp_path: Path) -> None:
    info = build_bundle(tmp_path / "bundle.zip")
    for shown in (repr(info), str(info), repr(REQUEST), repr(attrs.asdict(info))):
        assert SUBJECT not in shown
        assert NOTIFIER not in shown
    assert info.subject == PSEUDONYM_KEY.pseudonym(SUBJECT)


def test_a_value_with_no_utf8_form_is_kept_exactly_in_json_and_escaped_elsewhere(
    tmp_path: Path,
) -> None:
    # A lone surrogate (text decoded badly upstream) has no UTF-8 form. The bundle is still
    # built: records.json reads back the exact value, the CSV and page show its escape.
    access = subject_access(records_source(note(1, text="bad \ud800 text")))
    info = build_bundle(tmp_path / "bundle.zip", access)
    with zipfile.ZipFile(info.path) as archive:
        records = json.loads(archive.read("records.json"))
        csv_text = archive.read("records/CaseNote.csv").decode("utf-8")
        page = archive.read("index.html").decode("utf-8")
    values = [r["values"] for t in records["record_types"] for r in t["records"]]
    assert {"bad \ud800 text"} & {v.get("text") for v in values}
    assert "bad \\ud800 text" in csv_text
    assert "bad \\ud800 text" in page


# --- what the page says about parts the agency did not connect ------------------------------


def test_the_page_says_a_part_is_not_included_rather_than_that_there_is_none(
    tmp_path: Path,
) -> None:
    without = members(build_bundle(tmp_path / "without.zip").path)["index.html"].decode()
    with_stores = members(
        build_bundle(
            tmp_path / "with.zip",
            subject_access(consent=MemoryConsentStore(), disclosures=EmptyLog()),
        ).path
    )["index.html"].decode()
    wording = Wording()
    # Not connected: the page must not claim that nothing was shared or agreed to.
    assert wording.disclosures_none not in without
    assert wording.consents_none not in without
    assert without.count(html.escape(wording.not_included)) == 4  # consent, disclosures,
    # corrections, access history
    # Connected and empty: now "none" is true, and said.
    assert wording.disclosures_none in with_stores
    assert wording.consents_none in with_stores
    assert with_stores.count(html.escape(wording.not_included)) == 2


class EmptyLog:
    def for_subject(self, subject: str) -> Iterator[Any]:
        return iter(())


# --- a decision that withholds nothing is a mistake -----------------------------------------


def test_a_withhold_that_matches_no_record_stops_the_build_without_naming_the_key(
    tmp_path: Path,
) -> None:
    typo = Withhold(CaseNote, ANOTHER_PERSONS_AFFAIRS, key="N-1O2")
    with pytest.raises(SubjectAccessError, match="matched none of the person's records") as caught:
        build_bundle(tmp_path / "bundle.zip", withhold=[typo])
    assert "N-1O2" not in str(caught.value)
    assert leftovers(tmp_path) == []


def test_withhold_keys_compare_as_text(tmp_path: Path) -> None:
    assert Withhold(CaseNote, ANOTHER_PERSONS_AFFAIRS, key=7).key == "7"  # type: ignore[arg-type]


def test_every_fixed_phrase_and_field_name_on_the_page_can_be_reworded(tmp_path: Path) -> None:
    wording = Wording(
        lang="mi",
        greeting="Tēnā koe",
        greeting_lang="mi",
        phrases={
            "Answer due by": "Me whakautu i mua i te",
            "what each item is used for": "te take o ia mea",
            "Item": "Te mea",
            "Consent history": "Ngā whakaaetanga",
        },
        field_labels={"CaseNote.text": "Ngā kōrero a tō kaimahi", "region": "Rohe"},
    )
    consent = MemoryConsentStore()
    consent.give(SUBJECT, "service-delivery.case-management")
    page = members(
        build_bundle(tmp_path / "b.zip", subject_access(wording=wording, consent=consent)).path
    )["index.html"].decode()
    assert '<html lang="mi">' in page
    for said in ("Me whakautu i mua i te", "te take o ia mea", "Te mea", "Ngā whakaaetanga"):
        assert html.escape(said) in page
    assert "Answer due by" not in page
    assert "Consent history" not in page
    assert html.escape("Ngā kōrero a tō kaimahi") in page
    assert ">Rohe<" in page


def test_a_withhold_never_shows_its_key(tmp_path: Path) -> None:
    decision = Withhold(CaseNote, ANOTHER_PERSONS_AFFAIRS, key=SUBJECT, field="text")
    assert SUBJECT not in repr(decision)
