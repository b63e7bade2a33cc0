-- Invariants of sales_pipeline_mgmt's data, checked in SQL on a database
-- where the addon is installed. Each query lists what breaks its invariant
-- (one row per break: key, detail); no row means it holds.
--
-- Run them all with a summary: bench/bin/invariants -d DB (bench/invariants.py,
-- which also checks the forecast statistics, whose table it looks up
-- first). Or one by one with psql: psql -d DB -f this file.
-- The header of each query: "-- check: name", "-- requires: table ...",
-- then the invariant in words.

-- check: one_open_stay
-- requires: crm_lead_stage_history
-- Every lead with a stage has exactly one open stay (no date_out), in its
-- current stage; a lead without a stage has none.
SELECT lead.id AS key,
       format('lead stage %s; open stays: %s (stages %s)', lead.stage_id,
              count(stay.id), string_agg(stay.stage_id::text, ',')) AS detail
  FROM crm_lead lead
  LEFT JOIN crm_lead_stage_history stay
         ON stay.lead_id = lead.id AND stay.date_out IS NULL
 GROUP BY lead.id, lead.stage_id
HAVING count(stay.id) <> (CASE WHEN lead.stage_id IS NULL THEN 0 ELSE 1 END)
    OR bool_or(stay.id IS NOT NULL AND stay.stage_id IS DISTINCT FROM lead.stage_id);

-- check: stays_chain
-- requires: crm_lead_stage_history
-- A lead's stays, in order of entry, follow one another without gap or
-- overlap: each one ends when the next begins, only the last one is open,
-- none ends before it begins.
SELECT id AS key,
       format('lead %s: stay %s [%s, %s) then stay %s from %s', lead_id, id,
              date_in, date_out, next_id, next_in) AS detail
  FROM (SELECT stay.id, stay.lead_id, stay.date_in, stay.date_out,
               lead(stay.id) OVER w AS next_id,
               lead(stay.date_in) OVER w AS next_in
          FROM crm_lead_stage_history stay
        WINDOW w AS (PARTITION BY stay.lead_id ORDER BY stay.date_in, stay.id)) s
 WHERE date_out < date_in
    OR (next_id IS NOT NULL AND date_out IS DISTINCT FROM next_in);

-- check: stages_chain
-- requires: crm_lead_stage_history
-- Each stay after a lead's first one names, as its previous stage, the stage
-- of the stay before it.
SELECT id AS key,
       format('lead %s: stay %s in stage %s says it came from %s, the stay '
              'before was in %s', lead_id, id, stage_id, previous_stage_id,
              prev_stage) AS detail
  FROM (SELECT stay.id, stay.lead_id, stay.stage_id, stay.previous_stage_id,
               lag(stay.stage_id) OVER w AS prev_stage,
               lag(stay.id) OVER w AS prev_id
          FROM crm_lead_stage_history stay
        WINDOW w AS (PARTITION BY stay.lead_id ORDER BY stay.date_in, stay.id)) s
 WHERE prev_id IS NOT NULL AND previous_stage_id IS DISTINCT FROM prev_stage;

-- check: stay_duration
-- requires: crm_lead_stage_history
-- A closed stay's duration_days is its length in days; an open stay has none.
SELECT id AS key,
       format('lead %s: stay %s [%s, %s) duration_days %s', lead_id, id,
              date_in, date_out, duration_days) AS detail
  FROM crm_lead_stage_history
 WHERE (date_out IS NULL AND duration_days IS NOT NULL AND duration_days <> 0)
    OR (date_out IS NOT NULL AND (duration_days IS NULL OR abs(duration_days
        - greatest(extract(epoch FROM date_out - date_in) / 86400.0, 0))
        > 1e-6));

-- check: move_counters
-- requires: crm_lead_stage_history
-- The move counters stored on the lead are the totals of its stays:
-- skipped_stage_count the sum of the stays' skipped stages,
-- backward_move_count the number of backward stays.
SELECT lead.id AS key,
       format('stored skipped %s / backward %s, stays say %s / %s',
              lead.skipped_stage_count, lead.backward_move_count,
              coalesce(t.skipped, 0), coalesce(t.backward, 0)) AS detail
  FROM crm_lead lead
  LEFT JOIN (SELECT lead_id, sum(skipped_stage_count) AS skipped,
                    count(*) FILTER (WHERE move_type = 'backward') AS backward
               FROM crm_lead_stage_history GROUP BY lead_id) t
         ON t.lead_id = lead.id
 WHERE (coalesce(lead.skipped_stage_count, 0), coalesce(lead.backward_move_count, 0))
       <> (coalesce(t.skipped, 0)::int, coalesce(t.backward, 0)::int);

-- check: stays_match_tracking
-- requires: crm_lead_stage_history mail_tracking_value
-- Every move from one stage to another that crm tracked in the chatter
-- opened exactly one stay, and every stay that is not a lead's first stage
-- ('initial') came from such a move: per lead, as many stays that are not
-- 'initial' as tracked changes from a stage to another stage. (A change
-- from or to no stage opens an 'initial' stay, or none.) It holds when no
-- transaction moves the same lead twice, as over RPC: crm tracks a field
-- once per record and transaction, the addon records every stay.
WITH stage_field AS (
    SELECT id FROM ir_model_fields WHERE model = 'crm.lead' AND name = 'stage_id'
), tracked AS (
    SELECT message.res_id AS lead_id, count(*) AS changes
      FROM mail_tracking_value value
      JOIN mail_message message ON message.id = value.mail_message_id
     WHERE message.model = 'crm.lead'
       AND value.field_id = (SELECT id FROM stage_field)
       AND coalesce(value.old_value_integer, 0) <> 0
       AND coalesce(value.new_value_integer, 0) <> 0
     GROUP BY message.res_id
), stays AS (
    SELECT lead_id, count(*) FILTER (WHERE move_type <> 'initial') AS moves
      FROM crm_lead_stage_history GROUP BY lead_id
)
SELECT lead.id AS key,
       format('%s tracked moves between stages, %s stays that are not initial',
              coalesce(tracked.changes, 0), coalesce(stays.moves, 0)) AS detail
  FROM crm_lead lead
  LEFT JOIN tracked ON tracked.lead_id = lead.id
  LEFT JOIN stays ON stays.lead_id = lead.id
 WHERE coalesce(tracked.changes, 0) <> coalesce(stays.moves, 0);

-- check: standard_stage_stored
-- requires: crm_lead_stage_history
-- The standard stage stored on each lead and each stay is its stage's.
SELECT 'lead ' || lead.id AS key,
       format('stored %s, stage %s has %s', lead.standard_stage_id,
              stage.id, stage.standard_stage_id) AS detail
  FROM crm_lead lead
  JOIN crm_stage stage ON stage.id = lead.stage_id
 WHERE lead.standard_stage_id IS DISTINCT FROM stage.standard_stage_id
 UNION ALL
SELECT 'stay ' || stay.id,
       format('stored %s, stage %s has %s', stay.standard_stage_id,
              stage.id, stage.standard_stage_id)
  FROM crm_lead_stage_history stay
  JOIN crm_stage stage ON stage.id = stay.stage_id
 WHERE stay.standard_stage_id IS DISTINCT FROM stage.standard_stage_id;

-- check: stall_flags
-- requires: crm_lead_stage_history
-- A lead flagged stalled has its stall date and counts 1 in the kanban's
-- stalled sum; a lead not flagged has neither.
SELECT id AS key,
       format('is_stalled %s, stalled_since %s, stalled_count %s', is_stalled,
              stalled_since, stalled_count) AS detail
  FROM crm_lead
 WHERE (coalesce(is_stalled, false)
        AND (stalled_since IS NULL OR coalesce(stalled_count, 0) <> 1))
    OR (NOT coalesce(is_stalled, false)
        AND (stalled_since IS NOT NULL OR coalesce(stalled_count, 0) <> 0));

-- check: one_open_job_activity
-- requires: crm_lead_stage_history mail_activity
-- The pipeline health jobs never plan the same activity twice: no record
-- has two open activities of the same rule (follow-up, stall, escalation,
-- overload). One lead may hold activities of different rules at once by
-- design (a stall and its escalation; a stall after a follow-up).
SELECT res_model || ',' || res_id || ',' || pipeline_health_kind AS key,
       format('%s open activities (ids %s)', count(*),
              string_agg(id::text, ',' ORDER BY id)) AS detail
  FROM mail_activity
 WHERE pipeline_health_kind IS NOT NULL AND active
 GROUP BY res_model, res_id, pipeline_health_kind
HAVING count(*) > 1;

-- check: deal_history_current_row
-- requires: crm_lead_deal_history
-- Every opportunity has exactly one current deal-history row (no date_to),
-- holding the lead's values (stage, expected revenue, expected closing,
-- probability, salesperson, team, company, state: lost when archived, won in
-- a won stage, else open); a lead that is not an opportunity has none.
SELECT lead.id AS key,
       format('lead %s (%s): %s current rows; lead (%s), row (%s)', lead.id,
              lead.type, count(history.id),
              concat_ws(' ', lead.stage_id, lead.expected_revenue,
                        lead.date_deadline, lead.probability, lead.user_id,
                        lead.team_id, lead.company_id,
                        CASE WHEN NOT lead.active THEN 'lost'
                             WHEN stage.is_won THEN 'won' ELSE 'open' END),
              string_agg(concat_ws(' ', history.stage_id,
                                   history.expected_revenue,
                                   history.date_deadline, history.probability,
                                   history.user_id, history.team_id,
                                   history.company_id, history.state), '; '))
           AS detail
  FROM crm_lead lead
  LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
  LEFT JOIN crm_lead_deal_history history
         ON history.lead_id = lead.id AND history.date_to IS NULL
 GROUP BY lead.id, stage.is_won
HAVING count(history.id) <> (CASE WHEN lead.type = 'opportunity' THEN 1 ELSE 0 END)
    OR bool_or(history.id IS NOT NULL
               AND (history.stage_id, history.expected_revenue,
                    history.date_deadline, history.probability,
                    history.user_id, history.team_id, history.company_id,
                    history.state)
                   IS DISTINCT FROM
                   (lead.stage_id, lead.expected_revenue, lead.date_deadline,
                    lead.probability, lead.user_id, lead.team_id,
                    lead.company_id,
                    CASE WHEN NOT lead.active THEN 'lost'
                         WHEN stage.is_won THEN 'won' ELSE 'open' END));

-- check: deal_history_chain
-- requires: crm_lead_deal_history
-- A deal's rows, in order, follow one another without gap or overlap: each
-- one ends when the next begins, only the last one may be open, none ends
-- before it begins.
SELECT lead_id AS key,
       format('lead %s: row %s [%s, %s) then row %s from %s', lead_id, id,
              date_from, date_to, next_id, next_from) AS detail
  FROM (SELECT history.id, history.lead_id, history.date_from, history.date_to,
               lead(history.id) OVER w AS next_id,
               lead(history.date_from) OVER w AS next_from
          FROM crm_lead_deal_history history
        WINDOW w AS (PARTITION BY history.lead_id
                     ORDER BY history.date_from, history.id)) h
 WHERE date_to < date_from
    OR (next_id IS NOT NULL AND date_to IS DISTINCT FROM next_from);

-- check: deal_history_agrees_with_stays
-- requires: crm_lead_deal_history crm_lead_stage_history
-- Where an opportunity's stay in a stage lasted (it did not end in the
-- second it began) and a deal-history row was in effect when the stay began,
-- that row names the stay's stage.
SELECT stay.lead_id AS key,
       format('lead %s: stay %s in stage %s from %s, deal-history row %s in '
              'stage %s', stay.lead_id, stay.id, stay.stage_id, stay.date_in,
              history.id, history.stage_id) AS detail
  FROM crm_lead_stage_history stay
  JOIN crm_lead_deal_history history
    ON history.lead_id = stay.lead_id
   AND history.date_from <= stay.date_in
   AND (history.date_to IS NULL OR history.date_to > stay.date_in)
 WHERE (stay.date_out IS NULL OR stay.date_out > stay.date_in)
   AND history.stage_id IS DISTINCT FROM stay.stage_id;
