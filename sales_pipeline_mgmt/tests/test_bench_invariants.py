# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The invariant checks that the load test runs after every load and fault
run (bench/invariants.sql through bench/invariants.py) against the addon's
own writes: moves of every kind keep them, and a broken history is caught.
Skipped when the addon is installed without the repository's bench/."""

import importlib.util
import os
from datetime import timedelta

from odoo.tests import tagged
from odoo.tools import SQL

from .common import T0, SalesPipelineCommon

CHECKER = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "invariants.py"
)


def _load_checker():
    path = os.path.normpath(CHECKER)
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location("spm_bench_invariants", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestBenchInvariants(SalesPipelineCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.checker = _load_checker()

    def setUp(self):
        super().setUp()
        if not self.checker:
            self.skipTest("bench/ is not beside the addon (installed from a package)")

    def _results(self):
        # the moves' tracking is written by the precommit hooks
        self.env.cr.flush()
        return {
            result["name"]: result
            for result in self.checker.run_checks_on_cursor(self.env.cr)
        }

    def _breaks(self):
        """Breaks per check over the whole database: the tests compare them
        before and after, whatever the demo data holds."""
        return {
            name: result.get("breaks", 0) for name, result in self._results().items()
        }

    def _lead_breaks(self, leads):
        """What the checks say about ``leads`` themselves: {check: rows}."""
        self.env.cr.flush()
        found = {}
        for check in self.checker.parse_checks():
            self.env.cr.execute(
                SQL(
                    "SELECT key::text || ': ' || detail FROM (%s) breaks "
                    "WHERE key::text = ANY(%s)",
                    # the checks' format() strings hold % signs
                    SQL(check["sql"].replace("%", "%%")),
                    [str(lead.id) for lead in leads],
                )
            )
            if rows := [row[0] for row in self.env.cr.fetchall()]:
                found[check["name"]] = rows
        return found

    def _moved_opportunity(self):
        """An opportunity taken through a skip, a backward move, another skip
        and a win, a day apart."""
        with self._pinned(T0):
            lead = self._create_opportunity()
            self.env.cr.flush()
        stages = [
            self.stage_proposal,
            self.stage_qualified,
            self.stage_negotiation,
            self.stage_won,
        ]
        for days, stage in enumerate(stages, 1):
            with self._pinned(T0 + timedelta(days=days)):
                lead.write({"stage_id": stage.id})
                # one move per transaction, as over RPC: crm tracks a field
                # once per record and transaction (precommit)
                self.env.cr.flush()
        return lead

    def test_moves_of_every_kind_keep_the_invariants(self):
        before = self._breaks()
        lead = self._moved_opportunity()
        with self._pinned(T0 + timedelta(days=9)):
            unstaged = self._create_opportunity(stage_id=False)
            self.env.cr.flush()
            unstaged.write({"stage_id": self.stage_qualified.id})
        self.assertEqual(self._lead_breaks(lead | unstaged), {})
        self.assertEqual(self._breaks(), before)
        self.assertEqual(len(self._stays(lead)), 5)
        self.assertEqual((lead.skipped_stage_count, lead.backward_move_count), (2, 1))

    def test_a_gap_between_stays_and_wrong_counters_are_caught(self):
        lead = self._moved_opportunity()
        before = self._breaks()
        first_stay = self._stays(lead)[0]
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead_stage_history SET date_out = date_out - "
                "interval '1 hour', duration_days = duration_days - 1 / 24.0 "
                "WHERE id = %s",
                first_stay.id,
            )
        )
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET backward_move_count = 2 WHERE id = %s",
                lead.id,
            )
        )
        self.env.invalidate_all()
        after = self._breaks()
        self.assertEqual(after["stays_chain"], before["stays_chain"] + 1)
        self.assertEqual(after["move_counters"], before["move_counters"] + 1)
        self.assertEqual(after["stay_duration"], before["stay_duration"])

    def test_a_lead_without_its_open_stay_is_caught(self):
        lead = self._moved_opportunity()
        before = self._breaks()
        self.env.cr.execute(
            SQL(
                "DELETE FROM crm_lead_stage_history "
                "WHERE lead_id = %s AND date_out IS NULL",
                lead.id,
            )
        )
        self.env.invalidate_all()
        after = self._breaks()
        self.assertEqual(after["one_open_stay"], before["one_open_stay"] + 1)

    def test_the_deal_history_holds_and_a_broken_one_is_caught(self):
        names = (
            "deal_history_current_row",
            "deal_history_chain",
            "deal_history_agrees_with_stays",
        )
        baseline = self._breaks()
        lead = self._moved_opportunity()
        with self._pinned(T0 + timedelta(days=9)):
            lead.write({"expected_revenue": 1234})
            self.env.cr.flush()
        before = self._breaks()
        self.assertEqual(
            {name: before[name] for name in names},
            {name: baseline[name] for name in names},
        )
        self.assertEqual(before["deal_history_current_row"], 0)
        # a current row that is not the lead, and a gap before it
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead_deal_history SET expected_revenue = 1, "
                "date_from = date_from + interval '1 second' "
                "WHERE lead_id = %s AND date_to IS NULL",
                lead.id,
            )
        )
        self.env.invalidate_all()
        after = self._breaks()
        self.assertEqual(
            after["deal_history_current_row"], before["deal_history_current_row"] + 1
        )
        self.assertEqual(after["deal_history_chain"], before["deal_history_chain"] + 1)
