# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .crm_lead_deal_history import RETENTION_PARAM


class ResConfigSettings(models.TransientModel):
    # one class per feature, like res_company_pipeline_health.py
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited

    deal_history_retention_days = fields.Integer(
        string="Keep Deal History (days)",
        config_parameter=RETENTION_PARAM,
        default=0,
        help="Deal-history rows replaced more than this many days ago are "
        "deleted by the daily purge; 0 keeps everything. The pipeline of a "
        "date older than that can then no longer be read back.",
    )

    @api.constrains("deal_history_retention_days")
    def _check_deal_history_retention_days(self):
        for settings in self:
            if settings.deal_history_retention_days < 0:
                raise ValidationError(
                    self.env._(
                        "Keep Deal History (days): %(value)s is negative; 0 "
                        "keeps everything.",
                        value=settings.deal_history_retention_days,
                    )
                )
