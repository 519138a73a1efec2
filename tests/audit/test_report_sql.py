"""The report on DuckDB: the same `Report`, and the same text, as the streaming report on
generated span sets and ledgers; Parquet archives; exports; ledgers verified first."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _audit_inputs import (
    MONDAY,
    HandPart,
    HandScope,
    attribute,
    hand_parts,
    ledger_line,
    ledger_text,
    span,
    traces_text,
)
from purposeful.audit.history import SubjectQuery
from purposeful.audit.report import ReportDatabase, build_report, render_html, render_text
from purposeful.audit.report.exports import write_csv, write_parquet
from purposeful.audit.report.shape import (
    decode_reasons,
    encode_reasons,
    from_stored_text,
    stored_text,
)
from purposeful.cli import main
from purposeful.errors import ReportInputError

PEOPLE = tuple(f"{key}:{n:032x}" for key in ("0a0b0c0d", "1a2b3c4d") for n in (1, 2, 3))
NAMES = ("Case.diagnosis", "Case.address", "Note.text", "plain", "Case.nom\u00e9")


@st.composite
def hand_scopes(draw: st.DrawFn) -> HandScope:
    purpose = draw(st.sampled_from(["case-management", "funder-reporting", "", None]))
    scoped = purpose is not None
    return HandScope(
        scope_id=draw(st.sampled_from(["s1", "s2", "s3", "s4"])),
        parts=tuple(draw(st.lists(hand_parts(NAMES, PEOPLE), min_size=1, max_size=3))),
        opened=MONDAY + timedelta(minutes=draw(st.integers(0, 4 * 24 * 60))),
        purpose=purpose or None if purpose is None else purpose or "case-management",
        actor=draw(st.sampled_from(["staff-1", "staff-2", ""])) if scoped else None,
        role=draw(st.sampled_from(["caseworker", "auditor", None])) if scoped else None,
        final=draw(st.booleans()),
        site=None if scoped else draw(st.sampled_from([None, ("app.py", "run", 7)])),
    )


@st.composite
def inputs(draw: st.DrawFn) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Spans and ledger lines of generated scopes, their parts in a drawn order."""
    scopes = draw(st.lists(hand_scopes(), max_size=6))
    parts = [(scope, n) for scope in scopes for n in range(len(scope.parts))]
    order = draw(st.permutations(range(len(parts))))
    chosen = [parts[i] for i in order]
    # either edition of the conventions, span by span, as a store holding both has them
    spans = [span(scope, n, edition=draw(st.sampled_from([1, 2]))) for scope, n in chosen]
    for i, found in enumerate(spans):
        if draw(st.booleans()):
            found["events"].append(disclosure_event(f"d{i}", draw(st.sampled_from(["MSD", "IR"]))))  # type: ignore[attr-defined]
    lines = [ledger_line(scope, n, seq) for seq, (scope, n) in enumerate(chosen, start=1)]
    return spans, lines


def disclosure_event(disclosure_id: str, recipient: str) -> dict[str, object]:
    return {
        "timeUnixNano": "0",
        "name": "purposeful.disclosure",
        "attributes": [
            attribute("purposeful.disclosure.id", disclosure_id),
            attribute("purposeful.disclosure.agreement", "AISA-2026"),
            attribute("purposeful.disclosure.recipient", recipient),
            attribute("purposeful.disclosure.record_type", "Case"),
            attribute("purposeful.disclosure.fields", ["address", "diagnosis"]),
            attribute("purposeful.disclosure.statements.count", 1),
        ],
    }


def both(
    traces: list[Path], ledgers: list[Path], subject: SubjectQuery | None = None
) -> tuple[str, str]:
    streamed = build_report(traces, ledgers, subject=subject)
    with ReportDatabase.from_files(traces, ledgers) as database:
        queried = database.report(subject=subject)
    if subject is None:
        assert queried == streamed
    else:  # about one person, the engine asks only for what the page shows
        assert queried.subject == streamed.subject
        assert (queried.sources, queried.scopes, queried.refusals, queried.would_deny) == (
            streamed.sources,
            streamed.scopes,
            streamed.refusals,
            streamed.would_deny,
        )
        assert (queried.accesses, queried.busiest_actors, queried.timeline) == ((), (), ())
    assert render_html(queried) == render_html(streamed)
    return render_text(queried), render_text(streamed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(found=inputs(), person=st.sampled_from(PEOPLE))
def test_duckdb_and_the_streaming_report_agree_on_generated_spans_and_ledgers(
    tmp_path_factory: pytest.TempPathFactory,
    found: tuple[list[dict[str, object]], list[dict[str, object]]],
    person: str,
) -> None:
    spans, lines = found
    folder = tmp_path_factory.mktemp("generated")
    traces = folder / "traces.jsonl"
    traces.write_text(traces_text(spans[: len(spans) // 2]) + traces_text(spans[len(spans) // 2 :]))
    ledger = folder / "audit.jsonl"
    ledger.write_text(ledger_text(lines))
    queried, streamed = both([traces], [ledger])
    assert queried == streamed
    queried, streamed = both([traces], [ledger], SubjectQuery((person,)))
    assert queried == streamed


def test_disclosures_are_a_table_by_recipient_not_other_events(tmp_path: Path) -> None:
    scope = HandScope("s1", (HandPart(reads={PEOPLE[0]: frozenset({"Case.address"})}),))
    found = span(scope, 0)
    found["events"] = [disclosure_event("d1", "MSD"), disclosure_event("d2", "MSD")]
    traces = tmp_path / "traces.jsonl"
    traces.write_text(traces_text([found]))
    # another scope: a part in both kinds of file is counted once, from the ledger
    line = ledger_line(attrs.evolve(scope, scope_id="s2"), 0)
    line["disclosures"] = [
        {
            a["key"]: next(iter(a["value"].values()))
            for a in disclosure_event("d3", "IR")["attributes"]
        }  # type: ignore[index]
    ]
    line["disclosures"][0]["purposeful.disclosure.fields"] = ["address"]
    line["disclosures"][0]["purposeful.disclosure.statements.count"] = 0
    ledger = tmp_path / "audit.jsonl"
    ledger.write_text(ledger_text([line]))

    text, _ = both([traces], [ledger])
    table = text.split("Disclosures to other agencies\n")[1].split("\n\n")[1]
    rows = [row.split() for row in table.splitlines()[1:]]
    assert rows == [
        ["IR", "AISA-2026", "service-delivery.case-management", "Case", "1", "0", "address"],
        [
            "MSD",
            "AISA-2026",
            "service-delivery.case-management",
            "Case",
            "2",
            "2",
            "address,",
            "diagnosis",
        ],
    ]
    assert "other events" not in text


def test_a_malformed_disclosure_names_its_line(tmp_path: Path) -> None:
    scope = HandScope("s1", (HandPart(),))
    line = ledger_line(scope, 0)
    line["disclosures"] = [{"purposeful.disclosure.id": "d1"}]
    ledger = tmp_path / "audit.jsonl"
    ledger.write_text(ledger_text([line]))
    with pytest.raises(ReportInputError, match=r"audit\.jsonl:2: disclosures\[0\]"):
        ReportDatabase.from_files((), [ledger])


@pytest.mark.parametrize(
    "text",
    ['{"resourceSpans": [], "n": ' + "7" * 5000 + "}", "[" * 100_000 + "]" * 100_000],
    ids=["a 5000-digit integer", "deeply nested"],
)
@pytest.mark.parametrize("engine", ["duckdb", "stream"])
def test_hostile_json_is_a_report_input_error_with_the_line_on_both_engines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, engine: str
) -> None:
    traces = tmp_path / "traces.jsonl"
    traces.write_text(traces_text([]) + text + "\n")
    assert main(["audit", "report", str(traces), "--engine", engine]) == 2
    err = capsys.readouterr().err
    assert f"{traces}:2:" in err
    assert "Traceback" not in err
    assert "7777" not in err


def hand_inputs(tmp_path: Path) -> tuple[Path, Path]:
    scopes = [
        HandScope("s1", (HandPart(reads={PEOPLE[0]: frozenset({"Case.address"})}),)),
        HandScope(
            "s2",
            (
                HandPart(reads={PEOPLE[1]: frozenset({"Case.diagnosis"})}),
                HandPart(refusals=(("would-deny", "Case.notes", 2),)),
            ),
            actor="staff-9",
            final=False,
        ),
    ]
    spans = [span(scope, n) for scope in scopes for n in range(len(scope.parts))]
    traces = tmp_path / "traces.jsonl"
    traces.write_text(traces_text(spans))
    ledger = tmp_path / "audit.jsonl"
    ledger.write_text(ledger_text([ledger_line(scopes[0], 0)]))
    return traces, ledger


def test_convert_counts_one_scope_as_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, ledger = hand_inputs(tmp_path)
    archive = tmp_path / "one"
    assert main(["audit", "convert", "--ledger", str(ledger), "--to", str(archive)]) == 0
    assert capsys.readouterr().out == f"converted: {archive} (1 scope)\n"


def test_a_parquet_archive_answers_as_the_files_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traces, ledger = hand_inputs(tmp_path)
    archive = tmp_path / "archive"
    assert (
        main(["audit", "convert", str(traces), "--ledger", str(ledger), "--to", str(archive)]) == 0
    )
    # s1 is in both files: counted once, from the ledger
    assert capsys.readouterr().out == f"converted: {archive} (2 scopes)\n"
    assert all(oct(file.stat().st_mode)[-3:] == "600" for file in archive.iterdir())

    assert main(["audit", "report", str(traces), "--ledger", str(ledger)]) == 0
    from_files = capsys.readouterr().out
    assert main(["audit", "report", "--from", str(archive)]) == 0
    assert capsys.readouterr().out == from_files
    assert "Ledgers: NOT verified" in from_files

    for argv in (
        ["--subject", "x", "--key-file", "k"],  # not a valid key file: exit 2 before reading
        [str(traces)],
    ):
        assert main(["audit", "report", "--from", str(archive), *argv]) == 2
    query = SubjectQuery((PEOPLE[1],))
    with ReportDatabase.from_parquet(archive) as database:
        answer = database.report(subject=query).subject
    assert answer is not None
    assert [(a.actor_id, a.fields_read, a.parts_missing) for a in answer.accesses] == [
        ("staff-9", ("Case.diagnosis",), True)
    ]
    assert answer == build_report([traces], [ledger], subject=query).subject


def test_converting_into_a_directory_with_files_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traces, _ = hand_inputs(tmp_path)
    assert main(["audit", "convert", str(traces), "--to", str(tmp_path)]) == 2
    assert "not an empty directory" in capsys.readouterr().err


def test_a_directory_that_is_not_an_archive_is_a_report_input_error(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match=r"has no sources\.parquet"):
        ReportDatabase.from_parquet(tmp_path)


def test_csv_and_parquet_exports_hold_each_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traces, _ = hand_inputs(tmp_path)
    csvs, parquets = tmp_path / "csv", tmp_path / "parquet"
    assert (
        main(["audit", "report", str(traces), "--csv", str(csvs), "--parquet", str(parquets)]) == 0
    )
    names = {
        "sources",
        "accesses",
        "refusals",
        "disclosures",
        "busiest_actors",
        "unscoped_sites",
        "timeline",
    }
    assert {file.stem for file in csvs.iterdir()} == names
    assert {file.stem for file in parquets.iterdir()} == names
    with (csvs / "refusals.csv").open(newline="") as file:
        rows = list(csv.reader(file))
    assert rows == [
        ["outcome", "purpose", "record_type", "field", "reasons", "reads"],
        [
            "would-deny",
            "service-delivery.case-management",
            "Case",
            "notes",
            "purpose-not-declared",
            "2",
        ],
    ]
    with ReportDatabase() as database:
        found = database.query(
            f"SELECT actor, scopes FROM read_parquet('{parquets / 'accesses.parquet'}') "
            "ORDER BY actor"
        )
    assert found == [("staff-0042", 1), ("staff-9", 1)]
    assert main(["audit", "report", str(traces), "--csv", str(csvs)]) == 2  # not empty now


def test_the_answer_marks_what_enforce_mode_would_refuse_on_the_page_and_in_the_exports(
    tmp_path: Path,
) -> None:
    """A monitor-mode scope in two parts: the purpose's would-deny on Case.notes, sent with
    part 0 (another person's read), covers the person's read of it in part 1; the page,
    the CSV and Parquet exports and an archive of the inputs all say so."""
    scope = HandScope(
        "s9",
        (
            HandPart(
                reads={PEOPLE[1]: frozenset({"Case.notes"})},
                refusals=(("would-deny", "Case.notes", 1),),
            ),
            HandPart(reads={PEOPLE[0]: frozenset({"Case.notes", "Case.address"})}),
        ),
    )
    traces = tmp_path / "traces.jsonl"
    traces.write_text(traces_text([span(scope, n) for n in range(2)]))
    subject = SubjectQuery((PEOPLE[0],))
    mark = "Case.notes (read in monitor mode: enforce mode would refuse)"
    with ReportDatabase.from_files([traces]) as database:
        report = database.report(subject=subject)
        database.to_parquet(tmp_path / "archive")
    assert report.subject is not None
    (access,) = report.subject.accesses
    assert access.fields_would_deny == ("Case.notes",)
    assert f"Case.address, {mark}" in render_text(report)
    assert f"Case.address, {mark}" in render_html(report)
    write_csv(report, tmp_path / "csv")
    write_parquet(report, tmp_path / "parquet")
    with (tmp_path / "csv" / "subject_accesses.csv").open(newline="") as file:
        (row,) = csv.DictReader(file)
    assert (row["fields_read"], row["fields_would_deny"]) == (
        "Case.address, Case.notes",
        "Case.notes",
    )
    with ReportDatabase() as database:
        found = database.query(
            "SELECT fields_would_deny FROM "
            f"read_parquet('{tmp_path / 'parquet' / 'subject_accesses.parquet'}')"
        )
    assert found == [("Case.notes",)]
    with ReportDatabase.from_parquet(tmp_path / "archive") as archive:
        assert archive.report(subject=subject).subject == report.subject


def test_ledgers_are_verified_first_with_a_public_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import purposeful
    from _records import CASE_MANAGEMENT, CASEWORKER, case
    from purposeful.audit import Ledger, load_signing_key

    assert main(["keys", "new", str(tmp_path / "keys")]) == 0
    ledger_path = tmp_path / "audit.jsonl"
    ledger = Ledger(ledger_path, signing_key=load_signing_key(tmp_path / "keys/signing-key.pem"))
    with purposeful.configured(sinks=[ledger]):
        for _ in range(2):
            with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
                _ = case().diagnosis
    ledger.close()
    public = tmp_path / "keys/signing-key.pub.pem"
    capsys.readouterr()

    for engine in ("duckdb", "stream"):
        argv = ["audit", "report", "--ledger", str(ledger_path), "--engine", engine]
        assert main([*argv, "--public-key", str(public)]) == 0
        out = capsys.readouterr().out
        assert "Ledgers: verified against their signed checkpoints before this report" in out

    lines = ledger_path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"allowed"', b'"denied"', 1)
    ledger_path.write_bytes(b"".join(lines))
    assert main(["audit", "report", "--ledger", str(ledger_path), "--public-key", str(public)]) == 1
    out = capsys.readouterr().out
    assert f"{ledger_path}:3:" in out
    assert "No report" in out
    assert "Accesses" not in out


def test_without_duckdb_the_cli_names_the_extra_and_exits_2(tmp_path: Path) -> None:
    traces, _ = hand_inputs(tmp_path)
    script = (
        "import sys; sys.modules['duckdb'] = None\n"
        "from purposeful.cli import main\n"
        f"sys.exit(main(['audit', 'report', {str(traces)!r}]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "pip install 'purposeful[report]'" in done.stderr
    assert "Traceback" not in done.stderr
    script = script.replace("'report', ", "'report', '--engine', 'stream', ")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_the_report_package_and_the_cli_load_no_duckdb_until_used() -> None:
    script = (
        "import sys, json, purposeful.audit.report, purposeful.cli.audit\n"
        "from purposeful.audit.report import ReportDatabase\n"
        "print(json.dumps('duckdb' in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert json.loads(out) is False


text_with_anything = st.text(st.characters(codec=None, exclude_categories=()), max_size=6)


@given(st.lists(st.lists(text_with_anything, max_size=3).map(tuple), max_size=8))
def test_encoded_reasons_sort_and_group_as_the_tuples_do(reasons: list[tuple[str, ...]]) -> None:
    encoded = [encode_reasons(codes) for codes in reasons]
    assert [decode_reasons(code) for code in encoded] == reasons
    assert sorted(encoded, key=lambda t: stored_text(t).encode()) == [
        encode_reasons(codes) for codes in sorted(reasons)
    ]
    assert len(set(encoded)) == len(set(reasons))


@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=12))
def test_decoding_any_text_gives_what_encodes_to_it_or_a_value_error(text: str) -> None:
    """An archive edited by hand holds any text: each decoder either gives what encodes to
    it or raises ValueError (which a report over an archive answers as damage)."""
    try:
        codes = decode_reasons(text)
    except ValueError:
        pass
    else:
        assert encode_reasons(codes) == text
    if any(0xD800 <= ord(char) <= 0xDFFF for char in text):
        return  # not UTF-8: no engine gives it back
    try:
        restored = from_stored_text(text)
    except ValueError:
        pass
    else:
        assert stored_text(restored) == text


@settings(deadline=None)
@given(st.lists(text_with_anything, max_size=8))
def test_stored_text_is_utf8_and_sorts_in_duckdb_as_python_sorts(texts: list[str]) -> None:
    stored = [stored_text(text) for text in texts]
    assert [from_stored_text(text) for text in stored] == texts
    for text in stored:
        text.encode("utf-8")  # no lone surrogate
    with ReportDatabase() as database:
        database._connection.execute("CREATE TABLE t (v VARCHAR)")
        if stored:
            database._connection.execute(
                "INSERT INTO t SELECT UNNEST(CAST(? AS VARCHAR[]))", [stored]
            )
        found = [row[0] for row in database.query("SELECT v FROM t ORDER BY v")]
    assert found == sorted(texts)


def test_the_docs_hold_the_sql_of_every_figure_as_the_engine_runs_it() -> None:
    from purposeful.audit.report.sql import FIGURES

    page = (Path(__file__).parents[2] / "docs" / "audit-at-scale.md").read_text(encoding="utf-8")
    missing = [name for name, sql in FIGURES.items() if f"```sql\n{sql.strip()}\n```" not in page]
    assert missing == []
