"""In-memory twin of the customer directory (same semantics as adapters/aws/customers.py): values come
normalised (by the use-case, once) and are keyed as they are."""
from __future__ import annotations

import threading

from ccaas.domain.customers import Customer, lookup
from ccaas.domain.models import Conflict


class MemoryCustomerStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.customers: dict[tuple[str, str], Customer] = {}
        self.aliases: dict[tuple[str, str, str], str] = {}  # (tenant, kind, normalised value) -> customer id

    def get(self, tenant_id: str, customer_id: str) -> Customer | None:
        return self.customers.get((tenant_id, customer_id))

    def find(self, tenant_id: str, *, phone: str | None = None, email: str | None = None) -> Customer | None:
        kind, value = lookup(phone, email)
        owner = self.aliases.get((tenant_id, kind, value))
        return None if owner is None else self.customers.get((tenant_id, owner))

    def put(self, customer: Customer) -> Customer:
        tenant, me = customer.tenant_id, customer.customer_id
        with self._lock:
            for kind, value in sorted(customer.aliases()):
                owner = self.aliases.get((tenant, kind, value))
                if owner is not None and owner != me:
                    raise Conflict(f"a {kind} of this customer belongs to another customer", field=f"{kind}s")
            held = self.customers.get((tenant, me))
            for kind, value in (held.aliases() if held else set()) - customer.aliases():
                self.aliases.pop((tenant, kind, value), None)
            for kind, value in customer.aliases():
                self.aliases[(tenant, kind, value)] = me
            self.customers[(tenant, me)] = customer
            return customer

