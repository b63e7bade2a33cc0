# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models, tools
from odoo.tools import SQL


class CrmStage(models.Model):
    _inherit = "crm.stage"

    # Standard process
    standard_stage_id = fields.Many2one(
        "crm.standard.stage",
        ondelete="restrict",
        index="btree_not_null",
        help="The general step of the sales process this stage belongs to. "
        "Reports and pipeline health rules use it to compare teams whose "
        "stages are named differently. Won stages map onto Purchase.",
    )
    standard_stage_description = fields.Text(
        string="Guidance",
        related="standard_stage_id.description",
    )

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        stages = super().create(vals_list)
        self.env.registry.clear_cache()
        return stages

    def write(self, vals):
        res = super().write(vals)
        if {"sequence", "team_id", "standard_stage_id"} & set(vals):
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    # ------------------------------------------------------------
    # PIPELINE ORDER
    # ------------------------------------------------------------

    @api.model
    @tools.ormcache()
    def _get_pipeline_stage_keys(self):
        """Return {stage id: (sequence, id, team id, standard stage id)} for
        every stage. A lead's move is classified (forward, skip, backward) on
        every stage change: caching spares that hot path a query."""
        self.flush_model(["sequence", "team_id", "standard_stage_id"])
        self.env.cr.execute(
            SQL("SELECT id, sequence, team_id, standard_stage_id FROM crm_stage")
        )
        return {
            stage_id: (sequence or 0, stage_id, team_id, standard_stage_id)
            for stage_id, sequence, team_id, standard_stage_id in self.env.cr.fetchall()
        }
