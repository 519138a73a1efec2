"""Every parser of outside input, fed hostile and damaged input: typed errors only, in bounded
time and memory.

The parsers: registries of purposes and categories and sharing agreements (TOML), key files
(signing, public, pseudonym, recipient and service keys), OTLP JSON trace files and ledgers
(the report's readers and the ledger verifier), and bundles with their manifests
(`verify_bundle`). Each is given

- damaged copies of a genuine file (bytes flipped, inserted, deleted, the file cut short
  or a piece repeated), and
- hostile payloads: deep nesting of JSON and TOML, integers of thousands of digits,
  ``Infinity`` and ``NaN``, bytes that are not UTF-8, NUL bytes, and random bytes.

A parser may accept what it is given or raise an error of `purposeful.errors`; any other
exception is a defect. Each input must be handled within `SECONDS` and `MEMORY` (the Python
allocations tracemalloc sees while the parser runs). ``PURPOSEFUL_FUZZ_EXAMPLES`` sets how
many inputs each test draws (40 by default; run with a few hundred before a release).
"""

from __future__ import annotations

import io
import os
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from _audit_inputs import HandPart, HandScope, write_traces
from purposeful import CategoryRegistry, PurposeRegistry
from purposeful.access import verify_bundle
from purposeful.access.recipients import (
    generate_recipient_keys,
    load_recipient_private_key,
    load_recipient_public_key,
)
from purposeful.audit import (
    Ledger,
    generate_keys,
    load_pseudonym_key,
    load_public_key,
    load_signing_key,
    verify_ledger,
)
from purposeful.audit.report.reading import read_ledger, read_otlp_json
from purposeful.errors import KeyFileError, PurposefulError
from purposeful.propagation.keys import (
    generate_service_key,
    load_service_key,
    load_service_public_key,
)
from purposeful.sharing.agreements import load_agreements

sys.path.insert(0, str(Path(__file__).parent / "access"))
import _bundles  # the access tests' genuine bundle, signed with their key

SECONDS = 2.0
MEMORY = 256 << 20
DEFAULT_PACK = Path(purposeful.__file__).parent / "data" / "nz_social_services.toml"
AGREEMENTS = """
[[agreement]]
id = "housing-referrals"
name = "Housing referrals"
parties = [
  { name = "Te Whare Āwhina", address = "12 Rata Street, Hamilton" },
  { name = "Kāinga Ora", address = "PO Box 2628, Wellington" },
]
purposes = ["service-delivery.referral"]
fields = ["FuzzReferral.name"]
categories = ["contact"]
basis = { kind = "statute", act = "Oranga Tamariki Act 1989", section = "66C" }
starts = 2026-01-01
expires = 2027-12-31
review = 2027-06-30
"""
SIGNING = Ed25519PrivateKey.generate()


@purposeful.record(subject="client_id")
class FuzzReferral:
    """The record type the sample agreement covers."""

    client_id: str
    name: str = purposeful.field(
        purposes={"service-delivery.referral": purposeful.CONSENT}, category="contact"
    )


# --- the genuine files ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One genuine file of each kind, by parser name."""
    folder = tmp_path_factory.mktemp("genuine")
    keys = generate_keys(folder / "keys")
    recipient_private, recipient_public = generate_recipient_keys(folder / "recipient")
    service_private, service_public, _ = generate_service_key(folder / "service")
    traces = write_traces(
        folder / "traces.jsonl",
        [
            HandScope("scope-1", (HandPart({"p:1": frozenset({"Client.name"})}),)),
            HandScope("scope-2", (HandPart(refusals=(("denied", "Client.notes", 2),)),)),
        ],
    )
    ledger = folder / "audit.ledger"
    with Ledger(ledger, signing_key=SIGNING):
        pass
    return {
        "purposes": DEFAULT_PACK.read_bytes(),
        "categories": DEFAULT_PACK.read_bytes(),
        "agreements": AGREEMENTS.encode(),
        "signing_key": keys.signing_key.read_bytes(),
        "public_key": keys.public_key.read_bytes(),
        "pseudonym_key": keys.pseudonym_key.read_bytes(),
        "recipient_private_key": recipient_private.read_bytes(),
        "recipient_public_key": recipient_public.read_bytes(),
        "service_key": service_private.read_bytes(),
        "service_public_key": service_public.read_bytes(),
        "otlp_json": traces.read_bytes(),
        "ledger": ledger.read_bytes(),
        "ledger_report": ledger.read_bytes(),
        "bundle_manifest": _bundle_bytes(folder),
    }


def _bundle_bytes(folder: Path) -> bytes:
    return _bundles.build_bundle(folder / "bundle.zip").path.read_bytes()


# --- the parsers ------------------------------------------------------------------------------


def _drain(entries: Iterator[Any]) -> None:
    for _ in entries:
        pass


PARSERS: dict[str, Callable[[Path], object]] = {
    "purposes": PurposeRegistry.from_toml,
    "categories": CategoryRegistry.from_toml,
    "agreements": load_agreements,
    "signing_key": lambda path: load_signing_key(path, env=None),
    "public_key": load_public_key,
    "pseudonym_key": lambda path: load_pseudonym_key(path, env=None),
    "recipient_private_key": load_recipient_private_key,
    "recipient_public_key": load_recipient_public_key,
    "service_key": lambda path: load_service_key("intake", path, env=None),
    "service_public_key": load_service_public_key,
    "otlp_json": lambda path: _drain(read_otlp_json(path)),
    "ledger": lambda path: verify_ledger(path, SIGNING.public_key()),
    "ledger_report": lambda path: _drain(read_ledger(path)),
    "bundle_manifest": lambda path: verify_bundle(path, _bundles.PUBLIC_KEY),
}


# --- hostile input ----------------------------------------------------------------------------

_DEPTH = st.integers(min_value=64, max_value=20_000)
HOSTILE: st.SearchStrategy[bytes] = st.one_of(
    _DEPTH.map(lambda n: b"[" * n + b"]" * n),
    _DEPTH.map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    _DEPTH.map(lambda n: b"x = " + b"[" * n + b"]" * n + b"\n"),
    _DEPTH.map(lambda n: b"x = " + b"{a = " * n + b"1" + b"}" * n + b"\n"),
    st.integers(min_value=4_000, max_value=20_000).map(lambda n: b'{"size": ' + b"9" * n + b"}"),
    st.sampled_from([b'{"size": Infinity}', b"[NaN]", b"-Infinity", b"1e999", b"null"]),
    st.binary(max_size=2_000),
    st.text(max_size=500).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"\x00" * 100, b"\xff\xfe\xfd", b"-----BEGIN PRIVATE KEY-----\n\x00\n"]),
)


@st.composite
def damaged(draw: st.DrawFn, original: bytes) -> bytes:
    """*original* with one to three changes: bytes flipped, inserted, deleted or repeated, or
    cut short."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        change = draw(st.sampled_from(["flip", "insert", "delete", "cut", "repeat"]))
        if change == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif change == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif change == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif change == "cut":
            del data[at:]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 256))]
    return bytes(data)


def _feed(parser: str, data: bytes, folder: Path) -> None:
    """Give *data* to *parser* as a file: typed errors only, within time and memory."""
    path = folder / f"input-{parser}"
    path.write_bytes(data)
    path.chmod(0o600)  # key files must not be open to others: not what is tested here
    tracemalloc.start()
    started = time.perf_counter()
    try:
        PARSERS[parser](path)
    except PurposefulError:
        pass
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed <= SECONDS, f"{parser} took {elapsed:.1f} s"
    assert peak <= MEMORY, f"{parser} took {peak >> 20} MiB"


_SETTINGS = settings(
    max_examples=int(os.environ.get("PURPOSEFUL_FUZZ_EXAMPLES", "40")),
    deadline=None,  # the bound is asserted above, from the parser's own time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_a_genuine_file_is_read(parser: str, genuine: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / f"genuine-{parser}"
    path.write_bytes(genuine[parser])
    path.chmod(0o600)
    PARSERS[parser](path)  # no error at all


@pytest.mark.parametrize("parser", sorted(PARSERS))
@_SETTINGS
@given(data=st.data())
def test_a_damaged_file_is_a_typed_error_or_read(
    parser: str, genuine: dict[str, bytes], tmp_path: Path, data: st.DataObject
) -> None:
    _feed(parser, data.draw(damaged(genuine[parser])), tmp_path)


@pytest.mark.parametrize("parser", sorted(PARSERS))
@_SETTINGS
@given(payload=HOSTILE)
def test_a_hostile_file_is_a_typed_error_or_read(
    parser: str, tmp_path: Path, payload: bytes
) -> None:
    _feed(parser, payload, tmp_path)


@_SETTINGS
@given(manifest=HOSTILE, signature=HOSTILE)
def test_a_bundle_with_a_hostile_manifest_or_signature_is_a_typed_error(
    tmp_path: Path, manifest: bytes, signature: bytes
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("manifest.json", manifest)
        archive.writestr("manifest.sig", signature)
        archive.writestr("index.html", b"<!DOCTYPE html>")
    _feed("bundle_manifest", buffer.getvalue(), tmp_path)


def test_a_pseudonym_key_file_nested_too_deeply_is_a_key_file_error(tmp_path: Path) -> None:
    # found by this module: it was a RecursionError traceback
    path = tmp_path / "pseudonym.key"
    path.write_bytes(b"[" * 2000 + b"]" * 2000)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="too deeply"):
        load_pseudonym_key(path, env=None)
