"""Te Whare Āwhina's family-support API: pydantic records behind FastAPI.

The clients of ``frontline_service.py``, kept where an agency's API keeps them: in pydantic
models, returned from FastAPI routes. Run it with ``python examples/family_support_api.py``
(after ``pip install -e ".[examples]"``): a scripted demo calls the application in process
with Starlette's ``TestClient`` and prints what happened:

1. a caseworker lists the clients and reads one under case management: FastAPI serialises
   the response models inside the request's purpose scope, which the middleware opened, so
   every managed field in the response is a decided read;
2. the same route without a login is a 401 problem;
3. the funder-reporting route returns whole client records: serialising them reads fields
   funder reporting may not use, so the answer is a 403 problem naming the field, never a
   value;
4. a referral to a housing partner returns a projection: only what referral may see, and
   what was withheld;
5. the audit: each request's scope report, decisions only.

``python examples/family_support_api.py --serve`` serves the same application under uvicorn
on 127.0.0.1 (``--port``, default 8000); send ``Authorization: Bearer token-caseworker``.
"""

from __future__ import annotations

import argparse
import json
import warnings
from typing import Annotated

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

import purposeful
from purposeful import (
    ORANGA_TAMARIKI_ACT_S66C,
    SENSITIVE,
    Actor,
    Managed,
    ScopeReport,
    ServiceAgreement,
)
from purposeful.errors import DictStorageWarning
from purposeful.web import no_purpose, purpose
from purposeful.web.asgi import PurposeMiddleware

DELIVERY = ServiceAgreement("Service delivery agreement")
FUNDING = ServiceAgreement("Funding agreement")
CASE_MANAGEMENT = "service-delivery.case-management"
REFERRAL = "service-delivery.referral"

# pydantic keeps a model's values in its __dict__: vars(model) is not guarded (see
# docs/pydantic.md). This service never walks __dict__, so the warning is acknowledged here.
warnings.filterwarnings("ignore", category=DictStorageWarning)


@purposeful.record(subject="client_id")
class Client(BaseModel):
    """A client of Te Whare Āwhina, a community support service."""

    client_id: str
    name: Annotated[
        str,
        Managed(purposes={"service-delivery": DELIVERY}, category="identity"),
        Field(min_length=1),
    ]
    phone: Annotated[str, Managed(purposes={"service-delivery": DELIVERY}, category="contact")]
    iwi: Annotated[
        str,
        Managed(
            purposes={"service-delivery": DELIVERY, "funder-reporting": FUNDING},
            category="ethnicity.iwi-affiliation",
        ),
    ]
    diagnosis: Annotated[
        str,
        Managed(
            purposes={CASE_MANAGEMENT: DELIVERY, "care-and-protection": ORANGA_TAMARIKI_ACT_S66C},
            sensitivity=SENSITIVE,
            category="health.mental-health",
        ),
    ]
    programme: Annotated[
        str, Managed(purposes={"service-delivery": DELIVERY, "funder-reporting": FUNDING})
    ] = "Whānau support"
    region: str = "Waikato"  # not managed


class ReferralOut(BaseModel):
    """What goes to the housing partner: the projection's fields, and what was withheld."""

    partner: str
    sent: dict[str, str]
    withheld: list[str]


CLIENTS = {
    client.client_id: client
    for client in (
        Client(
            client_id="C-1001",
            name="Aroha Ngata",
            phone="021 555 0101",
            iwi="Ngāti Porou",
            diagnosis="generalised anxiety",
        ),
        Client(
            client_id="C-1002",
            name="Tama Ngata",
            phone="021 555 0102",
            iwi="Ngāti Porou",
            diagnosis="none recorded",
            programme="Rangatahi mentoring",
        ),
    )
}
#: the service's own authentication: bearer tokens of its staff (a stand-in for SSO)
STAFF = {
    "token-caseworker": Actor("staff-0042", "caseworker", SENSITIVE),
    "token-funder-job": Actor("svc-funder", "funder-reporting-job", SENSITIVE),
}


def current_actor(request: Request) -> Actor | None:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    return STAFF.get(token)


def _client(client_id: str) -> Client:
    if client_id not in CLIENTS:
        raise HTTPException(status_code=404, detail="no such client")
    return CLIENTS[client_id]


app = FastAPI(title="Te Whare Āwhina family support")


@app.get("/clients")
@purpose(CASE_MANAGEMENT)
async def list_clients() -> list[Client]:
    return list(CLIENTS.values())  # serialised by FastAPI inside the request's scope


@app.get("/clients/{client_id}")
@purpose(CASE_MANAGEMENT)
async def read_client(client_id: str) -> Client:
    return _client(client_id)


@app.get("/funder/clients")
@purpose("funder-reporting")
async def funder_clients() -> list[Client]:
    # a route written before purposeful: whole records, for a purpose that may not read them
    return list(CLIENTS.values())


@app.post("/clients/{client_id}/referral")
@purpose(REFERRAL)
async def refer(client_id: str) -> ReferralOut:
    projection = purposeful.project(_client(client_id))  # the scope's purpose and actor
    sent = {name: str(projection[name]) for name in projection}
    return ReferralOut(partner="Kāinga Ora", sent=sent, withheld=sorted(projection.withheld))


@app.get("/health")
@no_purpose
async def health() -> dict[str, str]:
    return {"status": "ok"}


app.add_middleware(PurposeMiddleware, actor=current_actor, require_purposes=True)


class Reports:
    """An audit sink that keeps the scope reports, to print them at the end."""

    def __init__(self) -> None:
        self.reports: list[ScopeReport] = []

    def emit(self, report: ScopeReport) -> None:
        self.reports.append(report)


def demo() -> None:
    from starlette.testclient import TestClient

    reports = Reports()
    purposeful.configure(sinks=[reports])
    caseworker = {"authorization": "Bearer token-caseworker"}
    funder_job = {"authorization": "Bearer token-funder-job"}
    with TestClient(app) as http:
        print("== 1. A caseworker lists clients and reads one (case management)")
        listed = http.get("/clients", headers=caseworker)
        print(listed.status_code, [client["client_id"] for client in listed.json()])
        one = http.get("/clients/C-1001", headers=caseworker)
        print(one.status_code, "diagnosis:", one.json()["diagnosis"])

        print("== 2. No login")
        anonymous = http.get("/clients/C-1001")
        print(anonymous.status_code, anonymous.headers["content-type"])
        print("problem:", json.dumps(anonymous.json(), ensure_ascii=False))

        print("== 3. Funder reporting asks for whole client records")
        refused = http.get("/funder/clients", headers=funder_job)
        print(refused.status_code, refused.headers["content-type"])
        print("problem:", json.dumps(refused.json(), ensure_ascii=False))

        print("== 4. A referral to a housing partner: a projection")
        referral = http.post("/clients/C-1001/referral", headers=caseworker)
        body = referral.json()
        print(referral.status_code, "sent to", body["partner"] + ":", sorted(body["sent"]))
        print("withheld:", body["withheld"])

    print("== 5. The audit: every request's scope, decisions only")
    for report in reports.reports:
        fields = ", ".join(
            f"{d.field} {d.outcome.value}" for d in sorted(report.decisions, key=lambda d: d.field)
        )
        purpose_id = report.purpose.id if report.purpose else "(none)"
        role = report.actor.role if report.actor else "-"
        print(f"{purpose_id:34} {role:22} {fields}")
    purposeful.reset_configuration()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve under uvicorn on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if args.serve:
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=args.port)
    else:
        demo()


if __name__ == "__main__":
    main()
