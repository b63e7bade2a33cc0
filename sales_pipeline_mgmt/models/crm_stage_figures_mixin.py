# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CrmStageFiguresMixin(models.AbstractModel):
    """Velocity and conversion of a stage, computed on demand from the stage
    history (see crm.lead.stage.history._read_stage_figures). A model using it
    names in ``_stage_figures_groupby`` the history field that points at its
    records: a CRM stage counts its own stays, a standard stage the stays in
    the stages mapped onto it."""

    _name = "crm.stage.figures.mixin"
    _description = "Stage Velocity and Conversion"
    _stage_figures_groupby = "stage_id"

    avg_days_in_stage = fields.Float(
        string="Avg. Days in Stage",
        compute="_compute_stage_figures",
        digits=(16, 1),
        help="Average number of days the finished stays in this stage lasted; "
        "for a standard stage, the stays in the stages mapped onto it.",
    )
    current_lead_count = fields.Integer(
        string="Leads in Stage",
        compute="_compute_stage_figures",
        help="Active leads and opportunities currently in this stage; for a "
        "standard stage, in the stages mapped onto it.",
    )
    forward_rate = fields.Float(
        string="Moved Forward (%)",
        compute="_compute_stage_figures",
        digits=(16, 1),
        help="Share of the finished stays in this stage that ended by moving "
        "forward in the pipeline (rather than backward or out of it); for a "
        "standard stage, of the stays in the stages mapped onto it.",
    )
    stage_win_rate = fields.Float(
        string="Win Rate from Stage (%)",
        compute="_compute_stage_figures",
        digits=(16, 1),
        help="Among the leads that entered this stage and are now closed (won "
        "or lost), the share that was won; for a standard stage, the leads that "
        "entered the stages mapped onto it.",
    )

    def _compute_stage_figures(self):
        figures = self.env["crm.lead.stage.history"]._read_stage_figures(
            self._stage_figures_groupby, self._origin.ids
        )
        for record in self:
            values = figures.get(record._origin.id, {})
            record.avg_days_in_stage = values.get("avg_days") or 0.0
            record.current_lead_count = values.get("current_count") or 0
            record.forward_rate = values.get("forward_rate") or 0.0
            record.stage_win_rate = values.get("win_rate") or 0.0
