# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, timedelta
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged, users
from odoo.tools import SQL, mute_logger

from odoo.addons.sales_pipeline_mgmt.models.crm_lead_pipeline_health import CrmLead

from .common import T0, SalesPipelineCommon


class PipelineHealthCommon(SalesPipelineCommon):
    """Both jobs switched on for the test company; every stage but the team's
    own is switched off, so that other leads of the database never count.

    Thresholds of the team's stages, from their standard stages:
    New (awareness) stall 14 / follow-up 7, Qualified (interest) 21 / 7,
    Proposal (consideration) 30 / 10, Negotiation (decision) 14 / 5.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {"pipeline_follow_up_enabled": True, "pipeline_stall_enabled": True}
        )
        (cls.env["crm.stage"].search([]) - cls.team_stages).write(
            {"stall_days": 0, "follow_up_days": 0}
        )
        cls.user_root = cls.env.ref("base.user_root")
        cls.lead_model = cls.env["crm.lead"].with_user(cls.user_root)
        cls.stalled_type = cls.env.ref("sales_pipeline_mgmt.mail_activity_type_stalled")
        cls.todo_type = cls.env.ref("mail.mail_activity_data_todo")

    def _activities(self, records, kind=None):
        domain = [("res_model", "=", records._name), ("res_id", "in", records.ids)]
        if kind:
            domain.append(("pipeline_health_kind", "=", kind))
        return self.env["mail.activity"].search(domain, order="id")

    def _follow_up(self, when, **kwargs):
        with self._pinned(when):
            return self.lead_model._plan_follow_up_activities(**kwargs)

    def _detect(self, when, **kwargs):
        with self._pinned(when):
            result = self.lead_model._detect_stalls(**kwargs)
        self.env.invalidate_all()
        return result

    def _run_cron_batch(self, cron):
        """One call of the scheduled action as ir.cron._run_job makes it."""
        job, progress = cron._add_progress()
        job.ir_actions_server_id.run()
        self.env.flush_all()
        return progress


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestFollowUp(PipelineHealthCommon):
    def test_follow_up_after_the_standard_stage_delay(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        # New maps onto awareness: 7 days; one hour short of it, nothing
        self._follow_up(T0 + timedelta(days=6, hours=23))
        self.assertFalse(self._activities(lead))
        result = self._follow_up(T0 + timedelta(days=7))
        activity = self._activities(lead)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.pipeline_health_kind, "follow_up")
        self.assertEqual(activity.user_id, self.user_salesman)
        self.assertEqual(activity.activity_type_id, self.todo_type)
        # due the day of the run: 2 March + 7 days
        self.assertEqual(activity.date_deadline, date(2026, 3, 9))
        self.assertEqual(
            activity.summary, "Follow up: 7 days without contact in SPM New"
        )
        self.assertEqual((result["done"], result["remaining"]), (1, 0))

    def test_running_twice_plans_one_follow_up(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        self._follow_up(T0 + timedelta(days=8))
        result = self._follow_up(T0 + timedelta(days=9))
        self.assertEqual(len(self._activities(lead)), 1)
        self.assertEqual((result["done"], result["remaining"]), (0, 0))

    def test_follow_up_delay_set_on_the_stage(self):
        self.stage_new.follow_up_days = 2
        with self._pinned(T0):
            lead = self._create_opportunity()
        self._follow_up(T0 + timedelta(days=1, hours=23))
        self.assertFalse(self._activities(lead))
        self._follow_up(T0 + timedelta(days=2))
        self.assertEqual(len(self._activities(lead)), 1)

    def test_zero_days_turns_follow_ups_off(self):
        self.stage_new.follow_up_days = 0
        with self._pinned(T0):
            lead = self._create_opportunity()
        self._follow_up(T0 + timedelta(days=100))
        self.assertFalse(self._activities(lead))

    def test_a_message_postpones_the_follow_up(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        with self._pinned(T0 + timedelta(days=5)):
            lead.message_post(body="Called the customer", message_type="comment")
        # last contact on day 5: the follow-up is due on day 5 + 7 = 12
        self._follow_up(T0 + timedelta(days=11, hours=23))
        self.assertFalse(self._activities(lead))
        self._follow_up(T0 + timedelta(days=12))
        self.assertEqual(len(self._activities(lead)), 1)

    def test_a_planned_activity_prevents_the_follow_up(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
            lead.activity_schedule(
                "mail.mail_activity_data_call", user_id=self.user_salesman.id
            )
        self._follow_up(T0 + timedelta(days=30))
        self.assertFalse(self._activities(lead, "follow_up"))

    def test_a_stage_change_postpones_the_follow_up(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        with self._pinned(T0 + timedelta(days=4)):
            lead.write({"stage_id": self.stage_qualified.id})
        # Qualified (interest): 7 days from the move on day 4 = day 11
        self._follow_up(T0 + timedelta(days=10))
        self.assertFalse(self._activities(lead))
        self._follow_up(T0 + timedelta(days=11))
        self.assertEqual(len(self._activities(lead)), 1)

    def test_leads_without_salesperson_are_counted_not_followed_up(self):
        with self._pinned(T0):
            lead = self._create_opportunity(user_id=False)
        result = self._follow_up(T0 + timedelta(days=8))
        self.assertFalse(self._activities(lead))
        self.assertEqual(result["unassigned"], 1)
        self.assertEqual(result["done"], 0)

    def test_follow_up_sends_the_stage_email_through_the_queue(self):
        template = self.env["mail.template"].create(
            {
                "name": "SPM Follow-up",
                "model_id": self.env["ir.model"]._get_id("crm.lead"),
                "subject": "Any news, {{ object.name }}?",
                "email_to": "{{ object.email_from }}",
                "body_html": "<p>Hello</p>",
            }
        )
        self.stage_new.follow_up_mail_template_id = template
        with self._pinned(T0):
            lead = self._create_opportunity(email_from="customer@example.com")
        self._follow_up(T0 + timedelta(days=7))
        mail = self.env["mail.mail"].search(
            [
                ("model", "=", "crm.lead"),
                ("res_id", "=", lead.id),
                ("subject", "=", "Any news, SPM Opportunity?"),
            ]
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.state, "outgoing")
        self.assertEqual(mail.email_to, "customer@example.com")
        self.assertIn(
            "<p>Follow-up e-mail queued: SPM Follow-up.</p>",
            lead.message_ids.mapped(lambda message: str(message.body)),
        )

    def test_archived_salesperson_is_skipped_and_the_rest_processed(self):
        with self._pinned(T0):
            lead_1 = self._create_opportunity(user_id=self.user_salesman.id)
            lead_2 = self._create_opportunity(user_id=self.user_salesman_2.id)
        self.user_salesman_2.active = False
        result = self._follow_up(T0 + timedelta(days=7))
        self.assertEqual(len(self._activities(lead_1)), 1)
        self.assertFalse(self._activities(lead_2))
        self.assertEqual((result["done"], result["inactive_user"]), (1, 1))

    def test_lead_of_a_company_the_salesperson_left_is_skipped(self):
        self.company_2.pipeline_follow_up_enabled = True
        self.user_salesman_2.company_ids |= self.company_2
        with self._pinned(T0):
            lead = self._create_opportunity()
            other = self._create_opportunity(
                team_id=False,
                company_id=self.company_2.id,
                user_id=self.user_salesman_2.id,
            )
        # Sam leaves the second company: he may no longer read the lead
        self.user_salesman_2.company_ids -= self.company_2
        result = self._follow_up(T0 + timedelta(days=7))
        self.assertEqual(len(self._activities(lead)), 1)
        self.assertFalse(self._activities(other))
        self.assertEqual((result["done"], result["no_access"]), (1, 1))

    def test_a_failing_record_in_the_middle_of_a_batch(self):
        with self._pinned(T0):
            leads = self._create_opportunity() | self._create_opportunity()
            leads |= self._create_opportunity()
        bad = leads[1]
        origin = CrmLead._prepare_follow_up_activity_values

        def prepare(lead, days):
            if lead == bad:
                raise ValueError("broken lead")
            return origin(lead, days)

        with patch.object(CrmLead, "_prepare_follow_up_activity_values", prepare):
            result = self._follow_up(T0 + timedelta(days=7))
        self.assertEqual((result["done"], result["failed"]), (2, 1))
        self.assertEqual(len(self._activities(leads[0] | leads[2])), 2)
        self.assertFalse(self._activities(bad))
        # the next run retries it
        self._follow_up(T0 + timedelta(days=7, hours=1))
        self.assertEqual(len(self._activities(bad)), 1)

    def test_a_failing_activity_creation_is_retried_one_by_one(self):
        with self._pinned(T0):
            leads = self._create_opportunity() | self._create_opportunity()
        bad = leads[0]
        origin = CrmLead._prepare_follow_up_activity_values
        # an activity type deleted by another transaction: the database
        # refuses the batch's insert, then this lead's activity alone
        self.env.cr.execute("SELECT MAX(id) + 1000 FROM mail_activity_type")
        missing_type_id = self.env.cr.fetchone()[0]

        def prepare(lead, days):
            vals = origin(lead, days)
            if lead == bad:
                vals["activity_type_id"] = missing_type_id
            return vals

        with patch.object(CrmLead, "_prepare_follow_up_activity_values", prepare):
            result = self._follow_up(T0 + timedelta(days=7))
        self.assertEqual((result["done"], result["failed"]), (1, 1))
        self.assertEqual(len(self._activities(leads[1])), 1)
        self.assertFalse(self._activities(bad))

    def test_batches_report_what_remains(self):
        with self._pinned(T0):
            for _index in range(3):
                self._create_opportunity()
        # 3 leads due, batches of 2: 2 now and 1 left, then 1 and 0 left
        first = self._follow_up(T0 + timedelta(days=7), batch_size=2)
        second = self._follow_up(
            T0 + timedelta(days=7),
            batch_size=2,
            cursor={"after": first["cursor"], "remaining": first["remaining"]},
        )
        self.assertEqual((first["done"], first["remaining"]), (2, 1))
        self.assertEqual((second["done"], second["remaining"]), (1, 0))

    def test_run_as_the_cron_user(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        cron = self.env.ref("sales_pipeline_mgmt.ir_cron_follow_up")
        self.assertEqual(cron.user_id, self.user_root)
        with self._pinned(T0 + timedelta(days=7)):
            cron.with_user(self.user_root).method_direct_trigger()
        activity = self._activities(lead)
        self.assertEqual(len(activity), 1)
        # planned by the cron user for the salesperson, without e-mail
        self.assertEqual(activity.create_uid, self.user_root)
        self.assertFalse(
            self.env["mail.mail"].search(
                [("model", "=", "mail.activity"), ("res_id", "=", activity.id)]
            )
        )

    def test_a_stopped_pass_resumes_where_it_stopped(self):
        self.env["ir.config_parameter"].set_param(
            "sales_pipeline_mgmt.pipeline_health_batch_size", 2
        )
        # in the job's order (last contact, then id): the unassigned lead
        # first, then four leads to follow up
        with self._pinned(T0):
            unassigned = self._create_opportunity(user_id=False)
            leads = self.env["crm.lead"]
            for _index in range(4):
                leads |= self._create_opportunity()
        cron = self.env.ref("sales_pipeline_mgmt.ir_cron_follow_up").with_user(
            self.user_root
        )
        with self._pinned(T0 + timedelta(days=7)):
            first = self._run_cron_batch(cron)
            self.assertEqual((first.done, first.remaining), (2, 3))
            # the second batch dies (worker killed, time limit) after its
            # activities: its work is rolled back; its progress record, which
            # the scheduler committed before the call, keeps no cursor
            job, _progress = cron._add_progress()
            with (
                # the server action reports the error as a ValueError
                self.assertRaisesRegex(ValueError, "worker killed"),
                self.env.cr.savepoint(),
                patch.object(
                    CrmLead,
                    "_send_follow_up_mails",
                    side_effect=RuntimeError("worker killed"),
                ),
            ):
                job.ir_actions_server_id.run()
            self.env.invalidate_all()
            self.assertEqual(len(self._activities(leads)), 1)
            # the next batch goes on after the first one's last lead: it does
            # not look at the unassigned lead again
            third = self._run_cron_batch(cron)
            self.assertEqual((third.done, third.remaining), (2, 1))
            self.assertEqual(len(self._activities(leads)), 3)
            last = self._run_cron_batch(cron)
            self.assertEqual((last.done, last.remaining), (1, 0))
        self.assertEqual([len(self._activities(lead)) for lead in leads], [1, 1, 1, 1])
        self.assertFalse(self._activities(unassigned))
        # a new pass over a finished job looks at the same leads again (in
        # one batch: the unassigned lead is the only candidate left) and
        # changes nothing
        with self._pinned(T0 + timedelta(days=8)):
            again = self._run_cron_batch(cron)
        self.assertEqual((again.done, again.remaining), (5, 0))
        self.assertEqual(len(self._activities(leads)), 4)
        self.assertFalse(self._activities(unassigned))

    def test_a_pass_that_finds_nothing_left_lets_the_next_one_start_over(self):
        self.env["ir.config_parameter"].set_param(
            "sales_pipeline_mgmt.pipeline_health_batch_size", 2
        )
        with self._pinned(T0):
            leads = self.env["crm.lead"]
            for _index in range(4):
                leads |= self._create_opportunity()
        cron = self.env.ref("sales_pipeline_mgmt.ir_cron_follow_up").with_user(
            self.user_root
        )
        with self._pinned(T0 + timedelta(days=7)):
            first = self._run_cron_batch(cron)
            # the last two are lost before the next batch: nothing left
            leads[2:].action_set_lost()
            second = self._run_cron_batch(cron)
        self.assertEqual((first.done, first.remaining), (2, 2))
        self.assertEqual((second.done, second.remaining), (0, 0))
        # the next run starts a new pass from the oldest lead
        with self._pinned(T0 + timedelta(days=8)):
            third = self._run_cron_batch(cron)
        self.assertEqual((third.done, third.remaining), (2, 0))
        self.assertEqual(len(self._activities(leads)), 2)

    def test_a_later_pass_the_same_day_walks_only_what_may_have_become_due(self):
        # follow-up delays of the team's stages: 5 to 10 days (others off)
        with self._pinned(T0):
            old = self._create_opportunity(user_id=False)
        # 25 March, 12:00: due on 1 April at noon
        with self._pinned(T0 + timedelta(days=23, hours=3)):
            recent = self._create_opportunity()
        cron = self.env.ref("sales_pipeline_mgmt.ir_cron_follow_up").with_user(
            self.user_root
        )
        morning = T0 + timedelta(days=29, hours=23)  # 1 April, 8:00
        with self._pinned(morning):
            first = self._run_cron_batch(cron)
        # both walked; the old one has no salesperson, the recent one is
        # due at noon (7 days after its creation)
        self.assertEqual((first.done, first.remaining), (2, 0))
        self.assertFalse(self._activities(old | recent))
        old.user_id = self.user_salesman
        with self._pinned(morning + timedelta(hours=6)):
            second = self._run_cron_batch(cron)
        # from the morning's start minus the longest delay (10 days): the
        # recent lead alone; the old one waits for the next day's first pass
        self.assertEqual((second.done, second.remaining), (1, 0))
        self.assertEqual(len(self._activities(recent)), 1)
        self.assertFalse(self._activities(old))
        with self._pinned(morning + timedelta(days=1)):
            third = self._run_cron_batch(cron)
        self.assertEqual((third.done, third.remaining), (2, 0))
        self.assertEqual(len(self._activities(old)), 1)
        self.assertEqual(len(self._activities(recent)), 1)

    def test_a_later_stall_pass_the_same_day_still_escalates(self):
        # New: stalled after 14 days, escalated after 28; longest threshold
        # of the team's stages 30 days, so the window is 60 days
        with self._pinned(T0):
            lead = self._create_opportunity()
        cron = self.env.ref("sales_pipeline_mgmt.ir_cron_stall_detection").with_user(
            self.user_root
        )
        morning = T0 + timedelta(days=27, hours=16)  # 30 March, 1:00
        with self._pinned(morning):
            self._run_cron_batch(cron)
        self.assertEqual(
            self._activities(lead).mapped("pipeline_health_kind"), ["stall"]
        )
        with self._pinned(morning + timedelta(hours=9)):
            later = self._run_cron_batch(cron)
        self.assertEqual(later.remaining, 0)
        self.assertEqual(
            sorted(self._activities(lead).mapped("pipeline_health_kind")),
            ["escalation", "stall"],
        )

    def test_a_lead_changed_during_the_batch_costs_a_few_lock_statements(self):
        with self._pinned(T0):
            leads = self.env["crm.lead"].concat(
                *(self._create_opportunity() for _index in range(16))
            )
        self.env.flush_all()
        busy = leads[5]
        cursor = self.env.cr
        statements = []
        with (
            self._lock_refused(busy),
            mute_logger(
                "odoo.addons.sales_pipeline_mgmt.models.crm_lead_pipeline_health"
            ),
        ):
            # counted before the refusal
            execute = cursor.execute

            def count_locks(query, params=None, log_exceptions=True):
                if isinstance(query, SQL) and "FOR NO KEY UPDATE" in query.code:
                    statements.append(query)
                return execute(query, params, log_exceptions)

            with patch.object(cursor, "execute", count_locks):
                locked = self.env["crm.lead"]._lock_pipeline_health_leads(leads.ids)
        self.assertEqual(locked, set((leads - busy).ids))
        # the 16 leads, then halves of 8, 4, 2 and 1 down to the busy one:
        # 1 + 2 * 4 statements, where one per lead took 1 + 16
        self.assertEqual(len(statements), 9)

    def test_a_lead_being_edited_is_skipped_and_the_rest_processed(self):
        with self._pinned(T0):
            leads = self._create_opportunity() | self._create_opportunity()
            leads |= self._create_opportunity()
        busy = leads[1]
        with (
            self._lock_refused(busy),
            self.assertLogs(
                "odoo.addons.sales_pipeline_mgmt.models.crm_lead_pipeline_health",
                "WARNING",
            ) as logs,
        ):
            result = self._follow_up(T0 + timedelta(days=7))
        self.assertIn(f"lead {busy.id} skipped", "\n".join(logs.output))
        self.assertEqual((result["done"], result["busy"]), (2, 1))
        self.assertEqual(len(self._activities(leads - busy)), 2)
        self.assertFalse(self._activities(busy))
        # the next pass takes it
        self._follow_up(T0 + timedelta(days=7, hours=1))
        self.assertEqual(len(self._activities(busy)), 1)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestStallDetection(PipelineHealthCommon):
    def test_stalled_after_the_standard_stage_threshold(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        # New maps onto awareness: 14 days
        self._detect(T0 + timedelta(days=13, hours=23))
        self.assertFalse(lead.is_stalled)
        self._detect(T0 + timedelta(days=15))
        self.assertTrue(lead.is_stalled)
        self.assertEqual(lead.stalled_count, 1)
        # stalled since the threshold was crossed: 2 March + 14 days
        self.assertEqual(lead.stalled_since, T0 + timedelta(days=14))
        activity = self._activities(lead)
        self.assertEqual(len(activity), 1)
        self.assertEqual(
            (
                activity.pipeline_health_kind,
                activity.user_id,
                activity.activity_type_id,
            ),
            ("stall", self.user_salesman, self.stalled_type),
        )
        self.assertEqual(activity.summary, "Stalled: 15 days in SPM New")

    def test_threshold_set_on_the_stage(self):
        self.stage_new.stall_days = 3
        with self._pinned(T0):
            lead = self._create_opportunity()
        self._detect(T0 + timedelta(days=2))
        self.assertFalse(lead.is_stalled)
        self._detect(T0 + timedelta(days=3))
        self.assertTrue(lead.is_stalled)

    def test_running_twice_changes_nothing(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        self._detect(T0 + timedelta(days=15))
        result = self._detect(T0 + timedelta(days=15, hours=1))
        self.assertEqual((result["done"], result["remaining"]), (0, 0))
        self.assertEqual(len(self._activities(lead)), 1)

    def test_escalation_to_the_team_leader_past_twice_the_threshold(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        self._detect(T0 + timedelta(days=15))
        # twice 14 days = 28 days
        self._detect(T0 + timedelta(days=27, hours=23))
        self.assertFalse(self._activities(lead, "escalation"))
        self._detect(T0 + timedelta(days=28))
        escalation = self._activities(lead, "escalation")
        self.assertEqual(len(escalation), 1)
        self.assertEqual(escalation.user_id, self.user_manager)
        self.assertEqual(lead.stalled_since, T0 + timedelta(days=14))
        self._detect(T0 + timedelta(days=40))
        self.assertEqual(len(self._activities(lead)), 2)

    def test_first_run_past_twice_the_threshold_flags_and_escalates(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        self._detect(T0 + timedelta(days=30))
        self.assertTrue(lead.is_stalled)
        self.assertEqual(
            sorted(self._activities(lead).mapped("pipeline_health_kind")),
            ["escalation", "stall"],
        )

    @users("spm_salesman")
    def test_stage_change_clears_the_stall_at_once(self):
        with self._pinned(T0):
            lead = self._create_opportunity(self.env)
        self._detect(T0 + timedelta(days=30))
        lead = lead.with_env(self.env)
        self.assertTrue(lead.is_stalled)
        with self._pinned(T0 + timedelta(days=31)):
            lead.write({"stage_id": self.stage_qualified.id})
        self.assertFalse(lead.is_stalled)
        self.assertFalse(lead.stalled_since)
        self.assertEqual(lead.stalled_count, 0)
        # both the salesperson's and the leader's activities are done
        self.assertFalse(self._activities(lead.sudo()))
        done = lead.sudo().message_ids.filtered("mail_activity_type_id")
        self.assertEqual(len(done), 2)

    def test_pause_until_a_date_then_it_ends_by_itself(self):
        with self._pinned(T0):
            lead = self._create_opportunity(
                pipeline_pause_until=date(2026, 3, 20),
                pipeline_pause_reason="Customer on holiday until the 20th",
            )
        with self._pinned(T0 + timedelta(days=17)):
            self.assertTrue(lead.is_pipeline_paused)
        # day 17 = 19 March: past both thresholds (14 and 7) but paused
        self._detect(T0 + timedelta(days=17))
        self._follow_up(T0 + timedelta(days=17))
        self.assertFalse(lead.is_stalled)
        self.assertFalse(self._activities(lead))
        # 20 March: the pause is over
        self._detect(T0 + timedelta(days=18))
        self._follow_up(T0 + timedelta(days=18))
        self.assertTrue(lead.is_stalled)
        # the stall activity is a planned activity: no follow-up on top of it
        self.assertEqual(
            self._activities(lead).mapped("pipeline_health_kind"), ["stall"]
        )
        with self._pinned(T0 + timedelta(days=18)):
            lead.invalidate_recordset(["is_pipeline_paused"])
            self.assertFalse(lead.is_pipeline_paused)

    def test_won_and_lost_opportunities_are_never_stalled(self):
        with self._pinned(T0):
            won = self._create_opportunity(stage_id=self.stage_won.id)
            lost = self._create_opportunity()
            lost.action_set_lost()
        self._detect(T0 + timedelta(days=60))
        self.assertFalse(won.is_stalled)
        self.assertFalse(lost.is_stalled)

    def test_stall_detection_off_for_the_company(self):
        self.company.pipeline_stall_enabled = False
        with self._pinned(T0):
            lead = self._create_opportunity()
        self._detect(T0 + timedelta(days=60))
        self.assertFalse(lead.is_stalled)

    def test_a_failing_record_in_the_middle_of_a_batch(self):
        with self._pinned(T0):
            leads = self._create_opportunity() | self._create_opportunity()
            leads |= self._create_opportunity()
        bad = leads[1]
        origin = CrmLead._prepare_stall_activity_values

        def prepare(lead, activity_type, days):
            if lead == bad:
                raise ValueError("broken lead")
            return origin(lead, activity_type, days)

        with patch.object(CrmLead, "_prepare_stall_activity_values", prepare):
            result = self._detect(T0 + timedelta(days=15))
        self.assertEqual((result["done"], result["failed"]), (2, 1))
        self.assertEqual(leads.mapped("is_stalled"), [True, False, True])
        # the next run takes it
        self._detect(T0 + timedelta(days=15, hours=1))
        self.assertTrue(bad.is_stalled)

    def test_a_lead_being_edited_is_skipped_and_the_others_flagged(self):
        with self._pinned(T0):
            leads = self._create_opportunity() | self._create_opportunity()
            leads |= self._create_opportunity()
        busy = leads[1]
        with self._lock_refused(busy):
            result = self._detect(T0 + timedelta(days=15))
        self.assertEqual((result["done"], result["busy"]), (2, 1))
        self.assertEqual(leads.mapped("is_stalled"), [True, False, True])
        self.assertFalse(self._activities(busy))
        self._detect(T0 + timedelta(days=15, hours=1))
        self.assertTrue(busy.is_stalled)
        self.assertEqual(len(self._activities(busy)), 1)

    def test_a_pass_in_batches_flags_each_lead_once(self):
        with self._pinned(T0):
            leads = self.env["crm.lead"]
            for _index in range(5):
                leads |= self._create_opportunity()
        cursor = None
        with self._pinned(T0 + timedelta(days=15)):
            for remaining in (3, 1, 0):
                result = self.lead_model._detect_stalls(batch_size=2, cursor=cursor)
                self.assertEqual(result["remaining"], remaining)
                cursor = result["cursor"] and {
                    "after": result["cursor"],
                    "remaining": result["remaining"],
                }
        self.env.invalidate_all()
        self.assertTrue(all(leads.mapped("is_stalled")))
        self.assertEqual(len(self._activities(leads)), 5)
        # the next pass finds nothing to do
        result = self._detect(T0 + timedelta(days=16))
        self.assertEqual((result["done"], result["remaining"]), (0, 0))
        self.assertEqual(len(self._activities(leads)), 5)

    def test_deleted_activity_type_falls_back_to_todo(self):
        # the demo data's stall activities would keep the type from being deleted
        self.env["mail.activity"].search(
            [("activity_type_id", "=", self.stalled_type.id)]
        ).unlink()
        self.stalled_type.unlink()
        with self._pinned(T0):
            lead = self._create_opportunity()
        self._detect(T0 + timedelta(days=15))
        self.assertEqual(self._activities(lead).activity_type_id, self.todo_type)

    def test_run_as_the_cron_user(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        cron = self.env.ref("sales_pipeline_mgmt.ir_cron_stall_detection")
        self.assertEqual(cron.user_id, self.user_root)
        with self._pinned(T0 + timedelta(days=15)):
            cron.with_user(self.user_root).method_direct_trigger()
        self.env.invalidate_all()
        self.assertTrue(lead.is_stalled)
        self.assertEqual(len(self._activities(lead)), 1)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineHealthActivities(PipelineHealthCommon):
    """The jobs insert their activities and followers in SQL: what they
    store must read as what mail.activity.create stores."""

    def _stall_and_escalate(self, **values):
        with self._pinned(T0):
            lead = self._create_opportunity(**values)
        # past twice New's 14 days: flagged and escalated in one pass
        result = self._detect(T0 + timedelta(days=30))
        return lead, result

    def _followers(self, lead, user):
        return self.env["mail.followers"].search(
            [
                ("res_model", "=", "crm.lead"),
                ("res_id", "=", lead.id),
                ("partner_id", "=", user.partner_id.id),
            ]
        )

    def test_planned_activity_reads_as_one_the_orm_creates(self):
        self.user_salesman.tz = "Europe/Brussels"
        self.user_manager.tz = False
        lead, _result = self._stall_and_escalate(name="SPM Deal")
        # an assignee without a timezone: none stored, and the state that
        # the chatter and the kanban compute from it reads
        escalation = self._activities(lead, "escalation")
        self.assertFalse(escalation.user_tz)
        self.env.cr.execute(
            "SELECT user_tz IS NULL FROM mail_activity WHERE id = %s", [escalation.id]
        )
        self.assertTrue(self.env.cr.fetchone()[0])
        with self._pinned(T0 + timedelta(days=30)):
            self.assertEqual(escalation.state, "today")
            self.assertEqual(lead.activity_state, "today")
        stall = self._activities(lead, "stall")
        with self._pinned(T0 + timedelta(days=30)):
            reference = (
                self.env["mail.activity"]
                .with_user(self.user_root)
                .create(
                    {
                        "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
                        "res_id": lead.id,
                        "activity_type_id": self.stalled_type.id,
                        "summary": "reference",
                        "date_deadline": date(2026, 4, 1),
                        "user_id": self.user_salesman.id,
                    }
                )
            )
            compared = (
                "res_model",
                "res_model_id",
                "res_name",
                "user_tz",
                "date_deadline",
                "date_done",
                "active",
                "automated",
                "state",
                "create_uid",
                "create_date",
            )
            self.env.invalidate_all()
            self.assertEqual(
                {fname: stall[fname] for fname in compared},
                {fname: reference[fname] for fname in compared},
            )
        self.assertEqual(
            (stall.res_name, stall.user_tz, stall.date_deadline),
            ("SPM Deal", "Europe/Brussels", date(2026, 4, 1)),
        )
        # the lead's own fields see the new activities in the same transaction
        self.assertEqual(
            set(lead.activity_ids.mapped("pipeline_health_kind")),
            {"stall", "escalation", False},
        )

    def test_team_leader_follows_with_the_default_subtypes(self):
        lead, _result = self._stall_and_escalate()
        follower = self._followers(lead, self.user_manager)
        self.assertEqual(len(follower), 1)
        default_subtypes = self.env["mail.message.subtype"].search(
            [
                ("default", "=", True),
                "|",
                ("res_model", "=", "crm.lead"),
                ("res_model", "=", False),
            ]
        )
        self.assertEqual(follower.subtype_ids, default_subtypes)
        self.assertIn(self.user_manager.partner_id, lead.message_partner_ids)

    def test_an_existing_follower_keeps_its_subtypes(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
        note = self.env.ref("mail.mt_note")
        lead.message_subscribe(self.user_manager.partner_id.ids, note.ids)
        self._detect(T0 + timedelta(days=30))
        follower = self._followers(lead, self.user_manager)
        self.assertEqual(len(follower), 1)
        self.assertEqual(follower.subtype_ids, note)
        self.assertEqual(len(self._followers(lead, self.user_salesman)), 1)

    def test_salesperson_leading_the_team_gets_both_activities_in_one_batch(self):
        with self._pinned(T0):
            own = self._create_opportunity(user_id=self.user_manager.id)
            other = self._create_opportunity()
        with patch.object(
            type(self.env["mail.activity"]),
            "create",
            side_effect=AssertionError("no record-by-record retry"),
        ):
            result = self._detect(T0 + timedelta(days=30))
        self.assertEqual((result["done"], result["failed"]), (2, 0))
        self.assertEqual(self._activities(own).mapped("user_id"), self.user_manager)
        self.assertEqual(len(self._activities(own)), 2)
        self.assertEqual(len(self._activities(other)), 2)
        self.assertEqual(len(self._followers(own, self.user_manager)), 1)

    def test_each_assignee_is_told_once_on_the_bus(self):
        self.env.flush_all()
        self.env.cr.precommit.run()
        before = self.env["bus.bus"].search([], order="id desc", limit=1).id or 0
        with self._pinned(T0):
            self._create_opportunity()
            self._create_opportunity()
        self.env.cr.precommit.run()
        before = self.env["bus.bus"].search([], order="id desc", limit=1).id or before
        self._detect(T0 + timedelta(days=30))
        self.env.flush_all()
        self.env.cr.precommit.run()
        notifications = self.env["bus.bus"].search(
            [("id", ">", before), ("message", "like", "mail.activity/updated")]
        )
        # the salesperson (2 stalls) and the team leader (2 escalations)
        self.assertEqual(len(notifications), 2)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestOverload(PipelineHealthCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.max_open_opportunities = 2

    def _create_opportunities(self, user, count, **values):
        return self.env["crm.lead"].create(
            [
                {
                    "name": f"Load {index}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "user_id": user.id,
                    "stage_id": self.stage_new.id,
                    **values,
                }
                for index in range(count)
            ]
        )

    def _notify(self, when):
        with self._pinned(when):
            return (
                self.env["crm.team"]
                .with_user(self.user_root)
                ._notify_overloaded_teams()
            )

    def test_salesperson_over_the_limit_is_overloaded(self):
        # Sally: 3 open (limit 2) -> +1; won and lost ones do not count
        overloaded_leads = self._create_opportunities(self.user_salesman, 3)
        self._create_opportunities(self.user_salesman, 1, stage_id=self.stage_won.id)
        self._create_opportunities(self.user_salesman, 1).action_set_lost()
        # Sam: 2 open, at the limit, not over it
        self._create_opportunities(self.user_salesman_2, 2)
        self.assertEqual(self.team.overloaded_user_count, 1)
        self.assertEqual(self.team.overloaded_user_summary, "Sally Salesman (+1)")
        found = self.env["crm.lead"].search(
            [("is_user_overloaded", "=", True), ("team_id", "=", self.team.id)]
        )
        self.assertEqual(found, overloaded_leads)

    def test_open_opportunity_reads_the_same_in_its_three_forms(self):
        in_stage = self._create_opportunities(self.user_salesman, 1)
        without_stage = self._create_opportunities(self.user_salesman, 1)
        without_stage.stage_id = False
        won = self._create_opportunities(
            self.user_salesman, 1, stage_id=self.stage_won.id
        )
        not_opportunity = self._create_opportunities(self.user_salesman, 1, type="lead")
        lost = self._create_opportunities(self.user_salesman, 1)
        lost.action_set_lost()
        lead_model = self.env["crm.lead"].with_context(active_test=False)
        leads = lead_model.browse(
            (in_stage | without_stage | won | not_opportunity | lost).ids
        )
        by_domain = lead_model.search(
            [("id", "in", leads.ids), *lead_model._get_open_opportunity_domain()]
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT lead.id FROM crm_lead lead
                     LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                    WHERE lead.id IN %s AND %s""",
                tuple(leads.ids),
                lead_model._get_open_opportunity_sql(),
            )
        )
        by_sql = lead_model.browse(row[0] for row in self.env.cr.fetchall())
        by_python = leads.filtered(lambda lead: lead._is_open_opportunity())
        for found in (by_domain, by_sql, by_python):
            self.assertEqual(found, in_stage | without_stage)

    def test_zero_turns_the_limit_off(self):
        self.team.max_open_opportunities = 0
        self._create_opportunities(self.user_salesman, 5)
        self.assertEqual(self.team.overloaded_user_count, 0)

    def test_team_leader_gets_at_most_one_activity_a_day(self):
        self._create_opportunities(self.user_salesman, 3)
        self._notify(T0)
        self._notify(T0 + timedelta(hours=5))
        activity = self._activities(self.team, "overload")
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.user_manager)
        self.assertEqual(activity.summary, "Overloaded: Sally Salesman")
        # the next day, the previous activity still open: none more
        self._notify(T0 + timedelta(days=1))
        self.assertEqual(len(self._activities(self.team, "overload")), 1)
        # done on day 1: a new one the same day (none was planned on day 1)
        with self._pinned(T0 + timedelta(days=1, hours=1)):
            activity.action_done()
        self._notify(T0 + timedelta(days=1, hours=2))
        second = self._activities(self.team, "overload")
        self.assertEqual(len(second), 1)
        # done again the same day: nothing more until day 2
        with self._pinned(T0 + timedelta(days=1, hours=3)):
            second.action_done()
        self._notify(T0 + timedelta(days=1, hours=4))
        self.assertFalse(self._activities(self.team, "overload"))
        self._notify(T0 + timedelta(days=2))
        self.assertEqual(len(self._activities(self.team, "overload")), 1)
        # back under the limit: nothing
        self.env["crm.lead"].search([("team_id", "=", self.team.id)])[0].unlink()
        self._activities(self.team, "overload").action_done()
        self._notify(T0 + timedelta(days=3))
        self.assertFalse(self._activities(self.team, "overload"))

    def test_overload_job_query_count_does_not_grow_with_teams(self):
        def overloaded_teams(count):
            teams = self.env["crm.team"].create(
                [
                    {
                        "name": f"Load {index}",
                        "user_id": self.user_manager.id,
                        "max_open_opportunities": 1,
                    }
                    for index in range(count)
                ]
            )
            self.env["crm.lead"].create(
                [
                    {
                        "name": "Load",
                        "type": "opportunity",
                        "team_id": team.id,
                        "user_id": self.user_salesman.id,
                    }
                    for team in teams
                    for _index in range(2)
                ]
            )
            return teams

        # a first run warms the caches
        overloaded_teams(1)
        self._notify(T0)
        counts = {}
        for count in (1, 5):
            teams = overloaded_teams(count)
            self.env.flush_all()
            self.env.cr.precommit.run()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self._notify(T0 + timedelta(days=count))
            self.env.flush_all()
            counts[count] = self.env.cr.sql_log_count - before
            self.assertEqual(len(self._activities(teams, "overload")), count)
        self.assertEqual(counts[1], counts[5])

    def test_negative_limit_is_refused(self):
        with self.assertRaises(ValidationError):
            self.team.max_open_opportunities = -1


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineHealthSettings(PipelineHealthCommon):
    def test_settings_switch_the_scheduled_actions(self):
        follow_up_cron = self.env.ref("sales_pipeline_mgmt.ir_cron_follow_up")
        stall_cron = self.env.ref("sales_pipeline_mgmt.ir_cron_stall_detection")
        self.env["res.company"].search([]).write(
            {"pipeline_follow_up_enabled": False, "pipeline_stall_enabled": False}
        )
        settings = self.env["res.config.settings"].create(
            {"pipeline_follow_up_enabled": True, "pipeline_stall_enabled": False}
        )
        settings.execute()
        self.assertTrue(follow_up_cron.active)
        self.assertFalse(stall_cron.active)

    def test_negative_values_are_refused(self):
        for fname, label in (
            ("pipeline_follow_up_days", "Default Follow-up Days"),
            ("pipeline_stall_days", "Default Stall Days"),
            ("pipeline_max_open_opportunities", "Default Overload Limit"),
        ):
            with self.subTest(fname=fname):
                with self.assertRaises(ValidationError) as caught:
                    self.env["res.config.settings"].create({fname: -1}).execute()
                self.assertIn(label, str(caught.exception))
        with self.assertRaisesRegex(ValidationError, "Stalled After"):
            self.stage_new.stall_days = -1

    def test_company_default_for_stages_without_standard_value(self):
        self.company.pipeline_stall_days = 9
        self.company.pipeline_follow_up_days = 4
        stage = self.env["crm.stage"].create(
            {"name": "SPM Unmapped", "team_id": self.team.id}
        )
        self.assertEqual((stage.stall_days, stage.follow_up_days), (9, 4))
        mapped = self.env["crm.stage"].create(
            self._stage_values("SPM Mapped", 6, self.standard_interest)
        )
        # interest: 21 / 7 from the standard stage
        self.assertEqual((mapped.stall_days, mapped.follow_up_days), (21, 7))


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineHealthQueries(PipelineHealthCommon):
    """One batch of each job costs the same number of queries for 5 and 50
    opportunities."""

    def _create_due_leads(self, count, user=None):
        with self._pinned(T0):
            leads = self.env["crm.lead"].create(
                [
                    {
                        "name": f"Due {index}",
                        "type": "opportunity",
                        "team_id": self.team.id,
                        "user_id": (user or self.user_salesman).id,
                        "stage_id": self.stage_new.id,
                    }
                    for index in range(count)
                ]
            )
            leads.flush_recordset()
        return leads

    def _measure(self, func):
        # pending work of the setup (bus notifications of the creation) first
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        func()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def setUp(self):
        super().setUp()
        # warm the caches (xml ids, models, access rules) with a first run
        self._create_due_leads(1)
        with self._pinned(T0 + timedelta(days=30)):
            self.lead_model._plan_follow_up_activities()
            self.lead_model._detect_stalls()
        self.env["mail.activity"].search(
            [("pipeline_health_kind", "!=", False)]
        ).unlink()
        self.env["crm.lead"].search([("team_id", "=", self.team.id)]).unlink()

    def test_follow_up_batch_query_count(self):
        counts = {}
        for count in (5, 50):
            leads = self._create_due_leads(count)
            with self._pinned(T0 + timedelta(days=7)):
                counts[count] = self._measure(
                    lambda: self.lead_model._plan_follow_up_activities()
                )
            self.assertEqual(len(self._activities(leads)), count)
        self.assertEqual(counts[5], counts[50])

    def test_stall_batch_query_count(self):
        counts = {}
        for count in (5, 50):
            leads = self._create_due_leads(count)
            with self._pinned(T0 + timedelta(days=30)):
                counts[count] = self._measure(lambda: self.lead_model._detect_stalls())
            self.assertEqual(len(self._activities(leads)), 2 * count)
        self.assertEqual(counts[5], counts[50])

    def test_follow_up_batch_query_count_guard(self):
        self._create_due_leads(50)
        with self._pinned(T0 + timedelta(days=7)):
            self.env.flush_all()
            self.env.cr.precommit.run()
            self.env.invalidate_all()
            # measured: 3 selects (the pass's count, the page of the index,
            # the candidates among it), the lock of the candidates under a
            # savepoint (3), leads, stages and users, one savepoint, one
            # activity insert, one insert of the followers, bus
            with self.assertQueryCount(__system__=17):
                self.lead_model._plan_follow_up_activities()
                self.env.flush_all()

    def test_stall_batch_query_count_guard(self):
        self._create_due_leads(50)
        with self._pinned(T0 + timedelta(days=30)):
            self.env.flush_all()
            self.env.cr.precommit.run()
            self.env.invalidate_all()
            # measured: the follow-up's shape, plus escalations (2 activities
            # a lead, one insert) and the one UPDATE of the flags
            with self.assertQueryCount(__system__=21):
                self.lead_model._detect_stalls()
                self.env.flush_all()
