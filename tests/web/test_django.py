"""The Django middleware and view decorator, through Django's test client."""

from __future__ import annotations

import logging

import pytest
from _django_app import EVENTS
from _webkit import (
    CASE_MANAGEMENT,
    CASEWORKER,
    CLERK,
    INTAKE_ACTOR,
    SECRET_DIAGNOSIS,
    claim_headers,
    leaks,
    trust_store,
)
from django.test import Client, override_settings

import purposeful
from _records import RecordingSink
from purposeful import Mode
from purposeful.errors import ConfigurationError

TRUSTING = {"ACTOR": "_django_app.current_actor", "TRUST": "_webkit.trust_store"}


@pytest.fixture
def http() -> Client:
    return Client()


def test_a_declared_view_runs_in_its_purpose_with_request_user_as_actor(http: Client) -> None:
    answer = http.get("/cases/3/where", headers={"x-user": "caseworker"})
    assert answer.status_code == 200
    assert answer.json() == {"purpose": CASE_MANAGEMENT, "actor": CASEWORKER.id, "upstream": None}
    assert purposeful.current_scope() is None  # closed when the response was complete


def test_a_refused_read_is_a_403_problem_naming_no_value(http: Client, sink: RecordingSink) -> None:
    answer = http.get("/cases/3/diagnosis", headers={"x-user": "clerk"})
    assert answer.status_code == 403
    assert answer["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["reason_codes"] == ["clearance-too-low"]
    assert body["field"] == "diagnosis"
    assert leaks(answer.content) == []
    assert CLERK.id not in answer.content.decode()
    assert len(sink.reports) == 1
    assert sink.reports[0].failed


def test_no_actor_is_a_401_problem(http: Client) -> None:
    answer = http.get("/cases/3/where")
    assert answer.status_code == 401
    assert answer["www-authenticate"] == 'Bearer realm="purposeful"'


def test_exempt_and_undeclared_views_run_without_a_scope(http: Client) -> None:
    assert http.get("/health").json() == {"purpose": None}
    assert http.get("/undeclared", headers={"x-user": "clerk"}).json() == {"purpose": None}


def test_a_streamed_response_keeps_the_scope_until_consumed(
    http: Client, sink: RecordingSink
) -> None:
    EVENTS.clear()
    answer = http.get("/cases/stream", headers={"x-user": "caseworker"})
    assert sink.reports == []  # still open: nothing consumed yet
    body = b"".join(answer.streaming_content)  # type: ignore[attr-defined]
    answer.close()
    assert body == SECRET_DIAGNOSIS.encode()[:4] * 3
    assert [f"chunk{n}:{CASE_MANAGEMENT}" for n in range(3)] == EVENTS
    assert len(sink.reports) == 1
    assert purposeful.current_scope() is None


def test_a_stream_closed_unread_closes_the_scope(http: Client, sink: RecordingSink) -> None:
    answer = http.get("/cases/stream", headers={"x-user": "caseworker"})
    answer.close()
    assert len(sink.reports) == 1
    assert purposeful.current_scope() is None


def test_the_view_decorator_opens_the_scope_without_the_middleware(http: Client) -> None:
    with override_settings(MIDDLEWARE=["_django_app.FakeAuthentication"]):
        answer = http.get("/decorated", headers={"x-user": "clerk"})
        refused = http.get("/decorated/diagnosis", headers={"x-user": "clerk"})
        anonymous = http.get("/decorated")
    assert answer.json()["actor"] == CLERK.id
    assert refused.status_code == 403
    assert refused["content-type"] == "application/problem+json"
    assert anonymous.status_code == 401


def test_the_view_decorator_and_the_middleware_open_one_scope(
    http: Client, sink: RecordingSink
) -> None:
    assert http.get("/decorated", headers={"x-user": "clerk"}).json()["actor"] == CLERK.id
    assert len(sink.reports) == 1


def test_require_purposes_fails_when_the_middleware_loads(http: Client) -> None:
    options = {"ACTOR": "_django_app.current_actor", "REQUIRE_PURPOSES": True}
    with override_settings(PURPOSEFUL_WEB=options), pytest.raises(ConfigurationError) as caught:
        http.get("/health")
    assert "/undeclared" in str(caught.value)
    assert "/admin/panel/" in str(caught.value)
    assert "PURPOSEFUL_WEB['EXEMPT']" in str(caught.value)
    exempted = {**options, "EXEMPT": ["admin", "undeclared"]}
    with override_settings(PURPOSEFUL_WEB=exempted):
        assert http.get("/health").status_code == 200


def test_a_class_based_views_class_declares_its_purpose(http: Client) -> None:
    """Fixed: `purpose` on a class-based view's class marked the class, and the function
    its ``as_view()`` makes was taken for undeclared: no scope (every read refused
    ``no-scope``), or under ``REQUIRE_PURPOSES`` an error telling to decorate what was."""
    answer = http.get("/class-based/where", headers={"x-user": "caseworker"})
    assert answer.json() == {"purpose": CASE_MANAGEMENT, "actor": CASEWORKER.id, "upstream": None}
    options = {
        "ACTOR": "_django_app.current_actor",
        "REQUIRE_PURPOSES": True,
        "EXEMPT": ["admin", "undeclared"],
    }
    with override_settings(PURPOSEFUL_WEB=options):
        required = Client()
        answer = required.get("/class-based/where", headers={"x-user": "caseworker"})
        assert answer.json()["purpose"] == CASE_MANAGEMENT
        assert required.get("/class-based/health").json() == {"purpose": None}


@pytest.mark.parametrize("exempt", [["/undeclared"], ["undeclraed"], ["admin", "/admin/"]])
def test_an_exemption_that_names_no_url_pattern_is_an_error_when_the_middleware_loads(
    http: Client, exempt: list[str]
) -> None:
    options = {"ACTOR": "_django_app.current_actor", "EXEMPT": exempt}
    with override_settings(PURPOSEFUL_WEB=options), pytest.raises(ConfigurationError) as caught:
        http.get("/health")
    assert "not paths" in str(caught.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, r"\['ACTOR'\] must be"),
        ({"ACTOR": "no.such.module.actor"}, "cannot be imported"),
        ({"ACTOR": "_django_app.current_actor", "ACTORS": 1}, "unknown keys: ACTORS"),
    ],
)
def test_wrong_settings_are_configuration_errors(
    http: Client, options: dict[str, object], message: str
) -> None:
    with (
        override_settings(PURPOSEFUL_WEB=options),
        pytest.raises(ConfigurationError, match=message),
    ):
        http.get("/health")


def test_a_covering_claim_opens_the_views_purpose_with_the_callers_actor(http: Client) -> None:
    headers = claim_headers(CASE_MANAGEMENT)
    with override_settings(PURPOSEFUL_WEB=TRUSTING):
        answer = http.get("/cases/3/where", headers={"baggage": headers["baggage"]})
    assert answer.json() == {
        "purpose": CASE_MANAGEMENT,
        "actor": INTAKE_ACTOR.id,
        "upstream": ["intake", headers["x-test-scope-id"]],
    }


def test_claims_not_covering_or_untrusted_are_refused(
    http: Client, caplog: pytest.LogCaptureFixture
) -> None:
    broad = claim_headers("service-delivery")["baggage"]
    with override_settings(PURPOSEFUL_WEB=TRUSTING), caplog.at_level(logging.WARNING):
        refused = http.get("/cases/3/where", headers={"baggage": broad})
        forged = http.get("/service/where", headers={"baggage": "purposeful=x", "x-user": "clerk"})
    assert refused.status_code == 403
    assert refused.json()["reason"] == "purpose-not-covering"
    assert forged.status_code == 401
    assert "cases/<int:pk>/where" in caplog.text
    assert broad.partition("=")[2] not in caplog.text


def test_in_monitor_mode_a_claim_not_covering_goes_on_with_the_applications_actor(
    http: Client,
) -> None:
    purposeful.configure(purpose_modes={CASE_MANAGEMENT: Mode.MONITOR})
    broad = claim_headers("service-delivery")["baggage"]
    with override_settings(PURPOSEFUL_WEB=TRUSTING):
        answer = http.get("/cases/3/where", headers={"baggage": broad, "x-user": "clerk"})
    assert answer.json() == {"purpose": CASE_MANAGEMENT, "actor": CLERK.id, "upstream": None}


def test_trust_store_is_used_as_given() -> None:
    assert trust_store().service == "case-management"
