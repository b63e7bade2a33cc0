# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from datetime import UTC, date, datetime, time, timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

_logger = logging.getLogger(__name__)

HISTORICAL_LEVELS = [
    ("team", "Team"),
    ("company", "All Teams"),
    ("lead", "Lead's Own Probability"),
]


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
        "crm.lead.stage.history",
        "lead_id",
        readonly=True,
        help="Every stay of the lead in a stage: when it entered, when it left, how "
        "long it stayed and how it arrived.",
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
    # Forecast: plain stored columns refreshed in SQL by
    # _refresh_historical_forecast, so that pivots sum them and filters search them
    date_deadline = fields.Date(tracking=True)
    close_date_slip_count = fields.Integer(
        string="Close Date Slips",
        readonly=True,
        default=0,
        copy=False,
        help="Number of times the expected closing date was moved later.",
    )
    historical_probability = fields.Float(
        readonly=True,
        copy=False,
        aggregator="avg",
        help="Share of won leads, in percent, among the closed leads that were in "
        "this stage during the history window: the lead's team first, then all "
        "teams of the company, then the lead's own probability when the sample "
        "is too small.",
    )
    historical_sample_size = fields.Integer(
        string="Historical Sample",
        readonly=True,
        copy=False,
        aggregator=None,
        help="Number of closed leads behind the historical probability; at the "
        "'lead's own probability' level, the number of closed leads found for all "
        "teams, below the minimum sample.",
    )
    historical_level = fields.Selection(
        HISTORICAL_LEVELS,
        readonly=True,
        copy=False,
        help="Which history the historical probability comes from. Team: the "
        "closed leads of the lead's team that were in its stage, when they reach "
        "the minimum sample. All Teams: those of every team of the company, when "
        "the team's sample is too small. Lead's Own Probability: neither sample "
        "is large enough, so Odoo's probability of the lead is used.",
    )
    historical_revenue = fields.Monetary(
        currency_field="company_currency",
        compute="_compute_historical_revenue",
        store=True,
        copy=False,
        help="Expected revenue x historical probability / 100.",
    )
    expected_deal_count = fields.Float(
        string="Expected Deals",
        compute="_compute_historical_revenue",
        store=True,
        copy=False,
        help="Historical probability / 100: summed, the number of deals expected "
        "to close.",
    )
    best_case_revenue = fields.Monetary(
        currency_field="company_currency",
        compute="_compute_best_case_revenue",
        store=True,
        copy=False,
        help="Expected revenue of the deals in the Decision standard stage or later.",
    )
    predicted_close_date = fields.Date(
        string="Predicted Closing",
        readonly=True,
        copy=False,
        help="Today + the median number of days the won leads of the same history "
        "took to be won after entering this stage. The expected closing date when "
        "there is no such history.",
    )
    is_close_date_optimistic = fields.Boolean(
        string="Optimistic Close Date",
        compute="_compute_is_close_date_optimistic",
        store=True,
        copy=False,
        help="The expected closing date is earlier than the predicted closing by "
        "more than the margin set in the settings.",
    )

    # Pipeline health
    is_stalled = fields.Boolean(
        string="Stalled",
        readonly=True,
        copy=False,
        help="Set by the stall detection job when the opportunity stays in its "
        "stage longer than the stage allows; cleared when it changes stage.",
    )
    stalled_since = fields.Datetime(
        readonly=True,
        copy=False,
        help="When the current stay went past its stage's stall threshold (set by the "
        "stall detection, cleared by a stage change).",
    )
    stalled_count = fields.Integer(
        string="# Stalled",
        readonly=True,
        copy=False,
        default=0,
        aggregator="sum",
        help="1 when the opportunity is stalled: summed in pipeline columns.",
    )
    stall_escalated_on = fields.Datetime(
        readonly=True,
        copy=False,
        help="When the team leader was warned that the opportunity stays stalled past "
        "twice its stage's threshold.",
    )
    pipeline_pause_until = fields.Date(
        string="Pause Reminders Until",
        copy=False,
        tracking=True,
        help="Until this date (excluded), no follow-up activity is planned and "
        "stall detection ignores this opportunity. The pause ends by itself.",
    )
    pipeline_pause_reason = fields.Char(
        string="Pause Reason",
        copy=False,
        help="Why reminders are paused, e.g. customer on holiday until the 15th.",
    )
    is_pipeline_paused = fields.Boolean(
        string="Reminders Paused",
        compute="_compute_is_pipeline_paused",
        help="Follow-ups and stall detection leave this lead alone until the pause "
        "date.",
    )
    is_user_overloaded = fields.Boolean(
        string="Overloaded Salesperson",
        compute="_compute_is_user_overloaded",
        search="_search_is_user_overloaded",
        help="The salesperson has more open opportunities in this team than the "
        "team allows.",
    )

    def _auto_init(self):
        # Created here, before the ORM sees the fields, so that installing on a
        # large database does not recompute every lead in Python: the columns
        # are filled in SQL by the install hook (see hooks.py).
        cr = self.env.cr
        # Statistics of the historical forecast, kept by its full refresh and
        # read when single leads are refreshed (see
        # _get_forecast_statistics_sql): a cache, not a model; dropped on
        # uninstall (hooks.py).
        cr.execute(
            SQL(
                """
                CREATE TABLE IF NOT EXISTS crm_lead_forecast_stat (
                    company_id int4,
                    team_id int4,
                    stage_id int4 NOT NULL,
                    sample_size int4 NOT NULL,
                    won_count int4 NOT NULL,
                    median_days float8
                )
                """
            )
        )
        if not column_exists(cr, "crm_lead", "standard_stage_id"):
            create_column(cr, "crm_lead", "standard_stage_id", "int4")
        for column, column_type in (
            ("is_stalled", "bool"),
            ("stalled_since", "timestamp"),
            ("stall_escalated_on", "timestamp"),
        ):
            # pipeline health columns start empty: no lead is stalled yet
            if not column_exists(cr, "crm_lead", column):
                create_column(cr, "crm_lead", column, column_type)
        for column in ("skipped_stage_count", "backward_move_count", "stalled_count"):
            if not column_exists(cr, "crm_lead", column):
                # a constant default fills existing rows without rewriting them
                cr.execute(
                    SQL(
                        "ALTER TABLE crm_lead ADD COLUMN %s int4 DEFAULT 0",
                        SQL.identifier(column),
                    )
                )
        # Forecast columns: filled in SQL by _refresh_historical_forecast (install
        # hook and cron) rather than by a per-lead recompute at install
        for column, column_type in self._get_forecast_columns().items():
            if not column_exists(cr, "crm_lead", column):
                create_column(cr, "crm_lead", column, column_type)
        if not column_exists(cr, "crm_lead", "close_date_slip_count"):
            cr.execute(
                SQL(
                    "ALTER TABLE crm_lead"
                    " ADD COLUMN close_date_slip_count int4 DEFAULT 0"
                )
            )
        return super()._auto_init()

    @api.model
    def _get_forecast_columns(self):
        return {
            "historical_probability": "float8",
            "historical_sample_size": "int4",
            "historical_level": "varchar",
            "historical_revenue": "numeric",
            "expected_deal_count": "float8",
            "best_case_revenue": "numeric",
            "predicted_close_date": "date",
            "is_close_date_optimistic": "bool",
        }

    @api.depends("date_last_stage_update")
    def _compute_days_in_stage(self):
        now = self.env.cr.now()
        for lead in self:
            since = lead.date_last_stage_update or lead.create_date
            lead.days_in_stage = (
                (now - since).total_seconds() / 86400.0 if since else 0.0
            )

    @api.depends("expected_revenue", "historical_probability")
    def _compute_historical_revenue(self):
        for lead in self:
            probability = lead.historical_probability or 0.0
            lead.historical_revenue = round(
                (lead.expected_revenue or 0.0) * probability / 100.0, 2
            )
            lead.expected_deal_count = probability / 100.0

    @api.depends("expected_revenue", "standard_stage_id")
    def _compute_best_case_revenue(self):
        best_case_stage = self._get_best_case_standard_stage()
        threshold = best_case_stage.sequence
        for lead in self:
            in_best_case = (
                best_case_stage
                and lead.standard_stage_id
                and lead.standard_stage_id.sequence >= threshold
            )
            lead.best_case_revenue = lead.expected_revenue if in_best_case else 0.0

    @api.depends("active", "stage_id", "date_deadline", "predicted_close_date")
    def _compute_is_close_date_optimistic(self):
        for lead in self:
            margin = lead.company_id.forecast_optimistic_margin_days or 14
            lead.is_close_date_optimistic = bool(
                lead.active
                and not lead.stage_id.is_won
                and lead.date_deadline
                and lead.predicted_close_date
                and (lead.predicted_close_date - lead.date_deadline).days > margin
            )

    @api.depends("pipeline_pause_until")
    def _compute_is_pipeline_paused(self):
        today = fields.Date.context_today(self)
        for lead in self:
            lead.is_pipeline_paused = bool(
                lead.pipeline_pause_until and lead.pipeline_pause_until > today
            )

    @api.depends("user_id", "team_id", "stage_id", "active", "type")
    def _compute_is_user_overloaded(self):
        overloaded = {
            (team.id, user.id)
            for team, users in self.env["crm.team"]._get_overloaded_users().items()
            for user, _count, _limit in users
        }
        for lead in self:
            lead.is_user_overloaded = bool(
                lead._is_open_opportunity()
                and (lead.team_id.id, lead.user_id.id) in overloaded
            )

    def _search_is_user_overloaded(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on Overloaded Salesperson."))
        pairs = [
            [("team_id", "=", team.id), ("user_id", "=", user.id)]
            for team, users in self.env["crm.team"]._get_overloaded_users().items()
            for user, _count, _limit in users
        ]
        domain = (
            expression.AND([self._get_open_opportunity_domain(), expression.OR(pairs)])
            if pairs
            else expression.FALSE_DOMAIN
        )
        if (operator == "=") != value:
            return ["!", *domain] if pairs else expression.TRUE_DOMAIN
        return domain

    @api.model
    def _get_open_opportunity_domain(self):
        """Open opportunity: active, an opportunity, not in a won stage."""
        return [
            ("active", "=", True),
            ("type", "=", "opportunity"),
            ("stage_id.is_won", "=", False),
        ]

    def _is_open_opportunity(self):
        self.ensure_one()
        return self.active and self.type == "opportunity" and not self.stage_id.is_won

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        staged_leads = leads.filtered("stage_id")
        if staged_leads:
            staged_leads._record_stage_moves({})
            staged_leads._refresh_historical_forecast_at_commit()
        return leads

    def write(self, vals):
        if "date_deadline" in vals:
            self._count_close_date_slips(vals["date_deadline"])
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
            # the values written with the stage count for the exit criteria
            moving_leads.with_context(
                sales_pipeline_mgmt_written_fields={
                    fname: bool(value) for fname, value in vals.items()
                }
            )._check_stage_moves(
                self.env["crm.stage"].browse(new_stage_id), previous_stages
            )
        # read before the write, from the cache crm's own check filled
        stalled_leads = moving_leads.filtered("is_stalled")
        res = super().write(vals)
        history_vals = moving_leads._record_stage_moves(previous_stages)
        # forecast of the moved leads at once, in one query
        moving_leads._refresh_historical_forecast(moving_leads.ids)
        if stalled_leads:
            stalled_leads._reset_stall()
        if any(values["move_type"] == "skip" for values in history_vals):
            moving_leads._log_skipped_stages(previous_stages)
        return res

    # ------------------------------------------------------------
    # STAGE HISTORY
    # ------------------------------------------------------------

    def _check_stage_moves(self, new_stage, previous_stages):
        """Hook called before leads move to ``new_stage``; raise to refuse the
        move. ``previous_stages`` maps lead ids to their current stage.

        Refuses, in one message naming every offending lead, a move into a
        stage whose required fields are empty, and a forward move past a
        stage that cannot be skipped and that the lead has never been in.
        Both rules are read from caches: with the defaults this costs no
        query."""
        errors = self._get_exit_criteria_errors(new_stage)
        errors += self._get_forbidden_skip_errors(new_stage, previous_stages)
        if errors:
            raise UserError("\n".join(errors))
        return True

    def _get_exit_criteria_errors(self, new_stage):
        """Return one message per lead of ``self`` that misses a field
        required by ``new_stage``."""
        field_names = [
            fname
            for fname in self.env["crm.stage"]
            ._get_required_field_names()
            .get(new_stage.id, ())
            if fname in self._fields
        ]
        if not field_names:
            return []
        written = self.env.context.get("sales_pipeline_mgmt_written_fields") or {}
        errors = []
        for lead in self:
            missing = [
                self._fields[fname]._description_string(self.env)
                for fname in field_names
                if not (written[fname] if fname in written else lead[fname])
            ]
            if missing:
                errors.append(
                    self.env._(
                        "%(lead)s cannot enter stage %(stage)s: fill in %(fields)s.",
                        lead=lead.display_name,
                        stage=new_stage.display_name,
                        fields=", ".join(missing),
                    )
                )
        return errors

    def _get_skipped_stage_ids(self, previous_stage, new_stage, stage_keys):
        """Ids of the stages of this lead's pipeline strictly between
        ``previous_stage`` and ``new_stage`` on a forward move, in order."""
        self.ensure_one()
        if not previous_stage or not new_stage:
            return []
        old_key = stage_keys[previous_stage.id][:2]
        new_key = stage_keys[new_stage.id][:2]
        team_id = self.team_id.id
        return [
            stage_id
            for sequence, stage_id, stage_team_id, _standard_id in sorted(
                stage_keys.values()
            )
            if (not stage_team_id or stage_team_id == team_id)
            and old_key < (sequence, stage_id) < new_key
        ]

    def _get_forbidden_skip_errors(self, new_stage, previous_stages):
        """Return one message per lead of ``self`` that would skip a stage it
        has never been in and that cannot be skipped. One query over the
        stage history, and only when some stage forbids skipping."""
        no_skip_ids = self.env["crm.stage"]._get_no_skip_stage_ids()
        if not no_skip_ids:
            return []
        stage_keys = self._get_pipeline_stage_keys()
        guarded = {}
        for lead in self:
            skipped = lead._get_skipped_stage_ids(
                previous_stages.get(lead.id), new_stage, stage_keys
            )
            if blocking := [
                stage_id for stage_id in skipped if stage_id in no_skip_ids
            ]:
                guarded[lead.id] = blocking
        if not guarded:
            return []
        self.env["crm.lead.stage.history"].flush_model(["lead_id", "stage_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT lead_id, stage_id
                  FROM crm_lead_stage_history
                 WHERE lead_id IN %s AND stage_id IN %s
                """,
                tuple(guarded),
                tuple({stage_id for ids in guarded.values() for stage_id in ids}),
            )
        )
        visited = set(self.env.cr.fetchall())
        errors = []
        for lead in self.filtered(lambda lead: lead.id in guarded):
            stages = self.env["crm.stage"].browse(
                [sid for sid in guarded[lead.id] if (lead.id, sid) not in visited]
            )
            if stages:
                errors.append(
                    self.env._(
                        "%(lead)s cannot skip stage %(stages)s: it must go "
                        "through it first.",
                        lead=lead.display_name,
                        stages=", ".join(stages.mapped("display_name")),
                    )
                )
        return errors

    def _log_skipped_stages(self, previous_stages):
        """Post a note on each lead of ``self`` that just moved forward past
        stages, naming them (one batched insert)."""
        stage_keys = self._get_pipeline_stage_keys()
        bodies = {}
        for lead in self:
            skipped = self.env["crm.stage"].browse(
                lead._get_skipped_stage_ids(
                    previous_stages.get(lead.id), lead.stage_id, stage_keys
                )
            )
            if skipped:
                bodies[lead.id] = Markup("<p>%s</p>") % self.env._(
                    "Skipped stages: %(stages)s.",
                    stages=", ".join(skipped.mapped("name")),
                )
        if bodies:
            self.browse(list(bodies))._message_log_batch(bodies)

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
        if stage_keys[new_stage.id][:2] < stage_keys[previous_stage.id][:2]:
            return "backward", 0
        skipped = len(
            self._get_skipped_stage_ids(previous_stage, new_stage, stage_keys)
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

    # ------------------------------------------------------------
    # FORECAST
    # ------------------------------------------------------------

    @api.model
    def _get_forecast_statistics_sql(self, lead_ids, now):
        """The CTEs ``team_stat`` and ``company_stat`` of the forecast refresh:
        per (company, team, stage) and per (company, stage), the closed sample
        size, the won count and the median days to win.

        A full refresh (``lead_ids`` None: the daily job, the settings button,
        the install, snapshots) computes them from the whole stage history and
        keeps them in the table crm_lead_forecast_stat; refreshing given leads
        (a stage move, new leads) reads them from that table, so that moving a
        lead costs a lookup instead of a scan of its stage's whole history."""
        if lead_ids is not None:
            return SQL(
                """
                team_stat AS (
                    SELECT company_id, team_id, stage_id, sample_size, won_count,
                           median_days
                      FROM crm_lead_forecast_stat
                     WHERE team_id IS NOT NULL
                ),
                company_stat AS (
                    SELECT company_id, stage_id, sample_size, won_count, median_days
                      FROM crm_lead_forecast_stat
                     WHERE team_id IS NULL
                ),
                """
            )
        return SQL(
            """
closed_lead AS (
                    SELECT lead.id, lead.date_closed,
                           (lead.active AND stage.is_won AND lead.probability = 100)
                               AS is_won
                      FROM crm_lead lead
                      LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                     WHERE (lead.active AND stage.is_won AND lead.probability = 100)
                        OR (NOT lead.active AND lead.probability = 0)
                ),
                sample_stay AS (
                    SELECT history.company_id, history.team_id, history.stage_id,
                           history.lead_id, history.date_in,
                           closed_lead.is_won, closed_lead.date_closed
                      FROM crm_lead_stage_history history
                      JOIN closed_lead ON closed_lead.id = history.lead_id
                      LEFT JOIN res_company company ON company.id = history.company_id
                     WHERE history.date_in <= %(now)s
                       AND (history.date_out IS NULL
                            OR history.date_out >= %(now)s - make_interval(months =>
                                COALESCE(company.forecast_history_months, 12)))
                                       ),
                team_sample AS (
                    SELECT company_id, team_id, stage_id, lead_id,
                           bool_or(is_won) AS is_won,
                           CASE WHEN bool_or(is_won) THEN GREATEST(EXTRACT(EPOCH FROM (
                               MAX(date_closed) - MAX(date_in))) / 86400.0, 0)
                           END AS remaining_days
                      FROM sample_stay
                     WHERE team_id IS NOT NULL
                     GROUP BY company_id, team_id, stage_id, lead_id
                ),
                company_sample AS (
                    SELECT company_id, stage_id, lead_id,
                           bool_or(is_won) AS is_won,
                           CASE WHEN bool_or(is_won) THEN GREATEST(EXTRACT(EPOCH FROM (
                               MAX(date_closed) - MAX(date_in))) / 86400.0, 0)
                           END AS remaining_days
                      FROM sample_stay
                     GROUP BY company_id, stage_id, lead_id
                ),
                team_stat AS (
                    SELECT company_id, team_id, stage_id, COUNT(*) AS sample_size,
                           COUNT(*) FILTER (WHERE is_won) AS won_count,
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY remaining_days)
                               AS median_days
                      FROM team_sample
                     GROUP BY company_id, team_id, stage_id
                ),
                company_stat AS (
                    SELECT company_id, stage_id, COUNT(*) AS sample_size,
                           COUNT(*) FILTER (WHERE is_won) AS won_count,
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY remaining_days)
                               AS median_days
                      FROM company_sample
                     GROUP BY company_id, stage_id
                ),
                stat_cleared AS (DELETE FROM crm_lead_forecast_stat),
                stat_saved AS (
                    INSERT INTO crm_lead_forecast_stat (
                        company_id, team_id, stage_id, sample_size, won_count,
                        median_days)
                    SELECT company_id, team_id, stage_id, sample_size, won_count,
                           median_days
                      FROM team_stat
                     UNION ALL
                    SELECT company_id, NULL, stage_id, sample_size, won_count,
                           median_days
                      FROM company_stat
                ),
            """,
            now=now,
        )

    def _refresh_historical_forecast_at_commit(self):
        """Refresh the forecast of new leads just before the transaction
        commits. Refreshing in create itself would compute the stored fields of
        crm (probabilities) before crm's own create flow has settled them."""
        lead_ids = self.env.cr.precommit.data.setdefault(
            "sales_pipeline_mgmt.forecast_lead_ids", set()
        )
        if not lead_ids:
            self.env.cr.precommit.add(self._refresh_pending_historical_forecast)
        lead_ids.update(self.ids)

    def _refresh_pending_historical_forecast(self):
        lead_ids = self.env.cr.precommit.data.pop(
            "sales_pipeline_mgmt.forecast_lead_ids", set()
        )
        existing = self.browse(lead_ids).exists()
        if existing:
            self._refresh_historical_forecast(existing.ids)

    def _count_close_date_slips(self, new_date):
        """Add one slip to the leads of ``self`` whose expected closing date
        moves later than it was (called by write, before the write)."""
        new_date = fields.Date.to_date(new_date)
        if not new_date:
            return
        slipping_leads = self.filtered(
            lambda lead: lead.date_deadline and lead.date_deadline < new_date
        )
        if not slipping_leads:
            return
        self.flush_model(["close_date_slip_count"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead
                   SET close_date_slip_count = COALESCE(close_date_slip_count, 0) + 1
                 WHERE id IN %s
                """,
                tuple(slipping_leads.ids),
            )
        )
        self.invalidate_model(["close_date_slip_count"])

    @api.model
    def _get_best_case_standard_stage(self):
        """The standard stage from which a deal counts in the best case
        (Decision); empty if that stage was deleted."""
        # ormcached lookup: no query (env.ref would check the record exists)
        stage_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "sales_pipeline_mgmt.standard_stage_decision", raise_if_not_found=False
        )
        return self.env["crm.standard.stage"].browse(stage_id)

    @api.model
    def _cron_refresh_historical_forecast(self):
        count = self._refresh_historical_forecast()
        self.env["ir.cron"]._notify_progress(done=count, remaining=0)

    @api.model
    def _refresh_historical_forecast(self, lead_ids=None):
        """Recompute the historical forecast fields of the given leads (all
        leads when ``lead_ids`` is None) in one set-based UPDATE.

        For each (team, stage) and each (company, stage), the sample is the
        closed leads (won, or lost) with a stay in that stage overlapping the
        company's history window; its won share gives the probability and the
        median number of days from (last) entering the stage to winning gives
        the predicted closing. A lead uses its team's figures when the sample
        reaches the company's minimum, else all teams', else its own probability
        (and its expected closing date). Won leads get 100 and their closing
        date, lost leads 0. Rows whose values do not change are not rewritten.

        :return: number of leads updated
        """
        if lead_ids is not None and not lead_ids:
            return 0
        self.flush_model()
        self.env["crm.lead.stage.history"].flush_model()
        self.env["crm.stage"].flush_model(["is_won"])
        self.env["crm.standard.stage"].flush_model(["sequence"])
        self.env["res.company"].flush_model(
            self.env["res.company"]._get_forecast_positive_fields()
        )
        now = self.env.cr.now()
        if lead_ids is None:
            lead_filter = SQL("TRUE")
        else:
            lead_filter = SQL("lead.id IN %s", tuple(lead_ids))
        self.env.cr.execute(
            SQL(
                """
                WITH %(statistics)s
                target AS (
                    SELECT lead.id, lead.expected_revenue, lead.date_deadline,
                           lead.date_closed,
                           lead.active AND NOT COALESCE(stage.is_won, FALSE)
                               AS is_active_open,
                           COALESCE(company.forecast_optimistic_margin_days, 14)
                               AS margin_days,
                           COALESCE(standard.sequence >= (
                               SELECT best_case.sequence
                                 FROM crm_standard_stage best_case
                                WHERE best_case.id = %(best_case_stage_id)s), FALSE)
                               AS is_best_case,
                           CASE WHEN lead.active AND stage.is_won
                                     AND lead.probability = 100 THEN 'won'
                                WHEN NOT lead.active AND lead.probability = 0
                                     THEN 'lost'
                                WHEN team_stat.sample_size
                                     >= COALESCE(company.forecast_min_sample, 10)
                                     THEN 'team'
                                WHEN company_stat.sample_size
                                     >= COALESCE(company.forecast_min_sample, 10)
                                     THEN 'company'
                                ELSE 'lead' END AS level,
                           COALESCE(lead.probability, 0) AS own_probability,
                           team_stat.sample_size AS team_size,
                           team_stat.won_count AS team_won,
                           team_stat.median_days AS team_median,
                           company_stat.sample_size AS company_size,
                           company_stat.won_count AS company_won,
                           company_stat.median_days AS company_median
                      FROM crm_lead lead
                      LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                      LEFT JOIN crm_standard_stage standard
                             ON standard.id = lead.standard_stage_id
                      LEFT JOIN res_company company ON company.id = lead.company_id
                      LEFT JOIN team_stat
                             ON team_stat.stage_id = lead.stage_id
                            AND team_stat.team_id = lead.team_id
                            AND COALESCE(team_stat.company_id, 0)
                                = COALESCE(lead.company_id, 0)
                      LEFT JOIN company_stat
                             ON company_stat.stage_id = lead.stage_id
                            AND COALESCE(company_stat.company_id, 0)
                                = COALESCE(lead.company_id, 0)
                     WHERE %(lead_filter)s
                ),
                forecast AS (
                    SELECT target.*,
                           CASE level
                                WHEN 'won' THEN 100.0
                                WHEN 'lost' THEN 0.0
                                WHEN 'team' THEN 100.0 * team_won / team_size
                                WHEN 'company' THEN 100.0 * company_won / company_size
                                ELSE own_probability END AS probability,
                           CASE level
                                WHEN 'team' THEN team_size
                                WHEN 'company' THEN company_size
                                WHEN 'lead' THEN COALESCE(company_size, 0)
                                ELSE 0 END AS sample_size,
                           CASE level
                                WHEN 'won' THEN date_closed::date
                                WHEN 'lost' THEN NULL
                                ELSE COALESCE(
                                    %(today)s::date + ROUND((CASE level
                                        WHEN 'team' THEN team_median
                                        WHEN 'company' THEN company_median
                                    END)::numeric)::int,
                                    date_deadline)
                           END AS predicted_date
                      FROM target
                ),
                new_value AS (
                    SELECT id,
                           probability::float8 AS historical_probability,
                           sample_size::int4 AS historical_sample_size,
                           CASE WHEN level IN ('won', 'lost') THEN NULL
                                ELSE level END AS historical_level,
                           ROUND(COALESCE(expected_revenue, 0) * probability::numeric
                                 / 100.0, 2) AS historical_revenue,
                           (probability / 100.0)::float8 AS expected_deal_count,
                           CASE WHEN is_best_case THEN COALESCE(expected_revenue, 0)
                                ELSE 0 END AS best_case_revenue,
                           predicted_date AS predicted_close_date,
                           COALESCE(is_active_open AND level NOT IN ('won', 'lost')
                                    AND predicted_date - date_deadline > margin_days,
                                    FALSE) AS is_close_date_optimistic
                      FROM forecast
                )
                UPDATE crm_lead lead
                   SET historical_probability = new_value.historical_probability,
                       historical_sample_size = new_value.historical_sample_size,
                       historical_level = new_value.historical_level,
                       historical_revenue = new_value.historical_revenue,
                       expected_deal_count = new_value.expected_deal_count,
                       best_case_revenue = new_value.best_case_revenue,
                       predicted_close_date = new_value.predicted_close_date,
                       is_close_date_optimistic = new_value.is_close_date_optimistic
                  FROM new_value
                 WHERE lead.id = new_value.id
                   AND (lead.historical_probability, lead.historical_sample_size,
                        lead.historical_level, lead.historical_revenue,
                        lead.expected_deal_count, lead.best_case_revenue,
                        lead.predicted_close_date, lead.is_close_date_optimistic)
                       IS DISTINCT FROM
                       (new_value.historical_probability,
                        new_value.historical_sample_size, new_value.historical_level,
                        new_value.historical_revenue, new_value.expected_deal_count,
                        new_value.best_case_revenue, new_value.predicted_close_date,
                        new_value.is_close_date_optimistic)
                """,
                now=now,
                today=now.date(),
                statistics=self._get_forecast_statistics_sql(lead_ids, now),
                lead_filter=lead_filter,
                best_case_stage_id=self._get_best_case_standard_stage().id,
            )
        )
        count = self.env.cr.rowcount
        self.invalidate_model(list(self._get_forecast_columns()))
        return count

    # ------------------------------------------------------------
    # PIPELINE HEALTH: PAUSE AND STALL RESET
    # ------------------------------------------------------------

    def _reset_stall(self):
        """Clear the stall flag of ``self`` (leads that just changed stage) and
        mark the addon's open stall activities on them as done."""
        self.write(
            {
                "is_stalled": False,
                "stalled_since": False,
                "stalled_count": 0,
                "stall_escalated_on": False,
            }
        )
        activities = (
            self.env["mail.activity"]
            # the activities may be assigned to the team leader: marking them
            # done is part of the move the user was allowed to make
            .sudo()
            .search(self._get_stall_activity_domain())
        )
        if activities:
            activities.action_feedback(
                feedback=self.env._("The opportunity changed stage.")
            )

    def _get_stall_activity_domain(self):
        return [
            ("res_model", "=", "crm.lead"),
            ("res_id", "in", self.ids),
            ("pipeline_health_kind", "in", ("stall", "escalation")),
        ]

    # ------------------------------------------------------------
    # PIPELINE HEALTH: JOBS
    # ------------------------------------------------------------
    # The jobs run as base.user_root, like crm's own crons: they read every
    # company's opportunities and plan activities for other users. Each call
    # processes one bounded batch, found in SQL among the leads that need
    # action only (so a second run finds nothing), then reports its progress:
    # the framework commits and calls again.

    @api.model
    def _get_pipeline_health_batch_size(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("sales_pipeline_mgmt.pipeline_health_batch_size")
        )
        try:
            return max(int(value), 1) if value else 1000
        except ValueError:
            return 1000

    @api.model
    def _cron_follow_up(self):
        result = self._plan_follow_up_activities()
        self.env["ir.cron"]._notify_progress(
            done=result["done"], remaining=result["remaining"]
        )

    @api.model
    def _cron_detect_stalls(self):
        result = self._detect_stalls()
        self.env["ir.cron"]._notify_progress(
            done=result["done"], remaining=result["remaining"]
        )

    def _get_pipeline_health_activity_type(self, activity_type=None):
        """The given activity type, else To-Do; raise when none is left."""
        if not activity_type:
            # cached lookup, no query per record (unlike env.ref)
            todo_id = self.env["ir.model.data"]._xmlid_to_res_id(
                "mail.mail_activity_data_todo", raise_if_not_found=False
            )
            activity_type = self.env["mail.activity.type"].browse(todo_id)
        if not activity_type:
            raise UserError(self.env._("No activity type is available."))
        return activity_type

    def _prepare_pipeline_health_activity_values(
        self, kind, user, activity_type, summary, note=False
    ):
        self.ensure_one()
        return {
            "res_model_id": self.env["ir.model"]._get_id(self._name),
            "res_id": self.id,
            "activity_type_id": activity_type.id,
            "summary": summary,
            "note": note,
            "date_deadline": fields.Date.context_today(self),
            "user_id": user.id,
            "pipeline_health_kind": kind,
        }

    @api.model
    def _create_pipeline_health_activities(self, vals_by_key):
        """Create the activities of ``vals_by_key`` ({key: vals}) in one batch,
        without one assignment e-mail each. If the batch fails, retry each
        one under its own savepoint, log and skip the failing ones.

        :return: the set of keys whose activity was created
        """
        activity_model = self.env["mail.activity"].with_context(
            mail_activity_quick_update=True, mail_create_nosubscribe=True
        )
        if not vals_by_key:
            return set()
        try:
            with self.env.cr.savepoint():
                activity_model.create(list(vals_by_key.values()))
            return set(vals_by_key)
        except Exception:  # noqa: BLE001 - retried record per record below
            _logger.info("Pipeline health: batch failed, retrying one by one")
        done = set()
        for key, vals in vals_by_key.items():
            try:
                with self.env.cr.savepoint():
                    activity_model.create([vals])
                done.add(key)
            except Exception:  # a bad record never blocks the rest
                _logger.warning(
                    "Pipeline health: activity skipped for %s", key, exc_info=True
                )
        return done

    def _pipeline_health_common_sql(self, enabled_column):
        """WHERE clauses shared by the jobs: open opportunity, not paused,
        company using the job. Tables: crm_lead l, crm_stage s, res_company c."""
        return SQL(
            """
                l.active
            AND l.type = 'opportunity'
            AND NOT COALESCE(s.is_won, FALSE)
            AND (l.pipeline_pause_until IS NULL OR l.pipeline_pause_until <= %(today)s)
            AND (l.company_id IS NULL OR c.%(enabled)s)
            """,
            today=fields.Date.context_today(self),
            enabled=SQL.identifier(enabled_column),
        )

    def _pipeline_health_user_can_read_sql(self):
        """Whether the salesperson (res_users u) may still see the lead's
        company; a lead of a company they left gets no activity."""
        return SQL(
            """(l.company_id IS NULL OR EXISTS (
                    SELECT 1 FROM res_company_users_rel cu
                     WHERE cu.user_id = l.user_id AND cu.cid = l.company_id))"""
        )

    # Follow-ups -----------------------------------------------------

    def _get_follow_up_candidates_sql(self, now):
        """Open opportunities without any open activity and without any
        interaction (message or e-mail, activity done, stage change, creation)
        for their stage's follow_up_days."""
        return SQL(
            """
            SELECT l.id, l.user_id, u.active AS user_active,
                   %(user_can_read)s AS user_can_read,
                   GREATEST(l.create_date, l.date_last_stage_update, msg.last_date)
                       AS last_touch
              FROM crm_lead l
              JOIN crm_stage s ON s.id = l.stage_id
         LEFT JOIN res_company c ON c.id = l.company_id
         LEFT JOIN res_users u ON u.id = l.user_id
         LEFT JOIN LATERAL (
                SELECT MAX(m.date) AS last_date
                  FROM mail_message m
                 WHERE m.model = 'crm.lead' AND m.res_id = l.id
                   AND (m.message_type IN ('comment', 'email')
                        OR m.mail_activity_type_id IS NOT NULL)
               ) msg ON TRUE
             WHERE %(common)s
               AND s.follow_up_days > 0
               AND NOT EXISTS (
                    SELECT 1 FROM mail_activity a
                     WHERE a.res_model = 'crm.lead' AND a.res_id = l.id
                       AND a.active)
               AND GREATEST(l.create_date, l.date_last_stage_update, msg.last_date)
                   <= %(now)s - make_interval(days => s.follow_up_days)
            """,
            common=self._pipeline_health_common_sql("pipeline_follow_up_enabled"),
            user_can_read=self._pipeline_health_user_can_read_sql(),
            now=now,
        )

    @api.model
    def _plan_follow_up_activities(self, batch_size=None):
        """Plan one follow-up activity, due today, for the salesperson of each
        open opportunity left without contact for its stage's follow_up_days,
        and send the stage's e-mail template if any. One batch per call.

        :return: dict with done, remaining, failed, and the counts of skipped
            leads: unassigned, inactive_user, no_access
        """
        batch_size = batch_size or self._get_pipeline_health_batch_size()
        now = self.env.cr.now()
        self.env.flush_all()
        candidates = self._get_follow_up_candidates_sql(now)
        self.env.cr.execute(
            SQL(
                """
                SELECT COUNT(*) FILTER (WHERE user_id IS NOT NULL AND user_active
                                        AND user_can_read),
                       COUNT(*) FILTER (WHERE user_id IS NULL),
                       COUNT(*) FILTER (WHERE user_id IS NOT NULL
                                        AND NOT user_active),
                       COUNT(*) FILTER (WHERE user_id IS NOT NULL AND user_active
                                        AND NOT user_can_read)
                  FROM (%s) cand
                """,
                candidates,
            )
        )
        todo, unassigned, inactive_user, no_access = self.env.cr.fetchone()
        self.env.cr.execute(
            SQL(
                """
                SELECT id, last_touch FROM (%s) cand
                 WHERE user_id IS NOT NULL AND user_active AND user_can_read
                 ORDER BY id LIMIT %s
                """,
                candidates,
                batch_size,
            )
        )
        last_touches = dict(self.env.cr.fetchall())
        leads = self.browse(list(last_touches))
        vals_by_key = {}
        for lead in leads:
            try:
                days = (now - last_touches[lead.id]).days
                vals_by_key[lead.id] = lead._prepare_follow_up_activity_values(days)
            except Exception:  # a bad record never blocks the rest
                _logger.warning("Follow-up: lead %s skipped", lead.id, exc_info=True)
        done_ids = self._create_pipeline_health_activities(vals_by_key)
        self.browse(sorted(done_ids))._send_follow_up_mails()
        failed = len(leads) - len(done_ids)
        _logger.info(
            "Follow-up: %s activities planned, %s failed, %s remaining; "
            "skipped: %s without salesperson, %s with an archived salesperson, "
            "%s of a company their salesperson left",
            len(done_ids),
            failed,
            todo - len(leads),
            unassigned,
            inactive_user,
            no_access,
        )
        return {
            "done": len(done_ids),
            "remaining": max(todo - len(leads), 0),
            "failed": failed,
            "unassigned": unassigned,
            "inactive_user": inactive_user,
            "no_access": no_access,
        }

    def _prepare_follow_up_activity_values(self, days):
        self.ensure_one()
        stage = self.stage_id
        return self._prepare_pipeline_health_activity_values(
            "follow_up",
            self.user_id,
            self._get_pipeline_health_activity_type(stage.follow_up_activity_type_id),
            self.env._(
                "Follow up: %(days)s days without contact in %(stage)s",
                days=days,
                stage=stage.name,
            ),
        )

    def _send_follow_up_mails(self):
        """Queue the stage's follow-up e-mail of each lead of ``self`` (the mail
        queue sends it) and log it in the chatter, grouped per template."""
        by_template = self.grouped(
            lambda lead: lead.stage_id.follow_up_mail_template_id
        )
        for template, leads in by_template.items():
            if not template:
                continue
            try:
                with self.env.cr.savepoint():
                    template.send_mail_batch(leads.ids, force_send=False)
                    leads._message_log_batch(
                        {
                            lead.id: Markup("<p>%s</p>")
                            % self.env._(
                                "Follow-up e-mail queued: %(template)s.",
                                template=template.name,
                            )
                            for lead in leads
                        }
                    )
            except Exception:  # a bad template never blocks the rest
                _logger.warning(
                    "Follow-up: e-mail %s not sent", template.id, exc_info=True
                )

    # Stalls ---------------------------------------------------------

    def _get_stall_candidates_sql(self, now):
        """Open opportunities in their stage for longer than its stall_days
        that are not flagged yet, or flagged and past twice the threshold with
        a team leader to warn and no escalation yet."""
        return SQL(
            """
            SELECT l.id, l.is_stalled, l.user_id,
                   u.active AND %(user_can_read)s AS user_active,
                   t.user_id AS leader_id, s.stall_days,
                   COALESCE(l.date_last_stage_update, l.create_date) AS since
              FROM crm_lead l
              JOIN crm_stage s ON s.id = l.stage_id
         LEFT JOIN res_company c ON c.id = l.company_id
         LEFT JOIN res_users u ON u.id = l.user_id
         LEFT JOIN crm_team t ON t.id = l.team_id
         LEFT JOIN res_users leader ON leader.id = t.user_id
             WHERE %(common)s
               AND s.stall_days > 0
               AND COALESCE(l.date_last_stage_update, l.create_date)
                   <= %(now)s - make_interval(days => s.stall_days)
               AND (NOT COALESCE(l.is_stalled, FALSE)
                    OR (l.stall_escalated_on IS NULL
                        AND leader.active
                        AND COALESCE(l.date_last_stage_update, l.create_date)
                            <= %(now)s - make_interval(days => 2 * s.stall_days)))
            """,
            common=self._pipeline_health_common_sql("pipeline_stall_enabled"),
            user_can_read=self._pipeline_health_user_can_read_sql(),
            now=now,
        )

    @api.model
    def _detect_stalls(self, batch_size=None):
        """Flag the open opportunities that stay in their stage longer than its
        stall_days, plan one "Stalled opportunity" activity for the
        salesperson, and past twice the threshold one escalation activity for
        the team leader. One batch per call.

        :return: dict with done, remaining, failed
        """
        batch_size = batch_size or self._get_pipeline_health_batch_size()
        now = self.env.cr.now()
        self.env.flush_all()
        candidates = self._get_stall_candidates_sql(now)
        self.env.cr.execute(SQL("SELECT COUNT(*) FROM (%s) cand", candidates))
        todo = self.env.cr.fetchone()[0]
        self.env.cr.execute(
            SQL("SELECT * FROM (%s) cand ORDER BY id LIMIT %s", candidates, batch_size)
        )
        rows = self.env.cr.dictfetchall()
        leads = self.browse([row["id"] for row in rows])
        stalled_type = self.env.ref(
            "sales_pipeline_mgmt.mail_activity_type_stalled", raise_if_not_found=False
        )
        vals_by_key = {}
        flags = {}  # lead id -> (stalled_since, escalated_on or None)
        failed = 0
        for row, lead in zip(rows, leads, strict=True):
            try:
                threshold = timedelta(days=row["stall_days"])
                days = (now - row["since"]).days
                if not row["is_stalled"]:
                    flags[lead.id] = (row["since"] + threshold, None)
                    if row["user_id"] and row["user_active"]:
                        vals_by_key[(lead.id, "stall")] = (
                            lead._prepare_stall_activity_values(stalled_type, days)
                        )
                    elif row["user_id"]:
                        _logger.warning(
                            "Stall detection: lead %s flagged, its salesperson "
                            "is archived or left its company",
                            lead.id,
                        )
                if row["leader_id"] and now - row["since"] >= 2 * threshold:
                    flags[lead.id] = (
                        flags.get(lead.id, (None,))[0] or lead.stalled_since,
                        now,
                    )
                    vals_by_key[(lead.id, "escalation")] = (
                        lead._prepare_stall_escalation_values(stalled_type, days)
                    )
            except Exception:  # a bad record never blocks the rest
                failed += 1
                flags.pop(lead.id, None)
                vals_by_key.pop((lead.id, "stall"), None)
                _logger.warning(
                    "Stall detection: lead %s skipped", lead.id, exc_info=True
                )
        done_keys = self._create_pipeline_health_activities(vals_by_key)
        # a lead whose activity could not be created is left as it was: the
        # next run tries again
        failed_ids = {lead_id for lead_id, _kind in set(vals_by_key) - done_keys}
        failed += len(failed_ids)
        updates = [
            (lead_id, since, escalated)
            for lead_id, (since, escalated) in flags.items()
            if lead_id not in failed_ids
        ]
        if updates:
            self._write_stall_flags(updates)
        _logger.info(
            "Stall detection: %s opportunities flagged or escalated, %s failed, "
            "%s remaining",
            len(updates),
            failed,
            todo - len(rows),
        )
        return {
            "done": len(updates),
            "remaining": max(todo - len(rows), 0),
            "failed": failed,
        }

    def _write_stall_flags(self, updates):
        """Set the stall flags in one query. ``updates`` is a list of
        (lead id, stalled since, escalated on or None)."""
        self.flush_model(
            ["is_stalled", "stalled_since", "stalled_count", "stall_escalated_on"]
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead
                   SET is_stalled = TRUE,
                       stalled_count = 1,
                       stalled_since = flags.since,
                       stall_escalated_on = COALESCE(
                           flags.escalated, crm_lead.stall_escalated_on)
                  FROM (VALUES %s) AS flags(lead_id, since, escalated)
                 WHERE crm_lead.id = flags.lead_id
                """,
                SQL(", ").join(
                    SQL("(%s, %s::timestamp, %s::timestamp)", lead_id, since, escalated)
                    for lead_id, since, escalated in updates
                ),
            )
        )
        self.invalidate_model(
            ["is_stalled", "stalled_since", "stalled_count", "stall_escalated_on"]
        )

    def _prepare_stall_activity_values(self, activity_type, days):
        self.ensure_one()
        return self._prepare_pipeline_health_activity_values(
            "stall",
            self.user_id,
            self._get_pipeline_health_activity_type(activity_type),
            self.env._(
                "Stalled: %(days)s days in %(stage)s",
                days=days,
                stage=self.stage_id.name,
            ),
        )

    def _prepare_stall_escalation_values(self, activity_type, days):
        self.ensure_one()
        return self._prepare_pipeline_health_activity_values(
            "escalation",
            self.team_id.user_id,
            self._get_pipeline_health_activity_type(activity_type),
            self.env._(
                "Escalation: %(days)s days in %(stage)s (%(salesperson)s)",
                days=days,
                stage=self.stage_id.name,
                salesperson=self.user_id.name or self.env._("no salesperson"),
            ),
        )
