"""The public surface, pinned: adding or removing a public name is a deliberate change.

Each package's ``__all__`` is listed here in full. A change to one of these lists needs a
CHANGELOG line.
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import purposeful

TOP_LEVEL = [
    "AUTHORISED_BY_PERSON",
    "CONFIDENTIAL",
    "CONSENT",
    "DIRECTLY_RELATED_PURPOSE",
    "FAMILY_VIOLENCE_ACT_S20",
    "IN_CONFIDENCE",
    "NON_IDENTIFYING",
    "NZ_CLASSIFICATION",
    "ORANGA_TAMARIKI_ACT_S66C",
    "RESTRICTED",
    "SECRET",
    "SENSITIVE",
    "SERIOUS_THREAT",
    "TOP_SECRET",
    "UNCLASSIFIED",
    "Actor",
    "AuthorisedByPerson",
    "BasisKind",
    "CategoryRegistry",
    "Configuration",
    "ConfigurationError",
    "Consent",
    "ConsentState",
    "ConsentStatus",
    "DataCategory",
    "Decision",
    "DirectlyRelatedPurpose",
    "DisclosureRefused",
    "FieldPolicy",
    "InformationSharingAgreement",
    "LawfulBasis",
    "Level",
    "Managed",
    "Mode",
    "NoPurposeScope",
    "NonIdentifying",
    "Outcome",
    "Projection",
    "Purpose",
    "PurposeRegistry",
    "PurposeViolation",
    "PurposefulError",
    "Reason",
    "RecordPolicy",
    "Retention",
    "Scale",
    "Scope",
    "ScopeReport",
    "SeriousThreat",
    "ServiceAgreement",
    "Statute",
    "WithholdingGround",
    "__version__",
    "already_held",
    "carry_scope",
    "configure",
    "configured",
    "current_scope",
    "declared_records",
    "disclose",
    "field",
    "get_configuration",
    "may_share",
    "may_use",
    "prefill",
    "project",
    "receive",
    "record",
    "record_policy",
    "reset_configuration",
    "use",
]


PACKAGES = {
    "purposeful.access": [
        "ACCESS_RESPONSE_DAYS",
        "EXTENSION_NOTICE_DAYS",
        "TRANSFER_DAYS",
        "AccessRequest",
        "AgencyDetails",
        "Authorisation",
        "BundleInfo",
        "Check",
        "CopyItem",
        "CopyRecord",
        "Extension",
        "ExtensionGround",
        "ItemStatus",
        "ManifestEntry",
        "NeedsReview",
        "NeitherConfirmNorDeny",
        "Passage",
        "PersonCopy",
        "ReleaseAs",
        "ReleaseForm",
        "RequestKind",
        "Requester",
        "ResponseClock",
        "ReviewItem",
        "ReviewSheet",
        "SafetyReview",
        "SubjectAccess",
        "TimeLimit",
        "VerifiedBundle",
        "Withhold",
        "Wording",
        "add_working_days",
        "copy_for_person",
        "decrypt_file",
        "encrypt_file",
        "generate_recipient_keys",
        "is_working_day",
        "load_recipient_private_key",
        "load_recipient_public_key",
        "neutralise",
        "non_working_reason",
        "verify_bundle",
        "working_days_between",
    ],
    "purposeful.audit": [
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
    ],
    "purposeful.audit.ledger": [
        "DisposalEvidence",
        "FsyncPolicy",
        "Ledger",
        "VerifyReason",
        "VerifyResult",
        "default_checkpoints_path",
        "default_index_path",
        "read_disposals",
        "unfinished_disposals",
        "verify_ledger",
    ],
    "purposeful.audit.report": [
        "BUSIEST_ACTORS",
        "BUSIEST_SITES",
        "HOURLY_UP_TO",
        "AccessRow",
        "ActorRow",
        "Disclosure",
        "DisclosureRow",
        "Entry",
        "Ignored",
        "Progress",
        "ProgressBar",
        "Refusal",
        "RefusalOutcome",
        "RefusalRow",
        "Report",
        "ReportBuilder",
        "ReportDatabase",
        "ScopeRecord",
        "SiteRow",
        "SourceSummary",
        "TimeBucket",
        "build_report",
        "read_ledger",
        "read_otlp_json",
        "render_html",
        "render_text",
        "render_would_deny_gate",
    ],
    "purposeful.cli": ["GROUPS", "CommandGroup", "build_parser", "main"],
    "purposeful.consent": [
        "NEVER",
        "Agency",
        "BaseConsentStore",
        "ConsentEvent",
        "ConsentMethod",
        "ConsentState",
        "ConsentStatus",
        "ConsentStore",
        "ExpiringConsent",
        "Incapacity",
        "LegacyRepresentative",
        "MemoryConsentStore",
        "Person",
        "Relationship",
        "Representative",
        "SQLiteConsentStore",
        "export_records",
        "status_at",
    ],
    "purposeful.corrections": [
        "BaseCorrectionStore",
        "Correction",
        "CorrectionDecision",
        "CorrectionStatus",
        "MemoryCorrectionStore",
        "SQLiteCorrectionStore",
    ],
    "purposeful.breach": [
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
    ],
    "purposeful.holds": [
        "BaseHoldStore",
        "Hold",
        "HoldKind",
        "MemoryHoldStore",
        "SQLiteHoldStore",
    ],
    "purposeful.insights": ["TOTAL", "Cell", "Table", "Total", "count", "crosstab", "rr3"],
    "purposeful.propagation": [
        "BAGGAGE_HEADER",
        "CLAIM_KEY",
        "SERVICE_KEY_ENV",
        "SERVICE_KEY_FILE",
        "SERVICE_PUBLIC_KEY_FILE",
        "Outbound",
        "PurposeClaim",
        "ServiceKey",
        "TrustStore",
        "TrustedService",
        "Upstream",
        "extract",
        "generate_service_key",
        "inject",
        "load_service_key",
        "load_service_public_key",
        "otel_baggage_without_claim",
        "remove_claim",
        "sign_claim",
    ],
    "purposeful.notices": [
        "FIDESLANG_CATEGORIES",
        "FIDESLANG_FALLBACK",
        "FILE_NAMES",
        "IPP_3A_IN_FORCE",
        "REGISTER_FORMAT",
        "REGISTER_FORMAT_VERSION",
        "AgencyDetails",
        "Declarations",
        "Drift",
        "DriftKind",
        "ExceptionReliedOn",
        "IPP3AException",
        "IndirectCollection",
        "Notice",
        "NoticeField",
        "NoticeRecord",
        "NoticeWording",
        "PublishedAgreement",
        "PublishedField",
        "PublishedRegister",
        "PurposeUse",
        "build_notice",
        "check_drift",
        "collection_notice",
        "exception_relied_on",
        "fides_categories",
        "import_declarations",
        "ipp3a_applies",
        "read_register",
        "record_exception",
    ],
    "purposeful.sharing": [
        "DISCLOSURE_SKEW",
        "IPP_3A_IN_FORCE",
        "STATEMENTS",
        "BaseSharingStore",
        "Collection",
        "CollectionStatus",
        "CorrectionNotice",
        "Disclosed",
        "Disclosure",
        "DisclosureEntry",
        "ExceptionReliedOn",
        "IPP3AException",
        "MemorySharingStore",
        "Party",
        "Provenance",
        "SQLiteSharingStore",
        "SharingAgreement",
        "disclose",
        "load_agreements",
        "may_share",
        "prefill",
        "receive",
        "referral_schema",
    ],
    "purposeful.web": [
        "Open",
        "Problem",
        "RequestPolicy",
        "no_purpose",
        "problem_for",
        "purpose",
    ],
    "purposeful.retention": [
        "PUBLIC_OFFICE",
        "Assessment",
        "Dated",
        "DisposalMethod",
        "DisposalSummary",
        "DueReport",
        "Interrupted",
        "RetentionRule",
        "RetentionSource",
        "RetentionSources",
        "RetentionStatus",
        "assess",
        "dispose_due",
        "due_csv",
        "due_json",
        "due_text",
        "kept_until",
        "retention_due",
        "rule_for",
    ],
    "purposeful.testing": [
        "DecisionCapture",
        "capture_decisions",
        "expect_violation",
        "format_decisions",
        "undecorated_records",
    ],
}


def _packages() -> list[str]:
    found = ["purposeful"]
    for info in pkgutil.walk_packages(purposeful.__path__, "purposeful."):
        if info.ispkg and not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return found


def test_the_top_level_exports_exactly_what_most_code_touches() -> None:
    assert purposeful.__all__ == TOP_LEVEL
    # 61: Managed, the declaration of dataclass and pydantic fields; 67: the everyday bases of
    # Privacy Act 2020 IPP 10 and 11 (three values and their classes), beside CONSENT; 69:
    # may_use and may_share, asked before acting; 71: holds ("do we hold this already?") and
    # prefill (tell us once)
    assert len(TOP_LEVEL) <= 71


def test_every_package_is_pinned() -> None:
    assert set(_packages()) == {"purposeful", *PACKAGES}


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_each_package_exports_exactly_its_pinned_names(name: str) -> None:
    assert sorted(importlib.import_module(name).__all__) == sorted(PACKAGES[name])


@pytest.mark.parametrize("name", _packages())
def test_an_unknown_name_is_an_attribute_error(name: str) -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(importlib.import_module(name), "no_such_name")  # noqa: B009


@pytest.mark.parametrize("name", _packages())
def test_every_exported_name_resolves_and_none_hides_a_module(name: str) -> None:
    package = importlib.import_module(name)
    exported = package.__all__
    assert len(set(exported)) == len(exported)
    for member in exported:
        value = getattr(package, member)
        submodule = f"{name}.{member}"
        if importlib.util.find_spec(submodule) is not None:  # type: ignore[attr-defined]
            # `import purposeful.x.y as m` must give the module, not a function named y
            assert isinstance(value, types.ModuleType), f"{submodule} is hidden by a {value!r}"


@pytest.mark.parametrize("name", _packages())
def test_no_public_class_or_function_of_the_package_is_left_out_of_all(name: str) -> None:
    package = importlib.import_module(name)
    public = {
        member
        for member, value in vars(package).items()
        if not member.startswith("_")
        and isinstance(value, type | types.FunctionType)
        and value.__module__.startswith(name)
    }
    assert public <= set(package.__all__)


def test_the_django_declaration_module_exports_managed_only() -> None:
    assert importlib.import_module("purposeful.django").__all__ == ["managed"]


def test_purposeful_sqlalchemy_exports_exactly_its_pinned_names() -> None:
    pytest.importorskip("sqlalchemy")
    module = importlib.import_module("purposeful.sqlalchemy")
    assert sorted(module.__all__) == ["minimised", "withheld_columns"]
