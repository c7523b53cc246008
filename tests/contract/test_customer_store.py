"""The customer directory (CustomerStore): one suite, in memory and on (moto) AWS."""
from __future__ import annotations

import threading
import uuid

import pytest

from ccaas.domain.customers import Customer
from ccaas.domain.models import Conflict

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


@pytest.fixture
def tenant() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _customer(tenant: str, cid: str, **kw) -> Customer:
    return Customer(tenant_id=tenant, customer_id=cid, **kw)


def test_put_get_and_find_by_normalised_phone_and_email(deps, tenant):
    ana = _customer(tenant, "c-ana", tier="platinum", vip=True, preferred_language="es-ES",
                    phones=["+1 (415) 555-0100"], emails=["Ana.Alves@Example.COM"], name="Ana", attributes={"crm": "42"})
    assert ana.phones == ("+14155550100",) and ana.emails == ("ana.alves@example.com",)
    deps.customers.put(ana)
    assert deps.customers.get(tenant, "c-ana") == ana
    assert deps.customers.find(tenant, phone="+14155550100") == ana
    assert deps.customers.find(tenant, phone="0014155550100") == ana  # international 00 prefix
    assert deps.customers.find(tenant, email="ANA.ALVES@example.com ") == ana
    assert deps.customers.get(tenant, "nobody") is None
    assert deps.customers.find(tenant, phone="+14155550199") is None
    assert deps.customers.find(tenant, email="nobody@example.com") is None
    with pytest.raises(ValueError):
        deps.customers.find(tenant, phone="+14155550100", email="ana.alves@example.com")
    with pytest.raises(ValueError):
        deps.customers.find(tenant)


def test_every_read_is_tenant_scoped(deps, tenant):
    other = f"{tenant}x"
    deps.customers.put(_customer(tenant, "c1", phones=["+14155550100"], emails=["a@example.com"]))
    deps.customers.put(_customer(other, "c1", tier="gold", phones=["+14155550100"]))  # same number, other business
    assert deps.customers.get(tenant, "c1").tier is None and deps.customers.get(other, "c1").tier == "gold"
    assert deps.customers.find(other, phone="+14155550100").tier == "gold"
    assert deps.customers.find(other, email="a@example.com") is None


def test_replacing_a_customer_moves_its_aliases_atomically(deps, tenant):
    deps.customers.put(_customer(tenant, "c1", phones=["+14155550100", "+14155550101"], emails=["old@example.com"]))
    updated = _customer(tenant, "c1", tier="gold", phones=["+14155550101", "+14155550102"], emails=["new@example.com"])
    deps.customers.put(updated)
    assert deps.customers.find(tenant, phone="+14155550100") is None  # stale alias removed
    assert deps.customers.find(tenant, email="old@example.com") is None
    for phone in ("+14155550101", "+14155550102"):
        assert deps.customers.find(tenant, phone=phone) == updated  # lookups see the new version
    assert deps.customers.find(tenant, email="new@example.com") == updated
    deps.customers.put(_customer(tenant, "c2", phones=["+14155550100"]))  # the released number is free again
    assert deps.customers.find(tenant, phone="+14155550100").customer_id == "c2"


def test_an_alias_of_another_customer_is_a_conflict_and_nothing_is_written(deps, tenant):
    deps.customers.put(_customer(tenant, "c1", phones=["+14155550100"], emails=["one@example.com"]))
    deps.customers.put(_customer(tenant, "c2", phones=["+14155550200"]))
    with pytest.raises(Conflict) as taken:
        deps.customers.put(_customer(tenant, "c2", tier="gold", phones=["+14155550300", "+14155550100"]))
    assert taken.value.field == "phones"
    with pytest.raises(Conflict) as taken:
        deps.customers.put(_customer(tenant, "c3", emails=["ONE@example.com"]))
    assert taken.value.field == "emails"
    c2 = deps.customers.get(tenant, "c2")
    assert c2.tier is None and c2.phones == ("+14155550200",)
    assert deps.customers.find(tenant, phone="+14155550300") is None  # not half-claimed
    assert deps.customers.find(tenant, phone="+14155550200").customer_id == "c2"
    assert deps.customers.get(tenant, "c3") is None


def test_a_number_in_another_script_s_digits_is_the_same_number(deps, tenant):
    """Full-width digits (an IME) or Arabic-Indic ones are the ASCII number: one key, so one owner."""
    deps.customers.put(_customer(tenant, "c1", phones=["+14155550100"]))
    assert deps.customers.find(tenant, phone="+1４１５５５５０１００").customer_id == "c1"
    assert deps.customers.find(tenant, phone="+١٤١٥٥٥٥٠١٠٠").customer_id == "c1"
    with pytest.raises(Conflict):  # not a second customer's "different" number
        deps.customers.put(_customer(tenant, "c2", phones=["+1４１５５５５０１００"]))
    assert _customer(tenant, "c3", phones=["+٤٤٢٠٧٩٤٦٠٩٥٨"]).phones == ("+442079460958",)


def test_concurrent_claims_of_one_number_have_exactly_one_winner(deps, tenant):
    claimants = [f"c{i}" for i in range(8)]
    barrier = threading.Barrier(len(claimants))
    outcomes: dict[str, str] = {}

    def claim(cid: str) -> None:
        barrier.wait()
        try:
            deps.customers.put(_customer(tenant, cid, phones=["+14155550100"]))
            outcomes[cid] = "won"
        except Conflict:
            outcomes[cid] = "conflict"

    threads = [threading.Thread(target=claim, args=(c,)) for c in claimants]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [c for c, o in outcomes.items() if o == "won"]
    assert len(winners) == 1 and len(outcomes) == len(claimants)
    assert deps.customers.find(tenant, phone="+14155550100").customer_id == winners[0]
    assert [c for c in claimants if deps.customers.get(tenant, c) is not None] == winners
