# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_apply_standard_pipeline(self):
        """Create, for each team, one stage per standard stage that the team's
        own stages do not cover yet. Existing stages and their leads are left
        as they are."""
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
