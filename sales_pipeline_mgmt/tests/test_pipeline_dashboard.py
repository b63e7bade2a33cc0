# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, datetime

from odoo.exceptions import UserError
from odoo.tests import tagged, users
from odoo.tools import SQL

from .common import SalesPipelineCommon

# "now" of every test: Friday 20 March 2026, noon (UTC). This month is March,
# the previous period February, the sparkline April 2025 to March 2026.
NOW = datetime(2026, 3, 20, 12)
MARCH = (date(2026, 3, 1), date(2026, 4, 1))
FEBRUARY = (date(2026, 2, 1), date(2026, 3, 1))
CARD_KEYS = [
    "new_leads",
    "lead_to_opportunity_rate",
    "opportunity_win_rate",
    "win_percentage",
    "avg_days_to_win",
    "avg_sales_cycle_days",
    "open_opportunity_count",
    "sales_velocity",
    "avg_won_revenue",
]


def day(month, day_, year=2026):
    return datetime(year, month, day_, 12)


class PipelineDashboardCommon(SalesPipelineCommon):
    """Deals of SPM Team moved with a pinned clock, all events at noon.

    Stages: New = Awareness, Qualified = Interest, Proposal = Consideration,
    Negotiation = Decision, Won = Purchase.

    ====  ===========  =========  ======================================  ===========
    deal  salesperson  source     history (created in New)                revenue
    ====  ===========  =========  ======================================  ===========
    o1    salesman     -          12-15-2025; Qualified 01-05; Proposal     500, 60 %
                                  02-15; open
    f1    salesman     mail       02-03; Qualified 02-06; Proposal 02-08;  3000
                                  Negotiation 02-12; won 02-20
    f2    salesman     web        02-05; Qualified 02-07; Proposal 02-10;
                                  lost 02-25 (in Proposal)
    f3    salesman     -          02-07, a lead, stays in New
    m5    salesman_2   web        02-10; Qualified 02-12; Proposal 03-02;  2000
                                  Negotiation 03-05; won 03-12
    m1    salesman     web        03-02, a lead, stays in New
    m2    salesman     web        03-03, a lead, converted 03-05 and       4000
                                  Qualified; Proposal 03-08; won 03-15
    m3    salesman_2   mail       03-04; Qualified 03-06; Proposal 03-07;
                                  lost 03-10 (in Proposal)
    m4    salesman     -          03-06; Qualified 03-09; open, stalled    1000, 40 %
    c2    other co.    web        03-05 in company 2, won 03-08
    ====  ===========  =========  ======================================  ===========
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # existing (demo) leads would count in every figure
        cls.env["crm.lead"].with_context(active_test=False).search([]).unlink()
        source_model = cls.env["utm.source"]
        cls.source_web = source_model.create({"name": "SPM Web"})
        cls.source_mail = source_model.create({"name": "SPM Mail"})
        qualified, proposal = cls.stage_qualified, cls.stage_proposal
        negotiation, won = cls.stage_negotiation, cls.stage_won
        cls.o1 = cls._deal("o1", day(12, 15, 2025), source=False)
        cls._move(cls.o1, day(1, 5), qualified)
        cls.f1 = cls._deal("f1", day(2, 3), source=cls.source_mail, revenue=3000)
        cls.f2 = cls._deal("f2", day(2, 5), source=cls.source_web)
        cls._move(cls.f1, day(2, 6), qualified)
        cls.f3 = cls._deal("f3", day(2, 7), source=False, lead=True)
        cls._move(cls.f2, day(2, 7), qualified)
        cls._move(cls.f1, day(2, 8), proposal)
        cls.m5 = cls._deal(
            "m5",
            day(2, 10),
            user=cls.user_salesman_2,
            source=cls.source_web,
            revenue=2000,
        )
        cls._move(cls.f2, day(2, 10), proposal)
        cls._move(cls.f1, day(2, 12), negotiation)
        cls._move(cls.m5, day(2, 12), qualified)
        cls._move(cls.o1, day(2, 15), proposal)
        cls._move(cls.f1, day(2, 20), won)
        cls._lose(cls.f2, day(2, 25))
        cls.m1 = cls._deal("m1", day(3, 2), source=cls.source_web, lead=True)
        cls._move(cls.m5, day(3, 2), proposal)
        cls.m2 = cls._deal("m2", day(3, 3), source=cls.source_web, revenue=4000)
        cls.m3 = cls._deal(
            "m3", day(3, 4), user=cls.user_salesman_2, source=cls.source_mail
        )
        cls._move(cls.m2, day(3, 5), qualified)
        cls._move(cls.m5, day(3, 5), negotiation)
        cls.m4 = cls._deal("m4", day(3, 6), source=False, revenue=1000)
        cls._move(cls.m3, day(3, 6), qualified)
        cls._move(cls.m3, day(3, 7), proposal)
        cls._move(cls.m2, day(3, 8), proposal)
        cls._move(cls.m4, day(3, 9), qualified)
        cls._lose(cls.m3, day(3, 10))
        cls._move(cls.m5, day(3, 12), won)
        cls._move(cls.m2, day(3, 15), won)
        # m2 was created as a lead and converted on 03-05 (with its move)
        cls._set(cls.m2, date_conversion=day(3, 5))
        cls.o1.write({"expected_revenue": 500, "probability": 60})
        cls.m4.write({"probability": 40})
        cls._set(cls.m4, is_stalled=True, stalled_count=1, stalled_since=day(3, 19))
        cls.team_2 = cls.env["crm.team"].create(
            {"name": "SPM Team 2", "company_id": cls.company_2.id}
        )
        stage_won_2 = cls.env["crm.stage"].create(
            {"name": "SPM Won 2", "is_won": True, "team_id": cls.team_2.id}
        )
        cls.c2 = cls._deal(
            "c2",
            day(3, 5),
            user=cls.user_other_company,
            source=cls.source_web,
            team=cls.team_2,
            stage=cls.env["crm.stage"].create(
                {"name": "SPM New 2", "sequence": 1, "team_id": cls.team_2.id}
            ),
        )
        cls._move(cls.c2, day(3, 8), stage_won_2)
        with cls._pinned_cls(NOW):
            cls.env["crm.lead"]._refresh_historical_forecast()
        cls.env.flush_all()

    @classmethod
    def _pinned_cls(cls, when):
        return SalesPipelineCommon._pinned(cls, when)

    @classmethod
    def _deal(
        cls,
        name,
        when,
        user=None,
        source=None,
        lead=False,
        revenue=0,
        team=None,
        stage=None,
    ):
        with cls._pinned_cls(when):
            record = cls.env["crm.lead"].create(
                {
                    "name": name,
                    "type": "lead" if lead else "opportunity",
                    "team_id": (team or cls.team).id,
                    "company_id": (team or cls.team).company_id.id,
                    "user_id": (user or cls.user_salesman).id,
                    "source_id": source.id if source else False,
                    "stage_id": (stage or cls.stage_new).id,
                    "expected_revenue": revenue,
                }
            )
            record.flush_recordset()
        return record

    @classmethod
    def _move(cls, lead, when, stage):
        with cls._pinned_cls(when):
            lead.write({"stage_id": stage.id})
            lead.flush_recordset()

    @classmethod
    def _lose(cls, lead, when):
        with cls._pinned_cls(when):
            lead.action_set_lost()
            lead.flush_recordset()

    @classmethod
    def _set(cls, lead, **values):
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET %s WHERE id = %s",
                SQL(", ").join(
                    SQL("%s = %s", SQL.identifier(fname), value)
                    for fname, value in values.items()
                ),
                lead.id,
            )
        )
        lead.invalidate_recordset()

    def _dashboard(self, **filters):
        with self._pinned(NOW):
            return self.env["crm.lead"].get_pipeline_dashboard(filters)

    def _cards(self, dashboard):
        return {card["key"]: card for card in dashboard["kpis"]}

    def _step(self, dashboard, standard_stage):
        return next(
            step for step in dashboard["funnel"] if step["id"] == standard_stage.id
        )

    def _opened(self, drill):
        """The deals a drill-down opens: its domain searched as the user, as
        the list view does (the domain says itself whether archived leads
        count)."""
        return self.env["crm.lead"].search(drill["domain"])

    def _assert_drills_match(self, dashboard):
        """Every figure opens as many deals as it shows."""
        for card in dashboard["kpis"]:
            with self.subTest(card=card["key"]):
                self.assertEqual(len(self._opened(card["drill"])), card["count"])
                if card["kind"] == "count":
                    self.assertEqual(card["count"], card["value"])
                if dashboard["comparison"]:
                    self.assertEqual(
                        len(self._opened(card["comparison_drill"])),
                        card["comparison_count"],
                    )
        for step in dashboard["funnel"]:
            for values in step["periods"]:
                for category, drill in values["drills"].items():
                    with self.subTest(step=step["name"], category=category):
                        self.assertEqual(len(self._opened(drill)), values[category])
            self.assertEqual(
                len(self._opened(step["stalled_drill"])), step["stalled_count"]
            )
        bottleneck = dashboard["bottleneck"]
        if bottleneck["stage_id"]:
            self.assertEqual(
                len(self._opened(bottleneck["drill"])), bottleneck["entered"]
            )
            self.assertEqual(
                len(self._opened(bottleneck["stalled_drill"])),
                bottleneck["stalled_count"],
            )
        for series in dashboard["sources"]["series"]:
            for count, drill in zip(series["counts"], series["drills"], strict=True):
                with self.subTest(source=series["name"]):
                    self.assertEqual(len(self._opened(drill)) if drill else 0, count)
        for row in dashboard["pipeline"]["stages"]:
            with self.subTest(stage=row["name"]):
                self.assertEqual(len(self._opened(row["drill"])), row["count"])
                self.assertEqual(
                    len(self._opened(row["stalled_drill"])), row["stalled_count"]
                )


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineDashboard(PipelineDashboardCommon):
    @users("spm_manager")
    def test_manager_cards_of_march_against_february(self):
        dashboard = self._dashboard()
        self.assertEqual(
            (dashboard["period"], dashboard["comparison"]),
            (
                {"date_from": "2026-03-01", "date_to": "2026-03-31"},
                {"date_from": "2026-02-01", "date_to": "2026-02-28"},
            ),
        )
        cards = self._cards(dashboard)
        self.assertEqual(list(cards), CARD_KEYS)
        # March: created m1 m2 m3 m4; February: f1 f2 f3 m5
        self.assertEqual(cards["new_leads"]["value"], 4)
        self.assertEqual(cards["new_leads"]["comparison_value"], 4)
        # started as leads: m1, m2 (converted) -> 1 / 2; February: f3 -> 0 / 1
        card = cards["lead_to_opportunity_rate"]
        self.assertEqual((card["count"], card["comparison_count"]), (2, 1))
        self.assertAlmostEqual(card["value"], 50.0)
        self.assertAlmostEqual(card["comparison_value"], 0.0)
        # opened: m2 (conversion 03-05), m3, m4, won m2 -> 1 / 3; February:
        # f1, f2, m5, won by now f1 and m5 -> 2 / 3
        card = cards["opportunity_win_rate"]
        self.assertEqual((card["count"], card["comparison_count"]), (3, 3))
        self.assertAlmostEqual(card["value"], 100 / 3)
        self.assertAlmostEqual(card["comparison_value"], 200 / 3)
        # closed: m2 won, m3 lost, m5 won -> 2 / 3; February: f1 won, f2 lost
        card = cards["win_percentage"]
        self.assertEqual((card["count"], card["comparison_count"]), (3, 2))
        self.assertAlmostEqual(card["value"], 200 / 3)
        self.assertAlmostEqual(card["comparison_value"], 50.0)
        # won: m2 03-05 -> 03-15 = 10 days (from conversion), m5 02-10 -> 03-12
        # = 30 days; February: f1 02-03 -> 02-20 = 17 days
        card = cards["avg_days_to_win"]
        self.assertEqual((card["count"], card["comparison_count"]), (2, 1))
        self.assertAlmostEqual(card["value"], 20.0)
        self.assertAlmostEqual(card["comparison_value"], 17.0)
        # creation to closing: m2 12, m3 6, m5 30; February: f1 17, f2 20
        card = cards["avg_sales_cycle_days"]
        self.assertAlmostEqual(card["value"], 16.0)
        self.assertAlmostEqual(card["comparison_value"], 18.5)
        # open at the end of March (now): m4, o1; at the end of February: o1,
        # and m5 (won on 03-12); f1 and f2 closed in February, m4 not opened
        card = cards["open_opportunity_count"]
        self.assertEqual((card["value"], card["comparison_value"]), (2, 2))
        # won deals: (4000 + 2000) / 2; February: f1 3000
        card = cards["avg_won_revenue"]
        self.assertAlmostEqual(card["value"], 3000.0)
        self.assertAlmostEqual(card["comparison_value"], 3000.0)
        # velocity: 2 open x 3000 x 2/3 won / 20 days = 200 per day;
        # February: 2 x 3000 x 1/2 / 17 days
        card = cards["sales_velocity"]
        self.assertAlmostEqual(card["value"], 200.0)
        self.assertAlmostEqual(card["comparison_value"], 3000 / 17)
        # directions: a shorter cycle is better
        self.assertEqual(card["direction"], 1)
        self.assertEqual(cards["avg_sales_cycle_days"]["direction"], -1)
        self.assertEqual(cards["avg_days_to_win"]["direction"], -1)

    @users("spm_manager")
    def test_cards_equal_get_pipeline_kpis_of_the_period(self):
        dashboard = self._dashboard()
        cards = self._cards(dashboard)
        with self._pinned(NOW):
            kpis = self.env["crm.lead"].get_pipeline_kpis([], *MARCH)
        for key in (
            "lead_to_opportunity_rate",
            "opportunity_win_rate",
            "win_percentage",
            "avg_days_to_win",
            "avg_sales_cycle_days",
            "open_opportunity_count",
        ):
            self.assertAlmostEqual(cards[key]["value"], kpis[key], msg=key)
        self.assertEqual(
            cards["new_leads"]["value"],
            sum(row["count"] for row in kpis["leads_by_source_month"]),
        )

    @users("spm_manager")
    def test_sparklines_are_the_last_twelve_months(self):
        dashboard = self._dashboard()
        self.assertEqual(
            [period["date_from"] for period in dashboard["sparkline_periods"]],
            [f"2025-{month:02d}-01" for month in range(4, 13)]
            + [f"2026-{month:02d}-01" for month in range(1, 4)],
        )
        cards = self._cards(dashboard)
        # April 2025 .. March 2026: o1 in December, 4 in February and March
        self.assertEqual(cards["new_leads"]["sparkline"], [0] * 8 + [1, 0, 4, 4])
        # open at each month's end: o1 from its opening on 12-15, m5 from
        # 02-10 to 03-12, m4 from 03-06
        self.assertEqual(
            cards["open_opportunity_count"]["sparkline"], [0] * 8 + [1, 1, 2, 2]
        )
        # closed per month: none before February; February 1 / 2, March 2 / 3
        sparkline = cards["win_percentage"]["sparkline"]
        self.assertEqual(sparkline[:10], [None] * 10)
        self.assertAlmostEqual(sparkline[10], 50.0)
        self.assertAlmostEqual(sparkline[11], 200 / 3)

    @users("spm_manager")
    def test_funnel_of_march_against_february(self):
        dashboard = self._dashboard()
        self.assertEqual(
            [step["name"] for step in dashboard["funnel"]],
            ["Awareness", "Interest", "Consideration", "Decision", "Purchase"],
        )

        def figures(standard_stage, period):
            values = self._step(dashboard, standard_stage)["periods"][period]
            return (
                values["entered"],
                values["moved_on"],
                values["lost"],
                values["still"],
            )

        # Awareness, March: m1 (still there), m2, m3, m4 (moved on); days:
        # m1 18 (current, up to now), m2 2, m3 2, m4 3
        self.assertEqual(figures(self.standard_awareness, 0), (4, 3, 0, 1))
        awareness = self._step(dashboard, self.standard_awareness)["periods"]
        self.assertAlmostEqual(awareness[0]["conversion"], 75.0)
        self.assertAlmostEqual(awareness[0]["avg_days"], 25 / 4)
        # February: f1, f2, m5 moved on, f3 still there; days 3, 2, 2, and f3
        # 02-07 to now 41
        self.assertEqual(figures(self.standard_awareness, 1), (4, 3, 0, 1))
        self.assertAlmostEqual(awareness[1]["avg_days"], 12.0)
        # Interest, March: m2, m3 moved on, m4 still (days 3, 1, 11)
        interest = self._step(dashboard, self.standard_interest)
        self.assertEqual(figures(self.standard_interest, 0), (3, 2, 0, 1))
        self.assertAlmostEqual(interest["periods"][0]["conversion"], 200 / 3)
        self.assertAlmostEqual(interest["periods"][0]["avg_days"], 5.0)
        # February: f1, f2 (lost later, in Proposal), m5 all moved on (days 2,
        # 3, 18)
        self.assertEqual(figures(self.standard_interest, 1), (3, 3, 0, 0))
        self.assertAlmostEqual(interest["periods"][1]["conversion"], 100.0)
        self.assertAlmostEqual(interest["periods"][1]["avg_days"], 23 / 3)
        # m4 is stalled in Qualified
        self.assertEqual(interest["stalled_count"], 1)
        # Consideration, March: m2, m5 moved on, m3 lost there (days 7, 3, and
        # 13 up to now); February: f1 moved on, f2 lost, o1 still there
        consideration = self._step(dashboard, self.standard_consideration)
        self.assertEqual(figures(self.standard_consideration, 0), (3, 2, 1, 0))
        self.assertAlmostEqual(consideration["periods"][0]["avg_days"], 23 / 3)
        self.assertEqual(figures(self.standard_consideration, 1), (3, 1, 1, 1))
        self.assertAlmostEqual(consideration["periods"][1]["conversion"], 100 / 3)
        # f1 4 days, f2 38 and o1 33 up to now
        self.assertAlmostEqual(consideration["periods"][1]["avg_days"], 25.0)
        # Decision: m5 in March, f1 in February, both won since
        self.assertEqual(figures(self.standard_decision, 0), (1, 1, 0, 0))
        self.assertEqual(figures(self.standard_decision, 1), (1, 1, 0, 0))
        # Purchase: the won deals stay there; no next stage, no conversion
        purchase = self._step(dashboard, self.standard_purchase)
        self.assertEqual(figures(self.standard_purchase, 0), (2, 0, 0, 2))
        self.assertIsNone(purchase["periods"][0]["conversion"])
        self.assertFalse(purchase["next_name"])

    @users("spm_manager")
    def test_funnel_counts_a_deal_once_per_stage_whatever_its_stays(self):
        # b1 enters Consideration twice in March (Proposal, back to
        # Qualified, Proposal again): one deal, two stays
        b1 = self._deal("b1", day(3, 1), revenue=100)
        self._move(b1, day(3, 2), self.stage_proposal)
        self._move(b1, day(3, 4), self.stage_qualified)
        self._move(b1, day(3, 6), self.stage_proposal)
        dashboard = self._dashboard()
        consideration = self._step(dashboard, self.standard_consideration)
        march = consideration["periods"][0]
        # m2, m5 moved on, m3 lost there, b1 still there
        self.assertEqual(
            (march["entered"], march["moved_on"], march["lost"], march["still"]),
            (4, 2, 1, 1),
        )
        # the average is over the stays: m2 7, m5 3, m3 13 days, b1 2 (03-02
        # to 03-04) and 14 (03-06 to now)
        self.assertAlmostEqual(march["avg_days"], 39 / 5)
        # Interest: m2, m3 moved on, m4 still there, b1 (03-04 to 03-06) is
        # in a later stage now; days 3, 1, 11 and 2
        interest = self._step(dashboard, self.standard_interest)["periods"][0]
        self.assertEqual(
            (
                interest["entered"],
                interest["moved_on"],
                interest["lost"],
                interest["still"],
            ),
            (4, 3, 0, 1),
        )
        self.assertAlmostEqual(interest["avg_days"], 17 / 4)
        self._assert_drills_match(dashboard)

    @users("spm_manager")
    def test_bottleneck_is_the_stage_that_worsened_most(self):
        # below the minimum sample (5 by default) the dashboard says nothing
        bottleneck = self._dashboard()["bottleneck"]
        self.assertFalse(bottleneck["stage_id"])
        self.assertIn("at least 5 deals", bottleneck["message"])
        self.env["ir.config_parameter"].sudo().set_param(
            "sales_pipeline_mgmt.bottleneck_min_sample", "3"
        )
        dashboard = self._dashboard()
        bottleneck = dashboard["bottleneck"]
        # candidates (3 deals or more in both months): Awareness (conversion
        # 75 % both months, time 6.25 days against 12: no worse), Interest
        # (conversion 67 % against 100 %: 1/3 lower), Consideration (67 %
        # against 33 %, 7.7 days against 25: better)
        self.assertEqual(bottleneck["stage_id"], self.standard_interest.id)
        self.assertEqual(
            bottleneck["sentence"],
            "Interest: 3 deals entered; they stay 5 days, 0.7× the previous "
            "month; conversion to Consideration 67 % (was 100 %); 1 stalled here.",
        )
        # it opens the 3 deals that entered Interest in March: m2, m3, m4
        self.assertEqual(self._opened(bottleneck["drill"]), self.m2 | self.m3 | self.m4)
        self.assertEqual(self._opened(bottleneck["stalled_drill"]), self.m4)
        self._assert_drills_match(dashboard)

    @users("spm_manager")
    def test_no_bottleneck_without_a_comparison(self):
        dashboard = self._dashboard(compare="none")
        self.assertFalse(dashboard["comparison"])
        self.assertFalse(dashboard["bottleneck"]["stage_id"])
        self.assertNotIn("comparison_value", dashboard["kpis"][0])
        self.assertEqual(len(dashboard["funnel"][0]["periods"]), 1)

    @users("spm_manager")
    def test_leads_per_source_per_month(self):
        sources = self._dashboard()["sources"]
        # the 12 months up to March 2026
        self.assertEqual(sources["months"][0], "2025-04-01")
        self.assertEqual(sources["months"][-1], "2026-03-01")
        series = {item["name"]: item["counts"][-4:] for item in sources["series"]}
        # December: o1 (no source); February: web f2 m5, mail f1, none f3;
        # March: web m1 m2, mail m3, none m4
        self.assertEqual(
            series,
            {
                "SPM Web": [0, 0, 2, 2],
                "No Source": [1, 0, 1, 1],
                "SPM Mail": [0, 0, 1, 1],
            },
        )

    @users("spm_manager")
    def test_open_pipeline_by_stage(self):
        pipeline = self._dashboard()["pipeline"]
        rows = {
            row["name"]: (
                row["count"],
                row["expected_revenue"],
                row["historical_revenue"],
                row["stalled_count"],
            )
            for row in pipeline["stages"]
        }
        # m4 in Qualified (1000 at its own 40 %: no closed history is large
        # enough), o1 in Proposal (500 at 60 %)
        self.assertEqual(
            rows,
            {
                "SPM Qualified": (1, 1000.0, 400.0, 1),
                "SPM Proposal": (1, 500.0, 300.0, 0),
            },
        )
        self.assertEqual(pipeline["count"], 2)

    @users("spm_manager")
    def test_every_figure_opens_as_many_deals_as_it_shows(self):
        for filters in (
            {},
            {"period": "this_quarter", "compare": "last_year"},
            {"period": "last_12_months", "team_ids": [self.team.id]},
            {"period": "custom", "date_from": "2026-02-15", "date_to": "2026-03-10"},
        ):
            with self.subTest(filters=filters):
                self._assert_drills_match(self._dashboard(**filters))

    @users("spm_manager")
    def test_filters_by_salesperson_and_source(self):
        cards = self._cards(self._dashboard(user_id=self.user_salesman_2.id))
        # salesman_2: m3 (created in March, lost), m5 (won in March)
        self.assertEqual(cards["new_leads"]["value"], 1)
        self.assertAlmostEqual(cards["win_percentage"]["value"], 50.0)
        cards = self._cards(self._dashboard(source_id=self.source_mail.id))
        # mail: m3 in March, f1 in February
        self.assertEqual(cards["new_leads"]["value"], 1)
        self.assertEqual(cards["new_leads"]["comparison_value"], 1)
        cards = self._cards(self._dashboard(domain=[("expected_revenue", ">=", 2000)]))
        # m2 (4000) was created in March
        self.assertEqual(cards["new_leads"]["value"], 1)

    @users("spm_manager")
    def test_periods_of_each_preset(self):
        def dates(**filters):
            dashboard = self._dashboard(**filters)
            return (
                dashboard["period"]["date_from"],
                dashboard["period"]["date_to"],
                dashboard["comparison"] and dashboard["comparison"]["date_from"],
                dashboard["sparkline_periods"][0]["date_from"],
            )

        self.assertEqual(
            dates(period="this_quarter"),
            ("2026-01-01", "2026-03-31", "2025-10-01", "2023-04-01"),
        )
        self.assertEqual(
            dates(period="this_year", compare="last_year"),
            ("2026-01-01", "2026-12-31", "2025-01-01", "2015-01-01"),
        )
        self.assertEqual(
            dates(period="last_3_months"),
            ("2026-01-01", "2026-03-31", "2025-10-01", "2023-04-01"),
        )
        self.assertEqual(
            dates(period="last_12_months", compare="last_year"),
            ("2025-04-01", "2026-03-31", "2024-04-01", "2014-04-01"),
        )
        # custom: 10 days, compared with the 10 days before
        self.assertEqual(
            dates(period="custom", date_from="2026-03-01", date_to="2026-03-10"),
            ("2026-03-01", "2026-03-10", "2026-02-19", "2025-11-11"),
        )

    @users("spm_manager")
    def test_one_load_costs_a_constant_number_of_queries(self):
        # the context of an RPC of the web client
        lead_model = self.env["crm.lead"].with_context(lang="en_US", tz="UTC")
        with self._pinned(NOW):
            # warm the caches (the record rules of the teams filtered on too)
            lead_model.get_pipeline_dashboard({"team_ids": [self.team.id]})
            self.env.invalidate_all()
            # measured: the teams filtered on (that the user may read them),
            # the company's currency with the load's settings (no JIT, a
            # larger work_mem), the open pipeline and its stages' names, the
            # funnel and the standard stages, the KPI figures of all the
            # periods (period, comparison, sparkline), the leads per source
            # per month with the sources' names, the settings put back;
            # whatever the number of leads and periods (a cold load reads the
            # user too, for the record rules: 10)
            with self.assertQueryCount(spm_manager=9):
                lead_model.get_pipeline_dashboard({"team_ids": [self.team.id]})

    @users("spm_manager")
    def test_the_read_method_may_run_on_a_read_replica(self):
        method = type(self.env["crm.lead"]).get_pipeline_dashboard
        self.assertTrue(getattr(method, "_readonly", False))


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineDashboardRights(PipelineDashboardCommon):
    @users("spm_salesman")
    def test_salesman_sees_only_own_deals(self):
        dashboard = self._dashboard()
        cards = self._cards(dashboard)
        # visible: o1 f1 f2 f3 m1 m2 m4 (not m3, m5: salesman_2's)
        # March: created m1 m2 m4; started as leads m1 m2 (1 converted);
        # opened m2 m4 (m2 won); closed m2 (won, 10 days from conversion, 12
        # from creation); open o1 m4; velocity 2 x 4000 x 100 % / 10
        expected = {
            "new_leads": 3,
            "lead_to_opportunity_rate": 50.0,
            "opportunity_win_rate": 50.0,
            "win_percentage": 100.0,
            "avg_days_to_win": 10.0,
            "avg_sales_cycle_days": 12.0,
            "open_opportunity_count": 2,
            "sales_velocity": 800.0,
            "avg_won_revenue": 4000.0,
        }
        for key, value in expected.items():
            self.assertAlmostEqual(cards[key]["value"], value, msg=key)
        # February: f1 f2 f3 created; open at its end: o1 only (m5 is not
        # theirs)
        self.assertEqual(cards["new_leads"]["comparison_value"], 3)
        self.assertEqual(cards["open_opportunity_count"]["comparison_value"], 1)
        # the funnel: Consideration in March is m2 only
        step = self._step(dashboard, self.standard_consideration)
        self.assertEqual(step["periods"][0]["entered"], 1)
        self._assert_drills_match(dashboard)

    @users("spm_salesman")
    def test_salesman_filtering_a_colleague_gets_nothing(self):
        cards = self._cards(self._dashboard(user_id=self.user_salesman_2.id))
        self.assertEqual(cards["new_leads"]["value"], 0)
        self.assertIsNone(cards["win_percentage"]["value"])

    @users("spm_other_company")
    def test_second_company_sees_only_its_own(self):
        dashboard = self._dashboard()
        cards = self._cards(dashboard)
        # c2: created and won in March, 3 days
        self.assertEqual(cards["new_leads"]["value"], 1)
        self.assertAlmostEqual(cards["win_percentage"]["value"], 100.0)
        self.assertAlmostEqual(cards["avg_days_to_win"]["value"], 3.0)
        self.assertEqual(cards["new_leads"]["comparison_value"], 0)
        self.assertEqual(dashboard["pipeline"]["stages"], [])
        self.assertEqual(
            [item["name"] for item in dashboard["sources"]["series"]], ["SPM Web"]
        )
        self._assert_drills_match(dashboard)

    @users("spm_manager")
    def test_manager_never_sees_the_second_company(self):
        cards = self._cards(self._dashboard())
        self.assertNotIn(self.c2, self._opened(cards["new_leads"]["drill"]))
        with self.assertRaisesRegex(UserError, "^team_ids: no Sales Team"):
            self._dashboard(team_ids=[self.team_2.id])


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineDashboardEmpty(SalesPipelineCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.lead"].with_context(active_test=False).search([]).unlink()

    @users("spm_manager")
    def test_no_data_gives_empty_figures_never_an_error(self):
        with self._pinned(NOW):
            dashboard = self.env["crm.lead"].get_pipeline_dashboard({})
        cards = {card["key"]: card for card in dashboard["kpis"]}
        self.assertEqual(cards["new_leads"]["value"], 0)
        self.assertEqual(cards["open_opportunity_count"]["value"], 0)
        for key in (
            "lead_to_opportunity_rate",
            "win_percentage",
            "avg_days_to_win",
            "sales_velocity",
            "avg_won_revenue",
        ):
            self.assertIsNone(cards[key]["value"], key)
            self.assertIsNone(cards[key]["comparison_value"], key)
        self.assertEqual(cards["new_leads"]["sparkline"], [0] * 12)
        self.assertTrue(
            all(
                values["entered"] == 0 and values["avg_days"] is None
                for step in dashboard["funnel"]
                for values in step["periods"]
            )
        )
        self.assertFalse(dashboard["bottleneck"]["stage_id"])
        self.assertTrue(dashboard["bottleneck"]["message"])
        self.assertEqual(dashboard["sources"]["series"], [])
        self.assertEqual(dashboard["pipeline"]["stages"], [])


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineDashboardArguments(SalesPipelineCommon):
    def _refused(self, filters, name):
        with self.assertRaises(UserError) as caught:
            self.env["crm.lead"].get_pipeline_dashboard(filters)
        self.assertTrue(
            str(caught.exception).startswith(f"{name}:"), str(caught.exception)
        )

    @users("spm_manager")
    def test_bad_arguments_are_refused_naming_them(self):
        self._refused({"domain": [("no_such_field", "=", 1)]}, "domain")
        self._refused({"domain": ["|", ("name", "=", "x")]}, "domain")
        self._refused({"domain": [("name", "no such operator", "x")]}, "domain")
        self._refused({"domain": "[('name', '=', 'x')]"}, "domain")
        self._refused({"period": "custom", "date_from": "2026-13-45"}, "date_from")
        self._refused(
            {"period": "custom", "date_from": "2026-03-01", "date_to": 20260310},
            "date_to",
        )
        self._refused(
            {"period": "custom", "date_from": "2026-03-10", "date_to": "2026-03-01"},
            "date_to",
        )
        self._refused({"period": "custom", "date_to": "2026-03-01"}, "date_from")
        self._refused({"period": "fortnight"}, "period")
        self._refused({"compare": "yesterday"}, "compare")
        self._refused({"compare": {"previous": True}}, "compare")
        self._refused({"team_ids": ["1"]}, "team_ids")
        self._refused({"user_id": "me"}, "user_id")
        self._refused({"colour": "blue"}, "colour")
        self._refused(["period"], "filters")

    def test_errors_are_translated(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"].search(
            [("name", "=", "sales_pipeline_mgmt")]
        )._update_translations(["es_ES"], overwrite=True)
        lead_model = self.env["crm.lead"].with_context(lang="es_ES")
        with self.assertRaises(UserError) as caught:
            lead_model.get_pipeline_dashboard(
                {"period": "custom", "date_from": "2026-03-10", "date_to": "2026-03-01"}
            )
        self.assertIn("no puede terminar", str(caught.exception))
