# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Run one benchmarked operation on a benchmark database, list its SQL
statements by duration and EXPLAIN ANALYZE the slowest (in a transaction that
is rolled back); with --profile, a cProfile of the operation instead.

    PYTHONPATH=$ODOO_DIR $ODOO_PYTHON bench/tools/explain.py DB SCENARIO [--profile]

Scenarios: stage_write (1 lead, as a manager), stage_analysis (the deepest
read_group of the Stage Analysis pivot), forecast (same for the forecast
pivot), kpis (get_pipeline_kpis, all teams, 12 months), dashboard
(get_pipeline_dashboard, all teams, the last 12 months against the 12
before, as the benchmark loads it), changes (get_pipeline_changes, the last 7
days, all teams), over_time (get_pipeline_over_time, 53 weeks, all
teams). ``--top N`` EXPLAIN ANALYZEs the N slowest statements (1 by
default).
"""

import cProfile
import os
import pstats
import sys
import time
from datetime import timedelta

import odoo
from odoo import SUPERUSER_ID, api
from odoo.sql_db import Cursor
from odoo.tools import SQL

# The Odoo tree that bench/bin/bench found (or installed).
ODOO_DIR = os.environ["ODOO_DIR"]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def scenarios(env):
    manager = env["res.users"].search([("login", "=", "bench_sales_05")])
    today = env.cr.now().date()

    def stage_write():
        stages = env["crm.stage"].search([("team_id", "=", False)], order="sequence")
        lead = env["crm.lead"].search(
            [("type", "=", "opportunity"), ("stage_id", "=", stages[0].id)], limit=1
        )
        lead.with_user(manager).write({"stage_id": stages[1].id})
        env.cr.flush()

    def stage_analysis():
        env["crm.lead.stage.analysis"].with_user(manager).read_group(
            [("lead_type", "=", "opportunity")],
            ["duration_days:avg", "duration_total_days:sum", "__count"],
            ["stage_id", "date_in:month"],
            lazy=False,
        )

    def forecast():
        env["crm.lead"].with_user(manager).read_group(
            [
                ("type", "=", "opportunity"),
                "|",
                ("date_deadline", "=", False),
                ("date_deadline", ">=", today.replace(day=1)),
            ],
            ["prorated_revenue:sum", "historical_revenue:sum", "__count"],
            ["date_deadline:month", "stage_id"],
            lazy=False,
        )

    def kpis():
        env["crm.lead"].with_user(manager).get_pipeline_kpis(
            [], today - timedelta(days=365), today
        )

    def dashboard():
        env["crm.lead"].with_user(manager).get_pipeline_dashboard(
            {"period": "last_12_months", "compare": "previous"}
        )

    def changes():
        env["crm.lead"].with_user(manager).get_pipeline_changes({})

    def over_time():
        env["crm.lead"].with_user(manager).get_pipeline_over_time({"interval": "week"})

    return {
        "stage_write": stage_write,
        "stage_analysis": stage_analysis,
        "forecast": forecast,
        "kpis": kpis,
        "dashboard": dashboard,
        "changes": changes,
        "over_time": over_time,
    }


def main():
    db, scenario = sys.argv[1], sys.argv[2]
    odoo.tools.config.parse_config(
        [
            "-d",
            db,
            "--log-level=warn",
            f"--addons-path={ODOO_DIR}/addons,{ODOO_DIR}/odoo/addons,{REPO}",
        ]
    )
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        func = scenarios(env)[scenario]
        func()  # warm-up
        cr.rollback()
        env.invalidate_all()
        if "--profile" in sys.argv:
            profiler = cProfile.Profile()
            profiler.enable()
            func()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            cr.rollback()
            return
        original = Cursor.execute
        statements = []

        def execute(self, query, params=None, log_exceptions=True):
            started = time.perf_counter()
            result = original(self, query, params, log_exceptions)
            statements.append((time.perf_counter() - started, query, params))
            return result

        Cursor.execute = execute
        started = time.perf_counter()
        func()
        total = time.perf_counter() - started
        Cursor.execute = original
        cr.rollback()
        print(f"{scenario}: {total:.3f} s, {len(statements)} queries")
        for seconds, query, _params in sorted(statements, key=lambda s: -s[0])[:8]:
            code = query.code if isinstance(query, SQL) else str(query)
            print(f"  {seconds:8.3f} s  {' '.join(code.split())[:150]}")
        top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 1
        for _seconds, query, params in sorted(statements, key=lambda s: -s[0])[:top]:
            if isinstance(query, SQL):
                cr.execute(SQL("EXPLAIN (ANALYZE, BUFFERS) %s", query))
            else:
                cr.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, params)
            print("\n".join(row[0] for row in cr.fetchall()))
            print()
        cr.rollback()


if __name__ == "__main__":
    main()
