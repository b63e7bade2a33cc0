# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

SNAPSHOT_CRON_XMLID = "sales_pipeline_mgmt.ir_cron_pipeline_snapshot"


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
        values = {
            "interval_number": self.forecast_snapshot_interval_number,
            "interval_type": self.forecast_snapshot_interval_type or "weeks",
        }
        if any(cron[name] != value for name, value in values.items()):
            cron.write(values)

    def action_refresh_historical_forecast(self):
        """Button of the settings: refresh every lead's historical forecast now."""
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
