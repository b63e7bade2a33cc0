# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from .common import T0
from .test_forecast import ForecastCommon


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineSnapshot(ForecastCommon):
    def setUp(self):
        super().setUp()
        self._build_history()
        # team A: historical 75 %, predicted 2026-03-22 (this month)
        self.lead_1 = self._open_lead(
            expected_revenue=10000, probability=40, date_deadline=date(2026, 4, 15)
        )
        self.lead_2 = self._open_lead(
            expected_revenue=2000, probability=50, date_deadline=date(2026, 6, 10)
        )
        # team B: all teams' 4/6, predicted 2026-04-01
        self.lead_3 = self._open_lead(
            team_id=self.team_b.id,
            expected_revenue=3000,
            probability=20,
            date_deadline=date(2026, 5, 1),
        )

    def _snapshot(self, when=T0):
        with self._pinned(when):
            self.env["crm.pipeline.snapshot"]._take_snapshot()
        return self.env["crm.pipeline.snapshot"].search(
            [("team_id", "in", (self.team | self.team_b).ids)]
        )

    def _figures(self, row):
        return [
            row.open_count,
            row.expected_revenue,
            row.prorated_revenue,
            row.historical_revenue,
            row.forecast_prorated_month_1,
            row.forecast_prorated_month_2,
            row.forecast_prorated_month_3,
            row.forecast_historical_month_1,
            row.forecast_historical_month_2,
            row.forecast_historical_month_3,
        ]

    def test_snapshot_contents(self):
        rows = self._snapshot()
        self.assertEqual(len(rows), 2)
        row_a = rows.filtered(lambda row: row.team_id == self.team)
        row_b = rows.filtered(lambda row: row.team_id == self.team_b)
        self.assertEqual(row_a.snapshot_date, date(2026, 3, 2))
        self.assertEqual(
            (row_a.user_id, row_a.stage_id, row_a.standard_stage_id),
            (self.user_salesman, self.stage_proposal, self.standard_consideration),
        )
        # team A: 2 leads; 10000 + 2000; prorated 4000 + 1000; historical
        # 7500 + 1500 (75 %); prorated by expected closing: April (+1) 4000,
        # June (+3) 1000; historical by predicted closing: both in March (+0)
        self.assertEqual(
            self._figures(row_a), [2, 12000, 5000, 9000, 4000, 0, 1000, 0, 0, 0]
        )
        # team B: 3000 x 20 % = 600 in May (+2); 3000 x 4/6 = 2000 in April (+1)
        self.assertEqual(
            self._figures(row_b), [1, 3000, 600, 2000, 0, 600, 0, 2000, 0, 0]
        )

    def test_a_second_snapshot_the_same_day_replaces_the_first(self):
        first = self._snapshot()
        first_b = first.filtered(lambda row: row.team_id == self.team_b)
        self.lead_1.expected_revenue = 20000
        second = self._snapshot(T0 + timedelta(hours=5))
        self.assertEqual(len(second), 2)
        # team A's row changed: replaced; team B's still holds: left alone
        self.assertFalse((first - first_b).exists())
        self.assertIn(first_b, second)
        row_a = second.filtered(lambda row: row.team_id == self.team)
        # 20000 + 2000
        self.assertEqual(row_a.expected_revenue, 22000)
        # another day adds its own rows
        self.assertEqual(len(self._snapshot(T0 + timedelta(days=7))), 4)

    def test_a_second_snapshot_with_nothing_changed_writes_nothing(self):
        first = self._snapshot()
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id, xmin::text FROM crm_pipeline_snapshot ORDER BY id"
        )
        rows_before = self.env.cr.fetchall()
        second = self._snapshot(T0 + timedelta(hours=5))
        self.assertEqual(second, first)
        self.env.cr.execute(
            "SELECT id, xmin::text FROM crm_pipeline_snapshot ORDER BY id"
        )
        # the same row versions: none deleted, inserted or updated
        self.assertEqual(self.env.cr.fetchall(), rows_before)
        self.assertEqual(
            self._figures(second.filtered(lambda row: row.team_id == self.team)),
            [2, 12000, 5000, 9000, 4000, 0, 1000, 0, 0, 0],
        )

    def test_snapshot_cost_does_not_depend_on_the_number_of_leads(self):
        # 1 refresh + 1 company search, then per company (and once for leads
        # without a company): savepoint, the rows' statement, release
        expected = 2 + 3 * (self.env["res.company"].search_count([]) + 1)
        with self._pinned(T0 - timedelta(days=1)):
            self.env["crm.pipeline.snapshot"]._take_snapshot()  # warm caches
        for count, when in ((1, T0), (50, T0 + timedelta(days=1))):
            self._open_leads_batch(count)
            self.env.flush_all()
            with self._pinned(when), self.assertQueryCount(__system__=expected):
                self.env["crm.pipeline.snapshot"]._take_snapshot()

    def _open_leads_batch(self, count):
        self.env["crm.lead"].create(
            [
                {
                    "name": f"Batch {index}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.stage_proposal.id,
                    "expected_revenue": 100,
                }
                for index in range(count)
            ]
        )


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestForecastAccuracy(ForecastCommon):
    def setUp(self):
        super().setUp()
        snapshot_model = self.env["crm.pipeline.snapshot"].sudo()
        common = {
            "company_id": self.company.id,
            "team_id": self.team.id,
            "user_id": self.user_salesman.id,
            "stage_id": self.stage_proposal.id,
        }
        # February 2026 starts 2026-02-01; 4 weeks before: 2026-01-04. The
        # latest snapshot on or before it is 2026-01-02 (month +1 = February).
        snapshot_model.create(
            dict(
                common,
                snapshot_date=date(2026, 1, 2),
                forecast_prorated_month_1=1000,
                forecast_historical_month_1=1500,
                forecast_prorated_month_2=7777,  # March: not over at T0
            )
        )
        snapshot_model.create(
            dict(
                common,
                snapshot_date=date(2026, 1, 10),
                forecast_prorated_month_1=9999,
                forecast_historical_month_1=8888,
            )
        )
        # won in February: 1200 by Sally, 500 by Sam
        for user, revenue in ((self.user_salesman, 1200), (self.user_salesman_2, 500)):
            with self._pinned(datetime(2026, 2, 1, 9)):
                lead = self._create_opportunity(
                    user_id=user.id, expected_revenue=revenue
                )
            with self._pinned(datetime(2026, 2, 10, 9)):
                lead.write({"stage_id": self.stage_won.id})
                lead.flush_recordset()

    def _rows(self, env=None):
        env = env or self.env
        with self._pinned(T0):
            rows = env["crm.pipeline.forecast.accuracy"].search(
                [("team_id", "=", self.team.id)]
            )
            return {
                (row.month, row.user_id, row.method): (
                    row.snapshot_date,
                    row.forecast_revenue,
                    row.actual_revenue,
                    row.error_revenue,
                    row.error_percent and round(row.error_percent, 2),
                )
                for row in rows
            }

    @users("spm_manager")
    def test_each_method_against_what_was_won(self):
        self.maxDiff = None
        february = date(2026, 2, 1)
        sally, sam = self.user_salesman, self.user_salesman_2
        self.assertEqual(
            self._rows(),
            {
                # 1000 forecast, 1200 won: -200, -200 / 1200 x 100 = -16.67 %
                (february, sally, "prorated"): (
                    date(2026, 1, 2),
                    1000,
                    1200,
                    -200,
                    -16.67,
                ),
                # 1500 forecast, 1200 won: +300, +25 %
                (february, sally, "historical"): (
                    date(2026, 1, 2),
                    1500,
                    1200,
                    300,
                    25.0,
                ),
                # nothing forecast for Sam, 500 won: -100 %
                (february, sam, "prorated"): (date(2026, 1, 2), 0, 500, -500, -100.0),
                (february, sam, "historical"): (
                    date(2026, 1, 2),
                    0,
                    500,
                    -500,
                    -100.0,
                ),
            },
        )

    @users("spm_manager")
    def test_the_lead_time_picks_the_snapshot(self):
        # 1 week before February: 2026-01-25 -> the 2026-01-10 snapshot
        self.env["res.company"].sudo().browse(
            self.company.id
        ).forecast_accuracy_lead_weeks = 1
        rows = self._rows()
        february = date(2026, 2, 1)
        self.assertEqual(
            rows[(february, self.user_salesman, "prorated")][:2],
            (date(2026, 1, 10), 9999),
        )

    @users("spm_salesman")
    def test_a_salesman_sees_his_own_figures_only(self):
        users_seen = {user for _month, user, _method in self._rows()}
        self.assertEqual(users_seen, {self.user_salesman})


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineSnapshotAccess(ForecastCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        snapshot_model = cls.env["crm.pipeline.snapshot"].sudo()
        values = {"snapshot_date": date(2026, 3, 2), "open_count": 1}
        cls.row_sally = snapshot_model.create(
            dict(
                values,
                company_id=cls.company.id,
                team_id=cls.team.id,
                user_id=cls.user_salesman.id,
            )
        )
        cls.row_sam = snapshot_model.create(
            dict(
                values,
                company_id=cls.company.id,
                team_id=cls.team.id,
                user_id=cls.user_salesman_2.id,
            )
        )
        cls.row_unassigned = snapshot_model.create(
            dict(values, company_id=cls.company.id, team_id=cls.team.id)
        )
        cls.row_other_company = snapshot_model.create(
            dict(values, company_id=cls.company_2.id)
        )
        cls.rows = cls.row_sally | cls.row_sam | cls.row_unassigned
        cls.rows |= cls.row_other_company

    def _visible(self):
        return self.env["crm.pipeline.snapshot"].search([("id", "in", self.rows.ids)])

    @users("spm_salesman")
    def test_salesman_sees_own_and_unassigned_rows(self):
        self.assertEqual(self._visible(), self.row_sally | self.row_unassigned)

    @users("spm_salesman_all")
    def test_all_leads_user_sees_the_whole_company(self):
        self.assertEqual(
            self._visible(), self.row_sally | self.row_sam | self.row_unassigned
        )

    @users("spm_other_company")
    def test_other_company_sees_its_own_rows_only(self):
        self.assertEqual(self._visible(), self.row_other_company)

    @users("spm_manager")
    def test_snapshots_are_read_only_for_users(self):
        with self.assertRaises(AccessError):
            self.env["crm.pipeline.snapshot"].create({"snapshot_date": date.today()})
        with self.assertRaises(AccessError):
            self.row_sally.with_env(self.env).write({"open_count": 5})
