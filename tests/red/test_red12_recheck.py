"""Red-team findings against the record kinds' latest fixes (validated assignment, a
database's own error messages) and a streamed Django body: each test asserts the safe
behaviour."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Annotated, Any

import pytest

import purposeful
from purposeful import Managed, ServiceAgreement
from purposeful.errors import AnnotationError, DictStorageWarning

pydantic = pytest.importorskip("pydantic")
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo  # noqa: E402

pytest.importorskip("sqlalchemy")
from sqlalchemy import LargeBinary  # noqa: E402
from sqlalchemy.exc import IntegrityError  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402

warnings.filterwarnings("ignore", category=DictStorageWarning)

AGREEMENT = ServiceAgreement("Red twelve agreement")
DELIVERY = "service-delivery"
CASE_MANAGEMENT = "service-delivery.case-management"
SUBJECT = "NHI-RED1212"
DIAGNOSIS = "red12-diagnosis-secret"


# --- pydantic: validate_assignment and a validator given in Annotated --------------------

_SEEN: list[Any] = []


def _look(value: str, info: ValidationInfo) -> str:
    _SEEN.append(dict(info.data))
    return value


@purposeful.record(subject="client_id")
class RedAnnotatedAssigned(BaseModel):
    model_config = ConfigDict(validate_assignment=True)
    client_id: str
    diagnosis: Annotated[str, Managed(purposes={CASE_MANAGEMENT: AGREEMENT})]
    region: Annotated[str, AfterValidator(_look)] = "Waikato"


def test_validated_assignment_hands_no_stored_value_to_an_annotated_validator() -> None:
    """A validator given in ``Annotated`` (``AfterValidator``, ``BeforeValidator``,
    ``WrapValidator``, ``PlainValidator``) with an ``info`` argument sees the other stored
    fields in ``info.data`` on a validated assignment, as a ``@field_validator`` does; it is
    not in ``__pydantic_decorators__``, so the assignment reads no managed field first and
    the diagnosis leaves the record undecided, outside any scope."""
    record = RedAnnotatedAssigned(client_id=SUBJECT, diagnosis=DIAGNOSIS)
    _SEEN.clear()
    with contextlib.suppress(purposeful.NoPurposeScope):  # refusing it is safe too
        record.region = "Otago"
    assert DIAGNOSIS not in repr(_SEEN)


# --- pydantic: revalidating a stored instance hands its values to validators -----------

_REVALIDATED: list[Any] = []


@pytest.mark.filterwarnings("ignore::purposeful.errors.DictStorageWarning")
def test_revalidating_an_instance_through_validators_is_refused_at_declaration() -> None:
    """With ``revalidate_instances="always"`` (or ``"subclass-instances"``), a record handed
    to another model or to ``model_validate`` is validated again from its stored values: a
    ``before`` model validator gets every field's value in a dict, a field validator the
    others in ``info.data``, with no managed field read through its guard first, outside
    any scope. Such a record is refused where it is declared; so is an undecorated
    subclass that turns revalidation on."""
    with pytest.raises(AnnotationError, match="revalidate_instances"):

        @purposeful.record(subject="client_id")
        class RedRevalidated(BaseModel):
            model_config = ConfigDict(revalidate_instances="always")
            client_id: str
            diagnosis: Annotated[str, Managed(purposes={CASE_MANAGEMENT: AGREEMENT})]
            region: str = "Waikato"

            @pydantic.model_validator(mode="before")
            @classmethod
            def _before(cls, data: Any) -> Any:
                _REVALIDATED.append(dict(data) if isinstance(data, dict) else data)
                return data

    @purposeful.record(subject="client_id")
    class RedValidated(BaseModel):
        client_id: str
        diagnosis: Annotated[str, Managed(purposes={CASE_MANAGEMENT: AGREEMENT})]

        @pydantic.field_validator("client_id")
        @classmethod
        def _id(cls, value: str, info: ValidationInfo) -> str:  # info.data: the others
            return value

    with pytest.raises(AnnotationError, match="revalidate_instances"):

        class RedRevalidatingView(RedValidated):
            model_config = ConfigDict(revalidate_instances="subclass-instances")

    record = RedValidated(client_id=SUBJECT, diagnosis=DIAGNOSIS)
    assert RedValidated.model_validate(record) is record  # not revalidated: no value read


# --- a PostgreSQL constraint error whose failing row spans lines -------------------------


class RedPg12Base(DeclarativeBase):
    pass


@purposeful.record(subject="client_id")
class RedPg12Scan(RedPg12Base):
    __tablename__ = "red12_pg_scan"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str]
    notes: Mapped[str]
    scan: Mapped[bytes] = mapped_column(
        LargeBinary, info={"purposeful": Managed(purposes={DELIVERY: AGREEMENT})}
    )
    region: Mapped[str | None] = mapped_column(nullable=False)


def test_a_failing_row_over_two_lines_quotes_no_managed_value(postgres_engine: Any) -> None:
    """Only the first line of ``DETAIL: Failing row contains (...)`` is taken out: a column
    holding a line break (free-text notes) carries the rest of the row onto the next line,
    which stays. The quote check looks for Python's forms of the values, so a managed
    ``bytea`` (PostgreSQL prints it as hex) passes it: the scan is in the error's text
    (a short note's pieces are too short to count as quotes of it)."""
    RedPg12Base.metadata.create_all(postgres_engine)
    scan = b"red12-scan-secret"
    with Session(postgres_engine) as session:
        session.add(RedPg12Scan(id=1, client_id="C-1", notes="seen\nok", scan=scan, region=None))
        with pytest.raises(IntegrityError) as raised:
            session.flush()
    assert scan.hex() not in str(raised.value)
    assert scan.hex() not in str(raised.value.orig)


# --- OpenTelemetry's baggage while a Django body streams from a view with no scope --------


def _no_actor(request: Any) -> None:
    return None


def test_an_inbound_claim_is_not_in_baggage_while_an_unscoped_django_body_streams() -> None:
    """The WSGI middleware now runs every streamed body without the inbound claim in
    OpenTelemetry's baggage, a scope or not; Django's middleware wraps a streamed body only
    when the view opened a scope, and hands an exempt or undeclared view's back as it is: it
    is iterated in the server instrumentation's context (the inbound baggage, claim and
    all), so a lazy body calling another host with an instrumented client sends the caller's
    claim on."""
    pytest.importorskip("django")
    import _django_settings

    _django_settings.configure()
    from django.http import StreamingHttpResponse
    from django.test import RequestFactory, override_settings
    from opentelemetry import baggage, propagate
    from opentelemetry import context as otel_context

    from purposeful.propagation import CLAIM_KEY
    from purposeful.web.django import PurposeMiddleware

    seen: dict[str, object] = {}

    def body() -> Iterator[bytes]:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # what an instrumented client would send anywhere
        seen.update(claim=baggage.get_baggage(CLAIM_KEY), outbound=carrier.get("baggage"))
        yield b"streamed"

    with override_settings(PURPOSEFUL_WEB={"ACTOR": f"{__name__}._no_actor"}):
        middleware = PurposeMiddleware(lambda request: StreamingHttpResponse(body()))
    request = RequestFactory().get("/health")
    # the server instrumentation's context: the inbound baggage, the claim in it
    inbound = propagate.extract({"baggage": f"tenant=waikato,{CLAIM_KEY}=inbound-claim"})
    token = otel_context.attach(inbound)
    try:
        response = middleware(request)
        assert b"".join(response.streaming_content) == b"streamed"  # type: ignore[attr-defined]
        response.close()
    finally:
        otel_context.detach(token)
    assert seen == {"claim": None, "outbound": "tenant=waikato"}


# --- what the validated-assignment and revalidation rules must not refuse ---------------


@pytest.mark.filterwarnings("ignore::purposeful.errors.DictStorageWarning")
def test_a_private_attribute_a_post_init_and_a_types_own_validator_are_not_reads() -> None:
    """A fresh-eyes review's findings against the rules above: a private attribute is not
    validated, an assignment in ``model_post_init`` is construction, and pydantic's own
    validator of a type (``IPv4Address``) sees its value alone: none is a read, outside a
    scope; and a record whose only validators are such is not refused for revalidating."""
    from ipaddress import IPv4Address

    from pydantic import PrivateAttr

    @purposeful.record(subject="client_id")
    class RedQuiet(BaseModel):
        model_config = ConfigDict(validate_assignment=True, revalidate_instances="always")
        client_id: str
        diagnosis: Annotated[str, Managed(purposes={CASE_MANAGEMENT: AGREEMENT})]
        address: IPv4Address = IPv4Address("127.0.0.1")
        region: str = "Waikato"
        _cache: int = PrivateAttr(default=0)

        def model_post_init(self, context: Any, /) -> None:
            self.region = self.region.title()

    record = RedQuiet(client_id=SUBJECT, diagnosis=DIAGNOSIS, region="otago")
    assert record.region == "Otago"
    record._cache = 3
    record.region = "Northland"  # no validator sees the others: not a read
    assert record.region == "Northland"
