# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CrmStage(models.Model):
    _inherit = "crm.stage"

    # Standard process
    standard_stage_id = fields.Many2one(
        "crm.standard.stage",
        string="Standard Stage",
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

