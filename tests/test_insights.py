"""Insights: counts are taken inside the aggregate purpose, and what is published is safe.

The properties check the protections against raw counts that the tests compute themselves
from the data they generate, never from what the table says: small counts are never
published, no suppressed cell can be worked out from the rest, rounding is to base 3 and
unbiased, and nothing but the categories grouped by reaches the output.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import random
from collections import Counter
from collections.abc import Iterator, Sequence

import attrs
import cmarkgfm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from _records import RecordingSink
from purposeful import (
    IN_CONFIDENCE,
    SENSITIVE,
    Actor,
    ConfigurationError,
    Mode,
    Outcome,
    PurposeViolation,
    ServiceAgreement,
)
from purposeful._shared.document import escape_markdown
from purposeful.errors import UnknownCategory
from purposeful.insights import TOTAL, Cell, Table, count, crosstab, rr3

FUNDING = ServiceAgreement("Funding agreement")
SERVICE = ServiceAgreement("Service delivery agreement")
FUNDER = "funder-reporting"
REPORTING_JOB = Actor("svc-funder", "funder-reporting-job", IN_CONFIDENCE)

REGIONS = ("Northland", "Auckland", "Waikato", "Otago", "Nelson")
ETHNICITIES = ("Māori", "Pacific Peoples", "European", "Asian", "MELAA")
SERVICES = ("counselling", "budgeting", "housing", "food", "transport")
IWI = ("Ngāpuhi", "Ngāti Porou", "Ngāi Tahu")
VALUES = {"region": REGIONS, "ethnicity": ETHNICITIES, "service": SERVICES, "iwi": IWI}


@purposeful.record(subject="client_id", key="visit_id")
class InsightVisit:
    """``name``: service delivery only. ``outcome``: service improvement only.
    ``diagnosis``: case management only. ``note``: a plain attrs field."""

    client_id: str
    visit_id: str
    name: str = purposeful.field(purposes={"service-delivery": SERVICE}, category="identity")
    region: str = purposeful.field(
        purposes={FUNDER: FUNDING, "service-delivery": SERVICE}, category="contact"
    )
    ethnicity: str = purposeful.field(purposes={FUNDER: FUNDING}, category="ethnicity")
    iwi: str = purposeful.field(purposes={FUNDER: FUNDING}, category="ethnicity.iwi-affiliation")
    service: str = purposeful.field(purposes={FUNDER: FUNDING, "service-improvement": SERVICE})
    disability: str = purposeful.field(purposes={FUNDER: FUNDING}, category="health.disability")
    outcome: str = purposeful.field(purposes={"service-improvement": SERVICE})
    diagnosis: str = purposeful.field(
        purposes={"service-delivery.case-management": SERVICE},
        sensitivity=SENSITIVE,
        category="health",
    )
    note: str = "plain"


@purposeful.record(subject="client_id")
class InsightReferral:
    client_id: str
    region: str = purposeful.field(purposes={FUNDER: FUNDING})


def visit(n: int, **values: str) -> InsightVisit:
    fields = {
        "name": "Aroha",
        "region": REGIONS[0],
        "ethnicity": ETHNICITIES[0],
        "iwi": IWI[0],
        "service": SERVICES[0],
        "disability": "none",
        "outcome": "improved",
        "diagnosis": "none",
    }
    fields.update(values)
    return InsightVisit(f"C-{n}", f"V-{n}", **fields)


def visits(cells: dict[tuple[str, ...], int], by: Sequence[str]) -> list[InsightVisit]:
    """Records with exactly *cells* (values of *by* → how many records) as raw counts."""
    made: list[InsightVisit] = []
    for values, n in cells.items():
        made.extend(visit(len(made), **dict(zip(by, values, strict=True))) for _ in range(n))
    return made


def raw_count(cells: dict[tuple[str, ...], int], key: tuple[object, ...]) -> int:
    """The raw count of a table cell, computed from the data the test generated."""
    return sum(
        n
        for values, n in cells.items()
        if all(k is TOTAL or k == v for k, v in zip(key, values, strict=True))
    )


# Small counts, zeros and a few large ones, so that suppression has work to do.
small_counts = st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 14, 20, 31])


@st.composite
def tables(draw: st.DrawFn, dimensions: Sequence[int] = (2, 3)) -> tuple[tuple[str, ...], dict]:
    """A choice of fields to group by and raw counts for every combination of their values."""
    d = draw(st.sampled_from(list(dimensions)))
    by = tuple(draw(st.permutations(["region", "ethnicity", "service"]))[:d])
    sizes = [draw(st.integers(2, 5 if d < 3 else 4)) for _ in by]
    combos = itertools.product(*(VALUES[f][:n] for f, n in zip(by, sizes, strict=True)))
    return by, {combo: draw(small_counts) for combo in combos}


def full_categories(by: Sequence[str], cells: dict[tuple[str, ...], int]) -> dict:
    """The categories of each dimension, as the generated data has them (zeros included)."""
    return {f: sorted({values[i] for values in cells}) for i, f in enumerate(by)}


def protected(by: Sequence[str], cells: dict[tuple[str, ...], int], **options: object) -> Table:
    return crosstab(
        visits(cells, by),
        by,
        purpose=FUNDER,
        actor=REPORTING_JOB,
        categories=full_categories(by, cells),
        record_type=InsightVisit,
        **options,  # type: ignore[arg-type]
    )


def lines(table: Table) -> list[list[tuple[object, ...]]]:
    """Every line of the table along every dimension, its total included as a member."""
    axes = [[*values, TOTAL] for values in table.categories]
    found = []
    for dim, axis in enumerate(axes):
        others = [a if i != dim else [None] for i, a in enumerate(axes)]
        for fixed in itertools.product(*others):
            found.append([(*fixed[:dim], value, *fixed[dim + 1 :]) for value in axis])
    return found


# -- what is published ------------------------------------------------------------------


@settings(max_examples=60)
@given(tables(), st.integers(0, 2**32))
def test_published_counts_are_multiples_of_three_within_two_of_the_raw_count(
    table: tuple, seed: int
) -> None:
    by, cells = table
    result = protected(by, cells, seed=seed)
    assert result.rounding == "RR3"
    published = [(k, c) for k, c in result.cells.items() if c.published]
    for key, cell in published:
        assert cell.value is not None
        assert cell.value % 3 == 0
        assert abs(cell.value - raw_count(cells, key)) <= 2


@settings(max_examples=60)
@given(tables(dimensions=(1, 2, 3)), st.integers(1, 9), st.booleans())
def test_no_count_from_one_to_below_the_threshold_is_published(
    table: tuple, threshold: int, rounding: bool
) -> None:
    by, cells = table
    if rounding:  # with RR3 the threshold is a multiple of 3
        threshold = 3 * math.ceil(threshold / 3)
    result = protected(by, cells, threshold=threshold, rounding=rounding, seed=1)
    assert len(result.cells) == math.prod(len(v) + 1 for v in result.categories)
    for key, cell in result.cells.items():
        raw = raw_count(cells, key)
        if 0 < raw < threshold:
            assert cell.suppressed == "primary"
            assert cell.value is None
        if cell.published:
            assert raw == 0 or raw >= threshold
            assert cell.value == 0 or cell.value >= threshold  # rounding included
        else:
            assert raw > 0  # a true zero is published as 0, never suppressed
        if raw == 0:
            assert cell == Cell(0)


@settings(max_examples=60)
@given(tables(), st.integers(1, 9))
def test_no_line_has_exactly_one_suppressed_cell(table: tuple, threshold: int) -> None:
    by, cells = table
    result = protected(by, cells, threshold=threshold, rounding=False)
    for line in lines(result):
        hidden = [key for key in line if not result.cells[key].published]
        assert len(hidden) != 1, f"{hidden[0]} can be worked out from its line"
        published = [key for key in line if result.cells[key].published]
        for key in published:  # unrounded: the arithmetic a reader does is exact
            assert result.cells[key].value == raw_count(cells, key)


def alternative_completion(table: Table, raw: dict, cell: tuple) -> dict | None:
    """Another filling-in of a two-way table's suppressed cells that fits every published
    figure and what a reader knows of the suppressed cells (zeros are published, so each is
    at least 1): move ±1 around a cycle of suppressed cells through *cell*, trying every
    simple cycle either way round; None if none keeps every suppressed cell at 1 or more."""
    hidden = [key for key, c in table.cells.items() if not c.published]
    edges: dict[tuple, list[tuple]] = {}
    for key in hidden:
        if key != cell:
            edges.setdefault(("row", key[0]), []).append(key)
            edges.setdefault(("column", key[1]), []).append(key)
    start, goal = ("row", cell[0]), ("column", cell[1])

    def paths(node: tuple, seen: set, path: list) -> Iterator[list]:
        if node == goal:
            yield list(path)
            return
        for key in edges.get(node, []):
            nxt = ("column", key[1]) if node[0] == "row" else ("row", key[0])
            if nxt not in seen:
                seen.add(nxt)
                path.append(key)
                yield from paths(nxt, seen, path)
                path.pop()
                seen.discard(nxt)

    for path in itertools.islice(paths(start, {start}, []), 5000):
        cycle = [cell, *reversed(path)]
        for direction in (1, -1):
            completion = dict(raw)
            for i, key in enumerate(cycle):
                # with each margin negated, every row and column adds up to zero: alternate ±1
                sign = -1 if sum(1 for k in key if k is TOTAL) == 1 else 1
                completion[key] += (1 if i % 2 == 0 else -1) * sign * direction
            if all(completion[key] >= 1 for key in cycle):
                return completion
    return None


@settings(max_examples=200)
@given(tables(dimensions=(2,)), st.integers(2, 9))
def test_no_suppressed_cell_of_a_two_way_table_can_be_worked_out(
    table: tuple, threshold: int
) -> None:
    by, cells = table
    result = protected(by, cells, threshold=threshold, rounding=False)
    raw = {key: raw_count(cells, key) for key in result.cells}
    rows, columns = ([*values, TOTAL] for values in result.categories)
    for key, cell in result.cells.items():
        if cell.published:
            continue
        other = alternative_completion(result, raw, key)
        assert other is not None, f"{key} is pinned down by the published figures"
        assert other[key] != raw[key]
        assert all(value >= 1 for key, value in other.items() if not result.cells[key].published)
        for k, c in result.cells.items():
            if c.published:
                assert other[k] == c.value
        for r in rows:
            assert sum(other[(r, c)] for c in columns[:-1]) == other[(r, TOTAL)]
        for c in columns:
            assert sum(other[(r, c)] for r in rows[:-1]) == other[(TOTAL, c)]


def rank(rows: list[list[int]]) -> int:
    """The rank of an integer matrix, by exact Gaussian elimination (rows cross-multiplied)."""
    rows = [list(r) for r in rows]
    found = 0
    for column in range(len(rows[0]) if rows else 0):
        pivot = next((i for i in range(found, len(rows)) if rows[i][column]), None)
        if pivot is None:
            continue
        rows[found], rows[pivot] = rows[pivot], rows[found]
        top = rows[found]
        for i in range(found + 1, len(rows)):
            if rows[i][column]:
                a, b = top[column], rows[i][column]
                rows[i] = [a * x - b * y for x, y in zip(rows[i], top, strict=True)]
                common = math.gcd(*rows[i])
                if common > 1:
                    rows[i] = [x // common for x in rows[i]]
        found += 1
    return found


@settings(max_examples=60)
@given(tables(dimensions=(3,)), st.integers(2, 9))
def test_no_suppressed_cell_of_a_three_way_table_is_pinned_down_by_the_lines(
    table: tuple, threshold: int
) -> None:
    by, cells = table
    result = protected(by, cells, threshold=threshold, rounding=False)
    hidden = [key for key, cell in result.cells.items() if not cell.published]
    # each line is an equation in the hidden cells: the categories add up to the total
    equations = [
        [(-1 if key == line[-1] else 1) if key in line else 0 for key in hidden]
        for line in lines(result)
        if any(key in hidden for key in line)
    ]
    full = rank(equations)
    for j, key in enumerate(hidden):
        # a cell is pinned down exactly when leaving its column out drops the rank
        without = [row[:j] + row[j + 1 :] for row in equations]
        assert rank(without) == full, f"{key} can be worked out from the lines"


# A table where giving every line two suppressed cells is not enough: (Auckland, Waikato)
# links two separate cycles of suppressed cells, so the totals pin it down.
BRIDGED = {
    "Northland": (20, 0, 20, 30),
    "Auckland": (12, 3, 1, 7),
    "Waikato": (3, 30, 20, 0),
    "Otago": (9, 2, 0, 7),
    "Nelson": (8, 6, 2, 8),
}


def test_a_cell_linking_two_groups_of_suppressed_cells_is_protected_too() -> None:
    cells = {
        (region, service): n
        for region, counts in BRIDGED.items()
        for service, n in zip(SERVICES[:4], counts, strict=True)
    }
    result = protected(("region", "service"), cells, rounding=False)
    raw = {key: raw_count(cells, key) for key in result.cells}
    assert result.cells[("Auckland", "housing")].suppressed == "primary"
    for key, cell in result.cells.items():
        if not cell.published:
            assert alternative_completion(result, raw, key) is not None, key


def test_secondary_suppression_hides_as_few_cells_as_it_can() -> None:
    cells = {("Northland", "counselling"): 2, ("Northland", "budgeting"): 9}
    cells |= {("Northland", "housing"): 7, ("Auckland", "counselling"): 8}
    cells |= {("Auckland", "budgeting"): 30, ("Auckland", "housing"): 40}
    result = protected(("region", "service"), cells, rounding=False)
    status = {k: c.suppressed for k, c in result.cells.items() if not c.published}
    assert status == {
        ("Northland", "counselling"): "primary",
        # the counselling column: Auckland's 8 is smaller than the total, 10
        ("Auckland", "counselling"): "secondary",
        # Auckland's row (the first region): 30 is smaller than 40
        ("Auckland", "budgeting"): "secondary",
        # Northland's row: 9 completes the budgeting column too, so it goes before 7
        ("Northland", "budgeting"): "secondary",
    }
    assert result.cells[("Northland", TOTAL)] == Cell(18)
    assert result.cells[("Northland", "housing")] == Cell(7)


# -- rounding ---------------------------------------------------------------------------

SEEDS = 3000


def rounded_count(records: list[InsightVisit], seed: int) -> int:
    cell = count(records, purpose=FUNDER, actor=REPORTING_JOB, seed=seed, threshold=3).total
    assert cell is not None
    assert cell.value is not None
    return cell.value


@settings(max_examples=15)
@given(st.just(0) | st.integers(3, 60))  # 1 and 2 are below the smallest RR3 threshold, 3
def test_rounding_is_unbiased_and_picks_the_nearer_multiple_two_times_in_three(n: int) -> None:
    records = [visit(i) for i in range(n)]
    outcomes = Counter(rounded_count(records, seed) for seed in range(SEEDS))
    if n % 3 == 0:
        assert outcomes == {n: SEEDS}
        return
    nearer, farther = (n - 1, n + 2) if n % 3 == 1 else (n + 1, n - 2)
    assert set(outcomes) <= {nearer, farther}
    share = outcomes[nearer] / SEEDS
    assert abs(share - 2 / 3) < 5 * math.sqrt((2 / 3) * (1 / 3) / SEEDS)
    mean = sum(value * times for value, times in outcomes.items()) / SEEDS
    # RR3 of a count that is not a multiple of 3 has variance 2 (1 w.p. 2/3, 4 w.p. 1/3)
    assert abs(mean - n) < 5 * math.sqrt(2 / SEEDS)


def test_rr3_keeps_multiples_of_three_and_rounds_the_rest_to_a_nearest_multiple() -> None:
    rng = random.Random(7)
    for n in range(40):
        results = {rr3(n, rng) for _ in range(200)}
        if n % 3 == 0:
            assert results == {n}
        else:
            below = n - n % 3
            assert results == {below, below + 3}


def test_the_same_seed_gives_the_same_table_and_other_seeds_differ() -> None:
    cells = {(r, s): 7 + i for i, (r, s) in enumerate(itertools.product(REGIONS, SERVICES))}
    first = protected(("region", "service"), cells, seed=2026)
    again = protected(("region", "service"), cells, seed=2026)
    assert first == again
    assert first.to_json() == again.to_json()
    assert first.seed_given is True
    others = {
        json.dumps(protected(("region", "service"), cells, seed=s).to_json()) for s in range(8)
    }
    assert len(others) > 1
    assert protected(("region", "service"), cells).seed_given is False
    records = visits(cells, ("region", "service"))[::-1]
    reordered = crosstab(
        records, ["region", "service"], purpose=FUNDER, actor=REPORTING_JOB, seed=2026
    )
    assert reordered == first


def test_two_seeded_tables_one_person_apart_do_not_single_out_that_persons_cell() -> None:
    # differencing: a table over everyone and one over everyone but one person, both with
    # the same seed; the attacker looks for the only cell whose published count changed
    singled_out = 0
    trials = 60
    for seed in range(trials):
        rnd = random.Random(seed)
        cells = {key: rnd.randint(6, 40) for key in itertools.product(REGIONS, SERVICES)}
        theirs = (REGIONS[seed % 5], SERVICES[seed // 5 % 5])
        fewer = cells | {theirs: cells[theirs] - 1}
        before = protected(("region", "service"), cells, seed=seed)
        after = protected(("region", "service"), fewer, seed=seed)
        assert before == protected(("region", "service"), cells, seed=seed)  # reproducible
        changed = [
            key
            for key in before.cells
            if TOTAL not in key and before.cells[key] != after.cells[key]
        ]
        singled_out += changed == [theirs]
    # draws fixed by a cell's place alone single the person out about half the time
    assert singled_out <= trials // 10


def test_without_margins_the_cells_are_the_same_and_still_protected_against_totals() -> None:
    cells = {("Northland", "counselling"): 2, ("Northland", "budgeting"): 9}
    cells |= {("Auckland", "counselling"): 8, ("Auckland", "budgeting"): 30}
    with_margins = protected(("region", "service"), cells, seed=5)
    without = protected(("region", "service"), cells, seed=5, margins=False)
    assert without.margins is False
    assert all(TOTAL not in key for key in without.cells)
    assert without.total is None
    assert dict(without.cells) == {k: c for k, c in with_margins.cells.items() if TOTAL not in k}
    assert sum(1 for c in without.cells.values() if not c.published) == 4


@pytest.mark.parametrize("records", [None, 3, visit(1)])
def test_records_that_cannot_be_iterated_are_a_configuration_error(records: object) -> None:
    with pytest.raises(ConfigurationError, match=r"takes the records to count"):
        count(records, purpose=FUNDER, actor=REPORTING_JOB)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"takes the records to count"):
        crosstab(records, ["region"], purpose=FUNDER, actor=REPORTING_JOB)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", ["1", 1.5, True, b"1"])
def test_a_seed_that_is_not_an_int_is_refused(seed: object) -> None:
    with pytest.raises(ConfigurationError, match="seed"):
        count([visit(1)], purpose=FUNDER, actor=REPORTING_JOB, seed=seed)  # type: ignore[arg-type]


def test_with_rr3_a_threshold_must_be_a_multiple_of_three() -> None:
    # a count of 4 at threshold 4 could round to 3, below the threshold
    with pytest.raises(ConfigurationError, match="multiple of 3"):
        count([visit(i) for i in range(4)], purpose=FUNDER, actor=REPORTING_JOB, threshold=4)
    table = count(
        [visit(i) for i in range(4)],
        purpose=FUNDER,
        actor=REPORTING_JOB,
        threshold=4,
        rounding=False,
    )
    assert table.total == Cell(4)


@pytest.mark.parametrize("threshold", [0, -6, 2.5, "6", False])
def test_a_threshold_below_one_or_not_an_int_is_refused(threshold: object) -> None:
    with pytest.raises(ConfigurationError, match="threshold"):
        crosstab(
            [visit(1)],
            ["region"],
            purpose=FUNDER,
            actor=REPORTING_JOB,
            threshold=threshold,  # type: ignore[arg-type]
        )


# -- count ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, Cell(0)), (1, Cell(None, "primary")), (5, Cell(None, "primary")), (7, Cell(7))],
)
def test_count_is_a_one_cell_table_with_the_same_protections(n: int, expected: Cell) -> None:
    table = count((visit(i) for i in range(n)), purpose=FUNDER, actor=REPORTING_JOB, rounding=False)
    assert table.dimensions == ()
    assert dict(table.cells) == {(): expected}
    assert table.total == expected


def test_count_refuses_mixed_record_types_and_non_records() -> None:
    with pytest.raises(ConfigurationError, match="more than one type"):
        count([visit(1), InsightReferral("C-2", "Otago")], purpose=FUNDER, actor=REPORTING_JOB)
    with pytest.raises(ConfigurationError, match="not a purposeful record"):
        count([object()], purpose=FUNDER, actor=REPORTING_JOB)


# -- purposes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "by",
    [
        ["diagnosis"],  # case management only, and too sensitive for the job
        ["region", "name"],  # service delivery only
        ["outcome", "region"],  # service improvement only
    ],
)
def test_a_field_the_purpose_does_not_allow_is_refused_and_nothing_returned(
    by: list[str], sink: RecordingSink
) -> None:
    result = None
    with pytest.raises(PurposeViolation) as refusal:
        result = crosstab([visit(1), visit(2)], by, purpose=FUNDER, actor=REPORTING_JOB)
    assert result is None
    assert refusal.value.decision.purpose is not None
    assert refusal.value.decision.purpose.id == FUNDER
    (report,) = sink.reports
    assert report.failed


def test_a_field_is_grouped_by_under_the_purpose_it_is_declared_for(sink: RecordingSink) -> None:
    records = [visit(i, outcome="improved" if i % 2 else "same") for i in range(12)]
    table = crosstab(records, ["outcome"], purpose="service-improvement", actor=REPORTING_JOB)
    assert table.purpose == "service-improvement"
    assert table.categories == (("improved", "same"),)
    (report,) = sink.reports
    assert report.purpose is not None
    assert report.purpose.id == "service-improvement"
    assert {(d.field, d.outcome) for d in report.decisions} == {("outcome", Outcome.ALLOWED)}
    assert report.subject_count == 12


def test_in_monitor_mode_a_disallowed_field_is_counted_and_recorded(sink: RecordingSink) -> None:
    purposeful.configure(mode=Mode.MONITOR)
    table = crosstab([visit(i) for i in range(6)], ["name"], purpose=FUNDER, actor=REPORTING_JOB)
    assert table.cells[("Aroha",)] == Cell(6)
    assert [d.outcome for d in sink.decisions] == [Outcome.WOULD_DENY]


# -- community sensitivity --------------------------------------------------------------

ETHNIC = {"ethnicity": "ethnicity", "iwi": "ethnicity.iwi-affiliation"}


@settings(max_examples=30)
@given(
    st.lists(
        st.sampled_from(["region", "ethnicity", "iwi", "service"]),
        min_size=1,
        max_size=3,
        unique=True,
    )
)
def test_community_labels_appear_exactly_for_ethnicity_and_iwi_breakdowns(by: list[str]) -> None:
    table = crosstab([visit(i) for i in range(8)], by, purpose=FUNDER, actor=REPORTING_JOB)
    expected = tuple(
        f"Grouped by {f} ({ETHNIC[f]}): de-identified data can still be sensitive to the "
        f"communities it describes (DPUP); agree its use and release with those communities."
        for f in by
        if f in ETHNIC
    )
    assert table.community_sensitivity == expected
    for label in expected:
        assert label in table.to_markdown()
    assert table.to_json()["community_sensitivity"] == list(expected)


def test_callers_choose_the_community_categories() -> None:
    records = [visit(i) for i in range(8)]
    by = ["ethnicity", "disability"]
    table = crosstab(
        records,
        by,
        purpose=FUNDER,
        actor=REPORTING_JOB,
        community_categories=("ethnicity", "health.disability"),
    )
    assert [label.split(":")[0] for label in table.community_sensitivity] == [
        "Grouped by ethnicity (ethnicity)",
        "Grouped by disability (health.disability)",
    ]
    table = crosstab(records, by, purpose=FUNDER, actor=REPORTING_JOB, community_categories=())
    assert table.community_sensitivity == ()
    with pytest.raises(UnknownCategory):
        crosstab(records, by, purpose=FUNDER, actor=REPORTING_JOB, community_categories=["iwi"])


# -- nothing personal leaks --------------------------------------------------------------

VALUE_MARK = "\u2603"
SUBJECT_MARK = "\u2604"
MARKS = (VALUE_MARK, SUBJECT_MARK, "\\u2603", "\\u2604")

marked_names = st.text(min_size=1, max_size=8).map(lambda s: f"{VALUE_MARK}{s}{VALUE_MARK}")
marked_ids = st.text(min_size=1, max_size=8).map(lambda s: f"{SUBJECT_MARK}{s}{SUBJECT_MARK}")


@settings(max_examples=40)
@given(
    st.lists(
        st.tuples(
            marked_ids,
            marked_names,
            st.sampled_from(REGIONS[:3]),
            st.sampled_from(ETHNICITIES[:3]),
            st.sampled_from(SERVICES[:2]),
        ),
        max_size=40,
    ),
    st.sampled_from([["region"], ["ethnicity", "region"], ["region", "ethnicity", "service"]]),
    st.booleans(),
)
def test_no_value_but_the_categories_grouped_by_and_no_subject_id_reaches_the_output(
    rows: list[tuple[str, str, str, str, str]], by: list[str], rounding: bool
) -> None:
    records = [
        InsightVisit(
            subject,
            f"{subject}-visit",
            name,
            region,
            ethnicity,
            IWI[0],
            service,
            "none",
            f"{VALUE_MARK}outcome",
            f"{VALUE_MARK}diagnosis",
            f"{VALUE_MARK}note",
        )
        for subject, name, region, ethnicity, service in rows
    ]
    table = crosstab(
        records,
        by,
        purpose=FUNDER,
        actor=REPORTING_JOB,
        rounding=rounding,
        record_type=InsightVisit,
    )
    outputs = [
        table.to_markdown(),
        json.dumps(table.to_json(), ensure_ascii=False),
        json.dumps(table.to_json()),
        repr(table),
        repr(table.to_rows()),
        repr(dict(table.cells)),
        repr(attrs.asdict(table, recurse=False)),
    ]
    for output in outputs:
        assert not any(mark in output for mark in MARKS)
    grouped = {v for values in table.categories for v in values}
    assert grouped <= set(REGIONS) | set(ETHNICITIES) | set(SERVICES)
    with pytest.raises(PurposeViolation) as refusal:
        crosstab(records or [visit(0)], ["name"], purpose=FUNDER, actor=REPORTING_JOB)
    assert not any(mark in str(refusal.value) for mark in MARKS)


FORMULAS = ['=HYPERLINK("http://evil.example")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_rows_for_a_spreadsheet_show_a_formula_as_text_and_json_keeps_it(formula: str) -> None:
    cells = {(formula,): 9, ("Northland",): 12}
    table = protected(("region",), cells, rounding=False)
    rows = {row["region"]: row for row in table.to_rows()}
    assert rows["'" + formula]["count"] == 9  # an apostrophe: shown as text, never run
    assert "Northland" in rows  # other values as they are
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*table.dimensions, "count", "suppressed"])
    writer.writeheader()
    writer.writerows(table.to_rows())
    assert all(
        not row[0].startswith(("=", "+", "-", "@", "\t", "\r"))
        for row in csv.reader(io.StringIO(out.getvalue()))
    )
    assert formula in [cell["region"] for cell in table.to_json()["cells"]]  # exact


@given(
    st.sampled_from(
        [
            "www.evil.example",
            "https://evil.example/x",
            "help@evil.example",
            "\u202eRTL",
            "\x1b[31m",
            "nul\x00",
        ]
    )
)
def test_no_category_value_becomes_a_link_or_a_control_in_markdown(value: str) -> None:
    table = protected(("region",), {(value,): 9, ("Northland",): 12}, rounding=False)
    markdown = table.to_markdown()
    assert "<a " not in cmarkgfm.github_flavored_markdown_to_html(markdown)
    assert all(ch == "\n" or ch.isprintable() for ch in markdown)


def test_exports_say_a_cell_is_suppressed_but_not_why() -> None:
    cells = {("Northland", "counselling"): 2, ("Northland", "budgeting"): 9}
    cells |= {("Auckland", "counselling"): 8, ("Auckland", "budgeting"): 30}
    table = protected(("region", "service"), cells, seed=3)
    exported = table.to_markdown() + json.dumps(table.to_json()) + repr(table.to_rows())
    assert "primary" not in exported
    assert "secondary" not in exported
    for cell in table.cells.values():
        if not cell.published:
            assert attrs.astuple(cell) == (None, cell.suppressed)


def test_a_value_outside_the_categories_given_is_refused_without_naming_it() -> None:
    records = [visit(1, region=f"{VALUE_MARK}Atlantis")]
    with pytest.raises(ConfigurationError, match=r"categories\['region'\]") as refusal:
        crosstab(
            records,
            ["region"],
            purpose=FUNDER,
            actor=REPORTING_JOB,
            categories={"region": REGIONS},
        )
    assert VALUE_MARK not in str(refusal.value)


# -- arguments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by", "message"),
    [
        (["regoin"], r"InsightVisit has no such field.*region, ethnicity"),
        (["note"], r"note: InsightVisit is not a managed field. Only managed fields"),
        (["client_id"], "identifies a person or a record"),
        (["visit_id"], "identifies a person or a record"),
        ([], "at least one field"),
        ("region", "sequence of field names"),
        (["region", "region"], "names a field twice"),
    ],
)
def test_a_bad_by_is_refused_before_any_field_is_read(
    by: list[str], message: str, sink: RecordingSink
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        crosstab([visit(1)], by, purpose=FUNDER, actor=REPORTING_JOB)
    assert not sink.decisions


def test_records_of_more_than_one_type_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="more than one type"):
        crosstab(
            [visit(1), InsightReferral("C-2", "Otago")],
            ["region"],
            purpose=FUNDER,
            actor=REPORTING_JOB,
        )
    with pytest.raises(ConfigurationError, match="lacks a field of InsightVisit"):
        crosstab(
            [visit(1), InsightReferral("C-2", "Otago")],
            ["region", "ethnicity"],
            purpose=FUNDER,
            actor=REPORTING_JOB,
        )
    with pytest.raises(ConfigurationError, match="more than one type"):
        crosstab(
            [visit(1)], ["region"], purpose=FUNDER, actor=REPORTING_JOB, record_type=InsightReferral
        )


def test_no_records_needs_a_record_type_and_gives_zeros() -> None:
    with pytest.raises(ConfigurationError, match="record_type="):
        crosstab([], ["region"], purpose=FUNDER, actor=REPORTING_JOB)
    table = crosstab(
        iter([]),
        ["region"],
        purpose=FUNDER,
        actor=REPORTING_JOB,
        categories={"region": REGIONS[:2]},
        record_type=InsightVisit,
    )
    assert dict(table.cells) == {
        ("Northland",): Cell(0),
        ("Auckland",): Cell(0),
        (TOTAL,): Cell(0),
    }


def test_categories_given_include_empty_cells_in_their_order() -> None:
    records = [visit(i, region="Otago") for i in range(9)]
    table = crosstab(
        records,
        ["region"],
        purpose=FUNDER,
        actor=REPORTING_JOB,
        categories={"region": ("Otago", "Northland")},
        rounding=False,
    )
    assert list(table.cells) == [("Otago",), ("Northland",), (TOTAL,)]
    assert [c.value for c in table.cells.values()] == [9, 0, 9]


@pytest.mark.parametrize(
    "categories",
    [{"iwi": IWI}, {"region": []}, {"region": "Otago"}, {"region": ["Otago", "Otago"]}],
)
def test_bad_categories_are_refused(categories: dict) -> None:
    with pytest.raises(ConfigurationError, match="categor"):
        crosstab([visit(1)], ["region"], purpose=FUNDER, actor=REPORTING_JOB, categories=categories)


def test_a_cell_has_a_value_exactly_when_it_is_published() -> None:
    with pytest.raises(ConfigurationError):
        Cell(3, "primary")
    with pytest.raises(ConfigurationError):
        Cell(None)
    with pytest.raises(ConfigurationError):
        Cell(None, "tertiary")  # type: ignore[arg-type]


# -- formats ----------------------------------------------------------------------------


def test_markdown_rows_and_json_show_the_same_table() -> None:
    cells = {("Northland", "counselling"): 2, ("Northland", "budgeting"): 9}
    cells |= {("Auckland", "counselling"): 8, ("Auckland", "budgeting"): 30}
    table = protected(("region", "service"), cells, rounding=False)
    assert table.to_markdown().splitlines()[:5] == [
        "| region \\\\ service | budgeting | counselling | Total |",
        "|---|---:|---:|---:|",
        "| Auckland | S | S | 38 |",
        "| Northland | S | S | 11 |",
        "| Total | 39 | 10 | 49 |",
    ]
    assert "- Counts are not rounded." in table.to_markdown()
    assert table.to_rows()[0] == {
        "region": "Auckland",
        "service": "budgeting",
        "count": None,
        "suppressed": True,
    }
    assert table.to_rows()[-1] == {
        "region": "Total",
        "service": "Total",
        "count": 49,
        "suppressed": False,
    }
    as_json = json.loads(json.dumps(table.to_json()))
    assert as_json["cells"] == table.to_rows()
    assert as_json["rounding"] is None
    assert as_json["threshold"] == 6
    assert repr(TOTAL) == "TOTAL"
    assert repr(table) == (
        "<Table region × service for 'funder-reporting': 9 cells, 4 suppressed, unrounded, "
        "threshold 6>"
    )


#: Category labels that would be markup if they were written as they are.
HOSTILE_LABELS = (
    "*bold* _it_",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![x](http://example.com/x.png)",
    "a | b",
    "# heading",
    "1. item",
    "`code`",
    "&lt;b&gt;",
    "line\nbreak",
)


@pytest.mark.parametrize("by", [["region"], ["region", "service"], ["region", "service", "iwi"]])
def test_no_category_label_becomes_markup_in_markdown(by: list[str]) -> None:
    records = [visit(i, region=label) for i, label in enumerate(HOSTILE_LABELS * 6)]
    table = crosstab(records, by, purpose=FUNDER, actor=REPORTING_JOB, rounding=False)
    markdown = table.to_markdown()
    label_cells = {line.split(" | ")[0].removeprefix("| ") for line in markdown.splitlines()[2:]}
    assert {escape_markdown(label) for label in HOSTILE_LABELS} <= label_cells
    for raw in ("<script>", "*bold*", "[click]", "![x]", "`code`", "| &lt;", "| # ", "| 1. "):
        assert raw not in markdown
