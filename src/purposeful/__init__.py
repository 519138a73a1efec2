"""purposeful: purpose-tagged data handling for New Zealand social services.

Tag the fields of attrs records with the purposes they may be used for, how sensitive they
are and whether consent is needed; read them inside ``with purposeful.use(purpose,
actor=...)``; every read is checked, explained and audited without the data ever leaving.

Import everything from here; the submodules are the layout, not the interface.
"""

from ._config import (
    Configuration,
    configure,
    configured,
    declared_records,
    get_configuration,
    reset_configuration,
)
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
    AnnotationError,
    AuditSinkError,
    ConfigurationError,
    DuplicateIdentifier,
    IncomparableLevels,
    InvalidIdentifier,
    NoPurposeScope,
    PurposefulError,
    PurposeViolation,
    RegistryFileError,
    UnknownCategory,
    UnknownParent,
    UnknownPurpose,
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

__version__ = "0.1.0"

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
    "AnnotationError",
    "AuditSink",
    "AuditSinkError",
    "BasisKind",
    "CategoryRegistry",
    "Configuration",
    "ConfigurationError",
    "Consent",
    "ConsentChecker",
    "ConsentState",
    "ConsentStatus",
    "ConsentStatusSource",
    "DataCategory",
    "Decision",
    "DuplicateIdentifier",
    "FieldPolicy",
    "IncomparableLevels",
    "InformationSharingAgreement",
    "InvalidIdentifier",
    "LawfulBasis",
    "Level",
    "Mode",
    "NoPurposeScope",
    "Outcome",
    "Projection",
    "Purpose",
    "PurposeRegistry",
    "PurposeViolation",
    "PurposefulError",
    "Reason",
    "RecordPolicy",
    "RegistryFileError",
    "Retention",
    "Scale",
    "Scope",
    "ScopeReport",
    "SeriousThreat",
    "ServiceAgreement",
    "Statute",
    "UnknownCategory",
    "UnknownParent",
    "UnknownPurpose",
    "__version__",
    "carry_scope",
    "configure",
    "configured",
    "current_scope",
    "declared_records",
    "field",
    "get_configuration",
    "project",
    "record",
    "record_policy",
    "reset_configuration",
    "use",
]
