# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import SUPERUSER_ID, api

from odoo.addons.sales_pipeline_mgmt.hooks import _lead_rewrite_indexes_suspended


def migrate(cr, version):
    # The follow-up job reads the leads' last contact from a column the
    # upgrade just created empty: fill it from the messages, creation and
    # last stage change, in one statement (rows already right are left).
    # It rewrites every lead: crm_lead's indexes are built again after it
    # rather than updated row by row, as at install.
    env = api.Environment(cr, SUPERUSER_ID, {})
    with _lead_rewrite_indexes_suspended(cr):
        env["crm.lead"]._recompute_last_contact()
