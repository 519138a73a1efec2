"""A bundle given the ledgers' public key (`SubjectAccess(ledger_public_key=)`) verifies
them and reads the person's history through each ledger's verified index: the same
``access-history.json`` as reading every line, and no bundle from a ledger that does not
verify."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from _bundles import (
    CHECKED,
    PSEUDONYM_KEY,
    PUBLIC_KEY,
    RECEIVED,
    SIGNING_KEY,
    build_bundle,
    members,
    subject_access,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from _records import CASEWORKER, Case, Contact
from purposeful.access import AccessRequest
from purposeful.audit import Ledger
from purposeful.audit.ledger import default_index_path
from purposeful.errors import ConfigurationError, LedgerUnverified

PEOPLE = ("client-history-1", "client-history-2", "client-history-3")
CASE_MANAGEMENT = "service-delivery.case-management"


def write_ledger(path: Path, reads: list[tuple[str, str]], flush_reads: int) -> None:
    """One caseworker's scope reading *reads* (person, field), written in parts of
    *flush_reads* reads, then a scope per person."""
    with (
        Ledger(path, signing_key=SIGNING_KEY, checkpoint_every=3) as ledger,
        purposeful.configured(
            sinks=[ledger], pseudonymise=PSEUDONYM_KEY.pseudonym, flush_reads=flush_reads
        ),
    ):
        with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
            records = {
                person: (Case(person, "d", "a", "n"), Contact(person, "021", "a@b"))
                for person in PEOPLE
            }
            for person, field in reads:
                case, contact = records[person]
                getattr(case if field in ("diagnosis", "address") else contact, field)
        for person in PEOPLE:
            with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
                _ = Case(person, "d", "a", "n").diagnosis


def history(folder: Path, ledger: Path, person: str, **options: object) -> dict[str, object]:
    access = subject_access(ledgers=[ledger], pseudonym_keys=PSEUDONYM_KEY, **options)
    request = AccessRequest("SAR-1", person, RECEIVED, **CHECKED)
    info = build_bundle(
        folder / f"bundle-{len(list(folder.iterdir()))}.zip", access, request=request
    )
    return json.loads(members(info.path)["access-history.json"])  # type: ignore[no-any-return]


@settings(max_examples=25, deadline=None)
@given(
    reads=st.lists(
        st.tuples(st.sampled_from(PEOPLE), st.sampled_from(["diagnosis", "address", "phone"])),
        max_size=12,
    ),
    flush_reads=st.integers(1, 5),
)
def test_a_verified_bundle_has_the_history_of_every_line(
    reads: list[tuple[str, str]], flush_reads: int
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        ledger = folder / "audit.jsonl"
        write_ledger(ledger, reads, flush_reads)
        for person in PEOPLE:
            plain = history(folder, ledger, person)
            assert history(folder, ledger, person, ledger_public_key=PUBLIC_KEY) == plain
            assert plain["accesses"]
        assert default_index_path(ledger).exists()


def test_no_bundle_is_built_from_a_ledger_that_does_not_verify(tmp_path: Path) -> None:
    ledger = tmp_path / "audit.jsonl"
    write_ledger(ledger, [(PEOPLE[0], "phone")], 5)
    lines = ledger.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"caseworker", b"caseworkex")
    ledger.write_bytes(b"".join(lines))
    assert history(tmp_path, ledger, PEOPLE[0])["accesses"]  # without the key: as it says
    bundles = sorted(tmp_path.glob("*.zip"))
    with pytest.raises(LedgerUnverified, match=r"audit\.jsonl:2: edited") as raised:
        history(tmp_path, ledger, PEOPLE[0], ledger_public_key=PUBLIC_KEY)
    assert PEOPLE[0] not in str(raised.value)
    assert sorted(tmp_path.glob("*.zip")) == bundles


def test_the_ledger_public_key_must_be_a_public_key() -> None:
    with pytest.raises(ConfigurationError, match="ledger_public_key"):
        subject_access(ledger_public_key=SIGNING_KEY)
