"""Red team: consent enforcement at list-view speed (the scope's batches, the cache across
scopes, the care requirements applied after each batch), against a model of the rules in
docs/consent.md and docs/people-who-need-more-care.md written from the pages alone.

Many people with equal and unequal histories, the same people across scopes, events and
flag changes between scopes, two stores configured one after another, subject ids held as
ints by one record type and as text by another, a purpose that counts only a
representative's consent for children beside ordinary ones: after every scope, every read
must be what the person's own history says, and nobody else's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import CONSENT, SENSITIVE, Actor, Purpose, PurposeRegistry
from purposeful.consent import MemoryConsentStore, Relationship, Representative
from purposeful.consent.sqlite import SQLiteConsentStore
from purposeful.errors import InvalidConsentEvent

OUTCOMES = Purpose(
    id="research.outcomes",
    title="Outcomes research",
    description="Research into what difference the service made.",
    benefit="The service changes in ways that help.",
)
REGISTRY = PurposeRegistry.default().extend([OUTCOMES])
#: research (and so research.outcomes) counts only a representative's consent for a child
#: (the default pack's example); service-improvement counts anyone's
CARED = {"research", "research.outcomes"}
PURPOSES = ("research", "research.outcomes", "service-improvement")
RESEARCHER = Actor("staff-31", "researcher", SENSITIVE)
PEOPLE = 3


# Fields are declared for default purposes only (a scope of research.outcomes reads those
# declared for research): a record declared for a purpose of REGISTRY alone would make
# every other test's configure(registry=...) refuse the registry it lacks.
@purposeful.record(subject="client_id", registry=REGISTRY)
class LaneNumbered:
    """A row of a table keyed by integers."""

    client_id: int
    score: int = purposeful.field(purposes={"research": CONSENT, "service-improvement": CONSENT})


@purposeful.record(subject="client_id", registry=REGISTRY)
class LaneLettered:
    """A row of another table, keyed by the same ids as text."""

    client_id: str
    note: str = purposeful.field(purposes={"research": CONSENT, "service-improvement": CONSENT})


def _mother(at: datetime) -> Representative:
    return Representative(
        Relationship.PARENT, evidence="intake-0117", verified_by="staff-07", verified_at=at
    )


GRANTS = {"give", "renew"}


@dataclass
class Model:
    """What the pages say each person's consent is: the latest event that counts decides
    (no expiries here), where a child's own grants do not count for research."""

    events: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)

    def add(self, subject: str, kind: str, purpose: str, by_representative: bool) -> None:
        self.events.setdefault(subject, []).append((kind, purpose, by_representative))

    def in_force(self, subject: str, purpose: str, child: bool) -> bool:
        covering = {purpose, *(["research"] if purpose == "research.outcomes" else [])}
        counted = [
            kind
            for kind, about, by_representative in self.events.get(subject, [])
            if about in covering
            and (kind not in GRANTS or by_representative or not (child and purpose in CARED))
        ]
        return bool(counted) and counted[-1] in GRANTS


class Flags:
    """The agency's flags, changed between scopes."""

    def __init__(self) -> None:
        self.children: set[str] = set()
        self.asked: list[list[str]] = []

    def care_flags(self, subjects: list[str]) -> dict[str, set[str]]:
        self.asked.append(list(subjects))
        return {s: {"child-or-young-person"} for s in subjects if s in self.children}


EVENT = st.tuples(
    st.integers(0, PEOPLE - 1),
    st.sampled_from(["give", "renew", "withdraw", "refuse"]),
    st.sampled_from(("research", "research.outcomes", "service-improvement")),
    st.booleans(),  # by the representative
    st.integers(0, 1),  # which store
)
SCOPE = st.tuples(
    st.sampled_from(PURPOSES),
    st.lists(st.integers(0, 2 * PEOPLE - 1), max_size=12),  # reads: person, and which table
    st.booleans(),  # prefetch first
    st.integers(0, 1),  # which store is configured
)
FLAG = st.tuples(st.integers(0, PEOPLE - 1), st.booleans())
STEP = st.one_of(
    st.tuples(st.just("event"), EVENT),
    st.tuples(st.just("scope"), SCOPE),
    st.tuples(st.just("flag"), FLAG),
)


class Lane:
    """Two stores and their models, one flag source, the clock of events."""

    def __init__(self, stores: list[object]) -> None:
        self.stores = stores
        self.models = [Model(), Model()]
        self.flags = Flags()
        self.clock = datetime.now(UTC) - timedelta(days=1)
        self.mother = _mother(self.clock - timedelta(days=1))

    def record(self, person: int, kind: str, purpose: str, by_rep: bool, which: int) -> None:
        self.clock += timedelta(seconds=1)
        subject = str(person)
        store = self.stores[which]
        by = self.mother if by_rep else None
        try:
            if kind == "give":
                store.give(subject, purpose, at=self.clock, by=by)  # type: ignore[attr-defined]
            elif kind == "renew":
                store.renew(subject, purpose, at=self.clock, by=by)  # type: ignore[attr-defined]
            elif kind == "withdraw":
                store.withdraw(subject, purpose, at=self.clock, by=by)  # type: ignore[attr-defined]
            else:
                store.refuse(subject, purpose, at=self.clock, by=by)  # type: ignore[attr-defined]
        except InvalidConsentEvent:  # a renewal with nothing to renew: not recorded
            return
        self.models[which].add(subject, kind, purpose, by_rep)

    def scope(self, purpose: str, reads: list[int], prefetch: bool, which: int) -> None:
        purposeful.configure(consent=self.stores[which])
        model = self.models[which]
        records = [
            LaneNumbered(n % PEOPLE, n) if n < PEOPLE else LaneLettered(str(n % PEOPLE), "x")
            for n in reads
        ]
        got, wanted = [], []
        with purposeful.use(purpose, actor=RESEARCHER) as scope:
            if prefetch:
                scope.prefetch_consent(records)
            for record in records:
                subject = str(record.client_id)
                try:
                    _ = record.score if isinstance(record, LaneNumbered) else record.note
                    got.append((subject, True))
                except purposeful.PurposeViolation:
                    got.append((subject, False))
                wanted.append(
                    (subject, model.in_force(subject, purpose, subject in self.flags.children))
                )
        assert got == wanted, (purpose, which, self.flags.children)

    def run(self, steps: list[tuple[str, tuple[object, ...]]]) -> None:
        purposeful.configure(registry=REGISTRY, care_flags=self.flags)
        for kind, args in steps:
            if kind == "event":
                self.record(*args)  # type: ignore[arg-type]
            elif kind == "scope":
                self.scope(*args)  # type: ignore[arg-type]
            else:
                person, child = args
                (self.flags.children.add if child else self.flags.children.discard)(str(person))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, max_size=30))
def test_red_every_read_follows_the_persons_own_history_in_memory(
    steps: list[tuple[str, tuple[object, ...]]],
) -> None:
    purposeful.configure(registry=REGISTRY)
    try:
        Lane([MemoryConsentStore(), MemoryConsentStore()]).run(steps)
    finally:
        purposeful.reset_configuration()


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, max_size=25))
def test_red_every_read_follows_the_persons_own_history_in_sqlite(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, tuple[object, ...]]]
) -> None:
    folder = tmp_path_factory.mktemp("lane")
    purposeful.configure(registry=REGISTRY)
    stores = [SQLiteConsentStore(folder / "a.db"), SQLiteConsentStore(folder / "b.db")]
    try:
        Lane(stores).run(steps)  # type: ignore[arg-type]
    finally:
        for store in stores:
            store.close()
        purposeful.reset_configuration()


def test_red_two_stores_with_equal_counts_never_answer_for_each_other(tmp_path: Path) -> None:
    """Two SQLite files with the same number of events have the same sequence counter; the
    cache must still keep their answers apart (and a file opened again, apart from the
    first opening's answers after a write by another handle)."""
    purposeful.configure(registry=REGISTRY)
    at = datetime.now(UTC) - timedelta(hours=1)
    with (
        SQLiteConsentStore(tmp_path / "a.db") as yes,
        SQLiteConsentStore(tmp_path / "b.db") as no,
    ):
        yes.give("7", "service-improvement", at=at)
        no.refuse("7", "service-improvement", at=at)
        for store, expected in [(yes, True), (no, False), (yes, True), (no, False)]:
            purposeful.configure(consent=store)
            with purposeful.use("service-improvement", actor=RESEARCHER):
                try:
                    _ = LaneNumbered(7, 1).score
                    read = True
                except purposeful.PurposeViolation:
                    read = False
            assert read is expected
    # the same file through a second handle: a withdrawal by one applies to the other's
    with (
        SQLiteConsentStore(tmp_path / "a.db") as first,
        SQLiteConsentStore(tmp_path / "a.db") as second,
    ):
        purposeful.configure(consent=first)
        with purposeful.use("service-improvement", actor=RESEARCHER):
            assert LaneNumbered(7, 1).score == 1
        second.withdraw("7", "service-improvement", at=datetime.now(UTC))
        with (
            pytest.raises(purposeful.PurposeViolation),
            purposeful.use("service-improvement", actor=RESEARCHER),
        ):
            _ = LaneNumbered(7, 1).score


def test_red_threads_each_see_their_own_people() -> None:
    """Threads read interleaved people under one purpose that needs a representative for
    children and one that does not; no thread ever reads for someone who did not consent."""
    purposeful.configure(registry=REGISTRY)
    store = MemoryConsentStore()
    at = datetime.now(UTC) - timedelta(hours=1)
    mother = _mother(at - timedelta(days=1))
    flags = Flags()
    for n in range(40):
        subject = str(n)
        if n % 3 == 0:
            flags.children.add(subject)
        if n % 2 == 0:
            store.give(subject, "research", at=at)  # by the person
        if n % 5 == 0:
            store.give(subject, "research", at=at + timedelta(seconds=1), by=mother)
        if n % 4 == 1:
            store.give(subject, "service-improvement", at=at)

    def expected(subject: str, purpose: str) -> bool:
        n = int(subject)
        if purpose == "service-improvement":
            return n % 4 == 1
        by_self, by_mother = n % 2 == 0, n % 5 == 0
        return by_mother or (by_self and subject not in flags.children)

    purposeful.configure(consent=store, care_flags=flags)
    wrong: list[tuple[str, str]] = []

    def worker(offset: int) -> None:
        for round_ in range(30):
            purpose = PURPOSES[(offset + round_) % 3]
            people = [LaneNumbered((offset * 7 + round_ * 3 + k) % 40, k) for k in range(8)]
            with purposeful.use(purpose, actor=RESEARCHER):
                for person in people:
                    subject = str(person.client_id)
                    try:
                        _ = person.score
                        read = True
                    except purposeful.PurposeViolation:
                        read = False
                    if read is not expected(subject, purpose):
                        wrong.append((subject, purpose))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


# -- the ORM list view: rows loaded in the scope are asked about in one batch -------------

try:
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
except ImportError:  # the sqlalchemy extra is not installed: the ORM test skips
    HAVE_SQLALCHEMY = False
else:
    HAVE_SQLALCHEMY = True
    from purposeful import Managed
    from purposeful.errors import DictStorageWarning

    class LaneBase(DeclarativeBase):
        pass

    with pytest.warns(DictStorageWarning):

        @purposeful.record(subject="client_id", key="id", registry=REGISTRY)
        class LaneOrmRow(LaneBase):
            """A row whose subject is an integer column, as an ORM's tables have them."""

            __tablename__ = "lane_orm_row"
            id: Mapped[int] = mapped_column(primary_key=True)
            client_id: Mapped[int]
            score: Mapped[int] = mapped_column(
                info={
                    "purposeful": Managed(
                        purposes={"research": CONSENT, "service-improvement": CONSENT}
                    )
                }
            )


ORM_PEOPLE = 6


@pytest.mark.skipif(not HAVE_SQLALCHEMY, reason="needs purposeful[sqlalchemy]")
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=st.lists(
        st.tuples(
            st.integers(0, ORM_PEOPLE - 1),
            st.sampled_from(["give", "withdraw"]),
            st.sampled_from(("research", "service-improvement")),
            st.booleans(),
        ),
        max_size=14,
    ),
    children=st.sets(st.integers(0, ORM_PEOPLE - 1)),
    rows=st.lists(st.integers(0, ORM_PEOPLE - 1), min_size=1, max_size=10),
    rounds=st.lists(
        st.tuples(st.sampled_from(("research", "service-improvement")), st.randoms()),
        min_size=1,
        max_size=3,
    ),
)
def test_red_an_orm_list_view_reads_each_row_by_its_own_persons_history(
    history: list[tuple[int, str, str, bool]],
    children: set[int],
    rows: list[int],
    rounds: list[tuple[str, object]],
) -> None:
    purposeful.configure(registry=REGISTRY)
    engine = create_engine("sqlite://", hide_parameters=True)
    LaneBase.metadata.create_all(engine)
    store = MemoryConsentStore()
    model = Model()
    clock = datetime.now(UTC) - timedelta(days=1)
    mother = _mother(clock - timedelta(days=1))
    for person, kind, purpose, by_rep in history:
        clock += timedelta(seconds=1)
        by = mother if by_rep else None
        if kind == "give":
            store.give(str(person), purpose, at=clock, by=by)
        else:
            store.withdraw(str(person), purpose, at=clock, by=by)
        model.add(str(person), kind, purpose, by_rep)
    flags = Flags()
    flags.children = {str(c) for c in children}
    purposeful.configure(consent=store, care_flags=flags)
    with Session(engine) as session:
        session.add_all(
            [LaneOrmRow(id=n, client_id=person, score=n) for n, person in enumerate(rows)]
        )
        session.commit()
    try:
        for purpose, shuffler in rounds:
            with Session(engine) as session, purposeful.use(purpose, actor=RESEARCHER):
                loaded = list(session.scalars(select(LaneOrmRow)).all())
                shuffler.shuffle(loaded)  # type: ignore[attr-defined]
                for row in loaded:
                    subject = str(row.client_id)
                    try:
                        assert row.score == row.id
                        read = True
                    except purposeful.PurposeViolation:
                        read = False
                    child = subject in flags.children
                    assert read is model.in_force(subject, purpose, child), (purpose, subject)
    finally:
        engine.dispose()
        purposeful.reset_configuration()


def test_red_two_postgres_stores_and_two_handles_keep_their_answers_apart(
    postgres_schema: tuple[str, str],
) -> None:
    """Two schemas with equal event numbers never answer for each other through the cache,
    and a withdrawal recorded through another handle on the same schema applies to the
    next scope (several services sharing one store)."""
    from purposeful.consent.postgres import PostgresConsentStore

    dsn, schema = postgres_schema
    other = f"{schema}_b"
    purposeful.configure(registry=REGISTRY)
    at = datetime.now(UTC) - timedelta(hours=1)
    yes = PostgresConsentStore(dsn, schema=schema)
    no = PostgresConsentStore(dsn, schema=other)
    second = PostgresConsentStore(dsn, schema=schema)
    try:
        yes.give("7", "service-improvement", at=at)
        no.refuse("7", "service-improvement", at=at)

        def reads(store: object) -> bool:
            purposeful.configure(consent=store)
            with purposeful.use("service-improvement", actor=RESEARCHER):
                try:
                    _ = LaneNumbered(7, 1).score
                except purposeful.PurposeViolation:
                    return False
                return True

        assert [reads(s) for s in (yes, no, yes, no, second)] == [True, False, True, False, True]
        second.withdraw("7", "service-improvement", at=datetime.now(UTC))
        assert reads(yes) is False
    finally:
        for store in (yes, no, second):
            store.close()
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{other}" CASCADE')
