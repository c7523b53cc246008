"""bench/bench_lake.py's generator writes lake tables the KPI views read, and its Python sample agrees."""
from __future__ import annotations

from datetime import timedelta

from bench import bench_lake
from ccaas.domain import lake
from ccaas.domain.kpis.intervals import TenantCalendar
from local import lake as local_lake


def test_generated_year_is_read_by_the_views_and_matches_the_python_roll_up(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_lake, "DAYS", 6)
    con = local_lake.duckdb.connect()
    made = bench_lake.generate(con, tmp_path, contacts=3_000)
    assert made["contacts"] == 3_000 and made["parquet_mb"] > 0
    lake_con = local_lake.connect(tmp_path)
    first = bench_lake.FIRST_DAY
    lo, hi = lake.day_range_ms(TenantCalendar(bench_lake.TZ), first.isoformat(), (first + timedelta(days=5)).isoformat())
    rows = local_lake.kpi_rows(lake_con, tenant_id=bench_lake.TENANT, from_ms=lo, to_ms=hi, interval="day")
    assert len(rows) == 6 and sum(r["offered"] for r in rows) == 3_000
    assert all(0 < r["service_level"] <= 1 and r["occupancy"] is not None and r["aht_s"] > 0 for r in rows)
    _, _, agree, n = bench_lake.python_sample(lake_con, first + timedelta(days=2))
    assert agree and n == 500
    rows = bench_lake.export_cost_rows(made["parquet_mb"], made["contacts"])
    assert all(float(value) >= 0 for _, value in rows)
