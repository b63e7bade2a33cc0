# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged, users
from odoo.tools import SQL

from ..hooks import _map_default_stages
from .common import SalesPipelineCommon


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestStandardStage(SalesPipelineCommon):
    def test_five_standard_stages_are_shipped_in_order(self):
        standard_stages = self.env["crm.standard.stage"].search([])
        self.assertEqual(
            standard_stages.mapped("code"),
            ["awareness", "interest", "consideration", "decision", "purchase"],
        )
        for xmlid in (
            "standard_stage_awareness",
            "standard_stage_interest",
            "standard_stage_consideration",
            "standard_stage_decision",
            "standard_stage_purchase",
        ):
            self.assertTrue(self.env.ref(f"sales_pipeline_mgmt.{xmlid}").description)

    def test_odoo_default_stages_are_mapped_on_install(self):
        expected = {
            "crm.stage_lead1": "awareness",
            "crm.stage_lead2": "interest",
            "crm.stage_lead3": "consideration",
            "crm.stage_lead4": "purchase",
        }
        for stage_xmlid, code in expected.items():
            stage = self.env.ref(stage_xmlid, raise_if_not_found=False)
            if stage:
                self.assertEqual(stage.standard_stage_id.code, code, stage_xmlid)

    @users("spm_salesman")
    def test_salesman_reads_but_does_not_edit_standard_stages(self):
        awareness = self.standard_awareness.with_env(self.env)
        self.assertEqual(awareness.name, "Awareness")
        self.assertEqual(
            self.stage_new.with_env(self.env).standard_stage_description,
            awareness.description,
        )
        with self.assertRaises(AccessError):
            awareness.write({"stall_days": 3})

    @users("spm_manager")
    def test_manager_edits_thresholds(self):
        awareness = self.standard_awareness.with_env(self.env)
        awareness.write({"stall_days": 9, "follow_up_days": 4})
        self.assertEqual((awareness.stall_days, awareness.follow_up_days), (9, 4))

    @users("spm_manager")
    def test_negative_days_are_refused_naming_the_field(self):
        with self.assertRaisesRegex(ValidationError, "Stalled After.*Awareness"):
            self.standard_awareness.with_env(self.env).write({"stall_days": -1})
        with self.assertRaisesRegex(ValidationError, "Follow-up After.*Interest"):
            self.standard_interest.with_env(self.env).write({"follow_up_days": -2})

    @users("spm_manager")
    def test_duplicate_code_is_refused_naming_the_field(self):
        with self.assertRaisesRegex(ValidationError, "Code.*awareness"):
            self.env["crm.standard.stage"].create(
                {"name": "Another awareness", "code": "awareness"}
            )

    @users("spm_manager")
    def test_a_mapped_standard_stage_cannot_be_deleted(self):
        with self.assertRaisesRegex(UserError, "SPM Qualified"):
            self.standard_interest.with_env(self.env).unlink()
        spare = self.env["crm.standard.stage"].create(
            {"name": "Spare", "code": "spare"}
        )
        spare.unlink()
        self.assertFalse(spare.exists())

    @users("spm_manager")
    def test_apply_standard_pipeline_creates_missing_stages_only(self):
        team = self.env["crm.team"].create({"name": "Fresh Team"})
        existing_lead = self.env["crm.lead"].create(
            {
                "name": "Existing",
                "type": "opportunity",
                "team_id": team.id,
                "stage_id": self.stage_qualified.id,
            }
        )
        before = self.env["crm.stage"].search([])
        team.action_apply_standard_pipeline()
        created = self.env["crm.stage"].search([]) - before
        self.assertEqual(
            created.mapped("name"),
            ["Awareness", "Interest", "Consideration", "Decision", "Purchase"],
        )
        self.assertEqual(created.team_id, team)
        self.assertEqual(
            created.mapped("standard_stage_id.code"),
            ["awareness", "interest", "consideration", "decision", "purchase"],
        )
        self.assertEqual(created.filtered("is_won").name, "Purchase")
        self.assertEqual(existing_lead.stage_id, self.stage_qualified)
        # a second run finds every standard stage covered
        team.action_apply_standard_pipeline()
        self.assertEqual(self.env["crm.stage"].search([]) - before, created)

    @users("spm_salesman")
    def test_salesman_cannot_apply_standard_pipeline(self):
        with self.assertRaises(AccessError):
            self.team.with_env(self.env).action_apply_standard_pipeline()

    def test_install_mapping_gives_default_stages_their_health_days(self):
        stage = self.env.ref("crm.stage_lead1", raise_if_not_found=False)
        if not stage:
            self.skipTest("crm's default stage New was deleted")
        # the state right before the install hook: unmapped, days not computed
        self.env.cr.execute(
            SQL(
                "UPDATE crm_stage SET standard_stage_id = NULL, stall_days = 0,"
                " follow_up_days = 0 WHERE id = %s",
                stage.id,
            )
        )
        self.env["crm.stage"].invalidate_model()
        _map_default_stages(self.env)
        # New maps onto Awareness, shipped with 14 stall and 7 follow-up days
        self.assertEqual(stage.standard_stage_id, self.standard_awareness)
        self.assertEqual((stage.stall_days, stage.follow_up_days), (14, 7))
