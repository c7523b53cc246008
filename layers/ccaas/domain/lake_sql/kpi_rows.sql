-- The KPIs of each row of {kpi_sums} (summed counters per interval and dimension values, see
-- ccaas.domain.lake.kpi_sums_sql), as kpis.accumulators.derive_kpis derives them with the tenant's
-- variants: None (NULL) where a denominator is zero, ratios 0-1, times in seconds, NPS in points.
-- Agent-time KPIs are NULL for groupings agent activity cannot be split by (agent_time false).
-- Every division is in DOUBLE (Trino's integer division truncates) in derive_kpis' operand order.
CREATE OR REPLACE VIEW {kpi_rows} AS
SELECT
    k.*,
    CASE s.service_level_variant
        WHEN 'default' THEN CASE WHEN k.offered - k.abandoned_within_sl > 0
            THEN CAST(k.answered_within_sl AS DOUBLE) / (k.offered - k.abandoned_within_sl) END
        WHEN 'answered_over_offered' THEN CASE WHEN k.offered > 0
            THEN CAST(k.answered_within_sl AS DOUBLE) / k.offered END
        WHEN 'abandons_count_as_met' THEN CASE WHEN k.offered > 0
            THEN CAST(k.answered_within_sl + k.abandoned_within_sl AS DOUBLE) / k.offered END
    END AS service_level,
    CASE WHEN k.answered > 0 THEN CAST(k.answered_wait_ms AS DOUBLE) / 1000 / k.answered END AS asa_s,
    CASE s.abandonment_variant
        WHEN 'exclude_short_abandons' THEN CASE WHEN k.offered - k.short_abandoned > 0
            THEN CAST(k.abandoned - k.short_abandoned AS DOUBLE) / (k.offered - k.short_abandoned) END
        WHEN 'include_short_abandons' THEN CASE WHEN k.offered > 0
            THEN CAST(k.abandoned AS DOUBLE) / k.offered END
    END AS abandonment_rate,
    CASE WHEN k.abandoned > 0 THEN CAST(k.abandoned_wait_ms AS DOUBLE) / 1000 / k.abandoned END
        AS avg_time_to_abandon_s,
    CASE WHEN k.handled > 0 THEN CAST(k.handle_ms AS DOUBLE) / 1000 / k.handled END AS aht_s,
    CASE WHEN k.handled > 0 THEN CAST(k.talk_ms AS DOUBLE) / 1000 / k.handled END AS avg_talk_s,
    CASE WHEN k.handled > 0 THEN CAST(k.hold_ms AS DOUBLE) / 1000 / k.handled END AS avg_hold_s,
    CASE WHEN k.handled > 0 THEN CAST(k.acw_ms AS DOUBLE) / 1000 / k.handled END AS avg_acw_s,
    CASE WHEN k.handled > 0 THEN CAST(k.transferred AS DOUBLE) / k.handled END AS transfer_rate,
    CASE WHEN k.contacts_held > 0 THEN CAST(k.hold_ms AS DOUBLE) / 1000 / k.contacts_held END
        AS avg_hold_when_held_s,
    CASE WHEN k.handled > 0 THEN CAST(k.contacts_held AS DOUBLE) / k.handled END AS hold_rate,
    CASE WHEN k.handled_initial_contacts > 0 THEN CAST(k.handled AS DOUBLE) / k.handled_initial_contacts END
        AS segments_per_contact,
    CASE WHEN k.consulted > 0 THEN CAST(k.consult_ms AS DOUBLE) / 1000 / k.consulted END AS avg_consult_s,
    CASE WHEN k.conferenced > 0 THEN CAST(k.conference_ms AS DOUBLE) / 1000 / k.conferenced END
        AS avg_conference_s,
    CASE WHEN k.agent_time AND k.busy_ms + k.idle_ms > 0
        THEN CAST(k.busy_ms AS DOUBLE) / (k.busy_ms + k.idle_ms) END AS occupancy,
    CASE WHEN k.agent_time AND k.available_slot_ms > 0
        THEN CAST(k.busy_slot_ms AS DOUBLE) / k.available_slot_ms END AS slot_occupancy,
    CASE WHEN k.agent_time AND k.staffed_ms > 0
        THEN CAST(k.busy_ms AS DOUBLE) / k.staffed_ms END AS utilization,
    CASE s.fcr_population
        WHEN 'all' THEN CASE WHEN k.fcr_contacts > 0
            THEN CAST(k.fcr_contacts - k.fcr_repeat_drivers AS DOUBLE) / k.fcr_contacts END
        WHEN 'handled_only' THEN CASE WHEN k.fcr_handled_contacts > 0
            THEN CAST(k.fcr_handled_contacts - k.fcr_handled_repeat_drivers AS DOUBLE) / k.fcr_handled_contacts END
    END AS fcr,
    CASE s.fcr_population
        WHEN 'all' THEN CASE WHEN k.fcr_contacts > 0
            THEN CAST(k.fcr_repeat_drivers AS DOUBLE) / k.fcr_contacts END
        WHEN 'handled_only' THEN CASE WHEN k.fcr_handled_contacts > 0
            THEN CAST(k.fcr_handled_repeat_drivers AS DOUBLE) / k.fcr_handled_contacts END
    END AS repeat_rate,
    CASE WHEN k.csat_count > 0 THEN CAST(k.csat_positive AS DOUBLE) / k.csat_count END AS csat,
    CASE WHEN k.ces_count > 0 THEN CAST(k.ces_sum AS DOUBLE) / k.ces_count END AS ces,
    CASE WHEN k.nps_count > 0 THEN CAST(100 * (k.nps_promoters - k.nps_detractors) AS DOUBLE) / k.nps_count END
        AS nps,
    CASE WHEN k.agent_time AND s.agent_cost_per_staffed_hour IS NOT NULL AND k.handled > 0
        THEN (s.agent_cost_per_staffed_hour * k.staffed_ms / 3600000
              + (s.infrastructure_cost_per_contact * k.handled
                 + s.infrastructure_cost_per_handle_minute * k.handle_ms / 60000)) / k.handled
    END AS cost_per_contact,
    CASE WHEN k.evaluated > 0 THEN CAST(k.evaluation_tenths AS DOUBLE) / 10 / k.evaluated END
        AS evaluation_score,
    CASE WHEN k.evaluated > 0 THEN CAST(k.auto_failed AS DOUBLE) / k.evaluated END AS auto_fail_rate,
    CASE WHEN SUM(k.offered) OVER (PARTITION BY k.tenant_id, k.interval_start_ms) > 0
        THEN CAST(k.offered AS DOUBLE) / SUM(k.offered) OVER (PARTITION BY k.tenant_id, k.interval_start_ms)
    END AS share_of_offered
FROM {kpi_sums} k
JOIN {tenant_settings} s ON s.tenant_id = k.tenant_id
