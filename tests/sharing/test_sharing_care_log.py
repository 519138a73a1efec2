"""The disclosure log keeps the care needs a disclosure met (codes, the second reviewer's
id, the safety review's reference) for the agency's own reads, in every store; the person's
bundle (``disclosures.json``, the "shared with" page) never shows them. Stores written
before (schema version 2) are migrated forward and read their disclosures back with none."""

from __future__ import annotations

import hashlib
import sqlite3
import zipfile
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import DIRECTLY_RELATED_PURPOSE, SENSITIVE, Actor
from purposeful.access import AccessRequest, AgencyDetails, SubjectAccess
from purposeful.audit import PseudonymKey
from purposeful.care import CareFlag, CareNeed, CareRequirement, needs_for
from purposeful.errors import ConfigurationError, StoreCorrupt
from purposeful.purposes import PurposeRegistry
from purposeful.sharing import BaseSharingStore, MemorySharingStore
from purposeful.sharing.agreements import Party, SharingAgreement
from purposeful.sharing.exchange import disclose
from purposeful.sharing.sqlite import SQLiteSharingStore
from purposeful.sharing.values import Disclosure, new_id

REFERRAL = "service-delivery.referral"
CASEWORKER = Actor("staff-17", "caseworker", SENSITIVE)
MANAGER = Actor("staff-02", "team-leader", SENSITIVE)
US = Party("Te Whare Āwhina")
PARTNER = Party("Kāinga Ora")
SUBJECT = "C-care-log-1"
AT = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
CARE_COLUMNS = ("care_needs", "second_reviewer", "safety_review")


@purposeful.record(subject="client_id", key="referral_id")
class LoggedCareReferral:
    client_id: str
    referral_id: str
    name: str = purposeful.field(purposes={REFERRAL: DIRECTLY_RELATED_PURPOSE})


class Flags:
    def __init__(self, flags: Mapping[str, Collection[str]]) -> None:
        self.flags = dict(flags)

    def care_flags(self, subjects: Sequence[str]) -> Mapping[str, Collection[str]]:
        return {s: self.flags[s] for s in subjects if s in self.flags}


def agreement(*care: CareRequirement) -> SharingAgreement:
    return SharingAgreement(
        id="care-log-referrals",
        name="Care log referrals",
        parties=(US, PARTNER),
        purposes=(REFERRAL,),
        basis=DIRECTLY_RELATED_PURPOSE,
        starts=date(2026, 1, 1),
        expires=date(2030, 12, 31),
        review=date(2028, 6, 30),
        fields=("LoggedCareReferral.name",),
        care=care,
    )


def logged(**care: object) -> Disclosure:
    return Disclosure(
        id=new_id(), subject=SUBJECT, at=AT, recipient=PARTNER.name, agreement="a",
        agreement_name="A", purpose=REFERRAL, basis="b", record_type="LoggedCareReferral",
        record_key="R-1", fields=("name",), **care,  # type: ignore[arg-type]
    )  # fmt: skip


CARED = {
    "care_needs": (CareNeed.SECOND_REVIEWER, "safety-review"),
    "second_reviewer": "staff-02",
    "safety_review": "SR-2026-0042",
}


def test_every_store_keeps_the_care_needs_met_and_the_bundle_entry_leaves_them_out(
    store: BaseSharingStore,
) -> None:
    plain, cared = logged(), logged(**CARED)
    store.log(plain)
    store.log(cared)
    assert store.disclosures(SUBJECT) == [plain, cared]
    back = store.disclosures(SUBJECT)[1]
    assert back.care_needs == ("safety-review", "second-reviewer")
    assert (back.second_reviewer, back.safety_review) == ("staff-02", "SR-2026-0042")
    assert store.disclosures(SUBJECT)[0].care_needs == ()
    entries = store.for_subject(SUBJECT)
    assert not any(
        code in repr(entries) for code in ("second-reviewer", "staff-02", "SR-2026-0042")
    )
    # a retry with other care details is another disclosure, refused
    from purposeful.errors import SharingStoreError

    with pytest.raises(SharingStoreError, match="with other details"):
        store.log(attrs.evolve(cared, second_reviewer="staff-03"))


def test_a_disclosures_care_needs_are_codes_and_its_repr_shows_none() -> None:
    with pytest.raises(ConfigurationError, match="codes of the care needs met"):
        logged(care_needs=("family-violence-safety",))
    with pytest.raises(ConfigurationError, match="second_reviewer must be non-empty"):
        logged(second_reviewer="")
    assert "staff-02" not in repr(logged(**CARED))
    assert "second-reviewer" not in repr(logged(**CARED))


@settings(max_examples=30, deadline=None)
@given(
    care=st.lists(
        st.builds(
            CareRequirement,
            flags=st.sets(st.sampled_from(list(CareFlag)), min_size=1, max_size=2),
            needs=st.sets(
                st.sampled_from([CareNeed.SECOND_REVIEWER, CareNeed.SAFETY_REVIEW]), min_size=1
            ),
        ),
        max_size=2,
    ),
    flags=st.sets(st.sampled_from(list(CareFlag)), max_size=2),
)
def test_a_disclosure_logs_the_care_needs_it_met(
    care: list[CareRequirement], flags: set[CareFlag]
) -> None:
    log = MemorySharingStore()
    default = PurposeRegistry.default()
    registry = default.extend([attrs.evolve(default.get(REFERRAL), care=())])
    purposeful.configure(registry=registry, disclosure_log=log, care_flags=Flags({SUBJECT: flags}))
    needs = needs_for(care, flags)
    sent = disclose(
        LoggedCareReferral(SUBJECT, "R-1", "Mere"), to=PARTNER, under=agreement(*care),
        actor=CASEWORKER, second_reviewer=MANAGER, safety_review="SR-2026-0042",
    )  # fmt: skip
    (kept,) = log.disclosures(SUBJECT)
    assert kept == sent.disclosure
    assert kept.care_needs == tuple(sorted(need.value for need in needs))
    assert kept.second_reviewer == ("staff-02" if CareNeed.SECOND_REVIEWER in needs else None)
    assert kept.safety_review == ("SR-2026-0042" if CareNeed.SAFETY_REVIEW in needs else None)


def test_the_persons_bundle_shows_whom_it_was_shared_with_but_not_what_care_it_needed(
    tmp_path: Path,
) -> None:
    log = SQLiteSharingStore(tmp_path / "log.sqlite3")
    default = PurposeRegistry.default()
    purposeful.configure(
        registry=default, disclosure_log=log,
        care_flags=Flags({SUBJECT: {"family-violence-safety"}}),
    )  # fmt: skip
    under = agreement(
        CareRequirement(["family-violence-safety"], ["second-reviewer", "safety-review"])
    )
    disclose(
        LoggedCareReferral(SUBJECT, "R-1", "Mere"), to=PARTNER, under=under,
        actor=CASEWORKER, second_reviewer=MANAGER, safety_review="SR-2026-0042",
    )  # fmt: skip
    access = SubjectAccess(
        agency=AgencyDetails(name="Te Whare Āwhina", email="privacy@awhina.example.nz"),
        pseudonym_keys=PseudonymKey("c4e1061a", hashlib.sha256(b"care log").digest()),
        disclosures=log,
    )
    access.register("referrals", lambda subject: iter([LoggedCareReferral(subject, "R-1", "M")]))
    request = AccessRequest("SAR-2026-0777", SUBJECT, date(2026, 6, 1))
    target = tmp_path / "draft.zip"
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"care log key").digest())
    access.build(request, target, signing_key=key, draft=True)
    with zipfile.ZipFile(target) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    shared = next(data for name, data in members.items() if name.endswith("disclosures.json"))
    assert PARTNER.name.encode() in shared  # whom it was shared with is the person's to know
    for content in members.values():
        for hidden in (b"second-reviewer", b"safety-review", b"staff-02", b"SR-2026-0042"):
            assert hidden not in content
    log.close()


def test_a_version_2_sqlite_store_is_migrated_and_reads_its_disclosures_with_no_care(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v2.sqlite3"
    plain = logged()
    with SQLiteSharingStore(path) as store:
        store.log(plain)
    with sqlite3.connect(path) as connection:  # as version 2 left it
        for column in CARE_COLUMNS:
            connection.execute(f"ALTER TABLE disclosures DROP COLUMN {column}")
        connection.execute("ALTER TABLE provenance DROP COLUMN statements")  # version 4's
        connection.execute("ALTER TABLE collections DROP COLUMN statements")
        connection.execute("PRAGMA user_version = 2")
    connection.close()
    cared = logged(**CARED)
    with SQLiteSharingStore(path) as store:
        assert store.disclosures(SUBJECT) == [plain]
        store.log(cared)
        assert store.disclosures(SUBJECT) == [plain, cared]
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (4,)
    connection.close()


def test_a_damaged_care_column_is_store_corrupt_and_names_no_subject(tmp_path: Path) -> None:
    path = tmp_path / "damaged.sqlite3"
    with SQLiteSharingStore(path) as store:
        store.log(logged(**CARED))
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE disclosures SET care_needs = '[\"a-flag-name\"]'")
    connection.close()
    with SQLiteSharingStore(path) as store, pytest.raises(StoreCorrupt) as raised:
        store.disclosures(SUBJECT)
    assert SUBJECT not in str(raised.value)
    assert "a-flag-name" not in str(raised.value)


def test_a_version_2_postgres_store_is_migrated(postgres_schema: tuple[str, str]) -> None:
    psycopg = pytest.importorskip("psycopg")
    from purposeful.sharing.postgres import SCHEMA_VERSION, VERSION_TABLE, PostgresSharingStore

    dsn, schema = postgres_schema
    plain = logged()
    with PostgresSharingStore(dsn, schema=schema) as store:
        store.log(plain)
    with psycopg.connect(dsn, autocommit=True) as connection:
        for column in CARE_COLUMNS:
            connection.execute(f'ALTER TABLE "{schema}".disclosures DROP COLUMN {column}')
        connection.execute(f'ALTER TABLE "{schema}".provenance DROP COLUMN statements')
        connection.execute(f'ALTER TABLE "{schema}".collections DROP COLUMN statements')
        connection.execute(f'UPDATE "{schema}".{VERSION_TABLE} SET version = 2')
    cared = logged(**CARED)
    with PostgresSharingStore(dsn, schema=schema) as store:
        assert store.disclosures(SUBJECT) == [plain]
        store.log(cared)
        assert store.disclosures(SUBJECT) == [plain, cared]
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute(f'SELECT version FROM "{schema}".{VERSION_TABLE}').fetchone()
    assert row == (SCHEMA_VERSION,) == (4,)
