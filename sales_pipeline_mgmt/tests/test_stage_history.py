# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
from datetime import timedelta

from odoo.tests import tagged, users

from odoo.addons.sales_pipeline_mgmt.models.crm_lead import CrmLead

from .common import T0, SalesPipelineCommon


def write_without_addon(leads, vals):
    """crm.lead's write as it is without this addon (crm and below)."""
    return super(CrmLead, leads).write(vals)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestStageHistory(SalesPipelineCommon):
    @users("spm_salesman")
    def test_create_opens_an_initial_stay(self):
        with self._pinned(T0):
            lead = self._create_opportunity(self.env)
        stay = self._stays(lead)
        self.assertEqual(len(stay), 1)
        self.assertEqual(stay.stage_id, self.stage_new)
        self.assertEqual(stay.move_type, "initial")
        self.assertEqual(stay.date_in, T0)
        self.assertFalse(stay.date_out)
        self.assertFalse(stay.previous_stage_id)
        self.assertEqual(stay.user_id, self.user_salesman)
        self.assertEqual(stay.team_id, self.team)
        self.assertEqual(stay.company_id, self.company)
        self.assertEqual(stay.standard_stage_id, self.standard_awareness)
        self.assertEqual(lead.standard_stage_id, self.standard_awareness)

    @users("spm_salesman")
    def test_skip_then_backward_move(self):
        with self._pinned(T0):
            lead = self._create_opportunity(self.env)
        # New (1) -> Proposal (3) jumps over Qualified (2): one skipped stage,
        # after a stay of 1 day and 6 hours = 1.25 days.
        with self._pinned(T0 + timedelta(days=1, hours=6)):
            lead.write({"stage_id": self.stage_proposal.id})
        # Proposal (3) -> Qualified (2) is a backward move, 12 hours later.
        with self._pinned(T0 + timedelta(days=1, hours=18)):
            lead.write({"stage_id": self.stage_qualified.id})
        first, second, third = self._stays(lead)
        self.assertEqual(first.date_out, T0 + timedelta(days=1, hours=6))
        self.assertAlmostEqual(first.duration_days, 1.25)
        self.assertEqual(
            (second.stage_id, second.previous_stage_id, second.move_type),
            (self.stage_proposal, self.stage_new, "skip"),
        )
        self.assertEqual(second.skipped_stage_count, 1)
        self.assertEqual(second.date_in, first.date_out)
        self.assertAlmostEqual(second.duration_days, 0.5)
        self.assertEqual(
            (third.stage_id, third.move_type, third.skipped_stage_count),
            (self.stage_qualified, "backward", 0),
        )
        self.assertFalse(third.date_out)
        self.assertEqual(lead.skipped_stage_count, 1)
        self.assertEqual(lead.backward_move_count, 1)

    @users("spm_salesman")
    def test_forward_move_to_next_stage(self):
        with self._pinned(T0):
            lead = self._create_opportunity(self.env)
        with self._pinned(T0 + timedelta(hours=2)):
            lead.write({"stage_id": self.stage_qualified.id})
        stay = self._stays(lead)[-1]
        self.assertEqual((stay.move_type, stay.skipped_stage_count), ("forward", 0))
        self.assertEqual(lead.skipped_stage_count, 0)
        self.assertEqual(lead.backward_move_count, 0)

    @users("spm_salesman")
    def test_writing_the_same_stage_records_nothing(self):
        lead = self._create_opportunity(self.env)
        lead.write({"stage_id": self.stage_new.id, "name": "Renamed"})
        self.assertEqual(len(self._stays(lead)), 1)

    @users("spm_salesman")
    def test_won_lost_and_restore(self):
        with self._pinned(T0):
            lead = self._create_opportunity(
                self.env, stage_id=self.stage_negotiation.id
            )
        with self._pinned(T0 + timedelta(days=2)):
            lead.action_set_won()
        stays = self._stays(lead)
        self.assertEqual(stays.stage_id, self.stage_negotiation | self.stage_won)
        self.assertEqual(stays[-1].move_type, "forward")
        # Lost and restored leads keep their stage: no stay starts or ends.
        other = self._create_opportunity(self.env, stage_id=self.stage_proposal.id)
        other.action_set_lost()
        self.assertFalse(other.active)
        other.toggle_active()
        self.assertTrue(other.active)
        self.assertEqual(len(self._stays(other)), 1)
        self.assertFalse(self._stays(other).date_out)

    @users("spm_manager")
    def test_batch_move_of_fifty_leads(self):
        with self._pinned(T0):
            leads = self.env["crm.lead"].create(
                [
                    {
                        "name": f"Batch {index}",
                        "type": "opportunity",
                        "team_id": self.team.id,
                        "stage_id": self.stage_new.id,
                        "user_id": self.user_salesman.id,
                    }
                    for index in range(50)
                ]
            )
        with self._pinned(T0 + timedelta(days=3)):
            leads.write({"stage_id": self.stage_negotiation.id})
        history = self.env["crm.lead.stage.history"].search(
            [("lead_id", "in", leads.ids)]
        )
        self.assertEqual(len(history), 100)
        moved = history.filtered(lambda stay: stay.stage_id == self.stage_negotiation)
        self.assertEqual(len(moved), 50)
        # New (1) -> Negotiation (4) skips Qualified and Proposal
        self.assertEqual(set(moved.mapped("skipped_stage_count")), {2})
        self.assertEqual(set(moved.mapped("move_type")), {"skip"})
        closed = history - moved
        self.assertEqual(set(closed.mapped("duration_days")), {3.0})
        self.assertEqual(set(leads.mapped("skipped_stage_count")), {2})

    @users("spm_salesman")
    def test_conversion_keeps_or_starts_the_stay(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "SPM Lead",
                "type": "lead",
                "team_id": self.team.id,
                "user_id": self.user_salesman.id,
                "stage_id": self.stage_new.id,
            }
        )
        lead.convert_opportunity(self.env["res.partner"])
        self.assertEqual(lead.type, "opportunity")
        self.assertEqual(len(self._stays(lead)), 1)
        # A lead without stage gets its first stay when conversion gives it one.
        stageless = self.env["crm.lead"].create(
            {"name": "SPM Stageless", "type": "lead", "team_id": self.team.id}
        )
        stageless.write({"stage_id": False})
        stageless.convert_opportunity(self.env["res.partner"])
        self.assertEqual(stageless.stage_id, self.stage_new)
        stays = self._stays(stageless)
        self.assertEqual(stays[-1].stage_id, self.stage_new)
        self.assertFalse(stays[-1].date_out)
        # emptying the stage ended the first stay
        self.assertTrue(all(stay.date_out for stay in stays[:-1]))

    @users("spm_manager")
    def test_import_with_stage_names(self):
        csv = (
            "name,type,team_id,stage_id\nImported A,opportunity,SPM Team,SPM Proposal\n"
        )
        importer = self.env["base_import.import"].create(
            {
                "res_model": "crm.lead",
                "file": base64.b64decode(base64.b64encode(csv.encode())),
                "file_type": "text/csv",
                "file_name": "leads.csv",
            }
        )
        result = importer.execute_import(
            ["name", "type", "team_id", "stage_id"],
            ["name", "type", "team_id", "stage_id"],
            {"has_headers": True, "separator": ",", "quoting": '"'},
        )
        self.assertFalse(result["messages"], result["messages"])
        lead = self.env["crm.lead"].browse(result["ids"])
        stay = self._stays(lead)
        self.assertEqual(stay.stage_id, self.stage_proposal)
        self.assertEqual(stay.move_type, "initial")

    @users("spm_manager")
    def test_merge_keeps_the_surviving_history(self):
        with self._pinned(T0):
            head = self._create_opportunity(self.env, expected_revenue=1000)
            tail = self._create_opportunity(
                self.env, name="Duplicate", stage_id=self.stage_qualified.id
            )
        with self._pinned(T0 + timedelta(days=1)):
            head.write({"stage_id": self.stage_proposal.id})
        head_stays = self._stays(head)
        tail_id = tail.id
        merged = (head | tail)._merge_opportunity(auto_unlink=True)
        self.assertEqual(merged, head)
        self.assertFalse(
            self.env["crm.lead.stage.history"]
            .sudo()
            .search_count([("lead_id", "=", tail_id)])
        )
        self.assertEqual(self._stays(head)[: len(head_stays)], head_stays)

    def test_deleting_a_lead_deletes_its_history(self):
        lead = self._create_opportunity()
        lead.write({"stage_id": self.stage_qualified.id})
        lead_id = lead.id
        lead.unlink()
        self.assertFalse(
            self.env["crm.lead.stage.history"].search_count([("lead_id", "=", lead_id)])
        )

    def test_days_in_stage(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        with self._pinned(T0 + timedelta(days=2, hours=12)):
            lead.invalidate_recordset(["days_in_stage"])
            self.assertAlmostEqual(lead.days_in_stage, 2.5)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestStageHistoryQueries(SalesPipelineCommon):
    """The cost of the history on the hottest path of the CRM: lead writes."""

    def _queries(self, func):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        func()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def _create_leads(self, count):
        return self.env["crm.lead"].create(
            [
                {
                    "name": f"Query {index}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.stage_new.id,
                    "user_id": self.user_salesman.id,
                }
                for index in range(count)
            ]
        )

    @users("spm_manager")
    def test_a_write_without_stage_costs_nothing(self):
        leads = self._create_leads(10)
        twins = self._create_leads(10)
        # warm the caches (access rules, stage prefetch) for both paths
        leads.write({"priority": "3"})
        write_without_addon(twins, {"priority": "3"})
        with_addon = self._queries(lambda: leads.write({"priority": "2"}))
        # the same write skipping this addon's override (crm and below only)
        without_addon = self._queries(
            lambda: write_without_addon(twins, {"priority": "2"})
        )
        self.assertEqual(with_addon, without_addon)

    @users("spm_manager")
    def test_stage_write_costs_the_same_for_1_and_50_leads(self):
        added = {}
        for count in (1, 50):
            leads = self._create_leads(count)
            twins = self._create_leads(count)
            # twice each, the second measure on warm caches
            for stage in (self.stage_qualified, self.stage_proposal):
                with_addon = self._queries(
                    lambda leads=leads, stage=stage: leads.write({"stage_id": stage.id})
                )
                without_addon = self._queries(
                    lambda twins=twins, stage=stage: write_without_addon(
                        twins, {"stage_id": stage.id}
                    )
                )
            added[count] = with_addon - without_addon
        # whatever the batch size: one statement closes the current stays and
        # deal history rows and inserts the new ones, one SELECT computes the
        # moved leads' forecast and health score, and the flush reads the
        # company currency that rounds its monetary fields (which crm's
        # tracking reads at commit anyway) and the last contact (measured)
        self.assertEqual(added, {1: 4, 50: 4})

    @users("spm_manager")
    def test_stage_write_query_count_guard(self):
        # measured, mail tracking of the moved leads included; the addon's
        # share is the 4 queries of the test above (nothing left for the
        # commit). The company of one lead is read by the write (its
        # forecast and score settings, for the SELECT of the move) rather
        # than by crm's tracking at commit: 31 and 416 before.
        for count, expected in ((1, 33), (50, 415)):
            leads = self._create_leads(count)
            leads.write({"stage_id": self.stage_qualified.id})
            self.env.flush_all()
            self.env.invalidate_all()
            with self.assertQueryCount(spm_manager=expected):
                leads.write({"stage_id": self.stage_proposal.id})
