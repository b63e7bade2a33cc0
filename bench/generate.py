# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Fill a database that has crm installed (and NOT the addon) with a realistic
pipeline, in set-based SQL.

Run by bench/run.py; standalone:
    PYTHONPATH=$ODOO_DIR $ODOO_PYTHON bench/generate.py --db NAME --scale 100000

What it creates (one company):
- 10 sales teams, 50 salespeople (res.users: 42 "own documents", 6 "all
  documents", 2 managers) spread 5 per team, 8 utm sources;
- the stages: crm's four shared stages (New, Qualified, Proposition, Won) used
  by 7 teams, plus a private five-stage pipeline (Discovery, Demo, Proposal,
  Negotiation, Signed) for each of the 3 other teams;
- ``scale`` leads created over the last 24 months: 15% leads, 85%
  opportunities; the older a lead, the likelier it is closed (won or lost).
  Each opportunity follows a path of stages drawn from weighted templates
  (forward, skipping, backward moves, won, lost), with move dates between its
  creation and its close (or now);
- for each stage change a mail.message (subtype Stage Changed / Won) with a
  mail.tracking.value on crm.lead.stage_id (old/new ids and names), exactly
  what crm's tracking writes; a creation message per lead, a "lost" message
  per lost lead, on average one internal note per lead;
- one follower (the salesperson) per lead, partners for 60% of the leads, and
  an activity on 35% of the open opportunities.
"""

import argparse
import logging
import os
import sys
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

_logger = logging.getLogger("bench.generate")

TEAM_COUNT = 10
PRIVATE_PIPELINE_TEAMS = 3
USERS_PER_TEAM = 5
SOURCES = [
    "Website form",
    "Trade show",
    "Referral",
    "Partner",
    "Cold call",
    "Webinar",
    "Inbound email",
    "Paid search",
]
# sequences chosen so that no shared stage sorts between two private ones
PRIVATE_STAGES = [
    ("Discovery", 11, False),
    ("Demo", 12, False),
    ("Proposal", 13, False),
    ("Negotiation", 14, False),
    ("Signed", 65, True),
]
# (outcome, weight, path): positions in the team's pipeline, 99 = its won
# stage; positions beyond the last open stage are clamped to it and repeated
# positions dropped (4 becomes 3 in the four-stage pipelines).
PATH_TEMPLATES = [
    ("won", 3, [1, 2, 3, 4, 99]),
    ("won", 2, [1, 2, 3, 99]),
    ("won", 2, [1, 3, 99]),
    ("won", 1, [1, 99]),
    ("won", 1, [1, 2, 3, 2, 3, 4, 99]),
    ("won", 1, [2, 3, 99]),
    ("lost", 2, [1]),
    ("lost", 3, [1, 2]),
    ("lost", 2, [1, 2, 3]),
    ("lost", 1, [1, 2, 3, 4]),
    ("lost", 1, [1, 3]),
    ("lost", 1, [1, 2, 1]),
    ("open", 4, [1]),
    ("open", 3, [1, 2]),
    ("open", 2, [1, 2, 3]),
    ("open", 1, [1, 2, 3, 4]),
    ("open", 1, [1, 3]),
    ("open", 1, [1, 2, 3, 2]),
    ("open", 1, [2]),
]
# Tables filled in bulk: their secondary indexes are dropped during the load
# and built again after (much faster than maintaining GIN trigram indexes row
# by row); primary keys and unique constraints stay.
BULK_TABLES = [
    "res_partner",
    "crm_lead",
    "mail_message",
    "mail_tracking_value",
    "mail_followers",
    "mail_activity",
]


def _step(label, started):
    _logger.info("%-40s %7.1f s", label, time.monotonic() - started)
    print(f"  {label:<40} {time.monotonic() - started:7.1f} s", flush=True)
    return time.monotonic()


def setup_orm(env):
    """Teams, users, sources and stages through the ORM (small volumes)."""
    if env["crm.team"].search([("name", "=like", "Bench Team %")], limit=1):
        raise SystemExit("This database already holds a generated pipeline.")
    groups = {
        xmlid: env.ref(f"sales_team.{xmlid}")
        for xmlid in (
            "group_sale_salesman",
            "group_sale_salesman_all_leads",
            "group_sale_manager",
        )
    }
    user_vals = []
    for index in range(TEAM_COUNT * USERS_PER_TEAM):
        if index % 25 == 4:
            group = groups["group_sale_manager"]
        elif index % 25 in (9, 19, 24):
            group = groups["group_sale_salesman_all_leads"]
        else:
            group = groups["group_sale_salesman"]
        user_vals.append(
            {
                "name": f"Bench Salesperson {index + 1:02d}",
                "login": f"bench_sales_{index + 1:02d}",
                "email": f"bench_sales_{index + 1:02d}@example.com",
                "groups_id": [(6, 0, [group.id, env.ref("base.group_user").id])],
                "tz": "UTC",
            }
        )
    users = (
        env["res.users"]
        .with_context(no_reset_password=True, mail_create_nolog=True)
        .create(user_vals)
    )
    teams = env["crm.team"].create(
        [
            {
                "name": f"Bench Team {index + 1:02d}",
                "user_id": users[index * USERS_PER_TEAM].id,
                "use_leads": True,
                "use_opportunities": True,
            }
            for index in range(TEAM_COUNT)
        ]
    )
    env["crm.team.member"].create(
        [
            {"crm_team_id": team.id, "user_id": user.id}
            for index, team in enumerate(teams)
            for user in users[index * USERS_PER_TEAM : (index + 1) * USERS_PER_TEAM]
        ]
    )
    env["utm.source"].create([{"name": name} for name in SOURCES])
    shared = env["crm.stage"].search([("team_id", "=", False)], order="sequence, id")
    pipelines = {}
    for index, team in enumerate(teams):
        if index >= TEAM_COUNT - PRIVATE_PIPELINE_TEAMS:
            stages = env["crm.stage"].create(
                [
                    {
                        "name": f"{name} ({team.name[-2:]})",
                        "sequence": sequence,
                        "is_won": is_won,
                        "team_id": team.id,
                    }
                    for name, sequence, is_won in PRIVATE_STAGES
                ]
            )
        else:
            stages = shared
        pipelines[team.id] = stages.ids
    return users, teams, pipelines


def _drop_indexes(cr):
    cr.execute(
        SQL(
            """
            SELECT i.schemaname, i.indexname, i.indexdef
              FROM pg_indexes i
             WHERE i.tablename IN %s
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                WHERE c.conname = i.indexname)
            """,
            tuple(BULK_TABLES),
        )
    )
    indexes = cr.fetchall()
    for _schema, name, _definition in indexes:
        cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
    return [definition for _schema, _name, definition in indexes]


def generate(env, scale, seed):
    cr = env.cr
    started = time.monotonic()
    cr.execute(SQL("SET LOCAL work_mem = '256MB'"))
    cr.execute(SQL("SET LOCAL maintenance_work_mem = '1GB'"))
    cr.execute(SQL("SELECT setseed(%s)", seed))
    users, teams, pipelines = setup_orm(env)
    env.flush_all()
    started = _step("teams, users, stages (ORM)", started)

    stage_field = env["ir.model.fields"]._get("crm.lead", "stage_id")
    lost_field = env["ir.model.fields"]._get("crm.lead", "lost_reason_id")
    subtype = {
        key: env.ref(f"crm.mt_lead_{key}").id
        for key in ("create", "stage", "won", "lost")
    }
    note_subtype = env.ref("mail.mt_note").id
    lead_model_id = env["ir.model"]._get_id("crm.lead")
    activity_types = [
        env.ref(xmlid).id
        for xmlid in (
            "mail.mail_activity_data_call",
            "mail.mail_activity_data_email",
            "mail.mail_activity_data_todo",
            "mail.mail_activity_data_meeting",
        )
    ]
    lost_reasons = env["crm.lost.reason"].search([]).ids
    sources = env["utm.source"].search([("name", "in", SOURCES)]).ids
    mediums = env["utm.medium"].search([]).ids

    # -- helper tables --------------------------------------------------
    cr.execute(
        SQL(
            """
            CREATE TEMPORARY TABLE bench_pipeline (
                team_id int, pos int, stage_id int, last_pos int, probability int);
            CREATE TEMPORARY TABLE bench_user (
                idx int, user_id int, partner_id int, team_id int);
            CREATE TEMPORARY TABLE bench_template (
                outcome varchar, idx int, path int[]);
            """
        )
    )
    pipeline_rows = []
    for team_id, stage_ids in pipelines.items():
        last_pos = len(stage_ids)
        for pos, stage_id in enumerate(stage_ids, start=1):
            probability = 100 if pos == last_pos else round(80 * pos / last_pos)
            pipeline_rows.append((team_id, pos, stage_id, last_pos, probability))
    cr.execute(
        SQL(
            "INSERT INTO bench_pipeline VALUES %s",
            SQL(", ").join(SQL("(%s, %s, %s, %s, %s)", *row) for row in pipeline_rows),
        )
    )
    cr.execute(
        SQL(
            "INSERT INTO bench_user VALUES %s",
            SQL(", ").join(
                SQL(
                    "(%s, %s, %s, %s)",
                    index,
                    user.id,
                    user.partner_id.id,
                    teams[index // USERS_PER_TEAM].id,
                )
                for index, user in enumerate(users)
            ),
        )
    )
    template_rows = []
    counters = {}
    for outcome, weight, path in PATH_TEMPLATES:
        for _ in range(weight):
            template_rows.append((outcome, counters.get(outcome, 0), path))
            counters[outcome] = counters.get(outcome, 0) + 1
    cr.execute(
        SQL(
            "INSERT INTO bench_template VALUES %s",
            SQL(", ").join(SQL("(%s, %s, %s)", *row) for row in template_rows),
        )
    )
    cr.execute(
        SQL("ANALYZE bench_pipeline; ANALYZE bench_user; ANALYZE bench_template")
    )

    index_definitions = _drop_indexes(cr)
    started = _step(f"dropped {len(index_definitions)} indexes for the load", started)

    # -- partners -------------------------------------------------------
    partner_count = max(scale // 4, 10)
    cr.execute(
        SQL(
            """
            CREATE TEMPORARY TABLE bench_partner AS
            SELECT nextval('res_partner_id_seq') AS id, g
              FROM generate_series(1, %(count)s) g;
            INSERT INTO res_partner (id, name, complete_name, email, active, type,
                                     is_company, lang, tz, company_id,
                                     create_uid, write_uid, create_date, write_date)
            SELECT id, 'Customer ' || g, 'Customer ' || g,
                   'contact' || g || '@customer' || mod(g, 997) || '.example.com',
                   TRUE, 'contact', TRUE, 'en_US', 'UTC', NULL,
                   %(uid)s, %(uid)s,
                   now() - interval '800 days', now() - interval '800 days'
              FROM bench_partner;
            """,
            count=partner_count,
            uid=SUPERUSER_ID,
        )
    )
    started = _step(f"{partner_count} partners", started)

    # -- leads ------------------------------------------------------------
    # r_* columns are the lead's random draws; age in days (0..730).
    cr.execute(
        SQL(
            """
            CREATE TEMPORARY TABLE bench_lead AS
            WITH draws AS (
                SELECT g, random() AS r_age, random() AS r_outcome,
                       random() AS r_template, random() AS r_span,
                       random() AS r_type, random() AS r_misc,
                       mod(g::bigint * 7919, %(user_count)s) AS user_idx
                  FROM generate_series(1, %(scale)s) g
            ),
            typed AS (
                SELECT draws.*, 730.0 * r_age AS age_days,
                       CASE WHEN r_type < 0.15 THEN 'lead' ELSE 'opportunity' END
                           AS type,
                       CASE WHEN r_outcome < LEAST(0.85, 0.1 + 1.5 * r_age) * 0.4
                            THEN 'won'
                            WHEN r_outcome < LEAST(0.85, 0.1 + 1.5 * r_age)
                            THEN 'lost'
                            ELSE 'open' END AS outcome
                  FROM draws
            )
            SELECT nextval('crm_lead_id_seq') AS id, typed.g, typed.type,
                   CASE WHEN typed.type = 'lead' AND typed.outcome = 'won'
                        THEN 'open' ELSE typed.outcome END AS outcome,
                   CASE WHEN typed.r_misc < 0.03 THEN NULL ELSE u.user_id END
                       AS user_id,
                   u.partner_id AS user_partner_id, u.team_id,
                   CASE WHEN typed.type = 'lead' THEN ARRAY[1]
                        ELSE tpl.path END AS path,
                   now() - make_interval(secs => typed.age_days * 86400) AS create_date,
                   typed.age_days, typed.r_span, typed.r_misc,
                   round((1000 + 99000 * typed.r_span * typed.r_misc)::numeric, -2)
                       AS expected_revenue
              FROM typed
              JOIN bench_user u ON u.idx = typed.user_idx
              JOIN (SELECT outcome, count(*) AS n FROM bench_template
                     GROUP BY outcome) weights ON weights.outcome = typed.outcome
              JOIN bench_template tpl
                ON tpl.outcome = typed.outcome
               AND tpl.idx = floor(typed.r_template * weights.n)::int
            """,
            scale=scale,
            user_count=len(users),
        )
    )
    cr.execute(SQL("CREATE INDEX ON bench_lead (id); ANALYZE bench_lead"))
    started = _step("lead draws", started)

    # every step of every lead's path: its stage and the date it got there
    cr.execute(
        SQL(
            """
            CREATE TEMPORARY TABLE bench_step AS
            WITH expanded AS (
                SELECT lead.id AS lead_id, step.n,
                       p.stage_id, p.pos, p.last_pos
                  FROM bench_lead lead
                 CROSS JOIN LATERAL unnest(lead.path) WITH ORDINALITY AS step(pos, n)
                  JOIN bench_pipeline p
                    ON p.team_id = lead.team_id
                   AND p.pos = CASE WHEN step.pos = 99 THEN p.last_pos
                                    ELSE LEAST(step.pos, p.last_pos - 1) END
            ),
            deduplicated AS (
                SELECT expanded.*,
                       LAG(stage_id) OVER (PARTITION BY lead_id ORDER BY n)
                           AS prev_stage_id
                  FROM expanded
            )
            SELECT lead_id, stage_id, prev_stage_id,
                   ROW_NUMBER() OVER (PARTITION BY lead_id ORDER BY n) - 1 AS rank
              FROM deduplicated
             WHERE prev_stage_id IS DISTINCT FROM stage_id
            """
        )
    )
    cr.execute(
        SQL(
            """
            CREATE TEMPORARY TABLE bench_lead_end AS
            SELECT lead.id, max(step.rank) AS moves,
                   (array_agg(step.stage_id ORDER BY step.rank DESC))[1] AS stage_id,
                   -- closed leads close within 5 months; open ones moved up to now
                   lead.create_date + make_interval(secs =>
                       CASE WHEN lead.outcome = 'open'
                            THEN lead.age_days * 0.9 * lead.r_span
                            ELSE LEAST(lead.age_days, 150) * lead.r_span END
                       * 86400) AS end_date
              FROM bench_lead lead
              JOIN bench_step step ON step.lead_id = lead.id
             GROUP BY lead.id, lead.create_date, lead.outcome, lead.age_days,
                      lead.r_span;
            CREATE INDEX ON bench_lead_end (id);
            ANALYZE bench_lead_end;
            CREATE TEMPORARY TABLE bench_move AS
            SELECT step.lead_id, step.rank, step.stage_id, step.prev_stage_id,
                   lead.create_date + (e.end_date - lead.create_date)
                       * (step.rank::float / e.moves) AS date,
                   nextval('mail_message_id_seq') AS message_id
              FROM bench_step step
              JOIN bench_lead lead ON lead.id = step.lead_id
              JOIN bench_lead_end e ON e.id = step.lead_id
             WHERE step.rank > 0;
            ANALYZE bench_move;
            """
        )
    )
    started = _step("stage paths and moves", started)

    cr.execute(
        SQL(
            """
            INSERT INTO crm_lead (
                id, name, type, active, stage_id, user_id, team_id, company_id,
                partner_id, partner_name, contact_name, email_from, email_normalized,
                email_domain_criterion, phone, priority, probability,
                automated_probability, expected_revenue, prorated_revenue,
                date_deadline, date_open, date_closed, date_last_stage_update,
                lost_reason_id, source_id, medium_id, color, day_open, day_close,
                create_uid, write_uid, create_date, write_date)
            SELECT lead.id,
                   CASE WHEN lead.type = 'lead' THEN 'Lead ' ELSE 'Opportunity ' END
                       || lead.g,
                   lead.type,
                   lead.outcome <> 'lost',
                   e.stage_id, lead.user_id, lead.team_id, 1,
                   CASE WHEN lead.r_misc < 0.6
                        THEN (SELECT min(id) FROM bench_partner)
                             + mod(lead.g, %(partners)s)
                   END,
                   'Customer ' || (mod(lead.g, %(partners)s) + 1),
                   'Contact ' || lead.g,
                   'contact' || lead.g || '@customer' || mod(lead.g, 997)
                       || '.example.com',
                   'contact' || lead.g || '@customer' || mod(lead.g, 997)
                       || '.example.com',
                   'customer' || mod(lead.g, 997) || '.example.com',
                   '+1 555 ' || lpad(mod(lead.g, 10000000)::text, 7, '0'),
                   mod(lead.g, 4)::text,
                   CASE lead.outcome WHEN 'won' THEN 100 WHEN 'lost' THEN 0
                        ELSE p.probability END,
                   CASE lead.outcome WHEN 'won' THEN 100 WHEN 'lost' THEN 0
                        ELSE p.probability END,
                   lead.expected_revenue,
                   lead.expected_revenue * CASE lead.outcome WHEN 'won' THEN 100
                       WHEN 'lost' THEN 0 ELSE p.probability END / 100.0,
                   CASE WHEN lead.r_misc < 0.7 AND lead.type = 'opportunity'
                        THEN (lead.create_date + make_interval(
                                days => 30 + mod(lead.g, 120)))::date END,
                   CASE WHEN lead.user_id IS NOT NULL THEN lead.create_date END,
                   CASE WHEN lead.outcome <> 'open' THEN e.end_date END,
                   CASE WHEN e.moves > 0 THEN e.end_date ELSE lead.create_date END,
                   CASE WHEN lead.outcome = 'lost'
                        THEN (%(lost_reasons)s::int[])[1 + mod(lead.g, %(lost_count)s)]
                   END,
                   (%(sources)s::int[])[1 + mod(lead.g, %(source_count)s)],
                   (%(mediums)s::int[])[1 + mod(lead.g, %(medium_count)s)],
                   0, 0,
                   CASE WHEN lead.outcome <> 'open'
                        THEN EXTRACT(EPOCH FROM e.end_date - lead.create_date) / 86400
                   END,
                   %(uid)s, COALESCE(lead.user_id, %(uid)s),
                   lead.create_date,
                   GREATEST(lead.create_date, e.end_date)
              FROM bench_lead lead
              JOIN bench_lead_end e ON e.id = lead.id
              JOIN bench_pipeline p
                ON p.stage_id = e.stage_id AND p.team_id = lead.team_id
            """,
            partners=partner_count,
            lost_reasons=lost_reasons,
            lost_count=len(lost_reasons),
            sources=sources,
            source_count=len(sources),
            mediums=mediums,
            medium_count=len(mediums),
            uid=SUPERUSER_ID,
        )
    )
    started = _step(f"{scale} crm_lead rows", started)

    # -- chatter ----------------------------------------------------------
    # creation message of every lead
    cr.execute(
        SQL(
            """
            INSERT INTO mail_message (
                model, res_id, record_name, message_type, subtype_id, body,
                author_id, is_internal, date, record_company_id,
                create_uid, write_uid, create_date, write_date)
            SELECT 'crm.lead', lead.id,
                   CASE WHEN lead.type = 'lead' THEN 'Lead ' ELSE 'Opportunity ' END
                       || lead.g,
                   'notification', %(create)s,
                   CASE WHEN lead.type = 'lead' THEN '<p>Lead created</p>'
                        ELSE '<p>Opportunity created</p>' END,
                   lead.user_partner_id, FALSE, lead.create_date, 1,
                   %(uid)s, %(uid)s, lead.create_date, lead.create_date
              FROM bench_lead lead
            """,
            create=subtype["create"],
            uid=SUPERUSER_ID,
        )
    )
    # one message per stage change, with its tracking value
    cr.execute(
        SQL(
            """
            INSERT INTO mail_message (
                id, model, res_id, record_name, message_type, subtype_id, body,
                author_id, is_internal, date, record_company_id,
                create_uid, write_uid, create_date, write_date)
            SELECT move.message_id, 'crm.lead', move.lead_id, 'Opportunity ' || lead.g,
                   'notification',
                   CASE WHEN p.pos = p.last_pos THEN %(won)s ELSE %(stage)s END,
                   '', lead.user_partner_id, FALSE, move.date, 1,
                   COALESCE(lead.user_id, %(uid)s), COALESCE(lead.user_id, %(uid)s),
                   move.date, move.date
              FROM bench_move move
              JOIN bench_lead lead ON lead.id = move.lead_id
              JOIN bench_pipeline p
                ON p.stage_id = move.stage_id AND p.team_id = lead.team_id
            """,
            won=subtype["won"],
            stage=subtype["stage"],
            uid=SUPERUSER_ID,
        )
    )
    cr.execute(
        SQL(
            """
            INSERT INTO mail_tracking_value (
                field_id, mail_message_id, old_value_integer, new_value_integer,
                old_value_char, new_value_char,
                create_uid, write_uid, create_date, write_date)
            SELECT %(field)s, move.message_id, move.prev_stage_id, move.stage_id,
                   old_stage.name->>'en_US', new_stage.name->>'en_US',
                   %(uid)s, %(uid)s, move.date, move.date
              FROM bench_move move
              JOIN crm_stage old_stage ON old_stage.id = move.prev_stage_id
              JOIN crm_stage new_stage ON new_stage.id = move.stage_id
            """,
            field=stage_field.id,
            uid=SUPERUSER_ID,
        )
    )
    started = _step("creation and stage change messages", started)
    # the "lost" message with the lost reason tracked
    cr.execute(
        SQL(
            """
            CREATE TEMPORARY TABLE bench_lost AS
            SELECT nextval('mail_message_id_seq') AS message_id, lead.id AS lead_id,
                   lead.g, lead.user_partner_id, lead.user_id, e.end_date AS date,
                   crm.lost_reason_id
              FROM bench_lead lead
              JOIN bench_lead_end e ON e.id = lead.id
              JOIN crm_lead crm ON crm.id = lead.id
             WHERE lead.outcome = 'lost';
            INSERT INTO mail_message (
                id, model, res_id, record_name, message_type, subtype_id, body,
                author_id, is_internal, date, record_company_id,
                create_uid, write_uid, create_date, write_date)
            SELECT message_id, 'crm.lead', lead_id, 'Opportunity ' || g,
                   'notification', %(lost)s, '', user_partner_id, FALSE, date, 1,
                   COALESCE(user_id, %(uid)s), COALESCE(user_id, %(uid)s), date, date
              FROM bench_lost;
            INSERT INTO mail_tracking_value (
                field_id, mail_message_id, old_value_integer, new_value_integer,
                new_value_char, create_uid, write_uid, create_date, write_date)
            SELECT %(field)s, lost.message_id, NULL, lost.lost_reason_id,
                   reason.name->>'en_US', %(uid)s, %(uid)s, lost.date, lost.date
              FROM bench_lost lost
              JOIN crm_lost_reason reason ON reason.id = lost.lost_reason_id;
            """,
            lost=subtype["lost"],
            field=lost_field.id,
            uid=SUPERUSER_ID,
        )
    )
    # internal notes: 0, 1 or 2 per lead
    cr.execute(
        SQL(
            """
            INSERT INTO mail_message (
                model, res_id, record_name, message_type, subtype_id, body,
                author_id, is_internal, date, record_company_id,
                create_uid, write_uid, create_date, write_date)
            SELECT 'crm.lead', lead.id, 'Opportunity ' || lead.g, 'comment',
                   %(note)s,
                   '<p>Called the customer about their needs (note ' || n || ').</p>',
                   lead.user_partner_id, TRUE,
                   lead.create_date + (now() - lead.create_date) * random(), 1,
                   COALESCE(lead.user_id, %(uid)s), COALESCE(lead.user_id, %(uid)s),
                   lead.create_date, lead.create_date
              FROM bench_lead lead
             CROSS JOIN LATERAL generate_series(1, mod(lead.g * 31, 3)) n
            """,
            note=note_subtype,
            uid=SUPERUSER_ID,
        )
    )
    started = _step("lost messages and notes", started)
    cr.execute(
        SQL(
            """
            INSERT INTO mail_followers (res_model, res_id, partner_id)
            SELECT 'crm.lead', lead.id, lead.user_partner_id
              FROM bench_lead lead
             WHERE lead.user_id IS NOT NULL;
            INSERT INTO mail_activity (
                res_model_id, res_model, res_id, res_name, activity_type_id,
                summary, date_deadline, user_id, automated, active, user_tz,
                create_uid, write_uid, create_date, write_date)
            SELECT %(model_id)s, 'crm.lead', lead.id, 'Opportunity ' || lead.g,
                   (%(types)s::int[])[1 + mod(lead.g, %(type_count)s)],
                   'Follow up',
                   (now() + make_interval(days => mod(lead.g, 30) - 10))::date,
                   lead.user_id, FALSE, TRUE, 'UTC',
                   lead.user_id, lead.user_id, now(), now()
              FROM bench_lead lead
             WHERE lead.outcome = 'open' AND lead.type = 'opportunity'
               AND lead.user_id IS NOT NULL AND lead.r_misc BETWEEN 0.03 AND 0.38
            """,
            model_id=lead_model_id,
            types=activity_types,
            type_count=len(activity_types),
        )
    )
    started = _step("followers and activities", started)
    for definition in index_definitions:
        cr.execute(SQL(definition))
    started = _step(f"rebuilt {len(index_definitions)} indexes", started)
    env.invalidate_all()
    env.registry.clear_cache()
    cr.execute(
        SQL(
            """
            SELECT (SELECT count(*) FROM crm_lead),
                   (SELECT count(*) FROM crm_lead WHERE type = 'opportunity'
                       AND active AND probability < 100),
                   (SELECT count(*) FROM crm_lead WHERE probability = 100),
                   (SELECT count(*) FROM crm_lead WHERE NOT active),
                   (SELECT count(*) FROM mail_message),
                   (SELECT count(*) FROM mail_tracking_value WHERE field_id = %s),
                   (SELECT count(*) FROM mail_activity)
            """,
            stage_field.id,
        )
    )
    counts = cr.fetchone()
    print(
        "  leads %s (open opportunities %s, won %s, lost %s), messages %s, "
        "stage trackings %s, activities %s" % counts,
        flush=True,
    )
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--seed", type=float, default=0.42)
    parser.add_argument(
        "--addons-path",
        default="{0}/addons,{0}/odoo/addons".format(os.environ.get("ODOO_DIR", "")),
    )
    args = parser.parse_args()
    odoo.tools.config.parse_config(
        ["-d", args.db, "--log-level=warn", f"--addons-path={args.addons_path}"]
    )
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        if env["ir.module.module"].search_count(
            [("name", "=", "sales_pipeline_mgmt"), ("state", "=", "installed")]
        ):
            sys.exit("The addon must not be installed on the generated database.")
        generate(env, args.scale, args.seed)
        # the cursor commits on exit


if __name__ == "__main__":
    main()
