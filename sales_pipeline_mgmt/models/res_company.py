# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    # Pipeline forecast
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
    def _get_forecast_positive_fields(self):
        return [
            "forecast_history_months",
            "forecast_min_sample",
            "forecast_optimistic_margin_days",
            "forecast_accuracy_lead_weeks",
        ]

    @api.constrains(
        "forecast_history_months",
        "forecast_min_sample",
        "forecast_optimistic_margin_days",
        "forecast_accuracy_lead_weeks",
    )
    def _check_forecast_settings(self):
        for company in self:
            for field_name in self._get_forecast_positive_fields():
                if company[field_name] <= 0:
                    raise ValidationError(
                        self.env._(
                            "%(setting)s must be greater than zero (company "
                            "%(company)s).",
                            setting=self._fields[field_name].get_description(
                                self.env, ["string"]
                            )["string"],
                            company=company.name,
                        )
                    )

    # Pipeline health
    pipeline_follow_up_enabled = fields.Boolean(
        string="Follow-up Activities",
        default=False,
        help="Plan follow-up activities on opportunities left without contact.",
    )
    pipeline_stall_enabled = fields.Boolean(
        string="Stall Detection",
        default=False,
        help="Flag opportunities that stay too long in a stage and warn their "
        "salesperson and team leader.",
    )
    pipeline_follow_up_days = fields.Integer(
        string="Default Follow-up Days",
        default=0,
        help="Follow-up delay given to new stages whose standard stage sets "
        "none. 0 = off.",
    )
    pipeline_stall_days = fields.Integer(
        string="Default Stall Days",
        default=0,
        help="Stall threshold given to new stages whose standard stage sets "
        "none. 0 = off.",
    )
    pipeline_max_open_opportunities = fields.Integer(
        string="Default Overload Limit",
        default=0,
        help="Default maximum of open opportunities per salesperson in a team "
        "(new teams). 0 = off.",
    )

    @api.constrains(
        "pipeline_follow_up_days",
        "pipeline_stall_days",
        "pipeline_max_open_opportunities",
    )
    def _check_pipeline_health_values(self):
        for company in self:
            for fname in (
                "pipeline_follow_up_days",
                "pipeline_stall_days",
                "pipeline_max_open_opportunities",
            ):
                if company[fname] < 0:
                    raise ValidationError(
                        self.env._(
                            "%(setting)s cannot be negative (company %(company)s).",
                            setting=self._fields[fname]._description_string(self.env),
                            company=company.display_name,
                        )
                    )
