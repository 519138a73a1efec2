"""Kōwhai Support: a (made-up) community support NGO's client records, casework and reports.

A small agency project that uses purposeful the way a user would. Its own tests, in the
directory above, show how to prove in CI that no code path reads a client's information
for a purpose it was not collected for.
"""

from .casework import CaseReview, case_review, referral_details
from .records import FUNDING_AGREEMENT, SERVICE_AGREEMENT, Client
from .reporting import REPORTING_JOB, QuarterlyReport, quarterly_funder_report

__all__ = [
    "FUNDING_AGREEMENT",
    "REPORTING_JOB",
    "SERVICE_AGREEMENT",
    "CaseReview",
    "Client",
    "QuarterlyReport",
    "case_review",
    "quarterly_funder_report",
    "referral_details",
]
