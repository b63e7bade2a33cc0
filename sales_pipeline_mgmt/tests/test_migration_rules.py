# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import os

from odoo.modules.migration import load_script
from odoo.tests import TransactionCase, tagged

MIGRATION = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "migrations",
    "18.0.1.3.0",
    "post-stage_analysis_rules.py",
)

FORMER_PERSONAL = (
    "['|', ('lead_id.user_id', '=', user.id), ('lead_id.user_id', '=', False)]"
)
CURRENT_PERSONAL = "['|', ('lead_user_id', '=', user.id), ('lead_user_id', '=', False)]"
FORMER_COMPANY = "[('lead_id.company_id', 'in', company_ids + [False])]"
CURRENT_COMPANY = "[('lead_company_id', 'in', company_ids + [False])]"


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestMigrationStageAnalysisRules(TransactionCase):
    """An upgraded database gets the Stage Analysis and stage history rules
    that read the stays' own salesperson and company, unless an administrator
    changed them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.migration = load_script(MIGRATION, "spm_migration_stage_analysis_rules")
        cls.history_personal = cls.env.ref(
            "sales_pipeline_mgmt.crm_lead_stage_history_rule_personal"
        )
        cls.history_company = cls.env.ref(
            "sales_pipeline_mgmt.crm_lead_stage_history_rule_company"
        )
        cls.analysis_personal = cls.env.ref(
            "sales_pipeline_mgmt.crm_lead_stage_analysis_rule_personal"
        )
        cls.analysis_company = cls.env.ref(
            "sales_pipeline_mgmt.crm_lead_stage_analysis_rule_company"
        )

    def test_rules_with_the_former_default_get_the_current_one(self):
        self.history_personal.domain_force = FORMER_PERSONAL
        # as the XML of the former version laid it out, over several lines
        self.analysis_company.domain_force = (
            "[\n    ('lead_id.company_id', 'in', company_ids + [False])\n]"
        )
        updated = self.migration.update_rule_domains(self.env)
        self.assertEqual(
            sorted(updated),
            [
                "sales_pipeline_mgmt.crm_lead_stage_analysis_rule_company",
                "sales_pipeline_mgmt.crm_lead_stage_history_rule_personal",
            ],
        )
        self.assertEqual(self.history_personal.domain_force, CURRENT_PERSONAL)
        self.assertEqual(self.analysis_company.domain_force, CURRENT_COMPANY)
        # the rules that already had the current domain are as they were
        self.assertEqual(self.history_company.domain_force, CURRENT_COMPANY)
        self.assertEqual(self.analysis_personal.domain_force, CURRENT_PERSONAL)
        # a second run finds nothing to do
        self.assertEqual(self.migration.update_rule_domains(self.env), [])

    def test_a_customised_rule_is_left_alone_and_logged(self):
        customised = (
            "['|', '|', ('lead_id.user_id', '=', user.id), "
            "('lead_id.user_id', '=', False), "
            "('lead_id.team_id.user_id', '=', user.id)]"
        )
        self.analysis_personal.domain_force = customised
        self.history_company.domain_force = FORMER_COMPANY
        with self.assertLogs(
            "spm_migration_stage_analysis_rules", level="WARNING"
        ) as logs:
            updated = self.migration.update_rule_domains(self.env)
        self.assertEqual(
            updated, ["sales_pipeline_mgmt.crm_lead_stage_history_rule_company"]
        )
        self.assertEqual(self.analysis_personal.domain_force, customised)
        self.assertEqual(self.history_company.domain_force, CURRENT_COMPANY)
        self.assertEqual(len(logs.records), 1)
        self.assertIn(
            "sales_pipeline_mgmt.crm_lead_stage_analysis_rule_personal",
            logs.output[0],
        )

    def test_a_deleted_rule_is_skipped(self):
        self.analysis_company.unlink()
        self.history_personal.domain_force = FORMER_PERSONAL
        self.assertEqual(
            self.migration.update_rule_domains(self.env),
            ["sales_pipeline_mgmt.crm_lead_stage_history_rule_personal"],
        )
