# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from datetime import UTC, date, datetime, time

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

_logger = logging.getLogger(__name__)


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # Standard process
    standard_stage_id = fields.Many2one(
        related="stage_id.standard_stage_id",
        store=True,
        index="btree_not_null",
    )
    standard_stage_description = fields.Text(
        related="stage_id.standard_stage_id.description",
        string="Stage Guidance",
    )
    # Stage history
    stage_history_ids = fields.One2many(
        "crm.lead.stage.history", "lead_id", readonly=True
    )
    days_in_stage = fields.Float(
        string="Days in Stage",
        compute="_compute_days_in_stage",
        help="Days since the lead entered its current stage (hours / 24).",
    )
    skipped_stage_count = fields.Integer(
        string="Skipped Stages",
        readonly=True,
        default=0,
        copy=False,
        help="Total number of pipeline stages this lead jumped over when moving "
        "forward, over its whole stage history.",
    )
    backward_move_count = fields.Integer(
        string="Backward Moves",
        readonly=True,
        default=0,
        copy=False,
        help="Number of times this lead was moved back to an earlier stage.",
    )

    def _auto_init(self):
        # Created here, before the ORM sees the fields, so that installing on a
        # large database does not recompute every lead in Python: the columns
        # are filled in SQL by the install hook (see hooks.py).
        cr = self.env.cr
        if not column_exists(cr, "crm_lead", "standard_stage_id"):
            create_column(cr, "crm_lead", "standard_stage_id", "int4")
        for column in ("skipped_stage_count", "backward_move_count"):
            if not column_exists(cr, "crm_lead", column):
                # a constant default fills existing rows without rewriting them
                cr.execute(
                    SQL(
                        "ALTER TABLE crm_lead ADD COLUMN %s int4 DEFAULT 0",
                        SQL.identifier(column),
                    )
                )
        return super()._auto_init()

    @api.depends("date_last_stage_update")
    def _compute_days_in_stage(self):
        now = self.env.cr.now()
        for lead in self:
            since = lead.date_last_stage_update or lead.create_date
            lead.days_in_stage = (
                (now - since).total_seconds() / 86400.0 if since else 0.0
            )

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        staged_leads = leads.filtered("stage_id")
        if staged_leads:
            staged_leads._record_stage_moves({})
        return leads

    def write(self, vals):
        if "stage_id" not in vals:
            return super().write(vals)
        new_stage_id = vals["stage_id"] or False
        # Same test as crm's own write (date_last_stage_update): only leads
        # whose stage really changes start a new stay. The stages are already
        # in cache for crm's check, so this costs no query.
        moving_leads = self.filtered(lambda lead: lead.stage_id.id != new_stage_id)
        if not moving_leads:
            return super().write(vals)
        previous_stages = {lead.id: lead.stage_id for lead in moving_leads}
        if new_stage_id:
            moving_leads._check_stage_moves(
                self.env["crm.stage"].browse(new_stage_id), previous_stages
            )
        res = super().write(vals)
        moving_leads._record_stage_moves(previous_stages)
        return res

    # ------------------------------------------------------------
    # STAGE HISTORY
    # ------------------------------------------------------------

    def _check_stage_moves(self, new_stage, previous_stages):
        """Hook called before leads move to ``new_stage``; raise to refuse the
        move. ``previous_stages`` maps lead ids to their current stage."""
        return True

    def _get_pipeline_stage_keys(self):
        """Return {stage id: (sequence, id, team id, standard stage id)} for
        every stage; (sequence, id) is the order in which pipelines show them.
        Cached per registry: crm.stage clears the cache when stages change."""
        return self.env["crm.stage"]._get_pipeline_stage_keys()

    def _classify_stage_move(self, previous_stage, new_stage, stage_keys):
        """Return (move_type, skipped_stage_count) of this lead moving from
        ``previous_stage`` (may be empty) to ``new_stage``."""
        self.ensure_one()
        if not previous_stage:
            return "initial", 0
        old_key = stage_keys[previous_stage.id][:2]
        new_key = stage_keys[new_stage.id][:2]
        if new_key < old_key:
            return "backward", 0
        team_id = self.team_id.id
        skipped = sum(
            1
            for sequence, stage_id, stage_team_id, _standard_id in stage_keys.values()
            if (not stage_team_id or stage_team_id == team_id)
            and old_key < (sequence, stage_id) < new_key
        )
        return ("skip" if skipped else "forward"), skipped

    def _prepare_stage_history_values(
        self, previous_stage, move_type, skipped, now, stage_keys
    ):
        self.ensure_one()
        return {
            "lead_id": self.id,
            "stage_id": self.stage_id.id,
            # given rather than recomputed by the ORM: saves a query per write
            "standard_stage_id": stage_keys[self.stage_id.id][3],
            "previous_stage_id": previous_stage.id or False,
            "date_in": now,
            "user_id": self.user_id.id,
            "team_id": self.team_id.id,
            "company_id": self.company_id.id,
            "move_type": move_type,
            "skipped_stage_count": skipped,
        }

    def _record_stage_moves(self, previous_stages):
        """Close the current stay of each lead of ``self`` and open a new one in
        its (new) stage, in a constant number of queries.

        :param dict previous_stages: lead id -> crm.stage the lead just left;
            missing or empty for leads that get their first stage.
        """
        now = self.env.cr.now()
        # History rows are written by the addon only (users have read access):
        # the rows describe the moves the current user was allowed to make.
        history_model = self.env["crm.lead.stage.history"].sudo()
        if any(previous_stages.values()):
            history_model.flush_model(["date_out", "duration_days"])
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE crm_lead_stage_history
                       SET date_out = %(now)s,
                           duration_days = GREATEST(
                               EXTRACT(EPOCH FROM (%(now)s - date_in)) / 86400.0, 0)
                     WHERE lead_id IN %(lead_ids)s
                       AND date_out IS NULL
                    """,
                    now=now,
                    lead_ids=tuple(self.ids),
                )
            )
            history_model.invalidate_model(["date_out", "duration_days"])
        stage_keys = self._get_pipeline_stage_keys()
        vals_list = []
        counters = []
        # a lead whose stage is emptied only ends its stay
        for lead in self.filtered("stage_id"):
            previous_stage = previous_stages.get(lead.id) or self.env["crm.stage"]
            move_type, skipped = lead._classify_stage_move(
                previous_stage, lead.stage_id, stage_keys
            )
            vals_list.append(
                lead._prepare_stage_history_values(
                    previous_stage, move_type, skipped, now, stage_keys
                )
            )
            if skipped or move_type == "backward":
                counters.append((lead.id, skipped, int(move_type == "backward")))
        if vals_list:
            history_model.create(vals_list)
        if counters:
            self._increment_move_counters(counters)
        return vals_list

    def _increment_move_counters(self, counters):
        """Add skipped stages and backward moves to the leads' totals in one
        query. ``counters`` is a list of (lead id, skipped, backward)."""
        self.flush_model(["skipped_stage_count", "backward_move_count"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead
                   SET skipped_stage_count = COALESCE(crm_lead.skipped_stage_count, 0)
                                             + moves.skipped,
                       backward_move_count = COALESCE(crm_lead.backward_move_count, 0)
                                             + moves.backward
                  FROM (VALUES %s) AS moves(lead_id, skipped, backward)
                 WHERE crm_lead.id = moves.lead_id
                """,
                SQL(", ").join(
                    SQL("(%s, %s, %s)", lead_id, skipped, backward)
                    for lead_id, skipped, backward in counters
                ),
            )
        )
        self.invalidate_model(["skipped_stage_count", "backward_move_count"])

    # ------------------------------------------------------------
    # PIPELINE KPIS
    # ------------------------------------------------------------

    @api.model
    def get_pipeline_kpis(self, domain=None, date_from=None, date_to=None):
        """Return the seven pipeline KPIs of the leads matching ``domain`` that
        the current user can read (archived ones included), for the period
        [date_from, date_to) (dates or UTC datetimes; None leaves that end
        open). A rate or mean over an empty population is None.

        :return dict: leads_by_source_month (list of dicts with source_id, an
            id or False, month "YYYY-MM" and count), lead_to_opportunity_rate,
            opportunity_win_rate, win_percentage (percent), avg_days_to_win,
            avg_sales_cycle_days (fractional days), open_opportunity_count.
        """
        return self._read_pipeline_kpis(domain, date_from, date_to)[0]

    @api.model
    def _read_pipeline_kpis(self, domain=None, date_from=None, date_to=None):
        """(the seven KPIs, the figures they come from) in two queries; the
        figures also feed the sales velocity (see _get_sales_velocity)."""
        figures = self._read_pipeline_figures(domain, date_from, date_to)[False]
        kpis = {
            "leads_by_source_month": self._read_leads_by_source_month(
                domain, date_from, date_to
            ),
            "lead_to_opportunity_rate": self._pipeline_rate(
                figures["converted_count"], figures["started_as_lead_count"]
            ),
            "opportunity_win_rate": self._pipeline_rate(
                figures["opened_won_count"], figures["opened_count"]
            ),
            "win_percentage": self._pipeline_rate(
                figures["won_count"], figures["closed_count"]
            ),
            "avg_days_to_win": figures["avg_days_to_win"],
            "avg_sales_cycle_days": figures["avg_sales_cycle_days"],
            "open_opportunity_count": figures["open_count"],
        }
        return kpis, figures

    @api.model
    def _pipeline_rate(self, part, whole):
        return 100.0 * part / whole if whole else None

    @api.model
    def _get_pipeline_kpi_query(self, domain=None):
        """The population of the KPIs as a Query: the leads of ``domain`` the
        user may read, archived ones included (record rules apply)."""
        self.flush_model()
        self.env["crm.stage"].flush_model(["is_won"])
        return self.with_context(active_test=False)._search(domain or [])

    @api.model
    def _pipeline_period_sql(self, column, date_from, date_to):
        """SQL condition ``column`` in [date_from, date_to); TRUE if open."""
        conditions = [SQL("TRUE")]
        if date_from:
            conditions.append(SQL("%s >= %s", column, self._pipeline_bound(date_from)))
        if date_to:
            conditions.append(SQL("%s < %s", column, self._pipeline_bound(date_to)))
        return SQL("(%s)", SQL(" AND ").join(conditions))

    @api.model
    def _pipeline_bound(self, value):
        if isinstance(value, str):
            value = fields.Datetime.to_datetime(value)
        elif isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time.min)
        # aware datetimes are converted to UTC, the database's naive timezone
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value

    @api.model
    def _pipeline_state_sql(self):
        """(won, lost) SQL conditions on the aliases ``lead`` and ``stage``."""
        won = SQL("(lead.active AND stage.is_won IS TRUE AND lead.probability = 100)")
        lost = SQL("(NOT lead.active AND lead.probability = 0)")
        return won, lost

    @api.model
    def _read_pipeline_figures(
        self, domain=None, date_from=None, date_to=None, groupby=None
    ):
        """Counts and means behind the KPIs, the team dashboard and the sales
        velocity, in one query: {group id or False: {figure: value}}.

        :param str groupby: None (one group, key False), "team_id" or "user_id"
        """
        assert groupby in (None, "team_id", "user_id")
        query = self._get_pipeline_kpi_query(domain)
        won, lost = self._pipeline_state_sql()
        is_opportunity = SQL("lead.type = 'opportunity'")
        created = self._pipeline_period_sql(SQL("lead.create_date"), date_from, date_to)
        opened = self._pipeline_period_sql(
            SQL("COALESCE(lead.date_conversion, lead.create_date)"),
            date_from,
            date_to,
        )
        closed = self._pipeline_period_sql(SQL("lead.date_closed"), date_from, date_to)
        won_in_period = SQL("(%s AND %s AND %s)", is_opportunity, closed, won)
        closed_in_period = SQL(
            "(%s AND %s AND (%s OR %s))", is_opportunity, closed, won, lost
        )
        group_key = (
            SQL("lead.%s", SQL.identifier(groupby)) if groupby else SQL("NULL::int4")
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT %(group_key)s AS group_key,
                       COUNT(*) FILTER (WHERE %(created)s AND (lead.type = 'lead'
                                        OR lead.date_conversion IS NOT NULL)),
                       COUNT(*) FILTER (WHERE %(created)s
                                        AND lead.date_conversion IS NOT NULL),
                       COUNT(*) FILTER (WHERE %(is_opp)s AND %(opened)s),
                       COUNT(*) FILTER (WHERE %(is_opp)s AND %(opened)s AND %(won)s),
                       COUNT(*) FILTER (WHERE %(closed_in)s),
                       COUNT(*) FILTER (WHERE %(won_in)s),
                       AVG(EXTRACT(EPOCH FROM lead.date_closed - COALESCE(
                           lead.date_conversion, lead.create_date)) / 86400.0)
                           FILTER (WHERE %(won_in)s),
                       AVG(EXTRACT(EPOCH FROM lead.date_closed - lead.create_date)
                           / 86400.0) FILTER (WHERE %(closed_in)s),
                       AVG(lead.expected_revenue) FILTER (WHERE %(won_in)s),
                       COUNT(*) FILTER (WHERE %(is_opp)s AND lead.active
                                        AND NOT %(won)s),
                       SUM(lead.expected_revenue) FILTER (WHERE %(is_opp)s
                                        AND lead.active AND NOT %(won)s)
                  FROM crm_lead lead
                  LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE lead.id IN %(population)s
                 GROUP BY 1
                """,
                group_key=group_key,
                created=created,
                opened=opened,
                is_opp=is_opportunity,
                won=won,
                won_in=won_in_period,
                closed_in=closed_in_period,
                population=query.subselect(),
            )
        )
        names = (
            "started_as_lead_count",
            "converted_count",
            "opened_count",
            "opened_won_count",
            "closed_count",
            "won_count",
            "avg_days_to_win",
            "avg_sales_cycle_days",
            "avg_won_revenue",
            "open_count",
            "open_revenue",
        )
        result = {}
        for group_key_value, *values in self.env.cr.fetchall():
            figures = dict(zip(names, values, strict=True))
            for fname in ("avg_days_to_win", "avg_sales_cycle_days", "avg_won_revenue"):
                if figures[fname] is not None:
                    figures[fname] = float(figures[fname])
            figures["open_revenue"] = float(figures["open_revenue"] or 0.0)
            result[group_key_value or False] = figures
        if not groupby and False not in result:
            result[False] = self._empty_pipeline_figures()
        return result

    @api.model
    def _empty_pipeline_figures(self):
        return (
            dict.fromkeys(
                ("avg_days_to_win", "avg_sales_cycle_days", "avg_won_revenue")
            )
            | dict.fromkeys(
                (
                    "started_as_lead_count",
                    "converted_count",
                    "opened_count",
                    "opened_won_count",
                    "closed_count",
                    "won_count",
                    "open_count",
                ),
                0,
            )
            | {"open_revenue": 0.0}
        )

    @api.model
    def _read_leads_by_source_month(self, domain=None, date_from=None, date_to=None):
        """Leads created in the period per UTM source and month of creation
        (UTC), in one query; leads without a source form their own group."""
        query = self._get_pipeline_kpi_query(domain)
        self.env.cr.execute(
            SQL(
                """
                SELECT lead.source_id,
                       TO_CHAR(DATE_TRUNC('month', lead.create_date), 'YYYY-MM'),
                       COUNT(*)
                  FROM crm_lead lead
                 WHERE lead.id IN %s AND %s
                 GROUP BY 1, 2
                 ORDER BY 2, 1 NULLS FIRST
                """,
                query.subselect(),
                self._pipeline_period_sql(SQL("lead.create_date"), date_from, date_to),
            )
        )
        return [
            {"source_id": source_id or False, "month": month, "count": count}
            for source_id, month, count in self.env.cr.fetchall()
        ]

    @api.model
    def _get_sales_velocity(self, figures):
        """Sales velocity (revenue per day) from pipeline figures: open
        opportunities x average won deal value x win percentage / average days
        to win. None when an input is missing or the days to win are 0."""
        win_percentage = self._pipeline_rate(
            figures["won_count"], figures["closed_count"]
        )
        inputs = (
            figures["avg_won_revenue"],
            win_percentage,
            figures["avg_days_to_win"],
        )
        if any(value is None for value in inputs) or not figures["avg_days_to_win"]:
            return None
        return (
            figures["open_count"]
            * figures["avg_won_revenue"]
            * win_percentage
            / 100.0
            / figures["avg_days_to_win"]
        )
