"""Naming the people (`name_people`), the pages (`assessment_document`,
`notification_document`) and ``purposeful breach assess``: subject ids appear only in the
file the operator names."""

from __future__ import annotations

import base64
import hashlib
import logging
import stat
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _audit_inputs import MONDAY, HandPart, HandScope, write_ledger, write_traces
from purposeful import cli
from purposeful._shared.agency import AgencyDetails
from purposeful.audit import PseudonymKey
from purposeful.breach import (
    BLIND_SPOTS,
    COMMISSIONER_FACTS,
    HARM_FACTORS,
    Assessment,
    Compromise,
    Notification,
    Trail,
    assess,
    assessment_document,
    name_people,
    notification_document,
    render_html,
    render_markdown,
    render_text,
)
from purposeful.errors import BreachAssessmentError

KEY = PseudonymKey("b4eac401", hashlib.sha256(b"purposeful tests: naming people").digest())
OLD_KEY = PseudonymKey("b4eac402", hashlib.sha256(b"purposeful tests: an old key").digest())
CLIENTS = tuple(f"client-{n:03d}" for n in range(8))
DAY = timedelta(days=1)
AGENCY = AgencyDetails("Te Whare Tauira", email="privacy@tauira.example.nz")


def _trail_file(tmp_path: Path, read: dict[str, str]) -> Path:
    """A ledger of one scope by staff-17 reading Client.name of each id in *read* under the
    key named by its value ("new" or "old")."""
    keys = {"new": KEY, "old": OLD_KEY}
    reads = {keys[k].pseudonym(subject): frozenset({"Client.name"}) for subject, k in read.items()}
    scope = HandScope("s1", (HandPart(reads=reads),), actor="staff-17")
    return write_ledger(tmp_path / "audit.jsonl", [scope])


def _assessed(path: Path) -> Assessment:
    with Trail.from_files(ledgers=[path], engine="stdlib") as trail:
        return assess(trail, Compromise(MONDAY, MONDAY + DAY, actors={"staff-17"}))


@settings(max_examples=30, deadline=None)
@given(
    read=st.dictionaries(st.sampled_from(CLIENTS), st.sampled_from(["new", "old"]), max_size=6),
    supplied=st.frozensets(st.sampled_from(CLIENTS)),
)
def test_named_people_are_exactly_those_read_among_the_ids_given(
    tmp_path_factory: pytest.TempPathFactory, read: dict[str, str], supplied: frozenset[str]
) -> None:
    folder = tmp_path_factory.mktemp("named")
    assessment = _assessed(_trail_file(folder, read))
    target = folder / "people.txt"
    named = name_people(assessment, sorted(supplied), [KEY, OLD_KEY], target)
    written = target.read_text(encoding="utf-8").splitlines()
    assert written == sorted(set(read) & supplied)
    assert (named.named, named.not_found) == (len(written), len(read) - len(written))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    for subject in read:
        assert subject not in repr(named) + named.describe() + repr(assessment)


def test_naming_needs_a_key_and_a_new_file_and_writes_nothing_otherwise(tmp_path: Path) -> None:
    assessment = _assessed(_trail_file(tmp_path, {CLIENTS[0]: "new"}))
    target = tmp_path / "people.txt"
    with pytest.raises(BreachAssessmentError, match="needs the pseudonym key"):
        name_people(assessment, CLIENTS, [], target)
    with pytest.raises(BreachAssessmentError, match="are str, not int"):
        name_people(assessment, [1], [KEY], target)  # type: ignore[list-item]
    assert not target.exists()
    target.write_text("kept\n")
    with pytest.raises(BreachAssessmentError, match="exists"):
        name_people(assessment, CLIENTS, [KEY], target)
    assert target.read_text() == "kept\n"
    name_people(assessment, CLIENTS, [KEY], target, overwrite=True)
    assert target.read_text() == f"{CLIENTS[0]}\n"
    with pytest.raises(BreachAssessmentError, match="cannot write"):
        name_people(assessment, CLIENTS, [KEY], tmp_path / "missing" / "people.txt")


def test_the_assessment_page_lists_blind_spots_facts_and_factors_and_leaves_the_decision(
    tmp_path: Path,
) -> None:
    assessment = _assessed(_trail_file(tmp_path, {CLIENTS[0]: "new", CLIENTS[1]: "new"}))
    document = assessment_document(assessment)
    for render in (render_text, render_markdown, render_html):
        page = render(document)
        assert "not for this assessment" in page.replace("\n", " ")
        assert KEY.pseudonym(CLIENTS[0]) not in page
        assert CLIENTS[0] not in page
    text = " ".join(render_text(document).split())
    for line in (*BLIND_SPOTS, *COMMISSIONER_FACTS, *HARM_FACTORS):
        assert " ".join(line.split()) in text
    assert "2 people whose records were read or disclosed (exact" in text
    assert "serious harm is likely" in text
    assert "harm is not likely" not in text


def test_the_draft_notification_is_plain_and_names_nobody(tmp_path: Path) -> None:
    assessment = _assessed(_trail_file(tmp_path, {CLIENTS[0]: "new"}))
    wording = Notification(
        AGENCY,
        what_happened="A staff member's password was used by someone else.",
        what_we_did="We locked the account and checked every record it opened.",
        what_you_can_do="Watch for messages that claim to be from us.",
    )
    document = notification_document(assessment, wording)
    html = render_html(document)
    assert html.startswith("<!DOCTYPE html>")
    text = render_text(document)
    for expected in (
        "Draft: to be reviewed by a person",
        "A staff member's password",
        "We are telling the Privacy Commissioner.",  # a draft claims nothing not yet done
        "privacy@tauira.example.nz",
        "Watch for messages",
    ):
        assert expected in text
    told = render_text(
        notification_document(assessment, attrs.evolve(wording, commissioner_told=True))
    )
    assert "We have told the Privacy Commissioner." in told
    assert "Client" in text  # the kind of information, by record type without categories
    assert CLIENTS[0] not in html + text + render_markdown(document)


@pytest.mark.parametrize("told", [False, True])
def test_the_command_writes_the_people_only_to_the_named_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    told: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    path = _trail_file(tmp_path, {CLIENTS[0]: "new", CLIENTS[1]: "new"})
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text(
        '{"key_id": "b4eac401", "secret": "' + base64.b64encode(KEY.secret).decode() + '"}'
    )
    key_file.chmod(0o600)
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(CLIENTS) + "\n")
    people = tmp_path / "people.txt"
    notice = tmp_path / "notice.md"
    status = cli.main(
        [
            "breach",
            "assess",
            "--ledger",
            str(path),
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-03",
            "--actor",
            "staff-17",
            "--engine",
            "stdlib",
            "--people",
            str(people),
            "--subject-ids",
            str(ids),
            "--key-file",
            str(key_file),
            "--notification",
            str(notice),
            "--agency",
            AGENCY.name,
            "--contact",
            "privacy@tauira.example.nz",
            "--what-happened",
            "A password was used by someone else.",
            "--what-we-did",
            "We locked the account.",
            *(["--commissioner-told"] if told else []),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "2 people named in" in out
    assert people.read_text() == f"{CLIENTS[0]}\n{CLIENTS[1]}\n"
    assert notice.read_text().startswith("# About your information at Te Whare Tauira")
    said = "We have told" if told else "We are telling"
    assert f"{said} the Privacy Commissioner." in notice.read_text()
    for subject in CLIENTS:
        assert subject not in out + err + caplog.text + notice.read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--role", "casewrker"], "did you mean 'caseworker'"),
        (["--people", "p.txt"], "--people, --subject-ids and --key-file go together"),
        (["--notification", "n.md"], "--notification needs --agency"),
        (["--from", "soon"], "is not a date"),
    ],
)
def test_the_command_reports_a_mistake_in_one_line_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    path = write_traces(
        tmp_path / "t.json",
        [HandScope("s1", (HandPart(reads={KEY.pseudonym("x"): frozenset({"Client.name"})}),))],
    )
    base = ["breach", "assess", str(path), "--from", "2026-03-02", "--to", "2026-03-03"]
    out = tmp_path / "assessment.md"
    status = cli.main(
        [*base, "--engine", "stdlib", "--actor", "staff-0042", "--out", str(out), *extra]
    )
    _out, err = capsys.readouterr()
    assert status == 2
    assert message in err
    assert err.count("\n") == 1
    assert not out.exists()  # a mistake writes nothing, the assessment included


def test_the_command_needs_something_named_as_compromised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_traces(tmp_path / "t.json", [HandScope("s1", (HandPart(),))])
    status = cli.main(["breach", "assess", str(path), "--from", "2026-03-02", "--to", "2026-03-03"])
    assert status == 2
    assert "name what was compromised" in capsys.readouterr().err
