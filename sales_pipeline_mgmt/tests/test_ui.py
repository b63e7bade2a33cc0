# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Browser tours in headless Chromium: what reps, managers and admins see.

Odoo's HttpCase SKIPS browser tests when Chromium or websocket-client is
missing; here they FAIL instead (setUpClass), and a plain test checks the
prerequisites (Chromium, websocket-client, the HTTP server started by
pytest-odoo's --odoo-http) so that a run without them cannot look green.
"""

import importlib.util
import re
import shutil
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo.service import server
from odoo.tests import HttpCase, tagged

from odoo.addons.web.tests.test_js import unit_test_error_checker

from .common import SalesPipelineCommon

# the names Odoo's HttpCase looks for on PATH (odoo.tests.common._find_executable)
CHROME_NAMES = ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable")
# the Hoot tests of static/tests/pipeline_dashboard.test.js (10),
# pipeline_changes.test.js (3) and deals_at_risk.test.js (2)
TEST_JS_COUNT = 15


def _browser_prerequisites_missing():
    """What a browser tour needs and is missing, as readable sentences."""
    missing = []
    if not any(shutil.which(name) for name in CHROME_NAMES):
        missing.append(
            "no Chromium/Chrome on PATH (looked for %s): install Debian's "
            "'chromium' package" % ", ".join(CHROME_NAMES)
        )
    if importlib.util.find_spec("websocket") is None:
        missing.append(
            "the Python package websocket-client is not installed: "
            "pip install websocket-client"
        )
    return missing


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestBrowserPrerequisites(SalesPipelineCommon):
    """Runs without a browser: fails where the tours would be skipped."""

    def test_chromium_websocket_and_http_server_are_available(self):
        missing = _browser_prerequisites_missing()
        if server.server is None:
            missing.append(
                "no HTTP server: run pytest with --odoo-http (odoo-bin "
                "--test-enable starts one by itself)"
            )
        self.assertFalse(
            missing, "The browser tours cannot run: %s" % "; ".join(missing)
        )


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestSalesPipelineUi(HttpCase, SalesPipelineCommon):
    """Each tour (static/tests/tours/) runs as the least privileged user who
    does it in real life, on the records built here (never demo data)."""

    @classmethod
    def setUpClass(cls):
        missing = _browser_prerequisites_missing()
        if missing:
            # HttpCase would raise SkipTest later: a missing browser is a failure
            raise RuntimeError("The browser tours cannot run: %s" % "; ".join(missing))
        super().setUpClass()
        cls.user_admin_sales = cls._new_user(
            "spm_admin", "Adam Admin", "base.group_system,sales_team.group_sale_manager"
        )
        # no onboarding tips in the way of the tours
        (
            cls.user_salesman
            | cls.user_manager
            | cls.user_admin_sales
            | cls.env.ref("base.user_admin")
        ).write({"tour_enabled": False})

    def _start_tour(self, tour_name, user, url="/odoo"):
        self.start_tour(url, tour_name, login=user.login)
        self.env.invalidate_all()

    def test_salesman_drags_a_card_to_the_next_stage_and_sees_the_stay(self):
        lead = self._create_opportunity(name="SPM Tour Drag")

        self._start_tour("sales_pipeline_mgmt_drag_to_next_stage", self.user_salesman)

        self.assertEqual(lead.stage_id, self.stage_qualified)
        stays = self._stays(lead)
        # the stay in New ended with the drag, the stay in Qualified began
        self.assertEqual(stays.stage_id, self.stage_new | self.stage_qualified)
        self.assertEqual(stays[0].date_out, stays[1].date_in)
        self.assertEqual(stays[1].move_type, "forward")
        self.assertFalse(stays[1].date_out)

    def test_salesman_sees_stalled_cards_and_the_column_count(self):
        self.env.company.pipeline_stall_enabled = True
        self.stage_proposal.stall_days = 10
        now = self.env.cr.now()
        with self._pinned(now - timedelta(days=20, hours=1)):
            stalled = self._create_opportunity(
                name="SPM Tour Stalled", stage_id=self.stage_proposal.id
            )
        with self._pinned(now - timedelta(days=2)):
            fresh = self._create_opportunity(
                name="SPM Tour Fresh", stage_id=self.stage_proposal.id
            )
        self.env["crm.lead"]._detect_stalls()
        # 20 days in a stage that allows 10: stalled; 2 days: not stalled
        self.assertTrue(stalled.is_stalled)
        self.assertFalse(fresh.is_stalled)

        self._start_tour("sales_pipeline_mgmt_stalled_marker", self.user_salesman)

    def test_salesman_drag_refused_by_exit_criteria_puts_the_card_back(self):
        self.stage_qualified.required_field_ids = self.env["ir.model.fields"]._get(
            "crm.lead", "email_from"
        )
        lead = self._create_opportunity(name="SPM Tour Incomplete", email_from=False)

        self._start_tour(
            "sales_pipeline_mgmt_exit_criteria_refusal", self.user_salesman
        )

        self.assertEqual(lead.stage_id, self.stage_new)
        self.assertEqual(self._stays(lead).stage_id, self.stage_new)

    def test_manager_opens_the_forecast(self):
        # the manager's own deals: the forecast's "My Pipeline" shows only them
        deadline = self.env.cr.now().date() + timedelta(days=5)
        mine = self._create_opportunity(
            name="SPM Forecast Proposal",
            user_id=self.user_manager.id,
            stage_id=self.stage_proposal.id,
            expected_revenue=10000,
            probability=30,
            date_deadline=deadline,
        ) | self._create_opportunity(
            name="SPM Forecast Negotiation",
            user_id=self.user_manager.id,
            stage_id=self.stage_negotiation.id,
            expected_revenue=4000,
            probability=50,
            date_deadline=deadline,
        )
        self.env["crm.lead"]._refresh_historical_forecast()
        # no closed lead ever went through SPM Team's stages: the historical
        # probability falls back to the lead's own probability
        self.assertEqual(mine.mapped("historical_level"), ["lead", "lead"])
        self.env.flush_all()
        # Forecast of the manager: prorated = 10000 x 30 % + 4000 x 50 %
        # = 3000 + 2000 = 5,000.00, and the same historical revenue.
        self._start_tour("sales_pipeline_mgmt_manager_forecast", self.user_manager)

    def _create_dashboard_history(self):
        """Deals moved last month and four months ago (months before this one,
        whatever today is), nothing else (no demo lead):

        - last month: SPM Team's a1 (salesman) and a2 (salesman 2) created in
          New on the 3rd, in Qualified since the 5th; Other Team's b1
          (salesman 2) created on the 4th;
        - four months ago: SPM Team's c1 and c2 (salesman) created on the 3rd,
          Qualified on the 5th, Proposal on the 8th, open; c3 (salesman)
          created on the 4th, still in New.
        """
        self.env["crm.lead"].with_context(active_test=False).search([]).unlink()
        month = self.env.cr.now().replace(day=1, hour=10, minute=0, second=0)
        last_month = month - relativedelta(months=1)
        four_months_ago = month - relativedelta(months=4)
        other_team = self.env["crm.team"].create({"name": "Other Team"})
        other_new = self.env["crm.stage"].create(
            {
                "name": "Other New",
                "team_id": other_team.id,
                "standard_stage_id": self.standard_awareness.id,
            }
        )
        deals = {}

        def create(name, when, user, **values):
            with self._pinned(when):
                deals[name] = self._create_opportunity(
                    name=f"SPM Tour {name}", user_id=user.id, **values
                )

        def move(names, when, stage):
            with self._pinned(when):
                for name in names:
                    deals[name].write({"stage_id": stage.id})
                self.env.flush_all()

        create("c1", four_months_ago.replace(day=3), self.user_salesman)
        create("c2", four_months_ago.replace(day=3), self.user_salesman)
        create("c3", four_months_ago.replace(day=4), self.user_salesman)
        move(["c1", "c2"], four_months_ago.replace(day=5), self.stage_qualified)
        move(["c1", "c2"], four_months_ago.replace(day=8), self.stage_proposal)
        create("a1", last_month.replace(day=3), self.user_salesman)
        create("a2", last_month.replace(day=3), self.user_salesman_2)
        create(
            "b1",
            last_month.replace(day=4),
            self.user_salesman_2,
            team_id=other_team.id,
            stage_id=other_new.id,
        )
        move(["a1", "a2"], last_month.replace(day=5), self.stage_qualified)
        return deals

    def test_manager_changes_period_and_team_and_opens_the_bottleneck(self):
        self._create_dashboard_history()
        # two deals entering a stage are enough to compare it here
        self.env["ir.config_parameter"].sudo().set_param(
            "sales_pipeline_mgmt.bottleneck_min_sample", "2"
        )
        # This Month: no new lead, against a1, a2, b1 last month. Last 3
        # months: the same 3, against c1, c2, c3; SPM Team: a1, a2 (2 < 3).
        # Interest, SPM Team, last 3 months: a1, a2 entered and stay (0 %
        # moved on) against c1, c2 that both moved on (100 %): the
        # bottleneck; Awareness improved (100 % against 67 %), Consideration
        # had no deal in the period.
        self._start_tour("sales_pipeline_mgmt_manager_dashboard", self.user_manager)

    def test_salesman_sees_only_own_figures_on_the_dashboard(self):
        self._create_dashboard_history()
        # the salesman's: a1 in the last 3 months, c1, c2, c3 before; open:
        # a1, c1, c2, c3 (a2 and b1 are a colleague's)
        self._start_tour("sales_pipeline_mgmt_salesman_dashboard", self.user_salesman)

    def test_dashboard_components_pass_their_unit_tests(self):
        # the Hoot tests of static/tests/pipeline_dashboard.test.js and
        # deals_at_risk.test.js, in
        # Chromium, as Odoo's own web tests run them: as admin, because the
        # test runner reads the modules' dependencies (a settings right); the
        # tests themselves run against a mock server
        with self.assertLogs("odoo", level="INFO") as logs:
            self.browser_js(
                "/web/tests?headless&loglevel=2&preset=desktop&timeout=15000"
                "&filter=sales_pipeline_mgmt",
                "",
                "",
                login="admin",
                timeout=300,
                success_signal="[HOOT] test suite succeeded",
                error_checker=unit_test_error_checker,
            )
        passed = [
            int(match.group(1))
            for line in logs.output
            for match in [re.search(r"passed (\d+) tests", line)]
            if match
        ]
        # every test of the file ran (Hoot succeeds on an empty selection)
        self.assertEqual(passed, [TEST_JS_COUNT], "\n".join(logs.output[-20:]))

    def test_admin_maps_a_stage_to_a_standard_stage(self):
        stage = self.env["crm.stage"].create(
            {"name": "SPM Demo Review", "sequence": 3, "team_id": self.team.id}
        )
        self.assertFalse(stage.standard_stage_id)

        self._start_tour(
            "sales_pipeline_mgmt_admin_stage_mapping",
            self.user_admin_sales,
            url="/odoo/action-crm.crm_stage_action",
        )

        self.assertEqual(stage.standard_stage_id, self.standard_consideration)

    def test_admin_changes_thresholds_in_settings(self):
        stall_cron = self.env.ref("sales_pipeline_mgmt.ir_cron_stall_detection")
        # the defaults, whatever the demo data set
        self.company.write(
            {
                "pipeline_stall_enabled": False,
                "pipeline_stall_days": 0,
                "forecast_optimistic_margin_days": 14,
            }
        )
        stall_cron.active = False

        self._start_tour(
            "sales_pipeline_mgmt_admin_settings",
            self.user_admin_sales,
            url="/odoo/action-crm.crm_config_settings_action",
        )

        self.assertTrue(self.company.pipeline_stall_enabled)
        self.assertEqual(self.company.pipeline_stall_days, 9)
        self.assertTrue(stall_cron.active)
        self.assertEqual(self.company.forecast_optimistic_margin_days, 21)
