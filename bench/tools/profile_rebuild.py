# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""EXPLAIN ANALYZE every statement of the install rebuild, on a benchmark
database where the addon is installed (the history is emptied first, in a
transaction that is rolled back).

    PYTHONPATH=$ODOO_DIR $ODOO_PYTHON bench/tools/profile_rebuild.py DB
"""

import os
import sys
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

# The Odoo tree that bench/bin/bench found (or installed).
ODOO_DIR = os.environ["ODOO_DIR"]

db = sys.argv[1]
odoo.tools.config.parse_config(
    [
        "-d",
        db,
        "--log-level=warn",
        f"--addons-path={ODOO_DIR}/addons,{ODOO_DIR}/odoo/addons," + sys.argv[2]
        if len(sys.argv) > 2
        else f"--addons-path={ODOO_DIR}/addons,{ODOO_DIR}/odoo/addons",
    ]
)
registry = odoo.modules.registry.Registry(db)
with registry.cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {})
    cr.execute(SQL("DELETE FROM crm_lead_stage_history"))
    cr.execute(
        SQL("UPDATE crm_lead SET skipped_stage_count = 0, backward_move_count = 0")
    )
    env.invalidate_all()
    original = type(cr).execute

    def execute(self, query, params=None, log_exceptions=True):
        sql = query.code if isinstance(query, SQL) else query
        head = sql.strip().split(None, 1)[0].upper()
        if (
            head in ("CREATE", "INSERT", "UPDATE", "WITH")
            and "spm_" in sql
            or (head in ("INSERT", "UPDATE") and "crm_lead" in sql)
        ):
            started = time.perf_counter()
            if isinstance(query, SQL):
                query = SQL("EXPLAIN (ANALYZE, BUFFERS) %s", query)
            else:
                query = "EXPLAIN (ANALYZE, BUFFERS) " + query
            original(self, query, params, log_exceptions)
            plan = "\n".join(row[0] for row in self.fetchall())
            print(
                f"==== {time.perf_counter() - started:.2f} s\n"
                f"{sql.strip()[:200]}\n{plan}\n",
                flush=True,
            )
            return None
        return original(self, query, params, log_exceptions)

    type(cr).execute = execute
    started = time.perf_counter()
    print(env["crm.lead.stage.history"]._rebuild_from_tracking())
    print(f"total {time.perf_counter() - started:.1f} s")
    type(cr).execute = original
    cr.rollback()
