"""purposeful: purpose-tagged data handling for New Zealand social services.

Tag the fields of attrs records with the purposes they may be used for, how sensitive they
are and whether consent is needed; read them inside ``with purposeful.use(purpose,
actor=...)``; every read is checked, explained and audited without the data ever leaving.

Import everything from here; the submodules are the layout, not the interface.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._config import (
    Configuration,
    configure,
    configured,
    declared_records,
    get_configuration,
    reset_configuration,
)
from ._version import __version__
from .actors import Actor
from .bases import (
    CONSENT,
    FAMILY_VIOLENCE_ACT_S20,
    ORANGA_TAMARIKI_ACT_S66C,
    SERIOUS_THREAT,
    BasisKind,
    Consent,
    InformationSharingAgreement,
    LawfulBasis,
    SeriousThreat,
    ServiceAgreement,
    Statute,
)
from .categories import CategoryRegistry, DataCategory
from .decisions import ConsentState, ConsentStatus, Decision, Mode, Outcome, Reason, ScopeReport
from .errors import (
    AgreementError,
    AnnotationError,
    AuditSinkError,
    BundleDecryptionError,
    BundleError,
    BundleInvalid,
    ConfigurationError,
    ConsentError,
    ConsentStoreError,
    CorrectionError,
    CorrectionStoreError,
    DisclosureRefused,
    DuplicateIdentifier,
    IncomparableLevels,
    InvalidConsentEvent,
    InvalidCorrection,
    InvalidIdentifier,
    KeyFileError,
    LedgerClosed,
    LedgerCorrupt,
    LedgerError,
    LedgerKeyMismatch,
    LedgerLocked,
    NoPurposeScope,
    NoticeError,
    PassphraseError,
    PurposefulError,
    PurposeViolation,
    RegistryFileError,
    ReportInputError,
    SharingStoreError,
    StoreClosed,
    StoreCorrupt,
    StoreError,
    StoreUnavailable,
    StoreVersionError,
    SubjectAccessError,
    UnknownCategory,
    UnknownCorrection,
    UnknownParent,
    UnknownPurpose,
    UnsupportedDate,
)
from .minimisation import Projection, project
from .purposes import Purpose, PurposeRegistry, Retention
from .records import FieldPolicy, RecordPolicy, field, record, record_policy
from .scope import Scope, carry_scope, current_scope, use
from .sensitivity import (
    CONFIDENTIAL,
    IN_CONFIDENCE,
    NZ_CLASSIFICATION,
    RESTRICTED,
    SECRET,
    SENSITIVE,
    TOP_SECRET,
    UNCLASSIFIED,
    Level,
    Scale,
)
from .typing import AuditSink, ConsentChecker, ConsentStatusSource
from .withholding import WithholdingGround

__all__ = [
    "CONFIDENTIAL",
    "CONSENT",
    "FAMILY_VIOLENCE_ACT_S20",
    "IN_CONFIDENCE",
    "NZ_CLASSIFICATION",
    "ORANGA_TAMARIKI_ACT_S66C",
    "RESTRICTED",
    "SECRET",
    "SENSITIVE",
    "SERIOUS_THREAT",
    "TOP_SECRET",
    "UNCLASSIFIED",
    "Actor",
    "AgreementError",
    "AnnotationError",
    "AuditSink",
    "AuditSinkError",
    "BasisKind",
    "BundleDecryptionError",
    "BundleError",
    "BundleInvalid",
    "CategoryRegistry",
    "Configuration",
    "ConfigurationError",
    "Consent",
    "ConsentChecker",
    "ConsentError",
    "ConsentState",
    "ConsentStatus",
    "ConsentStatusSource",
    "ConsentStoreError",
    "CorrectionError",
    "CorrectionStoreError",
    "DataCategory",
    "Decision",
    "DisclosureRefused",
    "DuplicateIdentifier",
    "FieldPolicy",
    "IncomparableLevels",
    "InformationSharingAgreement",
    "InvalidConsentEvent",
    "InvalidCorrection",
    "InvalidIdentifier",
    "KeyFileError",
    "LawfulBasis",
    "LedgerClosed",
    "LedgerCorrupt",
    "LedgerError",
    "LedgerKeyMismatch",
    "LedgerLocked",
    "Level",
    "Mode",
    "NoPurposeScope",
    "NoticeError",
    "Outcome",
    "PassphraseError",
    "Projection",
    "Purpose",
    "PurposeRegistry",
    "PurposeViolation",
    "PurposefulError",
    "Reason",
    "RecordPolicy",
    "RegistryFileError",
    "ReportInputError",
    "Retention",
    "Scale",
    "Scope",
    "ScopeReport",
    "SeriousThreat",
    "ServiceAgreement",
    "SharingStoreError",
    "Statute",
    "StoreClosed",
    "StoreCorrupt",
    "StoreError",
    "StoreUnavailable",
    "StoreVersionError",
    "SubjectAccessError",
    "UnknownCategory",
    "UnknownCorrection",
    "UnknownParent",
    "UnknownPurpose",
    "UnsupportedDate",
    "WithholdingGround",
    "__version__",
    "carry_scope",
    "configure",
    "configured",
    "current_scope",
    "declared_records",
    "disclose",
    "field",
    "get_configuration",
    "project",
    "receive",
    "record",
    "record_policy",
    "reset_configuration",
    "use",
]

if TYPE_CHECKING:
    from .sharing.exchange import disclose, receive

# Capabilities built on the core load when first used, so `import purposeful` (and the
# pytest plugin, in every test run) loads the core only.
# Its packages load on first attribute access too (``purposeful.audit.flush()``).
_LAZY = {"disclose": "purposeful.sharing", "receive": "purposeful.sharing"}
_PACKAGES = frozenset(
    {"access", "audit", "consent", "corrections", "insights", "notices", "sharing", "testing"}
)


def __getattr__(name: str) -> Any:
    if name in _PACKAGES:
        return importlib.import_module(f"purposeful.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'purposeful' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
