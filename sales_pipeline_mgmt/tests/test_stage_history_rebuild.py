# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo.tests import tagged

from .common import T0, SalesPipelineCommon


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestStageHistoryRebuild(SalesPipelineCommon):
    """The install rebuild, from mail tracking written before the history."""

    def _flush_tracking(self):
        # mail tracking is written by a precommit hook
        self.env.flush_all()
        self.env.cr.precommit.run()

    def _forget_history(self, leads):
        self.env["crm.lead.stage.history"].sudo().search(
            [("lead_id", "in", leads.ids)]
        ).unlink()
        self.env.cr.execute(
            "UPDATE crm_lead SET skipped_stage_count = 0, backward_move_count = 0 "
            "WHERE id IN %s",
            [tuple(leads.ids)],
        )
        self.env["crm.lead"].invalidate_model()

    def test_rebuild_from_full_tracking(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
            self._flush_tracking()
        with self._pinned(T0 + timedelta(days=1)):
            lead.write({"stage_id": self.stage_proposal.id})
            self._flush_tracking()
        with self._pinned(T0 + timedelta(days=3)):
            lead.write({"stage_id": self.stage_qualified.id})
            self._flush_tracking()
        self._forget_history(lead)
        self.assertFalse(self._stays(lead))

        full, partial = self.env["crm.lead.stage.history"]._rebuild_from_tracking(
            lead.ids
        )
        self.assertEqual((full, partial), (1, 0))
        stays = self._stays(lead)
        # 2 tracked changes -> 3 stays; the last one is current
        self.assertEqual(
            [
                (stay.stage_id, stay.date_in, stay.date_out, stay.move_type)
                for stay in stays
            ],
            [
                (self.stage_new, lead.create_date, T0 + timedelta(days=1), "initial"),
                (
                    self.stage_proposal,
                    T0 + timedelta(days=1),
                    T0 + timedelta(days=3),
                    "skip",
                ),
                (self.stage_qualified, T0 + timedelta(days=3), False, "backward"),
            ],
        )
        self.assertEqual(stays[1].skipped_stage_count, 1)
        self.assertEqual(stays[1].previous_stage_id, self.stage_new)
        self.assertAlmostEqual(stays[1].duration_days, 2.0)
        self.assertFalse(stays[2].duration_days)
        self.assertEqual(lead.skipped_stage_count, 1)
        self.assertEqual(lead.backward_move_count, 1)
        # running it again changes nothing: the lead has its history now
        self.assertEqual(
            self.env["crm.lead.stage.history"]._rebuild_from_tracking(lead.ids), (0, 0)
        )
        self.assertEqual(self._stays(lead), stays)

    def test_rebuild_without_tracking_keeps_the_current_stay(self):
        untracked = self.env["crm.lead"].with_context(tracking_disable=True)
        with self._pinned(T0):
            lead = self._create_opportunity(untracked.env)
        with self._pinned(T0 + timedelta(days=5)):
            lead.with_context(tracking_disable=True).write(
                {"stage_id": self.stage_negotiation.id}
            )
            self._flush_tracking()
        self._forget_history(lead)
        full, partial = self.env["crm.lead.stage.history"]._rebuild_from_tracking(
            lead.ids
        )
        self.assertEqual((full, partial), (0, 1))
        stay = self._stays(lead)
        self.assertEqual(len(stay), 1)
        self.assertEqual(stay.stage_id, self.stage_negotiation)
        self.assertEqual(stay.date_in, T0 + timedelta(days=5))
        self.assertEqual(stay.move_type, "initial")
        self.assertFalse(stay.date_out)

    def test_rebuild_with_partial_tracking(self):
        with self._pinned(T0):
            lead = self._create_opportunity()
            self._flush_tracking()
        with self._pinned(T0 + timedelta(days=1)):
            lead.write({"stage_id": self.stage_qualified.id})
            self._flush_tracking()
        # this move left no tracking (tracking switched off at the time)
        with self._pinned(T0 + timedelta(days=4)):
            lead.with_context(tracking_disable=True).write(
                {"stage_id": self.stage_proposal.id}
            )
            self._flush_tracking()
        self._forget_history(lead)
        full, partial = self.env["crm.lead.stage.history"]._rebuild_from_tracking(
            lead.ids
        )
        self.assertEqual((full, partial), (0, 1))
        stays = self._stays(lead)
        self.assertEqual(
            [(stay.stage_id, stay.date_in, stay.date_out) for stay in stays],
            [
                (self.stage_new, lead.create_date, T0 + timedelta(days=1)),
                # the tracked stay ends where the lead's last stage update begins
                (self.stage_qualified, T0 + timedelta(days=1), T0 + timedelta(days=4)),
                (self.stage_proposal, T0 + timedelta(days=4), False),
            ],
        )
        self.assertEqual(stays[2].move_type, "forward")
