"""Notices: telling people what is collected about them, why, and with whom it is shared.

DPUP's He Tāngata principle asks for easy-to-understand information for service users, and
IPP 3 and IPP 3A of the Privacy Act 2020 for telling people the purpose of a collection, its
recipients and their rights. The library already holds those facts as declarations: the
purposes (with descriptions and benefits), the annotated record types and the sharing
agreements. This package turns them into:

- the plain-language **notice**, as Markdown and self-contained HTML (`Notice.to_markdown`,
  `Notice.to_html`), covering what we collect; why, and how it helps you; who we share it
  with, under what agreement; what needs your consent, and how to change your mind; and
  your rights to see and correct;
- the machine-readable **register** (`Notice.register`), JSON;
- a **crosswalk to fides** (`Notice.fideslang`), a fideslang dataset manifest;
- a **drift check** (`check_drift`): what the code now does that the published notice
  does not tell;
- **IPP 3A collection notices** (`collection_notice`): the text for one person whose
  information was collected from someone else;
- **IPP 3A exceptions** as values (`IPP3AException`): the one relied on when a person is
  not told, recorded (`record_exception`) and read back (`exception_relied_on`).

Each field's ``supply=`` declaration (`purposeful.supply`: voluntary or mandatory, and the
consequence of not supplying it, IPP 3(1)) is told in the notice, the register and the
collection notices; a field without one is drift.

Everything is built from declarations, never from records: no personal value can reach a
notice. This package reads the core, the library's shared document renderer, New Zealand
time and `AgencyDetails` (re-exported here, the same class as `purposeful.access`'s), and the
sharing agreements; it imports nothing from `purposeful.access`. Only the command line
imports it.
"""

from .._shared.agency import AgencyDetails
from ._collection import IPP_3A_IN_FORCE, IndirectCollection, collection_notice, ipp3a_applies
from ._drift import (
    Drift,
    DriftKind,
    PublishedAgreement,
    PublishedField,
    PublishedRegister,
    check_drift,
    read_register,
)
from ._exceptions import (
    ExceptionReliedOn,
    IPP3AException,
    exception_relied_on,
    record_exception,
)
from ._fides import FIDESLANG_CATEGORIES, FIDESLANG_FALLBACK, fides_categories
from ._modules import Declarations, import_declarations
from ._notice import FILE_NAMES, Notice, NoticeField, NoticeRecord, PurposeUse, build_notice
from ._register import REGISTER_FORMAT, REGISTER_FORMAT_VERSION
from ._wording import NoticeWording

__all__ = [
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
]
