# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.tools import SQL


class CrmStage(models.Model):
    """What the forecast of the leads reads from their stage: whether it is won
    (optimistic close dates are flagged on open leads only) and its standard
    stage (the best case counts the Decision standard stage and later)."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "crm.stage"  # pylint: disable=consider-merging-classes-inherited

    def write(self, vals):
        res = super().write(vals)
        if {"is_won", "standard_stage_id"}.intersection(vals):
            self.env["crm.lead"]._refresh_forecast_measures(
                SQL("lead.stage_id IN %s", tuple(self.ids))
            )
        return res
