# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tests import tagged
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .common import SalesPipelineCommon


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestSmoke(SalesPipelineCommon):
    """Every view, action and menu of the addon works for the people who use
    them; installing it gave every existing lead its current stay."""

    def _module_records(self, model):
        data = self.env["ir.model.data"].search(
            [("module", "=", "sales_pipeline_mgmt"), ("model", "=", model)]
        )
        return self.env[model].browse(data.mapped("res_id")).exists()

    def test_every_view_renders_for_salesman_and_manager(self):
        views = self._module_records("ir.ui.view")
        self.assertTrue(views)
        for user in (self.user_salesman, self.user_manager):
            # QWeb templates (the digest e-mail's) have no model: rendered by
            # their feature's tests
            for view in views.filtered("model"):
                root = view
                while root.inherit_id and root.mode != "primary":
                    root = root.inherit_id
                model = self.env[view.model].with_user(user)
                if not model.has_access("read"):
                    # settings views: administrators only, see their own tests
                    continue
                with self.subTest(user=user.login, view=view.xml_id):
                    arch = model.get_views([(root.id, root.type)])["views"][root.type][
                        "arch"
                    ]
                    self.assertTrue(arch)

    def test_every_action_opens_for_salesman_and_manager(self):
        actions = self._module_records("ir.actions.act_window")
        self.assertTrue(actions)
        for user in (self.user_salesman, self.user_manager):
            for action in actions:
                if action.groups_id and not (action.groups_id & user.groups_id):
                    continue
                with self.subTest(user=user.login, action=action.xml_id):
                    model = self.env[action.res_model].with_user(user)
                    view_types = action.view_mode.split(",")
                    views = model.get_views([(False, vt) for vt in view_types])
                    self.assertEqual(set(views["views"]) - {"search"}, set(view_types))
                    if model._transient:
                        continue
                    domain = safe_eval(action.domain or "[]", {"uid": user.id})
                    model.web_search_read(domain, {"display_name": {}}, limit=5)

    def test_menus_follow_the_sales_groups(self):
        menus = self._module_records("ir.ui.menu")
        config_menu = self.env.ref("sales_pipeline_mgmt.crm_standard_stage_menu")
        self.assertIn(config_menu, menus)
        for user, expect_config in (
            (self.user_salesman, False),
            (self.user_manager, True),
        ):
            visible = (
                self.env["ir.ui.menu"].with_user(user)._visible_menu_ids(debug=False)
            )
            with self.subTest(user=user.login):
                self.assertEqual(config_menu.id in visible, expect_config)
                for menu in menus - config_menu:
                    if not menu.groups_id or menu.groups_id & user.groups_id:
                        self.assertIn(menu.id, visible, menu.complete_name)

    def test_every_staged_lead_has_exactly_one_current_stay(self):
        # holds for the leads that existed when the addon was installed too
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT lead.id
                  FROM crm_lead lead
                 WHERE lead.stage_id IS NOT NULL
                   AND (SELECT COUNT(*) FROM crm_lead_stage_history stay
                         WHERE stay.lead_id = lead.id AND stay.date_out IS NULL
                           AND stay.stage_id = lead.stage_id) != 1
                """
            )
        )
        self.assertEqual(self.env.cr.fetchall(), [])
