# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""How bench/measure.py folds a run into the results file it reruns into:
the tables of docs/BENCHMARKS.md are rendered from that file, so a figure or
load average of an earlier run must not survive beside a new measurement.
Skipped when the addon is installed without the repository's bench/."""

import importlib.util
import os
import sys

from odoo.tests import BaseCase, tagged

BENCH = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench")
)


def _load_measure():
    path = os.path.join(BENCH, "measure.py")
    if not os.path.exists(path):
        return None
    # measure.py imports its neighbour webclient.py as a top-level module
    sys.path.insert(0, BENCH)
    try:
        spec = importlib.util.spec_from_file_location("spm_bench_measure", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(BENCH)
    return module


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestBenchResults(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.measure = _load_measure()

    def setUp(self):
        super().setUp()
        if not self.measure:
            self.skipTest("bench/ is not beside the addon (installed from a package)")

    def test_a_section_measured_again_replaces_the_stored_one(self):
        stored = {
            "scale": 100000,
            "install": {"wall_s": 50},
            "dashboard": {
                "s": 1.0,
                "queries": 10,
                "measured": "2026-11-30 08:42 UTC",
                "load_before": "3.48 3.93 4.93",
            },
            "write": {"1": {"forward": 1}, "10000": {"forward": 9}},
        }
        measured = {
            "dashboard": {"s": 0.4, "queries": 9},
            "write": {"1": {"forward": 2}, "load_before": "1.00 1.00 1.00"},
        }
        self.measure.merge_results(stored, measured)
        self.assertEqual(
            stored,
            {
                # what this run did not measure stays
                "scale": 100000,
                "install": {"wall_s": 50},
                # no timestamp nor load average of the earlier run
                "dashboard": {"s": 0.4, "queries": 9},
                # no size left out of this run
                "write": {"1": {"forward": 2}, "load_before": "1.00 1.00 1.00"},
            },
        )

    def test_a_scheduled_action_measured_again_keeps_the_others(self):
        stored = {
            "crons": {
                "sales_pipeline_mgmt.ir_cron_follow_up": {"s": 5, "batches": 3},
                "sales_pipeline_mgmt.ir_cron_stall_detection": {"s": 7},
            }
        }
        measured = {"crons": {"sales_pipeline_mgmt.ir_cron_follow_up": {"s": 4}}}
        self.measure.merge_results(stored, measured)
        self.assertEqual(
            stored,
            {
                "crons": {
                    # replaced whole: no "batches" of the earlier pass
                    "sales_pipeline_mgmt.ir_cron_follow_up": {"s": 4},
                    "sales_pipeline_mgmt.ir_cron_stall_detection": {"s": 7},
                }
            },
        )
