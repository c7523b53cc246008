"""The tenant's customer directory: PUT/GET /customers/{id}, GET /customers?phone=…|email=…"""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel

from ccaas.api.access import INTEGRATION, READERS, Router
from ccaas.api.common import deps, tenant
from ccaas.api.errors import errors
from ccaas.api.views import iso
from ccaas.domain.customers import MAX_EMAIL_CHARS, MAX_PHONE_CHARS, Customer
from ccaas.domain.vocabulary import CUSTOMER_ID_PATTERN
from ccaas.usecases import customers
from ccaas.usecases.customers import CustomerProfile

router = Router()

CustomerId = Annotated[str, Path(min_length=1, max_length=128, pattern=CUSTOMER_ID_PATTERN)]


class CustomerView(BaseModel):
    customer_id: str
    tier: str | None
    vip: bool
    preferred_language: str | None
    phones: list[str]
    emails: list[str]
    name: str | None
    attributes: dict[str, str]
    updated_at: str | None

    @classmethod
    def of(cls, c: Customer) -> CustomerView:
        values = c.model_dump(mode="json", exclude={"tenant_id", "updated_at"})
        return cls(**values, updated_at=iso(c.updated_at))


@router.put("/customers/<customer_id>", roles=[INTEGRATION], tags=["customers"], summary="Create a customer or replace its profile")
def put_customer(customer_id: CustomerId, body: CustomerProfile) -> CustomerView:
    return CustomerView.of(customers.put_customer(deps(), tenant(router), customer_id, body))


@router.get("/customers/<customer_id>", roles=[*READERS, INTEGRATION], tags=["customers"])
def get_customer(customer_id: CustomerId) -> CustomerView:
    return CustomerView.of(customers.get_customer(deps(), tenant(router), customer_id))


# OpenAPI 3.1 has no "exactly one of these query parameters" (oneOf is for one parameter's schema): the
# operation and each parameter say it in words, and neither or both is a 422 naming `phone`. One given empty
# (`?email=`) is a 422 naming it (min_length), not "neither" blamed on `phone`.
@router.get("/customers", roles=[*READERS, INTEGRATION], tags=["customers"], responses=errors(404),
            summary="Look a customer up by phone number (E.164, send + as %2B) or e-mail address",
            description="Give exactly one of the query parameters `phone` and `email`: neither or both is a 422 "
                        "(`field`: phone). No customer with that number or address is a 404.")
def find_customer(
    phone: Annotated[str | None, Query(min_length=1, max_length=MAX_PHONE_CHARS,
                                       description="E.164, + sent as %2B; exactly one of phone, email")] = None,
    email: Annotated[str | None, Query(min_length=1, max_length=MAX_EMAIL_CHARS,
                                       description="an e-mail address; exactly one of phone, email")] = None,
) -> CustomerView:
    if phone and phone[:1] == " " and phone.lstrip()[:1].isdigit():
        phone = "+" + phone.lstrip()  # an unencoded "+" arrives as a space (form decoding), as do spaces sent as "+"
    return CustomerView.of(customers.find_customer(deps(), tenant(router), phone=phone, email=email))
