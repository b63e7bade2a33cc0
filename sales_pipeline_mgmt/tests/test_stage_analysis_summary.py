# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime
from unittest.mock import patch

from odoo.tests import tagged, users

from odoo.addons.sales_pipeline_mgmt.report.crm_lead_stage_analysis import (
    CrmLeadStageAnalysis,
)

from .common import SalesPipelineCommon

# when the report is read: after every stay of the test
READ_AT = datetime(2026, 4, 10, 9, 0, 0)
MEASURES = ["duration_days:avg", "duration_total_days:sum", "__count"]


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestStageAnalysisSummary(SalesPipelineCommon):
    """The Stage Analysis pivot sums its default groups from a summary kept
    by triggers on the stays: months of entry in the user's timezone, and the
    daily merge of its rows."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the summary answers for the whole report: only the test's leads
        cls.env["crm.lead"].with_context(active_test=False).search([]).unlink()
        # entries around the end of March 2026 (UTC): A 21:30, B 22:30,
        # C 18:15, D 18:45 on the 31st, E 11:30 on April 1st, F mid-March
        cls.entries = {
            "A": datetime(2026, 3, 31, 21, 30),
            "B": datetime(2026, 3, 31, 22, 30),
            "C": datetime(2026, 3, 31, 18, 15),
            "D": datetime(2026, 3, 31, 18, 45),
            "E": datetime(2026, 4, 1, 11, 30),
            "F": datetime(2026, 3, 15, 12, 0),
        }
        cls.leads = {}
        for name, entry in cls.entries.items():
            with cls._pinned_class(entry):
                cls.leads[name] = cls._create_opportunity_class(name=name)

    @classmethod
    def _pinned_class(cls, when):
        return SalesPipelineCommon._pinned(cls, when)

    @classmethod
    def _create_opportunity_class(cls, **values):
        return SalesPipelineCommon._create_opportunity(cls, **values)

    def _months(self, tz):
        """{month: stays entered in it} in timezone ``tz``, and whether the
        summary answered."""
        analysis_model = self.env["crm.lead.stage.analysis"].with_context(tz=tz)
        with (
            self._pinned(READ_AT),
            patch.object(
                CrmLeadStageAnalysis,
                "_read_group_summary",
                autospec=True,
                side_effect=CrmLeadStageAnalysis._read_group_summary,
            ) as summary,
        ):
            groups = analysis_model.read_group(
                [("stage_id", "=", self.stage_new.id)],
                ["__count"],
                ["date_in:month"],
                lazy=False,
            )
        months = {group["date_in:month"]: group["__count"] for group in groups}
        return months, summary.called

    @users("spm_manager")
    def test_months_of_entry_are_those_of_the_users_timezone(self):
        # A to F in each timezone, by hand (local time of each entry):
        # UTC: E in April, the rest in March
        # Brussels (UTC+2 since March 29): B (00:30) and E in April
        # Auckland (UTC+13 until April 5th): all but F in April
        # UTC-12: E is still March 31st (23:30): all in March
        expected = {
            "UTC": {"March 2026": 5, "April 2026": 1},
            "Europe/Brussels": {"March 2026": 4, "April 2026": 2},
            "Pacific/Auckland": {"March 2026": 1, "April 2026": 5},
            "Etc/GMT+12": {"March 2026": 6},
        }
        for tz, months in expected.items():
            with self.subTest(tz=tz):
                self.assertEqual(self._months(tz), (months, True))

    @users("spm_manager")
    def test_a_timezone_of_half_hours_reads_the_stays(self):
        # Kolkata (UTC+5:30): A, B, D (00:15) and E in April, C (23:45) and
        # F in March; C and D share an hour of UTC, which the summary cannot
        # split: the stays are read
        self.assertEqual(
            self._months("Asia/Kolkata"),
            ({"March 2026": 2, "April 2026": 4}, False),
        )

    @users("spm_manager")
    def test_a_current_stay_entered_after_now_reads_the_stays(self):
        # read on March 31st at 20:00: A, B and E have not entered yet and
        # count 0 days (not negative ones), which only the stays can say
        analysis_model = self.env["crm.lead.stage.analysis"]
        with (
            self._pinned(datetime(2026, 3, 31, 20, 0)),
            patch.object(
                CrmLeadStageAnalysis, "_read_group_summary", autospec=True
            ) as summary,
        ):
            groups = analysis_model.read_group(
                [("stage_id", "=", self.stage_new.id)],
                MEASURES,
                [],
                lazy=False,
            )
        summary.assert_not_called()
        # F: 16 days 8 hours, C 1 h 45, D 1 h 15, A, B and E nothing
        days = 16 + 8 / 24 + 1.75 / 24 + 1.25 / 24
        self.assertEqual(groups[0]["__count"], 6)
        self.assertAlmostEqual(groups[0]["duration_total_days"], days)

    def _report(self):
        with self._pinned(READ_AT):
            return self.env["crm.lead.stage.analysis"].read_group(
                [("lead_type", "=", "opportunity")],
                MEASURES,
                ["stage_id", "date_in:month"],
                lazy=False,
            )

    def _summary_rows(self):
        self.env.cr.execute(
            """SELECT stage_id, date_in, lead_user_id, lead_company_id, lead_type,
                      stay_count, current_count, current_epoch, finished_days
                 FROM crm_lead_stage_analysis_summary ORDER BY 1, 2, 3, 4, 5"""
        )
        return self.env.cr.fetchall()

    def test_the_daily_merge_keeps_one_row_per_key_and_the_same_report(self):
        summary_model = self.env["crm.lead.stage.analysis.summary"]
        with self._pinned(datetime(2026, 4, 2, 10, 0)):
            self.leads["A"].write({"stage_id": self.stage_qualified.id})
            self.leads["B"].write({"stage_id": self.stage_qualified.id})
            self.leads["C"].write({"user_id": self.user_salesman_2.id})
            self.leads["D"].unlink()
            self.env.flush_all()
        before = self._report()
        summary_model._cron_merge()
        rows = self._summary_rows()
        # stays now: A and B in New (ended) and Qualified, C (Sam's), E and F
        # in New; keys (stage, period, salesperson): New x A's hour, B's
        # hour, C's hour (Sam), E's hour, mid-March; Qualified x April
        self.assertEqual(len(rows), 6)
        self.assertEqual(sum(row[5] for row in rows), 7)
        self.assertEqual(sum(row[6] for row in rows), 5)
        self.assertEqual(self._report(), before)
        # run again: nothing changes
        summary_model._cron_merge()
        self.assertEqual(self._summary_rows(), rows)

    @users("spm_manager")
    def test_pivot_first_load_query_count(self):
        analysis_model = self.env["crm.lead.stage.analysis"]
        domain = [("lead_type", "=", "opportunity")]
        calls = [[], ["date_in:month"], ["stage_id"], ["stage_id", "date_in:month"]]
        with self._pinned(READ_AT):
            for groupby in calls:  # warm the caches
                analysis_model.read_group(domain, MEASURES, groupby, lazy=False)
            self.env.invalidate_all()
            # measured: per call, the check for current stays entered after
            # now and the summary's query; the stages of the row headers, and
            # the user, company and partner that the month labels read
            with self.assertQueryCount(spm_manager=11):
                for groupby in calls:
                    analysis_model.read_group(domain, MEASURES, groupby, lazy=False)
