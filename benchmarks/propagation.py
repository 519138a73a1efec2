"""The cost of carrying a purpose to another service: ``baggage_sign_verify_us``.

One operation is what a call between two services adds to both: the caller makes a claim
from its open scope and puts it in the baggage header (`inject`: an Ed25519 signature), and
the receiver takes it out and checks it against its trust store (`extract`: an Ed25519
verification, the checks and the registry look-up). Microseconds per operation, the median
of *repeat* rounds of *number* operations, each claim fresh (nothing is cached).
"""

from __future__ import annotations

import statistics
import time

from purposeful import SENSITIVE, Actor, use
from purposeful.propagation import ServiceKey, TrustedService, TrustStore, extract, inject

CASE_MANAGEMENT = "service-delivery.case-management"


def measure_baggage(repeat: int, number: int) -> dict[str, float]:
    key = ServiceKey.generate("intake")
    trust = TrustStore("case-management", [TrustedService("intake", [key.public_key], SENSITIVE)])
    caseworker = Actor("staff-0042", "caseworker", SENSITIVE)
    rounds = []
    with use(CASE_MANAGEMENT, actor=caseworker):
        for _ in range(max(repeat, 5)):
            started = time.perf_counter()
            for _ in range(number):
                headers: dict[str, str] = {"baggage": "tenant=waikato"}
                inject(headers, key, audience="case-management")
                claim = extract(headers, trust)
            rounds.append((time.perf_counter() - started) / number * 1e6)
            assert claim is not None
    return {"baggage_sign_verify_us": statistics.median(rounds)}
