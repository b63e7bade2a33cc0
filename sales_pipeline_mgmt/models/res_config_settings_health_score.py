# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    """The deal health score's weights, per company (see
    res_company_health_score.py, which validates them)."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited

    health_weight_slow_stage = fields.Integer(
        related="company_id.health_weight_slow_stage", readonly=False
    )
    health_weight_stalled = fields.Integer(
        related="company_id.health_weight_stalled", readonly=False
    )
    health_weight_close_date_slip = fields.Integer(
        related="company_id.health_weight_close_date_slip", readonly=False
    )
    health_weight_overdue = fields.Integer(
        related="company_id.health_weight_overdue", readonly=False
    )
    health_weight_predicted_late = fields.Integer(
        related="company_id.health_weight_predicted_late", readonly=False
    )
    health_weight_no_contact = fields.Integer(
        related="company_id.health_weight_no_contact", readonly=False
    )
    health_contact_days = fields.Integer(
        related="company_id.health_contact_days", readonly=False
    )
    health_weight_skipped_stage = fields.Integer(
        related="company_id.health_weight_skipped_stage", readonly=False
    )
    health_weight_amount_decrease = fields.Integer(
        related="company_id.health_weight_amount_decrease", readonly=False
    )
    health_weight_stage_probability = fields.Integer(
        related="company_id.health_weight_stage_probability", readonly=False
    )
