"""The audit trail: keys, pseudonyms, spans, the tamper-evident ledger and reports.

What the privacy team gets is built here, on top of the core's `ScopeReport`s:

- **keys** (`generate_keys`, the ``load_*`` functions, `PseudonymKey`; kept in the private
  `purposeful._shared.keys`, which subject access shares): the Ed25519 key pair that signs
  ledger checkpoints and subject-access bundles, and the pseudonym key that turns a subject
  identifier into a keyed hash, so the trail can say "the same person" without saying who;
- **conventions** (`purposeful.audit.conventions`): every span name, attribute key, event
  name and ledger key the trail writes and reads, spelled once (the semantic conventions
  page is their contract);
- **spans** (`purposeful.audit.spans`): `SpanSink`, an audit sink that sends each scope to
  OpenTelemetry as one span with stable ``purposeful.*`` attributes;
- the tamper-evident local **ledger** (`purposeful.audit.ledger`): an append-only JSONL file
  of scope reports, HMAC-chained line to line, with Ed25519-signed checkpoints kept apart
  (`Ledger`), and `verify_ledger` (``purposeful audit verify``) naming the first line that
  breaks;
- **reports** (`purposeful.audit.report`, ``purposeful audit report``): what a privacy team
  asks of exported traces and ledgers;
- one person's **history** (`purposeful.audit.history`): who read their information, as a
  report's subject answer and for a subject-access bundle;
- **trace files** (`purposeful.audit.tracefile`): `TraceFileExporter`, a span exporter for
  the OpenTelemetry SDK that writes the OTLP JSON lines the report reads, for services
  without a Collector (duck-typed: it imports no SDK; loaded when the name is first used);
- `flush`: send every read not yet sent now (the trail sends them within
  ``flush_seconds`` by itself).

What this package must not do: put a field's value, a subject identifier (only its
pseudonym) or any key material in a span, a log line, an exception message or a file it
writes; or be imported by the core (purposes, records, scope, decisions): the core reaches
it only through the `AuditSink` protocol.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .._shared.keys import (
    PSEUDONYM_KEY_ENV,
    PSEUDONYM_KEY_FILE,
    PUBLIC_KEY_FILE,
    SIGNING_KEY_ENV,
    SIGNING_KEY_FILE,
    KeyFiles,
    PseudonymKey,
    generate_keys,
    load_pseudonym_key,
    load_public_key,
    load_signing_key,
    signing_key_id,
)
from .._trail import flush
from .ledger import Ledger, VerifyReason, VerifyResult, default_checkpoints_path, verify_ledger
from .spans import SpanSink

if TYPE_CHECKING:
    from .tracefile import TraceFileExporter

__all__ = [
    "PSEUDONYM_KEY_ENV",
    "PSEUDONYM_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "SIGNING_KEY_ENV",
    "SIGNING_KEY_FILE",
    "KeyFiles",
    "Ledger",
    "PseudonymKey",
    "SpanSink",
    "TraceFileExporter",
    "VerifyReason",
    "VerifyResult",
    "default_checkpoints_path",
    "flush",
    "generate_keys",
    "load_pseudonym_key",
    "load_public_key",
    "load_signing_key",
    "signing_key_id",
    "verify_ledger",
]

#: Names loaded when first used, and the module each lives in.
_LAZY = {"TraceFileExporter": "tracefile"}


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
