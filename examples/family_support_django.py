"""Te Whare Āwhina's family-support service: Django models behind Django views.

The clients of ``frontline_service.py`` and ``family_support_api.py``, kept where a Django
agency keeps them: in a model, in a database (SQLite, in a temporary folder), served by
views behind purposeful's Django middleware. One file: the settings, the model, the views
and the URLconf. Run it with ``python examples/family_support_django.py`` (after
``pip install -e ".[examples]"``): the tables are created with ``migrate --run-syncdb``
(the managed fields are ordinary columns to Django), the clients are saved outside any
purpose scope (saving is exempt: the ORM hands the values to the database), and a scripted
demo calls the service in process with Django's test client and prints what happened:

1. a caseworker lists the clients and reads one under case management: the views turn the
   rows into JSON with ``model_to_dict``, inside the request's purpose scope, which the
   middleware opened, so every managed field in the response is a decided read;
2. the same view without a login is a 401 problem;
3. the funder-reporting view returns whole client records: ``model_to_dict`` reads fields
   funder reporting may not use, so the answer is a 403 problem naming the field, never a
   value;
4. a referral to a housing partner returns a projection: only what referral may see, and
   what was withheld;
5. the audit: each request's scope report, decisions only.

``python examples/family_support_django.py --serve`` serves the same application under
waitress on 127.0.0.1 (``--port``, default 8000); send ``Authorization: Bearer
token-caseworker``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

import django
from django.apps import AppConfig
from django.conf import settings

import purposeful
from purposeful import ORANGA_TAMARIKI_ACT_S66C, SENSITIVE, Actor, ScopeReport, ServiceAgreement
from purposeful.errors import DictStorageWarning
from purposeful.web import no_purpose, purpose

DELIVERY = ServiceAgreement("Service delivery agreement")
FUNDING = ServiceAgreement("Funding agreement")
CASE_MANAGEMENT = "service-delivery.case-management"
REFERRAL = "service-delivery.referral"
APP_LABEL = "family_support"

# A Django model keeps its values in the instance __dict__: vars(client) is not guarded (see
# docs/django.md). This service never walks __dict__, so the warning is acknowledged here.
warnings.filterwarnings("ignore", category=DictStorageWarning)


class FamilySupportConfig(AppConfig):
    """This file, as a Django app: its model is declared below, once Django is set up."""

    name = __name__
    label = APP_LABEL
    default_auto_field = "django.db.models.BigAutoField"

    def import_models(self) -> None:
        super().import_models()
        self.models_module = self.module  # this file is the app's models module: migrate sees it


#: the database lives here for the life of the process (removed at the end of `main`)
FOLDER = tempfile.TemporaryDirectory(prefix="family-support-django-")

settings.configure(
    DEBUG=False,
    SECRET_KEY="family-support-django-example",
    ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[f"{__name__}.FamilySupportConfig"],
    # the staff's bearer token is read by the ACTOR callable: no session or auth middleware
    MIDDLEWARE=["purposeful.web.django.PurposeMiddleware"],
    PURPOSEFUL_WEB={
        "ACTOR": f"{__name__}.current_actor",
        "REQUIRE_PURPOSES": True,  # every view declares a purpose or no_purpose: checked at load
    },
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(Path(FOLDER.name) / "family-support.sqlite3"),
        }
    },
    MIGRATION_MODULES={APP_LABEL: None},  # no migration files: `migrate --run-syncdb`
    USE_TZ=True,
)
django.setup()

from django.db import models  # noqa: E402  (a model class needs Django set up)
from django.forms.models import model_to_dict  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402

from purposeful.django import managed  # noqa: E402


@purposeful.record(subject="client_id")
class Client(models.Model):
    """A client of Te Whare Āwhina, a community support service."""

    client_id = models.CharField(max_length=20, unique=True)
    name = managed(
        models.CharField(max_length=100),
        purposes={"service-delivery": DELIVERY},
        category="identity",
    )
    phone = managed(
        models.CharField(max_length=30),
        purposes={"service-delivery": DELIVERY},
        category="contact",
    )
    iwi = managed(
        models.CharField(max_length=60),
        purposes={"service-delivery": DELIVERY, "funder-reporting": FUNDING},
        category="ethnicity.iwi-affiliation",
    )
    diagnosis = managed(
        models.TextField(),
        purposes={CASE_MANAGEMENT: DELIVERY, "care-and-protection": ORANGA_TAMARIKI_ACT_S66C},
        sensitivity=SENSITIVE,
        category="health.mental-health",
    )
    programme = managed(
        models.CharField(max_length=60, default="Whānau support"),
        purposes={"service-delivery": DELIVERY, "funder-reporting": FUNDING},
    )
    region = models.CharField(max_length=40, default="Waikato")  # not managed

    class Meta:
        app_label = APP_LABEL
        ordering = ("client_id",)


#: the service's own authentication: bearer tokens of its staff (a stand-in for SSO)
STAFF = {
    "token-caseworker": Actor("staff-0042", "caseworker", SENSITIVE),
    "token-funder-job": Actor("svc-funder", "funder-reporting-job", SENSITIVE),
}


def current_actor(request: HttpRequest) -> Actor | None:
    """``PURPOSEFUL_WEB["ACTOR"]``: the member of staff the bearer token names, or None."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    return STAFF.get(token)


def _not_found() -> JsonResponse:
    return JsonResponse({"detail": "no such client"}, status=404)


@purpose(CASE_MANAGEMENT)
def list_clients(request: HttpRequest) -> JsonResponse:
    # model_to_dict reads every field: each managed one is decided, in the request's scope
    return JsonResponse([model_to_dict(client) for client in Client.objects.all()], safe=False)


@purpose(CASE_MANAGEMENT)
def read_client(request: HttpRequest, client_id: str) -> JsonResponse:
    client = Client.objects.filter(client_id=client_id).first()
    return _not_found() if client is None else JsonResponse(model_to_dict(client))


@purpose("funder-reporting")
def funder_clients(request: HttpRequest) -> JsonResponse:
    # a view written before purposeful: whole records, for a purpose that may not read them
    return JsonResponse([model_to_dict(client) for client in Client.objects.all()], safe=False)


@purpose(REFERRAL)
@require_POST
def refer(request: HttpRequest, client_id: str) -> JsonResponse:
    client = Client.objects.filter(client_id=client_id).first()
    if client is None:
        return _not_found()
    projection = purposeful.project(client)  # the scope's purpose and actor
    sent = {name: str(projection[name]) for name in projection}
    return JsonResponse(
        {"partner": "Kāinga Ora", "sent": sent, "withheld": sorted(projection.withheld)}
    )


@no_purpose
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("clients", list_clients, name="clients"),
    path("clients/<str:client_id>", read_client, name="client"),
    path("clients/<str:client_id>/referral", refer, name="referral"),
    path("funder/clients", funder_clients, name="funder-clients"),
    path("health", health, name="health"),
]


def create_database() -> None:
    """Create the tables and save the clients: outside any purpose scope, since saving is
    exempt (the ORM hands the values to the database, never to the caller)."""
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)
    Client.objects.bulk_create(
        [
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
        ]
    )


class Reports:
    """An audit sink that keeps the scope reports, to print them at the end."""

    def __init__(self) -> None:
        self.reports: list[ScopeReport] = []

    def emit(self, report: ScopeReport) -> None:
        self.reports.append(report)


def demo() -> None:
    from django.test import Client as TestClient

    reports = Reports()
    purposeful.configure(sinks=[reports])
    http = TestClient()
    caseworker = {"authorization": "Bearer token-caseworker"}
    funder_job = {"authorization": "Bearer token-funder-job"}

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


def serve(port: int) -> None:
    """Serve until interrupted (Ctrl-C) or terminated; either way the database is removed."""
    import signal
    import sys

    import waitress
    from django.core.wsgi import get_wsgi_application

    # waitress shuts down on SystemExit, as on Ctrl-C, and `main` then removes the folder
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print(f"serving on http://127.0.0.1:{port}/clients (database in {FOLDER.name})", flush=True)
    waitress.serve(get_wsgi_application(), host="127.0.0.1", port=port, _quiet=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve under waitress on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    try:
        create_database()
        if args.serve:
            serve(args.port)
        else:
            demo()
    finally:
        from django.db import connections

        connections.close_all()
        FOLDER.cleanup()


if __name__ == "__main__":
    main()
