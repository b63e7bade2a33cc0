# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.misc import formatLang

_logger = logging.getLogger(__name__)

# Fields of a lead the health score is computed from. A write of one of the
# first ones, which salespeople edit on the form and the pipeline, scores the
# written leads at once; the others, which crm writes lead by lead when it
# converts or assigns leads, score them at the end of the transaction, in one
# statement for all. The stall flag is left out: the stall job sets it in SQL
# and the daily score job reads it; a stage move, which clears it, is an input
# itself. The team is left out too: the historical probability it changes is
# refreshed by the daily forecast job, which the daily score job follows.
HEALTH_SCORE_INPUTS = {"stage_id", "date_deadline", "expected_revenue", "active"}
HEALTH_SCORE_COMMIT_INPUTS = {"type", "company_id"}
# Bands of the score: below HEALTH_SCORE_AT_RISK a deal is at risk (red),
# below HEALTH_SCORE_HEALTHY it is to watch (orange), else healthy (green).
HEALTH_SCORE_AT_RISK = 40
HEALTH_SCORE_HEALTHY = 70
HEALTH_SCORE_BANDS = [
    ("at_risk", "At Risk"),
    ("watch", "To Watch"),
    ("healthy", "Healthy"),
]
# How many reasons the summary shows, the heaviest first
HEALTH_SCORE_SHOWN_REASONS = 3
# A count signal (slips, skipped stages, amount decreases) stops adding points
# after this many occurrences
HEALTH_SCORE_MAX_COUNT = 3


class CrmLead(models.Model):
    """Deal health score: 100 for a healthy open opportunity, less for each
    risk signal it shows, with its reasons.

    Each signal costs at most its weight (a company setting), in whole points;
    the score is 100 minus the points lost, kept between 0 and 100. The score
    and its reasons (codes and figures, put in words in the reader's language
    when displayed) are plain stored columns with one writer,
    _refresh_health_scores: one SQL statement for any number of leads, run by
    the daily job and after a write of the score's inputs."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    # Deal health
    health_score = fields.Integer(
        readonly=True,
        copy=False,
        index="btree_not_null",
        aggregator="avg",
        help="From 0 (at risk) to 100 (healthy): 100 minus the points the open "
        "opportunity loses for each risk signal (slow stage, stalled, closing date "
        "moved or passed, no contact, skipped stages, lowered amount, stage's "
        "historical probability). Empty for leads and closed opportunities.",
    )
    health_score_reasons = fields.Json(
        readonly=True,
        copy=False,
        help="The signals behind the health score, heaviest first: "
        "[code, points lost, figure].",
    )
    health_score_band = fields.Selection(
        HEALTH_SCORE_BANDS,
        string="Health",
        compute="_compute_health_score_summary",
        search="_search_health_score_band",
        help=f"At Risk: a score below {HEALTH_SCORE_AT_RISK}. To Watch: below "
        f"{HEALTH_SCORE_HEALTHY}. Healthy: {HEALTH_SCORE_HEALTHY} or more.",
    )
    health_score_summary = fields.Char(
        string="Health Reasons",
        compute="_compute_health_score_summary",
        help="The main reasons of the health score, in words.",
    )

    @api.depends("health_score", "health_score_reasons", "stage_id")
    def _compute_health_score_summary(self):
        for lead in self:
            # an open opportunity scored 0 has a score; a closed one has none
            has_score = isinstance(lead.health_score_reasons, list)
            lead.health_score_band = (
                lead._get_health_score_band(lead.health_score) if has_score else False
            )
            lead.health_score_summary = (
                lead._get_health_score_reasons_text() if has_score else False
            )

    @api.model
    def _get_health_score_band(self, score):
        if score < HEALTH_SCORE_AT_RISK:
            return "at_risk"
        if score < HEALTH_SCORE_HEALTHY:
            return "watch"
        return "healthy"

    def _search_health_score_band(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("Unsupported search on Health."))
        values = [value] if isinstance(value, str) else list(value or [])
        unknown = set(values) - {band for band, _label in HEALTH_SCORE_BANDS}
        if unknown:
            raise UserError(
                self.env._(
                    "Health: unknown band %(bands)s.",
                    bands=", ".join(map(str, unknown)),
                )
            )
        ranges = {
            "at_risk": (0, HEALTH_SCORE_AT_RISK),
            "watch": (HEALTH_SCORE_AT_RISK, HEALTH_SCORE_HEALTHY),
            "healthy": (HEALTH_SCORE_HEALTHY, 101),
        }
        domain = ["|"] * (len(values) - 1) if values else []
        for band in values:
            low, high = ranges[band]
            domain += ["&", ("health_score", ">=", low), ("health_score", "<", high)]
        if not values:
            domain = [("id", "=", False)]
        if operator in ("!=", "not in"):
            return ["&", ("health_score", "!=", False), "!", *domain]
        return domain

    # ------------------------------------------------------------
    # REASONS IN WORDS
    # ------------------------------------------------------------

    def _get_health_score_reasons_text(self, limit=HEALTH_SCORE_SHOWN_REASONS):
        """The heaviest reasons of the score, in words, joined by " · ";
        "no risk signal" when there is none."""
        self.ensure_one()
        texts = [
            text
            for code, points, figure in (self.health_score_reasons or [])[:limit]
            if (text := self._get_health_score_reason_text(code, points, figure))
        ]
        return " · ".join(texts) or self.env._("no risk signal")

    def _get_health_score_reason_text(self, code, points, figure):
        """One reason in words; None for a code this version does not know."""
        self.ensure_one()
        _ = self.env._
        if code == "slow_stage":
            return _(
                "in %(stage)s %(ratio)s× longer than usual",
                stage=self.stage_id.name,
                ratio=self._format_health_ratio(figure),
            )
        if code == "stalled":
            return _("stalled")
        if code == "close_date_slip":
            return _(
                "closing date moved %(times)s", times=self._format_health_times(figure)
            )
        if code == "overdue":
            return _(
                "closing date passed %(days)s ago",
                days=self._format_health_days(figure),
            )
        if code == "predicted_late":
            return _(
                "predicted to close %(days)s after its closing date",
                days=self._format_health_days(figure),
            )
        if code == "no_contact":
            return _("no contact for %(days)s", days=self._format_health_days(figure))
        if code == "skipped_stage":
            if int(figure) == 1:
                return _("1 stage skipped")
            return _("%(count)s stages skipped", count=int(figure))
        if code == "amount_decrease":
            return _(
                "amount lowered %(times)s", times=self._format_health_times(figure)
            )
        if code == "stage_probability":
            return _(
                "%(probability)s%% historical win rate in its stage",
                probability=round(figure),
            )
        return None

    def _format_health_times(self, count):
        count = int(count)
        if count == 1:
            return self.env._("once")
        if count == 2:
            return self.env._("twice")
        return self.env._("%(count)s times", count=count)

    def _format_health_days(self, days):
        days = int(days)
        if days == 1:
            return self.env._("1 day")
        return self.env._("%(count)s days", count=days)

    def _format_health_ratio(self, ratio):
        """1.5, 2 or 12: one decimal below 10, none for a whole number."""
        ratio = round(float(ratio), 1 if ratio < 10 else 0)
        digits = 0 if ratio == int(ratio) else 1
        return formatLang(self.env, ratio, digits=digits)

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    def write(self, vals):
        res = super().write(vals)
        if not self.ids:
            return res
        # a write of the stage alone: the moved leads are scored with their
        # move (_get_moved_leads_values_sql), the others keep their inputs
        if HEALTH_SCORE_INPUTS.intersection(vals) - {"stage_id"}:
            if "expected_revenue" in vals:
                # the score counts the lowered amounts in the deal history,
                # which records at commit otherwise
                self.env["crm.lead.deal.history"]._record_pending_changes()
            # after super(): the forecast fields the score reads are written
            # by the same write
            self._refresh_health_scores(SQL("lead.id IN %s", tuple(self.ids)))
        elif HEALTH_SCORE_COMMIT_INPUTS.intersection(vals):
            self._refresh_health_scores_at_commit()
        return res

    def _on_stage_moved(self, previous_stages):
        res = super()._on_stage_moved(previous_stages)
        if not previous_stages:
            # new leads: scored at commit, after their forecast (see
            # crm_lead_forecast.py), which is also refreshed at commit
            self._refresh_health_scores_at_commit()
        return res

    def _refresh_health_scores_at_commit(self):
        """Score the leads of ``self`` just before the transaction commits,
        together with the others queued in the same transaction."""
        lead_ids = self.env.cr.precommit.data.setdefault(
            "sales_pipeline_mgmt.health_score_lead_ids", set()
        )
        if not lead_ids:
            self.env.cr.precommit.add(self._refresh_pending_health_scores)
        lead_ids.update(self.ids)

    def _refresh_pending_health_scores(self):
        lead_ids = self.env.cr.precommit.data.pop(
            "sales_pipeline_mgmt.health_score_lead_ids", set()
        )
        # the score reads the forecast: settle the one still waiting, if any
        self._refresh_pending_historical_forecast()
        existing = self.browse(lead_ids).exists()
        if existing:
            self._refresh_health_scores(SQL("lead.id IN %s", tuple(existing.ids)))

    # ------------------------------------------------------------
    # SCORE
    # ------------------------------------------------------------

    @api.model
    def _get_health_last_contact_sql(self):
        """When the lead (alias ``lead``) was last in contact, as the
        follow-up job reads it: the maintained last contact (creation, last
        stage change, last message, e-mail or activity done)."""
        return SQL("lead.date_last_contact")

    @api.model
    def _get_health_amount_decrease_sql(self):
        """How many times the expected revenue of the lead (alias ``lead``)
        was lowered: the rows of its deal history whose amount is below the
        row before (an index scan on the lead's rows)."""
        return SQL(
            """(SELECT COUNT(*) FROM (
                    SELECT history.expected_revenue < LAG(history.expected_revenue)
                               OVER (ORDER BY history.date_from, history.id)
                               AS is_lowered
                      FROM crm_lead_deal_history history
                     WHERE history.lead_id = lead.id) moves
                 WHERE moves.is_lowered)"""
        )

    @api.model
    def _get_health_score_read_fields(self):
        """The fields of crm.lead _refresh_health_scores reads."""
        return [
            "active",
            "type",
            "stage_id",
            "company_id",
            "create_date",
            "date_last_stage_update",
            "date_last_contact",
            "is_stalled",
            "close_date_slip_count",
            "date_deadline",
            "predicted_close_date",
            "is_close_date_optimistic",
            "skipped_stage_count",
            "historical_probability",
            "health_score",
            "health_score_reasons",
        ]

    @api.model
    def _get_health_signals_sql(self, now, today):
        """One (code, points, figure) triple of SQL expressions per signal, on
        the columns of the CTE ``health_input`` of _refresh_health_scores;
        extend to add a signal (and its words in
        _get_health_score_reason_text)."""
        max_count = HEALTH_SCORE_MAX_COUNT
        return [
            (
                "slow_stage",
                SQL(
                    """CASE WHEN usual_days > 0 AND days_in_stage > usual_days
                       THEN w_slow_stage
                            * LEAST(days_in_stage / usual_days - 1, 1) ELSE 0 END"""
                ),
                SQL("days_in_stage / NULLIF(usual_days, 0)"),
            ),
            (
                "stalled",
                SQL("CASE WHEN is_stalled THEN w_stalled ELSE 0 END"),
                SQL("1"),
            ),
            (
                "close_date_slip",
                SQL("w_close_date_slip * LEAST(slip_count, %s)", max_count),
                SQL("slip_count"),
            ),
            (
                "overdue",
                SQL("CASE WHEN date_deadline < %s THEN w_overdue ELSE 0 END", today),
                SQL("%s - date_deadline", today),
            ),
            (
                "predicted_late",
                SQL(
                    """CASE WHEN is_optimistic AND NOT date_deadline < %s
                       THEN w_predicted_late ELSE 0 END""",
                    today,
                ),
                SQL("predicted_close_date - date_deadline"),
            ),
            (
                "no_contact",
                SQL(
                    """w_no_contact * LEAST(GREATEST(
                           contact_days - contact_days_tolerated, 0)::numeric
                           / contact_days_tolerated, 1)"""
                ),
                SQL("contact_days"),
            ),
            (
                "skipped_stage",
                SQL("w_skipped_stage * LEAST(skipped_count, %s)", max_count),
                SQL("skipped_count"),
            ),
            (
                "amount_decrease",
                SQL("w_amount_decrease * LEAST(decrease_count, %s)", max_count),
                SQL("decrease_count"),
            ),
            (
                "stage_probability",
                SQL("w_stage_probability * (100 - stage_probability) / 100.0"),
                SQL("stage_probability"),
            ),
        ]

    def _flush_health_score_inputs(self):
        """Flush what the score reads besides the leads themselves."""
        company_model = self.env["res.company"]
        self.env["crm.lead.deal.history"].flush_model(
            ["lead_id", "date_from", "expected_revenue"]
        )
        self.env["crm.stage"].flush_model(["is_won", "health_usual_days"])
        company_model.flush_model(company_model._get_health_score_setting_fields())

    @api.model
    def _get_health_value_sql(self, leads, lead_filter, materialized=False):
        """The CTEs ``health_input``, ``health_points`` and ``health_value``:
        the score and reasons of the leads of ``leads`` (a FROM clause with
        the columns of crm_lead the score reads, aliased ``lead``, joined to
        its stage ``stage`` and company ``company``) matching
        ``lead_filter``, one row per lead with its ``id``. The only place
        they are computed.

        :param bool materialized: compute each CTE once rather than inline it,
            for a few leads (inlined, each signal's expression is repeated in
            the total and in the reasons, which costs more to plan than to
            run)"""
        company_model = self.env["res.company"]
        now = self.env.cr.now()
        # the day of the transaction's clock, as the forecast reads it: the
        # user's time zone would cost a query per write
        today = now.date()
        setting = company_model._get_health_score_setting_sql
        weights = SQL(", ").join(
            SQL(
                "%s::numeric AS %s",
                setting(fname),
                SQL.identifier("w_" + fname.removeprefix("health_weight_")),
            )
            for fname in company_model._get_health_score_weight_fields()
        )
        signals = self._get_health_signals_sql(now, today)
        points = SQL(", ").join(
            SQL("ROUND((%s)::numeric)::int AS %s", expr, SQL.identifier(f"p_{code}"))
            for code, expr, _figure in signals
        )
        figures = SQL(", ").join(
            SQL(
                "ROUND((%s)::numeric, 1) AS %s",
                figure,
                SQL.identifier(f"f_{code}"),
            )
            for code, _expr, figure in signals
        )
        total = SQL(" + ").join(SQL.identifier(f"p_{code}") for code, *_ in signals)
        reason_rows = SQL(", ").join(
            SQL(
                "(%s, %s, %s, %s)",
                index,
                code,
                SQL.identifier(f"p_{code}"),
                SQL.identifier(f"f_{code}"),
            )
            for index, (code, *_rest) in enumerate(signals)
        )
        return SQL(
            """
                health_input AS %(materialized)s (
                    SELECT lead.id,
                           %(is_open)s AS is_open,
                           stage.health_usual_days::float8 AS usual_days,
                           EXTRACT(EPOCH FROM %(now)s - COALESCE(
                               lead.date_last_stage_update, lead.create_date))
                               / 86400.0 AS days_in_stage,
                           COALESCE(lead.is_stalled, FALSE) AS is_stalled,
                           COALESCE(lead.close_date_slip_count, 0) AS slip_count,
                           lead.date_deadline,
                           lead.predicted_close_date,
                           COALESCE(lead.is_close_date_optimistic, FALSE)
                               AS is_optimistic,
                           FLOOR(EXTRACT(EPOCH FROM %(now)s - %(last_contact)s)
                                 / 86400.0)::int AS contact_days,
                           %(contact_days_tolerated)s AS contact_days_tolerated,
                           COALESCE(lead.skipped_stage_count, 0) AS skipped_count,
                           %(decrease_count)s AS decrease_count,
                           COALESCE(lead.historical_probability, 100)
                               AS stage_probability,
                           %(weights)s
                      FROM %(leads)s
                     WHERE %(lead_filter)s
                ),
                health_points AS %(materialized)s (
                    SELECT id, is_open, %(points)s, %(figures)s FROM health_input
                ),
                health_value AS (
                    SELECT id,
                           CASE WHEN is_open
                                THEN GREATEST(0, LEAST(100, 100 - (%(total)s)))
                           END AS health_score,
                           CASE WHEN is_open THEN (
                               SELECT COALESCE(jsonb_agg(
                                          jsonb_build_array(code, points, figure)
                                          ORDER BY points DESC, index), '[]'::jsonb)
                                 FROM (VALUES %(reason_rows)s)
                                      AS reason(index, code, points, figure)
                                WHERE points > 0)
                           END AS health_score_reasons
                      FROM health_points
                )
            """,
            is_open=self._get_open_opportunity_sql("lead", "stage"),
            now=now,
            last_contact=self._get_health_last_contact_sql(),
            contact_days_tolerated=setting("health_contact_days"),
            decrease_count=self._get_health_amount_decrease_sql(),
            weights=weights,
            leads=leads,
            lead_filter=lead_filter,
            materialized=SQL("MATERIALIZED" if materialized else ""),
            points=points,
            figures=figures,
            total=total,
            reason_rows=reason_rows,
        )

    @api.model
    def _get_health_leads_sql(self, lead_relation):
        """The FROM clause the score reads leads from: ``lead_relation``
        (aliased ``lead``) joined to the lead's stage and company."""
        return SQL(
            """
                      %s
                      LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                      LEFT JOIN res_company company ON company.id = lead.company_id
            """,
            lead_relation,
        )

    @api.model
    def _refresh_health_scores(self, lead_filter):
        """Score the leads matching ``lead_filter`` (SQL on the alias
        ``lead``) in one UPDATE, the only writer of the score besides a stage
        move (see _get_moved_leads_values_sql): open opportunities get their
        score and reasons, other leads none. Rows whose values do not change
        are not rewritten, so a second run changes nothing.

        :return: number of leads updated
        """
        # only what the statement reads: flushing every field in the middle
        # of crm's own writes (merge) would recompute its probabilities early
        self.flush_model(self._get_health_score_read_fields())
        self._flush_health_score_inputs()
        self.env.cr.execute(
            SQL(
                """
                WITH %(health_value)s
                UPDATE crm_lead lead
                   SET health_score = health_value.health_score,
                       health_score_reasons = health_value.health_score_reasons
                  FROM health_value
                 WHERE lead.id = health_value.id
                   AND %(lead_filter)s
                   AND (lead.health_score, lead.health_score_reasons)
                       IS DISTINCT FROM
                       (health_value.health_score, health_value.health_score_reasons)
                """,
                # materialized: inlined, the amount decreases' subquery runs
                # once per signal expression that reads it (six times a lead).
                # The filter on the updated table too: joined to all of
                # crm_lead, the planner hashes the whole table for a batch
                health_value=self._get_health_value_sql(
                    self._get_health_leads_sql(SQL("crm_lead lead")),
                    lead_filter,
                    materialized=True,
                ),
                lead_filter=lead_filter,
            )
        )
        count = self.env.cr.rowcount
        self.invalidate_model(["health_score", "health_score_reasons"])
        return count

    # ------------------------------------------------------------
    # STAGE MOVE
    # ------------------------------------------------------------

    @api.model
    def _get_moved_lead_input_columns(self):
        return {
            **super()._get_moved_lead_input_columns(),
            "type": "varchar",
            "create_date": "timestamp",
            "date_last_stage_update": "timestamp",
            "date_last_contact": "timestamp",
            "is_stalled": "bool",
            "close_date_slip_count": "int4",
            "skipped_stage_count": "int4",
        }

    @api.model
    def _get_moved_lead_relation_columns(self):
        relation_columns = super()._get_moved_lead_relation_columns()
        company_model = self.env["res.company"]
        stage_fname, stage_columns = relation_columns["stage"]
        company_fname, company_columns = relation_columns["company"]
        return {
            **relation_columns,
            "stage": (stage_fname, {**stage_columns, "health_usual_days": "float8"}),
            "company": (
                company_fname,
                {
                    **company_columns,
                    **{
                        fname: company_model._fields[fname].column_type[1]
                        for fname in company_model._get_health_score_setting_fields()
                    },
                },
            ),
        }

    def _flush_moved_leads_values_inputs(self):
        res = super()._flush_moved_leads_values_inputs()
        self._flush_health_score_inputs()
        return res

    def _get_moved_leads_values_sql(self):
        """Score the moved leads in the statement of their forecast, from
        their new values and the forecast it computes: the score then reaches
        the database with crm's own update of the moved leads, where an
        UPDATE of its own would plan a join over crm_lead and rewrite each
        moved lead's row (the score is indexed) a second time."""
        query, fnames = super()._get_moved_leads_values_sql()
        self._flush_health_score_inputs()
        forecast_columns = (
            "historical_probability",
            "predicted_close_date",
            "is_close_date_optimistic",
        )
        lead_relation = SQL(
            "(SELECT moved.*, %s FROM moved"
            " JOIN forecast_value ON forecast_value.id = moved.id) lead",
            SQL(", ").join(
                SQL.identifier("forecast_value", fname) for fname in forecast_columns
            ),
        )
        return SQL(
            """
            WITH forecast_value AS (%(forecast)s),
            %(health_value)s
            SELECT forecast_value.*, health_value.health_score,
                   health_value.health_score_reasons
              FROM forecast_value
              LEFT JOIN health_value ON health_value.id = forecast_value.id
            """,
            forecast=query,
            health_value=self._get_health_value_sql(
                SQL(
                    "%s %s",
                    lead_relation,
                    self._get_moved_lead_relations_sql(["stage", "company"]),
                ),
                SQL("TRUE"),
                materialized=True,
            ),
        ), [*fnames, "health_score", "health_score_reasons"]

    # ------------------------------------------------------------
    # DAILY JOB
    # ------------------------------------------------------------

    @api.model
    def _get_health_score_batch_size(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("sales_pipeline_mgmt.health_score_batch_size")
        )
        try:
            return max(int(value), 1) if value else 5000
        except ValueError:
            return 5000

    @api.model
    def _cron_refresh_health_scores(self):
        # the cursor lives on the cron's progress records rather than in a
        # system parameter: writing a parameter clears the registry's caches
        # in every worker, once per batch
        progress = (
            self.env["ir.cron.progress"]
            .sudo()
            .browse(self.env.context.get("ir_cron_progress_id"))
        )
        result = self._refresh_health_score_batch(
            cursor=self._get_health_score_cursor(progress)
        )
        if progress:
            # -1: the pass is complete, the next call starts a new one
            progress.write({"pipeline_health_after_id": result["cursor"] or -1})
        self.env["ir.cron"]._notify_progress(
            done=result["done"], remaining=result["remaining"]
        )

    @api.model
    def _get_health_score_cursor(self, progress):
        """The id after which the job of ``progress`` resumes: the cursor of
        its last batch that completed (a batch that crashed left its progress
        record without one); 0 to start a new pass."""
        if not progress:
            return 0
        return max(progress._get_last_completed_batch().pipeline_health_after_id, 0)

    @api.model
    def _refresh_health_score_batch(self, batch_size=None, cursor=0):
        """Score one batch of the leads that have or should have a score (open
        opportunities, and leads scored before they closed), in id order after
        ``cursor`` (the id the previous batch ended on, 0 to start a pass).
        The first batch of a pass measures the stages' usual time first. A
        batch that fails is scored lead by lead; a failing lead is logged and
        skipped.

        :return: dict with done (leads scored), updated (leads whose score
            changed), failed, remaining, cursor (where the next batch starts;
            0 once the pass is complete)
        """
        batch_size = batch_size or self._get_health_score_batch_size()
        if not cursor:
            self.env["crm.stage"]._refresh_health_usual_days()
        self.flush_model(["active", "type", "stage_id", "health_score"])
        self.env["crm.stage"].flush_model(["is_won"])
        candidates = SQL(
            """
              FROM crm_lead lead
              LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
             WHERE lead.id > %(cursor)s
               AND (%(is_open)s OR lead.health_score IS NOT NULL)
            """,
            cursor=cursor,
            is_open=self._get_open_opportunity_sql("lead", "stage"),
        )
        self.env.cr.execute(
            SQL(
                "SELECT lead.id %s ORDER BY lead.id LIMIT %s",
                candidates,
                batch_size,
            )
        )
        lead_ids = [row[0] for row in self.env.cr.fetchall()]
        updated, failed, busy = self._refresh_health_scores_safely(lead_ids)
        if len(lead_ids) < batch_size:
            remaining = next_cursor = 0
        else:
            next_cursor = lead_ids[-1]
            self.env.cr.execute(
                SQL(
                    """SELECT COUNT(*)
                         FROM crm_lead lead
                         LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                        WHERE lead.id > %(cursor)s
                          AND (%(is_open)s OR lead.health_score IS NOT NULL)""",
                    cursor=next_cursor,
                    is_open=self._get_open_opportunity_sql("lead", "stage"),
                )
            )
            remaining = self.env.cr.fetchone()[0]
            if not remaining:
                # the pass is complete: the next run starts a new one rather
                # than an empty batch that would end it
                next_cursor = 0
        _logger.info(
            "Health score: %s leads scored (%s changed, %s busy), %s failed, "
            "%s remaining",
            len(lead_ids) - failed,
            updated,
            busy,
            failed,
            remaining,
        )
        return {
            "done": len(lead_ids) - failed,
            "updated": updated,
            "busy": busy,
            "failed": failed,
            "remaining": remaining,
            "cursor": next_cursor,
        }

    @api.model
    def _get_health_score_changed_ids(self, lead_ids):
        """The ids of ``lead_ids`` whose stored score or reasons differ from
        the ones computed now, read without locking anything."""
        self.flush_model(self._get_health_score_read_fields())
        self._flush_health_score_inputs()
        lead_filter = SQL("lead.id IN %s", tuple(lead_ids))
        self.env.cr.execute(
            SQL(
                """
                WITH %(health_value)s
                SELECT lead.id
                  FROM crm_lead lead
                  JOIN health_value ON health_value.id = lead.id
                 WHERE %(lead_filter)s
                   AND (lead.health_score, lead.health_score_reasons)
                       IS DISTINCT FROM
                       (health_value.health_score, health_value.health_score_reasons)
                 ORDER BY lead.id
                """,
                health_value=self._get_health_value_sql(
                    self._get_health_leads_sql(SQL("crm_lead lead")),
                    lead_filter,
                    materialized=True,
                ),
                lead_filter=lead_filter,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _refresh_health_scores_safely(self, lead_ids):
        """Score ``lead_ids`` without waiting on, nor holding up, the users
        who are moving some of them: only the leads whose score changes are
        locked (``FOR NO KEY UPDATE SKIP LOCKED``) and rewritten; a lead
        another transaction holds, or changed since this one began (a stage
        move, which scores the lead in its own statement), is left alone
        and counted busy, for the next pass. If the batch fails, its leads
        are scored one by one.

        :return: (leads updated, leads that failed, leads busy)
        """
        if not lead_ids:
            return 0, 0, 0
        try:
            with self.env.cr.savepoint():
                changed_ids = self._get_health_score_changed_ids(lead_ids)
                locked_ids = self._lock_pipeline_health_leads(changed_ids)
                updated = (
                    self._refresh_health_scores(
                        SQL("lead.id IN %s", tuple(sorted(locked_ids)))
                    )
                    if locked_ids
                    else 0
                )
                return updated, 0, len(changed_ids) - len(locked_ids)
        except Exception:  # noqa: BLE001 - retried lead per lead below
            _logger.info("Health score: batch failed, retrying lead per lead")
        updated = failed = busy = 0
        for lead_id in lead_ids:
            try:
                with self.env.cr.savepoint():
                    if not self._lock_pipeline_health_leads([lead_id]):
                        busy += 1
                        continue
                    updated += self._refresh_health_scores(SQL("lead.id = %s", lead_id))
            except Exception:  # a bad record never blocks the rest
                failed += 1
                _logger.warning("Health score: lead %s skipped", lead_id, exc_info=True)
        return updated, failed, busy

    # ------------------------------------------------------------
    # DEALS AT RISK
    # ------------------------------------------------------------

    @api.model
    def _get_deals_at_risk_domain(self, team_ids=None, user_id=None):
        domain = [
            *self._get_open_opportunity_domain(),
            ("health_score", "!=", False),
        ]
        if team_ids:
            domain.append(("team_id", "in", list(team_ids)))
        if user_id:
            domain.append(("user_id", "=", user_id))
        return domain

    @api.model
    @api.readonly
    def get_deals_at_risk(self, team_ids=None, user_id=None, limit=10):
        """The open opportunities the user may read with the lowest health
        score (the largest expected revenue first among equal scores), for the
        Deals at Risk section of the Pipeline Dashboard and the digest.

        :param list team_ids: only these teams (all when empty)
        :param int user_id: only this salesperson (all when empty)
        :param int limit: how many deals, 1 to 100
        :return: dict with ``deals`` (list of dicts: id, name, partner, stage,
            salesperson, expected_revenue, score, band, reasons),
            ``at_risk_count`` (deals of the selection below the at-risk band)
            and ``currency_id``
        :raise UserError: naming the argument that is wrong
        """
        limit = self._check_pipeline_api_integer("limit", limit, 1, 100)
        team_ids = self._check_pipeline_api_ids("team_ids", team_ids, "crm.team")
        user_id = self._check_pipeline_api_id("user_id", user_id, "res.users")
        domain = self._get_deals_at_risk_domain(team_ids, user_id)
        leads = self.search(
            domain, order="health_score, expected_revenue desc, id", limit=limit
        )
        at_risk_count = self.search_count(
            [*domain, ("health_score", "<", HEALTH_SCORE_AT_RISK)]
        )
        return {
            "deals": [
                {
                    "id": lead.id,
                    "name": lead.name,
                    "partner": lead.partner_id.display_name or "",
                    "stage": lead.stage_id.name or "",
                    "salesperson": lead.user_id.name or "",
                    "expected_revenue": lead.expected_revenue,
                    "score": lead.health_score,
                    "band": lead.health_score_band,
                    "reasons": lead.health_score_summary,
                }
                for lead in leads
            ],
            "at_risk_count": at_risk_count,
            "at_risk_threshold": HEALTH_SCORE_AT_RISK,
            "currency_id": self.env.company.currency_id.id,
        }

    @api.model
    def action_open_deals_at_risk(self):
        """The Deals at Risk list (window action), for the dashboard's link."""
        return self.env["ir.actions.act_window"]._for_xml_id(
            "sales_pipeline_mgmt.crm_lead_action_deals_at_risk"
        )
