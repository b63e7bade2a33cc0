# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged, users

from .common import T0, SalesPipelineCommon


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestExitCriteria(SalesPipelineCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fields_model = cls.env["ir.model.fields"]
        cls.stage_proposal.required_field_ids = fields_model._get(
            "crm.lead", "expected_revenue"
        ) | fields_model._get("crm.lead", "partner_id")
        cls.partner = cls.env["res.partner"].create({"name": "SPM Customer"})

    @users("spm_manager")
    def test_mass_move_names_every_offending_lead_once(self):
        ready = self._create_opportunity(
            self.env, name="Ready", expected_revenue=1000, partner_id=self.partner.id
        )
        no_revenue = self._create_opportunity(
            self.env, name="No Revenue", partner_id=self.partner.id
        )
        empty = self._create_opportunity(self.env, name="Empty")
        leads = ready | no_revenue | empty
        with self.assertRaises(UserError) as caught:
            leads.write({"stage_id": self.stage_proposal.id})
        self.assertEqual(
            str(caught.exception),
            "No Revenue cannot enter stage SPM Proposal: fill in Expected Revenue.\n"
            "Empty cannot enter stage SPM Proposal: fill in Expected Revenue, "
            "Customer.",
        )
        # nothing moved, not even the lead that was ready
        self.assertEqual(leads.stage_id, self.stage_new)
        self.assertEqual(len(self._stays(ready)), 1)

    @users("spm_salesman")
    def test_values_written_with_the_stage_count(self):
        lead = self._create_opportunity(self.env)
        lead.write(
            {
                "stage_id": self.stage_proposal.id,
                "expected_revenue": 500,
                "partner_id": self.partner.id,
            }
        )
        self.assertEqual(lead.stage_id, self.stage_proposal)

    @users("spm_salesman")
    def test_other_stages_have_no_exit_criteria(self):
        lead = self._create_opportunity(self.env)
        lead.write({"stage_id": self.stage_qualified.id})
        self.assertEqual(lead.stage_id, self.stage_qualified)

    def test_labels_in_the_user_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        field = self.env["ir.model.fields"]._get("crm.lead", "expected_revenue")
        field.with_context(lang="fr_FR").field_description = "Revenu attendu"
        lead = self._create_opportunity(partner_id=self.partner.id)
        with self.assertRaisesRegex(UserError, "Revenu attendu"):
            lead.with_context(lang="fr_FR").write({"stage_id": self.stage_proposal.id})


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestSkippedStages(SalesPipelineCommon):
    def _notes(self, lead):
        return [
            str(body)
            for body in lead.sudo().message_ids.mapped("body")
            if "Skipped stages" in str(body)
        ]

    @users("spm_salesman")
    def test_a_forward_skip_posts_a_note_naming_the_stages(self):
        with self._pinned(T0):
            lead = self._create_opportunity(self.env)
            self.env.cr.flush()  # created in a transaction of its own
        with self._pinned(T0 + timedelta(days=1)):
            lead.write({"stage_id": self.stage_negotiation.id})
            # the note comes with the stage change's tracking, at commit
            self.env.cr.flush()
        self.assertEqual(
            self._notes(lead), ["<p>Skipped stages: SPM Qualified, SPM Proposal.</p>"]
        )
        note = lead.sudo().message_ids.filtered(
            lambda message: "Skipped stages" in str(message.body)
        )
        self.assertEqual(
            note.tracking_value_ids.mapped("new_value_char"), ["SPM Negotiation"]
        )

    @users("spm_salesman")
    def test_a_lead_created_and_moved_in_one_transaction_gets_its_note(self):
        # mail tracking logs no change for a lead created in the same
        # transaction: the note is logged on its own
        lead = self._create_opportunity(self.env)
        lead.write({"stage_id": self.stage_proposal.id})
        self.env.cr.flush()
        self.assertEqual(self._notes(lead), ["<p>Skipped stages: SPM Qualified.</p>"])

    @users("spm_salesman")
    def test_an_untracked_skip_still_posts_its_note(self):
        lead = self._create_opportunity(self.env)
        lead.with_context(tracking_disable=True).write(
            {"stage_id": self.stage_proposal.id}
        )
        self.env.cr.flush()
        self.assertEqual(self._notes(lead), ["<p>Skipped stages: SPM Qualified.</p>"])

    @users("spm_salesman")
    def test_two_skips_in_one_transaction_keep_both_notes(self):
        lead = self._create_opportunity(self.env)
        self.env.cr.flush()
        lead.write({"stage_id": self.stage_proposal.id})
        lead.write({"stage_id": self.stage_won.id})
        self.env.cr.flush()
        self.assertEqual(
            self._notes(lead),
            [
                "<p>Skipped stages: SPM Qualified.</p>"
                + "<p>Skipped stages: SPM Negotiation.</p>"
            ],
        )

    @users("spm_salesman")
    def test_moves_without_skip_post_no_note(self):
        lead = self._create_opportunity(self.env)
        lead.write({"stage_id": self.stage_qualified.id})
        lead.write({"stage_id": self.stage_new.id})
        self.assertFalse(self._notes(lead))

    def test_a_stage_that_cannot_be_skipped_refuses_the_move(self):
        self.stage_qualified.allow_skip = False
        lead = self._create_opportunity(name="Hasty")
        other = self._create_opportunity(name="Careful")
        with self.assertRaises(UserError) as caught:
            lead.with_user(self.user_salesman).write(
                {"stage_id": self.stage_proposal.id}
            )
        self.assertEqual(
            str(caught.exception),
            "Hasty cannot skip stage SPM Qualified: it must go through it first.",
        )
        self.assertEqual(lead.stage_id, self.stage_new)
        # a lead that has been in Qualified may jump past it later
        other.write({"stage_id": self.stage_qualified.id})
        other.write({"stage_id": self.stage_new.id})
        other.write({"stage_id": self.stage_negotiation.id})
        self.assertEqual(other.stage_id, self.stage_negotiation)

    def test_mass_skip_names_every_offending_lead(self):
        self.stage_qualified.allow_skip = False
        leads = self._create_opportunity(name="One") | self._create_opportunity(
            name="Two"
        )
        with self.assertRaisesRegex(UserError, "One cannot skip.*\nTwo cannot skip"):
            leads.write({"stage_id": self.stage_won.id})

    def test_default_stage_rules_cost_no_query(self):
        lead = self._create_opportunity()
        previous = {lead.id: lead.stage_id}
        # warm the caches
        lead._check_stage_moves(self.stage_proposal, previous)
        with self.assertQueryCount(0):
            lead._check_stage_moves(self.stage_proposal, previous)
