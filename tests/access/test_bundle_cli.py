"""``purposeful bundle due|build|verify|decrypt`` and ``purposeful keys recipient``, driven
in-process through `main`: what they print, their exit statuses, and that the person's
identifier is never printed."""

from __future__ import annotations

import io
import itertools
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from purposeful.access import verify_bundle
from purposeful.audit import generate_keys, load_public_key
from purposeful.cli import main

SUBJECT = "C-4471"
_numbers = itertools.count()

APP = """
from purposeful import CONSENT, field, record
from purposeful.access import AgencyDetails, SubjectAccess
from purposeful.audit import PseudonymKey

@record(subject="client_id", key="note_id")
class HomeVisit:
    client_id: str
    note_id: str
    text: str = field(purposes={"service-delivery.case-management": CONSENT})

access = SubjectAccess(
    agency=AgencyDetails("Te Whare Awhina", email="privacy@example.org.nz"),
    pseudonym_keys=PseudonymKey.generate(),
)

@access.source("notes")
def notes(subject):
    for number in range(2500):
        yield HomeVisit(subject, f"N-{number}", "a visit")

def make_access():
    return access

not_access = 42
"""


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An application module in the working directory; its name, unique per test."""
    name = f"sar_app_{next(_numbers)}"
    (tmp_path / f"{name}.py").write_text(APP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLIENT_ID", SUBJECT)
    yield name
    sys.modules.pop(name, None)


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    generate_keys(tmp_path / "keys")
    return tmp_path / "keys"


#: Who asked and the s 57 checks, as the options record them.
CHECKS = [
    "--requester",
    "person",
    "--identity",
    "staff-7:photo-id-sighted:IDV-0042",
    "--no-threat",
    "staff-7:asked-in-private",
    "--delivery",
    "staff-7:encrypted-to-requester-key",
]


def build(app: str, keys: Path, out: str, *extra: str, checks: bool = True) -> int:
    return main(
        [
            "bundle",
            "build",
            f"{app}:access",
            "--request-id",
            "SAR-2026-0042",
            "--received",
            "2026-12-10",
            "--subject-env",
            "CLIENT_ID",
            "--out",
            out,
            "--signing-key",
            str(keys / "signing-key.pem"),
            "--created",
            "2026-12-20T09:00:00+13:00",
            *(CHECKS if checks else []),
            *extra,
        ]
    )


def test_bundle_due_prints_the_worked_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "due", "2026-12-10"]) == 0
    out = capsys.readouterr().out
    assert "transfer due by: 24 December 2026 (10 working days, s 43)" in out
    assert "answer due by:   29 January 2027 (20 working days, s 44)" in out


def test_bundle_due_refuses_a_date_outside_the_calendar_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bundle", "due", "2053-03-01"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("purposeful: error:")
    assert "2052" in err
    assert main(["bundle", "due", "10/12/2026"]) == 2
    assert "is not a date like 2026-12-10" in capsys.readouterr().err


def test_build_writes_a_bundle_that_verifies_and_never_prints_the_subject(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(app, keys, "bundle.zip") == 0
    out, err = capsys.readouterr()
    assert SUBJECT not in out + err
    assert "records:  2,500 in 1 record type; 0 withheld" in out
    assert "answer due by 2027-01-29" in out
    verified = verify_bundle("bundle.zip", load_public_key(keys / "signing-key.pub.pem"))
    assert verified.records == {"HomeVisit": 2500}
    assert (
        main(["bundle", "verify", "bundle.zip", "--public-key", str(keys / "signing-key.pub.pem")])
        == 0
    )
    assert capsys.readouterr().out.startswith("ok: 7 files match the manifest")


def test_build_shows_progress_on_a_terminal(
    app: str, keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert build(app, keys, "bundle.zip") == 0
    shown = terminal.getvalue()
    assert "\rreading records: 1,000" in shown
    assert "\rreading records: 2,500" in shown


def test_build_takes_the_subject_one_way_exactly(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build(app, keys, "a.zip", "--subject", SUBJECT) == 2
    assert "give --subject-env or --subject, not both" in capsys.readouterr().err
    monkeypatch.delenv("CLIENT_ID")
    assert build(app, keys, "b.zip") == 2
    assert "$CLIENT_ID is not set" in capsys.readouterr().err
    assert not Path("a.zip").exists()
    assert not Path("b.zip").exists()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon", "must be module:attribute"),
        ("missing_module_xyz:access", "cannot import 'missing_module_xyz'"),
        ("{app}:not_access", "is not a SubjectAccess"),
    ],
)
def test_build_names_a_bad_app_in_one_line(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str], spec: str, message: str
) -> None:
    argv = ["bundle", "build", spec.format(app=app), "--request-id", "R", "--received"]
    argv += ["2026-12-10", "--subject-env", "CLIENT_ID", "--out", "x.zip"]
    argv += ["--signing-key", str(keys / "signing-key.pem")]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_build_accepts_a_function_returning_the_access(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["bundle", "build", f"{app}:make_access", "--request-id", "R", "--received"]
    argv += ["2026-12-10", "--subject-env", "CLIENT_ID", "--out", "x.zip"]
    argv += ["--signing-key", str(keys / "signing-key.pem"), *CHECKS]
    assert main(argv) == 0
    assert Path("x.zip").exists()


def test_verify_names_the_changed_member_and_exits_1(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(app, keys, "bundle.zip") == 0
    with zipfile.ZipFile("bundle.zip") as original, zipfile.ZipFile("copy.zip", "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            copy.writestr(
                item,
                data.replace(b"a visit", b"A visit") if item.filename.endswith(".csv") else data,
            )
    capsys.readouterr()
    public = str(keys / "signing-key.pub.pem")
    assert main(["bundle", "verify", "copy.zip", "--public-key", public]) == 1
    assert capsys.readouterr().out.startswith(
        "FAILED: records/HomeVisit.csv: does not match its SHA-256"
    )


def test_an_encrypted_bundle_verifies_and_decrypts_with_its_passphrase(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUNDLE_PASSPHRASE", "correct horse battery staple")
    assert build(app, keys, "bundle.zip.age", "--encrypt-passphrase-env", "BUNDLE_PASSPHRASE") == 0
    assert "encrypted" in capsys.readouterr().out
    public = str(keys / "signing-key.pub.pem")
    assert main(["bundle", "verify", "bundle.zip.age", "--public-key", public]) == 2
    assert "is encrypted" in capsys.readouterr().err
    secret = ["--passphrase-env", "BUNDLE_PASSPHRASE"]
    assert main(["bundle", "verify", "bundle.zip.age", "--public-key", public, *secret]) == 0
    assert main(["bundle", "decrypt", "bundle.zip.age", "bundle.zip", *secret]) == 0
    assert verify_bundle("bundle.zip", public).records == {"HomeVisit": 2500}
    monkeypatch.setenv("BUNDLE_PASSPHRASE", "wrong")
    assert main(["bundle", "decrypt", "bundle.zip.age", "other.zip", *secret]) == 2
    assert "wrong passphrase" in capsys.readouterr().err
    assert not Path("other.zip").exists()


def test_a_bundle_encrypted_to_a_recipient_key_decrypts_with_the_private_key(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "recipient", "recipient"]) == 0
    assert "recipient-key.pub.txt" in capsys.readouterr().out
    to = ["--encrypt-to", "recipient/recipient-key.pub.txt"]
    assert build(app, keys, "bundle.zip.age", *to) == 0
    public = str(keys / "signing-key.pub.pem")
    private = ["--private-key", "recipient/recipient-key.txt"]
    assert main(["bundle", "verify", "bundle.zip.age", "--public-key", public, *private]) == 0
    assert main(["bundle", "decrypt", "bundle.zip.age", "bundle.zip", *private]) == 0
    assert main(["bundle", "decrypt", "bundle.zip.age", "bundle.zip", *private]) == 2
    assert "overwrite" in capsys.readouterr().err


def test_a_damaged_encrypted_bundle_does_not_verify_exit_1(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "recipient", "recipient"]) == 0
    to = ["--encrypt-to", "recipient/recipient-key.pub.txt"]
    assert build(app, keys, "bundle.zip.age", *to) == 0
    data = bytearray(Path("bundle.zip.age").read_bytes())
    data[5000] ^= 0x01
    Path("damaged.age").write_bytes(bytes(data))
    Path("short.age").write_bytes(bytes(data[:20000]))
    capsys.readouterr()
    public = str(keys / "signing-key.pub.pem")
    private = ["--private-key", "recipient/recipient-key.txt"]
    for name in ("damaged.age", "short.age"):
        assert main(["bundle", "verify", name, "--public-key", public, *private]) == 1
        assert capsys.readouterr().out.startswith("FAILED: ")


def test_without_the_age_extra_encrypting_is_one_line_and_exit_2(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyrage", None)  # import pyrage now fails
    monkeypatch.setenv("BUNDLE_PASSPHRASE", "correct horse battery staple")
    assert build(app, keys, "bundle.zip.age", "--encrypt-passphrase-env", "BUNDLE_PASSPHRASE") == 2
    err = capsys.readouterr().err
    assert err == (
        "purposeful: error: encrypting and decrypting bundles needs pyrage, the Python binding "
        "of the age format; install it with pip install 'purposeful[age]'\n"
    )
    assert not Path("bundle.zip.age").exists()
    assert main(["keys", "recipient", "recipient"]) == 2
    assert build(app, keys, "bundle.zip") == 0  # a plain bundle needs no pyrage


def test_bundle_due_prints_nothing_when_a_date_cannot_be_computed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bundle", "due", "2052-12-20"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "2052" in err


def test_build_without_the_s57_checks_names_them_in_one_line_and_writes_nothing(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(app, keys, "bundle.zip", "--requester", "person", checks=False) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "identity:" in err
    assert "no_threat:" in err
    assert "delivery:" in err
    assert "requester:" not in err
    assert SUBJECT not in err
    assert not Path("bundle.zip").exists()


@pytest.mark.parametrize(
    "option",
    [
        ["--requester", "agent"],
        ["--requester", "agent:power:REF"],
        ["--requester", "someone"],
        ["--identity", "staff-7"],
        ["--identity", "staff-7:photo id:x"],
        ["--delivery", "a:b:c:d"],
    ],
)
def test_a_malformed_check_is_one_line_and_exit_2(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    assert build(app, keys, "bundle.zip", *option) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not Path("bundle.zip").exists()


def test_a_draft_needs_no_checks_and_says_it_is_a_draft(
    app: str, keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(app, keys, "draft.zip", "--draft", checks=False) == 0
    assert "draft:    for your review only" in capsys.readouterr().out
    verified = verify_bundle("draft.zip", load_public_key(keys / "signing-key.pub.pem"))
    assert verified.draft
    with zipfile.ZipFile("draft.zip") as bundle:
        assert "Draft: Your information held by" in bundle.read("index.html").decode()


def test_a_django_app_imported_before_django_is_set_up_is_told_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Django project's module that APP names (a bundle's access, retention's sources)
    imports its models: without ``django.setup()``, Django raises AppRegistryNotReady, and
    the line says what to do about it."""
    pytest.importorskip("django")
    (tmp_path / "djangoish_access.py").write_text(
        "from django.core.exceptions import AppRegistryNotReady\n"
        "raise AppRegistryNotReady('Apps aren\\'t loaded yet.')\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    assert main(["retention", "due", "djangoish_access:sources"]) == 2  # the same loader
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "AppRegistryNotReady" in line
    assert "django.setup()" in line
