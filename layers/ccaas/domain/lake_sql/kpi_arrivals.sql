-- Queue side of each contact (kpis.accumulators.KpiAccumulator.add_arrival), in the tenant-local
-- quarter-hour it was enqueued in, at the instant it was (the one-ms span a range counts it in). A cancelled consult leg was never a customer in the queue.
-- Waits never go negative; "within T" and "short abandon" are inclusive; the SL threshold is the
-- queue's when captured, else the tenant's default. A wait the system ended (timed_out: queue timeout,
-- expired callback) is no abandon: it counts in timed_out only (offered, unanswered: a miss of T). Rows
-- written before timed_out existed have it NULL: an abandon, as they were counted then.
CREATE OR REPLACE VIEW {kpi_arrivals} AS
SELECT
    w.tenant_id,
    w.arrival_quarter_ms AS quarter_start_ms,
    w.day,
    w.enqueued_at AS span_start_ms, w.enqueued_at + 1 AS span_end_ms,
    w.queue_id, w.channel, w.agent_id, w.team, w.skill, w.reason, w.segment,
    1 AS offered,
    CASE WHEN w.answer_wait_ms IS NOT NULL THEN 1 ELSE 0 END AS answered,
    CASE WHEN w.is_abandon THEN 1 ELSE 0 END AS abandoned,
    CASE WHEN w.is_timeout THEN 1 ELSE 0 END AS timed_out,
    CASE WHEN w.abandon_wait_ms <= w.short_abandon_ms THEN 1 ELSE 0 END AS short_abandoned,
    CASE WHEN w.answer_wait_ms <= w.sl_ms THEN 1 ELSE 0 END AS answered_within_sl,
    CASE WHEN w.abandon_wait_ms <= w.sl_ms THEN 1 ELSE 0 END AS abandoned_within_sl,
    COALESCE(w.answer_wait_ms, 0) AS answered_wait_ms,
    COALESCE(w.abandon_wait_ms, 0) AS abandoned_wait_ms
FROM (
    SELECT
        r.tenant_id, r.arrival_quarter_ms, r.day, r.enqueued_at,
        r.queue_id, r.channel, r.agent_id, r.team, r.skill, r.reason, r.segment,
        s.short_abandon_ms,
        COALESCE(r.sl_threshold_s * 1000, s.default_sl_threshold_ms) AS sl_ms,
        CASE WHEN r.connected_at IS NOT NULL
             THEN GREATEST(r.connected_at - r.enqueued_at, 0) END AS answer_wait_ms,
        (r.connected_at IS NULL AND r.final_state = 'ABANDONED' AND NOT COALESCE(r.timed_out, FALSE)) AS is_abandon,
        (r.connected_at IS NULL AND r.final_state = 'ABANDONED' AND COALESCE(r.timed_out, FALSE)) AS is_timeout,
        CASE WHEN r.connected_at IS NULL AND r.final_state = 'ABANDONED' AND NOT COALESCE(r.timed_out, FALSE)
                  AND r.disconnected_at IS NOT NULL
             THEN GREATEST(r.disconnected_at - r.enqueued_at, 0) END AS abandon_wait_ms
    FROM {contact_records} r
    JOIN {tenant_settings} s ON s.tenant_id = r.tenant_id
    WHERE r.enqueued_at IS NOT NULL AND r.arrival_quarter_ms IS NOT NULL AND NOT COALESCE(r.consult_leg, FALSE)
) w
