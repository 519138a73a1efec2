"""SQLAlchemy 2 mapped classes as records: every read of a managed column on an instance is
decided, wherever SQLAlchemy got the value from; queries, writes and the unit of work keep
working outside any scope."""

from __future__ import annotations

import copy
import pickle
import warnings
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from hypothesis import given

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import ForeignKey, inspect, select  # noqa: E402
from sqlalchemy.orm import (  # noqa: E402
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
)

import purposeful  # noqa: E402
from purposeful import SECRET as TOP  # noqa: E402
from purposeful import SENSITIVE, Actor, Managed, Mode, ServiceAgreement  # noqa: E402
from purposeful.errors import (  # noqa: E402
    AnnotationError,
    DictStorageWarning,
    SubjectChangeRefused,
)
from purposeful.testing.strategies import records  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
WORKER = Actor("staff-6", role="caseworker", clearance=SENSITIVE)
SECRET_TEXT = "kaitiaki-secret-2718"
HEALTH_TEXT = "whakapapa-health-3141"
SUMMARY = Annotated[str, Managed(purposes={"service-delivery": AGREEMENT})]


class SqlaBase(DeclarativeBase):
    pass


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id")
    class SqlaClient(SqlaBase):
        __tablename__ = "sqla_client"
        client_id: Mapped[str] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(
            info={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
        )
        visits: Mapped[list[SqlaVisit]] = relationship(back_populates="client")

    @purposeful.record(subject="client_id", key="id")
    class SqlaVisit(SqlaBase):
        __tablename__ = "sqla_visit"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(default="visit")
        client_id: Mapped[str] = mapped_column(ForeignKey("sqla_client.client_id"))
        summary: Mapped[SUMMARY]
        health: Mapped[str | None] = mapped_column(
            deferred=True,
            info={"purposeful": Managed(purposes={"service-delivery": AGREEMENT}, sensitivity=TOP)},
        )
        region: Mapped[str] = mapped_column(default="Wellington")
        client: Mapped[SqlaClient] = relationship(back_populates="visits")
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "visit"}  # noqa: RUF012

    class SqlaHomeVisit(SqlaVisit):
        """A mapped subclass, not decorated: guarded under its base's declarations."""

        __mapper_args__ = {"polymorphic_identity": "home"}  # noqa: RUF012


@pytest.fixture
def session(engine: Any) -> Iterator[Session]:
    SqlaBase.metadata.create_all(engine)
    with Session(engine) as made:
        made.add(SqlaClient(client_id="C-1", name="Aroha"))
        made.add(SqlaVisit(id=1, client_id="C-1", summary=SECRET_TEXT, health=HEALTH_TEXT))
        made.add(SqlaHomeVisit(id=2, client_id="C-1", summary=SECRET_TEXT))
        made.commit()  # every attribute expired: the next read loads it
        yield made


def _visit(session: Session, ident: int = 1) -> SqlaVisit:
    visit = session.get(SqlaVisit, ident)
    assert visit is not None
    return visit


def test_a_declarative_model_becomes_a_record_of_the_sqlalchemy_kind() -> None:
    policy = purposeful.record_policy(SqlaVisit)
    assert policy.kind == "sqlalchemy"
    assert not policy.slotted
    assert set(policy.fields) == {"summary", "health"}
    assert policy.names == ("id", "kind", "client_id", "summary", "health", "region")
    assert set(purposeful.record_policy(SqlaClient).fields) == {"name"}


def test_reading_a_managed_column_outside_a_scope_is_refused(session: Session) -> None:
    visit = _visit(session)
    with pytest.raises(purposeful.NoPurposeScope) as refused:
        _ = visit.summary
    assert refused.value.decision.field == "summary"
    assert SECRET_TEXT not in str(refused.value)


def test_reading_under_a_declared_purpose_is_a_decided_read(session: Session) -> None:
    visit = _visit(session)
    with purposeful.use("service-delivery", actor=WORKER) as scope:
        assert visit.summary == SECRET_TEXT
        assert visit.summary == SECRET_TEXT
    assert [(d.field, d.allowed) for d in scope.decisions] == [("summary", True)]


def test_reading_under_an_undeclared_purpose_is_a_violation(session: Session) -> None:
    visit = _visit(session)
    with (
        pytest.raises(purposeful.PurposeViolation) as refused,
        purposeful.use("funder-reporting", actor=WORKER),
    ):
        _ = visit.summary
    assert refused.value.decision.reason_codes == ("purpose-not-declared",)


def test_a_column_above_the_actors_clearance_is_refused(session: Session) -> None:
    visit = _visit(session)
    with (
        pytest.raises(purposeful.PurposeViolation) as refused,
        purposeful.use("service-delivery", actor=WORKER),
    ):
        _ = visit.health
    assert refused.value.decision.reason_codes == ("clearance-too-low",)


def test_an_expired_column_is_decided_before_it_is_loaded(
    session: Session, statements: Any
) -> None:
    visit = _visit(session)
    session.expire(visit)
    statements.clear()
    with pytest.raises(purposeful.NoPurposeScope):
        _ = visit.summary
    assert statements.statements == []  # refused: nothing fetched
    with purposeful.use("service-delivery", actor=WORKER):
        assert visit.summary == SECRET_TEXT
    assert len(statements.statements) == 1


def test_a_deferred_column_is_decided_before_its_lazy_load(
    session: Session, statements: Any
) -> None:
    visit = _visit(session)
    assert "health" not in visit.__dict__
    statements.clear()
    boss = Actor("staff-1", role="manager", clearance=TOP)
    with pytest.raises(purposeful.NoPurposeScope):
        _ = visit.health
    assert statements.statements == []
    with purposeful.use("service-delivery", actor=boss):
        assert visit.health == HEALTH_TEXT
    assert len(statements.statements) == 1


def test_refresh_and_get_give_records_whose_reads_are_decided(session: Session) -> None:
    visit = _visit(session)
    session.refresh(visit)  # the unit of work's own read: exempt
    assert "summary" in visit.__dict__
    with pytest.raises(purposeful.NoPurposeScope):
        _ = visit.summary
    session.expunge_all()
    again = _visit(session)
    assert again is not visit
    with pytest.raises(purposeful.NoPurposeScope):
        _ = again.summary


def test_rows_from_a_query_are_records(session: Session) -> None:
    rows = session.scalars(select(SqlaVisit).order_by(SqlaVisit.id)).all()
    assert [type(r) for r in rows] == [SqlaVisit, SqlaHomeVisit]
    for row in rows:
        with pytest.raises(purposeful.NoPurposeScope):
            _ = row.summary


def test_class_level_access_builds_queries_outside_any_scope(session: Session) -> None:
    assert isinstance(SqlaVisit.summary, sqlalchemy.orm.InstrumentedAttribute)
    assert SqlaVisit.summary is inspect(SqlaVisit).attrs.summary.class_attribute
    query = select(SqlaVisit.id).where(SqlaVisit.summary == SECRET_TEXT).order_by(SqlaVisit.health)
    assert sorted(session.scalars(query).all()) == [1, 2]
    found = session.scalars(select(SqlaVisit).where(SqlaVisit.client_id == "C-1")).all()
    assert len(found) == 2


def test_writes_flushes_merges_and_deletes_work_outside_any_scope(session: Session) -> None:
    visit = _visit(session)
    visit.summary = "rewritten"
    session.flush()
    session.commit()
    merged = session.merge(SqlaVisit(id=1, client_id="C-1", summary="merged"))
    session.commit()
    assert merged is visit
    session.add(SqlaVisit(id=3, client_id="C-1", summary="new"))
    session.delete(_visit(session, 2))
    session.commit()
    assert session.scalars(select(SqlaVisit.id).order_by(SqlaVisit.id)).all() == [1, 3]
    with purposeful.use("service-delivery", actor=WORKER):
        assert visit.summary == "merged"
        assert _visit(session, 3).summary == "new"


def test_a_related_record_is_checked_on_its_own_declarations(session: Session) -> None:
    visit = _visit(session)
    client = visit.client  # a relationship: the related row itself is not a value
    assert isinstance(client, SqlaClient)
    assert [v.id for v in client.visits] == [1, 2]
    with pytest.raises(purposeful.NoPurposeScope) as refused:
        _ = client.name
    assert refused.value.decision.record_type == "SqlaClient"
    with purposeful.use("service-delivery", actor=WORKER) as scope:
        assert client.name == "Aroha"
        assert [v.summary for v in client.visits] == [SECRET_TEXT, SECRET_TEXT]
    assert {d.record_type for d in scope.decisions} == {"SqlaClient", "SqlaVisit"}


def test_a_mapped_subclass_is_guarded_under_its_bases_declarations(session: Session) -> None:
    home = _visit(session, 2)
    assert type(home) is SqlaHomeVisit
    with pytest.raises(purposeful.NoPurposeScope):
        _ = home.summary
    with purposeful.use("service-delivery", actor=WORKER) as scope:
        assert home.summary == SECRET_TEXT
    assert scope.decisions[0].record_type == "SqlaVisit"


def test_the_subject_cannot_be_changed_or_deleted_once_set(session: Session) -> None:
    visit = _visit(session)
    visit.client_id = "C-1"  # the same value: allowed
    with pytest.raises(SubjectChangeRefused) as refused:
        visit.client_id = "C-2"
    assert "C-2" not in str(refused.value)
    assert "C-1" not in str(refused.value)
    session.expire(visit)
    with pytest.raises(SubjectChangeRefused):
        visit.client_id = "C-2"  # expired: loaded and compared
    with pytest.raises(SubjectChangeRefused):
        del visit.client_id
    fresh = SqlaVisit(summary="x")
    fresh.client_id = "C-9"  # a new row: set once
    assert fresh.client_id == "C-9"


def test_repr_masks_managed_columns_and_never_queries(session: Session, statements: Any) -> None:
    visit = _visit(session)
    statements.clear()
    text = repr(visit)
    assert SECRET_TEXT not in text
    assert "C-1" not in text
    assert "summary=<managed>" in text
    assert "client_id=<subject>" in text
    assert statements.statements == []
    session.expire(visit)
    assert repr(visit) == "SqlaVisit(client_id=<subject>, summary=<managed>, health=<managed>)"


def test_pickling_and_copying_read_every_managed_column_held(session: Session) -> None:
    visit = _visit(session)
    _ = visit.id  # load the row
    for operation in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(purposeful.NoPurposeScope):
            operation(visit)
    with purposeful.use("service-delivery", actor=WORKER) as scope:
        restored = pickle.loads(pickle.dumps(visit))
        assert restored.summary == SECRET_TEXT
    assert [d.field for d in scope.decisions] == ["summary"]


def test_equality_and_hashing_are_the_orms_identity_and_read_nothing(session: Session) -> None:
    visit = _visit(session)
    assert visit == _visit(session)
    assert visit in {visit}
    assert visit != SqlaVisit(id=1, client_id="C-1", summary=SECRET_TEXT)


def test_the_attribute_state_value_is_a_read(session: Session) -> None:
    visit = _visit(session)
    with pytest.raises(purposeful.NoPurposeScope):
        _ = inspect(visit).attrs.summary.value


def test_monitor_mode_lets_the_read_through_and_records_a_would_deny(session: Session) -> None:
    purposeful.configure(record_modes={SqlaVisit: Mode.MONITOR})
    visit = _visit(session)
    with purposeful.use("funder-reporting", actor=WORKER) as scope:
        assert visit.summary == SECRET_TEXT
    assert [d.outcome for d in scope.decisions] == [purposeful.Outcome.WOULD_DENY]


def test_project_gives_what_a_purpose_may_see(session: Session) -> None:
    visit = _visit(session)
    projection = purposeful.project(visit, "service-delivery", actor=WORKER)
    assert projection["summary"] == SECRET_TEXT
    assert set(projection.withheld) == {"health"}
    assert projection["region"] == "Wellington"


def test_a_managed_relationship_is_refused_at_declaration() -> None:
    class SqlaBadBase(DeclarativeBase):
        pass

    class SqlaBadParent(SqlaBadBase):
        __tablename__ = "sqla_bad_parent"
        id: Mapped[int] = mapped_column(primary_key=True)

    class SqlaBadChild(SqlaBadBase):
        __tablename__ = "sqla_bad_child"
        id: Mapped[int] = mapped_column(primary_key=True)
        parent_id: Mapped[int] = mapped_column(ForeignKey("sqla_bad_parent.id"))
        parent: Mapped[SqlaBadParent] = relationship(
            info={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
        )

    with pytest.raises(AnnotationError, match="only columns can be managed"):
        purposeful.record(subject="id")(SqlaBadChild)


def test_two_different_declarations_of_one_column_are_refused() -> None:
    class SqlaTwiceBase(DeclarativeBase):
        pass

    class SqlaTwice(SqlaTwiceBase):
        __tablename__ = "sqla_twice"
        id: Mapped[int] = mapped_column(primary_key=True)
        summary: Mapped[SUMMARY] = mapped_column(
            info={"purposeful": Managed(purposes={"funder-reporting": AGREEMENT})}
        )

    with pytest.raises(AnnotationError, match="declared twice"):
        purposeful.record(subject="id")(SqlaTwice)


def test_a_declarative_base_itself_is_refused_naming_what_is_supported() -> None:
    class SqlaLonelyBase(DeclarativeBase):
        pass

    with pytest.raises(AnnotationError, match="not mapped") as refused:
        purposeful.record(subject="id")(SqlaLonelyBase)
    assert "SQLAlchemy 2 mapped class" in str(refused.value)


def test_declaring_a_sqlalchemy_record_warns_of_the_dict_tier() -> None:
    class SqlaWarnBase(DeclarativeBase):
        pass

    class SqlaWarned(SqlaWarnBase):
        __tablename__ = "sqla_warned"
        id: Mapped[int] = mapped_column(primary_key=True)
        summary: Mapped[SUMMARY]

    with pytest.warns(DictStorageWarning, match="sqlalchemy") as warned:
        purposeful.record(subject="id")(SqlaWarned)
    # advice a mapped class can follow: not "declare it slotted", which none can be
    message = str(warned[0].message)
    assert "slotted for the full guarantee" not in message
    assert "nothing to change in the class" in message
    assert "filterwarnings('ignore', category=purposeful.errors.DictStorageWarning)" in message


@given(visit=records(SqlaVisit))
def test_the_record_strategy_builds_sqlalchemy_records_whose_reads_are_decided(
    visit: SqlaVisit,
) -> None:
    assert isinstance(visit, SqlaVisit)
    with pytest.raises(purposeful.NoPurposeScope):
        _ = visit.summary
    with purposeful.use("service-delivery", actor=WORKER):
        assert isinstance(visit.summary, str)
