"""purposeful: purpose-tagged data handling for New Zealand social services.

Tag the fields of attrs records with the purposes they may be used for, how sensitive they
are and whether consent is needed; read them inside ``with purposeful.use(purpose,
actor=...)``; every read is checked, explained and audited without the data ever leaving.

What most code touches is here: declaring purposes, categories, sensitivity and lawful
bases; annotating records; `use` and its scope; decisions; `project`; configuration; the
errors most code catches; `disclose`, `receive` and `prefill`; `may_use` and `may_share`,
asked before acting, and `already_held` ("do we hold this already?", a checked read). The rest has
a home of its own, loaded when first used: the whole error tree in `purposeful.errors`, the
extension protocols in `purposeful.typing`, and each capability in its package
(`purposeful.consent`, `purposeful.corrections`, `purposeful.sharing`, `purposeful.holds`,
`purposeful.access`, `purposeful.audit`, `purposeful.notices`, `purposeful.insights`,
`purposeful.retention`, `purposeful.breach`, `purposeful.testing`). Private modules (a
leading underscore) are the layout, not the interface.
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
from .asking import already_held, may_use
from .bases import (
    AUTHORISED_BY_PERSON,
    CONSENT,
    DIRECTLY_RELATED_PURPOSE,
    FAMILY_VIOLENCE_ACT_S20,
    NON_IDENTIFYING,
    ORANGA_TAMARIKI_ACT_S66C,
    SERIOUS_THREAT,
    AuthorisedByPerson,
    BasisKind,
    Consent,
    DirectlyRelatedPurpose,
    InformationSharingAgreement,
    LawfulBasis,
    NonIdentifying,
    SeriousThreat,
    ServiceAgreement,
    Statute,
)
from .categories import CategoryRegistry, DataCategory
from .decisions import ConsentState, ConsentStatus, Decision, Mode, Outcome, Reason, ScopeReport
from .errors import (
    ConfigurationError,
    DisclosureRefused,
    NoPurposeScope,
    PurposefulError,
    PurposeViolation,
)
from .minimisation import Projection, project
from .purposes import Purpose, PurposeRegistry, Retention
from .records import FieldPolicy, Managed, RecordPolicy, field, record, record_policy
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
from .withholding import WithholdingGround

__all__ = [
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

if TYPE_CHECKING:
    from .sharing.asking import may_share
    from .sharing.exchange import disclose, receive
    from .sharing.referrals import prefill

# Capabilities built on the core load when first used, so `import purposeful` (and the
# pytest plugin, in every test run) loads the core only.
# Its packages load on first attribute access too (``purposeful.audit.flush()``).
_LAZY = {
    "disclose": "purposeful.sharing",
    "may_share": "purposeful.sharing",
    "prefill": "purposeful.sharing",
    "receive": "purposeful.sharing",
}
_PACKAGES = frozenset(
    {
        "access",
        "audit",
        "breach",
        "consent",
        "corrections",
        "holds",
        "insights",
        "notices",
        "retention",
        "sharing",
        "testing",
    }
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


def _watch_mapped_classes() -> None:
    """From the import on, SQLAlchemy's mappers are checked as they are configured (or at
    once, if SQLAlchemy came first): a model declaring managed columns in a string annotation
    that nothing evaluates before its mapper is configured (``from __future__ import
    annotations``), and never decorated, is refused even when no ``Managed(...)`` was made
    and no class decorated before it. SQLAlchemy is not imported here."""
    from . import _kinds

    _kinds.watch_mapped_classes()


_watch_mapped_classes()
