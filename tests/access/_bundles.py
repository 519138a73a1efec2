"""Record classes, keys and helpers shared by the bundle and verification tests.

Everything here is fixed (the signing key and pseudonym key come from constant seeds, the
request and its time are constants), so a bundle built from the same records is the same
bytes in every test and every process. The helpers take no pytest fixtures: a hypothesis
test can call them once per example.

Personal values are recognisable markers: ``SUBJECT`` and ``OTHER`` are people's ids, and
``NOTIFIER`` marks the value of a withheld field, so finding one in a member, a message or
a repr can only mean it leaked.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import purposeful
from purposeful import (
    CONSENT,
    ORANGA_TAMARIKI_ACT_S66C,
    RESTRICTED,
    SENSITIVE,
    ServiceAgreement,
)
from purposeful.access import (
    AccessRequest,
    AgencyDetails,
    BundleInfo,
    Check,
    Requester,
    SubjectAccess,
)
from purposeful.access.bundle import (
    FORMAT,
    FORMAT_VERSION,
    ManifestEntry,
    dumps,
    signature_document,
)
from purposeful.audit import PseudonymKey
from purposeful.withholding import ANOTHER_PERSONS_AFFAIRS

SUBJECT = "client-7Q4X-private"
OTHER = "client-8R5Y-private"
NOTIFIER = "NOTIFIER-Whaea-Hidden"  # the withheld field's value: must be in no member

CASE_MANAGEMENT = "service-delivery.case-management"
SERVICE_AGREEMENT = ServiceAgreement("Service delivery agreement")

SIGNING_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"purposeful tests: bundle signing key").digest()
)
PUBLIC_KEY = SIGNING_KEY.public_key()
OTHER_SIGNING_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"purposeful tests: someone else's key").digest()
)
PSEUDONYM_KEY = PseudonymKey("5eed0001", hashlib.sha256(b"purposeful tests: pseudonyms").digest())

AGENCY = AgencyDetails(
    name="Kōwhai Support Trust",
    email="privacy@kowhai.example.nz",
    phone="04 123 4567",
    privacy_officer="Privacy Officer",
)
RECEIVED = date(2026, 3, 2)
CREATED = datetime(2026, 3, 20, 2, 30, tzinfo=UTC)
#: The s 57 records a bundle for release needs: the person asked, and each check was made.
CHECKED: dict[str, Any] = {
    "requester": Requester.person(),
    "identity": Check(by="staff-7", how="photo-id-sighted", evidence="IDV-0042"),
    "no_threat": Check(by="staff-7", how="asked-in-private"),
    "delivery": Check(by="staff-7", how="encrypted-to-requester-key"),
}
REQUEST = AccessRequest("SAR-2026-0042", SUBJECT, RECEIVED, **CHECKED)


@purposeful.record(subject="client_id", key="note_id")
class CaseNote:
    """Many per person. ``notifier`` is withheld from the person whenever they ask."""

    client_id: str
    note_id: str
    text: str = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, category="case-notes"
    )
    notifier: str = purposeful.field(
        purposes={"care-and-protection": ORANGA_TAMARIKI_ACT_S66C},
        sensitivity=RESTRICTED,
        category="family-violence",
        withhold=ANOTHER_PERSONS_AFFAIRS,
    )
    region: str = "Wellington"


@purposeful.record(subject="client_id")
class Profile:
    """One per person (its key is the subject field); a set-valued field for fixed order."""

    client_id: str
    preferred_name: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT}, category="identity"
    )
    iwi: frozenset[str] = purposeful.field(
        purposes={CASE_MANAGEMENT: CONSENT},
        sensitivity=SENSITIVE,
        category="ethnicity.iwi-affiliation",
        factory=frozenset,
    )
    born: date | None = None


@purposeful.record(subject="client_id", key="number")
class Visit:
    """A small record, for bundles with many records."""

    client_id: str
    number: int
    note: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})


def local_record_type(name: str | None = None) -> type:
    """A record class defined in a function: its name is ``local_record_type.<locals>.Odd``
    unless *name* is given."""

    @purposeful.record(subject="client_id", name=name)
    class Odd:
        client_id: str
        colour: str = "kōwhai"

    return Odd


def note(number: int, subject: str = SUBJECT, **values: str) -> CaseNote:
    fields = {"text": f"Met at home, visit {number}.", "notifier": f"{NOTIFIER}-{number}"}
    fields.update(values)
    return CaseNote(subject, f"N-{number}", **fields)


def profile(subject: str = SUBJECT) -> Profile:
    return Profile(
        subject, "Aroha", frozenset({"Ngāti Porou", "Ngāi Tahu", "Te Ātiawa"}), date(1990, 5, 17)
    )


def standard_records(subject: str) -> Iterator[object]:
    """Three case notes and a profile."""
    for number in (1, 2, 3):
        yield note(number, subject)
    yield profile(subject)


Fetch = Callable[[str], Iterable[object]]


def subject_access(
    *sources: tuple[str, Fetch],
    agency: AgencyDetails = AGENCY,
    pseudonym_keys: PseudonymKey | Sequence[PseudonymKey] = PSEUDONYM_KEY,
    **options: Any,
) -> SubjectAccess:
    """A `SubjectAccess` with *sources* (default: `standard_records` as "case-management")."""
    access = SubjectAccess(agency=agency, pseudonym_keys=pseudonym_keys, **options)
    for name, fetch in sources or (("case-management", standard_records),):
        access.register(name, fetch)
    return access


def records_source(*records: object) -> tuple[str, Fetch]:
    """A source named "records" that yields *records*, whoever is asked about."""
    return ("records", lambda subject: iter(records))


def build_bundle(
    target: Path,
    access: SubjectAccess | None = None,
    *,
    request: AccessRequest = REQUEST,
    **options: Any,
) -> BundleInfo:
    """Build a bundle to *target* with the fixed key and time (unless *options* say otherwise)."""
    options.setdefault("signing_key", SIGNING_KEY)
    options.setdefault("created", CREATED)
    return (access if access is not None else subject_access()).build(request, target, **options)


def members(bundle: Path | bytes) -> dict[str, bytes]:
    """Every member's content, by name, in the zip's order."""
    source = io.BytesIO(bundle) if isinstance(bundle, bytes) else bundle
    with zipfile.ZipFile(source) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_zip(target: Path, contents: Iterable[tuple[str, bytes]]) -> Path:
    """A zip of *contents*, deflated, in the order given (names may repeat)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of a repeated name
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in contents:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
    return target


def entry_of(name: str, data: bytes) -> ManifestEntry:
    return ManifestEntry(name, hashlib.sha256(data).hexdigest(), len(data))


def signed(
    files: Iterable[ManifestEntry],
    key: Ed25519PrivateKey = SIGNING_KEY,
    *,
    leave_out: Iterable[str] = (),
    **fields: Any,
) -> dict[str, bytes]:
    """``manifest.json`` listing *files* and ``manifest.sig`` signing it with *key*, made from
    the documented format: what someone holding the agency's key could write. *fields*
    replace the manifest's own; those named in *leave_out* are left out."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator": "a test",
        "agency": AGENCY.name,
        "request_id": REQUEST.request_id,
        "received": RECEIVED.isoformat(),
        "due": REQUEST.due.isoformat(),
        "created": "2026-03-20T02:30:00Z",
        "subject": PSEUDONYM_KEY.pseudonym(SUBJECT),
        "records": {},
        "files": [
            {"name": entry.name, "sha256": entry.sha256, "size": entry.size} for entry in files
        ],
    }
    document.update(fields)
    for name in leave_out:
        del document[name]
    manifest = json.dumps(document, indent=2).encode()
    # the signature file exactly as the writer makes it: verify accepts no other form
    return {"manifest.json": manifest, "manifest.sig": dumps(signature_document(manifest, key))}


def resigned(
    contents: Mapping[str, bytes], key: Ed25519PrivateKey = SIGNING_KEY
) -> dict[str, bytes]:
    """*contents* (without a manifest) with a manifest listing each of them, signed."""
    found = dict(contents)
    found.update(signed([entry_of(name, data) for name, data in contents.items()], key))
    return found
