"""Subject access: answering a person who asks for their information (IPP 6) or asks for it
to be corrected (IPP 7), within the Privacy Act's clock.

- **the request and its clock** (`request`, `clock`): `AccessRequest` with its received
  and due dates; working days as s 7 of the Privacy Act 2020 defines them; the
  `ResponseClock` of an access or correction request, with its `Extension` values;
- **before release** (`release`): who asked and the s 57 checks (`Requester`, `Check`), and
  the safety review of information marked for one (`NeedsReview`, `SafetyReview`);
- **the other answers** (`answers`): neither confirm nor deny (s 47), and release on
  conditions or in another form (ss 54–56);
- **sources** (`sources`): the application's named data sources; what a bundle needs of the
  consent store, the correction store and a disclosure log is in `purposeful.typing`;
- **the bundle** (`bundle`, `page`; the private `_contents` and `_spool` read the records,
  which only `SubjectAccess.build` may do): `SubjectAccess.build` writes one signed zip holding
  everything held about the person, why, on what basis, who it was shared with, what was
  withheld and on what ground, with a plain-language page for the person;
- **encryption** (`encryption`) of the bundle for delivery, as an age file, to a passphrase
  or to a recipient's age key (`recipients`: the key pairs);
- **a copy for the person** (`copies`; the private `_copy_reading` reads the records and
  `_copy_page` writes the page):
  `copy_for_person` makes a `PersonCopy` of what was just recorded about someone, read in a
  purpose scope and logged as a disclosure to them (IPP 11(1)(b)), for staff to hand over
  at the point of service;
- **verification** (`verify`): `verify_bundle`, ``purposeful bundle verify``.

Correction requests (IPP 7) are kept by the correction stores, `purposeful.corrections`.

What this package must not do: put a personal value or a subject identifier in an error
message, a log line, a manifest or a span; leave a half-written bundle or store row; or read
a record for a bundle without checking it is about the person asked about.
"""

from .._shared.agency import AgencyDetails
from .answers import NeitherConfirmNorDeny, ReleaseAs, ReleaseForm
from .bundle import BundleInfo, ManifestEntry, neutralise
from .clock import (
    ACCESS_RESPONSE_DAYS,
    EXTENSION_NOTICE_DAYS,
    TRANSFER_DAYS,
    Extension,
    ExtensionGround,
    RequestKind,
    ResponseClock,
    TimeLimit,
    add_working_days,
    is_working_day,
    non_working_reason,
    working_days_between,
)
from .copies import CopyItem, CopyRecord, ItemStatus, Passage, PersonCopy, copy_for_person
from .encryption import decrypt_file, encrypt_file
from .page import Wording
from .recipients import (
    generate_recipient_keys,
    load_recipient_private_key,
    load_recipient_public_key,
)
from .release import (
    Authorisation,
    Check,
    NeedsReview,
    Requester,
    ReviewItem,
    ReviewSheet,
    SafetyReview,
)
from .request import AccessRequest, SubjectAccess, Withhold
from .verify import VerifiedBundle, verify_bundle

__all__ = [
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
]
