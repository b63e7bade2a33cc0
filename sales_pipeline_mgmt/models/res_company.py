# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import SQL


class ResCompany(models.Model):
    """Settings of the historical forecast, per company."""

    _name = "res.company"
    _inherit = ("res.company", "crm.pipeline.setting.mixin")

    forecast_history_months = fields.Integer(
        string="Forecast History Window (Months)",
        default=12,
        help="Closed leads that were in a stage during these last months make "
        "the history of the historical probability.",
    )
    forecast_min_sample = fields.Integer(
        string="Forecast Minimum Sample",
        default=10,
        help="Fewest closed leads a team's (then all teams') history needs before "
        "its won share is used.",
    )
    forecast_optimistic_margin_days = fields.Integer(
        string="Optimistic Close Date Margin (Days)",
        default=14,
        help="A lead whose expected closing is earlier than its predicted closing "
        "by more than this many days is flagged optimistic.",
    )
    forecast_accuracy_lead_weeks = fields.Integer(
        string="Forecast Accuracy Lead Time (Weeks)",
        default=4,
        help="The accuracy report compares each month with the forecast taken "
        "this many weeks before the month starts.",
    )

    @api.model
    def _get_forecast_setting_fields(self):
        return [
            "forecast_history_months",
            "forecast_min_sample",
            "forecast_optimistic_margin_days",
            "forecast_accuracy_lead_weeks",
        ]

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
