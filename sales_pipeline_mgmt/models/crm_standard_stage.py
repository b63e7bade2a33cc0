# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL


class CrmStandardStage(models.Model):
    """One of the five general steps of a sale that every company names its own
    way. Company and team stages (crm.stage) map onto one of them, which makes
    pipelines with different stage names comparable in reports."""

    _name = "crm.standard.stage"
    _inherit = ("crm.stage.figures.mixin", "crm.pipeline.setting.mixin")
    _description = "Standard Sales Stage"
    _order = "sequence, id"
    _stage_figures_groupby = "standard_stage_id"

    # Identification
    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        help="Stable technical key of the standard stage, unique.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    # Guidance
    description = fields.Text(
        string="Guidance",
        translate=True,
        help="What happens in this step and what must be true to leave it. "
        "Shown to sales people on the opportunity form.",
    )
    # Pipeline health defaults
    stall_days = fields.Integer(
        string="Stalled After (Days)",
        default=0,
        help="Default number of days an opportunity may stay in a stage mapped "
        "to this standard stage before it is flagged as stalled. 0 turns it off.",
    )
    follow_up_days = fields.Integer(
        string="Follow-up After (Days)",
        default=0,
        help="Default number of days without any interaction after which a "
        "follow-up activity is planned for the salesperson. 0 turns it off.",
    )
    # Mapping
    stage_ids = fields.One2many(
        "crm.stage", "standard_stage_id", string="Mapped Stages"
    )
    stage_count = fields.Integer(
        string="# Mapped Stages",
        compute="_compute_stage_count",
        help="Number of company and team stages mapped onto this standard stage.",
    )

    @api.model
    def _get_non_negative_setting_fields(self):
        return [
            *super()._get_non_negative_setting_fields(),
            "stall_days",
            "follow_up_days",
        ]

    @api.depends("stage_ids")
    def _compute_stage_count(self):
        counts = dict(
            self.env["crm.stage"]._read_group(
                [("standard_stage_id", "in", self.ids)],
                ["standard_stage_id"],
                ["__count"],
            )
        )
        for standard_stage in self:
            standard_stage.stage_count = counts.get(standard_stage, 0)

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    def write(self, vals):
        res = super().write(vals)
        if "sequence" in vals:
            # the best case counts the leads from the Decision standard stage
            # on: moving Decision may change it for every lead, moving another
            # standard stage for the leads in it
            lead_model = self.env["crm.lead"]
            if lead_model._get_best_case_standard_stage() in self:
                lead_filter = SQL("lead.standard_stage_id IS NOT NULL")
            else:
                lead_filter = SQL("lead.standard_stage_id IN %s", tuple(self.ids))
            lead_model._refresh_forecast_measures(lead_filter)
        return res

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("code")
    def _check_code_unique(self):
        # Checked in Python rather than by a unique index, whose error would
        # reach the user as a database error instead of naming the field.
        duplicates = self.env["crm.standard.stage"].with_context(active_test=False)
        for standard_stage in self:
            if duplicates.search_count(
                [("code", "=", standard_stage.code), ("id", "!=", standard_stage.id)],
                limit=1,
            ):
                raise ValidationError(
                    self.env._(
                        "Code: another standard stage already uses the code %(code)s.",
                        code=standard_stage.code,
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_mapped(self):
        mapped_stages = self.env["crm.stage"].search(
            [("standard_stage_id", "in", self.ids)]
        )
        if mapped_stages:
            raise UserError(
                self.env._(
                    "Standard stages still used by these stages cannot be deleted: "
                    "%(stages)s. Map those stages onto another standard stage first.",
                    stages=", ".join(mapped_stages.mapped("display_name")),
                )
            )
