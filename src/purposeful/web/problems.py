"""RFC 9457 problem responses for refused requests: one builder every framework uses.

A refusal becomes a `Problem`: a ``type`` URI that names the kind for good (clients switch
on it), a ``title``, the HTTP ``status``, a ``detail`` in plain words, and extension
members with the codes and names behind it. The web integrations send it as
``application/problem+json``.

The kinds, each a stable URI under ``https://purposeful.dev/problems/``:

- ``purpose-violation`` (403): a read was refused (`PurposeViolation`); members
  ``reason_codes``, ``purpose``, ``record_type``, ``field``; the detail is the decision's
  plain explanation (`Decision.explain`);
- ``no-actor`` (401): a route that declares a purpose had no actor (`NoActor`);
- ``untrusted-claim`` (401): a purpose claim that cannot be trusted (`UntrustedClaim`);
- ``claim-purpose-refused`` (403): a trusted claim whose purpose or actor role is not
  accepted here (`ClaimPurposeRefused`).

Claim problems carry ``reason``, ``asked_purpose`` and ``required_purpose`` (null when not
known). A 401 carries a ``WWW-Authenticate`` header, as RFC 9110 requires.

What this module must not do: put a field's value, a subject id, an actor id or a header's
content in a problem. A decision holds none of them; a claim error's message is not used,
only its codes and the purpose ids this service declares.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

import attrs

from ..errors import (
    ClaimPurposeRefused,
    NoActor,
    PurposeClaimRefused,
    PurposefulError,
    PurposeViolation,
    UntrustedClaim,
)

__all__ = ["PROBLEM_BASE", "PROBLEM_CONTENT_TYPE", "Problem", "problem_for"]

PROBLEM_CONTENT_TYPE: Final = "application/problem+json"
PROBLEM_BASE: Final = "https://purposeful.dev/problems/"
#: The ``WWW-Authenticate`` challenge a 401 carries unless the application names its own.
DEFAULT_CHALLENGE: Final = 'Bearer realm="purposeful"'


@attrs.frozen
class Problem:
    """An RFC 9457 problem: what a refused request is answered with.

    Attributes:
        type: a URI naming the kind of problem, stable across releases.
        title: a short summary of the kind, the same for every problem of it.
        status: the HTTP status.
        detail: this occurrence, in plain words.
        extensions: further members (codes and declared names only).
        headers: response headers besides the content type (``WWW-Authenticate``).
    """

    type: str
    title: str
    status: int
    detail: str
    extensions: Mapping[str, object] = attrs.field(factory=dict)
    headers: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The problem's JSON object."""
        return {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extensions,
        }

    def body(self) -> bytes:
        """The response body: the JSON object, UTF-8."""
        return json.dumps(self.as_dict(), ensure_ascii=False).encode("utf-8")

    def response_headers(self) -> list[tuple[str, str]]:
        """Every header to send: the content type, its length and `headers`."""
        return [
            ("content-type", PROBLEM_CONTENT_TYPE),
            ("content-length", str(len(self.body()))),
            *self.headers,
        ]


def problem_for(
    error: PurposefulError, *, www_authenticate: str = DEFAULT_CHALLENGE
) -> Problem | None:
    """The problem that answers *error*, or None for an error that is not a refusal of the
    request (those stay the application's, usually a 500).

    Args:
        www_authenticate: the challenge a 401 carries in its ``WWW-Authenticate`` header.
    """
    challenge = (("www-authenticate", www_authenticate),)
    if isinstance(error, PurposeViolation):
        decision = error.decision
        return Problem(
            type=f"{PROBLEM_BASE}purpose-violation",
            title="A read of managed data was refused",
            status=403,
            detail=decision.explain(),
            extensions={
                "reason_codes": list(decision.reason_codes),
                "purpose": decision.purpose.id if decision.purpose is not None else None,
                "record_type": decision.record_type,
                "field": decision.field,
            },
        )
    if isinstance(error, NoActor):
        return Problem(
            type=f"{PROBLEM_BASE}no-actor",
            title="No one is acting for this request",
            status=401,
            detail=(
                "This route serves a declared purpose and needs to know who is acting: "
                "authenticate, or call it with a trusted purpose claim."
            ),
            headers=challenge,
        )
    if isinstance(error, PurposeClaimRefused):
        untrusted = isinstance(error, UntrustedClaim)
        extensions = {
            "reason": error.reason,
            "asked_purpose": error.asked_purpose,
            "required_purpose": error.required_purpose,
        }
        if untrusted:
            return Problem(
                type=f"{PROBLEM_BASE}untrusted-claim",
                title="The purpose claim that came with the request cannot be trusted",
                status=401,
                detail=f"The purpose claim in the baggage header was refused ({error.reason}).",
                extensions=extensions,
                headers=challenge,
            )
        return Problem(
            type=f"{PROBLEM_BASE}claim-purpose-refused",
            title="The purpose claim that came with the request is not accepted here",
            status=error.status if isinstance(error, ClaimPurposeRefused) else 403,
            detail=_claim_detail(error),
            extensions=extensions,
        )
    return None


def _claim_detail(error: PurposeClaimRefused) -> str:
    if error.asked_purpose is not None and error.required_purpose is not None:
        return (
            f"The request asked for the purpose {error.asked_purpose}, which this route's "
            f"purpose, {error.required_purpose}, does not cover: ask for "
            f"{error.required_purpose} or a purpose under it."
        )
    return f"The purpose claim in the baggage header was refused ({error.reason})."
