# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models
from odoo.tools import SQL

# the lead's columns that its stays repeat (crm_lead_stage_history.lead_*)
STAY_LEAD_COLUMNS = {
    "user_id": "lead_user_id",
    "company_id": "lead_company_id",
    "type": "lead_type",
}


class CrmLead(models.Model):
    """What the stage history repeats of the lead: its salesperson, company
    and type now, so that the record rules and the Stage Analysis read the
    stays alone. A new stay gets them in its own INSERT; a change of one of
    them reaches the lead's stays in one UPDATE per batch of rows the ORM
    flushes, and only when the flush writes one of them."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    def _prepare_stage_history_values(
        self, previous_stage, move_type, skipped, now, stage_keys
    ):
        values = super()._prepare_stage_history_values(
            previous_stage, move_type, skipped, now, stage_keys
        )
        values.update(
            lead_user_id=self.user_id.id,
            lead_company_id=self.company_id.id,
            lead_type=self.type,
        )
        return values

    # _write_multi returns nothing; the stays are synced after it, from the
    # columns it has just written
    def _write_multi(self, vals_list):  # pylint: disable=missing-return
        # Hooked on the flush rather than on write: the salesperson, company
        # and type also change as stored computes (company from salesperson
        # and team), which only the flush writes.
        super()._write_multi(vals_list)
        lead_ids = [
            lead_id
            for lead_id, vals in zip(self._ids, vals_list, strict=True)
            if not STAY_LEAD_COLUMNS.keys().isdisjoint(vals)
        ]
        if lead_ids:
            self._sync_stage_history_lead_values(lead_ids)

    def _sync_stage_history_lead_values(self, lead_ids):
        """Copy the salesperson, company and type of the leads ``lead_ids``
        (already written to crm_lead) onto their stays, in one query; the
        stays that already hold them are left alone."""
        history_model = self.env["crm.lead.stage.history"]
        columns = list(STAY_LEAD_COLUMNS.values())
        history_model.flush_model(columns)
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead_stage_history stay
                   SET (%(columns)s) = (lead.user_id, lead.company_id, lead.type)
                  FROM crm_lead lead
                 WHERE lead.id IN %(lead_ids)s
                   AND stay.lead_id = lead.id
                   AND (%(stay_columns)s)
                       IS DISTINCT FROM (lead.user_id, lead.company_id, lead.type)
                """,
                columns=SQL(", ").join(map(SQL.identifier, columns)),
                stay_columns=SQL(", ").join(
                    SQL.identifier("stay", column) for column in columns
                ),
                lead_ids=tuple(lead_ids),
            )
        )
        history_model.invalidate_model(columns)
