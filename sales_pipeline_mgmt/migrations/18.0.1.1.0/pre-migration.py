# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tools import SQL
from odoo.tools.sql import column_exists, table_exists


def migrate(cr, version):
    # The forecast statistics were a plain table without an id; they are now
    # the model crm.lead.forecast.stat, whose table the ORM creates. The old
    # table is a cache: post-migration fills the new one.
    if table_exists(cr, "crm_lead_forecast_stat") and not column_exists(
        cr, "crm_lead_forecast_stat", "id"
    ):
        cr.execute(SQL("DROP TABLE crm_lead_forecast_stat"))
