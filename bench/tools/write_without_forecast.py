# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The stage write measurement (a) with the per-write forecast refresh
switched off, to show what the rest of the addon's write costs.

    PYTHONPATH=$ODOO_DIR $ODOO_PYTHON bench/tools/write_without_forecast.py \
        DB [SIZES [OUT]]
"""

import json
import os
import sys

import odoo
from odoo import SUPERUSER_ID, api

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import measure

# The Odoo tree that bench/bin/bench found (or installed).
ODOO_DIR = os.environ["ODOO_DIR"]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    db = sys.argv[1]
    sizes = [
        int(size) for size in (sys.argv[2] if len(sys.argv) > 2 else "1,100").split(",")
    ]
    odoo.tools.config.parse_config(
        [
            "-d",
            db,
            "--log-level=warn",
            f"--addons-path={ODOO_DIR}/addons,{ODOO_DIR}/odoo/addons,{REPO}",
        ]
    )
    registry = odoo.modules.registry.Registry(db)
    lead_class = registry["crm.lead"]
    original = lead_class._refresh_historical_forecast

    def refresh(self, lead_ids=None, *args, **kwargs):
        if lead_ids is not None:
            return 0  # the per-write refresh, skipped
        return original(self, lead_ids, *args, **kwargs)

    lead_class._refresh_historical_forecast = refresh
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        bench = measure.Bench(env, 3, write_sizes=sizes)
        bench.measure_write()
        cr.rollback()
    out = (
        sys.argv[3]
        if len(sys.argv) > 3
        else os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            "results",
            f"{db}.json",
        )
    )
    results = {}
    if os.path.exists(out):
        with open(out) as file:
            results = json.load(file)
    results["write_without_forecast_refresh"] = bench.results["write"]
    with open(out, "w") as file:
        json.dump(results, file, indent=1, default=str)
    for size, item in bench.results["write"].items():
        print(
            size,
            round(item["addon_s"] * 1000, 1),
            round(item["crm_s"] * 1000, 1),
            round(item["ratio"], 2),
            item["addon_queries"],
            item["crm_queries"],
        )


if __name__ == "__main__":
    main()
