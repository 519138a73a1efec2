"""The Django project of the web tests: its URLconf, views and actor callable."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from _webkit import CASE_MANAGEMENT, CASEWORKER, CLERK, WebClient, client
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import include, path
from django.views import View

import purposeful
from purposeful import Actor
from purposeful.web import no_purpose, purpose
from purposeful.web.django import purpose_view

#: What the streaming view's chunks saw, for the test to read.
EVENTS: list[str] = []


def current_actor(request: HttpRequest) -> Actor | None:
    """The actor from ``request.user``, as set by `FakeAuthentication`."""
    user = getattr(request, "user", None)
    return {"caseworker": CASEWORKER, "clerk": CLERK}.get(str(user))


class FakeAuthentication:
    """Stands in for AuthenticationMiddleware: ``request.user`` from a header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.user = request.headers.get("x-user")  # type: ignore[attr-defined]
        return self.get_response(request)


def where() -> dict[str, object]:
    scope = purposeful.current_scope()
    if scope is None:
        return {"purpose": None}
    upstream = scope.upstream
    return {
        "purpose": scope.purpose.id,
        "actor": scope.actor.id,
        "upstream": None if upstream is None else [upstream.service, upstream.scope_id],
    }


@purpose(CASE_MANAGEMENT)
def case_where(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(where())


@purpose(CASE_MANAGEMENT)
def case_diagnosis(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse({"diagnosis": client().diagnosis})


@purpose(CASE_MANAGEMENT)
def case_stream(request: HttpRequest) -> StreamingHttpResponse:
    def body() -> Iterator[bytes]:
        for n in range(3):
            scope = purposeful.current_scope()
            EVENTS.append(f"chunk{n}:{scope.purpose.id if scope else None}")
            yield client().diagnosis.encode()[:4]

    return StreamingHttpResponse(body())


@purpose(CASE_MANAGEMENT)
def client_detail(request: HttpRequest, client_id: str) -> JsonResponse:
    """A detail route whose path holds the client's id (the tracing tests' request)."""
    return JsonResponse({"diagnosis": WebClient(client_id, "asthma", "").diagnosis})


@purpose("service-delivery")
def service_where(request: HttpRequest) -> JsonResponse:
    return JsonResponse(where())


@no_purpose
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse(where())


def undeclared(request: HttpRequest) -> JsonResponse:
    return JsonResponse(where())


@purpose_view(CASE_MANAGEMENT)
def decorated(request: HttpRequest) -> JsonResponse:
    return JsonResponse(where())


@purpose_view(CASE_MANAGEMENT)
def decorated_diagnosis(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"diagnosis": client().diagnosis})


@purpose(CASE_MANAGEMENT)
class CaseWhereView(View):
    """A class-based view, its class declared."""

    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse(where())


@no_purpose
class HealthView(View):
    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse(where())


admin_patterns = ([path("panel/", undeclared, name="panel")], "admin")

urlpatterns = [
    path("cases/<int:pk>/where", case_where),
    path("cases/<int:pk>/diagnosis", case_diagnosis),
    path("cases/stream", case_stream),
    path("clients/<str:client_id>", client_detail),
    path("service/where", service_where),
    path("health", health),
    path("undeclared", undeclared, name="undeclared"),
    path("decorated", decorated),
    path("decorated/diagnosis", decorated_diagnosis),
    path("admin/", include(admin_patterns)),
    path("class-based/where", CaseWhereView.as_view()),
    path("class-based/health", HealthView.as_view()),
]
