"""SQLAlchemy records against hostile use (issue 23): declarations the guard cannot keep are
refused, paths around the guard are closed, and what stays open is the documented limit of
docs/sqlalchemy.md, asserted as written there."""

from __future__ import annotations

import copy
import pickle
import traceback
import warnings
from typing import Any

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")

from sqlalchemy import ForeignKey, select  # noqa: E402
from sqlalchemy.exc import IntegrityError  # noqa: E402
from sqlalchemy.orm import (  # noqa: E402
    DeclarativeBase,
    Mapped,
    MappedAsDataclass,
    Session,
    attributes,
    mapped_column,
)

import purposeful  # noqa: E402
from conftest import StatementLog  # noqa: E402
from purposeful import SENSITIVE, Actor, Managed, ServiceAgreement  # noqa: E402
from purposeful.errors import (  # noqa: E402
    AnnotationError,
    ConfigurationError,
    DictStorageWarning,
    SubjectChangeRefused,
)
from purposeful.sqlalchemy import minimised, withheld_columns  # noqa: E402

AGREEMENT = ServiceAgreement("Service delivery agreement")
WORKER = Actor("staff-23", role="caseworker", clearance=SENSITIVE)
SECRET = "kaitiaki-secret-hostile"
SUBJECT = "C-HOSTILE-SUBJECT"


def _managed() -> dict[str, Any]:
    return {"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}


class SaHostileBase(DeclarativeBase):
    pass


class SaHostileDataclassBase(MappedAsDataclass, DeclarativeBase):
    pass


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DictStorageWarning)

    @purposeful.record(subject="client_id", name="SaHostileVisit")
    class SaHostileVisit(SaHostileBase):
        __tablename__ = "sa_hostile_visit"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(default="visit")
        client_id: Mapped[str]
        summary: Mapped[str] = mapped_column(info=_managed())
        region: Mapped[str | None] = mapped_column(default="Otago")
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "visit"}  # noqa: RUF012

    @purposeful.record(subject="client_id", name="SaHostileAssessment")
    class SaHostileAssessment(SaHostileVisit):
        """A decorated joined-table subclass with a managed column of its own, loaded with
        its base (polymorphic_load='selectin')."""

        __tablename__ = "sa_hostile_assessment"
        id: Mapped[int] = mapped_column(ForeignKey("sa_hostile_visit.id"), primary_key=True)
        findings: Mapped[str] = mapped_column(info=_managed())
        __mapper_args__ = {  # noqa: RUF012
            "polymorphic_identity": "assessment",
            "polymorphic_load": "selectin",
        }

    class SaHostileOutreach(SaHostileVisit):
        """An undecorated single-table subclass with no managed column of its own."""

        __mapper_args__ = {"polymorphic_identity": "outreach"}  # noqa: RUF012

    @purposeful.record(subject="client_id", name="SaHostileDcVisit")
    class SaHostileDcVisit(SaHostileDataclassBase):
        __tablename__ = "sa_hostile_dc_visit"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(init=False, default="visit")
        client_id: Mapped[str] = mapped_column()
        summary: Mapped[str] = mapped_column(info=_managed())
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "visit"}  # noqa: RUF012

    class SaHostileDcHomeVisit(SaHostileDcVisit):
        """An undecorated MappedAsDataclass subclass: dataclasses give it a repr of its own."""

        __mapper_args__ = {"polymorphic_identity": "home"}  # noqa: RUF012


@pytest.fixture
def rows(engine: Any) -> Any:
    """The engine, with a visit (1), an assessment (2), an outreach (3) and a dataclass home
    visit (1) stored."""
    SaHostileBase.metadata.create_all(engine)
    SaHostileDataclassBase.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(SaHostileVisit(id=1, client_id=SUBJECT, summary=SECRET))
        session.add(SaHostileAssessment(id=2, client_id=SUBJECT, summary=SECRET, findings=SECRET))
        session.add(SaHostileOutreach(id=3, client_id=SUBJECT, summary=SECRET))
        session.add(SaHostileDcHomeVisit(id=1, client_id=SUBJECT, summary=SECRET))
        session.commit()
    return engine


def _quietly_decorated(cls: type) -> type:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        return purposeful.record(subject="client_id")(cls)


def test_a_managed_primary_key_is_refused_at_declaration() -> None:
    """SQLAlchemy hands the primary key out as the row's identity: managing it is refused,
    as the Django kind refuses it."""

    class Base(DeclarativeBase):
        pass

    class SaHostilePerson(Base):
        __tablename__ = "sa_hostile_person"
        nhi: Mapped[str] = mapped_column(primary_key=True, info=_managed())
        client_id: Mapped[str]

    with pytest.raises(AnnotationError, match=r"SaHostilePerson\.nhi: the primary key cannot"):
        _quietly_decorated(SaHostilePerson)


def test_a_managed_foreign_key_column_is_refused_at_declaration() -> None:
    """A foreign key's value is the related row's key, read undecided through the
    relationship (note.referrer_row.code): managing it is refused, as Django refuses a
    managed relation."""

    class Base(DeclarativeBase):
        pass

    class SaHostileReferrer(Base):
        __tablename__ = "sa_hostile_referrer"
        code: Mapped[str] = mapped_column(primary_key=True)

    class SaHostileNote(Base):
        __tablename__ = "sa_hostile_note"
        id: Mapped[int] = mapped_column(primary_key=True)
        client_id: Mapped[str]
        referrer: Mapped[str] = mapped_column(
            ForeignKey("sa_hostile_referrer.code"), info=_managed()
        )

    with pytest.raises(AnnotationError, match=r"SaHostileNote\.referrer: a foreign key column"):
        _quietly_decorated(SaHostileNote)


def test_a_plain_foreign_key_and_primary_key_are_still_accepted() -> None:
    class Base(DeclarativeBase):
        pass

    class SaHostileParent(Base):
        __tablename__ = "sa_hostile_parent"
        client_id: Mapped[str] = mapped_column(primary_key=True)

    class SaHostileChild(Base):
        __tablename__ = "sa_hostile_child"
        id: Mapped[int] = mapped_column(primary_key=True)
        client_id: Mapped[str] = mapped_column(ForeignKey("sa_hostile_parent.client_id"))
        note: Mapped[str] = mapped_column(info=_managed())

    assert set(purposeful.record_policy(_quietly_decorated(SaHostileChild)).fields) == {"note"}


@pytest.mark.parametrize("actor", ["staff-23", 23, object()])
def test_minimised_refuses_an_actor_that_is_not_an_actor_with_a_typed_error(actor: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"purposeful\.Actor"):
        minimised(SaHostileVisit, "funder-reporting", actor=actor)
    with pytest.raises(ConfigurationError, match=r"purposeful\.Actor"):
        withheld_columns(SaHostileVisit, "funder-reporting", actor=actor)


def test_repr_of_an_undecorated_mapped_dataclass_subclass_masks_and_reads_nothing(
    rows: Any,
) -> None:
    """dataclasses give a MappedAsDataclass subclass a repr reading every column; the
    subclass gets its base's masked repr instead, in a scope and out of one."""
    with Session(rows) as session:
        row = session.get(SaHostileDcVisit, 1)  # a polymorphic load: a SaHostileDcHomeVisit
        assert type(row) is SaHostileDcHomeVisit
        outside = repr(row)
        with purposeful.use("service-delivery", actor=WORKER) as scope:
            inside = repr(row)
    assert scope.decisions == ()
    assert (
        outside
        == inside
        == "SaHostileDcHomeVisit(id=1, kind='home', client_id=<subject>, summary=<managed>)"
    )


def test_a_library_error_names_the_type_of_an_instance_never_its_repr(rows: Any) -> None:
    """withheld_columns(instance) by mistake: the AnnotationError names the instance's type
    and quotes nothing the instance's own repr would print."""

    class Leaky:
        def __repr__(self) -> str:
            return SECRET

    with Session(rows) as session:
        row = session.get(SaHostileVisit, 1)
        with purposeful.use("service-delivery", actor=WORKER):
            for wrong in (row, Leaky()):
                with pytest.raises(AnnotationError, match="an instance of") as raised:
                    withheld_columns(wrong, "funder-reporting")  # type: ignore[arg-type]
                assert SECRET not in str(raised.value)
                assert SUBJECT not in str(raised.value)


def test_a_managed_column_declared_on_an_undecorated_subclass_is_refused_at_mapping() -> None:
    """info={'purposeful': Managed(...)} on an undecorated mapped subclass would be a plain
    column; configuring the mappers (the first query or instance) refuses it, naming the
    column and telling to decorate the subclass."""

    class Base(DeclarativeBase):
        pass

    @_quietly_decorated
    class SaHostileReferral(Base):
        __tablename__ = "sa_hostile_referral"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str]
        client_id: Mapped[str]
        reason: Mapped[str] = mapped_column(info=_managed())
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "referral"}  # noqa: RUF012

    class SaHostileSelfReferral(SaHostileReferral):
        note: Mapped[str | None] = mapped_column(info=_managed())
        __mapper_args__ = {"polymorphic_identity": "self"}  # noqa: RUF012

    try:
        with pytest.raises(
            AnnotationError,
            match=r"SaHostileSelfReferral declares managed columns \(note\).*decorate it",
        ):
            Base.registry.configure()
    finally:
        Base.registry.dispose()


def test_a_decorated_subclass_may_declare_managed_columns_of_its_own() -> None:
    class Base(DeclarativeBase):
        pass

    @_quietly_decorated
    class SaHostileCase(Base):
        __tablename__ = "sa_hostile_case"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str]
        client_id: Mapped[str]
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "case"}  # noqa: RUF012

    @_quietly_decorated
    class SaHostileCareCase(SaHostileCase):
        plan: Mapped[str | None] = mapped_column(info=_managed())
        __mapper_args__ = {"polymorphic_identity": "care"}  # noqa: RUF012

    Base.registry.configure()
    assert set(purposeful.record_policy(SaHostileCareCase).fields) == {"plan"}
    with pytest.raises(purposeful.NoPurposeScope):
        SaHostileCareCase(id=1, client_id=SUBJECT, plan=SECRET).plan  # noqa: B018


def test_project_works_on_an_undecorated_subclass_row_under_its_base_declarations(
    rows: Any,
) -> None:
    """A polymorphic query on a decorated base returns undecorated-subclass rows, guarded
    under the base's declarations: project() decides them under those declarations too."""
    with Session(rows) as session:
        row = session.get(SaHostileVisit, 3)
        assert type(row) is SaHostileOutreach
        assert purposeful.record_policy(SaHostileOutreach) is purposeful.record_policy(
            SaHostileVisit
        )
        refused = purposeful.project(row, "funder-reporting", actor=WORKER)
        allowed = purposeful.project(row, "service-delivery", actor=WORKER)
    assert set(refused.withheld) == {"summary"}
    assert allowed["summary"] == SECRET
    assert allowed["region"] == "Otago"


def test_merge_cannot_rewrite_the_subject_of_a_persistent_row(rows: Any) -> None:
    """session.merge() of a detached row with the same primary key writes through
    SQLAlchemy's attribute machinery, not the descriptor: it is refused there too."""
    with Session(rows) as session:
        visit = session.get(SaHostileVisit, 1)
        assert visit is not None
        with pytest.raises(SubjectChangeRefused) as raised:
            session.merge(SaHostileVisit(id=1, client_id="C-OTHER"))
        assert "C-OTHER" not in str(raised.value)
        assert visit.client_id == SUBJECT


def test_set_attribute_cannot_rewrite_the_subject_even_when_expired(rows: Any) -> None:
    with Session(rows) as session:
        visit = session.get(SaHostileVisit, 1)
        session.expire(visit)
        with pytest.raises(SubjectChangeRefused):
            attributes.set_attribute(visit, "client_id", "C-OTHER")
        session.rollback()
        assert visit.client_id == SUBJECT


def test_merge_of_the_same_subject_and_of_a_new_row_still_work(rows: Any) -> None:
    with Session(rows) as session:
        merged = session.merge(SaHostileVisit(id=1, client_id=SUBJECT, summary="updated"))
        created = session.merge(SaHostileVisit(id=9, client_id="C-NEW", summary="new"))
        session.commit()
        assert merged.client_id == SUBJECT
        assert created.client_id == "C-NEW"
        with purposeful.use("service-delivery", actor=WORKER):
            assert session.get(SaHostileVisit, 1).summary == "updated"  # type: ignore[union-attr]


def test_minimised_base_query_fetches_a_decorated_subclass_column_as_documented(
    rows: Any, statements: StatementLog
) -> None:
    """docs/sqlalchemy.md, Limits: minimised(Base) covers the base's columns; a decorated
    subclass's own withheld column, loaded by polymorphic loading, is fetched (and each
    read of it decided as usual)."""
    with Session(rows) as session:
        found = session.scalars(
            select(SaHostileVisit).options(minimised(SaHostileVisit, "funder-reporting"))
        ).all()
        assessment = next(r for r in found if type(r) is SaHostileAssessment)
        assert "summary" not in vars(assessment)
        assert "findings" in vars(assessment)
        with pytest.raises(purposeful.NoPurposeScope):
            assessment.findings  # noqa: B018
    assert any("findings" in s.split("FROM")[0] for s in statements.statements)


def test_a_commit_keeps_the_withheld_columns_of_a_minimised_row_unfetched(
    rows: Any, statements: StatementLog
) -> None:
    """A commit expires a minimised row; its reload fetches the other columns only, and the
    withheld column is still refused in enforce mode, also after session.refresh."""
    with Session(rows) as session:
        visit = session.scalars(
            select(SaHostileVisit)
            .where(SaHostileVisit.id == 1)
            .options(minimised(SaHostileVisit, "funder-reporting"))
        ).one()
        assert "summary" not in vars(visit)
        session.commit()
        statements.clear()
        assert visit.region == "Otago"
        assert "summary" not in vars(visit)
        session.refresh(visit)
        assert "summary" not in vars(visit)
        with (
            purposeful.use("funder-reporting", actor=WORKER),
            pytest.raises(purposeful.PurposeViolation),
        ):
            visit.summary  # noqa: B018
    assert len(statements.statements) == 2
    assert not any("summary" in s.split("FROM")[0] for s in statements.statements)


def test_an_unminimised_row_reloads_every_column_after_a_commit(
    rows: Any, statements: StatementLog
) -> None:
    """The deferral kept through expiry is only what the query deferred."""
    with Session(rows) as session:
        visit = session.scalars(select(SaHostileVisit).where(SaHostileVisit.id == 1)).one()
        session.commit()
        statements.clear()
        assert visit.region == "Otago"
        assert "summary" in vars(visit)
    assert any("summary" in s.split("FROM")[0] for s in statements.statements)


def test_minimisation_is_kept_without_expire_on_commit(rows: Any, statements: StatementLog) -> None:
    """The documented remedy: a session with expire_on_commit=False keeps what it fetched."""
    with Session(rows, expire_on_commit=False) as session:
        visit = session.scalars(
            select(SaHostileVisit)
            .where(SaHostileVisit.id == 1)
            .options(minimised(SaHostileVisit, "funder-reporting"))
        ).one()
        session.commit()
        statements.clear()
        assert visit.region == "Otago"
        assert "summary" not in vars(visit)
    assert not any("summary" in s.split("FROM")[0] for s in statements.statements)


def test_a_flush_error_quotes_no_value_with_hide_parameters() -> None:
    """docs/sqlalchemy.md, Limits: SQLAlchemy quotes a failed statement's parameters in its
    errors; create_engine(hide_parameters=True) leaves them out."""
    engine = sqlalchemy.create_engine("sqlite://", hide_parameters=True)
    SaHostileBase.metadata.create_all(engine)
    try:
        with Session(engine) as session:
            session.add(SaHostileVisit(id=1, client_id=SUBJECT, summary=SECRET))
            session.commit()
            session.add(SaHostileVisit(id=1, client_id=SUBJECT, summary=SECRET))
            with pytest.raises(IntegrityError) as raised:
                session.flush()
        assert SECRET not in str(raised.value)
        assert SUBJECT not in str(raised.value)
    finally:
        engine.dispose()


def test_attributes_get_attribute_is_the_instance_state_as_documented(rows: Any) -> None:
    """docs/sqlalchemy.md, Limits: attributes.get_attribute reads the instance state, with
    no decision, like inspect(row).dict."""
    with Session(rows) as session:
        visit = session.get(SaHostileVisit, 1)
        assert attributes.get_attribute(visit, "summary") == SECRET


@pytest.mark.parametrize("copying", [copy.copy, copy.deepcopy, pickle.dumps])
def test_a_refused_copy_of_a_row_leaves_no_value_or_id_in_its_frames(
    rows: Any, copying: Any
) -> None:
    """Fixed: a refused copy or pickle left the row's ``__dict__`` (every value, the raw
    subject id) in the ``__getstate__`` frame's locals, which an error tracker captures."""
    with Session(rows) as session:
        visit = session.get(SaHostileVisit, 1)
        with pytest.raises(purposeful.NoPurposeScope) as refused:
            copying(visit)
    captured = traceback.TracebackException.from_exception(refused.value, capture_locals=True)
    text = "".join(captured.format())
    assert SECRET not in text
    assert SUBJECT not in text
