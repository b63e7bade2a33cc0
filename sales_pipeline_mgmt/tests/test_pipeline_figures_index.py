# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import re
from unittest.mock import patch

from odoo.sql_db import Cursor
from odoo.tests import tagged, users
from odoo.tools import SQL, sql

from ..models.crm_lead_kpi import (
    CREATE_MONTH_STATISTICS,
    FUNNEL_STAYS_INDEX,
    PIPELINE_FIGURES_COLUMNS,
    PIPELINE_FIGURES_INDEX,
)
from .test_pipeline_dashboard import NOW, PipelineDashboardCommon

FIGURES_INDEX_COLUMNS = {"create_date", *PIPELINE_FIGURES_COLUMNS}
FUNNEL_INDEX_COLUMNS = {"date_in", "standard_stage_id", "lead_id", "duration_days"}


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestPipelineFiguresIndex(PipelineDashboardCommon):
    """The dashboard and the pipeline changes read crm_lead through the narrow
    index of the pipeline figures, and the funnel reads the stays through
    its own: a column added to their SQL but not to the index would send
    them back to the table (ten times the pages on a real database)."""

    def _statements(self, method, *args):
        """The statements ``method`` runs, with their parameters."""
        statements = []
        original = Cursor.execute

        def execute(cursor, query, params=None, log_exceptions=True):
            statements.append((query, params))
            return original(cursor, query, params, log_exceptions)

        with self._pinned(NOW), patch.object(Cursor, "execute", execute):
            method(*args)
        return statements

    def _columns_read(self, statements, table):
        """For each statement that reads ``table``, the columns of ``table``
        it reads, from its plan: an index holding them all answers the
        statement alone (an index-only scan), whatever plan a test table
        of a few rows gets."""
        result = []
        for query, params in statements:
            if isinstance(query, SQL):
                self.env.cr.execute(SQL("EXPLAIN (VERBOSE) %s", query))
            else:
                self.env.cr.execute("EXPLAIN (VERBOSE) " + query, params)
            plan = "\n".join(row[0] for row in self.env.cr.fetchall())
            aliases = {
                alias or table
                for alias in re.findall(rf" on public\.{table}(?: (\w+))?\s", plan)
            }
            if aliases:
                result.append(
                    {
                        column
                        for alias in aliases
                        for column in re.findall(rf"\b{alias}\.(\w+)", plan)
                    }
                )
        return result

    def _dashboard_statements(self, filters):
        lead_model = self.env["crm.lead"]
        return self._statements(lead_model.get_pipeline_dashboard, filters)

    def test_the_indexes_exist(self):
        for index in (PIPELINE_FIGURES_INDEX, FUNNEL_STAYS_INDEX):
            self.assertTrue(sql.index_exists(self.env.cr, index), index)

    @users("spm_manager")
    def test_leads_per_source_group_by_the_month_the_statistics_know(self):
        # the planner uses the statistics of an expression only for that
        # very expression: the statement must group by it as it was declared
        self.env.cr.execute(
            SQL(
                "SELECT pg_get_statisticsobjdef_expressions(oid) "
                "FROM pg_statistic_ext WHERE stxname = %s",
                CREATE_MONTH_STATISTICS,
            )
        )
        [[expressions]] = self.env.cr.fetchall()
        [expression] = expressions
        filters = {"period": "last_12_months", "compare": "none"}
        plans = []
        for query, params in self._dashboard_statements(filters):
            code = query.code if isinstance(query, SQL) else query
            if "source" not in code or "date_trunc" not in code:
                continue
            if isinstance(query, SQL):
                self.env.cr.execute(SQL("EXPLAIN (VERBOSE) %s", query))
            else:
                self.env.cr.execute("EXPLAIN (VERBOSE) " + query, params)
            plans.append("\n".join(row[0] for row in self.env.cr.fetchall()))
        [plan] = plans
        group_key = re.search(r"Group Key: (.*)", plan)[1]
        self.assertIn(
            expression.replace("create_date", "crm_lead.create_date"), group_key
        )

    @users("spm_manager")
    def test_dashboard_reads_the_leads_from_the_figures_index(self):
        for filters in ({}, {"team_ids": [self.team.id], "compare": "last_year"}):
            with self.subTest(filters=filters):
                reads = self._columns_read(
                    self._dashboard_statements(filters), "crm_lead"
                )
                # the open pipeline, the funnel, the KPI figures, the leads
                # per source (the other statements read other tables)
                self.assertEqual(len(reads), 4)
                for columns in reads:
                    self.assertLessEqual(columns, FIGURES_INDEX_COLUMNS)
                    self.assertIn("company_id", columns)

    @users("spm_salesman")
    def test_salesman_dashboard_reads_the_leads_from_the_figures_index(self):
        reads = self._columns_read(
            self._dashboard_statements({"user_id": self.user_salesman.id}),
            "crm_lead",
        )
        self.assertEqual(len(reads), 4)
        for columns in reads:
            # the salesman's record rule reads the salesperson
            self.assertIn("user_id", columns)
            self.assertLessEqual(columns, FIGURES_INDEX_COLUMNS)

    @users("spm_manager")
    def test_funnel_reads_the_stays_from_their_index(self):
        reads = self._columns_read(
            self._dashboard_statements({"period": "last_12_months"}),
            "crm_lead_stage_history",
        )
        self.assertEqual(reads, [FUNNEL_INDEX_COLUMNS])

    @users("spm_manager")
    def test_pipeline_changes_check_the_leads_on_the_figures_index(self):
        statements = self._statements(self.env["crm.lead"].get_pipeline_changes, {})
        # the record rules of the deal history read the leads' companies
        reads = self._columns_read(statements, "crm_lead")
        self.assertEqual(reads, [{"id", "company_id"}])
