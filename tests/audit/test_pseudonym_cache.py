"""A pseudonym key's cache: the same pseudonyms, cheaper, and the only place a raw subject id
is kept after a scope reports: bounded, never shown, pickled or copied, and cleared on call.

Also the check that a pseudonym is not a subject id, which runs on every pseudonym of every
report: its quick path must say what the full check says.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import hmac
import pickle
import threading
import traceback
import types
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, FailingSink, RecordingSink, case
from purposeful import use
from purposeful._config import is_subject
from purposeful._shared.pseudonym_cache import PseudonymCache
from purposeful.audit import PseudonymKey, SpanSink
from purposeful.errors import AuditSinkError, ConfigurationError

SECRET = bytes(range(32))


def reference(key: PseudonymKey, subject: str) -> str:
    """The documented pseudonym: the first 16 bytes of HMAC-SHA256, in hex, after the key id."""
    data = subject.encode("utf-8", "surrogatepass")
    return f"{key.key_id}:{hmac.digest(key.secret, data, hashlib.sha256)[:16].hex()}"


_NOT_ENTERED = (type, types.ModuleType, types.FunctionType)


def reachable(*roots: object, skip: type | None = None) -> Iterator[object]:
    """Every object reachable from *roots* through `gc.get_referents`, not entering modules,
    classes, functions (their globals reach everything) or instances of *skip*."""
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        if (skip is not None and isinstance(obj, skip)) or isinstance(obj, _NOT_ENTERED):
            continue
        todo.extend(gc.get_referents(obj))


def held(subject: str, *roots: object, skip: type | None = None) -> bool:
    return any(type(o) is str and subject in o for o in reachable(*roots, skip=skip))


# --- the same pseudonyms -----------------------------------------------------------------------


@given(st.text(st.characters(codec=None)), st.sampled_from([0, 1, 4096]))
def test_a_pseudonym_is_the_documented_hmac_with_or_without_the_cache(
    subject: str, size: int
) -> None:
    key = PseudonymKey("1a2b3c4d", SECRET, cache_size=size)
    first = key.pseudonym(subject)
    assert first == reference(key, subject)
    assert key.pseudonym(subject) == first  # from the cache, if any
    key.clear_cache()
    assert key.pseudonym(subject) == first


def test_different_ids_get_different_pseudonyms_from_a_warm_cache() -> None:
    key = PseudonymKey("1a2b3c4d", SECRET, cache_size=16)
    ids = [f"C-{n}" for n in range(64)]
    first = [key.pseudonym(i) for i in ids]
    assert [key.pseudonym(i) for i in ids] == first == [reference(key, i) for i in ids]
    assert len(set(first)) == len(ids)


def test_a_str_subclass_gets_the_same_pseudonym_and_is_not_kept() -> None:
    class Subject(str):
        def __hash__(self) -> int:
            return 0

    key = PseudonymKey("1a2b3c4d", SECRET)
    assert key.pseudonym(Subject("C-77")) == reference(key, "C-77")
    assert not any(isinstance(o, Subject) for o in reachable(key))


def test_a_subject_that_is_not_a_str_is_still_a_type_error() -> None:
    key = PseudonymKey.generate()
    with pytest.raises(TypeError, match=r"convert it with str\(\) first"):
        key.pseudonym(42)  # type: ignore[arg-type]


def test_threads_sharing_a_key_get_the_right_pseudonyms() -> None:
    key = PseudonymKey("1a2b3c4d", SECRET, cache_size=8)
    wrong: list[str] = []

    def work(offset: int) -> None:
        for n in range(400):
            subject = f"C-{(n + offset) % 20}"
            if key.pseudonym(subject) != reference(key, subject):
                wrong.append(subject)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not wrong


@pytest.mark.parametrize("size", [-1, True, 1.5, "10", None])
def test_a_cache_size_that_is_not_a_whole_number_is_refused(size: Any) -> None:
    with pytest.raises(
        ConfigurationError, match=r"PseudonymKey\(cache_size=\) takes a whole number"
    ):
        PseudonymKey("1a2b3c4d", SECRET, cache_size=size)


def test_the_cache_size_is_no_part_of_the_key() -> None:
    small = PseudonymKey("1a2b3c4d", SECRET, cache_size=1)
    assert small == PseudonymKey("1a2b3c4d", SECRET)
    assert hash(small) == hash(PseudonymKey("1a2b3c4d", SECRET))
    assert small.pseudonym("C-1") == PseudonymKey("1a2b3c4d", SECRET).pseudonym("C-1")


# --- bounded, hidden, cleared --------------------------------------------------------------


def test_the_cache_is_bounded() -> None:
    key = PseudonymKey("1a2b3c4d", SECRET, cache_size=8)
    for n in range(100):
        key.pseudonym(f"subject-{n:03d}")
    kept = {o for o in reachable(key) if type(o) is str and o.startswith("subject-")}
    assert kept == {f"subject-{n:03d}" for n in range(92, 100)}  # the 8 used last


def test_the_cache_keeps_the_ids_used_lately_not_the_first_ones() -> None:
    key = PseudonymKey("1a2b3c4d", SECRET, cache_size=2)
    key.pseudonym("subject-a")
    key.pseudonym("subject-b")
    key.pseudonym("subject-a")  # used again: now the newest
    key.pseudonym("subject-c")  # pushes out the least recently used, b
    assert held("subject-a", key)
    assert not held("subject-b", key)


def test_a_cache_of_size_zero_keeps_nothing() -> None:
    key = PseudonymKey("1a2b3c4d", SECRET, cache_size=0)
    key.pseudonym("subject-zero")
    assert not held("subject-zero", key)


def test_clear_cache_forgets_every_id() -> None:
    key = PseudonymKey("1a2b3c4d", SECRET)
    for n in range(10):
        key.pseudonym(f"subject-{n}")
    assert held("subject-3", key)
    key.clear_cache()
    assert not any(held(f"subject-{n}", key) for n in range(10))


def test_repr_shows_no_id_and_no_pseudonym() -> None:
    key = PseudonymKey("1a2b3c4d", SECRET)
    pseudonym = key.pseudonym("C-SECRET-ID")
    cache = next(o for o in reachable(key) if isinstance(o, PseudonymCache))
    for text in (repr(key), str(key), repr(cache), str(cache)):
        assert "C-SECRET-ID" not in text
        assert pseudonym.split(":")[1] not in text
    assert repr(cache) == "<PseudonymCache: 1 entries>"
    assert repr(key) == "PseudonymKey(key_id='1a2b3c4d', secret=<hidden>)"


@pytest.mark.parametrize("duplicate", [copy.copy, copy.deepcopy])
def test_a_copy_of_a_key_starts_with_an_empty_cache(duplicate: Any) -> None:
    key = PseudonymKey("1a2b3c4d", SECRET)
    key.pseudonym("C-COPIED")
    twin = duplicate(key)
    assert twin == key
    assert not held("C-COPIED", twin)
    assert twin.pseudonym("C-COPIED") == key.pseudonym("C-COPIED")


def test_a_pickled_key_carries_no_id() -> None:
    key = PseudonymKey("1a2b3c4d", SECRET, cache_size=7)
    key.pseudonym("C-PICKLED")
    data = pickle.dumps(key)
    assert b"C-PICKLED" not in data
    back = pickle.loads(data)
    assert back == key
    assert back.cache_size == 7
    assert back.pseudonym("C-PICKLED") == key.pseudonym("C-PICKLED")


def test_the_cache_itself_cannot_be_pickled_or_copied() -> None:
    cache = PseudonymCache("1a2b3c4d:", SECRET, 16, 4)
    cache.pseudonym("C-1")
    with pytest.raises(TypeError, match="not pickled or copied"):
        pickle.dumps(cache)
    with pytest.raises(TypeError, match="not pickled or copied"):
        copy.copy(cache)


# --- after scopes: the cache is the only place a raw id stays ---------------------------------


def test_after_scopes_a_raw_id_is_held_only_by_the_keys_cache() -> None:
    key = PseudonymKey("1a2b3c4d", SECRET)
    provider = TracerProvider(shutdown_on_exit=False)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sink = SpanSink(provider)
    recording = RecordingSink()
    purposeful.configure(sinks=[sink, recording], pseudonymise=key.pseudonym)
    for n in range(3):
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case(client_id=f"C-RAW-{n}").address
    roots = (sink, key, recording, purposeful.get_configuration(), exporter)
    # the walk can find the ids: they are in the cache
    assert held("C-RAW-1", *roots)
    # and only there
    assert not held("C-RAW-1", *roots, skip=PseudonymCache)
    key.clear_cache()
    assert not held("C-RAW-1", *roots)
    assert len(recording.reports) == 3
    assert all(
        r.subjects == {reference(key, f"C-RAW-{n}")} for n, r in enumerate(recording.reports)
    )


def test_a_failing_sinks_traceback_holds_no_raw_id() -> None:
    key = PseudonymKey("1a2b3c4d", SECRET)
    purposeful.configure(sinks=[FailingSink()], pseudonymise=key.pseudonym)
    with pytest.raises(AuditSinkError) as caught, use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case(client_id="C-TRACED").address
    text = "".join(traceback.format_exception(caught.value))
    assert "C-TRACED" not in text
    frames = [frame for frame, _ in traceback.walk_tb(caught.value.__traceback__)]
    cause = caught.value.__cause__
    assert cause is not None
    frames += [frame for frame, _ in traceback.walk_tb(cause.__traceback__)]
    for frame in frames:
        for value in frame.f_locals.values():
            assert not held("C-TRACED", value, skip=PseudonymCache)


# --- the check that a pseudonym is not a subject id ------------------------------------------


def _normal_slowly(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _is_subject_slowly(subject: str, pseudonym: str) -> bool:
    """The check as it was written before it had a quick path."""
    bare = _normal_slowly(subject)
    return pseudonym == subject or (bool(bare) and _normal_slowly(pseudonym) in (bare, bare[::-1]))


#: (disguise, whether the check must catch it)
_DISGUISES = [
    (lambda s: s, True),
    (lambda s: s.upper(), True),
    (lambda s: s[::-1], True),
    (lambda s: "-".join(s), True),
    (lambda s: f"#{s}!", True),
    (lambda s: s.swapcase()[::-1] + ".", True),
    (lambda s: s + "x", False),
    (lambda s: "0" + s, False),
]
_disguises = st.sampled_from(_DISGUISES)


@given(st.text(), st.text())
def test_the_quick_check_agrees_with_the_full_one(subject: str, pseudonym: str) -> None:
    assert is_subject(subject, pseudonym) == _is_subject_slowly(subject, pseudonym)


@given(st.text(min_size=1), _disguises)
def test_the_quick_check_agrees_on_disguised_ids(subject: str, disguise: Any) -> None:
    pseudonym = disguise[0](subject)
    assert is_subject(subject, pseudonym) == _is_subject_slowly(subject, pseudonym)


@given(st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True), _disguises)
def test_a_disguised_ascii_id_is_caught(subject: str, disguise: Any) -> None:
    make, caught = disguise
    assert is_subject(subject, make(subject)) is caught


@given(st.text(min_size=1))
def test_a_key_pseudonym_is_never_taken_for_its_subject(subject: str) -> None:
    key = PseudonymKey("1a2b3c4d", SECRET)
    assert not is_subject(subject, key.pseudonym(subject))
