"""A statement of correction that came with a partner's referral is withheld with the
field it is about: a withheld field or record (s 49, s 53), or one given another way, has
no statement anywhere in the bundle (the records, the page, disclosures.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _bundles import build_bundle, members, records_source, subject_access
from test_bundle_provenance import ProvenanceContact, referred

from purposeful.access import ReleaseAs, ReleaseForm, Withhold
from purposeful.records import record_policy
from purposeful.sharing import MemorySharingStore
from purposeful.withholding import ANOTHER_PERSONS_AFFAIRS

STATEMENT = "STATEMENT-ABOUT-THE-WITHHELD-NUMBER"


def _bundle(tmp_path: Path, decide: str) -> dict[str, bytes]:
    store = MemorySharingStore()
    record = referred(store, statements={"phone": [STATEMENT]})
    key = record_policy(ProvenanceContact).key_of(record)
    decision: Withhold | ReleaseAs = {
        "field": Withhold(ProvenanceContact, ANOTHER_PERSONS_AFFAIRS, field="phone"),
        "record": Withhold(ProvenanceContact, ANOTHER_PERSONS_AFFAIRS, key=key),
        "another-way": ReleaseAs(ProvenanceContact, field="phone", form=ReleaseForm.SUMMARY),
    }[decide]
    access = subject_access(records_source(record), disclosures=store)
    option = "answers" if isinstance(decision, ReleaseAs) else "withhold"
    return members(build_bundle(tmp_path / "b.zip", access, **{option: [decision]}).path)


@pytest.mark.parametrize("decide", ["field", "record", "another-way"])
def test_a_withheld_fields_statement_from_a_referral_is_withheld_with_it(
    tmp_path: Path, decide: str
) -> None:
    contents = _bundle(tmp_path, decide)
    [received] = json.loads(contents["disclosures.json"])["received"]
    assert received["fields"] == ["ProvenanceContact.phone"]  # where it came from is said
    for name, data in contents.items():
        assert STATEMENT.encode() not in data, name
