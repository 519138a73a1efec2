"""The Django admin and views behind purposeful's Django middleware: a refused read of a
model is a 403 problem without the value; under a purpose, the admin shows it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from _family_models import DjangoCase
from django.contrib.auth.models import User
from django.test import Client, override_settings

import purposeful
from purposeful.consent import ConsentMethod, MemoryConsentStore, Person

SECRET = "kaitiaki-admin-2718"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "purposeful.web.django.PurposeMiddleware",
]


@pytest.fixture
def admin_client(contrib_tables: str) -> Iterator[tuple[Client, DjangoCase]]:
    store = MemoryConsentStore()  # the case notes are used for case management on consent
    store.give(
        "C-7",
        "service-delivery.case-management",
        at=datetime(2026, 1, 5, tzinfo=UTC),
        by=Person(),
        method=ConsentMethod.WRITTEN,
    )
    with (
        override_settings(
            ROOT_URLCONF="_family_models",
            MIDDLEWARE=MIDDLEWARE,
            PURPOSEFUL_WEB={"ACTOR": "_family_models.admin_actor"},
        ),
        purposeful.configured(consent=store),
    ):
        user = User.objects.create_superuser("kaimahi", password="not-used-here")
        case = DjangoCase.objects.create(client_id="C-7", diagnosis=SECRET, address="x")
        client = Client()
        client.force_login(user)
        try:
            yield client, case
        finally:
            case.delete()
            user.delete()


@pytest.mark.parametrize("page", ["changelist", "change"])
def test_the_admin_under_a_purpose_shows_the_managed_field(
    admin_client: tuple[Client, DjangoCase], page: str
) -> None:
    client, case = admin_client
    suffix = "" if page == "changelist" else f"{case.pk}/change/"
    response = client.get(f"/case-admin/family_records/djangocase/{suffix}")
    assert response.status_code == 200, response.content.decode()[:400]
    assert SECRET in response.content.decode()


@pytest.mark.parametrize("page", ["changelist", "change"])
def test_the_admin_without_a_purpose_is_a_403_problem_without_the_value(
    admin_client: tuple[Client, DjangoCase], page: str
) -> None:
    client, case = admin_client
    suffix = "" if page == "changelist" else f"{case.pk}/change/"
    response = client.get(f"/plain-admin/family_records/djangocase/{suffix}")
    assert response.status_code == 403
    assert response["content-type"].startswith("application/problem+json")
    body = response.content.decode()
    assert SECRET not in body
    assert "C-7" not in body


def test_saving_the_admin_change_form_under_a_purpose_writes_the_row(
    admin_client: tuple[Client, DjangoCase],
) -> None:
    client, case = admin_client
    response = client.post(
        f"/case-admin/family_records/djangocase/{case.pk}/change/",
        {
            "client_id": "C-7",
            "diagnosis": "reviewed",
            "address": "x",
            "case_notes": "",
            "region": "Otago",
        },
    )
    assert response.status_code == 302, response.content.decode()[:400]
    stored = DjangoCase.objects.values_list("diagnosis", "region").get(pk=case.pk)
    assert stored == ("reviewed", "Otago")
