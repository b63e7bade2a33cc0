# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import os
from datetime import timedelta
from unittest.mock import patch

from odoo.modules.migration import load_script
from odoo.tests import tagged
from odoo.tools import SQL

from .. import hooks
from ..hooks import _fill_lead_columns
from .common import T0
from .test_pipeline_health import PipelineHealthCommon

LAST_CONTACT_MIGRATION = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "migrations",
    "18.0.1.2.0",
    "post-date_last_contact.py",
)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestInstallFill(PipelineHealthCommon):
    """The install fills the columns the addon adds to the existing leads
    (standard stage, move counters, historical forecast, last contact) in one
    rewrite of the leads, with the values each of them gets on its own."""

    def _created(self, **values):
        with self._pinned(T0):
            lead = self._create_opportunity(**values)
            self.env.cr.precommit.run()
        return lead

    def _at(self, days, func):
        with self._pinned(T0 + timedelta(days=days)):
            func()
            self.env.flush_all()
            self.env.cr.precommit.run()

    def _blank(self, leads, fnames):
        """Empty the columns as a fresh install finds them."""
        counters = {"skipped_stage_count", "backward_move_count"}
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET %s WHERE id IN %s",
                SQL(", ").join(
                    SQL(
                        "%s = %s",
                        SQL.identifier(fname),
                        0 if fname in counters else None,
                    )
                    for fname in fnames
                ),
                tuple(leads.ids),
            )
        )
        leads.invalidate_recordset()

    def _index_definitions(self):
        self.env.cr.execute(
            SQL(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename = 'crm_lead' ORDER BY indexname"
            )
        )
        return self.env.cr.fetchall()

    def test_install_fill_gives_each_lead_its_columns(self):
        skipping = self._created()
        # New -> Proposal skips Qualified
        self._at(2, lambda: skipping.write({"stage_id": self.stage_proposal.id}))
        going_back = self._created()
        self._at(3, lambda: going_back.write({"stage_id": self.stage_qualified.id}))
        self._at(4, lambda: going_back.write({"stage_id": self.stage_new.id}))
        self._at(
            5, lambda: going_back.message_post(body="Called", message_type="comment")
        )
        untouched = self._created()
        leads = skipping | going_back | untouched
        lead_model = self.env["crm.lead"]
        # the forecast as the full refresh computes it, to compare with
        lead_model._refresh_historical_forecast()
        forecast_fnames = lead_model._get_forecast_fields()
        leads.invalidate_recordset()
        forecast = {
            lead.id: [lead[fname] for fname in forecast_fnames] for lead in leads
        }
        self._blank(
            leads,
            [
                "standard_stage_id",
                "skipped_stage_count",
                "backward_move_count",
                *forecast_fnames,
                "date_last_message_contact",
                "date_last_contact",
            ],
        )

        _fill_lead_columns(self.env)

        self.assertEqual(
            leads.mapped("standard_stage_id"),
            self.standard_consideration | self.standard_awareness,
        )
        self.assertEqual(skipping.standard_stage_id, self.standard_consideration)
        self.assertEqual(untouched.standard_stage_id, self.standard_awareness)
        self.assertEqual(
            [(lead.skipped_stage_count, lead.backward_move_count) for lead in leads],
            [(1, 0), (0, 1), (0, 0)],
        )
        # a stage change and the creation count, the message counts
        self.assertEqual(
            [
                (lead.date_last_contact, lead.date_last_message_contact)
                for lead in leads
            ],
            [
                (T0 + timedelta(days=2), False),
                (T0 + timedelta(days=5), T0 + timedelta(days=5)),
                (T0, False),
            ],
        )
        for lead in leads:
            self.assertEqual(
                [lead[fname] for fname in forecast_fnames], forecast[lead.id]
            )
        # a second run finds nothing to change
        self.assertEqual(_fill_lead_columns(self.env), 0)

    def test_install_fill_of_many_leads_gives_the_same_values_and_indexes(self):
        """From BULK_FILL_LEADS leads, the fill drops crm_lead's plain indexes
        and creates them again after its UPDATE: same values, same indexes."""
        lead = self._created()
        self._at(2, lambda: lead.write({"stage_id": self.stage_proposal.id}))
        indexes = self._index_definitions()
        self.assertIn("crm_lead__name_index", [name for name, _definition in indexes])
        self._blank(
            lead,
            ["standard_stage_id", "skipped_stage_count", "date_last_contact"],
        )
        with patch.object(hooks, "BULK_FILL_LEADS", 1):
            _fill_lead_columns(self.env)
        self.assertEqual(
            (
                lead.standard_stage_id,
                lead.skipped_stage_count,
                lead.date_last_contact,
            ),
            (self.standard_consideration, 1, T0 + timedelta(days=2)),
        )
        self.assertEqual(self._index_definitions(), indexes)

    def test_upgrade_fill_of_the_last_contact_builds_the_indexes_again(self):
        """The 18.0.1.2.0 upgrade fills the last contact of every lead with
        crm_lead's plain indexes built again after it, from BULK_FILL_LEADS
        leads."""
        lead = self._created()
        self._at(3, lambda: lead.message_post(body="Called", message_type="comment"))
        indexes = self._index_definitions()
        self._blank(lead, ["date_last_message_contact", "date_last_contact"])
        migration = load_script(LAST_CONTACT_MIGRATION, "spm_migration_last_contact")
        with patch.object(hooks, "BULK_FILL_LEADS", 1):
            migration.migrate(self.env.cr, "18.0.1.1.0")
        lead.invalidate_recordset()
        self.assertEqual(
            (lead.date_last_message_contact, lead.date_last_contact),
            (T0 + timedelta(days=3), T0 + timedelta(days=3)),
        )
        self.assertEqual(self._index_definitions(), indexes)
