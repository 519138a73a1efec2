"""Reading ledger lines by their shape changes no verdict: `verify_ledger` finds what the
verifier found before (kept as `_verify_reference`), on random ledgers with random damage,
and `chained_entry` reads every line, sound or not, as decoding it in full does."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _verify_reference import reference_chained_entry, reference_verify
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purposeful import SENSITIVE, Actor, Decision, Outcome, Purpose, ScopeReport
from purposeful.audit import Ledger, PseudonymKey
from purposeful.audit.ledger import default_checkpoints_path, verify_ledger
from purposeful.audit.ledger.format import chained_entry

SIGNING = Ed25519PrivateKey.generate()
PUBLIC = SIGNING.public_key()
PSEUDONYMS = PseudonymKey.generate()
WORK = Purpose("service-delivery", title="Work", description="Work", benefit="Work")
STAFF = Actor("staff-0001", role="caseworker", clearance=SENSITIVE)
START = datetime(2026, 5, 1, tzinfo=UTC)


def report(number: int, people: int, *, part: int = 0, final: bool = True) -> ScopeReport:
    """A scope report naming *people* people (one of them by a raw id when *number* is 7)."""
    subjects = frozenset(
        f"raw-{number}" if number == 7 and i == 0 else PSEUDONYMS.pseudonym(f"p-{number + i}")
        for i in range(people)
    )
    decision = Decision(
        outcome=Outcome.ALLOWED if number % 4 else Outcome.WOULD_DENY,
        record_type="Client",
        field=("name", "address", "health")[number % 3],
        purpose=WORK,
        actor=STAFF,
        sensitivity=SENSITIVE,
    )
    return ScopeReport(
        purpose=WORK,
        actor=STAFF,
        opened_at=START + timedelta(minutes=number),
        closed_at=START + timedelta(minutes=number, seconds=3),
        decisions=(decision,),
        subject_count=len(subjects) + (number % 6 == 5),
        subjects=subjects,
        scope_id=f"{number // 2:032x}" if not final or part else f"{number:032x}",
        part=part,
        final=final,
        reads=dict.fromkeys(subjects, frozenset({f"Client.{decision.field}"})),
    )


_LEDGERS: dict[tuple[int, int, bool], Path] = {}


def written(count: int, every: int, closed: bool) -> Path:
    """A ledger of *count* scope lines, a checkpoint every *every*; written once per test
    run. Halfway, its writer is killed while writing a line, and the next one to open it
    sets that line aside: the ledger holds a recovery line. Unless *closed*, the copy is
    taken while the ledger is still open."""
    key = (count, every, closed)
    if key not in _LEDGERS:
        folder = Path(tempfile.mkdtemp(prefix="purposeful-same-verdicts-"))
        first = folder / "killed.jsonl"
        ledger = Ledger(first, signing_key=SIGNING, checkpoint_every=every, fsync="checkpoint")
        for number in range(1, count // 2 + 1):
            ledger.emit(report(number, number % 4, part=number % 3 % 2, final=number % 3 != 2))
        path = folder / "audit.jsonl"  # the files as the killed writer left them, torn
        path.write_bytes(first.read_bytes() + b'{"actor":"staff-0001","decisions":[{"ba')
        shutil.copy(default_checkpoints_path(first), default_checkpoints_path(path))
        ledger.close()
        ledger = Ledger(path, signing_key=SIGNING, checkpoint_every=every, fsync="checkpoint")
        for number in range(count // 2 + 1, count + 1):
            ledger.emit(report(number, number % 4, part=number % 3 % 2, final=number % 3 != 2))
        if closed:
            ledger.close()
        else:
            shutil.copy(path, folder / "copy.jsonl")
            shutil.copy(default_checkpoints_path(path), folder / "copy.jsonl.checkpoints")
            ledger.close()
            path = folder / "copy.jsonl"
        _LEDGERS[key] = path
    return _LEDGERS[key]


@st.composite
def damage(draw: st.DrawFn, lines: list[bytes]) -> list[bytes]:
    """*lines* with one to three random changes of the kinds a ledger suffers."""
    lines = list(lines)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "drop", "copy", "swap", "tear", "edit", "space"]))
        at = draw(st.integers(0, len(lines) - 1))
        if kind == "flip" and lines[at]:
            line = bytearray(lines[at])
            i = draw(st.integers(0, len(line) - 1))
            line[i] = draw(st.integers(0, 255))
            lines[at] = bytes(line)
        elif kind == "drop" and len(lines) > 1:
            del lines[at]
        elif kind == "copy":
            lines.insert(draw(st.integers(0, len(lines))), lines[at])
        elif kind == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == "tear":
            lines[-1] = lines[-1][: draw(st.integers(0, max(0, len(lines[-1]) - 1)))]
        elif kind == "edit":  # a value changed, the line still canonical JSON
            try:
                document = json.loads(lines[at])
            except ValueError:
                continue
            if not isinstance(document, dict) or not document:
                continue
            name = draw(st.sampled_from(sorted(document)))
            document[name] = draw(
                st.one_of(st.integers(-3, 10**6), st.text(max_size=8), st.booleans(), st.none())
            )
            lines[at] = json.dumps(document, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        elif kind == "space":  # the same JSON, not in canonical form
            lines[at] = lines[at].replace(b'":', b'": ', 1)
    return lines


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.integers(1, 14),
    st.integers(1, 5),
    st.booleans(),
    st.data(),
)
def test_verify_ledger_finds_what_the_old_verifier_found(
    count: int, every: int, closed: bool, data: st.DataObject
) -> None:
    source = written(count, every, closed)
    lines = source.read_bytes().splitlines(keepends=True)
    changed = data.draw(st.one_of(st.just(lines), damage(lines)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.jsonl"
        path.write_bytes(b"".join(changed))
        shutil.copy(default_checkpoints_path(source), default_checkpoints_path(path))
        # twice: the second reads the shapes the first learnt
        for _ in range(2):
            assert verify_ledger(path, PUBLIC) == reference_verify(path, PUBLIC)


def test_an_intact_ledger_verifies_as_before() -> None:
    path = written(14, 3, True)
    result = verify_ledger(path, PUBLIC)
    assert result.ok
    assert len(result.notes) == 1  # its recovery line
    assert result == reference_verify(path, PUBLIC)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["mac", "seq", "type", "a", "z", "é"]), children, max_size=3
        )
    ),
    max_leaves=8,
)


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """A line that is, or nearly is, a chained ledger line: canonical or not."""
    document = draw(st.dictionaries(st.sampled_from(["a", "m", "subjects", "z"]), _JSON))
    if draw(st.booleans()):
        document["mac"] = draw(st.sampled_from(["ab" * 32, "AB" * 32, "ab" * 31, 7]))
    if draw(st.booleans()):
        document["seq"] = draw(st.sampled_from([0, 1, 12, -1, 1.0, True, "1", 10**30]))
    if draw(st.booleans()):
        document["type"] = draw(st.sampled_from(["scope", "format", "recovery", "header", 1]))
    raw = json.dumps(
        document,
        sort_keys=draw(st.booleans()),
        separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])),
        ensure_ascii=draw(st.booleans()),
    ).encode()
    if draw(st.booleans()) and raw:
        at = draw(st.integers(0, len(raw) - 1))
        raw = (
            raw[:at]
            + draw(st.sampled_from([b"0", b"1", b" ", b'"', b"\\", b"\x7f", b""]))
            + raw[at + 1 :]
        )
    return raw


@settings(max_examples=600, deadline=None)
@given(st.lists(lines(), min_size=1, max_size=6))
def test_a_line_reads_as_decoding_it_in_full_reads_it(raws: list[bytes]) -> None:
    for raw in raws * 2:  # the second time, by the shapes the first taught
        assert chained_entry(raw) == reference_chained_entry(raw)


def test_a_line_like_a_known_one_but_for_a_key_or_a_digit_is_still_checked() -> None:
    path = written(14, 3, True)
    line = path.read_bytes().splitlines()[2]
    assert chained_entry(line) == reference_chained_entry(line)
    changed = [
        line.replace(b'"seq":', b'"sep":'),  # another key
        line.replace(b'"seq":', b'"seq":0'),  # a leading zero
        line.replace(b'"type":"scope"', b'"type":"header"'),
        line.replace(b'"mac":"', b'"mac":"A', 1),
        line.replace(b'"actor":"', b'"actor":"\\u0041', 1),
        line.replace(b'"actor":"', b'"actor":"\x7f', 1),
        line.replace(b',"seq":', b', "seq":'),
    ]
    # a fraction of the same form that is not canonical, after one that is
    for fraction in (b"0.30000000000000004", b"0.10000000000000001"):
        changed.append(line.replace(b'"part":0', b'"part":' + fraction))
    for raw in changed:
        assert raw != line
        assert chained_entry(raw) == reference_chained_entry(raw)
    assert all(isinstance(chained_entry(raw), str) for raw in changed[:-2])
    assert not isinstance(chained_entry(changed[-2]), str)  # canonical: its mac is the check
    assert chained_entry(changed[-1]) == reference_chained_entry(changed[-1])
    assert isinstance(chained_entry(changed[-1]), str)
