"""`assess`: what a compromise reached, from the audit trail, on every engine.

The count of people is checked against a brute-force count over the scopes the files were
written from, for any combination of what was compromised; real scopes written by a real
ledger are assessed too, with their declarations.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from _audit_inputs import (
    MONDAY,
    HandPart,
    HandScope,
    attribute,
    hand_parts,
    span,
    traces_text,
    write_ledger,
    write_traces,
)
from _records import CASE_MANAGEMENT, CASEWORKER, SUPERVISOR, Case, case
from purposeful import use
from purposeful.audit import Ledger, PseudonymKey
from purposeful.audit.conventions import SpanAttribute
from purposeful.breach import (
    Compromise,
    Trail,
    assess,
    assessment_document,
    nz_moment,
    nz_window,
    render_text,
)
from purposeful.errors import (
    BreachAssessmentError,
    BreachWindowError,
    ReportInputError,
    UnknownCompromised,
)

KEY = PseudonymKey("b4eac400", hashlib.sha256(b"purposeful tests: breach").digest())
IDS = tuple(f"C-{n}" for n in range(6))
PEOPLE = tuple(KEY.pseudonym(subject) for subject in IDS)
NAMES = ("Client.name", "Client.diagnosis", "CaseNote.text", "Payment.amount")
ACTORS = ("staff-17", "staff-02", "job-1")
ROLES = ("caseworker", "reviewer")
SERVICES = ("referrals-api", "portal")
DAY = timedelta(days=1)


@attrs.frozen
class _Scope:
    """A generated scope and the service that carried its purpose, if any."""

    hand: HandScope
    service: str | None


def _write(path: Path, scopes: list[_Scope], form: str) -> Path:
    if form == "ledger":
        return write_ledger(path, [scope.hand for scope in scopes])
    spans = []
    for scope in scopes:
        for number in range(len(scope.hand.parts)):
            written = span(scope.hand, number)
            if scope.service is not None:
                written["attributes"] += [
                    attribute(SpanAttribute.UPSTREAM_SERVICE, scope.service),
                    attribute(SpanAttribute.UPSTREAM_SCOPE_ID, "0123abcd"),
                ]
            spans.append(written)
    path.write_text(traces_text(spans), encoding="utf-8")
    return path


def _brute_force(scopes: list[_Scope], compromise: Compromise) -> set[str]:
    """The people *compromise* reached, by the rule the assessment documents."""
    found: set[str] = set()
    c = compromise
    for scope in scopes:
        hand = scope.hand
        if c.principals and not (
            hand.actor in c.actors or hand.role in c.roles or scope.service in c.services
        ):
            continue
        for part in hand.parts:
            closed = hand.opened + part.after
            if not (hand.opened < c.end and closed >= c.start):
                continue
            for who, names in part.reads.items():
                if who not in PEOPLE:
                    continue  # not a pseudonym: never a person here
                if not c.record_types or any(
                    name.rpartition(".")[0] in c.record_types for name in names
                ):
                    found.add(who)
    return found


@st.composite
def _scopes(draw: st.DrawFn, form: str) -> list[_Scope]:
    scopes = []
    for number in range(draw(st.integers(0, 6))):
        parts = tuple(draw(st.lists(hand_parts(NAMES, PEOPLE), min_size=1, max_size=3)))
        hand = HandScope(
            f"scope-{number}",
            parts,
            opened=MONDAY + timedelta(hours=draw(st.integers(0, 96))),
            actor=draw(st.sampled_from(ACTORS)),
            role=draw(st.sampled_from(ROLES)),
            final=draw(st.booleans()),
        )
        service = None if form == "ledger" else draw(st.none() | st.sampled_from(SERVICES))
        scopes.append(_Scope(hand, service))
    return scopes


@st.composite
def _compromises(draw: st.DrawFn) -> Compromise:
    start = MONDAY + timedelta(hours=draw(st.integers(-24, 120)))
    end = start + timedelta(hours=draw(st.integers(1, 72)))
    actors = draw(st.frozensets(st.sampled_from(ACTORS), max_size=2))
    roles = draw(st.frozensets(st.sampled_from(ROLES), max_size=1))
    services = draw(st.frozensets(st.sampled_from(SERVICES), max_size=1))
    types = draw(st.frozensets(st.sampled_from(["Client", "CaseNote", "Payment"]), max_size=2))
    if not (actors or roles or services or types):
        actors = frozenset({ACTORS[0]})
    return Compromise(start, end, actors, roles, services, types)


def _known_only(compromise: Compromise, scopes: list[_Scope]) -> Compromise:
    """*compromise* without the roles and record types the trail never recorded (those are
    an error, tested on their own)."""
    roles = {scope.hand.role for scope in scopes}
    types = {
        name.rpartition(".")[0]
        for scope in scopes
        for part in scope.hand.parts
        for name in [*part.fields, *(n for _, n, _ in part.refusals)]
    }
    return attrs.evolve(
        compromise,
        roles=compromise.roles & roles,
        record_types=compromise.record_types & types,
    )


@pytest.mark.parametrize(("engine", "examples"), [("stdlib", 60), ("duckdb", 25)])
def test_the_count_of_people_is_the_brute_force_count_for_any_compromise(
    tmp_path_factory: pytest.TempPathFactory, engine: str, examples: int
) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        form=st.sampled_from(["traces", "ledger"]),
        data=st.data(),
        compromise=_compromises(),
    )
    def check(form: str, data: st.DataObject, compromise: Compromise) -> None:
        scopes = data.draw(_scopes(form))
        if not scopes:
            return
        try:
            compromise = _known_only(compromise, scopes)
        except BreachAssessmentError:
            return  # nothing named is left
        path = _write(tmp_path_factory.mktemp("trail") / f"trail.{form}", scopes, form)
        kwargs = {"traces": [path]} if form == "traces" else {"ledgers": [path]}
        with Trail.from_files(engine=engine, **kwargs) as trail:  # type: ignore[arg-type]
            found = assess(trail, compromise)
        expected = _brute_force(scopes, compromise)
        assert found.pseudonyms == expected
        assert found.people == len(expected)
        assert found.scopes_with_identifiers <= len(scopes)

    check()


def _three_scopes(tmp_path: Path) -> Path:
    scopes = [
        HandScope(
            "s1",
            (HandPart(reads={PEOPLE[0]: frozenset({"Client.name"})}, unlisted=2),),
            actor="staff-17",
        ),
        HandScope(
            "s2",
            (
                HandPart(
                    reads={PEOPLE[1]: frozenset({"CaseNote.text"}), "raw-id": frozenset({"X.y"})},
                    refusals=(("denied", "Client.diagnosis", 2),),
                ),
            ),
            actor="staff-17",
            opened=MONDAY + timedelta(hours=2),
        ),
        HandScope(
            "s3", (HandPart(reads={PEOPLE[2]: frozenset({"Client.name"})}),), actor="staff-02"
        ),
    ]
    return write_traces(tmp_path / "traces.json", scopes)


@pytest.mark.parametrize("engine", ["stdlib", "duckdb"])
def test_an_assessment_says_what_was_read_refused_and_how_exact_the_count_is(
    tmp_path: Path, engine: str
) -> None:
    compromise = Compromise(MONDAY - DAY, MONDAY + DAY, actors={"staff-17"})
    with Trail.from_files([_three_scopes(tmp_path)], engine=engine) as trail:  # type: ignore[arg-type]
        found = assess(trail, compromise)
    assert found.people == 2
    assert found.scopes == 2
    assert found.people_unlisted_at_most == 2
    assert found.scopes_with_identifiers == 1
    assert not found.people_exact
    assert found.record_types == ("CaseNote", "Client", "X")
    assert found.purposes == (CASE_MANAGEMENT,)
    assert [(r.record_type, r.field, r.reads) for r in found.refused] == [
        ("Client", "diagnosis", 2)
    ]
    assert [(r.actor, r.scopes) for r in found.run_by] == [("staff-17", 2)]
    assert found.first_read == MONDAY
    assert found.window_outside_trail  # the window starts a day before the trail
    assert "raw-id" not in repr(found)
    assert PEOPLE[0] not in repr(found)


def test_record_types_narrow_the_people_to_those_whose_records_of_them_were_read(
    tmp_path: Path,
) -> None:
    compromise = Compromise(
        MONDAY - DAY, MONDAY + DAY, actors={"staff-17"}, record_types={"CaseNote"}
    )
    with Trail.from_files([_three_scopes(tmp_path)], engine="stdlib") as trail:
        found = assess(trail, compromise)
    assert found.pseudonyms == {PEOPLE[1]}
    assert found.fields == ("CaseNote.text",)
    assert found.refused == ()


def test_record_types_alone_reach_every_read_of_them_in_the_window(tmp_path: Path) -> None:
    compromise = Compromise(MONDAY - DAY, MONDAY + DAY, record_types={"Client"})
    with Trail.from_files([_three_scopes(tmp_path)], engine="stdlib") as trail:
        found = assess(trail, compromise)
    assert found.pseudonyms == {PEOPLE[0], PEOPLE[2]}
    assert {r.actor for r in found.run_by} == {"staff-17", "staff-02"}


def test_a_window_that_misses_every_scope_finds_nobody(tmp_path: Path) -> None:
    compromise = Compromise(MONDAY + 10 * DAY, MONDAY + 11 * DAY, actors={"staff-17"})
    with Trail.from_files([_three_scopes(tmp_path)], engine="stdlib") as trail:
        found = assess(trail, compromise)
    assert (found.people, found.scopes, found.first_read) == (0, 0, None)
    assert found.window_outside_trail
    assert found.window_misses_trail
    # the page must not call the 0 exact, nor say only part of the window is unseen
    page = " ".join(render_text(assessment_document(found)).split())
    assert "0 people whose records were read or disclosed (not known: no part" in page
    assert "exact" not in page
    assert "part of the window is outside it" not in page
    assert "no part of the window is in it, so nothing in the window can be seen" in page


def test_a_window_ending_as_the_trail_begins_misses_it(tmp_path: Path) -> None:
    """The window's end is not in it: a scope opened at that moment is outside it."""
    path = _three_scopes(tmp_path)
    with Trail.from_files([path], engine="stdlib") as trail:
        first = assess(
            trail, Compromise(MONDAY - DAY, MONDAY + DAY, actors={"staff-17"})
        ).trail_from
        assert first is not None
        found = assess(trail, Compromise(first - DAY, first, actors={"staff-17"}))
    assert (found.people, found.scopes) == (0, 0)
    assert found.window_misses_trail


def test_a_window_partly_in_the_trail_is_not_one_that_misses_it(tmp_path: Path) -> None:
    compromise = Compromise(MONDAY - DAY, MONDAY + DAY, actors={"staff-17"})
    with Trail.from_files([_three_scopes(tmp_path)], engine="stdlib") as trail:
        found = assess(trail, compromise)
    assert found.window_outside_trail
    assert not found.window_misses_trail
    page = " ".join(render_text(assessment_document(found)).split())
    assert "part of the window is outside it, and unseen" in page


def test_scopes_that_list_nobody_make_the_count_a_lower_bound(tmp_path: Path) -> None:
    scope = HandScope("s1", (HandPart(reads={PEOPLE[0]: frozenset({"Client.name"})}),))
    written = span(scope, 0)
    names = {SpanAttribute.SUBJECTS, SpanAttribute.SUBJECTS_COUNT, SpanAttribute.SUBJECTS_FIELDS}
    written["attributes"] = [a for a in written["attributes"] if a["key"] not in names]
    path = tmp_path / "traces.json"
    path.write_text(traces_text([written]), encoding="utf-8")
    with Trail.from_files([path], engine="stdlib") as trail:
        found = assess(trail, Compromise(MONDAY, MONDAY + DAY, roles={"caseworker"}))
    assert (found.people, found.scopes_listing_nobody, found.people_exact) == (0, 1, False)


def test_actors_and_services_the_trail_never_recorded_are_named_as_blind_spots(
    tmp_path: Path,
) -> None:
    compromise = Compromise(MONDAY, MONDAY + DAY, actors={"staff-99"}, services={"portal"})
    with Trail.from_files([_three_scopes(tmp_path)], engine="stdlib") as trail:
        found = assess(trail, compromise)
    assert found.never_seen == ("actor staff-99", "service portal")
    assert found.people == 0


@pytest.mark.parametrize(
    ("asked", "suggested"),
    [({"roles": {"casewrker"}}, "'caseworker'"), ({"record_types": {"Clent"}}, "'Client'")],
)
def test_an_unknown_role_or_record_type_is_an_error_suggesting_close_names(
    tmp_path: Path, asked: dict[str, set[str]], suggested: str
) -> None:
    compromise = Compromise(MONDAY, MONDAY + DAY, **asked)  # type: ignore[arg-type]
    with (
        Trail.from_files([_three_scopes(tmp_path)], engine="stdlib") as trail,
        pytest.raises(UnknownCompromised, match=f"did you mean {suggested}"),
    ):
        assess(trail, compromise)


def test_an_unknown_name_with_nothing_close_says_what_the_trail_records(tmp_path: Path) -> None:
    compromise = Compromise(MONDAY, MONDAY + DAY, roles={"zzz"})
    with (
        Trail.from_files([_three_scopes(tmp_path)], engine="stdlib") as trail,
        pytest.raises(UnknownCompromised, match="records 1 roles, such as 'caseworker'"),
    ):
        assess(trail, compromise)


def test_real_scopes_are_assessed_with_the_categories_and_sensitivity_declared(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    with Ledger(path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        purposeful.configure(sinks=[ledger], pseudonymise=KEY.pseudonym)
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case(client_id="C-1").diagnosis
            _ = case(client_id="C-2").address
        with use(CASE_MANAGEMENT, actor=SUPERVISOR):
            _ = case(client_id="C-3").diagnosis
    now = datetime.now(UTC)
    compromise = Compromise(now - DAY, now + DAY, actors={CASEWORKER.id})
    for engine in ("stdlib", "duckdb"):
        with Trail.from_files(ledgers=[path], engine=engine) as trail:  # type: ignore[arg-type]
            found = assess(trail, compromise, records=[Case])
        assert found.pseudonyms == {KEY.pseudonym("C-1"), KEY.pseudonym("C-2")}
        assert found.people_exact
        assert found.fields == ("Case.address", "Case.diagnosis")
        assert found.sensitivities
        assert found.undeclared_fields == ()
        assert {r.category for r in found.reads} == {
            purposeful.record_policy(Case).fields[name].category.id  # type: ignore[union-attr]
            if purposeful.record_policy(Case).fields[name].category
            else None
            for name in ("address", "diagnosis")
        }


def test_a_window_must_be_aware_ordered_and_name_something() -> None:
    with pytest.raises(BreachWindowError, match="timezone-aware"):
        Compromise(datetime(2026, 12, 1), MONDAY, actors={"a"})
    with pytest.raises(BreachWindowError, match="must end after it starts"):
        Compromise(MONDAY, MONDAY, actors={"a"})
    with pytest.raises(BreachAssessmentError, match="name what was compromised"):
        Compromise(MONDAY, MONDAY + DAY)
    with pytest.raises(BreachAssessmentError, match="a list of names"):
        Compromise(MONDAY, MONDAY + DAY, actors="staff-17")  # type: ignore[arg-type]
    with pytest.raises(BreachAssessmentError, match="non-empty name"):
        Compromise(MONDAY, MONDAY + DAY, roles={" "})


def test_new_zealand_dates_and_times_make_the_window() -> None:
    start, end = nz_window("2026-12-02", "2026-12-02")
    assert start == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # NZDT is UTC+13
    assert end - start == DAY
    assert nz_moment("2026-06-02T09:30") == datetime(2026, 6, 1, 21, 30, tzinfo=UTC)
    assert nz_moment("2026-06-02T09:30+00:00") == datetime(2026, 6, 2, 9, 30, tzinfo=UTC)
    with pytest.raises(BreachWindowError, match="is not a date"):
        nz_moment("yesterday")


def test_a_trail_needs_files_a_known_engine_and_readable_input(tmp_path: Path) -> None:
    with pytest.raises(BreachAssessmentError, match="give OTLP JSON trace files or ledgers"):
        Trail.from_files()
    with pytest.raises(BreachAssessmentError, match="engine must be one of"):
        Trail.from_files([tmp_path / "x.json"], engine="spark")  # type: ignore[arg-type]
    with pytest.raises(ReportInputError, match="no such file"):
        Trail.from_files([tmp_path / "missing.json"], engine="stdlib")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json\n")
    with pytest.raises(ReportInputError):
        Trail.from_files([bad], engine="stdlib")


def test_a_name_holding_a_control_character_never_reaches_sql(tmp_path: Path) -> None:
    compromise = Compromise(MONDAY, MONDAY + DAY, actors={"staff\x00-17"})
    with (
        Trail.from_files([_three_scopes(tmp_path)], engine="stdlib") as trail,
        pytest.raises(BreachAssessmentError, match="control character"),
    ):
        assess(trail, compromise)


@pytest.mark.parametrize("engine", ["stdlib", "duckdb"])
def test_a_quote_in_a_name_is_a_name_not_sql(tmp_path: Path, engine: str) -> None:
    scope = HandScope("s1", (HandPart(reads={PEOPLE[0]: frozenset({"Client.name"})}),))
    path = write_traces(tmp_path / "t.json", [attrs.evolve(scope, actor="o'brien\\")])
    compromise = Compromise(MONDAY, MONDAY + DAY, actors={"o'brien\\"})
    with Trail.from_files([path], engine=engine) as trail:  # type: ignore[arg-type]
        assert assess(trail, compromise).people == 1
    assert json.loads(path.read_text())  # the file is what was written


def test_the_breach_package_loads_no_engine_until_a_trail_on_it_is_asked_for(
    tmp_path: Path,
) -> None:
    traces = tmp_path / "traces.json"
    traces.write_text(traces_text([span(HandScope("0000000b", (HandPart(),)), 0)]))
    script = (
        "import sys\n"
        "sys.modules['duckdb'] = None\n"  # as if purposeful[report] were not installed
        "import purposeful.breach as b\n"
        "assert 'clickhouse_connect' not in sys.modules\n"
        "from purposeful.errors import MissingExtra\n"
        "try:\n"
        f"    b.Trail.from_files([{str(traces)!r}])\n"
        "except MissingExtra as error:\n"
        "    print('missing', error.extra)\n"
        f"with b.Trail.from_files([{str(traces)!r}], engine='stdlib') as trail:\n"
        "    print('stdlib', trail.engine)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split("\n")[:2] == ["missing report", "stdlib sqlite"]


def test_an_archive_of_audit_convert_gives_the_same_assessment(tmp_path: Path) -> None:
    from purposeful.audit.report import ReportDatabase

    traces = _three_scopes(tmp_path)
    with ReportDatabase.from_files([traces]) as database:
        database.to_parquet(tmp_path / "archive")
    compromise = Compromise(MONDAY - DAY, MONDAY + DAY, actors={"staff-17"})
    with Trail.from_archive(tmp_path / "archive") as trail:
        archived = assess(trail, compromise)
    with Trail.from_files([traces], engine="stdlib") as trail:
        read = assess(trail, compromise)
    assert attrs.evolve(archived, source="", engine="") == attrs.evolve(read, source="", engine="")


def test_reads_let_through_in_monitor_mode_count_and_are_said(tmp_path: Path) -> None:
    part = HandPart(
        reads={PEOPLE[0]: frozenset({"Client.diagnosis"})},
        refusals=(("would-deny", "Client.diagnosis", 3),),
    )
    path = write_ledger(tmp_path / "audit.jsonl", [HandScope("s1", (part,), actor="staff-17")])
    with Trail.from_files(ledgers=[path], engine="stdlib") as trail:
        found = assess(trail, Compromise(MONDAY, MONDAY + DAY, actors={"staff-17"}))
    assert (found.people, found.let_through, found.refused) == (1, 3, ())
    page = render_text(assessment_document(found))
    assert "3 reads were let through in monitor mode" in page
