"""Red team 2: the safe answer. Neither confirm nor deny must read the same whether or not
anything was left out, in every byte; a safety review must cover what the bundle holds."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "access"))

from _bundles import (
    CaseNote,
    build_bundle,
    members,
    note,
    records_source,
    subject_access,
)

from purposeful.access import NeitherConfirmNorDeny
from purposeful.sharing import DisclosureEntry
from purposeful.withholding import ANOTHER_PERSONS_AFFAIRS

ABOUT = "whether anyone has told us they are worried about your children"


class Log:
    def __init__(self, *entries: DisclosureEntry) -> None:
        self.entries = entries

    def for_subject(self, subject: str):  # type: ignore[no-untyped-def]
        yield from self.entries


def test_red2_ncnd_a_disclosure_of_the_hidden_record_does_not_show_it_exists(
    tmp_path: Path,
) -> None:
    # the agency's disclosure log names the field it passed on of the hidden type: the
    # bundle's disclosures.json then tells the person a record of the type exists
    log = Log(
        DisclosureEntry(
            at=datetime(2026, 3, 1, tzinfo=UTC),
            recipient="NZ Police",
            purpose="care-and-protection",
            basis="Oranga Tamariki Act 1989 s 66C",
            fields=["CaseNote.notifier"],
        )
    )
    (tmp_path / "a").mkdir()
    access = subject_access(records_source(note(1)), disclosures=log)
    answer = NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, ABOUT)
    contents = members(build_bundle(tmp_path / "a" / "b.zip", access, answers=[answer]).path)
    assert b"CaseNote" not in contents["disclosures.json"]


def test_red2_ncnd_on_a_whole_type_reads_the_same_whether_or_not_the_person_has_any(
    tmp_path: Path,
) -> None:
    # NeitherConfirmNorDeny(CaseNote, ...) with no key: every case note. A person with case
    # notes gets an empty "Case note: your records (0)" table, records/CaseNote.csv and a
    # CaseNote entry with count 0 in records.json; a person with none gets no trace of the
    # type. So the bundle shows that the answer hid something.
    from _bundles import profile

    answer = NeitherConfirmNorDeny(CaseNote, ANOTHER_PERSONS_AFFAIRS, ABOUT)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    hid = members(
        build_bundle(
            tmp_path / "a" / "b.zip",
            subject_access(records_source(profile(), note(1))),
            answers=[answer],
        ).path
    )
    none = members(
        build_bundle(
            tmp_path / "b" / "b.zip", subject_access(records_source(profile())), answers=[answer]
        ).path
    )
    differ = sorted(name for name in hid.keys() | none.keys() if hid.get(name) != none.get(name))
    assert differ == []
