"""Breach response (Privacy Act 2020, Part 6): what a compromise reached, from the audit trail.

When a credential, a service or a device is compromised, an agency judges whether serious
harm is likely and, if so, notifies the Privacy Commissioner and the people affected as
soon as practicable. This package gives the person who judges the facts the audit trail
holds, and drafts what they send:

1. `Compromise`: the window (`nz_window` reads New Zealand dates and times) and what was
   compromised: actors, roles, services, record types;
2. `Trail`: the audit trail, as the report's relational shape on DuckDB, ClickHouse or the
   standard library's SQLite;
3. `assess`: the `Assessment`: how many people, which record types, fields, categories,
   sensitivity and purposes, what was disclosed and refused, and what the trail cannot see;
4. `name_people`: the people themselves, by re-hashing the agency's subject ids with the
   pseudonym key, written only to a file the operator names;
5. `assessment_document` (with the NotifyUs facts and the serious-harm factors to weigh) and
   `notification_document` (a draft for the people affected), rendered with
   `render_text`, `render_markdown` or `render_html`.

What this package must not do: decide whether harm is serious (a person does; every page
says so); show, log or put in a span a subject identifier; import DuckDB or a ClickHouse
client before a trail on them is asked for.
"""

from __future__ import annotations

from .._shared.document import render_html, render_markdown, render_text
from .assessment import Assessment, DisclosedRow, FieldRead, RefusedRow, RunBy, assess
from .compromise import Compromise, nz_moment, nz_window
from .documents import (
    BLIND_SPOTS,
    COMMISSIONER_FACTS,
    HARM_FACTORS,
    Notification,
    assessment_document,
    notification_document,
)
from .people import PeopleNamed, name_people
from .trail import ENGINES, Engine, Trail

__all__ = [
    "BLIND_SPOTS",
    "COMMISSIONER_FACTS",
    "ENGINES",
    "HARM_FACTORS",
    "Assessment",
    "Compromise",
    "DisclosedRow",
    "Engine",
    "FieldRead",
    "Notification",
    "PeopleNamed",
    "RefusedRow",
    "RunBy",
    "Trail",
    "assess",
    "assessment_document",
    "name_people",
    "notification_document",
    "nz_moment",
    "nz_window",
    "render_html",
    "render_markdown",
    "render_text",
]
