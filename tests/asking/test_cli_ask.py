"""``purposeful ask use|share|table``: the library's answer as text or JSON, the exit status
says it (0 yes, 1 otherwise), and a mistake is one line and exit status 2."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import purposeful
from purposeful.asking import Verdict
from purposeful.cli import main

USE = ["ask", "use", "--records", "_asking", "--role", "caseworker", "--clearance", "SENSITIVE"]

AGREEMENTS = """
    [[agreement]]
    id = "ask-cli-referrals"
    name = "Referrals to Te Whare Āwhina"
    parties = ["Us", "Te Whare Āwhina"]
    purposes = ["service-delivery.referral"]
    basis = "directly-related-purpose"
    starts = 2026-01-01
    expires = 2026-12-31
    review = 2026-06-30
    fields = ["AskVisit.name", "AskVisit.referral_reason"]
"""


def test_ask_use_prints_the_answer_and_exits_0_for_yes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*USE, "AskVisit.name", "--purpose", "service-delivery"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "AskVisit.name for service-delivery, by caseworker (SENSITIVE): yes"
    )
    assert "  law:     Privacy Act 2020, IPP 10" in out
    assert "  why:     name may be used for service delivery" in out


def test_ask_use_json_is_the_answer_and_a_condition_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [*USE, "AskVisit.threat", "--purpose", "care-and-protection", "--json"]
    assert main(argv) == 1
    found = json.loads(capsys.readouterr().out)
    expected = purposeful.may_use(
        "AskVisit",
        "threat",
        "care-and-protection",
        role="caseworker",
        clearance=purposeful.SENSITIVE,
    )
    assert found == expected.to_dict()
    assert found["verdict"] == Verdict.WITH_JUSTIFICATION.value


def test_ask_use_takes_an_agency_kind_a_statute_names(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*USE, "AskVisit.concern", "--purpose", "care-and-protection"]
    assert main(argv) == 1
    assert ": no\n" in capsys.readouterr().out
    assert main([*argv, "--agency-kind", "child-welfare-and-protection"]) == 1
    assert "only with a recorded justification" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*USE, "AskVisit.nope", "--purpose", "service-delivery"], "AskVisit.nope is not a field"),
        ([*USE, "Nobody.name", "--purpose", "service-delivery"], "no declared record type"),
        ([*USE, "AskVisit.name", "--purpose", "no-such"], "no-such"),
        (
            [*USE[:-1], "SUPER-SECRET", "AskVisit.name", "--purpose", "service-delivery"],
            "has no level 'SUPER-SECRET'",
        ),
    ],
)
def test_a_mistake_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("purposeful: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_a_field_that_is_not_type_dot_field_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*USE, "address", "--purpose", "service-delivery"]) == 2
    assert "is not TYPE.FIELD" in capsys.readouterr().err


def test_ask_share_finds_the_agreement_in_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "agreements.toml"
    toml.write_text(textwrap.dedent(AGREEMENTS), encoding="utf-8")
    share = [
        "ask",
        "share",
        "AskVisit.name",
        "--records",
        "_asking",
        "--agreements",
        str(toml),
        "--party",
        "Te Whare Āwhina",
        "--role",
        "caseworker",
        "--clearance",
        "SENSITIVE",
        "--at",
        "2026-06-01T09:00:00+12:00",
    ]
    assert main([*share, "--agreement", "ask-cli-referrals"]) == 0
    out = capsys.readouterr().out
    assert "to Te Whare Āwhina under ask-cli-referrals" in out
    assert "Privacy Act 2020, IPP 11(1)(a); Privacy Act 2020, IPP 10" in out
    assert main([*share, "--agreement", "nope"]) == 2
    assert "no agreement has the id 'nope'" in capsys.readouterr().err
    late = [*share[:-1], "2027-02-01T09:00:00+13:00", "--agreement", "ask-cli-referrals"]
    assert main([*late, "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["reasons"] == ["agreement-expired"]
    assert found["explanation"].startswith("cannot disclose AskVisit to 'Te Whare Āwhina'")


def test_ask_table_lists_every_field_purpose_and_role(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["ask", "table", "--records", "_asking", "--role", "caseworker=SENSITIVE"]
    assert main([*argv, "--role", "analyst=in-confidence", "--type", "AskVisit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.split() == ["AskVisit.address", "service-delivery", "caseworker", "no"]
        for line in lines
    )
    assert main([*argv, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["role"] for row in rows} == {"caseworker"}
    assert main(["ask", "table", "--records", "_asking", "--role", "caseworker"]) == 2
    assert "is not ROLE=CLEARANCE" in capsys.readouterr().err
