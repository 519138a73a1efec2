"""Two of an agency's services, one request: intake refers a person to case management.

Run it with ``python examples/two_services.py`` (after ``pip install -e ".[examples]"``).
It starts two real services on 127.0.0.1, each in a process of its own, and:

1. a caseworker asks the **intake** service (FastAPI under uvicorn) to refer Aroha; the
   intake route declares the referral purpose, and the middleware opens its scope for the
   caseworker the intake's own authentication names;
2. intake reads what referral may use of its record and calls the **case-management**
   service (Django under waitress) with httpx; the call carries a purpose claim signed with
   intake's own service key, in the W3C ``baggage`` header, because case management is on
   intake's allow-list;
3. case management verifies the claim against its trust store and opens its scope under
   the referral purpose, for the same caseworker, its clearance capped at what it trusts
   intake to assert, noting intake's scope as the one it works for;
4. claims that must not pass are refused: a forged one (401), a purpose that does not cover
   the route (403), one replayed after it expired (401), none at all (401);
5. both services write their spans to trace files (`TraceFileExporter`): the two purpose
   scopes are in one trace, and ``purposeful audit report --subject`` shows case
   management's read of Aroha "on behalf of" intake's scope.

The services are this same file, started with ``serve intake`` or ``serve case-management``.
Nothing leaves 127.0.0.1, and every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

import purposeful
from purposeful import SENSITIVE, ServiceAgreement
from purposeful.audit import SpanSink, TraceFileExporter, generate_keys
from purposeful.propagation import (
    Outbound,
    TrustedService,
    TrustStore,
    generate_service_key,
    inject,
    load_service_key,
    load_service_public_key,
)
from purposeful.web import no_purpose, purpose
from purposeful.web.tracing import (
    ahide_client_url,
    hide_asgi_path,
    hide_client_url,
    hide_django_path,
    hide_django_route,
)

REFERRAL = "service-delivery.referral"
CASE_MANAGEMENT = "service-delivery.case-management"
DELIVERY = ServiceAgreement("Family support service agreement")
#: the intake service's own authentication: bearer tokens of its staff (a stand-in for SSO)
STAFF = {"token-aroha-caseworker": purposeful.Actor("staff-0042", "caseworker", SENSITIVE)}


@purposeful.record(subject="client_id")
class Client:
    client_id: str
    name: str = purposeful.field(purposes={"service-delivery": DELIVERY}, category="identity")
    phone: str = purposeful.field(purposes={"service-delivery": DELIVERY}, category="contact")
    health_note: str = purposeful.field(
        purposes={CASE_MANAGEMENT: DELIVERY},
        sensitivity=SENSITIVE,
        category="health",
    )


#: Each service keeps its own copy of the people it serves.
CLIENTS = {"C-1001": Client("C-1001", "Aroha Ngata", "021 555 0101", "Asthma; uses an inhaler.")}


# --- the services -----------------------------------------------------------------------


def _telemetry(service: str, folder: Path) -> None:
    """Spans to a trace file of the service's own, pseudonyms with the agency's key."""
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = TraceFileExporter(folder / f"{service}.traces.jsonl")
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[arg-type]
    trace.set_tracer_provider(provider)
    pseudonyms = purposeful.audit.load_pseudonym_key(folder / "agency" / "pseudonym.key")
    purposeful.configure(sinks=[SpanSink()], pseudonymise=pseudonyms.pseudonym)


def serve_intake(port: int, folder: Path, partner: str) -> None:
    """The intake service: FastAPI under uvicorn."""
    import uvicorn
    from fastapi import FastAPI, Request
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    from purposeful.web.asgi import PurposeMiddleware

    _telemetry("intake", folder)
    key = load_service_key("intake", folder / "intake" / "service-key.pem")
    outbound = Outbound(key, {partner: "case-management"}, lifetime=timedelta(seconds=30))
    # the URLs called and the paths served hold client ids: the spans show hosts and routes
    HTTPXClientInstrumentor().instrument(
        request_hook=hide_client_url, async_request_hook=ahide_client_url
    )
    partner_client = httpx.AsyncClient(event_hooks=outbound.httpx_async_hooks(), timeout=10)

    def caseworker(request: Request) -> purposeful.Actor | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return STAFF.get(token) if scheme.lower() == "bearer" else None

    app = FastAPI()

    @app.get("/health")
    @no_purpose
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/referrals/{client_id}")
    @purpose(REFERRAL)
    async def refer(client_id: str) -> dict[str, Any]:
        sent = purposeful.project(CLIENTS[client_id])  # what referral may use, nothing more
        reply = await partner_client.post(
            f"{partner}/referrals/{client_id}", json={"fields": sorted(sent)}
        )
        return {
            "sent": sorted(sent),
            "withheld": sorted(sent.withheld),
            "case_management": {"status": reply.status_code, "body": reply.json()},
        }

    app.add_middleware(PurposeMiddleware, actor=caseworker, require_purposes=True)
    FastAPIInstrumentor.instrument_app(app, server_request_hook=hide_asgi_path)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def serve_case_management(port: int, folder: Path) -> None:
    """The case-management service: Django under waitress. Its views know no staff of
    their own here: every request must come with a claim from a service it trusts."""
    import django
    import waitress
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    _telemetry("case-management", folder)
    os.environ["TWO_SERVICES_FOLDER"] = str(folder)
    settings.configure(
        DEBUG=False,
        SECRET_KEY="two-services-example",
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        MIDDLEWARE=["purposeful.web.django.PurposeMiddleware"],
        PURPOSEFUL_WEB={
            "ACTOR": f"{__name__}.no_local_staff",
            "TRUST": f"{__name__}.case_management_trust",
            "REQUIRE_PURPOSES": True,
        },
    )
    DjangoInstrumentor().instrument(request_hook=hide_django_path, response_hook=hide_django_route)
    django.setup()
    waitress.serve(get_wsgi_application(), host="127.0.0.1", port=port, threads=4, _quiet=True)


def no_local_staff(request: Any) -> purposeful.Actor | None:
    return None


def case_management_trust() -> TrustStore:
    folder = Path(os.environ["TWO_SERVICES_FOLDER"])
    intake = TrustedService(
        "intake",
        [load_service_public_key(folder / "intake" / "service-key.pub.pem")],
        max_clearance=SENSITIVE,
        purposes={"service-delivery"},
    )
    return TrustStore("case-management", [intake], max_age=timedelta(seconds=60))


@purpose(REFERRAL)
def receive_referral(request: Any, client_id: str) -> Any:
    from django.http import JsonResponse

    known = CLIENTS.get(client_id)
    if known is None:
        return JsonResponse({"known": False}, status=404)
    seen = purposeful.project(known)  # under the caller's purpose, for the caller's actor
    return JsonResponse({"known": True, "fields_seen": sorted(seen)})


@no_purpose
def case_health(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse({"status": "ok"})


def _urlpatterns() -> list[Any]:
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    return [
        path("health", case_health),
        path("referrals/<str:client_id>", csrf_exempt(receive_referral)),
    ]


def __getattr__(name: str) -> Any:
    if name == "urlpatterns":  # Django reads the URLconf lazily, once configured
        return _urlpatterns()
    raise AttributeError(name)


# --- the scenario -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _service(args: list[str], health: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, __file__, "serve", *args])
    try:
        for _ in range(200):  # at most 20 s for the service to answer
            if process.poll() is not None:
                raise RuntimeError(f"the service {args[0]} stopped while starting")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(health, timeout=0.5).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"the service {args[0]} did not start within 20 s")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def run(folder: Path) -> dict[str, Any]:
    """The whole scenario; returns what happened, for the tests."""
    generate_keys(folder / "agency")  # the agency's pseudonym key, shared by its services
    generate_service_key(folder / "intake")
    intake_port, case_port = _free_port(), _free_port()
    intake_url, case_url = f"http://127.0.0.1:{intake_port}", f"http://127.0.0.1:{case_port}"
    results: dict[str, Any] = {}
    case_args = ["case-management", "--port", str(case_port), "--folder", str(folder)]
    intake_args = ["intake", "--port", str(intake_port), "--folder", str(folder)]
    intake_args += ["--partner", case_url]
    with (
        _service(case_args, f"{case_url}/health"),
        _service(intake_args, f"{intake_url}/health"),
    ):
        token = {"Authorization": "Bearer token-aroha-caseworker"}
        referral = httpx.post(f"{intake_url}/referrals/C-1001", headers=token, timeout=10)
        results["referral"] = {"status": referral.status_code, "body": referral.json()}
        results["no_login"] = httpx.post(f"{intake_url}/referrals/C-1001", timeout=10).json()
        results.update(_refused_claims(folder, case_url))
    results["traces"] = _one_trace(folder)
    results["report"] = _report(folder)
    return results


def _refused_claims(folder: Path, case_url: str) -> dict[str, Any]:
    """What case management answers to claims that must not pass. A claim is made here as
    intake would make one (this process holds intake's key), as an eavesdropper would
    have captured it."""
    key = load_service_key("intake", folder / "intake" / "service-key.pem")
    caseworker = STAFF["token-aroha-caseworker"]
    url = f"{case_url}/referrals/C-1001"

    def claim(purpose_id: str, lifetime: timedelta = timedelta(seconds=30)) -> dict[str, str]:
        headers: dict[str, str] = {}
        with purposeful.use(purpose_id, actor=caseworker):
            inject(headers, key, audience="case-management", lifetime=lifetime)
        return headers

    genuine = claim(REFERRAL)
    tail = "AAA" if genuine["baggage"][-3:] != "AAA" else "BBB"
    forged = {"baggage": genuine["baggage"][:-3] + tail}  # the signature's last bytes changed
    short = claim(REFERRAL, lifetime=timedelta(seconds=1))
    refused = {
        "replayed_in_window": httpx.post(url, headers=genuine, timeout=10).status_code,
        "forged": httpx.post(url, headers=forged, timeout=10).json(),
        "not_covering": httpx.post(url, headers=claim(CASE_MANAGEMENT), timeout=10).json(),
        "no_claim": httpx.post(url, timeout=10).json(),
    }
    time.sleep(1 + 5 + 1)  # past the claim's expiry and the trust store's clock skew
    refused["replayed_expired"] = httpx.post(url, headers=short, timeout=10).json()
    return refused


def _one_trace(folder: Path) -> dict[str, Any]:
    """The purpose scopes' spans of both services, by trace id."""
    spans: list[tuple[str, str, dict[str, Any]]] = []
    raw_id_shown = False
    for service in ("intake", "case-management"):
        text = (folder / f"{service}.traces.jsonl").read_text()
        raw_id_shown = raw_id_shown or "C-1001" in text  # a server's or a client's URL
        for line in text.splitlines():
            for resource in json.loads(line)["resourceSpans"]:
                for scope in resource["scopeSpans"]:
                    for span in scope["spans"]:
                        if span["name"] == "purposeful.use":
                            attributes = {a["key"]: a["value"] for a in span["attributes"]}
                            spans.append((service, span["traceId"], attributes))
    intake = [s for s in spans if s[0] == "intake"]
    case = [
        s for s in spans if s[0] == "case-management" and "purposeful.scope.upstream.id" in s[2]
    ]
    return {
        "intake_scopes": len(intake),
        "case_scopes_on_behalf_of_intake": len(case),
        "same_trace": bool(intake and case) and intake[0][1] == case[0][1],
        "upstream_is_intakes_scope": bool(intake and case)
        and case[0][2]["purposeful.scope.upstream.id"] == intake[0][2]["purposeful.scope.id"],
        "client_id_in_any_span": raw_id_shown,
    }


def _report(folder: Path) -> str:
    from purposeful.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(
            [
                "audit",
                "report",
                "--subject",
                "C-1001",
                "--key-file",
                str(folder / "agency" / "pseudonym.key"),
                str(folder / "intake.traces.jsonl"),
                str(folder / "case-management.traces.jsonl"),
            ]
        )
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run one of the two services")
    serve.add_argument("service", choices=["intake", "case-management"])
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--folder", type=Path, required=True)
    serve.add_argument("--partner", default="")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.command == "serve":
        if args.service == "intake":
            serve_intake(args.port, args.folder, args.partner)
        else:
            serve_case_management(args.port, args.folder)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        results = run(Path(folder))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    _show(results)
    return 0


def _show(results: dict[str, Any]) -> None:
    referral = results["referral"]["body"]
    print("1-3. Intake refers Aroha to case management under", REFERRAL)
    print("   intake sent:", ", ".join(referral["sent"]))
    print("   intake withheld:", ", ".join(referral["withheld"]))
    print("   case management saw:", referral["case_management"]["body"])
    print("4. Claims that must not pass")
    for what in ("forged", "not_covering", "replayed_expired", "no_claim"):
        problem = results[what]
        print(f"   {what}: {problem['status']} {problem['title']}: {problem['detail']}")
    print("   a claim replayed within its lifetime:", results["replayed_in_window"])
    print("   a request to intake without a login:", results["no_login"]["status"])
    print("5. One trace across both services:", results["traces"])
    print(results["report"])


if __name__ == "__main__":
    raise SystemExit(main())
