"""The assessment is the same on every engine: SQLite from the standard library, DuckDB over
the same files, and ClickHouse (chDB, in process) over the Collector's exporter table holding
the same spans, disclosures included."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from _audit_inputs import MONDAY, HandPart, HandScope, attribute, hand_parts, span, traces_text
from purposeful.breach import Assessment, Compromise, Trail, assess
from purposeful.errors import UnknownCompromised

chdb_session = pytest.importorskip("chdb.session")
from audit.test_report_clickhouse import Store  # noqa: E402  (needs chDB)

PEOPLE = tuple(f"0b0c0d0e:{n:032x}" for n in range(4))
NAMES = ("Client.name", "Client.diagnosis", "CaseNote.text")
DAY = timedelta(days=1)


def _disclosure(number: int, subject: str | None, record_type: str) -> dict[str, Any]:
    named = [] if subject is None else [attribute("purposeful.disclosure.subject", subject)]
    return {
        "timeUnixNano": "0",
        "name": "purposeful.disclosure",
        "attributes": [
            attribute("purposeful.disclosure.id", f"{number:032x}"),
            attribute("purposeful.disclosure.agreement", "housing-referrals"),
            attribute("purposeful.disclosure.recipient", "Kāinga Ora"),
            attribute("purposeful.disclosure.record_type", record_type),
            attribute("purposeful.disclosure.fields", ["name", "iwi"]),
            attribute("purposeful.disclosure.statements.count", 0),
            *named,
        ],
    }


@st.composite
def _spans(draw: st.DrawFn) -> list[dict[str, Any]]:
    spans = []
    for number in range(draw(st.integers(1, 4))):
        scope = HandScope(
            f"{number:08x}",
            (draw(hand_parts(NAMES, PEOPLE)),),
            opened=MONDAY + timedelta(hours=draw(st.integers(0, 48))),
            actor=draw(st.sampled_from(["staff-17", "staff-02"])),
        )
        written = span(scope, 0)
        written["traceId"] = f"{number:032x}"
        if draw(st.booleans()):
            who = draw(st.none() | st.sampled_from(PEOPLE))
            written["events"].append(_disclosure(number, who, draw(st.sampled_from(["Client"]))))
        spans.append(written)
    return spans


def _same(found: Assessment) -> Assessment:
    return attrs.evolve(found, source="", engine="")


@pytest.fixture(scope="module")
def store() -> Any:
    found = Store()
    yield found
    found.close()


@settings(
    max_examples=20,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # shrinking spans takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spans=_spans(), typed=st.booleans(), hours=st.integers(0, 48))
def test_every_engine_gives_the_same_assessment(
    store: Any, tmp_path: Path, spans: list[dict[str, Any]], typed: bool, hours: int
) -> None:
    traces = tmp_path / "traces.json"
    traces.write_text(traces_text(spans), encoding="utf-8")
    store.session.query("TRUNCATE TABLE otel_traces")
    store.insert(spans)
    start = MONDAY + timedelta(hours=hours)
    compromise = Compromise(
        start, start + DAY, actors={"staff-17"}, record_types={"Client"} if typed else ()
    )
    found = []
    for trail in (
        Trail.from_files([traces], engine="stdlib"),
        Trail.from_files([traces], engine="duckdb"),
        Trail._over_clickhouse(store.run, "chdb", "otel_traces"),
    ):
        with trail:
            try:
                found.append(_same(assess(trail, compromise)))
            except UnknownCompromised as error:  # no Client read at all: the same error
                found.append(str(error))  # type: ignore[arg-type]
    assert found[0] == found[1] == found[2]


def test_disclosures_count_their_people_and_say_what_was_given(tmp_path: Path) -> None:
    scope = HandScope("0000000a", (HandPart(),), actor="staff-17")
    written = span(scope, 0)
    written["events"] += [_disclosure(1, PEOPLE[3], "Client"), _disclosure(2, None, "Client")]
    traces = tmp_path / "traces.json"
    traces.write_text(traces_text([written]), encoding="utf-8")
    with Trail.from_files([traces], engine="stdlib") as trail:
        found = assess(trail, Compromise(MONDAY, MONDAY + DAY, actors={"staff-17"}))
    assert found.pseudonyms == {PEOPLE[3]}
    (row,) = found.disclosures
    assert (row.recipient, row.agreement, row.record_type) == (
        "Kāinga Ora",
        "housing-referrals",
        "Client",
    )
    assert (row.fields, row.disclosures, row.unattributed) == (("iwi", "name"), 2, 1)
    assert found.fields == ("Client.iwi", "Client.name")
