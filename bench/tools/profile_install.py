# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Install the addon on DB (a fresh copy of a crm-only benchmark template) in
this process and print every SQL statement slower than 0.3 s.

    PYTHONPATH=$ODOO_DIR $ODOO_PYTHON bench/tools/profile_install.py DB [REPO]
"""

import os
import sys
import time

import odoo
from odoo.sql_db import Cursor
from odoo.tools import SQL

# The Odoo tree that bench/bin/bench found (or installed).
ODOO_DIR = os.environ["ODOO_DIR"]

db = sys.argv[1]
repo = sys.argv[2] if len(sys.argv) > 2 else os.getcwd()
odoo.tools.config.parse_config(
    [
        "-d",
        db,
        "--log-level=warn",
        "--without-demo=all",
        f"--addons-path={ODOO_DIR}/addons,{ODOO_DIR}/odoo/addons,{repo}",
        "-i",
        "sales_pipeline_mgmt",
    ]
)
original = Cursor.execute
slow = []


def execute(self, query, params=None, log_exceptions=True):
    started = time.perf_counter()
    try:
        return original(self, query, params, log_exceptions)
    finally:
        elapsed = time.perf_counter() - started
        if elapsed > 0.3:
            sql = query.code if isinstance(query, SQL) else str(query)
            slow.append((elapsed, " ".join(sql.split())[:160]))
            print(f"{elapsed:7.2f} s  {slow[-1][1]}", flush=True)


Cursor.execute = execute
started = time.perf_counter()
odoo.modules.registry.Registry.new(db, update_module=True)
print(
    f"total {time.perf_counter() - started:.1f} s; slow statements "
    f"{sum(s for s, _ in slow):.1f} s"
)
