"""OTLP JSON read by DuckDB itself: the same tables as the validating reader's, on generated
span files, and every malformed input still the validating reader's error, with file and
line (`purposeful.audit.report.duckdb_json`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _audit_inputs import MONDAY, HandPart, HandScope, attribute, hand_parts, in_edition, span
from purposeful.audit.report import ReportDatabase, ScopeRecord, read_otlp_json
from purposeful.audit.report.duckdb_engine import ReportDatabase as Engine
from purposeful.audit.report.shape import TABLES, ShapeRows
from purposeful.errors import ReportInputError

PEOPLE = tuple(f"{key}:{n:032x}" for key in ("0a0b0c0d", "1a2b3c4d") for n in (1, 2, 3))
NAMES = ("Case.diagnosis", "Case.address", "Note.text", "plain", "Case.nom\u00e9", "a.b.c")


def tables(
    paths: Sequence[Path], *, in_sql: bool, sure: bool = True
) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the shape, sorted, read from *paths* in SQL (asserting, if *sure*,
    that every file was) or by the validating reader."""
    taken: list[bool] = []
    original = Engine._read_in_sql

    def read(self: Engine, rows: Any, path: Path) -> bool:
        taken.append(in_sql and original(self, rows, path))
        return taken[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Engine, "_read_in_sql", read)
        with ReportDatabase.from_files(paths) as database:
            found = {
                name: sorted(database.query(f"SELECT * FROM {name}"), key=repr) for name in TABLES
            }
    assert not sure or taken == [in_sql] * len(paths)
    return found


@st.composite
def hand_scopes(draw: st.DrawFn) -> HandScope:
    purpose = draw(st.sampled_from(["case-management", "funder-reporting", None]))
    scoped = purpose is not None
    return HandScope(
        scope_id=draw(st.sampled_from(["0a01", "0a02", "0a03", ""])),
        parts=tuple(draw(st.lists(hand_parts(NAMES, PEOPLE), min_size=1, max_size=3))),
        opened=MONDAY + timedelta(minutes=draw(st.integers(0, 4 * 24 * 60))),
        purpose=purpose,
        actor=draw(st.sampled_from(["staff-1", "staff-2", None])) if scoped else None,
        role=draw(st.sampled_from(["caseworker", "auditor", None])) if scoped else None,
        final=draw(st.booleans()),
        site=None if scoped else draw(st.sampled_from([None, ("app.py", "run", 7)])),
    )


def _drop(found: dict[str, Any], *keys: str) -> None:
    found["attributes"] = [a for a in found["attributes"] if a["key"] not in keys]


@st.composite
def purpose_spans(draw: st.DrawFn) -> dict[str, Any]:
    """One part of a generated scope, as a span, in one of the forms inputs come in."""
    scope = draw(hand_scopes())
    number = draw(st.integers(0, len(scope.parts) - 1))
    older = draw(st.booleans())  # written before parts and per-person reads
    whole = number == 0 and scope.final and len(scope.parts) == 1
    if not scope.scope_id and not whole:  # an empty id is read as none on a whole scope only
        scope = attrs.evolve(scope, scope_id="0a04")
    found = span(scope, number, per_person=not older, edition=draw(st.sampled_from([1, 2])))
    if draw(st.booleans()):  # older still: no people at all
        _drop(
            found,
            "purposeful.subjects",
            "purposeful.subjects.count",
            "purposeful.subjects.overflow",
            "purposeful.subjects.fields",
        )
    if draw(st.booleans()):
        _drop(found, "purposeful.subjects.overflow")
    if scope.purpose and draw(st.booleans()):
        found["attributes"] += [
            attribute("purposeful.scope.upstream.service", "intake"),
            attribute("purposeful.scope.upstream.id", "00ff00ff00ff"),
        ]
    for i in range(draw(st.integers(0, 2))):
        event = {
            "name": "purposeful.disclosure",
            "attributes": [
                attribute("purposeful.disclosure.id", f"d{i}"),
                attribute("purposeful.disclosure.agreement", "AISA-2026"),
                attribute("purposeful.disclosure.recipient", draw(st.sampled_from(["MSD", "IR"]))),
                attribute("purposeful.disclosure.record_type", "Case"),
                attribute("purposeful.disclosure.fields", ["address", "address", "diagnosis"]),
                attribute("purposeful.disclosure.statements.count", draw(st.integers(0, 2))),
            ],
        }
        if draw(st.booleans()):
            subject = draw(st.sampled_from([*PEOPLE, "not-a-pseudonym"]))
            event["attributes"].append(attribute("purposeful.disclosure.subject", subject))
        found["events"].append(event)
    if draw(st.booleans()):
        found["events"].insert(0, {"name": "exception", "attributes": [{"key": 5}]})
    if draw(st.booleans()):  # a foreign attribute of any form, and a key written twice
        found["attributes"].insert(0, {"key": "http.route", "value": {"kvlistValue": {}}})
        found["attributes"].insert(0, attribute("purposeful.actor.id", "overridden"))
    draw(st.randoms()).shuffle(found["attributes"])
    return found


FOREIGN = {"name": "GET /clients", "attributes": [{"key": "n", "value": {"doubleValue": 1.5}}]}


@st.composite
def span_files(draw: st.DrawFn) -> list[list[list[list[dict[str, Any]]]]]:
    """Files, of lines, of resources, of spans: purpose spans in a drawn order, and others."""
    spans = draw(st.lists(st.one_of(purpose_spans(), st.just(FOREIGN)), max_size=10))
    files: list[list[list[list[dict[str, Any]]]]] = [[] for _ in range(draw(st.integers(1, 3)))]
    while spans:
        taken = draw(st.integers(1, 3))
        line: list[list[dict[str, Any]]] = [[] for _ in range(draw(st.integers(1, 2)))]
        for found in spans[:taken]:
            line[draw(st.integers(0, len(line) - 1))].append(found)
        spans = spans[taken:]
        files[draw(st.integers(0, len(files) - 1))].append(line)
    return files


def write(folder: Path, files: list[list[list[list[dict[str, Any]]]]]) -> list[Path]:
    paths = []
    for i, lines in enumerate(files):
        path = folder / f"traces-{i}.jsonl"
        text = ""
        for n, resources in enumerate(lines):
            request = {
                "resourceSpans": [
                    {"resource": {}, "scopeSpans": [{"scope": {}, "spans": group}, {}]}
                    for group in resources
                ]
            }
            text += json.dumps(request, ensure_ascii=n % 2 == 0) + ("\n\n" if n % 3 else "\n")
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=span_files())
def test_the_sql_reader_and_the_validating_reader_make_the_same_tables(
    tmp_path_factory: pytest.TempPathFactory, files: list[list[list[list[dict[str, Any]]]]]
) -> None:
    paths = write(tmp_path_factory.mktemp("spans"), files)
    assert tables(paths, in_sql=True) == tables(paths, in_sql=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=span_files())
def test_spans_of_either_edition_make_the_same_tables_on_both_readers(
    tmp_path_factory: pytest.TempPathFactory, files: list[list[list[list[dict[str, Any]]]]]
) -> None:
    """The same spans written with the people's lists as arrays (edition 1) and as one
    string each (edition 2) are the same tables, in SQL and on the validating reader."""
    folder = tmp_path_factory.mktemp("editions")
    found = []
    for edition in (1, 2):
        rewritten = [
            [[[in_edition(one, edition) for one in spans] for spans in line] for line in lines]
            for lines in files
        ]
        paths = write(folder, rewritten)  # the same paths: the sources table names them
        found += [tables(paths, in_sql=True), tables(paths, in_sql=False)]
    assert all(each == found[0] for each in found)


def _edition_2(change: dict[str, Any]) -> str:
    found = in_edition(span(HandScope("0a01", (HandPart(),)), 0), 2)
    found["attributes"] += [attribute(key, value) for key, value in change.items()]
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [found]}]}]})


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"purposeful.subjects": f"{PEOPLE[0]}  {PEOPLE[1]}"}, "separated by single spaces"),
        ({"purposeful.subjects": f" {PEOPLE[0]}"}, "separated by single spaces"),
        ({"purposeful.subjects": "[k1:00]"}, "not starting with '['"),
        ({"purposeful.subjects": PEOPLE[0], "purposeful.subjects.fields": "0,"}, "one item"),
        ({"purposeful.subjects": "", "purposeful.subjects.fields": ","}, "one item for each"),
        ({"purposeful.subjects": PEOPLE[0], "purposeful.subjects.fields": "x"}, "indexes"),
    ],
)
def test_a_malformed_edition_2_list_is_the_same_error_in_sql_and_by_the_reader(
    tmp_path: Path, change: dict[str, Any], problem: str
) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text(_edition_2(change) + "\n")
    assert problem in _error([path], in_sql=True) == _error([path], in_sql=False)


def test_an_edition_2_span_of_one_person_who_read_nothing_is_one_empty_item(
    tmp_path: Path,
) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text(
        _edition_2({"purposeful.subjects": PEOPLE[0], "purposeful.subjects.fields": ""}) + "\n"
    )
    (record,) = [e for e in read_otlp_json(path) if isinstance(e, ScopeRecord)]
    assert (record.subjects, record.reads) == ((PEOPLE[0],), ((),))
    assert tables([path], in_sql=True) == tables([path], in_sql=False)


def test_a_large_file_is_read_in_sql_in_its_order(tmp_path: Path) -> None:
    """Thousands of lines: DuckDB reads them in parallel, and the parts still join in the
    order the file has them (the second part of each scope comes first)."""
    scopes = [
        HandScope(f"{n:08x}", (HandPart(reads={PEOPLE[n % 6]: frozenset({NAMES[n % 6]})}),) * 2)
        for n in range(3_000)
    ]
    lines = [
        json.dumps(
            {"resourceSpans": [{"scopeSpans": [{"spans": [span(scope, 1), span(scope, 0)]}]}]}
        )
        for scope in scopes
    ]
    path = tmp_path / "traces.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert tables([path], in_sql=True) == tables([path], in_sql=False)


def _valid_line() -> dict[str, Any]:
    return {
        "resourceSpans": [{"scopeSpans": [{"spans": [span(HandScope("0a01", (HandPart(),)), 0)]}]}]
    }


def _attributes_changed(change: dict[str, Any]) -> str:
    line = _valid_line()
    found = line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    for key, value in change.items():
        found["attributes"] = [a for a in found["attributes"] if a["key"] != key]
        if value is not None:
            found["attributes"].append({"key": key, "value": value})
    return json.dumps(line)


def _span_changed(key: str, value: object) -> str:
    line = _valid_line()
    line["resourceSpans"][0]["scopeSpans"][0]["spans"][0][key] = value
    return json.dumps(line)


MALFORMED = {
    "a 5000-digit integer": '{"resourceSpans": [], "n": ' + "7" * 5000 + "}",
    "a 5000-digit integer in a span": _span_changed("kind", 0).replace(
        '"kind": 0', '"kind": ' + "7" * 5000
    ),
    "nested 100,000 deep": '{"resourceSpans": [], "n": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "a torn line": json.dumps(_valid_line())[:-40],
    "a trailing comma": '{"resourceSpans": [], "n": [1, 2, ]}',
    "nan in lower case": '{"resourceSpans": [], "n": [nan]}',
    "inf": '{"resourceSpans": [], "n": -inf}',
    "a null list": '{"resourceSpans": null}',
    "a null span": '{"resourceSpans": [{"scopeSpans": [{"spans": [null]}]}]}',
    "a span that is a number": '{"resourceSpans": [{"scopeSpans": [{"spans": [5]}]}]}',
    "spans that are an object": '{"resourceSpans": [{"scopeSpans": [{"spans": {}}]}]}',
    "no resourceSpans": '{"resourceLogs": []}',
    "another key instead of resourceSpans": '{"x": 1}',
    "a ledger line": '{"type": "scope"}',
    "a JSON array": "[]",
    "a name that is a number": _span_changed("name", 7),
    "a start time that is not a number": _span_changed("startTimeUnixNano", "soon"),
    "a start time with a leading zero and 20 digits": _span_changed(
        "startTimeUnixNano", "01772442000000000000"
    ),
    "an end time past year 9999": _span_changed("endTimeUnixNano", "253402300800000000000"),
    "attributes that are an object": _span_changed("attributes", {}),
    "an attribute key that is a number": _span_changed("attributes", [{"key": 5, "value": {}}]),
    "an attribute without a key": _span_changed("attributes", [{"value": {}}]),
    "a purpose that is a number": _attributes_changed({"purposeful.purpose": {"stringValue": 5}}),
    "a purpose that is an int": _attributes_changed({"purposeful.purpose": {"intValue": "5"}}),
    "no purpose": _attributes_changed({"purposeful.purpose": None}),
    "an actor that is an object": _attributes_changed({"purposeful.actor.id": {"stringValue": {}}}),
    "a count below zero": _attributes_changed({"purposeful.subjects.count": {"intValue": "-1"}}),
    "a count that is a float": _attributes_changed({"purposeful.denied.count": {"intValue": 1.0}}),
    "a count that is true": _attributes_changed({"purposeful.denied.count": {"intValue": True}}),
    "a count of 20 digits": _attributes_changed(
        {"purposeful.denied.count": {"intValue": "1" * 20}}
    ),
    "no denied count": _attributes_changed({"purposeful.denied.count": None}),
    "fields read that are not strings": _attributes_changed(
        {"purposeful.fields_read": {"arrayValue": {"values": [{"intValue": "1"}]}}}
    ),
    "fields read that are a string": _attributes_changed(
        {"purposeful.fields_read": {"stringValue": "Case.address"}}
    ),
    "final that is a string": _attributes_changed(
        {"purposeful.scope.final": {"boolValue": "true"}}
    ),
    "a part without its id": _attributes_changed({"purposeful.scope.id": None}),
    "an empty id on a part": _attributes_changed(
        {"purposeful.scope.id": {"stringValue": ""}, "purposeful.scope.part": {"intValue": "1"}}
    ),
    "an index past the fields read": _attributes_changed(
        {
            "purposeful.subjects": {"arrayValue": {"values": [{"stringValue": PEOPLE[0]}]}},
            "purposeful.subjects.fields": {"arrayValue": {"values": [{"stringValue": "0 9"}]}},
        }
    ),
    "an index that is not a number": _attributes_changed(
        {
            "purposeful.subjects": {"arrayValue": {"values": [{"stringValue": PEOPLE[0]}]}},
            "purposeful.subjects.fields": {"arrayValue": {"values": [{"stringValue": "-1"}]}},
        }
    ),
    "reads for more people than listed": _attributes_changed(
        {"purposeful.subjects.fields": {"arrayValue": {"values": [{"stringValue": ""}] * 2}}}
    ),
    "half a call site": _attributes_changed({"code.file.path": {"stringValue": "app.py"}}),
    "an upstream scope id that is not hex": _attributes_changed(
        {
            "purposeful.scope.upstream.service": {"stringValue": "intake"},
            "purposeful.scope.upstream.id": {"stringValue": "not hex"},
        }
    ),
}


def _with_event(event: dict[str, Any]) -> str:
    line = _valid_line()
    line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["events"] = [event]
    return json.dumps(line)


MALFORMED |= {
    "a refusal of 0 reads": _with_event(
        {
            "name": "purposeful.denied",
            "attributes": [
                attribute("purposeful.record_type", "Case"),
                attribute("purposeful.field", "x"),
                attribute("purposeful.reason_codes", []),
                attribute("purposeful.reads.count", 0),
            ],
        }
    ),
    "a refusal without its field": _with_event(
        {
            "name": "purposeful.would_deny",
            "attributes": [
                attribute("purposeful.record_type", "Case"),
                attribute("purposeful.reason_codes", []),
            ],
        }
    ),
    "a disclosure without its statements": _with_event(
        {
            "name": "purposeful.disclosure",
            "attributes": [
                attribute("purposeful.disclosure.id", "d"),
                attribute("purposeful.disclosure.agreement", "A"),
                attribute("purposeful.disclosure.recipient", "MSD"),
                attribute("purposeful.disclosure.record_type", "Case"),
                attribute("purposeful.disclosure.fields", []),
            ],
        }
    ),
    "an event that is a string": _with_event("purposeful.denied"),  # type: ignore[arg-type]
}


def _error(paths: Sequence[Path], *, in_sql: bool) -> str:
    with pytest.raises(ReportInputError) as raised:
        tables(paths, in_sql=in_sql)
    return str(raised.value)


@pytest.mark.parametrize("line", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_input_is_the_validating_readers_error_naming_file_and_line(
    tmp_path: Path, line: str
) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text(
        json.dumps(_valid_line()) + "\n" + line + "\n" + json.dumps(_valid_line()) + "\n"
    )
    message = _error([path], in_sql=True)
    assert message == _error([path], in_sql=False)
    assert message.startswith(f"{path}:2:")
    assert "7777" not in message
    assert "[[[" not in message


def _valid_line_text() -> str:
    return json.dumps(_valid_line())


ACCEPTED = {
    "NaN, which Python's json reads": '{"resourceSpans": [], "n": [NaN, Infinity, -Infinity]}',
    "a key written twice (the last wins)": _attributes_changed(
        {"purposeful.actor.id": {"stringValue": "first"}}
    ).replace(
        '{"key": "purposeful.actor.id"',
        '{"key": "purposeful.actor.id", "value": {"stringValue": "second"}}, '
        '{"key": "purposeful.actor.id"',
        1,
    ),
    "a null where nothing is read": '{"resourceSpans": [], "n": null}',
    "a key written with escapes": _valid_line_text().replace(
        '"purposeful.purpose"', '"purposeful\\u002epurpose"'
    ),
    "a count with a leading zero": _attributes_changed(
        {"purposeful.denied.count": {"intValue": "00"}}
    ),
    "a string holding a trailing comma": _attributes_changed(
        {"purposeful.actor.id": {"stringValue": "a, ]"}}
    ),
}


@pytest.mark.parametrize("line", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_what_the_validating_reader_accepts_makes_the_same_tables(
    tmp_path: Path, line: str
) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text(_valid_line_text() + "\n" + line + "\n")
    assert tables([path], in_sql=True, sure=False) == tables([path], in_sql=False)


def test_a_file_that_starts_with_a_byte_order_mark_is_refused_at_its_first_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _valid_line_text().encode() + b"\n")
    message = _error([path], in_sql=True)
    assert message == _error([path], in_sql=False)
    assert message.startswith(f"{path}:1:")


def test_a_file_with_a_malformed_line_leaves_the_files_before_and_after_in_sql(
    tmp_path: Path,
) -> None:
    """Each file goes its own way: a file that needs the validating reader does not send
    the others to it, and parts of one scope still join across them."""
    scope = HandScope("0a09", (HandPart(reads={PEOPLE[0]: frozenset({"Case.address"})}),) * 3)
    paths = []
    for n in range(3):
        path = tmp_path / f"traces-{n}.jsonl"
        text = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span(scope, n)]}]}]})
        path.write_text(
            text
            + (
                "\n"
                if n != 1
                else "\n" + MALFORMED["nan in lower case"].replace("nan", "NaN") + "\n"
            )
        )
        paths.append(path)
    taken: list[bool] = []
    original = Engine._read_in_sql

    def read(self: Engine, rows: Any, path: Path) -> bool:
        taken.append(original(self, rows, path))
        return taken[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Engine, "_read_in_sql", read)
        found = tables(paths, in_sql=True, sure=False)
    assert taken == [True, False, True]
    assert found == tables(paths, in_sql=False)
    assert [row[2] for row in found["scopes"]] == [1]  # one scope, complete


def test_a_directory_given_as_a_trace_file_is_the_validating_readers_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(ReportInputError, match="is a directory"):
        ReportDatabase.from_files([tmp_path])


def test_whole_scopes_are_placed_as_runs_and_parts_one_by_one() -> None:
    rows = ShapeRows()
    rows.add_placed("traces.jsonl", "OTLP JSON", ())
    placed = rows.place(
        [(None, 0, True), ("0a01", 0, False), (None, 0, True), ("0a02", 0, True), ("0a01", 1, True)]
    )
    # (first index, how many, first scope key, first settle order)
    assert placed.runs == [(0, 1, 1, 1), (2, 2, 3, 2)]
    assert placed.parts == [(1, 2, True), (4, 2, False)]
    assert [i for i, _ in placed.in_parts] == [1, 4]
    assert rows.rows["scopes"] == [(2, True, 4)]  # the runs' rows are the engine's to add
