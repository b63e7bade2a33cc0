# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models
from odoo.exceptions import ValidationError

# The addon's system parameters: {key: (smallest, largest value)}, whole
# numbers. Their readers fall back to the default on a value they cannot
# use; refusing it here tells the administrator at once.
PIPELINE_PARAMETER_BOUNDS = {
    # deals that entered a stage in both periods compared
    "sales_pipeline_mgmt.bottleneck_min_sample": (1, 1000000),
    # opportunities per call of a pipeline health job
    "sales_pipeline_mgmt.pipeline_health_batch_size": (1, 100000),
}


class IrConfigParameter(models.Model):
    _inherit = "ir.config_parameter"

    @api.constrains("key", "value")
    def _check_pipeline_parameter_value(self):
        for parameter in self:
            bounds = PIPELINE_PARAMETER_BOUNDS.get(parameter.key)
            if not bounds:
                continue
            try:
                value = int(parameter.value.strip())
            except ValueError:
                value = None
            if value is None or not bounds[0] <= value <= bounds[1]:
                raise ValidationError(
                    self.env._(
                        "%(key)s: %(value)r is not valid (expected a whole number "
                        "from %(min)s to %(max)s).",
                        key=parameter.key,
                        value=parameter.value,
                        min=bounds[0],
                        max=bounds[1],
                    )
                )
