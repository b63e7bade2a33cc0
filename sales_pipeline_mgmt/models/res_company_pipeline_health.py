# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class ResCompany(models.Model):
    """Settings of the pipeline health jobs, per company."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited

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

    @api.model
    def _get_non_negative_setting_fields(self):
        return [
            *super()._get_non_negative_setting_fields(),
            "pipeline_follow_up_days",
            "pipeline_stall_days",
            "pipeline_max_open_opportunities",
        ]
