"""Rows loaded through the Django ORM inside a scope: the first consent question asks about
every loaded person at once."""

from __future__ import annotations

from _family_models import DjangoCase

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, BatchCountingStore
from purposeful import PurposeViolation
from purposeful._consent import CACHE

PEOPLE = [f"dj-client-{n:02d}" for n in range(12)]


def test_models_loaded_in_a_scope_are_asked_about_in_one_batch(database: str) -> None:
    CACHE.clear()
    for person in PEOPLE:
        DjangoCase.objects.using(database).create(
            client_id=person, diagnosis="d", address="a", case_notes=f"notes of {person}"
        )
    store = BatchCountingStore()
    for person in PEOPLE[::3]:
        store.give(person, CASE_MANAGEMENT)
    purposeful.configure(consent=store)
    found = {}
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        rows = list(DjangoCase.objects.using(database).filter(client_id__in=PEOPLE))
        assert store.batches == []
        for row in rows:
            try:
                found[row.client_id] = row.case_notes
            except PurposeViolation:
                found[row.client_id] = "refused"
    assert store.batches == [len(PEOPLE)]
    assert found == {
        p: (f"notes of {p}" if n % 3 == 0 else "refused") for n, p in enumerate(PEOPLE)
    }
    CACHE.clear()
