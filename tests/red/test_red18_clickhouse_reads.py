"""Red team 18: the ClickHouse views read ``purposeful.subjects.fields`` as the validating
reader does, an index being a whole number written in digits: one that is not (``-1``,
``-2``, ``+1``) counts as absent, never as a field counted from the end of
``purposeful.fields_read`` (ClickHouse's negative array index) or as an empty name."""

from __future__ import annotations

from typing import Any

import pytest

from _audit_inputs import HandPart, HandScope, span
from purposeful.audit.history import SubjectQuery
from purposeful.audit.report import render_text
from purposeful.audit.report.clickhouse_engine import report_on_clickhouse, shape_ctes

pytest.importorskip("chdb.session")
from audit.test_report_clickhouse import Store  # needs chDB

PERSON = "0a0b0c0d:" + "1" * 32


@pytest.fixture(scope="module")
def store() -> Any:
    found = Store()
    yield found
    found.close()


def _stored(store: Store, items: str) -> None:
    """A span whose person read Case.address (index 0) only; Case.diagnosis, the last field,
    was read from people it does not list; its index items replaced by *items*."""
    scope = HandScope(
        "s1",
        (
            HandPart(
                reads={PERSON: frozenset({"Case.address"})},
                unlisted=1,
                unlisted_fields=frozenset({"Case.diagnosis"}),
            ),
        ),
    )
    found = span(scope, 0)
    for pair in found["attributes"]:
        if pair["key"] == "purposeful.subjects.fields":
            pair["value"] = {"arrayValue": {"values": [{"stringValue": items}]}}
    store.session.query("TRUNCATE TABLE otel_traces")
    store.insert([found])


@pytest.mark.parametrize("bad", ["-1", "-2", "+1", "1.0", "0x1", " -0"])
def test_an_index_that_is_not_digits_reads_no_field(store: Store, bad: str) -> None:
    _stored(store, f"0 {bad}")
    rows = store.run(
        shape_ctes() + "SELECT name FROM part_reads ORDER BY name",
        {"source": "chdb", "wanted": PERSON},
    )
    assert rows == [("Case.address",)]
    page = render_text(
        report_on_clickhouse(store.run, source="chdb", subject=SubjectQuery((PERSON,)))
    )
    assert "Case.diagnosis" not in page.split("Who read")[-1]


def test_digits_and_spaces_still_read_as_the_validating_reader_reads_them(store: Store) -> None:
    _stored(store, " 0  1 ")
    rows = store.run(
        shape_ctes() + "SELECT name FROM part_reads ORDER BY name",
        {"source": "chdb", "wanted": PERSON},
    )
    assert rows == [("Case.address",), ("Case.diagnosis",)]
