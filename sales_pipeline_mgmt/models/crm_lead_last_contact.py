# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column, create_index

_logger = logging.getLogger(__name__)

# Message types that count as contact with the customer; an activity marked
# done counts whatever its message type (it carries its activity type).
CONTACT_MESSAGE_TYPES = ("comment", "email")


class CrmLead(models.Model):
    """The lead's last contact, as the follow-up rule defines it: the latest of
    its creation, its last stage change, and the last message, e-mail or
    activity done on it. Kept on the lead, like OCA's crm_lead_escalation, so
    that the follow-up job finds its candidates in an index instead of in
    every lead's messages."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    # Pipeline health
    date_last_contact = fields.Datetime(
        string="Last Contact",
        compute="_compute_date_last_contact",
        store=True,
        readonly=True,
        copy=False,
        help="Latest of the creation, the last stage change, and the last "
        "message, note, e-mail or activity done on the lead: the follow-up "
        "activities count the days without contact from it.",
    )
    date_last_message_contact = fields.Datetime(
        string="Last Message Contact",
        readonly=True,
        copy=False,
        help="Date of the last message, note, e-mail or activity done on the "
        "lead (kept by the messages themselves).",
    )

    def _auto_init(self):
        # Created here, before the ORM sees the fields, so that installing on
        # a large database does not compute every lead in Python: the install
        # hook (or the migration) fills them in SQL.
        cr = self.env.cr
        for column in ("date_last_contact", "date_last_message_contact"):
            if not column_exists(cr, "crm_lead", column):
                create_column(cr, "crm_lead", column, "timestamp")
        return super()._auto_init()

    def init(self):
        res = super().init()
        # The follow-up job walks the open opportunities by last contact (a
        # range up to its shortest delay) and the stall detection by the
        # start of their stay, each with the id as a keyset cursor.
        open_opportunity = "active AND type = 'opportunity'"
        create_index(
            self.env.cr,
            "crm_lead_open_last_contact_idx",
            "crm_lead",
            ["date_last_contact", "id"],
            where=open_opportunity,
        )
        create_index(
            self.env.cr,
            "crm_lead_open_stage_since_idx",
            "crm_lead",
            ["(COALESCE(date_last_stage_update, create_date))", "id"],
            where=open_opportunity,
        )
        return res

    @api.depends("create_date", "date_last_stage_update", "date_last_message_contact")
    def _compute_date_last_contact(self):
        for lead in self:
            dates = [
                date
                for date in (
                    lead.create_date,
                    lead.date_last_stage_update,
                    lead.date_last_message_contact,
                )
                if date
            ]
            lead.date_last_contact = max(dates) if dates else False

    # ------------------------------------------------------------
    # LAST CONTACT: UPKEEP
    # ------------------------------------------------------------

    @api.model
    def _get_contact_message_sql(self, alias="m"):
        """Whether the message ``alias`` (mail_message) counts as contact."""
        return SQL(
            "(%s IN %s OR %s IS NOT NULL)",
            SQL.identifier(alias, "message_type"),
            CONTACT_MESSAGE_TYPES,
            SQL.identifier(alias, "mail_activity_type_id"),
        )

    @api.model
    def _is_contact_message(self, message):
        """Python twin of _get_contact_message_sql, on a mail.message."""
        return bool(
            message.model == self._name
            and message.res_id
            and (
                message.message_type in CONTACT_MESSAGE_TYPES
                or message.mail_activity_type_id
            )
        )

    @api.model
    def _update_last_contact_from_messages(self, messages):
        """Move the last contact of the leads of the new ``messages`` forward
        to the messages' dates, in one query (none when no message counts)."""
        last_dates = {}
        for message in messages:
            if self._is_contact_message(message) and message.date:
                res_id = message.res_id
                last_dates[res_id] = max(
                    message.date, last_dates.get(res_id, message.date)
                )
        if not last_dates:
            return
        fnames = ["date_last_message_contact", "date_last_contact"]
        leads = self.browse(sorted(last_dates))
        # a lead created in this transaction may still wait for its compute
        leads.flush_recordset(fnames)
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l
                   SET date_last_message_contact = msg.date,
                       date_last_contact = GREATEST(l.date_last_contact, msg.date)
                  FROM (VALUES %s) AS msg(lead_id, date)
                 WHERE l.id = msg.lead_id
                   AND (l.date_last_message_contact IS NULL
                        OR l.date_last_message_contact < msg.date)
                """,
                SQL(", ").join(
                    SQL("(%s, %s::timestamp)", lead_id, date)
                    for lead_id, date in sorted(last_dates.items())
                ),
            )
        )
        leads.invalidate_recordset(fnames)

    @api.model
    def _get_last_message_contacts_sql(self):
        """SELECT of (res_id, date): the date of each lead's last message
        that counts as contact, in one pass over the messages (leads without
        one have no row)."""
        return SQL(
            """
            SELECT m.res_id, MAX(m.date) AS date
              FROM mail_message m
             WHERE m.model = 'crm.lead' AND %(contact)s
          GROUP BY m.res_id
            """,
            contact=self._get_contact_message_sql("m"),
        )

    @api.model
    def _recompute_last_contact(self, lead_ids=None):
        """Set the last contact of the leads ``lead_ids`` (all leads when None)
        from their messages, creation and last stage change, in one query.
        Safe to run twice: rows already right are not rewritten.

        :return: the number of leads updated
        """
        self.flush_model(
            [
                "create_date",
                "date_last_stage_update",
                "date_last_message_contact",
                "date_last_contact",
            ]
        )
        self.env["mail.message"].flush_model(
            ["model", "res_id", "date", "message_type", "mail_activity_type_id"]
        )
        if lead_ids is None:
            # every lead: one pass over the messages, grouped per lead
            messages = SQL(
                """
                SELECT l.id AS lead_id, last.date
                  FROM crm_lead l
             LEFT JOIN (%(last_contacts)s) last ON last.res_id = l.id
                """,
                last_contacts=self._get_last_message_contacts_sql(),
            )
        else:
            if not lead_ids:
                return 0
            messages = SQL(
                """
                SELECT l.id AS lead_id,
                       (SELECT MAX(m.date) FROM mail_message m
                         WHERE m.model = 'crm.lead' AND m.res_id = l.id
                           AND %(contact)s) AS date
                  FROM crm_lead l
                 WHERE l.id IN %(ids)s
                """,
                contact=self._get_contact_message_sql("m"),
                ids=tuple(lead_ids),
            )
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l
                   SET date_last_message_contact = msg.date,
                       date_last_contact = GREATEST(
                           l.create_date, l.date_last_stage_update, msg.date)
                  FROM (%(messages)s) msg
                 WHERE l.id = msg.lead_id
                   AND (l.date_last_message_contact IS DISTINCT FROM msg.date
                        OR l.date_last_contact IS DISTINCT FROM GREATEST(
                            l.create_date, l.date_last_stage_update, msg.date))
                """,
                messages=messages,
            )
        )
        count = self.env.cr.rowcount
        self.invalidate_model(["date_last_message_contact", "date_last_contact"])
        return count
