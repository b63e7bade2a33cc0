# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged, users

from .common import SalesPipelineCommon

ACTIONS = (
    "sales_pipeline_mgmt.crm_lead_funnel_action",
    "sales_pipeline_mgmt.crm_lead_action_source_analysis",
)
MENUS = (
    "sales_pipeline_mgmt.crm_lead_menu_pipeline_dashboard",
    "sales_pipeline_mgmt.crm_lead_funnel_menu",
)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineKpiViews(SalesPipelineCommon):
    def _check_actions_and_menus_open(self):
        visible_menu_ids = self.env["ir.ui.menu"]._visible_menu_ids()
        for xmlid in MENUS:
            self.assertIn(self.env.ref(xmlid).id, visible_menu_ids, xmlid)
        for xmlid in ACTIONS:
            action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
            views = [[view_id, view_type] for view_id, view_type in action["views"]] + [
                [False, "search"]
            ]
            result = self.env[action["res_model"]].get_views(views)
            self.assertTrue(result["views"], xmlid)
            self.env[action["res_model"]].search([], limit=1)
        # the pipeline dashboard: a client action whose data is one call
        dashboard = self.env["ir.actions.client"]._for_xml_id(
            "sales_pipeline_mgmt.crm_lead_action_pipeline_dashboard"
        )
        self.assertEqual(dashboard["tag"], "sales_pipeline_mgmt.pipeline_dashboard")
        self.assertEqual(len(self.env["crm.lead"].get_pipeline_dashboard()["kpis"]), 9)
        self.env["crm.lead.funnel"].read_group(
            [], ["next_reached_rate:avg"], ["standard_stage_id", "create_date:month"]
        )

    def _check_extended_views_render(self):
        self.env["crm.stage"].get_views([[False, "list"], [False, "form"]])
        self.env["crm.standard.stage"].get_views([[False, "list"], [False, "form"]])
        kanban = self.env.ref("sales_team.crm_team_view_kanban_dashboard")
        arch = self.env["crm.team"].get_views([[kanban.id, "kanban"]])["views"][
            "kanban"
        ]["arch"]
        self.assertIn("pipeline_win_percentage", arch)
        stages = self.env["crm.stage"].search([("team_id", "=", self.team.id)])
        stages.read(["current_lead_count", "avg_days_in_stage", "stage_win_rate"])
        self.env["crm.team"].search([]).read(
            ["pipeline_win_percentage", "pipeline_sales_velocity"]
        )

    @users("spm_salesman")
    def test_salesman_opens_every_new_screen(self):
        self._check_actions_and_menus_open()
        self._check_extended_views_render()

    @users("spm_manager")
    def test_manager_opens_every_new_screen(self):
        self._check_actions_and_menus_open()
        self._check_extended_views_render()

    def test_digest_settings_show_the_pipeline_kpis(self):
        arch = self.env["digest.digest"].get_views([[False, "form"]])["views"]["form"][
            "arch"
        ]
        for fname in (
            "kpi_spm_win_percentage",
            "kpi_spm_avg_days_to_win",
            "kpi_spm_open_opportunities",
        ):
            self.assertIn(fname, arch)
