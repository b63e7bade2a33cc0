# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    # Pipeline health
    pipeline_health_kind = fields.Selection(
        [
            ("follow_up", "Follow-up"),
            ("stall", "Stalled Opportunity"),
            ("escalation", "Stall Escalation"),
            ("overload", "Overloaded Salesperson"),
        ],
        string="Pipeline Health Rule",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Set on the activities planned by the pipeline health jobs, so that "
        "they never plan the same activity twice and can close their own.",
    )
