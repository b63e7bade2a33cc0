# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import SalesPipelineCommon


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestForecastSettings(SalesPipelineCommon):
    def setUp(self):
        super().setUp()
        self.admin_env = self.env(user=self.env.ref("base.user_admin"))

    def _settings(self, **values):
        return self.admin_env["res.config.settings"].create(values)

    def test_zero_or_negative_values_are_refused_by_name(self):
        cases = {
            "forecast_history_months": "Forecast History Window (Months)",
            "forecast_min_sample": "Forecast Minimum Sample",
            "forecast_optimistic_margin_days": "Optimistic Close Date Margin (Days)",
            "forecast_accuracy_lead_weeks": "Forecast Accuracy Lead Time (Weeks)",
        }
        for field_name, label in cases.items():
            for value in (0, -3):
                with self.subTest(field=field_name, value=value):
                    with self.assertRaises(ValidationError) as error:
                        self._settings(**{field_name: value}).execute()
                    self.assertIn(label, str(error.exception))

    def test_snapshot_frequency_is_the_cron_interval(self):
        cron = self.env.ref("sales_pipeline_mgmt.ir_cron_pipeline_snapshot")
        defaults = self._settings()
        self.assertEqual(
            (
                defaults.forecast_snapshot_interval_number,
                defaults.forecast_snapshot_interval_type,
            ),
            (cron.interval_number, cron.interval_type),
        )
        self._settings(
            forecast_snapshot_interval_number=3,
            forecast_snapshot_interval_type="days",
        ).execute()
        self.assertEqual((cron.interval_number, cron.interval_type), (3, "days"))
        with self.assertRaises(ValidationError) as error:
            self._settings(forecast_snapshot_interval_number=0).execute()
        self.assertIn("Snapshot Frequency", str(error.exception))

    def test_settings_are_stored_on_the_company(self):
        self._settings(
            forecast_history_months=6,
            forecast_min_sample=20,
            forecast_optimistic_margin_days=7,
            forecast_accuracy_lead_weeks=2,
        ).execute()
        company = self.admin_env.company
        self.assertEqual(
            (
                company.forecast_history_months,
                company.forecast_min_sample,
                company.forecast_optimistic_margin_days,
                company.forecast_accuracy_lead_weeks,
            ),
            (6, 20, 7, 2),
        )

    def test_the_settings_form_renders_the_forecast_block(self):
        arch = self.admin_env["res.config.settings"].get_views([(False, "form")])[
            "views"
        ]["form"]["arch"]
        self.assertIn("pipeline_forecast_setting_container", arch)
        self.assertIn("forecast_snapshot_interval_number", arch)

    def test_refresh_button(self):
        action = self._settings().action_refresh_historical_forecast()
        self.assertEqual(action["tag"], "display_notification")
