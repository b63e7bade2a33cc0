# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import formatLang

PERIODS = [
    ("this_month", "This Month"),
    ("last_3_months", "Last 3 Months"),
    ("this_year", "This Year"),
    ("custom", "Custom Dates"),
]
# shown instead of a rate or mean over an empty population
NO_VALUE = "–"


class CrmPipelineKpi(models.TransientModel):
    """The seven pipeline KPIs and the sales velocity of a period, for a team,
    a salesperson or everything the user may see (CRM > Reporting)."""

    _name = "crm.pipeline.kpi"
    _description = "Pipeline KPIs"

    # Scope
    period = fields.Selection(
        PERIODS,
        required=True,
        default="this_month",
        help="Period of the KPIs; Custom Dates lets you set From and To.",
    )
    date_from = fields.Date(
        string="From",
        compute="_compute_dates",
        store=True,
        readonly=False,
        help="First day of the period, included.",
    )
    date_to = fields.Date(
        string="To",
        compute="_compute_dates",
        store=True,
        readonly=False,
        help="Last day of the period, included.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        help="Only the leads of this team; empty: all the teams you can see.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        default=lambda self: self._default_user_id(),
        domain="[('share', '=', False)]",
        help="Only the leads of this salesperson; empty: all the salespeople you can "
        "see.",
    )
    can_choose_user = fields.Boolean(compute="_compute_can_choose_user")
    company_currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.company.currency_id
    )
    # The seven KPIs ("–" when the population is empty)
    lead_count = fields.Integer(
        string="New Leads",
        compute="_compute_kpis",
        help="Leads and opportunities (active or not) created in the period; "
        "the graph splits them per source and month.",
    )
    lead_to_opportunity_rate = fields.Char(
        string="Lead to Opportunity Rate",
        compute="_compute_kpis",
        help="Among the records created in the period that started as leads "
        "(still a lead, or converted), the share converted to opportunities.",
    )
    opportunity_win_rate = fields.Char(
        compute="_compute_kpis",
        help="Among the opportunities opened in the period (conversion date, or "
        "creation date for those created as opportunities), the share won by now.",
    )
    win_percentage = fields.Char(
        compute="_compute_kpis",
        help="Among the opportunities closed in the period (won or lost, by "
        "close date), the share won.",
    )
    avg_days_to_win = fields.Char(
        string="Average Days to Win",
        compute="_compute_kpis",
        help="Mean of (won date - opportunity start) over the opportunities "
        "won in the period; the start is the conversion date, else the "
        "creation date.",
    )
    avg_sales_cycle_days = fields.Char(
        string="Average Sales Cycle (Days)",
        compute="_compute_kpis",
        help="Mean of (close date - creation date) over the opportunities "
        "closed in the period, won and lost.",
    )
    open_opportunity_count = fields.Integer(
        string="Open Opportunities",
        compute="_compute_kpis",
        help="Active opportunities that are not won, as of now (whatever the period).",
    )
    # Sales velocity
    avg_won_revenue = fields.Char(
        string="Average Won Deal",
        compute="_compute_kpis",
        help="Mean expected revenue of the opportunities won in the period.",
    )
    sales_velocity = fields.Char(
        string="Sales Velocity (per Day)",
        compute="_compute_kpis",
        help="Open opportunities x average won deal x win percentage / average "
        "days to win: the revenue the pipeline brings in per day.",
    )

    @api.model
    def _default_user_id(self):
        if self.env.user.has_group("sales_team.group_sale_salesman_all_leads"):
            return False
        return self.env.user

    @api.depends("period")
    def _compute_dates(self):
        today = fields.Date.context_today(self)
        month_start = today.replace(day=1)
        for wizard in self:
            if wizard.period == "this_month":
                date_from = month_start
                date_to = month_start + relativedelta(months=1, days=-1)
            elif wizard.period == "last_3_months":
                date_from = month_start - relativedelta(months=2)
                date_to = month_start + relativedelta(months=1, days=-1)
            elif wizard.period == "this_year":
                date_from = today.replace(month=1, day=1)
                date_to = today.replace(month=12, day=31)
            else:
                date_from = wizard.date_from or month_start
                date_to = wizard.date_to or today
            wizard.date_from, wizard.date_to = date_from, date_to

    def _compute_can_choose_user(self):
        can_choose = self.env.user.has_group("sales_team.group_sale_salesman_all_leads")
        for wizard in self:
            wizard.can_choose_user = can_choose

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if (
                wizard.date_from
                and wizard.date_to
                and wizard.date_to < wizard.date_from
            ):
                raise ValidationError(
                    self.env._("To: the period cannot end before it starts.")
                )

    @api.depends("date_from", "date_to", "team_id", "user_id")
    def _compute_kpis(self):
        lead_model = self.env["crm.lead"]
        for wizard in self:
            kpis, figures = wizard._read_kpis()
            wizard.lead_count = sum(
                row["count"] for row in kpis["leads_by_source_month"]
            )
            wizard.lead_to_opportunity_rate = wizard._format_percent(
                kpis["lead_to_opportunity_rate"]
            )
            wizard.opportunity_win_rate = wizard._format_percent(
                kpis["opportunity_win_rate"]
            )
            wizard.win_percentage = wizard._format_percent(kpis["win_percentage"])
            wizard.avg_days_to_win = wizard._format_number(kpis["avg_days_to_win"])
            wizard.avg_sales_cycle_days = wizard._format_number(
                kpis["avg_sales_cycle_days"]
            )
            wizard.open_opportunity_count = kpis["open_opportunity_count"]
            wizard.avg_won_revenue = wizard._format_amount(figures["avg_won_revenue"])
            wizard.sales_velocity = wizard._format_amount(
                lead_model._get_sales_velocity(figures)
            )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _get_kpi_domain(self):
        """The leads the KPIs are computed on (record rules apply on top)."""
        self.ensure_one()
        domain = []
        if self.team_id:
            domain.append(("team_id", "=", self.team_id.id))
        if self.user_id:
            domain.append(("user_id", "=", self.user_id.id))
        return domain

    def _get_period(self):
        """[date_from, date_to) of the KPIs; the form shows the last day."""
        self.ensure_one()
        if not self.date_from or not self.date_to:
            return None, None
        return self.date_from, self.date_to + timedelta(days=1)

    def _read_kpis(self):
        """(the seven KPIs, the figures behind the sales velocity)."""
        self.ensure_one()
        date_from, date_to = self._get_period()
        return self.env["crm.lead"]._read_pipeline_kpis(
            self._get_kpi_domain(), date_from, date_to
        )

    def _format_percent(self, value):
        if value is None:
            return NO_VALUE
        return f"{formatLang(self.env, value, digits=1)} %"

    def _format_number(self, value):
        return NO_VALUE if value is None else formatLang(self.env, value, digits=1)

    def _format_amount(self, value):
        if value is None:
            return NO_VALUE
        return formatLang(
            self.env, value, currency_obj=self.company_currency_id or None
        )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def _get_lead_period_domain(self, date_field="create_date"):
        self.ensure_one()
        date_from, date_to = self._get_period()
        return self._get_kpi_domain() + [
            (date_field, ">=", fields.Datetime.to_string(date_from)),
            (date_field, "<", fields.Datetime.to_string(date_to)),
        ]

    def action_open_leads_by_source(self):
        """Leads (archived included) created in the period, per source and
        month, as a graph."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_pipeline_mgmt.crm_lead_action_source_analysis"
        )
        action["domain"] = self._get_lead_period_domain()
        return action

    def action_open_funnel(self):
        """The funnel of the leads created in the period."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_pipeline_mgmt.crm_lead_funnel_action"
        )
        action["domain"] = self._get_lead_period_domain()
        return action
