"""The answer about one person never shows a subject from the inputs but theirs.

Services may write subjects that are not pseudonyms: a raw client id, ``name:id``, or what
a pseudonymiser of their own made. Those may be other people's identifiers: the answer
counts the scopes that hold them and never shows them; of other keys' pseudonyms it shows
only the key id. Inputs are written by hand (`_audit_inputs`), as a ledger and as traces.
"""

from __future__ import annotations

import hashlib
import html
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from _audit_inputs import HandPart, HandScope, write_ledger, write_traces
from purposeful.audit import PseudonymKey
from purposeful.audit.history import SubjectQuery, access_history
from purposeful.audit.report import Report, build_report, render_html, render_text

KEY = PseudonymKey("feed0004", hashlib.sha256(b"purposeful tests: report subjects").digest())
OTHER_KEY = PseudonymKey("0be1fa11", hashlib.sha256(b"purposeful tests: another key").digest())
PERSON = "C-4410"
MINE = KEY.pseudonym(PERSON)
NOT_PSEUDONYMS = ("C-9999-OTHER-PERSON", "Mere Parata:2044", "FEED0004:" + "AB" * 16)


def scope(number: int, *subjects: str) -> HandScope:
    part = HandPart({subject: frozenset({"Client.name"}) for subject in subjects})
    return HandScope(f"{number:024x}", (part,))


def reports(folder: Path, scopes: list[HandScope]) -> list[Report]:
    """The report about the person, from *scopes* written as a ledger and as traces."""
    subject = SubjectQuery.for_subject(PERSON, [KEY])
    ledger = write_ledger(folder / "audit.jsonl", scopes)
    traces = write_traces(folder / "traces.jsonl", scopes)
    return [
        build_report(ledgers=[ledger], subject=subject),
        build_report([traces], subject=subject),
    ]


def pages(report: Report) -> str:
    return render_text(report) + render_html(report)


def test_subjects_that_are_not_pseudonyms_are_counted_never_shown(tmp_path: Path) -> None:
    scopes = [scope(0, MINE), *(scope(n, raw) for n, raw in enumerate(NOT_PSEUDONYMS, 1))]
    for report in reports(tmp_path, scopes):
        answer = report.subject
        assert answer is not None
        assert answer.non_pseudonym_scopes == 3
        assert answer.other_key_ids == ()
        assert not answer.complete
        shown = pages(report)
        for raw in NOT_PSEUDONYMS:
            assert raw not in shown
            assert html.escape(raw) not in shown
        for word in ("C-9999", "Mere", "FEED0004"):
            assert word not in shown
        said = " ".join(render_text(report).split())
        assert "Incomplete: 3 scopes list subjects that are not pseudonyms" in said


def test_other_keys_are_named_by_key_id_only(tmp_path: Path) -> None:
    other = OTHER_KEY.pseudonym(PERSON)
    for report in reports(tmp_path, [scope(0, MINE), scope(1, other, "Mere Parata:2044")]):
        answer = report.subject
        assert answer is not None
        assert answer.other_key_ids == ("0be1fa11",)
        assert answer.non_pseudonym_scopes == 1
        shown = pages(report)
        assert "0be1fa11" in shown
        assert other not in shown
        assert other.partition(":")[2] not in shown
        assert "Mere" not in shown


def test_the_access_history_counts_scopes_listing_raw_identifiers(tmp_path: Path) -> None:
    ledger = write_ledger(tmp_path / "audit.jsonl", [scope(0, MINE), scope(1, "C-1", MINE)])
    answer = access_history(SubjectQuery.for_subject(PERSON, [KEY]), [ledger])
    assert len(answer.accesses) == 2
    assert answer.non_pseudonym_scopes == 1
    assert not answer.complete


pseudonym_like = st.builds(
    lambda key, digits: f"{key}:{digits}",
    st.from_regex(r"[0-9a-fA-F]{6,9}", fullmatch=True),
    st.from_regex(r"[0-9a-fA-F]{30,34}", fullmatch=True),
)
any_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=6, max_size=30)
subjects = st.one_of(
    pseudonym_like,
    any_text,
    any_text.map(lambda name: f"{name}:{len(name)}"),
    st.sampled_from(NOT_PSEUDONYMS),
    st.sampled_from([PERSON + suffix for suffix in ("", "x", ":1")]),
)


def _words(value: str) -> list[str]:
    """The long runs of letters and digits in *value*: an escaped form still shows them."""
    return [word for word in re.findall(r"[A-Za-z0-9]+", value) if len(word) >= 8]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(listed=st.lists(st.lists(subjects, min_size=1, max_size=3), min_size=1, max_size=4))
def test_no_subject_but_the_persons_pseudonym_is_ever_shown(listed: list[list[str]]) -> None:
    scopes = [scope(n, *names) for n, names in enumerate(listed)]
    scopes.append(scope(len(listed), MINE))
    everyone = {name for names in listed for name in names}
    with tempfile.TemporaryDirectory() as folder:
        found = reports(Path(folder), scopes)
        baseline = reports(Path(folder), [scope(0, MINE)])
        # the sentences a page adds when others' ids are raw or under another key
        others = reports(Path(folder), [scope(0, MINE), scope(1, *NOT_PSEUDONYMS)])
    # the words of both kinds of page, from a ledger and from traces (only the latter says
    # which spans are read)
    vocabulary = "".join(pages(report) for report in [*baseline, *others])
    for report in found:
        assert report.subject is not None
        key_ids = report.subject.other_key_ids
        shown = pages(report)
        for name in everyone - {MINE}:
            for form in (name, html.escape(name), *_words(name)):
                # a word the page says anyway, or the key id of a pseudonym, is not a leak
                if form in vocabulary or any(form in key_id for key_id in key_ids):
                    continue
                assert form not in shown
        for key_id in report.subject.other_key_ids:
            assert re.fullmatch(r"[0-9a-f]{8}", key_id)


@settings(max_examples=30, deadline=None)
@given(name=any_text)
def test_every_scope_listing_something_not_a_pseudonym_is_counted(name: str) -> None:
    assume(not re.fullmatch(r"[0-9a-f]{8}:[0-9a-f]{32}", name))
    with tempfile.TemporaryDirectory() as folder:
        (ledger, traces) = reports(Path(folder), [scope(0, MINE), scope(1, name)])
    for report in (ledger, traces):
        assert report.subject is not None
        assert report.subject.non_pseudonym_scopes == 1
