# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo.tests import tagged, users
from odoo.tools import SQL

from .common import T0
from .test_pipeline_health import PipelineHealthCommon


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestLastContact(PipelineHealthCommon):
    """The last contact kept on the lead: what counts (a message, a note, an
    e-mail, an activity done, a stage change, the creation) moves it, what
    does not (a tracked field change, a logged notification) leaves it."""

    def _created(self, **values):
        with self._pinned(T0):
            lead = self._create_opportunity(**values)
            self.env.cr.precommit.run()
        return lead

    def _at(self, days, func):
        with self._pinned(T0 + timedelta(days=days)):
            func()
            self.env.flush_all()
            # mail tracking posts its messages before the commit
            self.env.cr.precommit.run()

    def _last_contact(self, lead):
        lead.invalidate_recordset(["date_last_contact"])
        return lead.date_last_contact

    def test_creation_is_the_first_contact(self):
        lead = self._created()
        self.assertEqual(self._last_contact(lead), T0)

    @users("spm_salesman")
    def test_a_message_by_the_salesperson_is_contact(self):
        lead = self._created().with_env(self.env)
        self._at(5, lambda: lead.message_post(body="Called", message_type="comment"))
        self.assertEqual(self._last_contact(lead), T0 + timedelta(days=5))

    def test_an_internal_note_is_contact(self):
        lead = self._created()
        # "Log note" in the chatter: a comment of the note subtype
        self._at(
            5,
            lambda: lead.message_post(
                body="Internal", message_type="comment", subtype_xmlid="mail.mt_note"
            ),
        )
        self.assertEqual(self._last_contact(lead), T0 + timedelta(days=5))

    def test_a_notification_posted_by_code_is_not_contact(self):
        lead = self._created()
        # message_post's default type: what automated messages use
        self._at(3, lambda: lead.message_post(body="Synchronised with the ERP"))
        self.assertEqual(self._last_contact(lead), T0)

    def test_an_email_is_contact(self):
        lead = self._created()
        self._at(4, lambda: lead.message_post(body="Re: offer", message_type="email"))
        self.assertEqual(self._last_contact(lead), T0 + timedelta(days=4))

    def test_an_activity_done_is_contact(self):
        lead = self._created()
        self._at(
            1,
            lambda: lead.activity_schedule(
                "mail.mail_activity_data_call", user_id=self.user_salesman.id
            ),
        )
        self.assertEqual(self._last_contact(lead), T0)
        self._at(6, lambda: lead.activity_ids.action_feedback(feedback="Reached"))
        self.assertEqual(self._last_contact(lead), T0 + timedelta(days=6))

    def test_a_stage_change_is_contact(self):
        lead = self._created()
        self._at(4, lambda: lead.write({"stage_id": self.stage_qualified.id}))
        self.assertEqual(self._last_contact(lead), T0 + timedelta(days=4))

    def test_a_tracked_change_or_a_logged_notification_is_not_contact(self):
        lead = self._created()
        self._at(5, lambda: lead.write({"expected_revenue": 5000}))
        self._at(6, lambda: lead._message_log(body="Synchronised"))
        lead.invalidate_recordset(["message_ids"])
        self.assertTrue(
            lead.message_ids.filtered(lambda message: message.tracking_value_ids)
        )
        self.assertEqual(self._last_contact(lead), T0)

    def test_an_older_message_does_not_move_it_back(self):
        lead = self._created()
        self._at(8, lambda: lead.message_post(body="Latest", message_type="comment"))
        # an e-mail imported later with its original, earlier date
        self._at(
            9,
            lambda: self.env["mail.message"].create(
                {
                    "model": "crm.lead",
                    "res_id": lead.id,
                    "message_type": "email",
                    "body": "Old e-mail",
                    "date": T0 + timedelta(days=2),
                }
            ),
        )
        self.assertEqual(self._last_contact(lead), T0 + timedelta(days=8))

    def test_deleting_the_last_message_goes_back_to_the_one_before(self):
        lead = self._created()
        self._at(3, lambda: lead.message_post(body="First", message_type="comment"))
        self._at(5, lambda: lead.message_post(body="Second", message_type="comment"))
        last = lead.message_ids.filtered(
            lambda message: message.body == "<p>Second</p>"
        )
        self._at(6, last.unlink)
        self.assertEqual(self._last_contact(lead), T0 + timedelta(days=3))

    def test_a_message_moved_to_another_lead_moves_the_contact(self):
        lead = self._created()
        other = self._created()
        self._at(5, lambda: lead.message_post(body="Called", message_type="comment"))
        message = lead.message_ids.filtered(lambda msg: msg.message_type == "comment")
        self._at(6, lambda: message.write({"res_id": other.id}))
        self.assertEqual(self._last_contact(lead), T0)
        self.assertEqual(self._last_contact(other), T0 + timedelta(days=5))

    def test_rebuild_gives_the_same_dates(self):
        leads = self._created() | self._created() | self._created()
        self._at(2, lambda: leads[0].message_post(body="x", message_type="comment"))
        self._at(3, lambda: leads[1].write({"stage_id": self.stage_qualified.id}))
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET date_last_contact = NULL, "
                "date_last_message_contact = NULL WHERE id IN %s",
                tuple(leads.ids),
            )
        )
        leads.invalidate_recordset()
        self.assertEqual(self.env["crm.lead"]._recompute_last_contact(), 3)
        self.assertEqual(
            [self._last_contact(lead) for lead in leads],
            [T0 + timedelta(days=2), T0 + timedelta(days=3), T0],
        )
        # a second run finds nothing to change
        self.assertEqual(self.env["crm.lead"]._recompute_last_contact(), 0)

    def test_a_write_without_contact_fields_costs_no_query(self):
        lead = self._created()
        self.env.flush_all()
        message = lead.message_ids[:1]
        message.flush_recordset()
        # measured: the message's UPDATE only
        with self.assertQueryCount(__system__=1):
            message.write({"body": "<p>edited</p>"})
            message.flush_recordset()

    def test_a_notification_posted_on_a_lead_costs_no_query(self):
        lead = self._created()
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        lead._message_log(body="Synchronised")
        self.env.flush_all()
        notification_queries = self.env.cr.sql_log_count - before
        before = self.env.cr.sql_log_count
        lead.message_post(body="Called", message_type="comment")
        self.env.flush_all()
        # a contact message costs the one UPDATE of the lead's last contact
        # more than a notification (message_post notifies, hence >=)
        self.assertGreaterEqual(
            self.env.cr.sql_log_count - before, notification_queries + 1
        )


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestFollowUpCandidates(PipelineHealthCommon):
    """The follow-up job's candidates from the last contact column are those
    the rule found in the messages before the column existed."""

    def _query_ids(self, query, now):
        self.env.flush_all()
        with self._pinned(now):
            self.env.cr.execute(SQL("SELECT id FROM (%s) cand", query))
            return {row[0] for row in self.env.cr.fetchall()}

    def _reference_candidate_ids(self, now):
        """The candidate query as it read the messages of every lead."""
        lead_model = self.env["crm.lead"]
        with self._pinned(now):
            common = lead_model._pipeline_health_common_sql(
                "pipeline_follow_up_enabled"
            )
        query = SQL(
            """
            SELECT l.id
              FROM crm_lead l
              JOIN crm_stage s ON s.id = l.stage_id
         LEFT JOIN res_company c ON c.id = l.company_id
         LEFT JOIN LATERAL (
                SELECT MAX(m.date) AS last_date
                  FROM mail_message m
                 WHERE m.model = 'crm.lead' AND m.res_id = l.id
                   AND (m.message_type IN ('comment', 'email')
                        OR m.mail_activity_type_id IS NOT NULL)
               ) msg ON TRUE
             WHERE %(common)s
               AND s.follow_up_days > 0
               AND NOT EXISTS (
                    SELECT 1 FROM mail_activity a
                     WHERE a.res_model = 'crm.lead' AND a.res_id = l.id
                       AND a.active)
               AND GREATEST(l.create_date, l.date_last_stage_update, msg.last_date)
                   <= %(now)s - make_interval(days => s.follow_up_days)
            """,
            common=common,
            now=now,
        )
        return self._query_ids(query, now)

    def _candidate_ids(self, now):
        with self._pinned(now):
            query = self.env["crm.lead"]._get_follow_up_candidates_sql(now)
        return self._query_ids(query, now)

    def test_same_candidates_as_from_the_messages(self):
        def at(days, func):
            with self._pinned(T0 + timedelta(days=days)):
                func()
                self.env.flush_all()
                self.env.cr.precommit.run()

        with self._pinned(T0):
            untouched = self._create_opportunity(name="untouched")
            commented = self._create_opportunity(name="commented")
            noted = self._create_opportunity(name="noted")
            emailed = self._create_opportunity(name="emailed")
            called = self._create_opportunity(name="activity done")
            moved = self._create_opportunity(name="moved")
            tracked = self._create_opportunity(name="tracked change")
            deleted = self._create_opportunity(name="message deleted")
            planned = self._create_opportunity(name="activity planned")
            paused = self._create_opportunity(
                name="paused", pipeline_pause_until=T0.date() + timedelta(days=30)
            )
            unassigned = self._create_opportunity(name="unassigned", user_id=False)
            self._create_opportunity(name="won", stage_id=self.stage_won.id)
            self.env.cr.precommit.run()
        at(5, lambda: commented.message_post(body="c", message_type="comment"))
        at(
            5,
            lambda: noted.message_post(
                body="n", message_type="comment", subtype_xmlid="mail.mt_note"
            ),
        )
        at(5, lambda: untouched.message_post(body="automated notification"))
        at(5, lambda: emailed.message_post(body="e", message_type="email"))
        at(
            1,
            lambda: called.activity_schedule(
                "mail.mail_activity_data_call", user_id=self.user_salesman.id
            ),
        )
        at(5, lambda: called.activity_ids.action_feedback(feedback="done"))
        at(5, lambda: moved.write({"stage_id": self.stage_qualified.id}))
        at(5, lambda: tracked.write({"expected_revenue": 1000}))
        at(5, lambda: deleted.message_post(body="d", message_type="comment"))
        at(
            6,
            lambda: deleted.message_ids.filtered(
                lambda m: m.body == "<p>d</p>"
            ).unlink(),
        )
        at(
            1,
            lambda: planned.activity_schedule(
                "mail.mail_activity_data_call", user_id=self.user_salesman.id
            ),
        )
        # day 10: 7 days (New, Qualified) passed since day 0, not since day 5
        now = T0 + timedelta(days=10)
        expected = untouched | tracked | deleted | unassigned
        self.assertEqual(self._reference_candidate_ids(now), set(expected.ids))
        self.assertEqual(self._candidate_ids(now), set(expected.ids))
        # day 12: the contacts of day 5 are 7 days old too
        now = T0 + timedelta(days=12)
        expected |= commented | noted | emailed | called | moved
        self.assertEqual(self._reference_candidate_ids(now), set(expected.ids))
        self.assertEqual(self._candidate_ids(now), set(expected.ids))
        self.assertNotIn(paused.id, self._candidate_ids(T0 + timedelta(days=20)))

    def test_candidates_come_from_an_index_range_scan(self):
        self.env.flush_all()
        # On a test table of a few rows any plan costs nothing, so the planner
        # may as well sort the rows of another index: rule out the plans a
        # million leads would never get, so that the one left says whether
        # the page can be read in the order of the last-contact index.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            self.env.cr.execute(SQL("SELECT set_config(%s, 'off', true)", setting))
        self.env.cr.execute(
            SQL(
                "EXPLAIN %s",
                self.env["crm.lead"]._get_pipeline_health_page_sql(
                    SQL("l.date_last_contact"),
                    "follow_up_days",
                    T0,
                    (T0 - timedelta(days=30), 0),
                    1000,
                ),
            )
        )
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn("crm_lead_open_last_contact_idx", plan)
        self.assertIn("Index Cond: ((date_last_contact <=", plan)
