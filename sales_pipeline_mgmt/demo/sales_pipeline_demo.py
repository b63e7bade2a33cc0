# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import random
from datetime import timedelta

from odoo import api, models
from odoo.tools import SQL

DEMO_COMPANIES = [
    "Agrolait",
    "Bluebird Logistics",
    "Cedar Clinics",
    "Delta Foods",
    "Evergreen Schools",
    "Fjord Energy",
    "Granite Builders",
    "Harbor Hotels",
    "Indigo Fashion",
    "Juniper Labs",
    "Kestrel Air",
    "Lumen Studios",
]
DEMO_PRODUCTS = [
    "Office furniture",
    "Fleet tracking",
    "Support contract",
    "Training programme",
    "Software licences",
    "Maintenance plan",
    "Consulting days",
    "Cloud migration",
]
REVENUES = [1500, 3000, 4500, 6000, 8000, 12000, 18000, 25000, 40000]


class SalesPipelineDemo(models.AbstractModel):
    """Builds the demo pipeline: a few months of leads moving through the
    stages of the demo teams, with the stays, skips, backward moves, wins and
    losses that make the reports worth looking at. Dates are relative to the
    moment the demo data is installed."""

    _name = "sales.pipeline.demo"
    _description = "Sales Pipeline Demo Data"

    @api.model
    def _load_demo_pipeline(
        self,
        team_xmlids,
        stage_xmlids,
        won_stage_xmlid,
        lead_count=90,
        days=180,
        seed=18,
    ):
        rng = random.Random(seed)
        now = self.env.cr.now().replace(microsecond=0)
        teams = [self.env.ref(xmlid) for xmlid in team_xmlids]
        stages = [self.env.ref(xmlid) for xmlid in stage_xmlids]
        won_stage = self.env.ref(won_stage_xmlid)
        sources = self.env["utm.source"].search([], limit=6)
        lost_reasons = self.env["crm.lost.reason"].search([])
        plans = [
            self._plan_demo_lead(rng, index, now, days, teams, stages, won_stage)
            for index in range(lead_count)
        ]
        leads = (
            self.env["crm.lead"]
            .with_context(tracking_disable=True, mail_create_nolog=True)
            .create(
                [
                    {
                        "name": plan["name"],
                        "partner_name": plan["partner_name"],
                        "type": plan["type"],
                        "team_id": plan["team"].id,
                        "user_id": plan["user"].id,
                        "stage_id": plan["stays"][-1][0].id,
                        "expected_revenue": plan["revenue"],
                        "source_id": rng.choice(sources.ids + [False]),
                        "date_deadline": plan["deadline"],
                        "priority": rng.choice("0012"),
                    }
                    for plan in plans
                ]
            )
        )
        self._write_demo_history(leads, plans, now, lost_reasons)
        self._demo_after_load(leads)
        return leads

    def _plan_demo_lead(self, rng, index, now, days, teams, stages, won_stage):
        """Draw the life of one demo lead: its stays [(stage, date_in)], its
        outcome and its dates."""
        team = rng.choice(teams)
        users = team.member_ids or team.user_id
        created = now - timedelta(days=rng.uniform(3, days), hours=rng.uniform(0, 9))
        outcome = rng.choices(["won", "lost", "open"], weights=[35, 25, 40])[0]
        position = 0 if rng.random() < 0.8 else 1
        stays = [(stages[position], created)]
        moment = created
        stalled = outcome == "open" and rng.random() < 0.25
        target = len(stages) - 1 if outcome == "won" else rng.randrange(len(stages))
        while position < target or (outcome == "won" and stays[-1][0] != won_stage):
            moment += timedelta(days=rng.uniform(2, 14), hours=rng.uniform(0, 8))
            if moment >= now - timedelta(hours=2):
                break
            roll = rng.random()
            if position >= target:
                stage = won_stage
            elif roll < 0.15 and position + 2 <= target:
                position += 2
                stage = stages[position]
            elif roll < 0.25 and position > 0 and len(stays) > 1:
                position -= 1
                stage = stages[position]
            else:
                position += 1
                stage = stages[position]
            stays.append((stage, moment))
        if stalled:
            # an open deal untouched for weeks: pushed back into the past
            shift = timedelta(days=rng.uniform(35, 60))
            stays = [(stage, max(date - shift, created)) for stage, date in stays]
        won = stays[-1][0] == won_stage
        if outcome == "won" and not won:
            outcome = "open"
        closed_at = None
        if outcome == "won":
            closed_at = stays[-1][1]
        elif outcome == "lost":
            closed_at = min(stays[-1][1] + timedelta(days=rng.uniform(1, 10)), now)
        converted = rng.random() < 0.3
        deadline_days = rng.choice([-10, 5, 15, 30, 45, 60, 90])
        return {
            "name": f"{rng.choice(DEMO_PRODUCTS)} for {DEMO_COMPANIES[index % 12]}",
            "partner_name": DEMO_COMPANIES[index % len(DEMO_COMPANIES)],
            "type": "lead"
            if outcome == "open" and rng.random() < 0.1
            else "opportunity",
            "team": team,
            "user": rng.choice(users),
            "revenue": rng.choice(REVENUES),
            "stays": stays,
            "outcome": outcome,
            "created": created,
            "closed": closed_at,
            "conversion": created + timedelta(days=rng.uniform(0.5, 4))
            if converted
            else None,
            "deadline": (now + timedelta(days=deadline_days)).date(),
        }

    def _write_demo_history(self, leads, plans, now, lost_reasons):
        """Replace the stays the leads got at creation by their planned past,
        and date the leads accordingly, in a few SQL statements."""
        lead_model = self.env["crm.lead"]
        history_model = self.env["crm.lead.stage.history"]
        stage_keys = self.env["crm.stage"]._get_pipeline_stage_keys()
        lead_model.flush_model()
        history_model.flush_model()
        history_rows, lead_rows = [], []
        for lead, plan in zip(leads, plans, strict=True):
            skipped_total = backward_total = 0
            stays = plan["stays"]
            for position, (stage, date_in) in enumerate(stays):
                previous = stays[position - 1][0] if position else self.env["crm.stage"]
                move_type, skipped = lead._classify_stage_move(
                    previous, stage, stage_keys
                )
                skipped_total += skipped
                backward_total += move_type == "backward"
                date_out = stays[position + 1][1] if position + 1 < len(stays) else None
                history_rows.append(
                    SQL(
                        "(%s, %s, %s, %s, %s, %s::timestamp, %s, %s, %s, %s, %s, %s)",
                        lead.id,
                        stage.id,
                        stage_keys[stage.id][3],
                        previous.id or None,
                        date_in,
                        date_out,
                        plan["user"].id,
                        plan["team"].id,
                        lead.company_id.id or None,
                        move_type,
                        skipped,
                        (date_out - date_in).total_seconds() / 86400.0
                        if date_out
                        else None,
                    )
                )
            outcome = plan["outcome"]
            lead_rows.append(
                SQL(
                    "(%s, %s::timestamp, %s::timestamp, %s::timestamp, %s::timestamp,"
                    " %s, %s::float, %s, %s, %s)",
                    lead.id,
                    plan["created"],
                    stays[-1][1],
                    plan["closed"],
                    plan["conversion"],
                    outcome != "lost",
                    100.0 if outcome == "won" else 0.0 if outcome == "lost" else None,
                    lost_reasons[lead.id % len(lost_reasons)].id
                    if outcome == "lost" and lost_reasons
                    else None,
                    skipped_total,
                    backward_total,
                )
            )
        self.env.cr.execute(
            SQL(
                "DELETE FROM crm_lead_stage_history WHERE lead_id IN %s",
                tuple(leads.ids),
            )
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO crm_lead_stage_history (
                    lead_id, stage_id, standard_stage_id, previous_stage_id, date_in,
                    date_out, user_id, team_id, company_id, move_type,
                    skipped_stage_count, duration_days,
                    create_uid, create_date, write_uid, write_date)
                SELECT rows.*, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM (VALUES %(rows)s) AS rows
                """,
                rows=SQL(", ").join(history_rows),
                uid=self.env.uid,
                now=now,
            )
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead lead
                   SET create_date = plan.created,
                       date_last_stage_update = plan.stage_update,
                       date_open = plan.created,
                       date_closed = plan.closed,
                       date_conversion = plan.conversion,
                       active = plan.active,
                       probability = COALESCE(plan.probability, lead.probability),
                       lost_reason_id = plan.lost_reason_id,
                       skipped_stage_count = plan.skipped,
                       backward_move_count = plan.backward
                  FROM (VALUES %(rows)s) AS plan(
                        id, created, stage_update, closed, conversion, active,
                        probability, lost_reason_id, skipped, backward)
                 WHERE lead.id = plan.id
                """,
                rows=SQL(", ").join(lead_rows),
            )
        )
        lead_model.invalidate_model()
        history_model.invalidate_model()
        self._write_demo_deal_history(leads, now)

    def _write_demo_deal_history(self, leads, now):
        """The deal history of the planned past, which has no tracking to be
        rebuilt from: a row per stay, in the stay's stage, and for a lost deal
        a last row from its closing; the other values are today's."""
        self.env["crm.lead.deal.history"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                DELETE FROM crm_lead_deal_history WHERE lead_id IN %(lead_ids)s;
                WITH events AS (
                    SELECT stay.lead_id, stay.stage_id, stay.date_in AS date_from,
                           FALSE AS lost, stay.id AS sequence
                      FROM crm_lead_stage_history stay
                     WHERE stay.lead_id IN %(lead_ids)s
                     UNION ALL
                    SELECT lead.id, lead.stage_id,
                           GREATEST(lead.date_closed,
                                    (SELECT MAX(stay.date_in)
                                       FROM crm_lead_stage_history stay
                                      WHERE stay.lead_id = lead.id)),
                           TRUE, 0
                      FROM crm_lead lead
                     WHERE lead.id IN %(lead_ids)s
                       AND NOT lead.active AND lead.date_closed IS NOT NULL
                )
                INSERT INTO crm_lead_deal_history (
                    lead_id, date_from, date_to, stage_id, expected_revenue,
                    date_deadline, probability, user_id, team_id, company_id,
                    state, create_uid, create_date, write_uid, write_date)
                SELECT events.lead_id, events.date_from,
                       LEAD(events.date_from) OVER (
                           PARTITION BY events.lead_id
                           ORDER BY events.date_from, events.lost, events.sequence),
                       events.stage_id, lead.expected_revenue,
                       lead.date_deadline, lead.probability, lead.user_id,
                       lead.team_id, lead.company_id,
                       CASE WHEN events.lost THEN 'lost'
                            WHEN stage.is_won THEN 'won' ELSE 'open' END,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM events
                  JOIN crm_lead lead ON lead.id = events.lead_id
                  JOIN crm_stage stage ON stage.id = events.stage_id
                 WHERE lead.type = 'opportunity'
                 -- stays of the same instant keep their order
                 ORDER BY events.lead_id, events.date_from, events.lost,
                          events.sequence
                """,
                lead_ids=tuple(leads.ids),
                uid=self.env.uid,
                now=now,
            )
        )
        self.env["crm.lead.deal.history"].invalidate_model()

    def _demo_after_load(self, leads):
        """Derive from the demo pipeline what the jobs would have built over
        the months: the historical forecast, weekly pipeline snapshots of the
        past (so that the trend and the forecast accuracy have something to
        show) and today's, and the stalled opportunities."""
        lead_model = self.env["crm.lead"]
        lead_model._refresh_historical_forecast()
        today = self.env.cr.now().date()
        self._demo_take_past_snapshots(
            [today - timedelta(weeks=weeks) for weeks in range(20, 0, -1)]
        )
        self.env["crm.pipeline.snapshot"]._take_snapshot(today)
        self._demo_detect_stalls()
        return True

    def _demo_detect_stalls(self):
        """Stall detection on for the demo companies, run until done."""
        companies = self.env.company | self.env.ref("base.main_company")
        companies.write({"pipeline_stall_enabled": True})
        self.env["res.config.settings"]._sync_pipeline_health_crons()
        for _batch in range(100):
            if not self.env["crm.lead"]._detect_stalls()["remaining"]:
                break

    def _demo_take_past_snapshots(self, snapshot_dates):
        """Write the snapshots the weekly job would have taken on past dates,
        rebuilt from the stage history: the opportunities open on each date,
        in the stage they were in then.

        Demo approximation of what was not recorded: a deal open on that date
        and open today keeps its current probabilities and closing dates; a
        deal closed since then gets the average probabilities of today's open
        deals in the same stage, and a closing date a few days around the day
        it really closed, as a salesperson's estimate would be."""
        snapshot_model = self.env["crm.pipeline.snapshot"]
        self.env["crm.lead"].flush_model()
        self.env["crm.lead.stage.history"].flush_model()
        snapshot_model.flush_model()

        self.env.cr.execute(
            SQL(
                """
                WITH stage_figures AS (
                    SELECT lead.stage_id,
                           AVG(lead.probability) AS probability,
                           AVG(lead.historical_probability) AS historical_probability
                      FROM crm_lead lead
                      JOIN crm_stage stage ON stage.id = lead.stage_id
                     WHERE %(open_leads)s
                     GROUP BY lead.stage_id
                ),
                past AS (
                    SELECT day.snapshot_date, lead.company_id, stay.team_id,
                           stay.user_id, stay.stage_id, stay.standard_stage_id,
                           COALESCE(lead.expected_revenue, 0) AS expected_revenue,
                           CASE WHEN lead.date_closed IS NULL THEN lead.probability
                                ELSE COALESCE(figures.probability, 50) END
                               AS probability,
                           CASE WHEN lead.date_closed IS NULL
                                THEN lead.historical_probability
                                ELSE COALESCE(figures.historical_probability, 50) END
                               AS historical_probability,
                           CASE WHEN lead.date_closed IS NULL THEN lead.date_deadline
                                ELSE (lead.date_closed
                                      + mod(lead.id * 37, 29) * INTERVAL '1 day'
                                      - INTERVAL '14 days'
                                     )::date END AS date_deadline,
                           CASE WHEN lead.date_closed IS NULL
                                THEN lead.predicted_close_date
                                ELSE (lead.date_closed
                                      + mod(lead.id * 53, 21) * INTERVAL '1 day'
                                      - INTERVAL '10 days'
                                     )::date END AS predicted_close_date
                      FROM unnest(%(dates)s::date[]) AS day(snapshot_date)
                      JOIN crm_lead_stage_history stay
                        ON stay.date_in <= day.snapshot_date
                       AND (stay.date_out IS NULL OR stay.date_out > day.snapshot_date)
                      JOIN crm_lead lead ON lead.id = stay.lead_id
                      JOIN crm_stage stage ON stage.id = stay.stage_id
                      LEFT JOIN stage_figures figures
                        ON figures.stage_id = stay.stage_id
                     WHERE lead.type = 'opportunity'
                       AND NOT COALESCE(stage.is_won, FALSE)
                       AND CASE WHEN lead.date_closed IS NULL THEN lead.active
                                ELSE lead.date_closed > day.snapshot_date END
                )
                INSERT INTO crm_pipeline_snapshot (%(columns)s)
                SELECT past.snapshot_date, past.company_id, past.team_id,
                       past.user_id, past.stage_id, past.standard_stage_id,
                       COUNT(*), SUM(past.expected_revenue),
                       ROUND(SUM(past.expected_revenue * past.probability
                                 / 100.0)::numeric, 2),
                       ROUND(SUM(past.expected_revenue * past.historical_probability
                                 / 100.0)::numeric, 2),
                       %(forecasts)s,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM past
                 GROUP BY past.snapshot_date, past.company_id, past.team_id,
                          past.user_id, past.stage_id, past.standard_stage_id
                """,
                dates=snapshot_dates,
                open_leads=self.env["crm.lead"]._get_open_opportunity_sql(),
                columns=snapshot_model._get_insert_columns_sql(),
                forecasts=snapshot_model._get_forecast_months_sql(
                    SQL("past.snapshot_date"),
                    (
                        SQL("past.expected_revenue * past.probability / 100.0"),
                        SQL("past.date_deadline"),
                    ),
                    (
                        SQL(
                            "past.expected_revenue * past.historical_probability"
                            " / 100.0"
                        ),
                        SQL("past.predicted_close_date"),
                    ),
                ),
                uid=self.env.uid,
                now=self.env.cr.now(),
            )
        )
        snapshot_model.invalidate_model()
