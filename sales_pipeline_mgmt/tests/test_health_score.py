# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import ast
from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged, users
from odoo.tools import SQL, mute_logger

from .common import T0, SalesPipelineCommon

TODAY = T0.date()


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestHealthScore(SalesPipelineCommon):
    """Default weights: slow stage 25, stalled 15, closing date slip 10 each,
    closing date passed 20, predicted late 10, no contact 15 (14 days
    tolerated), skipped stage 5 each, amount decrease 10 each, stage
    probability 20. Every expected figure below is worked out by hand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # R goes New -> Qualified -> Proposal -> Negotiation, 10 days in each:
        # the usual time of Proposal is 10 days
        with cls._class_pinned(T0 - timedelta(days=60)):
            cls.reference = cls._class_opportunity(name="Reference")
        for days_ago, stage in (
            (50, cls.stage_qualified),
            (40, cls.stage_proposal),
            (30, cls.stage_negotiation),
        ):
            with cls._class_pinned(T0 - timedelta(days=days_ago)):
                cls.reference.write({"stage_id": stage.id})
                cls.reference.flush_recordset()

    @classmethod
    def _class_pinned(cls, when):
        return cls._pinned(cls, when)

    @classmethod
    def _class_opportunity(cls, **values):
        return cls._create_opportunity(cls, **values)

    def _slipping_lead(self):
        """L: created 30 days ago in New with a closing date 10 days ago,
        moved 21 days ago to Proposal (skipping Qualified), closing date moved
        later twice (to 5, then 3 days ago), probability set to 60 %."""
        with self._pinned(T0 - timedelta(days=30)):
            lead = self._create_opportunity(
                name="Slipping",
                probability=60,
                expected_revenue=5000,
                date_deadline=TODAY - timedelta(days=10),
            )
        with self._pinned(T0 - timedelta(days=21)):
            lead.write({"stage_id": self.stage_proposal.id})
            lead.flush_recordset()
        with self._pinned(T0 - timedelta(days=20)):
            lead.write({"date_deadline": TODAY - timedelta(days=5)})
            lead.write({"date_deadline": TODAY - timedelta(days=3)})
            lead.flush_recordset()
        return lead

    def _score(self, leads=None):
        """The daily job's work, at T0: forecast, usual times, scores."""
        lead_model = self.env["crm.lead"]
        with self._pinned(T0):
            lead_model._refresh_historical_forecast()
            self.env["crm.stage"]._refresh_health_usual_days()
            lead_model._refresh_health_scores(SQL("TRUE"))
        if leads:
            leads.invalidate_recordset()

    def test_every_signal_costs_its_points_and_the_score_is_what_is_left(self):
        lead = self._slipping_lead()
        self._score(lead)
        self.assertEqual(self.stage_proposal.health_usual_days, 10.0)
        # slow stage: 21 days / 10 usual = 2.1x, twice or more: all 25 points
        # closing date slips: 2 x 10 = 20
        # closing date passed (3 days ago): 20
        # no contact: last stage change 21 days ago, 7 days over the 14
        #   tolerated, 7 / 14 x 15 = 7.5, rounded to 8
        # stage probability: 60 % (own probability, no closed lead in the
        #   sample), (100 - 60) / 100 x 20 = 8
        # skipped stages: 1 x 5 = 5
        # 100 - (25 + 20 + 20 + 8 + 8 + 5) = 14
        self.assertEqual(lead.health_score, 14)
        self.assertEqual(
            lead.health_score_reasons,
            [
                ["slow_stage", 25, 2.1],
                ["close_date_slip", 20, 2],
                ["overdue", 20, 3],
                ["no_contact", 8, 21],
                ["stage_probability", 8, 60],
                ["skipped_stage", 5, 1],
            ],
        )
        self.assertEqual(lead.health_score_band, "at_risk")
        self.assertEqual(
            lead.health_score_summary,
            "in SPM Proposal 2.1× longer than usual · closing date moved twice "
            "· closing date passed 3 days ago",
        )

    def test_reasons_in_words_agree_with_their_figure_in_english_and_spanish(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"].search(
            [("name", "=", "sales_pipeline_mgmt")]
        )._update_translations(["es_ES"], overwrite=True)
        lead = self._create_opportunity(name="Words")
        for reason, english, spanish in (
            (("skipped_stage", 5, 1), "1 stage skipped", "1 etapa saltada"),
            (("skipped_stage", 10, 2), "2 stages skipped", "2 etapas saltadas"),
            (
                ("overdue", 20, 1),
                "closing date passed 1 day ago",
                "fecha de cierre vencida hace 1 día",
            ),
            (
                ("overdue", 20, 3),
                "closing date passed 3 days ago",
                "fecha de cierre vencida hace 3 días",
            ),
            (
                ("no_contact", 1, 15),
                "no contact for 15 days",
                "sin contacto desde hace 15 días",
            ),
            (
                ("predicted_late", 10, 1),
                "predicted to close 1 day after its closing date",
                "cierre pronosticado 1 día después de su fecha de cierre",
            ),
            (
                ("close_date_slip", 10, 1),
                "closing date moved once",
                "fecha de cierre aplazada una vez",
            ),
        ):
            with self.subTest(reason=reason):
                self.assertEqual(lead._get_health_score_reason_text(*reason), english)
                self.assertEqual(
                    lead.with_context(lang="es_ES")._get_health_score_reason_text(
                        *reason
                    ),
                    spanish,
                )

    def test_predicted_late_and_stalled(self):
        # one won lead that took 40 days from New to won, a team sample of 1:
        # an opportunity entering New is predicted to close 40 days later
        self.company.write({"forecast_min_sample": 1})
        with self._pinned(T0 - timedelta(days=50)):
            won = self._create_opportunity(name="Won", probability=50)
        with self._pinned(T0 - timedelta(days=10)):
            won.write({"stage_id": self.stage_won.id})
            won.flush_recordset()
        with self._pinned(T0):
            lead = self._create_opportunity(
                name="Late", probability=50, date_deadline=TODAY + timedelta(days=10)
            )
            lead._write_stall_flags([(lead.id, T0, None)])
        self._score(lead)
        self.assertEqual(lead.predicted_close_date, TODAY + timedelta(days=40))
        # stalled 15; predicted 30 days after its closing date (more than the
        # 14 days margin): 10; stage probability 100 % (1 won of 1): 0;
        # 0 days in stage and without contact: 0. 100 - 25 = 75
        self.assertEqual(lead.health_score, 75)
        self.assertEqual(lead.health_score_band, "healthy")
        self.assertEqual(
            lead.health_score_summary,
            "stalled · predicted to close 30 days after its closing date",
        )
        # a closed deal has no score
        lead.action_set_lost()
        self.env.cr.precommit.run()
        lead.invalidate_recordset()
        self.assertFalse(lead.health_score_reasons)
        self.assertFalse(lead.health_score_band)
        self.assertFalse(lead.health_score_summary)

    def test_each_lowered_amount_costs_points_once_written(self):
        with self._pinned(T0 - timedelta(days=4)):
            lead = self._create_opportunity(
                name="Shrinking", probability=100, expected_revenue=5000
            )
        # lowered, raised, lowered again: two decreases in the deal history
        for days_ago, amount in ((3, 4000), (2, 4500), (1, 3000)):
            with self._pinned(T0 - timedelta(days=days_ago)):
                lead.write({"expected_revenue": amount})
                # as the transaction of that write commits
                self.env.cr.precommit.run()
        lead.invalidate_recordset()
        # 2 x 10 = 20 points; 3 days in New (usual 10) and without contact
        # (14 tolerated), probability 100 %: nothing else
        self.assertEqual(lead.health_score, 80)
        self.assertEqual(lead.health_score_reasons, [["amount_decrease", 20, 2]])
        self.assertEqual(lead.health_score_summary, "amount lowered twice")

    def test_weights_are_company_settings_and_the_score_stays_between_0_and_100(self):
        lead = self._slipping_lead()
        self._score(lead)
        # a new weight rescores the company's opportunities at once:
        # 100 + 20 + 20 + 8 + 8 + 5 = 161 points, the score stops at 0
        with self._pinned(T0):
            self.company.write({"health_weight_slow_stage": 100})
        lead.invalidate_recordset()
        self.assertEqual(lead.health_score, 0)
        # without weights nothing is lost
        with self._pinned(T0):
            self.company.write(
                dict.fromkeys(self.company._get_health_score_weight_fields(), 0)
            )
        lead.invalidate_recordset()
        self.assertEqual(lead.health_score, 100)
        self.assertEqual(lead.health_score_reasons, [])
        self.assertEqual(lead.health_score_summary, "no risk signal")

    def test_settings_out_of_range_are_refused_naming_the_setting(self):
        for fname, value in (
            ("health_weight_stalled", -1),
            ("health_weight_stalled", 101),
            ("health_contact_days", 0),
        ):
            with self.subTest(fname=fname, value=value):
                label = self.company._fields[fname].string
                with self.assertRaisesRegex(ValidationError, label):
                    self.company.write({fname: value})

    def test_other_company_uses_its_own_weights(self):
        self.company_2.write({"health_weight_stage_probability": 0})
        team_2 = self.env["crm.team"].create(
            {"name": "SPM Team 2", "company_id": self.company_2.id}
        )
        with self._pinned(T0):
            lead_2 = self._create_opportunity(
                name="Other Company",
                company_id=self.company_2.id,
                team_id=team_2.id,
                user_id=self.user_other_company.id,
                probability=60,
            )
            lead_1 = self._create_opportunity(name="Own Company", probability=60)
        self._score(lead_1 | lead_2)
        # (100 - 60) / 100 x 20 = 8 points in the first company, none in the
        # second
        self.assertEqual(lead_1.health_score, 92)
        self.assertEqual(lead_2.health_score, 100)
        deals = (
            self.env["crm.lead"]
            .with_user(self.user_other_company)
            .get_deals_at_risk()["deals"]
        )
        self.assertEqual([deal["id"] for deal in deals], lead_2.ids)

    def test_a_stage_move_scores_the_moved_lead_as_the_daily_job_would(self):
        lead = self._slipping_lead()
        with self._pinned(T0 - timedelta(days=2)):
            lead._write_stall_flags([(lead.id, T0 - timedelta(days=2), None)])
        self._score(lead)
        self.assertIn("stalled", [code for code, *_rest in lead.health_score_reasons])
        # what the creation queued for the commit
        self.env.cr.flush()
        lead_model = type(self.env["crm.lead"])
        with (
            patch.object(
                lead_model,
                "_refresh_health_scores",
                autospec=True,
                side_effect=lead_model._refresh_health_scores,
            ) as spy,
            self._pinned(T0),
        ):
            lead.write({"stage_id": self.stage_negotiation.id})
            self.env.cr.flush()
        # scored with the move, not by a statement of its own
        self.assertEqual(spy.call_count, 0)
        lead.invalidate_recordset()
        # in Negotiation since now: no slow stage, no stall, in contact now;
        # closing date slips: 2 x 10 = 20; closing date passed: 20; stage
        # probability 60 %: 8; skipped stages: Qualified before, none now: 5.
        # 100 - (20 + 20 + 8 + 5) = 47
        self.assertEqual(lead.health_score, 47)
        self.assertEqual(
            lead.health_score_reasons,
            [
                ["close_date_slip", 20, 2],
                ["overdue", 20, 3],
                ["stage_probability", 8, 60],
                ["skipped_stage", 5, 1],
            ],
        )
        # the daily job's statement finds nothing to change
        with self._pinned(T0):
            self.assertEqual(
                self.env["crm.lead"]._refresh_health_scores(
                    SQL("lead.id = %s", lead.id)
                ),
                0,
            )

    def test_input_writes_rescore_the_written_leads_in_one_statement(self):
        with self._pinned(T0):
            leads = self.env["crm.lead"].create(
                [
                    {
                        "name": f"Bulk {index}",
                        "type": "opportunity",
                        "team_id": self.team.id,
                        "user_id": self.user_salesman.id,
                        "stage_id": self.stage_new.id,
                        "probability": 100,
                    }
                    for index in range(20)
                ]
            )
        self._score(leads)
        self.assertEqual(set(leads.mapped("health_score")), {100})
        lead_model = type(self.env["crm.lead"])
        refresh = lead_model._refresh_health_scores
        with (
            patch.object(
                lead_model, "_refresh_health_scores", autospec=True, side_effect=refresh
            ) as spy,
            self._pinned(T0),
        ):
            # not an input: nothing to score
            leads.write({"description": "<p>Called</p>"})
            self.assertEqual(spy.call_count, 0)
            # a closing date passed yesterday on 20 leads: one statement
            leads.write({"date_deadline": TODAY - timedelta(days=1)})
            self.assertEqual(spy.call_count, 1)
            # written lead by lead by crm (conversion): once, at commit
            for lead in leads:
                lead.write({"company_id": self.company.id})
            self.assertEqual(spy.call_count, 1)
            self.env.cr.precommit.run()
            self.assertEqual(spy.call_count, 2)
        leads.invalidate_recordset()
        self.assertEqual(set(leads.mapped("health_score")), {80})

    def test_scoring_costs_one_query_whatever_the_number_of_leads(self):
        with self._pinned(T0):
            leads = self.env["crm.lead"].create(
                [
                    {
                        "name": f"Guard {index}",
                        "type": "opportunity",
                        "team_id": self.team.id,
                        "stage_id": self.stage_new.id,
                    }
                    for index in range(30)
                ]
            )
        self.env.flush_all()
        lead_model = self.env["crm.lead"]
        for some in (leads[:1], leads):
            # the UPDATE itself, nothing per lead
            with self.assertQueryCount(1):
                lead_model._refresh_health_scores(SQL("lead.id IN %s", tuple(some.ids)))

    def test_daily_job_resumes_and_a_second_pass_changes_nothing(self):
        lead = self._slipping_lead()
        with self._pinned(T0):
            others = self.env["crm.lead"].create(
                [
                    {
                        "name": f"Job {index}",
                        "type": "opportunity",
                        "team_id": self.team.id,
                        "stage_id": self.stage_new.id,
                        "probability": 100,
                    }
                    for index in range(3)
                ]
            )
            self.env["crm.lead"]._refresh_historical_forecast()
        scored = lead | others | self.reference
        # only this test's opportunities: the others are not scored
        self.env["crm.lead"].search([("id", "not in", scored.ids)]).write(
            {"active": False}
        )
        self.env.flush_all()
        lead_model = self.env["crm.lead"]
        with self._pinned(T0):
            first = lead_model._refresh_health_score_batch(batch_size=2)
            self.assertEqual(first["done"], 2)
            self.assertEqual(first["remaining"], 3)
            self.assertEqual(first["cursor"], sorted(scored.ids)[1])
            second = lead_model._refresh_health_score_batch(
                batch_size=2, cursor=first["cursor"]
            )
            third = lead_model._refresh_health_score_batch(
                batch_size=2, cursor=second["cursor"]
            )
            self.assertEqual((second["done"], second["remaining"]), (2, 1))
            self.assertEqual((third["done"], third["remaining"]), (1, 0))
            self.assertEqual(third["cursor"], 0)
            lead.invalidate_recordset()
            self.assertEqual(lead.health_score, 14)
            again = lead_model._refresh_health_score_batch(batch_size=10)
        self.assertEqual((again["done"], again["updated"]), (5, 0))

    def test_daily_job_keeps_its_cursor_on_its_progress_records(self):
        lead = self._slipping_lead()
        with self._pinned(T0):
            self.env["crm.lead"]._refresh_historical_forecast()
        scored = lead | self.reference
        self.env["crm.lead"].search([("id", "not in", scored.ids)]).write(
            {"active": False}
        )
        self.env.flush_all()
        cron = self.env.ref("sales_pipeline_mgmt.ir_cron_health_score")
        progress_model = self.env["ir.cron.progress"].sudo()
        params = self.env["ir.config_parameter"].sudo()
        self.env["ir.config_parameter"].set_param(
            "sales_pipeline_mgmt.health_score_batch_size", "1"
        )
        params_before = params.search_read([], ["key", "value"], order="id")
        job = self.env["crm.lead"].sudo()
        first_id = min(scored.ids)

        def call():
            progress = progress_model.create({"cron_id": cron.id})
            with self._pinned(T0):
                job.with_context(
                    ir_cron_progress_id=progress.id
                )._cron_refresh_health_scores()
            return progress.done, progress.remaining, progress.pipeline_health_after_id

        self.assertEqual(call(), (1, 1, first_id))
        # a call whose batch crashed left its progress record without a
        # cursor: the next call resumes after the last batch that completed
        crashed = progress_model.create({"cron_id": cron.id})
        self.assertEqual(call(), (1, 0, -1))
        self.assertFalse(crashed.pipeline_health_after_id)
        # the pass is complete: the next run starts a new one from the first
        self.assertEqual(call(), (1, 1, first_id))
        self.assertEqual(call(), (1, 0, -1))
        # no system parameter written (each write clears every worker's caches)
        self.assertEqual(
            params.search_read([], ["key", "value"], order="id"), params_before
        )
        lead.invalidate_recordset()
        self.assertEqual(lead.health_score, 14)

    def test_a_failing_lead_is_skipped(self):
        lead = self._slipping_lead()
        with self._pinned(T0):
            self.env["crm.lead"]._refresh_historical_forecast()
            self.env["crm.stage"]._refresh_health_usual_days()
        reference_before = self.reference.health_score_reasons
        lead_model = type(self.env["crm.lead"])
        refresh = lead_model._refresh_health_scores
        reference_filter = SQL("lead.id = %s", self.reference.id)

        def fail_for_reference(self, lead_filter):
            # the batch holds the reference lead, and so does its own filter
            if "IN" in lead_filter.code or lead_filter == reference_filter:
                raise ValueError("broken lead")
            return refresh(self, lead_filter)

        with (
            patch.object(lead_model, "_refresh_health_scores", fail_for_reference),
            self._pinned(T0),
            mute_logger("odoo.addons.sales_pipeline_mgmt.models.crm_lead_health_score"),
        ):
            updated, failed, busy = self.env["crm.lead"]._refresh_health_scores_safely(
                (lead | self.reference).ids
            )
        self.assertEqual((updated, failed, busy), (1, 1, 0))
        lead.invalidate_recordset()
        self.assertEqual(lead.health_score, 14)
        # the failing lead keeps the score it had
        self.reference.invalidate_recordset()
        self.assertEqual(self.reference.health_score_reasons, reference_before)

    def _row_versions(self, leads):
        """(xmin, xmax) of the leads' rows: a rewrite changes the first, a
        row lock the second."""
        self.env.cr.execute(
            SQL(
                "SELECT id, xmin::text, xmax::text FROM crm_lead WHERE id IN %s",
                tuple(leads.ids),
            )
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def test_daily_job_leaves_a_lead_being_moved_and_rewrites_only_changes(self):
        lead = self._slipping_lead()
        self._score(lead | self.reference)
        scored = lead | self.reference
        self.assertEqual(lead.health_score, 14)
        # both scores lost: the job must write them again (after the scoring
        # queued for the commit, which would score them again)
        self.env.cr.flush()
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET health_score = NULL WHERE id IN %s",
                tuple(scored.ids),
            )
        )
        self.env["crm.lead"].invalidate_model(["health_score"])
        lead_model = self.env["crm.lead"]
        locks = []

        with (
            # PostgreSQL refusing the row of a lead a user moved since the
            # batch began (what SKIP LOCKED cannot skip), the others locked
            self._lock_refused(lead, locks),
            self._pinned(T0),
            mute_logger(
                "odoo.addons.sales_pipeline_mgmt.models.crm_lead_pipeline_health"
            ),
        ):
            result = lead_model._refresh_health_scores_safely(scored.ids)
        # the reference scored, the moved lead left to its move and next pass
        self.assertEqual(result, (1, 0, 1))
        self.assertTrue(all("SKIP LOCKED" in code for code in locks))
        scored.invalidate_recordset()
        self.assertFalse(lead.health_score)
        self.assertTrue(self.reference.health_score)
        with self._pinned(T0):
            self.assertEqual(
                lead_model._refresh_health_scores_safely(scored.ids), (1, 0, 0)
            )
        lead.invalidate_recordset()
        self.assertEqual(lead.health_score, 14)
        # nothing changed: no row rewritten nor even locked
        versions = self._row_versions(scored)
        with self._pinned(T0):
            self.assertEqual(
                lead_model._refresh_health_scores_safely(scored.ids), (0, 0, 0)
            )
        self.assertEqual(self._row_versions(scored), versions)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestDealsAtRisk(SalesPipelineCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lead_model = cls.env["crm.lead"]
        cls.company.write({"health_weight_stage_probability": 70})
        values = [
            # (name, salesperson, probability, expected revenue)
            ("Sally risky small", cls.user_salesman, 10, 100),
            ("Sally risky big", cls.user_salesman, 10, 9000),
            ("Sally healthy", cls.user_salesman, 100, 500),
            ("Sam risky", cls.user_salesman_2, 0, 700),
        ]
        with cls._pinned(cls, T0):
            cls.leads = lead_model.create(
                [
                    {
                        "name": name,
                        "type": "opportunity",
                        "team_id": cls.team.id,
                        "user_id": user.id,
                        "stage_id": cls.stage_new.id,
                        "probability": probability,
                        "expected_revenue": revenue,
                    }
                    for name, user, probability, revenue in values
                ]
            )
            lead_model._refresh_historical_forecast(cls.leads.ids)
            lead_model._refresh_health_scores(
                SQL("lead.id IN %s", tuple(cls.leads.ids))
            )

    @users("spm_manager")
    def test_sorted_by_score_then_expected_revenue(self):
        result = self.env["crm.lead"].get_deals_at_risk(team_ids=self.team.ids)
        # 70 x 100 % = 70 points: 30; 70 x 90 % = 63: 37; none lost: 100
        self.assertEqual(
            [(deal["name"], deal["score"]) for deal in result["deals"]],
            [
                ("Sam risky", 30),
                ("Sally risky big", 37),
                ("Sally risky small", 37),
                ("Sally healthy", 100),
            ],
        )
        self.assertEqual(result["at_risk_count"], 3)
        self.assertEqual(result["deals"][0]["band"], "at_risk")

    @users("spm_salesman")
    def test_salesman_sees_own_deals_only(self):
        result = self.env["crm.lead"].get_deals_at_risk(team_ids=self.team.ids)
        self.assertEqual(
            [deal["name"] for deal in result["deals"]],
            ["Sally risky big", "Sally risky small", "Sally healthy"],
        )
        action = self.env["crm.lead"].action_open_deals_at_risk()
        visible = self.env["crm.lead"].search(
            [
                *ast.literal_eval(action["domain"]),
                ("team_id", "=", self.team.id),
                ("health_score_band", "=", "at_risk"),
            ]
        )
        self.assertEqual(
            visible, self.leads.filtered(lambda lead: lead.name.startswith("Sally r"))
        )

    @users("spm_salesman")
    def test_bad_arguments_are_refused_naming_them(self):
        lead_model = self.env["crm.lead"]
        for kwargs, name in (
            ({"limit": 0}, "limit"),
            ({"limit": "5"}, "limit"),
            ({"team_ids": "1"}, "team_ids"),
            ({"user_id": "me"}, "user_id"),
        ):
            with self.subTest(**kwargs), self.assertRaisesRegex(UserError, name):
                lead_model.get_deals_at_risk(**kwargs)

    def test_digest_counts_and_lists_the_recipients_deals_at_risk(self):
        digest = self.env["digest.digest"].create(
            {"name": "SPM Digest", "kpi_spm_deals_at_risk": True}
        )
        # Sally's rights: her own two deals below 40 in her team; the team
        # leader sees Sam's too
        for user, expected in ((self.user_salesman, 2), (self.user_manager, 3)):
            with self.subTest(user=user.login):
                value = digest.with_user(user).kpi_spm_deals_at_risk_value
                self.assertEqual(value, expected)
                # the digest recomputes it per recipient the same way
                digest.invalidate_model(["kpi_spm_deals_at_risk_value"])
        digest._action_send_to_user(self.user_salesman)
        mail = self.env["mail.mail"].search(
            [("email_to", "=", self.user_salesman.email_formatted)],
            order="id desc",
            limit=1,
        )
        body = mail.body_html
        self.assertIn("Top Deals at Risk", body)
        self.assertIn("Sally risky big", body)
        self.assertIn("10% historical win rate in its stage", body)
        # the week's pipeline changes of her team, from start to end
        self.assertIn("Pipeline at the start", body)
        self.assertIn("Pipeline at the end", body)
        self.assertNotIn("Sam risky", body)
