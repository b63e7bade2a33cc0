# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.tools.mail import generate_tracking_message_id


class MailActivity(models.Model):
    _inherit = "mail.activity"

    # Pipeline health
    pipeline_health_kind = fields.Selection(
        [
            ("follow_up", "Follow-up"),
            ("stall", "Stalled Opportunity"),
            ("escalation", "Stall Escalation"),
            ("overload", "Overloaded Salesperson"),
        ],
        string="Pipeline Health Rule",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Set on the activities planned by the pipeline health jobs, so that "
        "they never plan the same activity twice and can close their own.",
    )

    def _action_done_batch(self, feedback=False):
        """Mark the activities of ``self`` done, as _action_done does, with
        their done messages (same template, author, activity type and
        Activities subtype) created in one batch rather than posted one by
        one: no follower is notified of them (the Activities subtype is off
        by default). Activities with attachments, which move to their
        message, or with a next activity to trigger take _action_done's path.

        :return: the done messages
        """
        attached_ids = {
            attachment.res_id
            for attachment in self.env["ir.attachment"].search(
                [("res_model", "=", self._name), ("res_id", "in", self.ids)]
            )
        }
        standard = self.filtered(
            lambda activity: (
                activity.id in attached_ids or activity.chaining_type == "trigger"
            )
        )
        messages = self.env["mail.message"]
        if standard:
            messages |= standard._action_done(feedback=feedback)[0]
        batch = self - standard
        if not batch:
            return messages
        thread_model = self.env["mail.thread"]
        author_id, email_from = thread_model._message_compute_author(
            raise_on_email=False
        )
        base_values = {
            "author_id": author_id,
            "email_from": email_from,
            "message_type": "notification",
            "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id(
                "mail.mt_activities"
            ),
            "is_internal": True,
            "email_add_signature": False,
            "reply_to": thread_model._notify_get_reply_to(default=email_from)[False],
        }
        render_model = self.env["mail.render.mixin"]
        values_by_model = {}
        for activity in batch:
            body = render_model._render_template_qweb_view(
                "mail.message_activity_done",
                activity.res_model,
                [activity.res_id],
                add_context={
                    "activity": activity,
                    "feedback": feedback,
                    "display_assignee": activity.user_id != self.env.user,
                },
            )[activity.res_id]
            values_by_model.setdefault(activity.res_model, []).append(
                dict(
                    base_values,
                    model=activity.res_model,
                    res_id=activity.res_id,
                    body=body,
                    mail_activity_type_id=activity.activity_type_id.id,
                    message_id=generate_tracking_message_id("message-notify"),
                )
            )
        for model, values_list in values_by_model.items():
            messages |= (
                self.env[model]
                .browse([values["res_id"] for values in values_list])
                .sudo()
                ._message_create(values_list)
            )
        kept = batch.filtered("activity_type_id.keep_done")
        kept.action_archive()
        (batch - kept).unlink()
        return messages
