# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import HttpCase, tagged

from .common import SalesPipelineCommon
from .test_ui import _browser_prerequisites_missing


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineChangesTour(HttpCase, SalesPipelineCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        missing = _browser_prerequisites_missing()
        if missing:
            raise AssertionError("; ".join(missing))

    def test_manager_opens_the_won_deals_of_the_waterfall(self):
        deals = self._create_opportunity(name="SPM Won Deal 1") | (
            self._create_opportunity(name="SPM Won Deal 2")
        )
        # the deals were open before the period (the last 7 days): their
        # first rows are moved back, as if created ten days ago
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead_deal_history SET date_from = date_from - interval "
            "'10 days' WHERE lead_id IN %s",
            [tuple(deals.ids)],
        )
        self.env["crm.lead.deal.history"].invalidate_model()
        deals.action_set_won()
        self.env.flush_all()
        self.start_tour(
            "/odoo",
            "sales_pipeline_mgmt_pipeline_changes",
            login=self.user_manager.login,
        )
