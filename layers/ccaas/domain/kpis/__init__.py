"""Historical KPIs (pure): contact records and agent activity in, KPI rows per interval and dimension out.

Definitions are DOMAIN.md's "Metrics"; conventions (which interval a contact counts in, inclusive
thresholds, FCR population) are documented in accumulators.py and repeats.py. Amazon Connect contact
records are mapped in ctr.py; the roll-up into KPI rows is ledger.py (`rollup`).

Names are imported lazily (PEP 562), each from its own module on first use: a function that only records
contacts (records.py, repeats.py) never pays for the roll-up's row models, the CTR parser or the CSV export at
its cold start. No submodule is named after an exported name, so `from ccaas.domain.kpis import rollup` is
always the function, whatever was imported before.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ccaas.domain.lazy_exports import lazy_exports

_EXPORTS: dict[str, str] = {
    "KPI_NAMES": "accumulators",
    "KpiAccumulator": "accumulators",
    "derive_kpis": "accumulators",
    "ConnectCtr": "ctr",
    "CtrMapping": "ctr",
    "MalformedContactRecord": "ctr",
    "contact_records_from_ctrs": "ctr",
    "dedupe_latest": "ctr",
    "parse_ctr": "ctr",
    "to_contact_record": "ctr",
    "CSV_COLUMNS": "export",
    "rows_to_csv": "export",
    "write_csv": "export",
    "GRANULARITIES": "intervals",
    "Granularity": "intervals",
    "TenantCalendar": "intervals",
    "DIMENSIONS": "ledger",
    "KpiLedger": "ledger",
    "KpiRow": "ledger",
    "busiest_intervals": "ledger",
    "channel_mix": "ledger",
    "contact_type_mix": "ledger",
    "offered_mix": "ledger",
    "rollup": "ledger",
    "ActivityKind": "records",
    "AgentActivity": "records",
    "Channel": "records",
    "ContactRecord": "records",
    "FinalState": "records",
    "is_fcr_eligible": "repeats",
    "mark_repeat_contacts": "repeats",
    "repeat_flags": "repeats",
    "KpiSettings": "settings",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:
    from .accumulators import KPI_NAMES, KpiAccumulator, derive_kpis
    from .ctr import (
        ConnectCtr,
        CtrMapping,
        MalformedContactRecord,
        contact_records_from_ctrs,
        dedupe_latest,
        parse_ctr,
        to_contact_record,
    )
    from .export import CSV_COLUMNS, rows_to_csv, write_csv
    from .intervals import GRANULARITIES, Granularity, TenantCalendar
    from .ledger import (
        DIMENSIONS,
        KpiLedger,
        KpiRow,
        busiest_intervals,
        channel_mix,
        contact_type_mix,
        offered_mix,
        rollup,
    )
    from .records import ActivityKind, AgentActivity, Channel, ContactRecord, FinalState
    from .repeats import is_fcr_eligible, mark_repeat_contacts, repeat_flags
    from .settings import KpiSettings
