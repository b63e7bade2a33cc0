# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from .common import T0, SalesPipelineCommon


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestStageHistorySecurity(SalesPipelineCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lead_model = cls.env["crm.lead"]
        cls.lead_mine = lead_model.create(
            cls._lead_values("Mine", cls.user_salesman, cls.company)
        )
        cls.lead_unassigned = lead_model.create(
            cls._lead_values("Unassigned", False, cls.company)
        )
        cls.lead_colleague = lead_model.create(
            cls._lead_values("Colleague", cls.user_salesman_2, cls.company)
        )
        cls.lead_lost = lead_model.create(
            cls._lead_values("Lost", cls.user_salesman, cls.company)
        )
        cls.lead_lost.action_set_lost()
        cls.team_2 = cls.env["crm.team"].create(
            {"name": "SPM Team 2", "company_id": cls.company_2.id}
        )
        cls.lead_other_company = lead_model.create(
            dict(
                cls._lead_values("Other company", False, cls.company_2),
                team_id=cls.team_2.id,
            )
        )
        cls.all_leads = (
            cls.lead_mine
            | cls.lead_unassigned
            | cls.lead_colleague
            | cls.lead_lost
            | cls.lead_other_company
        )

    @classmethod
    def _lead_values(cls, name, user, company):
        return {
            "name": name,
            "type": "opportunity",
            "team_id": cls.team.id,
            "stage_id": cls.stage_new.id,
            "user_id": user.id if user else False,
            "company_id": company.id,
        }

    def _visible_leads(self, model="crm.lead.stage.history"):
        return (
            self.env[model]
            .search([("lead_id", "in", self.all_leads.ids)])
            .mapped("lead_id")
            .with_context(active_test=False)
        )

    @users("spm_salesman")
    def test_salesman_sees_the_history_of_own_and_unassigned_leads(self):
        expected = self.lead_mine | self.lead_unassigned | self.lead_lost
        self.assertEqual(self._sorted(self._visible_leads()), self._sorted(expected))
        self.assertEqual(
            self._sorted(self._visible_leads("crm.lead.stage.analysis")),
            self._sorted(expected),
        )
        # exactly the leads the salesman can see
        visible_leads = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search([("id", "in", self.all_leads.ids)])
        )
        self.assertEqual(self._sorted(visible_leads), self._sorted(expected))

    @users("spm_salesman_all")
    def test_salesman_with_all_documents_sees_the_company_history(self):
        expected = self.all_leads - self.lead_other_company
        self.assertEqual(self._sorted(self._visible_leads()), self._sorted(expected))

    @users("spm_other_company")
    def test_other_company_sees_only_its_own_history(self):
        self.assertEqual(self._visible_leads(), self.lead_other_company)

    @users("spm_manager")
    def test_nobody_writes_history_by_hand(self):
        history_model = self.env["crm.lead.stage.history"]
        stay = history_model.search([("lead_id", "=", self.lead_mine.id)])
        self.assertTrue(stay)
        with self.assertRaises(AccessError):
            history_model.create(
                {
                    "lead_id": self.lead_mine.id,
                    "stage_id": self.stage_won.id,
                    "date_in": T0,
                    "move_type": "forward",
                }
            )
        with self.assertRaises(AccessError):
            stay.write({"date_in": T0})
        with self.assertRaises(AccessError):
            stay.unlink()

    def _sorted(self, records):
        return sorted(records.ids)
