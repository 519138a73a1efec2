"""Tell us once: filling our own records from a partner's referral, and keeping where from.

DPUP's Manaakitanga principle asks agencies to "have joint referral or assessments with
other agencies to avoid service users having to provide the same information repeatedly".
When a partner refers a person under an agreement, ``prefill(record, referral, source=...,
under=agreement)`` fills our record's fields from the referral, field by field:

1. the referral is checked against the agreement before anything is touched: the party
   must be one of its parties, the agreement in force on the referral's date (New Zealand
   date), the purpose one it allows; each field must be a managed field of our record,
   covered by the agreement and declared for the purpose, and each value of the field's
   type (from its annotation, in its JSON form or as the Python value). Anything else is a
   `ReferralInvalid` listing every problem with reason codes, and nothing is written;
2. the fields are set on the record (a field whose own validator refuses the value puts
   back the ones set before it);
3. where they came from is kept in the sharing store (`Provenance`: the party, the
   agreement, the date of the referral and when it was received, the fields, and the
   statements of correction that came with them, IPP 7, under the referral's
   ``"statements-of-correction"`` member, to be read with the information), with the
   IPP 3A collection it is (`Collection`: the person is still to be told, unless it was
   collected before 1 May 2026), in one write. If the store cannot write, the record is
   put back as it was.

Subject-access bundles show each provenance as a "where this came from" line, and the
store's ``provenance(subject)`` reads them back for any page that shows a person what was
recorded about them.

What this module must not do: fill a field the agreement does not cover, write anything for
a referral that does not check out, or put a value from the referral in a message, a repr
or the store (the store keeps names, never values, but for the statements of correction,
which it keeps so that they are read with the values).
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from .._config import get_configuration
from .._hierarchy import covers
from .._shared.checks import is_text, utc_moment
from .._shared.nztime import nz_date
from ..errors import (
    ConfigurationError,
    ManagedValueError,
    PurposefulError,
    ReferralInvalid,
    detached,
)
from ..purposes import Purpose
from ..records import RecordPolicy, record_policy
from ..scope import current_scope
from .agreements import Party, SharingAgreement
from .exchange import IPP_3A_IN_FORCE
from .ipp3a import IPP3AException, exception_text
from .schema import STATEMENTS, field_type, json_kind, read_statements
from .store import BaseSharingStore
from .values import Collection, CollectionStatus, Provenance, is_field_name, new_id

__all__ = ["prefill"]


def prefill(
    record: object,
    referral: Mapping[str, Any],
    *,
    source: Party | str,
    under: SharingAgreement,
    purpose: Purpose | str | None = None,
    fields: Mapping[str, str] | None = None,
    referred: date | None = None,
    reference: str | None = None,
    law: str | None = None,
    at: datetime | None = None,
) -> Provenance:
    """Fill *record* from *referral*, received from *source* under agreement *under*, and
    keep where the fields came from.

    Args:
        record: our record (an instance of a `purposeful.record` class, not frozen).
        referral: the fields received, name → value: a partner's payload as the agreement's
            JSON Schema describes it (``Disclosed.to_json()``), or the Python values. Its
            ``"statements-of-correction"`` member (`purposeful.sharing.STATEMENTS`), when
            there, gives the statements of correction that go with fields it carries (their
            name → a list of statements): those of the fields filled are kept with the
            provenance (`Provenance.statements`, by our names).
        source: the party it came from, or its name.
        under: the agreement it was sent under.
        purpose: what it was received for; default: the open scope's purpose, or the
            agreement's only purpose.
        fields: their field name → ours, where the names differ; default the same names.
        referred: the date of the referral, when it says; default: the day it is received.
        reference: the partner's reference for the referral (``Disclosed.reference``), to
            quote back to them.
        law: any law that authorises or requires the collection, for the IPP 3A notice.
        at: when it was received (aware); default now.

    Returns:
        The `Provenance` kept: ``provenance.describe()`` says "from Te Whare Āwhina's
        referral of 3 March 2026".

    Raises:
        ReferralInvalid: the referral does not fit the agreement (reason codes
            ``party-not-in-agreement``, ``agreement-not-started``, ``agreement-expired``,
            ``purpose-not-in-agreement``, ``empty``, ``unknown-field``, ``not-covered``,
            ``purpose-not-declared``, ``wrong-type``, ``value-refused`` when the
            record's own validation refused a value, and for the statements of correction
            ``statement-malformed``, ``statement-for-field-not-carried`` and
            ``statement-too-large``). Nothing was filled or written.
        ConfigurationError: no sharing store is configured, a frozen record, or a bad
            argument.
        StoreError: the store could not write; the record is as it was.
    """
    try:
        return _prefill(
            record, referral, source, under, purpose, fields, referred, reference, law, at
        )
    except PurposefulError as error:
        # raised here, not in the frames below, which hold the values received
        raise detached(error) from error.__cause__
    except BaseException as error:  # an error of another's (a record's, a store's), an
        # interrupt: the frames below keep their lines, never their locals
        traceback.clear_frames(error.__traceback__)
        raise


def _prefill(
    record: object,
    referral: Mapping[str, Any],
    source: Party | str,
    under: SharingAgreement,
    purpose: Purpose | str | None,
    fields: Mapping[str, str] | None,
    referred: date | None,
    reference: str | None,
    law: str | None,
    at: datetime | None,
) -> Provenance:
    if not isinstance(under, SharingAgreement):
        raise ConfigurationError("prefill(under=...) takes the SharingAgreement it came under")
    policy = record_policy(type(record))
    store = get_configuration().disclosure_log
    if not isinstance(store, BaseSharingStore):
        raise ConfigurationError(
            "prefill() keeps where the fields came from: configure a sharing store first, "
            "e.g. purposeful.configure(disclosure_log=SQLiteSharingStore(path))"
        )
    if not isinstance(referral, Mapping):
        raise ConfigurationError(
            f"prefill() takes the referral as a mapping of field names to values, not "
            f"{type(referral).__name__}"
        )
    if fields is not None and not (
        isinstance(fields, Mapping) and all(is_field_name(v) for v in fields.values())
    ):
        raise ConfigurationError("fields= maps their field names to ours (identifiers)")
    if referred is not None and (not isinstance(referred, date) or isinstance(referred, datetime)):
        raise ConfigurationError("referred= takes the referral's date (a datetime.date)")
    if reference is not None and not is_text(reference):
        raise ConfigurationError("reference= takes the partner's reference, as non-empty text")
    received = datetime.now(UTC) if at is None else utc_moment(at, "at=", ConfigurationError)
    purpose_id = _purpose_id(purpose, under)
    name = source.name if isinstance(source, Party) else source
    if not is_text(name):
        raise ConfigurationError("prefill(source=...) takes the party it came from, or its name")
    day = referred if referred is not None else nz_date(received)
    values, statements = _check(policy, referral, under, name, purpose_id, fields or {}, day)
    # a null says the partner holds nothing there: it fills nothing and is not from them
    values = {field: value for field, value in values.items() if value is not None}
    # a statement of correction is kept with the value it is read with: of a field filled
    statements = {field: said for field, said in statements.items() if field in values}
    if not policy.subject_of(record):
        raise ConfigurationError(
            f"the {policy.name} record has no subject id; set the person's id on it before "
            f"filling it from a referral"
        )
    collected_before = nz_date(received) < IPP_3A_IN_FORCE
    collection = Collection(
        id=new_id(),
        subject=policy.subject_of(record),
        record_type=policy.name,
        record_key=policy.key_of(record),
        source=name,
        purpose=purpose_id,
        collected_at=received,
        law=law,
        status=CollectionStatus.EXCEPTION if collected_before else CollectionStatus.TO_TELL,
        resolved_at=received if collected_before else None,
        how=exception_text(IPP3AException.BEFORE_IN_FORCE) if collected_before else None,
    )
    provenance = Provenance(
        id=new_id(),
        subject=collection.subject,
        record_type=policy.name,
        record_key=collection.record_key,
        fields=tuple(values),
        source=name,
        agreement=under.id,
        agreement_name=under.name,
        purpose=purpose_id,
        received_at=received,
        referred_on=referred,
        reference=reference,
        collection=collection.id,
        statements=statements,
    )
    # everything is checked and made before the record is touched
    theirs = {ours: key for key, ours in (fields or {}).items()}
    where = f"the referral from {name!r} under {under.name!r}"
    before = _fill(record, policy, values, theirs, where)
    try:
        return store.record_provenance(provenance, collection)
    except BaseException:
        _restore(record, before)
        raise


def _purpose_id(purpose: Purpose | str | None, under: SharingAgreement) -> str:
    if purpose is not None:
        return get_configuration().registry.resolve(purpose).id
    scope = current_scope()
    if scope is not None and not scope.closed:
        return str(scope.purpose.id)
    if len(under.purposes) == 1:
        return under.purposes[0]
    raise ConfigurationError(
        f"agreement {under.name!r} allows several purposes ({', '.join(under.purposes)}): "
        f"pass purpose=, or call prefill() inside `with purposeful.use(purpose, actor=...)`"
    )


def _check(
    policy: RecordPolicy,
    referral: Mapping[str, Any],
    under: SharingAgreement,
    name: str,
    purpose_id: str,
    renamed: Mapping[str, str],
    day: date,
) -> tuple[dict[str, Any], dict[str, tuple[str, ...]]]:
    """Our field → the value to set, and our field → the statements of correction that
    came with it; or `ReferralInvalid` naming every problem."""
    reasons: list[str] = []
    problems: list[str] = []
    at_fault: list[str] = []

    def fault(reason: str, problem: str, field: str | None = None) -> None:
        if reason not in reasons:
            reasons.append(reason)
        problems.append(problem)
        if field is not None and field not in at_fault:
            at_fault.append(field)

    if under.party(name) is None:
        names = ", ".join(p.name for p in under.parties)
        fault("party-not-in-agreement", f"{name!r} is not a party to it (its parties: {names})")
    if day < under.starts:
        fault("agreement-not-started", f"it starts on {under.starts.isoformat()}")
    if day > under.expires:
        fault("agreement-expired", f"it expired on {under.expires.isoformat()}")
    if not under.allows_purpose(purpose_id):
        fault(
            "purpose-not-in-agreement",
            f"it does not allow sharing for {purpose_id!r} (only {', '.join(under.purposes)})",
        )
    carried = {key: value for key, value in referral.items() if key != STATEMENTS}
    if not any(value is not None for value in carried.values()):
        # a field the partner holds nothing in comes as null (`Disclosed.to_json`): it fills
        # nothing, so that it never erases what we hold
        fault("empty", "the referral holds no fields with something in them")
    statements: dict[str, tuple[str, ...]] = {}
    if STATEMENTS in referral:
        said = read_statements(referral[STATEMENTS], carried, fault)
        statements = {renamed.get(key, key): texts for key, texts in said.items()}
    values: dict[str, Any] = {}
    for key, value in carried.items():
        if not is_field_name(key):
            fault("unknown-field", "it holds a key that is not a field name")
            continue
        ours = renamed.get(key, key)
        field = policy.fields.get(ours)
        if field is None:
            fault("unknown-field", f"{key!r} is not a managed field of {policy.name}", key)
            continue
        if not under.covers(field):
            fault("not-covered", f"the agreement does not cover {policy.name}.{ours}", key)
            continue
        if not any(covers(declared, purpose_id) for declared in field.purposes):
            fault(
                "purpose-not-declared",
                f"{policy.name}.{ours} is not declared for {purpose_id!r}",
                key,
            )
            continue
        kind = field_type(field)
        ok, python = kind.accept(value)
        if not ok:
            got = json_kind(value)
            if kind.kind == "array" and isinstance(value, list | tuple):
                got = "a list with an item of another kind"
            fault("wrong-type", f"{key!r} should be {kind.describe()}, not {got}", key)
            continue
        if ours in values:
            fault("unknown-field", f"two fields of the referral fill {policy.name}.{ours}", key)
            continue
        values[ours] = python
    if problems:
        raise ReferralInvalid(
            f"the referral from {name!r} under {under.name!r} does not fit it, so nothing "
            f"was filled: " + "; ".join(problems),
            reasons=tuple(reasons),
            fields=tuple(at_fault),
        )
    return values, statements


def _fill(
    record: object,
    policy: RecordPolicy,
    values: dict[str, Any],
    theirs: Mapping[str, str],
    where: str,
) -> dict[str, Any]:
    """Set *values* on *record* and return what the fields held before (to put back if the
    store cannot write); put back what was set, and raise, if one is refused.

    A value the record's own validation refuses (a pydantic constraint, an attrs
    validator: a `ValueError` or `TypeError`) is the referral's: `ReferralInvalid`, reason
    ``value-refused``, naming the field by *theirs* (our name → the referral's)."""
    before = {name: policy.fields[name]._raw(record) for name in values}
    done: list[str] = []
    name = ""
    try:
        for name, value in values.items():
            setattr(record, name, value)
            done.append(name)
    except Exception as error:  # a setter or validator of the agency's own, whatever it raises
        _restore(record, {field: before[field] for field in done})
        # a validator's error the guard kept the value out of is the validator's refusal;
        # any other of ours is raised as it is
        if isinstance(error, PurposefulError) and not isinstance(error, ManagedValueError):
            raise
        frozen = not done and _frozen(error)
        if not frozen and isinstance(error, ValueError | TypeError):
            their = theirs.get(name, name)
            raise ReferralInvalid(
                f"{where} does not fit it, so nothing was filled: {their!r} was refused by "
                f"{policy.name}.{name}'s own validation ({type(error).__name__}); the value "
                f"may be of the right JSON type but outside what the record allows",
                reasons=("value-refused",),
                fields=(their,),
            ) from None
        raise ConfigurationError(
            f"prefill() could not set {policy.name}.{name}"
            + (" because the record is frozen: fill a mutable record" if frozen else "")
            + f" ({type(error).__name__}); nothing was filled"
        ) from None
    return before


def _frozen(error: Exception) -> bool:
    """Whether *error* is a frozen record refusing to be set: attrs' and dataclasses'
    ``FrozenInstanceError``, or pydantic's `ValidationError` of a frozen model or field
    (read by its error types only, which hold no value)."""
    if "Frozen" in type(error).__name__:
        return True
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return False
    try:
        kinds = {str(problem.get("type")) for problem in errors()}
    except Exception:  # not pydantic's: not a frozen record we know
        return False
    return bool(kinds) and kinds <= {"frozen_instance", "frozen_field"}


def _restore(record: object, before: dict[str, Any]) -> None:
    for name, value in before.items():
        try:
            setattr(record, name, value)
        except Exception:  # put back what can be; the error being raised says what failed
            continue
