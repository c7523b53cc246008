"""Pricing a `python -m bench cost` run: its measured counts (and its calibration run's per-batch split
of each stream consumer) priced with bench/prices.json by bench.cost_model, as measured and at platform
scale, plus the fixed monthly costs of a stated deployment and an Athena line for a stated query load.

Pure given its inputs (no runtime, no environment reads), so the bench and the day report
(local/day_report.py --cost-json) price a run the same way. The method is described in bench/bench_cost.py.
"""
from __future__ import annotations

from typing import Any

from bench import cost_model

# Platform scale: a stated deployment taking `contacts_per_month` completed contacts a month (default
# PLATFORM_CONTACTS_PER_MONTH), its streams at on-demand's initial PLATFORM_SHARDS shards (4 MB/s, 4,000
# records/s of writes: far above this rate); each consumer's batch follows from its stream's rate per
# shard and its batching window (cost_model.stream_batch), its costs from the per-batch split.
PLATFORM_CONTACTS_PER_MONTH = 1_000_000.0
PLATFORM_SHARDS = 4
PLATFORM_SENSITIVITY = (100_000, 1_000_000, 10_000_000, 100_000_000)  # contacts a month, printed beside it
# The stated deployment of the fixed monthly costs.
DEPLOYMENT_TENANTS = 1
DEPLOYMENT_QUEUES = 10
LAKE_PARQUET_B_PER_SEGMENT = 57  # bench/bench_lake.py: a year of 5 M contact segments, all tables, as Parquet
# The stated query load of the Athena line: a tenant of ATHENA_TENANT_CONTACTS contacts a month running
# ATHENA_QUERIES_PER_DAY long-range queries a day over ATHENA_RANGE_MONTHS months of its lake.
ATHENA_TENANT_CONTACTS = 1_000_000
ATHENA_QUERIES_PER_DAY = 20
ATHENA_RANGE_MONTHS = 13


def stated_deployment(measured: dict[str, Any]) -> cost_model.Deployment:
    """The stated deployment (DEPLOYMENT_TENANTS tenants x DEPLOYMENT_QUEUES queues) with the run's EMF
    metric names: those with a queue dimension per queue, with a tenant dimension per tenant, the others
    as seen (service / action values); connect_flow's answers and errors per action (not exercised here)."""
    per_queue, per_tenant, fixed = set(), set(), set()
    for ns, name, raw in measured["emf_metrics"]:
        dims = [tuple(d) for d in raw]
        keys = {k for k, _ in dims}
        rest = tuple((k, v) for k, v in dims if k not in ("tenant", "queue"))
        if "queue" in keys:
            per_queue.add((ns, name, rest))
        elif "tenant" in keys:
            per_tenant.add((ns, name, rest))
        else:
            fixed.add((ns, name, tuple(dims)))
    try:
        from ccaas.domain.connect_flow import ACTIONS

        flow = 2 * (len(ACTIONS) + 1)  # FlowAnswers/FlowErrors x (action dimension, "other")
    except ImportError:
        flow = 16
    sched = measured["scheduled"]
    n = max(sched["invocations"], 1)
    return {
        "tenants": DEPLOYMENT_TENANTS,
        "queues_per_tenant": DEPLOYMENT_QUEUES,
        "streams": 2,  # ContactEvents and ContactRecords, both ON_DEMAND (cdk.out template)
        "schedules_per_minute": 1.0,  # SweepAlerts rate(1 minute)
        "scheduled_gb_s": sched["ms"] / n / 1000 * sched["memory_mb"] / 1024,
        "scheduled_wru": sched["wru"] / n,
        "scheduled_rru": sched["rru"] / n,
        "metrics_per_queue": len(per_queue),
        "metrics_per_tenant": len(per_tenant),
        "metrics_fixed": len(fixed) + flow,
        **measured.get("stack", {}),  # keys, alarms, dashboards (absent from runs measured before they were counted)
        **({"lake_streams": lake["delivery"]["streams"], "lake_buffer_s": lake["delivery"]["buffer_s"]}
           if (lake := measured.get("lake", {})).get("delivery") else {}),
    }


def athena_load(prices: dict[str, dict[str, Any]], tenant_contacts: int = ATHENA_TENANT_CONTACTS,
                queries_per_day: float = ATHENA_QUERIES_PER_DAY, months: int = ATHENA_RANGE_MONTHS) -> dict[str, Any]:
    """The stated query load: each query reads `months` of the tenant's lake (an upper bound: every
    column of every table, LAKE_PARQUET_B_PER_SEGMENT per contact segment, one segment per contact)."""
    bytes_per_query = tenant_contacts * months * LAKE_PARQUET_B_PER_SEGMENT
    queries = queries_per_day * 30
    table = cost_model.cost_table(cost_model.athena_usage(queries, bytes_per_query), prices, 1)
    return {"tenant_contacts_per_month": tenant_contacts, "queries_per_day": queries_per_day, "range_months": months,
            "bytes_per_query": bytes_per_query, "usd_per_query": table["total_usd"] / queries,
            "monthly": table, "usd_per_1000_contacts": table["total_usd"] / (tenant_contacts / 1000)}


def platform_consumers(measured: dict[str, Any], calibration: dict[str, Any] | None,
                       contacts_per_month: float = PLATFORM_CONTACTS_PER_MONTH) -> dict[str, cost_model.ConsumerAtScale]:
    """Each stream consumer at the stated rate: its batch (its stream's records per contact x the rate,
    over PLATFORM_SHARDS shards, gathered for its deployed window) and its per-batch split (from the
    calibration run; without one, or with batches too alike, every cost per record: conservative)."""
    n = measured["counts"]["contacts"]
    contacts_per_s = cost_model.per_second(contacts_per_month)
    other = {c["folder"]: c for c in (calibration or {}).get("consumers", {}).values() if "folder" in c}
    out: dict[str, cost_model.ConsumerAtScale] = {}
    for name, c in measured["consumers"].items():
        if not c.get("records"):
            continue
        run: cost_model.ConsumerRun = {k: float(c[k]) for k in ("invocations", "records", *cost_model.BATCH_COSTS)}  # type: ignore[assignment]
        cal = other.get(c["folder"])
        split = cost_model.split_per_batch(run, {k: float(cal[k]) for k in run} if cal and cal.get("records") else run)  # type: ignore[arg-type]
        per_shard_s = c["records"] / n * contacts_per_s / PLATFORM_SHARDS
        out[name] = {"measured": run, "split": split,
                     "batch": cost_model.stream_batch(per_shard_s, c["window_s"], c.get("batch_size", 100))}
    return out


def platform_counts(measured: dict[str, Any], calibration: dict[str, Any] | None, contacts_per_month: float) -> cost_model.Counts:
    platform = cost_model.at_platform(measured["counts"], platform_consumers(measured, calibration, contacts_per_month))
    platform["xray_contacts_per_s"] = cost_model.per_second(contacts_per_month)
    return platform


def price(measured: dict[str, Any], prices: dict[str, dict[str, Any]] | None = None,
          calibration: dict[str, Any] | None = None,
          contacts_per_month: float = PLATFORM_CONTACTS_PER_MONTH) -> dict[str, Any]:
    """The run's counts (and the calibration run's consumers) -> the tables (pure given its inputs)."""
    prices = prices or cost_model.load_prices()
    counts = measured["counts"]
    deployment = stated_deployment(measured)
    tables = {
        "measured": cost_model.cost_table(cost_model.usage_per_contact(counts), prices, 1000),
        "platform": cost_model.cost_table(cost_model.usage_per_contact(
            platform_counts(measured, calibration, contacts_per_month)), prices, 1000),
        "fixed_monthly": cost_model.cost_table(cost_model.fixed_monthly_usage(deployment), prices, 1),
    }
    sensitivity = {m: cost_model.cost_table(cost_model.usage_per_contact(platform_counts(measured, calibration, m)),
                                            prices, 1000)["total_usd"] for m in PLATFORM_SENSITIVITY}
    per_contact = tables["platform"]["total_usd"] / 1000
    athena = athena_load(prices)
    return {
        **tables,
        "athena": athena,
        "platform_by_contacts_per_month": sensitivity,
        "platform_consumers": platform_consumers(measured, calibration, contacts_per_month),
        "deployment": deployment,
        "custom_metrics": cost_model.custom_metric_count(deployment),
        # completed contacts a month at which the platform-scale variable cost equals the fixed monthly cost
        "break_even_contacts_per_month": tables["fixed_monthly"]["total_usd"] / per_contact if per_contact else None,
        "uncertain_prices": [pid for pid, line in prices.items() if not line.get("certain")],
    }
