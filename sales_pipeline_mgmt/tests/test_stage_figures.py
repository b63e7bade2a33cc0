# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo.tests import tagged, users
from odoo.tools import SQL

from ..hooks import _fill_standard_stages
from .common import T0, SalesPipelineCommon


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestStageFigures(SalesPipelineCommon):
    """Three leads moved with a pinned clock (days after T0):

    lead_a (salesman):   new 0-2, qualified 2-3, proposal 3-4, qualified 4-6
                         (backward), won 6 (skips negotiation)
    lead_b (salesman):   new 0-1, qualified 1-, lost at 2 (stays in qualified)
    lead_c (salesman_2): new 0-, open
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # history of existing (demo) leads would mix into the figures
        cls.env["crm.lead"].with_context(active_test=False).search([]).unlink()
        with cls._pinned_cls(T0):
            cls.lead_a = cls._new_lead("A", cls.user_salesman)
            cls.lead_b = cls._new_lead("B", cls.user_salesman)
            cls.lead_c = cls._new_lead("C", cls.user_salesman_2)
        cls._move(1, cls.lead_b, cls.stage_qualified)
        cls._move(2, cls.lead_a, cls.stage_qualified)
        with cls._pinned_cls(T0 + timedelta(days=2)):
            cls.lead_b.action_set_lost()
        cls._move(3, cls.lead_a, cls.stage_proposal)
        cls._move(4, cls.lead_a, cls.stage_qualified)
        cls._move(6, cls.lead_a, cls.stage_won)

    @classmethod
    def _pinned_cls(cls, when):
        return SalesPipelineCommon._pinned(cls, when)

    @classmethod
    def _new_lead(cls, name, user):
        lead = cls.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "team_id": cls.team.id,
                "user_id": user.id,
                "stage_id": cls.stage_new.id,
            }
        )
        lead.flush_recordset()
        return lead

    @classmethod
    def _move(cls, days, lead, stage):
        with cls._pinned_cls(T0 + timedelta(days=days)):
            lead.write({"stage_id": stage.id})
            lead.flush_recordset()

    @users("spm_manager")
    def test_figures_per_stage(self):
        stages = self.env["crm.stage"].browse(self.team_stages.ids)
        new, qualified, proposal = stages[0], stages[1], stages[2]
        # new: finished stays A 2 days, B 1 day -> 1.5; C is still there;
        # both finished stays moved forward; entered by A, B, C, closed A (won)
        # and B (lost) -> 1 / 2 won
        self.assertAlmostEqual(new.avg_days_in_stage, 1.5)
        self.assertEqual(new.current_lead_count, 1)
        self.assertAlmostEqual(new.forward_rate, 100.0)
        self.assertAlmostEqual(new.stage_win_rate, 50.0)
        # qualified: finished A 2-3 (1 day, forward) and A 4-6 (2 days, forward
        # by a skip) -> 1.5 days, 100 %; B stays but is lost: not counted now
        self.assertAlmostEqual(qualified.avg_days_in_stage, 1.5)
        self.assertEqual(qualified.current_lead_count, 0)
        self.assertAlmostEqual(qualified.forward_rate, 100.0)
        self.assertAlmostEqual(qualified.stage_win_rate, 50.0)
        # proposal: A 3-4 (1 day) went backward -> 0 % forward; A won
        self.assertAlmostEqual(proposal.avg_days_in_stage, 1.0)
        self.assertAlmostEqual(proposal.forward_rate, 0.0)
        self.assertAlmostEqual(proposal.stage_win_rate, 100.0)
        # negotiation: never entered
        self.assertEqual(stages[3].avg_days_in_stage, 0.0)
        self.assertEqual(stages[3].stage_win_rate, 0.0)
        # won: A is there now
        self.assertEqual(stages[4].current_lead_count, 1)

    @users("spm_manager")
    def test_figures_per_standard_stage_in_one_query(self):
        standard_stages = self.env["crm.standard.stage"].browse(
            (self.standard_awareness | self.standard_interest).ids
        )
        # read once for the caches of the rules, then one query for all
        standard_stages.mapped("avg_days_in_stage")
        standard_stages.invalidate_recordset()
        with self.assertQueryCount(spm_manager=1):
            standard_stages.mapped("avg_days_in_stage")
        # the team's stages are the only ones mapped with history: as above
        self.assertAlmostEqual(standard_stages[0].avg_days_in_stage, 1.5)
        self.assertEqual(standard_stages[0].current_lead_count, 1)
        self.assertAlmostEqual(standard_stages[1].forward_rate, 100.0)
        self.assertAlmostEqual(standard_stages[1].stage_win_rate, 50.0)

    @users("spm_salesman_2")
    def test_salesman_figures_come_from_visible_leads(self):
        # salesman_2 sees only C (A and B belong to salesman): new has no
        # finished stay and no closed lead, C is there now
        new = self.env["crm.stage"].browse(self.stage_new.id)
        self.assertEqual(new.avg_days_in_stage, 0.0)
        self.assertEqual(new.current_lead_count, 1)
        self.assertEqual(new.stage_win_rate, 0.0)
        figures = self.env["crm.lead.stage.history"]._read_stage_figures(
            "stage_id", self.stage_new.ids
        )
        self.assertIsNone(figures[self.stage_new.id]["avg_days"])
        self.assertIsNone(figures[self.stage_new.id]["win_rate"])

    @users("spm_manager")
    def test_funnel_counts_and_conversion(self):
        groups = self.env["crm.lead.funnel"]._read_group(
            [("team_id", "=", self.team.id)],
            ["standard_stage_id"],
            ["__count", "next_reached_rate:avg"],
        )
        funnel = {standard.code: (count, rate) for standard, count, rate in groups}
        # reached: awareness A B C; interest A B; consideration A; decision A
        # (skipped, but went past it); purchase A
        # conversion: 2 / 3, 1 / 2, 1 / 1, 1 / 1, last stage has no next
        self.assertEqual(funnel["awareness"][0], 3)
        self.assertAlmostEqual(funnel["awareness"][1], 200 / 3)
        self.assertEqual(funnel["interest"], (2, 50.0))
        self.assertEqual(funnel["consideration"], (1, 100.0))
        self.assertEqual(funnel["decision"], (1, 100.0))
        self.assertEqual(funnel["purchase"][0], 1)
        self.assertFalse(funnel["purchase"][1])

    @users("spm_salesman_2")
    def test_funnel_of_a_salesman(self):
        groups = self.env["crm.lead.funnel"]._read_group(
            [], ["standard_stage_id"], ["__count"]
        )
        # only C: awareness, and never further
        self.assertEqual(
            [(standard.code, count) for standard, count in groups],
            [("awareness", 1)],
        )

    def test_reports_see_the_writes_not_flushed_yet(self):
        # written in the ORM's cache only: the reports flush what they read
        self.lead_c.type = "lead"
        analysis = self.env["crm.lead.stage.analysis"].search(
            [("lead_id", "=", self.lead_c.id), ("lead_type", "=", "lead")]
        )
        self.assertEqual(len(analysis), 1)
        self.lead_c.user_id = self.user_salesman
        funnel = self.env["crm.lead.funnel"].search(
            [("lead_id", "=", self.lead_c.id), ("user_id", "=", self.user_salesman.id)]
        )
        self.assertEqual(len(funnel), 1)

    def test_install_hook_maps_the_stays_recorded_before_it(self):
        # stays recorded while the stage was not mapped yet (demo data is
        # loaded before the install hook maps Odoo's default stages)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead_stage_history SET standard_stage_id = NULL"
                " WHERE lead_id = %s",
                self.lead_c.id,
            )
        )
        _fill_standard_stages(self.env, "crm.lead.stage.history")
        self.assertEqual(
            self._stays(self.lead_c).standard_stage_id, self.standard_awareness
        )
