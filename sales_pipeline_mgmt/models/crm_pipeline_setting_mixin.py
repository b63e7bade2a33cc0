# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models
from odoo.exceptions import ValidationError

# The largest value that makes sense for each setting; a field not listed
# gets PostgreSQL's largest integer, so that a huge number is refused with a
# message naming it rather than by the database ("integer out of range").
SETTING_MAXIMUMS = {
    # days: ten years
    "stall_days": 3650,
    "follow_up_days": 3650,
    "pipeline_stall_days": 3650,
    "pipeline_follow_up_days": 3650,
    "forecast_optimistic_margin_days": 3650,
    # open opportunities per salesperson
    "max_open_opportunities": 100000,
    "pipeline_max_open_opportunities": 100000,
    # history window: twenty years; accuracy lead time: ten years
    "forecast_history_months": 240,
    "forecast_accuracy_lead_weeks": 520,
    # closed leads
    "forecast_min_sample": 1000000,
}
INT4_MAX = 2**31 - 1


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

    @api.model
    def _get_setting_maximums(self):
        """{field name: largest value allowed} of the checked fields."""
        return {
            fname: SETTING_MAXIMUMS.get(fname, INT4_MAX)
            for fname in (
                *self._get_non_negative_setting_fields(),
                *self._get_positive_setting_fields(),
            )
        }

    @api.model
    def _check_setting_input(self, vals):
        """Check the values given to the checked fields before they reach the
        record: a whole number within bounds (a create inserts before its
        constraints run, so PostgreSQL would be the first to see them)."""
        maximums = self._get_setting_maximums()
        for fname, maximum in maximums.items():
            if fname not in vals:
                continue
            value = vals[fname]
            if value is False or value is None:
                continue  # empty: 0, as Odoo stores it
            whole = (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, float) and value.is_integer()
            )
            if not whole:
                raise ValidationError(
                    self.env._(
                        "%(field)s: %(value)r is not a whole number.",
                        field=self._fields[fname]._description_string(self.env),
                        value=value,
                    )
                )
            if value > maximum:
                raise ValidationError(
                    self.env._(
                        "%(field)s cannot be more than %(maximum)s (%(value)s given).",
                        field=self._fields[fname]._description_string(self.env),
                        maximum=maximum,
                        value=value,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_setting_input(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_setting_input(vals)
        return super().write(vals)

    @api.constrains(
        lambda self: [
            *self._get_non_negative_setting_fields(),
            *self._get_positive_setting_fields(),
        ]
    )
    def _check_setting_values(self):
        non_negative = self._get_non_negative_setting_fields()
        positive = self._get_positive_setting_fields()
        maximums = self._get_setting_maximums()
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
            for fname, maximum in maximums.items():
                if record[fname] > maximum:
                    raise ValidationError(
                        self.env._(
                            "%(field)s cannot be more than %(maximum)s (%(record)s).",
                            field=self._fields[fname]._description_string(self.env),
                            maximum=maximum,
                            record=record.display_name,
                        )
                    )
