# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models, tools

from .crm_lead_deal_history import DEAL_HISTORY_TRIGGERS


class CrmLead(models.Model):
    """Deal history: every create, and every write that touches a tracked
    value, records the new values of the opportunities it changed in one
    statement (crm.lead.deal.history._record_deal_changes). A write that
    touches none of them costs nothing."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    deal_history_ids = fields.One2many(
        "crm.lead.deal.history",
        "lead_id",
        readonly=True,
        help="The opportunity's stage, expected revenue, expected closing, "
        "probability, salesperson, team and state after each change.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        deals = leads.filtered(lambda lead: lead.type == "opportunity")
        if deals:
            self.env["crm.lead.deal.history"]._record_deal_changes(deals.ids)
        return leads

    def write(self, vals):
        res = super().write(vals)
        if self and self._get_deal_history_write_triggers().intersection(vals):
            self.env["crm.lead.deal.history"]._record_deal_changes(self.ids)
        return res

    @api.model
    @tools.ormcache()
    def _get_deal_history_write_triggers(self):
        """The fields whose write may change a recorded value: the recorded
        fields themselves and those they are computed from (the salesperson
        and team from each other, the stage from the team, the probability
        from the predictive lead scoring fields), so that no change escapes
        the history while other writes cost no query."""
        triggers = set(DEAL_HISTORY_TRIGGERS)
        for field in self._fields.values():
            if field.name in triggers or not field.store:
                continue
            dependents = self.pool.get_dependent_fields(field)
            if any(
                dependent.model_name == self._name
                and dependent.name in DEAL_HISTORY_TRIGGERS
                for dependent in dependents
            ):
                triggers.add(field.name)
        return frozenset(triggers)
