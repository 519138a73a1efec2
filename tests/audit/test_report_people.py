"""The report, per person and per part: which fields were read from whose records, scopes
written in parts joined back into one, aggregated reads outside any scope counted read by
read, and bad input in the new keys named by line, never quoted.

Every input here is written by hand (`_audit_inputs`), in the ledger's format 2 (and 1)
and the OTLP JSON spans of the semantic conventions, so these tests hold the readers to
the formats, not to whatever the writers do today.
"""

from __future__ import annotations

import hashlib
import html
import random
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _audit_inputs import (
    MONDAY,
    HandPart,
    HandScope,
    attribute,
    ledger_line,
    ledger_text,
    ledger_v1_line,
    span,
    traces_text,
    write_ledger,
    write_traces,
)
from purposeful.audit import PseudonymKey
from purposeful.audit.history import SubjectAccess, SubjectQuery
from purposeful.audit.report import (
    BUSIEST_SITES,
    Report,
    ScopeRecord,
    SiteRow,
    build_report,
    read_ledger,
    read_otlp_json,
    render_html,
    render_text,
    render_would_deny_gate,
)
from purposeful.errors import ReportInputError

KEY = PseudonymKey("feed0001", hashlib.sha256(b"purposeful tests: report people").digest())
PEOPLE = ("client-A", "client-B", "client-C", "client-D")
A, B, C, D = (KEY.pseudonym(person) for person in PEOPLE)
MARK = "\u2604"  # put in bad values: found in a message = the value was quoted


def query(person: str) -> SubjectQuery:
    return SubjectQuery.for_subject(person, [KEY])


def reads(**fields: str) -> dict[str, frozenset[str]]:
    """``reads(A="Client.name Client.health_note")``: pseudonym -> fields, by letter."""
    letters = {"A": A, "B": B, "C": C, "D": D}
    return {letters[who]: frozenset(names.split()) for who, names in fields.items()}


def both_reports(
    tmp_path: Path, scopes: list[HandScope], person: str | None = None
) -> tuple[Report, Report]:
    """The report on *scopes* written as a ledger, and as trace files."""
    subject = query(person) if person is not None else None
    ledger = write_ledger(tmp_path / "audit.jsonl", scopes)
    traces = write_traces(tmp_path / "traces.jsonl", scopes)
    return build_report(ledgers=[ledger], subject=subject), build_report([traces], subject=subject)


def one_access(report: Report) -> SubjectAccess:
    assert report.subject is not None
    (access,) = report.subject.accesses
    return access


# --- each person's own fields --------------------------------------------------------------

HEALTH_AND_NAMES = HandScope(
    "0" * 23 + "1",
    (HandPart(reads(A="Client.health_note Client.name", B="Client.name")),),
)


def test_a_persons_history_lists_the_fields_read_from_their_records_not_anyone_elses(
    tmp_path: Path,
) -> None:
    for report in both_reports(tmp_path, [HEALTH_AND_NAMES], "client-B"):
        access = one_access(report)
        assert access.fields_read == ("Client.name",)
        assert access.fields_known
        assert report.subject is not None
        assert report.subject.complete
    for report in both_reports(tmp_path, [HEALTH_AND_NAMES], "client-A"):
        assert one_access(report).fields_read == ("Client.health_note", "Client.name")


def test_the_text_answer_shows_only_the_persons_fields_and_says_it_is_complete(
    tmp_path: Path,
) -> None:
    ledger, _ = both_reports(tmp_path, [HEALTH_AND_NAMES], "client-B")
    text = render_text(ledger)
    assert "health_note" not in text
    assert "Client.name" in text
    said = " ".join(text.split())
    assert "Complete: every scope read says whom it read, and which of this person's" in said
    assert "Fields read are the fields read from this person's records; other people's" in said


def test_a_scope_that_lists_the_person_with_no_fields_read_lists_none(tmp_path: Path) -> None:
    scope = HandScope("s" * 24, (HandPart({A: frozenset(), B: frozenset({"Client.name"})}),))
    for report in both_reports(tmp_path, [scope], "client-A"):
        access = one_access(report)
        assert (access.fields_read, access.fields_known) == ((), True)


def test_the_same_part_reads_alike_from_a_ledger_line_and_a_span(tmp_path: Path) -> None:
    scope = HandScope(
        "ab" * 12,
        (
            HandPart(reads(A="Client.name", C="Case.diagnosis")),
            HandPart(
                reads(A="Client.health_note", B="Client.name"),
                unlisted=2,
                unlisted_fields=frozenset({"Case.address"}),
                refusals=(("would-deny", "Client.region", 1), ("denied", "Case.notes", 1)),
                after=timedelta(seconds=3),
            ),
        ),
        final=False,
    )
    ledger = write_ledger(tmp_path / "audit.jsonl", [scope])
    traces = write_traces(tmp_path / "traces.jsonl", [scope])
    from_ledger = [e for e in read_ledger(ledger) if isinstance(e, ScopeRecord)]
    from_spans = [e for e in read_otlp_json(traces) if isinstance(e, ScopeRecord)]
    assert from_ledger == from_spans
    second = from_ledger[1]
    assert (second.scope_id, second.part, second.final) == ("ab" * 12, 1, False)
    assert second.opened == MONDAY
    assert second.closed == MONDAY + timedelta(seconds=3)
    assert second.subjects == tuple(sorted((A, B)))
    by_person = dict(zip(second.subjects, second.reads or (), strict=True))
    assert by_person == {A: ("Client.health_note",), B: ("Client.name",)}
    assert second.fields_read == (
        "Case.address", "Client.health_note", "Client.name", "Client.region",
    )  # fmt: skip
    assert second.record_types == ("Case", "Client")
    assert (second.subjects_count, second.subjects_overflow) == (4, 2)
    assert (second.denied, second.would_deny) == (1, 1)


# --- older inputs: whom, but not which fields for whom --------------------------------------


def test_an_old_ledger_line_is_read_but_never_gives_another_persons_fields(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    path.write_text(ledger_text([ledger_v1_line(HEALTH_AND_NAMES)], format=1))
    (record,) = [e for e in read_ledger(path) if isinstance(e, ScopeRecord)]
    assert (record.scope_id, record.part, record.final, record.reads) == (None, 0, True, None)
    assert record.fields_read == ("Client.health_note", "Client.name")

    report = build_report(ledgers=[path], subject=query("client-B"))
    access = one_access(report)
    assert access.fields_known is False
    assert access.fields_read == ()  # the scope's fields may be anyone's: none is listed
    assert report.subject is not None
    assert report.subject.unitemised_scopes == 1
    assert not report.subject.complete
    text = render_text(report)
    said = " ".join(text.split())
    assert "health_note" not in text.split("Who read the person")[1]
    assert "(not all recorded for this person)" in text
    assert (
        "Incomplete: 1 scope lists this person but does not say which fields it read for whom"
        in said
    )
    assert "Complete:" not in said


def test_an_old_span_without_per_person_fields_is_read_like_an_old_ledger_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.jsonl"
    path.write_text(traces_text([span(HEALTH_AND_NAMES, 0, per_person=False)]))
    report = build_report([path], subject=query("client-B"))
    access = one_access(report)
    assert (access.fields_known, access.fields_read) == (False, ())
    assert report.subject is not None
    assert report.subject.unitemised_scopes == 1


# --- parts ---------------------------------------------------------------------------------

LONG = HandScope(
    "10" * 12,
    (
        HandPart(reads(A="Client.name"), after=timedelta(minutes=30)),
        HandPart(
            reads(A="Client.name", B="Case.diagnosis"),
            refusals=(("would-deny", "Client.health_note", 1),),
            after=timedelta(minutes=90),
        ),
        HandPart(reads(A="Client.region"), after=timedelta(minutes=150)),
    ),
)
SHORT = HandScope("20" * 12, (HandPart(reads(C="Client.name")),))


def check_long_and_short(report: Report) -> None:
    """What the report on `LONG` and `SHORT` must say, in whatever order they came."""
    assert report.scopes == 2
    assert report.incomplete_scopes == 0
    assert report.would_deny == 1
    assert [(row.record_type, row.scopes, row.fields_read) for row in report.accesses] == [
        ("Case", 1, ("diagnosis",)),
        ("Client", 2, ("health_note", "name", "region")),
    ]
    (actor,) = report.busiest_actors
    assert (actor.scopes, actor.people_at_least, actor.people_at_most) == (2, 3, 3)
    # by the opening, however late the parts were written
    assert [(bucket.start.hour, bucket.scopes) for bucket in report.timeline] == [(9, 2)]
    assert report.last == MONDAY + timedelta(minutes=150)
    assert sum(source.scopes for source in report.sources) == 2


def test_a_scope_written_in_parts_counts_once_everywhere(tmp_path: Path) -> None:
    for report in both_reports(tmp_path, [LONG, SHORT]):
        check_long_and_short(report)
    text = render_text(both_reports(tmp_path, [LONG, SHORT])[0])
    assert "Scopes: 2\n" in text
    assert "missing parts" not in text


def test_parts_join_in_any_order_and_across_files(tmp_path: Path) -> None:
    lines = [ledger_line(LONG, number) for number in (2, 0)]
    first = tmp_path / "newer.jsonl"
    first.write_text(ledger_text([*lines, ledger_line(SHORT, 0)]))
    second = tmp_path / "older.jsonl"
    second.write_text(ledger_text([ledger_line(LONG, 1)]))
    report = build_report(ledgers=[first, second], subject=query("client-A"))
    check_long_and_short(report)
    assert [source.scopes for source in report.sources] == [2, 0]
    access = one_access(report)
    assert access.fields_read == ("Client.name", "Client.region")
    assert access.closed == MONDAY + timedelta(minutes=150)
    assert not access.parts_missing
    assert report.subject is not None
    assert report.subject.complete


def test_a_person_read_in_several_parts_has_the_union_of_their_fields(tmp_path: Path) -> None:
    for report in both_reports(tmp_path, [LONG], "client-A"):
        assert one_access(report).fields_read == ("Client.name", "Client.region")
    for report in both_reports(tmp_path, [LONG], "client-B"):
        assert one_access(report).fields_read == ("Case.diagnosis",)


@pytest.mark.parametrize(
    ("parts", "final"),
    [((0, 1), False), ((0, 2), True), ((1, 2), True)],
    ids=["no-last-part", "a-gap", "no-first-part"],
)
def test_a_scope_missing_parts_is_counted_once_and_noted(
    tmp_path: Path, parts: tuple[int, ...], final: bool
) -> None:
    scope = HandScope(LONG.scope_id, LONG.parts, final=final)
    path = tmp_path / "audit.jsonl"
    path.write_text(ledger_text([ledger_line(scope, number) for number in parts]))

    report = build_report(ledgers=[path], subject=query("client-A"))
    assert (report.scopes, report.incomplete_scopes) == (1, 1)
    access = one_access(report)
    assert access.parts_missing
    assert report.subject is not None
    assert report.subject.incomplete_scopes == 1
    assert not report.subject.complete
    said = " ".join(render_text(report).split())
    assert "Incomplete: 1 scope is missing parts of its record (a process ended abruptly" in said
    assert " +" in render_text(report)

    elsewhere = build_report(ledgers=[path], subject=query("client-D"))
    assert elsewhere.subject is not None
    assert elsewhere.subject.accesses == ()
    assert elsewhere.subject.incomplete_scopes == 1  # it may have read D in a missing part
    assert not elsewhere.subject.complete

    said = " ".join(render_text(build_report(ledgers=[path])).split())
    assert "Note: 1 scope is missing parts of its record (no last part, or a gap)" in said


def test_a_part_that_read_more_people_than_it_lists_leaves_the_answer_incomplete(
    tmp_path: Path,
) -> None:
    scope = HandScope(
        "30" * 12,
        (
            HandPart(reads(A="Client.name")),
            HandPart(reads(B="Client.name"), unlisted=5, unlisted_fields=frozenset({"Case.notes"})),
        ),
    )
    for report in both_reports(tmp_path, [scope], "client-A"):
        assert one_access(report).fields_read == ("Client.name",)
        assert report.subject is not None
        assert report.subject.overflowed_scopes == 1  # A may be among the five
        assert not report.subject.complete


def test_a_scope_whose_parts_list_nobody_is_unlisted_not_overflowed(tmp_path: Path) -> None:
    scope = HandScope(
        "40" * 12, (HandPart(unlisted=3, unlisted_fields=frozenset({"Client.name"})),)
    )
    for report in both_reports(tmp_path, [scope], "client-A"):
        assert report.subject is not None
        assert (report.subject.unlisted_scopes, report.subject.overflowed_scopes) == (1, 0)


# --- reads outside any scope, aggregated -----------------------------------------------------


def unscoped(scope_id: str, site: tuple[str, str, int] | None, *refusals: Any) -> HandScope:
    return HandScope(
        scope_id,
        (HandPart(refusals=tuple(refusals)),),
        purpose=None,
        actor=None,
        role=None,
        site=site,
    )


LIST_VIEW = ("app/views.py", "list_clients", 42)
EXPORT = ("app/export.py", "nightly_export", 7)
AGGREGATED = [
    unscoped("a1" * 12, LIST_VIEW, ("would-deny", "Client.name", 10_000)),
    unscoped("a2" * 12, EXPORT, ("would-deny", "Client.region", 2), ("denied", "Case.notes", 1)),
    unscoped("a3" * 12, LIST_VIEW, ("would-deny", "Client.region", 5)),
]


def test_aggregated_would_deny_reads_count_every_read(tmp_path: Path) -> None:
    for report in both_reports(tmp_path, AGGREGATED):
        assert (report.scopes, report.unscoped_reads) == (3, 3)
        assert (report.would_deny, report.denied) == (10_007, 1)
        assert (report.unitemised_would_deny, report.unitemised_denied) == (0, 0)
        assert [(row.field, row.count) for row in report.would_deny_rows] == [
            ("name", 10_000), ("region", 7),
        ]  # fmt: skip
        assert sum(bucket.would_deny for bucket in report.timeline) == 10_007
        gate = render_would_deny_gate(report)
        assert "failed, 10007 would-deny decisions" in gate
        assert gate.splitlines()[4].split()[-1] == "10000"


def test_reads_outside_any_scope_are_tabled_by_call_site(tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"  # a read outside any scope, from before call sites
    old.write_text(traces_text([span(unscoped("b" * 24, None, ("would-deny", "Case.x", 1)), 0)]))
    ledger, traces = both_reports(tmp_path, AGGREGATED)
    assert (
        ledger.unscoped_sites
        == traces.unscoped_sites
        == (
            SiteRow(LIST_VIEW, ("Client.name", "Client.region"), 10_005),
            SiteRow(EXPORT, ("Case.notes", "Client.region"), 3),
        )
    )
    report = build_report([tmp_path / "traces.jsonl", old])
    assert report.unscoped_sites[-1] == SiteRow(None, ("Case.x",), 1)
    table = render_text(report).split("Reads outside any scope, by call site\n")[1]
    rows = [line.split() for line in table.splitlines()[3:6]]
    assert rows == [
        ["app/views.py:42", "list_clients", "Client.name,", "Client.region", "10005"],
        ["app/export.py:7", "nightly_export", "Case.notes,", "Client.region", "3"],
        ["(not", "recorded)", "-", "Case.x", "1"],
    ]


def test_the_call_site_table_is_capped_and_escaped(tmp_path: Path) -> None:
    hostile = ("<script>alert(1)</script>.py", 'f"&\x1b[2J', 9)
    scopes = [
        unscoped(f"{n:024x}", (f"app/m{n}.py", "f", n), ("would-deny", "Client.name", n + 1))
        for n in range(BUSIEST_SITES + 1)
    ]
    scopes.append(unscoped("c" * 24, hostile, ("would-deny", "Client.name", 100)))
    path = write_traces(tmp_path / "traces.jsonl", scopes)
    report = build_report([path])
    assert report.unscoped_site_count == BUSIEST_SITES + 2
    assert len(report.unscoped_sites) == BUSIEST_SITES
    assert report.unscoped_sites[0].site == hostile
    assert [row.reads for row in report.unscoped_sites[1:3]] == [BUSIEST_SITES + 1, BUSIEST_SITES]
    text = render_text(report)
    assert "And 2 more call sites, with fewer reads." in text
    assert "\x1b" not in text
    page = render_html(report)
    assert "<script>alert" not in page
    assert html.escape("<script>alert(1)</script>.py:9") in page
    assert "f&quot;&amp;\\x1b[2J" in page


# --- bad input in the new keys -------------------------------------------------------------


def ledger_with(change: Callable[[dict[str, Any]], None]) -> str:
    """A format-2 ledger whose second line is a part of `LONG`, changed by *change*."""
    line = ledger_line(LONG, 1)
    change(line)
    return ledger_text([line])


def put(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda line: line.__setitem__(key, value)


def drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda line: line.__delitem__(key)


def put_in(key: str, inner: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(line: dict[str, Any]) -> None:
        target = line[key][0] if isinstance(line[key], list) else line[key]
        target[inner] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (put("reads", [[0], [7]]), "2: reads[1]: must be an array of indexes into fields"),
        (put("reads", [[0], [MARK]]), "2: reads[1]: must be an array of indexes into fields"),
        (put("reads", [[0], [True]]), "2: reads[1]: must be an array of indexes into fields"),
        (put("reads", [[0], MARK]), "2: reads[1]: must be an array of indexes into fields"),
        (put("reads", [[0]]), "2: reads must have one list for each of subjects (2), not 1"),
        (put("reads", MARK), "2: reads is a JSON string, not an array"),
        (drop("fields"), "2: reads needs subjects and fields beside it"),
        (drop("subjects"), "2: reads needs subjects and fields beside it"),
        (put("fields", [MARK, 1]), "2: fields must be an array of strings"),
        (drop("scope"), "2: has part and final but not scope: a part of a scope needs"),
        (drop("final"), "2: has scope and part but not final"),
        (put("scope", ""), "2: scope must be the scope's id, not empty, on a part"),
        (put("scope", 7), "2: scope must be the scope's id, a string"),
        (put("part", -1), "2: part must be a whole number, 0 or more"),
        (put("part", MARK), "2: part must be a whole number, 0 or more"),
        (put("part", True), "2: part must be a whole number, 0 or more"),
        (put("final", MARK), "2: final must be true or false"),
        (put_in("decisions", "count", 0), "2: decisions[0]: count must be a whole number, 1 or"),
        (put_in("decisions", "count", MARK), "2: decisions[0]: count must be a whole number"),
        (put_in("decisions", "count", True), "2: decisions[0]: count must be a whole number"),
        (put("site", MARK), "2: site: is a JSON string, not an object"),
        (put("site", {"file": "a.py", "function": "f"}), "2: site: line must be a whole"),
        (put("site", {"file": "a.py", "function": "f", "line": MARK}), "2: site: line must be"),
        (put("site", {"file": 3, "function": "f", "line": 1}), "2: site: file is missing or not"),
        (put("site", {"file": "a", "line": 1}), "2: site: function is missing or not a string"),
    ],
)
def test_a_malformed_format_2_ledger_line_is_named_by_line_and_never_quoted(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text(ledger_with(change))
    with pytest.raises(ReportInputError) as caught:
        list(read_ledger(path))
    assert str(caught.value).startswith(f"{path}:{message}")
    assert caught.value.line == 2
    assert MARK not in str(caught.value)
    assert caught.value.__context__ is None


def span_with(change: Callable[[dict[str, Any]], None]) -> str:
    """An OTLP JSON line of one span, part 1 of `LONG`, changed by *change*."""
    changed = span(LONG, 1)
    change(changed)
    return traces_text([changed])


def set_attribute(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(changed: dict[str, Any]) -> None:
        others = [pair for pair in changed["attributes"] if pair["key"] != name]
        changed["attributes"] = others + ([attribute(name, value)] if value is not None else [])

    return change


def set_event_attribute(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(changed: dict[str, Any]) -> None:
        event = changed["events"][0]
        others = [pair for pair in event["attributes"] if pair["key"] != name]
        event["attributes"] = [*others, attribute(name, value)]

    return change


SPAN_AT = "1: resourceSpans[0].scopeSpans[0].spans[0]"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            set_attribute("purposeful.subjects.fields", ["0"]),
            "attributes: purposeful.subjects.fields must have one item for each of "
            "purposeful.subjects (2), not 1",
        ),
        (
            set_attribute("purposeful.subjects", None),
            "attributes: purposeful.subjects.fields must have one item for each of "
            "purposeful.subjects (0), not 2",
        ),
        (
            set_attribute("purposeful.subjects.fields", ["0", f"1 {MARK}"]),
            "attributes: purposeful.subjects.fields[1] must be indexes into "
            "purposeful.fields_read, whole numbers below 3 separated by spaces",
        ),
        (
            set_attribute("purposeful.subjects.fields", ["0", "3"]),
            "attributes: purposeful.subjects.fields[1] must be indexes into",
        ),
        (
            set_attribute("purposeful.subjects.fields", ["0", "-1"]),
            "attributes: purposeful.subjects.fields[1] must be indexes into",
        ),
        (
            set_attribute("purposeful.scope.part", None),
            "attributes: has some of purposeful.scope.id, purposeful.scope.part, "
            "purposeful.scope.final but not all",
        ),
        (
            set_attribute("purposeful.scope.final", MARK),
            "attributes: purposeful.scope.final must be true or false (boolValue), not stringValue",
        ),
        (
            set_attribute("purposeful.scope.part", -1),
            "attributes: purposeful.scope.part must be a whole number, 0 or more",
        ),
        (
            set_attribute("purposeful.scope.id", ""),
            "attributes: purposeful.scope.id must be the scope's id, not empty, on a part",
        ),
        (
            set_event_attribute("purposeful.reads.count", 0),
            "events[0].attributes: purposeful.reads.count must be a whole number, 1 or more",
        ),
        (
            set_event_attribute("purposeful.reads.count", MARK),
            "events[0].attributes: purposeful.reads.count must be a whole number (intValue), "
            "not stringValue",
        ),
        (
            set_attribute("code.file.path", f"app/{MARK}.py"),
            "attributes: has some of code.file.path, code.function.name, code.line.number "
            "but not all",
        ),
    ],
)
def test_malformed_new_span_attributes_are_named_by_place_and_never_quoted(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text(span_with(change))
    with pytest.raises(ReportInputError) as caught:
        list(read_otlp_json(path))
    assert str(caught.value).startswith(f"{path}:{SPAN_AT}.{message}")
    assert MARK not in str(caught.value)
    assert caught.value.__context__ is None


def test_an_empty_scope_id_on_a_scope_written_whole_is_read_as_none(tmp_path: Path) -> None:
    whole = HandScope("", SHORT.parts)
    ledger = write_ledger(tmp_path / "audit.jsonl", [whole, whole])
    traces = write_traces(tmp_path / "traces.jsonl", [whole, whole])
    for records in (read_ledger(ledger), read_otlp_json(traces)):
        scopes = [entry for entry in records if isinstance(entry, ScopeRecord)]
        assert [scope.scope_id for scope in scopes] == [None, None]
    assert build_report([traces], [ledger]).scopes == 4  # two each, not joined


def test_a_ledger_that_went_on_in_format_2_is_read_whole(tmp_path: Path) -> None:
    continued = {"format": "purposeful-ledger/2", "mac": "0" * 64, "seq": 2, "time": "x"}
    lines = [ledger_v1_line(SHORT), continued | {"type": "format"}, ledger_line(LONG, 0)]
    path = tmp_path / "audit.jsonl"
    path.write_text(ledger_text(lines, format=1))
    entries = list(read_ledger(path))
    assert [type(entry).__name__ for entry in entries] == [
        "Ignored", "ScopeRecord", "Ignored", "ScopeRecord",
    ]  # fmt: skip
    report = build_report(ledgers=[path])
    assert report.sources[0].ignored == (("ledger headers", 1), ("ledger format changes", 1))


# --- properties ----------------------------------------------------------------------------

FIELDS = ("Client.name", "Client.health_note", "Case.diagnosis", "Case.address")
PSEUDONYMS = (A, B, C, D)

parts = st.builds(
    HandPart,
    reads=st.dictionaries(
        st.sampled_from(PSEUDONYMS), st.frozensets(st.sampled_from(FIELDS), max_size=3), max_size=4
    ),
    unlisted=st.sampled_from((0, 0, 0, 2)),
    unlisted_fields=st.frozensets(st.sampled_from(FIELDS), max_size=1),
    refusals=st.lists(
        st.tuples(
            st.sampled_from(("denied", "would-deny")),
            st.sampled_from(("Client.region", "Case.notes")),
            st.integers(min_value=1, max_value=10_000),
        ),
        max_size=2,
        unique_by=lambda refusal: refusal[1],
    ).map(tuple),
    after=st.integers(min_value=0, max_value=7200).map(lambda s: timedelta(seconds=s)),
)
scope_lists = st.lists(st.lists(parts, min_size=1, max_size=4), min_size=1, max_size=5).map(
    lambda scopes: [
        HandScope(f"{number:024x}", tuple(scope_parts)) for number, scope_parts in enumerate(scopes)
    ]
)


def expected_answer(scopes: list[HandScope], pseudonym: str) -> dict[str, object]:
    """What the answer about *pseudonym* must say, from the model."""
    accesses, overflowed, unlisted = [], 0, 0
    for scope in scopes:
        listed = [part.reads[pseudonym] for part in scope.parts if pseudonym in part.reads]
        if listed:
            accesses.append(tuple(sorted(frozenset().union(*listed))))
        if any(part.unlisted and not part.reads for part in scope.parts):
            unlisted += 1
        elif any(part.unlisted and pseudonym not in part.reads for part in scope.parts):
            overflowed += 1
    return {"fields": sorted(accesses), "overflowed": overflowed, "unlisted": unlisted}


@settings(max_examples=60)
@given(scopes=scope_lists, seed=st.randoms(use_true_random=False))
def test_every_persons_history_holds_exactly_their_own_fields_however_parts_come(
    scopes: list[HandScope], seed: random.Random
) -> None:
    lines = [ledger_line(scope, n) for scope in scopes for n in range(len(scope.parts))]
    spans = [span(scope, n) for scope in scopes for n in range(len(scope.parts))]
    seed.shuffle(lines)  # parts out of order, scopes interleaved
    with tempfile.TemporaryDirectory() as folder:
        ledger = Path(folder) / "audit.jsonl"
        ledger.write_text(ledger_text(lines))
        traces = Path(folder) / "traces.jsonl"
        traces.write_text(traces_text(spans))
        for person, pseudonym in zip(PEOPLE, PSEUDONYMS, strict=True):
            for report in (
                build_report(ledgers=[ledger], subject=query(person)),
                build_report([traces], subject=query(person)),
            ):
                answer = report.subject
                assert answer is not None
                expected = expected_answer(scopes, pseudonym)
                assert (
                    sorted(access.fields_read for access in answer.accesses) == expected["fields"]
                )
                assert all(access.fields_known for access in answer.accesses)
                assert not any(access.parts_missing for access in answer.accesses)
                assert (answer.overflowed_scopes, answer.unlisted_scopes) == (
                    expected["overflowed"],
                    expected["unlisted"],
                )
                assert answer.incomplete_scopes == answer.unitemised_scopes == 0
                assert answer.complete == (not expected["overflowed"] and not expected["unlisted"])


def by_part(record: ScopeRecord) -> tuple[str, int]:
    return record.scope_id or "", record.part


@settings(max_examples=60)
@given(scopes=scope_lists, seed=st.randoms(use_true_random=False))
def test_parts_join_into_exactly_the_scopes_counts(
    scopes: list[HandScope], seed: random.Random
) -> None:
    lines = [ledger_line(scope, n) for scope in scopes for n in range(len(scope.parts))]
    seed.shuffle(lines)
    with tempfile.TemporaryDirectory() as folder:
        ledger = Path(folder) / "audit.jsonl"
        ledger.write_text(ledger_text(lines))
        traces = write_traces(Path(folder) / "traces.jsonl", scopes)
        joined = write_traces(Path(folder) / "joined.jsonl", scopes, edition=2)
        from_ledger = [e for e in read_ledger(ledger) if isinstance(e, ScopeRecord)]
        reports = [build_report(ledgers=[ledger]), build_report([traces]), build_report([joined])]
        from_spans = [e for e in read_otlp_json(traces) if isinstance(e, ScopeRecord)]
        from_joined = [e for e in read_otlp_json(joined) if isinstance(e, ScopeRecord)]
    assert sorted(from_ledger, key=by_part) == sorted(from_spans, key=by_part)
    assert sorted(from_joined, key=by_part) == sorted(from_spans, key=by_part)
    refusals = [refusal for scope in scopes for part in scope.parts for refusal in part.refusals]
    types_read = [
        {name.rpartition(".")[0] for part in scope.parts for name in part.fields}
        for scope in scopes
    ]
    for report in reports:
        assert report.scopes == len(scopes) == sum(b.scopes for b in report.timeline)
        assert report.incomplete_scopes == 0
        assert report.would_deny == sum(c for o, _, c in refusals if o == "would-deny")
        assert report.denied == sum(c for o, _, c in refusals if o == "denied")
        assert sum(row.count for row in report.refusals) == sum(c for _, _, c in refusals)
        assert (report.unitemised_denied, report.unitemised_would_deny) == (0, 0)
        rows = {row.record_type: row.scopes for row in report.accesses}
        assert rows == {
            record_type: sum(record_type in read for read in types_read)
            for record_type in set().union(*types_read)
        }
        (actor,) = report.busiest_actors
        assert actor.scopes == len(scopes)
        # people read: a person listed with no field read (only asked about) is not one
        read = {
            who
            for scope in scopes
            for part in scope.parts
            for who, fields in part.reads.items()
            if fields
        }
        assert actor.people_at_least >= len(read)
        if not any(part.unlisted for scope in scopes for part in scope.parts):
            assert actor.people_at_least == actor.people_at_most == len(read)
