# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict
from datetime import timedelta
from unittest.mock import patch

from odoo.tests import tagged, users
from odoo.tools import SQL

from odoo.addons.sales_pipeline_mgmt.models.crm_lead_stage_analysis import (
    CrmLead as StageAnalysisLead,
)
from odoo.addons.sales_pipeline_mgmt.report.crm_lead_stage_analysis import (
    CrmLeadStageAnalysis,
)

from .common import T0, SalesPipelineCommon

# when the report is read: every current stay counts up to then
NOW = T0 + timedelta(days=40)
MEASURES = ["duration_days:avg", "duration_total_days:sum", "__count"]
GROUPBYS = [
    [],
    ["stage_id"],
    ["date_in:month"],
    ["stage_id", "date_in:month"],
    ["standard_stage_id"],
    ["user_id"],
    ["team_id"],
    ["company_id"],
    ["move_type"],
    ["lead_type"],
    ["lead_state"],
]
DOMAINS = [
    [],
    [("lead_type", "=", "opportunity")],
    [("lead_state", "=", "open")],
    [("is_current", "=", True)],
]


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestStageAnalysis(SalesPipelineCommon):
    """The Stage Analysis reads the stays alone: the lead's salesperson,
    company and type are kept on its stays by the writes that change them.
    It must count what it counted when it joined every stay to its lead: the
    test states that formula in plain SQL and compares both on moves,
    skipped and backward moves, reassignments, a lead converted to an
    opportunity, won and lost leads, and a second company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the report as a whole (not only the test's leads) is compared too:
        # the leads that exist already are dropped, their stays with them
        cls.env["crm.lead"].with_context(active_test=False).search([]).unlink()
        cls.team_2 = cls.env["crm.team"].create(
            {"name": "SPM Team 2", "company_id": cls.company_2.id}
        )

        def day(days):
            return T0 + timedelta(days=days)

        with cls._pinned_class(day(0)):
            cls.lead_reassigned_away = cls._new_lead("Away", cls.user_salesman)
            cls.lead_converted = cls._new_lead(
                "Converted", cls.user_salesman, type="lead"
            )
            cls.lead_unassigned_won = cls._new_lead("Won", False)
            cls.lead_lost = cls._new_lead("Lost", cls.user_salesman)
            cls.lead_other_company = cls._new_lead(
                "Other company",
                False,
                company_id=cls.company_2.id,
                team_id=cls.team_2.id,
            )
            cls.lead_moved_company = cls._new_lead("Moved company", cls.user_salesman)
        with cls._pinned_class(day(1)):
            cls.lead_reassigned_here = cls._new_lead("Here", cls.user_salesman_2)
            cls._move(cls.lead_other_company, cls.stage_qualified)
        with cls._pinned_class(day(2)):
            cls._move(cls.lead_reassigned_away, cls.stage_qualified)
            cls.lead_still_lead = cls._new_lead("Lead", cls.user_salesman, type="lead")
            cls.lead_converted.write({"type": "opportunity"})
        with cls._pinned_class(day(3)):
            cls._move(cls.lead_reassigned_here, cls.stage_negotiation)  # skip
            cls._move(cls.lead_converted, cls.stage_qualified)
            cls.lead_lost.action_set_lost()
        with cls._pinned_class(day(4)):
            cls._move(cls.lead_reassigned_here, cls.stage_qualified)  # backward
            cls._move(cls.lead_unassigned_won, cls.stage_won)
        with cls._pinned_class(day(5)):
            cls.lead_moved_company.write(
                {
                    "user_id": False,
                    "team_id": cls.team_2.id,
                    "company_id": cls.company_2.id,
                }
            )
        with cls._pinned_class(day(35)):
            cls._move(cls.lead_reassigned_away, cls.stage_proposal)
        with cls._pinned_class(day(36)):
            cls.lead_reassigned_away.write({"user_id": cls.user_salesman_2.id})
        with cls._pinned_class(day(37)):
            cls.lead_reassigned_here.write({"user_id": cls.user_salesman.id})
        cls.all_leads = (
            cls.lead_reassigned_away
            | cls.lead_reassigned_here
            | cls.lead_converted
            | cls.lead_still_lead
            | cls.lead_unassigned_won
            | cls.lead_lost
            | cls.lead_other_company
            | cls.lead_moved_company
        )

    @classmethod
    def _pinned_class(cls, when):
        return SalesPipelineCommon._pinned(cls, when)

    @classmethod
    def _new_lead(cls, name, user, **values):
        lead = cls.env["crm.lead"].create(
            dict(
                {
                    "name": name,
                    "type": "opportunity",
                    "team_id": cls.team.id,
                    "stage_id": cls.stage_new.id,
                    "user_id": user.id if user else False,
                },
                **values,
            )
        )
        lead.flush_recordset()
        return lead

    @classmethod
    def _move(cls, lead, stage):
        lead.write({"stage_id": stage.id})
        lead.flush_recordset()

    # The formula of the report before the lead's values were kept on the
    # stays: every stay joined to its lead (and the lead's stage), the record
    # rules read on the lead.

    def _old_report_rows(self, user, scoped=True):
        """{stay id: row} of the old report as ``user`` could read it (of
        the test's leads, or of all leads when not ``scoped``)."""
        if user.has_group("sales_team.group_sale_salesman_all_leads"):
            personal = SQL("TRUE")
        else:
            personal = SQL("(lead.user_id = %s OR lead.user_id IS NULL)", user.id)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT stay.id, stay.stage_id, stay.standard_stage_id,
                       stay.user_id, stay.team_id, stay.company_id,
                       stay.move_type, date_trunc('month', stay.date_in),
                       stay.date_out IS NULL,
                       COALESCE(stay.duration_days,
                                EXTRACT(EPOCH FROM (%(now)s - stay.date_in))
                                / 86400.0),
                       lead.type,
                       CASE WHEN lead.active AND stage.is_won
                                 AND lead.probability = 100 THEN 'won'
                            WHEN NOT lead.active AND lead.probability = 0
                                 THEN 'lost'
                            ELSE 'open' END
                  FROM crm_lead_stage_history stay
                  JOIN crm_lead lead ON lead.id = stay.lead_id
                  JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE %(scope)s
                   AND %(personal)s
                   AND (lead.company_id IN %(company_ids)s
                        OR lead.company_id IS NULL)
                """,
                now=NOW,
                scope=SQL("lead.id IN %s", tuple(self.all_leads.ids))
                if scoped
                else SQL("TRUE"),
                personal=personal,
                company_ids=tuple(user.company_ids.ids),
            )
        )
        names = (
            "stage_id",
            "standard_stage_id",
            "user_id",
            "team_id",
            "company_id",
            "move_type",
            "date_in:month",
            "is_current",
            "duration",
            "lead_type",
            "lead_state",
        )
        return {
            row[0]: {
                name: False if value is None else value
                for name, value in zip(names, row[1:], strict=True)
            }
            for row in self.env.cr.fetchall()
        }

    def _old_report(self, user, domain, groupby, scoped=True):
        """{group key: (count, total days, average days)} of the old report."""
        rows = self._old_report_rows(user, scoped).values()
        for fname, _operator, value in domain:
            rows = [row for row in rows if row[fname] == value]
        groups = defaultdict(list)
        for row in rows:
            groups[tuple(row[fname] for fname in groupby)].append(row["duration"])
        return {
            key: (len(days), round(sum(days), 4), round(sum(days) / len(days), 4))
            for key, days in groups.items()
        }

    def _new_report(self, domain, groupby, scoped=True):
        analysis_model = self.env["crm.lead.stage.analysis"]
        scope = [("lead_id", "in", self.all_leads.ids)] if scoped else []
        result = {}
        for group in analysis_model.read_group(
            scope + domain,
            MEASURES,
            groupby,
            lazy=False,
        ):
            key = []
            for fname in groupby:
                value = group[fname]
                if fname == "date_in:month":
                    value = str(group["__range"][fname]["from"])[:10]
                elif isinstance(value, tuple):
                    value = value[0]
                key.append(value)
            result[tuple(key)] = (
                group["__count"],
                round(group["duration_total_days"], 4),
                round(group["duration_days"], 4),
            )
        return result

    def _assert_same_as_old_report(self, scoped=True):
        user = self.env.user
        with self._pinned(NOW):
            for domain in DOMAINS:
                for groupby in GROUPBYS:
                    old = self._old_report(user, domain, groupby, scoped)
                    new = self._new_report(domain, groupby, scoped)
                    if "date_in:month" in groupby:
                        index = groupby.index("date_in:month")
                        old = {
                            key[:index]
                            + (str(key[index])[:10],)
                            + key[index + 1 :]: value
                            for key, value in old.items()
                        }
                    self.assertEqual(new, old, f"domain {domain}, groupby {groupby}")

    # ------------------------------------------------------------
    # Same figures as the old formula
    # ------------------------------------------------------------

    @users("spm_salesman")
    def test_salesman_counts_what_the_old_report_counted(self):
        self._assert_same_as_old_report()

    @users("spm_manager")
    def test_manager_counts_what_the_old_report_counted(self):
        self._assert_same_as_old_report()

    @users("spm_other_company")
    def test_other_company_counts_what_the_old_report_counted(self):
        self._assert_same_as_old_report()

    # The whole report: the pivot's own groupings (by stage, by month of
    # entry) are summed from crm.lead.stage.analysis.summary, the others read
    # the stays; both must count what the old report counted.

    def _assert_whole_report_same_as_old_report(self):
        with patch.object(
            CrmLeadStageAnalysis,
            "_read_group_summary",
            autospec=True,
            side_effect=CrmLeadStageAnalysis._read_group_summary,
        ) as summary:
            self._assert_same_as_old_report(scoped=False)
        # [], stage, month, stage and month, for each of the 3 domains that
        # the summary answers (no domain, opportunities, current stays: no)
        self.assertEqual(summary.call_count, 4 * 2)

    @users("spm_salesman")
    def test_salesman_whole_report_counts_what_the_old_report_counted(self):
        self._assert_whole_report_same_as_old_report()

    @users("spm_manager")
    def test_manager_whole_report_counts_what_the_old_report_counted(self):
        self._assert_whole_report_same_as_old_report()

    @users("spm_other_company")
    def test_other_company_whole_report_counts_what_the_old_report_counted(self):
        self._assert_whole_report_same_as_old_report()

    # ------------------------------------------------------------
    # Counted by hand
    # ------------------------------------------------------------

    def _stay_counts(self, domain=None):
        groups = self.env["crm.lead.stage.analysis"].read_group(
            [("lead_id", "in", self.all_leads.ids)] + (domain or []),
            ["__count"],
            ["lead_id"],
            lazy=False,
        )
        return {group["lead_id"][0]: group["__count"] for group in groups}

    @users("spm_salesman")
    def test_salesman_sees_the_stays_of_the_leads_that_are_theirs_now(self):
        # given away after 3 stays: hidden; taken over after 3 stays (a skip
        # and a backward move): shown; unassigned: shown; moved to the other
        # company: hidden
        self.assertEqual(
            self._stay_counts(),
            {
                self.lead_reassigned_here.id: 3,
                self.lead_converted.id: 2,
                self.lead_still_lead.id: 1,
                self.lead_unassigned_won.id: 2,
                self.lead_lost.id: 1,
            },
        )
        # the pivot's default filter: the lead that stayed a lead drops out
        self.assertEqual(
            sum(self._stay_counts([("lead_type", "=", "opportunity")]).values()), 8
        )

    @users("spm_manager")
    def test_manager_sees_every_stay_of_the_company(self):
        self.assertEqual(
            self._stay_counts(),
            {
                self.lead_reassigned_away.id: 3,
                self.lead_reassigned_here.id: 3,
                self.lead_converted.id: 2,
                self.lead_still_lead.id: 1,
                self.lead_unassigned_won.id: 2,
                self.lead_lost.id: 1,
            },
        )
        self.assertEqual(
            self._stay_counts([("lead_state", "=", "won")]),
            {self.lead_unassigned_won.id: 2},
        )
        self.assertEqual(
            self._stay_counts([("lead_state", "=", "lost")]), {self.lead_lost.id: 1}
        )

    @users("spm_other_company")
    def test_other_company_sees_the_leads_that_are_in_it_now(self):
        self.assertEqual(
            self._stay_counts(),
            {self.lead_other_company.id: 2, self.lead_moved_company.id: 1},
        )

    def test_a_stay_keeps_its_salesperson_at_entry(self):
        stays = self._stays(self.lead_reassigned_away)
        self.assertEqual(stays.user_id, self.user_salesman)
        self.assertEqual(stays.lead_user_id, self.user_salesman_2)
        stays = self._stays(self.lead_moved_company)
        self.assertEqual(stays.company_id, self.company)
        self.assertEqual(stays.lead_company_id, self.company_2)
        self.assertFalse(stays.lead_user_id)
        stays = self._stays(self.lead_converted)
        self.assertEqual(set(stays.mapped("lead_type")), {"opportunity"})
        self.assertEqual(self._stays(self.lead_still_lead).lead_type, "lead")

    # ------------------------------------------------------------
    # Cost on the writes
    # ------------------------------------------------------------

    def _leads(self, count):
        leads = self.env["crm.lead"].create(
            [
                {
                    "name": f"Cost {index}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.stage_new.id,
                    "user_id": self.user_salesman.id,
                }
                for index in range(count)
            ]
        )
        self.env.flush_all()
        return leads

    def _queries(self, func):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        func()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    @users("spm_manager")
    def test_a_write_that_changes_no_kept_value_costs_nothing(self):
        leads = self._leads(10)
        with patch.object(
            StageAnalysisLead,
            "_sync_stage_history_lead_values",
            autospec=True,
        ) as sync:
            leads.write({"priority": "2", "description": "<p>Called</p>"})
            leads.write({"stage_id": self.stage_qualified.id})
            self.env.flush_all()
        sync.assert_not_called()

    @users("spm_manager")
    def test_a_reassignment_costs_one_query_whatever_the_batch(self):
        added = {}
        for count in (1, 50):
            leads, twins = self._leads(count), self._leads(count)
            # twice each, the second measure on warm caches
            for user in (self.user_salesman_all, self.user_salesman_2):
                with_sync = self._queries(
                    lambda leads=leads, user=user: leads.write({"user_id": user.id})
                )
                with patch.object(
                    StageAnalysisLead, "_sync_stage_history_lead_values", autospec=True
                ):
                    without_sync = self._queries(
                        lambda twins=twins, user=user: twins.write({"user_id": user.id})
                    )
            added[count] = with_sync - without_sync
            stays = (
                self.env["crm.lead.stage.history"]
                .sudo()
                .search([("lead_id", "in", leads.ids)])
            )
            self.assertEqual(set(stays.mapped("lead_user_id")), {self.user_salesman_2})
        self.assertEqual(added, {1: 1, 50: 1})
