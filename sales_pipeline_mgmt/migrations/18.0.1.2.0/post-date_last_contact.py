# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    # The follow-up job reads the leads' last contact from a column the
    # upgrade just created empty: fill it from the messages, creation and
    # last stage change, in one statement (rows already right are left).
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.lead"]._recompute_last_contact()
