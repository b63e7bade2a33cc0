# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models
from odoo.exceptions import ValidationError


class CrmPipelineSettingMixin(models.AbstractModel):
    """The one check of the numbers the pipeline features read from stages,
    standard stages, teams and companies (days, limits, sample sizes): each
    model lists the fields that cannot be negative and those that must be
    greater than zero, and extends the lists with super() per feature."""

    _name = "crm.pipeline.setting.mixin"
    _description = "Pipeline Setting Checks"

    @api.model
    def _get_non_negative_setting_fields(self):
        """Names of the integer fields that cannot be negative (0 = off)."""
        return []

    @api.model
    def _get_positive_setting_fields(self):
        """Names of the integer fields that must be greater than zero."""
        return []

    @api.constrains(
        lambda self: [
            *self._get_non_negative_setting_fields(),
            *self._get_positive_setting_fields(),
        ]
    )
    def _check_setting_values(self):
        non_negative = self._get_non_negative_setting_fields()
        positive = self._get_positive_setting_fields()
        for record in self:
            for fname in non_negative:
                if record[fname] < 0:
                    raise ValidationError(
                        self.env._(
                            "%(field)s cannot be negative (%(record)s).",
                            field=self._fields[fname]._description_string(self.env),
                            record=record.display_name,
                        )
                    )
            for fname in positive:
                if record[fname] <= 0:
                    raise ValidationError(
                        self.env._(
                            "%(field)s must be greater than zero (%(record)s).",
                            field=self._fields[fname]._description_string(self.env),
                            record=record.display_name,
                        )
                    )
