# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    # fill the forecast statistics (and bring every lead's forecast up to
    # date): a stage move reads them
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.lead"]._refresh_historical_forecast()
