-- Every contribution to a tenant-local quarter-hour cell, one row each, with all the counters of
-- kpis.accumulators.KpiAccumulator in its field order (a cell is the SUM of its rows; hours, days
-- and weeks are sums of cells). from_activity marks agent-time rows: they carry only agent and team,
-- so a grouping by any other dimension leaves them out (agent-time KPIs are then undefined). day is
-- the partition the row comes from (the contact's day; the span's day), for partition pruning only.
-- [span_start_ms, span_end_ms) is when the row's counts happened: a contact side the instant it counts at
-- (one ms), agent time its piece of the quarter; a range that starts or ends inside a quarter counts only
-- the rows, and the part of agent-time pieces, inside it (ccaas.domain.lake.kpi_sums_sql).
-- The projection is written once, below: ccaas.domain.lake.view_sql repeats it for each source
-- view in CELL_SOURCES (joined by UNION ALL), with 0 for the counters that source does not produce
-- and NULL for the dimensions it does not carry (agent time knows only agent and team).
CREATE OR REPLACE VIEW {kpi_cells} AS
SELECT tenant_id, quarter_start_ms, day, <from_activity> AS from_activity, span_start_ms, span_end_ms,
    <dimensions>,
    <counters>
FROM <source>
