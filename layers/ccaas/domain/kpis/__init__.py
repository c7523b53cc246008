"""Historical KPIs (pure): contact records and agent activity in, KPI rows per interval and dimension out.

Definitions are DOMAIN.md's "Metrics"; conventions (which interval a contact counts in, inclusive
thresholds, FCR population) are documented in accumulators.py and repeats.py. Amazon Connect contact
records are mapped in ctr.py.
"""
from ccaas.domain.kpis.accumulators import KPI_NAMES, KpiAccumulator, derive_kpis
from ccaas.domain.kpis.ctr import (
    ConnectCtr,
    CtrMapping,
    MalformedContactRecord,
    contact_records_from_ctrs,
    dedupe_latest,
    parse_ctr,
    to_contact_record,
)
from ccaas.domain.kpis.export import CSV_COLUMNS, rows_to_csv, write_csv
from ccaas.domain.kpis.intervals import GRANULARITIES, Granularity, TenantCalendar
from ccaas.domain.kpis.records import ActivityKind, AgentActivity, Channel, ContactRecord, FinalState
from ccaas.domain.kpis.repeats import is_fcr_eligible, mark_repeat_contacts, repeat_flags
from ccaas.domain.kpis.rollup import (
    DIMENSIONS,
    KpiLedger,
    KpiRow,
    busiest_intervals,
    channel_mix,
    contact_type_mix,
    offered_mix,
    rollup,
)
from ccaas.domain.kpis.settings import KpiSettings

__all__ = [
    "CSV_COLUMNS",
    "DIMENSIONS",
    "GRANULARITIES",
    "KPI_NAMES",
    "ActivityKind",
    "AgentActivity",
    "Channel",
    "ConnectCtr",
    "ContactRecord",
    "CtrMapping",
    "FinalState",
    "Granularity",
    "KpiAccumulator",
    "KpiLedger",
    "KpiRow",
    "KpiSettings",
    "MalformedContactRecord",
    "TenantCalendar",
    "busiest_intervals",
    "channel_mix",
    "contact_records_from_ctrs",
    "contact_type_mix",
    "dedupe_latest",
    "derive_kpis",
    "is_fcr_eligible",
    "mark_repeat_contacts",
    "offered_mix",
    "parse_ctr",
    "repeat_flags",
    "rollup",
    "rows_to_csv",
    "to_contact_record",
    "write_csv",
]
