# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class CrmStage(models.Model):
    """The stage's place in the sales process: its standard stage, its
    velocity and conversion, and the rules a lead must meet to enter it."""

    _name = "crm.stage"
    _inherit = ("crm.stage", "crm.stage.figures.mixin")

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
    # Stage rules (see crm.lead's _check_stage_moves)
    allow_skip = fields.Boolean(
        string="Can Be Skipped",
        default=True,
        help="When unchecked, an opportunity that has never been in this stage "
        "cannot move forward past it.",
    )
    required_field_ids = fields.Many2many(
        "ir.model.fields",
        "crm_stage_required_field_rel",
        "stage_id",
        "field_id",
        string="Required to Enter",
        domain="[('model', '=', 'crm.lead'), ('store', '=', True)]",
        help="Exit criteria: an opportunity cannot enter this stage while any of "
        "these fields is empty.",
    )

    @api.constrains("required_field_ids")
    def _check_required_field_ids(self):
        for stage in self:
            # sudo: field metadata, which sales managers may not read; only the
            # model and label of the fields they chose are read
            wrong = stage.required_field_ids.sudo().filtered(
                lambda f: f.model != "crm.lead"
            )
            if wrong:
                raise ValidationError(
                    self.env._(
                        "Required to Enter: only fields of opportunities can be "
                        "required (stage %(stage)s, fields %(fields)s).",
                        stage=stage.display_name,
                        fields=", ".join(wrong.mapped("field_description")),
                    )
                )

    @api.constrains("follow_up_mail_template_id", "follow_up_activity_type_id")
    def _check_follow_up_records(self):
        # the follow-up job renders the template and plans the activity on an
        # opportunity: a record made for another model would fail there
        for stage in self:
            template = stage.follow_up_mail_template_id
            if template and template.model != "crm.lead":
                raise ValidationError(
                    self.env._(
                        "%(field)s: the template %(template)s is not made for "
                        "opportunities (stage %(stage)s).",
                        field=self._fields[
                            "follow_up_mail_template_id"
                        ]._description_string(self.env),
                        template=template.display_name,
                        stage=stage.display_name,
                    )
                )
            activity_type = stage.follow_up_activity_type_id
            if activity_type.res_model and activity_type.res_model != "crm.lead":
                raise ValidationError(
                    self.env._(
                        "%(field)s: the activity type %(type)s is not for "
                        "opportunities (stage %(stage)s).",
                        field=self._fields[
                            "follow_up_activity_type_id"
                        ]._description_string(self.env),
                        type=activity_type.display_name,
                        stage=stage.display_name,
                    )
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
        if {
            "sequence",
            "team_id",
            "standard_stage_id",
            "allow_skip",
            "required_field_ids",
        } & set(vals):
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

    @api.model
    @tools.ormcache()
    def _get_no_skip_stage_ids(self):
        """Return the frozenset of ids of stages that cannot be skipped. Cached
        (cleared with the stage keys) so that, with the defaults, checking a
        stage move costs no query."""
        self.flush_model(["allow_skip"])
        self.env.cr.execute(SQL("SELECT id FROM crm_stage WHERE allow_skip IS FALSE"))
        return frozenset(row[0] for row in self.env.cr.fetchall())

    @api.model
    @tools.ormcache()
    def _get_required_field_names(self):
        """Return {stage id: tuple of crm.lead field names} for the stages that
        have exit criteria. Cached like `_get_pipeline_stage_keys`."""
        self.flush_model(["required_field_ids"])
        self.env.cr.execute(
            SQL(
                """
                SELECT rel.stage_id, f.name
                  FROM crm_stage_required_field_rel rel
                  JOIN ir_model_fields f ON f.id = rel.field_id
                 ORDER BY rel.stage_id, f.id
                """
            )
        )
        result = {}
        for stage_id, field_name in self.env.cr.fetchall():
            result.setdefault(stage_id, ())
            result[stage_id] += (field_name,)
        return result
