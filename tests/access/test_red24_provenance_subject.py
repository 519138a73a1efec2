"""A disclosure log's provenance() that gives where someone else's information came from
(a referral about another person, with their statements of correction) stops the build
with a `SubjectAccessError`: the bundle, like its records, never holds another person's."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from _bundles import OTHER, SUBJECT, build_bundle, records_source, subject_access
from test_bundle_provenance import referred

from purposeful.errors import SubjectAccessError
from purposeful.sharing import MemorySharingStore, Provenance

THEIR_STATEMENT = "OTHER-PERSONS-STATEMENT"


class MixedUp:
    """A log that answers for the person with another person's referral too."""

    def __init__(self, store: MemorySharingStore) -> None:
        self.store = store

    def for_subject(self, subject: str) -> list[object]:
        return list(self.store.for_subject(subject))

    def provenance(self, subject: str) -> list[Provenance]:
        mine = list(self.store.provenance(subject))
        theirs = [
            attrs.evolve(kept, subject=OTHER, statements={"phone": [THEIR_STATEMENT]})
            for kept in mine
        ]
        return mine + theirs


def test_another_persons_referral_stops_the_build(tmp_path: Path) -> None:
    store = MemorySharingStore()
    record = referred(store)
    access = subject_access(records_source(record), disclosures=MixedUp(store))
    with pytest.raises(SubjectAccessError, match="someone else's information") as caught:
        build_bundle(tmp_path / "b.zip", access)
    for said in (SUBJECT, OTHER, THEIR_STATEMENT):
        assert said not in str(caught.value)
    assert not (tmp_path / "b.zip").exists()
    assert list(tmp_path.iterdir()) == []
