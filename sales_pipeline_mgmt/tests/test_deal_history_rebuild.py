# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, timedelta
from itertools import pairwise

from odoo.tests import tagged

from .common import T0, SalesPipelineCommon

T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=4)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestDealHistoryRebuild(SalesPipelineCommon):
    """The install rebuild of the deal history and of the stage history from
    mail tracking written before them, same-second changes included."""

    def _forget_histories(self, leads):
        self.env["crm.lead.deal.history"].sudo().search(
            [("lead_id", "in", leads.ids)]
        ).unlink()
        self.env["crm.lead.stage.history"].sudo().search(
            [("lead_id", "in", leads.ids)]
        ).unlink()
        self.env.cr.execute(
            "UPDATE crm_lead SET skipped_stage_count = 0, backward_move_count = 0 "
            "WHERE id IN %s",
            [tuple(leads.ids)],
        )
        self.env["crm.lead"].invalidate_model()

    def _field(self, fname):
        return self.env["ir.model.fields"]._get("crm.lead", fname)

    def _stage_value(self, old, new):
        return {
            "field_id": self._field("stage_id").id,
            "old_value_integer": old.id,
            "old_value_char": old.name,
            "new_value_integer": new.id,
            "new_value_char": new.name,
        }

    def _log(self, lead, when, values):
        return (
            self.env["mail.message"]
            .sudo()
            .create(
                {
                    "model": "crm.lead",
                    "res_id": lead.id,
                    "message_type": "notification",
                    "date": when,
                    "tracking_value_ids": [(0, 0, vals) for vals in values],
                }
            )
        )

    def _untracked_lead(self, **values):
        untracked = self.env["crm.lead"].with_context(tracking_disable=True)
        with self._pinned(T0):
            return self._create_opportunity(untracked.env, **values)

    def _same_second_moves(self):
        """A lead moved New -> Qualified -> Proposal within one second at T1,
        its revenue raised from 100 to 400 with the second move; the second
        message's tracking value is written first, so that the order of the
        values is not the order of the messages."""
        lead = self._untracked_lead(expected_revenue=100)
        lead.with_context(tracking_disable=True).write(
            {"stage_id": self.stage_proposal.id, "expected_revenue": 400}
        )
        self.env.flush_all()
        first = self._log(lead, T1, [])
        self._log(
            lead,
            T1,
            [
                self._stage_value(self.stage_qualified, self.stage_proposal),
                {
                    "field_id": self._field("expected_revenue").id,
                    "old_value_float": 100,
                    "new_value_float": 400,
                },
            ],
        )
        first.write(
            {
                "tracking_value_ids": [
                    (0, 0, self._stage_value(self.stage_new, self.stage_qualified))
                ]
            }
        )
        self.env.flush_all()
        self._forget_histories(lead)
        return lead

    def _deal_rows(self, lead):
        return (
            self.env["crm.lead.deal.history"]
            .sudo()
            .search([("lead_id", "=", lead.id)], order="date_from, id")
        )

    def test_stage_history_keeps_the_order_of_same_second_moves(self):
        lead = self._same_second_moves()
        full, partial = self.env["crm.lead.stage.history"]._rebuild_from_tracking(
            lead.ids
        )
        self.assertEqual((full, partial), (1, 0))
        stays = (
            self.env["crm.lead.stage.history"]
            .sudo()
            .search([("lead_id", "=", lead.id)], order="date_in, id")
        )
        self.assertEqual(
            [(stay.stage_id, stay.date_out) for stay in stays],
            [
                (self.stage_new, T1),
                (self.stage_qualified, T1),
                (self.stage_proposal, False),
            ],
        )

    def test_deal_history_keeps_the_order_of_same_second_changes(self):
        lead = self._same_second_moves()
        self.assertEqual(
            self.env["crm.lead.deal.history"]._rebuild_from_tracking(lead.ids), 3
        )
        rows = self._deal_rows(lead)
        self.assertEqual(
            [
                (row.stage_id, row.expected_revenue, row.date_from, row.date_to)
                for row in rows
            ],
            [
                (self.stage_new, 100, lead.create_date, T1),
                (self.stage_qualified, 100, T1, T1),
                (self.stage_proposal, 400, T1, False),
            ],
        )
        # running it again changes nothing: the lead has its history now
        self.assertEqual(
            self.env["crm.lead.deal.history"]._rebuild_from_tracking(lead.ids), 0
        )

    def test_rebuild_from_real_tracking_ends_on_the_lead(self):
        with self._pinned(T0):
            lead = self._create_opportunity(expected_revenue=1000)
            self.env.flush_all()
            self.env.cr.precommit.run()
        with self._pinned(T1):
            lead.write(
                {
                    "stage_id": self.stage_qualified.id,
                    "user_id": self.user_salesman_2.id,
                }
            )
            self.env.flush_all()
            self.env.cr.precommit.run()
        with self._pinned(T2):
            lead.action_set_lost()
            self.env.flush_all()
            self.env.cr.precommit.run()
        # a change tracking did not see: the closing date (not tracked before
        # this addon) is taken from the lead on every row
        lead.with_context(tracking_disable=True).write(
            {"date_deadline": date(2026, 6, 30)}
        )
        self.env.flush_all()
        self._forget_histories(lead)
        self.env["crm.lead.deal.history"]._rebuild_from_tracking(lead.ids)
        rows = self._deal_rows(lead)
        self.assertEqual(
            [
                (
                    row.stage_id,
                    row.user_id,
                    row.state,
                    row.date_from,
                    row.date_to,
                    row.expected_revenue,
                )
                for row in rows
            ],
            [
                (
                    self.stage_new,
                    self.user_salesman,
                    "open",
                    lead.create_date,
                    T1,
                    1000,
                ),
                (self.stage_qualified, self.user_salesman_2, "open", T1, T2, 1000),
                (self.stage_qualified, self.user_salesman_2, "lost", T2, False, 1000),
            ],
        )
        # no gaps, and the current row is the lead
        for row, following in pairwise(rows):
            self.assertEqual(row.date_to, following.date_from)
        current = rows[-1]
        self.assertFalse(current.date_to)
        self.assertEqual(
            (
                current.stage_id,
                current.expected_revenue,
                current.date_deadline,
                current.user_id,
                current.team_id,
                current.probability,
                current.state,
            ),
            (
                lead.stage_id,
                lead.expected_revenue,
                lead.date_deadline,
                lead.user_id,
                lead.team_id,
                lead.probability,
                "lost",
            ),
        )

    def test_rebuild_without_tracking_writes_the_current_row(self):
        lead = self._untracked_lead(expected_revenue=250)
        self._forget_histories(lead)
        self.assertEqual(
            self.env["crm.lead.deal.history"]._rebuild_from_tracking(lead.ids), 1
        )
        row = self._deal_rows(lead)
        self.assertEqual(
            (row.stage_id, row.expected_revenue, row.state, row.date_from),
            (self.stage_new, 250, "open", lead.create_date),
        )

    def test_an_untracked_loss_starts_at_the_closing_date(self):
        lead = self._untracked_lead(expected_revenue=300)
        with self._pinned(T2):
            lead.with_context(tracking_disable=True).action_set_lost()
            self.env.flush_all()
        self.assertEqual(lead.date_closed, T2)
        self._forget_histories(lead)
        self.env["crm.lead.deal.history"]._rebuild_from_tracking(lead.ids)
        self.assertEqual(
            [(row.state, row.date_from, row.date_to) for row in self._deal_rows(lead)],
            [("open", lead.create_date, T2), ("lost", T2, False)],
        )
