-- Handling side and outcomes of each ended contact (kpis.accumulators.KpiAccumulator.add_completion),
-- in the tenant-local quarter-hour it completed in (ACW end, else disconnect), at the instant it did (the
-- one-ms span a range counts it in). A consult leg that
-- ended counts as a consult (unless it failed to start); a cancelled consult leg counts as consult
-- work only. Handled = connected to an agent; talk = disconnected - connected - hold (never < 0);
-- ACW = ACW end - disconnected (never < 0); handle = talk + hold + ACW.
CREATE OR REPLACE VIEW {kpi_completions} AS
SELECT
    w.tenant_id,
    w.completion_quarter_ms AS quarter_start_ms,
    w.day,
    w.completed_at AS span_start_ms, w.completed_at + 1 AS span_end_ms,
    w.queue_id, w.channel, w.agent_id, w.team, w.skill, w.reason, w.segment,
    CASE WHEN w.h = 1 THEN 1 ELSE 0 END AS handled,
    w.h * (w.talk_ms + w.hold_ms + w.acw_ms) AS handle_ms,
    w.h * w.talk_ms AS talk_ms,
    w.h * w.hold_ms AS hold_ms,
    w.h * w.acw_ms AS acw_ms,
    w.h * w.hold_count AS hold_count,
    CASE WHEN w.h = 1 AND w.transferred THEN 1 ELSE 0 END AS transferred,
    CASE WHEN w.h = 1 AND w.initiation_method = 'TRANSFER' THEN 1 ELSE 0 END AS transferred_in,
    CASE WHEN w.h = 1 AND w.transferred AND w.transferred_to_kind = 'EXTERNAL' THEN 1 ELSE 0 END
        AS transferred_external,
    CASE WHEN w.h = 1 AND (w.initiation_method <> 'TRANSFER' OR w.queue_transfer) THEN 1 ELSE 0 END
        AS handled_initial_contacts,
    CASE WHEN w.h = 1 AND (w.hold_ms > 0 OR w.hold_count > 0) THEN 1 ELSE 0 END AS contacts_held,
    CASE WHEN w.handover_mode = 'CONSULT' AND w.final_state <> 'FAILED' THEN 1 ELSE 0 END AS consults,
    CASE WHEN w.consult_leg THEN 1 ELSE 0 END AS consults_cancelled,
    CASE WHEN w.consult_ms > 0 THEN 1 ELSE 0 END AS consulted,
    w.consult_ms,
    CASE WHEN w.h = 1 AND w.conference_ms > 0 THEN 1 ELSE 0 END AS conferenced,
    CASE WHEN w.h = 1 AND w.conference_ms > 0 THEN w.conference_ms ELSE 0 END AS conference_ms,
    CASE WHEN w.o = 1 AND w.csat IS NOT NULL THEN 1 ELSE 0 END AS csat_count,
    CASE WHEN w.o = 1 AND w.csat >= 4 THEN 1 ELSE 0 END AS csat_positive,
    CASE WHEN w.o = 1 AND w.ces IS NOT NULL THEN 1 ELSE 0 END AS ces_count,
    CASE WHEN w.o = 1 AND w.ces IS NOT NULL THEN w.ces ELSE 0 END AS ces_sum,
    CASE WHEN w.o = 1 AND w.nps IS NOT NULL THEN 1 ELSE 0 END AS nps_count,
    CASE WHEN w.o = 1 AND w.nps >= 9 THEN 1 ELSE 0 END AS nps_promoters,
    CASE WHEN w.o = 1 AND w.nps <= 6 THEN 1 ELSE 0 END AS nps_detractors,
    CASE WHEN w.o = 1 AND w.followed_by_repeat IS NOT NULL THEN 1 ELSE 0 END AS fcr_contacts,
    CASE WHEN w.o = 1 AND w.followed_by_repeat THEN 1 ELSE 0 END AS fcr_repeat_drivers,
    CASE WHEN w.h = 1 AND w.followed_by_repeat IS NOT NULL THEN 1 ELSE 0 END AS fcr_handled_contacts,
    CASE WHEN w.h = 1 AND w.followed_by_repeat THEN 1 ELSE 0 END AS fcr_handled_repeat_drivers,
    CASE WHEN w.o = 1 AND w.is_repeat THEN 1 ELSE 0 END AS repeat_contacts,
    CASE WHEN w.o = 1 AND w.evaluation_tenths IS NOT NULL THEN 1 ELSE 0 END AS evaluated,
    CASE WHEN w.o = 1 AND w.evaluation_tenths IS NOT NULL THEN w.evaluation_tenths ELSE 0 END
        AS evaluation_tenths,
    CASE WHEN w.o = 1 AND w.evaluation_tenths IS NOT NULL AND w.evaluation_auto_failed THEN 1 ELSE 0 END
        AS auto_failed
FROM (
    SELECT
        r.tenant_id, r.completion_quarter_ms, r.day, COALESCE(r.acw_ended_at, r.disconnected_at) AS completed_at,
        r.queue_id, r.channel, r.agent_id, r.team, r.skill, r.reason, r.segment,
        -- o: an outcome of a customer contact (not a cancelled consult leg); h: o and handled.
        CASE WHEN COALESCE(r.consult_leg, FALSE) THEN 0 ELSE 1 END AS o,
        CASE WHEN NOT COALESCE(r.consult_leg, FALSE) AND r.connected_at IS NOT NULL THEN 1 ELSE 0 END AS h,
        CASE WHEN r.connected_at IS NULL OR r.disconnected_at IS NULL THEN 0
             ELSE GREATEST(r.disconnected_at - r.connected_at - COALESCE(r.hold_ms, 0), 0) END AS talk_ms,
        COALESCE(r.hold_ms, 0) AS hold_ms,
        CASE WHEN r.disconnected_at IS NOT NULL AND r.acw_ended_at IS NOT NULL
                  AND r.acw_ended_at > r.disconnected_at
             THEN r.acw_ended_at - r.disconnected_at ELSE 0 END AS acw_ms,
        COALESCE(r.hold_count, 0) AS hold_count,
        COALESCE(r.transferred, FALSE) AS transferred,
        r.transferred_to_kind, r.initiation_method, COALESCE(r.queue_transfer, FALSE) AS queue_transfer,
        r.handover_mode, r.final_state, COALESCE(r.consult_leg, FALSE) AS consult_leg,
        COALESCE(r.consult_ms, 0) AS consult_ms, COALESCE(r.conference_ms, 0) AS conference_ms,
        r.csat, r.ces, r.nps, r.followed_by_repeat, r.is_repeat,
        r.evaluation_tenths, r.evaluation_auto_failed
    FROM {contact_records} r
    WHERE r.completion_quarter_ms IS NOT NULL
) w
