# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models

from .crm_lead_last_contact import CONTACT_MESSAGE_TYPES

# The message fields the lead's last contact depends on.
CONTACT_FIELDS = {"model", "res_id", "date", "message_type", "mail_activity_type_id"}


class MailMessage(models.Model):
    """Keep the last contact of the leads (crm_lead_last_contact.py) as
    messages are posted, moved, changed or deleted."""

    _inherit = "mail.message"

    @api.model_create_multi
    def create(self, vals_list):
        messages = super().create(vals_list)
        lead_model = self.env["crm.lead"]
        # decided on the values given: reading a field left empty would cost
        # a query per message (tracking creates them one by one); type and
        # date have defaults, so they are in the cache
        contact_messages = self.browse(
            message.id
            for message, vals in zip(messages, vals_list, strict=True)
            if vals.get("model") == lead_model._name
            and vals.get("res_id")
            and (
                message.message_type in CONTACT_MESSAGE_TYPES
                or vals.get("mail_activity_type_id")
            )
        )
        if contact_messages:
            # sudo: the messages' technical fields only, just written
            lead_model._update_last_contact_from_messages(contact_messages.sudo())
        return messages

    def write(self, vals):
        if not CONTACT_FIELDS.intersection(vals):
            return super().write(vals)
        lead_ids = self._get_contact_lead_ids()
        res = super().write(vals)
        lead_ids |= self._get_contact_lead_ids()
        if lead_ids:
            self.env["crm.lead"]._recompute_last_contact(lead_ids)
        return res

    def unlink(self):
        lead_ids = self._get_contact_lead_ids()
        res = super().unlink()
        if lead_ids:
            self.env["crm.lead"]._recompute_last_contact(lead_ids)
        return res

    def _get_contact_lead_ids(self):
        """Ids of the leads whose last contact one of ``self`` may be."""
        lead_model = self.env["crm.lead"]
        # technical fields only, read to know which leads to recompute: the
        # caller already has the right to change or delete these messages
        return {
            message.res_id
            for message in self.sudo()
            if lead_model._is_contact_message(message)
        }
