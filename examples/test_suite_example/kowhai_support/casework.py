"""Case management: what a caseworker sees before a review, and what a referral partner gets.

Both functions open their own purpose scope. This module must not read a field outside one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

import purposeful
from purposeful import Actor

from .records import Client


@attrs.frozen(repr=False)
class CaseReview:
    """The sheet a caseworker prepares before a case review. Holds personal information,
    so its repr shows none."""

    client_id: str
    name: str
    phone: str
    health_conditions: str
    mental_health_notes: str

    def __repr__(self) -> str:
        return f"<CaseReview {self.client_id}>"


def case_review(client: Client, *, caseworker: Actor) -> CaseReview:
    """Everything case management may use about *client*.

    Raises:
        PurposeViolation: *caseworker* is not cleared for the client's health information.
    """
    with purposeful.use("service-delivery.case-management", actor=caseworker):
        return CaseReview(
            client.client_id,
            client.name,
            client.phone,
            client.health_conditions,
            client.mental_health_notes,
        )


def referral_details(client: Client, *, navigator: Actor) -> Mapping[str, Any]:
    """Only what a referral may pass on: `purposeful.project` leaves out the rest.

    Fields left out are withheld, not refused, so this makes no purpose violations.
    """
    return dict(purposeful.project(client, "service-delivery.referral", actor=navigator))
