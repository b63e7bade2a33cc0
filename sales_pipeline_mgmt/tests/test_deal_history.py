# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import date, timedelta
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged, users

from odoo.addons.sales_pipeline_mgmt.models.crm_lead import CrmLead

from .common import T0, SalesPipelineCommon


def write_without_addon(leads, vals):
    """crm.lead's write as it is without this addon (crm and below)."""
    return super(CrmLead, leads).write(vals)


class DealHistoryCommon(SalesPipelineCommon):
    def _rows(self, lead):
        """The lead's deal history, oldest first."""
        self.env["crm.lead.deal.history"]._record_pending_changes()
        return (
            self.env["crm.lead.deal.history"]
            .sudo()
            .search([("lead_id", "=", lead.id)], order="date_from, id")
        )

    def _values(self, row):
        return (
            row.stage_id,
            row.expected_revenue,
            row.date_deadline,
            row.user_id,
            row.team_id,
            row.state,
        )


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestDealHistory(DealHistoryCommon):
    @users("spm_salesman")
    def test_create_writes_the_first_row(self):
        with self._pinned(T0):
            lead = self._create_opportunity(
                self.env, expected_revenue=1000, date_deadline=date(2026, 3, 20)
            )
        row = self._rows(lead)
        self.assertEqual(len(row), 1)
        self.assertEqual(
            self._values(row),
            (
                self.stage_new,
                1000,
                date(2026, 3, 20),
                self.user_salesman,
                self.team,
                "open",
            ),
        )
        self.assertEqual(row.date_from, T0)
        self.assertFalse(row.date_to)
        self.assertEqual(row.changed_by_id, self.user_salesman)
        self.assertEqual(row.company_id, self.company)

    def test_a_lead_has_no_deal_history_until_converted(self):
        with self._pinned(T0):
            lead = self._create_opportunity(type="lead", expected_revenue=500)
        self.assertFalse(self._rows(lead))
        with self._pinned(T0 + timedelta(days=1)):
            lead.write({"type": "opportunity"})
        row = self._rows(lead)
        self.assertEqual(len(row), 1)
        self.assertEqual(row.date_from, T0 + timedelta(days=1))
        self.assertEqual(row.expected_revenue, 500)

    def test_one_row_per_write_whatever_the_number_of_fields(self):
        with self._pinned(T0):
            lead = self._create_opportunity(expected_revenue=1000)
        with self._pinned(T0 + timedelta(days=2)):
            lead.write(
                {
                    "stage_id": self.stage_proposal.id,
                    "expected_revenue": 1500,
                    "date_deadline": date(2026, 4, 10),
                    "user_id": self.user_salesman_2.id,
                }
            )
        with self._pinned(T0 + timedelta(days=3)):
            # the same values again, and a field the history does not keep
            lead.write({"expected_revenue": 1500, "priority": "2"})
        rows = self._rows(lead)
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[0].date_to, T0 + timedelta(days=2))
        self.assertEqual(rows[1].date_from, T0 + timedelta(days=2))
        self.assertFalse(rows[1].date_to)
        self.assertEqual(
            self._values(rows[1]),
            (
                self.stage_proposal,
                1500,
                date(2026, 4, 10),
                self.user_salesman_2,
                self.team,
                "open",
            ),
        )

    def test_won_lost_and_reopened_states(self):
        with self._pinned(T0):
            won = self._create_opportunity(expected_revenue=100)
            lost = self._create_opportunity(expected_revenue=200)
        with self._pinned(T0 + timedelta(days=1)):
            won.action_set_won()
            lost.action_set_lost()
        with self._pinned(T0 + timedelta(days=2)):
            lost.action_unarchive()
        self.assertEqual(self._rows(won).mapped("state"), ["open", "won"])
        self.assertEqual(self._rows(lost).mapped("state"), ["open", "lost", "open"])
        self.assertEqual(self._rows(lost)[1].probability, 0)

    def test_one_write_on_many_leads_writes_one_row_each(self):
        with self._pinned(T0):
            leads = self.env["crm.lead"].browse(
                [self._create_opportunity(expected_revenue=10 * i).id for i in range(5)]
            )
        with self._pinned(T0 + timedelta(days=1)):
            leads.write({"team_id": False})
        for lead in leads:
            rows = self._rows(lead)
            self.assertEqual(len(rows), 2)
            self.assertFalse(rows[1].team_id)

    def test_a_stage_move_records_its_row_with_the_move(self):
        with self._pinned(T0):
            lead = self._create_opportunity(expected_revenue=100)
            prospect = self._create_opportunity(expected_revenue=50)
        history_model = type(self.env["crm.lead.deal.history"])
        with (
            patch.object(
                history_model,
                "_record_deal_changes",
                autospec=True,
                side_effect=history_model._record_deal_changes,
            ) as spy,
            self._pinned(T0 + timedelta(days=1)),
        ):
            (lead | prospect).write({"stage_id": self.stage_qualified.id})
            lead.write({"stage_id": self.stage_proposal.id})
            self.env.cr.flush()
            # the moves recorded their rows: nothing is left for the commit
            self.assertEqual(spy.call_count, 0)
            # its amount changed in the same transaction: still one row, with
            # the last values
            lead.write({"expected_revenue": 300})
            # no longer an opportunity: its current row ends
            prospect.write({"type": "lead"})
            prospect.write({"stage_id": self.stage_new.id})
            self.env.cr.flush()
        rows = self._rows(lead)
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[0].date_to, T0 + timedelta(days=1))
        self.assertEqual(
            self._values(rows[1]),
            (self.stage_proposal, 300, False, self.user_salesman, self.team, "open"),
        )
        self.assertEqual(rows[1].date_from, T0 + timedelta(days=1))
        self.assertFalse(rows[1].date_to)
        self.assertEqual(rows[1].changed_by_id, self.env.user)
        rows = self._rows(prospect)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows.date_to, T0 + timedelta(days=1))
        self.assertEqual(rows.stage_id, self.stage_new)

    def test_deleting_a_lead_deletes_its_history(self):
        lead = self._create_opportunity()
        lead_id = lead.id
        lead.unlink()
        self.assertFalse(
            self.env["crm.lead.deal.history"]
            .sudo()
            .search_count([("lead_id", "=", lead_id)])
        )


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestDealHistorySecurity(DealHistoryCommon):
    def test_rows_are_seen_like_their_leads(self):
        own = self._create_opportunity(user_id=self.user_salesman.id)
        other = self._create_opportunity(user_id=self.user_salesman_2.id)
        foreign = self.env["crm.lead"].create(
            {
                "name": "Other company deal",
                "type": "opportunity",
                "company_id": self.company_2.id,
                "user_id": self.user_other_company.id,
            }
        )
        # recorded at commit
        self.env.cr.flush()
        history = self.env["crm.lead.deal.history"]
        mine = history.with_user(self.user_salesman).search([])
        self.assertIn(own, mine.lead_id)
        self.assertNotIn(other, mine.lead_id)
        self.assertNotIn(foreign, mine.lead_id)
        everyone = history.with_user(self.user_salesman_all).search([])
        self.assertIn(other, everyone.lead_id)
        self.assertNotIn(foreign, everyone.lead_id)
        theirs = history.with_user(self.user_other_company).search([])
        self.assertEqual(theirs.lead_id & (own | other | foreign), foreign)

    def test_users_cannot_write_the_history(self):
        lead = self._create_opportunity()
        row = self._rows(lead).with_user(self.user_manager)
        self.assertFalse(
            row.has_access("write") or row.has_access("unlink"),
        )
        self.assertFalse(
            self.env["crm.lead.deal.history"]
            .with_user(self.user_manager)
            .has_access("create")
        )


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestDealHistoryQueries(DealHistoryCommon):
    """The history's cost on lead writes: constant, and nothing when no
    recorded value is written."""

    def _queries(self, func, commit=False):
        """Queries of ``func`` and the flush; with ``commit``, also of the
        precommit hooks (mail tracking, the deal history), as a commit."""
        if commit:
            self.env.cr.flush()
        else:
            self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        func()
        if commit:
            self.env.cr.flush()
        else:
            self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def _create_leads(self, count):
        return self.env["crm.lead"].create(
            [
                {
                    "name": f"Deal {index}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.stage_new.id,
                    "user_id": self.user_salesman.id,
                    "expected_revenue": 100,
                }
                for index in range(count)
            ]
        )

    @users("spm_manager")
    def test_a_write_of_other_fields_costs_nothing(self):
        leads = self._create_leads(10)
        twins = self._create_leads(10)
        leads.write({"priority": "3", "description": "warm"})
        write_without_addon(twins, {"priority": "3", "description": "warm"})
        with_addon = self._queries(
            lambda: leads.write({"priority": "2", "description": "cold"})
        )
        without_addon = self._queries(
            lambda: write_without_addon(twins, {"priority": "2", "description": "cold"})
        )
        self.assertEqual(with_addon, without_addon)

    @users("spm_manager")
    def test_a_revenue_write_costs_one_query_for_1_and_50_leads(self):
        added = {}
        for count in (1, 50):
            leads = self._create_leads(count)
            twins = self._create_leads(count)
            # twice each, the second measure on warm caches
            for revenue in (200, 300):
                with_addon = self._queries(
                    lambda leads=leads, revenue=revenue: leads.write(
                        {"expected_revenue": revenue}
                    ),
                    commit=True,
                )
                without_addon = self._queries(
                    lambda twins=twins, revenue=revenue: write_without_addon(
                        twins, {"expected_revenue": revenue}
                    ),
                    commit=True,
                )
            added[count] = with_addon - without_addon
        # the deal history closes the changed rows and inserts the new ones
        # (one statement, recorded before the health score reads it), the
        # forecast measures refresh and the health score add one more each
        self.assertEqual(added, {1: 3, 50: 3})


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestDealHistoryRetention(DealHistoryCommon):
    def _history_of_three_rows(self):
        with self._pinned(T0 - timedelta(days=100)):
            lead = self._create_opportunity(expected_revenue=100)
        with self._pinned(T0 - timedelta(days=40)):
            lead.write({"expected_revenue": 200})
        with self._pinned(T0 - timedelta(days=10)):
            lead.write({"expected_revenue": 300})
        return lead

    def _purge(self):
        with self._pinned(T0):
            self.env["crm.lead.deal.history"]._cron_purge()

    def test_everything_is_kept_by_default(self):
        lead = self._history_of_three_rows()
        self._purge()
        self.assertEqual(self._rows(lead).mapped("expected_revenue"), [100, 200, 300])

    def test_rows_replaced_before_the_retention_period_are_purged(self):
        lead = self._history_of_three_rows()
        self.env["ir.config_parameter"].set_param(
            "sales_pipeline_mgmt.deal_history_retention_days", "30"
        )
        self._purge()
        # the first row ended 40 days ago, the second 10 days ago
        self.assertEqual(self._rows(lead).mapped("expected_revenue"), [200, 300])
        # running it again changes nothing
        self._purge()
        self.assertEqual(self._rows(lead).mapped("expected_revenue"), [200, 300])

    def test_a_negative_retention_is_refused(self):
        settings = self.env["res.config.settings"].with_user(
            self.env.ref("base.user_admin")
        )
        with self.assertRaisesRegex(ValidationError, "Keep Deal History"):
            settings.create({"deal_history_retention_days": -1})
