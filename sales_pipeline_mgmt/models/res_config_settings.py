# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

SNAPSHOT_CRON_XMLID = "sales_pipeline_mgmt.ir_cron_pipeline_snapshot"
# the largest snapshot frequency, in its unit (days, weeks or months)
SNAPSHOT_INTERVAL_MAX = 366


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # Pipeline forecast
    forecast_history_months = fields.Integer(
        related="company_id.forecast_history_months", readonly=False
    )
    forecast_min_sample = fields.Integer(
        related="company_id.forecast_min_sample", readonly=False
    )
    forecast_optimistic_margin_days = fields.Integer(
        related="company_id.forecast_optimistic_margin_days", readonly=False
    )
    forecast_accuracy_lead_weeks = fields.Integer(
        related="company_id.forecast_accuracy_lead_weeks", readonly=False
    )
    forecast_snapshot_interval_number = fields.Integer(
        string="Snapshot Frequency",
        help="How often the pipeline snapshot is taken (the scheduled action's "
        "interval).",
    )
    forecast_snapshot_interval_type = fields.Selection(
        [("days", "Days"), ("weeks", "Weeks"), ("months", "Months")],
        string="Snapshot Frequency Unit",
        help="Unit of the snapshot frequency.",
    )

    # Pipeline health
    pipeline_follow_up_enabled = fields.Boolean(
        related="company_id.pipeline_follow_up_enabled", readonly=False
    )
    pipeline_stall_enabled = fields.Boolean(
        related="company_id.pipeline_stall_enabled", readonly=False
    )
    pipeline_follow_up_days = fields.Integer(
        related="company_id.pipeline_follow_up_days", readonly=False
    )
    pipeline_stall_days = fields.Integer(
        related="company_id.pipeline_stall_days", readonly=False
    )
    pipeline_max_open_opportunities = fields.Integer(
        related="company_id.pipeline_max_open_opportunities", readonly=False
    )

    @api.model_create_multi
    def create(self, vals_list):
        company_model = self.env["res.company"]
        for vals in vals_list:
            # checked before the values reach the database, as the company
            # checks the same fields (a wrong type or a huge number would
            # otherwise fail in the INSERT, naming nothing)
            company_model._check_setting_input(vals)
            self._check_snapshot_interval_input(vals)
        return super().create(vals_list)

    @api.model
    def _check_snapshot_interval_input(self, vals):
        value = vals.get("forecast_snapshot_interval_number")
        if value is None or value is False:
            return
        setting = self._fields["forecast_snapshot_interval_number"].get_description(
            self.env, ["string"]
        )["string"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                self.env._(
                    "%(field)s: %(value)r is not a whole number.",
                    field=setting,
                    value=value,
                )
            )
        if value > SNAPSHOT_INTERVAL_MAX:
            raise ValidationError(
                self.env._(
                    "%(setting)s cannot be more than %(maximum)s.",
                    setting=setting,
                    maximum=SNAPSHOT_INTERVAL_MAX,
                )
            )

    @api.model
    def _get_snapshot_cron(self):
        # settings are open to administrators only; the cron is read and
        # written as superuser because ir.cron is restricted to system users
        cron = self.env.ref(SNAPSHOT_CRON_XMLID, raise_if_not_found=False)
        return cron.sudo() if cron else self.env["ir.cron"]

    @api.model
    def get_values(self):
        res = super().get_values()
        cron = self._get_snapshot_cron()
        if cron:
            res.update(
                forecast_snapshot_interval_number=cron.interval_number,
                forecast_snapshot_interval_type=cron.interval_type,
            )
        return res

    def set_values(self):
        super().set_values()
        self._sync_pipeline_health_crons()
        cron = self._get_snapshot_cron()
        if not cron:
            return
        if self.forecast_snapshot_interval_number <= 0:
            raise ValidationError(
                self.env._(
                    "%(setting)s must be greater than zero.",
                    setting=self._fields[
                        "forecast_snapshot_interval_number"
                    ].get_description(self.env, ["string"])["string"],
                )
            )
        if self.forecast_snapshot_interval_number > SNAPSHOT_INTERVAL_MAX:
            # a snapshot a year apart is already of little use to a trend
            raise ValidationError(
                self.env._(
                    "%(setting)s cannot be more than %(maximum)s.",
                    setting=self._fields[
                        "forecast_snapshot_interval_number"
                    ].get_description(self.env, ["string"])["string"],
                    maximum=SNAPSHOT_INTERVAL_MAX,
                )
            )
        values = {
            "interval_number": self.forecast_snapshot_interval_number,
            "interval_type": self.forecast_snapshot_interval_type or "weeks",
        }
        if any(cron[name] != value for name, value in values.items()):
            cron.write(values)

    def action_refresh_historical_forecast(self):
        """Button of the settings: refresh every lead's historical forecast now."""
        # the button of an administrators' screen: nobody else may start a
        # refresh of every lead through an RPC
        self.check_access("write")
        count = self.env["crm.lead"]._refresh_historical_forecast()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Historical forecast refreshed: %(count)s leads updated.",
                    count=count,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _sync_pipeline_health_crons(self):
        """A job runs while at least one company uses it; each job then only
        processes the opportunities of the companies that use it."""
        # sudo: reads one flag of every company, to (de)activate a shared cron
        companies = self.env["res.company"].sudo()
        for xmlid, fname in (
            ("sales_pipeline_mgmt.ir_cron_follow_up", "pipeline_follow_up_enabled"),
            ("sales_pipeline_mgmt.ir_cron_stall_detection", "pipeline_stall_enabled"),
        ):
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            active = bool(companies.search_count([(fname, "=", True)], limit=1))
            if cron and cron.sudo().active != active:
                # settings are for admins only; the cron is technical data
                cron.sudo().active = active
