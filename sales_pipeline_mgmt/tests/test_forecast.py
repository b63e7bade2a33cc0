# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, timedelta

from psycopg2.errors import UniqueViolation

from odoo.tests import tagged, users
from odoo.tools import SQL, mute_logger

from .common import T0, SalesPipelineCommon


class ForecastCommon(SalesPipelineCommon):
    """A hand-built past, all before T0 (2026-03-02 09:00), minimum sample 4.

    Closed leads that were in Proposal, and the days from entering Proposal to
    being won:
    - team A (cls.team): A1 won after 10 days, A2 after 20, A3 after 40, A4
      lost: 4 closed, 3 won;
    - team B: B1 won after 60 days, B2 lost: 2 closed, 1 won;
    - A5 (team A) left Proposal 400 days before T0, outside the 12-month window,
      then was lost in Negotiation: not in the Proposal sample.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"forecast_min_sample": 4})
        cls.team_b = cls.env["crm.team"].create(
            {"name": "SPM Team B", "company_id": cls.company.id}
        )

    def _closed_lead(self, team, entered_days_ago, closed_days_ago, won, **values):
        """Create a lead in Proposal ``entered_days_ago`` days before T0 and
        win or lose it ``closed_days_ago`` days before T0."""
        with self._pinned(T0 - timedelta(days=entered_days_ago)):
            lead = self._create_opportunity(
                team_id=team.id, stage_id=self.stage_proposal.id, **values
            )
        with self._pinned(T0 - timedelta(days=closed_days_ago)):
            if won:
                lead.write({"stage_id": self.stage_won.id})
            else:
                lead.action_set_lost()
            lead.flush_recordset()
        return lead

    def _build_history(self):
        self._closed_lead(self.team, 100, 90, True)  # A1: 10 days
        self._closed_lead(self.team, 100, 80, True)  # A2: 20 days
        self._closed_lead(self.team, 100, 60, True)  # A3: 40 days
        self._closed_lead(self.team, 100, 50, False)  # A4: lost
        self._closed_lead(self.team_b, 120, 60, True)  # B1: 60 days
        self._closed_lead(self.team_b, 100, 70, False)  # B2: lost
        # A5: Proposal from T0-420d to T0-400d, then lost in Negotiation
        with self._pinned(T0 - timedelta(days=420)):
            old = self._create_opportunity(stage_id=self.stage_proposal.id)
        with self._pinned(T0 - timedelta(days=400)):
            old.write({"stage_id": self.stage_negotiation.id})
            old.action_set_lost()
            old.flush_recordset()

    def _open_lead(self, **values):
        with self._pinned(T0 - timedelta(days=1)):
            return self._create_opportunity(
                **dict({"stage_id": self.stage_proposal.id}, **values)
            )

    def _refresh(self):
        with self._pinned(T0):
            return self.env["crm.lead"]._refresh_historical_forecast()


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestHistoricalForecast(ForecastCommon):
    def setUp(self):
        super().setUp()
        self._build_history()

    def test_team_level_when_the_team_sample_is_large_enough(self):
        lead = self._open_lead(probability=10, expected_revenue=10000)
        self._refresh()
        # team A in Proposal: 3 won / 4 closed = 75 %
        self.assertEqual(lead.historical_level, "team")
        self.assertEqual(lead.historical_sample_size, 4)
        self.assertAlmostEqual(lead.historical_probability, 75.0)
        # 10000 x 75 / 100
        self.assertEqual(lead.historical_revenue, 7500.0)
        self.assertAlmostEqual(lead.expected_deal_count, 0.75)
        # the probability field is never written
        self.assertEqual(lead.probability, 10)

    def test_all_teams_level_when_the_team_sample_is_too_small(self):
        lead = self._open_lead(
            team_id=self.team_b.id, probability=10, expected_revenue=3000
        )
        self._refresh()
        # team B has 2 closed < 4: all teams, (3 + 1) won / (4 + 2) closed
        self.assertEqual(lead.historical_level, "company")
        self.assertEqual(lead.historical_sample_size, 6)
        self.assertAlmostEqual(lead.historical_probability, 4 / 6 * 100)
        # 3000 x 4 / 6 = 2000
        self.assertEqual(lead.historical_revenue, 2000.0)

    def test_own_probability_when_no_level_has_enough_history(self):
        # Qualified: no closed lead ever stayed there
        lead = self._open_lead(
            stage_id=self.stage_qualified.id,
            probability=30,
            expected_revenue=1000,
            date_deadline=date(2026, 4, 1),
        )
        self._refresh()
        self.assertEqual(lead.historical_level, "lead")
        self.assertEqual(lead.historical_sample_size, 0)
        self.assertAlmostEqual(lead.historical_probability, 30.0)
        self.assertEqual(lead.historical_revenue, 300.0)
        # no history to predict from: the lead's own expected closing
        self.assertEqual(lead.predicted_close_date, date(2026, 4, 1))
        self.assertFalse(lead.is_close_date_optimistic)

    def test_the_window_excludes_stays_that_ended_before_it(self):
        # with a 14-month window A5 (left Proposal 400 days ago) counts too:
        # team A 3 won / 5 closed = 60 %
        self.company.forecast_history_months = 14
        lead = self._open_lead()
        self._refresh()
        self.assertEqual(lead.historical_sample_size, 5)
        self.assertAlmostEqual(lead.historical_probability, 60.0)

    def test_predicted_close_date_is_today_plus_the_median(self):
        lead_a = self._open_lead()
        lead_b = self._open_lead(team_id=self.team_b.id)
        self._refresh()
        # team A: median of 10, 20, 40 days = 20; T0 is 2026-03-02
        self.assertEqual(lead_a.predicted_close_date, date(2026, 3, 22))
        # all teams: median of 10, 20, 40, 60 = (20 + 40) / 2 = 30
        self.assertEqual(lead_b.predicted_close_date, date(2026, 4, 1))

    def test_optimistic_flag_beyond_the_margin(self):
        # predicted 2026-03-22, margin 14 days
        optimistic = self._open_lead(date_deadline=date(2026, 3, 7))  # 15 days
        realistic = self._open_lead(date_deadline=date(2026, 3, 8))  # 14 days
        self._refresh()
        self.assertTrue(optimistic.is_close_date_optimistic)
        self.assertFalse(realistic.is_close_date_optimistic)
        flagged = self.env["crm.lead"].search(
            [("is_close_date_optimistic", "=", True), ("team_id", "=", self.team.id)]
        )
        self.assertEqual(flagged, optimistic)
        # moving the expected closing later clears the flag at once, and slips
        with self._pinned(T0):
            optimistic.date_deadline = date(2026, 3, 20)
        self.assertFalse(optimistic.is_close_date_optimistic)
        self.assertEqual(optimistic.close_date_slip_count, 1)

    def test_won_and_lost_leads(self):
        won = self.env["crm.lead"].search(
            [("team_id", "=", self.team.id), ("stage_id", "=", self.stage_won.id)],
            limit=1,
        )
        self._refresh()
        self.assertEqual(won.historical_probability, 100.0)
        self.assertFalse(won.historical_level)
        self.assertEqual(won.predicted_close_date, won.date_closed.date())

    def test_best_case_counts_decision_and_later(self):
        proposal = self._open_lead(expected_revenue=1000)
        negotiation = self._open_lead(
            stage_id=self.stage_negotiation.id, expected_revenue=2000
        )
        self._refresh()
        # Proposal = Consideration (before Decision); Negotiation = Decision
        self.assertEqual(proposal.best_case_revenue, 0.0)
        self.assertEqual(negotiation.best_case_revenue, 2000.0)
        # kept up to date by the ORM when the revenue changes
        negotiation.expected_revenue = 2500
        self.assertEqual(negotiation.best_case_revenue, 2500.0)

    def test_the_margin_setting_applies_at_once(self):
        # predicted 2026-03-22: 15 days after the expected closing
        lead = self._open_lead(date_deadline=date(2026, 3, 7))
        self._refresh()
        self.assertTrue(lead.is_close_date_optimistic)
        self.company.forecast_optimistic_margin_days = 15
        self.assertFalse(lead.is_close_date_optimistic)
        self.company.forecast_optimistic_margin_days = 14
        self.assertTrue(lead.is_close_date_optimistic)

    def test_moving_the_decision_stage_changes_the_best_case_at_once(self):
        proposal = self._open_lead(expected_revenue=1000)
        self._refresh()
        self.assertEqual(proposal.best_case_revenue, 0.0)
        # Decision before Consideration: Proposal now counts in the best case
        self.standard_decision.sequence = self.standard_consideration.sequence - 1
        self.assertEqual(proposal.best_case_revenue, 1000.0)
        self.standard_decision.sequence = self.standard_consideration.sequence + 1
        self.assertEqual(proposal.best_case_revenue, 0.0)

    def test_the_statistics_keep_one_line_per_company_team_and_stage(self):
        stat_model = self.env["crm.lead.forecast.stat"]
        self._refresh()
        keys = stat_model.search([]).mapped(
            lambda stat: (stat.company_id, stat.team_id, stat.stage_id)
        )
        self.assertEqual(len(keys), len(set(keys)))
        self._refresh()
        self.assertEqual(stat_model.search_count([]), len(keys))
        # team A in Proposal: 4 closed, 3 won, median 20 days
        team_line = stat_model.search(
            [("team_id", "=", self.team.id), ("stage_id", "=", self.stage_proposal.id)]
        )
        self.assertEqual(
            (team_line.sample_size, team_line.won_count, team_line.median_days),
            (4, 3, 20.0),
        )
        # a second line for the same key is refused by the database
        with (
            self.assertRaises(UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                SQL(
                    """INSERT INTO crm_lead_forecast_stat
                              (company_id, team_id, stage_id, sample_size, won_count)
                       VALUES (%s, %s, %s, 1, 1)""",
                    self.company.id,
                    self.team.id,
                    self.stage_proposal.id,
                )
            )

    def test_forecast_measures_sum_in_the_forecast_pivot(self):
        self._open_lead(expected_revenue=1000, probability=50)
        self._open_lead(expected_revenue=3000, probability=50)
        self._open_lead(
            stage_id=self.stage_negotiation.id, expected_revenue=2000, probability=50
        )
        self._refresh()
        groups = self.env["crm.lead"]._read_group(
            [("team_id", "=", self.team.id), ("active", "=", True)],
            ["standard_stage_id"],
            [
                "expected_revenue:sum",
                "prorated_revenue:sum",
                "historical_revenue:sum",
                "best_case_revenue:sum",
                "expected_deal_count:sum",
            ],
        )
        by_stage = {standard: values for standard, *values in groups}
        # Proposal: 1000 + 3000; prorated x 50 %; historical x 75 %; two
        # deals x 0.75 = 1.5 expected deals; nothing in the best case
        self.assertEqual(
            by_stage[self.standard_consideration], [4000, 2000, 3000, 0, 1.5]
        )
        # Negotiation (Decision): only A5 passed it and was lost (1 closed < 4)
        # -> own probability 50 %: 2000 x 50 % = 1000, 0.5 expected deals
        self.assertEqual(
            by_stage[self.standard_decision], [2000, 1000, 1000, 2000, 0.5]
        )

    def test_a_stage_move_refreshes_the_moved_lead_at_once(self):
        lead = self._open_lead(stage_id=self.stage_qualified.id, probability=30)
        # the daily job keeps the statistics the stage move reads
        self._refresh()
        with self._pinned(T0):
            lead.write({"stage_id": self.stage_proposal.id})
        self.assertEqual(lead.historical_level, "team")
        self.assertAlmostEqual(lead.historical_probability, 75.0)
        self.assertEqual(lead.predicted_close_date, date(2026, 3, 22))

    def test_each_move_predicts_from_its_own_day(self):
        # the statement of the moved leads is composed once, each move gives
        # it the time of its own transaction
        lead = self._open_lead(stage_id=self.stage_qualified.id, probability=30)
        self._refresh()
        for days_later, predicted in ((0, date(2026, 3, 22)), (5, date(2026, 3, 27))):
            with self._pinned(T0 + timedelta(days=days_later)):
                lead.write({"stage_id": self.stage_proposal.id})
            # team A in Proposal: a median of 20 days to win, from the move
            self.assertEqual(lead.predicted_close_date, predicted)
            with self._pinned(T0 + timedelta(days=days_later)):
                lead.write({"stage_id": self.stage_qualified.id})
            # no closed lead ever stayed in Qualified: its own 30 %
            self.assertEqual(lead.historical_level, "lead")
            self.assertAlmostEqual(lead.historical_probability, 30.0)

    def test_refreshing_twice_changes_nothing(self):
        self._open_lead()
        self._refresh()
        self.assertEqual(self._refresh(), 0)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestCloseDateSlips(ForecastCommon):
    @users("spm_salesman")
    def test_only_later_dates_count_as_slips(self):
        lead = self._create_opportunity(self.env, date_deadline=date(2026, 4, 1))
        lead.date_deadline = date(2026, 4, 15)  # later: 1
        lead.date_deadline = date(2026, 4, 10)  # earlier: not a slip
        lead.date_deadline = date(2026, 5, 1)  # later: 2
        lead.date_deadline = False  # emptied: not a slip
        lead.date_deadline = date(2026, 6, 1)  # set again: not a slip
        self.assertEqual(lead.close_date_slip_count, 2)

    def test_close_date_changes_are_tracked(self):
        self.assertTrue(self.env["crm.lead"]._fields["date_deadline"].tracking)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestForecastQueryCount(ForecastCommon):
    def _open_leads(self, count):
        return self.env["crm.lead"].create(
            [
                {
                    "name": f"Open {index}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.stage_proposal.id,
                    "expected_revenue": 100,
                }
                for index in range(count)
            ]
        )

    def test_refresh_costs_the_same_for_any_number_of_leads(self):
        self._build_history()
        for count in (1, 50):
            leads = self._open_leads(count)
            self.env.flush_all()
            self.env.invalidate_all()
            # one UPDATE ... FROM, whatever the number of leads
            with self.assertQueryCount(__system__=1):
                self.env["crm.lead"]._refresh_historical_forecast()
            with self.assertQueryCount(__system__=1):
                self.env["crm.lead"]._refresh_historical_forecast(leads.ids)
