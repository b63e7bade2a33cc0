# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, datetime, timedelta, timezone

from odoo.tests import tagged, users
from odoo.tools import SQL

from .common import SalesPipelineCommon

JAN_1 = datetime(2026, 1, 1)
FEB_1 = datetime(2026, 2, 1)
KPI_KEYS = {
    "leads_by_source_month",
    "lead_to_opportunity_rate",
    "opportunity_win_rate",
    "win_percentage",
    "avg_days_to_win",
    "avg_sales_cycle_days",
    "open_opportunity_count",
}


class PipelineKpiCommon(SalesPipelineCommon):
    """A hand-built pipeline of January 2026 (the period [JAN_1, FEB_1)).

    ======  ===========  ==========  ============  ===========  =============  ========
    lead    created      converted   closed        outcome      salesperson    source
    ======  ===========  ==========  ============  ===========  =============  ========
    lead_1  01-05        -           -             open lead    salesman       web
    lead_2  01-10 10:00  01-12 10:00 01-22 10:00   won (1000)   salesman       web
    lead_3  01-15        (direct)    01-20 12:00   won (2000)   salesman_2     -
    lead_4  01-20        (direct)    01-25         lost         salesman       mail
    lead_5  01-25        (direct)    (01-28)       lost, then   salesman_2     mail
                                                   restored
    lead_6  01-28        -           01-29         lost lead    salesman       -
    lead_7  2025-12-20   (direct)    01-10         won (3000)   salesman       -
    lead_8  01-30        (direct)    -             open         (unassigned)   web
    lead_9  02-05        (direct)    -             open         salesman       -
    other   01-10        (direct)    01-15         won          company 2      web
    ======  ===========  ==========  ============  ===========  =============  ========
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # existing (demo) leads would count in open opportunities
        cls.env["crm.lead"].with_context(active_test=False).search([]).unlink()
        source_model = cls.env["utm.source"]
        cls.source_web = source_model.create({"name": "SPM Web"})
        cls.source_mail = source_model.create({"name": "SPM Mail"})
        cls.lead_1 = cls._make("lead_1", datetime(2026, 1, 5), lead=True)
        cls.lead_2 = cls._make(
            "lead_2",
            datetime(2026, 1, 10, 10),
            lead=True,
            converted=datetime(2026, 1, 12, 10),
            won=datetime(2026, 1, 22, 10),
            revenue=1000,
        )
        cls.lead_3 = cls._make(
            "lead_3",
            datetime(2026, 1, 15),
            user=cls.user_salesman_2,
            source=False,
            won=datetime(2026, 1, 20, 12),
            revenue=2000,
        )
        cls.lead_4 = cls._make(
            "lead_4",
            datetime(2026, 1, 20),
            source=cls.source_mail,
            lost=datetime(2026, 1, 25),
        )
        cls.lead_5 = cls._make(
            "lead_5",
            datetime(2026, 1, 25),
            user=cls.user_salesman_2,
            source=cls.source_mail,
            lost=datetime(2026, 1, 28),
        )
        cls.lead_5.toggle_active()  # restored: open again
        cls.lead_6 = cls._make(
            "lead_6",
            datetime(2026, 1, 28),
            lead=True,
            source=False,
            lost=datetime(2026, 1, 29),
        )
        cls.lead_7 = cls._make(
            "lead_7",
            datetime(2025, 12, 20),
            source=False,
            won=datetime(2026, 1, 10),
            revenue=3000,
        )
        cls.lead_8 = cls._make("lead_8", datetime(2026, 1, 30), user=False)
        cls.lead_9 = cls._make("lead_9", datetime(2026, 2, 5), source=False)
        cls.team_2 = cls.env["crm.team"].create(
            {"name": "SPM Team 2", "company_id": cls.company_2.id}
        )
        cls.lead_other_company = cls._make(
            "other",
            datetime(2026, 1, 10),
            user=cls.user_other_company,
            team=cls.team_2,
            company=cls.company_2,
            won=datetime(2026, 1, 15),
            stage=cls.env["crm.stage"].create(
                {"name": "SPM Won 2", "is_won": True, "team_id": cls.team_2.id}
            ),
        )
        cls.team_domain = [("team_id", "in", (cls.team | cls.team_2).ids)]

    @classmethod
    def _make(
        cls,
        name,
        created,
        lead=False,
        converted=None,
        won=None,
        lost=None,
        revenue=0,
        user=None,
        source=None,
        team=None,
        company=None,
        stage=None,
    ):
        """Create a lead and pin its dates with SQL (the ORM sets them itself)."""
        record = cls.env["crm.lead"].create(
            {
                "name": name,
                "type": "lead" if lead and not converted else "opportunity",
                "team_id": (team or cls.team).id,
                "company_id": (company or cls.company).id,
                "user_id": cls.user_salesman.id
                if user is None
                else (user.id if user else False),
                "source_id": cls.source_web.id
                if source is None
                else (source.id if source else False),
                "stage_id": cls.stage_new.id if not team else False,
                "expected_revenue": revenue,
            }
        )
        if won:
            record.write({"stage_id": (stage or cls.stage_won).id})
        if lost:
            record.action_set_lost()
        record.flush_recordset()
        cls.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead
                   SET create_date = %s, date_conversion = %s,
                       date_closed = COALESCE(%s, date_closed)
                 WHERE id = %s
                """,
                created,
                converted,
                won or lost,
                record.id,
            )
        )
        record.invalidate_recordset()
        return record

    def _kpis(self, date_from=JAN_1, date_to=FEB_1, domain=None):
        return self.env["crm.lead"].get_pipeline_kpis(
            self.team_domain if domain is None else domain, date_from, date_to
        )


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineKpis(PipelineKpiCommon):
    def _sources(self, kpis):
        return sorted(
            (row["month"], row["source_id"] or 0, row["count"])
            for row in kpis["leads_by_source_month"]
        )

    @users("spm_manager")
    def test_manager_kpis_of_january(self):
        kpis = self._kpis()
        self.assertEqual(set(kpis), KPI_KEYS)
        # created in January: web 1, 2, 8; mail 4, 5; no source 3, 6
        # (7 was created in December, 9 in February, "other" is another company)
        self.assertEqual(
            self._sources(kpis),
            sorted(
                [
                    ("2026-01", 0, 2),
                    ("2026-01", self.source_web.id, 3),
                    ("2026-01", self.source_mail.id, 2),
                ]
            ),
        )
        # started as leads in January: 1, 2 (converted), 6 -> 1 / 3
        self.assertAlmostEqual(kpis["lead_to_opportunity_rate"], 100 / 3)
        # opened in January: 2 (conversion 01-12), 3, 4, 5, 8; won: 2, 3 -> 2 / 5
        self.assertAlmostEqual(kpis["opportunity_win_rate"], 40.0)
        # closed in January: 2, 3, 7 won, 4 lost (5 was restored) -> 3 / 4
        self.assertAlmostEqual(kpis["win_percentage"], 75.0)
        # won: 2 = 01-22 10:00 - 01-12 10:00 = 10 days (from conversion);
        # 3 = 5.5 days; 7 = 12-20 -> 01-10 = 21 days; (10 + 5.5 + 21) / 3
        self.assertAlmostEqual(kpis["avg_days_to_win"], 36.5 / 3)
        # closed, from creation: 2 = 12, 3 = 5.5, 4 = 5, 7 = 21 -> 43.5 / 4
        self.assertAlmostEqual(kpis["avg_sales_cycle_days"], 43.5 / 4)
        # open now: 5 (restored), 8, 9 (created in February: not period bound)
        self.assertEqual(kpis["open_opportunity_count"], 3)

    @users("spm_salesman")
    def test_salesman_sees_only_own_and_unassigned_figures(self):
        # visible: 1, 2, 4, 6, 7, 8 (unassigned), 9; not 3, 5 (colleague)
        kpis = self._kpis()
        # created in January: web 1, 2, 8; mail 4; no source 6
        self.assertEqual(
            self._sources(kpis),
            sorted(
                [
                    ("2026-01", 0, 1),
                    ("2026-01", self.source_web.id, 3),
                    ("2026-01", self.source_mail.id, 1),
                ]
            ),
        )
        # started as leads: 1, 2, 6; converted: 2 -> 1 / 3
        self.assertAlmostEqual(kpis["lead_to_opportunity_rate"], 100 / 3)
        # opened in January: 2, 4, 8; won: 2 -> 1 / 3
        self.assertAlmostEqual(kpis["opportunity_win_rate"], 100 / 3)
        # closed: 2, 7 won, 4 lost -> 2 / 3
        self.assertAlmostEqual(kpis["win_percentage"], 200 / 3)
        # days to win: (10 + 21) / 2
        self.assertAlmostEqual(kpis["avg_days_to_win"], 15.5)
        # cycle: (12 + 5 + 21) / 3
        self.assertAlmostEqual(kpis["avg_sales_cycle_days"], 38 / 3)
        # open: 8, 9
        self.assertEqual(kpis["open_opportunity_count"], 2)

    @users("spm_manager")
    def test_domain_narrows_the_population(self):
        kpis = self._kpis(domain=[("user_id", "=", self.user_salesman_2.id)])
        # salesman_2: 3 (won, 5.5 days), 5 (restored, open)
        self.assertEqual(
            self._sources(kpis),
            [
                ("2026-01", 0, 1),
                ("2026-01", self.source_mail.id, 1),
            ],
        )
        # nothing started as a lead
        self.assertIsNone(kpis["lead_to_opportunity_rate"])
        # opened: 3, 5; won: 3 -> 1 / 2
        self.assertAlmostEqual(kpis["opportunity_win_rate"], 50.0)
        self.assertAlmostEqual(kpis["win_percentage"], 100.0)
        self.assertAlmostEqual(kpis["avg_days_to_win"], 5.5)
        self.assertEqual(kpis["open_opportunity_count"], 1)

    @users("spm_manager")
    def test_empty_period_gives_none_never_zero(self):
        kpis = self._kpis(date(2020, 1, 1), date(2020, 2, 1))
        self.assertEqual(kpis["leads_by_source_month"], [])
        for key in (
            "lead_to_opportunity_rate",
            "opportunity_win_rate",
            "win_percentage",
            "avg_days_to_win",
            "avg_sales_cycle_days",
        ):
            self.assertIsNone(kpis[key], key)
        # not bound to the period
        self.assertEqual(kpis["open_opportunity_count"], 3)
        kpis = self._kpis(domain=[("id", "=", 0)])
        self.assertIsNone(kpis["win_percentage"])
        self.assertEqual(kpis["open_opportunity_count"], 0)

    @users("spm_manager")
    def test_dates_as_dates_and_open_bounds(self):
        by_date = self._kpis(date(2026, 1, 1), date(2026, 2, 1))
        self.assertEqual(by_date, self._kpis())
        # an aware datetime counts in UTC: 2026-01-01 01:00+01:00 is midnight UTC
        paris = timezone(timedelta(hours=1))
        aware = self._kpis(datetime(2026, 1, 1, 1, tzinfo=paris), FEB_1)
        self.assertEqual(aware, by_date)
        # strings as the digest passes them
        self.assertEqual(
            self._kpis("2026-01-01 00:00:00", "2026-02-01 00:00:00"), by_date
        )
        # no bounds at all: 7 (December) also started: opened 2, 3, 4, 5, 7, 8, 9,
        # won 2, 3, 7 -> 3 / 7
        kpis = self._kpis(None, None)
        self.assertAlmostEqual(kpis["opportunity_win_rate"], 300 / 7)

    @users("spm_manager")
    def test_other_company_never_counts(self):
        # "other" is in team_2, part of the domain, but of another company
        kpis = self._kpis(domain=[("team_id", "=", self.team_2.id)])
        self.assertEqual(kpis["leads_by_source_month"], [])
        self.assertIsNone(kpis["win_percentage"])

    @users("spm_other_company")
    def test_other_company_sees_only_its_own(self):
        kpis = self._kpis()
        # "other": web, won 01-10 -> 01-15 = 5 days
        self.assertEqual(self._sources(kpis), [("2026-01", self.source_web.id, 1)])
        self.assertAlmostEqual(kpis["win_percentage"], 100.0)
        self.assertAlmostEqual(kpis["avg_days_to_win"], 5.0)
        self.assertEqual(kpis["open_opportunity_count"], 0)

    @users("spm_salesman")
    def test_kpis_query_count_does_not_grow_with_leads(self):
        lead_model = self.env["crm.lead"]
        lead_model.get_pipeline_kpis(self.team_domain, JAN_1, FEB_1)  # warm caches
        # 2 queries: the figures, the leads per source per month
        with self.assertQueryCount(spm_salesman=2):
            lead_model.get_pipeline_kpis(self.team_domain, JAN_1, FEB_1)
        self.env["crm.lead"].sudo().create(
            [
                {
                    "name": f"more {index}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                }
                for index in range(30)
            ]
        )
        self.env.flush_all()
        with self.assertQueryCount(spm_salesman=2):
            kpis = lead_model.get_pipeline_kpis(self.team_domain, JAN_1, FEB_1)
        # the 30 unassigned opportunities are visible and open
        self.assertEqual(kpis["open_opportunity_count"], 32)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestSalesVelocity(PipelineKpiCommon):
    @users("spm_manager")
    def test_team_dashboard_figures_and_velocity(self):
        # dashboard period: the 90 days before 2026-02-10, i.e. from 2025-11-12
        with self._pinned(datetime(2026, 2, 10)):
            team = self.env["crm.team"].browse(self.team.id)
            # closed: 2, 3, 7 won, 4 lost -> 75 %
            self.assertAlmostEqual(team.pipeline_win_percentage, 75.0)
            # shown with 1 decimal: 12.2
            self.assertAlmostEqual(team.pipeline_avg_days_to_win, 36.5 / 3, 1)
            # open 3 (5, 8, 9) x average won (1000 + 2000 + 3000) / 3 = 2000
            # x 75 % / (36.5 / 3) days = 4500 * 3 / 36.5 per day
            self.assertAlmostEqual(team.pipeline_sales_velocity, 4500 * 3 / 36.5, 2)
            self.assertTrue(team.pipeline_has_closed)

    @users("spm_manager")
    def test_dashboard_query_count_does_not_grow_with_teams(self):
        team_model = self.env["crm.team"]
        team = team_model.browse(self.team.id)
        teams = team | team_model.create(
            [{"name": f"SPM Empty {index}"} for index in range(5)]
        )
        self.env.flush_all()
        fnames = ["pipeline_win_percentage", "pipeline_sales_velocity"]
        with self._pinned(datetime(2026, 2, 10)):
            teams.mapped("pipeline_win_percentage")  # warm caches (currencies)
            teams.invalidate_recordset(fnames)
            # 1 query for the figures of all the teams
            with self.assertQueryCount(spm_manager=1):
                team.mapped("pipeline_win_percentage")
            teams.invalidate_recordset(fnames)
            with self.assertQueryCount(spm_manager=1):
                teams.mapped("pipeline_win_percentage")
        self.assertFalse(teams[-1].pipeline_has_closed)
        self.assertEqual(teams[-1].pipeline_sales_velocity, 0.0)

    @users("spm_salesman")
    def test_digest_kpis(self):
        digest = self.env.ref("digest.digest_digest_default").with_context(
            start_datetime=JAN_1, end_datetime=FEB_1
        )
        # the salesman's January: 66.7 % won, 15.5 days, 2 open (8, 9); all
        # teams of the company (the digest has no team)
        self.assertAlmostEqual(digest.kpi_spm_win_percentage_value, 200 / 3)
        self.assertAlmostEqual(digest.kpi_spm_avg_days_to_win_value, 15.5)
        self.assertEqual(digest.kpi_spm_open_opportunities_value, 2)
