# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Make a generated database ready for the load test (run by
bench/topology.py, in-process like bench/generate.py):

- the generated salespeople (bench_sales_NN) get a password, so that the
  load test can log in over HTTP, and the "all documents" right, so that
  every rep may move every opportunity of the shared hot set;
- with --pipeline-health (the addon's copy): the pipeline health jobs are
  switched on for the company as in bench/measure.py (follow-ups, stall
  detection, an overload limit of 200 per team), their batch size set to
  200 so that a pass commits several batches, and their scheduled actions
  activated as the settings would.

    PYTHONPATH=$ODOO_DIR $ODOO_PYTHON bench/topology_prepare.py --db NAME \
        --password bench [--pipeline-health]
"""

import argparse
import os

import odoo
from odoo import SUPERUSER_ID, api

BATCH_SIZE = 200


def prepare_reps(env, password):
    users = env["res.users"].search([("login", "=like", "bench_sales_%")])
    if not users:
        raise SystemExit("No generated salespeople: run bench/generate.py first.")
    all_leads = env.ref("sales_team.group_sale_salesman_all_leads")
    users.write({"password": password, "groups_id": [(4, all_leads.id)]})
    print(f"  {len(users)} salespeople: password set, all documents", flush=True)


def enable_pipeline_health(env):
    env["res.company"].search([]).write(
        {
            "pipeline_follow_up_enabled": True,
            "pipeline_stall_enabled": True,
            "pipeline_max_open_opportunities": 200,
        }
    )
    env["crm.team"].search([]).write({"max_open_opportunities": 200})
    env["ir.config_parameter"].set_param(
        "sales_pipeline_mgmt.pipeline_health_batch_size", str(BATCH_SIZE)
    )
    cron_ids = (
        env["ir.model.data"]
        .search([("module", "=", "sales_pipeline_mgmt"), ("model", "=", "ir.cron")])
        .mapped("res_id")
    )
    crons = env["ir.cron"].with_context(active_test=False).browse(cron_ids)
    crons.write({"active": True})
    print(f"  pipeline health on; {len(crons)} scheduled actions active", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--pipeline-health", action="store_true")
    parser.add_argument(
        "--addons-path",
        default="{0}/addons,{0}/odoo/addons,".format(os.environ.get("ODOO_DIR", ""))
        + os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    args = parser.parse_args()
    odoo.tools.config.parse_config(
        ["-d", args.db, "--log-level=warn", f"--addons-path={args.addons_path}"]
    )
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        prepare_reps(env, args.password)
        if args.pipeline_health:
            enable_pipeline_health(env)
        # the cursor commits on exit


if __name__ == "__main__":
    main()
