"""A family-support service on SQLAlchemy and FastAPI, its rows guarded where they live.

Run it with ``python examples/family_support_sqlalchemy.py`` (``pip install ".[examples]"``).
It builds the service on a SQLite file in a temporary directory and calls it in process
through Starlette's ``TestClient`` (``--serve`` serves it on 127.0.0.1:8000 instead). It
shows:

1. a caseworker reading a whānau's record and its home visits: the ORM rows themselves are
   the records, every managed column read decided under case management;
2. a caseworker recording a visit: writes and commits need no decision;
3. the funder report, built with ``minimised(...)``: the case notes are never fetched (the
   SQL it ran is printed), and the wellbeing scores the report may use are;
4. a report endpoint that reads a case note by mistake: a 403 problem that names the field
   and the purpose, never the note;
5. a request without a token: a 401 problem;
6. what the audit trail got: decisions per scope, never a value.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from sqlalchemy import ForeignKey, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from starlette.testclient import TestClient

import purposeful
from purposeful import SENSITIVE, Actor, Managed, ScopeReport, ServiceAgreement
from purposeful.errors import DictStorageWarning
from purposeful.sqlalchemy import minimised
from purposeful.web import purpose
from purposeful.web.asgi import PurposeMiddleware
from purposeful.web.fastapi import install_problem_handlers

# ORM rows keep their values in the instance __dict__: the second tier of 'What is a read'
warnings.filterwarnings("ignore", category=DictStorageWarning)

CASE_MANAGEMENT = "service-delivery.case-management"
AGREEMENT = ServiceAgreement("Family support service agreement")
CaseNote = Annotated[str, Managed(purposes={CASE_MANAGEMENT: AGREEMENT}, sensitivity=SENSITIVE)]


class Base(DeclarativeBase):
    pass


@purposeful.record(subject="client_id")
class Whanau(Base):
    """A family the service supports."""

    __tablename__ = "whanau"
    client_id: Mapped[str] = mapped_column(primary_key=True)
    region: Mapped[str]
    contact_name: Mapped[str] = mapped_column(
        info={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
    )
    address: Mapped[str] = mapped_column(
        info={"purposeful": Managed(purposes={"service-delivery": AGREEMENT})}
    )
    visits: Mapped[list[HomeVisit]] = relationship(back_populates="whanau", order_by="HomeVisit.id")


@purposeful.record(subject="client_id", key="id")
class HomeVisit(Base):
    """A home visit, with the caseworker's note and a wellbeing score for the funder."""

    __tablename__ = "home_visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("whanau.client_id"))
    note: Mapped[CaseNote]
    wellbeing_score: Mapped[int] = mapped_column(
        info={
            "purposeful": Managed(
                purposes={CASE_MANAGEMENT: AGREEMENT, "funder-reporting": AGREEMENT}
            )
        }
    )
    whanau: Mapped[Whanau] = relationship(back_populates="visits")


STAFF = {
    "token-mere": Actor("staff-0042", "caseworker", SENSITIVE),
    "token-report": Actor("svc-funder-report", "reporting-job", SENSITIVE),
}


def current_actor(request: Request) -> Actor | None:
    """The service's authentication: a bearer token looked up in a table."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    return STAFF.get(token)


def build_app(engine: Any) -> FastAPI:
    """The service: one session per request, every endpoint declaring its purpose."""
    app = FastAPI(title="Family support")

    def session() -> Iterator[Session]:
        with Session(engine) as opened:
            yield opened

    @app.get("/whanau/{client_id}")
    @purpose(CASE_MANAGEMENT)
    def read_whanau(client_id: str, db: Session = Depends(session)) -> dict[str, Any]:  # noqa: B008
        whanau = db.get(Whanau, client_id)
        if whanau is None:
            return {}
        return {
            "contact_name": whanau.contact_name,
            "address": whanau.address,
            "visits": [{"note": v.note, "wellbeing": v.wellbeing_score} for v in whanau.visits],
        }

    @app.post("/whanau/{client_id}/visits")
    @purpose(CASE_MANAGEMENT)
    def record_visit(
        client_id: str,
        note: str,
        wellbeing: int,
        db: Session = Depends(session),  # noqa: B008
    ) -> dict[str, int]:
        visit = HomeVisit(client_id=client_id, note=note, wellbeing_score=wellbeing)
        db.add(visit)
        db.commit()  # a write: no decision needed
        return {"id": visit.id}

    @app.get("/reports/wellbeing")
    @purpose("funder-reporting")
    def wellbeing_report(db: Session = Depends(session)) -> dict[str, Any]:  # noqa: B008
        visits = db.scalars(select(HomeVisit).options(minimised(HomeVisit))).all()
        scores = [v.wellbeing_score for v in visits]
        return {"visits": len(scores), "mean_wellbeing": round(sum(scores) / len(scores), 1)}

    @app.get("/reports/notes")
    @purpose("funder-reporting")
    def notes_report(db: Session = Depends(session)) -> dict[str, Any]:  # noqa: B008
        visits = db.scalars(select(HomeVisit)).all()
        return {"notes": [v.note for v in visits]}  # a mistake: refused

    app.add_middleware(PurposeMiddleware, actor=current_actor, require_purposes=True)
    install_problem_handlers(app)
    return app


class PrintingSink:
    """An audit sink that prints each scope's decisions: fields and outcomes, no values."""

    def emit(self, report: ScopeReport) -> None:
        decided = sorted({f"{d.outcome.value} {d.record_type}.{d.field}" for d in report.decisions})
        shown = ", ".join(decided) or "no managed value read"
        print(f"  [audit] {report.purpose.id if report.purpose else '-'}: {shown}")


def seed(engine: Any) -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        db.add(
            Whanau(client_id="C-3001", region="Ōtepoti", contact_name="Mere", address="5 Kea St")
        )
        db.add(HomeVisit(client_id="C-3001", note="Kai parcel; tamariki well", wellbeing_score=7))
        db.commit()


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine(f"sqlite:///{Path(directory) / 'family-support.db'}")
        seed(engine)
        app = build_app(engine)
        if "--serve" in sys.argv:
            import uvicorn

            uvicorn.run(app, host="127.0.0.1", port=8000)
            return 0
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        purposeful.configure(sinks=[PrintingSink()])
        mere = {"authorization": "Bearer token-mere"}
        report = {"authorization": "Bearer token-report"}
        with TestClient(app) as http:
            print("== 1. A caseworker reads a whānau's record")
            print(" ", http.get("/whanau/C-3001", headers=mere).json())

            print("== 2. She records a visit")
            params = {"note": "School meeting went well", "wellbeing": 8}
            answer = http.post("/whanau/C-3001/visits", params=params, headers=mere)
            print(f"  {answer.status_code} {answer.json()}")

            print("== 3. The funder report, minimised at the query")
            statements.clear()
            print(" ", http.get("/reports/wellbeing", headers=report).json())
            fetched = next(s for s in statements if "FROM home_visit" in s)
            print(f"  SQL: {' '.join(fetched.split())}")
            print(f"  case notes fetched: {'note' in fetched.replace('home_visit', '')}")

            print("== 4. A report endpoint that reads a case note by mistake")
            refused = http.get("/reports/notes", headers=report)
            problem = refused.json()
            print(f"  {refused.status_code} {problem['title']}: {problem['detail']}")
            print(f"  the note in the answer: {'Kai parcel' in refused.text}")

            print("== 5. No token")
            anonymous = http.get("/whanau/C-3001")
            print(f"  {anonymous.status_code} {anonymous.json()['title']}")
        purposeful.audit.flush()
        print("== 6. The audit trail above printed decisions only: no note, name or address")
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
