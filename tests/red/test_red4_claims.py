"""Red team 4: purpose claims at the edge of what a datetime holds. A claim is outside input:
whatever a peer signs must be answered with a typed refusal (401), never a crash (a 500)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from _records import CASE_MANAGEMENT, CASEWORKER
from purposeful import SENSITIVE, use
from purposeful.errors import UntrustedClaim
from purposeful.propagation import (
    CLAIM_KEY,
    ServiceKey,
    TrustedService,
    TrustStore,
    extract,
    sign_claim,
)

INTAKE = ServiceKey.generate("intake")


def _trust() -> TrustStore:
    return TrustStore(
        "case-management", [TrustedService("intake", [INTAKE.public_key], max_clearance=SENSITIVE)]
    )


def _purpose():  # the registry's purpose object, through the public API
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        return scope.purpose


@pytest.mark.parametrize(
    "now",
    [None, datetime(2026, 5, 1, 9, 0, tzinfo=UTC)],
)
def test_red4_a_claim_expiring_in_the_last_seconds_of_year_9999_is_a_typed_refusal(
    now: datetime | None,
) -> None:
    """A claim whose expiry is within the skew of the last second a datetime holds (a short
    lifetime, so not lifetime-too-long) is refused typed (not-yet-valid): adding the skew to
    its expiry must not raise OverflowError."""
    with pytest.raises(UntrustedClaim):
        extract({"baggage": f"{CLAIM_KEY}={_last_second_token()}"}, _trust(), now=now)


def test_red4_the_wsgi_middleware_answers_such_a_claim_401_not_a_500() -> None:
    """Through the WSGI middleware the same claim is a 401 problem, not an OverflowError out
    of the application (a 500 and a traceback in the server's log)."""
    from purposeful.web.wsgi import PurposeMiddleware

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("content-type", "text/plain")])
        return [b"ok"]

    guarded = PurposeMiddleware(
        app, actor=lambda environ: None, purposes={"/cases": CASE_MANAGEMENT}, trust=_trust()
    )
    environ: dict[str, Any] = {"PATH_INFO": "/cases/1"}
    setup_testing_defaults(environ)
    environ["HTTP_BAGGAGE"] = f"{CLAIM_KEY}={_last_second_token()}"
    got: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got["status"] = status
        return lambda data: None

    body = guarded(environ, start_response)
    b"".join(body)
    assert got["status"] == "401 Unauthorized"


def _last_second_token() -> str:
    issued = datetime(9999, 12, 31, 23, 59, 40, tzinfo=UTC)
    return sign_claim(
        INTAKE,
        audience="case-management",
        purpose=_purpose(),
        actor=CASEWORKER,
        scope_id="4900611881a8e83c00000000",
        lifetime=timedelta(seconds=19),  # expires 9999-12-31T23:59:59Z
        now=issued,
    )
