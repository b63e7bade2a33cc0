# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo import fields, models

# days of closed opportunities the dashboard's rates and means look back on
DASHBOARD_PERIOD_DAYS = 90


class CrmTeam(models.Model):
    """The team's pipeline KPIs on the sales team dashboard, and its
    standard pipeline."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "crm.team"  # pylint: disable=consider-merging-classes-inherited

    # Pipeline KPIs (dashboard card)
    pipeline_win_percentage = fields.Float(
        string="Win Percentage",
        compute="_compute_pipeline_kpis",
        digits=(16, 1),
        help="Share won among the team's opportunities closed in the last 90 days.",
    )
    pipeline_avg_days_to_win = fields.Float(
        string="Average Days to Win",
        compute="_compute_pipeline_kpis",
        digits=(16, 1),
        help="Mean days from opportunity start to won date over the team's "
        "opportunities won in the last 90 days.",
    )
    pipeline_has_closed = fields.Boolean(compute="_compute_pipeline_kpis")
    pipeline_has_won = fields.Boolean(compute="_compute_pipeline_kpis")
    pipeline_sales_velocity = fields.Monetary(
        string="Sales Velocity (per Day)",
        compute="_compute_pipeline_kpis",
        currency_field="currency_id",
        help="Open opportunities x average won deal x win percentage / average "
        "days to win, over the last 90 days.",
    )

    def _get_pipeline_dashboard_period(self):
        """[date_from, date_to) of the dashboard's win percentage, days to win
        and velocity."""
        now = self.env.cr.now()
        return now - timedelta(days=DASHBOARD_PERIOD_DAYS), now

    def _compute_pipeline_kpis(self):
        """One grouped query for all the teams of ``self``."""
        lead_model = self.env["crm.lead"]
        date_from, date_to = self._get_pipeline_dashboard_period()
        figures_per_team = lead_model._read_pipeline_figures(
            [("team_id", "in", self._origin.ids)], date_from, date_to, "team_id"
        )
        empty = lead_model._empty_pipeline_figures()
        for team in self:
            figures = figures_per_team.get(team._origin.id, empty)
            win_percentage = lead_model._pipeline_rate(
                figures["won_count"], figures["closed_count"]
            )
            team.pipeline_has_closed = win_percentage is not None
            team.pipeline_has_won = figures["avg_days_to_win"] is not None
            team.pipeline_win_percentage = win_percentage or 0.0
            team.pipeline_avg_days_to_win = figures["avg_days_to_win"] or 0.0
            team.pipeline_sales_velocity = (
                lead_model._get_sales_velocity(figures) or 0.0
            )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_apply_standard_pipeline(self):
        """Create, for each team, one stage per standard stage that the team's
        own stages do not cover yet. Existing stages and their leads are left
        as they are."""
        # the teams must be the user's to change: stages are added to them
        self.check_access("write")
        self._apply_standard_pipeline()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("The standard pipeline stages are in place."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _apply_standard_pipeline(self):
        self.env["crm.stage"].check_access("create")
        standard_stages = self.env["crm.standard.stage"].search([])
        existing = self.env["crm.stage"]._read_group(
            [("team_id", "in", self.ids), ("standard_stage_id", "!=", False)],
            ["team_id", "standard_stage_id"],
        )
        covered = {(team.id, standard.id) for team, standard in existing}
        vals_list = [
            self._prepare_standard_stage_values(standard_stage) | {"team_id": team.id}
            for team in self
            for standard_stage in standard_stages
            if (team.id, standard_stage.id) not in covered
        ]
        return self.env["crm.stage"].create(vals_list)

    def _prepare_standard_stage_values(self, standard_stage):
        purchase = self.env.ref(
            "sales_pipeline_mgmt.standard_stage_purchase", raise_if_not_found=False
        )
        return {
            # read in the admin's language: the stage is named as they read it
            "name": standard_stage.name,
            "sequence": standard_stage.sequence,
            "standard_stage_id": standard_stage.id,
            "is_won": standard_stage == purchase,
            "fold": False,
        }
