"""The examples run end to end and show what they promise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_frontline_service_example_shows_each_step() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "frontline_service.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = result.stdout
    assert "current focus: generalised anxiety" in out
    assert "name=<managed>" in out
    assert "Refused: diagnosis may be used for case management or care and protection, " in out
    assert "not for funder reporting." in out
    assert "would-deny  Client.diagnosis [no-scope]" in out
    assert "Withheld diagnosis:" in out
    assert "Under s 66C, refused: not-entitled-to-basis, justification-missing" in out
    assert "- **Name:** You have to give us this. Without it we cannot give you the service." in out
    assert "With the belief recorded (OT-2026-0117), s 66C allows" in out
    assert "Serious threat needs its belief recorded too: a belief on reasonable grounds" in out
    assert "Wellbeing score for the outcomes study: 8" in out
    assert "consent was withdrawn (for research)" in out
    assert "Consent history: ['given', 'withdrawn']" in out
    assert "[span purposeful.use] purpose=funder-reporting role=funder-reporting-job" in out
    assert "audit.jsonl: ok: 9 lines verified" in out  # the legacy export: one line
    assert "tampered.jsonl:3: edited:" in out
    answer = out.split("== 8.")[1].split("== 9.")[0]
    assert "Who read the person with pseudonym" in answer
    assert "funder-reporting-job  funder-reporting" in answer
    assert "Complete: every scope read says whom it read, and which of this person" in answer
    assert "C-1001" not in answer.replace("--subject", "")
    audit = out.split("== 6.")[1].split("== 7.")[0]
    assert "generalised anxiety" not in audit
    assert "Aroha" not in audit
    assert "C-1001" not in audit
    assert "C-1002" not in audit
    assert "denied  Client.wellbeing_score [consent-not-held]" in audit
    referral = out.split("== 9.")[1].split("== 10.")[0]
    assert "Sent to Kāinga Ora: ['iwi', 'name'] - left out: diagnosis" in referral
    assert "Logged: housing-referrals / service-delivery.referral / name, iwi" in referral
    assert "Refused: cannot disclose Client to 'Oranga Tamariki'" in referral
    assert "is not a party to it" in referral
    assert "Our reference for it: 32 hex digits" in referral
    assert "not told because: the person is already aware of the collection" in referral
    access = out.split("== 12.")[1].split("== 13.")[0]
    assert "transfer by 24 December 2026, answer by 29 January 2027" in access
    assert "Extended under s 48(1)(b): answer by 15 February 2027." in access
    assert "Under section 48 of the Privacy Act 2020, we have extended" in access
    assert "about this extension: www.privacy.org.nz.\n" in access  # one full stop
    assert "(s 63); corrected: False, statement attached: True" in access
    assert "Before release, a safety review of: CaseNote.reported_by" in access
    assert "Reviewed by staff-09: 1 item; the bundle may go out." in access
    assert "Neither confirmed nor denied, on her page: True" in access
    assert "Correction to Client.diagnosis: declined" in access
    assert "Bundle: 2 CaseNote, 1 Client; 2 values withheld" in access
    assert "withheld.json says why, never what: True / reporter's name in the bundle: False" in (
        access
    )
    assert "Her statement travels with the field: True" in access
    assert '"[withheld: Privacy Act 2020 s 53(b)]"' in access
    assert "consents.json" in access
    assert "disclosures.json" in access
    assert "Verify the bundle: ok, 9 files" in access
    # her history lists what was read from her records: not her son's wellbeing score, read
    # in the same case-management scope
    assert "Case management (caseworker): Client.diagnosis, Client.iwi, Client.name\n" in access
    assert "Complete: True" in access
    assert "Verify a copy with one cell edited: records/Client.csv: does not match its SHA-256" in (
        access
    )

    once = out.split("== 13.")[1].split("== 14.")[0]
    assert "The agreement lets them send: ['email', 'phone']" in once
    assert "Filled phone, from Kāinga Ora's referral of 3 November 2026" in once
    assert 'Kept in the store: ["from Kāinga Ora\'s referral of 3 November 2026"]' in once
    assert "A malformed referral fills nothing: wrong-type" in once
    assert "Do we hold her phone already? True" in once
    assert "Her email? False" in once
    assert "027 555 0142" not in once  # asked, never shown
    assert "Asked for funder reporting: purpose-not-declared" in once

    funder = out.split("== 14.")[1].split("== 15.")[0]
    table = [line for line in funder.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| programme \\\\ iwi |")  # the backslash escaped
    cells = [cell.strip() for line in table[2:] for cell in line.strip("|").split("|")[1:]]
    assert "S" in cells  # small counts suppressed
    assert all(cell == "S" or int(cell) % 3 == 0 for cell in cells)  # RR3
    assert "Grouped by iwi" in funder
    assert "Aroha" not in funder
    notice = out.split("== 15.")[1]
    for name in ("notice.md", "notice.html", "register.json", "fides-dataset.yml"):
        assert name in notice
    assert "# How Te Whare Āwhina uses your information" in notice
    copy = out.split("== 11.")[1].split("== 12.")[0]
    assert "Name: had to give it: True" in copy
    assert "who may see it: caseworker, funder-reporting-job" in copy
    assert "Logged as 2 disclosures to her under privacy-act-2020-ipp-11-1-b" in copy
    assert "The reporter's name on her copy: False / why not: True" in copy
    assert 'Large print, lang="mi" on the welcome: True True' in copy
    released = out.split("== 19.")[1]
    assert "Recorded: release of SAR-2027-0007, needs met: safety-review, second-reviewer; " in (
        released
    )
    assert "approved by staff-05" in released
    assert "The bundle mentions the review or the approver: False" in released
    assert "C-1001" not in released
    care = out.split("== 16.")[1]
    assert "His own consent: representative-consent-needed" in care
    assert "only consent given by a representative whose authority was verified" in care
    assert "With his mother's consent, wellbeing score: 8" in care
    assert "C-1002" not in care
    retention = out.split("== 17.")[1]
    assert "Default pack: 0 due, 4 kept, because care-and-protection: no retention period" in (
        retention
    )
    assert "Disposed of 3; held 1" in retention
    assert "Evidence: done CaseNote, kept until 2024-10-14, service-delivery" in retention
    assert "Unfinished disposals: []" in retention
    assert "Verify the ledger: True / C-1001 in it: False" in retention
    breach = out.split("== 18.")[1].split("== 19.")[0]
    assert "2 people; read: Client.diagnosis," in breach
    assert "health.mental-health" in breach
    assert "The sensitivity of the information: levels SENSITIVE" in breach
    assert "2 people named in .../people.txt" in breach
    assert "C-1001" not in breach
    assert "Aroha" not in breach


def test_two_services_carry_the_purpose_across_real_http() -> None:
    """Intake (FastAPI under uvicorn) and case management (Django under waitress), each in
    a process of its own on 127.0.0.1: the purpose arrives and is enforced downstream, a
    forged, expired or non-covering claim is refused, and both scopes join one trace."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "two_services.py"), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    )
    results = json.loads(result.stdout)
    referral = results["referral"]
    assert referral["status"] == 200
    assert referral["body"]["sent"] == ["client_id", "name", "phone"]
    assert referral["body"]["withheld"] == ["health_note"]
    downstream = referral["body"]["case_management"]
    assert downstream == {
        "status": 200,
        "body": {"known": True, "fields_seen": ["client_id", "name", "phone"]},
    }
    assert results["no_login"]["status"] == 401
    assert (results["forged"]["status"], results["forged"]["reason"]) == (401, "bad-signature")
    assert (results["replayed_expired"]["status"], results["replayed_expired"]["reason"]) == (
        401,
        "expired",
    )
    covering = results["not_covering"]
    assert (covering["status"], covering["reason"]) == (403, "purpose-not-covering")
    assert covering["asked_purpose"] == "service-delivery.case-management"
    assert covering["required_purpose"] == "service-delivery.referral"
    assert results["no_claim"]["status"] == 401
    assert results["replayed_in_window"] == 200  # documented: bounded by the claim's lifetime
    for problem in (results["forged"], results["not_covering"], results["no_claim"]):
        text = json.dumps(problem)
        assert "Aroha" not in text
        assert "021 555" not in text
        assert "C-1001" not in text
    assert results["traces"] == {
        "intake_scopes": 1,
        "case_scopes_on_behalf_of_intake": 2,
        "same_trace": True,
        "upstream_is_intakes_scope": True,
        "client_id_in_any_span": False,  # the hooks: routes and hosts, never the paths
    }
    report = results["report"]
    assert "on behalf of" in report
    assert report.count("intake (scope ") == 2
    assert "C-1001" not in report
    assert "Aroha" not in report


def test_family_support_api_guards_pydantic_records_behind_fastapi() -> None:
    """The pydantic records of the family-support scenario behind FastAPI and the
    middleware: responses are decided reads, funder reporting is a 403 problem that holds no
    value, and the referral is a projection."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "family_support_api.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = result.stdout
    listing = out.split("== 1.")[1].split("== 2.")[0]
    assert "200 ['C-1001', 'C-1002']" in listing
    assert "200 diagnosis: generalised anxiety" in listing
    anonymous = out.split("== 2.")[1].split("== 3.")[0]
    assert "401 application/problem+json" in anonymous
    assert "https://purposeful.dev/problems/no-actor" in anonymous
    funder = out.split("== 3.")[1].split("== 4.")[0]
    assert "403 application/problem+json" in funder
    problem = json.loads(funder.split("problem: ", 1)[1])
    assert problem["type"] == "https://purposeful.dev/problems/purpose-violation"
    assert (problem["purpose"], problem["record_type"], problem["field"]) == (
        "funder-reporting",
        "Client",
        "name",
    )
    assert problem["reason_codes"] == ["purpose-not-declared"]
    for problem_text in (anonymous, funder):
        for value in ("Aroha", "Tama", "C-100", "021 555", "anxiety", "Ngāti Porou", "staff-"):
            assert value not in problem_text
    referral = out.split("== 4.")[1].split("== 5.")[0]
    assert "200 sent to Kāinga Ora: ['client_id', 'iwi', 'name', 'phone', 'programme', " in (
        referral
    )
    assert "diagnosis" not in referral.split("withheld:")[0]
    assert "withheld: ['diagnosis']" in referral
    audit = out.split("== 5.")[1]
    assert "funder-reporting" in audit
    assert "name denied" in audit
    assert "diagnosis withheld" in audit
    for value in ("Aroha", "C-100", "anxiety", "021 555"):
        assert value not in audit


def test_family_support_sqlalchemy_example_guards_rows_and_minimises_queries() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "family_support_sqlalchemy.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = result.stdout
    read = out.split("== 1.")[1].split("== 2.")[0]
    assert "'note': 'Kai parcel; tamariki well'" in read
    assert "allowed HomeVisit.note" in read
    assert "allowed Whanau.contact_name" in read
    assert "200 {'id': 2}" in out.split("== 2.")[1]
    report = out.split("== 3.")[1].split("== 4.")[0]
    assert "{'visits': 2, 'mean_wellbeing': 7.5}" in report
    assert "home_visit.wellbeing_score FROM home_visit" in report
    assert "case notes fetched: False" in report
    mistake = out.split("== 4.")[1].split("== 5.")[0]
    assert "denied HomeVisit.note" in mistake
    assert "403 " in mistake
    assert "not for funder reporting" in mistake
    assert "the note in the answer: False" in mistake
    assert "401 " in out.split("== 5.")[1]
    audit_lines = [line for line in out.splitlines() if "[audit]" in line]
    assert audit_lines
    for secret in ("Kai parcel", "Mere", "5 Kea St", "School meeting"):
        assert not any(secret in line for line in audit_lines)


def test_family_support_django_guards_models_behind_the_django_middleware() -> None:
    """The family-support scenario as one Django file: models with managed fields in SQLite,
    views behind purposeful's middleware. Responses are decided reads, no login is a 401
    problem, funder reporting a 403 problem naming the field and holding no value, and the
    referral a projection."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "family_support_django.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    out = result.stdout
    assert "Traceback" not in result.stderr
    listing = out.split("== 1.")[1].split("== 2.")[0]
    assert "200 ['C-1001', 'C-1002']" in listing
    assert "200 diagnosis: generalised anxiety" in listing
    anonymous = out.split("== 2.")[1].split("== 3.")[0]
    assert "401 application/problem+json" in anonymous
    assert json.loads(anonymous.split("problem: ", 1)[1])["type"] == (
        "https://purposeful.dev/problems/no-actor"
    )
    funder = out.split("== 3.")[1].split("== 4.")[0]
    assert "403 application/problem+json" in funder
    problem = json.loads(funder.split("problem: ", 1)[1])
    assert problem["type"] == "https://purposeful.dev/problems/purpose-violation"
    assert (problem["purpose"], problem["record_type"], problem["field"]) == (
        "funder-reporting",
        "Client",
        "name",
    )
    assert problem["reason_codes"] == ["purpose-not-declared"]
    for problem_text in (anonymous, funder):
        for value in ("Aroha", "Tama", "C-100", "021 555", "anxiety", "Ngāti Porou", "staff-"):
            assert value not in problem_text
    referral = out.split("== 4.")[1].split("== 5.")[0]
    sent = "['client_id', 'id', 'iwi', 'name', 'phone', 'programme', 'region']"
    assert f"200 sent to Kāinga Ora: {sent}" in referral
    assert "withheld: ['diagnosis']" in referral
    audit = out.split("== 5.")[1].splitlines()[1:]
    # one report per scope the middleware opened (the 401 opened none), decisions only
    assert [line.split()[:2] for line in audit] == [
        ["service-delivery.case-management", "caseworker"],
        ["service-delivery.case-management", "caseworker"],
        ["funder-reporting", "funder-reporting-job"],
        ["service-delivery.referral", "caseworker"],
    ]
    assert audit[0].endswith(
        "diagnosis allowed, iwi allowed, name allowed, phone allowed, programme allowed"
    )
    assert audit[2].endswith("funder-reporting-job   name denied")
    assert "diagnosis withheld, iwi allowed" in audit[3]
    for value in ("Aroha", "Tama", "C-100", "anxiety", "021 555", "Ngāti Porou", "staff-"):
        assert value not in "\n".join(audit)


def test_family_support_django_serves_under_waitress_and_stops_cleanly() -> None:
    """``--serve``: the same application under waitress on 127.0.0.1, answering real HTTP;
    terminated, it shuts down and removes its database folder."""
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLES / "family_support_django.py"),
            "--serve",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def get(path: str, token: str | None = None) -> tuple[int, str, bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.headers["content-type"], response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["content-type"], error.read()

    try:
        for _ in range(100):  # up to 10 s for waitress to listen
            assert server.poll() is None, "the example stopped before serving"
            try:
                health = get("/health")
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the example did not start serving within 10 s")
        assert server.stdout is not None  # the banner was printed before waitress listened
        banner = server.stdout.readline()
        assert banner.startswith(f"serving on http://127.0.0.1:{port}/clients (database in ")
        folder = Path(banner.rsplit("database in ", 1)[1].rstrip(")\n"))
        assert folder.is_dir()
        assert health[0] == 200
        status, _, body = get("/clients/C-1001", "token-caseworker")
        assert (status, json.loads(body)["diagnosis"]) == (200, "generalised anxiety")
        status, content_type, body = get("/funder/clients", "token-funder-job")
        assert (status, content_type) == (403, "application/problem+json")
        assert json.loads(body)["field"] == "name"
        assert b"Aroha" not in body
        assert b"C-100" not in body
        status, content_type, _ = get("/clients/C-1001")
        assert (status, content_type) == (401, "application/problem+json")
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    assert not folder.exists()
