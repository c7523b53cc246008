-- Agent time (kpis.accumulators.KpiAccumulator.add_activity): each activity span split at the
-- tenant-local quarter-hours it overlaps (an overlap join on the calendar, within the span's local
-- day: the exporter cuts spans at local midnight), each piece's [span_start_ms, span_end_ms) kept for a range
-- that starts or ends inside the quarter (kpi_sums clips it). Offline time is in no
-- KPI. Staffed = every other kind; busy = on a contact or in ACW; slot-ms = ms x slots (defaults
-- applied by the exporter).
CREATE OR REPLACE VIEW {kpi_agent_time} AS
SELECT
    p.tenant_id, p.quarter_start_ms, p.day, p.span_start_ms, p.span_end_ms, p.agent_id, p.team,
    CASE WHEN p.kind IN ('ON_CONTACT', 'ACW') THEN p.d ELSE 0 END AS busy_ms,
    CASE WHEN p.kind = 'AVAILABLE_IDLE' THEN p.d ELSE 0 END AS idle_ms,
    CASE WHEN p.kind NOT IN ('ON_CONTACT', 'ACW', 'AVAILABLE_IDLE') THEN p.d ELSE 0 END AS not_ready_ms,
    p.d AS staffed_ms,
    p.d * p.slots_busy AS busy_slot_ms,
    p.d * p.slots_available AS available_slot_ms
FROM (
    SELECT
        a.tenant_id, q.quarter_start_ms, a.day, a.agent_id, a.team, a.kind,
        COALESCE(a.slots_busy, 0) AS slots_busy, COALESCE(a.slots_available, 0) AS slots_available,
        GREATEST(a.start_ms, q.quarter_start_ms) AS span_start_ms, LEAST(a.end_ms, q.quarter_end_ms) AS span_end_ms,
        LEAST(a.end_ms, q.quarter_end_ms) - GREATEST(a.start_ms, q.quarter_start_ms) AS d
    FROM {agent_activity} a
    JOIN {lake_intervals} q
      ON q.tenant_id = a.tenant_id AND q.day = a.day
     AND q.quarter_start_ms < a.end_ms AND q.quarter_end_ms > a.start_ms
    WHERE a.kind <> 'OFFLINE' AND a.end_ms > a.start_ms
) p
