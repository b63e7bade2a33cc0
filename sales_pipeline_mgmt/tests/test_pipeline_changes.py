# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, datetime

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import SalesPipelineCommon

BEFORE = datetime(2026, 2, 25, 10, 0)
LOST_BEFORE = datetime(2026, 2, 26, 10, 0)
# the period: Monday 2 to Sunday 8 March 2026, in the first quarter
DAY_1 = datetime(2026, 3, 3, 10, 0)
DAY_2 = datetime(2026, 3, 4, 10, 0)
AFTER = datetime(2026, 3, 10, 10, 0)
FILTERS = {"date_from": "2026-03-02", "date_to": "2026-03-08"}
IN_QUARTER = date(2026, 3, 20)
NEXT_QUARTER = date(2026, 5, 10)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineChanges(SalesPipelineCommon):
    """The waterfall and the pipeline at a moment, on a history built deal by
    deal with pinned dates; every expected figure is worked out by hand in
    the comments."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # existing (demo) leads would count in every figure
        cls.env["crm.lead"].with_context(active_test=False).search([]).unlink()
        cls.team_2 = cls.env["crm.team"].create(
            {"name": "SPM Team 2", "company_id": cls.company.id}
        )

    def _deal(self, name, revenue, deadline=IN_QUARTER, **values):
        return self._create_opportunity(
            name=name, expected_revenue=revenue, date_deadline=deadline, **values
        )

    def _build(self):
        """The history, deal by deal (team = SPM Team, salesperson Sally
        unless said otherwise):

        - A 1000 -> 1500 in the period (increase);
        - B (Sam) 2000 -> 1200 (decrease);
        - C 3000 -> 3500, then won (won, at its start amount);
        - D 4000, lost (lost);
        - E 500, closing moved to the next quarter (moved out of period);
        - F 700, closing moved from the next quarter into this one;
        - G 800, lost before the period, reopened in it (reopened);
        - H 1100, created in the period (new);
        - I 600, created and won in the period (new, then won);
        - J 1300, moved to team 2 and to Sam (moved out; moved in for Sam);
        - K (Sam) 1400, moved from team 2 into the team (moved in);
        - L 250, unchanged;
        - Z 9999 in the other company, created in the period.
        A's revenue changes again after the period, which changes nothing.
        """
        sam = self.user_salesman_2.id
        with self._pinned(BEFORE):
            deals = {
                "A": self._deal("A", 1000),
                "B": self._deal("B", 2000, user_id=sam),
                "C": self._deal("C", 3000),
                "D": self._deal("D", 4000),
                "E": self._deal("E", 500, date(2026, 3, 25)),
                "F": self._deal("F", 700, date(2026, 5, 1)),
                "G": self._deal("G", 800),
                "J": self._deal("J", 1300),
                "K": self._deal("K", 1400, user_id=sam, team_id=self.team_2.id),
                "L": self._deal("L", 250),
            }
        with self._pinned(LOST_BEFORE):
            deals["G"].action_set_lost()
        with self._pinned(DAY_1):
            deals["A"].write({"expected_revenue": 1500})
            deals["B"].write({"expected_revenue": 1200})
            deals["C"].write({"expected_revenue": 3500})
            deals["E"].write({"date_deadline": NEXT_QUARTER})
            deals["F"].write({"date_deadline": date(2026, 3, 28)})
            deals["H"] = self._deal("H", 1100)
            deals["I"] = self._deal("I", 600)
            self.env["crm.lead"].create(
                {
                    "name": "Z",
                    "type": "opportunity",
                    "expected_revenue": 9999,
                    "company_id": self.company_2.id,
                }
            ).flush_recordset()
        with self._pinned(DAY_2):
            (deals["C"] | deals["I"]).action_set_won()
            deals["D"].action_set_lost()
            deals["G"].action_unarchive()
            deals["J"].write({"team_id": self.team_2.id, "user_id": sam})
            deals["K"].write({"team_id": self.team.id})
            self.env.flush_all()
        with self._pinned(AFTER):
            deals["A"].write({"expected_revenue": 5000})
            self.env.flush_all()
        return deals

    def _changes(self, user, **filters):
        with self._pinned(AFTER):
            return (
                self.env["crm.lead"]
                .with_user(user)
                .get_pipeline_changes(dict(FILTERS, **filters))
            )

    def _figures(self, result):
        bars = {
            bar["key"]: (bar["count"], bar["amount"])
            for bar in result["bars"]
            if bar["count"]
        }
        start = (result["start"]["count"], result["start"]["amount"])
        end = (result["end"]["count"], result["end"]["amount"])
        return start, bars, end

    def assertWaterfall(self, result, start, bars, end):
        """The waterfall's start, its bars that moved something and its end,
        and that they reconcile."""
        self.assertEqual(self._figures(result), (start, bars, end))
        self.assertReconciles(result)

    def assertReconciles(self, result):
        """start + bars = end, in deals (amount bars move none) and amount."""
        count = result["start"]["count"] + sum(
            bar["sign"] * bar["count"] for bar in result["bars"]
        )
        amount = result["start"]["amount"] + sum(
            bar["amount"] for bar in result["bars"]
        )
        self.assertEqual(count, result["end"]["count"])
        self.assertAlmostEqual(amount, result["end"]["amount"])

    def _open_bar(self, user, bucket, **filters):
        with self._pinned(AFTER):
            action = (
                self.env["crm.lead"]
                .with_user(user)
                .action_open_pipeline_change(dict(FILTERS, **filters), bucket)
            )
        return (
            self.env["crm.lead"]
            .with_user(user)
            .with_context(**action["context"])
            .search(action["domain"])
        )

    def test_team_waterfall_has_every_bar_and_reconciles(self):
        deals = self._build()
        result = self._changes(self.user_manager, team_ids=[self.team.id])
        self.assertWaterfall(
            result,
            # A 1000 + B 2000 + C 3000 + D 4000 + E 500 + J 1300 + L 250
            start=(7, 12050),
            bars={
                "new": (2, 1700),  # H 1100 + I 600
                "reopened": (2, 2200),  # G 800 + K 1400
                "moved_into_period": (1, 700),  # F
                "increase": (1, 500),  # A 1000 -> 1500
                "decrease": (1, -800),  # B 2000 -> 1200
                "won": (2, -3600),  # C at its start amount 3000 + I 600
                "lost": (1, -4000),  # D
                "moved_out_of_period": (1, -500),  # E
                "moved_out": (1, -1300),  # J
            },
            # A 1500 + B 1200 + F 700 + G 800 + H 1100 + K 1400 + L 250
            end=(7, 6950),
        )
        self.assertEqual(result["forecast_period"], ["2026-01-01", "2026-03-31"])
        self.assertEqual(
            self._open_bar(self.user_manager, "won", team_ids=[self.team.id]),
            deals["C"] | deals["I"],
        )
        self.assertEqual(
            self._open_bar(self.user_manager, "new", team_ids=[self.team.id]),
            deals["H"] | deals["I"],
        )

    def test_company_waterfall_keeps_the_deals_moved_between_teams(self):
        self._build()
        self.assertWaterfall(
            self._changes(self.user_manager),
            # the team's start and K 1400; Z is in another company
            start=(8, 13450),
            bars={
                "new": (2, 1700),
                "reopened": (1, 800),
                "moved_into_period": (1, 700),
                "increase": (1, 500),
                "decrease": (1, -800),
                "won": (2, -3600),
                "lost": (1, -4000),
                "moved_out_of_period": (1, -500),
            },
            # the team's end, J 1300 and K 1400
            end=(8, 8250),
        )

    def test_salesperson_waterfall(self):
        deals = self._build()
        self.assertWaterfall(
            self._changes(self.user_manager, user_id=self.user_salesman_2.id),
            # B 2000 + K 1400
            start=(2, 3400),
            # J moved in to Sam, B 2000 -> 1200
            bars={"reopened": (1, 1300), "decrease": (1, -800)},
            # B 1200 + J 1300 + K 1400
            end=(3, 3900),
        )
        self.assertEqual(
            self._open_bar(
                self.user_manager, "reopened", user_id=self.user_salesman_2.id
            ),
            deals["J"],
        )

    def test_salesman_sees_only_the_deals_he_owns(self):
        self._build()
        self.assertWaterfall(
            self._changes(self.user_salesman),
            # A, C, D, E, L: B and K are Sam's, J is Sam's now
            start=(5, 8750),
            bars={
                "new": (2, 1700),
                "reopened": (1, 800),
                "moved_into_period": (1, 700),
                "increase": (1, 500),
                "won": (2, -3600),
                "lost": (1, -4000),
                "moved_out_of_period": (1, -500),
            },
            # A 1500 + F 700 + G 800 + H 1100 + L 250
            end=(5, 4350),
        )

    def test_other_company_sees_its_own_deal(self):
        self._build()
        self.assertWaterfall(
            self._changes(self.user_other_company),
            start=(0, 0),
            bars={"new": (1, 9999)},  # Z
            end=(1, 9999),
        )

    def test_what_changed_in_a_deal(self):
        deals = self._build()
        with self._pinned(AFTER):
            action = (
                self.env["crm.lead"]
                .with_user(self.user_manager)
                .action_open_pipeline_change(
                    dict(FILTERS, team_ids=[self.team.id]), "won"
                )
            )
        won = deals["C"].with_user(self.user_manager).with_context(**action["context"])
        summary = won.pipeline_change_summary
        self.assertIn("Expected Revenue: $\xa03,000.00 → $\xa03,500.00", summary)
        self.assertIn(f"Stage: {self.stage_new.name} → {self.stage_won.name}", summary)
        self.assertIn("State: Open → Won", summary)
        new = deals["H"].with_context(**action["context"])
        self.assertTrue(new.pipeline_change_summary.startswith("New deal"))

    def test_pipeline_at_a_moment(self):
        deals = self._build()
        lead_model = self.env["crm.lead"].with_user(self.user_manager)
        with self._pinned(AFTER):
            at_start = lead_model._get_pipeline_at(
                datetime(2026, 3, 2), [("team_id", "=", self.team.id)]
            )
            mid = lead_model._get_pipeline_at(
                datetime(2026, 3, 3, 12, 0), [("state", "=", "open")]
            )
        # H and I did not exist yet; K was in team 2
        self.assertEqual(
            set(at_start),
            set(
                (
                    deals["A"]
                    | deals["B"]
                    | deals["C"]
                    | deals["D"]
                    | deals["E"]
                    | deals["F"]
                    | deals["G"]
                    | deals["J"]
                    | deals["L"]
                ).ids
            ),
        )
        self.assertEqual(at_start[deals["G"].id]["state"], "lost")
        self.assertEqual(at_start[deals["C"].id]["expected_revenue"], 3000)
        self.assertEqual(at_start[deals["E"].id]["date_deadline"], date(2026, 3, 25))
        # on day 1 after the changes: every deal but G open, C at 3500
        self.assertNotIn(deals["G"].id, mid)
        self.assertEqual(mid[deals["C"].id]["expected_revenue"], 3500)
        self.assertEqual(mid[deals["K"].id]["team_id"], self.team_2.id)
        self.assertEqual(mid[deals["H"].id]["stage_id"], self.stage_new.id)

    def test_pipeline_over_time_by_day_and_week(self):
        self._build()
        lead_model = self.env["crm.lead"].with_user(self.user_manager)
        with self._pinned(AFTER):
            days = lead_model.get_pipeline_over_time(
                dict(FILTERS, interval="day", team_ids=[self.team.id])
            )
            weeks = lead_model.get_pipeline_over_time(
                {
                    "date_from": "2026-02-23",
                    "date_to": "2026-03-08",
                    "team_ids": [self.team.id],
                }
            )
        self.assertEqual(
            days["points"],
            [f"2026-03-0{day}" for day in range(2, 9)],
        )
        # every open deal is in the first stage (the won ones left it)
        self.assertEqual(
            [series["stage_id"] for series in days["series"]], [self.stage_new.id]
        )
        # end of 2 March: A, B, C, D, E, F, J, L (G lost, K in team 2);
        # 3 March: H and I created, A, B, C changed; 4 March on: C and I won,
        # D lost, G reopened, J out, K in
        self.assertEqual(days["totals"]["counts"], [8, 10, 8, 8, 8, 8, 8])
        self.assertEqual(
            days["totals"]["expected"], [12750, 14650, 7450, 7450, 7450, 7450, 7450]
        )
        self.assertEqual(weeks["points"], ["2026-03-01", "2026-03-08"])
        self.assertEqual(weeks["totals"]["counts"], [8, 8])
        self.assertEqual(weeks["totals"]["expected"], [12750, 7450])

    def test_bad_arguments_name_the_argument(self):
        lead_model = self.env["crm.lead"].with_user(self.user_manager)
        for filters, name in (
            ({"date_from": "yesterday"}, "date_from"),
            ({"date_from": "2026-03-09", "date_to": "2026-03-02"}, "date_to"),
            ({"team_ids": "all"}, "team_ids"),
            ({"user_id": "me"}, "user_id"),
            ({"period": "week"}, "period"),
        ):
            with self.assertRaisesRegex(UserError, f"^{name}:"):
                lead_model.get_pipeline_changes(filters)
        with self.assertRaisesRegex(UserError, "^bucket:"):
            lead_model.action_open_pipeline_change({}, "everything")
        with self.assertRaisesRegex(UserError, "^moment:"):
            lead_model._get_pipeline_at("soon")
        with self.assertRaisesRegex(UserError, "^interval:"):
            lead_model.get_pipeline_over_time({"interval": "month"})
        # values a dictionary cannot look up are refused the same way
        with self.assertRaisesRegex(UserError, "^bucket:"):
            lead_model.action_open_pipeline_change({}, ["won"])
        with self.assertRaisesRegex(UserError, "^interval:"):
            lead_model.get_pipeline_over_time({"interval": ["week"]})
