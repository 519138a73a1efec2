"""``purposeful bundle due``: the dates of an access or correction request, with
extensions given as ``--extension LIMIT:GROUND:DAYS:NOTICE-DATE``, parsed strictly: any bad
input exits 2 with one line and prints nothing on stdout."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purposeful._shared.nztime import long_date
from purposeful.access import (
    Extension,
    ExtensionGround,
    ResponseClock,
    TimeLimit,
    add_working_days,
)
from purposeful.cli import main


def due(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["bundle", "due", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_worked_example_with_the_last_day_for_notice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = due(capsys, "2026-12-10")
    assert (status, err) == (0, "")
    assert out == (
        "received:        10 December 2026\n"
        "transfer due by: 24 December 2026 (10 working days, s 43)\n"
        "answer due by:   29 January 2027 (20 working days, s 44)\n"
        "notice by:       29 January 2027 (the last day to give notice of an extension, "
        "s 48(3))\n"
    )


def test_extensions_move_both_limits_across_the_break(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = due(
        capsys,
        "2026-12-10",
        "--extension",
        "decision:complexity:10:2026-12-17",
        "--extension",
        "transfer:consultations:5:2026-12-17",
    )
    assert (status, err) == (0, "")
    assert "transfer due by: 22 January 2027 (10 working days + 5 extended, s 43, s 48)" in out
    assert "answer due by:   15 February 2027 (20 working days + 10 extended, s 44, s 48)" in out
    assert (
        "extension:       decision + 10 working days, s 48(1)(c) complexity; notice sent "
        "17 December 2026"
    ) in out
    assert "extension:       transfer + 5 working days, s 48(1)(b) consultations;" in out


def test_a_correction_request_prints_its_own_sections(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = due(
        capsys, "2026-12-10", "--correction", "--extension", "decision:large-quantity:3:2026-12-10"
    )
    assert (status, err) == (0, "")
    assert out.startswith("received:        10 December 2026 (a correction request)\n")
    assert "transfer due by: 24 December 2026 (10 working days, s 62)" in out
    assert "decision due by: 3 February 2027 (20 working days + 3 extended, s 63, s 65)" in out
    assert "s 65(1)(a) large-quantity" in out
    assert "(the last day to give notice of an extension, s 65(3))" in out
    assert "s 43" not in out
    assert "s 44" not in out


@pytest.mark.parametrize(
    ("extension", "problem"),
    [
        ("decision:complexity:10", "takes LIMIT:GROUND:DAYS:NOTICE-DATE"),
        ("decision:complexity:10:2026-12-17:x", "takes LIMIT:GROUND:DAYS:NOTICE-DATE"),
        ("", "takes LIMIT:GROUND:DAYS:NOTICE-DATE"),
        ("answer:complexity:10:2026-12-17", "LIMIT is transfer or decision"),
        ("Decision:complexity:10:2026-12-17", "LIMIT is transfer or decision"),
        ("decision:c:10:2026-12-17", "GROUND is large-quantity, consultations, complexity"),
        ("decision:complexity:0:2026-12-17", "DAYS is the period in working days"),
        ("decision:complexity:-3:2026-12-17", "DAYS is the period in working days"),
        ("decision:complexity:+3:2026-12-17", "DAYS is the period in working days"),
        ("decision:complexity: 3:2026-12-17", "DAYS is the period in working days"),
        ("decision:complexity:٣:2026-12-17", "DAYS is the period in working days"),
        ("decision:complexity:10:20261217", "NOTICE-DATE is the day the notice was sent"),
        ("decision:complexity:10:2026-W51-4", "NOTICE-DATE is the day the notice was sent"),
        ("decision:complexity:10:2026-02-30", "NOTICE-DATE is the day the notice was sent"),
        ("decision:complexity:10:2027-02-01", "s 48(3)"),
        ("decision:complexity:10:2026-12-09", "before the request was received"),
        ("decision:complexity:10:2053-01-20", "2052"),
        ("decision:complexity:9999:2026-12-17", "2052"),
    ],
)
def test_a_bad_extension_exits_2_with_one_line_and_prints_nothing(
    capsys: pytest.CaptureFixture[str], extension: str, problem: str
) -> None:
    status, out, err = due(capsys, "2026-12-10", "--extension", extension)
    assert status == 2
    assert out == ""
    assert err.startswith("purposeful: error: ")
    assert err.count("\n") == 1
    assert problem in err


def test_an_extension_that_cannot_be_printed_is_shown_escaped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = due(capsys, "2026-12-10", "--extension", "decision\x1b[2J:x")
    assert status == 2
    assert out == ""
    assert "\x1b" not in err
    assert err.count("\n") == 1


def test_extended_by_still_works_for_one_release_and_says_it_is_deprecated(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = due(capsys, "2026-12-10", "--extended-by", "10")
    assert status == 0
    assert "answer due by:   15 February 2027 (20 working days + 10 extended, s 44, s 48)" in out
    assert err == (
        "purposeful: --extended-by is deprecated and goes in the next release; give "
        "--extension LIMIT:GROUND:DAYS:NOTICE-DATE, e.g. decision:complexity:10:2026-12-17\n"
    )
    status, out, err = due(
        capsys,
        "2026-12-10",
        "--extended-by",
        "3",
        "--extension",
        "decision:complexity:1:2026-12-17",
    )
    assert (status, out) == (2, "")
    assert "give every extension in extensions=" in err
    assert due(capsys, "2026-12-10", "--correction", "--extended-by", "3")[0] == 2


texts = st.text(alphabet=st.sampled_from("0123456789-:abcdeilmnorstxyq+ "), min_size=0, max_size=40)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(texts)
def test_any_extension_text_is_either_an_extension_or_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], text: str
) -> None:
    status, out, err = due(capsys, "2026-12-10", f"--extension={text}")
    if status == 0:
        limit, ground, days, sent = text.split(":")
        clock = ResponseClock(
            date(2026, 12, 10),
            extensions=[
                Extension(
                    TimeLimit(limit), ExtensionGround(ground), int(days), date.fromisoformat(sent)
                )
            ],
        )
        assert err == ""
        assert f"answer due by:   {long_date(clock.due)} (" in out
    else:
        assert status == 2
        assert out == ""
        assert err.startswith("purposeful: error: ")
        assert err.count("\n") == 1


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(
    st.sampled_from(TimeLimit),
    st.sampled_from(ExtensionGround),
    st.integers(min_value=1, max_value=200),
    st.integers(min_value=0, max_value=20),
)
def test_a_well_formed_extension_prints_the_clocks_dates(
    capsys: pytest.CaptureFixture[str],
    limit: TimeLimit,
    ground: ExtensionGround,
    days: int,
    after: int,
) -> None:

    received = date(2026, 12, 10)
    sent = received if after == 0 else add_working_days(received, after)
    text = f"{limit.value}:{ground.value}:{days}:{sent.isoformat()}"
    status, out, err = due(capsys, received.isoformat(), "--extension", text)
    assert (status, err) == (0, "")
    clock = ResponseClock(received, extensions=[Extension(limit, ground, days, sent)])
    assert f"transfer due by: {long_date(clock.transfer_due)} (" in out
    assert f"answer due by:   {long_date(clock.due)} (" in out
    assert f"s 48(1)({ground.paragraph}) {ground.value}" in out
