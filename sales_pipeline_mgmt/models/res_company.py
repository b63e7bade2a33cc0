# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import SQL

# The default of each forecast setting: for new companies, and in the SQL of
# the forecast for the leads without a company.
FORECAST_SETTING_DEFAULTS = {
    "forecast_history_months": 12,
    "forecast_min_sample": 10,
    "forecast_optimistic_margin_days": 14,
    "forecast_accuracy_lead_weeks": 4,
}


class ResCompany(models.Model):
    """Settings of the historical forecast, per company."""

    _name = "res.company"
    _inherit = ("res.company", "crm.pipeline.setting.mixin")

    forecast_history_months = fields.Integer(
        string="Forecast History Window (Months)",
        default=FORECAST_SETTING_DEFAULTS["forecast_history_months"],
        help="Closed leads that were in a stage during these last months make "
        "the history of the historical probability.",
    )
    forecast_min_sample = fields.Integer(
        string="Forecast Minimum Sample",
        default=FORECAST_SETTING_DEFAULTS["forecast_min_sample"],
        help="Fewest closed leads a team's (then all teams') history needs before "
        "its won share is used.",
    )
    forecast_optimistic_margin_days = fields.Integer(
        string="Optimistic Close Date Margin (Days)",
        default=FORECAST_SETTING_DEFAULTS["forecast_optimistic_margin_days"],
        help="A lead whose expected closing is earlier than its predicted closing "
        "by more than this many days is flagged optimistic.",
    )
    forecast_accuracy_lead_weeks = fields.Integer(
        string="Forecast Accuracy Lead Time (Weeks)",
        default=FORECAST_SETTING_DEFAULTS["forecast_accuracy_lead_weeks"],
        help="The accuracy report compares each month with the forecast taken "
        "this many weeks before the month starts.",
    )

    @api.model
    def _get_forecast_setting_fields(self):
        return list(FORECAST_SETTING_DEFAULTS)

    @api.model
    def _get_forecast_setting_sql(self, fname, company_alias="company"):
        """The forecast setting ``fname`` of the company ``company_alias``
        (res_company, LEFT JOINed), or its default when there is none."""
        return SQL(
            "COALESCE(%s, %s)",
            SQL.identifier(company_alias, fname),
            FORECAST_SETTING_DEFAULTS[fname],
        )

    @api.model
    def _get_positive_setting_fields(self):
        return [
            *super()._get_positive_setting_fields(),
            *self._get_forecast_setting_fields(),
        ]

    def write(self, vals):
        res = super().write(vals)
        if "forecast_optimistic_margin_days" in vals:
            self.env["crm.lead"]._refresh_forecast_measures(
                SQL("lead.company_id IN %s", tuple(self.ids))
            )
        return res
