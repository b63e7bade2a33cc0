# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class CrmStage(models.Model):
    """Pipeline health settings of a stage: when its opportunities count as
    stalled and when they need a follow-up."""

    _name = "crm.stage"
    _inherit = ("crm.stage", "crm.pipeline.setting.mixin")

    stall_days = fields.Integer(
        string="Stalled After (Days)",
        compute="_compute_stall_days",
        store=True,
        readonly=False,
        help="Days an open opportunity may stay in this stage before it is "
        "flagged as stalled. Defaults from the standard stage (or, when that sets "
        "none, from the company's default in Settings). 0 turns it off.",
    )
    follow_up_days = fields.Integer(
        string="Follow-up After (Days)",
        compute="_compute_follow_up_days",
        store=True,
        readonly=False,
        help="Days without any interaction (message, note, activity done, stage "
        "change) after which a follow-up activity is planned for the salesperson. "
        "Defaults from the standard stage (or, when that sets none, from the "
        "company's default in Settings). 0 turns it off.",
    )
    follow_up_activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Follow-up Activity Type",
        default=lambda self: self._default_follow_up_activity_type_id(),
        ondelete="set null",
        domain="['|', ('res_model', '=', False), ('res_model', '=', 'crm.lead')]",
        help="Type of the follow-up activities planned in this stage (To-Do when "
        "empty).",
    )
    follow_up_mail_template_id = fields.Many2one(
        "mail.template",
        string="Follow-up E-mail",
        ondelete="set null",
        domain="[('model', '=', 'crm.lead')]",
        help="When set, a follow-up also sends this e-mail to the opportunity's "
        "contact through the mail queue and logs it in the chatter.",
    )

    def _default_follow_up_activity_type_id(self):
        return self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)

    @api.depends("standard_stage_id")
    def _compute_stall_days(self):
        for stage in self:
            stage.stall_days = (
                stage.standard_stage_id.stall_days
                or (stage.team_id.company_id or self.env.company).pipeline_stall_days
            )

    @api.depends("standard_stage_id")
    def _compute_follow_up_days(self):
        for stage in self:
            stage.follow_up_days = (
                stage.standard_stage_id.follow_up_days
                or (
                    stage.team_id.company_id or self.env.company
                ).pipeline_follow_up_days
            )

    @api.model
    def _get_non_negative_setting_fields(self):
        return [
            *super()._get_non_negative_setting_fields(),
            "stall_days",
            "follow_up_days",
        ]
